"""A notification end to end: an action in the admin → the inbox → the e-mail → one-click
unsubscribe → the preference changed."""

from __future__ import annotations

import re

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.core import mail

from governance.celery import app as celery_app
from governance.notifications.models import Preference
from tests.e2e.conftest import totp_code
from tests.e2e.test_account_journeys import field
from tests.factories import PASSWORD, MembershipFactory, PartnerFactory, UserFactory

pytestmark = pytest.mark.e2e

SECRET = "GONGZHIDEMOSECRETTOTPKEY234567AB"


@pytest.fixture
def eager_tasks():
    """The live server has no worker: run the delivery task inline when the grant commits."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def sign_in(journey, email, *, next_path="", code=None):
    page = journey.page
    journey.goto("/accounts/login/" + (f"?next={next_path}" if next_path else ""))
    field(page, "电子邮件").fill(email)
    field(page, "密码").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()
    if code is not None:
        field(page, "代码").fill(code)
        with page.expect_navigation():
            page.get_by_role("button", name="登录").click()


def test_membership_granted_reaches_inbox_and_mail_and_can_be_unsubscribed(journey, eager_tasks):
    mall = PartnerFactory(slug="mall", name_zh="成都万象城", name_en="The Mixc Chengdu")
    mall_admin = UserFactory(email="mall.admin@example.com", is_staff=True)
    MembershipFactory(user=mall_admin, organisation=mall, role="admin")
    TOTP.activate(mall_admin, SECRET)
    citizen = UserFactory(email="xiao.li@example.com", display_name="小李")
    page = journey.page

    # The mall's admin gives the citizen a seat, in the admin.
    sign_in(journey, mall_admin.email, next_path="/admin/", code=totp_code(SECRET))
    journey.goto("/admin/stakeholders/membership/add/")
    page.locator("#id_user").fill(citizen.email)
    page.locator("#id_organisation").select_option(label="成都万象城")
    page.locator("#id_role").select_option("staff")
    journey.look("grant-seat")
    with page.expect_navigation():
        page.get_by_role("button", name="保存", exact=True).click()
    assert "/admin/stakeholders/membership/" in page.url
    with page.expect_navigation():
        page.locator("#logout-form button").click()

    # The citizen sees it in the inbox, with the unread count in the header.
    sign_in(journey, citizen.email)
    header_link = page.get_by_role("link", name=re.compile(r"^通知"))
    assert re.search(r"1", header_link.inner_text())
    with page.expect_navigation():
        header_link.click()
    assert page.get_by_text("您已加入成都万象城").is_visible()
    journey.look("inbox")
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("您已加入成都万象城")).click()
    journey.goto("/notifications/")
    assert page.locator(".inbox-item.unread").count() == 0

    # The e-mail went out at once, with a one-click unsubscribe link.
    (message,) = [m for m in mail.outbox if m.to == [citizen.email]]
    assert message.subject == "您已加入成都万象城"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = message.extra_headers["List-Unsubscribe"].strip("<>")
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]

    with page.expect_navigation():
        page.locator("form[action='/accounts/logout/'] button").first.click()
    journey.goto(path)  # signed out: the link alone is the authority
    journey.look("unsubscribe-confirm")
    with page.expect_navigation():
        page.get_by_role("button", name="确认退订").click()
    assert page.get_by_text("已停止发送").is_visible()
    journey.look("unsubscribed")
    assert Preference.objects.get(user=citizen).mode == "off"

    # The preference page shows the change.
    sign_in(journey, citizen.email, next_path="/notifications/preferences/")
    select = page.get_by_label("获得组织席位")
    assert select.input_value() == "off"
    journey.look("preferences")


def test_tampered_unsubscribe_link_changes_nothing(journey):
    citizen = UserFactory(email="xiao.zhao@example.com")
    response = journey.goto("/notifications/unsubscribe/not-a-real-token/")

    assert response.status == 400
    assert journey.page.get_by_text("该退订链接无效或已被篡改").is_visible()
    assert not Preference.objects.filter(user=citizen).exists()
    journey.look("tampered-link")
