"""The cases API: ``/api/v1/cases/``.

The same permissions and the same lifecycle as the pages, because both go through the same
code: the rows come from ``queries.cases_visible_to`` (a case the caller may not see is a 404),
every write is one function of ``services`` (which checks the permission again and writes the
timeline), and each action asks ``rules`` first, so a caller who may not act gets a 403 before
their input is looked at. Django's ``ValidationError`` becomes a 400 naming the field
(``core.api.exception_handler``), ``PermissionDenied`` a 403, and a file over the size limit a
413.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle

from governance.cases import attachments as files
from governance.cases import queries, services
from governance.cases.filters import CaseFilter
from governance.cases.models import Case, CoHandler, Follower
from governance.cases.rules import is_reporter, signed_in
from governance.cases.serializers import (
    AssignInputSerializer,
    AttachmentInputSerializer,
    AttachmentOutputSerializer,
    BodyInputSerializer,
    CaseDetailSerializer,
    CaseOpenInputSerializer,
    CaseRoutedSerializer,
    CaseSummarySerializer,
    CoHandlerAssignInputSerializer,
    CoHandlerDoneInputSerializer,
    CoHandlerInputSerializer,
    CoHandlerOutputSerializer,
    DetailSerializer,
    DueInputSerializer,
    FollowingSerializer,
    RouteInputSerializer,
    TimelineEntryOutputSerializer,
    TransitionInputSerializer,
    cohandler_row,
)
from governance.core import panels as core_panels
from governance.core.api import CappedPagination, parse_input

# The codes ``attachments.check`` gives a file it refuses.
ATTACHMENT_ERRORS = frozenset(
    {"too_large", "empty", "unsupported_type", "corrupt", "too_many_pixels"}
)
# The codes of a transition the case's status does not allow.
TRANSITION_ERRORS = frozenset({"invalid_transition", "final_status"})
# The actions take JSON: the types the schema gives are the types they get.
JSON_ONLY = (JSONParser,)
TOO_LARGE = OpenApiResponse(DetailSerializer, description="A file is larger than 10 MB.")


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("上传的文件过大。")
    default_code = "too_large"


class CaseReportThrottle(AnonRateThrottle):
    """Anonymous reports per client address, at the ``case_report`` rate of the settings'
    ``DEFAULT_THROTTLE_RATES``; signed-in people have the general user rate."""

    scope = "case_report"


def _codes(exc: DjangoValidationError) -> set[str]:
    if hasattr(exc, "error_dict"):
        errors = [error for group in exc.error_dict.values() for error in group]
    else:
        errors = exc.error_list
    return {error.code for error in errors if error.code}


@contextmanager
def _service_errors(*, file_field: str = "attachments", field_codes=None):
    """Turn a service's refusal into the answer the API gives: a file over the limit is a 413,
    a refused file is a 400 on ``file_field``, and ``field_codes`` ({field: codes}) names the
    field of a message the service gave for the whole case."""
    try:
        yield
    except DjangoValidationError as exc:
        codes = _codes(exc)
        if "too_large" in codes:
            raise PayloadTooLarge(exc.messages[0]) from exc
        if not hasattr(exc, "error_dict"):
            if codes & ATTACHMENT_ERRORS:
                raise exceptions.ValidationError({file_field: exc.messages}) from exc
            for field, field_error_codes in (field_codes or {}).items():
                if codes & field_error_codes:
                    raise exceptions.ValidationError({field: exc.messages}) from exc
        raise


class CasePagination(CappedPagination):
    """Counting the 890,000 cases a department may see cost 20 times the page itself
    (bench/README.md)."""


class CaseViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Cases the caller may see: public ones, their own reports, their organisations' cases
    and (for the triage role) the triage queue. Anyone may report a case; the actions follow
    the case pages' permissions and lifecycle. Look a case up by its ``reference``.
    """

    filterset_class = CaseFilter
    pagination_class = CasePagination
    lookup_field = "reference"
    lookup_value_regex = r"[-A-Za-z0-9]+"
    permission_classes = (permissions.AllowAny,)
    queryset = Case.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Case.objects.none()
        qs = queries.cases_visible_to(self.request.user)
        if self.action == "list":
            return qs.order_by("-created_at", "-pk")
        return qs.select_related("duplicate_of", "routed_by")

    def get_serializer_class(self):
        return CaseSummarySerializer if self.action == "list" else CaseDetailSerializer

    def get_throttles(self):
        throttles = super().get_throttles()
        if self.action == "create":
            throttles.append(CaseReportThrottle())
        return throttles

    def get_object(self) -> Case:
        # No filters here: the list's query parameters do not narrow a detail.
        case = get_object_or_404(self.get_queryset(), reference=self.kwargs["reference"])
        self.check_object_permissions(self.request, case)
        return case

    # Helpers --------------------------------------------------------------------------------
    def _require(self, permission: str, case: Case, message) -> None:
        if not self.request.user.has_perm(permission, case):
            raise exceptions.PermissionDenied(message)

    def _reload(self, case: Case) -> Case:
        """The case again after a write, joined as for the detail and still scoped."""
        case = self.get_queryset().filter(pk=case.pk).first()
        if case is None:
            raise exceptions.NotFound()
        return case

    def _reader_context(self, case: Case) -> dict:
        user = self.request.user
        return {
            "request": self.request,
            "internal": user.has_perm("cases.view_case_internal", case),
            "reporter_id": case.reporter_id,
        }

    def _attachment_url(self, case: Case, attachment_id: int) -> str:
        path = reverse(
            "api:case-attachment",
            kwargs={"reference": case.reference, "attachment_id": attachment_id},
        )
        return self.request.build_absolute_uri(path)

    def _detail(self, case: Case) -> dict:
        user = self.request.user
        visible = list(queries.attachments_for(user, case))
        context = {
            **self._reader_context(case),
            "contact": queries.contact_for(user, case),
            "attachments": visible,
            "attachment_urls": {a.pk: self._attachment_url(case, a.pk) for a in visible},
            "allowed_transitions": services.transitions_for(user, case),
            "is_reporter": is_reporter(user, case),
            "following": signed_in(user) and Follower.objects.filter(case=case, user=user).exists(),
            "permissions": {
                "handle": user.has_perm("cases.handle_case", case),
                "reply": user.has_perm("cases.reply_case", case),
                "note": user.has_perm("cases.note_case", case),
                "attach": user.has_perm("cases.attach_case", case),
                "follow": user.has_perm("cases.follow_case", case),
            },
            "panels": core_panels.serialized(
                core_panels.load_one("case", user, case), self.request
            ),
        }
        return CaseDetailSerializer(case, context=context).data

    # List, detail, report -------------------------------------------------------------------
    def retrieve(self, request, reference=None):
        """The case with everything the caller may see of it: the reporter's contact only for
        the reporter and the handling staff, private attachments only for the organisations on
        the case, the status changes the caller may make, and the wings' panels (e.g.
        ``pledges``: what partners pledged to it)."""
        return Response(self._detail(self.get_object()))

    @extend_schema(
        request=CaseOpenInputSerializer,
        responses={201: CaseDetailSerializer, 413: TOO_LARGE},
    )
    def create(self, request):
        """Report a case (anyone, signed in or not; JSON, or multipart with up to 5 files in
        ``attachments``). It is numbered, routed by the rules and its clocks start; a refused
        file refuses the whole report, and nothing is kept."""
        values = dict(parse_input(CaseOpenInputSerializer, request))
        uploads = values.pop("attachments", [])
        with _service_errors():
            case = services.case_open(actor=request.user, uploads=uploads, **values)
        return Response(self._detail(case), status=status.HTTP_201_CREATED)

    # Lifecycle and handling -----------------------------------------------------------------
    @extend_schema(request=TransitionInputSerializer, responses={200: CaseDetailSerializer})
    @action(detail=True, methods=["post"], parser_classes=JSON_ONLY)
    def transition(self, request, reference=None):
        """Change the status (``to``): a reason to reject, the original's reference
        (``duplicate_of``) to mark a duplicate. A status the case cannot move to is answered
        with the ones it can."""
        case = self.get_object()
        if not services.transitions_for(request.user, case) and not request.user.has_perm(
            "cases.handle_case", case
        ):
            raise exceptions.PermissionDenied(_("只有办理单位的工作人员才能变更事项状态。"))
        data = parse_input(TransitionInputSerializer, request)
        original = None
        if data["duplicate_of"]:
            original = (
                queries.cases_visible_to(request.user)
                .filter(reference=data["duplicate_of"])
                .first()
            )
            if original is None:
                raise exceptions.ValidationError(
                    {"duplicate_of": [_("找不到你能查看的这个编号的事项。")]}
                )
        with _service_errors(field_codes={"to": TRANSITION_ERRORS}):
            case = services.case_transition(
                actor=request.user,
                case=case,
                to=data["to"],
                reason=data["reason"],
                duplicate_of=original,
            )
        return Response(self._detail(self._reload(case)))

    @extend_schema(request=AssignInputSerializer, responses={200: CaseDetailSerializer})
    @action(detail=True, methods=["post"], parser_classes=JSON_ONLY)
    def assign(self, request, reference=None):
        """Name the case's handler (an acting member of the responsible organisation), or
        nobody (``null``)."""
        case = self.get_object()
        self._require("cases.handle_case", case, _("只有办理单位的工作人员才能指定经办人。"))
        data = parse_input(AssignInputSerializer, request)
        with _service_errors():
            case = services.case_assign(actor=request.user, case=case, assignee=data["assignee"])
        return Response(self._detail(self._reload(case)))

    @extend_schema(request=RouteInputSerializer, responses={200: CaseRoutedSerializer})
    @action(detail=True, methods=["post"], parser_classes=JSON_ONLY)
    def route(self, request, reference=None):
        """Hand the case to another responsible organisation (the triage role, or the one
        responsible now); the assignee is cleared."""
        case = self.get_object()
        self._require("cases.handle_case", case, _("只有分拨人员或办理单位才能分派事项。"))
        data = parse_input(RouteInputSerializer, request)
        with _service_errors():
            case = services.case_route(
                actor=request.user, case=case, responsible=data["responsible"], note=data["note"]
            )
        return Response(CaseRoutedSerializer(case).data)

    @extend_schema(request=BodyInputSerializer, responses={201: TimelineEntryOutputSerializer})
    @action(detail=True, methods=["post"], parser_classes=JSON_ONLY)
    def reply(self, request, reference=None):
        """A public reply: everyone who may see the case reads it; its followers are told."""
        case = self.get_object()
        self._require("cases.reply_case", case, _("只有办理单位和协办单位的工作人员才能答复。"))
        data = parse_input(BodyInputSerializer, request)
        with _service_errors():
            entry = services.case_reply(actor=request.user, case=case, body=data["body"])
        return Response(
            TimelineEntryOutputSerializer(entry, context=self._reader_context(case)).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=BodyInputSerializer, responses={201: TimelineEntryOutputSerializer})
    @action(detail=True, methods=["post"], parser_classes=JSON_ONLY)
    def note(self, request, reference=None):
        """An internal note, read only by the organisations on the case."""
        case = self.get_object()
        self._require(
            "cases.note_case", case, _("只有办理单位和协办单位的工作人员才能写内部备注。")
        )
        data = parse_input(BodyInputSerializer, request)
        with _service_errors():
            entry = services.case_note(actor=request.user, case=case, body=data["body"])
        return Response(
            TimelineEntryOutputSerializer(entry, context=self._reader_context(case)).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=CoHandlerInputSerializer, responses={201: CoHandlerOutputSerializer})
    @action(detail=True, methods=["post"], parser_classes=JSON_ONLY)
    def cohandlers(self, request, reference=None):
        """Share the case with another organisation, with its own task, assignee and due
        date."""
        case = self.get_object()
        self._require("cases.handle_case", case, _("只有办理单位的工作人员才能增加协办单位。"))
        data = parse_input(CoHandlerInputSerializer, request)
        with _service_errors():
            cohandler = services.case_add_cohandler(actor=request.user, case=case, **data)
        return Response(
            CoHandlerOutputSerializer(cohandler_row(cohandler, internal=True)).data,
            status=status.HTTP_201_CREATED,
        )

    def _cohandler(self, case: Case, cohandler_id, message) -> CoHandler:
        """One of the case's co-handling tasks (already prefetched), or a 404."""
        cohandler = next((c for c in case.cohandlers.all() if str(c.pk) == cohandler_id), None)
        if cohandler is None:
            raise exceptions.NotFound()
        cohandler.case = case
        self._require("cases.handle_cohandler", cohandler, message)
        return cohandler

    @extend_schema(
        parameters=[OpenApiParameter("cohandler_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        request=CoHandlerAssignInputSerializer,
        responses={200: CoHandlerOutputSerializer},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"cohandlers/(?P<cohandler_id>[0-9]+)/assign",
        url_name="cohandler-assign",
        parser_classes=JSON_ONLY,
    )
    def cohandler_assign(self, request, reference=None, cohandler_id=None):
        """Name who runs a co-handling task (an acting member of its organisation) and,
        optionally, move its due date: its own organisation or the responsible one may."""
        cohandler = self._cohandler(
            self.get_object(),
            cohandler_id,
            _("只有协办单位或责任单位的工作人员才能安排协办任务。"),
        )
        data = parse_input(CoHandlerAssignInputSerializer, request)
        with _service_errors():
            cohandler = services.cohandler_assign(actor=request.user, cohandler=cohandler, **data)
        return Response(CoHandlerOutputSerializer(cohandler_row(cohandler, internal=True)).data)

    @extend_schema(
        parameters=[OpenApiParameter("cohandler_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        request=CoHandlerDoneInputSerializer,
        responses={200: CoHandlerOutputSerializer},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"cohandlers/(?P<cohandler_id>[0-9]+)/done",
        url_name="cohandler-done",
        parser_classes=JSON_ONLY,
    )
    def cohandler_done(self, request, reference=None, cohandler_id=None):
        """Mark a co-handling task done, saying what was done (an internal line)."""
        cohandler = self._cohandler(
            self.get_object(),
            cohandler_id,
            _("只有协办单位或责任单位的工作人员才能完成协办任务。"),
        )
        data = parse_input(CoHandlerDoneInputSerializer, request)
        with _service_errors():
            cohandler = services.cohandler_complete(
                actor=request.user, cohandler=cohandler, note=data["note"]
            )
        return Response(CoHandlerOutputSerializer(cohandler_row(cohandler, internal=True)).data)

    @extend_schema(request=DueInputSerializer, responses={200: CaseDetailSerializer})
    @action(detail=True, methods=["post"], parser_classes=JSON_ONLY)
    def due(self, request, reference=None):
        """Move the resolution (or, before acknowledgement, the acknowledgement) deadline,
        always with a reason."""
        case = self.get_object()
        self._require("cases.handle_case", case, _("只有办理单位的工作人员才能调整时限。"))
        data = parse_input(DueInputSerializer, request)
        with _service_errors():
            case = services.case_set_due(actor=request.user, case=case, **data)
        return Response(self._detail(self._reload(case)))

    # Following --------------------------------------------------------------------------------
    @extend_schema(request=None, responses={200: FollowingSerializer})
    @action(detail=True, methods=["post"])
    def follow(self, request, reference=None):
        """Hear about the case's status changes and public replies (signed in)."""
        case = self.get_object()
        services.case_follow(actor=request.user, case=case)
        return Response({"following": True})

    @extend_schema(request=None, responses={200: FollowingSerializer})
    @action(detail=True, methods=["post"])
    def unfollow(self, request, reference=None):
        case = self.get_object()
        services.case_unfollow(actor=request.user, case=case)
        return Response({"following": False})

    # History and files ------------------------------------------------------------------------
    @extend_schema(responses={200: TimelineEntryOutputSerializer(many=True)}, filters=False)
    @action(detail=True, methods=["get"], filterset_class=None)
    def timeline(self, request, reference=None):
        """The case's history, oldest first, as the caller may read it: internal entries only
        for the organisations on the case."""
        case = self.get_object()
        page = self.paginate_queryset(queries.timeline_for(request.user, case))
        serializer = TimelineEntryOutputSerializer(
            page, many=True, context=self._reader_context(case)
        )
        return self.get_paginated_response(serializer.data)

    @extend_schema(
        request={"multipart/form-data": AttachmentInputSerializer},
        responses={201: AttachmentOutputSerializer, 413: TOO_LARGE},
    )
    @action(
        detail=True,
        methods=["post"],
        parser_classes=(MultiPartParser, FormParser),
        filterset_class=None,
    )
    def attachments(self, request, reference=None):
        """Attach a photo (JPEG, PNG, WebP) or a PDF of at most 10 MB, checked from its
        content; private to the organisations on the case unless ``is_public``."""
        case = self.get_object()
        self._require("cases.attach_case", case, _("你不能为此事项上传附件。"))
        data = parse_input(AttachmentInputSerializer, request)
        with _service_errors(file_field="file"):
            attachment = services.case_attach(
                actor=request.user, case=case, upload=data["file"], is_public=data["is_public"]
            )
        urls = {attachment.pk: self._attachment_url(case, attachment.pk)}
        return Response(
            AttachmentOutputSerializer(attachment, context={"attachment_urls": urls}).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        parameters=[OpenApiParameter("attachment_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={(200, content_type): OpenApiTypes.BINARY for content_type in files.EXTENSIONS},
        filters=False,
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"attachments/(?P<attachment_id>[0-9]+)",
        url_name="attachment",
        filterset_class=None,
        pagination_class=None,
    )
    def attachment(self, request, reference=None, attachment_id=None):
        """Download an attachment the caller may see."""
        case = self.get_object()
        attachment = get_object_or_404(
            queries.attachments_for(request.user, case), pk=attachment_id
        )
        try:
            handle = attachment.file.open("rb")
        except OSError:
            raise exceptions.NotFound() from None
        extension = files.EXTENSIONS[attachment.content_type]
        return FileResponse(
            handle,
            as_attachment=True,
            filename=f"{case.reference}-{attachment.pk}.{extension}",
            content_type=attachment.content_type,
        )
