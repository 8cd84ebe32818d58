"""The bad-rating loop end to end in real Chromium, on a phone: a citizen scans the counter's
link, rates the visit 非常不满意 with two reasons and a comment; the rectification case appears
in the department's work queue; staff read the rating in it, record the return visit (回访),
acknowledge and resolve it; the citizen is told, re-rates 满意, and the original rating stays
on record. And the anonymous rater who left only an e-mail address: the re-rating link comes
by mail.

The live server has no Celery worker: as in the notification journeys, tasks run eagerly, so
``open_rectification`` runs in the rating request as soon as the rating commits (and the
e-mails go out in the request that resolves the case).
"""

from __future__ import annotations

import re

import pytest
from django.core import mail

from feedback.models import Feedback
from feedback.tokens import visit_token
from governance.cases.models import Case, Source, Status, TimelineEntry
from governance.celery import app as celery_app
from governance.notifications.models import Notification
from tests.e2e.conftest import Journey
from tests.e2e.test_notification_journeys import sign_in
from tests.factories import (
    DepartmentFactory,
    MembershipFactory,
    PartnerFactory,
    ServiceFactory,
    StationFactory,
    UserFactory,
    VisitFactory,
)

pytestmark = pytest.mark.e2e

REFERENCE = re.compile(r"^[A-Z]+-\d{4}-\d{6}$")
COMMENT = "排队一个多小时，窗口工作人员中途离开二十分钟，也没有人解释。"
RETURN_VISIT = "已电话联系王先生致歉；窗口离岗已按规定处理，高峰时段增开一个窗口。"


@pytest.fixture
def eager_tasks():
    """No worker beside the live server: a task runs inline when its transaction commits."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def world(transactional_db, eager_tasks):
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
    citizen = UserFactory(email="wang.xiansheng@example.com", display_name="王先生")
    staff = UserFactory(email="hukou.staff@example.com", display_name="李娜")
    MembershipFactory(user=staff, organisation=hukou, role="staff")
    return {"station": station, "renew": renew, "citizen": citizen, "staff": staff}


def visit_at(world, ticket: str):
    visit = VisitFactory(station=world["station"], service=world["renew"], ticket=ticket)
    return visit, visit_token(visit)


def level(page, label: str):
    """The level's tappable label (the radio inside it may be styled away)."""
    return page.locator("fieldset.levels label.level").filter(
        has=page.get_by_text(label, exact=True)
    )


def reason(page, code: str):
    return page.locator(f'fieldset.reasons label.reason[data-reason="{code}"]')


def rate_very_dissatisfied(journey, token: str, *, email: str = "") -> None:
    """On the rating page: tap 非常不满意, tick two reasons, write the comment, submit."""
    page = journey.page
    journey.goto(f"/r/{token}/")
    assert page.get_by_role("heading", name="评价这次办事").is_visible()
    assert "成华区万象城智慧警务服务站" in page.locator(".rate-head").inner_text()
    # No level yet: the script hides the reasons until one is chosen. (The fieldset carries
    # ``hidden``; site.css's ``.reasons { display: flex }`` still draws its empty frame and
    # legend, so the check is on the attribute and on the reasons themselves.)
    assert page.locator("fieldset.reasons").get_attribute("hidden") is not None
    assert page.locator("fieldset.reasons label.reason:visible").count() == 0
    journey.look("rate-page")

    level(page, "非常不满意").tap()
    assert page.get_by_role("radio", name="非常不满意", exact=True).is_checked()
    # Only the complaints fit this level: the praise is not offered.
    assert page.locator("fieldset.reasons").is_visible()
    assert reason(page, "waiting_time").is_visible()
    assert reason(page, "attitude").is_visible()
    assert reason(page, "fast").is_hidden()
    assert reason(page, "friendly").is_hidden()
    reason(page, "waiting_time").tap()
    reason(page, "attitude").tap()
    assert page.get_by_role("checkbox", name="等候时间长").is_checked()
    assert page.get_by_role("checkbox", name="服务态度差").is_checked()
    page.get_by_label("想说的话（可选）").fill(COMMENT)
    if email:
        page.locator("details.contact summary").tap()
        page.get_by_label("电子邮箱").fill(email)
    journey.look("rate-filled")
    with page.expect_navigation():
        page.get_by_role("button", name="提交评价").tap()

    # Thanks, and the rating given.
    assert page.get_by_text("谢谢你的评价！").is_visible()
    assert page.get_by_role("heading", name="这次办事已经评价过了").is_visible()
    assert "评价：非常不满意" in page.locator(".rating-given").inner_text()
    assert page.get_by_text("办理单位会在 1 个工作日内回访").is_visible()
    journey.look("rated")

    # Scanning the slip again shows the rating already given, and offers no second one.
    journey.goto(f"/r/{token}/")
    assert page.get_by_role("heading", name="这次办事已经评价过了").is_visible()
    assert "评价：非常不满意" in page.locator(".rating-given").inner_text()
    assert page.get_by_role("button", name="提交评价").count() == 0


