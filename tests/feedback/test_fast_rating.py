"""The QR rating's fast path (``feedback.api.visit_rate_front``) and the one-statement insert
(``governance.core.db.RowInsert``): the fast path takes only what the serializer would take
unchanged, hands everything else to the DRF action, and counts each request once in the
throttles; the compiled insert writes the row ``save`` would."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import uuid

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, connection, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from feedback import services, tokens
from feedback.api import FeedbackViewSet, fast_rating_values
from feedback.models import MAX_COMMENT, Channel, Feedback, Kind
from feedback.serializers import VisitRateInputSerializer
from governance.core.db import RowInsert
from tests.factories import VisitFactory
from tests.feedback.conftest import client_for

pytestmark = pytest.mark.django_db

VISIT_RATINGS = "/api/v1/feedback/visit-ratings/"
TOKEN = "eyJ2IjoxMjN9:1abcDE:Zm9vYmFyYmF6cXV4LXRva2Vu_-.x"


def request_for(body, *, content_type="application/json", user=None, **extra):
    data = json.dumps(body) if content_type == "application/json" else body
    request = RequestFactory().post(VISIT_RATINGS, data, content_type=content_type, **extra)
    request.user = user or AnonymousUser()
    return request


def serializer_values(body) -> dict | None:
    serializer = VisitRateInputSerializer(data=body)
    if not serializer.is_valid():
        return None
    values = dict(serializer.validated_data)
    values.pop("website")
    return values


# Which requests the fast path takes -----------------------------------------------------------
def test_a_plain_anonymous_json_rating_is_taken_with_the_serializers_values():
    body = {"token": TOKEN, "level": 4, "reasons": ["friendly", "fast"], "comment": "很好"}

    values = fast_rating_values(request_for(body))

    assert values == serializer_values(body)
    assert values["idempotency_key"] is None


@pytest.mark.parametrize(
    ("body", "extra"),
    [
        pytest.param({"level": "5"}, {}, id="level as a string"),
        pytest.param({"level": 5.0}, {}, id="level as a float"),
        pytest.param({"level": True}, {}, id="level as a boolean"),
        pytest.param({"level": 6}, {}, id="level out of range"),
        pytest.param({"reasons": "fast"}, {}, id="reasons not a list"),
        pytest.param({"reasons": ["x" * 33]}, {}, id="a reason longer than a code"),
        pytest.param({"comment": " 很好"}, {}, id="text to trim"),
        pytest.param({"comment": "a\x00b"}, {}, id="a NUL"),
        pytest.param({"comment": "\ud800"}, {}, id="a lone surrogate"),
        pytest.param({"comment": "长" * (MAX_COMMENT + 1)}, {}, id="comment too long"),
        pytest.param({"contact_email": "a@example.com"}, {}, id="an e-mail to check"),
        pytest.param({"website": "http://spam.example"}, {}, id="the honeypot"),
        pytest.param({"nickname": "x"}, {}, id="an unknown key"),
        pytest.param({"token": "not a token"}, {}, id="a token with spaces"),
        pytest.param({"idempotency_key": 12345}, {}, id="a key not a string"),
        pytest.param({"idempotency_key": "twice"}, {}, id="a key not a UUID"),
        pytest.param({}, {"HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4())}, id="a key in the header"),
        pytest.param({}, {"HTTP_AUTHORIZATION": "Token abc"}, id="an Authorization header"),
        pytest.param({}, {"QUERY_STRING": "format=api"}, id="a query string"),
        pytest.param({}, {"HTTP_ACCEPT": "application/xml"}, id="an Accept without JSON"),
        pytest.param({}, {"CONTENT_LENGTH": str(64 * 1024)}, id="a body larger than a rating"),
    ],
)
def test_anything_else_is_left_to_the_drf_action(body, extra):
    request = request_for({"token": TOKEN, "level": 5, **body}, **extra)

    assert fast_rating_values(request) is None


def test_forms_other_charsets_and_broken_json_are_left_to_the_drf_action(citizen):
    form = RequestFactory().post(VISIT_RATINGS, {"token": TOKEN, "level": "5"})
    form.user = AnonymousUser()
    latin = RequestFactory().post(
        VISIT_RATINGS,
        json.dumps({"token": TOKEN, "level": 5}),
        content_type="application/json; charset=latin-1",
    )
    latin.user = AnonymousUser()
    broken = RequestFactory().post(VISIT_RATINGS, "{", content_type="application/json")
    broken.user = AnonymousUser()
    signed_in = request_for({"token": TOKEN, "level": 5}, user=citizen)
    bom = RequestFactory().post(
        VISIT_RATINGS,
        "\ufeff" + json.dumps({"token": TOKEN, "level": 5}),
        content_type="application/json",
    )
    bom.user = AnonymousUser()
    accepts_json = request_for({"token": TOKEN, "level": 5}, HTTP_ACCEPT="application/json")

    assert [fast_rating_values(r) for r in (form, latin, broken, signed_in, bom)] == [None] * 5
    assert fast_rating_values(accepts_json) is not None


def test_whatever_the_fast_path_takes_the_serializer_takes_unchanged():
    """Over the edges of every field, alone and together: each body the fast path takes, the
    serializer validates to the same values (the other way round is not required: the DRF
    action answers what the fast path leaves)."""
    key = str(uuid.uuid4())
    choices = {
        "token": [TOKEN, "x" * 400, "x" * 401, "", " x"],
        "level": [1, 5, 0, 6, "3", 2.0, True, None],
        "reasons": [[], ["fast"], ["fast", "fast"], ["x" * 32], ["x" * 33], [1], "fast", None],
        "comment": ["", "很好", "长" * MAX_COMMENT, "长" * (MAX_COMMENT + 1), " a", 3, None],
        "contact_phone": ["", "13800138000", "1" * 21, None],
        "idempotency_key": [key, key.upper(), "{" + key + "}", key.replace("-", ""), 7, None],
        "website": ["", None, "x"],
    }
    absent = object()
    taken = 0
    names = list(choices)
    # Each field through all its values with the others at their first; then pairs of fields.
    bodies = []
    for name in names:
        for value in [*choices[name], absent]:
            bodies.append({name: value})
    for first, second in itertools.combinations(names, 2):
        for a, b in itertools.product(choices[first][:4], choices[second][:4]):
            bodies.append({first: a, second: b})
    for changes in bodies:
        body = {name: values[0] for name, values in choices.items()}
        body.update(changes)
        body = {name: value for name, value in body.items() if value is not absent}
        values = fast_rating_values(request_for(body))
        if values is not None:
            taken += 1
            assert values == serializer_values(body), body
    assert taken > 50


# Through the endpoint ----------------------------------------------------------------------------
def test_the_fast_path_answers_without_drf(visit, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("DRF's request handling ran")

    monkeypatch.setattr(FeedbackViewSet, "initial", refuse)
    body = {"token": tokens.visit_token(visit), "level": 5, "reasons": ["fast"]}

    response = client_for().post(VISIT_RATINGS, body, format="json")

    assert response.status_code == 201, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json()["level_label"] == "非常满意"
    assert Feedback.objects.get().channel == Channel.QR


@pytest.mark.parametrize(
    ("token", "code"), [("forged", 400), ("expired", 410), ("rated", 409)], ids=str
)
def test_a_refusal_is_answered_by_the_drf_action_with_nothing_written(
    visit, make_visit, token, code
):
    if token == "forged":
        body_token = tokens.visit_token(visit)[:-2] + "xx"
    elif token == "expired":
        old = make_visit(arrived_at=timezone.now() - dt.timedelta(days=30))
        body_token = tokens.visit_token(old)
    else:
        body_token = tokens.visit_token(visit)
        assert (
            client_for()
            .post(VISIT_RATINGS, {"token": body_token, "level": 4}, format="json")
            .status_code
            == 201
        )
    before = Feedback.objects.count()

    response = client_for().post(VISIT_RATINGS, {"token": body_token, "level": 5}, format="json")

    assert response.status_code == code, response.content
    assert "detail" in response.json() or "token" in response.json()
    assert Feedback.objects.count() == before


def test_a_request_the_fast_path_hands_on_is_counted_once(visit):
    """Ten forged links from one address: each counted once (by the fast path, not again by
    the action that answers it), so the eleventh is the one refused."""
    client = client_for(REMOTE_ADDR="10.1.2.3")
    forged = {"token": tokens.visit_token(visit)[:-2] + "xx", "level": 5}

    answers = [client.post(VISIT_RATINGS, forged, format="json").status_code for _ in range(10)]
    refused = client.post(VISIT_RATINGS, forged, format="json")

    assert answers == [400] * 10
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0


# The compiled insert -----------------------------------------------------------------------------
def a_new_rating(visit, **values) -> Feedback:
    """What ``services.visit_rate`` builds: the rating's own columns set, the rest as a new
    row has them."""
    rating = {
        "kind": Kind.VISIT_RATING,
        "level": 2,
        "reasons": ["waiting_time", "attitude"],
        "text": "等了很久",
        "visit": visit,
        "station_id": visit.station_id,
        "service_id": visit.service_id,
        "organisation_id": visit.service.department_id,
        "contact_name": "王女士",
        "contact_phone": "13800138000",
        "contact_email": "wang@example.com",
        "channel": Channel.QR,
        "idempotency_key": uuid.uuid4(),
        "device": "device-0123456789",
        "created_at": timezone.now().replace(microsecond=654321),
    }
    return Feedback(**{**rating, **values})


def every_field(visit, **values) -> Feedback:
    """A rating with every column set, the loop's later ones too."""
    now = timezone.now().replace(microsecond=123456)
    later = {
        "return_visit_due_at": now,
        "rectified_at": now,
        "rerating_level": 4,
        "rerating_comment": "改好了",
        "rerated_at": now,
        "reply": "已整改",
        "replied_at": now,
        "is_hidden": True,
        "hidden_reason": "含个人信息",
        "excluded": True,
        "created_at": now,
    }
    return a_new_rating(visit, **{**later, **values})


