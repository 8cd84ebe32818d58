"""Filters of the case list. Each one narrows ``queries.cases_visible_to`` and nothing else:
what a reader may see is decided there, and a filter can only take rows away.

Every filter rides an index of ``Case.Meta.indexes`` (status, service, category, station,
responsible, source, priority, created_at, (status, resolve_due_at), assignee) or of
``CoHandler`` (organisation).
"""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Case as Switch
from django.db.models import Exists, F, IntegerField, OuterRef, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from governance.cases import queries
from governance.cases.models import (
    OPEN_STATUSES,
    Case,
    Category,
    CoHandler,
    Priority,
    Source,
    Status,
)
from governance.kpis.registry import day_start
from governance.stakeholders.models import Organisation
from governance.stations.models import Service, Station

# Dates outside these years bound nothing (every case is after year 1900 and before 9000);
# they are accepted rather than refused, and kept away from datetime's limits.
EARLIEST_YEAR, LATEST_YEAR = 1900, 9000


QUEUES = [
    ("mine", pgettext_lazy("case queue", "指派给我的")),
    ("department", pgettext_lazy("case queue", "本单位待办")),
    ("triage", pgettext_lazy("case queue", "待分拨")),
    ("due_soon", pgettext_lazy("case queue", "即将超时")),
    ("overdue", pgettext_lazy("case queue", "已超时")),
]
YES_NO = [("true", _("是")), ("false", _("否"))]


def _rank(field: str, order) -> Switch:
    """A choice field ordered by meaning (low → urgent, new → closed), not by its code."""
    return Switch(
        *(When(**{field: value}, then=Value(rank)) for rank, value in enumerate(order)),
        default=Value(len(order)),
        output_field=IntegerField(),
    )


PRIORITY_ORDER = [Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT]
STATUS_ORDER = list(Status.values)
ORDERINGS = {
    "created_at": "created_at",
    "resolve_due_at": "resolve_due_at",
    "priority": _rank("priority", PRIORITY_ORDER),
    "status": _rank("status", STATUS_ORDER),
}


class DayField(forms.DateField):
    """A day; a blank one is a mistake (a missing parameter is no filter)."""

    def to_python(self, value):
        if value == "":
            raise forms.ValidationError(_("请输入日期，格式为 YYYY-MM-DD。"), code="invalid")
        return super().to_python(value)


class DayFilter(django_filters.DateFilter):
    field_class = DayField


class CaseOrdering(django_filters.OrderingFilter):
    """``created_at``, ``resolve_due_at``, ``priority`` (low → urgent) or ``status`` (in the
    order of the lifecycle), ``-`` for descending; cases without a deadline come last either
    way, and the primary key breaks ties so pages never overlap."""

    def __init__(self, **kwargs):
        kwargs.setdefault("fields", tuple((name, name) for name in ORDERINGS))
        kwargs.setdefault(
            "field_labels",
            {
                "created_at": _("提交时间"),
                "resolve_due_at": _("应办结时间"),
                "priority": _("优先级"),
                "status": _("状态"),
            },
        )
        super().__init__(**kwargs)

    def filter(self, qs, value):
        if not value:
            return qs
        ordering = []
        for param in value:
            descending = param.startswith("-")
            expression = ORDERINGS[self.param_map[param.lstrip("-")]]
            if isinstance(expression, str):
                expression = F(expression)
            ordering.append(
                expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True)
            )
        return qs.order_by(*ordering, "pk")


class CaseFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Status.choices, label=_("状态（可多选）"))
    service = django_filters.ModelChoiceFilter(
        field_name="service",
        to_field_name="service_code",
        queryset=Service.objects.all(),
        label=_("服务事项（编码）"),
    )
    category = django_filters.ModelChoiceFilter(
        field_name="category",
        to_field_name="slug",
        queryset=Category.objects.all(),
        label=_("事项类别（标识）"),
    )
    station = django_filters.ModelChoiceFilter(
        field_name="station",
        to_field_name="slug",
        queryset=Station.objects.all(),
        label=_("站点（标识）"),
    )
    organisation = django_filters.ModelChoiceFilter(
        field_name="responsible",
        method="filter_organisation",
        to_field_name="slug",
        queryset=Organisation.objects.all(),
        label=_("责任单位或协办单位（标识）"),
    )
    overdue = django_filters.ChoiceFilter(
        choices=YES_NO, method="filter_overdue", label=_("已超过办结时限且未办结")
    )
    created_after = DayFilter(method="filter_created_after", label=_("提交日期不早于（含当日）"))
    created_before = DayFilter(method="filter_created_before", label=_("提交日期早于（不含当日）"))
    queue = django_filters.ChoiceFilter(
        choices=QUEUES,
        method="filter_queue",
        label=_("工作队列：指派给我的、本单位待办、待分拨、即将超时、已超时（工作人员）"),
    )
    source = django_filters.ChoiceFilter(choices=Source.choices, label=_("来源"))
    priority = django_filters.MultipleChoiceFilter(
        choices=Priority.choices, label=_("优先级（可多选）")
    )
    ordering = CaseOrdering(label=_("排序"))

    class Meta:
        model = Case
        fields = (
            "status",
            "service",
            "category",
            "station",
            "organisation",
            "overdue",
            "created_after",
            "created_before",
            "queue",
            "source",
            "priority",
            "ordering",
        )

    def filter_organisation(self, queryset, name, value):
        return queryset.filter(
            Q(responsible=value)
            | Exists(CoHandler.objects.filter(case=OuterRef("pk"), organisation=value))
        )

    def filter_overdue(self, queryset, name, value):
        late = Q(status__in=OPEN_STATUSES, resolve_due_at__lt=timezone.now())
        return queryset.filter(late) if value == "true" else queryset.exclude(late)

    def filter_created_after(self, queryset, name, value):
        if value.year < EARLIEST_YEAR:
            return queryset
        if value.year > LATEST_YEAR:
            return queryset.none()
        return queryset.filter(created_at__gte=day_start(value))

    def filter_created_before(self, queryset, name, value):
        if value.year < EARLIEST_YEAR:
            return queryset.none()
        if value.year > LATEST_YEAR:
            return queryset
        return queryset.filter(created_at__lt=day_start(value))

    def filter_queue(self, queryset, name, value):
        """The work queue's tabs, as the queue page has them (a superuser's queue is every
        open case); empty for anyone who has none."""
        user = self.request.user
        chosen = queries.queue(user, value)
        if value == "triage":
            return queryset.filter(pk__in=chosen.values("pk")).order_by("created_at", "pk")
        return queryset.filter(pk__in=chosen.values("pk")).order_by(
            "resolve_due_at", "created_at", "pk"
        )
