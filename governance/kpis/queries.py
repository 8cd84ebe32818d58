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
from governance.kpis.registry import Combine, Scope
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


def _combine(metric: registry.Metric, rows: list[tuple[float, float, dict | None]]):
    """A period's value from its days' ``(value, weight, histogram)``, as ``measure`` does."""
    if not rows:
        return None
    if metric.combine == Combine.SUM:
        return float(sum(value for value, _weight, _histogram in rows))
    if metric.combine == Combine.WEIGHTED_MEAN:
        weight = sum(weight for _value, weight, _histogram in rows)
        if not weight:
            return None
        return sum(value * weight for value, weight, _histogram in rows) / weight
    histogram = registry.histogram_merge(histogram for _v, _w, histogram in rows)
    return registry.histogram_quantile(histogram, metric.quantile)


def _metric_values(indicator, kind, periods, scope: Scope) -> dict[dt.date, float | None]:
    """Each period's value of a computed indicator: one query over the whole range."""
    metric = registry.get(indicator.metric)
    by_period: dict[dt.date, list] = defaultdict(list)
    starts = [start for start, _end in periods]
    rows = (
        Measurement.objects.filter(
            metric=metric.code,
            day__range=(periods[0][0], periods[-1][1]),
            **scope.columns(),
        )
        .order_by()
        .values_list("day", "value", "weight", "histogram")
    )
    for day, value, weight, histogram in rows:
        by_period[period_start(kind, day)].append((value, weight, histogram))
    return {start: _combine(metric, by_period.get(start, [])) for start in starts}


def _reported_values(indicator, kind, periods, scope: Scope, today: dt.date):
    """Each period's approved figure of a reported indicator (none for a period to come)."""
    figures = ReportedFigure.objects.shown(today).filter(
        indicator=indicator,
        period=kind,
        period_start__range=(periods[0][0], periods[-1][0]),
        **scope.columns(),
    )
    return dict(figures.values_list("period_start", "value"))


def indicator_values(
    indicator: Indicator,
    *,
    kind: str,
    first: dt.date,
    last: dt.date,
    scope: Scope | None = None,
    today: dt.date,
) -> list[PeriodValue]:
    """The indicator's value, target and light in each period of ``kind`` over ``first``–``last``.

    Two queries, whatever the number of periods or days: the rollups (or approved figures) of
    the range, and the targets of those periods in that scope.
    """
    scope = scope or Scope()
    periods = periods_between(kind, first, last)
    if not periods:
        return []
    if indicator.kind == Indicator.Kind.METRIC:
        values = _metric_values(indicator, kind, periods, scope)
    else:
        values = _reported_values(indicator, kind, periods, scope, today)
    targets = {
        target.period_start: target
        for target in Target.objects.filter(
            indicator=indicator,
            period=kind,
            period_start__range=(periods[0][0], periods[-1][0]),
            **scope.columns(),
        )
    }
    result = []
    for start, end in periods:
        target = targets.get(start)
        if target is not None:
            target.indicator = indicator
        value = values.get(start)
        result.append(
            PeriodValue(
                start=start,
                end=end,
                value=value,
                target=target,
                light=target.light(value) if target is not None else None,
            )
        )
    return result
