"""The proposals API in the OpenAPI schema: generated without a warning (the names of its
components and enums are unambiguous), valid, and documenting every endpoint with the errors
it gives."""

from __future__ import annotations

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db

PREFIX = "/api/v1/proposals/"
ITEM = f"{PREFIX}{{id}}/"
COMMENT = f"{ITEM}comments/{{comment_id}}/"


@pytest.fixture
def paths(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()["paths"]


def responses(paths, path: str, method: str) -> set[str]:
    return set(paths[path][method]["responses"])


def test_the_schema_generates_without_warnings_and_is_valid():
    GENERATOR_STATS.reset()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    warnings = sorted(GENERATOR_STATS._warn_cache) + sorted(GENERATOR_STATS._error_cache)
    GENERATOR_STATS.reset()

    assert warnings == []
    validate_schema(schema)
    enums = schema["components"]["schemas"]
    assert set(enums["ProposalStatusEnum"]["enum"]) == {
        "draft",
        "published",
        "evaluating",
        "accepted",
        "rejected",
        "implemented",
        "withdrawn",
    }
    assert set(enums["AnswerStateEnum"]["enum"]) == {"evaluating", "accepted", "rejected"}


def test_the_schema_documents_every_proposals_endpoint_and_its_errors(paths):
    assert {"get", "post"} <= set(paths[PREFIX])
    assert {"get", "patch"} <= set(paths[ITEM])
    assert "put" not in paths[ITEM]
    assert "delete" not in paths[ITEM]
    assert responses(paths, PREFIX, "post") >= {"201", "400", "401", "403", "413", "429"}
    assert responses(paths, PREFIX, "get") >= {"200", "400", "404"}
    assert responses(paths, ITEM, "get") >= {"200", "404"}
    assert responses(paths, ITEM, "patch") >= {"200", "400", "401", "403", "404", "409"}
    assert set(paths[ITEM]["patch"]["requestBody"]["content"]) == {"application/json"}
    for action in ("publish", "withdraw"):
        assert responses(paths, f"{ITEM}{action}/", "post") >= {"200", "401", "403", "404", "409"}
    assert responses(paths, f"{ITEM}support/", "post") >= {"200", "201", "400", "401", "409"}
    assert responses(paths, f"{ITEM}support/", "delete") >= {"200", "400", "401", "409"}
    assert responses(paths, f"{ITEM}follow/", "post") >= {"200", "401", "403", "404"}
    assert responses(paths, f"{ITEM}follow/", "delete") >= {"200", "401", "404"}
    assert responses(paths, f"{ITEM}comments/", "get") >= {"200", "404"}
    assert responses(paths, f"{ITEM}comments/", "post") >= {"201", "400", "401", "403", "404"}
    assert responses(paths, f"{COMMENT}vote/", "post") >= {"200", "400", "401", "404"}
    assert responses(paths, f"{COMMENT}flag/", "post") >= {"200", "201", "400", "401", "404"}
    assert responses(paths, f"{COMMENT}hide/", "post") >= {"200", "400", "401", "403", "404"}
    assert responses(paths, f"{ITEM}answer/", "post") >= {"201", "400", "401", "403", "404", "409"}


def test_the_schema_documents_the_lists_filters_and_both_request_formats(paths):
    parameters = {parameter["name"] for parameter in paths[PREFIX]["get"]["parameters"]}
    assert {
        "q",
        "category",
        "scope",
        "status",
        "station",
        "service",
        "answered",
        "mine",
        "supported",
        "sort",
        "page",
        "page_size",
    } <= parameters
    assert set(paths[PREFIX]["post"]["requestBody"]["content"]) == {
        "application/json",
        "multipart/form-data",
    }
    assert set(paths[f"{ITEM}answer/"]["post"]["requestBody"]["content"]) == {"application/json"}


def test_a_409_names_its_reason_in_the_schema(client):
    schema = client.get("/api/schema/?format=json").json()
    conflict = schema["paths"][f"{ITEM}support/"]["post"]["responses"]["409"]
    reference = conflict["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    properties = schema["components"]["schemas"][reference]["properties"]
    assert {"detail", "code"} <= set(properties)
