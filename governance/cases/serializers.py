"""Serializers of the cases API: input ones that parse a request, output ones that render.

Input and output are separate classes (what a client sends differs from what it reads back).
Output serializers are plain ``Serializer`` classes, as in ``stations.serializers``: a list
renders many rows, and what a row shows is read from relations ``queries.cases_visible_to``
already joined. What depends on the reader (the contact, the attachments, the transitions they
may make) is worked out once by the view through ``queries``/``rules`` and passed in the
context, never looked up here per row.

Text is taken and returned as plain text: nothing is parsed as HTML or Markdown, and the pages
escape it when they render it.
"""

from __future__ import annotations

from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from governance.cases import attachments
from governance.cases.models import (
    Case,
    Category,
    CoHandler,
    Priority,
    Source,
    Status,
    TimelineEntry,
)
from governance.core import panels as core_panels
from governance.core.api import RowUrlField
from governance.stakeholders.models import Organisation, User
from governance.stations.models import Service, Station
from governance.stations.serializers import OrganisationRefSerializer, StationRefSerializer

# Sources a client of the API may claim; the others come from the feedback and proposals
# wings and from the Open311 adapter. ``services.case_open`` decides who may claim which.
API_SOURCES = [Source.CITIZEN, Source.STAFF, Source.PARTNER]
DEADLINES = [("resolve", _("办结时限")), ("acknowledge", _("受理时限"))]


# Output -----------------------------------------------------------------------------------------
class ServiceRefSerializer(serializers.Serializer):
    service_code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)


class CategoryRefSerializer(serializers.Serializer):
    slug = serializers.SlugField(read_only=True)
    name = serializers.CharField(read_only=True)


