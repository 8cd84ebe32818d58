"""Serializers of the proposals API: input ones that parse a request, output ones that render.

Input and output are separate classes (what a client sends differs from what it reads back).
Output serializers are plain ``Serializer`` classes reading relations ``queries`` already
joined (``listing``, ``proposal_for``, ``comments_of``); what depends on the reader (whether
they moderate, may edit, answer…) is decided by the view through ``rules`` and passed in the
context as ``reader`` (which also builds the rows' URLs), never looked up here per row.

A proposal's body and an answer's text are Markdown: the API takes the source and returns it
as written (``body``, ``text``) with the sanitised HTML made from it when it was saved
(``body_html``, ``text_html``), in which no script, handler or style survives. Comments are
plain text, returned as written; the pages escape them.
"""

from __future__ import annotations

from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.utils import html

from governance.cases import attachments as files
from governance.cases.models import Status as CaseStatus
from governance.cases.serializers import (
    CategoryRefSerializer,
    ServiceRefSerializer,
    StrictBooleanField,
    TextField,
)
from governance.core import panels as core_panels
from governance.proposals.models import (
    MAX_ANSWER,
    MAX_BODY,
    MAX_COMMENT,
    MAX_TITLE,
    Answer,
    Category,
    Milestone,
    Result,
    Scope,
    Status,
)
from governance.proposals.services import CONFLICTS, MAX_ATTACHMENTS, support_threshold
from governance.stakeholders.models import Organisation
from governance.stations.models import Service, Station
from governance.stations.serializers import OrganisationRefSerializer, StationRefSerializer

# Far beyond any id; keeps a lookup inside PostgreSQL's bigint.
MAX_ID = 2**63 - 1
TIMELINE_KINDS = [
    ("published", pgettext_lazy("proposal timeline", "发布")),
    ("edited", pgettext_lazy("proposal timeline", "修改")),
    ("threshold", pgettext_lazy("proposal timeline", "达到支持门槛")),
    ("answered", pgettext_lazy("proposal timeline", "正式答复")),
    ("milestone", pgettext_lazy("proposal timeline", "里程碑完成")),
    ("task_done", pgettext_lazy("proposal timeline", "落实事项办结")),
    ("implemented", pgettext_lazy("proposal timeline", "已落实")),
    ("withdrawn", pgettext_lazy("proposal timeline", "撤回")),
    # A step a wing's panel adds (a partner's pledge delivered): ``panel`` names it.
    ("panel", pgettext_lazy("proposal timeline", "相关进展")),
]
TIMELINE_LABELS = dict(TIMELINE_KINDS)


def _is_form(field) -> bool:
    return isinstance(getattr(field.root, "initial_data", None), QueryDict)


def public_name(user) -> str:
    """The name a person shows to everyone: the display name they chose, else "市民" (never
    their e-mail address or a part of it)."""
    return user.display_name or str(_("市民"))


# Input fields -----------------------------------------------------------------------------------
class IdField(serializers.IntegerField):
    """A row's id: an integer (in form data, its digits); DRF would also take ``"5"``, ``5.0``
    and ``true`` in JSON."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not (
            isinstance(data, int) or (_is_form(self) and isinstance(data, str))
        ):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field({"type": "integer", "enum": [1, -1, 0]})
class VoteField(serializers.Field):
    """1 (up), -1 (down) or 0 (take one's vote back): an integer, nothing else."""

    default_error_messages = {"invalid": _("投票只能是 1（赞同）、-1（反对）或 0（取消）。")}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int) or data not in (1, -1, 0):
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return value


