"""The radar finds what the known corpus (``tests/radar/corpus.py``) says it must: the rising
themes with their counts and baselines, in Chinese and English, not the steady one, each word
carried by its pair; the Saturday-afternoon exit-entry queue with its Little's-law figure; the
reasons a registered source counts; the unmet demand from another station's service and from
searches; months bounded in Asia/Shanghai; a month replaced as a whole, bounded memory, and a
failure that leaves the previous results in place."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from contextlib import contextmanager

import pytest
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from feedback import services as feedback_services
from feedback import tokens
from governance.cases.services import case_open
from governance.radar import compute, queries, registry
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
from governance.radar.services import radar_compute
from governance.radar.text import Segmenter
from governance.stations.models import Station, Visit
from tests.cases.factories import CategoryFactory as CaseCategoryFactory
from tests.factories import ServiceFactory, StationFactory
from tests.radar import corpus, helpers_tasks

pytestmark = pytest.mark.django_db

MONTH = corpus.MONTH
RESULTS = (HeatCell, ReasonCount, TermCount, Theme, UnmetDemand)


@contextmanager
def corpus_reasons():
    """The corpus's reason source, registered while the block runs."""
    saved = dict(registry._reason_sources)
    registry.register_reason_source(corpus.reason_source())
    try:
        yield registry.reason_source(corpus.REASON_SOURCE)
    finally:
        registry._reason_sources.clear()
        registry._reason_sources.update(saved)


@pytest.fixture(scope="class")
def october(django_db_setup, django_db_blocker):
    """The corpus, computed once for the class of read-only tests; rolled back after."""
    with corpus_reasons(), django_db_blocker.unblock(), transaction.atomic():
        world = corpus.build()
        runs = radar_compute(month=MONTH)
        yield world, runs
        transaction.set_rollback(True)


@pytest.fixture
def computed(october, db):
    return october


@pytest.fixture
def fresh(db):
    """The corpus computed for one test that changes what is stored."""
    with corpus_reasons():
        world = corpus.build()
        runs = radar_compute(month=MONTH)
        yield world, runs


def themes(month=MONTH, station=None) -> list[tuple[str, int, float]]:
    return list(
        Theme.objects.filter(month=month, station=station)
        .order_by("rank")
        .values_list("term", "count", "baseline")
    )


def items_of(world, titles) -> set[tuple[str, int]]:
    found = set()
    for title in titles:
        if title in world.cases:
            found.add(("cases", world.cases[title].pk))
        else:
            found.add(("proposals", world.proposals[title].pk))
    return found


def results() -> dict:
    return {model: model.objects.filter(month=MONTH).count() for model in RESULTS}


