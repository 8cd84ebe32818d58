"""The feedback API: every endpoint, every role (the refusals too), bad input that writes
nothing, abuse resistance (honeypot, idempotency, throttling), privacy, filters, query counts.
Ratings and feedback are written through ``services`` (see ``fixtures.py``)."""

from __future__ import annotations

import datetime as dt
import io
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from feedback import services, tokens
from feedback.models import Appeal, Feedback, Kind
from feedback.serializers import HIDDEN_TEXT
from governance.cases.attachments import MAX_BYTES
from tests.factories import StationFactory, UserFactory, VisitFactory
from tests.feedback.conftest import client_for
from tests.query_budget import assert_constant_queries

pytestmark = pytest.mark.django_db

FEEDBACK = "/api/v1/feedback/"
INBOX = f"{FEEDBACK}inbox/"
VISIT_RATINGS = f"{FEEDBACK}visit-ratings/"
RATING_LINK = f"{FEEDBACK}rating-link/"
PHONE = "13800138000"
EMAIL = "rater@example.com"


def url(feedback, action: str = "") -> str:
    return f"{FEEDBACK}{feedback.pk}/" + (f"{action}/" if action else "")


def png(size=(32, 24)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "green").save(out, format="PNG")
    return out.getvalue()


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content[:500]
    return [row["id"] for row in response.json()["results"]]


def rating(visit, **values) -> dict:
    return {"token": tokens.visit_token(visit), "level": 5, "reasons": ["fast"], **values}


def submit(**values):
    """Feedback through ``services.feedback_submit`` (a suggestion unless told otherwise)."""
    values.setdefault("kind", Kind.SUGGESTION)
    values.setdefault("text", "希望增加座椅")
    return services.feedback_submit(actor=values.pop("actor", None), **values)


@pytest.fixture
def other_citizen(db):
    return UserFactory(email="other.citizen@example.com")


@pytest.fixture
def mine(citizen, service):
    """The citizen's complaint about hukou's service, with a contact."""
    return submit(
        actor=citizen,
        kind=Kind.COMPLAINT,
        text="排队太久",
        service=service,
        contact_phone=PHONE,
        contact_email=EMAIL,
    )


@pytest.fixture
def elsewhere(other_service):
    """Feedback about another department's service."""
    return submit(kind=Kind.SUGGESTION, text="罚款窗口多开一个", service=other_service)


@pytest.fixture
def roles(
    citizen,
    other_citizen,
    department_admin,
    department_staff,
    department_viewer,
    other_department_staff,
    partner_staff,
    superuser,
):
    return {
        "anonymous": None,
        "author": citizen,
        "other_citizen": other_citizen,
        "admin": department_admin,
        "staff": department_staff,
        "viewer": department_viewer,
        "other_department": other_department_staff,
        "host_staff": partner_staff,
        "superuser": superuser,
    }


# Visit ratings: the one-insert path -------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_an_anonymous_visit_rating_is_one_insert_and_nothing_else(
    visit, django_assert_max_num_queries
):
    """Outside a test's transaction, as in production: the one statement is the insert. The
    service's ``transaction.atomic`` wraps it in BEGIN … COMMIT (two more round trips, no
    statement)."""
    body = rating(visit, comment="很快", idempotency_key=str(uuid.uuid4()))
    client = client_for()

    with django_assert_max_num_queries(3) as captured:
        response = client.post(VISIT_RATINGS, body, format="json")

    assert response.status_code == 201, response.content
    statements = [query["sql"] for query in captured.captured_queries]
    work = [sql for sql in statements if sql not in ("BEGIN", "COMMIT")]
    assert len(work) == 1, statements
    assert work[0].startswith('INSERT INTO "feedback_feedback"')
    assert response.json()["level"] == 5
    assert response.json()["reasons"] == [{"code": "fast", "label": "办理快捷"}]
    assert "sessionid" not in response.cookies
    row = Feedback.objects.get()
    assert (row.visit_id, row.kind, row.channel, row.user_id) == (
        visit.pk,
        "visit_rating",
        "qr",
        None,
    )
    assert (row.service_id, row.station_id, row.organisation_id) == (
        visit.service_id,
        visit.station_id,
        visit.service.department_id,
    )