@extend_schema_field(
    {
        "oneOf": [
            {"type": "number", "minimum": 0, "maximum": 9999999999.99},
            {"type": "string", "format": "decimal", "pattern": r"^\d{1,10}(\.\d{1,2})?$"},
        ],
        "nullable": True,
    }
)
class CostField(serializers.DecimalField):
    """Yuan, with at most two decimals, as a number or a decimal string."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=12, decimal_places=2, min_value=0, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (str, int, float)):
            self.fail("invalid")
        return super().to_internal_value(data)


class BlankInFormsMixin:
    """A blank optional field in form data is a blank value, as in JSON, and refused as one.

    DRF reads an optional field sent blank in a form as one not sent at all, so a blank
    ``publish`` would quietly mean false; the schema says it is true or false, and the client
    should hear that a blank is neither."""

    def get_value(self, dictionary):
        if html.is_html_input(dictionary) and dictionary.get(self.field_name) == "":
            return ""
        return super().get_value(dictionary)


class FormBooleanField(BlankInFormsMixin, StrictBooleanField):
    pass


class SlugRefField(serializers.SlugRelatedField):
    """A row named by its slug or code: text, without NUL characters (PostgreSQL refuses them
    in a query, which DRF would let through as a 500)."""

    def to_internal_value(self, data):
        if not isinstance(data, str) or "\x00" in data:
            self.fail("invalid")
        return super().to_internal_value(data)


def _category_field(**kwargs) -> SlugRefField:
    return SlugRefField(
        slug_field="slug",
        queryset=Category.objects.filter(is_active=True),
        help_text=_("建议类别标识。"),
        **kwargs,
    )


def _attachments_field() -> serializers.ListField:
    return serializers.ListField(
        child=serializers.FileField(max_length=200),
        max_length=MAX_ATTACHMENTS,
        required=False,
        default=list,
        help_text=_(
            "最多 5 个 JPEG、PNG、WebP 图片或 PDF 文件，每个不超过 10 MB"
            "（multipart/form-data）；能查看建议的人都能查看。"
        ),
    )


# Input ------------------------------------------------------------------------------------------
class ProposalCreateInputSerializer(serializers.Serializer):
    """A new proposal: a draft (private to its author) unless ``publish``."""

    title = TextField(max_length=MAX_TITLE)
    body = TextField(
        max_length=MAX_BODY,
        help_text=_("正文，Markdown 格式；其中的 HTML 和脚本按原文显示，不会执行。"),
    )
    category = _category_field()
    scope = serializers.ChoiceField(
        choices=Scope.choices,
        default=Scope.PLATFORM,
        help_text=_("platform（整个平台）、station（须填 station）或 service（须填 service）。"),
    )
    station = SlugRefField(
        slug_field="slug",
        queryset=Station.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text=_("站点标识；站点范围的建议必填，服务事项范围的建议可选。"),
    )
    service = SlugRefField(
        slug_field="service_code",
        queryset=Service.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text=_("服务事项编码；服务事项范围的建议必填。"),
    )
    on_behalf_of = SlugRefField(
        slug_field="slug",
        queryset=Organisation.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        default=None,
        help_text=_("以单位名义提出时的单位标识；提议人须是该单位的管理员或工作人员。"),
    )
    publish = FormBooleanField(
        default=False, help_text=_("true 表示立即发布；默认保存为仅自己可见的草稿。")
    )
    attachments = _attachments_field()


class ProposalUpdateInputSerializer(serializers.Serializer):
    """An edit of a draft, or of a published proposal within its edit window: only the fields
    sent change; a changed published text becomes a new version."""

    title = TextField(max_length=MAX_TITLE, required=False)
    body = TextField(max_length=MAX_BODY, required=False)
    category = _category_field(required=False)


class ProposalCommentInputSerializer(serializers.Serializer):
    body = TextField(max_length=MAX_COMMENT, help_text=_("评论内容，纯文本。"))
    parent = IdField(
        required=False,
        allow_null=True,
        default=None,
        help_text=_("回复的一级评论编号；不填表示发表一级评论。"),
    )


class CommentVoteInputSerializer(serializers.Serializer):
    value = VoteField(help_text=_("1 赞同，-1 反对，0 取消自己的投票。"))


class CommentFlagInputSerializer(serializers.Serializer):
    reason = TextField(max_length=200, required=False, allow_blank=True, default="")


class CommentHideInputSerializer(serializers.Serializer):
    reason = TextField(max_length=200, help_text=_("隐藏原因，所有人可见。"))


class ProposalAnswerInputSerializer(serializers.Serializer):
    """The responsible department's answer: accepting needs the plan's start and end dates."""

    state = serializers.ChoiceField(choices=Answer.State.choices)
    text = TextField(max_length=MAX_ANSWER, help_text=_("答复内容，Markdown 格式。"))
    cost = CostField(required=False, allow_null=True, default=None, help_text=_("预计费用（元）。"))
    starts_on = serializers.DateField(
        required=False, allow_null=True, default=None, help_text=_("计划开始日期；采纳时必填。")
    )
    ends_on = serializers.DateField(
        required=False, allow_null=True, default=None, help_text=_("计划完成日期；采纳时必填。")
    )
    publish = StrictBooleanField(
        default=False,
        help_text=_("true 表示立即发布并通知提议人和支持者；默认只保存（或改写）草稿。"),
    )


# Output: references and small parts ----------------------------------------------------------
class ProposalPersonSerializer(serializers.Serializer):
    """A person as everyone sees them: the name they chose to show, and whether it is you."""

    name = serializers.CharField(read_only=True)
    is_you = serializers.BooleanField(read_only=True)


class TaskCaseRefSerializer(serializers.Serializer):
    """A case opened for a task of the implementation: its title only when the case is
    public."""

    reference = serializers.CharField(read_only=True)
    url = serializers.URLField(read_only=True)
    title = serializers.CharField(read_only=True, allow_null=True)
    status = serializers.ChoiceField(choices=CaseStatus.choices, read_only=True)
    status_label = serializers.CharField(read_only=True)
    resolved_at = serializers.DateTimeField(read_only=True, allow_null=True)


class ProposalMilestoneOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    due_on = serializers.DateField(read_only=True)
    state = serializers.ChoiceField(choices=Milestone.State.choices, read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    completed_at = serializers.DateTimeField(read_only=True, allow_null=True)


class ProposalResultOutputSerializer(serializers.Serializer):
    """The implementation of an accepted proposal: progress is the share of its milestones
    and task cases that are done."""

    state = serializers.ChoiceField(choices=Result.State.choices, read_only=True)
    state_label = serializers.CharField(read_only=True)
    progress = serializers.IntegerField(read_only=True, min_value=0, max_value=100)
    starts_on = serializers.DateField(read_only=True)
    ends_on = serializers.DateField(read_only=True)
    cost = serializers.DecimalField(
        max_digits=12, decimal_places=2, read_only=True, allow_null=True
    )
    completed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    milestones = ProposalMilestoneOutputSerializer(many=True, read_only=True)
    task_cases = TaskCaseRefSerializer(many=True, read_only=True)


class ProposalAnswerOutputSerializer(serializers.Serializer):
    """An official answer; ``published_at`` is null while it is the department's draft."""

    id = serializers.IntegerField(read_only=True)
    state = serializers.ChoiceField(choices=Answer.State.choices, read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    text = serializers.CharField(read_only=True)
    text_html = serializers.CharField(read_only=True)
    cost = serializers.DecimalField(
        max_digits=12, decimal_places=2, read_only=True, allow_null=True
    )
    starts_on = serializers.DateField(read_only=True, allow_null=True)
    ends_on = serializers.DateField(read_only=True, allow_null=True)
    organisation = OrganisationRefSerializer(read_only=True)
    published_at = serializers.DateTimeField(read_only=True, allow_null=True)


class ProposalVersionOutputSerializer(serializers.Serializer):
    number = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)
    body = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class ProposalAttachmentOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="original_name", read_only=True)
    content_type = serializers.ChoiceField(choices=sorted(files.EXTENSIONS), read_only=True)
    size = serializers.IntegerField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    url = serializers.SerializerMethodField(help_text=_("下载地址（建议页面的附件链接）。"))

    @extend_schema_field({"type": "string", "format": "uri"})
    def get_url(self, attachment) -> str:
        return self.context["reader"].attachment_url(attachment)


