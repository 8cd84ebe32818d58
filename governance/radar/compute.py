"""Computing one month of the radar into its stored results.

Four parts, each a bounded amount of work whatever the volume:

- **Demand heatmap**: the month's visits are streamed (``iterator``) into cells of station ×
  service × weekday × hour (Asia/Shanghai): arrivals and their waits in the hour they took a
  ticket, and the waiting itself spread over the hours it lasted, so the mean queue of an hour
  (Little's law) counts everyone who was waiting then. Averages are over the days of the month
  that had passed (``Run.through``): a month under way is not diluted by days to come.
- **Reasons**: each registered reason source counts its month in a few grouped queries.
- **Themes**: the texts of every registered source are streamed in chunks, cut into terms
  (``governance.radar.text``) and counted per scope (all stations, and each station), once per
  text. Memory is bounded by lossy counting (Manku and Motwani, 2002) with buckets of
  ``BUCKET_TEXTS`` texts: at each bucket's end a term whose count plus its possible undercount
  is no more than the number of buckets so far is dropped. Every term met in more than one
  text in ``BUCKET_TEXTS`` is kept, wherever in the month it rises, and no count is short by
  more than that; the terms tracked at once stay within a few buckets' worth of terms,
  whatever the number of texts. Each tracked term keeps at most ``ITEMS_PER_THEME`` texts.
- **Unmet demand**: terms that name a catalogue service that no station of the scope offers,
  and the month's searches that found nothing.

Growth is measured against the three months before, from their stored term counts
(``TermCount``), so a month is read once, not four times; a term a month did not keep counts
as half that month's cut-off (``Run.term_cutoff``). ``compute`` computes those months first
when they have never been computed.
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
from governance.radar.text import HAN, Segmenter, normalise_query

TZ = ZoneInfo("Asia/Shanghai")

CHUNK = 2_000  # rows fetched per round trip when streaming
BUCKET_TEXTS = 2_000  # lossy counting's bucket: a term rarer than 1 in this many may drop
ITEMS_PER_THEME = 20  # texts kept per theme, for its page
MAX_STORED_TERMS = 20_000  # term counts kept per scope and month, for later months' growth
MIN_THEME_TEXTS = 3  # a theme is raised by at least this many texts in its month
MIN_UNMET = 2  # texts and searchers asking for something before it is listed as unmet
MAX_WAIT = dt.timedelta(hours=12)  # a longer "wait" is a record never closed, not a wait
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


def last_day(month: dt.date) -> dt.date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def weekday_days(month: dt.date, through: dt.date | None = None) -> list[int]:
    """How many Mondays … Sundays ``month`` has (index 0 is Monday), up to ``through``."""
    final = last_day(month) if through is None else min(through, last_day(month))
    days = [0] * 7
    for day in range(1, final.day + 1 if final >= month else 1):
        days[dt.date(month.year, month.month, day).weekday()] += 1
    return days


def today() -> dt.date:
    return timezone.localdate(timezone=TZ)


def current_month() -> dt.date:
    return month_of(today())


def through_of(month: dt.date, *, on: dt.date | None = None) -> dt.date:
    """The last day of ``month`` that has passed (or is under way) on ``on``."""
    return min(last_day(month), on or today())


def elapsed_share(month: dt.date, through: dt.date) -> float:
    """The share of ``month`` that had passed by the end of ``through``."""
    return max(min((through - month).days + 1, last_day(month).day), 1) / last_day(month).day


# The heatmap -------------------------------------------------------------------------------
@dataclass
class _Cell:
    visits: int = 0
    called: int = 0
    wait: float = 0.0  # minutes
    max_wait: float = 0.0
    queue: float = 0.0  # minutes of waiting that fell in the hour


def _local(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(TZ)


def heat_cells(month: dt.date, through: dt.date | None = None) -> list[HeatCell]:
    """The month's cells, from one streamed read of its visits (and of those that arrived
    before it but were still waiting when it began)."""
    from governance.stations.models import Visit

    start, end = month_bounds(month)
    through = through or through_of(month)
    cells: dict[tuple, _Cell] = defaultdict(_Cell)
    rows = (
        Visit.objects.filter(arrived_at__gte=start - MAX_WAIT, arrived_at__lt=end)
        .order_by()
        .values_list("station_id", "service_id", "arrived_at", "called_at", "finished_at")
        .iterator(chunk_size=CHUNK)
    )
    for station, service, arrived, called, finished in rows:
        if arrived >= start:
            local = _local(arrived)
            cell = cells[(station, service, local.weekday(), local.hour)]
            cell.visits += 1
            if called is not None:
                minutes = max((called - arrived).total_seconds() / 60, 0.0)
                cell.called += 1
                cell.wait += minutes
                cell.max_wait = max(cell.max_wait, minutes)
        # Waiting from the ticket to the call; someone never called waited until they left.
        left = called or finished
        if left is None or left <= arrived or left - arrived > MAX_WAIT:
            continue
        moment, stop = max(arrived, start), min(left, end)
        while moment < stop:
            local = _local(moment)
            hour_end = local.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
            step_end = min(stop, hour_end.astimezone(moment.tzinfo))
            key = (station, service, local.weekday(), local.hour)
            cells[key].queue += (step_end - moment).total_seconds() / 60
            moment = step_end
    days = weekday_days(month, through)
    return [
        HeatCell(
            month=month,
            station_id=station,
            service_id=service,
            weekday=weekday,
            hour=hour,
            visits=cell.visits,
            called=cell.called,
            wait_minutes=round(cell.wait, 3),
            max_wait_minutes=round(cell.max_wait, 3),
            queue_minutes=round(cell.queue, 3),
            days=days[weekday],
        )
        for (station, service, weekday, hour), cell in cells.items()
    ]


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
    """Texts per (scope, term) by lossy counting, with each term's texts per source and a few
    of its texts kept.

    ``counts[key]`` is ``[count, undercount]``: the texts counted since the term was (last)
    tracked, and how many it may have had before (the bucket it came in at, less one). At each
    bucket's end, terms with ``count + undercount <= bucket`` are dropped.
    """

    bucket_texts: int = BUCKET_TEXTS
    items_per_term: int = ITEMS_PER_THEME
    counts: dict = field(default_factory=dict)
    sources: dict = field(default_factory=dict)
    items: dict = field(default_factory=dict)
    texts: int = 0
    pruned: int = 0
    peak: int = 0  # the most (scope, term) pairs tracked at once

    @property
    def bucket(self) -> int:
        """The bucket under way (the first is 1)."""
        return self.texts // self.bucket_texts + 1

    @property
    def floor(self) -> int:
        """The most a count may fall short by, and the most texts a dropped term can have."""
        return self.texts // self.bucket_texts

    def add_text(self, keys, item: tuple[str, int]) -> None:
        """One text, raising every (scope, term) of ``keys`` once."""
        source = item[0]
        undercount = self.bucket - 1
        for key in keys:
            entry = self.counts.get(key)
            if entry is None:
                self.counts[key] = [1, undercount]
                self.sources[key] = {source: 1}
                self.items[key] = [item]
                continue
            entry[0] += 1
            per_source = self.sources[key]
            per_source[source] = per_source.get(source, 0) + 1
            kept = self.items[key]
            if len(kept) < self.items_per_term:
                kept.append(item)
        self.texts += 1
        if self.texts % self.bucket_texts == 0:
            self.peak = max(self.peak, len(self.counts))
            self._prune(self.texts // self.bucket_texts)

    def _prune(self, bucket: int) -> None:
        for key in [key for key, (count, under) in self.counts.items() if count + under <= bucket]:
            del self.counts[key]
            del self.sources[key]
            del self.items[key]
            self.pruned += 1

    def by_scope(self) -> dict:
        self.peak = max(self.peak, len(self.counts))
        scopes: dict = defaultdict(dict)
        for (scope, term), (count, _under) in self.counts.items():
            scopes[scope][term] = count
        return scopes


def service_terms(segmenter: Segmenter | None = None) -> tuple[dict[str, set[int]], dict]:
    """The terms that name a catalogue service → the services they name, and each service's
    stations. A name or keyword is taken as typed (for searches) and as the texts' own term
    for it (for themes: ``ID cards`` → ``id card``, as an English text's pair is counted)."""
    from governance.stations.models import Service

    names: dict[str, set[int]] = defaultdict(set)
    stations: dict[int, set[int]] = {}
    services = Service.objects.filter(is_active=True).prefetch_related("stations")
    for service in services.only("pk", "name_zh", "name_en", "keywords"):
        keywords = service.keywords.replace("；", ";").replace(";", " ").split()
        for word in (service.name_zh, service.name_en, *keywords):
            for term in (normalise_query(word), _as_term(segmenter, word)):
                if term and len(term) >= 2:
                    names[term].add(service.pk)
        stations[service.pk] = {station.pk for station in service.stations.all()}
    return dict(names), stations


def _as_term(segmenter: Segmenter | None, name: str) -> str:
    """``name`` as a text's term: its one content word, or its two as a pair; "" if longer."""
    if segmenter is None:
        return ""
    words = [word for word in segmenter.words_of(name) if word]
    if len(words) == 1:
        return words[0]
    if len(words) == 2:
        return _pair(*words)
    return ""


def _pair(first: str, second: str) -> str:
    if HAN.match(first[-1]) and HAN.match(second[0]):
        return first + second
    return f"{first} {second}"


def segmenter_for_catalogue() -> Segmenter:
    """A segmenter that keeps each catalogue service's names and keywords whole."""
    names, _stations = service_terms()
    return Segmenter(extra_words=names)


def count_texts(
    month: dt.date, segmenter: Segmenter, counter: TermCounter | None = None
) -> tuple[TermCounter, int]:
    """Stream every registered text source's rows of ``month`` into a :class:`TermCounter`."""
    # The limits are read now, not when the class was defined, so a caller (a test, the
    # benchmark) may change them.
    counter = counter or TermCounter(bucket_texts=BUCKET_TEXTS, items_per_term=ITEMS_PER_THEME)
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
            terms = segmenter.terms("\n".join(value for value in values if value))
            keys = [(ALL, term) for term in terms]
            if station is not None:
                keys += [(station, term) for term in terms]
            counter.add_text(keys, (source.code, pk))
            texts += 1
    return counter, texts


def baselines(month: dt.date, *, share: float = 1.0) -> dict:
    """(scope, term) → mean texts per month over the ``HISTORY_MONTHS`` months before, times
    ``share`` (the part of this month that has passed). A term a month did not keep counts
    as half that month's cut-off (it had fewer texts than the terms kept); under the key
    ``(scope, None)``, that default for any term not listed."""
    months = [add_months(month, -back) for back in range(1, HISTORY_MONTHS + 1)]
    cutoffs = dict(Run.objects.filter(month__in=months).values_list("month", "term_cutoff"))
    missing = sum(cutoffs.get(past, 0) / 2 for past in months)
    totals: Counter = Counter()
    seen: dict = defaultdict(set)
    for past, station, term, count in TermCount.objects.filter(month__in=months).values_list(
        "month", "station_id", "term", "count"
    ):
        totals[(station, term)] += count
        seen[(station, term)].add(past)
    base = {
        key: (total + sum(cutoffs.get(past, 0) / 2 for past in months if past not in seen[key]))
        / HISTORY_MONTHS
        * share
        for key, total in totals.items()
    }
    base["default"] = missing / HISTORY_MONTHS * share
    return base


def _parts(term: str) -> set[str]:
    """The shorter terms ``term`` holds: its words, and the runs of Chinese characters of two
    or more characters inside a Chinese word (``周末办证`` holds ``周末``, ``办证``…)."""
    words = term.split(" ")
    parts = set(words) if len(words) > 1 else set()
    for word in words:
        if HAN.match(word):
            parts.update(
                word[start:end]
                for start in range(len(word) - 1)
                for end in range(start + 2, len(word) + 1)
            )
    parts.discard(term)
    return parts


def _subsumed(candidates: dict[str, int]) -> set[str]:
    """The terms carried by a longer candidate raised by nearly the same texts (a word and its
    pair: ``办证`` inside ``周末办证``), whichever of the two ranks higher."""
    dropped = set()
    for longer, count in candidates.items():
        for part in _parts(longer):
            shorter = candidates.get(part)
            if shorter is not None and count >= 0.8 * shorter:
                dropped.add(part)
    return dropped


def rank_themes(month: dt.date, scope, counts: dict[str, int], base: dict) -> list[Theme]:
    """The scope's rising themes: terms of at least ``MIN_THEME_TEXTS`` texts, ranked by how
    far above their usual level they stand, in standard deviations of a Poisson count (growth
    that a handful of texts cannot fake, and that a steady big theme does not win); a word that
    a higher pair carries (``办证`` in ``周末办证``) gives way to it."""
    default = base.get("default", 0.0)
    scored = []
    for term, count in counts.items():
        if count < MIN_THEME_TEXTS:
            continue
        baseline = base.get((scope, term), default)
        score = (count - baseline) / math.sqrt(baseline + 1)
        if score <= 0:
            continue
        scored.append((score, count, term, baseline))
    dropped = _subsumed({term: count for _score, count, term, _baseline in scored})
    scored = [row for row in scored if row[2] not in dropped]
    scored.sort(key=lambda row: (-row[0], -row[1], row[2]))
    return [
        Theme(
            month=month,
            station_id=scope,
            term=term,
            rank=rank,
            count=count,
            score=round(score, 2),
            baseline=round(baseline, 2),
            growth=round(count / max(baseline, 1.0), 2),
        )
        for rank, (score, count, term, baseline) in enumerate(scored[:THEMES_PER_SCOPE], start=1)
    ]


def stored_term_counts(month: dt.date, scopes: dict) -> tuple[list[TermCount], int]:
    """The term counts kept for later months' growth (the most frequent
    ``MAX_STORED_TERMS`` per scope, a term met once included), and the cut-off: a term not
    kept had no more texts than that (0 when every term was kept)."""
    rows = []
    cutoff = 0
    for scope, counts in scopes.items():
        frequent = sorted(
            ((count, term) for term, count in counts.items()), key=lambda row: (-row[0], row[1])
        )
        if len(frequent) > MAX_STORED_TERMS:
            cutoff = max(cutoff, frequent[MAX_STORED_TERMS - 1][0])
        rows += [
            TermCount(month=month, station_id=scope, term=term, count=count)
            for count, term in frequent[:MAX_STORED_TERMS]
        ]
    return rows, cutoff


# Unmet demand ------------------------------------------------------------------------------
def unmet_demand(
    month: dt.date, scopes: dict, counter: TermCounter, names: dict, offered_at: dict
) -> tuple[list[UnmetDemand], int]:
    """Per scope: the terms that name catalogue services none of which the scope offers (for
    every station together: none offered anywhere), from the texts and the searches that
    found nothing; at least ``MIN_UNMET`` asks, most asked first."""
    start, end = month, add_months(month, 1)
    misses: dict = defaultdict(Counter)
    searches = 0
    for station, term, count in SearchMiss.objects.filter(day__gte=start, day__lt=end).values_list(
        "station_id", "term", "count"
    ):
        searches += count
        misses[ALL][term] += count
        if station is not None:
            misses[station][term] += count

    def unoffered(scope, services: set[int]) -> int | bool | None:
        """The first service of ``services`` the scope lacks, None for a term that names no
        service, False when the scope offers one of them."""
        if not services:
            return None
        for service in sorted(services):
            offered = offered_at.get(service, set())
            if (scope is ALL and offered) or (scope is not ALL and scope in offered):
                return False
        return min(services)

    rows = []
    for scope in set(scopes) | set(misses):
        wanted: dict[str, dict] = {}
        for term, count in scopes.get(scope, {}).items():
            service = unoffered(scope, names.get(term, set()))
            if not service:  # names no service, or one the scope offers
                continue
            wanted[term] = {
                "service": service,
                "mentions": count,
                "searches": 0,
                "sources": dict(counter.sources.get((scope, term), {})),
            }
        for term, count in misses.get(scope, {}).items():
            service = unoffered(scope, names.get(term, set()))
            if service is False:
                continue
            entry = wanted.setdefault(
                term, {"service": service, "mentions": 0, "searches": 0, "sources": {}}
            )
            entry["searches"] += count
        ranked = sorted(
            (
                (term, entry)
                for term, entry in wanted.items()
                if entry["mentions"] + entry["searches"] >= MIN_UNMET
            ),
            key=lambda pair: (-(pair[1]["mentions"] + pair[1]["searches"]), pair[0]),
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
                    sources=entry["sources"],
                )
            )
    return rows, searches