def test_a_signed_in_rater_is_recorded_on_the_visit_rating(citizen, visit):
    response = client_for(citizen).post(VISIT_RATINGS, rating(visit), format="json")

    assert response.status_code == 201
    assert Feedback.objects.get().user == citizen


def test_a_bad_visit_rating_opens_its_rectification_after_commit(
    api, visit, run_tasks, routing, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            VISIT_RATINGS, rating(visit, level=1, reasons=["waiting_time"]), format="json"
        )

    assert response.status_code == 201
    assert run_tasks == [("feedback.open_rectification", response.json()["id"])]
    assert Feedback.objects.get().case is not None


def test_a_forged_rating_link_is_refused_and_writes_nothing(api, visit):
    forged = tokens.visit_token(visit)[:-3] + "abc"

    for token in (forged, "garbage", ""):
        response = api.post(VISIT_RATINGS, rating(visit, token=token), format="json")
        assert response.status_code == 400, response.content
        assert "token" in response.json()
    assert not Feedback.objects.exists()


def test_an_expired_rating_link_is_gone_and_writes_nothing(api, make_visit):
    old = timezone.now() - dt.timedelta(days=8)
    visit = make_visit(arrived_at=old)

    response = api.post(VISIT_RATINGS, rating(visit), format="json")

    assert response.status_code == 410
    assert "过期" in response.json()["detail"]
    assert not Feedback.objects.exists()


def test_a_reused_rating_link_is_a_conflict_naming_the_first_rating(api, visit):
    first = api.post(VISIT_RATINGS, rating(visit, level=4), format="json")

    again = api.post(VISIT_RATINGS, rating(visit, level=1, reasons=[]), format="json")

    assert first.status_code == 201
    assert again.status_code == 409
    body = again.json()
    assert body["level"] == 4
    assert body["level_label"] == "满意"
    assert body["rated_at"] == first.json()["created_at"]
    assert Feedback.objects.get().level == 4


@pytest.mark.parametrize("level", [0, 6, "x", None, True, 2.5, "5"])
def test_a_level_outside_one_to_five_is_refused_naming_the_levels(api, visit, level):
    response = api.post(VISIT_RATINGS, rating(visit, level=level, reasons=[]), format="json")

    assert response.status_code == 400
    message = " ".join(response.json()["level"])
    assert "1=非常不满意" in message
    assert "5=非常满意" in message
    assert not Feedback.objects.exists()


def test_a_form_encoded_rating_takes_the_level_as_digits(api, visit):
    body = {"token": tokens.visit_token(visit), "level": "2", "reasons": ["attitude"]}

    response = api.post(VISIT_RATINGS, body)

    assert response.status_code == 201, response.content
    assert Feedback.objects.get().reasons == ["attitude"]


@pytest.mark.parametrize("reasons", [["made_up"], ["waiting_time"]])
def test_a_reason_not_offered_at_the_level_is_refused_naming_those_offered(api, visit, reasons):
    response = api.post(VISIT_RATINGS, rating(visit, level=5, reasons=reasons), format="json")

    assert response.status_code == 400
    message = " ".join(response.json()["reasons"])
    assert reasons[0] in message
    assert "fast" in message
    assert "friendly" in message
    assert not Feedback.objects.exists()


@pytest.mark.parametrize("reasons", [[5], ["x" * 40], "fast", [None]])
def test_reasons_that_are_no_codes_are_refused_in_one_list_naming_the_codes(api, visit, reasons):
    response = api.post(VISIT_RATINGS, rating(visit, reasons=reasons), format="json")

    assert response.status_code == 400
    errors = response.json()["reasons"]
    assert isinstance(errors, list)
    assert all(isinstance(message, str) for message in errors)
    if isinstance(reasons, list):
        assert "waiting_time" in " ".join(errors)
    assert not Feedback.objects.exists()


def test_a_comment_too_long_is_refused(api, visit):
    response = api.post(VISIT_RATINGS, rating(visit, comment="长" * 1001), format="json")

    assert response.status_code == 400
    assert "comment" in response.json()
    assert not Feedback.objects.exists()


def test_a_bad_contact_is_refused(api, visit):
    response = api.post(
        VISIT_RATINGS, rating(visit, contact_phone="call me", contact_email="no"), format="json"
    )

    assert response.status_code == 400
    assert {"contact_email"} <= set(response.json())
    assert not Feedback.objects.exists()