class ProposalTimelineEventSerializer(serializers.Serializer):
    """One step from idea to done. Besides ``kind`` and ``at``, each kind fills its own
    fields: ``version`` (edited), ``answer_due_at`` (threshold), ``answer_state`` and
    ``organisation`` (answered), ``milestone`` (milestone), ``case`` (task_done), ``panel``,
    ``panel_kind`` and ``text`` (panel: a step a wing adds, e.g. a partner's pledge
    delivered)."""

    kind = serializers.ChoiceField(choices=TIMELINE_KINDS, read_only=True)
    label = serializers.CharField(read_only=True)
    at = serializers.DateTimeField(read_only=True)
    version = serializers.IntegerField(read_only=True, allow_null=True)
    answer_due_at = serializers.DateTimeField(read_only=True, allow_null=True)
    answer_state = serializers.ChoiceField(
        choices=Answer.State.choices, read_only=True, allow_null=True
    )
    organisation = OrganisationRefSerializer(read_only=True, allow_null=True)
    milestone = serializers.CharField(read_only=True, allow_null=True)
    case = serializers.CharField(read_only=True, allow_null=True)
    panel = serializers.CharField(
        read_only=True, allow_null=True, help_text=_("添加这一步的板块（如 pledges）。")
    )
    panel_kind = serializers.CharField(
        read_only=True, allow_null=True, help_text=_("板块对这一步的分类（如 delivered）。")
    )
    text = serializers.CharField(read_only=True, allow_null=True, help_text=_("这一步的说明。"))


