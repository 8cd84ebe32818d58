"""The radar API, ``/api/v1/radar/…``: who may read it, what each endpoint answers, bad input,
and the OpenAPI schema."""

from __future__ import annotations

import datetime as dt

import pytest
import schemathesis
from django.utils import timezone
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck, settings
from rest_framework.test import APIClient

from governance.radar.compute import compute_month
from governance.radar.models import ReasonCount, Run, Theme, ThemeItem, UnmetDemand
from governance.stakeholders.models import Organisation
from governance.wsgi import application
from tests.factories import MembershipFactory, ServiceFactory, StationFactory, UserFactory
from tests.query_budget import assert_constant_queries
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

ENDPOINTS = (
    "/api/v1/radar/heatmap/?station=mall&period=2026-03",
    "/api/v1/radar/reasons/?period=2026-03",
    "/api/v1/radar/themes/?period=2026-03",
    "/api/v1/radar/unmet/?period=2026-03",
    "/api/v1/radar/runs/",
)


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def station(department):
    return StationFactory(slug="mall", name_zh="万象城服务站", departments=[department])


@pytest.fixture
def exit_entry(department, station):
    return ServiceFactory(service_code="EE-PASS", name_zh="出入境证件", stations=[station])


@pytest.fixture
def community_member(db):
    community = Organisation.objects.create(
        slug="neighbours", kind=Organisation.Kind.COMMUNITY, name_zh="社区"
    )
    return MembershipFactory(
        organisation=community, role="admin", user=UserFactory(email="community@example.com")
    ).user


@pytest.fixture
def theme(station):
    return Theme.objects.create(
        month=MONTH,
        station=None,
        term="周末办证",
        rank=1,
        count=6,
        baseline=1.0,
        growth=6.0,
        sources={"test.stations": 2},
    )


def ok(response) -> dict:
    assert response.status_code == 200, response.content
    return response.json()


# Who may read it ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "role",
    [
        "superuser",
        "department_admin",
        "department_staff",
        "department_viewer",
        "other_department_staff",
        "partner_admin",
        "partner_staff",
        "other_partner_admin",
    ],
)
def test_departments_partners_and_superusers_read_every_endpoint(request, role, station, theme):
    client = client_for(request.getfixturevalue(role))
    for url in (*ENDPOINTS, f"/api/v1/radar/themes/{theme.pk}/items/"):
        ok(client.get(url))


