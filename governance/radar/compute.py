"""Computing one month of the radar into its stored results.

Four parts, each a bounded amount of work whatever the volume:

- **Demand heatmap**: one grouped query over the month's visits (station × service × weekday ×
  hour, in Asia/Shanghai), so the database does the counting.
- **Reasons**: each registered reason source counts its month in a few grouped queries.
- **Themes**: the texts of every registered source are streamed in chunks (``iterator``), cut
  into terms (``governance.radar.text``) and counted per scope (all stations, and each
  station). Memory is bounded by lossy counting: when more than ``MAX_TRACKED`` terms are
  tracked, those seen only ``floor`` times so far are dropped and the floor rises (a dropped
  term can come back, counted from then on; what reaches the top is never a term that was
  dropped more than ``floor`` times short). Each tracked term keeps at most
  ``ITEMS_PER_THEME`` of its texts.
- **Unmet demand**: terms that name a catalogue service the station does not offer, and the
  month's searches that found nothing.

Growth is measured against the three months before, from their stored term counts
(``TermCount``), so a month is read once, not four times. ``compute_month`` computes those
months first when they have never been computed.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import resource
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Count, DurationField, ExpressionWrapper, F, Max, Sum
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay
from django.utils import timezone

from governance.radar import registry
from governance.radar.models import (
    HeatCell,
    ReasonCount,
    Run,
    SearchMiss,
    TermCount,
    Theme,
    ThemeItem,
    UnmetDemand,
)
from governance.radar.text import Segmenter, normalise_query

TZ = ZoneInfo("Asia/Shanghai")

CHUNK = 2_000  # rows fetched per round trip when streaming texts
MAX_TRACKED = 200_000  # terms tracked at once, all scopes together
ITEMS_PER_THEME = 20  # texts kept per theme, for its page
MAX_STORED_TERMS = 5_000  # term counts kept per scope and month, for later months' growth
MIN_THEME_TEXTS = 3  # a theme is raised by at least this many texts in its month
THEMES_PER_SCOPE = 30
UNMET_PER_SCOPE = 30
HISTORY_MONTHS = 3
ALL = None  # the scope of every station together


# Months ------------------------------------------------------------------------------------
def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(month: dt.date, months: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """``[start, end)`` of ``month`` in Asia/Shanghai."""
    start = dt.datetime.combine(month, dt.time(0), TZ)
    return start, dt.datetime.combine(add_months(month, 1), dt.time(0), TZ)


def weekday_days(month: dt.date) -> list[int]:
    """How many Mondays … Sundays ``month`` has (index 0 is Monday)."""
    days = [0] * 7
    for day in range(1, calendar.monthrange(month.year, month.month)[1] + 1):
        days[dt.date(month.year, month.month, day).weekday()] += 1
    return days


def current_month() -> dt.date:
    return month_of(timezone.localdate(timezone=TZ))


# The heatmap -------------------------------------------------------------------------------
def heat_cells(month: dt.date) -> list[HeatCell]:
    from governance.stations.models import Visit

    start, end = month_bounds(month)
    wait = ExpressionWrapper(F("called_at") - F("arrived_at"), output_field=DurationField())
    rows = (
        Visit.objects.filter(arrived_at__gte=start, arrived_at__lt=end)
        .annotate(
            weekday=ExtractIsoWeekDay("arrived_at", tzinfo=TZ),
            hour=ExtractHour("arrived_at", tzinfo=TZ),
        )
        .values("station_id", "service_id", "weekday", "hour")
        .annotate(
            visits=Count("pk"),
            called=Count("called_at"),
            wait=Sum(wait),
            max_wait=Max(wait),
        )
        .order_by()
    )
    days = weekday_days(month)
    cells = []
    for row in rows:
        weekday = row["weekday"] - 1
        cells.append(
            HeatCell(
                month=month,
                station_id=row["station_id"],
                service_id=row["service_id"],
                weekday=weekday,
                hour=row["hour"],
                visits=row["visits"],
                called=row["called"],
                wait_minutes=_minutes(row["wait"]),
                max_wait_minutes=_minutes(row["max_wait"]),
                days=days[weekday],
            )
        )
    return cells


def _minutes(value) -> float:
    if value is None:
        return 0.0
    if isinstance(value, dt.timedelta):
        return max(value.total_seconds() / 60, 0.0)
    return max(float(value) / 60_000_000, 0.0)  # microseconds, where a backend returns those


# Reasons -----------------------------------------------------------------------------------
def reason_counts(month: dt.date) -> list[ReasonCount]:
    start, end = month_bounds(month)
    totals: Counter = Counter()
    for source in registry.reason_sources():
        for row in source.count(start, end):
            key = (source.code, row.reason, row.station_id, row.service_id, row.department_id)
            totals[key] += row.count
    return [
        ReasonCount(
            month=month,
            source=source,
            reason=reason,
            station_id=station,
            service_id=service,
            department_id=department,
            count=count,
        )
        for (source, reason, station, service, department), count in totals.items()
        if count
    ]


# Themes ------------------------------------------------------------------------------------
@dataclass
class TermCounter:
    """Texts per (scope, term), with lossy-count pruning and a few texts kept per term."""

    max_tracked: int = MAX_TRACKED
    items_per_term: int = ITEMS_PER_THEME
    counts: Counter = field(default_factory=Counter)
    items: dict = field(default_factory=dict)
    floor: int = 0
    pruned: int = 0

    def add(self, scope, term: str, item: tuple[str, int]) -> None:
        key = (scope, term)
        self.counts[key] += 1
        kept = self.items.get(key)
        if kept is None:
            self.items[key] = [item]
        elif len(kept) < self.items_per_term:
            kept.append(item)

    def prune_if_full(self) -> None:
        while len(self.counts) > self.max_tracked:
            self.floor += 1
            for key in [key for key, count in self.counts.items() if count <= self.floor]:
                del self.counts[key]
                self.items.pop(key, None)
                self.pruned += 1

    def by_scope(self) -> dict:
        scopes: dict = defaultdict(dict)
        for (scope, term), count in self.counts.items():
            scopes[scope][term] = count
        return scopes


def service_terms() -> tuple[dict[str, int], dict[int, set[int]]]:
    """The terms that name a catalogue service (its names and keywords, normalised) → its id,
    and each service's stations."""
    from governance.stations.models import Service

    names: dict[str, int] = {}
    stations: dict[int, set[int]] = defaultdict(set)
    services = Service.objects.filter(is_active=True).prefetch_related("stations")
    for service in services.only("pk", "name_zh", "name_en", "keywords"):
        words = [service.name_zh, service.name_en, *service.keywords.replace("；", ";").split(";")]
        for word in words:
            term = normalise_query(word)
            if len(term) >= 2:
                names.setdefault(term, service.pk)
        stations[service.pk] = {station.pk for station in service.stations.all()}
    return names, stations