@pytest.mark.usefixtures("october")
class TestTheKnownOctober:
    """What the radar stored for the corpus, computed once for the class."""

    def test_computing_a_month_first_computes_the_three_before_it(self, computed):
        _world, runs = computed

        assert [run.month for run in runs] == [*corpus.HISTORY, MONTH]
        assert all(run.status == Run.Status.DONE for run in runs)
        october = runs[-1]
        assert october.texts == corpus.OCTOBER_TEXT_COUNT
        assert october.searches == 6  # 3 + 1 + 2 on October days; September's and November's not
        assert october.visits == 19  # 12 at the peak, 1 gone at 15:40, 4 Tuesdays, centre, 1st
        assert october.reasons == 3
        assert october.seconds >= 0
        assert october.peak_memory_mb > 0
        # October had passed when computed: every day counts; every term was kept.
        assert october.through == dt.date(2026, 10, 31)
        assert october.done_at is not None
        assert october.term_cutoff == 0
        assert october.tracked_peak == TermCount.objects.filter(month=MONTH).count()

    def test_the_rising_themes_are_ranked_with_their_counts_and_baselines(self, computed):
        assert themes() == list(corpus.THEMES)
        weekend = Theme.objects.get(month=MONTH, station=None, term="周末办证")
        assert weekend.rank == 1
        assert weekend.growth == 12.0  # 12 texts against one a month
        assert weekend.sources == {"proposals": 8, "cases": 4}

    def test_each_station_has_its_own_themes(self, computed):
        world, _runs = computed

        assert themes(station=world.mall) == list(corpus.MALL_THEMES)
        # The district centre has no text of its own.
        assert themes(station=world.centre) == []

    def test_an_english_theme_is_found_in_english_texts(self, computed):
        world, _runs = computed
        theme = Theme.objects.get(month=MONTH, station=None, term="weekend opening")

        assert (theme.rank, theme.count, theme.baseline, theme.growth) == (2, 5, 0.0, 5.0)
        assert theme.sources == {"proposals": 3, "cases": 2}
        english = [text.title for text in corpus.OCTOBER_TEXTS if "eekend opening" in text.title]
        assert set(theme.items.values_list("source", "object_id")) == items_of(world, english)

    def test_a_steady_theme_is_counted_but_never_ranked_as_rising(self, computed):
        assert TermCount.objects.get(month=MONTH, station=None, term=corpus.STEADY).count == 6
        october = {term for term, _count, _baseline in themes()}
        assert not october & {corpus.STEADY, "停车", "收费"}
        # July had no history: there, the same six texts were new.
        assert themes(corpus.HISTORY[0])[0] == (corpus.STEADY, 6, 0.0)

    def test_words_are_carried_by_the_pair_they_always_come_in(self, computed):
        terms = {term for term, _count, _baseline in themes()}

        assert terms.isdisjoint({"周末", "办证", "weekend", "opening", "叫号", "广播"})
        # They were counted all the same: 办证 also stands in a parking text.
        counts = dict(
            TermCount.objects.filter(month=MONTH, station=None).values_list("term", "count")
        )
        assert (counts["周末"], counts["办证"], counts["周末办证"]) == (12, 13, 12)

    def test_a_theme_links_to_every_text_that_raised_it(self, computed):
        world, _runs = computed
        theme = Theme.objects.get(month=MONTH, station=None, term="周末办证")
        titles = [
            text.title
            for text in corpus.OCTOBER_TEXTS
            if "周末办证" in text.title and text.day.month == 10
        ]

        assert len(titles) == 12
        assert set(theme.items.values_list("source", "object_id")) == items_of(world, titles)

    def test_a_text_only_in_the_next_month_in_shanghai_is_not_counted(self, computed):
        world, _runs = computed
        november = world.proposals["周末办证十一月"]  # 31 October 16:00 UTC: 1 November in Shanghai
        first = world.cases["国庆值班安排"]  # 30 September 16:00 UTC: 1 October in Shanghai

        assert november.published_at.astimezone(dt.UTC).day == 31
        assert not ThemeItem.objects.filter(source="proposals", object_id=november.pk).exists()
        assert not TermCount.objects.filter(month=MONTH, term="十一月").exists()
        assert TermCount.objects.get(month=MONTH, station=None, term="国庆").count == 1
        assert not TermCount.objects.filter(month=corpus.HISTORY[-1], term="国庆").exists()
        assert first.created_at.astimezone(dt.UTC).month == 9
        assert Run.objects.get(month=MONTH).texts == corpus.OCTOBER_TEXT_COUNT

    def test_the_saturday_afternoon_exit_entry_cell_is_the_longest_queue(self, computed):
        world, _runs = computed
        cells = sorted(
            HeatCell.objects.filter(month=MONTH, station=world.mall),
            key=lambda cell: -cell.queue,
        )
        top = cells[0]

        assert (top.weekday, top.hour, top.service.service_code) == (5, 14, corpus.PEAK_SERVICE)
        assert (top.visits, top.called) == (corpus.PEAK_VISITS, corpus.PEAK_VISITS)
        assert top.wait_minutes == pytest.approx(corpus.PEAK_WAIT_MINUTES)
        assert top.max_wait_minutes == pytest.approx(50)
        assert top.days == corpus.OCTOBER_SATURDAYS
        assert top.queue_minutes == pytest.approx(corpus.PEAK_QUEUE_MINUTES)
        assert top.queue == pytest.approx(corpus.PEAK_QUEUE)  # 330 / (60 × 5) = 1.1
        assert top.mean_wait == pytest.approx(35)
        assert all(cell.queue < top.queue / 2 for cell in cells[1:])

    def test_the_heatmap_reads_weekdays_and_hours_in_shanghai(self, computed):
        world, _runs = computed
        cells = {
            (cell.service.service_code, cell.weekday, cell.hour): cell
            for cell in HeatCell.objects.filter(month=MONTH).select_related("service")
        }

        # 1 October 00:30 in Shanghai is a Thursday (30 September in UTC).
        assert cells[("CX-PASSPORT", 3, 0)].visits == 1
        # 1 November 00:30 in Shanghai belongs to November, though it is 31 October in UTC.
        assert ("CX-HKMO", 5, 16) not in cells
        assert ("CX-HKMO", 6, 0) not in cells
        assert cells[("CX-PASSPORT", 1, 10)].visits == 4
        assert cells[("CX-PASSPORT", 1, 10)].days == 4  # October 2026 has four Tuesdays
        assert cells[("CX-HF-WITHDRAW", 2, 9)].station_id == world.centre.pk
        # September's visit stays in September: Saturday 26th, 14:30, called at 15:30; its
        # wait is the 14:00 arrival's, its waiting half in each hour.
        september = {cell.hour: cell for cell in HeatCell.objects.filter(month=corpus.HISTORY[-1])}
        assert set(september) == {14, 15}
        arrived, after = september[14], september[15]
        assert (arrived.weekday, arrived.visits, arrived.wait_minutes) == (5, 1, 60)
        assert (arrived.queue_minutes, arrived.days) == (30, 4)  # four Saturdays in September
        assert (after.weekday, after.visits, after.called, after.wait_minutes) == (5, 0, 0, 0)
        assert after.queue_minutes == 30
        # 1 November 00:30 is November's, and so is its waiting: nothing of it in October.
        assert not HeatCell.objects.filter(month=MONTH, weekday=6).exists()

    def test_the_peak_hours_waiting_runs_on_into_the_next_hour(self, computed):
        world, _runs = computed
        after = HeatCell.objects.get(
            month=MONTH, station=world.mall, weekday=5, hour=15, service__service_code="CX-HKMO"
        )
        # Called at 15:05 and 15:25: 5 + 25 minutes each Saturday; the 15:40 visit left
        # uncalled and unfinished, so its wait is not known and not counted.
        assert (after.visits, after.called, after.wait_minutes) == (1, 0, 0)
        assert after.queue_minutes == pytest.approx(30 * len(corpus.PEAK_SATURDAYS))
        assert after.queue == pytest.approx(90 / (60 * corpus.OCTOBER_SATURDAYS))
        tuesday = HeatCell.objects.get(month=MONTH, weekday=1, hour=10)
        assert (tuesday.visits, tuesday.wait_minutes, tuesday.queue_minutes) == (4, 20, 20)

    def test_reasons_are_counted_by_the_registered_source_per_cell(self, computed):
        world, _runs = computed
        rows = {
            (row.reason, row.station_id, row.service_id, row.department_id): row.count
            for row in ReasonCount.objects.filter(month=MONTH, source=corpus.REASON_SOURCE)
        }
        passport, hkmo = world.services["CX-PASSPORT"], world.services["CX-HKMO"]

        assert rows == {
            (
                Visit.Outcome.MISSING_DOCUMENTS,
                world.mall.pk,
                passport.pk,
                passport.department_id,
            ): 2,
            (Visit.Outcome.ABANDONED, world.mall.pk, hkmo.pk, hkmo.department_id): 1,
        }
        assert not ReasonCount.objects.filter(month=corpus.HISTORY[-1], source=corpus.REASON_SOURCE)

    def test_unmet_demand_at_a_station_names_the_other_stations_service_and_the_searches(
        self, computed
    ):
        world, _runs = computed
        rows = list(
            UnmetDemand.objects.filter(month=MONTH, station=world.mall)
            .order_by("rank")
            .values_list("term", "service__service_code", "mentions", "searches", "total")
        )

        assert rows == [
            (term, code, mentions, searches, mentions + searches)
            for term, code, mentions, searches in corpus.UNMET_MALL
        ]
        withdraw = UnmetDemand.objects.get(month=MONTH, station=world.mall, term="住房公积金提取")
        assert withdraw.sources == {"cases": 3}

    def test_unmet_demand_over_all_stations_leaves_out_what_some_station_offers(self, computed):
        rows = {
            term: (service, mentions, searches)
            for term, service, mentions, searches in UnmetDemand.objects.filter(
                month=MONTH, station=None
            ).values_list("term", "service__service_code", "mentions", "searches")
        }

        # 住房公积金提取 is offered at the district centre: over all stations it is not unmet,
        # neither from the texts nor from the searches at the mall.
        assert rows == {"外国人签证": (None, 0, 4)}
        # The district centre offers it and had no text or search of its own.
        assert not UnmetDemand.objects.filter(month=MONTH, station__slug=corpus.CENTRE).exists()

    def test_a_themes_sources_are_its_true_counts_per_source(self, computed):
        for theme in Theme.objects.filter(month=MONTH):
            assert sum(theme.sources.values()) == theme.count, theme.term
        mall = Theme.objects.get(month=MONTH, station__slug=corpus.MALL, term="周末办证")
        assert mall.sources == {"proposals": 6, "cases": 4}


