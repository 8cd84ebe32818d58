"""A citizen on a phone: home page, language switch, service search, a station, a service."""

from __future__ import annotations

import pytest

from tests.factories import DepartmentFactory, PartnerFactory, ServiceFactory, StationFactory

pytestmark = pytest.mark.e2e


@pytest.fixture
def catalogue(transactional_db):
    hukou = DepartmentFactory(slug="hukou", name_zh="户政管理", name_en="Household Administration")
    exit_entry = DepartmentFactory(
        slug="exit-entry", name_zh="出入境管理", name_en="Exit-Entry Administration"
    )
    mall = PartnerFactory(slug="mall", name_zh="成都万象城", name_en="The Mixc Chengdu")
    station = StationFactory(
        slug="chenghua-mixc",
        name_zh="成华区万象城智慧警务服务站",
        name_en="Chenghua Mixc Smart Police Service Station",
        host=mall,
        departments=[hukou, exit_entry],
    )
    ServiceFactory(
        service_code="HK-ID-RENEW",
        department=hukou,
        name_zh="居民身份证换领",
        name_en="Renewal of resident ID card",
        keywords="身份证;换证",
        documents_zh="户口簿\n原身份证",
        documents_en="household register booklet\ncurrent ID card",
        stations=[station],
    )
    ServiceFactory(
        service_code="EE-PASSPORT",
        department=exit_entry,
        name_zh="普通护照签发",
        name_en="Issue of an ordinary passport",
        keywords="护照;出国",
        stations=[station],
    )
    return station


def test_citizen_browses_on_a_phone_in_both_languages(journey, catalogue):
    page = journey.page
    journey.goto("/")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    assert page.get_by_role("heading", name="成华区万象城智慧警务服务站").is_visible()
    journey.look("home-zh")

    with page.expect_navigation():
        page.get_by_role("button", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("link", name="Chenghua Mixc Smart Police Service Station").is_visible()
    journey.look("home-en")

    with page.expect_navigation():
        page.get_by_role("button", name="简体中文").click()
    assert page.locator("html").get_attribute("lang") == "zh-Hans"

    search = page.get_by_role("searchbox")
    search.fill("护照")
    with page.expect_navigation():
        search.press("Enter")
    assert page.get_by_role("link", name="普通护照签发").is_visible()
    assert page.get_by_role("link", name="居民身份证换领").count() == 0
    journey.look("search-passport")

    page.get_by_role("link", name="普通护照签发").click()
    assert page.get_by_role("heading", level=1, name="普通护照签发").is_visible()
    journey.look("service-page")

    page.get_by_role("link", name="成华区万象城智慧警务服务站").first.click()
    assert page.get_by_role("heading", level=1, name="成华区万象城智慧警务服务站").is_visible()
    assert page.get_by_text("10:00–22:00").first.is_visible()
    journey.look("station-page")


def test_search_with_hostile_input_is_escaped_and_bounded(journey, catalogue):
    page = journey.page
    journey.goto("/")
    search = page.get_by_role("searchbox")
    search.fill("<script>window.__xss = 1</script>")
    with page.expect_navigation():
        search.press("Enter")

    assert page.evaluate("window.__xss") is None
    assert page.get_by_text("没有找到匹配的服务事项。").is_visible()
    journey.look("search-script")

    # The box caps what a person can type; a crafted URL with more gets a form error.
    journey.goto("/?q=" + "身" * 1_000)
    assert page.locator(".field-error").is_visible()
    journey.look("search-too-long")


def test_unknown_service_shows_a_not_found_page(journey, catalogue):
    response = journey.goto("/services/NO-SUCH-CODE/")

    assert response.status == 404
    assert journey.page.get_by_role("heading", name="页面不存在").is_visible()
    journey.look("not-found")
