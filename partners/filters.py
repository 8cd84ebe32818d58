"""Filters of the partners API's lists. Each one narrows a queryset of ``queries`` (what the
reader may see) and nothing else.

Organisations and stations are named by slug (an unknown one is a 400 naming the parameter),
rows by id; dates are local (Asia/Shanghai) days, ``date_from`` and ``date_to`` both included.
The filters ride the indexes of ``partners.models``: a resource's partner, visibility and
station; a booking's resource and end, requester and status, status and start; a pledge's
partner and status, its proposal or case; an agreement's partner, status and end; a shift's
partner or station and start; a session's organiser and start.
"""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from governance.cases.filters import DayFilter
from governance.stakeholders.models import Organisation
from governance.stakeholders.rules import memberships_of
from governance.stations.models import Station
from partners.models import Agreement, Booking, Kind, Pledge, Visibility, VolunteerShift
from partners.serializers import DIRECTIONS, FIRST_DAY, LAST_DAY

YES_NO = [("true", _("是")), ("false", _("否"))]
BOOKING_ORDERS = [
    ("starts_at", _("开始时间从早到晚")),
    ("-starts_at", _("开始时间从晚到早")),
    ("created_at", _("申请时间从早到晚")),
    ("-created_at", _("申请时间从晚到早")),
]
MAX_ID = 2**63 - 1


def _truthy(value) -> bool | None:
    return {"true": True, "false": False}.get(value)


class IdField(forms.IntegerField):
    """A row's id; a blank one is a mistake (a missing parameter is no filter)."""

    def to_python(self, value):
        if value == "":
            raise forms.ValidationError(_("请输入编号（正整数）。"), code="invalid")
        return super().to_python(value)


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """A row's id: a whole number within PostgreSQL's bigint."""

    field_class = IdField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


def _day(**kwargs) -> DayFilter:
    """A local day (a blank one is refused, as the schema's date format says)."""
    return DayFilter(
        validators=[MinValueValidator(FIRST_DAY), MaxValueValidator(LAST_DAY)], **kwargs
    )


def _start_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=timezone.get_current_timezone())


def _organisations(kind: str | None = None, **kwargs) -> django_filters.ModelChoiceFilter:
    queryset = Organisation.objects.all()
    if kind is not None:
        queryset = queryset.filter(kind=kind)
    return django_filters.ModelChoiceFilter(queryset=queryset, to_field_name="slug", **kwargs)


def _station(**kwargs) -> django_filters.ModelChoiceFilter:
    return django_filters.ModelChoiceFilter(
        queryset=Station.objects.all(), to_field_name="slug", label=_("站点"), **kwargs
    )


class PeriodFilterMixin(django_filters.FilterSet):
    """``date_from``/``date_to``: rows whose time overlaps those local days."""

    date_from = _day(method="filter_from", label=_("从（含）"))
    date_to = _day(method="filter_to", label=_("到（含）"))
    start_field = "starts_at"
    end_field = "ends_at"

    def filter_from(self, queryset, name, value):
        return queryset.filter(**{f"{self.end_field}__gt": _start_of(value)})

    def filter_to(self, queryset, name, value):
        return queryset.filter(
            **{f"{self.start_field}__lt": _start_of(value + dt.timedelta(days=1))}
        )


class ResourceFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_search",
        max_length=100,
        label=_("搜索"),
        help_text=_("在名称、说明和位置中搜索（中英文）。"),
    )
    kind = django_filters.ChoiceFilter(choices=Kind.choices, label=_("类型"))
    station = _station()
    partner = _organisations(Organisation.Kind.PARTNER, label=_("提供方"))
    visibility = django_filters.ChoiceFilter(choices=Visibility.choices, label=_("可见范围"))
    active = django_filters.TypedChoiceFilter(
        choices=YES_NO, coerce=_truthy, method="filter_active", label=_("启用")
    )
    bookable = django_filters.TypedChoiceFilter(
        choices=YES_NO, coerce=_truthy, method="filter_bookable", label=_("可预约")
    )

    def filter_search(self, queryset, name, value):
        words = value.split()
        for word in words:
            queryset = queryset.filter(
                Q(name_zh__icontains=word)
                | Q(name_en__icontains=word)
                | Q(description_zh__icontains=word)
                | Q(description_en__icontains=word)
                | Q(place_zh__icontains=word)
                | Q(place_en__icontains=word)
            )
        return queryset

    def filter_active(self, queryset, name, value: bool | None):
        return queryset if value is None else queryset.filter(is_active=value)

    def filter_bookable(self, queryset, name, value: bool | None):
        return queryset if value is None else queryset.filter(bookable=value)


class BookingFilter(PeriodFilterMixin):
    resource = IdFilter(field_name="resource_id", label=_("资源编号"))
    status = django_filters.ChoiceFilter(choices=Booking.Status.choices, label=_("状态"))
    direction = django_filters.ChoiceFilter(
        choices=DIRECTIONS,
        method="filter_direction",
        label=_("方向"),
        help_text=_("incoming：别的单位预约本单位的资源；outgoing：本单位发出的预约。"),
    )
    requester = _organisations(label=_("申请单位"))
    ordering = django_filters.ChoiceFilter(
        choices=BOOKING_ORDERS,
        method="filter_ordering",
        label=_("排序"),
        help_text=_("默认按开始时间从晚到早（-starts_at）。"),
    )

    def filter_ordering(self, queryset, name, value):
        descending = value.startswith("-")
        return queryset.order_by(value, "-pk" if descending else "pk")

    def filter_direction(self, queryset, name, value):
        seats = set(memberships_of(getattr(self.request, "user", None)))
        if value == "incoming":
            return queryset.filter(resource__partner_id__in=seats)
        return queryset.filter(requester_id__in=seats)


class PledgeFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Pledge.Status.choices, label=_("状态"))
    partner = _organisations(Organisation.Kind.PARTNER, label=_("承诺方"))
    proposal = IdFilter(field_name="proposal_id", label=_("建议编号"))
    case = django_filters.CharFilter(
        field_name="case__reference", max_length=32, label=_("事项编号")
    )
    resource = IdFilter(field_name="resource_id", label=_("资源编号"))


class AgreementFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Agreement.Status.choices, label=_("状态"))
    partner = _organisations(Organisation.Kind.PARTNER, label=_("企业伙伴"))
    department = _organisations(
        Organisation.Kind.DEPARTMENT, field_name="departments", label=_("合作部门")
    )
    ends_before = _day(
        field_name="ends_on", lookup_expr="lte", label=_("到期日期不晚于"), help_text=_("含当天。")
    )


class ShiftFilter(PeriodFilterMixin):
    partner = _organisations(Organisation.Kind.PARTNER, label=_("企业伙伴"))
    station = _station()
    status = django_filters.ChoiceFilter(choices=VolunteerShift.Status.choices, label=_("状态"))


class TrainingFilter(django_filters.FilterSet):
    organiser = _organisations(label=_("主办单位"))
    station = _station()
    date_from = _day(method="filter_from", label=_("从（含）"))
    date_to = _day(method="filter_to", label=_("到（含）"))

    def filter_from(self, queryset, name, value):
        return queryset.filter(starts_at__gte=_start_of(value))

    def filter_to(self, queryset, name, value):
        return queryset.filter(starts_at__lt=_start_of(value + dt.timedelta(days=1)))
