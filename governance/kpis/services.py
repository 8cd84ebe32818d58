"""Rollups: daily measurements computed from source rows, only for the days that changed.

Source writes (a visit recorded, called, finished; a seed; an import) mark the days they touch
dirty with :func:`kpis_mark_dirty`. Celery beat runs :func:`kpis_rollup` every ten minutes: it
recomputes each dirty day of each metric in one transaction (delete the day's measurements,
insert the new ones, clear the marks), so its cost follows the changed days' rows, never the
history. :func:`kpis_backfill` recomputes a whole range. Pages and the API read measurements only
(:func:`measure`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.kpis import registry
from governance.kpis.models import DirtyDay, Measurement
from governance.kpis.registry import Combine, Metric, Scope

BACKFILL_MAX_YEARS = 3
# Days computed per query in a backfill: one query per metric per chunk.
BACKFILL_CHUNK_DAYS = 31


class BackfillRangeError(ValueError):
    pass


def kpis_mark_dirty(*, metric_codes: Iterable[str] | None = None, days: Iterable[dt.date]) -> int:
    """Mark ``days`` of the metrics (every registered one by default) for recomputation."""
    codes = (
        [metric.code for metric in registry.all_metrics()]
        if metric_codes is None
        else list(metric_codes)
    )
    rows = [DirtyDay(metric=code, day=day) for day in set(days) for code in codes]
    if not rows:
        return 0
    DirtyDay.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    return len(rows)


def _measurements(metric: Metric, rows: Iterable[registry.Row], now: dt.datetime):
    for row in rows:
        yield Measurement(
            metric=metric.code,
            day=row.day,
            value=row.value,
            weight=row.weight,
            histogram=row.histogram,
            computed_at=now,
            **row.scope.columns(),
        )


def _recompute(metric: Metric, start: dt.date, end: dt.date) -> int:
    """Replace the metric's measurements of ``start``–``end``; the caller holds a transaction."""
    rows = list(metric.compute(start, end))
    Measurement.objects.filter(metric=metric.code, day__range=(start, end)).delete()
    created = Measurement.objects.bulk_create(
        _measurements(metric, rows, timezone.now()), batch_size=1000
    )
    return len(created)


def kpis_rollup(*, limit: int = 400) -> dict:
    """Recompute up to ``limit`` dirty (metric, day) pairs, oldest day first.

    Each day is one transaction that first deletes its marks, then recomputes: a mark added by
    a write that commits meanwhile waits for this transaction and survives it, so that write is
    picked up by the next run. Marks of metrics no longer registered are dropped.
    """
    marks = list(
        DirtyDay.objects.order_by("day", "metric").values_list("pk", "metric", "day")[:limit]
    )
    by_day: dict[dt.date, list[tuple[int, str]]] = defaultdict(list)
    for pk, code, day in marks:
        by_day[day].append((pk, code))
    days = measurements = 0
    for day, entries in sorted(by_day.items()):
        with transaction.atomic():
            DirtyDay.objects.filter(pk__in=[pk for pk, _code in entries]).delete()
            for _pk, code in entries:
                try:
                    metric = registry.get(code)
                except registry.UnknownMetric:
                    continue
                measurements += _recompute(metric, day, day)
        days += 1
    return {"days": days, "marks": len(marks), "measurements": measurements}


def check_backfill_range(start: dt.date, end: dt.date) -> None:
    if end < start:
        raise BackfillRangeError(
            _("回填范围颠倒：结束日 %(end)s 早于开始日 %(start)s。") % {"start": start, "end": end}
        )
    try:
        limit = start.replace(year=start.year + BACKFILL_MAX_YEARS)
    except ValueError:  # 29 February
        limit = start.replace(year=start.year + BACKFILL_MAX_YEARS, day=28)
    if end >= limit:
        raise BackfillRangeError(
            _("回填范围不能超过 %(years)d 年：%(start)s 至 %(end)s 太长，请分段回填。")
            % {"years": BACKFILL_MAX_YEARS, "start": start, "end": end}
        )


def kpis_backfill(
    *, start: dt.date, end: dt.date, metric_codes: Iterable[str] | None = None
) -> dict:
    """Recompute every day from ``start`` to ``end`` (inclusive) of the metrics, all by default.

    Refuses a reversed range or one over three years before computing anything. Works in
    chunks of a month, each one transaction with one compute query per metric, and clears the
    dirty marks of the days it recomputed.
    """
    check_backfill_range(start, end)
    metrics = (
        registry.all_metrics()
        if metric_codes is None
        else [registry.get(code) for code in metric_codes]
    )
    measurements = 0
    chunk_start = start
    while chunk_start <= end:
        chunk_end = min(end, chunk_start + dt.timedelta(days=BACKFILL_CHUNK_DAYS - 1))
        with transaction.atomic():
            DirtyDay.objects.filter(
                metric__in=[metric.code for metric in metrics],
                day__range=(chunk_start, chunk_end),
            ).delete()
            for metric in metrics:
                measurements += _recompute(metric, chunk_start, chunk_end)
        chunk_start = chunk_end + dt.timedelta(days=1)
    return {"days": (end - start).days + 1, "measurements": measurements}


# Reads -----------------------------------------------------------------------------------------


def measure(
    metric: Metric | str, scope: Scope | None, start: dt.date, end: dt.date
) -> float | None:
    """The metric's value over ``start``–``end`` in ``scope`` (the platform by default).

    Combines the stored days as the metric says: a SUM adds them (no row is a zero), a
    WEIGHTED_MEAN weighs each day by its weight, a DISTRIBUTION merges the days' histograms and
    reads its quantile from the merged one. ``None`` when nothing was measured. One query.
    """
    if isinstance(metric, str):
        metric = registry.get(metric)
    scope = scope or Scope()
    rows = Measurement.objects.filter(
        metric=metric.code, day__range=(start, end), **scope.columns()
    ).order_by()
    if metric.combine == Combine.SUM:
        values = list(rows.values_list("value", flat=True))
        return float(sum(values)) if values else None
    if metric.combine == Combine.WEIGHTED_MEAN:
        pairs = list(rows.values_list("value", "weight"))
        weight = sum(weight for _value, weight in pairs)
        if not weight:
            return None
        return sum(value * weight for value, weight in pairs) / weight
    histogram = registry.histogram_merge(rows.values_list("histogram", flat=True))
    return registry.histogram_quantile(histogram, metric.quantile)
