"""Open311 fixtures on top of the cases world (tests/cases/conftest.py): the hukou service
``HK-ID`` with two attributes, an app of the department with a known key, and helpers that
call the endpoints and read their JSON or XML."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import pytest

from governance.cases.models import Open311Client, ServiceAttribute
from governance.cases.open311 import keys

KEY = "o311_test-key-0123456789"
BASE = "/open311/v2"


@pytest.fixture
def app_client(department):
    """An app of the hukou department holding :data:`KEY`."""
    return Open311Client.objects.create(
        organisation=department,
        name="市民通",
        key_hash=keys.hash_key(KEY),
        key_prefix=keys.shown_prefix(KEY),
    )


@pytest.fixture
def attributes(service):
    """HK-ID asks which problem (required, single choice) and, optionally, the kiosk number;
    a third, informational one takes no answer."""
    return [
        ServiceAttribute.objects.create(
            service=service,
            code="problem",
            datatype=ServiceAttribute.Datatype.SINGLEVALUELIST,
            required=True,
            description_zh="遇到了什么问题？",
            description_en="What went wrong?",
            order=1,
            values=[
                {"key": "photo", "name_zh": "照片不合格", "name_en": "Photo rejected"},
                {"key": "waiting", "name_zh": "等候过久", "name_en": "Long wait"},
            ],
        ),
        ServiceAttribute.objects.create(
            service=service,
            code="kiosk",
            datatype=ServiceAttribute.Datatype.STRING,
            description_zh="终端编号",
            description_en="Kiosk number",
            datatype_description_zh="例如 K01",
            order=2,
        ),
        ServiceAttribute.objects.create(
            service=service,
            code="notice",
            variable=False,
            datatype=ServiceAttribute.Datatype.TEXT,
            description_zh="请勿填写身份证号。",
            order=3,
        ),
    ]


def xml(response) -> ET.Element:
    assert response["Content-Type"].startswith("text/xml")
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(response.content)  # noqa: S314  (our own answer)


def errors(response, fmt: str = "json") -> list[tuple[int, str]]:
    if fmt == "xml":
        root = xml(response)
        assert root.tag == "errors"
        return [
            (int(error.findtext("code")), error.findtext("description"))
            for error in root.findall("error")
        ]
    return [(error["code"], error["description"]) for error in response.json()]


@pytest.fixture
def report(client, app_client, service, station, rules_, attributes):
    """POST a report; defaults make a valid one at the station."""

    def post(fmt: str = "json", **fields):
        data = {
            "api_key": KEY,
            "service_code": service.service_code,
            "address_id": station.slug,
            "description": "自助机拍的照片模糊",
            "attribute[problem]": "photo",
        }
        data.update(fields)
        data = {key: value for key, value in data.items() if value is not None}
        return client.post(f"{BASE}/requests.{fmt}", data)

    return post
