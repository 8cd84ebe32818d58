from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest
from django.urls import reverse

from governance.stations.models import Channel, OpeningHours
from tests.factories import DepartmentFactory, PartnerFactory, ServiceFactory, StationFactory
from tests.query_budget import assert_constant_queries

pytestmark = pytest.mark.django_db

HOME = reverse("stations:home")
SCRIPT = "<script>alert(1)</script>"
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"
NO_MATCH = "没有找到匹配的服务事项。"


@pytest.fixture
def mall_station(department, other_department, partner):
    station = StationFactory(
        slug="mixc",
        name_zh="万象城警务服务站",
        name_en="Mixc Police Service Station",
        address_zh="成华区二环路东二段",
        address_en="East 2nd Section, 2nd Ring Road",
        phone="028-84000000",
        host=partner,
        departments=[department, other_department],
        hours=False,
    )
    OpeningHours.objects.bulk_create(
        [
            OpeningHours(station=station, weekday=0, opens=dt.time(10), closes=dt.time(22)),
            OpeningHours(station=station, weekday=5, opens=dt.time(9, 30), closes=dt.time(21)),
        ]
    )
    return station


@pytest.fixture
def id_renewal(department, mall_station):
    return ServiceFactory(
        service_code="HK-ID-RENEW",
        name_zh="居民身份证换领",
        name_en="Resident ID card renewal",
        department=department,
        keywords="身份证;换证",
        documents_zh="居民身份证\n户口簿",
        documents_en="Resident ID card\nHousehold register",
        target_minutes=20,
        stations=[mall_station],
    )


@pytest.fixture
def licence_renewal(other_department, mall_station):
    return ServiceFactory(
        service_code="TR-DL-RENEW",
        name_zh="驾驶证期满换证",
        name_en="Driving licence renewal",
        department=other_department,
        channel=Channel.KIOSK,
        keywords="驾驶证",
        stations=[mall_station],
    )


@pytest.fixture
def catalogue(id_renewal, licence_renewal):
    return [id_renewal, licence_renewal]


def text(response) -> str:
    return response.content.decode()


def section(html: str, heading_id: str) -> str:
    """The HTML of the ``<section>`` labelled by ``heading_id``, nested sections included."""
    start = re.search(rf'<section[^>]*aria-labelledby="{heading_id}"', html)
    assert start, f"no section labelled {heading_id}"
    depth = 0
    for tag in re.finditer(r"<(/?)section\b", html[start.start() :]):
        depth += -1 if tag.group(1) else 1
        if depth == 0:
            return html[start.start() : start.start() + tag.end()]
    raise AssertionError(f"section {heading_id} is not closed")


# Home -----------------------------------------------------------------------------------------
def test_home_lists_active_stations_with_their_opening_hours(client, mall_station):
    StationFactory(slug="closed", name_zh="已关闭站点", is_active=False)
    response = client.get(HOME)
    assert response.status_code == 200
    html = text(response)
    stations = section(html, "stations-heading")
    assert "万象城警务服务站" in stations
    assert 'href="/stations/mixc/"' in stations
    assert "已关闭站点" not in html
    assert "星期一" in stations
    assert "10:00–22:00" in stations
    assert "星期六" in stations
    assert "09:30–21:00" in stations
    assert "星期二" not in stations


def test_home_says_when_a_station_has_not_published_its_hours(client, partner):
    StationFactory(slug="new", host=partner, hours=False)
    assert "暂未公布开放时间" in text(client.get(HOME))


def test_home_groups_services_by_department(client, catalogue):
    services = section(text(client.get(HOME)), "services-heading")
    hukou = section(services, "dept-hukou")
    traffic = section(services, "dept-traffic")
    assert "户政管理" in hukou
    assert "居民身份证换领" in hukou
    assert "驾驶证期满换证" not in hukou
    assert "交通管理" in traffic
    assert "驾驶证期满换证" in traffic
    assert 'href="/services/TR-DL-RENEW/"' in traffic


