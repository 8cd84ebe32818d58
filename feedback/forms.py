"""Forms of the feedback pages. Levels and reasons are checked again by the services, whose
messages name the allowed values; a honeypot field catches simple bots; every form carries an
idempotency key, so a double tap on a slow phone network writes one record."""

from __future__ import annotations

import uuid

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from feedback import queries
from feedback import reasons as reason_tags
from feedback.models import MAX_COMMENT, MAX_TEXT, Kind, Level
from governance.cases.forms import PHONE, ServiceChoiceField
from governance.stakeholders.models import Organisation
from governance.stations.models import Service, Station


class HoneypotMixin(forms.Form):
    # Hidden from people by CSS and from screen readers; bots fill every field they see.
    website = forms.CharField(required=False, label=_("网站（请留空）"))
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["website"].widget.attrs.update({"autocomplete": "off", "tabindex": "-1"})
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4())

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get(self.add_prefix("website"), "").strip())


class ContactFields(forms.Form):
    contact_name = forms.CharField(label=_("称呼"), max_length=80, required=False)
    contact_phone = forms.CharField(
        label=_("联系电话"),
        max_length=20,
        required=False,
        validators=[PHONE],
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    contact_email = forms.EmailField(label=_("电子邮箱"), required=False)


LEVEL_ERRORS = {
    "invalid_choice": _(
        "评价等级必须是 1 到 5：5=非常满意，4=满意，3=基本满意，2=不满意，1=非常不满意。"
    )
}


def _reason_errors() -> dict:
    allowed = "、".join(reason.code for reason in reason_tags.REASONS)
    return {"invalid_choice": format_lazy(_("“%(value)s”不是可选的原因；可选：{}。"), allowed)}


def _reason_choices(levels) -> list[tuple[str, str]]:
    return [(r.code, r.label) for r in reason_tags.REASONS if r.levels & frozenset(levels)]


class RatingForm(HoneypotMixin, ContactFields):
    level = forms.TypedChoiceField(
        label=_("你对这次办事满意吗？"),
        choices=sorted(Level.choices, reverse=True),
        coerce=int,
        widget=forms.RadioSelect,
        error_messages=LEVEL_ERRORS,
    )
    reasons = forms.MultipleChoiceField(
        label=_("原因（可多选）"),
        choices=_reason_choices(range(1, 6)),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages=_reason_errors(),
    )
    comment = forms.CharField(
        label=_("想说的话（可选）"),
        max_length=MAX_COMMENT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    field_order = ("level", "reasons", "comment")


class RerateForm(forms.Form):
    level = forms.TypedChoiceField(
        label=_("整改后，你满意吗？"),
        choices=sorted(Level.choices, reverse=True),
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("想说的话（可选）"),
        max_length=MAX_COMMENT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class FeedbackForm(HoneypotMixin, ContactFields):
    """Rate a service or station online, or send a suggestion, complaint or praise."""

    kind = forms.ChoiceField(
        label=_("你想"),
        choices=[(k, label) for k, label in Kind.choices if k != Kind.VISIT_RATING],
        widget=forms.RadioSelect,
        initial=Kind.SUGGESTION,
    )
    service = ServiceChoiceField(
        label=_("服务事项"),
        queryset=Service.objects.filter(is_active=True, department__is_active=True)
        .select_related("department")
        .order_by("department__name_zh", "name_zh"),
        required=False,
        to_field_name="service_code",
        empty_label=_("（不涉及具体事项）"),
    )
    station = forms.ModelChoiceField(
        label=_("站点"),
        queryset=Station.objects.filter(is_active=True).order_by("name_zh"),
        required=False,
        to_field_name="slug",
        empty_label=_("（不涉及具体站点）"),
    )
    level = forms.TypedChoiceField(
        label=_("评价等级（评价时必选）"),
        choices=[("", _("（请选择）")), *sorted(Level.choices, reverse=True)],
        coerce=int,
        empty_value=None,
        required=False,
    )
    reasons = forms.MultipleChoiceField(
        label=_("原因（可多选）"),
        choices=_reason_choices(range(1, 6)),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    text = forms.CharField(
        label=_("内容"),
        max_length=MAX_TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("建议、投诉和表扬必填，最多 2000 字。"),
    )
    photo = forms.FileField(
        label=_("照片（可选）"),
        required=False,
        help_text=_("JPEG、PNG、WebP 或 PDF，10 MB 以内；照片的位置等信息会被清除。"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,.pdf"}),
    )

    field_order = ("kind", "service", "station", "level", "reasons", "text", "photo")


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("公开答复"), max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 3})
    )


class HideForm(forms.Form):
    reason = forms.CharField(label=_("隐藏原因"), max_length=200)


class AppealForm(forms.Form):
    reason = forms.CharField(
        label=_("申诉理由"), max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 3})
    )


