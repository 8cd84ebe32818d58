"""A small world for the proposals tests: the mall station (hosted by the partner **mall**) with
the household administration (**hukou**) present, a hukou service offered there, a traffic
service at no station, two proposal categories, and the platform's triage desk with one
acting member.

Proposals, supports, comments and answers are made through ``governance.proposals.services``
so every test exercises the real path. The people of ``tests/conftest.py`` play the roles:
``citizen`` writes the proposals, ``department_*`` sit in hukou (which answers a proposal on
its service), ``other_department_staff`` in traffic, ``partner_*`` in the mall; ``other_citizen``
and ``people(n)`` are further members of the public.

Helpers other test modules import: :func:`fresh` (a user read again, without cached seats),
:func:`shifted` (the services' clock moved by a timedelta), :func:`notified` (who was told of an
event) and :func:`png` (a small PNG upload).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from governance.core import clock
from governance.notifications.models import Notification
from governance.proposals import services
from governance.proposals.models import Category, Proposal, Scope
from governance.stakeholders.models import User
from tests.cases.factories import RoutingRuleFactory
from tests.conftest import _member
from tests.factories import DepartmentFactory, ServiceFactory, StationFactory, UserFactory

PLAN_START = dt.date(2031, 3, 1)
PLAN_END = dt.date(2031, 6, 30)


# Helpers -----------------------------------------------------------------------------------------
def fresh(user):
    """``user`` read again, so the seats the rules cache on a user object are current."""
    if user is None or not getattr(user, "is_authenticated", False):
        return AnonymousUser()
    return User.objects.get(pk=user.pk)


@contextmanager
def shifted(delta: dt.timedelta) -> Iterator[dt.datetime]:
    """Inside the block the services' clock runs ``delta`` ahead of the wall clock; yields
    the shifted "now" at entry."""
    with clock.replaying(lambda: timezone.now() + delta):
        yield timezone.now() + delta


def notified(code: str, proposal: Proposal | int | None = None) -> set[int]:
    """Ids of the people told of ``proposals.<code>`` (about ``proposal``, if given)."""
    qs = Notification.objects.filter(event_type=f"proposals.{code}")
    if proposal is not None:
        pk = proposal if isinstance(proposal, int) else proposal.pk
        qs = qs.filter(payload__proposal_id=pk)
    return set(qs.values_list("recipient_id", flat=True))


def notifications(code: str, proposal: Proposal | int | None = None) -> int:
    """How many notifications of ``proposals.<code>`` were written (one per recipient)."""
    qs = Notification.objects.filter(event_type=f"proposals.{code}")
    if proposal is not None:
        pk = proposal if isinstance(proposal, int) else proposal.pk
        qs = qs.filter(payload__proposal_id=pk)
    return qs.count()


def png(name: str = "photo.png", size: tuple[int, int] = (8, 8)) -> SimpleUploadedFile:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


# The world ---------------------------------------------------------------------------------------
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
def category(db):
    return Category.objects.create(
        slug="opening-hours", name_zh="开放时间", name_en="Opening hours", order=10
    )


@pytest.fixture
def other_category(db):
    return Category.objects.create(
        slug="facilities", name_zh="设施设备", name_en="Facilities", order=20
    )


@pytest.fixture
def triage_org(db):
    return DepartmentFactory(slug="triage", name_zh="综合受理窗口", name_en="One-stop counter")


@pytest.fixture
def triager(triage_org):
    return _member(triage_org, "staff", "triager@example.com")


@pytest.fixture
def station_rule(station, partner):
    """The cases' routing rule for the station: the mall answers for its premises."""
    return RoutingRuleFactory(name_zh="商场站点", station=station, responsible=partner)


@pytest.fixture
def other_citizen(db):
    return UserFactory(email="other.citizen@example.com")


@pytest.fixture
def people(db):
    """``people(n)``: n more members of the public, with no seat anywhere."""

    def make(n: int, prefix: str = "person") -> list[User]:
        start = User.objects.count()
        return [UserFactory(email=f"{prefix}{start + i}@example.com") for i in range(n)]

    return make


# Proposals ---------------------------------------------------------------------------------------
@pytest.fixture
def propose(citizen, category, service):
    """Write a proposal through ``services.proposal_create``; by default the citizen proposes
    longer weekend hours for the hukou service and publishes at once (``publish=False`` keeps
    a draft)."""

    def make(*, publish: bool = True, **overrides) -> Proposal:
        values = {
            "actor": citizen,
            "title": "周末延长开放时间",
            "body": "希望**周末**也能办理身份证，开放时间延长到晚上八点。",
            "category": category,
            "scope": Scope.SERVICE,
            "service": service,
        }
        values.update(overrides)
        if values["scope"] != Scope.SERVICE and "service" not in overrides:
            values["service"] = None
        return services.proposal_create(publish_now=publish, **values)

    return make


@pytest.fixture
def draft(propose):
    return propose(publish=False)


@pytest.fixture
def proposal(propose):
    """Published by the citizen on the hukou service: hukou answers it."""
    return propose()


@pytest.fixture
def support(people):
    """``support(proposal, n)``: n new people support it; returns them."""

    def make(proposal: Proposal, n: int = 1) -> list[User]:
        supporters = people(n, prefix="supporter")
        for user in supporters:
            services.proposal_support(actor=user, proposal=proposal)
        return supporters

    return make


@pytest.fixture
def answer(department_staff):
    """``answer(proposal, state, **plan)``: hukou's staff publish an official answer."""

    def make(proposal: Proposal, state: str = "accepted", **kwargs):
        if state == "accepted":
            kwargs.setdefault("starts_on", PLAN_START)
            kwargs.setdefault("ends_on", PLAN_END)
            kwargs.setdefault("cost", "12000.00")
        kwargs.setdefault("text", "经研究，同意采纳。")
        return services.proposal_answer(
            actor=kwargs.pop("actor", department_staff), proposal=proposal, state=state, **kwargs
        )

    return make


@pytest.fixture
def accepted(proposal, answer):
    """The citizen's proposal, accepted by hukou with a plan (it has a result)."""
    answer(proposal, "accepted")
    proposal.refresh_from_db()
    return proposal
