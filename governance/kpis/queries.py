"""Reads of KPIs: which indicators a user may see, and their values by period and scope.

Every figure here comes from the daily rollups (``Measurement``) or from approved reported
figures, never from raw visits, so a page or an API answer costs the same whatever the history.
Periods (month, quarter, year) are calendar periods of Asia/Shanghai days.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from governance.kpis import registry
from governance.kpis.models import (
    Indicator,
    Light,
    Measurement,
    Period,
    ReportedFigure,
    Target,
    Visibility,
    period_end,
)
from governance.kpis.registry import Scope
from governance.stakeholders.models import Membership

# The furthest a range of periods may reach back or forward, and its length.
FIRST_YEAR = 2000
LAST_YEAR = 2100
MAX_PERIODS = 120


def local_today() -> dt.date:
    return registry.local_day(timezone.now())


def indicators_visible_to(user) -> QuerySet[Indicator]:
    """Active indicators ``user`` may see (every one for a superuser), owners prefetched.

    Public ones for everyone; "stakeholders" ones for any member of an organisation; "owners"
    ones for members of an owning organisation.
    """
    indicators = Indicator.objects.prefetch_related("owners")
    if user is not None and user.is_authenticated and user.is_superuser:
        return indicators
    indicators = indicators.filter(is_active=True)
    visible = Q(visibility=Visibility.PUBLIC)
    if user is not None and user.is_authenticated:
        memberships = Membership.objects.filter(user=user, organisation__is_active=True)
        owning = memberships.filter(organisation__kpi_indicators=OuterRef("pk"))
        visible |= Q(visibility=Visibility.STAKEHOLDERS) & Exists(memberships)
        visible |= Q(visibility=Visibility.OWNERS) & Exists(owning)
    return indicators.filter(visible)


def indicator_unit(indicator: Indicator) -> str:
    if indicator.kind == Indicator.Kind.METRIC:
        return str(registry.get(indicator.metric).unit)
    return indicator.unit


def indicator_dimensions(indicator: Indicator) -> frozenset[str]:
    """The dimensions an indicator can be cut by (a reported figure's scopes are any)."""
    if indicator.kind == Indicator.Kind.METRIC:
        return registry.get(indicator.metric).dimensions
    return frozenset(registry.Dimension)


# Periods ---------------------------------------------------------------------------------------


def period_start(kind: str, day: dt.date) -> dt.date:
    """The first day of the period of ``kind`` holding ``day``."""
    if kind == Period.YEAR:
        return dt.date(day.year, 1, 1)
    if kind == Period.QUARTER:
        return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return day.replace(day=1)


def periods_between(kind: str, first: dt.date, last: dt.date) -> list[tuple[dt.date, dt.date]]:
    """``(start, end)`` of every period of ``kind`` from the one holding ``first`` to ``last``'s."""
    periods = []
    start = period_start(kind, first)
    while start <= last:
        end = period_end(kind, start)
        periods.append((start, end))
        start = end + dt.timedelta(days=1)
    return periods


def periods_back(kind: str, last: dt.date, count: int) -> dt.date:
    """The first day of the period ``count - 1`` periods before the one holding ``last``."""
    start = period_start(kind, last)
    for _index in range(count - 1):
        start = period_start(kind, start - dt.timedelta(days=1))
    return start


# Values ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodValue:
    start: dt.date
    end: dt.date
    value: float | None
    target: Target | None
    light: Light | None
    # The target is the platform's, standing in for a scope without its own.
    inherited: bool = False


def _metric_values(indicators, kind, periods, scope: Scope) -> dict[int, dict[dt.date, float]]:
    """Each period's value of computed indicators: one query over the range for all of them."""
    metrics = {}
    for indicator in indicators:
        try:
            metrics[indicator.pk] = registry.get(indicator.metric)
        except registry.UnknownMetric:
            continue
    if not metrics:
        return {}
    by_metric: dict[str, dict[dt.date, list]] = defaultdict(lambda: defaultdict(list))
    rows = (
        Measurement.objects.filter(
            metric__in={metric.code for metric in metrics.values()},
            day__range=(periods[0][0], periods[-1][1]),
            **scope.columns(),
        )
        .order_by()
        .values_list("metric", "day", "value", "weight", "histogram")
    )
    for code, day, value, weight, histogram in rows:
        by_metric[code][period_start(kind, day)].append((value, weight, histogram))
    return {
        pk: {
            start: registry.combine(metric, by_metric[metric.code].get(start, []))
            for start, _end in periods
        }
        for pk, metric in metrics.items()
    }


def _reported_values(indicators, kind, periods, scope: Scope, today: dt.date):
    """Each period's approved figure of reported indicators (none for a period to come)."""
    figures = ReportedFigure.objects.shown(today).filter(
        indicator__in=[indicator.pk for indicator in indicators],
        period=kind,
        period_start__range=(periods[0][0], periods[-1][0]),
        **scope.columns(),
    )
    values: dict[int, dict[dt.date, float]] = defaultdict(dict)
    for indicator_id, start, value in figures.values_list("indicator", "period_start", "value"):
        values[indicator_id][start] = value
    return values


def _targets(indicators, kind, periods, scope: Scope, *, inherit: bool):
    """The targets of the periods by indicator and start; with ``inherit``, the platform's
    target stands in where the scope has none of its own."""
    scopes = Q(**scope.columns())
    if inherit and scope.dimension is not None:
        scopes |= Q(**Scope().columns())
    by_indicator: dict[int, dict[dt.date, Target]] = defaultdict(dict)
    targets = Target.objects.filter(
        scopes,
        indicator__in=[indicator.pk for indicator in indicators],
        period=kind,
        period_start__range=(periods[0][0], periods[-1][0]),
    )
    for target in targets:
        mine = by_indicator[target.indicator_id]
        # A target of the scope itself wins over the platform's.
        if target.period_start not in mine or target.scope == scope:
            mine[target.period_start] = target
    return by_indicator


def indicators_values(
    indicators,
    *,
    kind: str,
    first: dt.date,
    last: dt.date,
    scope: Scope | None = None,
    today: dt.date,
    inherit_targets: bool = False,
) -> dict[int, list[PeriodValue]]:
    """Each indicator's value, target and light in each period of ``kind`` over ``first``–``last``.

    Three queries whatever the number of indicators, periods or days: the rollups of the
    computed ones, the approved figures of the reported ones, and the targets.
    """
    scope = scope or Scope()
    indicators = list(indicators)
    periods = periods_between(kind, first, last)
    if not periods or not indicators:
        return {indicator.pk: [] for indicator in indicators}
    computed = [i for i in indicators if i.kind == Indicator.Kind.METRIC]
    reported = [i for i in indicators if i.kind == Indicator.Kind.REPORTED]
    values = {}
    if computed:
        values.update(_metric_values(computed, kind, periods, scope))
    if reported:
        values.update(_reported_values(reported, kind, periods, scope, today))
    targets = _targets(indicators, kind, periods, scope, inherit=inherit_targets)
    result = {}
    for indicator in indicators:
        mine, goals = values.get(indicator.pk, {}), targets.get(indicator.pk, {})
        rows = []
        for start, end in periods:
            target = goals.get(start)
            if target is not None:
                target.indicator = indicator
            value = mine.get(start)
            rows.append(
                PeriodValue(
                    start=start,
                    end=end,
                    value=value,
                    target=target,
                    light=target.light(value) if target is not None else None,
                    inherited=target is not None and target.scope != scope,
                )
            )
        result[indicator.pk] = rows
    return result


def indicator_values(
    indicator: Indicator,
    *,
    kind: str,
    first: dt.date,
    last: dt.date,
    scope: Scope | None = None,
    today: dt.date,
) -> list[PeriodValue]:
    """One indicator's :func:`indicators_values`: two queries."""
    return indicators_values(
        [indicator], kind=kind, first=first, last=last, scope=scope, today=today
    )[indicator.pk]


# Dashboards ------------------------------------------------------------------------------------

# Complete months on a card's sparkline.
CARD_MONTHS = 12


def last_complete(kind: str, today: dt.date) -> dt.date:
    """The first day of the last period of ``kind`` that has ended by ``today``."""
    return period_start(kind, period_start(kind, today) - dt.timedelta(days=1))


@dataclass(frozen=True)
class Card:
    """An indicator on a dashboard: its last complete month, this month so far, a year back."""

    indicator: Indicator
    focus: PeriodValue
    current: PeriodValue
    history: list[PeriodValue]


def indicator_cards(
    indicators, *, today: dt.date, scope: Scope | None = None, inherit_targets: bool = False
) -> list[Card]:
    """Monthly cards of ``indicators`` in ``scope``: three queries, whatever their number."""
    indicators = list(indicators)
    first = periods_back(Period.MONTH, today, CARD_MONTHS + 1)
    values = indicators_values(
        indicators,
        kind=Period.MONTH,
        first=first,
        last=today,
        scope=scope,
        today=today,
        inherit_targets=inherit_targets,
    )
    return [
        Card(
            indicator=indicator,
            focus=values[indicator.pk][-2],
            current=values[indicator.pk][-1],
            history=values[indicator.pk][:-1],
        )
        for indicator in indicators
    ]


@dataclass(frozen=True)
class BreakdownRow:
    place: object  # a Station, Service or Organisation
    value: float | None
    target: Target | None
    light: Light | None


def _places(dimension: str, ids) -> dict:
    from governance.stakeholders.models import Organisation
    from governance.stations.models import Service, Station

    model = {
        registry.Dimension.STATION: Station,
        registry.Dimension.SERVICE: Service,
        registry.Dimension.DEPARTMENT: Organisation,
        registry.Dimension.PARTNER: Organisation,
    }[registry.Dimension(dimension)]
    return model.objects.in_bulk(ids)


def indicator_breakdown(
    indicator: Indicator, *, kind: str, start: dt.date, dimension: str, today: dt.date
) -> list[BreakdownRow]:
    """The indicator in one period, cut by ``dimension``: best first, the unmeasured last.

    Three queries: the rollups (or approved figures) of every place in the period, their
    targets, and the places' names.
    """
    end = period_end(kind, start)
    column = f"{registry.Dimension(dimension)}_id"
    values: dict[int, float | None] = {}
    if indicator.kind == Indicator.Kind.METRIC:
        metric = registry.get(indicator.metric)
        cells: dict[int, list] = defaultdict(list)
        rows = (
            Measurement.objects.filter(
                metric=metric.code, day__range=(start, end), **{f"{column}__isnull": False}
            )
            .order_by()
            .values_list(column, "value", "weight", "histogram")
        )
        for key, value, weight, histogram in rows:
            cells[key].append((value, weight, histogram))
        values = {key: registry.combine(metric, cell) for key, cell in cells.items()}
    else:
        figures = ReportedFigure.objects.shown(today).filter(
            indicator=indicator, period=kind, period_start=start, **{f"{column}__isnull": False}
        )
        values = dict(figures.values_list(column, "value"))
    targets = {
        getattr(target, column): target
        for target in Target.objects.filter(
            indicator=indicator, period=kind, period_start=start, **{f"{column}__isnull": False}
        )
    }
    places = _places(dimension, set(values) | set(targets))
    result = []
    for key, place in places.items():
        target = targets.get(key)
        if target is not None:
            target.indicator = indicator
        value = values.get(key)
        light = target.light(value) if target is not None else None
        result.append(BreakdownRow(place=place, value=value, target=target, light=light))
    sign = -1 if indicator.is_higher_better else 1
    result.sort(
        key=lambda row: (row.value is None, sign * (row.value or 0), str(row.place.name_zh))
    )
    return result


# Pages' selections -----------------------------------------------------------------------------


def station_indicators(user, station) -> QuerySet[Indicator]:
    """Active indicators ``user`` may see that say something about one station: computed ones
    cut by station, reported ones with a figure or a target of that station."""
    by_station = [
        metric.code
        for metric in registry.all_metrics()
        if registry.Dimension.STATION in metric.dimensions
    ]
    station_figures = ReportedFigure.objects.filter(indicator=OuterRef("pk"), station=station)
    station_targets = Target.objects.filter(indicator=OuterRef("pk"), station=station)
    return (
        indicators_visible_to(user)
        .filter(is_active=True)
        .filter(
            Q(kind=Indicator.Kind.METRIC, metric__in=by_station)
            | Q(kind=Indicator.Kind.REPORTED) & (Exists(station_figures) | Exists(station_targets))
        )
        .order_by("name_zh", "pk")
    )


def organisations_with_kpis(user) -> list:
    """The active organisations ``user`` sits in (every one for a superuser) that own an active
    indicator."""
    from governance.stakeholders.models import Organisation
    from governance.stakeholders.rules import memberships_of

    organisations = Organisation.objects.filter(is_active=True, kpi_indicators__is_active=True)
    if not (user.is_superuser and user.is_active):
        organisations = organisations.filter(pk__in=list(memberships_of(user)))
    return list(organisations.distinct().order_by("name_zh"))


def organisation_indicators(organisation) -> QuerySet[Indicator]:
    """Everything an organisation owns or shares, whatever the visibility."""
    return (
        Indicator.objects.filter(owners=organisation, is_active=True)
        .prefetch_related("owners")
        .order_by("name_zh", "pk")
    )


def organisation_figures(organisation) -> QuerySet[ReportedFigure]:
    """Figures of the indicators an organisation owns, newest first, joined for its page."""
    return (
        ReportedFigure.objects.filter(indicator__owners=organisation)
        .select_related(
            "indicator", "reported_by", "entered_by", "reviewed_by", "station", "service"
        )
        .prefetch_related("indicator__owners")
        .order_by("-updated_at", "-pk")
    )


def figures_to_review(user, organisation) -> list[ReportedFigure]:
    """Pending figures ``user`` may approve in this organisation's name (two queries)."""
    from governance.kpis.rules import reviewing_owner_ids

    pending = organisation_figures(organisation).filter(status=ReportedFigure.Status.PENDING)
    if user.is_superuser and user.is_active:
        return list(pending)
    return [figure for figure in pending if organisation.pk in reviewing_owner_ids(user, figure)]
