"""A world for the portal pages' tests (imported by ``test_views_pledges.py``,
``test_views_agreements.py`` and ``test_views_people.py``), on top of ``tests/partners/conftest``
(the mall station with hukou present, mall's atrium, ``make_resource``).

- A citizen's proposal about hukou's ID-card service (hukou answers it: ``proposal``), accepted
  with a plan (``accepted_proposal``), and a public case handled by hukou (``case``).
- Mall's kiosk (``kiosk``: equipment, two items) to pledge.
- ``make_pledge``, ``make_agreement``, ``make_shift``, ``make_training``: rows written through
  ``partners.services`` (and the proposals and cases services), so every page is tested on
  rows the real path made.

Roles (:data:`ROLES`): ``anonymous``, ``citizen``, ``department_viewer``/``_staff``/``_admin``
(hukou), ``other_department_staff`` (traffic), ``partner_staff``/``partner_admin`` (mall),
``other_partner_admin`` (bank) and ``superuser``.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from governance.cases import services as case_services
from governance.proposals import services as proposal_services
from governance.proposals.models import Category, Proposal, Scope
from partners import services
from partners.models import Agreement, Pledge, Resource, TrainingSession, VolunteerShift
from tests.factories import DepartmentFactory, UserFactory

__all__ = [
    "ROLES",
    "accepted_proposal",
    "case",
    "category",
    "kiosk",
    "make_agreement",
    "make_pledge",
    "make_shift",
    "make_training",
    "next_year",
    "proposal",
    "sign_in",
    "today",
    "triage_org",
]

ROLES = (
    "anonymous",
    "citizen",
    "department_viewer",
    "department_staff",
    "department_admin",
    "other_department_staff",
    "partner_staff",
    "partner_admin",
    "other_partner_admin",
    "superuser",
)


def sign_in(client, request, role: str):
    """Sign ``client`` in as the fixture user of ``role`` (or nobody); returns the user."""
    if role == "anonymous":
        return AnonymousUser()
    user = request.getfixturevalue(role)
    client.force_login(user)
    return user


def today() -> dt.date:
    return timezone.localdate()


def next_year() -> dt.date:
    return today() + dt.timedelta(days=365)


@pytest.fixture
def category(db):
    return Category.objects.create(
        slug="facilities", name_zh="设施设备", name_en="Facilities", order=10
    )


@pytest.fixture
def triage_org(db):
    return DepartmentFactory(slug="triage", name_zh="综合受理窗口", name_en="One-stop counter")


@pytest.fixture
def proposal(category, service, triage_org) -> Proposal:
    """A citizen proposes a self-service kiosk for ID cards; hukou answers (its service)."""
    author = UserFactory(email="proposer@example.com", display_name="林提议")
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
def accepted_proposal(proposal, department_staff) -> Proposal:
    proposal_services.proposal_answer(
        actor=department_staff,
        proposal=proposal,
        state="accepted",
        text="同意采纳，年内落实。",
        starts_on=today(),
        ends_on=next_year(),
        cost="50000.00",
    )
    return Proposal.objects.get(pk=proposal.pk)


@pytest.fixture
def case(department, service, station):
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
def kiosk(make_resource) -> Resource:
    """Mall's two self-service kiosks (equipment), not bookable by the hour."""
    return make_resource(
        kind="equipment",
        name_zh="自助服务终端",
        name_en="Self-service kiosk",
        quantity="2",
        unit="items",
        bookable=False,
        windows=(),
    )


@pytest.fixture
def make_pledge(partner, partner_staff):
    """``make_pledge(**overrides)``: mall's staff pledge (by default 10,000 yuan to the given
    ``proposal`` or ``case``) through ``services.pledge_offer``."""

    def make(**overrides) -> Pledge:
        values = {
            "actor": partner_staff,
            "partner": partner,
            "quantity": "10000",
            "starts_on": today(),
            "ends_on": next_year(),
            "note": "用于购置设备",
        }
        values.update(overrides)
        return services.pledge_offer(**values)

    return make


@pytest.fixture
def make_agreement(partner, partner_admin, department, department_admin):
    """``make_agreement(**overrides)``: mall and hukou's memorandum (a year long), recorded by
    mall's admin through ``services.agreement_create`` and put into effect by hukou's admin (an
    agreement takes effect on a department admin's word, never on the partner's alone)."""

    def make(*, actor=None, departments=None, status=Agreement.Status.ACTIVE, **data):
        values = {
            "title_zh": "警务服务站合作备忘录",
            "title_en": "Memorandum on the police service station",
            "scope_zh": "商场提供场地、屏幕和志愿者，户政管理大队派驻窗口。",
            "scope_en": "",
            "starts_on": today() - dt.timedelta(days=30),
            "ends_on": next_year(),
        }
        owner = data.pop("partner", partner)
        values.update(data)
        agreement = services.agreement_create(
            actor=actor or partner_admin,
            partner=owner,
            departments=departments or [department],
            data=values,
        )
        steps = {
            Agreement.Status.DRAFT: [],
            Agreement.Status.ACTIVE: [Agreement.Status.ACTIVE],
            Agreement.Status.TERMINATED: [Agreement.Status.ACTIVE, Agreement.Status.TERMINATED],
        }[status]
        for step in steps:
            agreement = services.agreement_update(
                actor=department_admin, agreement=agreement, data={}, status=step
            )
        return agreement

    return make


@pytest.fixture
def make_shift(partner, partner_staff, station):
    """``make_shift(start, **overrides)``: a volunteer's four-hour shift at the mall station."""

    def make(start: dt.datetime, *, actor=None, owner=None, **data) -> VolunteerShift:
        values = {
            "station": station,
            "volunteer": "王志愿",
            "role": "引导",
            "starts_at": start,
            "ends_at": start + dt.timedelta(hours=4),
        }
        values.update(data)
        return services.shift_create(
            actor=actor or partner_staff, partner=owner or partner, data=values
        )

    return make


@pytest.fixture
def make_training(partner, partner_staff, station):
    """``make_training(start, **overrides)``: mall's two-hour session for station staff."""

    def make(start: dt.datetime, *, actor=None, organiser=None, **data) -> TrainingSession:
        values = {
            "topic_zh": "窗口服务礼仪",
            "topic_en": "Counter etiquette",
            "trainer": "陈老师",
            "station": station,
            "location": "三楼会议室",
            "starts_at": start,
            "hours": "2",
            "description": "",
        }
        values.update(data)
        return services.training_create(
            actor=actor or partner_staff, organiser=organiser or partner, data=values
        )

    return make
