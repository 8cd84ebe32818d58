"""SLA clocks in Chinese working days and working hours.

The calendar
    Which days are worked comes from the ``chinesecalendar`` package (``chinese_calendar``),
    which carries the State Council's yearly schedule: the statutory holidays and the weekend
    days made working days (调休). Version 1.11.0 (released November 2025) knows 2004–2026.
    The State Council publishes the next year's schedule each autumn and the package follows;
    upgrading the package is how a new year arrives, nothing is written by hand here.

A year the package does not know yet
    The clocks do not stop the platform: opening a case at the end of December must work even
    when the package has not caught up. For a day in an unknown year a day counts as a
    working day when it is Monday to Friday, a warning is logged (once per year and process),
    and the result says it was estimated (``Due.estimated``; the case keeps it in
    ``Case.due_estimated``), so pages can say "estimated" and nobody mistakes the guess for the
    official schedule. ``CASES_SLA_UNKNOWN_YEAR = "error"`` makes it fail loudly instead
    (:class:`CalendarNotCovered`), e.g. for a deployment that would rather refuse.

Working hours
    ``CASES_WORKING_HOURS`` (default ``[("09:00", "12:00"), ("13:30", "17:30")]``, Asia/Shanghai,
    seven hours a day): the opening hours of government service halls, lunch break included.
    "Acknowledge within N working hours" adds N hours of those periods on working days.

Working days
    "Resolve within N working days" ends at the close of the N-th working day after the day the
    case was opened (the day of receipt does not count, as in the statutory time limits for
    administrative matters), whatever the hour it was opened.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
from dataclasses import dataclass

import chinese_calendar
from django.conf import settings

from governance.kpis.registry import TZ

logger = logging.getLogger(__name__)

DEFAULT_WORKING_HOURS = (("09:00", "12:00"), ("13:30", "17:30"))
# A generous bound: no SLA asks for more than a year of working days.
MAX_DAYS_SCANNED = 800

_warned_years: set[int] = set()


class CalendarNotCovered(RuntimeError):
    """The calendar package has no schedule for the year, and estimating is switched off."""


@dataclass(frozen=True)
class Due:
    at: dt.datetime
    # Counted over at least one day of a year the calendar package does not know.
    estimated: bool = False


def working_periods() -> list[tuple[dt.time, dt.time]]:
    """The day's working periods from ``CASES_WORKING_HOURS``, in order."""
    periods = []
    for start, end in getattr(settings, "CASES_WORKING_HOURS", DEFAULT_WORKING_HOURS):
        periods.append((dt.time.fromisoformat(start), dt.time.fromisoformat(end)))
    periods.sort()
    for (_start, end), (next_start, _end) in itertools.pairwise(periods):
        if next_start < end:
            raise ValueError("CASES_WORKING_HOURS periods overlap")
    if not periods or any(end <= start for start, end in periods):
        raise ValueError("CASES_WORKING_HOURS needs periods that end after they start")
    return periods


def is_working_day(day: dt.date) -> tuple[bool, bool]:
    """Whether ``day`` is worked, and whether that answer is an estimate (unknown year)."""
    try:
        return chinese_calendar.is_workday(day), False
    except NotImplementedError:
        if getattr(settings, "CASES_SLA_UNKNOWN_YEAR", "weekdays") == "error":
            raise CalendarNotCovered(
                f"chinesecalendar has no schedule for {day.year}; upgrade the package"
            ) from None
        if day.year not in _warned_years:
            _warned_years.add(day.year)
            logger.warning(
                "chinesecalendar %s has no schedule for %s: SLA clocks count Monday to Friday "
                "as working days until the package is upgraded",
                _package_version(),
                day.year,
            )
        return day.weekday() < 5, True


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("chinesecalendar")
    except PackageNotFoundError:  # pragma: no cover
        return "?"


