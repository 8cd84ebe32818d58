"""A proposal from idea to done in real Chromium, on phones: a citizen proposes longer weekend
hours from the service's page and publishes; two other citizens support it, which reaches the
support threshold (two, for the journey) and obliges the department to answer; household
administration staff find it in their list of proposals to answer, accept it with a plan
(cost, start and end), add a milestone and mark it done; the public proposal page then shows
the proposal implemented, with the timeline from publication to done.

The live server has no Celery worker: as in the other journeys, tasks run eagerly, so the
notifications are delivered in the request that publishes the event.
"""

from __future__ import annotations

import pytest

from governance.celery import app as celery_app
from governance.notifications.models import Notification
from governance.proposals.models import Answer, Category, Milestone, Proposal, Status, Support
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

TITLE = "周末延长身份证办理时间"
BODY = (
    "很多上班族只能周末来办证。\n\n"
    "建议：\n\n"
    "- 周六、周日开放到**晚上八点**；\n"
    "- 周末增开一个换领窗口。"
)
COMMENT = "好建议！周末来办证的人很多，最好也能在网上预约时段。"
ANSWER = "经研究，同意采纳。自下月起，周末开放至晚上八点，并增开一个换领窗口。"


@pytest.fixture
def eager_tasks():
    """No worker beside the live server: a task runs inline when its transaction commits."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def world(transactional_db, eager_tasks, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.PROPOSALS_SUPPORT_THRESHOLD = 2
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
    Category.objects.create(slug="opening-hours", name_zh="开放时间", name_en="Opening hours")
    Category.objects.create(slug="facilities", name_zh="设施设备", name_en="Facilities")
    citizen = UserFactory(email="xiaoming@example.com", display_name="王小明")
    supporters = [
        UserFactory(email="lihua@example.com", display_name="李华"),
        UserFactory(email="zhangwei@example.com", display_name="张伟"),
    ]
    staff = UserFactory(email="hukou.staff@example.com", display_name="李娜")
    MembershipFactory(user=staff, organisation=hukou, role="staff")
    return {
        "service": renew,
        "citizen": citizen,
        "supporters": supporters,
        "staff": staff,
        "hukou": hukou,
    }


def submit(page, form, button: str) -> None:
    with page.expect_navigation():
        form.get_by_role("button", name=button, exact=True).click()


def status_text(page) -> str:
    return page.locator(".page-head .proposal-status").first.inner_text().strip()


def test_citizen_proposes_others_support_staff_accept_and_implement(journey, world, browser):
    page = journey.page
    citizen = world["citizen"]

    # 1. The citizen, on the service's page, proposes; the form knows the service.
    sign_in(journey, citizen.email, next_path="/services/HK-ID-RENEW/")
    with page.expect_navigation():
        page.get_by_role("link", name="提出建议").click()
    assert "/proposals/new/?service=HK-ID-RENEW" in page.url
    assert page.locator("#id_service").input_value() == "HK-ID-RENEW"
    assert page.get_by_role("radio", name="服务事项").is_checked()
    # The station's choice stays out of sight for a service... until the scope asks for it.
    field(page, "标题").fill(TITLE)
    field(page, "建议内容").fill(BODY)
    field(page, "类别").select_option(label="开放时间")
    journey.look("propose-form")
    submit(page, page.locator("form.proposal-form"), "发布")

    proposal = Proposal.objects.get()
    assert page.url.endswith(f"/proposals/{proposal.pk}/")
    assert proposal.author == citizen
    assert proposal.status == Status.PUBLISHED
    assert proposal.responsible == world["hukou"]
    assert page.get_by_text("建议已发布").is_visible()
    assert status_text(page) == "征集支持中"
    # The Markdown is rendered: a list, bold text.
    body = page.locator(".proposal-body")
    assert body.locator("li").count() == 2
    assert body.locator("strong").inner_text() == "晚上八点"
    assert page.get_by_text("达到 2 人支持后，答复单位须在 30 天内正式答复。").is_visible()
    journey.look("proposal-published")

    # 2. Two other citizens, each on their own phone, support it.
    for number, supporter in enumerate(world["supporters"], 1):
        context = browser.new_context(**PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
        try:
            other = Journey(
                context.new_page(), journey.base_url, f"{journey.name}-supporter-{number}"
            )
            other.page.set_default_timeout(15_000)
            sign_in(other, supporter.email, next_path=f"/proposals/{proposal.pk}/")
            other.goto("/proposals/")
            row = other.page.locator(f'li.proposal-row[data-proposal="{proposal.pk}"]')
            assert TITLE in row.inner_text()
            if number == 1:
                other.look("list")
            with other.page.expect_navigation():
                row.get_by_role("link", name=TITLE).click()
            submit(other.page, other.page.locator("#support"), "支持这条建议")
            assert other.page.get_by_text("谢谢你的支持！").is_visible()
            assert other.page.locator("[data-supports]").inner_text() == str(number)
            assert other.page.locator("#support").get_by_text("我已支持").is_visible()
            if number == 1:
                # The first supporter says why; the second agrees with the comment.
                comment_form = other.page.locator("#comment")
                comment_form.get_by_label("评论").fill(COMMENT)
                submit(other.page, comment_form, "发表评论")
                assert other.page.get_by_text("评论已发布。").is_visible()
            else:
                thread = other.page.locator("article.comment").first
                assert COMMENT in thread.inner_text()
                submit(other.page, thread, "赞同 0")
                assert other.page.get_by_text("已投票。").is_visible()
                thread = other.page.locator("article.comment").first
                assert (
                    thread.get_by_role("button", name="赞同 1").get_attribute("aria-pressed")
                    == "true"
                )
            other.look("supported")
        finally:
            context.close()
    proposal.refresh_from_db()
    assert proposal.supports_count == 2
    assert Support.objects.filter(proposal=proposal).count() == 2
    assert proposal.threshold_reached_at is not None
    assert proposal.answer_due_at is not None

    # 3. Household administration staff answer it: accepted, with a plan.
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    try:
        staff = Journey(context.new_page(), journey.base_url, f"{journey.name}-staff")
        staff.page.set_default_timeout(15_000)
        desk = staff.page
        sign_in(staff, world["staff"].email, next_path="/proposals/to-answer/")
        assert desk.url.endswith("/proposals/to-answer/")
        row = desk.locator(f'tr[data-proposal="{proposal.pk}"]')
        assert TITLE in row.inner_text()
        staff.look("to-answer")
        with desk.expect_navigation():
            row.get_by_role("link", name="答复").click()
        form = desk.locator("#answer")
        form.get_by_role("radio", name="采纳", exact=True).check()
        form.get_by_label("答复内容").fill(ANSWER)
        form.get_by_label("预计费用（元）").fill("12000")
        form.get_by_label("计划开始").fill("2031-03-01")
        form.get_by_label("计划完成").fill("2031-06-30")
        staff.look("answer-form")
        submit(desk, form, "发布答复")
        assert desk.get_by_text("正式答复已发布").is_visible()
        assert status_text(desk) == "已采纳"
        answer = desk.locator("#answers article").first
        assert ANSWER in answer.inner_text()
        assert "12000.00 元" in answer.inner_text()
        staff.look("answered")
        answer_row = Answer.objects.get(proposal=proposal)
        assert answer_row.published_at is not None
        assert answer_row.state == "accepted"

        # 4. The implementation: a milestone, then done.
        with desk.expect_navigation():
            desk.get_by_role("link", name="管理落实情况").click()
        form = desk.locator("#milestone")
        form.get_by_label("里程碑").fill("调整周末排班并对外公告")
        form.get_by_label("计划日期").fill("2031-03-15")
        submit(desk, form, "添加")
        assert desk.get_by_text("里程碑已添加。").is_visible()
        milestone = Milestone.objects.get()
        item = desk.locator(f'li[data-milestone="{milestone.pk}"]')
        item.get_by_label("状态").select_option(label="已完成")
        staff.look("implementation")
        submit(desk, item, "更新状态")
        assert desk.get_by_text("已更新为：已完成").is_visible()
        assert desk.locator("progress").get_attribute("value") == "100"
        staff.look("implementation-done")
    finally:
        context.close()
    proposal.refresh_from_db()
    assert proposal.status == Status.IMPLEMENTED
    assert proposal.implemented_at is not None

    # 5. The public page (the author's phone, and anyone's) shows it implemented, idea to done.
    journey.goto(f"/proposals/{proposal.pk}/")
    assert status_text(page) == "已落实"
    assert page.locator("progress").get_attribute("value") == "100"
    steps = page.locator("ol.proposal-timeline > li").all_inner_texts()
    titles = [text.splitlines()[0].strip() for text in steps]
    assert titles[0] == "建议发布，开始征集支持"
    assert titles[1] == "支持人数达到门槛，答复单位须正式答复"
    assert titles[2] == "户政管理大队 正式答复：采纳"
    assert titles[3] == "里程碑完成：调整周末排班并对外公告"
    assert titles[4] == "建议已落实"
    assert "李娜" not in page.locator("main").inner_text()  # the department answers, not its staff
    assert COMMENT in page.locator("#comments").inner_text()
    journey.look("implemented")
    # The author was told of the answer and of the implementation.
    told = set(Notification.objects.filter(recipient=citizen).values_list("event_type", flat=True))
    assert {"proposals.answered", "proposals.implemented"} <= told

    # Anyone, signed out, reads the same page and finds it in the list as implemented.
    journey.page.context.clear_cookies()
    journey.goto("/proposals/?status=implemented")
    row = page.locator(f'li.proposal-row[data-proposal="{proposal.pk}"]')
    assert "已落实" in row.inner_text()
    journey.look("list-implemented")
