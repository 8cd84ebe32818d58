"""The metrics registry: what can be measured, how it is cut, and how its values combine.

An app registers its metrics in its ``AppConfig.ready`` (the core never imports a wing)::

    registry.register(Metric(
        code="stations.visits",
        label=_("办件量"),
        unit=_("件"),
        higher_is_better=True,
        dimensions=frozenset({Dimension.STATION, Dimension.SERVICE}),
        combine=Combine.SUM,
        compute=visit_counts,
    ))

``compute(start_day, end_day)`` returns a :class:`Row` for every day (Asia/Shanghai) and scope
that has data — the whole platform (an empty :class:`Scope`) and each single value of each
dimension — in a constant number of queries, whatever the number of source rows. The usual way
is one query grouped by day and the finest cell (station × service …) handed to
:func:`roll_up`, which adds the cells up into every scope.

How values combine across days and scopes (``Combine``):

- ``SUM``: counts; a period's value is the sum of its days.
- ``WEIGHTED_MEAN``: a share or an average; each row carries its ``weight`` (the number of
  items it averages) and a period's value is the weighted mean of its days.
- ``DISTRIBUTION``: a median or another quantile. Each row stores the histogram of the values
  (whole-unit bins, capped at ``Metric.cap``); a period merges the histograms and reads the
  quantile from the merged one. A median of daily medians would be wrong.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.functional import Promise

TZ = ZoneInfo("Asia/Shanghai")
CODE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


class Dimension(StrEnum):
    STATION = "station"
    SERVICE = "service"
    DEPARTMENT = "department"
    PARTNER = "partner"


class Combine(StrEnum):
    SUM = "sum"
    WEIGHTED_MEAN = "weighted_mean"
    DISTRIBUTION = "distribution"


class UnknownMetric(LookupError):
    pass


@dataclass(frozen=True)
class Scope:
    """Where a value applies: the whole platform (nothing set) or one value of one dimension."""

    station_id: int | None = None
    service_id: int | None = None
    department_id: int | None = None
    partner_id: int | None = None

    def __post_init__(self):
        if sum(value is not None for value in self.columns().values()) > 1:
            raise ValueError("a scope names at most one dimension")

    @classmethod
    def of(cls, dimension: str | None, key: int | None) -> Scope:
        if dimension is None:
            return cls()
        return cls(**{f"{Dimension(dimension)}_id": key})

    @property
    def dimension(self) -> Dimension | None:
        for dimension in Dimension:
            if getattr(self, f"{dimension}_id") is not None:
                return dimension
        return None

    def columns(self) -> dict[str, int | None]:
        """The four scope columns of a measurement, as filter or field values."""
        return {f"{dimension}_id": getattr(self, f"{dimension}_id") for dimension in Dimension}


@dataclass(frozen=True)
class Row:
    """One day's value for one scope, as stored in a ``Measurement``."""

    day: dt.date
    scope: Scope
    value: float
    weight: float = 0.0
    histogram: dict[str, int] | None = None


@dataclass(frozen=True)
class Metric:
    code: str
    label: str | Promise
    unit: str | Promise
    higher_is_better: bool
    dimensions: frozenset[Dimension]
    combine: Combine
    compute: Callable[[dt.date, dt.date], Iterable[Row]] = field(compare=False)
    description: str | Promise = ""
    # DISTRIBUTION only: the quantile read from the histogram, and the last bin (values at or
    # above it are counted in it).
    quantile: float | None = None
    cap: int = 240

    def __post_init__(self):
        if not CODE.match(self.code):
            raise ValueError(f"{self.code!r}: a metric code is dotted lower case, app first")
        object.__setattr__(self, "dimensions", frozenset(Dimension(d) for d in self.dimensions))
        object.__setattr__(self, "combine", Combine(self.combine))
        if self.combine == Combine.DISTRIBUTION:
            if self.quantile is None or not 0 < self.quantile <= 1:
                raise ValueError(f"{self.code}: a distribution metric needs a quantile in (0, 1]")
        elif self.quantile is not None:
            raise ValueError(f"{self.code}: only distribution metrics have a quantile")

    def __str__(self) -> str:
        return str(self.label)


_metrics: dict[str, Metric] = {}


def register(metric: Metric) -> Metric:
    """Add ``metric``; registering a code again replaces it (``ready`` may run twice)."""
    _metrics[metric.code] = metric
    return metric


def get(code: str) -> Metric:
    try:
        return _metrics[code]
    except KeyError:
        raise UnknownMetric(code) from None


def all_metrics() -> list[Metric]:
    return sorted(_metrics.values(), key=lambda metric: metric.code)


# Days ------------------------------------------------------------------------------------------


