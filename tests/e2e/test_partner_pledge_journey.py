"""A partner pledges a kiosk to an accepted proposal, in real Chromium on phones: a member of
the mall's staff opens the proposal (accepted by household administration, with a plan),
follows "承诺资源", pledges one of the mall's self-service kiosks for the plan's period; the
household administration's staff find the pledge waiting in their list of pledges and accept
it; the public proposal page then shows the mall's accepted pledge.

The live server has no Celery worker: as in the other journeys, tasks run eagerly, so the
notifications are delivered in the request that publishes the event.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from governance.celery import app as celery_app
from governance.proposals import services as proposal_services
from governance.proposals.models import Category, Scope
from partners import services
from partners.models import Pledge
from tests.e2e.conftest import PHONE, Journey
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

TITLE = "在商场一层增设身份证自助办理终端"
NOTE = "放在一层服务台旁，开业时间内均可使用。"


@pytest.fixture
def eager_tasks():
    """No worker beside the live server: a task runs inline when its transaction commits."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def world(transactional_db, eager_tasks, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    hukou = DepartmentFactory(
        slug="hukou",
        name_zh="户政管理大队",
        name_en="Household Administration",
        short_name_zh="户政管理",
    )
    DepartmentFactory(slug="triage", name_zh="综合受理窗口", name_en="One-stop counter")
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
    category = Category.objects.create(slug="facilities", name_zh="设施设备", name_en="Facilities")
    citizen = UserFactory(email="xiaoming@example.com", display_name="王小明")
    hukou_staff = UserFactory(email="hukou.staff@example.com", display_name="李娜")
    MembershipFactory(user=hukou_staff, organisation=hukou, role="staff")
    mall_staff = UserFactory(email="mall.staff@example.com", display_name="陈晨")
    MembershipFactory(user=mall_staff, organisation=mall, role="staff")

    proposal = proposal_services.proposal_create(
        actor=citizen,
        title=TITLE,
        body="周末排队的人很多，希望增设自助终端，缩短等候时间。",
        category=category,
        scope=Scope.SERVICE,
        service=renew,
        publish_now=True,
    )
    today = timezone.localdate()
    proposal_services.proposal_answer(
        actor=hukou_staff,
        proposal=proposal,
        state="accepted",
        text="同意采纳：与商场协商，年内在一层增设自助终端。",
        cost="60000",
        starts_on=today,
        ends_on=today + dt.timedelta(days=180),
    )
    kiosk = services.resource_create(
        actor=mall_staff,
        partner=mall,
        data={
            "kind": "equipment",
            "name_zh": "自助服务终端",
            "name_en": "Self-service kiosk",
            "station": station,
            "place_zh": "一层服务台",
            "quantity": "2",
            "unit": "items",
            "visibility": "public",
            "bookable": False,
        },
    )
    return {
        "proposal": proposal,
        "kiosk": kiosk,
        "mall_staff": mall_staff,
        "hukou_staff": hukou_staff,
        "today": today,
    }


def submit(page, form, button: str) -> None:
    with page.expect_navigation():
        form.get_by_role("button", name=button, exact=True).click()