def staff_handle(journey, browser, staff_email: str, case: Case, *, title: str) -> None:
    """The department's staff, in another browser: find the case in the queue, read the
    rating in it, record the return visit, acknowledge, resolve."""
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    try:
        staff = Journey(context.new_page(), journey.base_url, f"{journey.name}-staff")
        staff.page.set_default_timeout(15_000)
        desk = staff.page
        sign_in(staff, staff_email, next_path="/cases/queue/")
        assert desk.url.endswith("/cases/queue/")
        row = desk.locator(f'tr[data-reference="{case.reference}"]')
        assert row.is_visible()
        staff.look("queue")
        with desk.expect_navigation():
            row.get_by_role("link", name=title).click()
        assert desk.locator(".page-head .status").first.inner_text() == "待受理"
        description = desk.locator(".case-description").first.inner_text()
        assert "评价等级：非常不满意" in description
        assert "原因：等候时间长、服务态度差" in description
        assert f"评价说明：{COMMENT}" in description
        staff.look("case-new")

        # The return visit (回访): a phone call, with what was said.
        contact = desk.locator("#contact")
        assert contact.get_by_role("heading", name="记录回访").is_visible()
        contact.get_by_label("联系方式").select_option(label="电话")
        contact.get_by_label("沟通内容").fill(RETURN_VISIT)
        with desk.expect_navigation():
            contact.get_by_role("button", name="保存记录").click()
        assert desk.get_by_text("联系记录已保存。").is_visible()
        timeline = desk.locator("ol.timeline").inner_text()
        assert "联系报告人（电话）" in timeline
        assert RETURN_VISIT in timeline

        for to, shown in (("acknowledged", "已受理"), ("resolved", "已解决")):
            desk.locator("#transition").get_by_label("变更为").select_option(to)
            with desk.expect_navigation():
                desk.locator("#transition").get_by_role("button", name="确定").click()
            assert desk.get_by_text("事项状态已更新。").is_visible()
            assert desk.locator(".page-head .status").first.inner_text() == shown
        staff.look("case-resolved")
        staff.assert_no_script_errors()
    finally:
        context.close()


