"""The partners API in the OpenAPI schema, and fuzzed against it.

The schema generates without a warning (the names of its components and enums are
unambiguous), is valid, and documents every partners endpoint with the errors it gives.
schemathesis then sends generated requests (valid and invalid ones) to every
``/api/v1/partners/`` operation, anonymously and with a partner admin's token, against a small
real world whose rows sit at id 0 (where generated ids land): no answer is a 5xx, every
status and body is the documented one, and invalid input is refused. The seed is fixed and
the examples bounded, so a run is repeatable.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import schemathesis
from django.utils import timezone
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token

from governance.wsgi import application

pytestmark = pytest.mark.django_db

PREFIX = "/api/v1/partners/"
COLLECTIONS = ("resources", "bookings", "pledges", "agreements", "shifts", "trainings")
EXAMPLES = 15
# Filters and body fields that name rows (slugs, references) answer an unknown one with 400, by
# design; the fuzzer's "schema-valid request rejected" check would call that a failure.
EXCLUDED = [schemathesis.checks.positive_data_acceptance]


@pytest.fixture
def paths(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()["paths"]


def responses(paths, path: str, method: str) -> set[str]:
    return set(paths[path][method]["responses"])


def test_the_schema_generates_without_warnings_and_is_valid():
    GENERATOR_STATS.reset()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    warnings = sorted(GENERATOR_STATS._warn_cache) + sorted(GENERATOR_STATS._error_cache)
    GENERATOR_STATS.reset()

    assert warnings == []
    validate_schema(schema)
    components = schema["components"]["schemas"]
    assert set(components["BookingStatusEnum"]["enum"]) == {
        "requested",
        "approved",
        "declined",
        "cancelled",
    }
    assert set(components["PledgeStatusEnum"]["enum"]) == {
        "offered",
        "accepted",
        "declined",
        "delivered",
        "withdrawn",
    }
    assert "overlap" in components["BookingConflictCodeEnum"]["enum"]


def test_the_schema_documents_every_partners_endpoint_and_its_errors(paths):
    for collection in COLLECTIONS:
        listing, item = f"{PREFIX}{collection}/", f"{PREFIX}{collection}/{{id}}/"
        assert {"get", "post"} <= set(paths[listing]), collection
        assert "get" in paths[item]
        assert "delete" not in paths[item]
        assert "put" not in paths[item]
        assert responses(paths, listing, "get") >= {"200", "400", "404"}
        assert responses(paths, listing, "post") >= {"201", "400", "401", "403"}
        assert responses(paths, item, "get") >= {"200", "404"}
    for collection in ("resources", "agreements", "shifts", "trainings"):
        item = f"{PREFIX}{collection}/{{id}}/"
        assert responses(paths, item, "patch") >= {"200", "400", "401", "403", "404"}
        assert set(paths[item]["patch"]["requestBody"]["content"]) == {"application/json"}
    assert "patch" not in paths[f"{PREFIX}bookings/{{id}}/"]
    assert "patch" not in paths[f"{PREFIX}pledges/{{id}}/"]

    booking = f"{PREFIX}bookings/{{id}}/"
    assert responses(paths, f"{PREFIX}bookings/", "post") >= {"409"}
    for action in ("approve", "decline", "cancel"):
        assert responses(paths, f"{booking}{action}/", "post") >= {
            "200",
            "400",
            "401",
            "403",
            "404",
            "409",
        }
    for action in ("accept", "decline", "deliver", "withdraw"):
        assert responses(paths, f"{PREFIX}pledges/{{id}}/{action}/", "post") >= {
            "200",
            "401",
            "403",
            "404",
            "409",
        }
    resource = f"{PREFIX}resources/{{id}}/"
    assert responses(paths, f"{resource}availability/", "get") >= {"200", "400", "404"}
    assert {"get", "put"} <= set(paths[f"{resource}opening-rules/"])
    assert responses(paths, f"{resource}opening-rules/", "put") >= {"200", "400", "403", "404"}
    assert (
        "image/png"
        in paths[f"{resource}photos/{{photo_id}}/"]["get"]["responses"]["200"]["content"]
    )
    agreement = f"{PREFIX}agreements/{{id}}/"
    assert responses(paths, agreement, "patch") >= {"409"}  # in force: only terminated
    assert set(paths[f"{agreement}documents/"]["post"]["requestBody"]["content"]) == {
        "multipart/form-data"
    }
    assert responses(paths, f"{agreement}documents/", "post") >= {"201", "400", "403", "413"}
    document = paths[f"{agreement}documents/{{document_id}}/"]["get"]["responses"]["200"]
    assert set(document["content"]) == {"application/pdf"}
    assert {"get", "put"} <= set(paths[f"{PREFIX}trainings/{{id}}/attendance/"])


def test_the_schema_documents_the_lists_filters(paths):
    def names(collection: str) -> set[str]:
        return {p["name"] for p in paths[f"{PREFIX}{collection}/"]["get"]["parameters"]}

    assert names("resources") >= {"q", "kind", "station", "partner", "visibility", "active"}
    assert names("bookings") >= {
        "resource",
        "status",
        "direction",
        "requester",
        "date_from",
        "date_to",
        "ordering",
        "page",
        "page_size",
    }
    assert names("pledges") >= {"status", "partner", "proposal", "case", "resource"}
    assert names("agreements") >= {"status", "partner", "department", "ends_before"}
    assert names("shifts") >= {"partner", "station", "status", "date_from", "date_to"}
    assert names("trainings") >= {"organiser", "station", "date_from", "date_to"}
    week = paths[f"{PREFIX}resources/{{id}}/availability/"]["get"]["parameters"]
    assert "week" in {parameter["name"] for parameter in week}


def test_a_409_names_its_reason_and_the_booking_in_the_way_in_the_schema(client):
    schema = client.get("/api/schema/?format=json").json()
    conflict = schema["paths"][f"{PREFIX}bookings/{{id}}/approve/"]["post"]["responses"]["409"]
    reference = conflict["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    properties = schema["components"]["schemas"][reference]["properties"]
    assert {"detail", "code", "conflicting_booking"} <= set(properties)


# Fuzzing ----------------------------------------------------------------------------------------
@pytest.fixture
def wsgi_in_test_transaction():
    """Requests go straight to the WSGI handler, which closes the database connection when a
    request ends; inside a test's transaction that would close it under the test."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _renumber(model, row, *pointing) -> None:
    """Move ``row`` to id 0, where generated ids land; ``pointing``: (model, column) of the
    rows that refer to it, moved along (the foreign keys are checked at commit)."""
    for other, column in pointing:
        other.objects.filter(**{column: row.pk}).update(**{column: 0})
    model.objects.filter(pk=row.pk).update(id=0)


