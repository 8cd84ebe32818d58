"""The KPI pages: the dashboard, one KPI, a station's scorecard, an organisation's page, and the
forms owners use to set targets, report figures and review them."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re

import pytest
from django.conf import settings
from django.utils import timezone

from governance.kpis import queries, services
from governance.kpis.models import (
    Indicator,
    Measurement,
    Period,
    ReportedFigure,
    Target,
    Visibility,
    period_end,
)
from governance.kpis.registry import Scope
from governance.kpis.templatetags.kpis import kpi_value
from governance.stakeholders.models import Membership
from tests.factories import (
    DepartmentFactory,
    MembershipFactory,
    ServiceFactory,
    StationFactory,
    UserFactory,
)
from tests.kpis.factories import indicator
from tests.query_budget import assert_constant_queries

pytestmark = pytest.mark.django_db

TODAY = queries.local_today()
THIS_MONTH = TODAY.replace(day=1)
LAST_MONTH = queries.last_complete(Period.MONTH, TODAY)
FUTURE_MONTH = period_end(Period.MONTH, THIS_MONTH) + dt.timedelta(days=1)
_codes = itertools.count()


def fresh_code(prefix: str) -> str:
    return f"{prefix}-{next(_codes)}"


@pytest.fixture
def kpis(department, other_department, partner):
    return {
        "public": indicator("visits", owners=[department, partner]),
        "stakeholders": indicator(
            "within-target",
            metric="stations.within_target",
            owners=[other_department],
            visibility=Visibility.STAKEHOLDERS,
        ),
        "owners": indicator(
            "wait-median",
            metric="stations.wait_median",
            owners=[department, partner],
            visibility=Visibility.OWNERS,
        ),
    }


@pytest.fixture
def footfall(department, partner):
    return indicator(
        "footfall",
        kind=Indicator.Kind.REPORTED,
        unit="人次",
        owners=[department, partner],
        visibility=Visibility.OWNERS,
    )


def signed_in(client, user):
    if user is not None:
        client.force_login(user)
    return client


def card_codes(response) -> list[str]:
    assert response.status_code == 200, response.content[:500]
    return re.findall(r'<article class="card kpi-card[^"]*" data-kpi="([^"]+)"', page(response))


def page(response) -> str:
    return response.content.decode()


def card(response, code: str) -> str:
    match = re.search(
        rf'<article class="card kpi-card[^"]*" data-kpi="{re.escape(code)}">(.*?)</article>',
        page(response),
        re.S,
    )
    assert match, f"no card {code}"
    return match.group(1)


def month_days(start: dt.date, step: int = 1):
    day = start
    end = min(period_end(Period.MONTH, start), TODAY)
    while day <= end:
        yield day
        day += dt.timedelta(days=step)


def months_back(count: int) -> list[dt.date]:
    """The first days of the ``count`` months up to and including this one, oldest first."""
    first = queries.periods_back(Period.MONTH, TODAY, count)
    return [start for start, _end in queries.periods_between(Period.MONTH, first, TODAY)]


# Dashboard ---------------------------------------------------------------------------------------


def test_dashboard_shows_anonymous_visitors_the_public_kpis_only(client, kpis):
    assert card_codes(client.get("/kpis/")) == ["visits"]


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("citizen", {"visits"}),
        ("department_viewer", {"visits", "within-target", "wait-median"}),
        ("other_department_staff", {"visits", "within-target"}),
        ("partner_staff", {"visits", "within-target", "wait-median"}),
        ("other_partner_admin", {"visits", "within-target"}),
        ("superuser", {"visits", "within-target", "wait-median"}),
    ],
)
def test_dashboard_shows_each_member_the_kpis_they_may_see(client, request, kpis, role, expected):
    user = request.getfixturevalue(role)

    assert set(card_codes(signed_in(client, user).get("/kpis/"))) == expected


def test_dashboard_hides_inactive_kpis(client, kpis):
    Indicator.objects.filter(code="visits").update(is_active=False)

    assert card_codes(client.get("/kpis/")) == []
    assert "暂时没有可公开的指标" in page(client.get("/kpis/"))


def test_dashboard_card_shows_last_month_against_its_target(client, kpis):
    for day in month_days(LAST_MONTH):
        Measurement.objects.create(metric="stations.visits", day=day, value=10)
    Target.objects.create(
        indicator=kpis["public"], period="month", period_start=LAST_MONTH, green=500, amber=200
    )
    expected = services.measure(
        "stations.visits", None, LAST_MONTH, period_end("month", LAST_MONTH)
    )

    visits = card(client.get("/kpis/"), "visits")

    assert f'<span class="kpi-actual">{kpi_value(expected, "件")}</span>' in visits
    # 10 a day for 28 to 31 days: between the amber and green thresholds.
    assert 'data-light="amber"' in visits
    assert "绿灯 ≥ 500 件，黄灯 ≥ 200 件" in visits
    assert "沿用全平台目标" not in visits


def test_dashboard_runs_constant_queries_whatever_the_number_of_kpis(client, department, partner):
    months = months_back(13)

    def make_rows(n):
        for index in range(n):
            if index % 2:
                made = indicator(
                    fresh_code("reported"),
                    kind=Indicator.Kind.REPORTED,
                    unit="人次",
                    owners=[department, partner],
                )
                ReportedFigure.objects.bulk_create(
                    ReportedFigure(
                        indicator=made,
                        period="month",
                        period_start=month,
                        value=100 + index,
                        reported_by=partner,
                        status=ReportedFigure.Status.APPROVED,
                        reviewed_at=timezone.now(),
                    )
                    for month in months
                )
            else:
                made = indicator(
                    fresh_code("computed"),
                    metric="stations.wait_median",
                    owners=[department, partner],
                )
            Target.objects.bulk_create(
                Target(indicator=made, period="month", period_start=month, green=20, amber=30)
                if made.kind == Indicator.Kind.METRIC
                else Target(indicator=made, period="month", period_start=month, green=90, amber=50)
                for month in months
            )
        Measurement.objects.bulk_create(
            Measurement(
                metric="stations.wait_median",
                day=day,
                value=12,
                weight=4,
                histogram={"10": 2, "14": 2},
            )
            for month in months
            for day in month_days(month, step=7)
            if not Measurement.objects.filter(metric="stations.wait_median", day=day).exists()
        )

    def check(response, rows):
        assert len(card_codes(response)) == rows

    assert_constant_queries(lambda: client.get("/kpis/"), make_rows, check=check)


# One KPI -----------------------------------------------------------------------------------------


def chart_data(response) -> dict:
    match = re.search(
        r'<script id="kpi-chart-data" type="application/json">(.*?)</script>', page(response), re.S
    )
    assert match, "no chart data"
    return json.loads(match.group(1))


def table_rows(response) -> list[tuple[str, str, str, str]]:
    body = page(response).split('<table class="kpi-values"', 1)[1].split("</table>", 1)[0]
    return re.findall(
        r'<tr data-period="([\d-]+)">\s*<th scope="row">.*?</th>\s*<td>(.*?)</td>\s*'
        r"<td>(.*?)</td>\s*<td>(.*?)</td>",
        body,
        re.S,
    )


@pytest.fixture
def within_target(department, partner):
    """The on-time rate (a weighted mean) measured daily for fourteen months, with targets."""
    kpi = indicator("on-time", metric="stations.within_target", owners=[department, partner])
    rows = []
    for month in months_back(14 + 12 * 4):
        for day in month_days(month):
            if day.toordinal() % 6 == 0:
                continue  # a day without visits
            rows.append(
                Measurement(
                    metric="stations.within_target",
                    day=day,
                    value=50 + day.toordinal() % 47 + 0.25,
                    weight=1 + day.toordinal() % 5,
                )
            )
    Measurement.objects.bulk_create(rows)
    for offset, month in enumerate(months_back(6)[:-1]):
        Target.objects.create(
            indicator=kpi, period="month", period_start=month, green=80 + offset, amber=60
        )
    Target.objects.create(
        indicator=kpi,
        period="quarter",
        period_start=queries.period_start("quarter", LAST_MONTH),
        green=85,
        amber=65,
    )
    return kpi


@pytest.mark.parametrize("kind", ["month", "quarter", "year"])
def test_indicator_table_and_chart_equal_measure_for_each_period(client, within_target, kind):
    response = client.get(f"/kpis/on-time/?period={kind}")

    assert response.status_code == 200
    rows = table_rows(response)
    chart = chart_data(response)
    periods = queries.periods_between(
        kind, queries.periods_back(kind, TODAY, {"month": 12, "quarter": 8, "year": 5}[kind]), TODAY
    )
    assert [row[0] for row in rows] == [start.isoformat() for start, _end in periods]
    targets = {
        target.period_start: target
        for target in Target.objects.filter(indicator=within_target, period=kind)
    }
    expected = [services.measure("stations.within_target", None, s, e) for s, e in periods]
    assert any(value is not None for value in expected)
    assert chart["values"] == pytest.approx(expected)
    assert len(chart["labels"]) == len(periods)
    assert chart["green"] == [
        targets[start].green if start in targets else None for start, _end in periods
    ]
    assert chart["amber"] == [
        targets[start].amber if start in targets else None for start, _end in periods
    ]
    assert chart["partial"] == [end >= TODAY for _start, end in periods]
    for (_period, actual, green, amber), value, target_green, target_amber in zip(
        rows, chart["values"], chart["green"], chart["amber"], strict=True
    ):
        assert actual == kpi_value(value, "%")
        assert green == ("—" if target_green is None else kpi_value(target_green, "%"))
        assert amber == ("—" if target_amber is None else kpi_value(target_amber, "%"))


def test_indicator_page_names_its_owners_and_links_its_open_data(client, within_target):
    body = page(client.get("/kpis/on-time/"))

    assert "户政管理" in body
    assert "万象城" in body
    assert 'href="/kpis/on-time.csv"' in body
    assert "越高越好" in body


@pytest.fixture
def places(department, other_department):
    """Two stations, two services and two departments, each measured differently last month."""
    stations = [StationFactory(slug="mall-station"), StationFactory(slug="hall-station")]
    services_ = [
        ServiceFactory(service_code="HK-ID", department=department),
        ServiceFactory(service_code="TR-FINE", department=other_department),
    ]
    departments = [department, other_department]
    rows = []
    for column, things in (
        ("station", stations),
        ("service", services_),
        ("department", departments),
    ):
        for index, thing in enumerate(things):
            # Last month and a little either side, which must not count.
            for day in [LAST_MONTH - dt.timedelta(days=1), *month_days(LAST_MONTH, step=3)]:
                rows.append(
                    Measurement(
                        metric="stations.within_target",
                        day=day,
                        value=40 + 30 * index + day.day % 7,
                        weight=1 + (day.day + index) % 4,
                        **{column: thing},
                    )
                )
            rows.append(
                Measurement(
                    metric="stations.within_target",
                    day=THIS_MONTH,
                    value=1,
                    weight=100,
                    **{column: thing},
                )
            )
    Measurement.objects.bulk_create(rows)
    Target.objects.create(
        indicator=indicator("on-time", metric="stations.within_target"),
        period="month",
        period_start=LAST_MONTH,
        station=stations[0],
        green=90,
        amber=60,
    )
    return {"station": stations, "service": services_, "department": departments}


@pytest.mark.parametrize("dimension", ["station", "service", "department"])
def test_breakdown_equals_measure_for_each_place(client, places, dimension):
    response = client.get(
        f"/kpis/on-time/?period=month&start={LAST_MONTH.isoformat()}&by={dimension}"
    )

    assert response.status_code == 200
    breakdown = response.context["breakdown"]
    end = period_end("month", LAST_MONTH)
    expected = {
        place.pk: services.measure(
            "stations.within_target", Scope.of(dimension, place.pk), LAST_MONTH, end
        )
        for place in places[dimension]
    }
    assert {row.place.pk: row.value for row in breakdown} == pytest.approx(expected)
    # Best first: the on-time rate is higher-is-better.
    values = [row.value for row in breakdown]
    assert values == sorted(values, reverse=True)
    body = page(response)
    for place in places[dimension]:
        assert place.name_zh in body


def test_breakdown_by_station_uses_the_stations_target_and_links_its_scorecard(client, places):
    response = client.get(f"/kpis/on-time/?start={LAST_MONTH.isoformat()}&by=station")

    rows = {row.place.slug: row for row in response.context["breakdown"]}
    assert rows["mall-station"].target.green == 90
    assert rows["hall-station"].target is None
    assert 'href="/kpis/stations/mall-station/"' in page(response)


def test_a_reported_kpi_breaks_down_by_partner(client, footfall, partner, superuser):
    ReportedFigure.objects.create(
        indicator=footfall,
        period="month",
        period_start=LAST_MONTH,
        value=5000,
        partner=partner,
        reported_by=partner,
        status=ReportedFigure.Status.APPROVED,
        reviewed_at=timezone.now(),
    )

    response = signed_in(client, superuser).get("/kpis/footfall/?by=partner")

    assert response.status_code == 200
    assert [(row.place, row.value) for row in response.context["breakdown"]] == [(partner, 5000)]


@pytest.mark.parametrize(
    ("query", "complaint"),
    [
        ("period=bad", "period"),
        ("period=", None),
        ("by=partner", "该指标不能按这个维度细分"),
        ("by=nonsense", "by"),
        ("start=garbage", "start"),
        ("start=2026-02-30", "start"),
        ("start=1800-01-01", "年份须在 2000 至 2100 之间"),
        ("start=9999-12-31", "年份须在 2000 至 2100 之间"),
    ],
)
def test_a_bad_query_is_a_400_with_a_message(client, kpis, query, complaint):
    response = client.get(f"/kpis/visits/?{query}")

    if complaint is None:
        assert response.status_code == 200
        return
    assert response.status_code == 400
    assert complaint in page(response)
    assert "请求有误" in page(response)


def test_an_unknown_code_is_a_404(client, kpis):
    assert client.get("/kpis/no-such-kpi/").status_code == 404


@pytest.mark.parametrize(
    ("role", "status"),
    [(None, 404), ("citizen", 404), ("other_partner_admin", 404), ("partner_staff", 200)],
)
def test_a_kpi_the_visitor_may_not_see_is_a_404(client, request, kpis, role, status):
    user = request.getfixturevalue(role) if role else None

    assert signed_in(client, user).get("/kpis/wait-median/").status_code == status


def test_an_inactive_kpi_is_a_404(client, kpis, department_admin):
    Indicator.objects.filter(code="visits").update(is_active=False)

    assert client.get("/kpis/visits/").status_code == 404
    assert signed_in(client, department_admin).get("/kpis/visits/").status_code == 404


def test_owner_actions_follow_the_seat(client, footfall, department_admin, department_staff):
    admin_page = page(signed_in(client, department_admin).get("/kpis/footfall/"))
    assert 'href="/kpis/org/hukou/footfall/target/"' in admin_page
    assert 'href="/kpis/org/hukou/footfall/figure/"' in admin_page

    staff_page = page(signed_in(client, department_staff).get("/kpis/footfall/"))
    assert 'href="/kpis/org/hukou/footfall/target/"' not in staff_page
    assert 'href="/kpis/org/hukou/footfall/figure/"' in staff_page


def test_a_viewer_gets_no_owner_actions(client, footfall, department_viewer):
    body = page(signed_in(client, department_viewer).get("/kpis/footfall/"))

    assert "/kpis/org/hukou/" not in body


def test_indicator_page_runs_constant_queries_whatever_the_months_and_places(
    client, department, partner
):
    kpi = indicator("on-time", metric="stations.within_target", owners=[department, partner])
    months = months_back(12)

    def make_rows(n):
        stations = [StationFactory(slug=fresh_code("station")) for _ in range(n)]
        Measurement.objects.bulk_create(
            Measurement(
                metric="stations.within_target",
                day=day,
                value=70 + index % 20,
                weight=3,
                station=station,
            )
            for index, station in enumerate(stations)
            for month in months
            for day in month_days(month, step=10)
        )
        Target.objects.bulk_create(
            Target(
                indicator=kpi,
                period="month",
                period_start=LAST_MONTH,
                station=station,
                green=90,
                amber=70,
            )
            for station in stations
        )

    def check(response, rows):
        assert len(response.context["breakdown"]) == rows

    assert_constant_queries(
        lambda: client.get(f"/kpis/on-time/?start={LAST_MONTH.isoformat()}&by=station"),
        make_rows,
        check=check,
    )


# Station scorecard -------------------------------------------------------------------------------


@pytest.fixture
def station():
    return StationFactory(slug="mall-station", name_zh="万象城服务站")


def test_scorecard_uses_the_stations_own_target_else_the_platforms(client, station, kpis):
    wait = indicator("wait-p90", metric="stations.wait_p90")
    for day in month_days(LAST_MONTH):
        Measurement.objects.create(metric="stations.visits", day=day, value=10, station=station)
    own = Target.objects.create(
        indicator=kpis["public"],
        period="month",
        period_start=LAST_MONTH,
        station=station,
        green=200,
        amber=100,
    )
    # The platform's targets: overridden for visits, standing in for the 90th percentile.
    Target.objects.create(
        indicator=kpis["public"], period="month", period_start=LAST_MONTH, green=9999, amber=5000
    )
    Target.objects.create(
        indicator=wait, period="month", period_start=LAST_MONTH, green=30, amber=45
    )

    response = client.get("/kpis/stations/mall-station/")

    assert response.status_code == 200
    assert card_codes(response) == ["visits", "wait-p90"]
    visits = card(response, "visits")
    assert "绿灯 ≥ 200 件，黄灯 ≥ 100 件" in visits
    assert "9999" not in visits
    assert "沿用全平台目标" not in visits
    expected = services.measure(
        "stations.visits", Scope(station_id=station.pk), LAST_MONTH, period_end("month", LAST_MONTH)
    )
    assert f'<span class="kpi-actual">{kpi_value(expected, "件")}</span>' in visits
    assert own.light(expected) == "green"
    assert 'data-light="green"' in visits
    inherited = card(response, "wait-p90")
    assert "绿灯 ≤ 30 分钟" in inherited
    assert "沿用全平台目标" in inherited


def test_scorecard_lists_reported_kpis_only_where_the_station_has_figures_or_targets(
    client, station, department, partner, superuser
):
    with_figure = indicator(
        "footfall", kind=Indicator.Kind.REPORTED, unit="人次", owners=[department, partner]
    )
    indicator("parking", kind=Indicator.Kind.REPORTED, unit="辆", owners=[partner])
    ReportedFigure.objects.create(
        indicator=with_figure,
        period="month",
        period_start=LAST_MONTH,
        value=4321,
        station=station,
        reported_by=partner,
        status=ReportedFigure.Status.APPROVED,
        reviewed_at=timezone.now(),
    )

    response = client.get("/kpis/stations/mall-station/")

    assert card_codes(response) == ["footfall"]
    assert kpi_value(4321, "人次") in card(response, "footfall")


def test_scorecard_hides_what_the_visitor_may_not_see(client, station, kpis, partner_staff):
    assert card_codes(client.get("/kpis/stations/mall-station/")) == ["visits"]
    codes = card_codes(signed_in(client, partner_staff).get("/kpis/stations/mall-station/"))
    assert set(codes) == {"visits", "within-target", "wait-median"}


def test_scorecard_of_an_unknown_or_closed_station_is_a_404(client, station):
    assert client.get("/kpis/stations/nowhere/").status_code == 404
    station.is_active = False
    station.save()
    assert client.get("/kpis/stations/mall-station/").status_code == 404


def test_scorecard_runs_constant_queries_whatever_the_number_of_kpis(
    client, station, department, partner
):
    months = months_back(13)
    metrics = itertools.cycle(["stations.visits", "stations.wait_median", "stations.self_service"])

    def make_rows(n):
        for index in range(n):
            if index % 2:
                made = indicator(
                    fresh_code("reported"),
                    kind=Indicator.Kind.REPORTED,
                    owners=[department, partner],
                )
                ReportedFigure.objects.create(
                    indicator=made,
                    period="month",
                    period_start=LAST_MONTH,
                    value=index,
                    station=station,
                    reported_by=partner,
                    status=ReportedFigure.Status.APPROVED,
                    reviewed_at=timezone.now(),
                )
            else:
                made = indicator(
                    fresh_code("computed"), metric=next(metrics), owners=[department, partner]
                )
            scope = {"station": station} if index % 3 else {}
            Target.objects.bulk_create(
                Target(
                    indicator=made, period="month", period_start=month, green=1, amber=2, **scope
                )
                if not made.is_higher_better
                else Target(
                    indicator=made, period="month", period_start=month, green=2, amber=1, **scope
                )
                for month in months
            )

    def check(response, rows):
        assert len(card_codes(response)) == rows

    Measurement.objects.bulk_create(
        Measurement(metric="stations.visits", day=day, value=5, station=station)
        for month in months
        for day in month_days(month, step=5)
    )
    assert_constant_queries(
        lambda: client.get("/kpis/stations/mall-station/"), make_rows, check=check
    )


# My organisations and an organisation's page -----------------------------------------------------


def test_mine_sends_a_single_organisation_member_to_its_page(client, kpis, department_staff):
    response = signed_in(client, department_staff).get("/kpis/mine/")

    assert response.status_code == 302
    assert response["Location"] == "/kpis/org/hukou/"


def test_mine_lists_the_organisations_of_a_member_of_several(
    client, kpis, department_staff, partner
):
    MembershipFactory(user=department_staff, organisation=partner, role=Membership.Role.VIEWER)

    response = signed_in(client, department_staff).get("/kpis/mine/")

    assert response.status_code == 200
    assert 'href="/kpis/org/hukou/"' in page(response)
    assert 'href="/kpis/org/mall/"' in page(response)


def test_mine_tells_a_member_whose_organisation_owns_no_kpi(client, other_partner_admin):
    response = signed_in(client, other_partner_admin).get("/kpis/mine/")

    assert response.status_code == 200
    assert "您所在的单位还没有共有的指标" in page(response)


def test_mine_is_refused_to_a_citizen(client, kpis, citizen):
    assert signed_in(client, citizen).get("/kpis/mine/").status_code == 403


def test_mine_asks_anonymous_visitors_to_sign_in(client, kpis):
    response = client.get("/kpis/mine/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/kpis/mine/")


def test_organisation_page_is_for_its_members(client, kpis, department_viewer):
    response = signed_in(client, department_viewer).get("/kpis/org/hukou/")

    assert response.status_code == 200
    assert set(card_codes(response)) == {"visits", "wait-median"}
    assert "设定目标" not in page(response)


@pytest.mark.parametrize("role", ["citizen", "other_department_staff", "partner_admin"])
def test_organisation_page_is_refused_to_non_members(client, request, kpis, role):
    user = request.getfixturevalue(role)

    assert signed_in(client, user).get("/kpis/org/hukou/").status_code == 403


def test_organisation_page_asks_anonymous_visitors_to_sign_in(client, kpis):
    response = client.get("/kpis/org/hukou/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_organisation_page_of_an_unknown_organisation_is_a_404(client, superuser):
    assert signed_in(client, superuser).get("/kpis/org/nowhere/").status_code == 404


def pending(kpi, organisation, entered_by, *, month=LAST_MONTH, value=1000.0, **scope):
    return ReportedFigure.objects.create(
        indicator=kpi,
        period="month",
        period_start=month,
        value=value,
        reported_by=organisation,
        entered_by=entered_by,
        **scope,
    )


def test_organisation_page_lists_figures_waiting_for_this_members_review(
    client, footfall, partner, partner_staff, department_admin, department_staff
):
    figure = pending(footfall, partner, partner_staff, value=15300)

    admin_page = page(signed_in(client, department_admin).get("/kpis/org/hukou/"))
    assert f'data-figure="{figure.pk}"' in admin_page
    assert f'action="/kpis/org/hukou/figures/{figure.pk}/review/"' in admin_page
    staff_page = page(signed_in(client, department_staff).get("/kpis/org/hukou/"))
    assert f'data-figure="{figure.pk}"' not in staff_page
    assert "没有等待本单位审核的数据" in staff_page


def test_organisation_page_runs_constant_queries_whatever_the_figures(
    client, department, partner, partner_staff, department_admin, department_staff
):
    months = months_back(13)[:-1]

    def make_rows(n):
        for _index in range(n):
            made = indicator(
                fresh_code("reported"),
                kind=Indicator.Kind.REPORTED,
                unit="人次",
                owners=[department, partner],
                visibility=Visibility.OWNERS,
            )
            station = StationFactory(slug=fresh_code("station"))
            pending(made, partner, partner_staff, station=station)
            pending(made, department, department_staff, month=months[0])
            Target.objects.create(
                indicator=made, period="month", period_start=LAST_MONTH, green=10, amber=5
            )

    def check(response, rows):
        assert len(response.context["waiting"]) == rows
        assert len(card_codes(response)) == rows

    signed_in(client, department_admin)
    assert_constant_queries(lambda: client.get("/kpis/org/hukou/"), make_rows, check=check)


# The target form ---------------------------------------------------------------------------------

TARGET_URL = "/kpis/org/hukou/visits/target/"


def test_target_form_opens_for_an_owners_admin(client, kpis, department_admin):
    response = signed_in(client, department_admin).get(TARGET_URL)

    assert response.status_code == 200
    assert "绿灯阈值须高于黄灯阈值" in page(response)


@pytest.mark.parametrize(
    "role", ["department_staff", "department_viewer", "partner_staff", "other_partner_admin"]
)
def test_target_form_is_refused_to_staff_viewers_and_non_owners(client, request, kpis, role):
    client = signed_in(client, request.getfixturevalue(role))

    assert client.get(TARGET_URL).status_code == 403
    assert client.post(TARGET_URL, {}).status_code == 403
    assert not Target.objects.exists()


def test_a_co_owners_admin_may_not_set_a_target_in_the_name_of_an_org_they_only_view(
    client, kpis, department, partner_admin
):
    MembershipFactory(user=partner_admin, organisation=department, role=Membership.Role.VIEWER)
    client = signed_in(client, partner_admin)

    assert client.get(TARGET_URL).status_code == 403
    assert client.get("/kpis/org/mall/visits/target/").status_code == 200


def test_target_form_of_a_kpi_the_organisation_does_not_own_is_a_404(
    client, kpis, other_partner_admin
):
    response = signed_in(client, other_partner_admin).get("/kpis/org/bank/visits/target/")

    assert response.status_code == 404


def test_thresholds_in_the_wrong_order_are_a_400_naming_the_rule(client, kpis, department_admin):
    response = signed_in(client, department_admin).post(
        TARGET_URL, {"period": "month", "period_start": "2026-03-15", "green": "80", "amber": "90"}
    )

    assert response.status_code == 400
    assert "该指标越高越好：绿灯阈值必须高于黄灯阈值。" in page(response)
    assert not Target.objects.exists()


@pytest.mark.parametrize(
    ("data", "field_error"),
    [
        ({}, "该字段是必填项"),
        ({"period": "week", "period_start": "2026-03-01", "green": "9", "amber": "1"}, None),
        ({"period": "month", "period_start": "soon", "green": "9", "amber": "1"}, None),
        ({"period": "month", "period_start": "1900-03-01", "green": "9", "amber": "1"}, "2000"),
        ({"period": "month", "period_start": "2026-03-01", "green": "nan", "amber": "1"}, None),
        ({"period": "month", "period_start": "2026-03-01", "green": "9", "amber": "x"}, None),
        (
            {
                "period": "month",
                "period_start": "2026-03-01",
                "green": "9",
                "amber": "1",
                "scope": "partner:1",
            },
            None,
        ),
    ],
)
def test_bad_target_input_is_a_400(client, kpis, department_admin, data, field_error):
    response = signed_in(client, department_admin).post(TARGET_URL, data)

    assert response.status_code == 400
    assert 'class="field-error"' in page(response) or 'class="form-errors"' in page(response)
    if field_error:
        assert field_error in page(response)
    assert not Target.objects.exists()


def test_a_valid_target_is_saved_for_the_first_of_its_month(
    client, kpis, department_admin, partner_staff
):
    response = signed_in(client, department_admin).post(
        TARGET_URL,
        {"period": "month", "period_start": "2026-03-17", "green": "500", "amber": "300"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/kpis/visits/"
    target = Target.objects.get()
    assert (target.period, target.period_start, target.green, target.amber) == (
        "month",
        dt.date(2026, 3, 1),
        500,
        300,
    )
    assert target.scope == Scope()
    assert target.set_by == department_admin
    assert ReportedFigure.objects.count() == 0
    assert partner_staff.notifications.filter(event_type="kpis.target_set").exists()


def test_a_target_for_a_quarter_and_a_station_snaps_to_the_quarter(client, kpis, department_admin):
    station = StationFactory(slug="mall-station")

    response = signed_in(client, department_admin).post(
        TARGET_URL,
        {
            "period": "quarter",
            "period_start": "2026-05-20",
            "scope": f"station:{station.pk}",
            "green": "500",
            "amber": "300",
        },
    )

    assert response.status_code == 302
    target = Target.objects.get()
    assert (target.period_start, target.station) == (dt.date(2026, 4, 1), station)


@pytest.mark.parametrize("url", [TARGET_URL, "/kpis/org/hukou/footfall/figure/"])
def test_the_forms_take_get_and_post_only(client, kpis, footfall, department_admin, url):
    client = signed_in(client, department_admin)

    assert client.get(url).status_code == 200
    assert client.put(url).status_code == 405
    assert client.delete(url).status_code == 405


# The figure form ---------------------------------------------------------------------------------

FIGURE_URL = "/kpis/org/mall/footfall/figure/"


def test_figure_form_opens_for_an_owners_staff(client, footfall, partner_staff):
    response = signed_in(client, partner_staff).get(FIGURE_URL)

    assert response.status_code == 200
    assert "提交审核" in page(response)


@pytest.mark.parametrize("role", ["other_partner_admin", "citizen"])
def test_figure_form_is_refused_to_non_members(client, request, footfall, role):
    assert signed_in(client, request.getfixturevalue(role)).get(FIGURE_URL).status_code == 403


def test_figure_form_is_refused_to_a_viewer(client, footfall, partner):
    viewer = UserFactory()
    MembershipFactory(user=viewer, organisation=partner, role=Membership.Role.VIEWER)

    assert signed_in(client, viewer).get(FIGURE_URL).status_code == 403


def test_a_computed_kpi_has_no_figure_form(client, kpis, partner_admin):
    assert signed_in(client, partner_admin).get("/kpis/org/mall/visits/figure/").status_code == 404


def test_a_figure_for_a_period_to_come_is_a_400(client, footfall, partner_staff):
    response = signed_in(client, partner_staff).post(
        FIGURE_URL,
        {"period": "month", "period_start": FUTURE_MONTH.isoformat(), "value": "15000"},
    )

    assert response.status_code == 400
    assert "该周期尚未开始，不能填报。" in page(response)
    assert not ReportedFigure.objects.exists()


def test_a_valid_figure_waits_for_review(
    client, footfall, partner, partner_staff, department_admin
):
    response = signed_in(client, partner_staff).post(
        FIGURE_URL,
        {
            "period": "month",
            "period_start": LAST_MONTH.replace(day=9).isoformat(),
            "value": "15000",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == "/kpis/org/mall/"
    figure = ReportedFigure.objects.get()
    assert figure.status == ReportedFigure.Status.PENDING
    assert (figure.period_start, figure.value, figure.reported_by) == (LAST_MONTH, 15000, partner)
    assert department_admin.notifications.filter(event_type="kpis.figure_submitted").exists()


def test_a_second_owners_figure_for_a_pending_period_is_a_400(
    client, footfall, partner, partner_staff, department_staff
):
    pending(footfall, partner, partner_staff)

    response = signed_in(client, department_staff).post(
        "/kpis/org/hukou/footfall/figure/",
        {"period": "month", "period_start": LAST_MONTH.isoformat(), "value": "1"},
    )

    assert response.status_code == 400
    assert "等待审核" in page(response)
    assert ReportedFigure.objects.get().value == 1000


# Reviewing a figure ------------------------------------------------------------------------------


def review_url(figure, slug="hukou") -> str:
    return f"/kpis/org/{slug}/figures/{figure.pk}/review/"


def test_the_co_owners_admin_approves_a_figure(
    client, footfall, partner, partner_staff, department_admin
):
    figure = pending(footfall, partner, partner_staff, value=15300)

    response = signed_in(client, department_admin).post(
        review_url(figure), {"decision": "approve"}, follow=True
    )

    assert response.redirect_chain == [("/kpis/org/hukou/", 302)]
    assert "已通过，数据已公布。" in page(response)
    figure.refresh_from_db()
    assert figure.status == ReportedFigure.Status.APPROVED
    assert figure.reviewed_by == department_admin
    assert partner_staff.notifications.filter(event_type="kpis.figure_reviewed").exists()
    # Now shown on the KPI's page to those who may see it.
    values = client.get("/kpis/footfall/").context["values"]
    assert [row.value for row in values if row.start == LAST_MONTH] == [15300]


def test_sending_a_figure_back_with_a_note(
    client, footfall, partner, partner_staff, department_admin
):
    figure = pending(footfall, partner, partner_staff)

    response = signed_in(client, department_admin).post(
        review_url(figure), {"decision": "reject", "note": "与闸机报表不符"}
    )

    assert response.status_code == 302
    figure.refresh_from_db()
    assert (figure.status, figure.review_note) == (ReportedFigure.Status.REJECTED, "与闸机报表不符")


@pytest.mark.parametrize(
    ("role", "slug"),
    [
        ("partner_admin", "mall"),
        ("department_staff", "hukou"),
        ("other_partner_admin", "hukou"),
        ("citizen", "hukou"),
    ],
)
def test_a_review_by_someone_not_allowed_is_a_403(
    client, request, footfall, partner, partner_staff, role, slug
):
    figure = pending(footfall, partner, partner_staff)

    response = signed_in(client, request.getfixturevalue(role)).post(
        review_url(figure, slug), {"decision": "approve"}
    )

    assert response.status_code == 403
    figure.refresh_from_db()
    assert figure.status == ReportedFigure.Status.PENDING


def test_a_review_in_the_name_of_the_reporting_owner_is_a_403(
    client, footfall, department, partner, partner_staff, department_admin
):
    # An admin of both owners may approve, but only in the other owner's name.
    MembershipFactory(user=department_admin, organisation=partner, role=Membership.Role.ADMIN)
    figure = pending(footfall, partner, partner_staff)

    response = signed_in(client, department_admin).post(
        review_url(figure, "mall"), {"decision": "approve"}
    )

    assert response.status_code == 403
    figure.refresh_from_db()
    assert figure.status == ReportedFigure.Status.PENDING


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "请选择通过或退回。"),
        ({"decision": "maybe"}, "请选择通过或退回。"),
        ({"decision": "reject"}, "退回时请写明原因。"),
        ({"decision": "reject", "note": "   "}, "退回时请写明原因。"),
    ],
)
def test_an_incomplete_review_redirects_with_the_error_and_changes_nothing(
    client, footfall, partner, partner_staff, department_admin, data, message
):
    figure = pending(footfall, partner, partner_staff)

    response = signed_in(client, department_admin).post(review_url(figure), data, follow=True)

    assert response.redirect_chain == [("/kpis/org/hukou/", 302)]
    assert message in page(response)
    figure.refresh_from_db()
    assert figure.status == ReportedFigure.Status.PENDING
    assert figure.reviewed_at is None
    assert not partner_staff.notifications.filter(event_type="kpis.figure_reviewed").exists()


def test_reviewing_twice_redirects_with_the_error(
    client, footfall, partner, partner_staff, department_admin
):
    figure = pending(footfall, partner, partner_staff)
    client = signed_in(client, department_admin)
    client.post(review_url(figure), {"decision": "approve"})

    response = client.post(
        review_url(figure), {"decision": "reject", "note": "再看看"}, follow=True
    )

    assert "这条数据已经审核过了。" in page(response)
    figure.refresh_from_db()
    assert figure.status == ReportedFigure.Status.APPROVED


def test_review_takes_post_only(client, footfall, partner, partner_staff, department_admin):
    figure = pending(footfall, partner, partner_staff)

    assert signed_in(client, department_admin).get(review_url(figure)).status_code == 405


def test_review_of_another_organisations_figure_is_a_404(
    client, footfall, partner, partner_staff, other_partner_admin
):
    figure = pending(footfall, partner, partner_staff)

    response = signed_in(client, other_partner_admin).post(
        review_url(figure, "bank"), {"decision": "approve"}
    )

    assert response.status_code == 404


# Language ----------------------------------------------------------------------------------------


def test_dashboard_in_english_by_accept_language(client, kpis):
    body = page(client.get("/kpis/", HTTP_ACCEPT_LANGUAGE="en"))

    assert "Shared KPIs" in body
    assert "Indicator visits" in body
    assert "指标 visits" not in body


def test_dashboard_in_english_by_the_language_cookie(client, kpis):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    body = page(client.get("/kpis/"))

    assert "Shared KPIs" in body
    assert "Indicator visits" in body


def test_dashboard_in_chinese_by_default(client, kpis):
    body = page(client.get("/kpis/"))

    assert "共享绩效指标" in body
    assert "指标 visits" in body


def test_a_second_department_does_not_change_who_sees_owners_kpis(client, kpis):
    outsider = UserFactory()
    MembershipFactory(user=outsider, organisation=DepartmentFactory(slug="exit-entry"))

    codes = card_codes(signed_in(client, outsider).get("/kpis/"))

    assert set(codes) == {"visits", "within-target"}
