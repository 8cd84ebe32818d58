"""The Open311 JSON endpoints as an OpenAPI 3 document, served at ``/open311/v2/openapi.json``.

GeoReport v2 is the contract; this writes it down for tools (schemathesis fuzzes the endpoints
against it in ``tests/cases/open311/test_open311_fuzz.py``). The views are kept out of the DRF
schema at ``/api/schema/``, which describes ``/api/v1/`` only.
"""

from __future__ import annotations

from governance.cases.models import ServiceAttribute
from governance.cases.open311 import parsing

BASE = "/open311/v2"
ERRORS = {"$ref": "#/components/schemas/Errors"}


def _string(**extra) -> dict:
    return {"type": "string", **extra}


def _nullable(schema: dict) -> dict:
    return {**schema, "nullable": True}


def _object(properties: dict, required=None) -> dict:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else list(required),
    }


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _responses(ok: dict, *refusals: int) -> dict:
    responses = {"200": ok}
    text = {
        400: "Bad input (spec: General service error).",
        403: "api_key was not provided or is not valid.",
        404: "Not found (a resource, a service_code or the jurisdiction_id).",
        413: "Request body too large.",
        429: "Too many requests.",
    }
    for code in (*refusals, 429):
        responses[str(code)] = _json(ERRORS, text[code])
    return responses


