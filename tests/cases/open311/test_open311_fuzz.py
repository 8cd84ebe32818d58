"""Property-based fuzzing of the Open311 JSON endpoints against their OpenAPI description
(``/open311/v2/openapi.json``), the way ``tests/fuzz`` fuzzes ``/api/v1/``: schemathesis sends
valid and invalid requests through the WSGI application against the test database and checks
that no answer is a 5xx, that statuses, content types and bodies are the documented ones, and
that invalid input is refused. The seed is fixed and the examples bounded.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from governance.cases import services
from governance.cases.models import Open311Client
from governance.cases.open311 import keys
from governance.wsgi import application
from tests.cases.open311.conftest import KEY
from tests.factories import DepartmentFactory, ServiceFactory, StationFactory

EXAMPLES = 30
# Unknown codes, ids and tokens are 404 and a report without a place is 400, by design: the
# fuzzer's "schema-valid request rejected" check would call those failures.
EXCLUDED = [schemathesis.checks.positive_data_acceptance]


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


@pytest.fixture
def open311_data(db, monkeypatch, wsgi_in_test_transaction):
    """A catalogue, an app with a key and a few public cases, so generated values sometimes
    hit rows."""
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": "100000/min", "user": "100000/min"}
    )
    hukou = DepartmentFactory(slug="hukou")
    station = StationFactory(slug="mixc", departments=[hukou])
    service = ServiceFactory(service_code="HK-ID-RENEW", department=hukou, stations=[station])
    ServiceFactory(service_code="A1", department=hukou)
    Open311Client.objects.create(
        organisation=hukou, name="app", key_hash=keys.hash_key(KEY), key_prefix=KEY[:10]
    )
    for number in range(3):
        services.case_open(
            actor=None, title=f"事项{number}", description="描述", service=service, station=station
        )


# Loaded at collection: building the document reads no rows.
schema = schemathesis.openapi.from_wsgi("/open311/v2/openapi.json", application)
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)


@schema.parametrize()
@FUZZ_SETTINGS
def test_open311_as_generated(case, open311_data):
    case.call_and_validate(excluded_checks=EXCLUDED)


@schema.include(method="POST").parametrize()
@FUZZ_SETTINGS
def test_open311_reports_with_a_valid_key(case, open311_data):
    """The generated reports, sent with a real key for a real service, reach the checks
    behind the key (and, when they are valid, open a case). The key replaces what was
    generated, so a request generated as invalid may have become valid: only the answers are
    checked here, the refusals of invalid input in the test above."""
    if isinstance(case.body, dict):
        case.body = {**case.body, "api_key": KEY, "service_code": "HK-ID-RENEW"}
    case.call_and_validate(excluded_checks=[*EXCLUDED, schemathesis.checks.negative_data_rejection])
