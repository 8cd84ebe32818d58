"""API plumbing shared by every app's ``api.py``."""

from __future__ import annotations

from urllib.parse import quote

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, pagination, serializers
from rest_framework.views import exception_handler as drf_exception_handler

from governance.core.admin import CappedCountPaginator


class Pagination(pagination.PageNumberPagination):
    """Page-number pagination that refuses a malformed ``page_size`` instead of ignoring it.

    DRF falls back to the default size when ``page_size`` is not a positive integer, so a
    client that sends ``page_size=abc`` never learns its mistake; here it gets a 400 naming
    the parameter. A size above ``max_page_size`` is still capped, as DRF does: the ``next``
    link carries on from there. A ``page`` past the end (or not a number) stays DRF's 404
    "Invalid page".
    """

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    page_size_query_description = _("每页条数，1 到 100，默认 20；超过 100 时按 100 返回。")

    def get_page_number(self, request, paginator):
        # DRF reads a blank ``page`` as page 1; a blank is not a number, and the schema (and the
        # fuzzer) say so: answer it as any other page that is not one.
        if request.query_params.get(self.page_query_param) == "":
            raise exceptions.NotFound(
                self.invalid_page_message.format(page_number='""', message="")
            )
        return super().get_page_number(request, paginator)

    def get_page_size(self, request):
        if self.page_size_query_param not in request.query_params:
            return self.page_size
        raw = request.query_params[self.page_size_query_param]
        digits = raw.lstrip("0")
        if not (digits.isascii() and digits.isdigit()):
            raise exceptions.ValidationError(
                {self.page_size_query_param: [_("每页条数必须是正整数。")]}
            )
        # Past a few digits the exact figure no longer matters (and int() has a length limit).
        return self.max_page_size if len(digits) > 6 else min(int(digits), self.max_page_size)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                # No "maximum": a larger size is accepted and capped (see the description).
                parameter["schema"].update({"minimum": 1, "default": self.page_size})
            elif parameter["name"] == self.page_query_param:
                parameter["schema"].update({"minimum": 1, "default": 1})
        return parameters


class CappedPagination(Pagination):
    """:class:`Pagination` counting at most 10,000 rows: past that ``count`` says 10,000 and
    one narrows with the filters. Counting everything a big list holds cost more than its page
    (bench/README.md)."""

    django_paginator_class = CappedCountPaginator


def flat_messages(errors) -> list[str]:
    """Every message in a nest of DRF errors (a list field's are keyed by the item's index)."""
    if isinstance(errors, dict):
        return [message for value in errors.values() for message in flat_messages(value)]
    if isinstance(errors, list):
        return [message for value in errors for message in flat_messages(value)]
    return [str(errors)]


def parse_input(serializer_class, request) -> dict:
    """The request's body, checked by ``serializer_class``; a 400 maps each field to its
    messages, flat."""
    serializer = serializer_class(data=request.data)
    if not serializer.is_valid():
        raise exceptions.ValidationError(
            {field: flat_messages(errors) for field, errors in serializer.errors.items()}
        )
    return dict(serializer.validated_data)


def exception_handler(exc, context):
    """DRF's handler, plus model validation errors as 400 instead of 500, and refusals of
    signed-in users written to the audit log (DRF catches them before any middleware sees them).
    """
    if isinstance(exc, (exceptions.PermissionDenied, DjangoPermissionDenied)):
        request = context.get("request")
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            from governance.stakeholders.models import AuditEvent
            from governance.stakeholders.services import audit_record

            audit_record(
                action=AuditEvent.Action.PERMISSION_DENIED,
                actor=user,
                request=request,
                detail={"reason": str(getattr(exc, "detail", exc))[:200], "api": True},
            )
    if isinstance(exc, Http404):
        # Django's message names the model in the source language ("No Service matches…");
        # DRF's own is translated and says the same.
        exc = exceptions.NotFound()
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = exceptions.ValidationError(detail)
    return drf_exception_handler(exc, context)


class RowUrlField(serializers.Field):
    """The absolute API URL of a row, reversed once per response instead of once per row.

    ``reverse`` walks the URL resolver each time; on a page of fifty rows with nested links
    that was a fifth of the response time.
    """

    _PLACEHOLDER = "0gongzhi0"

    def __init__(self, view_name: str, lookup_field: str, *, absolute: bool = True, **kwargs):
        self.view_name = view_name
        self.lookup_field = lookup_field
        self.absolute = absolute
        kwargs.update(source="*", read_only=True)
        super().__init__(**kwargs)

    def to_representation(self, instance) -> str:
        cache = self.context.setdefault("_row_url_templates", {})
        key = (self.view_name, self.absolute)
        template = cache.get(key)
        if template is None:
            template = reverse(self.view_name, kwargs={self.lookup_field: self._PLACEHOLDER})
            request = self.context.get("request")
            if self.absolute and request is not None:
                template = request.build_absolute_uri(template)
            cache[key] = template
        return template.replace(self._PLACEHOLDER, quote(str(getattr(instance, self.lookup_field))))


extend_schema_field(OpenApiTypes.URI)(RowUrlField)


@extend_schema_field({"type": "string", "format": "uri-reference"})
class RowPathField(RowUrlField):
    """Like ``RowUrlField``, but the path alone (for links to the site's own pages)."""

    def __init__(self, view_name: str, lookup_field: str, **kwargs):
        super().__init__(view_name, lookup_field, absolute=False, **kwargs)


@extend_schema_field(
    {"type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]$", "example": "10:00"}
)
class HourMinuteField(serializers.TimeField):
    """A time of day as ``HH:MM`` (opening hours need no seconds; OpenAPI's ``time`` does)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("format", "%H:%M")
        super().__init__(**kwargs)