def test_a_month_already_computed_is_not_computed_again_as_history(fresh):
    history = {run.month: run.finished_at for run in Run.objects.filter(month__lt=MONTH)}

    runs = radar_compute(month=MONTH)

    assert [run.month for run in runs] == [MONTH]
    assert {run.month: run.finished_at for run in Run.objects.filter(month__lt=MONTH)} == history


def test_a_reason_source_removed_writes_nothing(fresh, monkeypatch):
    monkeypatch.setattr(registry, "_reason_sources", {})

    compute.compute_month(MONTH)

    assert not ReasonCount.objects.filter(month=MONTH).exists()
    assert Run.objects.get(month=MONTH).reasons == 0


def test_bad_ratings_of_the_month_feed_the_reasons_through_the_feedback_wing(fresh):
    world, _runs = fresh
    hkmo = world.services["CX-HKMO"]
    visits = list(Visit.objects.filter(service=hkmo).order_by("arrived_at"))
    saturdays, november = visits[1:4], visits[-1]
    ratings = [
        (saturdays[0], 1, ["waiting_time"], "排队一个多小时"),
        (saturdays[1], 2, ["waiting_time", "attitude"], ""),
        (saturdays[2], 5, [], "很好"),  # a good rating: no reason to count
        (november, 1, ["waiting_time"], ""),  # 1 November in Shanghai
    ]
    for visit, level, reasons, comment in ratings:
        feedback_services.visit_rate(
            token=tokens.visit_token(visit),
            level=level,
            reasons=reasons,
            comment=comment,
            now=visit.finished_at + dt.timedelta(hours=1),
        )

    compute.compute_month(MONTH)

    rows = {
        (row.reason, row.station_id, row.service_id, row.department_id): row.count
        for row in ReasonCount.objects.filter(month=MONTH, source="feedback.bad_rating")
    }
    cell = (world.mall.pk, hkmo.pk, hkmo.department_id)
    assert rows == {("waiting_time", *cell): 2, ("attitude", *cell): 1}