def _local(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValueError("SLA clocks need an aware datetime")
    return moment.astimezone(TZ)


def add_working_hours(start: dt.datetime, hours: float) -> Due:
    """The moment ``hours`` of working time after ``start`` (Asia/Shanghai working periods).

    Time outside the working periods, and on days off, does not count: a case opened on Friday
    at 17:00 with four working hours to go is due on Monday at 12:30 (if Monday is worked).
    """
    if hours <= 0:
        raise ValueError("hours must be positive")
    periods = working_periods()
    local = _local(start)
    remaining = dt.timedelta(hours=hours)
    estimated = False
    day = local.date()
    for _ in range(MAX_DAYS_SCANNED):
        working, guessed = is_working_day(day)
        estimated |= guessed
        if working:
            for opens, closes in periods:
                period_start = dt.datetime.combine(day, opens, tzinfo=TZ)
                period_end = dt.datetime.combine(day, closes, tzinfo=TZ)
                begin = max(period_start, local)
                if begin >= period_end:
                    continue
                available = period_end - begin
                if remaining <= available:
                    return Due(at=begin + remaining, estimated=estimated)
                remaining -= available
        day += dt.timedelta(days=1)
    raise ValueError(f"no working time found within {MAX_DAYS_SCANNED} days")  # pragma: no cover


def add_working_days(start: dt.datetime, days: int) -> Due:
    """The close of the ``days``-th working day after the day of ``start`` (local)."""
    if days <= 0:
        raise ValueError("days must be positive")
    closes = working_periods()[-1][1]
    day = _local(start).date()
    counted = 0
    estimated = False
    for _ in range(MAX_DAYS_SCANNED):
        day += dt.timedelta(days=1)
        working, guessed = is_working_day(day)
        estimated |= guessed
        if working:
            counted += 1
            if counted == days:
                return Due(at=dt.datetime.combine(day, closes, tzinfo=TZ), estimated=estimated)
    raise ValueError(f"no {days} working days within {MAX_DAYS_SCANNED} days")  # pragma: no cover


# Policies ---------------------------------------------------------------------------------------
# When no SlaPolicy row applies (not even a platform default): acknowledge within N working
# hours, resolve within N working days, by priority.
BUILT_IN = {
    "urgent": (2, 1),
    "high": (4, 3),
    "normal": (8, 5),
    "low": (16, 10),
}


@dataclass(frozen=True)
class Clock:
    """A case's SLA: the policy it came from (``None`` for the built-in one) and due times."""

    policy_id: int | None
    acknowledge_hours: int
    resolve_days: int
    acknowledge_due_at: dt.datetime
    resolve_due_at: dt.datetime
    estimated: bool


def policy_for(*, service_id: int | None, category_id: int | None, priority: str):
    """The most specific policy in one query: the service's (or category's) for the priority,
    then for every priority, then the platform default for the priority, then for every one."""
    from django.db.models import Q

    from governance.cases.models import SlaPolicy

    scope = Q(service__isnull=True, category__isnull=True)
    if service_id:
        scope |= Q(service_id=service_id)
    if category_id:
        scope |= Q(category_id=category_id)
    candidates = SlaPolicy.objects.filter(scope, Q(priority=priority) | Q(priority=""))

    def rank(policy) -> tuple[int, int]:
        specific = 0 if policy.service_id else 1 if policy.category_id else 2
        return specific, 0 if policy.priority else 1

    return min(candidates, key=rank, default=None)


def clock_for(
    *, opened_at: dt.datetime, service_id: int | None, category_id: int | None, priority: str
) -> Clock:
    policy = policy_for(service_id=service_id, category_id=category_id, priority=priority)
    if policy is not None:
        hours, days = policy.acknowledge_hours, policy.resolve_days
    else:
        hours, days = BUILT_IN[priority]
    acknowledge = add_working_hours(opened_at, hours)
    resolve = add_working_days(opened_at, days)
    return Clock(
        policy_id=policy.pk if policy else None,
        acknowledge_hours=hours,
        resolve_days=days,
        acknowledge_due_at=acknowledge.at,
        resolve_due_at=resolve.at,
        estimated=acknowledge.estimated or resolve.estimated,
    )