def local_day(moment: dt.datetime) -> dt.date:
    """The Asia/Shanghai day of an aware datetime: 23:59 on the 31st stays on the 31st."""
    return moment.astimezone(TZ).date()


def day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=TZ)


def day_range(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=offset) for offset in range((end - start).days + 1)]


# Histograms ------------------------------------------------------------------------------------


def histogram_merge(histograms: Iterable[Mapping[Any, int] | None]) -> Counter:
    """The sum of histograms, with whole-number bins.

    Stored histograms come back from JSON with string bins: adding them as they are and
    converting the hundred-odd merged bins once is twice as fast as converting every bin of
    every day (a year of daily histograms is read on each KPI page).
    """
    merged: Counter = Counter()
    for histogram in histograms:
        if histogram:
            merged.update(histogram)
    result: Counter = Counter()
    for bin_, count in merged.items():
        result[int(bin_)] += count
    return result


def histogram_quantile(histogram: Mapping[Any, int], quantile: float) -> float | None:
    """The nearest-rank quantile: the bin holding the ``ceil(q × n)``-th smallest value.

    With whole-minute bins the result is the true nearest-rank quantile rounded down to the
    minute (``None`` for an empty histogram).
    """
    counts = sorted((int(bin_), count) for bin_, count in histogram.items() if count)
    total = sum(count for _bin, count in counts)
    if not total:
        return None
    rank = max(1, math.ceil(quantile * total))
    seen = 0
    for bin_, count in counts:
        seen += count
        if seen >= rank:
            return float(bin_)
    return float(counts[-1][0])  # pragma: no cover  (rank <= total)


def combine(metric: Metric, rows: Iterable[tuple[float, float, Mapping | None]]) -> float | None:
    """One value from stored ``(value, weight, histogram)`` rows, as the metric combines them.

    SUM adds the values (no row is a zero, not a missing day); WEIGHTED_MEAN weighs each value
    by its weight; DISTRIBUTION merges the histograms and reads the quantile from the merged
    one. ``None`` when there is nothing to combine.
    """
    rows = list(rows)
    if not rows:
        return None
    if metric.combine == Combine.SUM:
        return float(sum(value for value, _weight, _histogram in rows))
    if metric.combine == Combine.WEIGHTED_MEAN:
        weight = sum(weight for _value, weight, _histogram in rows)
        if not weight:
            return None
        return sum(value * weight for value, weight, _histogram in rows) / weight
    histogram = histogram_merge(histogram for _value, _weight, histogram in rows)
    return histogram_quantile(histogram, metric.quantile)


# Rolling cells up into scopes ------------------------------------------------------------------


def roll_up(cells: Iterable[Mapping[str, Any]], *, metric: Metric) -> list[Row]:
    """Add the finest cells of a grouped query up into the platform and every dimension value.

    Each cell has ``day``, the id of each of the metric's dimensions (missing or ``None``
    where the cell has no value for it), and

    - ``SUM``: ``value``, the cell's count;
    - ``WEIGHTED_MEAN``: ``value``, the sum of the cell's items' values, and ``weight``, how many
      items (the row's value is ``value / weight``; scopes with no weight get no row);
    - ``DISTRIBUTION``: ``bin`` and ``count``, one cell per bin.
    """
    totals: dict[tuple[dt.date, Scope], float] = defaultdict(float)
    weights: dict[tuple[dt.date, Scope], float] = defaultdict(float)
    histograms: dict[tuple[dt.date, Scope], Counter] = defaultdict(Counter)
    dimensions = sorted(metric.dimensions)
    for cell in cells:
        scopes = [Scope()]
        scopes += [
            Scope.of(dimension, cell[dimension])
            for dimension in dimensions
            if cell.get(dimension) is not None
        ]
        for scope in scopes:
            key = (cell["day"], scope)
            if metric.combine == Combine.DISTRIBUTION:
                histograms[key][min(int(cell["bin"]), metric.cap)] += cell["count"]
            else:
                totals[key] += cell["value"] or 0
                weights[key] += cell.get("weight") or 0
    rows = []
    if metric.combine == Combine.DISTRIBUTION:
        for (day, scope), histogram in histograms.items():
            rows.append(
                Row(
                    day=day,
                    scope=scope,
                    value=histogram_quantile(histogram, metric.quantile),
                    weight=float(sum(histogram.values())),
                    histogram={str(bin_): count for bin_, count in sorted(histogram.items())},
                )
            )
    elif metric.combine == Combine.WEIGHTED_MEAN:
        for key, weight in weights.items():
            if weight:
                rows.append(
                    Row(day=key[0], scope=key[1], value=totals[key] / weight, weight=weight)
                )
    else:
        for (day, scope), total in totals.items():
            rows.append(Row(day=day, scope=scope, value=total))
    return rows
