"""Booking the mall's atrium in real Chromium, on phones: household administration staff find
the atrium in the catalogue and ask for it on a Saturday morning for a traffic-safety
campaign; traffic police staff ask for an overlapping time the same morning; the mall's admin
sees both requests on the partner portal, approves the first, is refused (409, naming the
booking in the way) when approving the second, and declines it with a reason the traffic
police read; a further overlapping request from traffic is refused at once, naming the
approved booking; the atrium's week calendar shows the approved booking (with who to the
household administration, as taken time to the traffic police).

The live server has no Celery worker: as in the other journeys, tasks run eagerly, so the
notifications are delivered in the request that publishes the event.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from governance.celery import app as celery_app
from governance.notifications.models import Notification
from partners import services
from partners.models import Booking, Resource
from tests.e2e.conftest import PHONE, Journey
from tests.e2e.test_account_journeys import field
from tests.e2e.test_notification_journeys import sign_in
from tests.factories import (
    DepartmentFactory,
    MembershipFactory,
    PartnerFactory,
    StationFactory,
    UserFactory,
)

pytestmark = pytest.mark.e2e

PURPOSE = "交通安全宣传周：中庭展板与互动问答，约 60 人"
REASON = "该时段已批准户政管理大队的活动，请改约下午"


@pytest.fixture
def eager_tasks():
    """No worker beside the live server: a task runs inline when its transaction commits."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def next_saturday(at_least_days: int = 2) -> dt.date:
    """The first Saturday at least ``at_least_days`` ahead (so every time on it is ahead)."""
    day = timezone.localdate() + dt.timedelta(days=at_least_days)
    return day + dt.timedelta(days=(5 - day.weekday()) % 7)


