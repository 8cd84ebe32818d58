"""The KPI metrics computed from visits, registered with ``governance.kpis`` in ``ready``.

Every visit counts on its arrival day (Asia/Shanghai), cut by station, service and the
service's department. Each metric is one query grouped by day, station and service (the
department follows from the service), added up into every scope by ``registry.roll_up``.

- ``stations.visits``: visits per day, any outcome (SUM).
- ``stations.wait_median`` / ``stations.wait_p90``: minutes from ticket to call at a counter,
  whole-minute bins capped at 240 (DISTRIBUTION). Kiosk visits have no queue and are left out,
  as are visits not yet called.
- ``stations.within_target``: the percentage of completed visits handled (call to finish)
  within the service's target time (WEIGHTED_MEAN, weighted by completed visits). A share
  within target rather than a mean ratio of handling to target time: one very long visit
  cannot hide many slow ones, and it reads as the promise people are made.
- ``stations.self_service``: the percentage of visits made at a self-service kiosk
  (WEIGHTED_MEAN, weighted by visits).
- ``stations.after_hours``: visits whose ticket was taken outside the station's opening hours
  for that weekday (SUM); a weekday without hours counts every visit.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import (
    Case,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, ExtractIsoWeekDay, Floor, Least, TruncDate, TruncTime
from django.utils.translation import gettext_lazy as _

from governance.kpis.registry import (
    TZ,
    Combine,
    Dimension,
    Metric,
    day_start,
    register,
    roll_up,
)
from governance.stations.models import Channel, OpeningHours, Visit

DIMENSIONS = frozenset({Dimension.STATION, Dimension.SERVICE, Dimension.DEPARTMENT})
WAIT_CAP_MINUTES = 240


class Seconds(Func):
    """The length of a duration expression in seconds, as a float."""

    output_field = FloatField()

    def as_sqlite(self, compiler, connection, **extra):
        # Django subtracts datetimes on SQLite into whole microseconds.
        return self.as_sql(compiler, connection, template="(%(expressions)s / 1000000.0)", **extra)

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="EXTRACT(EPOCH FROM %(expressions)s)", **extra
        )


def between(start: str, end: str) -> Seconds:
    return Seconds(ExpressionWrapper(F(end) - F(start), output_field=DurationField()))


def visits(start: dt.date, end: dt.date):
    """Visits that arrived on ``start``–``end`` (Asia/Shanghai), with their day and cell."""
    return (
        Visit.objects.filter(
            arrived_at__gte=day_start(start),
            arrived_at__lt=day_start(end + dt.timedelta(days=1)),
        )
        .annotate(day=TruncDate("arrived_at", tzinfo=TZ))
        .order_by()
    )


def grouped(queryset, *extra: str):
    """Group by the finest cell: day, station and service (the department follows)."""
    return queryset.values("day", "station", "service", *extra, department=F("service__department"))


def count_visits(start: dt.date, end: dt.date) -> list:
    cells = grouped(visits(start, end)).annotate(value=Count("pk"))
    return roll_up(cells, metric=VISITS)


def wait_cells(start: dt.date, end: dt.date):
    waited = (
        visits(start, end)
        .filter(channel=Channel.COUNTER, called_at__isnull=False)
        .annotate(
            bin=Least(
                Cast(Floor(between("arrived_at", "called_at") / 60), IntegerField()),
                Value(WAIT_CAP_MINUTES),
            )
        )
    )
    return grouped(waited, "bin").annotate(count=Count("pk"))


def wait_median(start: dt.date, end: dt.date) -> list:
    return roll_up(wait_cells(start, end), metric=WAIT_MEDIAN)


def wait_p90(start: dt.date, end: dt.date) -> list:
    return roll_up(wait_cells(start, end), metric=WAIT_P90)


def within_target(start: dt.date, end: dt.date) -> list:
    handled = (
        visits(start, end)
        .filter(outcome=Visit.Outcome.COMPLETED, called_at__isnull=False, finished_at__isnull=False)
        .annotate(handling=between("called_at", "finished_at"))
    )
    cells = grouped(handled).annotate(
        value=Sum(
            Case(
                When(handling__lte=F("service__target_minutes") * 60, then=Value(100.0)),
                default=Value(0.0),
                output_field=FloatField(),
            )
        ),
        weight=Count("pk"),
    )
    return roll_up(cells, metric=WITHIN_TARGET)


def self_service(start: dt.date, end: dt.date) -> list:
    cells = grouped(visits(start, end)).annotate(
        value=Sum(
            Case(
                When(channel=Channel.KIOSK, then=Value(100.0)),
                default=Value(0.0),
                output_field=FloatField(),
            )
        ),
        weight=Count("pk"),
    )
    return roll_up(cells, metric=SELF_SERVICE)


def after_hours(start: dt.date, end: dt.date) -> list:
    open_then = OpeningHours.objects.filter(
        station=OuterRef("station"),
        # ISO weekdays run 1 (Monday) to 7; OpeningHours counts from 0.
        weekday=OuterRef("weekday") - 1,
        opens__lte=OuterRef("local_time"),
        closes__gt=OuterRef("local_time"),
    )
    outside = (
        visits(start, end)
        .annotate(
            weekday=ExtractIsoWeekDay("arrived_at", tzinfo=TZ),
            local_time=TruncTime("arrived_at", tzinfo=TZ),
        )
        .filter(~Exists(open_then))
    )
    cells = grouped(outside).annotate(value=Count("pk"))
    return roll_up(cells, metric=AFTER_HOURS)


VISITS = Metric(
    code="stations.visits",
    label=_("办件量"),
    unit=_("件"),
    higher_is_better=True,
    dimensions=DIMENSIONS,
    combine=Combine.SUM,
    compute=count_visits,
    description=_("按取号日期（北京时间）统计的办件数，含所有办理结果。"),
)
WAIT_MEDIAN = Metric(
    code="stations.wait_median",
    label=_("等候时间中位数"),
    unit=_("分钟"),
    higher_is_better=False,
    dimensions=DIMENSIONS,
    combine=Combine.DISTRIBUTION,
    compute=wait_median,
    description=_("窗口办件从取号到叫号的分钟数的中位数，按整分钟分组，自助终端不计。"),
    quantile=0.5,
    cap=WAIT_CAP_MINUTES,
)
WAIT_P90 = Metric(
    code="stations.wait_p90",
    label=_("等候时间90分位"),
    unit=_("分钟"),
    higher_is_better=False,
    dimensions=DIMENSIONS,
    combine=Combine.DISTRIBUTION,
    compute=wait_p90,
    description=_("九成窗口办件的等候时间不超过此分钟数。"),
    quantile=0.9,
    cap=WAIT_CAP_MINUTES,
)
WITHIN_TARGET = Metric(
    code="stations.within_target",
    label=_("按时办结率"),
    unit="%",
    higher_is_better=True,
    dimensions=DIMENSIONS,
    combine=Combine.WEIGHTED_MEAN,
    compute=within_target,
    description=_("办结的办件中，从叫号到办结未超过该事项目标办理时长的比例。"),
)
SELF_SERVICE = Metric(
    code="stations.self_service",
    label=_("自助办理占比"),
    unit="%",
    higher_is_better=True,
    dimensions=DIMENSIONS,
    combine=Combine.WEIGHTED_MEAN,
    compute=self_service,
    description=_("在自助终端办理的办件占全部办件的比例。"),
)
AFTER_HOURS = Metric(
    code="stations.after_hours",
    label=_("开放时间外办件量"),
    unit=_("件"),
    higher_is_better=False,
    dimensions=DIMENSIONS,
    combine=Combine.SUM,
    compute=after_hours,
    description=_("取号时间不在站点当天开放时间内的办件数。"),
)

METRICS = (VISITS, WAIT_MEDIAN, WAIT_P90, WITHIN_TARGET, SELF_SERVICE, AFTER_HOURS)
METRIC_CODES = tuple(metric.code for metric in METRICS)


def register_metrics() -> None:
    for metric in METRICS:
        register(metric)
