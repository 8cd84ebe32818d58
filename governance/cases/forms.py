"""Forms of the case pages: the citizen's report, the staff forms on a case, the work queue.

They parse and bound the input; every rule with business meaning (who may, which transitions,
which assignees) stays in ``services``, whose ``ValidationError`` the views put back on the
form. Text is kept as typed (plain text, escaped when shown).
"""

from __future__ import annotations

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from governance.cases import attachments
from governance.cases.models import Case, Category, Priority, Status
from governance.stakeholders.models import Organisation, User, phone_validator
from governance.stations.models import Service, Station

# The same rule as the models' (a case's contact, an account's phone): a form never accepts what
# the row would refuse.
PHONE = phone_validator


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Up to ``attachments.MAX_PER_CASE`` files from one ``<input multiple>``; their content is
    checked by the service, which refuses the whole report for one bad file."""

    widget = MultipleFileInput

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        files = [item for item in (data or []) if item] if isinstance(data, list | tuple) else []
        if data and not isinstance(data, list | tuple):
            files = [data]
        if len(files) > attachments.MAX_PER_CASE:
            raise forms.ValidationError(
                _("最多上传 %(count)d 个文件。"), params={"count": attachments.MAX_PER_CASE}
            )
        return [super(PhotosField, self).clean(item, initial) for item in files]


def _service_label(service: Service) -> str:
    return f"{service.department.name} · {service.name}"


class ServiceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return _service_label(obj)


class ReportForm(forms.Form):
    """A citizen reports a problem, signed in or not, usually on a phone at the station."""

    station = forms.ModelChoiceField(
        label=_("在哪个站点"),
        queryset=Station.objects.filter(is_active=True).order_by("name_zh"),
        required=False,
        empty_label=_("（不在站点 / 其他地点）"),
        to_field_name="slug",
    )
    address = forms.CharField(
        label=_("地点说明"),
        max_length=250,
        required=False,
        help_text=_("不在站点时必填：街道、楼层、门牌或附近的地标。"),
    )
    service = ServiceChoiceField(
        label=_("涉及的服务事项"),
        queryset=Service.objects.filter(is_active=True, department__is_active=True)
        .select_related("department")
        .order_by("department__name_zh", "name_zh"),
        required=False,
        empty_label=_("（不涉及具体服务事项）"),
        to_field_name="service_code",
    )
    category = forms.ModelChoiceField(
        label=_("问题类别"),
        queryset=Category.objects.filter(is_active=True).order_by("order", "name_zh"),
        required=False,
        empty_label=_("（请选择）"),
        to_field_name="slug",
        help_text=_("服务事项和问题类别至少选一项。"),
    )
    title = forms.CharField(label=_("一句话说明问题"), max_length=120)
    description = forms.CharField(
        label=_("详细描述"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("发生了什么、什么时候、希望怎样解决。最多 4000 字。"),
    )
    photos = PhotosField(
        label=_("照片或文件"),
        help_text=_(
            "可选，最多 5 个 JPEG、PNG、WebP 图片或 PDF，每个不超过 10 MB；"
            "照片的位置等信息会被清除，只有办理单位可以查看。"
        ),
        widget=MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,.pdf"}),
    )
    contact_name = forms.CharField(label=_("称呼"), max_length=80, required=False)
    contact_phone = forms.CharField(
        label=_("联系电话"),
        max_length=20,
        required=False,
        validators=[PHONE],
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    contact_email = forms.EmailField(label=_("电子邮箱"), required=False)
    is_public = forms.BooleanField(
        label=_("公开此事项"),
        required=False,
        initial=True,
        help_text=_("公开后，任何人都能看到标题、描述和办理答复；你的联系方式永远不会公开。"),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if user is not None and user.is_authenticated:
            # The account is the contact; these only override it.
            for name in ("contact_name", "contact_phone", "contact_email"):
                self.fields[name].help_text = _("留空则使用你账号中的信息。")

    def clean(self):
        data = super().clean()
        if not (data.get("service") or data.get("category")):
            self.add_error("category", _("请选择涉及的服务事项或问题类别。"))
        if not (data.get("station") or (data.get("address") or "").strip()):
            self.add_error("address", _("请选择站点，或填写地点说明。"))
        return data


class BodyForm(forms.Form):
    body = forms.CharField(
        label=_("内容"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )


class ReplyForm(BodyForm):
    prefix = "reply"


class NoteForm(BodyForm):
    prefix = "note"


class ContactForm(forms.Form):
    """A call or message to the reporter (回访), recorded on the case."""

    prefix = "contact"

    channel = forms.ChoiceField(label=_("联系方式"), choices=())
    body = forms.CharField(
        label=_("沟通内容"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, **kwargs):
        from governance.cases.services import CONTACT_CHANNELS

        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = list(CONTACT_CHANNELS.items())


class TransitionForm(forms.Form):
    prefix = "transition"

    to = forms.ChoiceField(label=_("变更为"), choices=Status.choices)
    reason = forms.CharField(
        label=_("说明"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("不予受理时必填，报告人能看到。"),
    )
    duplicate_of = forms.CharField(
        label=_("重复的事项编号"),
        max_length=24,
        required=False,
        help_text=_("标记为重复时必填，例如 CH-2026-000123。"),
    )

    def __init__(self, *args, allowed=(), **kwargs):
        super().__init__(*args, **kwargs)
        labels = dict(Status.choices)
        offered = [(status, labels[status]) for status in allowed]
        field = self.fields["to"]
        field.error_messages["invalid_choice"] = format_lazy(
            _("未知的状态；可以变为：{}。"), "、".join(str(label) for _s, label in offered)
        )
        # A submitted form accepts every status: the service refuses one the case cannot take
        # and names the ones it can (a stale page's choice, a hand-made request).
        field.choices = list(Status.choices) if self.is_bound else offered


class ReopenForm(forms.Form):
    prefix = "reopen"

    reason = forms.CharField(
        label=_("为什么重开"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class AssignForm(forms.Form):
    prefix = "assign"

    assignee = forms.ModelChoiceField(
        label=_("经办人"), queryset=User.objects.none(), required=False, empty_label=_("（无）")
    )

    def __init__(self, *args, members=None, **kwargs):
        super().__init__(*args, **kwargs)
        if isinstance(members, list | tuple):
            # People already read (one query for every form on the page): plain choices.
            self._people = {str(person.pk): person for person in members}
            self.fields["assignee"] = forms.ChoiceField(
                label=self.fields["assignee"].label,
                required=False,
                choices=[("", _("（无）")), *((str(p.pk), str(p)) for p in members)],
            )
        elif members is not None:
            self.fields["assignee"].queryset = members

    def clean_assignee(self):
        value = self.cleaned_data["assignee"]
        if hasattr(self, "_people"):
            return self._people.get(value) if value else None
        return value


class RouteForm(forms.Form):
    prefix = "route"

    responsible = forms.ModelChoiceField(
        label=_("转给"),
        queryset=Organisation.objects.filter(is_active=True).order_by("kind", "name_zh"),
        to_field_name="slug",
    )
    note = forms.CharField(label=_("说明"), max_length=2000, required=False)


class CoHandlerForm(forms.Form):
    prefix = "cohandler"

    organisation = forms.ModelChoiceField(
        label=_("协办单位"),
        queryset=Organisation.objects.filter(is_active=True).order_by("kind", "name_zh"),
        to_field_name="slug",
    )
    task = forms.CharField(
        label=_("协办任务"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    due_at = forms.DateTimeField(
        label=_("完成期限"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )


class CoHandlerDoneForm(forms.Form):
    note = forms.CharField(label=_("完成情况"), max_length=2000)


class DueForm(forms.Form):
    prefix = "due"

    deadline = forms.ChoiceField(
        label=_("时限"),
        choices=(
            ("resolve", pgettext_lazy("deadline", "办结时限")),
            ("acknowledge", pgettext_lazy("deadline", "受理时限")),
        ),
    )
    due_at = forms.DateTimeField(
        label=_("新的时限"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    reason = forms.CharField(label=_("调整理由"), max_length=2000)


class AttachmentForm(forms.Form):
    prefix = "attachment"

    file = forms.FileField(label=_("文件"), help_text=_("JPEG、PNG、WebP 图片或 PDF，10 MB 以内。"))
    is_public = forms.BooleanField(
        label=_("公开（事项公开时，所有人可见）"), required=False, initial=False
    )


# Work queue ------------------------------------------------------------------------------------
QUEUE_TABS = (
    ("mine", pgettext_lazy("work queue", "我经办的")),
    ("department", pgettext_lazy("work queue", "本单位")),
    ("triage", pgettext_lazy("work queue", "待分拨")),
    ("overdue", pgettext_lazy("work queue", "已超时")),
    ("due_soon", pgettext_lazy("work queue", "即将到期")),
)


class QueueFilterForm(forms.Form):
    tab = forms.ChoiceField(choices=QUEUE_TABS, required=False)
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部")), *Status.choices]
    )
    priority = forms.ChoiceField(
        label=_("优先级"), required=False, choices=[("", _("全部")), *Priority.choices]
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
    category = forms.ModelChoiceField(
        label=_("问题类别"),
        queryset=Category.objects.order_by("order", "name_zh"),
        required=False,
        to_field_name="slug",
        empty_label=_("全部"),
    )
    reference = forms.CharField(label=_("编号"), max_length=24, required=False)


class BulkAssignForm(forms.Form):
    cases = forms.ModelMultipleChoiceField(
        queryset=Case.objects.none(), to_field_name="reference", label=_("事项")
    )
    assignee = forms.ModelChoiceField(label=_("指派给"), queryset=User.objects.none())

    def __init__(self, *args, cases=None, members=None, **kwargs):
        super().__init__(*args, **kwargs)
        if cases is not None:
            self.fields["cases"].queryset = cases
        if members is not None:
            self.fields["assignee"].queryset = members
