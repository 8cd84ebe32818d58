"""Notifications survive what production does to them: a worker killed in the middle of a batch,
the broker down when the publishing transaction commits, the same digest run twice at once.

Real parts throughout: PostgreSQL, a ``redis-server`` of the tests' own (stopped and restarted at
will; the machine's shared Redis is never touched), real ``celery worker`` processes, and
Django's file e-mail backend, whose files are parsed and counted by ``Message-ID``.

The figures each test measures (recovery times, duplicates seen) are printed; run with ``-s``
to see them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import re
import signal
import socket
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import psutil
import pytest
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from governance.notifications import registry, services, tasks
from governance.notifications.models import Delivery, Digest, Mode, Notification
from governance.stakeholders.events import MembershipGranted
from governance.stakeholders.models import User
from tests.factories import UserFactory
from tests.integration.conftest import (
    celery_worker,
    database_url_for_tests,
    read_mail_folder,
    wait_for,
    worker_ready,
)

pytestmark = pytest.mark.integration

GRANTED = "stakeholders.membership_granted"
NOTIFICATION_ID = re.compile(r"<notification\.(\d+)\.email@")
DIGEST_ID = re.compile(r"<digest\.(\d+)\.email@")


@pytest.fixture
def granted_to(monkeypatch):
    """Make ``stakeholders.membership_granted`` go to every user of a queryset, in this process.

    The demo events each name one person; widening who receives one is what turns a single
    ``publish`` into a fan-out. The worker renders it with the type as registered (same code,
    same templates), since rendering does not depend on who the recipients were.
    """

    def widen(users):
        original = registry.get(GRANTED)
        widened = dataclasses.replace(original, recipients=lambda event: users)
        monkeypatch.setitem(registry._by_code, GRANTED, widened)
        monkeypatch.setitem(registry._by_class, MembershipGranted, widened)

    return widen


def grant_event() -> MembershipGranted:
    return MembershipGranted(
        membership_id=1,
        user_id=1,
        organisation_id=1,
        organisation_name_zh="万象城",
        organisation_name_en="The Mixc",
        role="staff",
    )


def make_users(prefix: str, count: int):
    User.objects.bulk_create(
        [User(email=f"{prefix}{n}@example.com", password="!") for n in range(count)]
    )
    return User.objects.filter(email__startswith=prefix)


def worker_env(tmp_path: Path, broker_url: str, mail_dir: Path) -> dict[str, str]:
    mail_dir.mkdir(exist_ok=True)
    return {
        **os.environ,
        "DATABASE_URL": database_url_for_tests(),
        "REDIS_URL": broker_url,
        # Three slashes and an absolute path: the file backend's folder.
        "EMAIL_URL": f"filemail:///{mail_dir}",
        "GONGZHI_VAR_DIR": str(tmp_path / "var"),
    }


def sent_count() -> int:
    return Delivery.objects.filter(state=Delivery.State.SENT).count()


def wait_until_sent(at_least: int, *, timeout: float, log: Path) -> float:
    """Poll the database (what has COMMITTED as sent) until ``at_least``; returns the time."""
    reached = wait_for(lambda: sent_count() >= at_least, timeout=timeout, interval=0.01)
    assert reached, f"only {sent_count()} of {at_least} sent\n{log.read_text()[-3000:]}"
    return time.monotonic()


def ids_by_message(messages, pattern: re.Pattern) -> Counter:
    found = Counter()
    for message in messages:
        match = pattern.match(message["Message-ID"] or "")
        assert match, f"unexpected Message-ID {message['Message-ID']!r}"
        found[int(match.group(1))] += 1
    return found


def report(title: str, **figures) -> None:
    width = max(len(name) for name in figures)
    lines = [f"  {name:<{width}}  {value}" for name, value in figures.items()]
    print(f"\n[notifications reliability] {title}\n" + "\n".join(lines))


@pytest.mark.django_db(transaction=True)
def test_killed_workers_deliver_every_notification_exactly_once(
    broker, granted_to, settings, tmp_path
):
    """1,000 notifications; SIGKILL a pool child mid-batch, later SIGKILL the whole worker
    (main process and pool, as when a container or machine dies), start a new one and let the
    sweep re-enqueue what the dead worker held: every mail is written exactly once."""
    load = 1000
    first_kill_at, second_kill_at = 150, 550
    # The stale age the sweep waits for; production waits 300 s, and beat sweeps every 60 s.
    settings.NOTIFICATIONS_STALE_SECONDS = 2
    sweep_every = 1.0

    granted_to(make_users("load", load))
    with transaction.atomic():
        notifications = services.publish(grant_event())
    assert len(notifications) == load
    assert Delivery.objects.filter(state=Delivery.State.PENDING).count() == load

    mail_dir = tmp_path / "mail"
    env = worker_env(tmp_path, broker.url, mail_dir)
    first_log, second_log = tmp_path / "worker-1.log", tmp_path / "worker-2.log"

    with celery_worker(queue="celery", env=env, log_path=first_log) as worker:
        started = time.monotonic()
        wait_until_sent(first_kill_at, timeout=60, log=first_log)
        (child,) = psutil.Process(worker.pid).children()
        os.kill(child.pid, signal.SIGKILL)
        child_killed = time.monotonic()
        time.sleep(0.05)  # a COMMIT the child sent just before dying still lands
        sent_at_child_kill = sent_count()

        def replaced():
            return [c for c in psutil.Process(worker.pid).children() if c.pid != child.pid]

        assert wait_for(replaced, timeout=30, interval=0.01), first_log.read_text()
        child_replaced = time.monotonic()
        # The pool replaces the child and the broker hands the batch out again (acks_late,
        # reject on worker loss): the first delivery the new child commits is the recovery.
        child_recovered = wait_until_sent(sent_at_child_kill + 1, timeout=60, log=first_log)

        wait_until_sent(second_kill_at, timeout=60, log=first_log)
        sent_at_worker_kill = sent_count()
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        worker_killed = time.monotonic()

    # The batch the dead worker held stays unacknowledged in Redis until the visibility timeout
    # (an hour); the sweep, run here as beat would run it, re-enqueues its pending deliveries.
    with celery_worker(queue="celery", env=env, log_path=second_log):
        assert wait_for(lambda: worker_ready(second_log), timeout=60), second_log.read_text()
        second_ready = time.monotonic()
        swept = 0
        deadline = time.monotonic() + 60
        while sent_count() < load and time.monotonic() < deadline:
            swept += services.deliveries_sweep()
            wait_for(lambda: sent_count() >= load, timeout=sweep_every, interval=0.05)
        all_sent = time.monotonic()
        assert sent_count() == load, second_log.read_text()[-3000:]

    messages, truncated = read_mail_folder(mail_dir)
    found = ids_by_message(messages, NOTIFICATION_ID)
    duplicates = {pk: n for pk, n in found.items() if n > 1}
    report(
        "1,000 notifications, two SIGKILLs",
        rate_before_kill=f"{first_kill_at / (child_killed - started):.0f} deliveries/s",
        pool_child_killed_after=f"{sent_at_child_kill} sent",
        pool_child_replaced=f"{child_replaced - child_killed:.2f} s after the kill",
        pool_child_recovery=f"{child_recovered - child_killed:.2f} s from the kill to a commit",
        worker_killed_after=f"{sent_at_worker_kill} sent",
        new_worker_ready=f"{second_ready - worker_killed:.2f} s after the kill",
        worker_recovery=f"{all_sent - worker_killed:.2f} s from the kill to all {load} sent",
        swept=f"{swept} deliveries re-enqueued by the sweep",
        mails_written=len(messages),
        mails_cut_short=truncated,
        duplicates=duplicates or "none",
    )
    assert set(found) == {n.pk for n in notifications}
    assert not duplicates, (
        f"sent more than once: {duplicates}. A SIGKILL landed between a mail leaving and its "
        "row's COMMIT, the one window in which delivery is at least once rather than once "
        "(bench/notifications.py --only crash measures how often: about 1 kill in 400)"
    )
    assert len(messages) == load
    assert not Delivery.objects.exclude(state=Delivery.State.SENT).exists()


@pytest.mark.django_db(transaction=True)
def test_broker_down_at_commit_loses_nothing(broker, granted_to, settings, tmp_path, caplog):
    """Redis is stopped when the publishing transaction commits: the rows are safe, the
    request is not held up batch after batch, and the sweep delivers everything once Redis is
    back, to a worker that stayed up through the outage."""
    load = 300
    settings.NOTIFICATIONS_STALE_SECONDS = 1
    granted_to(make_users("outage", load))
    mail_dir = tmp_path / "mail"
    log = tmp_path / "worker.log"

    with celery_worker(
        queue="celery", env=worker_env(tmp_path, broker.url, mail_dir), log_path=log
    ):
        assert wait_for(lambda: worker_ready(log), timeout=60), log.read_text()
        broker.stop()
        caplog.set_level(logging.WARNING, logger="governance.notifications.services")
        began = time.monotonic()
        with transaction.atomic():
            notifications = services.publish(grant_event())
        committed = time.monotonic()
        assert Delivery.objects.filter(state=Delivery.State.PENDING).count() == load
        warnings = [r.getMessage() for r in caplog.records if "broker unavailable" in r.msg]
        # One failed attempt, not one per batch of 200: every batch is left for the sweep.
        assert len(warnings) == 1
        assert warnings[0].startswith(f"broker unavailable: {load} deliveries left for the sweep")

        broker.start()
        restarted = time.monotonic()
        time.sleep(settings.NOTIFICATIONS_STALE_SECONDS)
        assert services.deliveries_sweep() == load
        wait_until_sent(load, timeout=60, log=log)
        delivered = time.monotonic()

    messages, truncated = read_mail_folder(mail_dir)
    found = ids_by_message(messages, NOTIFICATION_ID)
    report(
        "broker down at commit",
        publish_and_commit_with_redis_down=f"{committed - began:.2f} s",
        restart_to_all_sent=f"{delivered - restarted:.2f} s",
        mails_written=len(messages),
        mails_cut_short=truncated,
    )
    assert found == Counter({n.pk: 1 for n in notifications})


def make_digest_items(prefix: str, users: int, per_user: int, created_at) -> list[int]:
    """Daily-digest items for new users, the way publish stores them."""
    accounts = list(make_users(prefix, users))
    Notification.objects.bulk_create(
        Notification(
            recipient=user,
            event_type=GRANTED,
            payload=dataclasses.asdict(grant_event()),
            mode=Mode.DAILY,
            created_at=created_at - timedelta(minutes=n),
        )
        for user in accounts
        for n in range(per_user)
    )
    return [user.pk for user in accounts]


def twice_at_once(work) -> None:
    """Run ``work`` in two threads released at the same instant, each on its own connection."""
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run():
        try:
            barrier.wait()
            work()
        except BaseException as exc:  # reported in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors


@pytest.mark.django_db(transaction=True)
def test_the_same_digest_run_twice_at_once_sends_one_mail_per_user(broker, tmp_path):
    """Beat firing twice, or two workers racing: planning and sending the same day's digests
    concurrently sends each user one digest, first in two threads of this process, then with
    two real worker processes consuming duplicate messages."""
    now = timezone.now()
    in_process = make_digest_items("twins", users=40, per_user=3, created_at=now)

    def plan_and_send():
        services.digests_plan(period=Mode.DAILY, now=now)
        for digest_id in Digest.objects.order_by("pk").values_list("pk", flat=True):
            services.digest_send(digest_id)

    mail.outbox = []
    twice_at_once(plan_and_send)
    per_user = Counter(
        message.to[0] for message in mail.outbox if message.extra_headers["Message-ID"]
    )
    assert len(mail.outbox) == len(in_process)
    assert set(per_user.values()) == {1}
    assert Digest.objects.filter(state=Digest.State.SENT).count() == len(in_process)
    assert not Notification.objects.filter(digest__isnull=True).exists()

    # Now with real workers: two plans commit at once, each enqueues every digest, and a worker
    # with two pool processes works through the duplicate messages side by side.
    with_worker = make_digest_items("racers", users=60, per_user=3, created_at=now)
    mail_dir = tmp_path / "mail"
    log = tmp_path / "worker.log"
    twice_at_once(lambda: services.digests_plan(period=Mode.DAILY, now=now))
    planned = Digest.objects.filter(recipient_id__in=with_worker)
    assert planned.count() == len(with_worker)
    env = worker_env(tmp_path, broker.url, mail_dir)
    with celery_worker(queue="celery", env=env, log_path=log, concurrency=2):
        assert wait_for(
            lambda: not planned.filter(state=Digest.State.PENDING).exists(), timeout=60
        ), log.read_text()[-3000:]

    messages, truncated = read_mail_folder(mail_dir)
    found = ids_by_message(messages, DIGEST_ID)
    report(
        "the same digests twice at once",
        in_process_users=len(in_process),
        in_process_mails=len(mail.outbox),
        worker_users=len(with_worker),
        worker_mails=len(messages),
        mails_cut_short=truncated,
    )
    assert found == Counter(dict.fromkeys(planned.values_list("pk", flat=True), 1))
    assert set(planned.values_list("state", flat=True)) == {Digest.State.SENT}
    assert sorted(m["To"] for m in messages) == sorted(
        User.objects.filter(pk__in=with_worker).values_list("email", flat=True)
    )


# Retries, backoff and the sweep, in this process against a real SMTP refusal -------------
@contextlib.contextmanager
def smtp_server_saying(reply: bytes):
    """A TCP server on a free port that answers every connection with ``reply`` and hangs up:
    a mail server that is up but turning mail away ("421 … try again later")."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                client, _address = server.accept()
            except TimeoutError:
                continue
            with client:
                client.sendall(reply)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        server.close()