def test_a_visit_rating_twice_with_one_key_is_one_rating(api, visit):
    key = str(uuid.uuid4())

    first = api.post(VISIT_RATINGS, rating(visit, idempotency_key=key), format="json")
    second = api.post(VISIT_RATINGS, rating(visit, idempotency_key=key), format="json")
    by_header = api.post(
        VISIT_RATINGS, rating(visit), format="json", headers={"Idempotency-Key": key}
    )

    assert [first.status_code, second.status_code, by_header.status_code] == [201, 201, 201]
    assert first.json()["id"] == second.json()["id"] == by_header.json()["id"]
    assert Feedback.objects.count() == 1


def test_an_idempotency_key_that_is_no_uuid_or_disagrees_is_refused(api, visit):
    bad_header = api.post(
        VISIT_RATINGS, rating(visit), format="json", headers={"Idempotency-Key": "twice"}
    )
    disagreeing = api.post(
        VISIT_RATINGS,
        rating(visit, idempotency_key=str(uuid.uuid4())),
        format="json",
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    not_a_string = api.post(VISIT_RATINGS, rating(visit, idempotency_key=12345), format="json")

    assert [bad_header.status_code, disagreeing.status_code, not_a_string.status_code] == [
        400,
        400,
        400,
    ]
    assert "idempotency_key" in disagreeing.json()
    assert not Feedback.objects.exists()


def test_a_filled_honeypot_is_refused_and_writes_nothing(api, visit, service):
    rated = api.post(VISIT_RATINGS, rating(visit, website="http://spam.example"), format="json")
    submitted = api.post(
        FEEDBACK,
        {"kind": "suggestion", "text": "买药", "website": "http://spam.example"},
        format="json",
    )

    assert rated.status_code == submitted.status_code == 400
    assert "website" in rated.json()
    assert not Feedback.objects.exists()


def test_the_rating_page_data_names_the_visit_and_the_reasons_by_level(api, visit):
    token = tokens.visit_token(visit)

    response = api.get(f"{VISIT_RATINGS}{token}/")

    assert response.status_code == 200
    body = response.json()
    assert body["visit"] == visit.pk
    assert body["service"] == {"code": "HK-ID", "name": "身份证办理"}
    assert body["station"] == {"code": "mall-station", "name": "万象城警务站"}
    assert body["rated"] is False
    assert body["rating"] is None
    by_level = {row["level"]: [r["code"] for r in row["reasons"]] for row in body["levels"]}
    assert "fast" in by_level[5]
    assert "waiting_time" not in by_level[5]
    assert "waiting_time" in by_level[1]


def test_the_rating_page_data_says_when_the_visit_was_rated(api, visit):
    api.post(VISIT_RATINGS, rating(visit, level=3, reasons=[]), format="json")

    body = api.get(f"{VISIT_RATINGS}{tokens.visit_token(visit)}/").json()

    assert body["rated"] is True
    assert body["rating"]["level"] == 3


def test_the_rating_page_data_of_a_forged_or_expired_link(api, make_visit):
    expired = make_visit(arrived_at=timezone.now() - dt.timedelta(days=30))

    assert api.get(f"{VISIT_RATINGS}not-a-token/").status_code == 404
    assert api.get(f"{VISIT_RATINGS}{tokens.visit_token(expired)}/").status_code == 410


# Rating links for kiosks and queue systems ------------------------------------------------------
@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 401),
        ("author", 404),
        ("viewer", 404),  # a viewer reads; handing out rating links is for acting staff
        ("staff", 200),
        ("admin", 200),
        ("host_staff", 200),
        ("other_department", 404),
        ("superuser", 200),
    ],
)
def test_a_visits_rating_link_is_for_its_department_and_its_stations_host(
    roles, visit, role, expected
):
    response = client_for(roles[role]).get(RATING_LINK, {"visit": visit.pk})

    assert response.status_code == expected, response.content
    if expected == 200:
        body = response.json()
        assert body["url"] == f"http://testserver/r/{body['token']}/"
        assert body["qr_svg"].startswith("<svg")
        assert tokens.visit_claim(body["token"]).visit_id == visit.pk
        assert dt.datetime.fromisoformat(body["expires_at"]) > timezone.now()


def test_a_rating_link_from_the_api_rates_the_visit(department_staff, visit, api):
    token = client_for(department_staff).get(RATING_LINK, {"visit": visit.pk}).json()["token"]

    assert api.post(VISIT_RATINGS, {"token": token, "level": 4}, format="json").status_code == 201