@pytest.mark.parametrize("role", ["citizen", "community_member"])
def test_citizens_and_community_members_are_refused(request, role, station, theme):
    client = client_for(request.getfixturevalue(role))
    for url in (*ENDPOINTS, f"/api/v1/radar/themes/{theme.pk}/items/"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert response.json()["detail"]


def test_anonymous_callers_must_sign_in(station, theme):
    for url in (*ENDPOINTS, f"/api/v1/radar/themes/{theme.pk}/items/"):
        response = client_for().get(url)
        assert response.status_code == 401, url
        assert response["WWW-Authenticate"].startswith("Token")


def test_a_bad_token_is_401(station):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token nope")
    assert client.get(ENDPOINTS[0]).status_code == 401


def test_refused_before_the_input_is_read(citizen):
    # No station, a malformed month: still a 403, not a 400 or 404.
    response = client_for(citizen).get("/api/v1/radar/heatmap/?station=nowhere&period=abc")
    assert response.status_code == 403


def test_writes_are_not_allowed(department_staff, station):
    client = client_for(department_staff)
    for url in ENDPOINTS:
        assert client.post(url.split("?")[0], {}).status_code == 405


# The heatmap --------------------------------------------------------------------------------
def test_heatmap_shows_the_saturday_afternoon_queue_and_its_services(
    department_admin, station, exit_entry, department
):
    hukou = ServiceFactory(service_code="HK-ID", name_zh="身份证", stations=[station])
    for day in SATURDAYS:
        for minute in (5, 20, 40):
            visit(station, exit_entry, local(MONTH, day, 14, minute), 30)
        visit(station, hukou, local(MONTH, day, 14, 50), 10)
    visit(station, hukou, local(MONTH, 3, 10, 0), 6)
    compute_month(MONTH)

    body = ok(
        client_for(department_admin).get(
            "/api/v1/radar/heatmap/", {"station": "mall", "period": "2026-03"}
        )
    )

    assert body["period"] == "2026-03"
    assert (body["computed"], body["empty"]) == (True, False)
    assert body["station"] == {"slug": "mall", "name": "万象城服务站"}
    # 15:00 is shown: the 14:40 exit-entry tickets were still waiting until 15:10.
    assert body["hours"] == [10, 11, 12, 13, 14, 15]
    cells = {(c["weekday"], c["hour"]): c for c in body["cells"]}
    saturday = cells[(5, 14)]
    assert saturday["visits"] == 16
    # 90 waiting minutes in the hour each Saturday (30 + 30 + 20 + 10), four Saturdays.
    assert saturday["queue"] == pytest.approx(360 / 240)
    assert saturday["mean_wait"] == pytest.approx(25)
    assert (saturday["days"], cells[(1, 10)]["days"]) == (4, 5)
    assert cells[(1, 10)]["queue"] == pytest.approx(6 / 300)
    assert {(5, 14), (1, 10)} <= set(cells)
    peak = body["peaks"][0]
    assert peak["label"] == "星期六 14:00–15:00"
    assert [s["service"]["service_code"] for s in peak["services"]] == ["EE-PASS", "HK-ID"]
    assert peak["services"][0]["share"] == pytest.approx(320 / 360)
    # The hour after holds the exit-entry waits' last ten minutes: 40 over four Saturdays.
    after = body["peaks"][1]
    assert after["label"] == "星期六 15:00–16:00"
    assert (after["cell"]["visits"], after["cell"]["queue"]) == (0, pytest.approx(40 / 240))
    assert [s["service"]["service_code"] for s in after["services"]] == ["EE-PASS"]
    assert peak["services"][0]["service"]["url"].endswith("/api/v1/services/EE-PASS/")
    assert [s["service"]["service_code"] for s in body["services"]] == ["EE-PASS", "HK-ID"]
    assert body["comparison"] is None


def test_heatmap_cells_include_an_hour_with_waiting_only(department_staff, station, exit_entry):
    cell(station, exit_entry, 5, 14, visits=4, wait=120.0, queue=80.0)
    cell(station, exit_entry, 5, 15, visits=0, wait=0.0, called=0, max_wait=0.0, queue=40.0)
    cell(station, exit_entry, 5, 15, month=LAST, visits=0, wait=0.0, called=0, queue=20.0)

    body = ok(
        client_for(department_staff).get(
            "/api/v1/radar/heatmap/?station=mall&period=2026-03&compare=2026-02"
        )
    )

    assert body["hours"] == [14, 15]
    cells = {(c["weekday"], c["hour"]): c for c in body["cells"]}
    assert set(cells) == {(5, 14), (5, 15)}
    assert cells[(5, 15)]["queue"] == pytest.approx(40 / 240)
    deltas = {(d["weekday"], d["hour"]): d for d in body["comparison"]["deltas"]}
    assert deltas[(5, 15)]["queue"] == pytest.approx(40 / 240 - 20 / 240)


def test_heatmap_compares_two_months(department_staff, station, exit_entry):
    cell(station, exit_entry, 5, 14, visits=40, wait=1200.0)
    cell(station, exit_entry, 5, 14, month=LAST, visits=10, wait=120.0)
    cell(station, exit_entry, 0, 9, month=LAST, visits=3, wait=6.0)

    body = ok(
        client_for(department_staff).get(
            "/api/v1/radar/heatmap/?station=mall&period=2026-03&compare=2026-02"
        )
    )

    comparison = body["comparison"]
    assert comparison["period"] == "2026-02"
    assert comparison["empty"] is False
    assert {(c["weekday"], c["hour"]) for c in comparison["cells"]} == {(5, 14), (0, 9)}
    deltas = {(d["weekday"], d["hour"]): d for d in comparison["deltas"]}
    assert set(deltas) == {(5, 14), (0, 9)}
    assert deltas[(5, 14)]["visits"] == 30
    assert deltas[(5, 14)]["queue"] == pytest.approx(5.0 - 0.5)
    assert deltas[(0, 9)]["mean_wait"] is None
    assert body["hours"] == list(range(9, 15))


def test_heatmap_of_a_month_never_computed_is_empty(department_staff, station):
    body = ok(
        client_for(department_staff).get("/api/v1/radar/heatmap/?station=mall&period=2025-01")
    )
    assert (body["computed"], body["empty"]) == (False, True)
    assert (body["cells"], body["peaks"], body["services"], body["hours"]) == ([], [], [], [])


def test_heatmap_period_defaults_to_the_latest_computed_month(
    department_staff, station, exit_entry
):
    done(LAST)
    cell(station, exit_entry, 2, 11, month=LAST)
    body = ok(client_for(department_staff).get("/api/v1/radar/heatmap/?station=mall"))
    assert body["period"] == "2026-02"
    assert body["computed"] is True
    assert len(body["cells"]) == 1


def test_heatmap_period_defaults_to_this_month_before_any_computation(department_staff, station):
    body = ok(client_for(department_staff).get("/api/v1/radar/heatmap/?station=mall"))
    assert body["period"] == f"{timezone.localdate():%Y-%m}"
    assert body["empty"] is True


def test_heatmap_of_an_unknown_station_is_404(department_staff, station):
    response = client_for(department_staff).get("/api/v1/radar/heatmap/?station=nowhere")
    assert response.status_code == 404
    assert "nowhere" in response.json()["detail"]


def test_heatmap_needs_a_station(department_staff, station):
    response = client_for(department_staff).get("/api/v1/radar/heatmap/?period=2026-03")
    assert response.status_code == 400
    assert "station" in response.json()


@pytest.mark.parametrize(
    "period", ["2026-13", "2026-00", "abc", "", "1999-12", "2026-3", "2026-03-01", "9999-01"]
)
@pytest.mark.parametrize("name", ["period", "compare"])
def test_heatmap_refuses_a_malformed_or_out_of_range_month(department_staff, station, name, period):
    response = client_for(department_staff).get(
        "/api/v1/radar/heatmap/", {"station": "mall", name: period}
    )
    assert response.status_code == 400
    body = response.json()
    assert list(body) == [name]
    assert body[name][0]


def test_a_month_after_next_year_is_out_of_range(department_staff, station):
    year = timezone.localdate().year
    client = client_for(department_staff)
    assert client.get(f"/api/v1/radar/themes/?period={year + 1}-12").status_code == 200
    assert client.get(f"/api/v1/radar/themes/?period={year + 2}-01").status_code == 400


def test_heatmap_runs_constant_queries(department_staff, station, department):
    counter = iter(range(1000))

    def grow(count: int) -> None:
        for _ in range(count):
            service = ServiceFactory(department=department, service_code=f"X-{next(counter):03d}")
            for weekday in (1, 5):
                cell(station, service, weekday, 14, visits=2, wait=10.0)
                cell(station, service, weekday, 10, month=LAST, visits=1, wait=3.0)

    client = client_for(department_staff)
    assert_constant_queries(
        lambda: client.get("/api/v1/radar/heatmap/?station=mall&period=2026-03&compare=2026-02"),
        grow,
        small=2,
        large=12,
        check=lambda response, rows: len(response.json()["services"]) == rows,
        max_queries=8,
    )


# Reasons ------------------------------------------------------------------------------------
@pytest.mark.usefixtures("reason_source")
def test_reasons_with_trend_and_links(department_viewer, station, exit_entry, department):
    for month, count in ((MONTH, 8), (LAST, 3), (dt.date(2025, 12, 1), 1)):
        ReasonCount.objects.create(
            month=month,
            source="test.bad",
            reason="waiting_time",
            station=station,
            service=exit_entry,
            department=department,
            count=count,
        )
    ReasonCount.objects.create(
        month=MONTH, source="test.bad", reason="attitude", station=None, count=2
    )
    done(MONTH)
    client = client_for(department_viewer)

    body = ok(client.get("/api/v1/radar/reasons/?period=2026-03&months=4"))
    assert body["months"] == ["2025-12", "2026-01", "2026-02", "2026-03"]
    assert (body["computed"], body["empty"], body["total"]) == (True, False, 10)
    first = body["reasons"][0]
    assert first == {
        "source": "test.bad",
        "source_label": "测试差评",
        "reason": "waiting_time",
        "label": "等候时间长",
        "count": 8,
        "last": 3,
        "change": 5,
        "series": [1, 0, 3, 8],
        "items_url": "/items/?reason=waiting_time&month=2026-03&station=",
    }
    assert body["station"] is None

    narrowed = ok(
        client.get(
            "/api/v1/radar/reasons/",
            {"period": "2026-03", "station": "mall", "service": "EE-PASS", "department": "hukou"},
        )
    )
    assert [row["reason"] for row in narrowed["reasons"]] == ["waiting_time"]
    assert narrowed["station"]["slug"] == "mall"
    assert narrowed["service"]["service_code"] == "EE-PASS"
    assert narrowed["department"] == {"slug": "hukou", "name": "户政管理"}
    assert len(narrowed["reasons"][0]["series"]) == 6


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("station", "nowhere"),
        ("service", "NOPE"),
        ("department", "nowhere"),
        ("department", "mall"),
    ],
)
def test_reasons_of_an_unknown_scope_are_404(department_staff, station, partner, name, value):
    response = client_for(department_staff).get(f"/api/v1/radar/reasons/?{name}={value}")
    assert response.status_code == 404
    assert value in response.json()["detail"]


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("months=0", "months"),
        ("months=25", "months"),
        ("months=x", "months"),
        ("station=", "station"),
        ("service=", "service"),
        (f"station={'s' * 65}", "station"),
        ("period=2026-13", "period"),
    ],
)
def test_reasons_refuse_bad_parameters(department_staff, station, query, name):
    response = client_for(department_staff).get(f"/api/v1/radar/reasons/?{query}")
    assert response.status_code == 400
    assert name in response.json()