@pytest.fixture
def smtp_busy(settings):
    with smtp_server_saying(b"421 4.3.2 Service not available, try again later\r\n") as port:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_TIMEOUT = 5
        yield port


def seat_granted_to(user) -> Delivery:
    event = dataclasses.replace(grant_event(), user_id=user.pk)
    (notification,) = services.publish(event)
    return notification.deliveries.get()


def time_passes(delivery: Delivery) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


@pytest.mark.django_db
def test_smtp_errors_back_off_exponentially_then_fail_with_the_error(smtp_busy, settings):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 5
    delivery = seat_granted_to(UserFactory())

    waits = []
    for attempt in range(1, 5):
        before = timezone.now()
        outcome = services.deliveries_send([delivery.pk])
        delivery.refresh_from_db()
        assert outcome["retry"] == [delivery.pk]
        (wait,) = outcome["retry_later"]
        waits.append(wait)
        # The row marked sent before the send was rolled back with it.
        assert delivery.state == Delivery.State.PENDING
        assert delivery.sent_at is None
        assert delivery.attempts == attempt
        assert "SMTPConnectError" in delivery.last_error
        assert delivery.next_attempt_at >= before + timedelta(seconds=wait)
        # Not due yet: a second message for it sends nothing and counts no attempt.
        assert services.deliveries_send([delivery.pk])["skipped"] == 1
        time_passes(delivery)

    assert waits == [30, 60, 120, 240]
    outcome = services.deliveries_send([delivery.pk])
    delivery.refresh_from_db()
    assert outcome["failed"] == 1
    assert outcome["retry"] == []
    assert delivery.state == Delivery.State.FAILED
    assert delivery.attempts == 5
    assert delivery.last_error.startswith("SMTPConnectError: (421")
    assert services.deliveries_send([delivery.pk])["skipped"] == 1


