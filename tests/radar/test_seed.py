"""The radar's demo: on the seeded world (``demo_world``, history ending 20 October 2026) the
radar is computed for October and the three months before; 周末办证 is among the top rising
themes and leads to the proposals asking for weekend hours; the Saturday-afternoon queue at
exit-entry is the mall station's peak; searches that found nothing show as unmet demand;
nobody is told of the replayed history; and a second run writes nothing."""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict

import pytest
from django.core.management import call_command

from governance.core import seeding
from governance.notifications.models import Notification
from governance.proposals.models import Proposal
from governance.radar import compute
from governance.radar import seed as radar_seed
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
from governance.stations.models import Station, Visit
from tests.conftest import SEED_TODAY

pytestmark = pytest.mark.django_db

OCTOBER = dt.date(2026, 10, 1)
MONTHS = [dt.date(2026, 7, 1), dt.date(2026, 8, 1), dt.date(2026, 9, 1), OCTOBER]
RADAR = (HeatCell, ReasonCount, TermCount, Theme, ThemeItem, UnmetDemand, SearchMiss)


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", "--with-demo-users", "--today", SEED_TODAY.isoformat(), stdout=out)
    return out.getvalue()


def snapshot() -> dict:
    return {
        **{model._meta.label: model._default_manager.count() for model in seeding.seeded_models()},
        **{model._meta.label: set(model.objects.values_list("pk", flat=True)) for model in RADAR},
        "runs": set(Run.objects.values_list("pk", "status", "finished_at")),
        "visits": Visit.objects.filter(ticket__startswith=radar_seed.TICKET_PREFIX).count(),
    }


def mall() -> Station:
    return Station.objects.get(slug=radar_seed.STATION)


def queue_by_cell(month: dt.date, station: Station) -> dict:
    """(weekday, hour) → mean queue over every service, and the minutes of waiting that fell
    in the hour per department (what ranks the services driving a peak)."""
    cells: dict = defaultdict(lambda: {"queue": 0.0, "services": defaultdict(float)})
    for cell in HeatCell.objects.filter(month=month, station=station).select_related(
        "service__department"
    ):
        entry = cells[(cell.weekday, cell.hour)]
        entry["queue"] += cell.queue
        entry["services"][cell.service.department.slug] += cell.queue_minutes
    return cells


@pytest.mark.usefixtures("demo_world")
class TestSeededRadar:
    def test_the_command_reports_the_radar_rows(self, demo_world):
        assert "需求雷达演示" in demo_world
        for label in ("radar.Theme", "radar.HeatCell", "radar.SearchMiss", "radar.Run"):
            assert label in demo_world
        radar = next(seeder for seeder in seeding.registered_seeders() if seeder.name == "radar")
        assert radar.models == radar_seed.MODELS

    def test_the_radar_is_computed_for_the_month_and_the_three_before(self):
        runs = list(Run.objects.filter(month__in=MONTHS).order_by("month"))

        assert [run.month for run in runs] == MONTHS
        assert all(run.status == Run.Status.DONE for run in runs)
        assert all(run.visits > 0 and run.texts > 0 for run in runs)
        assert all(run.done_at is not None for run in runs)
        # Computed on the seed's today: the months before whole, October up to the 20th.
        assert [run.through for run in runs] == [
            *(compute.last_day(month) for month in MONTHS[:-1]),
            SEED_TODAY,
        ]

    def test_weekend_hours_are_among_the_top_rising_themes(self):
        july = Run.objects.get(month=MONTHS[0])
        # 20 of October's 31 days had passed: the months before are scaled to the same share.
        share = compute.elapsed_share(OCTOBER, SEED_TODAY)
        assert share == pytest.approx(20 / 31)
        for station in (None, mall()):
            top = list(Theme.objects.filter(month=OCTOBER, station=station).order_by("rank")[:3])
            weekend = next(theme for theme in top if theme.term == "周末办证")
            assert weekend.count >= 7
            # One text in August, one in September; July had none, so it counts as half the
            # least count July kept (nothing when July kept every term).
            history = dict(
                TermCount.objects.filter(
                    month__in=MONTHS[:-1], station=station, term="周末办证"
                ).values_list("month", "count")
            )
            assert history == {MONTHS[1]: 1, MONTHS[2]: 1}
            expected = (1 + 1 + july.term_cutoff / 2) / 3 * share
            assert weekend.baseline == pytest.approx(expected, abs=0.01)
            assert weekend.growth == pytest.approx(weekend.count / max(expected, 1), abs=0.01)
            assert weekend.growth >= 7

    def test_the_weekend_theme_leads_to_the_proposals_asking_for_weekend_hours(self):
        theme = Theme.objects.get(month=OCTOBER, station=None, term="周末办证")
        proposal_ids = set(
            ThemeItem.objects.filter(theme=theme, source="proposals").values_list(
                "object_id", flat=True
            )
        )
        titles = set(Proposal.objects.filter(pk__in=proposal_ids).values_list("title", flat=True))
        this_month = {row[3] for row in radar_seed.WEEKEND_PROPOSALS if row[0] == 0}

        assert this_month <= titles
        start, end = compute.month_bounds(OCTOBER)
        assert all(
            start <= published < end
            for published in Proposal.objects.filter(pk__in=proposal_ids).values_list(
                "published_at", flat=True
            )
        )

    def test_the_saturday_afternoon_exit_entry_queue_is_the_mall_peak(self):
        for month in MONTHS:
            cells = queue_by_cell(month, mall())
            (weekday, hour), peak = max(cells.items(), key=lambda item: item[1]["queue"])
            assert (month, weekday, hour) == (month, 5, 14)
            services = peak["services"]
            assert max(services, key=services.get) == "exit-entry"
            assert services["exit-entry"] > 0.6 * sum(services.values())

    def test_searches_that_found_nothing_show_as_unmet_demand(self):
        rows = {
            row.term: row
            for row in UnmetDemand.objects.filter(month=OCTOBER, station=mall()).select_related(
                "service"
            )
        }

        assert rows["外国人签证延期"].searches == 5
        assert rows["电动车上牌"].searches == 5
        assert rows["护照加急"].searches == 4  # September's search stays in September
        # Offered online only: asked for at the station, named with its catalogue entry.
        assert rows["无犯罪记录证明"].service.service_code == "HK-NOCRIME"
        assert rows["无犯罪记录证明"].searches == 3

    def test_nobody_is_told_of_the_replayed_weekend_proposals(self):
        titles = [row[3] for row in radar_seed.WEEKEND_PROPOSALS]
        ids = list(Proposal.objects.filter(title__in=titles).values_list("pk", flat=True))

        assert len(ids) == len(titles)
        assert not Notification.objects.filter(payload__proposal_id__in=ids).exists()

    def test_seeding_again_writes_nothing(self):
        before = snapshot()

        output = seed()

        assert snapshot() == before
        assert "需求雷达演示" not in output
        assert "(+1" not in output