class PersonRefSerializer(serializers.Serializer):
    """A member of staff as colleagues see them: an id and a short name, never an address."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="get_short_name", read_only=True)


class ContactSerializer(serializers.Serializer):
    name = serializers.CharField(read_only=True)
    phone = serializers.CharField(read_only=True)
    email = serializers.CharField(read_only=True)


class ReporterSerializer(serializers.Serializer):
    """The reporter as everyone sees them: anonymised, whoever they are."""

    label = serializers.CharField(read_only=True)
    is_you = serializers.BooleanField(read_only=True)


class CoHandlerOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    organisation = OrganisationRefSerializer(read_only=True)
    state = serializers.ChoiceField(choices=CoHandler.State.choices, read_only=True)
    due_at = serializers.DateTimeField(read_only=True, allow_null=True)
    done_at = serializers.DateTimeField(read_only=True, allow_null=True)
    task = serializers.CharField(
        read_only=True, allow_null=True, help_text=_("协办任务；仅事项相关单位可见。")
    )
    assignee = PersonRefSerializer(
        read_only=True, allow_null=True, help_text=_("协办经办人；仅事项相关单位可见。")
    )


def cohandler_row(cohandler: CoHandler, *, internal: bool) -> dict:
    """A co-handling task as ``CoHandlerOutputSerializer`` renders it: the task and its
    assignee only for the organisations on the case."""
    return {
        "id": cohandler.pk,
        "organisation": cohandler.organisation,
        "state": cohandler.state,
        "due_at": cohandler.due_at,
        "done_at": cohandler.done_at,
        "task": cohandler.task if internal else None,
        "assignee": cohandler.assignee if internal and cohandler.assignee_id else None,
    }


class AttachmentOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="original_name", read_only=True)
    content_type = serializers.ChoiceField(choices=sorted(attachments.EXTENSIONS), read_only=True)
    size = serializers.IntegerField(read_only=True)
    is_public = serializers.BooleanField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    url = serializers.SerializerMethodField()

    @extend_schema_field({"type": "string", "format": "uri"})
    def get_url(self, attachment) -> str:
        urls = self.context.get("attachment_urls", {})
        return urls.get(attachment.pk, "")


class StatusChoiceSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Status.choices, read_only=True)
    label = serializers.CharField(read_only=True)


class CaseSummarySerializer(serializers.Serializer):
    """A row of the case list: what a queue or a public list shows, nothing per reader."""

    reference = serializers.CharField(read_only=True)
    url = RowUrlField("api:case-detail", "reference")
    title = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=Status.choices, read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    source = serializers.ChoiceField(choices=Source.choices, read_only=True)
    priority = serializers.ChoiceField(choices=Priority.choices, read_only=True)
    service = ServiceRefSerializer(read_only=True, allow_null=True)
    category = CategoryRefSerializer(read_only=True, allow_null=True)
    station = StationRefSerializer(read_only=True, allow_null=True)
    responsible = OrganisationRefSerializer(read_only=True, allow_null=True)
    is_public = serializers.BooleanField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    status_changed_at = serializers.DateTimeField(read_only=True)
    resolve_due_at = serializers.DateTimeField(read_only=True, allow_null=True)
    expected_datetime = serializers.DateTimeField(read_only=True, allow_null=True)
    is_overdue = serializers.SerializerMethodField()

    def get_is_overdue(self, case: Case) -> bool:
        now = self.context.setdefault("now", timezone.now())
        return case.is_open and case.resolve_due_at is not None and case.resolve_due_at < now


class CasePermissionsSerializer(serializers.Serializer):
    """What the reader may do on the case, so a client shows only the buttons that work."""

    handle = serializers.BooleanField(read_only=True)
    reply = serializers.BooleanField(read_only=True)
    note = serializers.BooleanField(read_only=True)
    attach = serializers.BooleanField(read_only=True)
    follow = serializers.BooleanField(read_only=True)


class CaseDetailSerializer(CaseSummarySerializer):
    """The whole case as the reader may see it.

    The view puts in the context what depends on the reader: ``contact`` (``None`` for anyone
    but the reporter and the handling staff), ``attachments`` (those they may see, with their
    URLs), ``allowed_transitions``, ``internal`` (a member of an organisation on the case),
    ``following``, ``permissions`` and ``panels`` (``core.panels.serialized``: what the
    wings show about the case, as the reader may see it).
    """

    description = serializers.CharField(read_only=True)
    latitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, read_only=True, allow_null=True
    )
    longitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, read_only=True, allow_null=True
    )
    address = serializers.CharField(read_only=True)
    reporter = serializers.SerializerMethodField()
    contact = serializers.SerializerMethodField()
    assignee = serializers.SerializerMethodField()
    routing = serializers.ChoiceField(choices=Case.Routing.choices, read_only=True)
    routing_explanation = serializers.CharField(read_only=True)
    cohandlers = serializers.SerializerMethodField()
    acknowledge_due_at = serializers.DateTimeField(read_only=True, allow_null=True)
    acknowledged_at = serializers.DateTimeField(read_only=True, allow_null=True)
    acknowledged_on_time = serializers.BooleanField(read_only=True, allow_null=True)
    resolved_at = serializers.DateTimeField(read_only=True, allow_null=True)
    resolved_on_time = serializers.BooleanField(read_only=True, allow_null=True)
    closed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    due_estimated = serializers.BooleanField(read_only=True)
    reopen_count = serializers.IntegerField(read_only=True)
    rejection_reason = serializers.CharField(read_only=True)
    duplicate_of = serializers.CharField(
        source="duplicate_of.reference", read_only=True, allow_null=True
    )
    allowed_transitions = serializers.SerializerMethodField()
    attachments = serializers.SerializerMethodField()
    following = serializers.SerializerMethodField()
    permissions = serializers.SerializerMethodField()
    panels = serializers.SerializerMethodField()

    @extend_schema_field(ReporterSerializer)
    def get_reporter(self, case: Case) -> dict:
        return {"label": str(_("市民")), "is_you": bool(self.context.get("is_reporter"))}

    @extend_schema_field(ContactSerializer(allow_null=True))
    def get_contact(self, case: Case) -> dict | None:
        contact = self.context.get("contact")
        return ContactSerializer(contact).data if contact is not None else None

    @extend_schema_field(
        PersonRefSerializer(allow_null=True, help_text=_("经办人；仅事项相关单位可见。"))
    )
    def get_assignee(self, case: Case) -> dict | None:
        if not self.context.get("internal") or case.assignee_id is None:
            return None
        return PersonRefSerializer(case.assignee).data

    @extend_schema_field(CoHandlerOutputSerializer(many=True))
    def get_cohandlers(self, case: Case) -> list[dict]:
        internal = bool(self.context.get("internal"))
        rows = [cohandler_row(cohandler, internal=internal) for cohandler in case.cohandlers.all()]
        return CoHandlerOutputSerializer(rows, many=True).data

    @extend_schema_field(StatusChoiceSerializer(many=True))
    def get_allowed_transitions(self, case: Case) -> list[dict]:
        return [
            {"status": status, "label": str(Status(status).label)}
            for status in self.context.get("allowed_transitions", ())
        ]

    @extend_schema_field(AttachmentOutputSerializer(many=True))
    def get_attachments(self, case: Case) -> list[dict]:
        return AttachmentOutputSerializer(
            self.context.get("attachments", ()), many=True, context=self.context
        ).data

    def get_following(self, case: Case) -> bool:
        return bool(self.context.get("following"))

    @extend_schema_field(CasePermissionsSerializer)
    def get_permissions(self, case: Case) -> dict:
        return CasePermissionsSerializer(self.context.get("permissions", {})).data

    @extend_schema_field(core_panels.API_SCHEMA)
    def get_panels(self, case: Case) -> dict:
        return self.context.get("panels", {})


class CaseRoutedSerializer(serializers.Serializer):
    """The answer to routing: after handing a private case on, the router may no longer see
    it, so only where it went is told."""

    reference = serializers.CharField(read_only=True)
    responsible = OrganisationRefSerializer(read_only=True)
    routing = serializers.ChoiceField(choices=Case.Routing.choices, read_only=True)
    routing_explanation = serializers.CharField(read_only=True)


class TimelineEntryOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    kind = serializers.ChoiceField(choices=TimelineEntry.Kind.choices, read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    is_public = serializers.BooleanField(read_only=True)
    body = serializers.CharField(read_only=True)
    data = serializers.JSONField(read_only=True)
    actor = serializers.SerializerMethodField(
        help_text=_("报告人始终匿名；工作人员的名字仅事项相关单位可见。")
    )

    def get_actor(self, entry: TimelineEntry) -> str:
        if entry.actor_id is None:
            return str(_("系统"))
        if entry.actor_id == self.context.get("reporter_id"):
            return str(_("报告人"))
        if self.context.get("internal"):
            return entry.actor.get_short_name()
        return str(_("工作人员"))


class FollowingSerializer(serializers.Serializer):
    following = serializers.BooleanField()


class DetailSerializer(serializers.Serializer):
    """An error answer with one message (documents the 413)."""

    detail = serializers.CharField()


# Input ------------------------------------------------------------------------------------------
# DRF's fields take what they can turn into a value ("0" for false, 5 for "5"); the schema says
# which type each field has, and a client that sends another one has made a mistake it should
# hear about. These fields hold to the schema's types (form data arrives as text, so there a
# string is the only type there is).
def _is_form(field) -> bool:
    return isinstance(getattr(field.root, "initial_data", None), QueryDict)


class TextField(serializers.CharField):
    """Plain text: a string, nothing else."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """``true`` or ``false`` (in form data, the words ``true`` and ``false``)."""

    default_error_messages = {"invalid": _("必须是 true 或 false。")}

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        if _is_form(self) and isinstance(data, str) and data.lower() in ("true", "false"):
            return data.lower() == "true"
        self.fail("invalid")


@extend_schema_field(
    {
        "oneOf": [
            {"type": "number"},
            {"type": "string", "format": "decimal", "pattern": r"^-?\d{1,3}(\.\d{1,6})?$"},
        ]
    }
)
class CoordinateField(serializers.DecimalField):
    """Degrees with at most six decimals, as a number or a decimal string."""

    def __init__(self, *, limit: int, **kwargs):
        super().__init__(
            max_digits=9, decimal_places=6, min_value=-limit, max_value=limit, **kwargs
        )

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (str, int, float)):
            self.fail("invalid")
        return super().to_internal_value(data)


class UserIdField(serializers.PrimaryKeyRelatedField):
    """A user's id: an integer (or its digits, in form data)."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not (
            isinstance(data, int) or (_is_form(self) and isinstance(data, str))
        ):
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)


