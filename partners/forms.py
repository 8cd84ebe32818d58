"""Forms of the partner pages: the catalogue's filters, a booking request and the answers to
it, the bookings list's filters, and the management of a resource (its fields, weekly hours,
closures and photos).

They parse and bound the input as the models do; every rule with business meaning (who may
book, the opening hours, the longest booking, overlaps) stays in ``services``, whose
``ValidationError`` the views put back on the form. Dates and times are the site's local
time (Asia/Shanghai), as people read them on the calendar.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from governance.stakeholders.models import Organisation
from governance.stations.models import Station
from partners import services
from partners.models import (
    MIDNIGHT,
    AvailabilityException,
    Booking,
    Kind,
    OpeningRule,
    Resource,
    Unit,
)

# The windows offered per day on the hours page (a day with more rules shows one more row).
WINDOWS_PER_DAY = 3
WEEKDAYS = [(day, label) for day, label in OpeningRule._meta.get_field("weekday").choices]
PICK = _("（请选择）")
ANY = _("全部")


FIRST_YEAR, LAST_YEAR = 2000, 2100


def check_years(form, *names: str) -> None:
    """Dates this site can compute with (a day after 9999-12-31 does not exist)."""
    for name in names:
        value = form.cleaned_data.get(name)
        if value is not None and not FIRST_YEAR <= value.year <= LAST_YEAR:
            form.add_error(
                name,
                _("请填写 %(first)s 年到 %(last)s 年之间的日期。")
                % {"first": FIRST_YEAR, "last": LAST_YEAR},
            )


def _date_widget():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _time_widget():
    return forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


def local(day: dt.date, time: dt.time) -> dt.datetime:
    """``day`` at ``time`` in the site's zone."""
    return dt.datetime.combine(day, time, tzinfo=timezone.get_current_timezone())


def _active_stations() -> QuerySet[Station]:
    return Station.objects.filter(is_active=True).order_by("name_zh")


def _active_partners() -> QuerySet[Organisation]:
    return Organisation.objects.filter(kind=Organisation.Kind.PARTNER, is_active=True).order_by(
        "name_zh"
    )


# The catalogue --------------------------------------------------------------------------------
class CatalogueForm(forms.Form):
    """The catalogue's filters: each narrows what the reader may see, nothing more."""

    q = forms.CharField(
        label=_("搜索"),
        max_length=60,
        required=False,
        help_text=_("按资源名称（中文或英文）搜索。"),
    )
    kind = forms.ChoiceField(label=_("类型"), choices=[("", ANY), *Kind.choices], required=False)
    station = forms.ModelChoiceField(
        label=_("站点"),
        queryset=_active_stations(),
        to_field_name="slug",
        required=False,
        empty_label=ANY,
    )
    partner = forms.ModelChoiceField(
        label=_("提供方"),
        queryset=_active_partners(),
        to_field_name="slug",
        required=False,
        empty_label=ANY,
    )

    def filter(self, resources: QuerySet[Resource]) -> QuerySet[Resource]:
        data = self.cleaned_data
        if data.get("kind"):
            resources = resources.filter(kind=data["kind"])
        if data.get("station"):
            resources = resources.filter(station=data["station"])
        if data.get("partner"):
            resources = resources.filter(partner=data["partner"])
        text = (data.get("q") or "").strip()
        if text:
            resources = resources.filter(Q(name_zh__icontains=text) | Q(name_en__icontains=text))
        return resources


