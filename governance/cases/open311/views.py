"""The GeoReport v2 endpoints: parse, check, call one query or service, answer.

DRF views without authentication (the spec's ``api_key`` is a form field of ``POST requests``,
checked here) and with DRF's throttles; the format comes from the URL's ``.json``/``.xml``.
They stay out of the project's DRF schema (``schema = None``): their contract is the
GeoReport spec, written down for tools in :mod:`governance.cases.open311.openapi`. Every
refusal, including DRF's own (a throttle, an unsupported method, a body that will not parse),
is the spec's ``errors`` list.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from django.views.decorators.http import require_GET
from rest_framework import exceptions
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.cases.open311 import openapi, parsing, queries, representations, services
from governance.cases.open311.errors import Open311Error, not_found
from governance.cases.open311.renderers import Open311JSONRenderer, Open311XMLRenderer


def reply(data, root: str, status: int = 200) -> Response:
    """A response whose XML form has ``root`` as its document element."""
    response = Response(data, status=status)
    response.xml_root = root
    return response


def _as_open311(exc) -> tuple[Open311Error, dict] | None:
    headers = {}
    if isinstance(exc, Open311Error):
        return exc, headers
    if isinstance(exc, DjangoValidationError):
        return Open311Error(400, exc.messages), headers
    if isinstance(exc, DjangoPermissionDenied | exceptions.PermissionDenied):
        return Open311Error(403, str(exc) or "forbidden"), headers
    if isinstance(exc, Http404 | exceptions.NotFound):
        return not_found("resource"), headers
    if isinstance(exc, RequestDataTooBig):
        return Open311Error(413, "request body too large"), headers
    if isinstance(exc, SuspiciousOperation):
        return Open311Error(400, "bad request"), headers
    if isinstance(exc, exceptions.Throttled):
        wait = int(exc.wait or 1)
        headers["Retry-After"] = str(wait)
        return Open311Error(429, f"too many requests; try again in {wait} seconds"), headers
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return Open311Error(
            400, "send the request form-encoded (application/x-www-form-urlencoded)"
        ), headers
    if isinstance(exc, exceptions.APIException):
        return Open311Error(exc.status_code, str(exc.detail)), headers
    return None


def exception_handler(exc, context):
    converted = _as_open311(exc)
    if converted is None:
        return None
    error, headers = converted
    response = reply(error.as_list(), "errors", status=error.code)
    for name, value in headers.items():
        response[name] = value
    return response


class Open311View(APIView):
    schema = None
    authentication_classes = ()
    permission_classes = (AllowAny,)
    renderer_classes = (Open311JSONRenderer, Open311XMLRenderer)
    parser_classes = (FormParser, MultiPartParser)
    # OPTIONS is refused like any other method a resource does not offer.
    metadata_class = None

    def get_exception_handler(self):
        return exception_handler

    @staticmethod
    def jurisdiction(request, form=None) -> None:
        value = (form or {}).get("jurisdiction_id") or request.query_params.get("jurisdiction_id")
        parsing.jurisdiction(value)


class DiscoveryView(Open311View):
    def get(self, request, format=None):
        url = request.build_absolute_uri(reverse("open311:discovery", kwargs={"format": "json"}))
        data = representations.discovery(
            url=url.rsplit("/", 1)[0],
            changeset=queries.catalogue_changed_at(),
            production=not settings.DEBUG,
        )
        return reply(data, "discovery")


class ServiceListView(Open311View):
    def get(self, request, format=None):
        self.jurisdiction(request)
        rows = [representations.service(row) for row in queries.open311_services()]
        return reply(rows, "services")


class ServiceDefinitionView(Open311View):
    def get(self, request, service_code, format=None):
        self.jurisdiction(request)
        service = queries.open311_service(service_code)
        if service is None:
            raise not_found("service_code")
        return reply(representations.definition(service), "service_definition")


def _strings(data) -> MultiValueDict:
    """The form's text fields (an uploaded file is not an answer to anything)."""
    result = MultiValueDict()
    getlist = getattr(data, "getlist", None)
    for key in data:
        values = getlist(key) if getlist else [data[key]]
        result.setlist(key, [value for value in values if isinstance(value, str)])
    return result


class RequestListView(Open311View):
    def get(self, request, format=None):
        self.jurisdiction(request)
        wanted = parsing.request_filter(request.query_params, now=timezone.now())
        service_ids = None
        if wanted.service_codes:
            found = queries.services_by_code(wanted.service_codes)
            if any(code not in found for code in wanted.service_codes):
                raise not_found("service_code")
            service_ids = list(found.values())
        rows = queries.filtered_requests(wanted, service_ids=service_ids)
        return reply([representations.request(case) for case in rows], "service_requests")

    def post(self, request, format=None):
        # DRF reads a form body straight from the stream, past Django's size check.
        length = request.META.get("CONTENT_LENGTH") or "0"
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and length.isdigit() and int(length) > limit:
            raise RequestDataTooBig
        form = _strings(request.data)
        client = queries.client_for_key(form.get("api_key"))
        if client is None:
            raise Open311Error(403, "api_key was not provided or is not valid")
        self.jurisdiction(request, form)
        code = parsing.text("service_code", form.get("service_code"), max_length=40)
        if not code:
            raise Open311Error(400, "service_code was not provided")
        service = queries.open311_service(code)
        if service is None:
            raise not_found("service_code")
        checked = parsing.submission(form, attributes=service.attributes)
        station = None
        if checked.address_id:
            station = queries.open311_station(checked.address_id)
            if station is None:
                raise Open311Error(400, "address_id not found: use a station's identifier")
        sidecar = services.open311_request_submit(
            client=client,
            service=service,
            attributes=service.attributes,
            station=station,
            submission=checked,
        )
        data = representations.created(
            sidecar.case, token=sidecar.token, account_id=checked.account_id
        )
        return reply([data], "service_requests")


class RequestView(Open311View):
    def get(self, request, service_request_id, format=None):
        self.jurisdiction(request)
        case = queries.public_request(service_request_id)
        if case is None:
            raise not_found("service_request_id")
        return reply([representations.request(case)], "service_requests")


class TokenView(Open311View):
    def get(self, request, token, format=None):
        self.jurisdiction(request)
        sidecar = queries.public_token(token)
        if sidecar is None:
            raise not_found("token")
        return reply([representations.token(sidecar)], "service_requests")


class NotFoundView(Open311View):
    """Anything else under the prefix: the spec's 404, in the format the path asks for."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        raise not_found("resource")


@require_GET
def openapi_document(request):
    """The Open311 JSON endpoints as OpenAPI 3, for tools (and the fuzz tests)."""
    return JsonResponse(openapi.document(), json_dumps_params={"ensure_ascii": False})
