"""POST requests: an app's report becomes a case (anonymous citizen, source Open311), with
its extras beside it; every refusal is the spec's error and leaves nothing written."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from governance.cases.models import (
    Case,
    CaseSequence,
    Open311Client,
    Open311Request,
    ServiceAttribute,
    Source,
    Status,
    TimelineEntry,
)
from tests.cases.open311.conftest import BASE, KEY, errors, xml
from tests.factories import StationFactory

pytestmark = pytest.mark.django_db


def written() -> tuple[int, ...]:
    return (
        Case.objects.count(),
        Open311Request.objects.count(),
        TimelineEntry.objects.count(),
        sum(CaseSequence.objects.values_list("last", flat=True)),
    )


@pytest.fixture
def nothing_written():
    """Assert, at the end of the test, that no row of a case was written."""
    before = written()
    yield
    assert written() == before


def test_a_report_opens_a_case_for_an_anonymous_citizen(report, department, station, app_client):
    response = report(
        first_name="小明",
        last_name="王",
        email="wang@example.com",
        phone="13800138000",
        account_id="app-user-7",
        device_id="device-42",
        media_url="https://example.cn/photo.jpg",
        **{"attribute[kiosk]": "K01"},
    )

    assert response.status_code == 200, response.content
    (answer,) = response.json()
    case = Case.objects.get()
    sidecar = Open311Request.objects.get()
    assert answer == {
        "service_request_id": case.reference,
        "token": str(sidecar.token),
        "service_notice": answer["service_notice"],
        "account_id": "app-user-7",
    }
    assert case.reference in answer["service_notice"]
    assert case.source == Source.OPEN311
    assert case.reporter is None
    assert case.status == Status.NEW
    assert case.responsible == department
    assert case.station == station
    assert case.title.startswith(f"{case.service.name_zh}：自助机拍的照片模糊")
    assert case.description.startswith("自助机拍的照片模糊\n\n附加信息：")
    assert "- 遇到了什么问题？：照片不合格" in case.description
    assert "- 终端编号：K01" in case.description
    assert (case.contact_name, case.contact_phone, case.contact_email) == (
        "小明 王",
        "13800138000",
        "wang@example.com",
    )
    assert sidecar.case == case
    assert sidecar.client == app_client
    assert sidecar.attributes == {"problem": "photo", "kiosk": "K01"}
    assert (sidecar.address_id, sidecar.device_id, sidecar.account_id) == (
        station.slug,
        "device-42",
        "app-user-7",
    )
    assert sidecar.media_url == "https://example.cn/photo.jpg"
    app_client.refresh_from_db()
    assert app_client.last_used_at == case.created_at
    assert case.timeline.filter(kind=TimelineEntry.Kind.OPENED).exists()


def test_the_report_is_then_readable_as_a_request_without_its_contact(client, report):
    answer = report(email="wang@example.com", phone="13800138000").json()[0]

    (row,) = client.get(f"{BASE}/requests/{answer['service_request_id']}.json").json()
    token = client.get(f"{BASE}/tokens/{answer['token']}.json").json()

    assert row["service_code"] == "HK-ID"
    assert row["media_url"] is None
    assert row["address_id"] == "mall-station"
    assert "wang@example.com" not in str(row)
    assert "13800138000" not in str(row)
    assert token == [{"service_request_id": answer["service_request_id"], "token": answer["token"]}]


def test_a_report_in_xml(report):
    root = xml(report("xml"))

    assert root.tag == "service_requests"
    request = root.find("request")
    assert request.findtext("service_request_id") == Case.objects.get().reference
    assert uuid.UUID(request.findtext("token"))
    assert request.find("account_id").text is None


def test_a_report_placed_by_coordinates_and_address(report):
    response = report(address_id=None, lat="30.6624001", long="104.1030004", address_string="东门")

    assert response.status_code == 200, response.content
    case = Case.objects.get()
    assert (case.latitude, case.longitude) == (Decimal("30.662400"), Decimal("104.103000"))
    assert case.address == "东门"
    assert case.station is None


def test_markup_is_kept_as_plain_text(report):
    report(description="<b>照片</b> & <script>x()</script>")

    assert Case.objects.get().description.startswith("<b>照片</b> & <script>x()</script>")


def test_a_description_of_exactly_4000_characters_is_accepted(report):
    assert report(description="长" * 4000).status_code == 200


def test_a_report_without_description_gets_a_placeholder(report):
    assert report(description=None).status_code == 200

    case = Case.objects.get()
    assert case.title == case.service.name_zh
    assert case.description.startswith("（通过 Open311 应用报告，未填写描述。）")


def test_list_number_and_datetime_attributes(client, app_client, service, station, rules_):
    for order, (code, datatype, values) in enumerate(
        [
            ("issues", ServiceAttribute.Datatype.MULTIVALUELIST, ["print", "frozen", "faint"]),
            ("pages", ServiceAttribute.Datatype.NUMBER, []),
            ("seen", ServiceAttribute.Datatype.DATETIME, []),
        ],
        start=1,
    ):
        ServiceAttribute.objects.create(
            service=service,
            code=code,
            datatype=datatype,
            description_zh=code,
            order=order,
            values=[{"key": key, "name_zh": f"选项{key}"} for key in values],
        )

    response = client.post(
        f"{BASE}/requests.json",
        {
            "api_key": KEY,
            "service_code": "HK-ID",
            "address_id": station.slug,
            "attribute[issues][]": ["print", "frozen", "print"],
            "attribute[pages]": "3.50",
            "attribute[seen]": "2026-10-20T02:30:00Z",
        },
    )

    assert response.status_code == 200, response.content
    assert Open311Request.objects.get().attributes == {
        "issues": ["print", "frozen"],
        "pages": "3.50",
        "seen": "2026-10-20T10:30:00+08:00",
    }
    assert "- issues：选项print、选项frozen" in Case.objects.get().description


# Refusals --------------------------------------------------------------------------------------
@pytest.mark.usefixtures("nothing_written")
@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("key", [None, "", "wrong", "x" * 500])
def test_a_missing_or_wrong_api_key_is_403(report, fmt, key):
    response = report(fmt, api_key=key)

    assert response.status_code == 403
    assert errors(response, fmt) == [(403, "api_key was not provided or is not valid")]


@pytest.mark.usefixtures("nothing_written")
def test_a_revoked_key_is_403(report, app_client):
    app_client.is_active = False
    app_client.save()

    assert report().status_code == 403


@pytest.mark.usefixtures("nothing_written")
def test_another_apps_key_does_not_open_this_one(report, department):
    Open311Client.objects.create(
        organisation=department, name="其他", key_hash="0" * 64, key_prefix="o311_other"
    )

    assert report(api_key="0" * 64).status_code == 403


@pytest.mark.usefixtures("nothing_written")
@pytest.mark.parametrize(
    ("jurisdiction", "status", "description"),
    [
        (None, 400, "jurisdiction_id was not provided"),
        ("elsewhere", 404, "jurisdiction_id not found"),
    ],
)
def test_a_configured_jurisdiction_is_checked_on_post(
    report, settings, jurisdiction, status, description
):
    settings.OPEN311_JURISDICTION_ID = "chenghua"

    response = report(jurisdiction_id=jurisdiction)

    assert response.status_code == status
    assert errors(response) == [(status, description)]


def test_the_configured_jurisdiction_lets_the_report_in(report, settings):
    settings.OPEN311_JURISDICTION_ID = "chenghua"

    assert report(jurisdiction_id="chenghua").status_code == 200


@pytest.mark.usefixtures("nothing_written")
@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    ("fields", "status", "description"),
    [
        ({"service_code": None}, 400, "service_code was not provided"),
        ({"service_code": "  "}, 400, "service_code was not provided"),
        ({"service_code": "NOPE"}, 404, "service_code not found"),
        ({"service_code": "NO\x00PE"}, 400, "service_code contains control characters"),
        (
            {"address_id": None},
            400,
            "a location is required: lat and long, address_string or address_id",
        ),
        ({"lat": "30.5"}, 400, "lat and long must be given together"),
        ({"lat": "north", "long": "104"}, 400, "lat must be a number"),
        ({"lat": "91", "long": "104"}, 400, "lat must be a number between -90 and 90"),
        ({"lat": "30", "long": "NaN"}, 400, "long must be a number between -180 and 180"),
        ({"lat": "30", "long": "-Infinity"}, 400, "long must be a number between -180 and 180"),
        ({"description": "长" * 4001}, 400, "description is longer than 4000 characters"),
        ({"description": "照片\x00模糊"}, 400, "description contains control characters"),
        ({"address_string": "路" * 251}, 400, "address_string is longer than 250 characters"),
        ({"email": "not-an-address"}, 400, "email is not valid"),
        ({"phone": "call me"}, 400, "phone is not valid"),
        ({"media_url": "javascript:alert(1)"}, 400, "media_url is not valid"),
        ({"device_id": "d" * 101}, 400, "device_id is longer than 100 characters"),
        (
            {"first_name": "名" * 50, "last_name": "姓" * 40},
            400,
            "first_name and last_name together are longer than 80 characters",
        ),
        ({"address_id": "nowhere"}, 400, "address_id not found: use a station's identifier"),
        ({"attribute[problem]": None}, 400, "attribute[problem] is required"),
        ({"attribute[problem]": "broken"}, 400, "attribute[problem] has no value 'broken'"),
        (
            {"attribute[colour]": "red"},
            400,
            "attribute[colour] is not an attribute of this service",
        ),
        ({"attribute[notice]": "x"}, 400, "attribute[notice] is not an attribute of this service"),
        ({"attribute[kiosk]": "k" * 251}, 400, "attribute[kiosk] is longer than 250 characters"),
        ({"attribute": "x"}, 400, "attribute is not of the form attribute[code]"),
    ],
)
def test_bad_input_is_refused_in_the_specs_format(report, fmt, fields, status, description):
    response = report(fmt, **fields)

    assert response.status_code == status, response.content
    assert errors(response, fmt) == [(status, description)]


@pytest.mark.usefixtures("nothing_written")
def test_every_problem_is_reported_at_once(report):
    response = report(lat="100", long="east", email="nope", **{"attribute[problem]": None})

    assert response.status_code == 400
    assert {description for _code, description in errors(response)} == {
        "lat must be a number between -90 and 90",
        "long must be a number",
        "email is not valid",
        "attribute[problem] is required",
    }


@pytest.mark.usefixtures("nothing_written")
def test_an_inactive_station_is_not_a_place(report):
    StationFactory(slug="closed-station", is_active=False)

    assert report(address_id="closed-station").status_code == 400


@pytest.mark.usefixtures("nothing_written")
def test_a_description_and_answers_longer_than_a_case_holds_are_refused(report, service):
    ServiceAttribute.objects.create(
        service=service,
        code="story",
        datatype=ServiceAttribute.Datatype.TEXT,
        description_zh="经过",
        order=9,
    )

    # 4,000 + 2,000 characters: each within its bound, together longer than a case holds.
    response = report(description="长" * 4000, **{"attribute[story]": "短" * 2000})

    assert response.status_code == 400
    ((code, description),) = errors(response)
    assert code == 400
    assert description == (
        "description and the answers to the attributes are longer than 5000 characters together"
    )


@pytest.mark.usefixtures("nothing_written")
def test_a_failure_after_the_case_was_opened_rolls_the_case_back(report, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise ValidationError({"media_url": "refused"})

    monkeypatch.setattr(Open311Request, "full_clean", refuse)

    response = report()

    assert response.status_code == 400
    assert errors(response) == [(400, "refused")]


@pytest.mark.usefixtures("nothing_written")
def test_a_json_body_is_refused_with_the_specs_error(client, app_client, service):
    response = client.post(
        f"{BASE}/requests.json",
        {"api_key": KEY, "service_code": "HK-ID"},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert errors(response) == [
        (400, "send the request form-encoded (application/x-www-form-urlencoded)")
    ]


@pytest.mark.usefixtures("nothing_written")
def test_an_oversized_body_is_413(report, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2000

    response = report(description="长" * 1000)

    assert response.status_code == 413
    assert errors(response) == [(413, "request body too large")]


def test_too_many_requests_are_429_in_the_specs_format(client, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "2/min", "user": "2/min"})

    responses = [client.get(f"{BASE}/services.xml") for _ in range(3)]

    assert [response.status_code for response in responses] == [200, 200, 429]
    (code, description), *_rest = errors(responses[-1], "xml")
    assert code == 429
    assert "too many requests" in description
    assert int(responses[-1]["Retry-After"]) > 0
