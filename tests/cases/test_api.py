"""The cases API: every endpoint, every role (the refusals too), privacy, filters, query counts,
bad input. Cases are opened through ``services.case_open`` (see ``conftest.py``)."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from governance.cases import services
from governance.cases.api import CaseReportThrottle
from governance.cases.models import (
    Attachment,
    Case,
    CaseSequence,
    Priority,
    Source,
    Status,
    TimelineEntry,
)
from tests.cases.conftest import drive
from tests.factories import UserFactory
from tests.query_budget import assert_constant_queries

pytestmark = pytest.mark.django_db

CASES = "/api/v1/cases/"
PHONE = "13800138000"
EMAIL = "reporter.contact@example.com"
NAME = "张小明"


def url(case, action: str = "") -> str:
    return f"{CASES}{case.reference}/" + (f"{action}/" if action else "")


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def png(size=(32, 24)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "blue").save(out, format="PNG")
    return out.getvalue()


def upload(name="photo.png", content: bytes | None = None, content_type="image/png"):
    return SimpleUploadedFile(name, png() if content is None else content, content_type)


def references(response) -> list[str]:
    assert response.status_code == 200, response.content[:500]
    return [row["reference"] for row in response.json()["results"]]


def sequence_numbers() -> list[int]:
    return list(CaseSequence.objects.order_by("pk").values_list("last", flat=True))


@pytest.fixture
def client():
    """An anonymous API client (DRF's, which encodes ``format="json"`` bodies)."""
    return APIClient()


@pytest.fixture
def other_citizen(db):
    return UserFactory(email="other.citizen@example.com")


@pytest.fixture
def roles(
    citizen,
    other_citizen,
    department_admin,
    department_staff,
    department_viewer,
    other_department_staff,
    partner_admin,
    partner_staff,
    other_partner_admin,
    triager,
    superuser,
):
    return {
        "anonymous": None,
        "reporter": citizen,
        "other_citizen": other_citizen,
        "department_admin": department_admin,
        "department_staff": department_staff,
        "department_viewer": department_viewer,
        "other_department_staff": other_department_staff,
        "partner_admin": partner_admin,
        "partner_staff": partner_staff,
        "other_partner_admin": other_partner_admin,
        "triager": triager,
        "superuser": superuser,
    }


@pytest.fixture
def private_case(open_case, department_staff, partner):
    """A private report on the hukou service, the mall co-handling it, with contact details."""
    case = open_case(
        is_public=False,
        contact_name=NAME,
        contact_phone=PHONE,
        contact_email=EMAIL,
    )
    services.case_add_cohandler(
        actor=department_staff, case=case, organisation=partner, task="协助调取监控"
    )
    return case


@pytest.fixture
def public_case(open_case):
    return open_case(contact_name=NAME, contact_phone=PHONE, contact_email=EMAIL)


ALL_ROLES = (
    "anonymous",
    "reporter",
    "other_citizen",
    "department_admin",
    "department_staff",
    "department_viewer",
    "other_department_staff",
    "partner_admin",
    "partner_staff",
    "other_partner_admin",
    "triager",
    "superuser",
)
SEES_PRIVATE = {
    "reporter",
    "department_admin",
    "department_staff",
    "department_viewer",
    "partner_admin",
    "partner_staff",
    "superuser",
}
SEES_CONTACT = {
    "reporter",
    "department_admin",
    "department_staff",
    "partner_admin",
    "partner_staff",
    "superuser",
}
HANDLES = {"department_admin", "department_staff", "superuser"}
REPLIES = HANDLES | {"partner_admin", "partner_staff"}


# Visibility ----------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ALL_ROLES)
def test_a_private_case_is_listed_and_shown_only_to_those_who_may_see_it(
    roles, private_case, public_case, role
):
    client = client_for(roles[role])
    listed = references(client.get(CASES))
    detail = client.get(url(private_case))

    assert public_case.reference in listed
    if role in SEES_PRIVATE:
        assert private_case.reference in listed
        assert detail.status_code == 200
        assert detail.json()["reference"] == private_case.reference
    else:
        assert private_case.reference not in listed
        assert detail.status_code == 404


def test_the_triage_queue_is_seen_by_the_triager_and_not_by_other_staff(
    open_case, lost_item, triager, department_staff
):
    waiting = open_case(service=None, category=lost_item, is_public=False)
    assert waiting.responsible_id is None

    assert client_for(triager).get(url(waiting)).status_code == 200
    assert client_for(department_staff).get(url(waiting)).status_code == 404


def test_an_unknown_reference_is_a_json_404(client):
    response = client.get(f"{CASES}CH-2026-999999/")
    assert response.status_code == 404
    assert response.json()["detail"]


# Contact privacy ------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ALL_ROLES)
def test_the_reporters_contact_is_shown_only_to_the_reporter_and_the_handling_staff(
    roles, public_case, department_staff, partner, role
):
    services.case_add_cohandler(
        actor=department_staff, case=public_case, organisation=partner, task="协助"
    )
    response = client_for(roles[role]).get(url(public_case))
    assert response.status_code == 200
    contact = response.json()["contact"]
    if role in SEES_CONTACT:
        assert contact == {"name": NAME, "phone": PHONE, "email": EMAIL}
    else:
        assert contact is None
        text = response.content.decode()
        for secret in (NAME, PHONE, EMAIL, "citizen@example.com"):
            assert secret not in text


def test_public_output_shows_an_anonymised_reporter_everywhere(client, public_case, citizen):
    citizen.display_name = "王大锤"
    citizen.save()
    services.case_reply(
        actor=UserFactory(is_superuser=True, is_staff=True), case=public_case, body="已收到"
    )
    bodies = [
        client.get(CASES).content.decode(),
        client.get(url(public_case)).content.decode(),
        client.get(url(public_case, "timeline")).content.decode(),
    ]
    for body in bodies:
        for secret in ("王大锤", "citizen@example.com", NAME, PHONE, EMAIL):
            assert secret not in body
    detail = client.get(url(public_case)).json()
    assert detail["reporter"] == {"label": "市民", "is_you": False}
    mine = client_for(citizen).get(url(public_case)).json()
    assert mine["reporter"] == {"label": "市民", "is_you": True}
    timeline = client.get(url(public_case, "timeline")).json()["results"]
    assert timeline[0]["kind"] == "opened"
    assert timeline[0]["actor"] == "报告人"


def test_the_list_never_carries_contact_details(public_case, department_staff):
    body = client_for(department_staff).get(CASES).content.decode()
    for secret in (NAME, PHONE, EMAIL):
        assert secret not in body


# Detail ---------------------------------------------------------------------------------------
def test_detail_has_routing_dues_cohandlers_and_what_the_caller_may_do(
    private_case, department_staff, partner_staff
):
    body = client_for(department_staff).get(url(private_case)).json()

    assert body["status"] == "new"
    assert body["status_label"] == "待受理"
    assert body["responsible"]["slug"] == "hukou"
    assert body["service"] == {"service_code": "HK-ID", "name": private_case.service.name}
    assert body["station"]["slug"] == "mall-station"
    assert body["routing"] == "rule"
    assert body["routing_explanation"] == "由分派规则“户籍业务”分派"
    assert body["acknowledge_due_at"]
    assert body["resolve_due_at"]
    assert body["expected_datetime"] == body["resolve_due_at"]
    assert body["acknowledged_on_time"] is None
    assert body["is_overdue"] is False
    assert [row["organisation"]["slug"] for row in body["cohandlers"]] == ["mall"]
    assert body["cohandlers"][0]["task"] == "协助调取监控"
    assert [row["status"] for row in body["allowed_transitions"]] == [
        "acknowledged",
        "rejected",
        "duplicate",
    ]
    assert body["permissions"] == {
        "handle": True,
        "reply": True,
        "note": True,
        "attach": True,
        "follow": True,
    }
    assert body["url"].endswith(f"/api/v1/cases/{private_case.reference}/")

    partner_view = client_for(partner_staff).get(url(private_case)).json()
    assert partner_view["allowed_transitions"] == []
    assert partner_view["permissions"]["handle"] is False
    assert partner_view["permissions"]["reply"] is True


def test_the_public_sees_no_internal_task_or_assignee(
    public_case, department_staff, partner, client
):
    services.case_add_cohandler(
        actor=department_staff, case=public_case, organisation=partner, task="内部任务"
    )
    services.case_assign(actor=department_staff, case=public_case, assignee=department_staff)
    body = client.get(url(public_case)).json()
    assert body["assignee"] is None
    assert body["cohandlers"][0]["task"] is None
    assert body["cohandlers"][0]["organisation"]["slug"] == "mall"
    assert body["allowed_transitions"] == []
    staff_view = client_for(department_staff).get(url(public_case)).json()
    assert staff_view["assignee"]["id"] == department_staff.pk


# Report (create) ------------------------------------------------------------------------------
def report(**overrides):
    values = {
        "title": "自助机无法打印",
        "description": "二楼自助机一直提示卡纸。",
        "service": "HK-ID",
        "station": "mall-station",
    }
    values.update(overrides)
    return values


def test_anyone_may_report_a_case_and_it_is_numbered_and_routed(client, rules_):
    response = client.post(CASES, report(contact_phone=PHONE, contact_name=NAME), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["reference"].startswith("CH-")
    assert body["responsible"]["slug"] == "hukou"
    assert body["source"] == "citizen"
    assert body["contact"] is None  # the anonymous reader of the answer is nobody in particular
    case = Case.objects.get(reference=body["reference"])
    assert case.reporter is None
    assert case.contact_phone == PHONE
    assert case.source == Source.CITIZEN


def test_a_signed_in_reporter_follows_and_sees_their_report(citizen, rules_):
    response = client_for(citizen).post(CASES, report(is_public=False), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["following"] is True
    assert body["reporter"]["is_you"] is True
    assert body["contact"]["email"] == "citizen@example.com"
    assert client_for(citizen).get(f"{CASES}{body['reference']}/").status_code == 200


def test_a_report_by_category_and_address_without_a_station_waits_for_triage(client, lost_item):
    response = client.post(
        CASES,
        report(service=None, station=None, category="lost-item", address="二楼东侧电梯口"),
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["responsible"] is None
    assert response.json()["routing"] == "triage"


def test_a_report_with_photos_keeps_them_private(client, rules_, department_staff):
    response = client.post(
        CASES,
        {**report(), "attachments": [upload("a.png"), upload("b.png")]},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    reference = response.json()["reference"]
    case = Case.objects.get(reference=reference)
    assert case.attachments.count() == 2
    assert not case.attachments.filter(is_public=True).exists()
    assert client.get(f"{CASES}{reference}/").json()["attachments"] == []

    staff = client_for(department_staff).get(f"{CASES}{reference}/").json()
    assert [row["name"] for row in staff["attachments"]] == ["a.png", "b.png"]
    download = client_for(department_staff).get(staff["attachments"][0]["url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "image/png"
    assert b"".join(download.streaming_content).startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 121}, "title"),
        ({"description": "x" * 5001}, "description"),
        ({"service": "NOPE"}, "service"),
        ({"station": "nowhere"}, "station"),
        ({"category": "nope"}, "category"),
        ({"service": None}, "category"),
        ({"station": None}, "address"),
        ({"station": None, "latitude": "30.5"}, "longitude"),
        ({"latitude": "91", "longitude": "104"}, "latitude"),
        ({"contact_phone": "call me"}, "contact_phone"),
        ({"contact_email": "not-an-email"}, "contact_email"),
        ({"priority": "asap"}, "priority"),
        ({"source": "feedback"}, "source"),
        ({"source": "nonsense"}, "source"),
        ({"title": "a\x00b"}, "title"),
        ({"address": "x" * 251}, "address"),
        # The schema's types, not whatever DRF could turn into one.
        ({"title": 123}, "title"),
        ({"description": ["a"]}, "description"),
        ({"is_public": "0"}, "is_public"),
        ({"is_public": 1}, "is_public"),
        ({"latitude": True, "longitude": "104"}, "latitude"),
        ({"latitude": "30.1234567", "longitude": "104"}, "latitude"),
    ],
)
def test_a_bad_report_is_a_400_naming_the_field_and_draws_no_reference(
    client, rules_, values, field
):
    before = sequence_numbers()
    response = client.post(CASES, report(**values), format="json")

    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert Case.objects.count() == 0
    assert sequence_numbers() == before


def test_coordinates_may_be_numbers_or_decimal_strings(client, rules_):
    response = client.post(
        CASES, report(station=None, latitude=30.657, longitude="104.066"), format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["latitude"] == "30.657000"
    assert response.json()["longitude"] == "104.066000"


def test_a_multipart_report_takes_true_and_false_as_words(client, rules_):
    private = client.post(CASES, {**report(), "is_public": "false"}, format="multipart")
    assert private.status_code == 201, private.content
    assert private.json()["is_public"] is False
    vague = client.post(CASES, {**report(), "is_public": "0"}, format="multipart")
    assert vague.status_code == 400
    assert "is_public" in vague.json()


def test_the_actions_take_json_only(public_case, department_staff):
    response = client_for(department_staff).post(
        url(public_case, "reply"), {"body": "好的"}, format="multipart"
    )
    assert response.status_code == 415


def test_a_citizen_may_not_claim_to_be_staff(citizen, rules_):
    response = client_for(citizen).post(CASES, report(source="staff"), format="json")
    assert response.status_code == 403
    assert Case.objects.count() == 0


def test_staff_may_enter_a_staff_report_and_partners_a_partner_one(
    department_staff, partner_staff, rules_
):
    staff = client_for(department_staff).post(CASES, report(source="staff"), format="json")
    partner = client_for(partner_staff).post(CASES, report(source="partner"), format="json")
    assert staff.status_code == 201, staff.content
    assert partner.status_code == 201, partner.content
    assert {case.source for case in Case.objects.all()} == {"staff", "partner"}


def test_text_is_stored_and_returned_as_plain_text(client, rules_, department_staff):
    html = '<script>alert("x")</script><b>粗体</b> &amp;'
    response = client.post(CASES, report(title=html[:120], description=html), format="json")
    assert response.status_code == 201
    case = Case.objects.get(reference=response.json()["reference"])
    assert case.description == html
    body = client.get(f"{CASES}{case.reference}/").json()
    assert body["description"] == html
    reply = client_for(department_staff).post(url(case, "reply"), {"body": html}, format="json")
    assert reply.json()["body"] == html
    assert TimelineEntry.objects.get(pk=reply.json()["id"]).body == html


def test_an_oversized_file_is_a_413_and_nothing_is_created(client, rules_):
    before = sequence_numbers()
    big = upload("big.png", b"\x89PNG" + b"0" * (10 * 1024 * 1024), "image/png")
    response = client.post(CASES, {**report(), "attachments": [big]}, format="multipart")

    assert response.status_code == 413, response.content[:300]
    assert "10 MB" in response.json()["detail"]
    assert Case.objects.count() == 0
    assert Attachment.objects.count() == 0
    assert TimelineEntry.objects.count() == 0
    assert sequence_numbers() == before


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("photo.jpg", b"just some text pretending to be a photo"),
        ("photo.png", b"<html><script>alert(1)</script></html>"),
        ("empty.jpg", b""),
    ],
)
def test_a_disguised_or_empty_file_is_a_400_and_nothing_is_created(client, rules_, name, content):
    before = sequence_numbers()
    disguised = SimpleUploadedFile(name, content, "image/jpeg")
    response = client.post(
        CASES, {**report(), "attachments": [upload(), disguised]}, format="multipart"
    )

    assert response.status_code == 400, response.content[:300]
    messages = response.json()["attachments"]
    assert messages
    assert all(isinstance(message, str) for message in messages)
    assert Case.objects.count() == 0
    assert Attachment.objects.count() == 0
    assert sequence_numbers() == before


def test_a_field_that_is_not_a_file_is_a_400_with_flat_messages(client, rules_):
    response = client.post(CASES, {**report(), "attachments": "{}"}, format="multipart")
    assert response.status_code == 400
    messages = response.json()["attachments"]
    assert messages
    assert all(isinstance(message, str) for message in messages)


def test_more_than_five_files_is_a_400(client, rules_):
    files = [upload(f"{index}.png") for index in range(6)]
    response = client.post(CASES, {**report(), "attachments": files}, format="multipart")
    assert response.status_code == 400
    assert "attachments" in response.json()
    assert Case.objects.count() == 0


def test_anonymous_reports_are_throttled_with_retry_after(client, rules_, citizen, monkeypatch):
    monkeypatch.setattr(
        CaseReportThrottle,
        "THROTTLE_RATES",
        {**CaseReportThrottle.THROTTLE_RATES, "case_report": "2/hour"},
    )
    answers = [client.post(CASES, report(), format="json").status_code for _ in range(3)]

    assert answers == [201, 201, 429]
    refused = client.post(CASES, report(), format="json")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert refused.json()["detail"]
    # Reading is not reporting, and a signed-in citizen has the user rate.
    assert client.get(CASES).status_code == 200
    assert client_for(citizen).post(CASES, report(), format="json").status_code == 201


# Transitions ----------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ALL_ROLES)
def test_only_the_handlers_may_acknowledge(roles, public_case, role):
    response = client_for(roles[role]).post(
        url(public_case, "transition"), {"to": "acknowledged"}, format="json"
    )
    public_case.refresh_from_db()
    if role in HANDLES:
        assert response.status_code == 200, response.content
        assert response.json()["status"] == "acknowledged"
        assert public_case.status == Status.ACKNOWLEDGED
        assert public_case.acknowledged_on_time is True
    else:
        assert response.status_code == 403, response.content
        assert response.json()["detail"]
        assert public_case.status == Status.NEW


def test_a_transition_on_a_private_case_one_may_not_see_is_404(private_case, other_citizen):
    response = client_for(other_citizen).post(
        url(private_case, "transition"), {"to": "acknowledged"}, format="json"
    )
    assert response.status_code == 404


def test_a_transition_the_status_does_not_allow_names_the_allowed_ones(
    public_case, department_staff
):
    response = client_for(department_staff).post(
        url(public_case, "transition"), {"to": "closed"}, format="json"
    )
    assert response.status_code == 400
    message = response.json()["to"][0]
    for allowed in ("已受理", "不予受理", "重复"):
        assert allowed in message

    unknown = client_for(department_staff).post(
        url(public_case, "transition"), {"to": "teleported"}, format="json"
    )
    assert unknown.status_code == 400
    assert "to" in unknown.json()


def test_rejecting_needs_a_reason(public_case, department_staff):
    client = client_for(department_staff)
    refused = client.post(url(public_case, "transition"), {"to": "rejected"}, format="json")
    assert refused.status_code == 400
    assert "reason" in refused.json()
    done = client.post(
        url(public_case, "transition"), {"to": "rejected", "reason": "非本站业务"}, format="json"
    )
    assert done.status_code == 200
    assert done.json()["rejection_reason"] == "非本站业务"
    assert done.json()["allowed_transitions"] == []


def test_marking_a_duplicate_names_the_original_by_reference(
    open_case, public_case, department_staff
):
    second = open_case(title="同一台自助机")
    client = client_for(department_staff)
    unknown = client.post(
        url(second, "transition"),
        {"to": "duplicate", "duplicate_of": "CH-1999-000001"},
        format="json",
    )
    assert unknown.status_code == 400
    assert "duplicate_of" in unknown.json()

    done = client.post(
        url(second, "transition"),
        {"to": "duplicate", "duplicate_of": public_case.reference},
        format="json",
    )
    assert done.status_code == 200, done.content
    assert done.json()["duplicate_of"] == public_case.reference


def test_the_reporter_may_close_or_reopen_their_resolved_case(
    public_case, citizen, other_citizen, department_staff
):
    case = drive(public_case, Status.RESOLVED, actor=department_staff)
    body = client_for(citizen).get(url(case)).json()
    assert [row["status"] for row in body["allowed_transitions"]] == ["closed", "reopened"]
    assert client_for(other_citizen).get(url(case)).json()["allowed_transitions"] == []

    refused = client_for(other_citizen).post(
        url(case, "transition"), {"to": "reopened"}, format="json"
    )
    assert refused.status_code == 403
    reopened = client_for(citizen).post(url(case, "transition"), {"to": "reopened"}, format="json")
    assert reopened.status_code == 200, reopened.content
    assert reopened.json()["status"] == "reopened"
    assert reopened.json()["reopen_count"] == 1


def test_the_reporter_may_not_acknowledge_their_own_case(public_case, citizen):
    response = client_for(citizen).post(
        url(public_case, "transition"), {"to": "acknowledged"}, format="json"
    )
    assert response.status_code == 403


def test_a_triage_case_must_be_routed_before_it_is_acknowledged(open_case, lost_item, triager):
    waiting = open_case(service=None, category=lost_item)
    body = client_for(triager).get(url(waiting)).json()
    assert [row["status"] for row in body["allowed_transitions"]] == ["rejected", "duplicate"]
    response = client_for(triager).post(
        url(waiting, "transition"), {"to": "acknowledged"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()


# Assign, route, co-handlers, due dates --------------------------------------------------------
@pytest.mark.parametrize("role", ALL_ROLES)
def test_only_the_handlers_may_assign(roles, public_case, department_staff, role):
    response = client_for(roles[role]).post(
        url(public_case, "assign"), {"assignee": department_staff.pk}, format="json"
    )
    if role in HANDLES:
        assert response.status_code == 200, response.content
        assert response.json()["assignee"]["id"] == department_staff.pk
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("assignee", ["other_department_staff", "citizen"])
def test_the_assignee_must_act_for_the_responsible_organisation(
    request, public_case, department_admin, assignee
):
    user = request.getfixturevalue(assignee)
    response = client_for(department_admin).post(
        url(public_case, "assign"), {"assignee": user.pk}, format="json"
    )
    assert response.status_code == 400
    assert "assignee" in response.json()


@pytest.mark.parametrize("value", [999_999_999, 10**30, "abc", True])
def test_an_unknown_assignee_is_a_400(public_case, department_admin, value):
    response = client_for(department_admin).post(
        url(public_case, "assign"), {"assignee": value}, format="json"
    )
    assert response.status_code == 400
    assert "assignee" in response.json()


def test_an_assignment_is_cleared_with_null(public_case, department_admin, department_staff):
    services.case_assign(actor=department_admin, case=public_case, assignee=department_staff)
    response = client_for(department_admin).post(
        url(public_case, "assign"), {"assignee": None}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["assignee"] is None


def test_the_triager_routes_a_waiting_case(open_case, lost_item, triager, department, citizen):
    waiting = open_case(service=None, category=lost_item, is_public=False)
    refused = client_for(citizen).post(
        url(waiting, "route"), {"responsible": "hukou"}, format="json"
    )
    assert refused.status_code == 403

    response = client_for(triager).post(
        url(waiting, "route"), {"responsible": "hukou", "note": "户籍相关"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["responsible"]["slug"] == "hukou"
    assert response.json()["routing_explanation"] == "由工作人员人工分派"
    # Private and handed on: the triage desk no longer sees it.
    assert client_for(triager).get(url(waiting)).status_code == 404


def test_routing_to_an_unknown_organisation_is_a_400(open_case, lost_item, triager):
    waiting = open_case(service=None, category=lost_item)
    response = client_for(triager).post(
        url(waiting, "route"), {"responsible": "nope"}, format="json"
    )
    assert response.status_code == 400
    assert "responsible" in response.json()


@pytest.mark.parametrize("role", ALL_ROLES)
def test_only_the_handlers_may_add_a_cohandler(roles, public_case, partner, role):
    response = client_for(roles[role]).post(
        url(public_case, "cohandlers"),
        {"organisation": "mall", "task": "协助调取监控"},
        format="json",
    )
    if role in HANDLES:
        assert response.status_code == 201, response.content
        assert response.json()["organisation"]["slug"] == "mall"
        assert response.json()["task"] == "协助调取监控"
    else:
        assert response.status_code == 403


def test_a_cohandler_twice_or_in_the_past_is_a_400(private_case, department_staff, other_partner):
    client = client_for(department_staff)
    twice = client.post(
        url(private_case, "cohandlers"), {"organisation": "mall", "task": "再来"}, format="json"
    )
    assert twice.status_code == 400
    assert "organisation" in twice.json()
    past = client.post(
        url(private_case, "cohandlers"),
        {"organisation": "bank", "task": "查询", "due_at": "2020-01-01T10:00:00+08:00"},
        format="json",
    )
    assert past.status_code == 400
    assert "due_at" in past.json()


COHANDLER_TASK_ROLES = HANDLES | {"partner_admin", "partner_staff"}


@pytest.mark.parametrize("role", ALL_ROLES)
def test_the_cohandling_organisation_or_the_responsible_one_runs_a_task(
    roles, private_case, partner_staff, role
):
    task = private_case.cohandlers.get()
    response = client_for(roles[role]).post(
        f"{url(private_case)}cohandlers/{task.pk}/assign/",
        {"assignee": partner_staff.pk},
        format="json",
    )
    if role in COHANDLER_TASK_ROLES:
        assert response.status_code == 200, response.content
        assert response.json()["assignee"]["id"] == partner_staff.pk
        assert response.json()["id"] == task.pk
    elif role in SEES_PRIVATE:
        assert response.status_code == 403
    else:
        assert response.status_code == 404


def test_a_cohandling_task_is_completed_with_a_note(private_case, partner_admin, department_staff):
    task = private_case.cohandlers.get()
    done_url = f"{url(private_case)}cohandlers/{task.pk}/done/"
    client = client_for(partner_admin)
    assert client.post(done_url, {"note": ""}, format="json").status_code == 400
    done = client.post(done_url, {"note": "监控已调取"}, format="json")
    assert done.status_code == 200, done.content
    assert done.json()["state"] == "done"
    assert done.json()["done_at"]
    again = client.post(done_url, {"note": "再次"}, format="json")
    assert again.status_code == 400
    detail = client_for(department_staff).get(url(private_case)).json()
    assert detail["cohandlers"][0]["state"] == "done"


def test_a_task_of_another_case_or_none_at_all_is_a_404(
    private_case, public_case, department_staff
):
    task = private_case.cohandlers.get()
    client = client_for(department_staff)
    for path in (
        f"{url(public_case)}cohandlers/{task.pk}/assign/",
        f"{url(private_case)}cohandlers/{10**30}/done/",
    ):
        assert client.post(path, {"assignee": None, "note": "x"}, format="json").status_code == 404


def test_a_cohandling_assignee_must_act_for_that_organisation(private_case, department_staff):
    task = private_case.cohandlers.get()
    response = client_for(department_staff).post(
        f"{url(private_case)}cohandlers/{task.pk}/assign/",
        {"assignee": department_staff.pk},
        format="json",
    )
    assert response.status_code == 400
    assert "assignee" in response.json()


@pytest.mark.parametrize("role", ALL_ROLES)
def test_only_the_handlers_may_move_a_deadline(roles, public_case, role):
    due = (timezone.now() + dt.timedelta(days=30)).isoformat()
    response = client_for(roles[role]).post(
        url(public_case, "due"), {"due_at": due, "reason": "需要外调材料"}, format="json"
    )
    if role in HANDLES:
        assert response.status_code == 200, response.content
        assert response.json()["resolve_due_at"] == response.json()["expected_datetime"]
        public_case.refresh_from_db()
        assert abs(public_case.resolve_due_at - dt.datetime.fromisoformat(due)) < dt.timedelta(
            seconds=1
        )
    else:
        assert response.status_code == 403


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"reason": "x"}, "due_at"),
        ({"due_at": "2030-01-01T00:00:00+08:00"}, "reason"),
        ({"due_at": "2030-01-01T00:00:00+08:00", "reason": " "}, "reason"),
        ({"due_at": "2000-01-01T00:00:00+08:00", "reason": "x"}, "due_at"),
        ({"due_at": "2030-01-01T00:00:00+08:00", "reason": "x", "deadline": "soon"}, "deadline"),
        ({"due_at": "9999-12-31T23:59:59-12:00", "reason": "x"}, "due_at"),
    ],
)
def test_a_bad_deadline_is_a_400_naming_the_field(public_case, department_staff, values, field):
    response = client_for(department_staff).post(url(public_case, "due"), values, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()


# Replies and notes ----------------------------------------------------------------------------
@pytest.mark.parametrize("role", ALL_ROLES)
def test_handlers_and_cohandlers_reply_and_everyone_reads_it(roles, private_case, role):
    response = client_for(roles[role]).post(
        url(private_case, "reply"), {"body": "已安排处理"}, format="json"
    )
    if role in REPLIES:
        assert response.status_code == 201, response.content
        assert response.json()["is_public"] is True
        timeline = client_for(roles["reporter"]).get(url(private_case, "timeline")).json()
        assert "已安排处理" in [row["body"] for row in timeline["results"]]
    elif role in SEES_PRIVATE:
        assert response.status_code == 403
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("role", ALL_ROLES)
def test_internal_notes_are_read_only_by_the_organisations_on_the_case(
    roles, public_case, department_staff, role
):
    services.case_note(actor=department_staff, case=public_case, body="内部：需核实身份")
    timeline = client_for(roles[role]).get(url(public_case, "timeline"))
    assert timeline.status_code == 200
    bodies = [row["body"] for row in timeline.json()["results"]]
    sees_internal = role in {
        "department_admin",
        "department_staff",
        "department_viewer",
        "superuser",
    }
    assert ("内部：需核实身份" in bodies) is sees_internal


@pytest.mark.parametrize("role", ALL_ROLES)
def test_only_the_organisations_on_the_case_may_write_notes(roles, public_case, role):
    response = client_for(roles[role]).post(
        url(public_case, "note"), {"body": "备注"}, format="json"
    )
    assert response.status_code == (201 if role in HANDLES else 403)


@pytest.mark.parametrize("body", ["", "   ", "x" * 5001, 42, None, {"text": "x"}])
def test_a_blank_or_overlong_reply_is_a_400(public_case, department_staff, body):
    response = client_for(department_staff).post(
        url(public_case, "reply"), {"body": body}, format="json"
    )
    assert response.status_code == 400
    assert "body" in response.json()


def test_staff_names_are_shown_only_inside(public_case, department_staff, client):
    department_staff.display_name = "李警官"
    department_staff.save()
    services.case_reply(actor=department_staff, case=public_case, body="好的")
    public = client.get(url(public_case, "timeline")).json()["results"]
    inside = client_for(department_staff).get(url(public_case, "timeline")).json()["results"]
    assert public[-1]["actor"] == "工作人员"
    assert inside[-1]["actor"] == "李警官"


# Following ------------------------------------------------------------------------------------
def test_a_citizen_follows_and_unfollows_a_public_case(public_case, other_citizen, client):
    follower = client_for(other_citizen)
    assert follower.post(url(public_case, "follow")).json() == {"following": True}
    assert follower.get(url(public_case)).json()["following"] is True
    assert follower.post(url(public_case, "unfollow")).json() == {"following": False}
    assert follower.get(url(public_case)).json()["following"] is False

    assert client.post(url(public_case, "follow")).status_code == 403
    assert client.post(url(public_case, "unfollow")).status_code == 403


def test_nobody_follows_a_private_case_they_may_not_see(private_case, other_citizen):
    assert client_for(other_citizen).post(url(private_case, "follow")).status_code == 404


# Attachments ----------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ALL_ROLES)
def test_the_reporter_and_the_organisations_on_the_case_may_attach(roles, private_case, role):
    response = client_for(roles[role]).post(
        url(private_case, "attachments"), {"file": upload()}, format="multipart"
    )
    if role in REPLIES | {"reporter"}:
        assert response.status_code == 201, response.content
        assert response.json()["content_type"] == "image/png"
        assert response.json()["is_public"] is False
    elif role in SEES_PRIVATE:
        assert response.status_code == 403
    else:
        assert response.status_code == 404


def test_a_private_attachment_is_not_downloadable_by_the_public(
    public_case, citizen, department_staff, client
):
    private = services.case_attach(actor=citizen, case=public_case, upload=upload())
    shown = services.case_attach(
        actor=department_staff, case=public_case, upload=upload("shown.png"), is_public=True
    )
    public_detail = client.get(url(public_case)).json()
    assert [row["id"] for row in public_detail["attachments"]] == [shown.pk]
    assert client.get(f"{url(public_case)}attachments/{private.pk}/").status_code == 404
    assert client.get(f"{url(public_case)}attachments/{shown.pk}/").status_code == 200
    staff = client_for(department_staff)
    assert staff.get(f"{url(public_case)}attachments/{private.pk}/").status_code == 200
    assert staff.get(f"{url(public_case)}attachments/{10**30}/").status_code == 404


def test_an_oversized_attachment_is_a_413_and_a_disguised_one_a_400(public_case, citizen):
    client = client_for(citizen)
    big = upload("big.png", b"\x89PNG" + b"0" * (10 * 1024 * 1024))
    too_large = client.post(url(public_case, "attachments"), {"file": big}, format="multipart")
    assert too_large.status_code == 413
    assert too_large.json()["detail"]

    text = SimpleUploadedFile("photo.jpg", b"plain text, not a photo", "image/jpeg")
    disguised = client.post(url(public_case, "attachments"), {"file": text}, format="multipart")
    assert disguised.status_code == 400
    assert disguised.json()["file"]
    assert public_case.attachments.count() == 0
    assert not public_case.timeline.filter(kind="attachment").exists()


def test_a_sixth_attachment_is_a_400(public_case, citizen):
    for index in range(5):
        services.case_attach(actor=citizen, case=public_case, upload=upload(f"{index}.png"))
    response = client_for(citizen).post(
        url(public_case, "attachments"), {"file": upload()}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()


# Filters and ordering -------------------------------------------------------------------------
@pytest.fixture
def spread(open_case, other_service, other_department, lost_item, facility, department_staff):
    """Cases over services, stations, statuses, priorities, sources and days."""
    now = timezone.now()
    cases = {
        "old": open_case(opened_at=now - dt.timedelta(days=40), priority=Priority.LOW),
        "urgent": open_case(priority=Priority.URGENT),
        "traffic": open_case(service=other_service, station=None, address="二环路"),
        "facility": open_case(service=None, category=facility, priority=Priority.HIGH),
        "lost": open_case(service=None, category=lost_item),
    }
    cases["urgent"] = drive(cases["urgent"], Status.ACKNOWLEDGED, actor=department_staff)
    return cases


def listed(query: str, user=None) -> set[str]:
    return set(references(client_for(user).get(f"{CASES}?{query}")))


def test_filters_narrow_the_list(spread, superuser, department_staff):
    refs = {name: case.reference for name, case in spread.items()}
    assert listed("status=acknowledged", superuser) == {refs["urgent"]}
    assert listed("status=acknowledged&status=new", superuser) == set(refs.values())
    assert listed("service=TR-FINE", superuser) == {refs["traffic"]}
    assert listed("category=facility", superuser) == {refs["facility"]}
    assert listed("station=mall-station", superuser) == set(refs.values()) - {refs["traffic"]}
    assert listed("organisation=hukou", superuser) == {refs["old"], refs["urgent"]}
    assert listed("organisation=mall", superuser) == {refs["facility"]}
    assert listed("priority=urgent&priority=high", superuser) == {
        refs["urgent"],
        refs["facility"],
    }
    assert listed("source=citizen", superuser) == set(refs.values())
    assert listed("source=staff", superuser) == set()
    today = timezone.localdate()
    assert listed(f"created_after={today - dt.timedelta(days=1)}", superuser) == set(
        refs.values()
    ) - {refs["old"]}
    assert listed(f"created_before={today - dt.timedelta(days=1)}", superuser) == {refs["old"]}
    assert listed("created_after=0001-01-01&created_before=9999-12-31", superuser) == set(
        refs.values()
    )


def test_the_organisation_filter_finds_cohandled_cases(spread, department_staff, partner):
    services.case_add_cohandler(
        actor=department_staff, case=spread["old"], organisation=partner, task="协助"
    )
    assert listed("organisation=mall") == {spread["facility"].reference, spread["old"].reference}


def test_overdue_lists_open_cases_past_their_resolution_deadline(spread, department_staff):
    late = spread["old"]
    assert late.resolve_due_at < timezone.now()
    assert listed("overdue=true") == {late.reference}
    assert late.reference not in listed("overdue=false")
    resolved = drive(late, Status.RESOLVED, actor=department_staff)
    assert listed("overdue=true") == set()
    assert resolved.reference in listed("overdue=false")


def test_queues_for_staff(spread, department_staff, triager, citizen, superuser):
    refs = {name: case.reference for name, case in spread.items()}
    services.case_assign(actor=department_staff, case=spread["urgent"], assignee=department_staff)
    assert listed("queue=mine", department_staff) == {refs["urgent"]}
    assert listed("queue=department", department_staff) == {refs["old"], refs["urgent"]}
    assert listed("queue=overdue", department_staff) == {refs["old"]}
    # No rule routes the traffic service or lost items: both wait for triage.
    assert listed("queue=triage", triager) == {refs["traffic"], refs["lost"]}
    assert listed("queue=triage", department_staff) == set()
    assert listed("queue=department", citizen) == set()
    assert listed("queue=mine") == set()
    # A superuser's queue is every open case, as on the queue page.
    assert listed("queue=department", superuser) == set(refs.values())


def test_due_soon_lists_cases_due_within_a_day(spread, department_staff, settings):
    soon = spread["urgent"]
    services.case_set_due(
        actor=department_staff,
        case=soon,
        due_at=timezone.now() + dt.timedelta(hours=3),
        reason="加急",
    )
    assert listed("queue=due_soon", department_staff) == {soon.reference}


def test_ordering(spread, superuser):
    by_priority = references(client_for(superuser).get(f"{CASES}?ordering=-priority"))
    assert by_priority[0] == spread["urgent"].reference
    assert by_priority[1] == spread["facility"].reference
    assert by_priority[-1] == spread["old"].reference
    oldest_first = references(client_for(superuser).get(f"{CASES}?ordering=created_at"))
    assert oldest_first[0] == spread["old"].reference
    newest_first = references(client_for(superuser).get(CASES))
    assert newest_first[-1] == spread["old"].reference
    by_due = references(client_for(superuser).get(f"{CASES}?ordering=resolve_due_at"))
    assert by_due[0] == spread["old"].reference
    by_status = references(client_for(superuser).get(f"{CASES}?ordering=-status,created_at"))
    assert by_status[0] == spread["urgent"].reference


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=bogus", "status"),
        ("status=new&status=bogus", "status"),
        ("service=NOPE", "service"),
        ("category=nope", "category"),
        ("station=nowhere", "station"),
        ("organisation=nope", "organisation"),
        ("organisation=%00", "organisation"),
        ("overdue=maybe", "overdue"),
        ("created_after=yesterday", "created_after"),
        ("created_before=2026-13-01", "created_before"),
        ("created_before=", "created_before"),
        ("queue=everything", "queue"),
        ("source=pigeon", "source"),
        ("priority=asap", "priority"),
        ("ordering=title", "ordering"),
        ("ordering=-contact_phone", "ordering"),
        ("page_size=abc", "page_size"),
    ],
)
def test_a_bad_filter_is_a_400_naming_the_field(client, public_case, query, field):
    response = client.get(f"{CASES}?{query}")
    assert response.status_code == 400, response.content[:300]
    assert list(response.json()) == [field]


def test_the_list_is_paginated(open_case, client):
    for _index in range(3):
        open_case()
    first = client.get(f"{CASES}?page_size=2").json()
    assert first["count"] == 3
    assert len(first["results"]) == 2
    assert first["next"]
    assert client.get(f"{CASES}?page=99").status_code == 404


# Query counts ---------------------------------------------------------------------------------
def _many(open_case, department_staff, partner):
    def make(count):
        for index in range(count):
            case = open_case(is_public=index % 2 == 0, contact_phone=PHONE)
            services.case_add_cohandler(
                actor=department_staff, case=case, organisation=partner, task="协助"
            )
            services.case_assign(actor=department_staff, case=case, assignee=department_staff)

    return make


@pytest.mark.parametrize("role", ["anonymous", "reporter", "department_staff", "superuser"])
def test_the_list_runs_a_constant_number_of_queries(
    roles, open_case, department_staff, partner, role
):
    client = client_for(roles[role])
    count = assert_constant_queries(
        lambda: client.get(f"{CASES}?page_size=100"),
        _many(open_case, department_staff, partner),
    )
    assert count <= 8


def test_a_filtered_queue_runs_a_constant_number_of_queries(open_case, department_staff, partner):
    client = client_for(department_staff)
    assert_constant_queries(
        lambda: client.get(f"{CASES}?page_size=100&queue=department&status=new&ordering=-priority"),
        _many(open_case, department_staff, partner),
        check=lambda response, rows: len(response.json()["results"]) == rows,
    )


@pytest.mark.parametrize("role", ["anonymous", "reporter", "department_staff", "partner_staff"])
def test_the_detail_runs_a_constant_number_of_queries(
    roles, public_case, department_staff, partner, other_partner, citizen, role
):
    client = client_for(roles[role])
    services.case_add_cohandler(
        actor=department_staff, case=public_case, organisation=partner, task="协助"
    )
    made = []

    def make(count):
        for _index in range(count):
            made.append(1)
            if len(public_case.attachments.all()) < 5:
                services.case_attach(
                    actor=citizen, case=public_case, upload=upload(), is_public=len(made) % 2 == 0
                )
            services.case_reply(actor=department_staff, case=public_case, body="进展")
            services.case_note(actor=department_staff, case=public_case, body="备注")

    count = assert_constant_queries(lambda: client.get(url(public_case)), make, small=2, large=6)
    assert count <= 12


def test_the_timeline_runs_a_constant_number_of_queries(public_case, department_staff):
    client = client_for(department_staff)

    def make(count):
        for _index in range(count):
            services.case_reply(actor=department_staff, case=public_case, body="进展")
            services.case_note(actor=department_staff, case=public_case, body="备注")

    assert_constant_queries(
        lambda: client.get(f"{url(public_case, 'timeline')}?page_size=100"), make
    )


# Schema ---------------------------------------------------------------------------------------
def test_the_schema_documents_every_case_endpoint_and_its_errors(client):
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = json.loads(schema.content)["paths"]
    prefix = "/api/v1/cases/{reference}/"
    for action in ("transition", "assign", "route", "reply", "note", "cohandlers", "due"):
        responses = paths[f"{prefix}{action}/"]["post"]["responses"]
        assert {"400", "403", "404"} <= set(responses), action
    assert "413" in paths["/api/v1/cases/"]["post"]["responses"]
    assert "429" in paths["/api/v1/cases/"]["post"]["responses"]
    assert "413" in paths[f"{prefix}attachments/"]["post"]["responses"]
    parameters = {p["name"] for p in paths["/api/v1/cases/"]["get"]["parameters"]}
    assert {
        "status",
        "service",
        "station",
        "organisation",
        "overdue",
        "created_after",
        "created_before",
        "queue",
        "ordering",
        "page",
        "page_size",
    } <= parameters