def test_bad_rating_to_rectification_to_rerating(journey, world, browser):
    page = journey.page
    citizen = world["citizen"]
    visit, token = visit_at(world, "A017")

    # 1. The citizen, signed in on their phone, scans the slip's link and rates.
    sign_in(journey, citizen.email)
    rate_very_dissatisfied(journey, token)
    rating = Feedback.objects.select_related("case").get(visit=visit)
    assert (rating.level, rating.user, rating.text) == (1, citizen, COMMENT)
    assert rating.reasons == ["waiting_time", "attitude"]

    # 2. The rectification case was opened by the task when the rating committed: private,
    # for the department that handled the visit, followed by the rater.
    case = rating.case
    assert case is not None, "open_rectification did not open a case"
    assert REFERENCE.match(case.reference), case.reference
    assert case.source == Source.FEEDBACK
    assert case.responsible.slug == "hukou"
    assert case.reporter == citizen
    assert not case.is_public
    assert case.follows.filter(user=citizen).exists()
    assert rating.return_visit_due_at == case.acknowledge_due_at

    # 3. The staff handle it.
    staff_handle(journey, browser, world["staff"].email, case, title="差评整改：居民身份证换领")
    case.refresh_from_db()
    assert case.status == Status.RESOLVED
    assert case.timeline.filter(
        kind=TimelineEntry.Kind.CONTACT, body=RETURN_VISIT, data__channel="phone"
    ).exists()
    rating.refresh_from_db()
    assert rating.rectified_at is not None
    assert rating.rater_told_at is not None

    # 4. The citizen is told, in the inbox; the notification leads to the re-rating page.
    assert Notification.objects.filter(recipient=citizen, event_type="feedback.rectified").exists()
    journey.goto("/notifications/")
    told = page.get_by_role("button", name=re.compile("差评整改已完成，请再次评价"))
    assert f"你的差评已整改（{case.reference}），欢迎再次评价" in told.inner_text()
    journey.look("inbox")
    with page.expect_navigation():
        told.tap()
    assert "/feedback/rerate/" in page.url
    assert page.get_by_role("heading", name="评价整改结果").is_visible()
    facts = page.locator("dl.facts").inner_text()
    assert "非常不满意" in facts
    assert case.reference in facts
    journey.look("rerate-page")
    level(page, "满意").tap()
    page.get_by_label("想说的话（可选）").fill("回访很及时，窗口多开了一个。")
    with page.expect_navigation():
        page.get_by_role("button", name="提交", exact=True).tap()
    assert page.get_by_text("谢谢！你对整改的评价已记录。").is_visible()
    assert "你对整改的评价：满意" in page.locator(".rating-given").inner_text()
    assert page.get_by_text("原来的评价也保留在记录中。").is_visible()
    assert page.get_by_role("button", name="提交", exact=True).count() == 0
    journey.look("rerated")
    rating.refresh_from_db()
    assert (rating.level, rating.rerating_level) == (1, 4)

    # 5. On the rating's own page the original stays, beside the verdict on the rectification.
    journey.goto(f"/feedback/{rating.pk}/")
    assert page.locator("h1 .level-badge").inner_text() == "非常不满意"
    facts = page.locator("dl.facts").inner_text()
    assert "等候时间长" in facts
    assert "服务态度差" in facts
    assert case.reference in facts
    assert re.search(r"整改后评价\s*满意", facts), facts
    assert COMMENT in page.locator(".case-description").inner_text()
    journey.look("feedback-detail")
    # The case's timeline has the rater's verdict too.
    assert case.timeline.filter(body__startswith="评价人对整改的评价：满意").exists()


def test_anonymous_rater_gets_the_rerating_link_by_mail(journey, world, browser):
    page = journey.page
    visit, token = visit_at(world, "A018")

    rate_very_dissatisfied(journey, token, email="rater@example.com")
    rating = Feedback.objects.select_related("case").get(visit=visit)
    assert rating.user is None
    assert rating.contact_email == "rater@example.com"
    case = rating.case
    assert case is not None, "open_rectification did not open a case"
    assert case.reporter is None
    assert case.contact_email == "rater@example.com"

    mail.outbox.clear()
    staff_handle(journey, browser, world["staff"].email, case, title="差评整改：居民身份证换领")
    (message,) = [m for m in mail.outbox if m.to == ["rater@example.com"]]
    assert message.subject == "你的差评已整改，欢迎再次评价"
    link = re.search(r"https?://\S+/feedback/rerate/\S+/", message.body).group(0)
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]

    journey.goto(path)
    assert page.get_by_role("heading", name="评价整改结果").is_visible()
    level(page, "基本满意").tap()
    with page.expect_navigation():
        page.get_by_role("button", name="提交", exact=True).tap()
    assert "你对整改的评价：基本满意" in page.locator(".rating-given").inner_text()
    rating.refresh_from_db()
    assert (rating.level, rating.rerating_level) == (1, 3)
    # The link works once.
    journey.goto(path)
    assert page.get_by_role("button", name="提交", exact=True).count() == 0
