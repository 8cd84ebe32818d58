"""A world for the panels' tests (imported by ``tests/core/test_panels.py`` and
``tests/partners/test_panels.py``), standing on its own (no ``tests/partners/conftest.py``):

- the mall station (hosted by the partner **mall**, with **hukou** present) and hukou's
  ID-card service;
- ``proposal``: a citizen's published proposal on that service (hukou answers it);
- ``case``: a public case hukou handles; ``private_case``: a private one the citizen
  reported, hukou handles and mall co-handles (so mall may read it and pledge to it);
- ``kiosk``: mall's two self-service kiosks; ``pledge(...)``: mall's staff pledge through
  ``partners.services.pledge_offer``; ``deliver(pledge)``: hukou's staff accept and confirm it.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from governance.cases import services as case_services
from governance.cases.models import Case
from governance.proposals import services as proposal_services
from governance.proposals.models import Category, Proposal, Scope
from partners import services
from partners.models import Pledge, Resource
from tests.factories import DepartmentFactory, ServiceFactory, StationFactory, UserFactory

__all__ = [
    "author",
    "case",
    "category",
    "deliver",
    "kiosk",
    "pledge",
    "private_case",
    "proposal",
    "service",
    "sign_in",
    "station",
    "triage_org",
]


def sign_in(client, request, role: str):
    """Sign ``client`` in as the fixture user of ``role`` (or nobody); returns the user."""
    if role == "anonymous":
        return AnonymousUser()
    user = request.getfixturevalue(role)
    client.force_login(user)
    return user


def today() -> dt.date:
    return timezone.localdate()


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
def category(db):
    return Category.objects.create(
        slug="facilities", name_zh="设施设备", name_en="Facilities", order=10
    )


@pytest.fixture
def triage_org(db):
    return DepartmentFactory(slug="triage", name_zh="综合受理窗口", name_en="One-stop counter")


@pytest.fixture
def author(db):
    return UserFactory(email="proposer@example.com", display_name="林提议")


@pytest.fixture
def proposal(author, category, service, triage_org) -> Proposal:
    """A citizen proposes a self-service kiosk for ID cards; hukou answers (its service)."""
    return proposal_services.proposal_create(
        actor=author,
        title="增设身份证自助办理终端",
        body="希望在商场一层增设自助终端，缩短排队时间。",
        category=category,
        scope=Scope.SERVICE,
        service=service,
        publish_now=True,
    )


@pytest.fixture
def case(department, service, station) -> Case:
    """A public case hukou handles: the queue at the ID-card counter is too long."""
    return case_services.case_open(
        actor=None,
        title="身份证窗口排队太久",
        description="周六上午排队超过一小时。",
        service=service,
        station=station,
        system=True,
        responsible=department,
    )


@pytest.fixture
def private_case(citizen, department, department_admin, partner, service, station) -> Case:
    """A private case the citizen reported, hukou handles and mall co-handles."""
    case = case_services.case_open(
        actor=citizen,
        title="母婴室门锁损坏",
        description="二楼母婴室的门锁坏了。",
        service=service,
        station=station,
        is_public=False,
        responsible=department,
        system=True,
    )
    case_services.case_add_cohandler(
        actor=department_admin, case=case, organisation=partner, task="更换门锁"
    )
    return Case.objects.get(pk=case.pk)


@pytest.fixture
def kiosk(partner, partner_admin, station) -> Resource:
    """Mall's two self-service kiosks (equipment), not bookable by the hour."""
    return services.resource_create(
        actor=partner_admin,
        partner=partner,
        data={
            "kind": "equipment",
            "name_zh": "自助服务终端",
            "name_en": "Self-service kiosk",
            "station": station,
            "place_zh": "一层大厅",
            "quantity": "2",
            "unit": "items",
            "visibility": "public",
            "bookable": False,
        },
    )


@pytest.fixture
def pledge(partner, partner_staff, kiosk):
    """``pledge(proposal=… | case=…, **overrides)``: mall's staff pledge (by default both
    kiosks for a year) through ``services.pledge_offer``."""

    def make(**overrides) -> Pledge:
        values = {
            "actor": partner_staff,
            "partner": partner,
            "resource": kiosk,
            "quantity": "2",
            "starts_on": today(),
            "ends_on": today() + dt.timedelta(days=365),
            "note": "放在一层大厅",
        }
        values.update(overrides)
        return services.pledge_offer(**values)

    return make


@pytest.fixture
def deliver(department_staff):
    """``deliver(pledge)``: hukou's staff accept it and confirm its delivery."""

    def run(pledge: Pledge) -> Pledge:
        services.pledge_accept(actor=department_staff, pledge=pledge)
        return services.pledge_deliver(actor=department_staff, pledge=pledge)

    return run
