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
  A case is open at the end of a day when one of its open spells (``OpenSpell``: from opening,
  or from a reopening, to the resolution, rejection or duplicate mark that ended it) covers
  that moment; reopening starts a new spell and leaves the days before it as they were.
- ``cases.reopen_rate``: the percentage of cases first resolved on a day that were reopened
  since (WEIGHTED_MEAN); reopening marks that day dirty so the rollup recomputes it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from django.db import models
from django.db.models import (
    Count,
    Exists,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Floor, Least, TruncDate
from django.utils.translation import gettext_lazy as _

from governance.cases.models import Case, OpenSpell
from governance.kpis.registry import (
    TZ,
    Combine,
    Dimension,
    Metric,
    Row,
    Scope,
    day_range,
    day_start,
    local_day,
    register,
    roll_up,
)
from governance.stakeholders.models import Organisation
from governance.stations.metrics import between
from governance.stations.models import Service, Station

DIMENSIONS = frozenset(
    {Dimension.STATION, Dimension.SERVICE, Dimension.DEPARTMENT, Dimension.PARTNER}
)
RESOLUTION_CAP_HOURS = 720


def _organisation_of_kind(kind: str, prefix: str = ""):
    return models.Case(
        When(**{f"{prefix}responsible__kind": kind, "then": F(f"{prefix}responsible_id")}),
        default=Value(None),
        output_field=IntegerField(),
    )


def cell_columns(prefix: str = "") -> dict:
    """The department and partner columns of a case's cell (``prefix`` reaches the case from
    a related row, e.g. ``"case__"``)."""
    return {
        "department": _organisation_of_kind(Organisation.Kind.DEPARTMENT, prefix),
        "partner": _organisation_of_kind(Organisation.Kind.PARTNER, prefix),
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


def _known_scopes() -> set[Scope]:
    """Every scope that has ever had a case, in one query that grows with the stations,
    services and organisations (an index probe each), not with the cases."""
    had_a_case = {
        Dimension.STATION: Station.objects.filter(
            Exists(Case.objects.filter(station=OuterRef("pk")))
        ),
        Dimension.SERVICE: Service.objects.filter(
            Exists(Case.objects.filter(service=OuterRef("pk")))
        ),
    }
    for dimension, kind in (
        (Dimension.DEPARTMENT, Organisation.Kind.DEPARTMENT),
        (Dimension.PARTNER, Organisation.Kind.PARTNER),
    ):
        had_a_case[dimension] = Organisation.objects.filter(
            Exists(Case.objects.filter(responsible=OuterRef("pk"))), kind=kind
        )
    queries = [
        places.order_by().annotate(dimension=Value(str(dimension))).values_list("dimension", "pk")
        for dimension, places in had_a_case.items()
    ]
    rows = queries[0].union(*queries[1:], all=True)
    return {Scope()} | {Scope.of(dimension, key) for dimension, key in rows}


def backlog(start: dt.date, end: dt.date) -> list[Row]:
    """Two queries: the scopes that have had a case, and the open spells that reach into the
    range with their case's cell. Each spell adds one to the days it covers through a running
    sum (+1 on its first day, -1 after its last), so the work follows the spells and the days,
    not their product."""
    first_end = day_start(start + dt.timedelta(days=1))
    last_end = day_start(end + dt.timedelta(days=1))
    spells = (
        OpenSpell.objects.filter(opened_at__lt=last_end)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=first_end))
        .order_by()
        .values(
            "opened_at",
            "ended_at",
            station=F("case__station"),
            service=F("case__service"),
            **cell_columns("case__"),
        )
    )
    days = day_range(start, end)
    after_end = end + dt.timedelta(days=1)
    steps: dict[Scope, Counter] = defaultdict(Counter)
    for spell in spells:
        # Open at the end of day D: opened on or before D, and not ended before D + 1 began.
        first = max(start, local_day(spell["opened_at"]))
        stop = (
            after_end if spell["ended_at"] is None else min(after_end, local_day(spell["ended_at"]))
        )
        if first >= stop:
            continue
        for scope in _scopes_of(spell):
            steps[scope][first] += 1
            steps[scope][stop] -= 1
    rows = []
    for scope in _known_scopes() | steps.keys():
        running = 0
        changes = steps.get(scope, {})
        for day in days:
            running += changes.get(day, 0)
            rows.append(Row(day=day, scope=scope, value=float(running), weight=1.0))
    return rows


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
