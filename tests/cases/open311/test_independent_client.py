"""/open311/v2/ as a third-party app sees it: through ``georeport`` (PyPI), an independent
GeoReport v2 client, against a live server, in JSON and in XML.

``georeport`` reads services, service definitions and requests; it does not post requests and
knows neither discovery nor tokens, so those go through ``requests``, the HTTP library it is
built on, the way its own calls are made. (The older Open311 clients on PyPI, ``open311`` and
``three``, are Python 2 only.)
"""

from __future__ import annotations

import pytest
import requests
from georeport import GeoReport

from governance.cases.models import Case, Source
from tests.cases.open311.conftest import KEY

pytestmark = pytest.mark.django_db(transaction=True)


def as_list(value) -> list:
    """xmltodict gives one repeated element as a dict and several as a list."""
    return value if isinstance(value, list) else [value]


@pytest.fixture
def _short_lived_connections(monkeypatch):
    """The live server answers each request in a thread of its own; with persistent database
    connections those threads' connections outlive the test and hold the test database open."""
    from django.db import connections

    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)


@pytest.fixture
def world(
    _short_lived_connections,
    live_server,
    app_client,
    service,
    other_service,
    station,
    rules_,
    attributes,
    open_case,
):
    earlier = open_case(description="窗口排队太久", contact_phone="13800138000")
    open_case(is_public=False, description="不公开的事项")
    return {"root": f"{live_server.url}/open311/v2", "earlier": earlier, "station": station}


@pytest.mark.parametrize("output_format", ["json", "xml"])
def test_the_client_reads_the_catalogue(world, output_format):
    georeport = GeoReport(world["root"], output_format=output_format)

    services = as_list(georeport.get_service_list())
    definition = georeport.get_service_definition("HK-ID")

    by_code = {service["service_code"]: service for service in services}
    assert set(by_code) == {"HK-ID", "TR-FINE"}
    assert str(by_code["HK-ID"]["metadata"]).lower() == "true"
    assert str(by_code["TR-FINE"]["metadata"]).lower() == "false"
    assert by_code["HK-ID"]["type"] == "realtime"
    attributes = definition["attributes"]
    if output_format == "xml":
        attributes = as_list(attributes["attribute"])
    assert [attribute["code"] for attribute in attributes] == ["problem", "kiosk", "notice"]
    assert attributes[0]["datatype"] == "singlevaluelist"


def test_a_report_posted_form_encoded_is_read_back_through_the_client(world):
    root = world["root"]
    posted = requests.post(
        f"{root}/requests.json",
        data={
            "api_key": KEY,
            "service_code": "HK-ID",
            "lat": "30.6624",
            "long": "104.103",
            "address_string": "万象城负一楼",
            "description": "自助拍照机无法对焦",
            "attribute[problem]": "photo",
            "email": "citizen@example.cn",
        },
        timeout=10,
    )
    assert posted.status_code == 200, posted.text
    (answer,) = posted.json()
    reference = answer["service_request_id"]

    as_json = GeoReport(root).get_service_request(reference)
    as_xml = GeoReport(root, output_format="xml").get_service_request(reference)
    listed = GeoReport(root).get_service_requests(service_code="HK-ID", status="open")
    token = requests.get(f"{root}/tokens/{answer['token']}.json", timeout=10).json()

    case = Case.objects.get(reference=reference)
    assert case.source == Source.OPEN311
    assert case.contact_email == "citizen@example.cn"
    assert as_json["status"] == "open"
    assert as_json["lat"] == 30.6624
    assert as_json["address"] == "万象城负一楼"
    assert as_xml["service_request_id"] == reference
    assert as_xml["expected_datetime"] == as_json["expected_datetime"]
    assert [row["service_request_id"] for row in listed] == [reference, world["earlier"].reference]
    assert token == [{"service_request_id": reference, "token": answer["token"]}]
    for row in [as_json, *listed]:
        assert "citizen@example.cn" not in str(row)
        assert "13800138000" not in str(row)


def test_a_refused_report_and_an_unknown_service_reach_the_client_as_errors(world):
    root = world["root"]

    refused = requests.post(
        f"{root}/requests.xml", data={"api_key": "wrong", "service_code": "HK-ID"}, timeout=10
    )
    with pytest.raises(requests.HTTPError) as unknown:
        GeoReport(root).get_service_definition("NOPE")
    with pytest.raises(requests.HTTPError) as too_long:
        GeoReport(root).get_service_requests(
            start_date="2026-01-01T00:00:00Z", end_date="2026-06-01T00:00:00Z"
        )

    assert refused.status_code == 403
    assert "<errors><error><code>403</code>" in refused.text
    assert unknown.value.response.status_code == 404
    assert unknown.value.response.json() == [{"code": 404, "description": "service_code not found"}]
    assert too_long.value.response.status_code == 400


def test_discovery_and_the_jurisdiction_the_client_sends(world, settings):
    settings.OPEN311_JURISDICTION_ID = "chenghua.gongzhi.cn"
    root = world["root"]

    discovery = requests.get(f"{root}/discovery.json", timeout=10).json()
    with_jurisdiction = GeoReport(root, jurisdiction="chenghua.gongzhi.cn").get_service_list()
    with pytest.raises(requests.HTTPError) as elsewhere:
        GeoReport(root, jurisdiction="elsewhere").get_service_list()

    assert discovery["endpoints"][0]["url"] == root
    assert len(with_jurisdiction) == 2
    assert elsewhere.value.response.status_code == 404
