from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from governance.kpis.models import Indicator, ReportedFigure, Visibility
from tests.factories import ServiceFactory, StationFactory
from tests.kpis.factories import daily, indicator, monthly_target
from tests.query_budget import assert_constant_queries

pytestmark = pytest.mark.django_db

JAN = dt.date(2026, 1, 1)
FEB = dt.date(2026, 2, 1)


@pytest.fixture
def kpis(department, other_department, partner):
    public = indicator("visits", owners=[department, partner])
    stakeholders = indicator(
        "within-target",
        metric="stations.within_target",
        owners=[other_department],
        visibility=Visibility.STAKEHOLDERS,
    )
    owners = indicator(
        "wait-median",
        metric="stations.wait_median",
        owners=[department, partner],
        visibility=Visibility.OWNERS,
    )
    return {"public": public, "stakeholders": stakeholders, "owners": owners}


def codes(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["code"] for row in response.json()["results"]}


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (None, {"visits"}),
        ("citizen", {"visits"}),
        ("department_staff", {"visits", "within-target", "wait-median"}),
        ("other_department_staff", {"visits", "within-target"}),
        ("partner_admin", {"visits", "within-target", "wait-median"}),
        ("other_partner_admin", {"visits", "within-target"}),
        ("superuser", {"visits", "within-target", "wait-median"}),
    ],
)
def test_list_shows_each_role_the_kpis_it_may_see(request, kpis, role, expected):
    user = request.getfixturevalue(role) if role else None

    assert codes(client_for(user).get("/api/v1/kpis/")) == expected


def test_inactive_kpis_are_hidden_except_from_superusers(kpis, citizen, superuser):
    Indicator.objects.filter(code="visits").update(is_active=False)

    assert codes(client_for(citizen).get("/api/v1/kpis/")) == set()
    assert "visits" in codes(client_for(superuser).get("/api/v1/kpis/"))


def test_detail_has_the_definition_and_owners(kpis):
    response = client_for().get("/api/v1/kpis/visits/")

    assert response.status_code == 200
    body = response.json()
    assert body["metric"] == "stations.visits"
    assert body["unit"] == "件"
    assert body["higher_is_better"] is True
    assert {owner["slug"] for owner in body["owners"]} == {"hukou", "mall"}
    assert body["url"].endswith("/api/v1/kpis/visits/")


@pytest.mark.parametrize("role", [None, "citizen", "other_department_staff"])
def test_detail_of_a_kpi_the_caller_may_not_see_is_404(request, kpis, role):
    user = request.getfixturevalue(role) if role else None

    assert client_for(user).get("/api/v1/kpis/wait-median/").status_code == 404
    assert client_for(user).get("/api/v1/kpis/wait-median/measurements/").status_code == 404


def test_unknown_kpi_is_404(kpis):
    assert client_for().get("/api/v1/kpis/nope/").status_code == 404
    assert client_for().get("/api/v1/kpis/nope/measurements/").status_code == 404


def test_list_filters_by_visibility_owner_and_metric(kpis, superuser):
    client = client_for(superuser)

    assert codes(client.get("/api/v1/kpis/?visibility=owners")) == {"wait-median"}
    assert codes(client.get("/api/v1/kpis/?owner=traffic")) == {"within-target"}
    assert codes(client.get("/api/v1/kpis/?owner=mall")) == {"visits", "wait-median"}
    assert codes(client.get("/api/v1/kpis/?metric=stations.visits")) == {"visits"}


@pytest.mark.parametrize(
    ("query", "field"),
    [("metric=stations.nope", "metric"), ("visibility=secret", "visibility"), ("owner=x", "owner")],
)
def test_a_bad_filter_is_400_naming_the_field(kpis, query, field):
    response = client_for().get(f"/api/v1/kpis/?{query}")

    assert response.status_code == 400
    assert field in response.json()


def test_list_runs_a_constant_number_of_queries(department, partner, department_staff):
    client = client_for(department_staff)
    made = []

    def make(count):
        for _index in range(count):
            code = f"kpi-{len(made)}"
            made.append(indicator(code, owners=[department, partner], visibility=Visibility.OWNERS))

    assert_constant_queries(
        lambda: client.get("/api/v1/kpis/?page_size=100"),
        make,
        check=lambda response, rows: len(response.json()["results"]) == rows,
    )


def test_measurements_give_each_months_value_target_and_light(kpis):
    daily("stations.visits", JAN, 31, value=10)  # 310 in January
    daily("stations.visits", FEB, 28, value=5)  # 140 in February
    monthly_target(kpis["public"], JAN, green=300, amber=200)
    monthly_target(kpis["public"], FEB, green=300, amber=200)

    response = client_for().get("/api/v1/kpis/visits/measurements/?from=2026-01-15&to=2026-03-02")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["period"] == "month"
    assert body["scope"] == {"dimension": None, "key": None}
    rows = [(row["start"], row["value"], row["light"]) for row in body["periods"]]
    assert rows == [
        ("2026-01-01", 310.0, "green"),
        ("2026-02-01", 140.0, "red"),
        ("2026-03-01", None, None),
    ]
    assert body["periods"][0]["target"] == {"green": 300.0, "amber": 200.0}
    assert body["periods"][2]["target"] is None