@pytest.mark.django_db
def test_the_deliver_task_reenqueues_retries_with_their_own_countdowns(smtp_busy, monkeypatch):
    sent = []
    monkeypatch.setattr(
        tasks.deliver, "apply_async", lambda args, **options: sent.append((args[0], options))
    )
    fresh = seat_granted_to(UserFactory())
    tried = seat_granted_to(UserFactory())
    Delivery.objects.filter(pk=tried.pk).update(attempts=2)

    tasks.deliver.run([fresh.pk, tried.pk])

    assert sorted(sent, key=lambda item: item[1]["countdown"]) == [
        ([fresh.pk], {"retry": False, "countdown": 30}),
        ([tried.pk], {"retry": False, "countdown": 120}),
    ]


@pytest.mark.django_db
def test_no_countdown_outlives_the_visibility_timeout(settings, monkeypatch):
    sent = []
    monkeypatch.setattr(
        tasks.deliver, "apply_async", lambda args, **options: sent.append(options["countdown"])
    )
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
    assert services.max_countdown() == 1800
    assert max(services.backoff_seconds(n) for n in range(1, 30)) <= services.max_countdown()
    services.enqueue_deliveries([1], countdown=10_000)
    assert sent == [1800]


@pytest.mark.django_db
def test_a_failing_digest_rolls_back_backs_off_and_gives_up(smtp_busy, settings):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 2
    (user,) = make_digest_items("digest", users=1, per_user=2, created_at=timezone.now())
    services.digests_plan(period=Mode.DAILY)
    digest = Digest.objects.get()

    outcome = services.digests_send([digest.pk])
    digest.refresh_from_db()
    assert outcome["retry_later"] == {30: [digest.pk]}
    assert digest.state == Digest.State.PENDING
    assert digest.attempts == 1
    # The items stay pending for the next try: their attachment rolled back with the send.
    assert Notification.objects.filter(recipient_id=user, digest__isnull=True).count() == 2

    assert services.digest_send(digest.pk) == "failed"
    digest.refresh_from_db()
    assert digest.state == Digest.State.FAILED
    assert "SMTPConnectError" in digest.last_error


