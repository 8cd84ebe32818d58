"""A small world for the cases tests: the mall station with the household administration
(hukou) present, one of its services routed to it by a rule, a facility category routed to
the mall, and the triage desk with one triager.

Cases are opened through ``services.case_open`` so every test exercises the real path.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from governance.cases import services
from governance.cases.models import Status
from tests.cases.factories import CategoryFactory, RoutingRuleFactory
from tests.conftest import _member
from tests.factories import DepartmentFactory, ServiceFactory, StationFactory

TZ = ZoneInfo("Asia/Shanghai")


def at(year, month, day, hour=10, minute=0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=TZ)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def station(department, partner):
    return StationFactory(slug="mall-station", host=partner, departments=[department])


@pytest.fixture
def service(department, station):
    return ServiceFactory(department=department, service_code="HK-ID", stations=[station])


@pytest.fixture
def other_service(other_department):
    return ServiceFactory(department=other_department, service_code="TR-FINE")


@pytest.fixture
def facility():
    return CategoryFactory(slug="facility", name_zh="设施问题", name_en="Facilities")


@pytest.fixture
def lost_item():
    return CategoryFactory(slug="lost-item", name_zh="失物", name_en="Lost items")


@pytest.fixture
def rules_(department, partner, service, facility):
    """Hukou handles its service; the mall handles facility problems."""
    return {
        "service": RoutingRuleFactory(
            name_zh="户籍业务",
            name_en="Household services",
            service=service,
            responsible=department,
        ),
        "facility": RoutingRuleFactory(
            name_zh="商场设施", name_en="Mall facilities", category=facility, responsible=partner
        ),
    }


@pytest.fixture
def triage_org(db):
    return DepartmentFactory(slug="triage", name_zh="综合受理窗口", name_en="One-stop counter")


@pytest.fixture
def triager(triage_org):
    return _member(triage_org, "staff", "triager@example.com")


@pytest.fixture
def triage_admin(triage_org):
    return _member(triage_org, "admin", "triage.admin@example.com")


@pytest.fixture
def open_case(citizen, service, station, rules_):
    """Open a case through the service; defaults: the citizen reports on the hukou service."""

    def make(**overrides):
        values = {
            "actor": citizen,
            "title": "身份证照片不清晰",
            "description": "自助机拍的照片模糊，需要重拍。",
            "service": service,
            "station": station,
            "opened_at": None,
        }
        values.update(overrides)
        return services.case_open(**values)

    return make


def drive(case, status, *, actor, original=None, at_=None):
    """Take ``case`` from new to ``status`` the way people would."""
    paths = {
        Status.NEW: [],
        Status.ACKNOWLEDGED: [Status.ACKNOWLEDGED],
        Status.IN_PROGRESS: [Status.ACKNOWLEDGED, Status.IN_PROGRESS],
        Status.RESOLVED: [Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.RESOLVED],
        Status.CLOSED: [Status.ACKNOWLEDGED, Status.RESOLVED, Status.CLOSED],
        Status.REOPENED: [Status.ACKNOWLEDGED, Status.RESOLVED, Status.REOPENED],
        Status.REJECTED: [Status.REJECTED],
        Status.DUPLICATE: [Status.DUPLICATE],
    }
    for step in paths[status]:
        case = services.case_transition(
            actor=actor,
            case=case,
            to=step,
            reason="不属于本平台受理范围" if step == Status.REJECTED else "",
            duplicate_of=original if step == Status.DUPLICATE else None,
            at=at_,
        )
    return case
