from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance.kpis import tasks
from governance.kpis.models import DirtyDay, Measurement
from governance.kpis.registry import Scope, local_day
from governance.kpis.services import (
    BackfillRangeError,
    kpis_backfill,
    kpis_mark_dirty,
    kpis_rollup,
    measure,
)
from governance.stations.metrics import METRIC_CODES
from governance.stations.models import Channel, Visit
from governance.stations.services import visit_call, visit_finish, visit_record
from tests.kpis.conftest import FIRST_DAY, LAST_DAY, at

pytestmark = pytest.mark.django_db


def snapshot() -> set[tuple]:
    fields = ("metric", "day", "station", "service", "department", "partner", "value", "weight")
    return {
        (*row[:-1], tuple(sorted((row[-1] or {}).items())))
        for row in Measurement.objects.values_list(*fields, "histogram")
    }


def test_mark_dirty_is_idempotent_and_defaults_to_every_metric(db):
    day = dt.date(2026, 1, 5)
    kpis_mark_dirty(days=[day, day])
    kpis_mark_dirty(days=[day])
    assert set(DirtyDay.objects.values_list("metric", flat=True)) >= set(METRIC_CODES)
    assert DirtyDay.objects.filter(metric="stations.visits").count() == 1


def test_visit_services_mark_the_arrival_day_dirty(world, citizen):
    arrived = at(dt.date(2026, 1, 31), 23, 59)
    visit = visit_record(
        actor=citizen,
        station=world.mall,
        service=world.id_card,
        ticket="A001",
        channel=Channel.COUNTER,
        arrived_at=arrived,
    )
    marked = set(DirtyDay.objects.values_list("metric", "day"))
    assert marked == {(code, dt.date(2026, 1, 31)) for code in METRIC_CODES}
    DirtyDay.objects.all().delete()
    visit_call(
        actor=citizen, visit=visit, counter="01", called_at=arrived + dt.timedelta(minutes=5)
    )
    assert set(DirtyDay.objects.values_list("day", flat=True)) == {dt.date(2026, 1, 31)}
    DirtyDay.objects.all().delete()
    visit_finish(
        actor=citizen,
        visit=visit,
        outcome=Visit.Outcome.COMPLETED,
        finished_at=arrived + dt.timedelta(minutes=15),
    )
    assert DirtyDay.objects.filter(day=dt.date(2026, 1, 31)).count() == len(METRIC_CODES)


def test_rollup_recomputes_only_dirty_days_and_clears_the_marks(seeded):
    kpis_mark_dirty(metric_codes=["stations.visits"], days=[FIRST_DAY])
    outcome = kpis_rollup()
    assert outcome["days"] == 1
    assert set(Measurement.objects.values_list("metric", "day").distinct()) == {
        ("stations.visits", FIRST_DAY)
    }
    assert not DirtyDay.objects.exists()
    assert kpis_rollup()["days"] == 0


def test_dirty_day_recompute_equals_a_full_backfill(seeded, citizen):
    kpis_backfill(start=FIRST_DAY, end=LAST_DAY)
    # Changes through the services and an import that marks its own days.
    visit = visit_record(
        actor=citizen,
        station=seeded.hall,
        service=seeded.fine,
        ticket="B900",
        channel=Channel.COUNTER,
        arrived_at=at(dt.date(2026, 1, 30), 10),
    )
    visit_call(actor=citizen, visit=visit, counter="02", called_at=at(dt.date(2026, 1, 30), 10, 50))
    imported = seeded.visits(dt.date(2026, 2, 1), 30, seed="import")
    kpis_mark_dirty(days={local_day(visit.arrived_at) for visit in imported})
    Visit.objects.filter(pk=seeded.mall.visits.order_by("pk").first().pk).update(
        outcome=Visit.Outcome.ABANDONED
    )
    kpis_mark_dirty(days=list({local_day(v.arrived_at) for v in seeded.mall.visits.all()}))
    kpis_rollup()
    incremental = snapshot()
    assert len(incremental) > 100
    Measurement.objects.all().delete()
    kpis_backfill(start=FIRST_DAY, end=LAST_DAY)
    assert snapshot() == incremental


