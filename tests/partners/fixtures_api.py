"""A small world for the partners API tests (imported by the ``test_api*.py`` modules).

The mall (**mall**, partner) hosts the station, where the household administration
(**hukou**) works; the bank (**bank**) is a second partner; traffic (**traffic**) a second
department. The mall offers its atrium (public, bookable 08:00–22:00 every day, at most four
hours) and a meeting room for stakeholders only; the bank its lobby screen (public). Every
row is written through ``services``, so every test exercises the real path.

Roles: ``anonymous``, ``citizen``, ``department_viewer``/``department_staff``/
``department_admin`` (hukou), ``other_department_staff`` (traffic), ``partner_admin``/
``partner_staff``/``partner_viewer`` (the mall), ``other_partner_admin`` (the bank) and
``superuser``.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from governance.core import clock
from governance.proposals.models import Category, Scope
from partners import services
from partners.models import Booking, Resource
from tests.conftest import _member
from tests.factories import ServiceFactory, StationFactory

__all__ = [
    "BASE",
    "ROLES",
    "_media",
    "atrium",
    "bank_screen",
    "book",
    "case",
    "client_for",
    "make_resource",
    "meeting_room",
    "partner_viewer",
    "pdf",
    "png",
    "proposal",
    "roles",
    "service",
    "slot",
    "station",
    "url",
]

BASE = "/api/v1/partners/"
ROLES = (
    "anonymous",
    "citizen",
    "department_viewer",
    "department_staff",
    "department_admin",
    "other_department_staff",
    "partner_admin",
    "partner_staff",
    "partner_viewer",
    "other_partner_admin",
    "superuser",
)
ALL_DAY = [(day, dt.time(8), dt.time(22)) for day in range(7)]


def url(kind: str, pk=None, action: str = "") -> str:
    path = f"{BASE}{kind}/"
    if pk is not None:
        path += f"{getattr(pk, 'pk', pk)}/"
    return path + (f"{action}/" if action else "")


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def slot(days: int = 7, hour: int = 10, hours: float = 2) -> tuple[dt.datetime, dt.datetime]:
    """A local time range ``days`` from today at ``hour`` o'clock, ``hours`` long."""
    zone = timezone.get_current_timezone()
    day = timezone.localdate() + dt.timedelta(days=days)
    start = dt.datetime.combine(day, dt.time(hour), tzinfo=zone)
    return start, start + dt.timedelta(hours=hours)


def png(size=(32, 24)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "orange").save(out, format="PNG")
    return out.getvalue()


def pdf(name="agreement.pdf", content: bytes = b"%PDF-1.4\n% signed copy\n%%EOF\n"):
    return SimpleUploadedFile(name, content, "application/pdf")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def partner_viewer(partner):
    return _member(partner, "viewer", "partner.viewer@example.com")


@pytest.fixture
def station(department, partner):
    return StationFactory(slug="mall-station", host=partner, departments=[department])


@pytest.fixture
def service(department, station):
    return ServiceFactory(department=department, service_code="HK-ID", stations=[station])


@pytest.fixture
def roles(
    citizen,
    department_viewer,
    department_staff,
    department_admin,
    other_department_staff,
    partner_admin,
    partner_staff,
    partner_viewer,
    other_partner_admin,
    superuser,
):
    return {
        "anonymous": None,
        "citizen": citizen,
        "department_viewer": department_viewer,
        "department_staff": department_staff,
        "department_admin": department_admin,
        "other_department_staff": other_department_staff,
        "partner_admin": partner_admin,
        "partner_staff": partner_staff,
        "partner_viewer": partner_viewer,
        "other_partner_admin": other_partner_admin,
        "superuser": superuser,
    }


@pytest.fixture
def make_resource(partner, partner_admin, station):
    """A resource through ``services.resource_create``, open 08:00–22:00 every day."""

    def make(*, actor=None, owner=None, rules=ALL_DAY, **data) -> Resource:
        values = {
            "kind": "space",
            "name_zh": "中庭",
            "name_en": "Atrium",
            "description_zh": "一层中庭，可举办宣传活动。",
            "station": station,
            "place_zh": "一层",
            "quantity": Decimal("200"),
            "unit": "sqm",
            "visibility": "public",
            "max_booking_minutes": 240,
        }
        values.update(data)
        resource = services.resource_create(
            actor=actor or partner_admin, partner=owner or partner, data=values
        )
        if rules:
            services.resource_set_opening_rules(
                actor=actor or partner_admin, resource=resource, windows=rules
            )
        return resource

    return make


@pytest.fixture
def atrium(make_resource):
    return make_resource()


@pytest.fixture
def meeting_room(make_resource):
    return make_resource(
        name_zh="会议室", name_en="Meeting room", visibility="stakeholders", kind="space"
    )


@pytest.fixture
def bank_screen(make_resource, other_partner, other_partner_admin):
    return make_resource(
        actor=other_partner_admin,
        owner=other_partner,
        kind="equipment",
        name_zh="大堂屏幕",
        name_en="Lobby screen",
        station=None,
        unit="items",
        quantity=Decimal("1"),
    )


@pytest.fixture
def book(atrium, department, department_staff):
    """A booking request through ``services.booking_request`` (hukou asks for the atrium
    next week unless told otherwise); ``approve_by`` approves it at once."""

    def make(
        *,
        resource=None,
        actor=None,
        requester=None,
        when=None,
        purpose="交通安全宣传",
        approve_by=None,
    ) -> Booking:
        starts_at, ends_at = when or slot()
        booking = services.booking_request(
            actor=actor or department_staff,
            resource=resource or atrium,
            requester=requester or department,
            starts_at=starts_at,
            ends_at=ends_at,
            purpose=purpose,
        )
        if approve_by is not None:
            booking = services.booking_approve(actor=approve_by, booking=booking)
        return booking

    return make


@pytest.fixture
def proposal(db, service, citizen):
    """A published proposal about a hukou service: hukou answers it (and pledges to it)."""
    from governance.proposals.services import proposal_create

    category = Category.objects.create(slug="facilities", name_zh="便民设施")
    return proposal_create(
        actor=citizen,
        title="增加自助拍照机",
        body="希望增加自助拍照机。",
        category=category,
        scope=Scope.SERVICE,
        service=service,
        publish_now=True,
    )


@pytest.fixture
def case(db, service, station, department, citizen):
    """An open, public case routed to hukou."""
    from governance.cases.services import case_open
    from tests.cases.factories import RoutingRuleFactory

    RoutingRuleFactory(service=service, responsible=department)
    return case_open(
        actor=citizen,
        title="自助机无法打印",
        description="二号自助机卡纸。",
        service=service,
        station=station,
    )


def in_the_past(moment: dt.datetime):
    """A clock for ``clock.replaying``: writes as if it were ``moment``."""
    return clock.replaying(lambda: moment)
