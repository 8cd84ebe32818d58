"""Filters of the feedback lists (the author's own and the staff inbox). Each one narrows what
``queries`` already scoped and nothing else: a filter can only take rows away.

Every filter rides an index of ``Feedback.Meta.indexes`` (kind, level, service, station,
organisation, created_at). Kind and level are indexed for their selective values (the kinds
other than the visit rating; levels 1 to 3): a page of a common value is the newest rows in
created_at order, most of which match. The reason, which has no index, needs both dates, at
most ``queries.REASON_MAX_DAYS`` apart, so its scan stays within the created_at range.
"""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.db.models import F
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field

from feedback import queries
from feedback import reasons as reason_tags
from feedback.models import Feedback, Kind, Level
from governance.cases.filters import EARLIEST_YEAR, LATEST_YEAR, YES_NO
from governance.kpis.registry import day_start
from governance.stakeholders.models import Organisation
from governance.stations.models import Service, Station

ORDERINGS = ("created_at", "level", "replied_at")


# A blank date bounds nothing (as a form's empty date input sends it); the schema says so.
def _date_or_blank(description) -> dict:
    return {
        "anyOf": [{"type": "string", "format": "date"}, {"type": "string", "maxLength": 0}],
        "description": description,
    }


class FeedbackOrdering(django_filters.OrderingFilter):
    """``created_at``, ``level`` or ``replied_at``, ``-`` for descending; rows without a value
    come last either way, and the primary key breaks ties so pages never overlap."""

    def __init__(self, **kwargs):
        kwargs.setdefault("fields", tuple((name, name) for name in ORDERINGS))
        kwargs.setdefault(
            "field_labels",
            {"created_at": _("提交时间"), "level": _("评价等级"), "replied_at": _("答复时间")},
        )
        super().__init__(**kwargs)

    def filter(self, qs, value):
        if not value:
            return qs
        ordering = []
        for param in value:
            descending = param.startswith("-")
            expression = F(self.param_map[param.lstrip("-")])
            ordering.append(
                expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True)
            )
        return qs.order_by(*ordering, "-pk")


REASON_CHOICES = [
    *((reason.code, reason.label) for reason in reason_tags.REASONS),
    (queries.UNSPECIFIED, queries.UNSPECIFIED_LABEL),
]


class FeedbackFilterForm(forms.Form):
    def clean(self):
        data = super().clean()
        after, before = data.get("created_after"), data.get("created_before")
        if data.get("reason") and (
            not (after and before) or before - after > dt.timedelta(days=queries.REASON_MAX_DAYS)
        ):
            self.add_error(
                "reason",
                _(
                    "按原因筛选时须同时给出 created_after 和 created_before，"
                    "跨度不超过 %(days)s 天。"
                )
                % {"days": queries.REASON_MAX_DAYS},
            )
        return data


class FeedbackFilter(django_filters.FilterSet):
    kind = django_filters.MultipleChoiceFilter(choices=Kind.choices, label=_("类型（可多选）"))
    level = django_filters.MultipleChoiceFilter(
        choices=Level.choices, label=_("评价等级 1–5（可多选）")
    )
    reason = django_filters.ChoiceFilter(
        choices=REASON_CHOICES,
        method="filter_reason",
        label=_(
            "勾选的原因（unspecified 为未勾选原因）；须同时给出 created_after 和 "
            "created_before，跨度不超过 366 天"
        ),
    )
    service = django_filters.ModelChoiceFilter(
        field_name="service",
        to_field_name="service_code",
        queryset=Service.objects.all(),
        label=_("服务事项（编码）"),
    )
    station = django_filters.ModelChoiceFilter(
        field_name="station",
        to_field_name="slug",
        queryset=Station.objects.all(),
        label=_("站点（标识）"),
    )
    organisation = django_filters.ModelChoiceFilter(
        field_name="organisation",
        to_field_name="slug",
        queryset=Organisation.objects.all(),
        label=_("负责单位（标识）"),
    )
    created_after = django_filters.DateFilter(
        method="filter_created_after", label=_("提交日期不早于（含当日）")
    )
    created_before = django_filters.DateFilter(
        method="filter_created_before", label=_("提交日期早于（不含当日）")
    )
    answered = django_filters.ChoiceFilter(
        choices=YES_NO, method="filter_answered", label=_("已公开答复")
    )
    excluded = django_filters.ChoiceFilter(
        choices=YES_NO, method="filter_excluded", label=_("申诉成立、不计入统计")
    )
    ordering = FeedbackOrdering(label=_("排序"))

    class Meta:
        model = Feedback
        form = FeedbackFilterForm
        fields = (
            "kind",
            "level",
            "reason",
            "service",
            "station",
            "organisation",
            "created_after",
            "created_before",
            "answered",
            "excluded",
            "ordering",
        )

    @extend_schema_field(_date_or_blank(_("提交日期不早于（含当日），YYYY-MM-DD。")))
    def filter_created_after(self, queryset, name, value):
        if value.year < EARLIEST_YEAR:
            return queryset
        if value.year > LATEST_YEAR:
            return queryset.none()
        return queryset.filter(created_at__gte=day_start(value))

    @extend_schema_field(_date_or_blank(_("提交日期早于（不含当日），YYYY-MM-DD。")))
    def filter_created_before(self, queryset, name, value):
        if value.year < EARLIEST_YEAR:
            return queryset.none()
        if value.year > LATEST_YEAR:
            return queryset
        return queryset.filter(created_at__lt=day_start(value))

    def filter_reason(self, queryset, name, value: str):
        return queries.with_reason(queryset, value)

    def filter_answered(self, queryset, name, value: str):
        return queryset.filter(replied_at__isnull=value != "true")

    def filter_excluded(self, queryset, name, value: str):
        return queryset.filter(excluded=value == "true")
