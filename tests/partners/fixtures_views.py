"""A small world for the partner pages' tests (imported by ``test_views_*.py``).

The mall station (hosted by the partner **mall**, with the household administration
**hukou** present) and mall's catalogue, written through ``partners.services``: the public
atrium (every day 10:00–22:00, up to eight hours a booking), a stakeholders-only meeting room
(weekdays 09:00–18:00), and a retired (inactive) screen; the bank (``other_partner``) has a
stakeholders-only hall. Bookings are requested and approved through the services too.

Roles (:data:`ROLES`), from ``tests/conftest.py``: ``anonymous``; ``citizen`` (no seat);
``department_viewer`` and ``department_staff`` (hukou), ``other_department_staff``
(traffic); ``partner_admin`` and ``partner_staff`` (mall); ``other_partner_admin`` (bank);
``superuser``.
"""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from governance.core import clock
from governance.stakeholders.models import User
from partners import services
from partners.models import Booking, Resource
from tests.factories import StationFactory

__all__ = [
    "ALL_WEEK",
    "BOOKERS",
    "MALL",
    "ROLES",
    "SEATED",
    "_views_media",
    "at",
    "atrium",
    "bank_hall",
    "fresh",
    "future_monday",
    "make_resource",
    "mall_station",
    "monday",
    "png",
    "request_booking",
    "retired",
    "room",
    "sign_in",
    "when",
]

TZ = ZoneInfo("Asia/Shanghai")
ALL_WEEK = [(day, dt.time(10), dt.time(22)) for day in range(7)]

ROLES = (
    "anonymous",
    "citizen",
    "department_viewer",
    "department_staff",
    "other_department_staff",
    "partner_admin",
    "partner_staff",
    "other_partner_admin",
    "superuser",
)
# Who acts for mall (manages its resources, answers its bookings).
MALL = frozenset({"partner_admin", "partner_staff"})
# Who may ask for mall's atrium: the acting staff of another organisation.
BOOKERS = frozenset({"department_staff", "other_department_staff", "other_partner_admin"})
# Who has a seat somewhere (and so sees stakeholders-only resources).
SEATED = frozenset(ROLES) - {"anonymous", "citizen", "superuser"}


def at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    """``day`` at ``hour:minute``, Asia/Shanghai."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)


def future_monday(weeks: int = 2) -> dt.date:
    """The Monday ``weeks`` weeks after this week's: every booking on it is still ahead."""
    today = timezone.localdate()
    return today - dt.timedelta(days=today.weekday()) + dt.timedelta(weeks=weeks)


def when(moment: dt.datetime):
    """Inside the block the services' clock reads ``moment`` (history written then)."""
    return clock.replaying(lambda: moment)


def fresh(user):
    """``user`` read again, so the seats the rules cache on a user object are current."""
    if user is None or not getattr(user, "is_authenticated", False):
        return AnonymousUser()
    return User.objects.get(pk=user.pk)


def sign_in(client, request, role: str):
    """Sign ``client`` in as the fixture user of ``role`` (or nobody); returns the user."""
    if role == "anonymous":
        return AnonymousUser()
    user = request.getfixturevalue(role)
    client.force_login(user)
    return user


def png(name: str = "photo.png", colour=(30, 120, 200)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@pytest.fixture(autouse=True)
def _views_media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def monday() -> dt.date:
    return future_monday()


@pytest.fixture
def mall_station(department, partner):
    return StationFactory(
        slug="mall-station", name_zh="万象城警务站", host=partner, departments=[department]
    )


@pytest.fixture
def make_resource(partner, partner_admin, mall_station):
    """``make_resource(**data)``: a resource of ``owner`` (default mall) made by ``actor``
    (default mall's admin) with opening ``windows`` (default every day 10:00–22:00)."""

    def make(*, actor=None, owner=None, windows=ALL_WEEK, **data) -> Resource:
        values = {
            "kind": "space",
            "name_zh": "中庭活动区",
            "name_en": "Atrium",
            "description_zh": "商场一层中庭，可容纳约 200 人。",
            "description_en": "The ground-floor atrium, for about 200 people.",
            "station": mall_station,
            "place_zh": "一层中庭",
            "place_en": "Ground floor atrium",
            "quantity": "200",
            "unit": "sqm",
            "visibility": "public",
            "max_booking_minutes": 8 * 60,
        }
        values.update(data)
        actor = actor or partner_admin
        resource = services.resource_create(actor=actor, partner=owner or partner, data=values)
        if windows:
            services.resource_set_opening_rules(actor=actor, resource=resource, windows=windows)
        return resource

    return make


@pytest.fixture
def atrium(make_resource) -> Resource:
    return make_resource()


@pytest.fixture
def room(make_resource) -> Resource:
    return make_resource(
        name_zh="三楼会议室",
        name_en="Meeting room",
        quantity="20",
        unit="people",
        visibility="stakeholders",
        windows=[(day, dt.time(9), dt.time(18)) for day in range(5)],
    )


@pytest.fixture
def retired(make_resource) -> Resource:
    return make_resource(
        kind="equipment",
        name_zh="旧电子屏",
        name_en="Old screen",
        quantity="1",
        unit="items",
        is_active=False,
    )


@pytest.fixture
def bank_hall(make_resource, other_partner, other_partner_admin) -> Resource:
    return make_resource(
        actor=other_partner_admin,
        owner=other_partner,
        name_zh="银行多功能厅",
        name_en="Bank hall",
        station=None,
        visibility="stakeholders",
    )


@pytest.fixture
def request_booking(atrium, department, department_staff, monday):
    """``request_booking(start=None, end=None, **overrides)``: a request through the service;
    by default hukou's staff ask for the atrium on ``monday`` 10:00–12:00."""

    def make(start=None, end=None, **overrides) -> Booking:
        start = start or at(monday, 10)
        values = {
            "actor": department_staff,
            "resource": atrium,
            "requester": department,
            "starts_at": start,
            "ends_at": end or start + dt.timedelta(hours=2),
            "purpose": "交通安全宣传活动",
        }
        values.update(overrides)
        return services.booking_request(**values)

    return make
