"""A visit data set for the KPI tests, and the same metrics computed again in plain Python.

The data set spans 29 January – 2 February 2026 (across a month end), two stations with
different opening hours, three services of two departments (one of them at a kiosk), every
outcome, waits past the histogram cap, and visits either side of midnight in Asia/Shanghai.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import defaultdict
from zoneinfo import ZoneInfo

import pytest

from governance.kpis.registry import Scope
from governance.stations.models import Channel, OpeningHours, Visit
from tests.factories import DepartmentFactory, ServiceFactory, StationFactory

TZ = ZoneInfo("Asia/Shanghai")
FIRST_DAY = dt.date(2026, 1, 29)
LAST_DAY = dt.date(2026, 2, 2)
CAP = 240


def at(day: dt.date, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=TZ)


class World:
    def __init__(self):
        self.hukou = DepartmentFactory(slug="hukou")
        self.traffic = DepartmentFactory(slug="traffic")
        self.mall = StationFactory(slug="mall-station")  # 10:00–22:00 every day
        self.hall = StationFactory(slug="hall-station", hours=False)
        OpeningHours.objects.bulk_create(
            OpeningHours(station=self.hall, weekday=day, opens=dt.time(9), closes=dt.time(17))
            for day in range(5)
        )
        self.id_card = ServiceFactory(
            service_code="HK-ID", department=self.hukou, target_minutes=15
        )
        self.photo = ServiceFactory(
            service_code="HK-PHOTO", department=self.hukou, channel=Channel.KIOSK
        )
        self.fine = ServiceFactory(
            service_code="TR-FINE", department=self.traffic, target_minutes=10
        )
        self.stations = [self.mall, self.hall]
        self.services = [self.id_card, self.photo, self.fine]

    def visits(self, day: dt.date, count: int, *, seed: str = "") -> list[Visit]:
        """``count`` made-up visits on ``day`` (local), saved in one query."""
        rng = random.Random(f"{day}:{count}:{seed}")
        made = []
        for index in range(count):
            service = rng.choice(self.services)
            # Mostly in opening hours, some early in the morning and late at night.
            arrived = at(day, 0) + dt.timedelta(seconds=rng.randint(0, 86399))
            visit = Visit(
                station=rng.choice(self.stations),
                service=service,
                ticket=f"T{index:04d}",
                channel=service.channel,
                arrived_at=arrived,
            )
            roll = rng.random()
            if roll < 0.1:
                visit.outcome = Visit.Outcome.WAITING
            else:
                wait = (
                    0
                    if service.channel == Channel.KIOSK
                    else rng.choice(
                        [rng.randint(0, 3600), rng.randint(0, 300), rng.randint(14000, 16000)]
                    )
                )
                visit.called_at = arrived + dt.timedelta(seconds=wait)
                if roll < 0.2:
                    visit.outcome = Visit.Outcome.SERVING
                else:
                    visit.finished_at = visit.called_at + dt.timedelta(
                        seconds=rng.randint(60, 1800)
                    )
                    visit.outcome = rng.choice(
                        [Visit.Outcome.COMPLETED] * 4 + [Visit.Outcome.MISSING_DOCUMENTS]
                    )
            made.append(visit)
        return Visit.objects.bulk_create(made)

    def boundary_visits(self) -> tuple[Visit, Visit]:
        """One visit at 23:59 local on 31 January and one at 00:01 on 1 February."""
        late = Visit.objects.create(
            station=self.mall,
            service=self.id_card,
            ticket="LATE",
            channel=Channel.COUNTER,
            arrived_at=at(dt.date(2026, 1, 31), 23, 59),
            called_at=at(dt.date(2026, 2, 1), 0, 6, 30),
            finished_at=at(dt.date(2026, 2, 1), 0, 12),
            outcome=Visit.Outcome.COMPLETED,
        )
        early = Visit.objects.create(
            station=self.mall,
            service=self.fine,
            ticket="EARLY",
            channel=Channel.COUNTER,
            arrived_at=at(dt.date(2026, 2, 1), 0, 1),
            called_at=at(dt.date(2026, 2, 1), 0, 30),
            finished_at=at(dt.date(2026, 2, 1), 0, 55),
            outcome=Visit.Outcome.COMPLETED,
        )
        return late, early


@pytest.fixture
def world(db):
    return World()


@pytest.fixture
def seeded(world):
    day = FIRST_DAY
    while day <= LAST_DAY:
        world.visits(day, 60)
        day += dt.timedelta(days=1)
    world.boundary_visits()
    return world


# The metrics again, in plain Python over the raw rows -------------------------------------------


def nearest_rank(values: list[float], quantile: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(quantile * len(ordered))) - 1]


def scopes_of(visit: Visit) -> list[Scope]:
    return [
        Scope(),
        Scope(station_id=visit.station_id),
        Scope(service_id=visit.service_id),
        Scope(department_id=visit.service.department_id),
    ]


def expected(code: str, start: dt.date, end: dt.date) -> dict[tuple[dt.date, Scope], float]:
    """``{(day, scope): value}`` of metric ``code`` computed from the raw visits."""
    hours = defaultdict(list)
    for hour in OpeningHours.objects.all():
        hours[hour.station_id, hour.weekday].append((hour.opens, hour.closes))
    groups: dict[tuple[dt.date, Scope], list[Visit]] = defaultdict(list)
    for visit in Visit.objects.select_related("service"):
        local = visit.arrived_at.astimezone(TZ)
        if start <= local.date() <= end:
            for scope in scopes_of(visit):
                groups[local.date(), scope].append(visit)

    def value(visits: list[Visit]) -> float | None:
        if code == "stations.visits":
            return float(len(visits))
        if code in ("stations.wait_median", "stations.wait_p90"):
            minutes = [
                min(CAP, math.floor(visit.wait_minutes))
                for visit in visits
                if visit.channel == Channel.COUNTER and visit.called_at
            ]
            return nearest_rank(minutes, 0.5 if code.endswith("median") else 0.9)
        if code == "stations.within_target":
            done = [
                visit
                for visit in visits
                if visit.outcome == Visit.Outcome.COMPLETED and visit.finished_at
            ]
            if not done:
                return None
            within = [v for v in done if v.handling_minutes <= v.service.target_minutes]
            return 100 * len(within) / len(done)
        if code == "stations.self_service":
            return 100 * sum(visit.channel == Channel.KIOSK for visit in visits) / len(visits)
        if code == "stations.after_hours":
            outside = 0
            for visit in visits:
                local = visit.arrived_at.astimezone(TZ)
                spans = hours[visit.station_id, local.weekday()]
                if not any(opens <= local.time() < closes for opens, closes in spans):
                    outside += 1
            return float(outside) if outside else None
        raise AssertionError(code)

    result = {}
    for key, visits in groups.items():
        figure = value(visits)
        if figure is not None:
            result[key] = figure
    return result