def test_a_rating_link_needs_a_visit_number(department_staff, make_visit):
    client = client_for(department_staff)
    old = make_visit(arrived_at=timezone.now() - dt.timedelta(days=10))

    assert client.get(RATING_LINK).status_code == 400
    assert client.get(RATING_LINK, {"visit": "abc"}).status_code == 400
    assert client.get(RATING_LINK, {"visit": 10**30}).status_code == 400
    assert client.get(RATING_LINK, {"visit": 999999}).status_code == 404
    assert client.get(RATING_LINK, {"visit": old.pk}).status_code == 410


# Online ratings, suggestions, complaints, praise ------------------------------------------------
def test_anyone_may_make_a_suggestion(api):
    response = api.post(
        FEEDBACK,
        {"kind": "suggestion", "text": "希望增加母婴室", "contact_phone": PHONE},
        format="json",
    )

    assert response.status_code == 201, response.content
    row = Feedback.objects.get()
    assert (row.kind, row.text, row.user, row.channel) == (
        "suggestion",
        "希望增加母婴室",
        None,
        "api",
    )
    assert row.contact_phone == PHONE
    # The contact is not read back, even by its sender.
    assert response.json()["contact"] is None


def test_a_signed_in_online_rating_of_a_service(citizen, service, department):
    response = client_for(citizen).post(
        FEEDBACK,
        {"kind": "online_rating", "service": "HK-ID", "level": 4, "reasons": ["friendly"]},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["service"] == {"service_code": "HK-ID", "name": "身份证办理"}
    assert body["organisation"]["slug"] == department.slug
    assert Feedback.objects.get().user == citizen


def test_an_online_rating_of_a_station_is_the_hosts(api, station, partner):
    response = api.post(
        FEEDBACK,
        {"kind": "online_rating", "station": "mall-station", "level": 5},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert Feedback.objects.get().organisation == partner


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "visit_rating", "level": 5, "service": "HK-ID"}, "kind"),
        ({"kind": "bribe", "text": "x"}, "kind"),
        ({"kind": "suggestion", "text": ""}, "text"),
        ({"kind": "suggestion", "text": "长" * 2001}, "text"),
        ({"kind": "suggestion", "text": "好", "level": 3}, "level"),
        ({"kind": "online_rating", "service": "HK-ID"}, "level"),
        ({"kind": "online_rating", "service": "HK-ID", "level": 9}, "level"),
        ({"kind": "online_rating", "level": 5}, "service"),
        ({"kind": "online_rating", "service": "NOPE", "level": 5}, "service"),
        ({"kind": "online_rating", "service": "HK-ID", "level": 5, "reasons": ["x"]}, "reasons"),
        ({"kind": "praise", "text": "好", "contact_name": "名" * 81}, "contact_name"),
    ],
)
def test_bad_feedback_is_refused_naming_the_field(api, service, body, field):
    response = api.post(FEEDBACK, body, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Feedback.objects.exists()


def test_a_kind_outside_the_list_is_refused_naming_the_kinds(api):
    response = api.post(FEEDBACK, {"kind": "visit_rating", "text": "x"}, format="json")

    assert response.status_code == 400
    assert "suggestion" in " ".join(response.json()["kind"])


def test_feedback_text_is_stored_and_returned_as_plain_text(citizen):
    text = '<script>alert("x")</script> **粗体** &amp;'

    response = client_for(citizen).post(
        FEEDBACK, {"kind": "complaint", "text": text}, format="json"
    )

    assert response.status_code == 201
    assert Feedback.objects.get().text == text
    assert response.json()["text"] == text


def test_a_photo_is_checked_and_stored(api, tmp_path):
    photo = SimpleUploadedFile("p.png", png(), "image/png")

    response = api.post(
        FEEDBACK, {"kind": "complaint", "text": "地面湿滑", "photo": photo}, format="multipart"
    )

    assert response.status_code == 201, response.content
    row = Feedback.objects.get()
    assert row.photo_type == "image/png"
    assert row.photo.name.startswith("feedback/")
    assert response.json()["has_photo"] is True


def test_a_disguised_photo_is_refused_and_writes_nothing(api):
    fake = SimpleUploadedFile("p.jpg", b"MZ\x90\x00 not an image at all", "image/jpeg")

    response = api.post(
        FEEDBACK, {"kind": "complaint", "text": "地面湿滑", "photo": fake}, format="multipart"
    )

    assert response.status_code == 400
    assert "photo" in response.json()
    assert not Feedback.objects.exists()


def test_a_photo_over_ten_megabytes_is_413_and_writes_nothing(api):
    big = SimpleUploadedFile("big.png", png() + b"\0" * MAX_BYTES, "image/png")

    response = api.post(
        FEEDBACK, {"kind": "complaint", "text": "地面湿滑", "photo": big}, format="multipart"
    )

    assert response.status_code == 413
    assert response.json()["detail"]
    assert not Feedback.objects.exists()


def test_feedback_twice_with_one_key_is_one_record(api):
    key = str(uuid.uuid4())
    body = {"kind": "praise", "text": "工作人员很耐心", "idempotency_key": key}

    first = api.post(FEEDBACK, body, format="json")
    second = api.post(FEEDBACK, body, format="json")
    by_header = api.post(
        FEEDBACK,
        {"kind": "praise", "text": "工作人员很耐心"},
        format="json",
        headers={"Idempotency-Key": key},
    )

    assert [first.status_code, second.status_code, by_header.status_code] == [201, 201, 201]
    assert first.json()["id"] == second.json()["id"] == by_header.json()["id"]
    assert Feedback.objects.count() == 1


# Throttling -------------------------------------------------------------------------------------
def test_the_eleventh_anonymous_submission_in_a_minute_from_one_address_is_429(api, visit):
    answers = []
    for number in range(10):
        if number % 2:
            response = api.post(FEEDBACK, {"kind": "praise", "text": "好"}, format="json")
        else:
            response = api.post(
                VISIT_RATINGS,
                rating(VisitFactory(station=visit.station, service=visit.service)),
                format="json",
            )
        answers.append(response.status_code)

    refused = api.post(VISIT_RATINGS, rating(visit), format="json")

    assert answers == [201] * 10
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert refused.json()["detail"]
    assert Feedback.objects.count() == 10
    assert not Feedback.objects.filter(visit=visit).exists()
    # Another address is counted apart, and reading is not submitting.
    other = client_for(REMOTE_ADDR="10.9.8.7")
    assert other.post(FEEDBACK, {"kind": "praise", "text": "好"}, format="json").status_code == 201
    assert api.get(f"{VISIT_RATINGS}{tokens.visit_token(visit)}/").status_code == 200


def test_one_device_is_throttled_across_addresses(db):
    device = {"HTTP_X_DEVICE_ID": "device-0123456789abcdef"}
    answers = [
        client_for(REMOTE_ADDR=f"10.0.0.{number}", **device)
        .post(FEEDBACK, {"kind": "praise", "text": "好"}, format="json")
        .status_code
        for number in range(11)
    ]

    assert answers == [201] * 10 + [429]
    assert Feedback.objects.count() == 10
    assert set(Feedback.objects.values_list("device", flat=True)) == {"device-0123456789abcdef"}


def test_the_device_cookie_counts_like_the_header(db):
    answers = []
    for number in range(11):
        client = client_for(REMOTE_ADDR=f"10.0.1.{number}")
        client.cookies["gz_device"] = "c0ffee0123456789"
        answers.append(
            client.post(FEEDBACK, {"kind": "praise", "text": "好"}, format="json").status_code
        )

    assert answers[-1] == 429


def test_signed_in_people_are_not_held_to_the_anonymous_rate(citizen):
    client = client_for(citizen)
    answers = {
        client.post(FEEDBACK, {"kind": "praise", "text": "好"}, format="json").status_code
        for _ in range(12)
    }

    assert answers == {201}


# Reading: own feedback, the inbox, a detail -----------------------------------------------------
def test_the_list_is_the_callers_own_feedback(citizen, mine, elsewhere, other_citizen):
    submit(actor=other_citizen, text="不是我的")

    assert ids(client_for(citizen).get(FEEDBACK)) == [mine.pk]
    assert client_for().get(FEEDBACK).status_code == 401


def test_the_inbox_holds_the_organisations_feedback(roles, mine, elsewhere, visit, api):
    api.post(VISIT_RATINGS, rating(visit), format="json")
    rated = Feedback.objects.get(visit=visit)

    seen = {role: ids(client_for(user).get(INBOX)) for role, user in roles.items() if user}

    assert seen["staff"] == seen["viewer"] == seen["admin"] == [rated.pk, mine.pk]
    assert seen["other_department"] == [elsewhere.pk]
    assert seen["author"] == seen["other_citizen"] == seen["host_staff"] == []
    assert seen["superuser"] == [rated.pk, elsewhere.pk, mine.pk]
    assert client_for().get(INBOX).status_code == 401


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 401),
        ("author", 200),
        ("other_citizen", 404),
        ("viewer", 200),
        ("staff", 200),
        ("other_department", 404),
        ("host_staff", 404),
        ("superuser", 200),
    ],
)
def test_a_detail_is_for_its_author_and_its_organisation(roles, mine, role, expected):
    response = client_for(roles[role]).get(url(mine))

    assert response.status_code == expected
    if expected == 200:
        assert response.json()["text"] == "排队太久"