def timeline_rows(events) -> list[dict]:
    """``queries.timeline``'s events as :class:`ProposalTimelineEventSerializer` renders them."""
    rows = []
    for event in events:
        row = {
            "kind": event.kind,
            "label": str(TIMELINE_LABELS.get(event.kind, event.kind)),
            "at": event.at,
            "version": event.data.get("number"),
            "answer_due_at": event.data.get("due"),
            "answer_state": None,
            "organisation": None,
            "milestone": None,
            "case": None,
            "panel": None,
            "panel_kind": None,
            "text": None,
        }
        if "answer" in event.data:
            row["answer_state"] = event.data["answer"].state
            row["organisation"] = event.data["answer"].organisation
        if "milestone" in event.data:
            row["milestone"] = event.data["milestone"].title
        if "case" in event.data:
            row["case"] = event.data["case"].reference
        if event.kind == "panel":
            panel, entry = event.data["panel"], event.data["entry"]
            row.update(
                label=str(panel.title), panel=panel.key, panel_kind=entry.kind, text=entry.text
            )
        rows.append(row)
    return rows


# Output: proposals ----------------------------------------------------------------------------
class ProposalSummarySerializer(serializers.Serializer):
    """A row of the list, from ``queries.listing``'s joined relations and reader columns."""

    id = serializers.IntegerField(read_only=True)
    url = serializers.SerializerMethodField()
    page_url = serializers.SerializerMethodField()
    title = serializers.CharField(read_only=True)
    summary = serializers.CharField(
        read_only=True,
        help_text=_("正文开头的纯文本摘要（不是 HTML，显示时须转义）。"),
    )
    category = CategoryRefSerializer(read_only=True)
    scope = serializers.ChoiceField(choices=Scope.choices, read_only=True)
    scope_label = serializers.CharField(source="get_scope_display", read_only=True)
    station = StationRefSerializer(read_only=True, allow_null=True)
    service = ServiceRefSerializer(read_only=True, allow_null=True)
    status = serializers.ChoiceField(choices=Status.choices, read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    supports_count = serializers.IntegerField(read_only=True)
    comments_count = serializers.IntegerField(read_only=True)
    supported_by_me = serializers.BooleanField(read_only=True)
    followed_by_me = serializers.BooleanField(read_only=True)
    on_behalf_of = OrganisationRefSerializer(
        read_only=True, allow_null=True, help_text=_("以单位名义提出时的单位。")
    )
    responsible = OrganisationRefSerializer(
        read_only=True, allow_null=True, help_text=_("负责正式答复的单位（发布时确定）。")
    )
    created_at = serializers.DateTimeField(read_only=True)
    published_at = serializers.DateTimeField(read_only=True, allow_null=True)
    answered_at = serializers.DateTimeField(read_only=True, allow_null=True)
    implemented_at = serializers.DateTimeField(read_only=True, allow_null=True)
    answer_due_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text=_("达到支持门槛后，答复单位应在此时间前正式答复。"),
    )

    @extend_schema_field({"type": "string", "format": "uri"})
    def get_url(self, proposal) -> str:
        return self.context["reader"].url("api:proposal-detail", proposal.pk)

    @extend_schema_field({"type": "string", "format": "uri-reference"})
    def get_page_url(self, proposal) -> str:
        return self.context["reader"].url("proposals:detail", proposal.pk, absolute=False)


