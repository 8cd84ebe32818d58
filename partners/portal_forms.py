"""Forms of the portal pages: pledges, agreements, volunteer shifts, training and members.

They parse and bound the input as the models do (the same length limits and number ranges);
every rule with business meaning (who may pledge, a shift marked done only once it started, the
last admin) stays in ``partners.services``, whose ``ValidationError`` the views put back on the
form. Dates and times are typed in Asia/Shanghai local time.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.forms import formset_factory
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from governance.stakeholders.models import Membership, Organisation
from governance.stations.models import Station
from partners.forms import check_years
from partners.models import Agreement, Pledge, Resource, VolunteerShift

ALL = ("", _("全部"))


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class LocalDateTimeInput(forms.DateTimeInput):
    """``<input type="datetime-local">``: the browser sends ``YYYY-MM-DDTHH:MM`` in local
    time, which ``DateTimeField`` reads in the current time zone (Asia/Shanghai)."""

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


def _stations():
    return Station.objects.filter(is_active=True).order_by("name_zh")


class PartnerField(forms.ModelChoiceField):
    """One of the partners the user may act for, by slug."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("企业伙伴"))
        kwargs.setdefault("to_field_name", "slug")
        kwargs.setdefault("empty_label", None)
        super().__init__(queryset=Organisation.objects.none(), **kwargs)


def _partner_field(form: forms.Form, partners) -> None:
    """Offer the partner as a choice only when there is one to make."""
    partners = list(partners)
    if len(partners) > 1:
        form.fields["partner"].queryset = Organisation.objects.filter(
            pk__in=[partner.pk for partner in partners]
        ).order_by("name_zh")
        form.fields["partner"].initial = partners[0].slug
    else:
        del form.fields["partner"]
        form.only_partner = partners[0] if partners else None


# Pledges ------------------------------------------------------------------------------------
TARGET_KINDS = (("proposal", pgettext_lazy("proposal", "建议")), ("case", _("事项")))


class PledgeFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=[ALL, *Pledge.Status.choices]
    )
    target = forms.ChoiceField(label=_("承诺对象"), required=False, choices=[ALL, *TARGET_KINDS])


class ResourceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Resource) -> str:
        amount = f"{obj.quantity.normalize():f} {obj.get_unit_display()}"
        return f"{obj.name}（{obj.partner.name} · {amount}）"