@pytest.mark.parametrize(
    ("role", "sees_contact"),
    [("author", False), ("viewer", False), ("staff", True), ("admin", True), ("superuser", True)],
)
def test_the_contact_is_shown_only_to_the_acting_staff(roles, mine, role, sees_contact):
    contact = client_for(roles[role]).get(url(mine)).json()["contact"]

    if sees_contact:
        assert contact == {"name": "", "phone": PHONE, "email": EMAIL}
    else:
        assert contact is None


@pytest.mark.parametrize(
    ("role", "sees_text"),
    [("author", False), ("viewer", False), ("staff", False), ("admin", True), ("superuser", True)],
)
def test_hidden_text_is_shown_only_to_moderators(roles, mine, department_admin, role, sees_text):
    services.feedback_hide(actor=department_admin, feedback=mine, reason="辱骂")

    for response in (
        client_for(roles[role]).get(url(mine)),
        client_for(roles[role]).get(INBOX if role != "author" else FEEDBACK),
    ):
        body = response.json()
        row = body["results"][0] if "results" in body else body
        assert row["is_hidden"] is True
        assert row["text"] == ("排队太久" if sees_text else str(HIDDEN_TEXT))


def test_the_inbox_filters(department_staff, department, service, other_service, station):
    rated = submit(kind=Kind.ONLINE_RATING, level=1, reasons=["attitude"], service=service)
    praise = submit(kind=Kind.PRAISE, text="好", station=station)
    services.feedback_reply(actor=department_staff, feedback=rated, body="已整改")
    old = submit(kind=Kind.SUGGESTION, text="旧", service=service)
    Feedback.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=40))
    Feedback.objects.filter(pk=praise.pk).update(excluded=True, organisation=department)
    client = client_for(department_staff)

    def seen(**params):
        return ids(client.get(INBOX, params))

    assert seen(level=1) == [rated.pk]
    assert seen(kind="praise") == [praise.pk]
    assert seen(kind=["praise", "suggestion"]) == [praise.pk, old.pk]
    assert seen(service="HK-ID") == [rated.pk, old.pk]
    assert seen(station="mall-station") == [praise.pk]
    assert seen(organisation=department.slug) == [praise.pk, rated.pk, old.pk]
    assert seen(answered="true") == [rated.pk]
    assert seen(answered="false") == [praise.pk, old.pk]
    assert seen(excluded="true") == [praise.pk]
    since = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    assert seen(created_after=since) == [praise.pk, rated.pk]
    assert seen(created_before=since) == [old.pk]
    assert seen(ordering="level")[0] == rated.pk
    assert seen(ordering="-created_at") == [praise.pk, rated.pk, old.pk]
    assert client.get(INBOX, {"level": 9}).status_code == 400
    assert client.get(INBOX, {"service": "NOPE"}).status_code == 400


