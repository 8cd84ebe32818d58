"""A case end to end in real Chromium: a citizen reports a problem on a phone with a photo
carrying GPS in its EXIF; household administration staff find it in their work queue,
acknowledge it, answer in public and resolve it; the citizen reads the answer in their cases
and reopens it; the staff see it back. And an anonymous report that anyone may follow."""

from __future__ import annotations

import re

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from governance.cases.models import Attachment, Case, Category, RoutingRule, Status
from tests.e2e.conftest import Journey
from tests.e2e.test_account_journeys import field
from tests.e2e.test_notification_journeys import sign_in
from tests.factories import (
    DepartmentFactory,
    MembershipFactory,
    PartnerFactory,
    ServiceFactory,
    StationFactory,
    UserFactory,
)

pytestmark = pytest.mark.e2e

REFERENCE = re.compile(r"^[A-Z]+-\d{4}-\d{6}$")
GPS_IFD = 0x8825


@pytest.fixture
def world(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    hukou = DepartmentFactory(
        slug="hukou",
        name_zh="户政管理大队",
        name_en="Household Administration",
        short_name_zh="户政管理",
    )
    mall = PartnerFactory(slug="mall", name_zh="成都万象城", name_en="The Mixc Chengdu")
    station = StationFactory(
        slug="chenghua-mixc",
        name_zh="成华区万象城智慧警务服务站",
        name_en="Chenghua Mixc Smart Police Service Station",
        host=mall,
        departments=[hukou],
    )
    renew = ServiceFactory(
        department=hukou,
        service_code="HK-ID-RENEW",
        name_zh="居民身份证换领",
        name_en="Renewal of resident ID card",
        stations=[station],
    )
    RoutingRule.objects.create(
        name_zh="居民身份证换领（户政）", name_en="ID renewal", service=renew, responsible=hukou
    )
    facility = Category.objects.create(slug="facility", name_zh="设施问题", name_en="Facility")
    RoutingRule.objects.create(
        name_zh="服务站设施（商场）", name_en="Facilities", category=facility, responsible=mall
    )
    citizen = UserFactory(email="xiaoming@example.com", display_name="王小明")
    staff = UserFactory(email="hukou.staff@example.com", display_name="李娜")
    MembershipFactory(user=staff, organisation=hukou, role="staff")
    return {"station": station, "renew": renew, "citizen": citizen, "staff": staff}


def gps_photo(path) -> None:
    """A real JPEG from a phone camera, as far as metadata go: EXIF with a GPS position."""
    image = Image.new("RGB", (640, 480), (70, 110, 160))
    for x in range(200, 440):
        for y in range(150, 330, 3):
            image.putpixel((x, y), (240, 240, 240))
    exif = image.getexif()
    exif[0x010F] = "Phone maker"  # Make
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (30.0, 39.0, 52.8)
    gps[3] = "E"
    gps[4] = (104.0, 6.0, 43.2)
    image.save(path, format="JPEG", exif=exif, quality=90)
    with Image.open(path) as check:
        assert check.getexif().get_ifd(GPS_IFD), "the test photo should carry GPS"


def status_text(page) -> str:
    return page.locator(".page-head .status").first.inner_text()


def submit(page, form_id: str, button: str) -> None:
    with page.expect_navigation():
        page.locator(f"#{form_id}").get_by_role("button", name=button).click()


def test_citizen_reports_with_a_photo_staff_resolve_citizen_reopens(
    journey, world, browser, tmp_path
):
    page = journey.page
    photo = tmp_path / "IMG_20261012_153012.jpg"
    gps_photo(photo)

    # 1. The citizen, on a phone, reports the problem with the photo.
    sign_in(journey, world["citizen"].email, next_path="/cases/report/")
    assert page.url.endswith("/cases/report/")
    field(page, "在哪个站点").select_option(label="成华区万象城智慧警务服务站")
    field(page, "涉及的服务事项").select_option(label="户政管理大队 · 居民身份证换领")
    field(page, "一句话说明问题").fill("自助拍照机拍出的照片偏暗")
    field(page, "详细描述").fill(
        "今天下午在服务站换领身份证，自助拍照机拍出来的照片很暗，重拍两次还是一样。"
    )
    page.get_by_label("照片或文件").set_input_files(str(photo))
    journey.look("report-form")
    with page.expect_navigation():
        page.get_by_role("button", name="提交", exact=True).click()

    # The receipt gives the reference to quote.
    reference = page.locator(".case-reference").inner_text().strip()
    assert REFERENCE.match(reference), reference
    assert page.get_by_role("heading", name="已收到你的报告").is_visible()
    journey.look("receipt")
    case = Case.objects.get(reference=reference)
    assert case.reporter == world["citizen"]
    assert case.responsible.slug == "hukou"
    assert case.status == Status.NEW
    # The photo is kept, private, and without its position.
    attachment = Attachment.objects.get(case=case)
    assert attachment.content_type == "image/jpeg"
    assert not attachment.is_public
    assert attachment.original_name == photo.name
    with default_storage.open(attachment.file.name, "rb") as stored, Image.open(stored) as image:
        assert image.size == (640, 480)
        assert not image.getexif().get_ifd(GPS_IFD)
        assert not image.getexif()

    # 2. Staff, in another browser, find it in the work queue and handle it.
    staff_context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    try:
        staff = Journey(staff_context.new_page(), journey.base_url, f"{journey.name}-staff")
        staff.page.set_default_timeout(15_000)
        desk = staff.page
        sign_in(staff, world["staff"].email, next_path="/cases/queue/")
        assert desk.url.endswith("/cases/queue/")
        row = desk.locator(f'tr[data-reference="{reference}"]')
        assert row.is_visible()
        staff.look("queue")
        with desk.expect_navigation():
            row.get_by_role("link", name="自助拍照机拍出的照片偏暗").click()
        assert status_text(desk) == "待受理"
        # The private photo is shown to the handlers, and it loads.
        thumb = desk.locator("img.attachment-thumb")
        thumb.scroll_into_view_if_needed()
        desk.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle()
        )
        staff.look("case-new")

        desk.locator("#transition").get_by_label("变更为").select_option("acknowledged")
        submit(desk, "transition", "确定")
        assert desk.get_by_text("事项状态已更新。").is_visible()
        assert status_text(desk) == "已受理"

        answer = "已检查拍照区补光灯，一盏灯管老化，今天已更换。照片未制证前可以免费重拍。"
        desk.locator("#reply").get_by_label("内容").fill(answer)
        submit(desk, "reply", "发布答复")
        assert desk.get_by_text("答复已发布。").is_visible()

        desk.locator("#transition").get_by_label("变更为").select_option("resolved")
        submit(desk, "transition", "确定")
        assert status_text(desk) == "已解决"
        staff.look("case-resolved")
        case.refresh_from_db()
        assert case.status == Status.RESOLVED
        assert case.acknowledged_on_time is True
        assert case.resolved_on_time is True

        # 3. The citizen reads the answer in their cases, and reopens.
        journey.goto("/cases/mine/")
        mine = page.locator(f'li.case-row[data-reference="{reference}"]')
        assert "已解决" in mine.inner_text()
        journey.look("my-cases")
        with page.expect_navigation():
            mine.get_by_role("link").click()
        assert status_text(page) == "已解决"
        timeline = page.locator("ol.timeline")
        assert answer in timeline.inner_text()
        assert "状态变为“已解决”" in timeline.inner_text()
        # The public timeline names the department, not its staff.
        assert "李娜" not in timeline.inner_text()
        journey.look("case-citizen")
        page.locator("#reopen").get_by_label("为什么重开").fill(
            "重拍后的照片还是偏暗，拍照区右侧的灯好像也不亮。"
        )
        submit(page, "reopen", "重开事项")
        assert page.get_by_text("事项已重开，办理单位会再次处理。").is_visible()
        assert status_text(page) == "已重开"
        journey.look("case-reopened")
        case.refresh_from_db()
        assert case.status == Status.REOPENED
        assert case.reopen_count == 1

        # 4. The staff see it back, with the reason, and it is in the queue again.
        staff.goto(f"/cases/{reference}/")
        assert status_text(desk) == "已重开"
        assert "拍照区右侧的灯好像也不亮" in desk.locator("ol.timeline").inner_text()
        staff.goto("/cases/queue/")
        assert desk.locator(f'tr[data-reference="{reference}"]').is_visible()
        staff.assert_no_script_errors()
    finally:
        staff_context.close()


