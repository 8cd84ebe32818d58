"""What the domain tests (services, rules, queries, notifications, tasks) pledge to, agree on
and staff, on top of ``tests/partners/conftest`` (the mall station with hukou present, mall's
atrium). Import the fixtures a module uses: ``from tests.partners.fixtures_domain import *``.

- ``proposal``: a citizen's published proposal on hukou's ID-card service (hukou answers it);
  ``answer(proposal, state)`` gives hukou's official answer; ``propose(**)`` writes more.
- ``case``: a public case on that service, hukou responsible; ``private_case``: a private one.
- ``kiosk``: mall's two self-service kiosks (equipment, not bookable by the hour).
- ``pledge(**)``, ``agreement(**)``, ``shift(start, **)``, ``training(start, **)``: rows written
  through ``partners.services``.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from governance.cases import services as case_services
from governance.cases.models import Case
from governance.proposals import services as proposal_services
from governance.proposals.models import Category, Proposal, Scope
from partners import services
from partners.models import Agreement, Pledge, Resource, TrainingSession, VolunteerShift
from tests.factories import UserFactory

__all__ = [
    "agreement",
    "answer",
    "case",
    "category",
    "kiosk",
    "pledge",
    "private_case",
    "proposal",
    "propose",
    "proposer",
    "shift",
    "training",
]


def today() -> dt.date:
    return timezone.localdate()


@pytest.fixture
def category(db):
    return Category.objects.create(slug="kiosks", name_zh="自助设备", name_en="Kiosks", order=10)


@pytest.fixture
def proposer(db):
    return UserFactory(email="proposer@example.com", display_name="林提议")


@pytest.fixture
def propose(proposer, category, service):
    """``propose(**overrides)``: a citizen's proposal on hukou's service, published at once
    (``publish_now=False`` keeps a draft)."""

    def make(**overrides) -> Proposal:
        values = {
            "actor": proposer,
            "title": "增设身份证自助办理终端",
            "body": "希望在商场一层增设自助终端，缩短排队时间。",
            "category": category,
            "scope": Scope.SERVICE,
            "service": service,
            "publish_now": True,
        }
        values.update(overrides)
        return proposal_services.proposal_create(**values)

    return make


@pytest.fixture
def proposal(propose) -> Proposal:
    return propose()


@pytest.fixture
def answer(department_staff):
    """``answer(proposal, state)``: hukou's staff publish an official answer."""

    def run(proposal: Proposal, state: str) -> Proposal:
        plan = {}
        if state == "accepted":
            plan = {"starts_on": today(), "ends_on": today() + dt.timedelta(days=180)}
        proposal_services.proposal_answer(
            actor=department_staff, proposal=proposal, state=state, text="经研究答复如下。", **plan
        )
        return Proposal.objects.get(pk=proposal.pk)

    return run


def _case(department, service, station, *, public: bool) -> Case:
    return case_services.case_open(
        actor=None,
        title="身份证窗口排队太久",
        description="周六上午排队超过一小时。",
        service=service,
        station=station,
        system=True,
        responsible=department,
        is_public=public,
    )


@pytest.fixture
def case(department, service, station) -> Case:
    """A public case on hukou's service: hukou is responsible."""
    return _case(department, service, station, public=True)


@pytest.fixture
def private_case(department, service, station) -> Case:
    return _case(department, service, station, public=False)


@pytest.fixture
def kiosk(make_resource) -> Resource:
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
def pledge(partner, partner_staff, proposal):
    """``pledge(**overrides)``: mall's staff offer 10,000 yuan to ``proposal`` (by default)."""

    def make(**overrides) -> Pledge:
        values = {
            "actor": partner_staff,
            "partner": partner,
            "proposal": proposal,
            "quantity": "10000",
            "starts_on": today(),
            "ends_on": today() + dt.timedelta(days=90),
            "note": "用于购置设备",
        }
        values.update(overrides)
        if "case" in overrides and "proposal" not in overrides:
            values["proposal"] = None
        return services.pledge_offer(**values)

    return make


@pytest.fixture
def agreement(partner, partner_admin, department, department_admin):
    """``agreement(**overrides)``: mall and hukou's memorandum, ending in a year. ``actor``
    (default mall's admin) records the draft; unless ``status="draft"``, ``activator`` (default
    hukou's admin: a department's word makes it take effect) moves it to ``status`` (active)."""

    def make(
        *, actor=None, activator=None, departments=None, status=Agreement.Status.ACTIVE, **data
    ):
        values = {
            "title_zh": "警务服务站合作备忘录",
            "title_en": "Memorandum on the police service station",
            "scope_zh": "商场提供场地、屏幕和志愿者，户政管理大队派驻窗口。",
            "starts_on": today() - dt.timedelta(days=30),
            "ends_on": today() + dt.timedelta(days=365),
        }
        owner = data.pop("partner", partner)
        values.update(data)
        made = services.agreement_create(
            actor=actor or partner_admin,
            partner=owner,
            departments=departments if departments is not None else [department],
            data=values,
        )
        if status != Agreement.Status.DRAFT:
            made = services.agreement_update(
                actor=activator or department_admin, agreement=made, data={}, status=status
            )
        return made

    return make


@pytest.fixture
def shift(partner, partner_staff, station):
    """``shift(start, **overrides)``: a volunteer's four-hour shift at the mall station."""

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
def training(partner, partner_staff, station):
    """``training(start, **overrides)``: mall's two-hour session for station staff."""

    def make(start: dt.datetime, *, actor=None, organiser=None, **data) -> TrainingSession:
        values = {
            "topic_zh": "窗口服务礼仪",
            "topic_en": "Counter etiquette",
            "trainer": "陈老师",
            "station": station,
            "location": "三楼会议室",
            "starts_at": start,
            "hours": "2",
        }
        values.update(data)
        return services.training_create(
            actor=actor or partner_staff, organiser=organiser or partner, data=values
        )

    return make