def test_recomputing_a_month_replaces_it_without_duplicates(fresh):
    before = results()
    themes_before = themes()
    old_theme_ids = set(Theme.objects.filter(month=MONTH).values_list("pk", flat=True))

    compute.compute_month(MONTH)

    assert results() == before
    assert themes() == themes_before
    assert not Theme.objects.filter(pk__in=old_theme_ids).exists()
    assert not ThemeItem.objects.filter(theme_id__in=old_theme_ids).exists()
    assert Run.objects.filter(month=MONTH).count() == 1
    assert Run.objects.get(month=MONTH).status == Run.Status.DONE


def test_a_new_text_shows_after_recomputing(fresh):
    world, _runs = fresh
    corpus.write_texts(
        world,
        [corpus.Text("case", dt.date(2026, 10, 28), "周末办证再次排长队", "等了一个小时。")],
    )

    compute.compute_month(MONTH)

    assert themes()[0] == ("周末办证", 13, 1.0)


def test_an_empty_month_is_computed_to_nothing(db):
    run = compute.compute_month(dt.date(2025, 2, 14))

    assert (run.month, run.status, run.visits, run.texts) == (
        dt.date(2025, 2, 1),
        Run.Status.DONE,
        0,
        0,
    )
    assert not any(model.objects.exists() for model in RESULTS)


