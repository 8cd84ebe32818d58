"""Sign-up, e-mail verification, sign-in with TOTP, password reset, rate limits, idle expiry."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from governance.stakeholders.models import User
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def login(client, email, password=PASSWORD, next_url=None):
    url = reverse("account_login")
    if next_url:
        url += f"?next={next_url}"
    return client.post(url, {"login": email, "password": password})


def test_sign_up_requires_confirming_the_email_before_signing_in(client):
    response = client.post(
        reverse("account_signup"),
        {
            "email": "New.Citizen@Example.com",
            "password1": "a-long-passphrase-2026",
            "password2": "a-long-passphrase-2026",
            "display_name": "小王",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    user = User.objects.get(email="new.citizen@example.com")
    assert user.display_name == "小王"
    assert user.language == "zh-hans"
    assert not EmailAddress.objects.get(user=user).verified
    assert "_auth_user_id" not in client.session

    (message,) = mail.outbox
    assert message.to == ["new.citizen@example.com"]
    confirm_url = re.search(r"https?://[^\s]+/accounts/confirm-email/[^\s]+/", message.body)[0]
    path = confirm_url.split("testserver", 1)[1]
    assert client.post(path).status_code == 302

    assert EmailAddress.objects.get(user=user).verified
    assert client.session["_auth_user_id"] == str(user.pk)


def test_unverified_user_cannot_sign_in(client):
    from tests.factories import UserFactory

    UserFactory(email="unverified@example.com", verified=False)

    response = login(client, "unverified@example.com")

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session


def test_sign_up_with_bad_input_shows_form_errors_and_creates_nothing(client):
    response = client.post(
        reverse("account_signup"),
        {"email": "not-an-email", "password1": "x", "password2": "y", "display_name": "x" * 500},
    )

    assert response.status_code == 200
    form = response.context["form"]
    assert {"email", "display_name"} <= set(form.errors)
    assert not User.objects.exists()


def test_sign_up_with_a_taken_email_does_not_reveal_the_account(client, citizen):
    response = client.post(
        reverse("account_signup"),
        {
            "email": citizen.email,
            "password1": "a-long-passphrase-2026",
            "password2": "a-long-passphrase-2026",
        },
    )

    # Same answer as a new address: "check your inbox"; the mail tells the owner instead.
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert User.objects.filter(email=citizen.email).count() == 1


def test_password_reset_answers_the_same_for_unknown_addresses(client, citizen):
    known = client.post(reverse("account_reset_password"), {"email": citizen.email})
    unknown = client.post(reverse("account_reset_password"), {"email": "nobody@example.com"})

    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]


def test_citizen_signs_in_with_email_and_password(client, citizen):
    response = login(client, citizen.email.upper())

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(citizen.pk)


def test_failed_sign_ins_are_rate_limited(client, citizen):
    for _ in range(5):
        response = login(client, citizen.email, "wrong-password")
        assert "too_many" not in str(response.context["form"].errors.as_data())

    # The sixth attempt is refused before the password is checked, the right password too.
    response = login(client, citizen.email)

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    (error,) = response.context["form"].non_field_errors().as_data()
    assert error.code == "too_many_login_attempts"


def test_staff_with_totp_pass_the_code_step_and_reach_the_admin(client, department_staff, totp):
    code = totp(department_staff)

    response = login(client, department_staff.email, next_url="/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_authenticate"))
    assert "_auth_user_id" not in client.session

    wrong = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert wrong.status_code == 200
    assert "_auth_user_id" not in client.session

    response = client.post(reverse("mfa_authenticate"), {"code": code()})
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_admin_login_page_sends_to_allauth(client):
    response = client.get("/admin/login/?next=/admin/stations/service/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2Fstations%2Fservice%2F"


def test_staff_without_totp_are_sent_to_enrol_before_the_admin(client, department_staff):
    login(client, department_staff.email)

    response = client.get("/admin/", follow=True)

    hops = [url for url, _ in response.redirect_chain]
    assert reverse("mfa_activate_totp") in hops
    # allauth asks for the password again before a second factor is added.
    assert (
        hops[-1]
        == reverse("account_reauthenticate") + "?next=%2Faccounts%2F2fa%2Ftotp%2Factivate%2F"
    )
    assert response.status_code == 200


def test_staff_enrol_totp_through_allauth(client, department_staff):
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    login(client, department_staff.email)
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    page = client.get(reverse("mfa_activate_totp"))
    secret = page.context["form"].secret

    import time

    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    response = client.post(reverse("mfa_activate_totp"), {"code": code})

    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_citizen_is_refused_the_admin(client, citizen):
    client.force_login(citizen)

    response = client.get("/admin/", follow=True)

    assert response.redirect_chain == [("/admin/login/?next=/admin/", 302)]
    assert response.status_code == 403


def test_staff_sessions_expire_after_idle_time(client, department_staff, settings):
    settings.STAFF_SESSION_IDLE_SECONDS = 600
    client.force_login(department_staff)

    client.get(reverse("stations:home"))

    assert client.session.get_expiry_age() == 600


def test_idle_staff_session_is_signed_out(client, department_staff, settings):
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    settings.STAFF_SESSION_IDLE_SECONDS = 600
    client.force_login(department_staff)
    client.get(reverse("stations:home"))
    # Move the stored session's expiry into the past, as if nobody had used it for 11 minutes.
    session = Session.objects.get(session_key=client.session.session_key)
    data = session.get_decoded()
    data["_session_expiry"] = (timezone.now() - timedelta(minutes=1)).isoformat()
    Session.objects.filter(pk=session.pk).update(
        session_data=Session.objects.encode(data), expire_date=timezone.now() - timedelta(minutes=1)
    )

    response = client.get(reverse("stakeholders:profile"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_citizen_sessions_keep_the_default_age(client, citizen, settings):
    client.force_login(citizen)
    client.get(reverse("stations:home"))

    assert client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE


def test_profile_updates_display_name_phone_and_language(client, citizen):
    client.force_login(citizen)

    response = client.post(
        reverse("stakeholders:profile"),
        {"display_name": "张三", "phone": "13800138000", "language": "en"},
    )

    assert response.status_code == 302
    citizen.refresh_from_db()
    assert (citizen.display_name, citizen.phone, citizen.language) == ("张三", "13800138000", "en")


def test_profile_rejects_a_bad_phone_number_and_changes_nothing(client, citizen):
    client.force_login(citizen)

    response = client.post(
        reverse("stakeholders:profile"),
        {"display_name": "张三", "phone": "call me maybe", "language": "fr"},
    )

    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"phone", "language"}
    citizen.refresh_from_db()
    assert citizen.phone == ""


def test_profile_needs_sign_in(client):
    response = client.get(reverse("stakeholders:profile"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