class DecideForm(forms.Form):
    upheld = forms.TypedChoiceField(
        label=_("审核结果"),
        choices=((1, _("申诉成立：不计入统计")), (0, _("申诉不成立"))),
        coerce=lambda value: value in (1, "1", True),
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("审核意见"), max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 2})
    )


def _inbox_level(value):
    return value if value == queries.LEVEL_BAD else int(value)


def _inbox_reason_errors() -> dict:
    allowed = "、".join([queries.UNSPECIFIED, *(reason.code for reason in reason_tags.REASONS)])
    return {"invalid_choice": format_lazy(_("“%(value)s”不是可选的原因；可选：{}。"), allowed)}


# A link may name the station, service and organisation by id (the needs radar's do: building
# them costs no query); the form reads them as the slug or code its fields take.
ID_PARAMS = {"station_id": "station", "service_id": "service", "organisation_id": "organisation"}


class InboxFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("类型"), required=False, choices=[("", _("全部")), *Kind.choices]
    )
    level = forms.TypedChoiceField(
        label=_("等级"),
        required=False,
        coerce=_inbox_level,
        empty_value=None,
        choices=[
            ("", _("全部")),
            (queries.LEVEL_BAD, _("差评（不满意、非常不满意）")),
            *sorted(Level.choices, reverse=True),
        ],
    )
    reason = forms.ChoiceField(
        label=_("原因"),
        required=False,
        choices=[
            ("", _("全部")),
            *((reason.code, reason.label) for reason in reason_tags.REASONS),
            (queries.UNSPECIFIED, queries.UNSPECIFIED_LABEL),
        ],
        error_messages=_inbox_reason_errors(),
    )
    station = forms.ModelChoiceField(
        label=_("站点"),
        queryset=Station.objects.order_by("name_zh"),
        required=False,
        to_field_name="slug",
        empty_label=_("全部"),
    )
    service = ServiceChoiceField(
        label=_("服务事项"),
        queryset=Service.objects.select_related("department").order_by(
            "department__name_zh", "name_zh"
        ),
        required=False,
        to_field_name="service_code",
        empty_label=_("全部"),
    )
    organisation = forms.ModelChoiceField(
        label=_("负责单位"),
        queryset=Organisation.objects.filter(
            kind__in=[Organisation.Kind.DEPARTMENT, Organisation.Kind.PARTNER]
        ).order_by("kind", "name_zh"),
        required=False,
        to_field_name="slug",
        empty_label=_("全部"),
    )
    answered = forms.ChoiceField(
        label=_("答复"),
        required=False,
        choices=(("", _("全部")), ("yes", _("已答复")), ("no", _("未答复"))),
    )
    appeals = forms.ChoiceField(
        label=_("申诉"),
        required=False,
        choices=(("", _("全部")), ("pending", _("待审核的申诉"))),
    )
    excluded = forms.ChoiceField(
        label=_("统计"),
        required=False,
        choices=(("", _("全部")), ("no", _("计入统计")), ("yes", _("申诉成立、不计入统计"))),
    )
    start = forms.DateField(
        label=_("从"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("到"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, data=None, *args, **kwargs):
        self.missing: list[str] = []
        if data is not None and any(key in data for key in ID_PARAMS):
            data = self._by_name(data)
        super().__init__(data, *args, **kwargs)

    def _by_name(self, data):
        """``data`` with the ids of ``ID_PARAMS`` replaced by what the fields take; an id that
        is not a number or names nothing becomes an error on its field."""
        data = data.copy()
        ids = {}
        for key, name in ID_PARAMS.items():
            raw = data.pop(key, None)
            if raw is None:
                continue
            value = raw[-1] if isinstance(raw, list) else raw
            if value.isascii() and value.isdigit() and int(value) < 2**63:
                ids[key] = int(value)
            else:
                self.missing.append(name)
        for name, value in queries.filter_values(**ids).items():
            if value is None:
                self.missing.append(name)
            else:
                data[name] = value
        return data

    def clean(self):
        data = super().clean()
        for name in self.missing:
            self.add_error(name, _("链接所指的选项不存在。"))
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("end", _("结束日期不能早于开始日期。"))
        elif data.get("reason") and (
            not (start and end) or (end - start).days + 1 > queries.REASON_MAX_DAYS
        ):
            self.add_error(
                "reason",
                _("按原因筛选时请填写起止日期，跨度不超过 %(days)s 天。")
                % {"days": queries.REASON_MAX_DAYS},
            )
        return data