def row(feedback) -> dict:
    fields = [f.attname for f in Feedback._meta.concrete_fields if f.attname not in ("id",)]
    return {name: getattr(feedback, name) for name in fields}


def test_the_compiled_insert_writes_the_row_save_writes(visit, station, service):
    other = VisitFactory(station=station, service=service)
    compiled, saved = every_field(visit), every_field(other)
    saved.idempotency_key = compiled.idempotency_key = None

    with CaptureQueriesContext(connection) as queries:
        RowInsert(Feedback)(compiled)
    saved.save(force_insert=True)

    assert compiled.pk
    assert not compiled._state.adding
    assert compiled._state.db == "default"
    assert [q["sql"][:31] for q in queries.captured_queries] == ['INSERT INTO "feedback_feedback"']
    written, expected = (
        row(Feedback.objects.get(pk=compiled.pk)),
        row(Feedback.objects.get(pk=saved.pk)),
    )
    assert written.pop("visit_id") == visit.pk
    assert expected.pop("visit_id") == other.pk
    assert written == expected


def test_the_compiled_insert_raises_djangos_integrity_error_and_keeps_the_transaction(visit):
    insert = RowInsert(Feedback)
    insert(every_field(visit))

    with pytest.raises(IntegrityError), transaction.atomic():
        insert(every_field(visit))

    assert Feedback.objects.filter(visit=visit).count() == 1