def test_reasons_of_a_month_never_computed_are_empty(department_staff):
    body = ok(client_for(department_staff).get("/api/v1/radar/reasons/?period=2024-07"))
    assert (body["computed"], body["empty"], body["reasons"]) == (False, True, [])


# Themes -------------------------------------------------------------------------------------
def test_themes_ranked_with_links_to_their_items(partner_staff, station):
    for rank, term in enumerate(("周末办证", "排队", "停车"), start=1):
        Theme.objects.create(
            month=MONTH,
            term=term,
            rank=rank,
            count=10 - rank,
            baseline=1.0,
            growth=10.0 - rank,
            sources={"proposals": 3},
        )
    Theme.objects.create(
        month=MONTH, station=station, term="出入境", rank=1, count=3, baseline=0, growth=3
    )

    client = client_for(partner_staff)
    body = ok(client.get("/api/v1/radar/themes/?period=2026-03"))
    assert (body["empty"], body["station"]) == (False, None)
    assert [theme["term"] for theme in body["themes"]] == ["周末办证", "排队", "停车"]
    first = body["themes"][0]
    assert (first["rank"], first["count"], first["growth"]) == (1, 9, 9.0)
    assert first["sources"] == {"proposals": 3}
    assert first["items_url"].endswith(f"/api/v1/radar/themes/{first['id']}/items/")

    scoped = ok(client.get("/api/v1/radar/themes/?period=2026-03&station=mall"))
    assert [theme["term"] for theme in scoped["themes"]] == ["出入境"]
    assert scoped["station"]["slug"] == "mall"
    assert client.get("/api/v1/radar/themes/?station=nowhere").status_code == 404
    assert ok(client.get("/api/v1/radar/themes/?period=2026-04"))["empty"] is True