def _query(name: str, schema: dict, description: str) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def _path(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": _string(minLength=1)}


JURISDICTION = _query(
    "jurisdiction_id",
    _string(),
    "Checked only where the site names one (OPEN311_JURISDICTION_ID).",
)
# What the parser takes: comma-delimited open and closed, blanks and spaces ignored.
STATUS_LIST = r"^\s*(?:(?:open|closed)\s*)?(?:,\s*(?:(?:open|closed)\s*)?)*$"
DATETIME = _string(format="date-time")

SCHEMAS = {
    "Error": _object({"code": {"type": "integer"}, "description": _string()}),
    "Errors": {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/Error"}},
    "Service": _object(
        {
            "service_code": _string(),
            "service_name": _string(),
            "description": _string(),
            "metadata": {"type": "boolean"},
            "type": _string(enum=["realtime", "batch", "blackbox"]),
            "keywords": _string(),
            "group": _string(),
        }
    ),
    "ServiceDefinition": _object(
        {
            "service_code": _string(),
            "attributes": {
                "type": "array",
                "items": _object(
                    {
                        "variable": {"type": "boolean"},
                        "code": _string(),
                        "datatype": _string(enum=list(ServiceAttribute.Datatype.values)),
                        "required": {"type": "boolean"},
                        "datatype_description": _string(),
                        "order": {"type": "integer", "minimum": 0},
                        "description": _string(),
                        "values": {
                            "type": "array",
                            "items": _object({"key": _string(), "name": _string()}),
                        },
                    }
                ),
            },
        }
    ),
    "ServiceRequest": _object(
        {
            "service_request_id": _string(),
            "status": _string(enum=["open", "closed"]),
            "status_notes": _nullable(_string()),
            "service_name": _string(),
            "service_code": _nullable(_string()),
            "description": _string(),
            "agency_responsible": _nullable(_string()),
            "service_notice": _nullable(_string()),
            "requested_datetime": DATETIME,
            "updated_datetime": DATETIME,
            "expected_datetime": _nullable(DATETIME),
            "address": _nullable(_string()),
            "address_id": _nullable(_string()),
            "zipcode": _nullable(_string()),
            "lat": _nullable({"type": "number", "minimum": -90, "maximum": 90}),
            "long": _nullable({"type": "number", "minimum": -180, "maximum": 180}),
            "media_url": _nullable(_string()),
        }
    ),
    "Created": _object(
        {
            "service_request_id": _string(),
            "token": _string(format="uuid"),
            "service_notice": _string(),
            "account_id": _nullable(_string()),
        }
    ),
    "Token": _object({"service_request_id": _string(), "token": _string(format="uuid")}),
    "Discovery": _object(
        {
            "changeset": DATETIME,
            "contact": _string(),
            "key_service": _string(),
            "endpoints": {
                "type": "array",
                "items": _object(
                    {
                        "specification": _string(),
                        "url": _string(),
                        "changeset": DATETIME,
                        "type": _string(enum=["production", "test"]),
                        "formats": {"type": "array", "items": _string()},
                    }
                ),
            },
        }
    ),
}


def _list(name: str) -> dict:
    return {"type": "array", "items": {"$ref": f"#/components/schemas/{name}"}}


SUBMISSION = {
    "type": "object",
    "required": ["api_key", "service_code"],
    "properties": {
        "api_key": _string(),
        "jurisdiction_id": _string(),
        "service_code": _string(maxLength=40),
        "lat": {"type": "number", "minimum": -90, "maximum": 90},
        "long": {"type": "number", "minimum": -180, "maximum": 180},
        "address_string": _string(maxLength=parsing.MAX_ADDRESS),
        "address_id": _string(maxLength=parsing.MAX_ADDRESS_ID),
        "email": _string(maxLength=parsing.MAX_EMAIL),
        "device_id": _string(maxLength=parsing.MAX_IDENTIFIER),
        "account_id": _string(maxLength=parsing.MAX_IDENTIFIER),
        "first_name": _string(maxLength=parsing.MAX_NAME),
        "last_name": _string(maxLength=parsing.MAX_NAME),
        "phone": _string(maxLength=parsing.MAX_PHONE),
        "description": _string(maxLength=parsing.MAX_DESCRIPTION),
        "media_url": _string(maxLength=parsing.MAX_MEDIA_URL),
    },
}


def document() -> dict:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Gongzhi 共治 Open311 GeoReport v2",
            "version": "2",
            "description": (
                "GeoReport v2 (http://wiki.open311.org/GeoReport_v2), JSON form; every "
                "resource is also served as .xml with the spec's element names."
            ),
        },
        "paths": {
            f"{BASE}/discovery.json": {
                "get": {
                    "operationId": "discovery",
                    "responses": _responses(_json(SCHEMAS["Discovery"], "Service discovery.")),
                }
            },
            f"{BASE}/services.json": {
                "get": {
                    "operationId": "services",
                    "parameters": [JURISDICTION],
                    "responses": _responses(_json(_list("Service"), "The catalogue."), 400, 404),
                }
            },
            f"{BASE}/services/{{service_code}}.json": {
                "get": {
                    "operationId": "service_definition",
                    "parameters": [_path("service_code"), JURISDICTION],
                    "responses": _responses(
                        _json(SCHEMAS["ServiceDefinition"], "The service's attributes."), 400, 404
                    ),
                }
            },
            f"{BASE}/requests.json": {
                "get": {
                    "operationId": "requests",
                    "parameters": [
                        JURISDICTION,
                        _query("service_request_id", _string(), "Comma delimited."),
                        _query("service_code", _string(), "Comma delimited."),
                        _query("start_date", DATETIME, "At most 90 days before end_date."),
                        _query("end_date", DATETIME, "At most 90 days after start_date."),
                        _query("status", _string(pattern=STATUS_LIST), "open, closed or both."),
                    ],
                    "responses": _responses(
                        _json(_list("ServiceRequest"), "At most 1,000 requests, newest first."),
                        400,
                        404,
                    ),
                },
                "post": {
                    "operationId": "create_request",
                    "parameters": [JURISDICTION],
                    "requestBody": {
                        "required": True,
                        "content": {"application/x-www-form-urlencoded": {"schema": SUBMISSION}},
                    },
                    "responses": _responses(
                        _json(_list("Created"), "The request was opened."), 400, 403, 404, 413
                    ),
                },
            },
            f"{BASE}/requests/{{service_request_id}}.json": {
                "get": {
                    "operationId": "request",
                    "parameters": [_path("service_request_id"), JURISDICTION],
                    "responses": _responses(
                        _json(_list("ServiceRequest"), "The request, alone in a list."), 400, 404
                    ),
                }
            },
            f"{BASE}/tokens/{{token}}.json": {
                "get": {
                    "operationId": "token",
                    "parameters": [_path("token"), JURISDICTION],
                    "responses": _responses(
                        _json(_list("Token"), "The request a token stands for."), 400, 404
                    ),
                }
            },
        },
        "components": {"schemas": SCHEMAS},
    }