def test_late_data_marks_its_day_dirty_and_the_next_rollup_fixes_it(seeded, citizen):
    kpis_backfill(start=FIRST_DAY, end=LAST_DAY)
    day = dt.date(2026, 1, 30)
    scope = Scope(station_id=seeded.hall.pk)
    before = measure("stations.visits", scope, day, day)
    visit_record(
        actor=citizen,
        station=seeded.hall,
        service=seeded.fine,
        ticket="LATE1",
        channel=Channel.COUNTER,
        arrived_at=at(day, 11),
    )
    assert measure("stations.visits", scope, day, day) == before
    kpis_rollup()
    assert measure("stations.visits", scope, day, day) == before + 1
    assert not DirtyDay.objects.exists()


@pytest.mark.parametrize("count", [10, 200])
def test_rollup_of_one_day_runs_a_constant_number_of_queries(world, count):
    day = dt.date(2026, 2, 3)
    world.visits(day, count)
    kpis_mark_dirty(metric_codes=METRIC_CODES, days=[day])
    with CaptureQueriesContext(connection) as queries:
        kpis_rollup()
    assert Measurement.objects.filter(day=day, metric="stations.visits").exists()
    # marks read, marks deleted, then per metric: compute, delete, insert; plus savepoints.
    statements = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == 2 + 3 * len(METRIC_CODES)


def test_rollup_queries_do_not_grow_with_the_days_visits(world):
    counts = []
    for day, count in ((dt.date(2026, 2, 3), 10), (dt.date(2026, 2, 4), 200)):
        world.visits(day, count)
        kpis_mark_dirty(metric_codes=METRIC_CODES, days=[day])
        with CaptureQueriesContext(connection) as queries:
            kpis_rollup()
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1]


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (dt.date(2026, 2, 1), dt.date(2026, 1, 31), "颠倒"),
        (dt.date(2023, 1, 1), dt.date(2026, 1, 1), "3 年"),
        (dt.date(2024, 2, 29), dt.date(2027, 2, 28), "3 年"),
    ],
)
def test_bad_backfill_range_raises_and_writes_nothing(seeded, start, end, message):
    kpis_mark_dirty(days=[FIRST_DAY])
    marks = DirtyDay.objects.count()
    with pytest.raises(BackfillRangeError, match=message):
        kpis_backfill(start=start, end=end)
    assert not Measurement.objects.exists()
    assert DirtyDay.objects.count() == marks


def test_backfill_of_three_years_less_a_day_is_accepted(db):
    outcome = kpis_backfill(start=dt.date(2023, 1, 1), end=dt.date(2025, 12, 31))
    assert outcome["days"] == 1096


def test_backfill_command_recomputes_the_range(seeded, capsys):
    call_command("kpis_backfill", "--from", "2026-01-29", "--to", "2026-02-02")
    assert "5 days" in capsys.readouterr().out
    assert Measurement.objects.filter(day=FIRST_DAY, metric="stations.visits").exists()


@pytest.mark.parametrize(
    "args",
    [
        ("--from", "2026-02-02", "--to", "2026-01-29"),
        ("--from", "2020-01-01", "--to", "2026-01-01"),
        ("--from", "yesterday", "--to", "2026-01-01"),
        ("--from", "2026-01-01", "--to", "2026-01-02", "--metric", "stations.nothing"),
    ],
)
def test_backfill_command_refuses_bad_input_and_writes_nothing(seeded, args):
    with pytest.raises(CommandError):
        call_command("kpis_backfill", *args)
    assert not Measurement.objects.exists()


def test_rollup_task_marks_today_and_yesterday(world):
    today = local_day(timezone.now())
    world.visits(today, 5)
    outcome = tasks.rollup()
    assert outcome["days"] == 2
    assert (
        measure("stations.visits", None, today, today)
        == Visit.objects.filter(arrived_at__gte=at(today, 0)).count()
    )


def test_a_scope_has_one_measurement_per_metric_and_day(db):
    Measurement.objects.create(metric="stations.visits", day=FIRST_DAY, value=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Measurement.objects.create(metric="stations.visits", day=FIRST_DAY, value=2)


def test_a_measurement_has_at_most_one_scope_column(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        Measurement.objects.create(
            metric="stations.visits",
            day=FIRST_DAY,
            value=1,
            station=world.mall,
            service=world.id_card,
        )
