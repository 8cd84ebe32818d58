"""Reading and checking the environment for settings.

Each reader raises ``ImproperlyConfigured`` naming the variable, so a typo in production fails
at start-up with a message that says where to look, not with a traceback from a driver.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

DATABASE_SCHEMES = {"postgres", "postgresql", "pgsql", "psql", "sqlite"}
REDIS_SCHEMES = {"redis", "rediss", "unix"}


def database_config(env: environ.Env, default_sqlite: Path) -> dict:
    raw = env.str("DATABASE_URL", default="")
    if not raw:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(default_sqlite),
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    scheme = urlsplit(raw).scheme
    if scheme not in DATABASE_SCHEMES:
        raise ImproperlyConfigured(
            f"DATABASE_URL is malformed: scheme {scheme!r} is not one of "
            f"{', '.join(sorted(DATABASE_SCHEMES))} (got {_redact(raw)!r})."
        )
    try:
        config = environ.Env.db_url_config(raw)
    except Exception as exc:  # django-environ raises several types for bad URLs
        raise ImproperlyConfigured(f"DATABASE_URL is malformed: {exc}") from exc
    if not config.get("NAME"):
        raise ImproperlyConfigured("DATABASE_URL is malformed: it names no database.")
    if config["ENGINE"].endswith("postgresql"):
        config.setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
        config["CONN_HEALTH_CHECKS"] = True
        # PostgreSQL's JIT compiles a plan for big estimated row counts: on a page's capped
        # count over a million cases it spent 250 ms compiling a 20 ms query (bench/README.md).
        options = config.setdefault("OPTIONS", {})
        if "-c jit=" not in options.get("options", ""):
            options["options"] = (options.get("options", "") + " -c jit=off").strip()
        # Django turns psycopg's prepared statements off unless OPTIONS names a threshold. Only
        # the cursors that bind on the server (governance.core.db.RowInsert: the QR rating's
        # insert) are ever prepared; Django's own cursors bind on the client and never are.
        # Unprepared, the rating's INSERT was parsed, rewritten (a default for each column
        # it leaves out) and planned on every run: bench/README.md.
        options["prepare_threshold"] = prepare_threshold(
            options.get("prepare_threshold", env.str("DATABASE_PREPARE_THRESHOLD", default="5"))
        )
    return config


def prepare_threshold(raw) -> int | None:
    """``DATABASE_PREPARE_THRESHOLD``: after how many runs on a connection a statement is
    prepared on the server (0: at once), or ``off`` for a connection pooler that cannot keep
    prepared statements (PgBouncer in transaction mode before 1.21, or without
    ``max_prepared_statements``)."""
    text = str(raw).strip().lower()
    if text in ("off", "none"):
        return None
    if not text.isdigit():
        raise ImproperlyConfigured(
            "DATABASE_PREPARE_THRESHOLD must be a number of runs (0 or more) or 'off' "
            f"(got {raw!r})."
        )
    return int(text)


def redis_url(env: environ.Env, name: str = "REDIS_URL") -> str:
    raw = env.str(name, default="")
    if not raw:
        return ""
    parts = urlsplit(raw)
    if parts.scheme not in REDIS_SCHEMES:
        raise ImproperlyConfigured(
            f"{name} is malformed: scheme {parts.scheme!r} is not one of "
            f"{', '.join(sorted(REDIS_SCHEMES))} (got {_redact(raw)!r})."
        )
    try:
        port = parts.port
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} is malformed: {exc}") from exc
    if parts.scheme != "unix" and not parts.hostname:
        raise ImproperlyConfigured(f"{name} is malformed: it names no host.")
    path = parts.path.strip("/")
    if path and not path.isdigit():
        raise ImproperlyConfigured(f"{name} is malformed: database {path!r} is not a number.")
    del port
    return raw


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(parts.password, "***")
    return url
