"""Forms of the proposal pages: propose and edit, the comment threads, the department's answer
and its implementation.

They parse and bound the input as the models do (the same length limits, so a form never
accepts what the row would refuse); every rule with business meaning (the edit window, who
may answer, what an accepted answer needs) stays in ``services``, whose ``ValidationError``
the views put back on the form. Text is kept as typed: the body and answers are Markdown that
``markup`` renders safely, comments are plain text escaped when shown.
"""

from __future__ import annotations

from django import forms
from django.db.models import Q
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from governance.cases.forms import ServiceChoiceField
from governance.cases.routing import triage_slug
from governance.proposals import services
from governance.proposals.models import (
    MAX_ANSWER,
    MAX_BODY,
    MAX_COMMENT,
    MAX_TITLE,
    Answer,
    Category,
    Comment,
    Milestone,
    Scope,
)
from governance.stakeholders.models import Organisation
from governance.stakeholders.rules import ACTING_ROLES, organisation_ids
from governance.stations.models import Service, Station


def _lazy(message, **params):
    """``message % params`` translated when shown, not when the module is imported."""
    return lazy(lambda: str(message) % params, str)()


BODY_HELP = _lazy(
    _(
        "可以使用 Markdown：**加粗**、*斜体*、以“- ”开头的列表、[链接文字](https://…)；"
        "不支持 HTML。最多 %(limit)d 字。"
    ),
    limit=MAX_BODY,
)
ATTACHMENTS_HELP = _lazy(
    _(
        "可选，最多 %(count)d 个 JPEG、PNG、WebP 图片或 PDF，每个不超过 10 MB；"
        "照片的位置等信息会被清除。建议公开后，附件所有人可见。"
    ),
    count=services.MAX_ATTACHMENTS,
)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Up to ``limit`` files from one ``<input multiple>``. Their content is checked by the
    service, which refuses them all for one bad file."""

    widget = MultipleFileInput

    def __init__(self, *, limit: int = services.MAX_ATTACHMENTS, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,.pdf"})
        )
        self.limit = limit
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        if not data:
            files = []
        elif isinstance(data, list | tuple):
            files = [item for item in data if item]
        else:
            files = [data]
        if len(files) > self.limit:
            raise forms.ValidationError(
                _("最多还能上传 %(count)d 个附件。"), code="too_many", params={"count": self.limit}
            )
        return [super(AttachmentsField, self).clean(item, initial) for item in files]


def _categories():
    return Category.objects.filter(is_active=True).order_by("order", "slug")


class ProposalForm(forms.Form):
    """A new proposal: about the platform, a station or a service, as oneself or on behalf of
    an organisation one acts for."""

    title = forms.CharField(label=_("标题"), max_length=MAX_TITLE)
    body = forms.CharField(
        label=_("建议内容"),
        max_length=MAX_BODY,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=BODY_HELP,
    )
    category = forms.ModelChoiceField(
        label=_("类别"),
        queryset=_categories(),
        to_field_name="slug",
        empty_label=_("（请选择）"),
    )
    scope = forms.ChoiceField(
        label=_("建议针对"),
        choices=Scope.choices,
        initial=Scope.PLATFORM,
        widget=forms.RadioSelect,
    )
    station = forms.ModelChoiceField(
        label=_("站点"),
        queryset=Station.objects.filter(is_active=True).order_by("name_zh"),
        required=False,
        to_field_name="slug",
        empty_label=_("（请选择）"),
        help_text=_("针对站点时必选；针对服务事项时可选，说明在哪个站点办理。"),
    )
    service = ServiceChoiceField(
        label=_("服务事项"),
        queryset=Service.objects.filter(is_active=True, department__is_active=True)
        .select_related("department")
        .order_by("department__name_zh", "name_zh"),
        required=False,
        to_field_name="service_code",
        empty_label=_("（请选择）"),
        help_text=_("针对服务事项时必选；由该事项的主管部门答复。"),
    )
    on_behalf_of = forms.ModelChoiceField(
        label=_("提出身份"),
        queryset=Organisation.objects.none(),
        required=False,
        to_field_name="slug",
        empty_label=_("以个人名义"),
        help_text=_("也可以用你担任管理员或工作人员的单位的名义提出。"),
    )
    attachments = AttachmentsField(label=_("附件"), help_text=ATTACHMENTS_HELP)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        seats = organisation_ids(user, roles=ACTING_ROLES)
        if seats:
            self.fields["on_behalf_of"].queryset = Organisation.objects.filter(
                pk__in=seats, is_active=True
            ).order_by("kind", "name_zh")
        else:
            del self.fields["on_behalf_of"]

    def clean(self):
        data = super().clean()
        scope = data.get("scope")
        # A choice the scope does not use is ignored, even a stale one (a page kept open
        # while a service was retired): it would be dropped anyway.
        unused = {Scope.PLATFORM: ("station", "service"), Scope.STATION: ("service",)}
        for name in unused.get(scope, ()):
            self._errors.pop(name, None)
        if scope == Scope.PLATFORM:
            data["station"] = data["service"] = None
        elif scope == Scope.STATION:
            data["service"] = None
            if "station" in data and data["station"] is None:
                self.add_error("station", _("请选择站点。"))
        elif scope == Scope.SERVICE and "service" in data and data["service"] is None:
            self.add_error("service", _("请选择服务事项。"))
        data.setdefault("on_behalf_of", None)
        return data


class EditForm(forms.Form):
    """A draft, or a proposal within its edit window: its text, its category, more files."""

    title = forms.CharField(label=_("标题"), max_length=MAX_TITLE)
    body = forms.CharField(
        label=_("建议内容"),
        max_length=MAX_BODY,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=BODY_HELP,
    )
    category = forms.ModelChoiceField(label=_("类别"), queryset=_categories(), to_field_name="slug")
    attachments = AttachmentsField(label=_("增加附件"), help_text=ATTACHMENTS_HELP)

    def __init__(self, *args, room: int = services.MAX_ATTACHMENTS, **kwargs):
        super().__init__(*args, **kwargs)
        if room <= 0:
            del self.fields["attachments"]
        else:
            self.fields["attachments"].limit = room


# The comment threads --------------------------------------------------------------------------
class _OnComment(forms.Form):
    """A form about one comment of the proposal (the views give its comments)."""

    comment = forms.ModelChoiceField(
        queryset=Comment.objects.none(),
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("这条建议下没有这条评论。")},
    )

    def __init__(self, *args, proposal=None, **kwargs):
        super().__init__(*args, **kwargs)
        if proposal is not None:
            self.fields["comment"].queryset = Comment.objects.filter(proposal=proposal)


class CommentForm(forms.Form):
    prefix = "comment"

    body = forms.CharField(
        label=_("评论"),
        max_length=MAX_COMMENT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_lazy(_("纯文本，最多 %(limit)d 字。"), limit=MAX_COMMENT),
    )
    parent = forms.ModelChoiceField(
        queryset=Comment.objects.none(),
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("回复的评论不存在。")},
    )

    def __init__(self, *args, proposal=None, **kwargs):
        super().__init__(*args, **kwargs)
        if proposal is not None:
            self.fields["parent"].queryset = Comment.objects.filter(proposal=proposal)


class VoteForm(_OnComment):
    prefix = "vote"

    value = forms.TypedChoiceField(
        choices=[("1", _("赞同")), ("-1", _("反对")), ("0", _("取消"))],
        coerce=int,
        error_messages={"invalid_choice": _("投票只能是 1（赞同）、-1（反对）或 0（取消）。")},
    )


class FlagForm(_OnComment):
    prefix = "flag"

    reason = forms.CharField(label=_("举报原因（可选）"), max_length=200, required=False)


class HideForm(_OnComment):
    prefix = "hide"

    reason = forms.CharField(
        label=_("隐藏原因"),
        max_length=200,
        help_text=_("所有人都会看到这条评论已被隐藏及原因。"),
    )


class RouteForm(forms.Form):
    prefix = "route"

    responsible = forms.ModelChoiceField(
        label=_("答复单位"),
        queryset=Organisation.objects.none(),
        to_field_name="slug",
        empty_label=_("（请选择）"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A department, or a partner for what it contributes (and the triage desk, until it
        # hands on): the same as services.proposal_route.
        answering = [Organisation.Kind.DEPARTMENT, Organisation.Kind.PARTNER]
        self.fields["responsible"].queryset = Organisation.objects.filter(
            Q(kind__in=answering) | Q(slug=triage_slug()), is_active=True
        ).order_by("kind", "name_zh")


# The department's answer and the implementation --------------------------------------------------
class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class AnswerForm(forms.Form):
    prefix = "answer"

    state = forms.ChoiceField(
        label=_("答复结论"), choices=Answer.State.choices, widget=forms.RadioSelect
    )
    text = forms.CharField(
        label=_("答复内容"),
        max_length=MAX_ANSWER,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("公开发布，提议人、支持者和关注者都会收到通知。可以使用 Markdown。"),
    )
    cost = forms.DecimalField(
        label=_("预计费用（元）"),
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    starts_on = forms.DateField(label=_("计划开始"), required=False, widget=DateInput)
    ends_on = forms.DateField(
        label=_("计划完成"),
        required=False,
        widget=DateInput,
        help_text=_("采纳时须填写计划开始和完成日期。"),
    )


class MilestoneForm(forms.Form):
    prefix = "milestone"

    title = forms.CharField(label=_("里程碑"), max_length=150)
    due_on = forms.DateField(label=_("计划日期"), widget=DateInput)
    description = forms.CharField(
        label=_("说明"), max_length=2_000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class MilestoneStateForm(forms.Form):
    milestone = forms.ModelChoiceField(
        queryset=Milestone.objects.none(),
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("这条建议没有这个里程碑。")},
    )
    state = forms.ChoiceField(label=_("状态"), choices=Milestone.State.choices)

    def __init__(self, *args, proposal=None, **kwargs):
        super().__init__(*args, **kwargs)
        if proposal is not None:
            self.fields["milestone"].queryset = Milestone.objects.filter(result__proposal=proposal)


class TaskCaseForm(forms.Form):
    prefix = "task"

    title = forms.CharField(label=_("事项标题"), max_length=200)
    description = forms.CharField(
        label=_("要做的事"), max_length=4_000, widget=forms.Textarea(attrs={"rows": 3})
    )
    service = ServiceChoiceField(
        label=_("服务事项"),
        queryset=Service.objects.filter(is_active=True, department__is_active=True)
        .select_related("department")
        .order_by("department__name_zh", "name_zh"),
        required=False,
        to_field_name="service_code",
        empty_label=_("（建议针对的服务事项）"),
        help_text=_("留空则用建议针对的服务事项；针对整个平台的建议须选择。"),
    )
    station = forms.ModelChoiceField(
        label=_("站点"),
        queryset=Station.objects.filter(is_active=True).order_by("name_zh"),
        required=False,
        to_field_name="slug",
        empty_label=_("（建议针对的站点）"),
        help_text=_("留空则用建议针对的站点，或该服务事项唯一的办理站点。"),
    )