def test_home_hides_inactive_services_and_those_of_inactive_departments(client, catalogue):
    ServiceFactory(service_code="OFF-1", name_zh="已停办事项", is_active=False)
    closed = DepartmentFactory(slug="closed-dept", name_zh="已撤销部门", is_active=False)
    ServiceFactory(service_code="OFF-2", name_zh="撤销部门事项", department=closed)
    html = text(client.get(HOME))
    assert "已停办事项" not in html
    assert "撤销部门事项" not in html
    assert "已撤销部门" not in html


def test_home_groups_each_department_once_even_when_two_share_a_name(client):
    first = DepartmentFactory(slug="dept-a", name_zh="政务服务")
    second = DepartmentFactory(slug="dept-b", name_zh="政务服务")
    # Codes interleave the two departments when sorted by code alone.
    ServiceFactory(service_code="A-1", department=first)
    ServiceFactory(service_code="B-1", department=second)
    ServiceFactory(service_code="C-1", department=first)
    html = text(client.get(HOME))
    assert html.count('id="dept-dept-a"') == 1
    assert html.count('id="dept-dept-b"') == 1
    assert "/services/C-1/" in section(html, "dept-dept-a")


@pytest.mark.parametrize(
    ("q", "found", "missing"),
    [
        ("身份证", "居民身份证换领", "驾驶证期满换证"),
        ("驾驶证", "驾驶证期满换证", "居民身份证换领"),
        ("tr-dl", "驾驶证期满换证", "居民身份证换领"),
        ("  Resident   renewal ", "居民身份证换领", "驾驶证期满换证"),
    ],
)
def test_home_search_finds_services_by_name_code_or_keyword(client, catalogue, q, found, missing):
    response = client.get(HOME, {"q": q})
    assert response.status_code == 200
    services = section(text(response), "services-heading")
    assert found in services
    assert missing not in services
    assert "共找到 1 项服务" in services
    assert NO_MATCH not in services


def test_home_search_keeps_the_query_in_the_box(client, catalogue):
    html = text(client.get(HOME, {"q": "身份证"}))
    assert re.search(r'<input[^>]*name="q"[^>]*value="身份证"', html)


def test_home_search_without_a_match_shows_the_empty_state(client, catalogue):
    response = client.get(HOME, {"q": "没有这个事项"})
    assert response.status_code == 200
    services = section(text(response), "services-heading")
    assert NO_MATCH in services
    assert "共找到 0 项服务" in services
    assert "居民身份证换领" not in services
    assert "清除搜索" in services


def test_home_without_services_says_there_are_none_yet(client, mall_station):
    services = section(text(client.get(HOME)), "services-heading")
    assert "暂无服务事项。" in services
    assert NO_MATCH not in services


@pytest.mark.parametrize("q", ["身" * 10_000, "a\x00b"])
def test_home_search_with_bad_input_shows_a_form_error_not_a_500(client, catalogue, q):
    response = client.get(HOME, {"q": q})
    assert response.status_code == 200
    html = text(response)
    assert 'class="field-error"' in html
    assert "居民身份证换领" not in html
    assert "共找到" not in html


def test_home_refuses_post(client):
    assert client.post(HOME).status_code == 405


def test_home_in_english_shows_english_names_and_falls_back_to_chinese(client, catalogue):
    ServiceFactory(service_code="NO-EN", name_zh="仅有中文名称", name_en="")
    html = text(client.get(HOME, headers={"accept-language": "en"}))
    assert "Mixc Police Service Station" in html
    assert "Resident ID card renewal" in html
    assert "居民身份证换领" not in html
    assert "仅有中文名称" in html