@pytest.fixture
def partners_world(db, monkeypatch, wsgi_in_test_transaction):
    """The mall (admin: the token's user) with a resource, a booking, a pledge, an agreement
    with a PDF, a shift and a training session, each at id 0; hukou asks and answers."""
    from rest_framework.throttling import SimpleRateThrottle

    from governance.cases.services import case_open
    from governance.proposals.models import Category, Scope
    from governance.proposals.services import proposal_create
    from partners import services
    from partners.models import (
        Agreement,
        AgreementDocument,
        Booking,
        Pledge,
        Resource,
        TrainingSession,
    )
    from partners.models import VolunteerShift as Shift
    from tests.cases.factories import RoutingRuleFactory
    from tests.conftest import _member
    from tests.factories import DepartmentFactory, PartnerFactory, ServiceFactory, StationFactory
    from tests.partners.fixtures_api import pdf

    monkeypatch.setattr(
        SimpleRateThrottle,
        "THROTTLE_RATES",
        dict.fromkeys(SimpleRateThrottle.THROTTLE_RATES, "100000/min"),
    )
    hukou = DepartmentFactory(slug="hukou")
    mall = PartnerFactory(slug="mall")
    PartnerFactory(slug="a")
    station = StationFactory(slug="a", host=mall, departments=[hukou])
    service = ServiceFactory(service_code="A1", department=hukou, stations=[station])
    admin = _member(mall, "admin", "mall.admin@example.com")
    staff = _member(hukou, "staff", "hukou.staff@example.com")
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(timezone.localdate() + dt.timedelta(days=3), dt.time(10), zone)

    resource = services.resource_create(
        actor=admin,
        partner=mall,
        data={"kind": "space", "name_zh": "中庭", "quantity": Decimal("200"), "unit": "sqm"},
    )
    _renumber(Resource, resource)
    resource = Resource.objects.get(pk=0)
    services.resource_set_opening_rules(
        actor=admin, resource=resource, windows=[(day, dt.time(8), dt.time(22)) for day in range(7)]
    )
    booking = services.booking_request(
        actor=staff,
        resource=resource,
        requester=hukou,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        purpose="宣传",
    )
    _renumber(Booking, booking)
    category = Category.objects.create(slug="a", name_zh="便民设施")
    proposal = proposal_create(
        actor=staff,
        title="增加座椅",
        body="希望增加座椅。",
        category=category,
        scope=Scope.SERVICE,
        service=service,
        publish_now=True,
    )
    RoutingRuleFactory(service=service, responsible=hukou)
    case_open(
        actor=None, title="自助机故障", description="无法打印。", service=service, station=station
    )
    pledge = services.pledge_offer(
        actor=admin,
        partner=mall,
        quantity=Decimal("10"),
        starts_on=start.date(),
        ends_on=start.date() + dt.timedelta(days=30),
        proposal=proposal,
        resource=resource,
    )
    _renumber(Pledge, pledge)
    agreement = services.agreement_create(
        actor=admin,
        partner=mall,
        departments=[hukou],
        data={
            "title_zh": "共建协议",
            "scope_zh": "场地与志愿者",
            "starts_on": start.date(),
            "ends_on": start.date() + dt.timedelta(days=365),
        },
    )
    document = services.agreement_attach(
        actor=admin, agreement=agreement, upload=pdf(), title="签字版"
    )
    _renumber(
        Agreement,
        agreement,
        (Agreement.departments.through, "agreement_id"),
        (AgreementDocument, "agreement_id"),
    )
    _renumber(AgreementDocument, document)
    shift = services.shift_create(
        actor=admin,
        partner=mall,
        data={
            "station": station,
            "volunteer": "王小明",
            "role": "引导员",
            "starts_at": start,
            "ends_at": start + dt.timedelta(hours=3),
        },
    )
    _renumber(Shift, shift)
    session = services.training_create(
        actor=admin,
        organiser=mall,
        data={"topic_zh": "礼仪培训", "trainer": "周老师", "starts_at": start, "hours": 2},
    )
    _renumber(TrainingSession, session)
    return {"token": Token.objects.create(user=admin).key}


# Loaded at collection: building the schema reads no rows.
schema = schemathesis.openapi.from_wsgi("/api/schema/", application).include(
    path_regex=r"^/api/v1/partners/"
)
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,  # a fixed seed: the same examples every run
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)


@schema.parametrize()
@FUZZ_SETTINGS
def test_partners_api_anonymous(case, partners_world):
    case.call_and_validate(excluded_checks=EXCLUDED)


@schema.parametrize()
@FUZZ_SETTINGS
def test_partners_api_as_a_partner_admin(case, partners_world):
    case.call_and_validate(
        headers={"Authorization": f"Token {partners_world['token']}"}, excluded_checks=EXCLUDED
    )
