"""Settings come from the environment and fail early, naming the variable, when it is wrong."""

import os
import subprocess
import sys
from pathlib import Path

import environ
import pytest

from governance.env import database_config

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "x" * 20 + "production-secret-for-the-deploy-check" + "y" * 20,
    "ALLOWED_HOSTS": "gongzhi.example.cn",
    "SITE_URL": "https://gongzhi.example.cn",
}


def run_manage(*args, env=None, timeout=60):
    # The process starts from the machine's environment, not the test run's: pytest plugins and
    # the browser journeys set variables (DJANGO_ALLOW_ASYNC_UNSAFE) that check --deploy reports.
    dropped = {"DATABASE_URL", "REDIS_URL", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    base = {k: v for k, v in os.environ.items() if k not in dropped}
    base.update(env or {})
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DATABASE_URL", "mysqlx://db/gongzhi", "DATABASE_URL is malformed"),
        ("DATABASE_URL", "not a url", "DATABASE_URL is malformed"),
        ("DATABASE_URL", "postgres://127.0.0.1:5432/", "DATABASE_URL is malformed"),
        ("REDIS_URL", "http://127.0.0.1:6379/0", "REDIS_URL is malformed"),
        ("REDIS_URL", "redis://127.0.0.1:notaport/0", "REDIS_URL is malformed"),
        ("REDIS_URL", "redis://127.0.0.1:6379/zero", "REDIS_URL is malformed"),
        ("DATABASE_PREPARE_THRESHOLD", "soon", "DATABASE_PREPARE_THRESHOLD must be"),
        ("DATABASE_PREPARE_THRESHOLD", "-1", "DATABASE_PREPARE_THRESHOLD must be"),
    ],
)
def test_malformed_service_url_stops_start_up_naming_the_variable(variable, value, message):
    env = {variable: value}
    if variable == "DATABASE_PREPARE_THRESHOLD":  # read for PostgreSQL only
        env["DATABASE_URL"] = "postgres://gongzhi@127.0.0.1:5432/gongzhi"
    result = run_manage("check", env=env)

    assert result.returncode != 0
    assert message in result.stderr
    assert "ImproperlyConfigured" in result.stderr


def test_production_without_secret_key_refuses_to_start():
    result = run_manage("check", env={"DEBUG": "false", "ALLOWED_HOSTS": "gongzhi.example.cn"})

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_without_site_url_refuses_to_start():
    env = {k: v for k, v in PRODUCTION.items() if k != "SITE_URL"}
    result = run_manage("check", env=env)

    assert result.returncode != 0
    assert "SITE_URL must be set" in result.stderr


def test_production_without_allowed_hosts_refuses_to_start():
    env = {**PRODUCTION, "ALLOWED_HOSTS": ""}
    result = run_manage("check", env=env)

    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set" in result.stderr


def test_deploy_check_is_clean_with_production_variables(tmp_path):
    env = {**PRODUCTION, "GONGZHI_VAR_DIR": str(tmp_path)}
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert result.returncode == 0, result.stderr
    assert "WARNINGS" not in result.stderr
    assert "no issues" in result.stdout


def test_embedded_defaults_use_sqlite_files_and_the_filesystem_broker(tmp_path):
    code = (
        "import django; django.setup();"
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE']);"
        "print(s.CELERY_BROKER_URL); print(s.EMAIL_BACKEND); print(s.CACHES['default']['BACKEND'])"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(DJANGO_SETTINGS_MODULE="governance.settings", GONGZHI_VAR_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )

    engine, broker, email, cache = result.stdout.split()
    assert engine == "django.db.backends.sqlite3"
    assert broker == "filesystem://"
    assert email.endswith("filebased.EmailBackend")
    assert cache.endswith("FileBasedCache")
    assert (tmp_path / "celery" / "queue").is_dir()


POSTGRES_URL = "postgres://gongzhi@127.0.0.1:5432/gongzhi"


@pytest.mark.parametrize(
    ("value", "threshold"),
    [(None, 5), ("0", 0), ("12", 12), (" 3 ", 3), ("off", None), ("None", None)],
)
def test_postgresql_prepares_statements_after_the_threshold(monkeypatch, value, threshold):
    """Django turns psycopg's prepared statements off unless OPTIONS names a threshold; the
    site names one, and ``off`` turns them off for a pooler that cannot keep them."""
    monkeypatch.setenv("DATABASE_URL", POSTGRES_URL)
    if value is None:
        monkeypatch.delenv("DATABASE_PREPARE_THRESHOLD", raising=False)
    else:
        monkeypatch.setenv("DATABASE_PREPARE_THRESHOLD", value)

    config = database_config(environ.Env(), Path("unused.sqlite3"))

    assert config["OPTIONS"]["prepare_threshold"] == threshold
    assert "-c jit=off" in config["OPTIONS"]["options"]


def test_a_threshold_in_the_database_url_wins_and_is_read_the_same_way(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", POSTGRES_URL + "?prepare_threshold=off")
    monkeypatch.setenv("DATABASE_PREPARE_THRESHOLD", "5")

    config = database_config(environ.Env(), Path("unused.sqlite3"))

    assert config["OPTIONS"]["prepare_threshold"] is None


def test_sqlite_has_no_prepare_threshold(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("DATABASE_PREPARE_THRESHOLD", "5")

    config = database_config(environ.Env(), Path("var/x.sqlite3"))

    assert "prepare_threshold" not in config["OPTIONS"]


def test_language_and_time_zone_defaults(settings):
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert [code for code, _ in settings.LANGUAGES] == ["zh-hans", "en"]
    assert settings.TIME_ZONE == "Asia/Shanghai"