# Escaping -------------------------------------------------------------------------------------
@pytest.fixture
def hostile(department, partner):
    """A station, department and service whose names try to inject a script."""
    hostile_department = DepartmentFactory(slug="evil", name_zh=SCRIPT, short_name_zh=SCRIPT)
    station = StationFactory(
        slug="evil-station",
        name_zh=SCRIPT,
        address_zh=SCRIPT,
        description_zh=SCRIPT,
        host=PartnerFactory(slug="evil-host", name_zh=SCRIPT),
        departments=[hostile_department],
    )
    return ServiceFactory(
        service_code="EVIL-1",
        name_zh=SCRIPT,
        description_zh=SCRIPT,
        documents_zh=SCRIPT,
        keywords="alert",
        department=hostile_department,
        stations=[station],
    )


@pytest.mark.parametrize(
    "url",
    [HOME, f"{HOME}?q=alert", "/stations/evil-station/", "/services/EVIL-1/"],
)
def test_pages_escape_script_tags_in_names(client, hostile, url):
    response = client.get(url)
    assert response.status_code == 200
    html = text(response)
    assert SCRIPT not in html
    assert ESCAPED_SCRIPT in html


def test_home_escapes_the_search_query(client, catalogue):
    html = text(client.get(HOME, {"q": SCRIPT}))
    assert SCRIPT not in html
    assert ESCAPED_SCRIPT in html


# Station page ---------------------------------------------------------------------------------
def test_station_page_shows_details_hours_and_services_by_department(client, catalogue):
    response = client.get("/stations/mixc/")
    assert response.status_code == 200
    html = text(response)
    assert "<h1>万象城警务服务站</h1>" in html
    assert "成华区二环路东二段" in html
    assert 'href="tel:028-84000000"' in html
    assert "万象城" in html  # the host partner
    assert "09:30–21:00" in html
    assert "居民身份证换领" in section(html, "dept-hukou")
    assert "驾驶证期满换证" in section(html, "dept-traffic")


def test_station_page_lists_only_its_own_active_services(client, catalogue, partner):
    elsewhere = StationFactory(slug="elsewhere", host=partner)
    ServiceFactory(service_code="ELSEWHERE-1", name_zh="别处的事项", stations=[elsewhere])
    ServiceFactory(
        service_code="OFF-1",
        name_zh="已停办事项",
        is_active=False,
        stations=[catalogue[0].stations.get()],
    )
    html = text(client.get("/stations/mixc/"))
    assert "别处的事项" not in html
    assert "已停办事项" not in html


