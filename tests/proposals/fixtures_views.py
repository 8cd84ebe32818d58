"""A small world for the proposal pages' tests (imported by the ``test_views*.py`` modules).

The mall station (hosted by the partner **mall**) with the household administration
(**hukou**) present and one hukou service: a proposal about that service is hukou's to
answer. The platform's triage desk has one member of staff. Proposals, supports, comments and
answers are written through ``services``, so every page is tested on rows the real path made.

Roles (:data:`ROLES`): ``anonymous``; ``author`` (writes the proposals); ``citizen`` and
``other_citizen`` (people with no seat); ``partner_staff`` (the mall);
``other_department_staff`` (traffic); ``department_viewer``, ``department_staff`` and
``department_admin`` (hukou, which answers); ``triager`` (the triage desk); ``superuser``.
"""

from __future__ import annotations

import datetime as dt
import io
from contextlib import contextmanager

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from governance.core import clock
from governance.proposals import services
from governance.proposals.models import Category, Proposal, Scope
from governance.stakeholders.models import User
from tests.conftest import _member
from tests.factories import DepartmentFactory, ServiceFactory, StationFactory, UserFactory

__all__ = [
    "MODERATORS",
    "PLAN_END",
    "PLAN_START",
    "ROLES",
    "ROUTERS",
    "STAFF",
    "_media",
    "accept",
    "act_url",
    "author",
    "category",
    "detail_url",
    "fresh",
    "other_citizen",
    "png",
    "propose",
    "published",
    "service",
    "sign_in",
    "station",
    "triage_org",
    "triager",
    "when_past",
]

ROLES = (
    "anonymous",
    "citizen",
    "other_citizen",
    "author",
    "partner_staff",
    "other_department_staff",
    "department_viewer",
    "department_staff",
    "department_admin",
    "triager",
    "superuser",
)
# The responsible department's acting staff (they answer and run the implementation).
STAFF = frozenset({"department_staff", "department_admin"})
# Those who hide comments: the department, the triage desk and superusers.
MODERATORS = STAFF | {"triager", "superuser"}
ROUTERS = frozenset({"triager", "superuser"})

PLAN_START = dt.date(2031, 3, 1)
PLAN_END = dt.date(2031, 6, 30)


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


def detail_url(proposal: Proposal) -> str:
    return reverse("proposals:detail", args=[proposal.pk])


def act_url(proposal: Proposal, action: str) -> str:
    return reverse("proposals:act", args=[proposal.pk, action])


@contextmanager
def when_past(minutes: int):
    """Inside the block the services' clock reads ``minutes`` ago: what is published there
    was published that long before now (outside its edit window, for a long enough span)."""
    with clock.replaying(lambda: timezone.now() - dt.timedelta(minutes=minutes)):
        yield


def png(name: str = "photo.png", size: tuple[int, int] = (8, 8)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


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
def category(db):
    return Category.objects.create(
        slug="opening-hours", name_zh="开放时间", name_en="Opening hours", order=10
    )


@pytest.fixture
def triage_org(db):
    return DepartmentFactory(slug="triage", name_zh="综合受理窗口", name_en="One-stop counter")


@pytest.fixture
def triager(triage_org):
    return _member(triage_org, "staff", "triager@example.com")


@pytest.fixture
def author(db):
    return UserFactory(email="author@example.com", display_name="林提议")


@pytest.fixture
def other_citizen(db):
    return UserFactory(email="other.citizen@example.com", display_name="赵市民")


@pytest.fixture
def propose(author, category, service, triage_org):
    """Write a proposal through ``services.proposal_create``: by default the author proposes
    longer weekend hours for the hukou service and publishes at once."""

    def make(*, publish: bool = True, **overrides) -> Proposal:
        values = {
            "actor": author,
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
def published(propose):
    """The author's proposal on the hukou service, published: hukou answers it."""
    return propose()


@pytest.fixture
def accept(department_staff):
    """``accept(proposal)``: hukou's staff publish an accepted answer with a plan."""

    def make(proposal: Proposal, **kwargs):
        kwargs.setdefault("state", "accepted")
        kwargs.setdefault("text", "经研究，同意采纳。")
        if kwargs["state"] == "accepted":
            kwargs.setdefault("starts_on", PLAN_START)
            kwargs.setdefault("ends_on", PLAN_END)
            kwargs.setdefault("cost", "12000.00")
        services.proposal_answer(actor=department_staff, proposal=proposal, **kwargs)
        return Proposal.objects.get(pk=proposal.pk)

    return make