def test_the_inbox_runs_constant_queries(department_admin, service, station, citizen):
    def make_rows(n):
        for number in range(n):
            submit(
                actor=citizen,
                kind=Kind.ONLINE_RATING,
                level=number % 5 + 1,
                service=service,
                station=station,
                contact_phone=PHONE,
            )

    client = client_for(department_admin)
    assert_constant_queries(
        lambda: client.get(INBOX, {"page_size": 100}),
        make_rows,
        check=lambda response, rows: len(response.json()["results"]) == rows,
        max_queries=8,
    )


def test_the_own_list_runs_constant_queries(citizen, service):
    client = client_for(citizen)
    assert_constant_queries(
        lambda: client.get(FEEDBACK, {"page_size": 100}),
        lambda n: [submit(actor=citizen, service=service, text=f"建议{i}") for i in range(n)],
        max_queries=6,
    )


def test_a_photo_is_downloaded_by_those_who_see_the_feedback(citizen, department_staff, api):
    photo = SimpleUploadedFile("p.png", png(), "image/png")
    created = client_for(citizen).post(
        FEEDBACK, {"kind": "complaint", "text": "坏了", "photo": photo}, format="multipart"
    )
    feedback = Feedback.objects.get(pk=created.json()["id"])

    own = client_for(citizen).get(created.json()["photo_url"])

    assert own.status_code == 200
    assert own["Content-Type"] == "image/png"
    assert b"".join(own.streaming_content).startswith(b"\x89PNG")
    assert client_for(UserFactory()).get(url(feedback, "photo")).status_code == 404
    assert api.get(url(feedback, "photo")).status_code == 401
    no_photo = submit(actor=citizen)
    assert client_for(citizen).get(url(no_photo, "photo")).status_code == 404


