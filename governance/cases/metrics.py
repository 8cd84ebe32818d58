"""The KPI metrics computed from cases, registered with ``governance.kpis`` in ``ready``.

Cut by station, service, and the responsible organisation as department or partner (whichever
kind it is); a case in the triage queue counts for the platform, its station and its service.
Days are Asia/Shanghai days.

- ``cases.acknowledged_on_time``: the percentage of cases acknowledged within their
  acknowledgement deadline, by the day they were acknowledged (WEIGHTED_MEAN).
- ``cases.resolved_on_time``: the percentage of cases whose first resolution met the resolution
  deadline, by the day of that resolution (WEIGHTED_MEAN). A reopened case keeps its first
  verdict: reopening is measured on its own.
- ``cases.resolution_median``: hours (calendar) from opening to first resolution, median,
  whole-hour bins capped at 720 (30 days), by the day of resolution (DISTRIBUTION).
- ``cases.backlog``: open cases at the end of each day, a period's value being the mean of its
  days (WEIGHTED_MEAN, one unit of weight per day). Every day has a row for the platform and for
  every scope that has ever had a case, zero included, so a scope's mean counts its quiet days.
  A case counts as open from its opening until it last left the backlog (resolved, rejected,
  marked a duplicate); a reopened case counts as open again from its opening, which past days
  see at their next recomputation.
- ``cases.reopen_rate``: the percentage of cases first resolved on a day that were reopened
  since (WEIGHTED_MEAN); reopening marks that day dirty so the rollup recomputes it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.db import models
from django.db.models import (
    Count,
    F,
    FloatField,
    IntegerField,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Floor, Least, TruncDate
from django.utils.translation import gettext_lazy as _

from governance.cases.models import Case
from governance.kpis.registry import (
    TZ,
    Combine,
    Dimension,
    Metric,
    Row,
    Scope,
    day_range,
    day_start,
    register,
    roll_up,
)
from governance.stakeholders.models import Organisation
from governance.stations.metrics import between

DIMENSIONS = frozenset(
    {Dimension.STATION, Dimension.SERVICE, Dimension.DEPARTMENT, Dimension.PARTNER}
)
RESOLUTION_CAP_HOURS = 720


def _organisation_of_kind(kind: str):
    return models.Case(
        When(responsible__kind=kind, then=F("responsible_id")),
        default=Value(None),
        output_field=IntegerField(),
    )


def cell_columns() -> dict:
    return {
        "department": _organisation_of_kind(Organisation.Kind.DEPARTMENT),
        "partner": _organisation_of_kind(Organisation.Kind.PARTNER),
    }


def _by_day(moment: str, start: dt.date, end: dt.date):
    return (
        Case.objects.filter(
            **{
                f"{moment}__gte": day_start(start),
                f"{moment}__lt": day_start(end + dt.timedelta(days=1)),
            }
        )
        .annotate(day=TruncDate(moment, tzinfo=TZ))
        .order_by()
    )


def _grouped(queryset, *extra: str):
    return queryset.values("day", "station", "service", *extra, **cell_columns())


def _share(flag: str) -> Sum:
    return Sum(
        models.Case(
            When(**{flag: True}, then=Value(100.0)), default=Value(0.0), output_field=FloatField()
        )
    )


def acknowledged_on_time(start: dt.date, end: dt.date) -> list[Row]:
    cases = _by_day("acknowledged_at", start, end).filter(acknowledged_on_time__isnull=False)
    cells = _grouped(cases).annotate(value=_share("acknowledged_on_time"), weight=Count("pk"))
    return roll_up(cells, metric=ACKNOWLEDGED_ON_TIME)


def resolved_on_time(start: dt.date, end: dt.date) -> list[Row]:
    cases = _by_day("first_resolved_at", start, end).filter(resolved_on_time__isnull=False)
    cells = _grouped(cases).annotate(value=_share("resolved_on_time"), weight=Count("pk"))
    return roll_up(cells, metric=RESOLVED_ON_TIME)


def resolution_median(start: dt.date, end: dt.date) -> list[Row]:
    cases = _by_day("first_resolved_at", start, end).annotate(
        bin=Least(
            Cast(Floor(between("created_at", "first_resolved_at") / 3600), IntegerField()),
            Value(RESOLUTION_CAP_HOURS),
        )
    )
    cells = _grouped(cases, "bin").annotate(count=Count("pk"))
    return roll_up(cells, metric=RESOLUTION_MEDIAN)


def reopen_rate(start: dt.date, end: dt.date) -> list[Row]:
    cases = _by_day("first_resolved_at", start, end)
    cells = _grouped(cases).annotate(
        value=Sum(
            models.Case(
                When(reopen_count__gt=0, then=Value(100.0)),
                default=Value(0.0),
                output_field=FloatField(),
            )
        ),
        weight=Count("pk"),
    )
    return roll_up(cells, metric=REOPEN_RATE)


def _scopes_of(row: dict) -> list[Scope]:
    scopes = [Scope()]
    for dimension in DIMENSIONS:
        if row.get(str(dimension)) is not None:
            scopes.append(Scope.of(dimension, row[str(dimension)]))
    return scopes


def backlog(start: dt.date, end: dt.date) -> list[Row]:
    """Two queries: every scope that has had a case, and the cases open during the range."""
    values = ("created_at", "left_backlog_at", "station", "service")
    known: set[Scope] = {Scope()}
    for row in Case.objects.order_by().values("station", "service", **cell_columns()).distinct():
        known.update(_scopes_of(row))
    first_end = day_start(start + dt.timedelta(days=1))
    last_end = day_start(end + dt.timedelta(days=1))
    cases = (
        Case.objects.filter(created_at__lt=last_end)
        .filter(Q(left_backlog_at__isnull=True) | Q(left_backlog_at__gte=first_end))
        .order_by()
        .values(*values, **cell_columns())
    )
    counts: Counter = Counter()
    days = day_range(start, end)
    for case in cases:
        scopes = _scopes_of(case)
        for day in days:
            day_end = day_start(day + dt.timedelta(days=1))
            if case["created_at"] < day_end and (
                case["left_backlog_at"] is None or case["left_backlog_at"] >= day_end
            ):
                for scope in scopes:
                    counts[day, scope] += 1
    return [
        Row(day=day, scope=scope, value=float(counts[day, scope]), weight=1.0)
        for day in days
        for scope in known
    ]


ACKNOWLEDGED_ON_TIME = Metric(
    code="cases.acknowledged_on_time",
    label=_("按时受理率"),
    unit="%",
    higher_is_better=True,
    dimensions=DIMENSIONS,
    combine=Combine.WEIGHTED_MEAN,
    compute=acknowledged_on_time,
    description=_("受理的事项中，在受理时限（工作小时）内受理的比例，按受理日期统计。"),
)
RESOLVED_ON_TIME = Metric(
    code="cases.resolved_on_time",
    label=_("按时办结率"),
    unit="%",
    higher_is_better=True,
    dimensions=DIMENSIONS,
    combine=Combine.WEIGHTED_MEAN,
    compute=resolved_on_time,
    description=_("首次解决的事项中，在办结时限（工作日）内解决的比例，按首次解决日期统计。"),
)
RESOLUTION_MEDIAN = Metric(
    code="cases.resolution_median",
    label=_("办结时长中位数"),
    unit=_("小时"),
    higher_is_better=False,
    dimensions=DIMENSIONS,
    combine=Combine.DISTRIBUTION,
    compute=resolution_median,
    description=_("从提交到首次解决的小时数（自然时间）的中位数，按整小时分组，最多计 720 小时。"),
    quantile=0.5,
    cap=RESOLUTION_CAP_HOURS,
)
BACKLOG = Metric(
    code="cases.backlog",
    label=_("待办事项数"),
    unit=_("件"),
    higher_is_better=False,
    dimensions=DIMENSIONS,
    combine=Combine.WEIGHTED_MEAN,
    compute=backlog,
    description=_("每天结束时尚未解决的事项数；一个周期的数值是各天的平均值。"),
)
REOPEN_RATE = Metric(
    code="cases.reopen_rate",
    label=_("重开率"),
    unit="%",
    higher_is_better=False,
    dimensions=DIMENSIONS,
    combine=Combine.WEIGHTED_MEAN,
    compute=reopen_rate,
    description=_("某天首次解决的事项中，之后被重开的比例。"),
)

METRICS = (ACKNOWLEDGED_ON_TIME, RESOLVED_ON_TIME, RESOLUTION_MEDIAN, BACKLOG, REOPEN_RATE)
METRIC_CODES = tuple(metric.code for metric in METRICS)


def register_metrics() -> None:
    for metric in METRICS:
        register(metric)
