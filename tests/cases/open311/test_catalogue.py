"""discovery, services and services/{code}: JSON and XML, the spec's fields, its errors."""

from __future__ import annotations

import pytest

from tests.cases.open311.conftest import BASE, errors, xml
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db


def test_discovery_names_the_endpoint_and_both_formats(client):
    data = client.get(f"{BASE}/discovery.json").json()

    endpoint = data["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    assert {"changeset", "contact", "key_service"} <= set(data)


def test_discovery_in_xml_lists_formats_as_format_elements(client):
    root = xml(client.get(f"{BASE}/discovery.xml"))

    assert root.tag == "discovery"
    formats = root.findall("endpoints/endpoint/formats/format")
    assert [element.text for element in formats] == ["text/xml", "application/json"]


def test_services_list_the_active_catalogue_with_metadata_where_attributes_exist(
    client, service, other_service, attributes
):
    ServiceFactory(service_code="OLD-1", department=service.department, is_active=False)

    rows = {row["service_code"]: row for row in client.get(f"{BASE}/services.json").json()}

    assert set(rows) == {"HK-ID", "TR-FINE"}
    assert rows["HK-ID"] == {
        "service_code": "HK-ID",
        "service_name": service.name_zh,
        "description": service.description_zh,
        "metadata": True,
        "type": "realtime",
        "keywords": ", ".join(service.keyword_list),
        "group": service.department.short_name or service.department.name_zh,
    }
    assert rows["TR-FINE"]["metadata"] is False


def test_services_speak_english_when_asked(client, service):
    rows = client.get(f"{BASE}/services.json", HTTP_ACCEPT_LANGUAGE="en").json()

    assert rows[0]["service_name"] == service.name_en


def test_services_in_xml(client, service, attributes):
    root = xml(client.get(f"{BASE}/services.xml"))

    assert root.tag == "services"
    (element,) = root.findall("service")
    assert element.findtext("service_code") == "HK-ID"
    assert element.findtext("metadata") == "true"
    assert element.findtext("type") == "realtime"


def test_a_service_without_active_attributes_says_metadata_false(client, service, attributes):
    for attribute in attributes:
        attribute.is_active = False
        attribute.save()

    (row,) = client.get(f"{BASE}/services.json").json()

    assert row["metadata"] is False


def test_service_definition_lists_active_attributes_in_order_with_datatypes(
    client, service, attributes
):
    data = client.get(f"{BASE}/services/HK-ID.json").json()

    assert data["service_code"] == "HK-ID"
    assert [item["code"] for item in data["attributes"]] == ["problem", "kiosk", "notice"]
    problem, kiosk, notice = data["attributes"]
    assert problem == {
        "variable": True,
        "code": "problem",
        "datatype": "singlevaluelist",
        "required": True,
        "datatype_description": "",
        "order": 1,
        "description": "遇到了什么问题？",
        "values": [{"key": "photo", "name": "照片不合格"}, {"key": "waiting", "name": "等候过久"}],
    }
    assert kiosk["datatype"] == "string"
    assert kiosk["datatype_description"] == "例如 K01"
    assert kiosk["values"] == []
    assert notice["variable"] is False


def test_service_definition_in_xml_nests_attributes_and_values(client, service, attributes):
    root = xml(client.get(f"{BASE}/services/HK-ID.xml"))

    assert root.tag == "service_definition"
    assert root.findtext("service_code") == "HK-ID"
    first = root.find("attributes/attribute")
    assert first.findtext("variable") == "true"
    assert first.findtext("datatype") == "singlevaluelist"
    values = first.findall("values/value")
    assert [(value.findtext("key"), value.findtext("name")) for value in values] == [
        ("photo", "照片不合格"),
        ("waiting", "等候过久"),
    ]


def test_a_service_without_attributes_has_an_empty_definition(client, service):
    assert client.get(f"{BASE}/services/HK-ID.json").json() == {
        "service_code": "HK-ID",
        "attributes": [],
    }


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("code", ["NOPE", "hk-id", "OLD-1", "%00", "x" * 300])
def test_unknown_or_inactive_service_code_is_404_service_code_not_found(client, service, fmt, code):
    ServiceFactory(service_code="OLD-1", department=service.department, is_active=False)

    response = client.get(f"{BASE}/services/{code}.{fmt}")

    assert response.status_code == 404
    assert errors(response, fmt) == [(404, "service_code not found")]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_paths_under_the_prefix_answer_the_specs_404(client, fmt):
    response = client.get(f"{BASE}/nothing/here.{fmt}")

    assert response.status_code == 404
    assert errors(response, fmt) == [(404, "resource not found")]


def test_a_method_the_resource_does_not_offer_is_405_in_the_specs_form(client):
    response = client.post(f"{BASE}/services.json")

    assert response.status_code == 405
    assert errors(response)[0][0] == 405


# Jurisdiction ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path", ["services.json", "services/HK-ID.json", "requests.json", "tokens/x.json"]
)
def test_jurisdiction_id_is_not_checked_when_none_is_configured(client, service, path):
    response = client.get(f"{BASE}/{path}", {"jurisdiction_id": "anything"})

    assert response.status_code in {200, 404}
    assert "jurisdiction" not in response.content.decode()


@pytest.mark.parametrize("path", ["services", "services/HK-ID", "requests"])
@pytest.mark.parametrize(
    ("jurisdiction", "status", "description"),
    [
        (None, 400, "jurisdiction_id was not provided"),
        ("elsewhere.example", 404, "jurisdiction_id not found"),
    ],
)
def test_a_configured_jurisdiction_must_be_sent_and_match(
    client, settings, service, path, jurisdiction, status, description
):
    settings.OPEN311_JURISDICTION_ID = "chenghua.gongzhi.cn"
    params = {"jurisdiction_id": jurisdiction} if jurisdiction else {}

    refused = client.get(f"{BASE}/{path}.xml", params)
    accepted = client.get(f"{BASE}/{path}.json", {"jurisdiction_id": "chenghua.gongzhi.cn"})

    assert refused.status_code == status
    assert errors(refused, "xml") == [(status, description)]
    assert accepted.status_code == 200
