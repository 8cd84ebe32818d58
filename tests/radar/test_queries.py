"""The radar's reads (``governance.radar.queries``): what the page and the API show, from the
stored results, in a constant number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from governance.proposals import services as proposal_services
from governance.proposals.models import Category
from governance.radar import queries
from governance.radar.compute import compute_month
from governance.radar.models import ReasonCount, Theme, ThemeItem, UnmetDemand
from tests.factories import ServiceFactory, StationFactory, UserFactory
from tests.query_budget import capture_queries
from tests.radar.helpers_api import (
    LAST,
    MONTH,
    SATURDAYS,
    cell,
    done,
    local,
    reason_source,  # noqa: F401  (fixture)
    station_text_source,  # noqa: F401  (fixture)
    visit,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def station(department):
    return StationFactory(slug="mall", name_zh="万象城服务站", departments=[department])


@pytest.fixture
def exit_entry(department, station):
    return ServiceFactory(service_code="EE-PASS", name_zh="出入境证件", stations=[station])


@pytest.fixture
def hukou(department, station):
    return ServiceFactory(service_code="HK-ID", name_zh="身份证", stations=[station])


# Months -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "month"),
    [("2026-11", dt.date(2026, 11, 1)), ("2000-01", dt.date(2000, 1, 1)), (" 2026-03 ", MONTH)],
)
def test_parse_month_reads_year_and_month(text, month):
    assert queries.parse_month(text) == month


@pytest.mark.parametrize(
    "text", ["2026-13", "2026-00", "abc", "", "1999-12", "2026-3", "2026-03-01", "٢٠٢٦-٠٣", None]
)
def test_parse_month_refuses_malformed_or_out_of_range(text):
    with pytest.raises(ValueError):  # noqa: PT011  (one error type, the message varies)
        queries.parse_month(text)


def test_parse_month_allows_next_year_but_not_the_one_after():
    year = timezone.localdate().year
    assert queries.parse_month(f"{year + 1}-12") == dt.date(year + 1, 12, 1)
    with pytest.raises(ValueError, match="out of range"):
        queries.parse_month(f"{year + 2}-01")


def test_latest_month_is_the_latest_done_run():
    assert queries.latest_month() is None
    done(LAST)
    done(MONTH)
    from governance.radar.models import Run

    Run.objects.create(month=dt.date(2026, 4, 1), status=Run.Status.FAILED)
    Run.objects.create(month=dt.date(2026, 5, 1), status=Run.Status.RUNNING)
    assert queries.latest_month() == MONTH
    # A recompute that failed (or is under way) keeps the month computed.
    Run.objects.filter(month=MONTH).update(status=Run.Status.FAILED)
    assert queries.latest_month() == MONTH
    Run.objects.filter(month=dt.date(2026, 4, 1)).update(done_at=timezone.now())
    assert queries.latest_month() == dt.date(2026, 4, 1)


def test_reader_stations_are_the_active_ones_by_name():
    StationFactory(slug="b", name_zh="B 站")
    StationFactory(slug="a", name_zh="A 站")
    StationFactory(slug="c", name_zh="C 站", is_active=False)
    assert [station.slug for station in queries.reader_stations()] == ["a", "b"]


# The heatmap --------------------------------------------------------------------------------
def test_heatmap_from_computed_visits_finds_the_saturday_afternoon_queue(
    station, exit_entry, hukou
):
    # Each Saturday of March at 14:xx: three exit-entry visits waiting 30 minutes (the one
    # from 14:40 until 15:10) and one ID-card visit waiting 10 (14:50–15:00); a quiet Monday
    # morning; one visit never called (and never finished: it waited nowhere).
    for day in SATURDAYS:
        for minute in (5, 20, 40):
            visit(station, exit_entry, local(MONTH, day, 14, minute), 30)
        visit(station, hukou, local(MONTH, day, 14, 50), 10)
    visit(station, hukou, local(MONTH, 2, 9, 15), 4)  # Monday 2 March
    visit(station, hukou, local(MONTH, 2, 11, 0), None)
    compute_month(MONTH)

    heat = queries.heatmap(station, MONTH)

    assert not heat.empty
    assert heat.computed
    saturday = heat.grid[5][14]
    assert (saturday.visits, saturday.called, saturday.days) == (16, 16, 4)
    assert saturday.wait_minutes == pytest.approx(4 * (3 * 30 + 10))
    # The waiting that fell in 14:00–15:00 each Saturday: 30 + 30 + 20 (exit-entry) + 10
    # (ID card) = 90 minutes; the exit-entry wait's last 10 minutes fall in 15:00–16:00.
    assert saturday.queue_minutes == pytest.approx(4 * 90)
    # Little's law: 360 waiting minutes over four one-hour Saturdays = 1.5 people waiting.
    assert saturday.queue == pytest.approx(360 / (60 * 4))
    assert saturday.mean_wait == pytest.approx(25)
    assert saturday.max_wait == pytest.approx(30)
    after = heat.grid[5][15]
    assert (after.visits, after.called, after.days) == (0, 0, 4)
    assert after.queue_minutes == pytest.approx(4 * 10)
    assert after.queue == pytest.approx(40 / (60 * 4))
    assert after.mean_wait is None
    monday = heat.grid[0][9]
    assert (monday.visits, monday.days) == (1, 5)
    assert monday.queue == pytest.approx(4 / (60 * 5))
    never_called = heat.grid[0][11]
    assert (never_called.visits, never_called.called, never_called.mean_wait) == (1, 0, None)
    assert never_called.queue_minutes == 0
    # 15:00 is shown: people were still waiting then, though nobody took a ticket.
    assert heat.hours == list(range(9, 16))
    assert heat.grid[3][12].visits == 0

    peak = heat.peaks[0]
    assert (peak.cell.weekday, peak.cell.hour) == (5, 14)
    assert peak.label == "星期六 14:00–15:00"
    assert [load.service for load in peak.services] == [exit_entry, hukou]
    # Of the 360 minutes in the peak hour: exit-entry 4 × 80, ID card 4 × 10.
    assert peak.services[0].share == pytest.approx(320 / 360)
    assert peak.services[1].share == pytest.approx(40 / 360)
    # The hour after: only exit-entry's spill-over.
    second = heat.peaks[1]
    assert (second.cell.weekday, second.cell.hour) == (5, 15)
    assert [(load.service, load.share) for load in second.services] == [(exit_entry, 1.0)]
    # Over the month: exit-entry waited 360 minutes (320 + 40), ID card 44 (40 + Monday's 4).
    assert [load.service for load in heat.services] == [exit_entry, hukou]
    assert heat.services[0].queue_minutes == pytest.approx(360)
    assert heat.services[1].queue_minutes == pytest.approx(44)
    assert heat.services[0].share == pytest.approx(360 / 404)
    assert heat.services[0].mean_wait == pytest.approx(30)
    assert heat.services[1].visits == 6
    # Saturday 14:00 (1.5), Saturday 15:00 (0.17), Monday 9:00 (0.013), Monday 11:00 (0).
    assert [(p.cell.weekday, p.cell.hour) for p in heat.peaks] == [
        (5, 14),
        (5, 15),
        (0, 9),
        (0, 11),
    ]


def test_heatmap_peaks_are_the_five_longest_queues(station, exit_entry):
    for hour in range(9, 17):
        cell(station, exit_entry, 2, hour, visits=10, wait=60.0 * hour)
    heat = queries.heatmap(station, MONTH)
    assert [peak.cell.hour for peak in heat.peaks] == [16, 15, 14, 13, 12]
    assert heat.peaks[0].cell.queue == pytest.approx(16 / 4)
    assert heat.peaks[0].services[0].share == pytest.approx(1.0)


def test_heatmap_of_another_station_or_month_is_empty(station, exit_entry):
    cell(station, exit_entry, 5, 14, visits=3, wait=30.0)
    other = StationFactory(slug="elsewhere")
    for heat in (queries.heatmap(other, MONTH), queries.heatmap(station, LAST)):
        assert heat.empty
        assert not heat.computed
        assert heat.hours == []
        assert heat.peaks == []
        assert heat.services == []
        assert all(c.visits == 0 for row in heat.grid for c in row)
        assert len(heat.grid) == 7
        assert all(len(row) == 24 for row in heat.grid)


def test_heatmap_compare_gives_the_other_month_and_the_change_per_cell(station, exit_entry):
    cell(station, exit_entry, 5, 14, visits=40, wait=1200.0)
    cell(station, exit_entry, 5, 14, month=LAST, visits=10, wait=120.0)
    cell(station, exit_entry, 1, 10, month=LAST, visits=2, wait=10.0)

    heat = queries.heatmap(station, MONTH, compare=LAST)

    assert heat.compare == LAST
    assert not heat.compare_empty
    assert heat.compare_grid[5][14].visits == 10
    delta = heat.deltas[5][14]
    assert delta.visits == 30
    assert delta.queue == pytest.approx(1200 / 240 - 120 / 240)
    assert delta.mean_wait == pytest.approx(30 - 12)
    gone = heat.deltas[1][10]
    assert (gone.visits, gone.mean_wait) == (-2, None)
    assert gone.queue == pytest.approx(-10 / 240)
    # The hours shown cover both months.
    assert heat.hours == list(range(10, 15))
    assert heat.compare_peaks[0].cell.hour == 14
    assert [row[0] for row in heat.delta_rows] == list(range(7))


def test_heatmap_without_compare_has_no_deltas(station, exit_entry):
    cell(station, exit_entry, 5, 14)
    heat = queries.heatmap(station, MONTH)
    assert heat.compare is None
    assert heat.deltas is None
    assert heat.delta_rows == []
    assert heat.rows[5][1] == "星期六"
    assert [c.hour for c in heat.rows[5][2]] == [14]


def test_heatmap_runs_constant_queries_with_growing_data(station, department):
    services = [ServiceFactory(service_code=f"S-{n:02d}", department=department) for n in range(12)]

    def grow(first: int, last: int) -> None:
        for service in services[first:last]:
            for weekday in range(7):
                for hour in (9, 10, 14):
                    cell(station, service, weekday, hour, visits=3, wait=20.0)
                    cell(station, service, weekday, hour, month=LAST, visits=2, wait=5.0)

    grow(0, 1)
    _few, few_queries = capture_queries(lambda: queries.heatmap(station, MONTH, compare=LAST))
    grow(1, 12)
    many, many_queries = capture_queries(lambda: queries.heatmap(station, MONTH, compare=LAST))
    assert len(many.services) == 12
    assert len(few_queries) == len(many_queries) <= 3


# Reasons ------------------------------------------------------------------------------------
def _count(month, reason, count, **scope):
    return ReasonCount.objects.create(
        month=month, source="test.bad", reason=reason, count=count, **scope
    )


@pytest.mark.usefixtures("reason_source")
def test_reasons_count_this_month_last_month_and_the_trend(station, exit_entry, department):
    for back, count in enumerate([9, 5, 3, 0, 2]):  # this month, last, …
        month = dt.date(2026, 3 - back, 1) if back < 3 else dt.date(2025, 15 - back, 1)
        if count:
            _count(month, "waiting_time", count, station=station, service=exit_entry)
    _count(MONTH, "waiting_time", 1, station=None, department=department)
    _count(MONTH, "attitude", 4, station=station)
    _count(LAST, "attitude", 6, station=station)
    _count(dt.date(2025, 6, 1), "attitude", 50)  # outside the six months

    report = queries.reasons(MONTH)

    assert not report.empty
    assert report.months == [dt.date(2025, 10 + n, 1) for n in range(3)] + [
        dt.date(2026, n, 1) for n in (1, 2, 3)
    ]
    waiting, attitude = report.rows
    assert (waiting.reason, waiting.label, waiting.source_label) == (
        "waiting_time",
        "等候时间长",
        "测试差评",
    )
    assert (waiting.count, waiting.last, waiting.change) == (10, 5, 5)
    assert waiting.series == [0, 2, 0, 3, 5, 10]
    assert waiting.change_ratio == pytest.approx(1.0)
    assert (attitude.count, attitude.last, attitude.change) == (4, 6, -2)
    assert waiting.items_url == "/items/?reason=waiting_time&month=2026-03&station="
    assert report.total == 14


@pytest.mark.usefixtures("reason_source")
def test_reasons_narrow_to_a_station_service_or_department(station, exit_entry, hukou, department):
    _count(MONTH, "waiting_time", 7, station=station, service=exit_entry, department=department)
    _count(MONTH, "waiting_time", 2, station=station, service=hukou, department=department)
    _count(MONTH, "attitude", 3, station=None, service=None, department=None)

    assert [row.count for row in queries.reasons(MONTH, station=station).rows] == [9]
    by_service = queries.reasons(MONTH, service=exit_entry)
    assert [(row.reason, row.count) for row in by_service.rows] == [("waiting_time", 7)]
    assert by_service.rows[0].items_url.endswith("&station=")
    narrowed = queries.reasons(MONTH, station=station.pk, service=hukou.pk, department=department)
    assert [row.count for row in narrowed.rows] == [2]
    assert (
        queries.reasons(MONTH, station=station).rows[0].items_url.endswith(f"station={station.pk}")
    )


def test_reasons_of_an_unregistered_source_show_their_codes(station):
    ReasonCount.objects.create(month=MONTH, source="gone", reason="x", count=2)
    (row,) = queries.reasons(MONTH).rows
    assert (row.source_label, row.label, row.items_url) == ("gone", "x", "")


@pytest.mark.usefixtures("reason_source")
def test_reasons_of_an_empty_month_say_so():
    _count(LAST, "attitude", 3)
    report = queries.reasons(MONTH)
    assert report.empty
    assert not report.computed
    assert [(row.count, row.last) for row in report.rows] == [(0, 3)]
    assert queries.reasons(dt.date(2020, 1, 1)).rows == []


@pytest.mark.usefixtures("reason_source")
def test_reasons_run_constant_queries_with_growing_data(station, department):
    services = [ServiceFactory(department=department) for _ in range(10)]

    def grow(chosen):
        for service in chosen:
            for back in range(6):
                month = dt.date(2026, 3, 1) if back == 0 else dt.date(2025, 12 - back, 1)
                _count(month, "waiting_time", 2, station=station, service=service)
                _count(month, f"other-{service.pk}", 1, station=station, service=service)

    grow(services[:1])
    _few, few_queries = capture_queries(lambda: queries.reasons(MONTH))
    grow(services[1:])
    report, many_queries = capture_queries(lambda: queries.reasons(MONTH))
    assert len(report.rows) == 11
    assert len(few_queries) == len(many_queries) <= 2


# Themes -------------------------------------------------------------------------------------
def _theme(term, rank, *, station=None, month=MONTH, count=5, growth=2.0):
    return Theme.objects.create(
        month=month,
        station=station,
        term=term,
        rank=rank,
        count=count,
        baseline=count / growth,
        growth=growth,
        sources={"proposals": count},
    )


def test_themes_in_rank_order_per_scope(station):
    _theme("周末办证", 2)
    _theme("排队", 1)
    _theme("停车", 3)
    _theme("周末办证", 1, station=station)
    _theme("排队", 1, month=LAST)

    assert [theme.term for theme in queries.themes(MONTH)] == ["排队", "周末办证", "停车"]
    assert [theme.term for theme in queries.themes(MONTH, station=station)] == ["周末办证"]
    assert [theme.term for theme in queries.themes(MONTH, limit=2)] == ["排队", "周末办证"]
    assert queries.themes(dt.date(2026, 4, 1)) == []


def test_theme_for_finds_a_theme_or_none(station):
    theme = _theme("周末办证", 1, station=station)
    found = queries.theme_for(str(theme.pk))
    assert found == theme
    assert found.station == station
    for key in ("abc", None, -1, 0, 2**70, theme.pk + 1):
        assert queries.theme_for(key) is None


@pytest.fixture
def category(db):
    return Category.objects.create(slug="hours", name_zh="办理时间")


def _proposal(author, category, title, *, publish=True):
    return proposal_services.proposal_create(
        actor=author,
        title=title,
        body=f"{title}：希望周末也能办理出入境证件。",
        category=category,
        publish_now=publish,
    )


@pytest.mark.usefixtures("station_text_source")
def test_theme_items_are_only_those_the_reader_may_see(category, department_staff):
    author = UserFactory(email="author@example.com")
    published = _proposal(author, category, "周末办证")
    draft = _proposal(author, category, "周末办证草稿", publish=False)
    open_station = StationFactory(slug="open", name_zh="开放站")
    closed_station = StationFactory(slug="closed", is_active=False)
    theme = _theme("周末办证", 1)
    for source, object_id in (
        ("proposals", published.pk),
        ("proposals", draft.pk),
        ("test.stations", open_station.pk),
        ("test.stations", closed_station.pk),
        ("unregistered", 1),
    ):
        ThemeItem.objects.create(theme=theme, source=source, object_id=object_id)

    items = queries.theme_items(theme, department_staff)

    assert {(item.source, item.object_id) for item in items} == {
        ("proposals", published.pk),
        ("test.stations", open_station.pk),
    }
    assert any(item.url.endswith(f"/proposals/{published.pk}/") for item in items)
    # The author reads their own draft.
    assert ("proposals", draft.pk) in {
        (item.source, item.object_id) for item in queries.theme_items(theme, author)
    }


@pytest.mark.usefixtures("station_text_source")
def test_theme_items_cost_one_query_per_source(category, department_staff):
    author = UserFactory(email="author@example.com")
    theme = _theme("周末办证", 1)

    def grow(count: int) -> None:
        for number in range(count):
            proposal = _proposal(author, category, f"周末办证{ThemeItem.objects.count()}-{number}")
            station = StationFactory()
            ThemeItem.objects.create(theme=theme, source="proposals", object_id=proposal.pk)
            ThemeItem.objects.create(theme=theme, source="test.stations", object_id=station.pk)

    grow(1)
    few, few_queries = capture_queries(lambda: queries.theme_items(theme, department_staff))
    grow(8)
    many, many_queries = capture_queries(lambda: queries.theme_items(theme, department_staff))
    assert (len(few), len(many)) == (2, 18)
    # One for the theme's items, one per source (the proposals' rule may read the reader's
    # seats once).
    assert len(few_queries) == len(many_queries) <= 4


def test_theme_items_of_a_theme_without_items_are_none(department_staff):
    theme = _theme("停车", 1)
    items, sql = capture_queries(lambda: queries.theme_items(theme, department_staff))
    assert items == []
    assert len(sql) == 1


def test_themes_computed_from_proposals_link_to_them(category, department_staff, station):
    author = UserFactory(email="author@example.com")
    day = timezone.localdate()
    month = day.replace(day=1)
    proposals = [_proposal(author, category, f"周末办证第{n}条建议") for n in range(4)]
    compute_month(month)

    terms = [theme.term for theme in queries.themes(month)]
    assert any("周末" in term for term in terms)
    theme = next(theme for theme in queries.themes(month) if "周末" in theme.term)
    linked = {item.object_id for item in queries.theme_items(theme, department_staff)}
    assert linked == {proposal.pk for proposal in proposals}


# Unmet demand -------------------------------------------------------------------------------
def test_unmet_in_rank_order_with_its_service(station, exit_entry, hukou):
    elsewhere = ServiceFactory(service_code="TR-LIC", name_zh="驾驶证")
    UnmetDemand.objects.create(
        month=MONTH, station=station, term="公证", rank=2, mentions=0, searches=4, total=4
    )
    UnmetDemand.objects.create(
        month=MONTH,
        station=station,
        term="驾驶证",
        service=elsewhere,
        rank=1,
        mentions=6,
        searches=1,
        total=7,
        sources={"proposals": 6},
    )
    UnmetDemand.objects.create(
        month=MONTH, station=None, term="公证", rank=1, mentions=0, searches=4, total=4
    )

    rows, sql = capture_queries(lambda: queries.unmet(MONTH, station=station))
    assert [(row.term, row.service) for row in rows] == [("驾驶证", elsewhere), ("公证", None)]
    assert len(sql) == 1
    assert [row.term for row in queries.unmet(MONTH)] == ["公证"]
    assert queries.unmet(MONTH, station=station, limit=1)[0].term == "驾驶证"
    assert queries.unmet(LAST, station=station) == []


def test_unmet_runs_constant_queries_with_growing_data(station, department):
    def grow(first: int, last: int) -> None:
        for rank in range(first, last):
            UnmetDemand.objects.create(
                month=MONTH,
                station=station,
                term=f"诉求{rank}",
                service=ServiceFactory(department=department),
                rank=rank,
                mentions=rank,
                searches=0,
                total=rank,
            )

    grow(1, 2)
    _few, few_queries = capture_queries(lambda: [r.service.name for r in queries.unmet(MONTH)])
    grow(2, 30)
    many, many_queries = capture_queries(
        lambda: [r.service.name for r in queries.unmet(MONTH, station=station)]
    )
    assert len(many) == 29
    assert len(few_queries) == len(many_queries) == 1


def test_unmet_computed_from_searches_that_found_nothing(station, exit_entry):
    from governance.radar.services import search_miss_record

    for searcher in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):  # three people, each counted once
        search_miss_record(query="  公证 ", station=station, day=MONTH, searcher=searcher)
    compute_month(MONTH)
    rows = queries.unmet(MONTH, station=station)
    assert [(row.term, row.searches, row.total) for row in rows] == [("公证", 3, 3)]
    assert queries.runs()[0].month == MONTH
