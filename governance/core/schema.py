"""The OpenAPI schema generator: drf-spectacular's, plus the error answers every endpoint gives.

Kept apart from ``core.api`` because drf-spectacular's generator imports DRF's generic views,
which import the pagination class named in settings: one module holding both is a cycle.
"""

from __future__ import annotations

from drf_spectacular import openapi as spectacular_openapi

_DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
_FIELD_ERRORS = {
    "type": "object",
    "description": "Field name → messages (or `detail`/`non_field_errors`).",
    "additionalProperties": {
        "oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}]
    },
}


class AutoSchema(spectacular_openapi.AutoSchema):
    """drf-spectacular's schema plus the error answers every endpoint can give.

    Documenting them here, once, keeps the schema honest for clients and for the fuzzer
    (schemathesis checks that every status code it sees is documented).
    """

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses

        def add(code: str, schema: dict, description: str) -> None:
            responses.setdefault(
                code,
                {"content": {"application/json": {"schema": schema}}, "description": description},
            )

        writes = self.method in {"POST", "PUT", "PATCH", "DELETE"}
        has_query = bool(getattr(self.view, "filterset_class", None)) or self._is_list_view()
        if writes or has_query:
            add("400", _FIELD_ERRORS, "Invalid input: the message names the field.")
        # Any request may carry a bad token, which is answered 401 even on public endpoints.
        add("401", _DETAIL, "Authentication credentials were invalid.")
        if writes or getattr(self.view, "permission_classes", None):
            add("403", _DETAIL, "Not allowed.")
        if "{" in self.path or self._is_list_view():
            add("404", _DETAIL, "Not found (or a page past the end).")
        if getattr(self.view, "throttle_classes", None):
            add("429", _DETAIL, "Too many requests; retry after the Retry-After seconds.")
        return responses


def allow_blank_query_choices(result, generator, request, public):
    """A blank choice filter (``?channel=``) means "no filter", as HTML forms send it; say so."""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                schema = parameter.get("schema", {})
                enum = schema.get("enum")
                if parameter.get("in") == "query" and enum and "" not in enum:
                    schema["enum"] = [*enum, ""]
    return result