def _user_id_field(**kwargs) -> UserIdField:
    return UserIdField(queryset=User.objects.filter(is_active=True), **kwargs)


class CaseOpenInputSerializer(serializers.Serializer):
    """A report: a citizen's (signed in or not), or one that staff or a partner enter."""

    title = TextField(max_length=120)
    description = TextField(max_length=5000)
    # All the sources, so that the schema has one enum of them; the API takes three.
    source = serializers.ChoiceField(
        choices=Source.choices,
        default=Source.CITIZEN,
        help_text=_(
            "citizen（市民报告）任何人都可以提交；staff（工作人员登记）和 partner（合作伙伴报告）"
            "须由相应组织的成员提交；其他来源不能通过此接口提交。"
        ),
    )
    service = serializers.SlugRelatedField(
        slug_field="service_code",
        queryset=Service.objects.select_related("department"),
        required=False,
        allow_null=True,
        help_text=_("服务事项编码；与事项类别至少填一项。"),
    )
    category = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Category.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("事项类别标识。"),
    )
    station = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Station.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("站点标识；与经纬度、地址至少填一项。"),
    )
    latitude = CoordinateField(limit=90, required=False, allow_null=True)
    longitude = CoordinateField(limit=180, required=False, allow_null=True)
    address = TextField(max_length=250, required=False, allow_blank=True, default="")
    contact_name = TextField(max_length=80, required=False, allow_blank=True, default="")
    contact_phone = TextField(max_length=20, required=False, allow_blank=True, default="")
    contact_email = serializers.EmailField(
        max_length=254, required=False, allow_blank=True, default=""
    )
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.NORMAL)
    is_public = StrictBooleanField(
        default=True, help_text=_("公开的事项任何人都能查看（联系方式除外）。")
    )
    attachments = serializers.ListField(
        child=serializers.FileField(max_length=200),
        max_length=attachments.MAX_PER_CASE,
        required=False,
        default=list,
        help_text=_(
            "最多 5 个 JPEG、PNG、WebP 图片或 PDF 文件，每个不超过 10 MB；仅事项相关单位可见。"
        ),
    )

    def validate_source(self, value: str) -> str:
        if value not in API_SOURCES:
            raise serializers.ValidationError(_("此来源的事项不能通过此接口提交。"))
        return value