# Booking -------------------------------------------------------------------------------------
class BookingForm(forms.Form):
    """A request for a resource: for which organisation, when (local time) and why."""

    requester = forms.ModelChoiceField(
        label=_("申请单位"),
        queryset=Organisation.objects.none(),
        to_field_name="slug",
        empty_label=PICK,
        help_text=_("以您担任管理员或工作人员的单位的名义申请。"),
    )
    date = forms.DateField(label=_("日期"), widget=_date_widget())
    start_time = forms.TimeField(label=_("开始时间"), widget=_time_widget())
    end_time = forms.TimeField(
        label=_("结束时间"),
        widget=_time_widget(),
        help_text=_("00:00 表示当天结束（24:00）。"),
    )
    end_date = forms.DateField(
        label=_("结束日期"),
        widget=_date_widget(),
        required=False,
        help_text=_("跨天使用时填写；不填即为同一天。"),
    )
    purpose = forms.CharField(
        label=_("用途"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("例如：交通安全宣传活动，约 50 人参加。"),
    )

    def __init__(self, *args, requesters: QuerySet[Organisation], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["requester"].queryset = requesters

    def clean(self):
        data = super().clean()
        check_years(self, "date", "end_date")
        day, start, end = data.get("date"), data.get("start_time"), data.get("end_time")
        if day is None or start is None or end is None:
            return data
        end_day = data.get("end_date") or day
        if end == MIDNIGHT and end_day == day:
            # 00:00 on the same day is that day's end.
            end_day = day + dt.timedelta(days=1)
        data["starts_at"] = local(day, start)
        data["ends_at"] = local(end_day, end)
        return data


class ReasonForm(forms.Form):
    """Why a booking is declined or cancelled: the other side reads it."""

    reason = forms.CharField(
        label=_("原因"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("对方会看到这段说明。"),
    )


class BookingFilterForm(forms.Form):
    """The bookings list: which side, which status, which dates (local days, inclusive)."""

    tab = forms.ChoiceField(choices=(), widget=forms.HiddenInput)
    status = forms.ChoiceField(
        label=_("状态"), choices=[("", ANY), *Booking.Status.choices], required=False
    )
    date_from = forms.DateField(label=_("从"), widget=_date_widget(), required=False)
    date_to = forms.DateField(label=_("到"), widget=_date_widget(), required=False)

    def __init__(self, *args, tabs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tab"].choices = tabs

    def clean(self):
        data = super().clean()
        first, last = data.get("date_from"), data.get("date_to")
        if first and last and last < first:
            self.add_error("date_to", _("结束日期不能早于开始日期。"))
        check_years(self, "date_from", "date_to")
        return data

    def filter(self, bookings: QuerySet[Booking]) -> QuerySet[Booking]:
        data = self.cleaned_data
        if data.get("status"):
            bookings = bookings.filter(status=data["status"])
        if data.get("date_from"):
            bookings = bookings.filter(ends_at__gt=local(data["date_from"], dt.time(0)))
        if data.get("date_to"):
            end = local(data["date_to"] + dt.timedelta(days=1), dt.time(0))
            bookings = bookings.filter(starts_at__lt=end)
        return bookings


# Managing a resource ---------------------------------------------------------------------------
class ResourceForm(forms.ModelForm):
    """A resource's own fields, as ``services.RESOURCE_FIELDS`` lists them."""

    class Meta:
        model = Resource
        fields = services.RESOURCE_FIELDS
        widgets = {
            "description_zh": forms.Textarea(attrs={"rows": 4}),
            "description_en": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        station = self.fields["station"]
        station.queryset = _active_stations()
        station.empty_label = _("（不在站点内）")
        self.fields["kind"].choices = [("", PICK), *Kind.choices]
        self.fields["unit"].choices = [("", PICK), *Unit.choices]
        self.fields["bookable"].help_text = _("资金等不按时段使用的资源不接受预约。")


def window_field(day: int, number: int, end: str) -> str:
    return f"d{day}_{number}_{end}"


class OpeningHoursForm(forms.Form):
    """The weekly hours: for each day of the week, up to a few windows (opens–closes)."""

    def __init__(self, *args, rules=(), **kwargs):
        super().__init__(*args, **kwargs)
        by_day: dict[int, list[OpeningRule]] = {}
        for rule in rules:
            by_day.setdefault(rule.weekday, []).append(rule)
        self.days = []
        for day, label in WEEKDAYS:
            existing = sorted(by_day.get(day, []), key=lambda rule: rule.opens)
            count = max(WINDOWS_PER_DAY, len(existing) + 1)
            rows = []
            for number in range(count):
                rule = existing[number] if number < len(existing) else None
                names = (window_field(day, number, "opens"), window_field(day, number, "closes"))
                for name, title, value in (
                    (names[0], pgettext_lazy("window", "开始"), rule and rule.opens),
                    (names[1], pgettext_lazy("window", "结束"), rule and rule.closes),
                ):
                    self.fields[name] = forms.TimeField(
                        label=f"{label} {title} {number + 1}",
                        required=False,
                        widget=_time_widget(),
                        initial=value or None,
                    )
                rows.append(names)
            self.days.append((day, label, rows))

    def day_rows(self):
        """Each day's label and its windows' bound fields, for the template."""
        return [
            (day, label, [(self[opens], self[closes]) for opens, closes in rows])
            for day, label, rows in self.days
        ]

    def clean(self):
        data = super().clean()
        windows = []
        for day, _label, rows in self.days:
            for opens_name, closes_name in rows:
                opens, closes = data.get(opens_name), data.get(closes_name)
                if opens is None and closes is None:
                    continue
                if opens is None:
                    self.add_error(opens_name, _("请填写开始时间。"))
                    continue
                if closes is None:
                    self.add_error(closes_name, _("请填写结束时间（00:00 表示当天结束）。"))
                    continue
                windows.append((day, opens, closes))
        data["windows"] = windows
        return data


class ExceptionForm(forms.Form):
    """A closure (or an extra opening) from one local date and time to another."""

    kind = forms.ChoiceField(
        label=_("类型"),
        choices=AvailabilityException.Kind.choices,
        initial=AvailabilityException.Kind.CLOSED,
    )
    start_date = forms.DateField(label=_("开始日期"), widget=_date_widget())
    start_time = forms.TimeField(label=_("开始时间"), widget=_time_widget(), initial=dt.time(0))
    end_date = forms.DateField(label=_("结束日期"), widget=_date_widget())
    end_time = forms.TimeField(
        label=_("结束时间"),
        widget=_time_widget(),
        initial=dt.time(0),
        help_text=_("结束日期的这个时刻起恢复正常。"),
    )
    reason = forms.CharField(
        label=_("原因"),
        max_length=200,
        required=False,
        help_text=_("会显示在资源的日历上，例如：中庭装修。"),
    )

    def clean(self):
        data = super().clean()
        check_years(self, "start_date", "end_date")
        if all(data.get(name) is not None for name in ("start_date", "start_time")):
            data["starts_at"] = local(data["start_date"], data["start_time"])
        if all(data.get(name) is not None for name in ("end_date", "end_time")):
            data["ends_at"] = local(data["end_date"], data["end_time"])
        return data


class PhotoForm(forms.Form):
    photo = forms.FileField(
        label=_("照片"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        help_text=_("JPEG、PNG 或 WebP 图片，不超过 10 MB；照片的位置等信息会被清除。"),
    )
    caption = forms.CharField(
        label=_("说明"),
        max_length=120,
        required=False,
        help_text=_("简短描述照片的内容，也供读屏软件朗读。"),
    )
