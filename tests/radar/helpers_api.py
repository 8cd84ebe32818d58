"""Builders shared by the radar's query and API tests: visits at a given local time, stored
heatmap cells, a reason source and a text source registered for one test only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pytest
from django.urls import reverse
from django.utils import timezone

from governance.radar import registry
from governance.radar.compute import TZ, last_day
from governance.radar.models import HeatCell, Run
from governance.radar.registry import Item, ReasonSource, TextSource
from governance.stations.models import Station
from tests.factories import VisitFactory

MONTH = dt.date(2026, 3, 1)  # March 2026: four Saturdays (7, 14, 21, 28), five Mondays
LAST = dt.date(2026, 2, 1)
SATURDAYS = (7, 14, 21, 28)


def local(month: dt.date, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(month.year, month.month, day, hour, minute, tzinfo=TZ)


def visit(station, service, at: dt.datetime, wait: float | None):
    """One visit that arrived at ``at`` and was called ``wait`` minutes later (None: never)."""
    called = None if wait is None else at + dt.timedelta(minutes=wait)
    return VisitFactory(
        station=station,
        service=service,
        arrived_at=at,
        called_at=called,
        finished_at=None if called is None else called + dt.timedelta(minutes=5),
    )


def cell(station, service, weekday: int, hour: int, *, month=MONTH, visits=1, wait=0.0, **kw):
    """A stored heatmap cell (as ``compute`` writes them). Its waiting happened within the
    hour unless ``queue`` (the waiting minutes that fell in the hour) says otherwise."""
    return HeatCell.objects.create(
        month=month,
        station=station,
        service=service,
        weekday=weekday,
        hour=hour,
        visits=visits,
        called=kw.pop("called", visits),
        wait_minutes=wait,
        max_wait_minutes=kw.pop("max_wait", wait / visits if visits else 0.0),
        queue_minutes=kw.pop("queue", wait),
        days=kw.pop("days", 4),
    )


def done(month: dt.date) -> Run:
    """A month computed (its results stored), as of its last day."""
    return Run.objects.create(
        month=month,
        status=Run.Status.DONE,
        done_at=timezone.now(),
        through=last_day(month),
    )


TEST_REASONS = {"waiting_time": "等候时间长", "attitude": "态度不好"}


@pytest.fixture
def reason_source(monkeypatch):
    """A reason source ``test.bad`` (its counting unused: the tests store counts)."""
    source = ReasonSource(
        code="test.bad",
        label="测试差评",
        reasons=TEST_REASONS,
        count=lambda start, end: [],
        items_url=lambda reason, month, station, service, department: (
            f"/items/?reason={reason}&month={month:%Y-%m}&station={station or ''}"
        ),
    )
    monkeypatch.setitem(registry._reason_sources, source.code, source)
    return source


def _visible_stations(actor, ids: Iterable[int]) -> list[Item]:
    """A text source whose "texts" are stations: the active ones are visible, in one query."""
    rows = Station.objects.filter(pk__in=list(ids), is_active=True).order_by("pk")
    return [
        Item(
            source="test.stations",
            object_id=station.pk,
            title=station.name_zh,
            url=reverse("stations:station", args=[station.slug]),
            created_at=station.created_at,
        )
        for station in rows
    ]


@pytest.fixture
def station_text_source(monkeypatch):
    source = TextSource(
        code="test.stations",
        label="测试来源",
        model="stations.Station",
        fields=("description_zh",),
        created="created_at",
        visible=_visible_stations,
    )
    monkeypatch.setitem(registry._text_sources, source.code, source)
    return source
