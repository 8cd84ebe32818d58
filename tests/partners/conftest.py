"""A small world for the partners tests: the mall station (hosted by the partner **mall**, with
the household administration **hukou** present), and mall's catalogue made through
``partners.services``: the public atrium (open every day 10:00–22:00, bookable up to eight
hours), a stakeholders-only meeting room, and what the other tests add with
``make_resource``.

Bookings, pledges and agreements are made through the services too, so every test exercises
the real path. The people of ``tests/conftest.py`` play the roles: ``department_*`` sit in
hukou, ``other_department_staff`` in traffic, ``partner_*`` in mall, ``other_partner_admin``
in bank.

Helpers other test modules import: :func:`at` (an aware Asia/Shanghai datetime),
:func:`future_monday` (a Monday far enough ahead that every booking on it is in the future),
:func:`fresh` (a user read again, without cached seats), :func:`shifted` (the services' clock
moved by a timedelta), :func:`notified` (who was told of an event), :func:`pdf` and :func:`png`
(small uploads), :func:`frozen_at` (the services' clock stopped at a moment),
:func:`refused` (a ValidationError names a field with a code) and :data:`ALL_WEEK` (opening
windows every day 10:00–22:00).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from governance.core import clock
from governance.notifications.models import Notification
from governance.stakeholders.models import User
from partners import services
from partners.models import Booking, Resource
from tests.factories import ServiceFactory, StationFactory

TZ = ZoneInfo("Asia/Shanghai")
TEN, TWENTY_TWO = dt.time(10), dt.time(22)
ALL_WEEK = [(day, TEN, TWENTY_TWO) for day in range(7)]


# Helpers -----------------------------------------------------------------------------------
def at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    """``day`` at ``hour:minute``, Asia/Shanghai."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)


def future_monday(weeks: int = 2) -> dt.date:
    """The Monday ``weeks`` weeks after this week's: every booking on it is still ahead."""
    today = timezone.localdate()
    return today - dt.timedelta(days=today.weekday()) + dt.timedelta(weeks=weeks)


def fresh(user):
    """``user`` read again, so the seats the rules cache on a user object are current."""
    if user is None or not getattr(user, "is_authenticated", False):
        return AnonymousUser()
    return User.objects.get(pk=user.pk)


@contextmanager
def shifted(delta: dt.timedelta) -> Iterator[dt.datetime]:
    """Inside the block the services' clock runs ``delta`` ahead of the wall clock; yields the
    shifted "now" at entry."""
    with clock.replaying(lambda: timezone.now() + delta):
        yield timezone.now() + delta


@contextmanager
def frozen_at(moment: dt.datetime) -> Iterator[dt.datetime]:
    """Inside the block the services' clock reads ``moment``."""
    with clock.replaying(lambda: moment):
        yield moment


def notified(code: str, **payload) -> set[int]:
    """Ids of the people told of ``partners.<code>`` (whose payload has these values)."""
    qs = Notification.objects.filter(event_type=f"partners.{code}")
    for name, value in payload.items():
        qs = qs.filter(**{f"payload__{name}": value})
    return set(qs.values_list("recipient_id", flat=True))


def refused(error, field: str, code: str) -> None:
    """``error`` (a ValidationError) names ``field`` with exactly the code ``code``."""
    assert hasattr(error, "error_dict"), f"no field named: {error!r}"
    assert field in error.error_dict, f"{field} not in {sorted(error.error_dict)}"
    assert [item.code for item in error.error_dict[field]] == [code], error.error_dict[field]


def pdf(name: str = "agreement.pdf") -> SimpleUploadedFile:
    body = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    return SimpleUploadedFile(name, body, content_type="application/pdf")


def png(name: str = "photo.png") -> SimpleUploadedFile:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (30, 120, 200)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


# The world ---------------------------------------------------------------------------------
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
def monday() -> dt.date:
    return future_monday()


@pytest.fixture
def make_resource(partner, partner_admin, station):
    """``make_resource(**data)``: a resource of ``partner`` (by default mall's public atrium at
    the station, bookable up to 8 hours) with opening rules ``windows`` (default ALL_WEEK;
    ``windows=()`` for none), made by ``actor`` (default mall's admin)."""

    def make(*, actor=None, owner=None, windows=ALL_WEEK, **data) -> Resource:
        values = {
            "kind": "space",
            "name_zh": "中庭活动区",
            "name_en": "Atrium",
            "station": station,
            "place_zh": "一层中庭",
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
def resource(make_resource) -> Resource:
    """Mall's public atrium: every day 10:00–22:00, bookable up to 8 hours at a time."""
    return make_resource()


@pytest.fixture
def room(make_resource) -> Resource:
    """Mall's meeting room, shown to stakeholders only; weekdays 09:00–18:00."""
    return make_resource(
        kind="space",
        name_zh="三楼会议室",
        name_en="Meeting room",
        quantity="20",
        unit="people",
        visibility="stakeholders",
        windows=[(day, dt.time(9), dt.time(18)) for day in range(5)],
    )


@pytest.fixture
def book(resource, department, department_staff, monday):
    """``book(start=None, end=None, **overrides)``: a booking request through the service; by
    default hukou's staff ask for the atrium on ``monday`` 10:00–12:00."""

    def make(start=None, end=None, **overrides) -> Booking:
        start = start or at(monday, 10)
        values = {
            "actor": department_staff,
            "resource": resource,
            "requester": department,
            "starts_at": start,
            "ends_at": end or start + dt.timedelta(hours=2),
            "purpose": "交通安全宣传活动",
        }
        values.update(overrides)
        return services.booking_request(**values)

    return make


@pytest.fixture
def approve(partner_staff):
    """``approve(booking, actor=mall's staff)`` through the service."""

    def run(booking: Booking, *, actor=None) -> Booking:
        return services.booking_approve(actor=actor or partner_staff, booking=booking)

    return run