# One month ---------------------------------------------------------------------------------
def compute_month(
    month: dt.date, *, segmenter: Segmenter | None = None, on: dt.date | None = None
) -> Run:
    """Compute ``month`` (any day of it) as of ``on`` (today by default) and replace its
    stored results in one transaction: a failure leaves the previous results in place, and
    the Run says it failed."""
    month = month_of(month)
    began = time.monotonic()
    through = through_of(month, on=on)
    Run.objects.update_or_create(
        month=month,
        defaults={"status": Run.Status.RUNNING, "started_at": timezone.now(), "error": ""},
    )
    try:
        segmenter = segmenter or segmenter_for_catalogue()
        names, offered_at = service_terms(segmenter)
        cells = heat_cells(month, through)
        reasons = reason_counts(month)
        counter, texts = count_texts(month, segmenter)
        scopes = counter.by_scope()
        base = baselines(month, share=elapsed_share(month, through))
        themes = [
            theme
            for scope, counts in scopes.items()
            for theme in rank_themes(month, scope, counts, base)
        ]
        term_rows, cutoff = stored_term_counts(month, scopes)
        unmet, searches = unmet_demand(month, scopes, counter, names, offered_at)
        for theme in themes:
            theme.sources = dict(counter.sources.get((theme.station_id, theme.term), {}))
        with transaction.atomic():
            for model in (HeatCell, ReasonCount, TermCount, Theme, UnmetDemand):
                model.objects.filter(month=month).delete()
            HeatCell.objects.bulk_create(cells, batch_size=1000)
            ReasonCount.objects.bulk_create(reasons, batch_size=1000)
            TermCount.objects.bulk_create(term_rows, batch_size=1000)
            created = Theme.objects.bulk_create(themes, batch_size=1000)
            ThemeItem.objects.bulk_create(
                [
                    ThemeItem(theme=theme, source=source, object_id=pk)
                    for theme in created
                    for source, pk in dict.fromkeys(
                        counter.items.get((theme.station_id, theme.term), [])
                    )
                ],
                batch_size=1000,
            )
            UnmetDemand.objects.bulk_create(unmet, batch_size=1000)
            run = Run.objects.select_for_update().get(month=month)
            run.status = Run.Status.DONE
            run.finished_at = run.done_at = timezone.now()
            run.through = through
            run.visits = sum(cell.visits for cell in cells)
            run.texts = texts
            run.reasons = sum(row.count for row in reasons)
            run.searches = searches
            run.term_cutoff = max(cutoff, counter.floor)
            run.tracked_peak = counter.peak
            run.seconds = round(time.monotonic() - began, 3)
            run.peak_memory_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
            run.save()
    except Exception as error:
        # The Run row was written outside the transaction, so it says the month failed.
        Run.objects.filter(month=month).update(
            status=Run.Status.FAILED, finished_at=timezone.now(), error=repr(error)[:500]
        )
        raise
    return run


def compute(
    month: dt.date | None = None, *, history: int = HISTORY_MONTHS, on: dt.date | None = None
) -> list[Run]:
    """Compute ``month`` (the current one by default), and first the ``history`` months
    before it that have no stored results, so its growth has something to stand on."""
    month = month_of(month or month_of(on or today()))
    earlier = [add_months(month, -back) for back in range(history, 0, -1)]
    done = set(
        Run.objects.filter(month__in=earlier, done_at__isnull=False).values_list("month", flat=True)
    )
    segmenter = segmenter_for_catalogue()
    runs = [compute_month(past, segmenter=segmenter, on=on) for past in earlier if past not in done]
    runs.append(compute_month(month, segmenter=segmenter, on=on))
    return runs
