from __future__ import annotations

import datetime as dt
import math

import pytest

from governance.kpis import registry
from governance.kpis.registry import Combine, Dimension, Metric, Scope
from governance.kpis.services import kpis_backfill, measure
from governance.stations.metrics import METRIC_CODES
from governance.stations.models import Channel, Visit
from tests.kpis.conftest import CAP, FIRST_DAY, LAST_DAY, TZ, expected, nearest_rank

pytestmark = pytest.mark.django_db


def test_visit_metrics_are_registered_by_the_stations_app():
    codes = {metric.code for metric in registry.all_metrics()}
    assert set(METRIC_CODES) <= codes
    wait = registry.get("stations.wait_median")
    assert wait.combine == Combine.DISTRIBUTION
    assert not wait.higher_is_better
    assert wait.dimensions == {Dimension.STATION, Dimension.SERVICE, Dimension.DEPARTMENT}


def test_unknown_metric_code_raises():
    with pytest.raises(registry.UnknownMetric):
        registry.get("stations.nothing")


def test_metric_definition_is_checked():
    with pytest.raises(ValueError, match="quantile"):
        Metric(
            code="tests.wait",
            label="wait",
            unit="min",
            higher_is_better=False,
            dimensions=frozenset(),
            combine=Combine.DISTRIBUTION,
            compute=lambda start, end: [],
        )
    with pytest.raises(ValueError, match="dotted"):
        Metric(
            code="Visits",
            label="visits",
            unit="",
            higher_is_better=True,
            dimensions=frozenset(),
            combine=Combine.SUM,
            compute=lambda start, end: [],
        )


@pytest.mark.parametrize("code", METRIC_CODES)
def test_registry_computation_equals_plain_python_over_raw_rows(seeded, code):
    rows = registry.get(code).compute(FIRST_DAY, LAST_DAY)
    computed = {(row.day, row.scope): row.value for row in rows}
    assert computed.keys() == expected(code, FIRST_DAY, LAST_DAY).keys()
    for key, value in expected(code, FIRST_DAY, LAST_DAY).items():
        assert computed[key] == pytest.approx(value), key


@pytest.mark.parametrize("code", METRIC_CODES)
def test_compute_runs_a_constant_number_of_queries(seeded, code, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        registry.get(code).compute(FIRST_DAY, LAST_DAY)


def test_visit_at_2359_local_belongs_to_that_day_and_month(world):
    late, early = world.boundary_visits()
    kpis_backfill(start=dt.date(2026, 1, 1), end=dt.date(2026, 2, 28))
    station = Scope(station_id=world.mall.pk)
    assert measure("stations.visits", station, dt.date(2026, 1, 31), dt.date(2026, 1, 31)) == 1
    assert measure("stations.visits", station, dt.date(2026, 2, 1), dt.date(2026, 2, 1)) == 1
    assert measure("stations.visits", station, dt.date(2026, 1, 1), dt.date(2026, 1, 31)) == 1
    assert measure("stations.visits", station, dt.date(2026, 2, 1), dt.date(2026, 2, 28)) == 1
    # In UTC both are on 31 January.
    assert late.arrived_at.astimezone(dt.UTC).date() == early.arrived_at.astimezone(dt.UTC).date()
    # 23:59 and 00:01 are outside the mall's 10:00–22:00 hours.
    assert measure("stations.after_hours", None, dt.date(2026, 1, 31), dt.date(2026, 2, 1)) == 2


def raw_wait_minutes(start: dt.date, end: dt.date, **filters) -> list[int]:
    minutes = []
    for visit in Visit.objects.filter(channel=Channel.COUNTER, called_at__isnull=False, **filters):
        if start <= visit.arrived_at.astimezone(TZ).date() <= end:
            minutes.append(min(CAP, math.floor(visit.wait_minutes)))
    return minutes


def test_month_median_from_merged_histograms_is_the_true_median(world):
    start, end = dt.date(2026, 3, 1), dt.date(2026, 3, 31)
    for offset in range(31):
        world.visits(start + dt.timedelta(days=offset), 25)
    kpis_backfill(start=start, end=end)
    raw = raw_wait_minutes(start, end)
    assert measure("stations.wait_median", None, start, end) == nearest_rank(raw, 0.5)
    assert measure("stations.wait_p90", None, start, end) == nearest_rank(raw, 0.9)
    hall = raw_wait_minutes(start, end, station=world.hall)
    scope = Scope(station_id=world.hall.pk)
    assert measure("stations.wait_median", scope, start, end) == nearest_rank(hall, 0.5)


def test_period_values_combine_days_by_the_metric_rule(seeded):
    kpis_backfill(start=FIRST_DAY, end=LAST_DAY)
    visits = [
        visit
        for visit in Visit.objects.select_related("service")
        if FIRST_DAY <= visit.arrived_at.astimezone(TZ).date() <= LAST_DAY
    ]
    assert measure("stations.visits", None, FIRST_DAY, LAST_DAY) == len(visits)
    kiosk = sum(visit.channel == Channel.KIOSK for visit in visits)
    assert measure("stations.self_service", None, FIRST_DAY, LAST_DAY) == pytest.approx(
        100 * kiosk / len(visits)
    )
    done = [v for v in visits if v.outcome == Visit.Outcome.COMPLETED and v.finished_at]
    within = [v for v in done if v.handling_minutes <= v.service.target_minutes]
    department = Scope(department_id=seeded.hukou.pk)
    hukou = [v for v in done if v.service.department_id == seeded.hukou.pk]
    hukou_within = [v for v in hukou if v.handling_minutes <= v.service.target_minutes]
    assert measure("stations.within_target", None, FIRST_DAY, LAST_DAY) == pytest.approx(
        100 * len(within) / len(done)
    )
    assert measure("stations.within_target", department, FIRST_DAY, LAST_DAY) == pytest.approx(
        100 * len(hukou_within) / len(hukou)
    )


def test_measure_of_an_empty_period_is_none(world):
    day = dt.date(2026, 5, 1)
    for code in METRIC_CODES:
        assert measure(code, None, day, day) is None


def test_histogram_quantile_is_nearest_rank():
    histogram = {"1": 1, "3": 2, "240": 1}
    assert registry.histogram_quantile(histogram, 0.5) == 3
    assert registry.histogram_quantile(histogram, 0.25) == 1
    assert registry.histogram_quantile(histogram, 0.9) == 240
    assert registry.histogram_quantile({}, 0.5) is None
    assert registry.histogram_merge([{"1": 1}, None, {"1": 2, "4": 1}]) == {1: 3, 4: 1}


def test_histograms_merge_whether_their_bins_come_from_json_or_python():
    # Fresh rows carry int bins, stored ones string bins: the same bin adds up either way.
    merged = registry.histogram_merge([{3: 2, "3": 1}, {"12": 4}, {12: 1, 40: 1}, {}])
    assert merged == {3: 3, 12: 5, 40: 1}
    assert all(isinstance(bin_, int) for bin_ in merged)
