"""The e-mails themselves, sent through the real path (publish → delivery → channel → Django's
locmem backend): the recipient's language, text and HTML, the footer, the one-click
unsubscribe headers, and names that carry markup."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.utils import timezone

from governance.notifications import services
from governance.notifications.channels import read_unsubscribe_token
from governance.notifications.models import Digest, Mode, Notification, Preference, Settings
from governance.stakeholders.services import membership_grant
from tests.factories import PartnerFactory, UserFactory
from tests.notifications.conftest import ThingHappened

pytestmark = pytest.mark.django_db

SITE = "http://127.0.0.1:8000"
NASTY = "<script>alert(1)</script> Tom & Jerry"
CJK = re.compile(r"[\u3400-\u9fff]")


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = SITE


def deliver_all() -> None:
    from governance.notifications.models import Delivery

    outcome = services.deliveries_send(Delivery.objects.values_list("pk", flat=True))
    assert outcome["failed"] == 0, outcome
    assert not outcome["retry"], outcome


def grant_seat(user, organisation=None):
    organisation = organisation or PartnerFactory(
        slug="mixc", name_zh="成都万象城", name_en="The Mixc Chengdu"
    )
    membership_grant(actor=None, user=user, organisation=organisation, role="staff")
    deliver_all()
    (message,) = mail.outbox
    return message


def html_of(message) -> str:
    ((html, content_type),) = message.alternatives
    assert content_type == "text/html"
    return html


def unsubscribe_link(message) -> str:
    header = message.extra_headers["List-Unsubscribe"]
    assert header.startswith("<")
    assert header.endswith(">")
    return header[1:-1]


# Language ----------------------------------------------------------------------------------------
def test_an_english_reader_gets_english(citizen):
    citizen.language = "en"
    citizen.save(update_fields=["language"])
    message = grant_seat(citizen)
    assert message.to == [citizen.email]
    assert message.subject == "You now have a seat in The Mixc Chengdu"
    assert "The Mixc Chengdu" in message.body
    assert "Staff" in message.body
    assert not CJK.search(message.body), message.body
    html = html_of(message)
    assert '<html lang="en">' in html
    assert not CJK.search(html), html


def test_a_chinese_reader_gets_chinese(citizen):
    citizen.language = "zh-hans"
    citizen.save(update_fields=["language"])
    message = grant_seat(citizen)
    assert message.subject == "您已加入成都万象城"
    assert "您已加入成都万象城" in message.body
    assert "工作人员" in message.body
    assert "The Mixc" not in message.body
    html = html_of(message)
    assert '<html lang="zh-Hans">' in html
    assert "您已加入成都万象城" in html


def test_two_readers_of_one_event_each_get_their_own_language(department):
    english = UserFactory(language="en")
    chinese = UserFactory(language="zh-hans")
    membership_grant(actor=None, user=english, organisation=department, role="admin")
    membership_grant(actor=None, user=chinese, organisation=department, role="admin")
    deliver_all()
    subjects = {message.to[0]: message.subject for message in mail.outbox}
    assert subjects == {
        english.email: "You now have a seat in Household Administration",
        chinese.email: "您已加入户政管理",
    }


# Text and HTML, footer, headers -----------------------------------------------------------------
def test_the_mail_has_text_and_html_with_the_link_to_the_object(citizen):
    message = grant_seat(citizen)
    assert f"{SITE}/notifications/" in message.body
    html = html_of(message)
    assert html.lstrip().startswith("<!DOCTYPE html>")
    assert f'href="{SITE}/notifications/"' in html


def test_the_footer_links_to_the_preferences_and_to_unsubscribe(citizen):
    message = grant_seat(citizen)
    link = unsubscribe_link(message)
    preferences = f"{SITE}/notifications/preferences/"
    assert preferences in message.body
    assert link in message.body
    html = html_of(message)
    assert f'href="{preferences}"' in html
    assert f'href="{link}"' in html


def test_every_mail_carries_one_click_unsubscribe_headers(citizen):
    message = grant_seat(citizen)
    headers = message.extra_headers
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = unsubscribe_link(message)
    assert link.startswith(f"{SITE}/notifications/unsubscribe/")
    token = urlsplit(link).path.split("/")[-2]
    assert read_unsubscribe_token(token) == {
        "u": citizen.pk,
        "k": "type",
        "t": "stakeholders.membership_granted",
    }
    assert headers["Auto-Submitted"] == "auto-generated"
    notification = Notification.objects.get(recipient=citizen)
    assert headers["Message-ID"] == f"<notification.{notification.pk}.email@gongzhi.local>"
    # The headers survive into the message as sent.
    raw = message.message()
    assert raw["List-Unsubscribe"] == f"<{link}>"
    assert raw["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_the_link_in_the_mail_unsubscribes_without_signing_in(citizen, client):
    message = grant_seat(citizen)
    response = client.post(urlsplit(unsubscribe_link(message)).path)
    assert response.status_code == 200
    assert Preference.objects.get(user=citizen).mode == Mode.OFF


# Markup in names ---------------------------------------------------------------------------------
def test_a_name_with_markup_is_escaped_in_html_and_left_alone_in_text(citizen):
    citizen.language = "en"
    citizen.save(update_fields=["language"])
    organisation = PartnerFactory(slug="nasty", name_zh=NASTY, name_en=NASTY)
    message = grant_seat(citizen, organisation)
    # A subject and a text body are not HTML: escaping them would show "&amp;" to the reader.
    assert message.subject == f"You now have a seat in {NASTY}"
    assert NASTY in message.body
    assert "&amp;" not in message.body
    assert "&lt;" not in message.body
    html = html_of(message)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Tom &amp; Jerry" in html
    # Escaped once, not twice.
    assert "&amp;lt;" not in html
    assert "&amp;amp;" not in html


def test_a_chinese_name_with_markup_is_escaped_in_html(citizen):
    organisation = PartnerFactory(slug="nasty", name_zh=f"万象城{NASTY}", name_en="")
    message = grant_seat(citizen, organisation)
    assert message.subject == f"您已加入万象城{NASTY}"
    html = html_of(message)
    assert "<script>" not in html
    assert "万象城&lt;script&gt;" in html


# Security notices --------------------------------------------------------------------------------
def test_a_security_notice_says_it_cannot_be_unsubscribed_and_offers_no_link(citizen, client):
    from governance.stakeholders.events import TwoFactorChanged

    citizen.language = "en"
    citizen.save(update_fields=["language"])
    services.publish(
        TwoFactorChanged(user_id=citizen.pk, change="removed", authenticator_type="totp")
    )
    deliver_all()
    (message,) = mail.outbox
    assert message.subject == "Two-factor authentication turned off for your account"
    assert "cannot be unsubscribed" in message.body
    assert f"{SITE}/notifications/preferences/" in message.body
    link = unsubscribe_link(message)
    assert link not in message.body
    assert link not in html_of(message)
    assert "cannot be unsubscribed" in html_of(message)
    # The header's link is there (every mail has one) but refuses.
    response = client.post(urlsplit(link).path)
    assert 400 <= response.status_code < 500
    assert not Preference.objects.exists()


# Digests -----------------------------------------------------------------------------------------
def _digest_for(user, titles, enqueued, capture, period=Mode.WEEKLY):
    for title in titles:
        services.publish(ThingHappened(user_ids=(user.pk,), title=title))
    with capture(execute=True):
        assert services.digests_plan(period=period, now=timezone.now()) == 1
    digest = Digest.objects.get(recipient=user)
    assert enqueued.digests == [[digest.pk]]
    assert services.digest_send(digest.pk) == "sent"
    (message,) = mail.outbox
    return message


def test_a_weekly_digest_in_english(
    event_types, partner_staff, enqueued, django_capture_on_commit_callbacks
):
    partner_staff.language = "en"
    partner_staff.save(update_fields=["language"])
    message = _digest_for(
        partner_staff,
        ["lift repaired", "new desk", NASTY],
        enqueued,
        django_capture_on_commit_callbacks,
    )
    assert message.subject == "Gongzhi weekly digest: 3 new notifications"
    assert "Thing: lift repaired" in message.body
    assert f"Thing: {NASTY}" in message.body
    assert f"{SITE}/notifications/" in message.body
    html = html_of(message)
    assert "<script>" not in html
    assert "Thing: &lt;script&gt;alert(1)&lt;/script&gt; Tom &amp; Jerry" in html
    assert "&amp;lt;" not in html
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_daily_digest_in_chinese(
    event_types, department_staff, enqueued, django_capture_on_commit_callbacks
):
    message = _digest_for(
        department_staff,
        ["门禁维修"],
        enqueued,
        django_capture_on_commit_callbacks,
        period=Mode.DAILY,
    )
    assert message.subject == "共治每日摘要：1 条新通知"
    assert "Thing: 门禁维修" in message.body
    assert "在收件箱中查看全部" in message.body


def test_the_digest_link_turns_digests_off(
    event_types, partner_staff, enqueued, client, django_capture_on_commit_callbacks
):
    message = _digest_for(partner_staff, ["a"], enqueued, django_capture_on_commit_callbacks)
    link = unsubscribe_link(message)
    token = urlsplit(link).path.split("/")[-2]
    assert read_unsubscribe_token(token) == {"u": partner_staff.pk, "k": "digest", "t": ""}
    assert link in message.body
    assert client.post(urlsplit(link).path).status_code == 200
    assert Settings.objects.get(user=partner_staff).digests_enabled is False
    # No more digests are planned for them.
    services.publish(ThingHappened(user_ids=(partner_staff.pk,), title="b"))
    assert services.digests_plan(period=Mode.WEEKLY, now=timezone.now()) == 0


# Known bugs in governance/notifications/services.py (owned elsewhere) ----------------------------
def test_a_digest_with_an_item_of_an_unregistered_type_is_still_sent(
    event_types, partner_staff, enqueued, django_capture_on_commit_callbacks
):
    services.publish(ThingHappened(user_ids=(partner_staff.pk,), title="还在"))
    Notification.objects.create(
        recipient=partner_staff, event_type="gone.away", payload={}, mode=Mode.WEEKLY
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.digests_plan(period=Mode.WEEKLY, now=timezone.now())
    digest = Digest.objects.get(recipient=partner_staff)
    assert services.digest_send(digest.pk) == "sent"
    (message,) = mail.outbox
    assert "Thing: 还在" in message.body


def test_a_delivery_to_an_account_deactivated_since_publishing_sends_nothing(citizen):
    membership_grant(
        actor=None,
        user=citizen,
        organisation=PartnerFactory(slug="mixc", name_zh="成都万象城", name_en="The Mixc"),
        role="staff",
    )
    citizen.is_active = False
    citizen.save(update_fields=["is_active"])
    from governance.notifications.models import Delivery

    services.deliveries_send(Delivery.objects.values_list("pk", flat=True))
    assert mail.outbox == []
