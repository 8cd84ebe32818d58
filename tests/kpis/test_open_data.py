from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest

from governance.kpis import queries
from governance.kpis.models import Visibility
from tests.kpis.factories import daily, indicator, monthly_target

pytestmark = pytest.mark.django_db

JAN = dt.date(2026, 1, 1)


@pytest.fixture
def public(department, partner):
    made = indicator("visits", owners=[department, partner], name_zh="办件量")
    daily("stations.visits", dt.date(2025, 12, 30), 40, value=3)
    monthly_target(made, JAN, green=100, amber=80)
    return made


@pytest.fixture
def hidden(department):
    return indicator("hidden", owners=[department], visibility=Visibility.OWNERS)


def rows_of(response) -> list[dict]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


@pytest.fixture
def _february_tenth(monkeypatch):
    monkeypatch.setattr(queries, "local_today", lambda: dt.date(2026, 2, 10))


@pytest.mark.usefixtures("_february_tenth")
def test_csv_parses_and_matches_the_api(client, public):
    response = client.get("/kpis/visits.csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="visits.csv"'
    reader = csv.reader(io.StringIO(response.content.decode("utf-8-sig")))
    header = next(reader)
    assert header[:5] == ["code", "name_zh", "name_en", "unit", "direction"]
    rows = rows_of(response)
    api = client.get("/api/v1/kpis/visits/measurements/?from=2025-12-01&to=2026-02-28").json()
    assert [(row["period_start"], float(row["value"])) for row in rows] == [
        (period["start"], period["value"]) for period in api["periods"]
    ]
    january = rows[1]
    assert january["name_zh"] == "办件量"
    assert january["direction"] == "higher_is_better"
    assert january["owners"] == "hukou;mall"
    assert (january["target_green"], january["target_amber"], january["light"]) == (
        "100.0",
        "80.0",
        api["periods"][1]["light"],
    )


@pytest.mark.usefixtures("_february_tenth")
def test_json_has_the_definition_and_the_months(client, public):
    response = client.get("/kpis/visits.json")

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="visits.json"'
    body = json.loads(response.content)
    assert body["name_zh"] == "办件量"
    assert body["description_en"] == "How it is computed"
    assert body["unit"] == "件"
    assert body["direction"] == "higher_is_better"
    assert [owner["slug"] for owner in body["owners"]] == ["hukou", "mall"]
    assert [(row["start"], row["value"]) for row in body["measurements"]] == [
        ("2025-12-01", 6.0),
        ("2026-01-01", 93.0),
        ("2026-02-01", 21.0),  # 7 days
    ]
    assert body["measurements"][1]["target"] == {"green": 100.0, "amber": 80.0}
    assert body["measurements"][1]["light"] == "amber"


@pytest.mark.parametrize("suffix", ["csv", "json"])
def test_non_public_kpis_are_404_to_those_who_may_not_see_them(
    client, hidden, suffix, other_department_staff
):
    assert client.get(f"/kpis/hidden.{suffix}").status_code == 404
    client.force_login(other_department_staff)
    assert client.get(f"/kpis/hidden.{suffix}").status_code == 404
    assert client.get(f"/kpis/nope.{suffix}").status_code == 404


def test_owners_may_download_their_non_public_kpis(client, hidden, department_staff):
    client.force_login(department_staff)

    assert client.get("/kpis/hidden.csv").status_code == 200
    assert client.get("/kpis/hidden.json").status_code == 200


def test_open_data_refuses_writes(client, public):
    assert client.post("/kpis/visits.csv").status_code == 405