@pytest.mark.parametrize(
    "step",
    [
        pytest.param("count_texts", id="while-reading"),
        pytest.param("ThemeItem", id="while-writing"),
    ],
)
def test_a_failed_compute_marks_the_run_failed_and_keeps_the_previous_results(
    fresh, monkeypatch, step
):
    before = results()
    done_at, through, texts = Run.objects.values_list("done_at", "through", "texts").get(
        month=MONTH
    )
    assert done_at is not None
    theme_ids = set(Theme.objects.filter(month=MONTH).values_list("pk", flat=True))
    item_ids = set(ThemeItem.objects.filter(theme_id__in=theme_ids).values_list("pk", flat=True))

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    if step == "count_texts":
        monkeypatch.setattr(compute, "count_texts", broken)
    else:
        monkeypatch.setattr(ThemeItem.objects, "bulk_create", broken)

    with pytest.raises(RuntimeError, match="disk on fire"):
        compute.compute_month(MONTH)

    run = Run.objects.get(month=MONTH)
    assert run.status == Run.Status.FAILED
    assert "disk on fire" in run.error
    assert run.finished_at is not None
    # The month stays computed, with its last good results and when they were computed.
    assert (run.done_at, run.through, run.texts) == (done_at, through, texts)
    assert queries.latest_month() == MONTH
    assert queries.month_computed(MONTH)
    assert [theme.term for theme in queries.themes(MONTH)] == [t for t, _c, _b in corpus.THEMES]
    assert results() == before
    assert set(Theme.objects.filter(month=MONTH).values_list("pk", flat=True)) == theme_ids
    assert set(ThemeItem.objects.filter(theme_id__in=theme_ids).values_list("pk", flat=True)) == (
        item_ids
    )


def test_lossy_counting_bounds_the_terms_tracked_and_still_finds_the_top_themes(fresh, monkeypatch):
    world, _runs = fresh
    unbounded, texts = compute.count_texts(MONTH, Segmenter())
    assert texts == corpus.OCTOBER_TEXT_COUNT == 33
    assert (unbounded.pruned, unbounded.floor) == (0, 0)
    assert len(unbounded.counts) > 250  # the month's (scope, term) pairs, untrimmed
    true = unbounded.by_scope()
    monkeypatch.setattr(compute, "BUCKET_TEXTS", 10)  # prune every ten texts

    counter, texts = compute.count_texts(MONTH, Segmenter())

    assert texts == corpus.OCTOBER_TEXT_COUNT
    assert counter.floor == 3  # 33 texts in buckets of ten
    assert counter.pruned > 0
    assert counter.peak < len(unbounded.counts)
    kept = counter.by_scope()
    for scope, counts in true.items():
        for term, count in counts.items():
            found = kept.get(scope, {}).get(term)
            if count > counter.floor:
                # Never over, and short by no more than the floor.
                assert found is not None, (scope, term)
                assert count - counter.floor <= found <= count, (scope, term)
            else:
                assert found is None or found <= count, (scope, term)
            # A term's texts per source are counted as the term is.
            if found is not None:
                assert sum(counter.sources[(scope, term)].values()) == found

    run = compute.compute_month(MONTH)

    assert run.term_cutoff == 3  # a term not kept had at most as many texts as the floor
    assert 0 < run.tracked_peak < len(unbounded.counts)
    assert themes()[0][0] == "周末办证"
    assert 12 - 3 <= themes()[0][1] <= 12
    assert "周末办证" in {term for term, _count, _baseline in themes(station=world.mall)}