class TransitionInputSerializer(serializers.Serializer):
    # Any string: a status the case cannot move to is answered with the ones it can.
    to = TextField(max_length=32, help_text=_("目标状态，见事项的 allowed_transitions。"))
    reason = TextField(
        max_length=2000,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("理由；不予受理时必填。"),
    )
    duplicate_of = TextField(
        max_length=24,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("原事项编号；标记为重复时必填。"),
    )


class AssignInputSerializer(serializers.Serializer):
    assignee = _user_id_field(
        allow_null=True,
        help_text=_("经办人的用户编号；null 表示取消指定。"),
    )


class RouteInputSerializer(serializers.Serializer):
    responsible = serializers.SlugRelatedField(
        slug_field="slug", queryset=Organisation.objects.all(), help_text=_("责任单位标识。")
    )
    note = TextField(max_length=2000, required=False, allow_blank=True, default="")


class BodyInputSerializer(serializers.Serializer):
    body = TextField(max_length=5000)


class CoHandlerInputSerializer(serializers.Serializer):
    organisation = serializers.SlugRelatedField(
        slug_field="slug", queryset=Organisation.objects.all(), help_text=_("协办单位标识。")
    )
    task = TextField(max_length=2000)
    assignee = _user_id_field(required=False, allow_null=True, default=None)
    due_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class CoHandlerAssignInputSerializer(serializers.Serializer):
    assignee = _user_id_field(
        allow_null=True,
        help_text=_("协办经办人的用户编号；null 表示取消指定。"),
    )
    due_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text=_("新的完成期限（可选）。")
    )


class CoHandlerDoneInputSerializer(serializers.Serializer):
    note = TextField(max_length=2000, help_text=_("完成情况。"))


class DueInputSerializer(serializers.Serializer):
    due_at = serializers.DateTimeField()
    reason = TextField(max_length=2000)
    deadline = serializers.ChoiceField(choices=DEADLINES, default="resolve")


class AttachmentInputSerializer(serializers.Serializer):
    file = serializers.FileField(
        max_length=200, help_text=_("JPEG、PNG、WebP 图片或 PDF 文件，不超过 10 MB。")
    )
    is_public = StrictBooleanField(
        default=False, help_text=_("公开的附件任何能查看事项的人都能看到；默认仅事项相关单位可见。")
    )
