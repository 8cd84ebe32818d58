"""Property-based fuzzing of every API operation against the project's own OpenAPI schema.

schemathesis generates requests from ``/api/schema/`` (valid and invalid ones), sends them
through the WSGI application against the test database, and checks that no answer is a 5xx,
that every status code is documented, that bodies and headers conform to the schema, and that
invalid input is refused. The seed is fixed and the number of examples bounded, so a CI run
is repeatable; a failure prints the request that reproduces it (as a curl command).

Later issues' endpoints are picked up from the schema without changes here; give them data
in ``fuzz_data`` so the fuzzer reaches more than the 404 branch.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token

from governance.wsgi import application
from tests.factories import (
    DepartmentFactory,
    PartnerFactory,
    ServiceFactory,
    StationFactory,
    UserFactory,
)

EXAMPLES = 30
# Filters that name rows (department, station, host slugs) answer an unknown slug with 400,
# by design; the fuzzer's "schema-valid request rejected" check would call that a failure.
EXCLUDED = [schemathesis.checks.positive_data_acceptance]


@pytest.fixture
def wsgi_in_test_transaction():
    """Requests go straight to the WSGI handler, which closes the database connection when a
    request ends; inside a test's transaction that would close it under the test. Django's
    test client unhooks the same handler for the same reason."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_data(db, monkeypatch, wsgi_in_test_transaction):
    """A small real catalogue, so generated slugs and codes sometimes hit rows."""
    from rest_framework.throttling import SimpleRateThrottle

    # One test sends more requests than the anonymous rate allows; throttling has its own tests.
    monkeypatch.setattr(
        SimpleRateThrottle,
        "THROTTLE_RATES",
        dict.fromkeys(SimpleRateThrottle.THROTTLE_RATES, "100000/min"),
    )
    hukou = DepartmentFactory(slug="hukou")
    mall = PartnerFactory(slug="mall")
    station = StationFactory(slug="mixc", host=mall, departments=[hukou])
    renew = ServiceFactory(service_code="HK-ID-RENEW", department=hukou, stations=[station])
    ServiceFactory(service_code="A1", department=hukou)
    from governance.kpis.models import Indicator

    for code in ("visits", "a", "0"):
        Indicator.objects.create(
            code=code, kind="metric", metric="stations.visits", name_zh="办件量"
        ).owners.set([hukou])
    user = UserFactory(email="fuzzer@example.com")
    # Cases under short references the generator hits: one the token's user reported, one
    # waiting for triage. (Opened through the service, then renamed: references are drawn.)
    from governance.cases.models import Case
    from governance.cases.services import case_open
    from tests.cases.factories import CategoryFactory, RoutingRuleFactory

    RoutingRuleFactory(service=renew, responsible=hukou)
    for reference, actor, values in (
        ("0", user, {"service": renew}),
        ("a", None, {"category": CategoryFactory(slug="a")}),
    ):
        case = case_open(
            actor=actor, title="自助机故障", description="无法打印。", station=station, **values
        )
        Case.objects.filter(pk=case.pk).update(reference=reference)
    # Feedback the token's user sent, under an id the generator hits.
    from feedback.models import Feedback
    from feedback.services import feedback_submit

    sent = feedback_submit(actor=user, kind="suggestion", text="多设座椅", service=renew)
    Feedback.objects.filter(pk=sent.pk).update(id=0)
    # A proposal under id 0 (published by the token's user, about the hukou service, with a
    # comment under id 0) and a category "a", so generated ids and slugs reach the proposals'
    # actions. Renumbered like the feedback above, as a draft (no row points at it yet).
    from governance.proposals import models as proposals
    from governance.proposals.services import comment_add, proposal_create, proposal_publish

    category = proposals.Category.objects.create(slug="a", name_zh="开放时间")
    drafted = proposal_create(
        actor=user,
        title="周末延长开放时间",
        body="希望**周末**也能办理。",
        category=category,
        scope=proposals.Scope.SERVICE,
        service=renew,
    )
    proposals.Proposal.objects.filter(pk=drafted.pk).update(id=0)
    proposal = proposal_publish(actor=user, proposal=proposals.Proposal.objects.get(pk=0))
    comment = comment_add(actor=UserFactory(), proposal=proposal, body="同意")
    proposals.Comment.objects.filter(pk=comment.pk).update(id=0)
    return {"token": Token.objects.create(user=user).key}


# Loaded at collection: building the schema reads no rows. (schemathesis's lazy, fixture-based
# loader does not run under pytest 9.)
schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,  # a fixed seed: the same examples every run
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)


@schema.parametrize()
@FUZZ_SETTINGS
def test_api_anonymous(case, fuzz_data):
    case.call_and_validate(excluded_checks=EXCLUDED)


@schema.parametrize()
@FUZZ_SETTINGS
def test_api_with_a_token(case, fuzz_data):
    case.call_and_validate(
        headers={"Authorization": f"Token {fuzz_data['token']}"}, excluded_checks=EXCLUDED
    )