def test_a_term_counter_keeps_the_frequent_terms_of_a_long_stream():
    counter = compute.TermCounter(bucket_texts=50, items_per_term=3)
    truth: Counter = Counter()
    for index in range(2_000):
        terms = {f"rare{index}", f"rarer{index}"}
        if index % 4 == 0:
            terms.add("frequent")
        if index % 10 == 0:
            terms.add("common")
        source = "cases" if index % 8 == 0 else "proposals"
        counter.add_text([(None, term) for term in sorted(terms)], (source, index))
        truth.update(terms)
        if index % 50 == 49:  # a bucket has just ended: every rare term is gone
            assert set(counter.counts) == {(None, "frequent"), (None, "common")}

    assert (counter.texts, counter.bucket, counter.floor) == (2_000, 41, 40)
    # Both frequent terms are met in every bucket from the first: never dropped, never short.
    assert counter.by_scope()[None] == {"frequent": 500, "common": 200}
    assert (truth["frequent"], truth["common"]) == (500, 200)
    # Each rare term was dropped once, at the end of its bucket; at most a bucket's worth of
    # terms (50 texts × 2 rare terms) and the two frequent ones were tracked at once.
    assert counter.pruned == 4_000
    assert counter.peak == 102
    assert counter.items[(None, "frequent")] == [("cases", 0), ("proposals", 4), ("cases", 8)]
    # Per source, the true counts (every eighth text is a case).
    assert counter.sources[(None, "frequent")] == {"cases": 250, "proposals": 250}
    assert counter.sources[(None, "common")] == {"cases": 50, "proposals": 150}


# Texts that are stations' descriptions, in two sources read one after the other: the first
# all noise, the second raising one theme. The stream's order is the registry's.
LATE_MONTH = dt.date(2026, 3, 1)


def _station_source(code: str, prefix: str) -> registry.TextSource:
    return registry.TextSource(
        code=code,
        label=code,
        model="stations.Station",
        fields=("description_zh",),
        created="created_at",
        eligible=Q(slug__startswith=prefix),
    )