def count_texts(
    month: dt.date, segmenter: Segmenter, counter: TermCounter | None = None
) -> tuple[TermCounter, int]:
    """Stream every registered text source's rows of ``month`` into a :class:`TermCounter`."""
    counter = counter or TermCounter()
    start, end = month_bounds(month)
    texts = 0
    for source in registry.text_sources():
        model = source.model_class()
        columns = ["pk", source.station or "pk", *source.fields]
        rows = (
            model._default_manager.filter(source.eligible)
            .filter(**{f"{source.created}__gte": start, f"{source.created}__lt": end})
            .order_by()
            .values_list(*columns)
            .iterator(chunk_size=CHUNK)
        )
        for pk, station, *values in rows:
            station = station if source.station else None
            text = "\n".join(value for value in values if value)
            item = (source.code, pk)
            for term in segmenter.terms(text):
                counter.add(ALL, term, item)
                if station is not None:
                    counter.add(station, term, item)
            texts += 1
            if texts % CHUNK == 0:
                counter.prune_if_full()
    counter.prune_if_full()
    return counter, texts


def baselines(month: dt.date) -> dict:
    """(scope, term) → mean texts per month over the ``HISTORY_MONTHS`` months before."""
    months = [add_months(month, -back) for back in range(1, HISTORY_MONTHS + 1)]
    totals: Counter = Counter()
    for station, term, count in TermCount.objects.filter(month__in=months).values_list(
        "station_id", "term", "count"
    ):
        totals[(station, term)] += count
    return {key: total / HISTORY_MONTHS for key, total in totals.items()}


