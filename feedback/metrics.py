"""The published figures of the feedback wing, registered with ``governance.kpis`` in ``ready``.

Every figure is computed from the rows, never from stored totals, by Asia/Shanghai day, cut by
station, service, and the organisation that handled it (谁办理、谁负责) as department or partner
(whichever kind it is: a station rated online answers to its host, the mall). Ratings are the
visit ratings (一次一评) and online ratings (一事一评). A rating excluded by an upheld appeal is
left out of every figure; a rating whose text was hidden still counts.

- ``feedback.good_rate`` (好评率): the percentage of ratings at 满意 or 非常满意 (4–5), by the
  day of the rating (WEIGHTED_MEAN, weighted by ratings).
- ``feedback.bad_rate`` (差评率): the percentage at 不满意 or 非常不满意 (1–2).
- ``feedback.average_level`` (平均评价等级): the mean level, 1 to 5 points.
- ``feedback.rating_rate`` (主动评价率): the percentage of visits that were rated, by the day of
  the visit; every visit of the day counts in the denominator, whatever its outcome.
- ``feedback.rectified_on_time`` (差评整改率): the percentage of bad ratings whose
  rectification case was first resolved within its deadline, by the day of that first
  resolution (as ``cases.resolved_on_time`` judges it: reopening keeps the first verdict).
- ``feedback.return_visit_rate`` (回访率): the percentage of bad ratings with a rectification
  case whose rater was contacted (a contact entry on the case's timeline) by the return-visit
  deadline, by the day the return visit was due; only days up to today count, so a deadline
  still ahead is not yet a miss.
- ``feedback.rectification_satisfaction`` (整改满意率): the percentage of re-ratings of a
  rectification at 4–5, by the day of the re-rating.

Each is one query grouped by day and the finest cell (station × service × organisation),
added up into every scope by ``registry.roll_up``.
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Count, Exists, F, FloatField, IntegerField, OuterRef, Sum, Value, When
from django.db.models.functions import Cast, TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from feedback.models import BAD_LEVELS, GOOD_LEVELS, RATING_KINDS, Feedback, Kind
from governance.cases.models import TimelineEntry
from governance.kpis.registry import (
    TZ,
    Combine,
    Dimension,
    Metric,
    Row,
    day_start,
    local_day,
    register,
    roll_up,
)
from governance.stakeholders.models import Organisation
from governance.stations.models import Visit

DIMENSIONS = frozenset(
    {Dimension.STATION, Dimension.SERVICE, Dimension.DEPARTMENT, Dimension.PARTNER}
)
GOOD = sorted(int(level) for level in GOOD_LEVELS)
BAD = sorted(int(level) for level in BAD_LEVELS)


def _organisation_of_kind(kind: str):
    return models.Case(
        When(organisation__kind=kind, then=F("organisation_id")),
        default=Value(None),
        output_field=IntegerField(),
    )


def _grouped(queryset):
    """Group by the finest cell: day, station, service and the responsible organisation."""
    return queryset.values(
        "day",
        "station",
        "service",
        department=_organisation_of_kind(Organisation.Kind.DEPARTMENT),
        partner=_organisation_of_kind(Organisation.Kind.PARTNER),
    )


def _counted(start: dt.date, end: dt.date, moment: str):
    """Feedback not excluded by an appeal whose ``moment`` falls on ``start``–``end``."""
    return (
        Feedback.objects.filter(
            excluded=False,
            **{
                f"{moment}__gte": day_start(start),
                f"{moment}__lt": day_start(end + dt.timedelta(days=1)),
            },
        )
        .annotate(day=TruncDate(moment, tzinfo=TZ))
        .order_by()
    )


def _ratings(start: dt.date, end: dt.date):
    return _counted(start, end, "created_at").filter(kind__in=sorted(RATING_KINDS))


def _share(**condition) -> Sum:
    """100 for each row that meets ``condition``, 0 for the others, summed."""
    return Sum(
        models.Case(
            When(**condition, then=Value(100.0)), default=Value(0.0), output_field=FloatField()
        )
    )


def good_rate(start: dt.date, end: dt.date) -> list[Row]:
    cells = _grouped(_ratings(start, end)).annotate(
        value=_share(level__in=GOOD), weight=Count("pk")
    )
    return roll_up(cells, metric=GOOD_RATE)


def bad_rate(start: dt.date, end: dt.date) -> list[Row]:
    cells = _grouped(_ratings(start, end)).annotate(value=_share(level__in=BAD), weight=Count("pk"))
    return roll_up(cells, metric=BAD_RATE)


def average_level(start: dt.date, end: dt.date) -> list[Row]:
    cells = _grouped(_ratings(start, end)).annotate(
        value=Sum(Cast("level", FloatField())), weight=Count("pk")
    )
    return roll_up(cells, metric=AVERAGE_LEVEL)


def rating_rate(start: dt.date, end: dt.date) -> list[Row]:
    """Visits by their arrival day; a visit counts as rated when its rating is not excluded."""
    rated = Feedback.objects.filter(visit=OuterRef("pk"), kind=Kind.VISIT_RATING, excluded=False)
    visits = (
        Visit.objects.filter(
            arrived_at__gte=day_start(start),
            arrived_at__lt=day_start(end + dt.timedelta(days=1)),
        )
        .annotate(day=TruncDate("arrived_at", tzinfo=TZ), rated=Exists(rated))
        .order_by()
    )
    cells = visits.values(
        "day", "station", "service", department=F("service__department")
    ).annotate(value=_share(rated=True), weight=Count("pk"))
    return roll_up(cells, metric=RATING_RATE)


def _rectified(start: dt.date, end: dt.date, moment: str):
    """Bad ratings with a rectification case, by the day of ``moment``."""
    return _counted(start, end, moment).filter(
        kind__in=sorted(RATING_KINDS), level__in=BAD, case__isnull=False
    )


def rectified_on_time(start: dt.date, end: dt.date) -> list[Row]:
    ratings = _rectified(start, end, "case__first_resolved_at").filter(
        case__resolved_on_time__isnull=False
    )
    cells = _grouped(ratings).annotate(
        value=_share(case__resolved_on_time=True), weight=Count("pk")
    )
    return roll_up(cells, metric=RECTIFIED_ON_TIME)


def return_visit_rate(start: dt.date, end: dt.date) -> list[Row]:
    end = min(end, local_day(timezone.now()))
    if end < start:
        return []
    contacted = TimelineEntry.objects.filter(
        case=OuterRef("case"),
        kind=TimelineEntry.Kind.CONTACT,
        created_at__lte=OuterRef("return_visit_due_at"),
    )
    ratings = _rectified(start, end, "return_visit_due_at").annotate(contacted=Exists(contacted))
    cells = _grouped(ratings).annotate(value=_share(contacted=True), weight=Count("pk"))
    return roll_up(cells, metric=RETURN_VISIT_RATE)


def rectification_satisfaction(start: dt.date, end: dt.date) -> list[Row]:
    reratings = _counted(start, end, "rerated_at").filter(rerating_level__isnull=False)
    cells = _grouped(reratings).annotate(value=_share(rerating_level__in=GOOD), weight=Count("pk"))
    return roll_up(cells, metric=RECTIFICATION_SATISFACTION)


GOOD_RATE = Metric(
    code="feedback.good_rate",
    label=_("好评率"),
    unit="%",
    higher_is_better=True,
    dimensions=DIMENSIONS,
    combine=Combine.WEIGHTED_MEAN,
    compute=good_rate,
    description=_(
        "办件评价和在线评价中，评为“满意”或“非常满意”的比例，按评价日期统计；申诉成立的评价不计入。"
    ),
)
BAD_RATE = Metric(
    code="feedback.bad_rate",
    label=_("差评率"),
    unit="%",
    higher_is_better=False,
    dimensions=DIMENSIONS,
    combine=Combine.WEIGHTED_MEAN,
    compute=bad_rate,
    description=_(
        "办件评价和在线评价中，评为“不满意”或“非常不满意”的比例，按评价日期统计；"
        "申诉成立的评价不计入。"
    ),
)
AVERAGE_LEVEL = Metric(
    code="feedback.average_level",
    label=_("平均评价等级"),
    unit=pgettext_lazy("rating unit", "分"),
    higher_is_better=True,
    dimensions=DIMENSIONS,
    combine=Combine.WEIGHTED_MEAN,
    compute=average_level,
    description=_("办件评价和在线评价的平均等级，1 分为非常不满意，5 分为非常满意。"),
)
RATING_RATE = Metric(
    code="feedback.rating_rate",
    label=_("主动评价率"),
    unit="%",
    higher_is_better=True,
    # Visits answer to the service's department; a partner serves no visits.
    dimensions=frozenset({Dimension.STATION, Dimension.SERVICE, Dimension.DEPARTMENT}),
    combine=Combine.WEIGHTED_MEAN,
    compute=rating_rate,
    description=_("当天的办件中，办事群众扫码作出评价的比例，按取号日期统计。"),
)
RECTIFIED_ON_TIME = Metric(
    code="feedback.rectified_on_time",
    label=_("差评整改率"),
    unit="%",
    higher_is_better=True,
    dimensions=DIMENSIONS,
    combine=Combine.WEIGHTED_MEAN,
    compute=rectified_on_time,
    description=_("差评对应的整改事项中，在整改时限内首次办结的比例，按首次办结日期统计。"),
)
RETURN_VISIT_RATE = Metric(
    code="feedback.return_visit_rate",
    label=_("回访率"),
    unit="%",
    higher_is_better=True,
    dimensions=DIMENSIONS,
    combine=Combine.WEIGHTED_MEAN,
    compute=return_visit_rate,
    description=_("差评整改事项中，在回访时限内联系了评价人的比例，按应回访日期统计。"),
)
RECTIFICATION_SATISFACTION = Metric(
    code="feedback.rectification_satisfaction",
    label=_("整改满意率"),
    unit="%",
    higher_is_better=True,
    dimensions=DIMENSIONS,
    combine=Combine.WEIGHTED_MEAN,
    compute=rectification_satisfaction,
    description=_("评价人对整改结果的再次评价中，评为“满意”或“非常满意”的比例。"),
)

METRICS = (
    GOOD_RATE,
    BAD_RATE,
    AVERAGE_LEVEL,
    RATING_RATE,
    RECTIFIED_ON_TIME,
    RETURN_VISIT_RATE,
    RECTIFICATION_SATISFACTION,
)
METRIC_CODES = tuple(metric.code for metric in METRICS)


def register_metrics() -> None:
    for metric in METRICS:
        register(metric)