@pytest.mark.usefixtures("station_text_source")
def test_theme_items_are_only_those_the_caller_may_read(department_staff, theme):
    open_station = StationFactory(slug="open", name_zh="开放站")
    closed = StationFactory(slug="closed", is_active=False)
    for pk in (open_station.pk, closed.pk):
        ThemeItem.objects.create(theme=theme, source="test.stations", object_id=pk)
    ThemeItem.objects.create(theme=theme, source="unregistered", object_id=1)

    body = ok(client_for(department_staff).get(f"/api/v1/radar/themes/{theme.pk}/items/"))

    assert body["theme"]["term"] == "周末办证"
    assert body["period"] == "2026-03"
    assert body["station"] is None
    assert [(item["source"], item["object_id"]) for item in body["items"]] == [
        ("test.stations", open_station.pk)
    ]
    item = body["items"][0]
    assert item["source_label"] == "测试来源"
    assert item["url"] == "/stations/open/" or item["url"].endswith("/open/")
    assert item["title"] == "开放站"


@pytest.mark.parametrize("key", ["999999", "abc", "0", "-1", "99999999999999999999999"])
def test_items_of_an_unknown_theme_are_404(department_staff, key):
    response = client_for(department_staff).get(f"/api/v1/radar/themes/{key}/items/")
    assert response.status_code == 404
    assert response.json()["detail"]