def test_anonymous_report_can_be_followed_without_an_account(journey, world):
    page = journey.page
    journey.goto("/cases/report/?station=chenghua-mixc")
    assert field(page, "在哪个站点").input_value() == "chenghua-mixc"
    # Nothing chosen: the form says what is missing, nothing is written.
    with page.expect_navigation():
        page.get_by_role("button", name="提交", exact=True).click()
    assert page.get_by_text("请选择涉及的服务事项或问题类别。").is_visible()
    assert not Case.objects.exists()
    journey.look("report-errors")

    field(page, "问题类别").select_option(label="设施问题")
    field(page, "一句话说明问题").fill("服务站门口的自动门感应失灵")
    field(page, "详细描述").fill("推着婴儿车站在门口，自动门一直不开。")
    field(page, "称呼").fill("陈女士")
    field(page, "联系电话").fill("13800001234")
    with page.expect_navigation():
        page.get_by_role("button", name="提交", exact=True).click()
    reference = page.locator(".case-reference").inner_text().strip()
    assert REFERENCE.match(reference), reference
    case = Case.objects.get(reference=reference)
    assert case.reporter is None
    assert case.responsible.slug == "mall"
    assert case.contact_phone == "13800001234"

    # A public case: anyone with the reference follows it, without the reporter's contact.
    with page.expect_navigation():
        page.get_by_role("link", name="查看办理进度").click()
    assert status_text(page) == "待受理"
    assert "匿名市民" in page.locator("dl.facts").inner_text()
    assert "13800001234" not in page.content()
    assert "陈女士" not in page.content()
    journey.look("anonymous-case")
