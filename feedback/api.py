"""The feedback API: ``/api/v1/feedback/``.

- ``POST /feedback/``: an online rating, a suggestion, a complaint or praise (JSON, or
  multipart with one ``photo``), signed in or not.
- ``GET /feedback/``: the caller's own feedback; ``GET /feedback/inbox/``: the feedback of the
  caller's organisations, with filters; ``GET /feedback/{id}/``: one of either.
- ``POST /feedback/{id}/reply/``, ``hide/``, ``appeal/``: the organisation's staff;
  ``POST /feedback/{id}/rerate/``: the rater's verdict on a rectification (the author signed
  in, or anyone holding the re-rating link's token).
- ``POST /feedback/visit-ratings/``: a visit's rating from its signed link (the counter's QR
  code); ``GET /feedback/visit-ratings/{token}/``: what the rating page shows.
- ``GET /feedback/rating-link/?visit=<id>``: the link and QR code a kiosk or queue system
  shows after a visit, for the staff of the visit's department or of the station's host.

Every write is one function of ``services``; the reads come from ``queries``; the actions ask
``rules`` before they look at the input (but re-rating, whose permission may be the token in
its input). A visit rating reads nothing from the database: the
link carries what the row needs, throttling counts in the cache, and an anonymous caller's
session is never loaded, so the request's one statement is the insert.

The QR rating is the site's busiest write, and DRF's handling of a request (its ``Request``,
content negotiation, the serializer's copy of its fields, the renderer) cost more than the
insert. Its common case, an anonymous JSON rating in the shape the serializer accepts
unchanged, takes :func:`visit_rate_front`, a plain view resolved ahead of every other URL:
the same throttles, the same service, the same answer (its 429 included). Everything else,
every other error included, is answered by the DRF action as before (bench/README.md has the
figures).

Abuse: anonymous submissions (the three ``POST``s that write feedback) are throttled per
client address and per device (``X-Device-Id`` header or the pages' ``gz_device`` cookie), at
the ``feedback_anon`` and ``feedback_device`` rates (10 a minute; signed-in callers keep the
general ``user`` rate); a filled honeypot field ``website`` is refused with a 400 and nothing
written (a 400 rather than a feigned success: the field is hidden from people, so only
software fills it, and the refusal costs nothing); an ``idempotency_key`` (or
``Idempotency-Key`` header) sent twice answers with the first record. A forged link is a
400 (404 when it is the path of a ``GET``), an expired one a 410, a visit rated before a 409
with that rating.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from contextlib import contextmanager

import segno
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import FileResponse, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle

from feedback import queries, services, tokens
from feedback.filters import FeedbackFilter
from feedback.models import LEVELS, MAX_COMMENT, Channel, Feedback
from feedback.rules import is_author
from feedback.serializers import (
    REASON_CODES,
    AlreadyRatedSerializer,
    AppealInputSerializer,
    AppealOutputSerializer,
    FeedbackOutputSerializer,
    FeedbackSubmitInputSerializer,
    HideInputSerializer,
    RatingLinkQuerySerializer,
    RatingLinkSerializer,
    ReplyInputSerializer,
    RerateInputSerializer,
    VisitRateInputSerializer,
    VisitRatingOutputSerializer,
    VisitRatingPageSerializer,
    level_rows,
    visit_rating_output,
)
from governance.cases.api import ATTACHMENT_ERRORS, TOO_LARGE, PayloadTooLarge
from governance.cases.attachments import EXTENSIONS
from governance.cases.serializers import DetailSerializer
from governance.core.api import exception_handler

DEVICE_HEADER = "X-Device-Id"
DEVICE_META = "HTTP_X_DEVICE_ID"  # the header in ``request.META``
DEVICE_COOKIE = "gz_device"
DEVICE_PATTERN = re.compile(r"[A-Za-z0-9_.:-]{8,64}")
IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_META = "HTTP_IDEMPOTENCY_KEY"
JSON_ONLY = (JSONParser,)
PLACEHOLDER = 9081726354
SUBMITTING = frozenset({"create", "visit_rate", "rerate"})
PUBLIC = SUBMITTING | {"visit_rating"}
# Codes of a service's refusal that are about the row's state, not the input.
CONFLICTS = frozenset({"already_rerated", "not_rectified", "appeal_pending", "already_excluded"})

GONE = OpenApiResponse(DetailSerializer, description="The link has expired.")
CONFLICT = OpenApiResponse(DetailSerializer, description="The feedback's state refuses it.")
NOT_FOUND = OpenApiResponse(DetailSerializer, description="Not found.")
BAD_INPUT = OpenApiResponse(
    OpenApiTypes.OBJECT, description="Invalid input: the message names the field."
)
SUBMIT_HEADERS = [
    OpenApiParameter(
        IDEMPOTENCY_HEADER,
        OpenApiTypes.UUID,
        OpenApiParameter.HEADER,
        description=str(_("幂等键，与请求体中的 idempotency_key 相同（二者都填时须一致）。")),
    ),
    OpenApiParameter(
        DEVICE_HEADER,
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        description=str(_("设备标识（8 到 64 个字母、数字或 _.:-），匿名提交按设备限流。")),
    ),
]


class LinkGone(exceptions.APIException):
    status_code = status.HTTP_410_GONE
    default_detail = _("这个链接已经过期。")
    default_code = "expired"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("当前状态下不能这样操作。")
    default_code = "conflict"


def device_id(request) -> str:
    """The caller's device identifier (header first, then cookie), or "" when absent or not
    one the pages would have made."""
    value = request.META.get(DEVICE_META) or request.COOKIES.get(DEVICE_COOKIE) or ""
    return value if DEVICE_PATTERN.fullmatch(value) else ""


class FeedbackAnonThrottle(AnonRateThrottle):
    """Anonymous submissions per client address (``feedback_anon`` rate)."""

    scope = "feedback_anon"


class FeedbackDeviceThrottle(SimpleRateThrottle):
    """Anonymous submissions per device (``feedback_device`` rate): many people behind one
    address each have their own count, and one device cannot hide behind several addresses."""

    scope = "feedback_device"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            return None
        device = device_id(request)
        if not device:
            return None
        ident = hashlib.sha256(device.encode()).hexdigest()[:32]
        return self.cache_format % {"scope": self.scope, "ident": ident}


class SignedInRateThrottle(UserRateThrottle):
    """The general ``user`` rate, for signed-in callers only (anonymous ones have the feedback
    rates)."""

    def get_cache_key(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return None
        return super().get_cache_key(request, view)


def _parse(serializer_class, request, data=None) -> dict:
    serializer = serializer_class(data=request.data if data is None else data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _idempotency_key(request, in_body: uuid.UUID | None) -> uuid.UUID | None:
    header = request.headers.get(IDEMPOTENCY_HEADER)
    if not header:
        return in_body
    try:
        key = uuid.UUID(header.strip())
    except ValueError:
        raise exceptions.ValidationError(
            {"idempotency_key": [_("请求头 Idempotency-Key 必须是 UUID。")]}
        ) from None
    if in_body is not None and in_body != key:
        raise exceptions.ValidationError(
            {"idempotency_key": [_("请求头 Idempotency-Key 与请求体中的幂等键不一致。")]}
        )
    return key


def _codes(exc: DjangoValidationError) -> set[str]:
    if hasattr(exc, "error_dict"):
        errors = [error for group in exc.error_dict.values() for error in group]
    else:
        errors = exc.error_list
    return {error.code for error in errors if error.code}


@contextmanager
def _service_errors():
    """A photo over the limit is a 413 and a refused photo a 400 on ``photo``; a refusal
    because of the row's state is a 409; other refusals stay 400s naming their field."""
    try:
        yield
    except DjangoValidationError as exc:
        codes = _codes(exc)
        if "too_large" in codes:
            raise PayloadTooLarge(exc.messages[0]) from exc
        if not hasattr(exc, "error_dict"):
            if codes & ATTACHMENT_ERRORS:
                raise exceptions.ValidationError({"photo": exc.messages}) from exc
            if codes & CONFLICTS:
                raise Conflict(exc.messages[0]) from exc
        raise