# Acting on feedback -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 401),
        ("author", 403),
        ("viewer", 403),
        ("staff", 200),
        ("admin", 200),
        ("other_department", 404),
        ("superuser", 200),
    ],
)
def test_only_the_acting_staff_reply(roles, mine, role, expected, delivered):
    response = client_for(roles[role]).post(
        url(mine, "reply"), {"body": "已加开窗口"}, format="json"
    )

    assert response.status_code == expected
    mine.refresh_from_db()
    assert (mine.reply == "已加开窗口") is (expected == 200)
    if expected == 200:
        assert response.json()["reply"] == "已加开窗口"
        assert response.json()["replied_at"]


def test_a_reply_must_have_a_body(department_staff, mine):
    client = client_for(department_staff)

    assert client.post(url(mine, "reply"), {"body": ""}, format="json").status_code == 400
    assert client.post(url(mine, "reply"), {"body": "长" * 2001}, format="json").status_code == 400
    assert client.post(url(mine, "reply"), {"body": 5}, format="json").status_code == 400
    mine.refresh_from_db()
    assert mine.reply == ""


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("author", 403),
        ("staff", 403),
        ("admin", 200),
        ("other_department", 404),
        ("superuser", 200),
    ],
)
def test_only_moderators_hide(roles, mine, role, expected):
    response = client_for(roles[role]).post(url(mine, "hide"), {"reason": "辱骂"}, format="json")

    assert response.status_code == expected
    mine.refresh_from_db()
    assert mine.is_hidden is (expected == 200)


@pytest.mark.parametrize(
    ("role", "expected"),
    [("author", 403), ("viewer", 403), ("staff", 201), ("admin", 201), ("other_department", 404)],
)
def test_only_the_rated_organisations_staff_appeal(roles, citizen, visit, role, expected):
    client_for(citizen).post(VISIT_RATINGS, rating(visit, level=1, reasons=[]), format="json")
    rated = Feedback.objects.get()

    response = client_for(roles[role]).post(
        url(rated, "appeal"), {"reason": "评价人误评"}, format="json"
    )

    assert response.status_code == expected, response.content
    assert Appeal.objects.count() == (1 if expected == 201 else 0)
    if expected == 201:
        assert response.json()["status"] == "pending"


def test_a_second_appeal_while_one_is_pending_is_a_conflict(department_staff, api, visit):
    api.post(VISIT_RATINGS, rating(visit, level=2, reasons=[]), format="json")
    rated = Feedback.objects.get()
    client = client_for(department_staff)

    first = client.post(url(rated, "appeal"), {"reason": "误评"}, format="json")
    second = client.post(url(rated, "appeal"), {"reason": "误评"}, format="json")

    assert (first.status_code, second.status_code) == (201, 409)
    assert Appeal.objects.count() == 1


# Re-rating a rectification ----------------------------------------------------------------------
@pytest.fixture
def rectified(citizen, service):
    feedback = submit(
        actor=citizen,
        kind=Kind.ONLINE_RATING,
        level=1,
        reasons=["attitude"],
        service=service,
        contact_email=EMAIL,
    )
    Feedback.objects.filter(pk=feedback.pk).update(rectified_at=timezone.now())
    feedback.refresh_from_db()
    return feedback


