"""A small world for the proposals API tests (imported by the ``test_api*.py`` modules).

The mall station (hosted by the partner **mall**) with the household administration (**hukou**)
present; a hukou service (a proposal about it is hukou's to answer); the triage desk with one
member of staff; two categories. Proposals, supports, comments and answers are written
through ``services``, so every test exercises the real path.

Roles: ``anonymous``, ``author`` (writes the proposals), ``citizen`` and ``other_citizen``
(signed-in people), ``partner_staff`` (the mall), ``other_department_staff`` (traffic),
``department_viewer``/``department_staff``/``department_admin`` (hukou, which answers),
``triager`` (the triage desk) and ``superuser``.
"""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from governance.proposals import services
from governance.proposals.models import Category, Proposal, Scope
from tests.conftest import _member
from tests.factories import DepartmentFactory, ServiceFactory, StationFactory, UserFactory

__all__ = [
    "PROPOSALS",
    "ROLES",
    "_media",
    "author",
    "category",
    "client_for",
    "draft",
    "other_category",
    "other_citizen",
    "png",
    "propose",
    "published",
    "roles",
    "service",
    "station",
    "triage_org",
    "triager",
    "upload",
    "url",
]

PROPOSALS = "/api/v1/proposals/"
ROLES = (
    "anonymous",
    "author",
    "citizen",
    "other_citizen",
    "partner_staff",
    "other_department_staff",
    "department_viewer",
    "department_staff",
    "department_admin",
    "triager",
    "superuser",
)


def url(proposal, action: str = "") -> str:
    pk = proposal.pk if isinstance(proposal, Proposal) else proposal
    return f"{PROPOSALS}{pk}/" + (f"{action}/" if action else "")


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def png(size=(32, 24)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "orange").save(out, format="PNG")
    return out.getvalue()


def upload(name="photo.png", content: bytes | None = None, content_type="image/png"):
    return SimpleUploadedFile(name, png() if content is None else content, content_type)


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
def category(db):
    return Category.objects.create(slug="hours", name_zh="开放时间", name_en="Opening hours")


@pytest.fixture
def other_category(db):
    return Category.objects.create(slug="facilities", name_zh="便民设施", name_en="Facilities")


@pytest.fixture
def triage_org(db):
    return DepartmentFactory(slug="triage", name_zh="综合受理窗口", name_en="One-stop counter")


@pytest.fixture
def triager(triage_org):
    return _member(triage_org, "staff", "triager@example.com")


@pytest.fixture
def author(db):
    return UserFactory(email="author@example.com", display_name="李建议")


@pytest.fixture
def other_citizen(db):
    return UserFactory(email="other.citizen@example.com")


@pytest.fixture
def roles(
    author,
    citizen,
    other_citizen,
    partner_staff,
    other_department_staff,
    department_viewer,
    department_staff,
    department_admin,
    triager,
    superuser,
):
    return {
        "anonymous": None,
        "author": author,
        "citizen": citizen,
        "other_citizen": other_citizen,
        "partner_staff": partner_staff,
        "other_department_staff": other_department_staff,
        "department_viewer": department_viewer,
        "department_staff": department_staff,
        "department_admin": department_admin,
        "triager": triager,
        "superuser": superuser,
    }


@pytest.fixture
def propose(author, category, service, station, triage_org):
    """A proposal through ``services.proposal_create``: by default the author's, about the
    hukou service (hukou answers it), published."""

    def make(*, publish: bool = True, **overrides):
        values = {
            "actor": author,
            "title": "周末延长开放时间",
            "body": "希望**周末**也能办理身份证业务。",
            "category": category,
            "scope": Scope.SERVICE,
            "station": station,
            "service": service,
        }
        values.update(overrides)
        return services.proposal_create(publish_now=publish, **values)

    return make


@pytest.fixture
def published(propose):
    return propose()


@pytest.fixture
def draft(propose):
    return propose(publish=False, title="草稿：增加自助拍照机")
