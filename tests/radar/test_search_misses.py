"""Searches of the catalogue that found nothing (``services.search_miss_record``), as the
stations' home page records them: each searcher counts once per term, station and day, and no
more than ``MAX_NEW_TERMS_PER_DAY`` new terms are recorded a day, so nobody can stuff the
unmet-demand list on their own."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from governance.radar import compute, services
from governance.radar.models import SearchMiss, UnmetDemand
from governance.radar.services import search_miss_record
from tests.factories import StationFactory

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 3, 10)
MONTH = dt.date(2026, 3, 1)


def counts() -> dict:
    return {
        (day, station, term): count
        for day, station, term, count in SearchMiss.objects.values_list(
            "day", "station_id", "term", "count"
        )
    }


def test_one_searcher_searching_the_same_term_ten_times_counts_once():
    outcomes = [
        search_miss_record(query="外国人签证", searcher="203.0.113.7", day=DAY) for _ in range(10)
    ]

    assert outcomes == [True] + [False] * 9
    assert counts() == {(DAY, None, "外国人签证"): 1}
    # However the query is typed: the term is what counts.
    assert not search_miss_record(query="  外国人签证 ", searcher="203.0.113.7", day=DAY)
    assert counts() == {(DAY, None, "外国人签证"): 1}


def test_each_searcher_station_and_day_counts_on_its_own():
    station = StationFactory(slug="mall")
    for searcher in ("203.0.113.7", "203.0.113.8", "203.0.113.8"):
        search_miss_record(query="外国人签证", searcher=searcher, day=DAY)
    search_miss_record(query="外国人签证", searcher="203.0.113.7", station=station, day=DAY)
    search_miss_record(query="外国人签证", searcher="203.0.113.7", day=DAY + dt.timedelta(days=1))

    assert counts() == {
        (DAY, None, "外国人签证"): 2,
        (DAY, station.pk, "外国人签证"): 1,
        (DAY + dt.timedelta(days=1), None, "外国人签证"): 1,
    }


def test_no_more_new_terms_a_day_than_the_limit(monkeypatch):
    monkeypatch.setattr(services, "MAX_NEW_TERMS_PER_DAY", 3)
    for number in range(5):
        search_miss_record(query=f"事项{number}", searcher=f"10.0.0.{number}", day=DAY)
    # A term already recorded still counts, from another searcher.
    assert search_miss_record(query="事项0", searcher="10.0.0.99", day=DAY)
    # The next day has its own allowance.
    assert search_miss_record(query="事项4", searcher="10.0.0.4", day=DAY + dt.timedelta(days=1))

    assert counts() == {
        (DAY, None, "事项0"): 2,
        (DAY, None, "事项1"): 1,
        (DAY, None, "事项2"): 1,
        (DAY + dt.timedelta(days=1), None, "事项4"): 1,
    }


def test_the_home_page_counts_each_visitor_once(client):
    StationFactory(slug="mall")
    home = reverse("stations:home")
    for _ in range(10):
        assert client.get(home, {"q": "宠物证"}, REMOTE_ADDR="198.51.100.1").status_code == 200
    assert client.get(home, {"q": "宠物证"}, REMOTE_ADDR="198.51.100.2").status_code == 200

    today = compute.today()
    assert counts() == {(today, None, "宠物证"): 2}

    compute.compute_month(today)

    # Two people asked: enough to be listed, over all stations (the search named none).
    rows = list(
        UnmetDemand.objects.filter(month=compute.month_of(today)).values_list(
            "station", "term", "service", "mentions", "searches", "total"
        )
    )
    assert rows == [(None, "宠物证", None, 0, 2, 2)]


def test_one_visitor_alone_never_lists_an_unmet_demand(client):
    home = reverse("stations:home")
    for _ in range(10):
        client.get(home, {"q": "宠物证"}, REMOTE_ADDR="198.51.100.1")

    compute.compute_month(compute.today())

    assert not UnmetDemand.objects.exists()


def test_a_month_of_searches_sums_its_days():
    for day in (2, 3, 4):
        for searcher in ("a", "b"):
            search_miss_record(query="公证", searcher=searcher, day=MONTH.replace(day=day))

    run = compute.compute_month(MONTH)

    assert run.searches == 6
    assert set(UnmetDemand.objects.values_list("station", "term", "searches", "total")) == {
        (None, "公证", 6, 6)
    }