def _bad_link(exc: tokens.BadLink, *, field: str | None):
    """A forged link names its field (``field``) in a 400, or is a 404 in a path; an expired
    one is a 410."""
    if exc.code == "expired":
        return LinkGone(exc.message)
    if field is None:
        return exceptions.NotFound(exc.message)
    return exceptions.ValidationError({field: [exc.message]})


def rating_page_url(request, token: str) -> str:
    return request.build_absolute_uri(reverse("feedback:rate", args=[token]))


class Reader:
    """What the caller may see of each row, from ``rules`` (their seats are read once), and
    the rows' URLs."""

    def __init__(self, request):
        self.request = request
        self.user = request.user
        self._templates: dict[str, str] = {}

    def contact(self, feedback: Feedback) -> bool:
        return self.user.has_perm("feedback.view_feedback_contact", feedback)

    def moderates(self, feedback: Feedback) -> bool:
        return self.user.has_perm("feedback.moderate_feedback", feedback)

    def url(self, view_name: str, feedback: Feedback) -> str:
        # Reversed once per response, not once per row (as ``core.api.RowUrlField``, whose
        # placeholder is no id).
        template = self._templates.get(view_name)
        if template is None:
            template = reverse(view_name, kwargs={"pk": PLACEHOLDER})
            if self.request is not None:
                template = self.request.build_absolute_uri(template)
            self._templates[view_name] = template
        return template.replace(str(PLACEHOLDER), str(feedback.pk))


