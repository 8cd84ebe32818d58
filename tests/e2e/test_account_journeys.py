"""Accounts in the browser: sign up, confirm the e-mail, sign in, enable TOTP; the staff's admin."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from governance.stakeholders.models import User
from tests.e2e.conftest import totp_code
from tests.factories import (
    PASSWORD,
    DepartmentFactory,
    MembershipFactory,
    ServiceFactory,
    UserFactory,
)

pytestmark = pytest.mark.e2e

NEW_PASSWORD = "a-long-passphrase-2026"


def field(page, label):
    """The form field whose label reads ``label`` (allauth adds a colon after it)."""
    return page.get_by_label(re.compile(rf"^\s*{re.escape(label)}\s*[:：]?\s*\*?\s*$"))


def sign_in(journey, email, password, path="/accounts/login/"):
    page = journey.page
    journey.goto(path)
    field(page, "电子邮件").fill(email)
    field(page, "密码").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()


def test_citizen_signs_up_confirms_signs_in_and_enables_totp(journey):
    page = journey.page
    journey.goto("/")
    page.get_by_role("link", name="注册").click()
    journey.look("signup")

    field(page, "电子邮件").fill("xiao.wang@example.com")
    field(page, "密码").fill(NEW_PASSWORD)
    field(page, "密码（重复）").fill(NEW_PASSWORD)
    field(page, "显示名称").fill("小王")
    with page.expect_navigation():
        page.get_by_role("button", name="注册").click()
    journey.look("verification-sent")

    (message,) = mail.outbox
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", message.body)[0]
    journey.goto(link.split("://", 1)[1].split("/", 1)[1].join(["/", ""]))
    journey.look("confirm-email")
    with page.expect_navigation():
        page.get_by_role("button", name="确认").click()
    assert User.objects.get(email="xiao.wang@example.com").emailaddress_set.get().verified

    with page.expect_navigation():
        page.get_by_role("button", name="退出").click()
    sign_in(journey, "xiao.wang@example.com", NEW_PASSWORD)
    assert page.get_by_role("link", name="我的账号").is_visible()

    journey.goto("/accounts/2fa/totp/activate/")
    if "/reauthenticate/" in page.url:
        field(page, "密码").fill(NEW_PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name="确认").click()
    journey.look("totp-activate")
    secret = page.locator("input#authenticator_secret").input_value()
    field(page, "认证器代码").fill(totp_code(secret))
    with page.expect_navigation():
        page.get_by_role("button", name="激活").click()
    journey.look("recovery-codes")
    user = User.objects.get(email="xiao.wang@example.com")
    assert user.authenticator_set.filter(type="totp").exists()


def test_sign_up_with_bad_input_shows_errors_and_escapes_script(journey):
    page = journey.page
    journey.goto("/accounts/signup/")
    page.get_by_role("button", name="注册").click()
    # The browser's own required-field check stops an empty form before it is sent.
    assert page.url.endswith("/accounts/signup/")
    assert not User.objects.exists()

    field(page, "电子邮件").fill("a@example.com")
    field(page, "密码").fill(NEW_PASSWORD)
    field(page, "密码（重复）").fill(NEW_PASSWORD)
    # A pasted 10,000-character name: the server refuses it with a form error.
    field(page, "显示名称").evaluate(
        "(el) => { el.removeAttribute('maxlength'); el.value = 'x'.repeat(10000); }"
    )
    with page.expect_navigation():
        page.get_by_role("button", name="注册").click()
    assert page.locator(".errorlist, .field-error").first.is_visible()
    assert not User.objects.exists()
    journey.look("signup-too-long")

    field(page, "显示名称").fill("<script>window.__xss = 1</script>")
    field(page, "密码").fill(NEW_PASSWORD)
    field(page, "密码（重复）").fill(NEW_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="注册").click()
    user = User.objects.get(email="a@example.com")
    assert user.display_name == "<script>window.__xss = 1</script>"
    assert page.evaluate("window.__xss") is None


def test_department_staff_signs_in_to_the_admin_and_sees_only_their_services(journey):
    from allauth.mfa.totp.internal.auth import TOTP

    hukou = DepartmentFactory(slug="hukou", name_zh="户政管理", name_en="Household Administration")
    traffic = DepartmentFactory(slug="traffic", name_zh="交通管理", name_en="Traffic Police")
    ServiceFactory(service_code="HK-ID-RENEW", department=hukou, name_zh="居民身份证换领")
    ServiceFactory(service_code="TR-DL-RENEW", department=traffic, name_zh="驾驶证期满换证")
    staff = UserFactory(email="hukou.staff@example.com", is_staff=True)
    MembershipFactory(user=staff, organisation=hukou, role="staff")
    secret = "GONGZHIDEMOSECRETTOTPKEY234567AB"
    TOTP.activate(staff, secret)

    page = journey.page
    journey.goto("/admin/")
    assert "/accounts/login/" in page.url
    field(page, "电子邮件").fill(staff.email)
    field(page, "密码").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()
    journey.look("mfa-code")
    field(page, "代码").fill(totp_code(secret))
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()
    assert page.url.endswith("/admin/")
    journey.look("admin-index")

    journey.goto("/admin/stations/service/")
    assert page.get_by_role("link", name="HK-ID-RENEW").is_visible()
    assert page.get_by_text("TR-DL-RENEW").count() == 0
    journey.look("admin-services")