class ProposalPermissionsSerializer(serializers.Serializer):
    """What the reader may do with the proposal, so a client shows only the buttons that work."""

    edit = serializers.BooleanField(read_only=True)
    publish = serializers.BooleanField(read_only=True)
    withdraw = serializers.BooleanField(read_only=True)
    support = serializers.BooleanField(read_only=True)
    comment = serializers.BooleanField(read_only=True)
    follow = serializers.BooleanField(read_only=True)
    answer = serializers.BooleanField(read_only=True)
    moderate = serializers.BooleanField(read_only=True)


class ProposalDetailSerializer(ProposalSummarySerializer):
    """The whole proposal. The view puts in the context what is read besides the row:
    ``milestones`` and ``task_cases`` (of its result), ``timeline`` (rows of
    :func:`timeline_rows`), ``panels`` (``core.panels.serialized``) and ``permissions``."""

    body = serializers.CharField(read_only=True, help_text=_("正文的 Markdown 原文。"))
    body_html = serializers.CharField(
        read_only=True, help_text=_("正文渲染并净化后的 HTML：不含脚本、事件属性和样式。")
    )
    author = serializers.SerializerMethodField()
    version = serializers.IntegerField(read_only=True)
    edit_until = serializers.DateTimeField(read_only=True, allow_null=True)
    threshold_reached_at = serializers.DateTimeField(read_only=True, allow_null=True)
    withdrawn_at = serializers.DateTimeField(read_only=True, allow_null=True)
    support_threshold = serializers.SerializerMethodField()
    versions = ProposalVersionOutputSerializer(many=True, read_only=True, source="versions.all")
    attachments = ProposalAttachmentOutputSerializer(
        many=True, read_only=True, source="attachments.all"
    )
    answers = ProposalAnswerOutputSerializer(
        many=True,
        read_only=True,
        source="published_answers",
        help_text=_("已发布的正式答复，最早的在前；最后一份是现在的结论。"),
    )
    result = serializers.SerializerMethodField()
    timeline = serializers.SerializerMethodField()
    panels = serializers.SerializerMethodField()
    permissions = serializers.SerializerMethodField()

    @extend_schema_field(ProposalPersonSerializer)
    def get_author(self, proposal) -> dict:
        return {
            "name": public_name(proposal.author),
            "is_you": self.context["reader"].is_me(proposal.author_id),
        }

    def get_support_threshold(self, proposal) -> int:
        return support_threshold()

    @extend_schema_field(ProposalResultOutputSerializer(allow_null=True))
    def get_result(self, proposal) -> dict | None:
        result = getattr(proposal, "result", None)
        if result is None:
            return None
        reader = self.context["reader"]
        row = {
            "state": result.state,
            "state_label": str(result.get_state_display()),
            "progress": result.progress,
            "starts_on": result.starts_on,
            "ends_on": result.ends_on,
            "cost": result.cost,
            "completed_at": result.completed_at,
            "milestones": self.context.get("milestones", ()),
            "task_cases": [
                {
                    "reference": case.reference,
                    "url": reader.case_url(case),
                    "title": case.title if case.is_public else None,
                    "status": case.status,
                    "status_label": str(case.get_status_display()),
                    "resolved_at": case.resolved_at,
                }
                for case in self.context.get("task_cases", ())
            ],
        }
        return ProposalResultOutputSerializer(row).data

    @extend_schema_field(ProposalTimelineEventSerializer(many=True))
    def get_timeline(self, proposal) -> list[dict]:
        return ProposalTimelineEventSerializer(self.context.get("timeline", ()), many=True).data

    @extend_schema_field(core_panels.API_SCHEMA)
    def get_panels(self, proposal) -> dict:
        return self.context.get("panels", {})

    @extend_schema_field(ProposalPermissionsSerializer)
    def get_permissions(self, proposal) -> dict:
        return ProposalPermissionsSerializer(self.context.get("permissions", {})).data