def _subsumed(term: str, kept: list[tuple[str, int]], count: int) -> bool:
    """A word already carried by a longer theme raised by nearly the same texts."""
    return any(
        term in other and other != term and other_count >= 0.8 * count
        for other, other_count in kept
    )


def rank_themes(month: dt.date, scope, counts: dict[str, int], base: dict) -> list[Theme]:
    scored = []
    for term, count in counts.items():
        if count < MIN_THEME_TEXTS:
            continue
        baseline = base.get((scope, term), 0.0)
        # How far above its usual level, in standard deviations of a Poisson count: growth
        # that a handful of texts cannot fake, and that a steady big theme does not win.
        score = (count - baseline) / math.sqrt(baseline + 1)
        if score <= 0:
            continue
        scored.append((score, count, term, baseline))
    scored.sort(key=lambda row: (-row[0], -row[1], row[2]))
    kept: list[tuple[str, int]] = []
    themes = []
    for _score, count, term, baseline in scored:
        if _subsumed(term, kept, count):
            continue
        kept.append((term, count))
        themes.append(
            Theme(
                month=month,
                station_id=scope,
                term=term,
                rank=len(themes) + 1,
                count=count,
                baseline=round(baseline, 2),
                growth=round(count / max(baseline, 1.0), 2),
            )
        )
        if len(themes) == THEMES_PER_SCOPE:
            break
    return themes


def stored_term_counts(month: dt.date, scopes: dict) -> list[TermCount]:
    rows = []
    for scope, counts in scopes.items():
        frequent = [(count, term) for term, count in counts.items() if count >= 2]
        frequent.sort(key=lambda row: (-row[0], row[1]))
        rows += [
            TermCount(month=month, station_id=scope, term=term, count=count)
            for count, term in frequent[:MAX_STORED_TERMS]
        ]
    return rows


# Unmet demand ------------------------------------------------------------------------------
def _entry(service: int | None, *, mentions: int = 0, sources: Counter | None = None) -> dict:
    return {
        "service": service,
        "mentions": mentions,
        "searches": 0,
        "sources": sources or Counter(),
    }


def unmet_demand(month: dt.date, scopes: dict, counter: TermCounter) -> tuple[list, int]:
    names, offered_at = service_terms()
    start, end = month.replace(day=1), add_months(month, 1)
    misses: dict = defaultdict(Counter)
    searches = 0
    for station, term, count in SearchMiss.objects.filter(day__gte=start, day__lt=end).values_list(
        "station_id", "term", "count"
    ):
        searches += count
        misses[ALL][term] += count
        if station is not None:
            misses[station][term] += count
    rows = []
    for scope in set(scopes) | set(misses):
        wanted: dict[str, dict] = {}
        for term, count in scopes.get(scope, {}).items():
            service = names.get(term)
            if service is None:
                continue
            offered = offered_at.get(service, set())
            if (scope is ALL and offered) or (scope is not ALL and scope in offered):
                continue
            sources = Counter(source for source, _pk in counter.items.get((scope, term), []))
            wanted[term] = {
                "service": service,
                "mentions": count,
                "searches": 0,
                "sources": sources,
            }
        for term, count in misses.get(scope, {}).items():
            entry = wanted.setdefault(
                term,
                {"service": names.get(term), "mentions": 0, "searches": 0, "sources": Counter()},
            )
            if (
                entry["service"] is not None
                and scope is not ALL
                and scope in offered_at.get(entry["service"], set())
            ):
                continue
            entry["searches"] += count
        ranked = sorted(
            wanted.items(), key=lambda pair: (-(pair[1]["mentions"] + pair[1]["searches"]), pair[0])
        )
        for rank, (term, entry) in enumerate(ranked[:UNMET_PER_SCOPE], start=1):
            rows.append(
                UnmetDemand(
                    month=month,
                    station_id=scope,
                    term=term,
                    service_id=entry["service"],
                    rank=rank,
                    mentions=entry["mentions"],
                    searches=entry["searches"],
                    total=entry["mentions"] + entry["searches"],
                    sources=dict(entry["sources"]),
                )
            )
    return rows, searches