def test_the_ratings_insert_names_its_columns_and_writes_the_row_save_writes(
    visit, station, service
):
    other = VisitFactory(station=station, service=service)
    compiled, saved = a_new_rating(visit), a_new_rating(other)

    with CaptureQueriesContext(connection) as queries:
        services._insert_row(compiled)
    saved.save(force_insert=True)

    [statement] = [q["sql"] for q in queries.captured_queries]
    columns = statement.split("(", 1)[1].split(")", 1)[0]
    assert columns.count('"') == 2 * len(services.RATING_COLUMNS)
    assert '"reply"' not in columns
    assert '"excluded"' not in columns
    written, expected = (
        row(Feedback.objects.get(pk=compiled.pk)),
        row(Feedback.objects.get(pk=saved.pk)),
    )
    assert written.pop("visit_id") == visit.pk
    assert expected.pop("visit_id") == other.pk
    written.pop("idempotency_key"), expected.pop("idempotency_key")
    assert written == expected
    # The columns left out came from the database's defaults, the same as save()'s values.
    assert (written["reply"], written["is_hidden"], written["excluded"], written["photo"]) == (
        "",
        False,
        False,
        "",
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements: PostgreSQL")
def test_the_ratings_insert_is_prepared_on_the_server_after_a_few_runs(station, service):
    """Unprepared, PostgreSQL parsed, rewrote and planned the busiest insert on every run
    (bench/README.md); prepared, each run only binds and executes it."""
    threshold = connection.settings_dict["OPTIONS"]["prepare_threshold"]
    assert threshold is not None

    def prepared() -> dict[str, int]:
        """The runs of each prepared statement of the rating's insert on this connection
        (earlier tests of this process may have prepared it already)."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name, generic_plans + custom_plans FROM pg_prepared_statements "
                "WHERE statement LIKE %s",
                ['INSERT INTO "feedback_feedback" ("kind", "level"%'],
            )
            return dict(cursor.fetchall())

    before = prepared()
    ratings = [
        a_new_rating(VisitFactory(station=station, service=service), idempotency_key=None)
        for _ in range(threshold + 3)
    ]
    for rating in ratings:
        services._insert_row(rating)

    after = prepared()
    # At most ``threshold`` runs went unprepared; the last three at least ran prepared.
    assert max(runs - before.get(name, 0) for name, runs in after.items()) >= 3
    assert Feedback.objects.filter(pk__in=[rating.pk for rating in ratings]).count() == len(ratings)


def test_a_column_left_out_needs_a_null_or_a_database_default():
    with pytest.raises(ImproperlyConfigured, match="kind"):
        RowInsert(Feedback, fields=[name for name in services.RATING_COLUMNS if name != "kind"])


def test_the_rating_the_service_returns_is_the_row_it_wrote(visit):
    """Whatever ``services.visit_rate`` sets on the new rating is among the columns it
    writes: the instance it returns is the row read back."""
    feedback = services.visit_rate(
        actor=None,
        token=tokens.visit_token(visit),
        level=2,
        reasons=["waiting_time"],
        comment="等了很久",
        contact_name="王女士",
        contact_phone="13800138000",
        contact_email="wang@example.com",
        idempotency_key=uuid.uuid4(),
        device="device-0123456789",
    )

    assert row(feedback) == row(Feedback.objects.get(pk=feedback.pk))


@pytest.mark.parametrize(
    ("name", "attribute", "value"),
    [
        ("reply", "db_default", "已答复"),  # the database would fill what the instance does not
        ("excluded", "db_default", True),
    ],
)
def test_a_column_left_out_must_be_filled_as_the_instance_is(monkeypatch, name, attribute, value):
    monkeypatch.setattr(Feedback._meta.get_field(name), attribute, value)

    with pytest.raises(ImproperlyConfigured, match=name):
        RowInsert(Feedback, fields=services.RATING_COLUMNS)