# Output: supports, follows, comments ----------------------------------------------------------
class ProposalSupportOutputSerializer(serializers.Serializer):
    supported = serializers.BooleanField(read_only=True)
    supports_count = serializers.IntegerField(read_only=True)


class ProposalFollowOutputSerializer(serializers.Serializer):
    following = serializers.BooleanField(read_only=True)


class ProposalCommentOutputSerializer(serializers.Serializer):
    """A comment. A hidden one stays in its thread with the reason; its text is kept from
    everyone but the proposal's moderators."""

    id = serializers.IntegerField(read_only=True)
    parent = serializers.IntegerField(source="parent_id", read_only=True, allow_null=True)
    author = serializers.SerializerMethodField()
    body = serializers.SerializerMethodField(
        help_text=_("评论内容；已隐藏的评论只有审核人员能看到内容，其他人看到 null。")
    )
    is_hidden = serializers.BooleanField(read_only=True)
    hidden_reason = serializers.CharField(read_only=True)
    hidden_at = serializers.DateTimeField(read_only=True, allow_null=True)
    upvotes = serializers.IntegerField(read_only=True)
    downvotes = serializers.IntegerField(read_only=True)
    my_vote = serializers.SerializerMethodField(
        help_text=_("你的投票：1 赞同，-1 反对，null 未投票（或未登录）。")
    )
    flags_count = serializers.SerializerMethodField(help_text=_("举报数；仅审核人员可见。"))
    created_at = serializers.DateTimeField(read_only=True)

    @extend_schema_field(ProposalPersonSerializer)
    def get_author(self, comment) -> dict:
        return {
            "name": public_name(comment.author),
            "is_you": self.context["reader"].is_me(comment.author_id),
        }

    @extend_schema_field({"type": "string", "nullable": True})
    def get_body(self, comment) -> str | None:
        if comment.is_hidden and not self.context.get("moderates"):
            return None
        return comment.body

    @extend_schema_field({"type": "integer", "enum": [1, -1], "nullable": True})
    def get_my_vote(self, comment) -> int | None:
        return getattr(comment, "my_vote", None)

    @extend_schema_field({"type": "integer", "nullable": True})
    def get_flags_count(self, comment) -> int | None:
        return comment.flags_count if self.context.get("moderates") else None


class ProposalCommentThreadSerializer(ProposalCommentOutputSerializer):
    """A top-level comment with its replies (one level), oldest first."""

    replies = serializers.SerializerMethodField()

    @extend_schema_field(ProposalCommentOutputSerializer(many=True))
    def get_replies(self, comment) -> list[dict]:
        return ProposalCommentOutputSerializer(
            getattr(comment, "thread_replies", ()), many=True, context=self.context
        ).data


class CommentFlagOutputSerializer(serializers.Serializer):
    flagged = serializers.BooleanField(read_only=True)
    created = serializers.BooleanField(
        read_only=True, help_text=_("false 表示你之前已经举报过这条评论。")
    )


# Errors -----------------------------------------------------------------------------------------
class ProposalConflictSerializer(serializers.Serializer):
    """The 409 of a request the proposal's state refuses, with the reason's code."""

    detail = serializers.CharField()
    code = serializers.ChoiceField(choices=sorted(CONFLICTS))