def test_measurements_by_quarter_and_year_combine_the_days(kpis):
    daily("stations.visits", JAN, 90, value=2)

    quarter = client_for().get(
        "/api/v1/kpis/visits/measurements/?period=quarter&from=2026-01-01&to=2026-06-30"
    )
    year = client_for().get("/api/v1/kpis/visits/measurements/?period=year&from=2026-05-05")

    assert [row["value"] for row in quarter.json()["periods"]] == [180.0, None]
    assert quarter.json()["periods"][0]["end"] == "2026-03-31"
    assert year.json()["periods"][0]["value"] == 180.0
    assert year.json()["periods"][0]["end"] == "2026-12-31"


def test_measurements_of_a_weighted_mean_weigh_each_day(kpis, department):
    made = indicator("self-service", metric="stations.self_service", owners=[department])
    daily("stations.self_service", JAN, 1, value=50, weight=10)
    daily("stations.self_service", dt.date(2026, 1, 2), 1, value=0, weight=30)

    response = client_for().get(
        f"/api/v1/kpis/{made.code}/measurements/?from=2026-01-01&to=2026-01-31"
    )

    assert response.json()["periods"][0]["value"] == pytest.approx(12.5)


def test_measurements_by_scope(kpis, department):
    station = StationFactory(slug="mixc")
    service = ServiceFactory(service_code="HK-ID", department=department)
    daily("stations.visits", JAN, 2, value=1)
    daily("stations.visits", JAN, 2, value=3, station=station)
    daily("stations.visits", JAN, 2, value=4, service=service)
    daily("stations.visits", JAN, 2, value=6, department=department)
    monthly_target(kpis["public"], JAN, green=5, amber=4, station=station)
    base = "/api/v1/kpis/visits/measurements/?from=2026-01-01&to=2026-01-31"

    def first(query):
        response = client_for().get(f"{base}&{query}")
        assert response.status_code == 200, response.content
        return response.json()

    assert first("station=mixc")["periods"][0]["value"] == 6.0
    assert first("station=mixc")["periods"][0]["light"] == "green"
    assert first("station=mixc")["scope"] == {"dimension": "station", "key": "mixc"}
    assert first("service=HK-ID")["periods"][0]["value"] == 8.0
    assert first("department=hukou")["periods"][0]["value"] == 12.0
    assert first("department=hukou")["periods"][0]["target"] is None


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("period=week", "period"),
        ("from=yesterday", "from"),
        ("to=2026-13-01", "to"),
        ("from=2026-03-01&to=2026-01-01", "from"),
        ("from=1900-01-01&to=2026-01-01", "from"),
        ("period=month&from=2000-01-01&to=2026-01-01", "to"),
        ("station=nowhere", "station"),
        ("department=mall", "department"),
        ("station=mixc&service=HK-ID", "service"),
        ("partner=mall", None),
    ],
)
def test_bad_measurement_parameters_are_400_naming_the_field(kpis, query, field):
    StationFactory(slug="mixc")
    response = client_for().get(f"/api/v1/kpis/visits/measurements/?{query}")

    if field is None:  # an unknown parameter is ignored
        assert response.status_code == 200
        return
    assert response.status_code == 400, response.content
    assert field in response.json()


def test_reported_figures_are_shown_only_when_approved_and_not_in_the_future(partner, department):
    footfall = indicator(
        "footfall", kind=Indicator.Kind.REPORTED, unit="人次", owners=[partner, department]
    )

    def figure(start, status, value):
        return ReportedFigure.objects.create(
            indicator=footfall,
            period="month",
            period_start=start,
            value=value,
            reported_by=partner,
            status=status,
            reviewed_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC) if status == "approved" else None,
        )

    figure(JAN, "approved", 1000)
    figure(FEB, "pending", 2000)
    figure(dt.date(2100, 1, 1), "approved", 3000)

    response = client_for().get("/api/v1/kpis/footfall/measurements/?from=2026-01-01&to=2026-02-28")
    future = client_for().get("/api/v1/kpis/footfall/measurements/?from=2100-01-01&to=2100-01-31")

    assert [row["value"] for row in response.json()["periods"]] == [1000.0, None]
    assert future.json()["periods"][0]["value"] is None
    assert client_for().get("/api/v1/kpis/footfall/").json()["unit"] == "人次"


@pytest.mark.parametrize("name", ["period", "from", "to", "station"])
def test_a_blank_measurement_parameter_is_400(kpis, name):
    response = client_for().get(f"/api/v1/kpis/visits/measurements/?{name}=")

    assert response.status_code == 400
    assert name in response.json()