@pytest.mark.usefixtures("station_text_source")
def test_theme_items_run_constant_queries(department_staff, theme):
    def grow(count: int) -> None:
        for _ in range(count):
            ThemeItem.objects.create(
                theme=theme, source="test.stations", object_id=StationFactory().pk
            )

    client = client_for(department_staff)
    assert_constant_queries(
        lambda: client.get(f"/api/v1/radar/themes/{theme.pk}/items/"),
        grow,
        check=lambda response, rows: len(response.json()["items"]) == rows,
        max_queries=6,
    )


# Unmet demand and runs ----------------------------------------------------------------------
def test_unmet_ranked_with_the_service_it_names(department_staff, station, department):
    licence = ServiceFactory(service_code="TR-LIC", name_zh="驾驶证")
    UnmetDemand.objects.create(
        month=MONTH, station=station, term="公证", rank=2, mentions=0, searches=5, total=5
    )
    UnmetDemand.objects.create(
        month=MONTH,
        station=station,
        term="驾驶证",
        service=licence,
        rank=1,
        mentions=6,
        searches=1,
        total=7,
        sources={"proposals": 6},
    )
    client = client_for(department_staff)

    body = ok(client.get("/api/v1/radar/unmet/?period=2026-03&station=mall"))
    assert [row["term"] for row in body["unmet"]] == ["驾驶证", "公证"]
    first, second = body["unmet"]
    assert first["service"]["service_code"] == "TR-LIC"
    assert (first["mentions"], first["searches"], first["total"]) == (6, 1, 7)
    assert first["sources"] == {"proposals": 6}
    assert second["service"] is None
    assert ok(client.get("/api/v1/radar/unmet/?period=2026-03"))["empty"] is True
    assert client.get("/api/v1/radar/unmet/?station=nowhere").status_code == 404
    assert client.get("/api/v1/radar/unmet/?period=abc").status_code == 400


def test_unmet_runs_constant_queries(department_staff, station, department):
    def grow(count: int) -> None:
        start = UnmetDemand.objects.count()
        for rank in range(start + 1, start + count + 1):
            UnmetDemand.objects.create(
                month=MONTH,
                station=station,
                term=f"诉求{rank}",
                service=ServiceFactory(department=department),
                rank=rank,
                mentions=1,
                searches=0,
                total=1,
            )

    client = client_for(department_staff)
    assert_constant_queries(
        lambda: client.get("/api/v1/radar/unmet/?period=2026-03&station=mall"),
        grow,
        small=3,
        large=25,
        check=lambda response, rows: len(response.json()["unmet"]) == rows,
        max_queries=6,
    )


def test_runs_newest_first(department_staff, station):
    compute_month(LAST)
    Run.objects.create(
        month=MONTH, status=Run.Status.FAILED, error="boom", finished_at=timezone.now()
    )

    rows = ok(client_for(department_staff).get("/api/v1/radar/runs/"))

    assert [(row["period"], row["status"]) for row in rows] == [
        ("2026-03", "failed"),
        ("2026-02", "done"),
    ]
    assert "error" not in rows[0]
    assert rows[0]["done_at"] is None  # never computed successfully
    assert rows[1]["finished_at"] is not None
    assert rows[1]["done_at"] is not None
    assert rows[1]["through"] == "2026-02-28"  # February has passed: every day counts
    assert rows[1]["seconds"] >= 0


