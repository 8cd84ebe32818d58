"""When a resource may be used: its weekly opening rules, plus extra openings, minus closures.

Pure functions over rows already read, so the calendar and the booking check read the rules,
the exceptions and the bookings of a period in one query each, whatever the resource's history.
Times are the site's (Asia/Shanghai): a rule "Saturday 10:00–22:00" means those local hours.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.utils import timezone

from partners.models import MIDNIGHT, AvailabilityException, OpeningRule

Interval = tuple[dt.datetime, dt.datetime]


def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _subtract(intervals: list[Interval], holes: Iterable[Interval]) -> list[Interval]:
    result = intervals
    for hole_start, hole_end in holes:
        cut: list[Interval] = []
        for start, end in result:
            if hole_end <= start or hole_start >= end:
                cut.append((start, end))
                continue
            if start < hole_start:
                cut.append((start, hole_start))
            if hole_end < end:
                cut.append((hole_end, end))
        result = cut
    return result


def weekly_windows(rules: Sequence[OpeningRule], start: dt.datetime, end: dt.datetime):
    """The rules' windows that touch ``[start, end)``, as aware datetimes in the site's zone."""
    zone = timezone.get_current_timezone()
    first = timezone.localtime(start, zone).date() - dt.timedelta(days=1)
    last = timezone.localtime(end, zone).date()
    by_day: dict[int, list[OpeningRule]] = {}
    for rule in rules:
        by_day.setdefault(rule.weekday, []).append(rule)
    day = first
    while day <= last:
        for rule in by_day.get(day.weekday(), ()):
            opens = dt.datetime.combine(day, rule.opens, tzinfo=zone)
            closes_day = day + dt.timedelta(days=1) if rule.closes == MIDNIGHT else day
            closes = dt.datetime.combine(closes_day, rule.closes, tzinfo=zone)
            if closes > start and opens < end:
                yield (opens, closes)
        day += dt.timedelta(days=1)


def open_windows(
    rules: Sequence[OpeningRule],
    exceptions: Sequence[AvailabilityException],
    start: dt.datetime,
    end: dt.datetime,
) -> list[Interval]:
    """When the resource is open within ``[start, end)``: merged, sorted, clipped."""
    extra = [
        (exception.starts_at, exception.ends_at)
        for exception in exceptions
        if exception.kind == AvailabilityException.Kind.OPEN
    ]
    closed = [
        (exception.starts_at, exception.ends_at)
        for exception in exceptions
        if exception.kind == AvailabilityException.Kind.CLOSED
    ]
    windows = _merge([*weekly_windows(rules, start, end), *extra])
    windows = _subtract(windows, closed)
    return [(max(s, start), min(e, end)) for s, e in windows if e > start and s < end]


@dataclass(frozen=True)
class Refusal:
    """Why a time range is not open: ``code`` for machines, the closure's reason if any."""

    code: str  # "closed" (a closure covers part of it) or "outside_hours"
    reason: str = ""


def refusal(
    rules: Sequence[OpeningRule],
    exceptions: Sequence[AvailabilityException],
    start: dt.datetime,
    end: dt.datetime,
) -> Refusal | None:
    """None when one open window covers all of ``[start, end)``; otherwise why not."""
    for window_start, window_end in open_windows(rules, exceptions, start, end):
        if window_start <= start and window_end >= end:
            return None
    for exception in exceptions:
        if (
            exception.kind == AvailabilityException.Kind.CLOSED
            and exception.starts_at < end
            and exception.ends_at > start
        ):
            return Refusal("closed", exception.reason)
    return Refusal("outside_hours")