@pytest.mark.parametrize(
    ("role", "expected"),
    [("anonymous", 401), ("author", 200), ("other_citizen", 404), ("staff", 403)],
)
def test_the_author_rerates_a_rectification_once(roles, rectified, role, expected):
    client = client_for(roles[role])

    response = client.post(
        url(rectified, "rerate"), {"level": 4, "comment": "改好了"}, format="json"
    )

    assert response.status_code == expected
    rectified.refresh_from_db()
    assert (rectified.rerating_level == 4) is (expected == 200)
    assert rectified.level == 1
    if expected == 200:
        assert response.json()["rerating_level"] == 4
        again = client.post(url(rectified, "rerate"), {"level": 5}, format="json")
        assert again.status_code == 409
        rectified.refresh_from_db()
        assert rectified.rerating_level == 4


def test_a_rating_not_yet_rectified_cannot_be_rerated(citizen, rectified):
    Feedback.objects.filter(pk=rectified.pk).update(rectified_at=None)

    response = client_for(citizen).post(url(rectified, "rerate"), {"level": 4}, format="json")

    assert response.status_code == 409


def test_the_rerating_link_lets_anyone_holding_it_rerate(api, rectified, mine):
    token = tokens.rerate_token(rectified.pk)

    wrong = api.post(url(mine, "rerate"), {"level": 5, "token": token}, format="json")
    forged = api.post(url(rectified, "rerate"), {"level": 5, "token": "forged"}, format="json")
    response = api.post(url(rectified, "rerate"), {"level": 5, "token": token}, format="json")

    assert wrong.status_code == 403
    assert forged.status_code == 400
    assert "token" in forged.json()
    assert response.status_code == 200
    rectified.refresh_from_db()
    assert rectified.rerating_level == 5


def test_an_expired_rerating_link_is_gone(api, rectified, settings):
    settings.FEEDBACK_RERATE_LINK_DAYS = -1

    response = api.post(
        url(rectified, "rerate"),
        {"level": 5, "token": tokens.rerate_token(rectified.pk)},
        format="json",
    )

    assert response.status_code == 410
    rectified.refresh_from_db()
    assert rectified.rerated_at is None


# The schema -------------------------------------------------------------------------------------
def test_the_schema_documents_every_endpoint_and_its_errors(api):
    paths = api.get("/api/schema/", {"format": "json"}).json()["paths"]

    assert set(paths["/api/v1/feedback/visit-ratings/"]["post"]["responses"]) >= {
        "201",
        "400",
        "409",
        "410",
        "429",
    }
    assert set(paths["/api/v1/feedback/"]["post"]["responses"]) >= {"201", "400", "413", "429"}
    assert set(paths["/api/v1/feedback/{id}/rerate/"]["post"]["responses"]) >= {
        "200",
        "400",
        "403",
        "404",
        "409",
        "410",
    }
    assert set(paths["/api/v1/feedback/rating-link/"]["get"]["responses"]) >= {
        "200",
        "400",
        "404",
        "410",
    }
    for path in (
        "/api/v1/feedback/inbox/",
        "/api/v1/feedback/{id}/",
        "/api/v1/feedback/{id}/reply/",
        "/api/v1/feedback/{id}/hide/",
        "/api/v1/feedback/{id}/appeal/",
        "/api/v1/feedback/{id}/photo/",
        "/api/v1/feedback/visit-ratings/{token}/",
    ):
        assert path in paths


def test_a_station_not_hosted_by_the_caller_gives_no_rating_link(partner_staff, service):
    elsewhere = VisitFactory(station=StationFactory(), service=service)

    assert client_for(partner_staff).get(RATING_LINK, {"visit": elsewhere.pk}).status_code == 404


def test_the_rating_endpoints_plain_answer_is_the_documented_shape(db):
    """The busiest endpoint builds its answer without the serializer; both must agree."""
    from feedback import services as feedback_services
    from feedback import tokens as feedback_tokens
    from feedback.serializers import VisitRatingOutputSerializer, visit_rating_output
    from tests.factories import VisitFactory

    visit = VisitFactory()
    rating = feedback_services.visit_rate(
        token=feedback_tokens.visit_token(visit), level=2, reasons=["waiting_time"], comment="慢"
    )
    assert visit_rating_output(rating) == VisitRatingOutputSerializer(rating).data
