"""GET requests, requests/{id} and tokens/{token}: public cases only, the spec's fields and
filters, the 90-day rule, the 1,000-row window, never a reporter's contact details."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from governance.cases import services
from governance.cases.models import Case, Open311Request, Status
from governance.cases.open311 import queries
from governance.cases.queries import cases_visible_to
from tests.cases.conftest import at, drive
from tests.cases.open311.conftest import BASE, errors, xml
from tests.query_budget import assert_constant_queries

pytestmark = pytest.mark.django_db


def rows(client, **params) -> list[dict]:
    response = client.get(f"{BASE}/requests.json", params)
    assert response.status_code == 200, response.content
    return response.json()


def ids(client, **params) -> list[str]:
    return [row["service_request_id"] for row in rows(client, **params)]


def test_a_request_carries_the_specs_fields(client, open_case, department, station):
    case = open_case(latitude=Decimal("30.662400"), longitude=Decimal("104.103000"))

    (row,) = rows(client)

    assert row == {
        "service_request_id": case.reference,
        "status": "open",
        "status_notes": None,
        "service_name": case.service.name_zh,
        "service_code": "HK-ID",
        "description": case.description,
        "agency_responsible": department.name_zh,
        "service_notice": None,
        "requested_datetime": case.created_at.astimezone(dt.UTC)
        .astimezone(timezone.get_default_timezone())
        .isoformat(timespec="seconds"),
        "updated_datetime": row["updated_datetime"],
        "expected_datetime": case.resolve_due_at.astimezone(
            timezone.get_default_timezone()
        ).isoformat(timespec="seconds"),
        "address": station.address_zh,
        "address_id": station.slug,
        "zipcode": None,
        "lat": 30.6624,
        "long": 104.103,
        "media_url": None,
    }
    assert row["requested_datetime"].endswith("+08:00")
    assert row["updated_datetime"] >= row["requested_datetime"]


def test_a_case_reported_by_category_has_no_service_code(client, open_case, facility):
    open_case(service=None, category=facility, address="万象城二楼扶梯", station=None)

    (row,) = rows(client)

    assert row["service_code"] is None
    assert row["service_name"] == "设施问题"
    assert row["address"] == "万象城二楼扶梯"
    assert row["address_id"] is None


@pytest.mark.parametrize(
    ("status", "open311_status"),
    [
        (Status.NEW, "open"),
        (Status.ACKNOWLEDGED, "open"),
        (Status.IN_PROGRESS, "open"),
        (Status.REOPENED, "open"),
        (Status.RESOLVED, "closed"),
        (Status.CLOSED, "closed"),
        (Status.REJECTED, "closed"),
    ],
)
def test_case_statuses_map_to_open_and_closed(
    client, open_case, department_staff, status, open311_status
):
    drive(open_case(), status, actor=department_staff)

    (row,) = rows(client)

    assert row["status"] == open311_status


def test_status_notes_give_the_rejection_reason(client, open_case, department_staff):
    drive(open_case(), Status.REJECTED, actor=department_staff)

    assert rows(client)[0]["status_notes"] == "不属于本平台受理范围"


def test_status_notes_give_the_latest_public_reply_not_internal_notes(
    client, open_case, department_staff
):
    case = open_case()
    services.case_reply(actor=department_staff, case=case, body="已安排重新拍照。")
    services.case_reply(actor=department_staff, case=case, body="请周三上午再来。")
    services.case_note(actor=department_staff, case=case, body="内部：设备待维修")

    (row,) = rows(client)

    assert row["status_notes"] == "请周三上午再来。"
    assert row["updated_datetime"] >= row["requested_datetime"]


def test_a_duplicate_points_to_its_original(client, open_case, department_staff):
    original = open_case()
    drive(open_case(), Status.DUPLICATE, actor=department_staff, original=original)

    duplicate = next(row for row in rows(client) if row["service_request_id"] != original.reference)

    assert duplicate["status"] == "closed"
    assert original.reference in duplicate["status_notes"]


def test_private_cases_never_appear(client, open_case, app_client):
    public = open_case()
    private = open_case(is_public=False)
    token = Open311Request.objects.create(case=private, client=app_client).token

    assert ids(client) == [public.reference]
    assert ids(client, service_request_id=f"{public.reference},{private.reference}") == [
        public.reference
    ]
    assert client.get(f"{BASE}/requests/{private.reference}.json").status_code == 404
    assert client.get(f"{BASE}/tokens/{token}.json").status_code == 404


def test_the_open311_rows_are_the_cases_an_anonymous_visitor_may_see(open_case):
    from django.contrib.auth.models import AnonymousUser

    open_case()
    open_case(is_public=False)

    assert set(queries.public_requests().values_list("pk", flat=True)) == set(
        cases_visible_to(AnonymousUser()).values_list("pk", flat=True)
    )


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_reporters_contact_details_are_never_shown(client, open_case, citizen, fmt):
    case = open_case(
        contact_name="张三丰",
        contact_phone="13800138000",
        contact_email="zhang@example.com",
    )
    own = open_case(actor=citizen)

    for path in ("requests", f"requests/{case.reference}", f"requests/{own.reference}"):
        body = client.get(f"{BASE}/{path}.{fmt}").content.decode()
        for secret in ("张三丰", "13800138000", "zhang@example.com", citizen.email):
            assert secret not in body, (path, secret)
        assert citizen.display_name not in body


def test_requests_in_xml(client, open_case):
    case = open_case(description="<script>alert(1)</script> & 更多")

    root = xml(client.get(f"{BASE}/requests.xml"))

    assert root.tag == "service_requests"
    (request,) = root.findall("request")
    assert request.findtext("service_request_id") == case.reference
    assert request.findtext("description") == "<script>alert(1)</script> & 更多"
    assert request.find("zipcode").text is None


def test_one_request_by_id_in_both_formats(client, open_case):
    case = open_case()

    json_rows = client.get(f"{BASE}/requests/{case.reference}.json").json()
    root = xml(client.get(f"{BASE}/requests/{case.reference}.xml"))

    assert [row["service_request_id"] for row in json_rows] == [case.reference]
    assert root.find("request").findtext("service_request_id") == case.reference


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("reference", ["CH-2026-999999", "%00", "x" * 40])
def test_an_unknown_request_is_404(client, fmt, reference):
    response = client.get(f"{BASE}/requests/{reference}.{fmt}")

    assert response.status_code == 404
    assert errors(response, fmt) == [(404, "service_request_id not found")]


def test_a_token_names_its_request(client, open_case, app_client):
    case = open_case()
    sidecar = Open311Request.objects.create(case=case, client=app_client)

    json_rows = client.get(f"{BASE}/tokens/{sidecar.token}.json").json()
    root = xml(client.get(f"{BASE}/tokens/{sidecar.token}.xml"))

    assert json_rows == [{"service_request_id": case.reference, "token": str(sidecar.token)}]
    assert root.find("request/token").text == str(sidecar.token)


@pytest.mark.parametrize("token", ["not-a-uuid", "6f1c3c38-3d8e-4a36-9a51-0e6d1c0f8e11"])
def test_an_unknown_token_is_404(client, token):
    response = client.get(f"{BASE}/tokens/{token}.xml")

    assert response.status_code == 404
    assert errors(response, "xml") == [(404, "token not found")]


# Filters ---------------------------------------------------------------------------------------
def test_service_request_ids_override_the_other_filters(client, open_case):
    old = open_case(opened_at=timezone.now() - dt.timedelta(days=200))
    new = open_case()

    listed = ids(client, service_request_id=f"{old.reference}, {new.reference}", status="closed")

    assert set(listed) == {old.reference, new.reference}


def test_service_code_filters_and_an_unknown_code_is_404(
    client, open_case, other_service, other_department
):
    mine = open_case()
    theirs = open_case(service=other_service)

    assert ids(client, service_code="HK-ID") == [mine.reference]
    assert set(ids(client, service_code="HK-ID,TR-FINE")) == {mine.reference, theirs.reference}
    response = client.get(f"{BASE}/requests.json", {"service_code": "HK-ID,NOPE"})
    assert response.status_code == 404
    assert errors(response) == [(404, "service_code not found")]


def test_status_filters_open_and_closed(client, open_case, department_staff):
    waiting = open_case()
    done = drive(open_case(), Status.RESOLVED, actor=department_staff)

    assert ids(client, status="open") == [waiting.reference]
    assert ids(client, status="closed") == [done.reference]
    assert set(ids(client, status="open,closed")) == {waiting.reference, done.reference}


def test_without_dates_the_window_is_the_last_90_days(client, open_case):
    recent = open_case(opened_at=timezone.now() - dt.timedelta(days=89))
    open_case(opened_at=timezone.now() - dt.timedelta(days=91))

    assert ids(client) == [recent.reference]


def test_dates_select_by_requested_datetime(client, open_case):
    early = open_case(opened_at=at(2026, 3, 2))
    late = open_case(opened_at=at(2026, 5, 20))

    assert ids(client, start_date="2026-03-01T00:00:00+08:00", end_date="2026-04-01T00:00:00Z") == [
        early.reference
    ]
    assert ids(client, start_date="2026-03-01T00:00:00Z") == [late.reference, early.reference]
    assert ids(client, end_date="2026-04-01") == [early.reference]
    assert ids(client, start_date="2026-03-03") == [late.reference]


@pytest.mark.parametrize(
    ("params", "description"),
    [
        (
            {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-04-02T00:00:00Z"},
            "start_date and end_date may not span more than 90 days",
        ),
        (
            {"start_date": "2026-04-01T00:00:00Z", "end_date": "2026-03-01T00:00:00Z"},
            "end_date must not be earlier than start_date",
        ),
        (
            {"start_date": "yesterday"},
            "start_date must be a W3C datetime such as 2026-01-01T00:00:00+08:00",
        ),
        (
            {"end_date": "2026-13-01T00:00:00Z"},
            "end_date must be a W3C datetime such as 2026-01-01T00:00:00+08:00",
        ),
        (
            {"start_date": "0001-01-01T00:00:00+01:00"},
            "start_date must be a W3C datetime such as 2026-01-01T00:00:00+08:00",
        ),
        ({"status": "pending"}, "status must be open, closed or both, comma delimited"),
        ({"service_request_id": "CH-1\x00"}, "service_request_id contains control characters"),
    ],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_bad_filters_are_400_in_the_specs_format(client, params, description, fmt):
    response = client.get(f"{BASE}/requests.{fmt}", params)

    assert response.status_code == 400
    assert errors(response, fmt) == [(400, description)]


def test_exactly_90_days_is_allowed_and_far_dates_do_not_break(client, open_case):
    assert rows(client, start_date="2026-01-01T00:00:00Z", end_date="2026-04-01T00:00:00Z") == []
    assert rows(client, start_date="9999-12-30T00:00:00Z") == []
    assert rows(client, end_date="0001-01-02T00:00:00Z") == []
    assert rows(client, start_date="0500-02-14T10:44:01-16:29") == []


# The window and the query budget ---------------------------------------------------------------
def _copies(template: Case, n: int, *, start: int, **values) -> list[Case]:
    """``n`` public cases like ``template``, written in one statement (opening a thousand
    cases through the service would only make the test slow)."""
    now = timezone.now()
    cases = []
    for number in range(start, start + n):
        copy = Case(
            **{
                field.attname: getattr(template, field.attname)
                for field in Case._meta.concrete_fields
                if not field.primary_key
            }
        )
        copy.reference = f"CH-T-{number:06d}"
        copy.created_at = now - dt.timedelta(minutes=number)
        for name, value in values.items():
            setattr(copy, name, value)
        cases.append(copy)
    return Case.objects.bulk_create(cases)


def test_at_most_1000_requests_newest_first(client, open_case):
    template = open_case()
    _copies(template, 1000, start=1)

    listed = ids(client)

    assert len(listed) == 1000
    assert listed[0] == template.reference
    assert listed[-1] == "CH-T-000999"


def test_requests_run_a_constant_number_of_queries(
    client, open_case, department_staff, app_client, facility, station
):
    """Every joined relation is present on the rows: service or category, station,
    responsible organisation, duplicate's original, Open311 sidecar, public replies."""
    original = open_case()
    made = [0]

    def make_rows(n):
        for _ in range(n):
            made[0] += 1
            case = open_case()
            services.case_reply(actor=department_staff, case=case, body=f"答复 {made[0]}")
            if made[0] % 2:
                Open311Request.objects.create(
                    case=case,
                    client=app_client,
                    address_id=station.slug,
                    media_url="https://example.cn/photo.jpg",
                )
            if made[0] % 5 == 0:
                drive(case, Status.DUPLICATE, actor=department_staff, original=original)
            if made[0] % 7 == 0:
                open_case(service=None, category=facility, address="二楼")

    count = assert_constant_queries(
        lambda: client.get(f"{BASE}/requests.json"),
        make_rows,
        small=3,
        large=20,
        check=lambda response, n: len(response.json()) > n,
        max_queries=2,
    )
    assert count <= 2


def test_the_list_query_reads_no_contact_fields(open_case):
    open_case(contact_phone="13800138000")

    sql = str(queries.public_requests().query)

    assert "contact_" not in sql
    assert '"cases_case"."is_public"' in sql