# One month ---------------------------------------------------------------------------------
def compute_month(month: dt.date, *, segmenter: Segmenter | None = None) -> Run:
    """Compute ``month`` (any day of it) and replace its stored results, in one transaction."""
    month = month_of(month)
    began = time.monotonic()
    Run.objects.update_or_create(
        month=month,
        defaults={"status": Run.Status.RUNNING, "started_at": timezone.now(), "error": ""},
    )
    try:
        if segmenter is None:
            names, _offered = service_terms()
            segmenter = Segmenter(extra_words=names)
        cells = heat_cells(month)
        reasons = reason_counts(month)
        counter, texts = count_texts(month, segmenter)
        scopes = counter.by_scope()
        base = baselines(month)
        themes = {
            scope: rank_themes(month, scope, counts, base) for scope, counts in scopes.items()
        }
        term_rows = stored_term_counts(month, scopes)
        unmet, searches = unmet_demand(month, scopes, counter)
    except Exception as error:
        Run.objects.filter(month=month).update(
            status=Run.Status.FAILED, finished_at=timezone.now(), error=repr(error)[:500]
        )
        raise
    with transaction.atomic():
        for model in (HeatCell, ReasonCount, TermCount, Theme, UnmetDemand):
            model.objects.filter(month=month).delete()
        HeatCell.objects.bulk_create(cells, batch_size=1000)
        ReasonCount.objects.bulk_create(reasons, batch_size=1000)
        TermCount.objects.bulk_create(term_rows, batch_size=1000)
        items = []
        for scope, ranked in themes.items():
            for theme in ranked:
                kept = counter.items.get((scope, theme.term), [])
                theme.sources = dict(Counter(source for source, _pk in kept))
        created = Theme.objects.bulk_create(
            [theme for ranked in themes.values() for theme in ranked], batch_size=1000
        )
        for theme in created:
            for source, pk in dict.fromkeys(counter.items.get((theme.station_id, theme.term), [])):
                items.append(ThemeItem(theme=theme, source=source, object_id=pk))
        ThemeItem.objects.bulk_create(items, batch_size=1000)
        UnmetDemand.objects.bulk_create(unmet, batch_size=1000)
        run = Run.objects.select_for_update().get(month=month)
        run.status = Run.Status.DONE
        run.finished_at = timezone.now()
        run.visits = sum(cell.visits for cell in cells)
        run.texts = texts
        run.reasons = sum(row.count for row in reasons)
        run.searches = searches
        run.seconds = round(time.monotonic() - began, 3)
        run.peak_memory_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        run.save()
    return run


def compute(month: dt.date | None = None, *, history: int = HISTORY_MONTHS) -> list[Run]:
    """Compute ``month`` (the current one by default), and first the ``history`` months
    before it that were never computed, so its growth has something to stand on."""
    month = month_of(month or current_month())
    earlier = [add_months(month, -back) for back in range(history, 0, -1)]
    done = set(
        Run.objects.filter(month__in=earlier, status=Run.Status.DONE).values_list(
            "month", flat=True
        )
    )
    names, _offered = service_terms()
    segmenter = Segmenter(extra_words=names)
    runs = [compute_month(past, segmenter=segmenter) for past in earlier if past not in done]
    runs.append(compute_month(month, segmenter=segmenter))
    return runs