def _noise(index: int) -> str:
    """A made-up word met in one text only: zq followed by two letters."""
    return "zq" + chr(ord("a") + index // 26) + chr(ord("a") + index % 26)


def test_a_theme_rising_only_in_the_last_third_is_kept_by_lossy_counting(db, monkeypatch):
    monkeypatch.setattr(
        registry,
        "_text_sources",
        {
            "test.early": _station_source("test.early", "early-"),
            "test.late": _station_source("test.late", "late-"),
        },
    )
    for index in range(40):
        StationFactory(slug=f"early-{index}", description_zh=f"{_noise(2 * index)}。")
    for index in range(20):
        StationFactory(
            slug=f"late-{index}", description_zh=f"weekend opening. {_noise(100 + index)}"
        )
    Station.objects.update(created_at=dt.datetime(2026, 3, 10, 12, tzinfo=compute.TZ))
    # Buckets of six texts: sixty texts, so a count may fall short by ten at most.
    monkeypatch.setattr(compute, "BUCKET_TEXTS", 6)

    counter, texts = compute.count_texts(LATE_MONTH, Segmenter())

    assert (texts, counter.floor) == (60, 10)
    counts = counter.by_scope()[None]
    # Met first in text 41 (bucket 7, so it may have had up to 6 before), twice by the end
    # of that bucket (2 + 6 > 7), and in every text after: never dropped, and exact.
    assert counts["weekend opening"] == 20
    assert 20 - counter.floor <= counts["weekend opening"] <= 20
    assert counter.sources[(None, "weekend opening")] == {"test.late": 20}
    # Every noise word (met once) was dropped at the end of its bucket.
    assert not any(term.startswith("zq") for term in counts)
    assert counter.pruned == 40 + 20
    # At most one bucket of noise (6) and the four late terms were tracked at once.
    assert counter.peak <= 6 + 4

    run = compute.compute_month(LATE_MONTH, segmenter=Segmenter())

    theme = Theme.objects.get(month=LATE_MONTH, station=None, rank=1)
    assert (theme.term, theme.count, theme.baseline, theme.growth) == ("weekend opening", 20, 0, 20)
    assert theme.sources == {"test.late": 20}
    assert run.term_cutoff == 10


def test_a_themes_sources_count_every_text_not_just_those_it_keeps(fresh, monkeypatch):
    monkeypatch.setattr(compute, "ITEMS_PER_THEME", 3)

    compute.compute_month(MONTH)

    weekend = Theme.objects.get(month=MONTH, station=None, term="周末办证")
    assert weekend.count == 12
    assert weekend.sources == {"proposals": 8, "cases": 4}
    assert weekend.items.count() == 3
    for theme in Theme.objects.filter(month=MONTH):
        assert sum(theme.sources.values()) == theme.count, theme.term
        assert theme.items.count() == min(theme.count, 3)


# A month under way ----------------------------------------------------------------------------
NOVEMBER = dt.date(2026, 11, 1)


def test_a_month_under_way_counts_the_days_passed_and_scales_its_baseline(db, department):
    rows = helpers_tasks.month_of_rows(NOVEMBER, department)  # Saturday 7th, 14:00; 4 texts
    # August to October computed, each with two texts of the theme over all stations.
    for past in (dt.date(2026, 8, 1), dt.date(2026, 9, 1), dt.date(2026, 10, 1)):
        helpers_tasks.done(past)
        TermCount.objects.create(month=past, station=None, term=helpers_tasks.THEME, count=2)

    run = compute.compute_month(NOVEMBER, on=dt.date(2026, 11, 15))

    assert run.through == dt.date(2026, 11, 15)
    # Saturdays 7 and 14 had passed: the three 12-minute waits spread over two Saturdays.
    (cell,) = HeatCell.objects.filter(month=NOVEMBER)
    assert (cell.weekday, cell.hour, cell.visits, cell.days) == (5, 14, 3, 2)
    assert cell.queue_minutes == pytest.approx(36)
    assert cell.queue == pytest.approx(36 / (60 * 2))
    assert queries.heatmap(rows["station"], NOVEMBER).grid[5][14].queue == pytest.approx(0.3)
    # Half the month had passed (15 of 30 days): the baseline is half the monthly mean of 2.
    assert compute.elapsed_share(NOVEMBER, run.through) == 0.5
    theme = Theme.objects.get(month=NOVEMBER, station=None, term=helpers_tasks.THEME)
    assert (theme.count, theme.baseline, theme.growth) == (4, 1.0, 4.0)
    assert theme.score == pytest.approx(round((4 - 1) / math.sqrt(1 + 1), 2))
    # At the station, the term was never counted before: its baseline is nothing.
    local = Theme.objects.get(month=NOVEMBER, station=rows["station"], term=helpers_tasks.THEME)
    assert (local.count, local.baseline, local.growth, local.score) == (4, 0.0, 4.0, 4.0)


def test_the_month_computed_after_its_end_counts_every_day(db, department):
    helpers_tasks.month_of_rows(NOVEMBER, department)

    run = compute.compute_month(NOVEMBER, on=dt.date(2026, 12, 2))

    assert run.through == dt.date(2026, 11, 30)
    assert HeatCell.objects.get(month=NOVEMBER).days == 4  # Saturdays 7, 14, 21 and 28


def test_baselines_count_a_term_a_month_did_not_keep_as_half_its_cut_off(db):
    cutoffs = {dt.date(2026, 8, 1): 4, dt.date(2026, 9, 1): 6, dt.date(2026, 10, 1): 2}
    for past, cutoff in cutoffs.items():
        Run.objects.create(
            month=past, status=Run.Status.DONE, done_at=timezone.now(), term_cutoff=cutoff
        )
    TermCount.objects.create(month=dt.date(2026, 8, 1), station=None, term="周末办证", count=10)
    TermCount.objects.create(month=dt.date(2026, 10, 1), station=None, term="周末办证", count=8)

    whole = compute.baselines(NOVEMBER)
    half = compute.baselines(NOVEMBER, share=0.5)

    # September did not keep it: half its cut-off of 6. (10 + 3 + 8) / 3 = 7.
    assert whole[(None, "周末办证")] == pytest.approx(7.0)
    assert half[(None, "周末办证")] == pytest.approx(3.5)
    # Any other term: half of each month's cut-off, (2 + 3 + 1) / 3 = 2.
    assert whole["default"] == pytest.approx(2.0)
    assert half["default"] == pytest.approx(1.0)


# Unmet demand ---------------------------------------------------------------------------------
def test_a_service_the_station_offers_is_never_unmet_there(db, department, other_department):
    here = StationFactory(slug="here", name_zh="本站", departments=[department])
    there = StationFactory(slug="there", name_zh="别站", departments=[other_department])
    # Both services answer to 驾驶证; this station offers the first only.
    ServiceFactory(
        department=department,
        service_code="DL-RENEW",
        name_zh="驾驶证换证",
        keywords="驾驶证",
        stations=[here],
    )
    replace = ServiceFactory(
        department=other_department,
        service_code="DL-LOST",
        name_zh="驾驶证补领",
        keywords="驾驶证",
        stations=[there],
    )
    at = dt.datetime(2026, 3, 10, 11, tzinfo=compute.TZ)
    category = CaseCategoryFactory(slug="other", name_zh="其他")
    for title, times in (("驾驶证换证", 3), ("驾驶证丢了", 2), ("驾驶证补领", 2)):
        for _ in range(times):
            case_open(
                actor=None,
                title=title,
                description="请问这里能办吗？",
                category=category,
                station=here,
                opened_at=at,
            )
    for query, times in (("驾驶证换证", 3), ("驾驶证", 2), ("驾驶证补领", 1)):
        SearchMiss.objects.create(day=dt.date(2026, 3, 11), station=here, term=query, count=times)

    compute.compute_month(LATE_MONTH)

    rows = list(
        UnmetDemand.objects.filter(month=LATE_MONTH).values_list(
            "station__slug", "term", "service", "mentions", "searches", "total"
        )
    )
    # Only what this station lacks: the other station's service, from its texts and searches.
    # 驾驶证换证 (offered here) and 驾驶证 (names a service offered here) are not unmet, and
    # over all stations nothing is: both services are offered somewhere.
    assert rows == [("here", "驾驶证补领", replace.pk, 2, 1, 3)]
    assert TermCount.objects.get(month=LATE_MONTH, station=here, term="驾驶证换证").count == 3
    assert TermCount.objects.get(month=LATE_MONTH, station=here, term="驾驶证").count == 2


def test_service_terms_name_every_service_they_stand_for(db):
    first = ServiceFactory(name_zh="驾驶证换证", keywords="驾驶证")
    second = ServiceFactory(name_zh="驾驶证补领", keywords="驾驶证")
    names, _stations = compute.service_terms()
    assert names["驾驶证"] == {first.pk, second.pk}
    assert names["驾驶证补领"] == {second.pk}


def test_an_ask_needs_two_texts_or_searches_to_be_listed(db):
    station = StationFactory(slug="lonely")
    SearchMiss.objects.create(day=dt.date(2026, 3, 2), station=station, term="公证", count=1)
    SearchMiss.objects.create(day=dt.date(2026, 3, 3), station=station, term="宠物证", count=2)

    compute.compute_month(LATE_MONTH)

    rows = set(UnmetDemand.objects.filter(month=LATE_MONTH).values_list("station", "term", "total"))
    assert rows == {(station.pk, "宠物证", 2), (None, "宠物证", 2)}
    assert not UnmetDemand.objects.filter(total=0).exists()
