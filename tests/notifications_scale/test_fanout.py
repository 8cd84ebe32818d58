"""Publishing and planning at scale cost a bounded number of queries: bulk inserts of 1,000 rows,
batches of users, nothing per recipient. (The figures for 10,000 recipients and 100,000 users
come from ``bench/notifications.py``.)"""

from __future__ import annotations

import dataclasses
import math
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance.notifications import registry, services
from governance.notifications.models import Digest, Mode, Notification, Settings
from governance.stakeholders.events import MembershipGranted
from governance.stakeholders.models import User

GRANTED = "stakeholders.membership_granted"
NOTIFICATION_TABLE = '"notifications_notification"'
DELIVERY_TABLE = '"notifications_delivery"'


@pytest.fixture
def granted_to(monkeypatch):
    """Tell ``stakeholders.membership_granted`` to every user of a queryset (this test only)."""

    def widen(users):
        widened = dataclasses.replace(registry.get(GRANTED), recipients=lambda event: users)
        monkeypatch.setitem(registry._by_code, GRANTED, widened)
        monkeypatch.setitem(registry._by_class, MembershipGranted, widened)

    return widen


def make_users(prefix: str, count: int):
    User.objects.bulk_create(
        [User(email=f"{prefix}{n}@example.com", password="!") for n in range(count)],
        batch_size=2000,
    )
    return User.objects.filter(email__startswith=prefix)


def grant_event() -> MembershipGranted:
    return MembershipGranted(
        membership_id=1,
        user_id=1,
        organisation_id=1,
        organisation_name_zh="万象城",
        organisation_name_en="The Mixc",
        role="staff",
    )


def publish_queries(granted_to, users) -> list[str]:
    granted_to(users)
    with CaptureQueriesContext(connection) as captured:
        notifications = services.publish(grant_event())
    assert len(notifications) == users.count()
    return [query["sql"] for query in captured.captured_queries]


def inserts_into(queries: list[str], table: str) -> int:
    return sum(sql.startswith(f"INSERT INTO {table}") for sql in queries)


@pytest.mark.django_db
def test_publishing_to_10000_recipients_costs_one_insert_per_1000_rows_and_nothing_per_person(
    require_postgres, granted_to
):
    """On PostgreSQL, where an insert takes 1,000 rows (SQLite caps one at 999 variables)."""
    everyone = make_users("fan", 10_000)
    hundred = everyone.filter(pk__lte=everyone.order_by("pk").values_list("pk", flat=True)[99])

    small = publish_queries(granted_to, hundred)
    large = publish_queries(granted_to, everyone)

    # Citizens hear about a seat at once: a notification and an e-mail delivery each.
    rows_per_insert = services.INSERT_BATCH
    for table in (NOTIFICATION_TABLE, DELIVERY_TABLE):
        assert inserts_into(small, table) == 1
        assert inserts_into(large, table) == math.ceil(10_000 / rows_per_insert)
    others = [sql for sql in large if not sql.startswith("INSERT INTO")]
    assert len(others) == len([sql for sql in small if not sql.startswith("INSERT INTO")])
    assert len(large) - len(small) == 2 * (10_000 // rows_per_insert - 1)
    assert Notification.objects.filter(recipient__in=everyone).count() == 10_100


def digest_items(users, per_user: int) -> None:
    now = timezone.now()
    Notification.objects.bulk_create(
        Notification(
            recipient=user,
            event_type=GRANTED,
            payload={"organisation_name_zh": "万象城", "role": "staff"},
            mode=Mode.DAILY,
            created_at=now - timedelta(minutes=n + 1),
        )
        for user in users
        for n in range(per_user)
    )


def plan_queries(**kwargs) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        services.digests_plan(period=Mode.DAILY, **kwargs)
    return [query["sql"] for query in captured.captured_queries]


@pytest.mark.django_db
def test_digests_plan_walks_users_in_batches_with_the_same_queries_per_batch(monkeypatch):
    monkeypatch.setattr(services, "PLAN_BATCH", 10)
    monkeypatch.setattr(services, "enqueue_digests", lambda ids, **kwargs: len(ids))
    first = list(make_users("first", 35))
    digest_items(first, per_user=3)
    opted_out = make_users("optout", 5)
    digest_items(opted_out, per_user=2)
    Settings.objects.bulk_create(Settings(user=user, digests_enabled=False) for user in opted_out)

    queries_35 = plan_queries()
    assert Digest.objects.count() == 35
    for digest_id in Digest.objects.values_list("pk", flat=True):
        assert services.digest_send(digest_id) == "sent"
    digest_items(make_users("second", 35), per_user=3)
    queries_70 = plan_queries(now=timezone.now())

    batch_reads = [sql for sql in queries_35 if sql.startswith("SELECT DISTINCT")]
    assert len(batch_reads) == 4 + 1  # four batches of at most 10 users, one empty read
    assert all("LIMIT 10" in sql for sql in batch_reads)
    # Joining through the users table made PostgreSQL walk the users from the first id for
    # every batch: planning time grew with the square of the number of users.
    assert not any('"stakeholders_user"' in sql for sql in batch_reads)
    per_batch = (len(queries_35) - 1) / 4
    assert per_batch == int(per_batch)
    # The second run skips the 35 whose digest went out and plans 35 more: four batches again.
    assert len(queries_70) == 1 + 4 * per_batch
    assert Digest.objects.count() == 70
    assert not Digest.objects.filter(recipient__in=opted_out).exists()