# The QR rating's fast path --------------------------------------------------------------------
# The text fields of ``VisitRateInputSerializer`` and their limits.
FAST_TEXT = {"comment": MAX_COMMENT, "contact_name": 80, "contact_phone": 20}
FAST_KEYS = frozenset({"token", "level", "reasons", "idempotency_key", "contact_email", "website"})
FAST_KEYS |= FAST_TEXT.keys()
FAST_COUNTED = "gongzhi_rating_throttled"
# A rating's largest body (every text at its limit, in three-byte characters) is under 8 KiB.
FAST_MAX_BYTES = 16 * 1024
TOKEN_PATTERN = re.compile(r"[-A-Za-z0-9_:.]{1,400}")
SURROGATES = re.compile("[\ud800-\udfff]")
RENDER_JSON = {"ensure_ascii": False, "separators": (",", ":")}


def _plain_text(value, limit: int) -> bool:
    """Text ``TextField`` would take unchanged: a string within its limit, nothing to trim,
    no NUL or lone surrogate (DRF refuses those)."""
    return (
        isinstance(value, str)
        and len(value) <= limit
        and value == value.strip()
        and "\x00" not in value
        and not SURROGATES.search(value)
    )


def fast_rating_values(request) -> dict | None:
    """The values of an anonymous JSON rating that ``VisitRateInputSerializer`` would
    validate unchanged (a test holds the two together), or None for anything else: signed-in
    callers, forms, unknown keys, text to trim, a contact e-mail, anything odd; and whatever
    DRF would answer otherwise than with JSON or refuse before parsing (a query string such as
    ``?format=api``, an ``Accept`` without JSON, a body larger than a rating, or not UTF-8).
    Reads the body and nothing else; writes nothing."""
    meta = request.META
    if request.content_type != "application/json" or "HTTP_AUTHORIZATION" in meta:
        return None
    if request.content_params.get("charset", "utf-8").lower() not in ("utf-8", "utf8"):
        return None
    accept = meta.get("HTTP_ACCEPT", "*/*")
    if meta.get("QUERY_STRING") or ("json" not in accept and "*/*" not in accept):
        return None
    try:
        if int(meta.get("CONTENT_LENGTH") or 0) > FAST_MAX_BYTES:
            return None
        data = json.loads(request.body.decode("utf-8"))  # strict: no BOM, no UTF-16
    except ValueError:  # a bad length, JSONDecodeError and UnicodeDecodeError alike
        return None
    if not isinstance(data, dict) or not data.keys() <= FAST_KEYS:
        return None
    token, level = data.get("token"), data.get("level")
    reasons = data.get("reasons", [])
    if not (isinstance(token, str) and TOKEN_PATTERN.fullmatch(token)):
        return None
    if type(level) is not int or level not in LEVELS:
        return None
    if not (
        type(reasons) is list
        and len(reasons) <= len(REASON_CODES)
        and all(isinstance(code, str) and len(code) <= 32 for code in reasons)
    ):
        return None
    if not all(_plain_text(data.get(name, ""), limit) for name, limit in FAST_TEXT.items()):
        return None
    if data.get("contact_email", "") != "" or data.get("website", "") != "":
        return None
    key = data.get("idempotency_key")
    if key is not None:
        if not isinstance(key, str):
            return None
        try:
            key = uuid.UUID(hex=key)
        except ValueError:
            return None
    if IDEMPOTENCY_META in request.META:  # not request.headers, which copies every header
        return None
    # DRF's test client authenticates by ``_force_auth_user``, which only DRF's request reads.
    if request.user.is_authenticated or getattr(request, "_force_auth_user", None) is not None:
        return None
    values = {name: data.get(name, "") for name in FAST_TEXT}
    return {
        **values,
        "contact_email": "",
        "token": token,
        "level": level,
        "reasons": reasons,
        "idempotency_key": key,
    }