@pytest.mark.parametrize("slug", ["nope", "closed"])
def test_unknown_or_inactive_station_page_is_a_404_page(client, slug):
    StationFactory(slug="closed", is_active=False)
    response = client.get(f"/stations/{slug}/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert "页面不存在" in text(response)


# Service page ---------------------------------------------------------------------------------
def test_service_page_shows_documents_and_where_to_go(client, id_renewal):
    response = client.get("/services/HK-ID-RENEW/")
    assert response.status_code == 200
    html = text(response)
    assert "<h1>居民身份证换领</h1>" in html
    assert "<code>HK-ID-RENEW</code>" in html
    assert "<li>户口簿</li>" in html
    assert "20 分钟" in html
    assert 'href="/stations/mixc/"' in html


def test_service_page_in_english(client, id_renewal):
    html = text(client.get("/services/HK-ID-RENEW/", headers={"accept-language": "en"}))
    assert "<h1>Resident ID card renewal</h1>" in html
    assert "<li>Household register</li>" in html


def test_service_page_hides_inactive_stations(client, id_renewal):
    id_renewal.stations.add(StationFactory(slug="closed", name_zh="已关闭站点", is_active=False))
    assert "已关闭站点" not in text(client.get("/services/HK-ID-RENEW/"))


def test_service_page_says_when_no_station_offers_it(client, department):
    ServiceFactory(service_code="ONLINE-1", department=department, channel=Channel.ONLINE)
    assert "该事项暂不在线下站点办理。" in text(client.get("/services/ONLINE-1/"))


@pytest.mark.parametrize(
    "code",
    ["NO-SUCH-CODE", "hk-id-renew", "OFF-1", "HK%20ID", "%00", "a%00b", "%E8%BA%AB", "A" * 500],
)
def test_unknown_or_inactive_service_page_is_a_404_page(client, id_renewal, code):
    ServiceFactory(service_code="OFF-1", is_active=False)
    response = client.get(f"/services/{code}/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert "页面不存在" in text(response)


def test_service_page_of_an_inactive_department_is_a_404_page(client, department, id_renewal):
    department.is_active = False
    department.save()
    assert client.get("/services/HK-ID-RENEW/").status_code == 404


def test_unknown_page_is_a_404_page(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "页面不存在" in text(response)


# Query budgets --------------------------------------------------------------------------------
def _services_in_departments(stations=()):
    """Adds ``n`` services spread over new departments, so groups grow as well as rows."""

    def make(n):
        for index in range(n):
            department = DepartmentFactory() if index % 2 == 0 else None
            kwargs = {"department": department} if department else {}
            ServiceFactory(stations=list(stations), **kwargs)

    return make


def test_home_runs_constant_queries(client, department, partner):
    def make(n):
        for _ in range(n):
            StationFactory(host=PartnerFactory(), departments=[department])
        _services_in_departments()(n)

    def check(response, rows):
        html = text(response)
        assert html.count('class="card"') == rows
        assert html.count('class="service-name"') == rows

    assert_constant_queries(lambda: client.get(HOME), make, check=check, max_queries=5)


def test_home_search_runs_constant_queries(client, partner):
    def make(n):
        StationFactory.create_batch(n, host=partner)
        _services_in_departments()(n)

    def check(response, rows):
        assert text(response).count('class="service-name"') == rows

    assert_constant_queries(
        lambda: client.get(HOME, {"q": "服务事项 service"}), make, check=check, max_queries=5
    )


def test_station_page_runs_constant_queries(client, mall_station):
    slots = itertools.count()

    def make(n):
        mall_station.departments.add(*DepartmentFactory.create_batch(n))
        OpeningHours.objects.bulk_create(
            OpeningHours(
                station=mall_station,
                weekday=k % 7,
                opens=dt.time(k // 60, k % 60),
                closes=dt.time(23),
            )
            for k in itertools.islice(slots, n)
        )
        _services_in_departments([mall_station])(n)

    def check(response, rows):
        assert text(response).count('class="service-name"') == rows

    assert_constant_queries(lambda: client.get("/stations/mixc/"), make, check=check, max_queries=5)


def test_service_page_runs_constant_queries(client, id_renewal):
    def make(n):
        id_renewal.stations.add(*(StationFactory(host=PartnerFactory()) for _ in range(n)))

    def check(response, rows):
        assert text(response).count("/stations/") == rows + 1

    assert_constant_queries(
        lambda: client.get("/services/HK-ID-RENEW/"), make, check=check, max_queries=2
    )


def test_signed_in_home_runs_constant_queries(client, citizen, department):
    client.force_login(citizen)
    assert_constant_queries(lambda: client.get(HOME), _services_in_departments())


# Error pages ----------------------------------------------------------------------------------
def test_a_404_asked_for_as_json_is_answered_in_json(client):
    response = client.get("/stations/nope/", headers={"accept": "application/json"})
    assert response.status_code == 404
    assert response.json()["detail"]


def test_server_error_page_renders_without_touching_the_request_context(rf, monkeypatch):
    from django.template import context_processors

    from governance.core.errors import server_error

    def broken(request):
        raise AssertionError("the 500 page must not run context processors")

    monkeypatch.setattr(context_processors, "request", broken)
    response = server_error(rf.get("/stations/mixc/"))
    assert response.status_code == 500
    assert "服务暂时不可用" in response.content.decode()


def test_server_error_under_the_api_is_json(rf):
    from governance.core.errors import server_error

    response = server_error(rf.get("/api/v1/services/"))
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
