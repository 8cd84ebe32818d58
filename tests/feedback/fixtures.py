"""A small world for the feedback pages, services, rules and tasks tests (imported by
``test_views``, ``test_services``, ``test_rules`` and ``test_tasks``).

The mall station (hosted by the partner **mall**) with the household administration (**hukou**)
present; a hukou service routed to hukou by a routing rule; a traffic service at no station;
visits of both. Ratings go through the real services; the Celery tasks run in-process where
the code would enqueue them (``run_tasks``), and notification deliveries are recorded instead
of reaching the broker.
"""

from __future__ import annotations

import datetime as dt
import uuid
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from feedback import services, tasks, tokens
from feedback.models import Feedback, Kind
from governance.stakeholders.models import User
from tests.cases.factories import RoutingRuleFactory
from tests.factories import ServiceFactory, StationFactory, VisitFactory

__all__ = [
    "CONTACT_EMAIL",
    "CONTACT_PHONE",
    "TZ",
    "_media",
    "at",
    "delivered",
    "fresh",
    "frozen_ratelimit",
    "lost_messages",
    "make_visit",
    "new_key",
    "other_service",
    "rate_visit",
    "routing",
    "run_tasks",
    "service",
    "station",
    "suggestion",
    "visit",
]

TZ = ZoneInfo("Asia/Shanghai")
CONTACT_PHONE = "13800138000"
CONTACT_EMAIL = "rater@example.com"


def at(year, month, day, hour=10, minute=0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=TZ)


def fresh(user):
    """``user`` read again, so the seats the rules cache on a user object are current."""
    if user is None or not getattr(user, "is_authenticated", False):
        return AnonymousUser()
    return User.objects.get(pk=user.pk)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def station(department, partner):
    return StationFactory(
        slug="mall-station", name_zh="万象城警务站", host=partner, departments=[department]
    )


@pytest.fixture
def service(department, station):
    return ServiceFactory(
        department=department, service_code="HK-ID", name_zh="身份证办理", stations=[station]
    )


@pytest.fixture
def other_service(other_department):
    return ServiceFactory(department=other_department, service_code="TR-FINE", name_zh="交通罚款")


@pytest.fixture
def routing(department, service):
    """Hukou handles the cases of its service (as the demo's rules say)."""
    return RoutingRuleFactory(name_zh="户籍业务", service=service, responsible=department)


@pytest.fixture
def make_visit(station, service):
    def make(**overrides):
        values = {"station": station, "service": service}
        values.update(overrides)
        return VisitFactory(**values)

    return make


@pytest.fixture
def visit(make_visit):
    return make_visit()


@pytest.fixture
def rate_visit(make_visit):
    """Rate a fresh visit through ``services.visit_rate``; returns the rating."""

    def rate(level=1, *, visit=None, actor=None, **kwargs):
        visit = visit or make_visit()
        return services.visit_rate(
            token=tokens.visit_token(visit), level=level, actor=actor, **kwargs
        )

    return rate


@pytest.fixture
def delivered(monkeypatch):
    """Records the notification deliveries that would go to the broker."""
    from governance.notifications import tasks as notification_tasks

    recorded: list[list[int]] = []
    monkeypatch.setattr(
        notification_tasks.deliver,
        "apply_async",
        lambda args, **kwargs: recorded.append(list(args[0])),
    )
    return recorded


@pytest.fixture
def run_tasks(monkeypatch, delivered):
    """The feedback tasks run in-process when the code enqueues them; returns the log of what
    was enqueued, as (task name, feedback id)."""
    log: list[tuple[str, int]] = []

    def inline(task):
        def delay(feedback_id):
            log.append((task.name, feedback_id))
            return task(feedback_id)

        return delay

    monkeypatch.setattr(tasks.open_rectification, "delay", inline(tasks.open_rectification))
    monkeypatch.setattr(tasks.mail_rerate_link, "delay", inline(tasks.mail_rerate_link))
    return log


@pytest.fixture
def lost_messages(monkeypatch, delivered):
    """The broker is down: what the code enqueues is lost (the sweep must catch it)."""
    lost: list[tuple[str, int]] = []
    for task in (tasks.open_rectification, tasks.mail_rerate_link):
        monkeypatch.setattr(task, "delay", lambda pk, name=task.name: lost.append((name, pk)))
    return lost


@pytest.fixture
def frozen_ratelimit(monkeypatch):
    """django-ratelimit's fixed windows, held still so a test never straddles a minute."""
    import django_ratelimit.core

    now = float(int(timezone.now().timestamp()) // 60 * 60 + 5)
    monkeypatch.setattr(django_ratelimit.core, "time", SimpleNamespace(time=lambda: now))


def new_key() -> str:
    return str(uuid.uuid4())


def suggestion(*, organisation=None, station=None, text="多设几个座位", user=None, **extra):
    """A suggestion row written directly (for listings and rules)."""
    return Feedback.objects.create(
        kind=Kind.SUGGESTION,
        text=text,
        station=station,
        organisation=organisation,
        user=user,
        channel="web",
        **extra,
    )