def visit_rate_front(request) -> HttpResponse | None:
    """``POST /api/v1/feedback/visit-ratings/`` ahead of the router (``apps.py`` registers it
    with ``routes.register_api_front``): a request :func:`fast_rating_values` takes is counted
    in the action's throttles, written by ``services.visit_rate`` and answered with its 201,
    without DRF's request handling. None hands the request to the DRF action: for input it
    does not take, and for any refusal (nothing is written by then; the action counts no
    throttle again and answers as it always has)."""
    if request.method != "POST":
        return None
    values = fast_rating_values(request)
    if values is None:
        return None
    waits = [
        throttle.wait()
        for throttle in submission_throttles()
        if not throttle.allow_request(request, None)
    ]
    if waits:
        durations = [wait for wait in waits if wait is not None]
        return _error_response(request, exceptions.Throttled(max(durations, default=None)))
    setattr(request, FAST_COUNTED, True)
    try:
        feedback = services.visit_rate(
            actor=None, device=device_id(request), channel=Channel.QR, **values
        )
    except (tokens.BadLink, services.AlreadyRated, DjangoValidationError):
        return None
    return JsonResponse(
        visit_rating_output(feedback), status=status.HTTP_201_CREATED, json_dumps_params=RENDER_JSON
    )


def _error_response(request, exc: exceptions.APIException) -> Response:
    """``exc`` as DRF would answer it (the project's exception handler, JSON)."""
    response = exception_handler(exc, {"view": None, "request": request})
    response.accepted_renderer = JSONRenderer()
    response.accepted_media_type = JSONRenderer.media_type
    response.renderer_context = {"view": None, "request": request, "response": response}
    return response


def submission_throttles() -> list:
    """The throttles of the three anonymous submissions: their own, stricter anonymous rates
    instead of the general ones (fewer round trips to the cache on the rating's hot path). No
    default throttles means throttling is off (the load benchmark), and then these are off
    too."""
    if not api_settings.DEFAULT_THROTTLE_CLASSES:
        return []
    return [FeedbackAnonThrottle(), FeedbackDeviceThrottle(), SignedInRateThrottle()]


class FeedbackViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Ratings and feedback. Anyone may submit, and rate a visit from its link; signed in,
    the list is the caller's own feedback and ``inbox/`` their organisations'. A row shows its
    contact details only to the organisation's acting staff, and a hidden text only to its
    moderators.
    """

    filterset_class = FeedbackFilter
    lookup_value_regex = r"[0-9]+"
    queryset = Feedback.objects.none()
    serializer_class = FeedbackOutputSerializer

    def get_permissions(self):
        if self.action in PUBLIC:
            return [permissions.AllowAny()]
        return [permissions.IsAuthenticated()]

    def get_throttles(self):
        if getattr(self.request, FAST_COUNTED, False):
            # The front counted this request and handed it on (an error to answer).
            return []
        if self.action in SUBMITTING:
            return submission_throttles()
        return super().get_throttles()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Feedback.objects.none()
        user = self.request.user
        if self.action == "list":
            qs = queries.feedback_of(user)
        elif self.action == "inbox":
            qs = queries.feedback_inbox(user)
        else:
            return queries.feedback_visible_to(user)
        return qs.order_by("-created_at", "-pk")

    def get_object(self) -> Feedback:
        # No filters here: the list's query parameters do not narrow a detail.
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "reader": Reader(self.request)}

    def _render(self, feedback: Feedback, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(feedback).data, status=code)

    def _require(self, permission: str, feedback: Feedback, message) -> None:
        if not self.request.user.has_perm(permission, feedback):
            raise exceptions.PermissionDenied(message)

    # Reading ---------------------------------------------------------------------------------
    def list(self, request, *args, **kwargs):
        """The caller's own feedback (submitted while signed in), newest first."""
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={200: FeedbackOutputSerializer(many=True)}, filters=True)
    @action(detail=False, methods=["get"])
    def inbox(self, request):
        """The feedback of the caller's organisations (everything, for a superuser), newest
        first unless ``ordering`` says otherwise."""
        return super().list(request)

    def retrieve(self, request, pk=None):
        """One piece of the caller's own or their organisations' feedback."""
        return self._render(self.get_object())

    @extend_schema(
        responses={(200, content_type): OpenApiTypes.BINARY for content_type in EXTENSIONS},
        filters=False,
    )
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def photo(self, request, pk=None):
        """The photo sent with the feedback (checked and stripped of metadata on upload)."""
        feedback = self.get_object()
        if not feedback.photo:
            raise exceptions.NotFound(_("这条反馈没有照片。"))
        try:
            handle = feedback.photo.open("rb")
        except OSError:
            raise exceptions.NotFound() from None
        extension = EXTENSIONS.get(feedback.photo_type, "bin")
        return FileResponse(
            handle,
            filename=f"feedback-{feedback.pk}.{extension}",
            content_type=feedback.photo_type or "application/octet-stream",
        )

    # Submitting ------------------------------------------------------------------------------
    @extend_schema(
        request={
            "application/json": FeedbackSubmitInputSerializer,
            "multipart/form-data": FeedbackSubmitInputSerializer,
        },
        parameters=SUBMIT_HEADERS,
        responses={201: FeedbackOutputSerializer, 413: TOO_LARGE},
    )
    def create(self, request):
        """Rate a service or a station online (``online_rating``, with ``level`` and
        ``reasons``), or make a suggestion, complaint or praise (with ``text``), signed in or
        not; multipart to add one photo. The same ``idempotency_key`` again answers with the
        first record. A bad rating of a service opens a rectification case."""
        values = _parse(FeedbackSubmitInputSerializer, request)
        values.pop("website")
        key = _idempotency_key(request, values.pop("idempotency_key"))
        with _service_errors():
            feedback = services.feedback_submit(
                actor=request.user,
                idempotency_key=key,
                device=device_id(request),
                channel=Channel.API,
                **values,
            )
        return self._render(queries.feedback_row(feedback.pk), status.HTTP_201_CREATED)

    @extend_schema(
        request={
            "application/json": VisitRateInputSerializer,
            "application/x-www-form-urlencoded": VisitRateInputSerializer,
            "multipart/form-data": VisitRateInputSerializer,
        },
        parameters=SUBMIT_HEADERS,
        responses={
            201: VisitRatingOutputSerializer,
            409: OpenApiResponse(AlreadyRatedSerializer, description="The visit is rated."),
            410: GONE,
        },
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="visit-ratings",
        url_name="visit-rate",
        parser_classes=(JSONParser, FormParser, MultiPartParser),
        filterset_class=None,
        pagination_class=None,
    )
    def visit_rate(self, request):
        """Rate a visit once, from its link's ``token``: ``level`` 1–5 and the ``reasons``
        offered at that level. A forged token is refused (400), an expired one is gone (410),
        and a visit rated before answers 409 with that rating; in none of these is anything
        written. The same ``idempotency_key`` again answers with the first rating."""
        values = _parse(VisitRateInputSerializer, request)
        values.pop("website")
        key = _idempotency_key(request, values.pop("idempotency_key"))
        try:
            feedback = services.visit_rate(
                actor=request.user,
                idempotency_key=key,
                device=device_id(request),
                channel=Channel.QR,
                **values,
            )
        except tokens.BadLink as exc:
            raise _bad_link(exc, field="token") from exc
        except services.AlreadyRated as exc:
            rating = exc.feedback
            body = {
                "detail": str(_("这次办件已经评价过了。")),
                "level": rating.level if rating else None,
                "level_label": str(rating.get_level_display()) if rating else None,
                "rated_at": rating.created_at if rating else None,
            }
            return Response(AlreadyRatedSerializer(body).data, status=status.HTTP_409_CONFLICT)
        return Response(visit_rating_output(feedback), status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "token",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                pattern=r"^[-A-Za-z0-9_:.]+$",
                description=str(_("评价链接中的签名令牌。")),
            )
        ],
        responses={200: VisitRatingPageSerializer, 404: NOT_FOUND, 410: GONE},
        filters=False,
    )
    @action(
        detail=False,
        methods=["get"],
        url_path=r"visit-ratings/(?P<token>[-A-Za-z0-9_:.]+)",
        url_name="visit-rating",
        filterset_class=None,
        pagination_class=None,
    )
    def visit_rating(self, request, token=None):
        """What a visit's rating page shows: the service and station, until when it may be
        rated, whether it is (and how), and the reasons offered at each level."""
        try:
            claim = tokens.visit_claim(token)
        except tokens.BadLink as exc:
            raise _bad_link(exc, field=None) from exc
        visit = queries.visit_for_rating(claim.visit_id)
        if visit is None:
            raise exceptions.NotFound()
        rating = queries.rating_of_visit(visit.pk)
        body = {
            "visit": visit.pk,
            "service": {"code": visit.service.service_code, "name": visit.service.name},
            "station": {"code": visit.station.slug, "name": visit.station.name},
            "visited_at": claim.visited_at,
            "expires_at": claim.expires_at,
            "rated": rating is not None,
            "rating": None
            if rating is None
            else {
                "level": rating.level,
                "level_label": str(rating.get_level_display()),
                "rated_at": rating.created_at,
            },
            "levels": level_rows(),
        }
        return Response(VisitRatingPageSerializer(body).data)

    @extend_schema(
        parameters=[RatingLinkQuerySerializer],
        responses={200: RatingLinkSerializer, 400: BAD_INPUT, 404: NOT_FOUND, 410: GONE},
        filters=False,
    )
    @action(
        detail=False,
        methods=["get"],
        url_path="rating-link",
        url_name="rating-link",
        filterset_class=None,
        pagination_class=None,
    )
    def rating_link(self, request):
        """A visit's rating link and its QR code, for a kiosk or queue system to show after
        the visit: the staff of the visit's department or of the station's host (or their
        organisations' API accounts) may fetch it. A visit past the rating period is gone."""
        query = RatingLinkQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        visit = (
            queries.visits_for_rating_link(request.user)
            .filter(pk=query.validated_data["visit"])
            .first()
        )
        if visit is None:
            raise exceptions.NotFound()
        token = tokens.visit_token(visit)
        try:
            claim = tokens.visit_claim(token)
        except tokens.BadLink as exc:
            raise _bad_link(exc, field="visit") from exc
        url = rating_page_url(request, token)
        body = {
            "visit": visit.pk,
            "url": url,
            "token": token,
            "expires_at": claim.expires_at,
            "qr_svg": segno.make(url, error="m").svg_inline(scale=4),
        }
        return Response(RatingLinkSerializer(body).data)

    # Acting on feedback ----------------------------------------------------------------------
    @extend_schema(request=ReplyInputSerializer, responses={200: FeedbackOutputSerializer})
    @action(detail=True, methods=["post"], parser_classes=JSON_ONLY)
    def reply(self, request, pk=None):
        """A public reply from the organisation's acting staff; the author is told."""
        feedback = self.get_object()
        self._require("feedback.reply_feedback", feedback, _("只有负责单位的工作人员才能答复。"))
        data = _parse(ReplyInputSerializer, request)
        with _service_errors():
            feedback = services.feedback_reply(actor=request.user, feedback=feedback, **data)
        return self._render(queries.feedback_row(feedback.pk))

    @extend_schema(request=HideInputSerializer, responses={200: FeedbackOutputSerializer})
    @action(detail=True, methods=["post"], parser_classes=JSON_ONLY)
    def hide(self, request, pk=None):
        """Hide abusive text (the organisation's admins), with a reason; a rating's level still
        counts."""
        feedback = self.get_object()
        self._require("feedback.moderate_feedback", feedback, _("只有审核人员才能隐藏内容。"))
        data = _parse(HideInputSerializer, request)
        with _service_errors():
            feedback = services.feedback_hide(actor=request.user, feedback=feedback, **data)
        return self._render(queries.feedback_row(feedback.pk))

    @extend_schema(
        request=AppealInputSerializer,
        responses={201: AppealOutputSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], parser_classes=JSON_ONLY)
    def appeal(self, request, pk=None):
        """Contest a rating of one's own organisation, with a reason; someone in another role
        decides. One appeal at a time (409 while one is pending)."""
        feedback = self.get_object()
        self._require("feedback.appeal_feedback", feedback, _("只有被评价单位的工作人员才能申诉。"))
        data = _parse(AppealInputSerializer, request)
        with _service_errors():
            appeal = services.appeal_file(actor=request.user, feedback=feedback, **data)
        return Response(AppealOutputSerializer(appeal).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=RerateInputSerializer,
        responses={200: FeedbackOutputSerializer, 409: CONFLICT, 410: GONE},
    )
    @action(detail=True, methods=["post"], parser_classes=JSON_ONLY)
    def rerate(self, request, pk=None):
        """The rater's verdict on the rectification of their bad rating, once: the author
        signed in, or anyone with the re-rating link's ``token``. Before the rectification is
        done, or a second time, it is a 409."""
        data = _parse(RerateInputSerializer, request)
        token = data.pop("token")
        if token:
            feedback = queries.feedback_row(pk)
            if feedback is None:
                raise exceptions.NotFound()
            try:
                claimed = tokens.rerate_claim(token)
            except tokens.BadLink as exc:
                raise _bad_link(exc, field="token") from exc
            if claimed != feedback.pk:
                raise exceptions.PermissionDenied(_("这个链接不是这条评价的。"))
        else:
            feedback = self.get_object() if request.user.is_authenticated else None
            if feedback is None:
                raise exceptions.NotAuthenticated()
            if not is_author(request.user, feedback):
                raise exceptions.PermissionDenied(_("只有评价人本人才能再次评价。"))
        with _service_errors():
            feedback = services.rectification_rerate(feedback=feedback, **data)
        return self._render(queries.feedback_row(feedback.pk))