# The schema ---------------------------------------------------------------------------------
def test_schema_documents_every_radar_operation(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)
    paths = schema["paths"]
    expected = {
        "/api/v1/radar/heatmap/": {"station", "period", "compare"},
        "/api/v1/radar/reasons/": {"period", "station", "service", "department", "months"},
        "/api/v1/radar/themes/": {"period", "station"},
        "/api/v1/radar/themes/{theme_id}/items/": {"theme_id"},
        "/api/v1/radar/unmet/": {"period", "station"},
        "/api/v1/radar/runs/": set(),
    }
    for path, parameters in expected.items():
        assert set(paths[path]) == {"get"}, path
        operation = paths[path]["get"]
        assert {p["name"] for p in operation.get("parameters", [])} == parameters, path
        assert {"200", "401", "403"} <= set(operation["responses"]), path
        assert operation["description"], path
    heatmap = {p["name"]: p for p in paths["/api/v1/radar/heatmap/"]["get"]["parameters"]}
    assert heatmap["station"]["required"] is True
    assert heatmap["period"]["schema"]["pattern"].startswith("^[0-9]{4}")
    for path in ("/api/v1/radar/heatmap/", "/api/v1/radar/reasons/", "/api/v1/radar/unmet/"):
        assert {"400", "404"} <= set(paths[path]["get"]["responses"]), path
    assert "404" in paths["/api/v1/radar/themes/{theme_id}/items/"]["get"]["responses"]
    statuses = schema["components"]["schemas"]["RadarRunStatusEnum"]["enum"]
    assert set(statuses) >= {"running", "done", "failed"}


# Fuzzing ------------------------------------------------------------------------------------
# schemathesis sends generated requests (valid and invalid ones) to every radar operation, as
# a department member and anonymously, against a small stored month: no answer may be a 5xx,
# and every status, header and body must be the schema's. An unknown station is a 404 for a
# schema-valid slug, by design, so the "valid data accepted" check is left out.
FUZZ_EXCLUDED = [schemathesis.checks.positive_data_acceptance]
radar_schema = schemathesis.openapi.from_wsgi("/api/schema/", application).include(
    path_regex=r"^/api/v1/radar/"
)
FUZZ_SETTINGS = settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)


@pytest.fixture
def radar_world(db, monkeypatch, department):
    """A department member's token and a stored month under slugs and ids the generator hits
    (station "0" and "a", themes 1 and 2)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections
    from rest_framework.authtoken.models import Token
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(
        SimpleRateThrottle,
        "THROTTLE_RATES",
        dict.fromkeys(SimpleRateThrottle.THROTTLE_RATES, "100000/min"),
    )
    # Requests go straight to the WSGI handler, which would close the test's connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    month = timezone.localdate().replace(day=1)
    for slug in ("0", "a"):
        station = StationFactory(slug=slug, departments=[department])
        service = ServiceFactory(department=department, stations=[station])
        cell(station, service, 5, 14, month=month, visits=5, wait=40.0)
        ReasonCount.objects.create(
            month=month, source="gone", reason="x", station=station, service=service, count=2
        )
        UnmetDemand.objects.create(
            month=month, station=station, term="公证", rank=1, mentions=1, searches=0, total=1
        )
    for pk in (1, 2):
        Theme.objects.create(
            id=pk, month=month, term=f"主题{pk}", rank=pk, count=3, baseline=0, growth=3
        )
        ThemeItem.objects.create(theme_id=pk, source="proposals", object_id=pk)
    Run.objects.create(
        month=month,
        status=Run.Status.DONE,
        finished_at=timezone.now(),
        done_at=timezone.now(),
        through=timezone.localdate(),
    )
    member = MembershipFactory(organisation=department, role="viewer").user
    yield {"token": Token.objects.create(user=member).key}
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@radar_schema.parametrize()
@FUZZ_SETTINGS
def test_radar_api_fuzzed_as_a_department_member(case, radar_world):
    case.call_and_validate(
        headers={"Authorization": f"Token {radar_world['token']}"}, excluded_checks=FUZZ_EXCLUDED
    )


@radar_schema.parametrize()
@FUZZ_SETTINGS
def test_radar_api_fuzzed_anonymously(case, radar_world):
    case.call_and_validate(excluded_checks=FUZZ_EXCLUDED)
