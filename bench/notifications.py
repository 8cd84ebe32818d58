#!/usr/bin/env python
"""Notifications at scale, on PostgreSQL: what a fan-out, a digest run and a crash cost.

    .venv/bin/python bench/notifications.py                    # publish, plan, send
    .venv/bin/python bench/notifications.py --only crash --kills 100
    .venv/bin/python bench/notifications.py --only plan --users 20000 --per-user 5

Scenarios, each printing wall time, SQL queries and peak memory (growth of the resident set,
from Linux's high-water mark reset before the scenario; ``--tracemalloc`` adds Python's own
peak, at the cost of slower timings):

- ``publish``: one event to ``--fanout`` (10,000) recipients, commit included (which enqueues
  the delivery tasks);
- ``plan``: ``digests_plan`` for ``--users`` (100,000) users with ``--per-user`` (10) pending
  daily items each, 1,000,000 in all;
- ``send``: ``digest_send`` for ``--sample`` (2,000) of those digests, locmem e-mail backend;
- ``crash`` (only when asked): a process sending deliveries is SIGKILLed ``--kills`` times,
  each time after a few more deliveries have committed as sent, and restarted; every mail file
  is then counted by Message-ID, to measure how often a kill lands between a mail leaving and
  its row's COMMIT (the at-least-once window). ``--services-file`` runs the same against
  another version of ``services.py``, e.g. one taken from git, to compare.

The database (default ``gongzhi_bench_notifications``) is created if missing and migrated;
users and notifications are inserted with ``INSERT … SELECT generate_series`` and reused by the
next run. Tasks go to a ``redis-server`` the script starts on a free port (or ``--redis-url``)
and are discarded: no worker runs, except in ``crash``, which sends in its own processes.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import gc
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/gongzhi_bench_notifications"
BENCH_DOMAIN = "bench.gongzhi.local"
GRANTED = "stakeholders.membership_granted"
TWO_FACTOR = "stakeholders.two_factor_changed"
GRANT_PAYLOAD = {
    "membership_id": 1,
    "user_id": 1,
    "organisation_id": 1,
    "organisation_name_zh": "万象城",
    "organisation_name_en": "The Mixc",
    "role": "staff",
}
TWO_FACTOR_PAYLOAD = {"user_id": 1, "change": "added", "authenticator_type": "totp"}


# Environment -------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def broker(url: str | None):
    """The given Redis URL, or a redis-server of this run's own on a free port."""
    if url:
        yield url
        return
    server = shutil.which("redis-server")
    if not server:
        sys.exit("needs redis-server on PATH, or --redis-url")
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        process = subprocess.Popen(
            [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", folder],
            stdout=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                    break
                time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            process.wait(timeout=10)


def create_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if exists.fetchone() is None:
            connection.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")


def setup_django(database_url: str, redis_url: str, email_url: str = "memorymail://") -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "governance.settings",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "EMAIL_URL": email_url,
            # Production settings: no query log kept in memory, as DEBUG would.
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "localhost",
            "SITE_URL": "https://bench.gongzhi.local",
            "GONGZHI_VAR_DIR": str(ROOT / "var" / "bench-notifications"),
            "LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()


# Measuring ---------------------------------------------------------------------------------
def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


@dataclasses.dataclass
class Measure:
    """Wall time, SQL statements and peak memory growth of the block it wraps."""

    trace: bool = False
    seconds: float = 0.0
    queries: int = 0
    peak_rss: int = 0
    peak_python: int | None = None

    def __enter__(self):
        from django.db import connection

        gc.collect()
        # Writing 5 to clear_refs resets the high-water mark (VmHWM) to the current RSS.
        with contextlib.suppress(OSError):
            Path("/proc/self/clear_refs").write_text("5")
        self._rss = _status("VmRSS")
        if self.trace:
            tracemalloc.start()
        self._wrapper = connection.execute_wrapper(self._count)
        self._wrapper.__enter__()
        self._started = time.perf_counter()
        return self

    def _count(self, execute, sql, params, many, context):
        self.queries += 1
        return execute(sql, params, many, context)

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._started
        self._wrapper.__exit__(*exc)
        if self.trace:
            self.peak_python = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        self.peak_rss = max(_status("VmHWM") - self._rss, 0)
        return False

    def memory(self) -> str:
        text = f"peak RSS +{self.peak_rss / 2**20:.1f} MiB"
        if self.peak_python is not None:
            text += f", tracemalloc peak {self.peak_python / 2**20:.1f} MiB"
        return text


def show(name: str, **figures) -> None:
    width = max(len(key) for key in figures)
    print(f"\n{name}")
    for key, value in figures.items():
        print(f"  {key:<{width}}  {value}")


# Data set ----------------------------------------------------------------------------------
def ensure_users(count: int) -> None:
    """Top the bench users up to ``count`` (bench-1@…, bench-2@…), in one statement."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM stakeholders_user WHERE email LIKE %s", [f"%@{BENCH_DOMAIN}"]
        )
        have = cursor.fetchone()[0]
        if have >= count:
            return
        started = time.perf_counter()
        cursor.execute(
            """
            INSERT INTO stakeholders_user
                (password, is_superuser, email, is_staff, is_active, date_joined,
                 display_name, phone, language)
            SELECT '!', false, 'bench-' || g || '@' || %s, false, true, now(), '', '', 'zh-hans'
            FROM generate_series(%s, %s) AS g
            """,
            [BENCH_DOMAIN, have + 1, count],
        )
        cursor.execute("ANALYZE stakeholders_user")
    print(f"inserted {count - have:,} users in {time.perf_counter() - started:.1f} s")


def bench_users(count: int):
    """The first ``count`` bench users, as the unsliced queryset an event type would return."""
    from governance.stakeholders.models import User

    users = User.objects.filter(email__endswith=f"@{BENCH_DOMAIN}")
    last = users.order_by("pk").values_list("pk", flat=True)[count - 1]
    return users.filter(pk__lte=last)


def reset_notifications() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE notifications_delivery, notifications_digest, notifications_notification"
        )


def load_pending_digest_items(users: int, per_user: int) -> None:
    """``users`` × ``per_user`` pending daily items over the last hours, two event types."""
    from django.db import connection

    reset_notifications()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO notifications_notification
                (recipient_id, event_type, payload, url, mode, created_at)
            SELECT u.id,
                   CASE WHEN g %% 4 = 0 THEN %s ELSE %s END,
                   CASE WHEN g %% 4 = 0 THEN %s::jsonb ELSE %s::jsonb END,
                   '/notifications/', 'daily', now() - g * interval '7 minutes'
            FROM (SELECT id FROM stakeholders_user WHERE email LIKE %s ORDER BY id LIMIT %s) AS u
            CROSS JOIN generate_series(1, %s) AS g
            """,
            [
                TWO_FACTOR,
                GRANTED,
                json.dumps(TWO_FACTOR_PAYLOAD),
                json.dumps(GRANT_PAYLOAD),
                f"%@{BENCH_DOMAIN}",
                users,
                per_user,
            ],
        )
        cursor.execute("ANALYZE notifications_notification")
    print(
        f"inserted {users * per_user:,} pending daily notifications "
        f"in {time.perf_counter() - started:.1f} s"
    )


@contextlib.contextmanager
def granted_to(users):
    """stakeholders.membership_granted, told to every user of ``users`` (this process only)."""
    from governance.notifications import registry
    from governance.stakeholders.events import MembershipGranted

    original = registry.get(GRANTED)
    widened = dataclasses.replace(original, recipients=lambda event: users)
    registry._by_code[GRANTED] = widened
    registry._by_class[MembershipGranted] = widened
    try:
        yield
    finally:
        registry._by_code[GRANTED] = original
        registry._by_class[MembershipGranted] = original


def grant_event():
    from governance.stakeholders.events import MembershipGranted

    return MembershipGranted(**GRANT_PAYLOAD)


def purge_broker() -> None:
    from governance.celery import app

    app.control.purge()


# Scenarios ---------------------------------------------------------------------------------
def run_publish(args) -> None:
    from django.db import transaction

    from governance.notifications import services
    from governance.notifications.models import Delivery, Notification

    ensure_users(args.fanout)
    reset_notifications()
    users = bench_users(args.fanout)
    enqueued = []
    original_enqueue = services.enqueue_deliveries

    def counting_enqueue(ids, **kwargs):
        enqueued.append(original_enqueue(ids, **kwargs))

    services.enqueue_deliveries = counting_enqueue
    try:
        with granted_to(users), Measure(trace=args.tracemalloc) as measure, transaction.atomic():
            notifications = services.publish(grant_event())
    finally:
        services.enqueue_deliveries = original_enqueue
    show(
        f"(i) publish one event to {args.fanout:,} recipients (commit and enqueue included)",
        wall_time=f"{measure.seconds:.2f} s",
        queries=measure.queries,
        memory=measure.memory(),
        notifications=f"{len(notifications):,} ({Notification.objects.count():,} in the table)",
        deliveries=f"{Delivery.objects.count():,}, {sum(enqueued):,} enqueued",
    )
    purge_broker()


def run_plan(args) -> None:
    from django.db import connection

    from governance.notifications import services
    from governance.notifications.models import Digest, Mode, Notification

    ensure_users(args.users)
    total = args.users * args.per_user
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM notifications_notification WHERE mode = 'daily'")
        if cursor.fetchone()[0] != total:
            load_pending_digest_items(args.users, args.per_user)
        else:  # reuse the items: detach them from the last run's digests
            cursor.execute(
                "UPDATE notifications_notification SET digest_id = NULL WHERE digest_id IS NOT NULL"
            )
            # DELETE, not TRUNCATE: a truncate would cascade through the foreign key to the
            # notifications themselves.
            cursor.execute("DELETE FROM notifications_digest")
            cursor.execute("VACUUM ANALYZE notifications_notification")
            cursor.execute("VACUUM ANALYZE notifications_digest")
    with Measure(trace=args.tracemalloc) as measure:
        planned = services.digests_plan(period=Mode.DAILY)
    show(
        f"(ii) digests_plan for {args.users:,} users, {total:,} pending items",
        wall_time=f"{measure.seconds:.2f} s",
        queries=f"{measure.queries} ({measure.queries / max(planned / 1000, 1):.1f} per 1,000 "
        "users)",
        memory=measure.memory(),
        digests=f"{planned:,} planned, {Digest.objects.count():,} rows",
        pending_items=f"{Notification.objects.filter(digest__isnull=True).count():,}",
    )
    purge_broker()


def run_send(args) -> None:
    from django.conf import settings
    from django.core import mail

    from governance.notifications import services
    from governance.notifications.models import Digest

    ids = list(
        Digest.objects.filter(state=Digest.State.PENDING)
        .order_by("pk")
        .values_list("pk", flat=True)[: args.sample]
    )
    if len(ids) < args.sample:
        sys.exit("not enough pending digests: run the plan scenario first")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    services.digest_send(ids[0])  # warm the template cache and translations
    results: Counter = Counter()
    with Measure(trace=args.tracemalloc) as measure:
        for digest_id in ids[1:]:
            results[services.digest_send(digest_id)] += 1
    count = len(ids) - 1
    show(
        f"(iii) digest_send for {count:,} digests ({args.per_user} items each), locmem e-mail",
        rate=f"{count / measure.seconds:.0f} digests/s ({measure.seconds:.2f} s)",
        queries=f"{measure.queries} ({measure.queries / count:.1f} per digest)",
        memory=measure.memory(),
        results=dict(results),
        mails=len(mail.outbox),
    )


def run_crash(args) -> None:
    """SIGKILL a sending process again and again; count the mails by Message-ID."""
    from django.db import connection, transaction

    from governance.notifications import services
    from governance.notifications.models import Delivery

    ensure_users(args.crash_notifications)
    reset_notifications()
    with granted_to(bench_users(args.crash_notifications)), transaction.atomic():
        services.publish(grant_event())
    purge_broker()
    mail_dir = Path(tempfile.mkdtemp(prefix="gongzhi-crash-mail-"))
    child_args = [
        sys.executable,
        __file__,
        "--send-pending",
        "--database-url",
        args.database_url,
        "--mail-dir",
        str(mail_dir),
    ]
    if args.services_file:
        child_args += ["--services-file", args.services_file]

    def sent() -> int:
        return Delivery.objects.filter(state=Delivery.State.SENT).count()

    kills = 0
    started = time.perf_counter()
    rng = random.Random(args.seed)  # noqa: S311 (kill timing, not secrets)
    while kills < args.kills and sent() < args.crash_notifications:
        child = subprocess.Popen(child_args, env={**os.environ})
        target = sent() + rng.randint(3, 30)
        while sent() < target and child.poll() is None:
            time.sleep(0.002)
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
            kills += 1
        child.wait()
    subprocess.run(child_args, env={**os.environ}, check=True)  # the rest, undisturbed
    elapsed = time.perf_counter() - started
    connection.close()

    found: Counter = Counter()
    truncated = 0
    separator = b"\n" + b"-" * 79 + b"\n"
    for path in mail_dir.glob("*.log"):
        *complete, tail = path.read_bytes().split(separator)
        truncated += bool(tail.strip())
        for chunk in complete:
            match = re.search(rb"^Message-ID: <notification\.(\d+)\.", chunk, re.MULTILINE)
            found[int(match.group(1))] += 1
    duplicates = sum(n - 1 for n in found.values() if n > 1)
    missing = args.crash_notifications - len(found)
    show(
        f"(iv) {kills} SIGKILLs of a process sending {args.crash_notifications:,} deliveries"
        + (f" [{args.services_file}]" if args.services_file else ""),
        wall_time=f"{elapsed:.1f} s",
        delivered=f"{len(found):,} distinct Message-IDs, {missing} missing",
        duplicates=f"{duplicates} ({duplicates / max(kills, 1):.1%} of kills)",
        cut_short=f"{truncated} mail files written partly (the kill came mid-write)",
    )
    shutil.rmtree(mail_dir)


def send_pending(args) -> None:
    """The crash scenario's sending process: every pending delivery, in id order."""
    import importlib.util

    from governance.notifications.models import Delivery

    if args.services_file:
        spec = importlib.util.spec_from_file_location("bench_services", args.services_file)
        services = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(services)
    else:
        from governance.notifications import services
    ids = list(
        Delivery.objects.filter(state=Delivery.State.PENDING)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    services.deliveries_send(ids)


SCENARIOS = {"publish": run_publish, "plan": run_plan, "send": run_send, "crash": run_crash}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    parser.add_argument("--redis-url", help="default: a redis-server of this run's own")
    parser.add_argument("--only", default="publish,plan,send", help="comma-separated scenarios")
    parser.add_argument("--fanout", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--per-user", type=int, default=10)
    parser.add_argument("--sample", type=int, default=2_000)
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--crash-notifications", type=int, default=3_000)
    parser.add_argument("--services-file", help="crash: run another version of services.py")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tracemalloc", action="store_true", help="also trace Python's peak")
    parser.add_argument("--send-pending", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--mail-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.send_pending:  # a child of the crash scenario
        setup_django(args.database_url, os.environ["REDIS_URL"], f"filemail:///{args.mail_dir}")
        send_pending(args)
        return
    names = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(names) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    create_database(args.database_url)
    with broker(args.redis_url) as redis_url:
        setup_django(args.database_url, redis_url)
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        print(f"database {urlsplit(args.database_url).path.lstrip('/')}, broker {redis_url}")
        for name in names:
            SCENARIOS[name](args)


if __name__ == "__main__":
    main()