@pytest.fixture
def world(transactional_db, eager_tasks, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    hukou = DepartmentFactory(
        slug="hukou", name_zh="户政管理大队", name_en="Household Administration"
    )
    traffic = DepartmentFactory(slug="traffic", name_zh="交通管理大队", name_en="Traffic Police")
    mall = PartnerFactory(slug="mall", name_zh="成都万象城", name_en="The Mixc Chengdu")
    station = StationFactory(
        slug="chenghua-mixc",
        name_zh="成华区万象城智慧警务服务站",
        name_en="Chenghua Mixc Smart Police Service Station",
        host=mall,
        departments=[hukou, traffic],
    )
    people = {}
    for key, email, name, organisation, role in (
        ("hukou", "hukou.staff@example.com", "李娜", hukou, "staff"),
        ("traffic", "traffic.staff@example.com", "周强", traffic, "staff"),
        ("mall", "mall.admin@example.com", "陈经理", mall, "admin"),
    ):
        people[key] = UserFactory(email=email, display_name=name)
        MembershipFactory(user=people[key], organisation=organisation, role=role)
    atrium = services.resource_create(
        actor=people["mall"],
        partner=mall,
        data={
            "kind": "space",
            "name_zh": "一层中庭",
            "name_en": "Ground-floor atrium",
            "description_zh": "商场一层中庭，可布置展板和舞台，约 200 平方米。",
            "station": station,
            "place_zh": "一层中庭（近南门）",
            "quantity": "200",
            "unit": "sqm",
            "visibility": "public",
            "max_booking_minutes": 8 * 60,
        },
    )
    services.resource_set_opening_rules(
        actor=people["mall"],
        resource=atrium,
        windows=[(day, dt.time(10), dt.time(22)) for day in range(7)],
    )
    return {"atrium": atrium, "people": people, "hukou": hukou, "traffic": traffic}


def submit(page, form, button: str) -> None:
    with page.expect_navigation():
        form.get_by_role("button", name=button, exact=True).click()


def request_form(page, day: dt.date, start: str, end: str, purpose: str):
    """Fill the booking form; returns it."""
    form = page.locator("form.booking-form")
    field(page, "日期").fill(day.isoformat())
    field(page, "开始时间").fill(start)
    field(page, "结束时间").fill(end)
    field(page, "用途").fill(purpose)
    return form


def phone(browser, journey, label: str) -> tuple[object, Journey]:
    context = browser.new_context(**PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
    other = Journey(context.new_page(), journey.base_url, f"{journey.name}-{label}")
    other.page.set_default_timeout(15_000)
    return context, other


def test_department_books_the_atrium_mall_approves_an_overlap_is_refused_with_the_reason(
    journey, world, browser
):
    page = journey.page
    atrium: Resource = world["atrium"]
    people = world["people"]
    saturday = next_saturday()

    # 1. Household administration staff find the atrium in the catalogue and ask for Saturday
    #    10:00–12:00.
    sign_in(journey, people["hukou"].email, next_path="/partners/resources/")
    assert page.url.endswith("/partners/resources/")
    card = page.locator(f'li.resource-card[data-resource="{atrium.pk}"]')
    assert "200 平方米" in card.inner_text()
    journey.look("catalogue")
    with page.expect_navigation():
        card.get_by_role("link", name="一层中庭").click()
    assert page.get_by_role("heading", name="一层中庭", exact=True).is_visible()
    assert "星期一至星期日" in page.locator(".hours-words").inner_text()
    assert "10:00–22:00" in page.locator(".hours-words").inner_text()
    journey.look("resource")
    with page.expect_navigation():
        page.get_by_role("link", name="预约这项资源").click()
    form = request_form(page, saturday, "10:00", "12:00", PURPOSE)
    journey.look("booking-form")
    submit(page, form, "提交申请")
    hukou_booking = Booking.objects.get(requester=world["hukou"])
    assert page.url.endswith(f"/partners/bookings/{hukou_booking.pk}/")
    assert page.get_by_text("预约申请已提交，等待提供方审批。").is_visible()
    assert page.locator("[data-status]").inner_text() == "待审批"
    journey.look("requested")

    # 2. Traffic police staff, on their own phone, ask for 11:00–13:00 the same Saturday: not
    #    approved yet, so the request is taken (the partner chooses).
    context, traffic = phone(browser, journey, "traffic")
    try:
        sign_in(
            traffic, people["traffic"].email, next_path=f"/partners/resources/{atrium.pk}/book/"
        )
        form = request_form(traffic.page, saturday, "11:00", "13:00", "文明交通劝导活动")
        submit(traffic.page, form, "提交申请")
        assert traffic.page.get_by_text("预约申请已提交").is_visible()
    finally:
        context.close()
    traffic_booking = Booking.objects.get(requester=world["traffic"])
    assert traffic_booking.status == Booking.Status.REQUESTED

    # 3. The mall's admin sees both on the partner portal, approves the first and is refused
    #    the second, naming the booking in the way; then declines it with a reason.
    context, mall = phone(browser, journey, "mall")
    try:
        desk = mall.page
        sign_in(mall, people["mall"].email, next_path="/partners/portal/")
        assert desk.url.endswith("/partners/portal/")
        waiting = desk.locator("section.pending-requests")
        assert waiting.locator(f'[data-booking="{hukou_booking.pk}"]').is_visible()
        assert waiting.locator(f'[data-booking="{traffic_booking.pk}"]').is_visible()
        mall.look("portal")
        mall.goto(f"/partners/bookings/{hukou_booking.pk}/")
        assert PURPOSE in desk.locator(".booking-facts").inner_text()
        mall.look("booking-to-approve")
        submit(desk, desk.locator("form.approve-form"), "批准预约")
        assert desk.get_by_text("预约已批准，申请单位会收到通知。").is_visible()
        assert desk.locator("[data-status]").inner_text() == "已批准"

        response = mall.goto(f"/partners/bookings/{traffic_booking.pk}/")
        assert response.status == 200
        # The page warns before the click; the click is refused all the same.
        assert f"预约 #{hukou_booking.pk}" in desk.locator(".conflict").inner_text()
        with desk.expect_navigation() as navigation:
            desk.locator("form.approve-form").get_by_role("button", name="批准预约").click()
        assert navigation.value.status == 409
        alert = desk.get_by_role("alert").first
        assert f"该时段已被预约 #{hukou_booking.pk}（户政管理大队" in alert.inner_text()
        mall.look("approve-refused")
        decline = desk.locator("form.decline-form")
        decline.get_by_label("原因").fill(REASON)
        submit(desk, decline, "拒绝预约")
        assert desk.get_by_text("预约已拒绝，申请单位会看到原因。").is_visible()
        mall.look("declined")
    finally:
        context.close()
    hukou_booking.refresh_from_db()
    traffic_booking.refresh_from_db()
    assert hukou_booking.status == Booking.Status.APPROVED
    assert traffic_booking.status == Booking.Status.DECLINED

    # 4. The traffic police read the reason, and a new overlapping request is refused at once,
    #    naming the approved booking.
    context, traffic = phone(browser, journey, "traffic-again")
    try:
        desk = traffic.page
        sign_in(
            traffic, people["traffic"].email, next_path=f"/partners/bookings/{traffic_booking.pk}/"
        )
        assert desk.locator("[data-status]").inner_text() == "已拒绝"
        assert REASON in desk.locator(".decline-reason").inner_text()
        traffic.look("declined-reason")
        traffic.goto(f"/partners/resources/{atrium.pk}/?week={saturday.isoformat()}")
        day = desk.locator(f'li.day[data-day="{saturday.isoformat()}"]')
        # Another organisation's booking: the time is taken, who and why are not shown.
        assert "10:00–12:00" in day.inner_text()
        assert "已被预约" in day.inner_text()
        assert PURPOSE not in day.inner_text()
        traffic.look("calendar-taken")
        with desk.expect_navigation():
            day.get_by_role("link", name=f"预约这天 {saturday.isoformat()}").click()
        assert field(desk, "日期").input_value() == saturday.isoformat()
        form = request_form(desk, saturday, "11:30", "12:30", "文明交通劝导活动")
        with desk.expect_navigation() as navigation:
            form.get_by_role("button", name="提交申请").click()
        assert navigation.value.status == 409
        alert = desk.get_by_role("alert").first
        # Traffic police may not read household administration's booking: the refusal names the
        # time taken, never the other organisation or its booking.
        assert "该时段已被占用" in alert.inner_text()
        assert f"{saturday.isoformat()} 10:00–{saturday.isoformat()} 12:00" in alert.inner_text()
        assert f"#{hukou_booking.pk}" not in alert.inner_text()
        assert "户政管理大队" not in alert.inner_text()
        traffic.look("request-refused")
    finally:
        context.close()
    assert Booking.objects.filter(requester=world["traffic"]).count() == 1

    # 5. The atrium's week calendar shows the approved booking to household administration.
    journey.goto(f"/partners/resources/{atrium.pk}/?week={saturday.isoformat()}")
    day = page.locator(f'li.day[data-day="{saturday.isoformat()}"]')
    slot = day.locator(f'[data-booking="{hukou_booking.pk}"]')
    assert "10:00–12:00" in slot.inner_text()
    assert "户政管理大队" in slot.inner_text()
    assert "已批准" in slot.inner_text()
    assert day.locator(".slot-requested").count() == 0  # the declined request is gone
    journey.look("calendar-approved")

    # Everyone involved was told.
    told = set(
        Notification.objects.filter(event_type__startswith="partners.").values_list(
            "event_type", "recipient_id"
        )
    )
    assert ("partners.booking_approved", people["hukou"].pk) in told
    assert ("partners.booking_declined", people["traffic"].pk) in told


def png_bytes() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (30, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_partner_adds_a_resource_with_hours_a_closure_and_a_photo(journey, world):
    """The mall's admin adds a self-service kiosk from the portal, opens it on weekdays with a
    lunch break and on Saturday mornings, closes it for a day of maintenance and adds its
    photo; the public page shows all of it."""
    page = journey.page
    people = world["people"]
    monday = timezone.localdate() + dt.timedelta(days=7 - timezone.localdate().weekday() + 7)

    sign_in(journey, people["mall"].email, next_path="/partners/portal/")
    with page.expect_navigation():
        page.locator("section.partner-resources").get_by_role("link", name="添加资源").click()
    form = page.locator("form.resource-form")
    field(page, "类型").select_option(label="设备（自助终端、屏幕等）")
    field(page, "中文名称").fill("自助拍照机")
    field(page, "英文名称").fill("Photo booth")
    field(page, "所在站点").select_option(label="成华区万象城智慧警务服务站")
    field(page, "位置（中文）").fill("二层东侧电梯旁")
    field(page, "容量/数量").fill("2")
    field(page, "单位").select_option(label="台/个")
    field(page, "单次预约最长（分钟）").fill("120")
    journey.look("resource-form")
    submit(page, form, "添加资源")
    kiosk = Resource.objects.get(name_zh="自助拍照机")
    assert page.url.endswith(f"/partners/resources/{kiosk.pk}/hours/")
    assert page.get_by_text("资源已添加。请设置它的开放时间。").is_visible()

    hours = page.locator("form.hours-form")
    for weekday in range(5):
        day = hours.locator(f'fieldset[data-weekday="{weekday}"]')
        day.get_by_label("时段 1 开始").fill("09:00")
        day.get_by_label("时段 1 结束").fill("12:00")
        day.get_by_label("时段 2 开始").fill("13:30")
        day.get_by_label("时段 2 结束").fill("18:00")
    saturday = hours.locator('fieldset[data-weekday="5"]')
    saturday.get_by_label("时段 1 开始").fill("10:00")
    saturday.get_by_label("时段 1 结束").fill("12:00")
    journey.look("hours-form")
    submit(page, hours, "保存开放时间")
    assert page.get_by_text("开放时间已保存。").is_visible()
    words = page.locator(".hours-words").inner_text()
    assert "星期一至星期五" in words
    assert "09:00–12:00、13:30–18:00" in words
    assert "星期日" in words

    with page.expect_navigation():
        page.get_by_role("link", name="暂停与临时开放").click()
    form = page.locator("form.exception-form")
    field(page, "开始日期").fill(monday.isoformat())
    field(page, "开始时间").fill("00:00")
    field(page, "结束日期").fill((monday + dt.timedelta(days=1)).isoformat())
    field(page, "结束时间").fill("00:00")
    field(page, "原因").fill("设备年检")
    journey.look("closure-form")
    submit(page, form, "保存")
    assert page.locator(".exception-list").get_by_text("设备年检").is_visible()

    with page.expect_navigation():
        page.get_by_role("link", name="照片").click()
    page.set_input_files(
        "#id_photo", files=[{"name": "kiosk.png", "mimeType": "image/png", "buffer": png_bytes()}]
    )
    field(page, "说明").fill("二层东侧的自助拍照机")
    journey.look("photo-form")
    submit(page, page.locator("form.photo-form"), "上传")
    assert page.get_by_text("照片已上传。").is_visible()

    # Anyone reads the result, signed out.
    page.context.clear_cookies()
    journey.goto(f"/partners/resources/{kiosk.pk}/?week={monday.isoformat()}")
    photo = page.get_by_role("img", name="二层东侧的自助拍照机")
    # A lazy image loads once it nears the viewport: bring it there and wait for its pixels
    # (decode() rejects a broken image) before reading its size.
    photo.scroll_into_view_if_needed()
    assert photo.evaluate("image => image.decode().then(() => image.naturalWidth)") == 640
    closed = page.locator(f'li.day[data-day="{monday.isoformat()}"]')
    assert "设备年检" in closed.inner_text()
    assert closed.locator(".slot-open").count() == 0  # closed all day
    tuesday = page.locator(f'li.day[data-day="{(monday + dt.timedelta(days=1)).isoformat()}"]')
    assert "09:00–12:00" in tuesday.inner_text()
    assert "13:30–18:00" in tuesday.inner_text()
    journey.look("public-page")