def other_phone(browser, journey, label: str) -> tuple:
    context = browser.new_context(**PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
    trip = Journey(context.new_page(), journey.base_url, f"{journey.name}-{label}")
    trip.page.set_default_timeout(15_000)
    return context, trip


def test_mall_pledges_a_kiosk_to_an_accepted_proposal_and_hukou_accepts(journey, world, browser):
    page = journey.page
    proposal = world["proposal"]
    today = world["today"]

    # 1. The mall's staff member opens the accepted proposal and offers a kiosk.
    sign_in(journey, world["mall_staff"].email, next_path=f"/proposals/{proposal.pk}/")
    assert page.url.endswith(f"/proposals/{proposal.pk}/")
    with page.expect_navigation():
        page.locator("#panel-pledges").get_by_role("link", name="承诺资源").click()
    assert f"/partners/pledges/new/?proposal={proposal.pk}" in page.url
    assert page.get_by_role("link", name=TITLE).is_visible()
    form = page.locator("form.pledge-form")
    field(page, "资源").select_option(value=str(world["kiosk"].pk))
    field(page, "数量").fill("1")
    field(page, "开始日期").fill(today.isoformat())
    field(page, "结束日期").fill((today + dt.timedelta(days=180)).isoformat())
    field(page, "说明").fill(NOTE)
    journey.look("pledge-form")
    submit(page, form, "提交承诺")

    pledge = Pledge.objects.get()
    assert page.url.endswith(f"/partners/pledges/{pledge.pk}/")
    assert (pledge.proposal_id, pledge.resource, pledge.status) == (
        proposal.pk,
        world["kiosk"],
        Pledge.Status.OFFERED,
    )
    assert page.get_by_text("承诺已提交，负责单位会收到通知。").is_visible()
    assert page.locator("[data-status]").inner_text() == "已承诺"
    assert page.locator(".pledge-what").inner_text().strip() == "自助服务终端 × 1 台/个"
    journey.look("pledge-offered")

    # 2. Household administration's staff find it waiting and accept it.
    context, desk = other_phone(browser, journey, "hukou")
    try:
        sign_in(desk, world["hukou_staff"].email, next_path="/partners/pledges/")
        assert desk.page.url.endswith("/partners/pledges/")
        row = desk.page.locator(f'tr[data-answer="{pledge.pk}"]')
        assert "自助服务终端 × 1 台/个" in row.inner_text()
        assert TITLE in row.inner_text()
        desk.look("pledges-to-answer")
        with desk.page.expect_navigation():
            row.get_by_role("link", name="成都万象城").click()
        assert NOTE in desk.page.locator("main").inner_text()
        desk.look("pledge-to-accept")
        submit(desk.page, desk.page.locator("#accept"), "接受")
        assert desk.page.get_by_text("已接受这项承诺。").is_visible()
        assert desk.page.locator("[data-status]").inner_text() == "已接受"
        desk.look("pledge-accepted")
    finally:
        context.close()
    pledge.refresh_from_db()
    assert pledge.status == Pledge.Status.ACCEPTED
    assert pledge.decided_by == world["hukou_staff"]

    # 3. Anyone reading the proposal sees the mall's accepted pledge.
    context, reader = other_phone(browser, journey, "public")
    try:
        reader.goto(f"/proposals/{proposal.pk}/")
        panel = reader.page.locator("#panel-pledges")
        item = panel.locator(f"#pledge-{pledge.pk}")
        assert "成都万象城" in item.inner_text()
        assert item.locator(".pledge-amount").inner_text() == "自助服务终端 × 1 台/个"
        assert item.locator(".status").inner_text() == "已接受"
        reader.look("proposal-with-pledge")
    finally:
        context.close()


def test_the_other_portal_pages_read_well_on_a_phone(journey, world):
    """The mall's admin walks through agreements, shifts, training and members, and an
    invitee's link: every page passes the accessibility check, forms with errors included."""
    page = journey.page
    mall, hukou = world["kiosk"].partner, world["proposal"].responsible
    admin = UserFactory(email="mall.admin@example.com", display_name="赵经理")
    MembershipFactory(user=admin, organisation=mall, role="admin")
    today = world["today"]
    agreement = services.agreement_create(
        actor=admin,
        partner=mall,
        departments=[hukou],
        data={
            "title_zh": "警务服务站合作备忘录",
            "scope_zh": "商场提供场地、屏幕和志愿者。",
            "starts_on": today - dt.timedelta(days=400),
            "ends_on": today - dt.timedelta(days=2),
        },
    )
    # It takes effect on hukou's admin's word, never on the partner's alone.
    hukou_admin = UserFactory(email="hukou.admin@example.com", display_name="李科长")
    MembershipFactory(user=hukou_admin, organisation=hukou, role="admin")
    agreement = services.agreement_update(
        actor=hukou_admin, agreement=agreement, data={}, status="active"
    )
    soon = timezone.now() + dt.timedelta(days=2)
    shift = services.shift_create(
        actor=admin,
        partner=mall,
        data={
            "station": world["kiosk"].station,
            "volunteer": "王志愿",
            "role": "引导",
            "starts_at": soon,
            "ends_at": soon + dt.timedelta(hours=3),
        },
    )
    session = services.training_create(
        actor=admin,
        organiser=mall,
        data={
            "topic_zh": "窗口服务礼仪",
            "trainer": "陈老师",
            "starts_at": timezone.now() - dt.timedelta(days=1),
            "hours": "2",
        },
    )
    services.attendance_record(
        actor=admin,
        session=session,
        attendees=[{"name": "钱学员", "organisation": mall, "attended": True}],
    )
    _invitation, token = services.invitation_send(
        actor=admin, organisation=mall, email="newcomer@example.com", role="staff"
    )

    sign_in(journey, admin.email, next_path="/partners/agreements/")
    assert page.locator(f'tr[data-agreement="{agreement.pk}"] [data-flag="expired"]').is_visible()
    journey.look("agreements")
    for path, label in (
        (f"/partners/agreements/{agreement.pk}/", "agreement"),
        (f"/partners/agreements/{agreement.pk}/edit/", "agreement-edit"),
        ("/partners/shifts/", "shifts"),
        (f"/partners/shifts/{shift.pk}/edit/", "shift-edit"),
        ("/partners/trainings/", "trainings"),
        (f"/partners/trainings/{session.pk}/", "training"),
        (f"/partners/trainings/{session.pk}/attendance/", "attendance"),
        ("/partners/portal/members/", "members"),
    ):
        journey.goto(path)
        journey.look(label)
    # A form sent empty comes back with its errors next to the fields.
    journey.goto("/partners/agreements/new/")
    submit(page, page.locator("form.agreement-form"), "保存")
    assert page.locator(".field-error").count() >= 5
    journey.look("agreement-errors")
    # The invitation link, signed in with another address, then as nobody.
    journey.goto(f"/partners/invitations/{token}/")
    assert page.get_by_text("这份邀请发给 newcomer@example.com").is_visible()
    journey.look("invitation-other-account")
    page.context.clear_cookies()
    journey.goto(f"/partners/invitations/{token}/")
    assert page.get_by_role("link", name="注册新账号").is_visible()
    journey.look("invitation")