class PledgeForm(forms.Form):
    """What a partner offers to a proposal or a case: a resource of its own (or, without one,
    money in yuan), how much, and for when."""

    partner = PartnerField(label=_("承诺方"))
    resource = ResourceChoiceField(
        label=_("资源"),
        queryset=Resource.objects.none(),
        required=False,
        empty_label=_("（不选资源：承诺资金，单位为元）"),
        help_text=_("只能承诺本单位启用中的资源；不选资源即承诺资金。"),
    )
    quantity = forms.DecimalField(
        label=_("数量"),
        min_value=Decimal("0.01"),
        max_digits=12,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
        help_text=_("单位与所选资源相同；承诺资金时以元计。"),
    )
    starts_on = forms.DateField(label=_("开始日期"), widget=DateInput)
    ends_on = forms.DateField(label=_("结束日期"), widget=DateInput)
    note = forms.CharField(
        label=_("说明"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, partners, **kwargs):
        super().__init__(*args, **kwargs)
        partners = list(partners)
        _partner_field(self, partners)
        self.fields["resource"].queryset = (
            Resource.objects.filter(partner__in=partners, is_active=True)
            .select_related("partner")
            .order_by("partner__name_zh", "name_zh", "pk")
        )

    def clean(self):
        data = super().clean()
        check_years(self, "starts_on", "ends_on")
        if "partner" not in self.fields:
            data["partner"] = self.only_partner
        return data


class ReasonForm(forms.Form):
    """The reason a pledge is declined or withdrawn (the other side reads it)."""

    reason = forms.CharField(
        label=_("原因"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


# Agreements ---------------------------------------------------------------------------------
class AgreementFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=[ALL, *Agreement.Status.choices]
    )


class AgreementForm(forms.Form):
    partner = PartnerField(label=_("企业伙伴"))
    departments = forms.ModelMultipleChoiceField(
        label=_("合作部门"),
        queryset=Organisation.objects.filter(
            kind=Organisation.Kind.DEPARTMENT, is_active=True
        ).order_by("name_zh"),
        to_field_name="slug",
        widget=forms.CheckboxSelectMultiple,
    )
    title_zh = forms.CharField(label=_("中文标题"), max_length=200)
    title_en = forms.CharField(label=_("英文标题"), max_length=250, required=False)
    scope_zh = forms.CharField(
        label=_("合作范围（中文）"), max_length=5_000, widget=forms.Textarea(attrs={"rows": 5})
    )
    scope_en = forms.CharField(
        label=_("合作范围（英文）"),
        max_length=5_000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    starts_on = forms.DateField(label=_("生效日期"), widget=DateInput)
    ends_on = forms.DateField(
        label=_("到期日期"), widget=DateInput, help_text=_("到期前 60 天和 14 天会提醒双方。")
    )
    status = forms.ChoiceField(
        label=_("状态"), choices=Agreement.Status.choices, initial=Agreement.Status.DRAFT
    )

    def __init__(self, *args, partners=None, **kwargs):
        super().__init__(*args, **kwargs)
        if partners is None:  # editing: the partner of an agreement does not change
            del self.fields["partner"]
        else:
            self.fields["partner"].queryset = partners
            self.fields["partner"].empty_label = _("（请选择）")

    def clean(self):
        data = super().clean()
        check_years(self, "starts_on", "ends_on")
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", _("到期日期不能早于生效日期。"))
        return data


class DocumentForm(forms.Form):
    prefix = "document"

    title = forms.CharField(label=_("文件标题"), max_length=200)
    file = forms.FileField(
        label=_("PDF 文件"),
        help_text=_("只接受 PDF，10 MB 以内。文件只对协议双方开放。"),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
    )


# Volunteer shifts ---------------------------------------------------------------------------
class ShiftFilterForm(forms.Form):
    date_from = forms.DateField(label=_("开始日期自"), required=False, widget=DateInput)
    date_to = forms.DateField(label=_("至"), required=False, widget=DateInput)
    station = forms.ModelChoiceField(
        label=_("站点"),
        queryset=_stations(),
        required=False,
        to_field_name="slug",
        empty_label=_("全部"),
    )
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=[ALL, *VolunteerShift.Status.choices]
    )

    def clean(self):
        data = super().clean()
        check_years(self, "date_from", "date_to")
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("结束日期不能早于开始日期。"))
        return data


class ShiftForm(forms.Form):
    partner = PartnerField()
    station = forms.ModelChoiceField(
        label=_("站点"), queryset=_stations(), to_field_name="slug", empty_label=_("（请选择）")
    )
    volunteer = forms.CharField(label=_("志愿者"), max_length=80)
    role = forms.CharField(
        label=_("岗位"), max_length=80, help_text=_("例如：引导、自助终端协助、秩序维护。")
    )
    starts_at = forms.DateTimeField(label=_("开始"), widget=LocalDateTimeInput)
    ends_at = forms.DateTimeField(
        label=_("结束"), widget=LocalDateTimeInput, help_text=_("一个班次不超过 12 小时。")
    )
    status = forms.ChoiceField(
        label=_("状态"),
        choices=VolunteerShift.Status.choices,
        initial=VolunteerShift.Status.SCHEDULED,
        help_text=_("班次开始之后才能登记到岗或缺勤。"),
    )

    def __init__(self, *args, partners=None, **kwargs):
        super().__init__(*args, **kwargs)
        if partners is None:  # editing
            del self.fields["partner"]
        else:
            # A new shift is scheduled; it is marked done or missed once it has started.
            del self.fields["status"]
            _partner_field(self, partners)

    def clean(self):
        data = super().clean()
        check_years(self, "starts_at", "ends_at")
        if "partner" not in self.fields:
            data["partner"] = getattr(self, "only_partner", None)
        return data


# Training -----------------------------------------------------------------------------------
WHEN = (("upcoming", _("即将举行")), ("past", _("已举行")))


class TrainingFilterForm(forms.Form):
    when = forms.ChoiceField(label=_("时间"), required=False, choices=[ALL, *WHEN])


class TrainingForm(forms.Form):
    organiser = forms.ModelChoiceField(
        label=_("主办单位"),
        queryset=Organisation.objects.none(),
        to_field_name="slug",
        empty_label=None,
    )
    topic_zh = forms.CharField(label=_("中文主题"), max_length=200)
    topic_en = forms.CharField(label=_("英文主题"), max_length=250, required=False)
    trainer = forms.CharField(label=_("培训讲师"), max_length=120)
    station = forms.ModelChoiceField(
        label=_("站点"),
        queryset=_stations(),
        required=False,
        to_field_name="slug",
        empty_label=_("（不在站点）"),
    )
    location = forms.CharField(label=_("地点"), max_length=200, required=False)
    starts_at = forms.DateTimeField(label=_("开始时间"), widget=LocalDateTimeInput)
    hours = forms.DecimalField(
        label=_("学时"),
        min_value=Decimal("0.5"),
        max_value=Decimal("40"),
        max_digits=4,
        decimal_places=1,
        widget=forms.NumberInput(attrs={"step": "0.5", "inputmode": "decimal"}),
    )
    description = forms.CharField(
        label=_("说明"), max_length=4_000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args, organisers=None, **kwargs):
        super().__init__(*args, **kwargs)
        if organisers is None:  # editing: the organiser does not change
            del self.fields["organiser"]
        else:
            self.fields["organiser"].queryset = organisers

    def clean(self):
        data = super().clean()
        check_years(self, "starts_at")
        return data


class AttendanceForm(forms.Form):
    """One row of the attendance list. The organisations are read once for the whole formset
    (``organisations``), not once per row."""

    name = forms.CharField(label=_("姓名"), max_length=80, required=False)
    organisation = forms.ChoiceField(label=_("所属单位"), required=False)
    attended = forms.BooleanField(label=_("已出席"), required=False)

    def __init__(self, *args, organisations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.organisations = {organisation.slug: organisation for organisation in organisations}
        self.fields["organisation"].choices = [
            ("", _("（请选择）")),
            *((organisation.slug, organisation.name) for organisation in organisations),
        ]

    def clean(self):
        data = super().clean()
        name = (data.get("name") or "").strip()
        data["name"] = name
        data["organisation"] = self.organisations.get(data.get("organisation") or "")
        if name and data["organisation"] is None and "organisation" not in self.errors:
            self.add_error("organisation", _("请选择所属单位。"))
        return data


AttendanceFormSet = formset_factory(
    AttendanceForm, extra=3, can_delete=True, max_num=500, validate_max=True
)


def attendance_formset(*args, organisations, **kwargs):
    kwargs.setdefault("prefix", "attendees")
    return AttendanceFormSet(*args, form_kwargs={"organisations": organisations}, **kwargs)


# Members ------------------------------------------------------------------------------------
class InviteForm(forms.Form):
    prefix = "invite"

    email = forms.EmailField(
        label=_("电子邮箱"), max_length=254, help_text=_("邀请链接 14 天内有效。")
    )
    role = forms.ChoiceField(
        label=_("角色"), choices=Membership.Role.choices, initial=Membership.Role.STAFF
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("角色"), choices=Membership.Role.choices)