@pytest.mark.django_db
def test_the_sweep_reenqueues_what_is_stale_and_due_and_nothing_else(
    settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.NOTIFICATIONS_STALE_SECONDS = 300
    deliveries, digests = [], []
    monkeypatch.setattr(services, "enqueue_deliveries", lambda ids, **o: deliveries.extend(ids))
    monkeypatch.setattr(services, "enqueue_digests", lambda ids, **o: digests.extend(ids))
    now = timezone.now()
    old = now - timedelta(seconds=301)
    lost, _fresh, backing_off, due_again, done = (seat_granted_to(UserFactory()) for _ in range(5))
    Delivery.objects.filter(pk__in=[lost.pk, backing_off.pk, due_again.pk, done.pk]).update(
        enqueued_at=old
    )
    Delivery.objects.filter(pk=backing_off.pk).update(next_attempt_at=now + timedelta(minutes=1))
    Delivery.objects.filter(pk=due_again.pk).update(next_attempt_at=now - timedelta(seconds=1))
    Delivery.objects.filter(pk=done.pk).update(state=Delivery.State.SENT)
    planned_at = [now - timedelta(seconds=s) for s in (301, 299, 331, 329)]
    never_sent, _recent, retried_due, _retried_waiting = (
        Digest.objects.create(
            recipient=UserFactory(),
            period=Mode.DAILY,
            period_start=now.date(),
            created_at=when,
            attempts=attempts,
        )
        for when, attempts in zip(planned_at, (0, 0, 1, 1), strict=True)
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert services.deliveries_sweep(now=now) == 4
    assert sorted(deliveries) == sorted([lost.pk, due_again.pk])
    assert sorted(digests) == sorted([never_sent.pk, retried_due.pk])
    # A delivery is re-enqueued once per stale period, not on every sweep.
    deliveries.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.deliveries_sweep(now=now + timedelta(seconds=30))
    assert deliveries == []
