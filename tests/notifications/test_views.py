"""The HTML side: the inbox (with the unread count in the header), marking read without an
open redirect, the preferences page, and the one-click unsubscribe page."""

from __future__ import annotations

import re
import time

import pytest
from django.contrib.messages import get_messages
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from governance.notifications import services
from governance.notifications.channels import unsubscribe_token
from governance.notifications.models import Mode, Notification, Preference, Settings
from governance.stakeholders.services import membership_grant
from tests.factories import PartnerFactory, UserFactory
from tests.notifications.conftest import ThingHappened
from tests.query_budget import assert_constant_queries

pytestmark = pytest.mark.django_db

INBOX = "/notifications/"
PREFERENCES = "/notifications/preferences/"
MEMBERSHIP = "stakeholders.membership_granted"
TWO_FACTOR = "stakeholders.two_factor_changed"


def field(code: str) -> str:
    return "type__" + code.replace(".", "__")


def tell(user, *, title="一件事", url=None, read=False) -> Notification:
    notification = Notification.objects.create(
        recipient=user,
        event_type="tests.thing_happened",
        payload={"user_ids": [user.pk], "title": title, "when": None, "extra": None},
        url="/things/1/" if url is None else url,
        mode=Mode.IMMEDIATE,
        read_at=timezone.now() if read else None,
    )
    return notification


def badge(html: str) -> str | None:
    """The unread figure in the page header, if any."""
    match = re.search(r'class="count-badge">(\d+)<', html)
    return match.group(1) if match else None


# Inbox -----------------------------------------------------------------------------------------
def test_the_inbox_asks_anonymous_visitors_to_sign_in(client):
    response = client.get(INBOX)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_inbox_lists_only_ones_own_notifications_newest_first(
    client, event_types, citizen, department_staff
):
    tell(citizen, title="第一件")
    tell(citizen, title="第二件")
    tell(department_staff, title="别人的事")
    client.force_login(citizen)
    html = client.get(INBOX).content.decode()
    assert html.index("Thing: 第二件") < html.index("Thing: 第一件")
    assert "别人的事" not in html
    assert "一件事发生了" in html  # the type's label


def test_the_header_shows_the_unread_count(client, event_types, citizen):
    tell(citizen)
    tell(citizen)
    tell(citizen, read=True)
    client.force_login(citizen)
    assert badge(client.get(INBOX).content.decode()) == "2"
    # On every page, not only the inbox.
    assert badge(client.get("/").content.decode()) == "2"


def test_the_header_shows_the_unread_count_in_english(client, event_types, citizen):
    citizen.language = "en"
    citizen.save(update_fields=["language"])
    tell(citizen)
    client.force_login(citizen)
    html = client.get(INBOX, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert badge(html) == "1"
    assert '1<span class="visually-hidden"> unread' in html


def test_no_badge_when_everything_is_read(client, event_types, citizen):
    tell(citizen, read=True)
    client.force_login(citizen)
    assert badge(client.get(INBOX).content.decode()) is None


def test_an_english_reader_sees_english_lines(client, citizen):
    citizen.language = "en"
    citizen.save(update_fields=["language"])
    membership_grant(
        actor=None,
        user=citizen,
        organisation=PartnerFactory(slug="mixc", name_zh="成都万象城", name_en="The Mixc Chengdu"),
        role="staff",
    )
    client.force_login(citizen)
    html = client.get(INBOX).content.decode()
    assert "You now have a seat in The Mixc Chengdu" in html
    assert "Seat in an organisation" in html


def test_markup_in_a_line_is_escaped(client, event_types, citizen):
    tell(citizen, title="<script>alert(1)</script> & co")
    client.force_login(citizen)
    html = client.get(INBOX).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "Thing: &lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html


@pytest.mark.parametrize("page", ["abc", "0", "-1", "9999", "1.5", "", "%00"])
def test_a_bad_page_number_shows_a_page_not_an_error(client, event_types, citizen, page):
    for n in range(25):
        tell(citizen, title=f"事{n}")
    client.force_login(citizen)
    response = client.get(INBOX, {"page": page})
    assert response.status_code == 200
    assert response.context["page"].number in (1, 2)


def test_the_inbox_pages_by_twenty(client, event_types, citizen):
    for n in range(25):
        tell(citizen, title=f"事{n:02d}")
    client.force_login(citizen)
    first = client.get(INBOX)
    second = client.get(INBOX, {"page": 2})
    assert len(first.context["items"]) == 20
    assert len(second.context["items"]) == 5
    assert "Thing: 事00" in second.content.decode()


def test_a_notification_of_an_unregistered_type_does_not_break_the_inbox(client, citizen):
    Notification.objects.create(
        recipient=citizen, event_type="gone.away", payload={}, mode=Mode.IMMEDIATE
    )
    client.force_login(citizen)
    response = client.get(INBOX)
    assert response.status_code == 200
    assert "gone.away" in response.content.decode()


def test_an_empty_inbox_says_so(client, citizen):
    client.force_login(citizen)
    assert "暂无通知" in client.get(INBOX).content.decode()


def test_the_inbox_runs_constant_queries(client, event_types, citizen):
    client.force_login(citizen)
    assert_constant_queries(
        lambda: client.get(INBOX),
        lambda n: [tell(citizen, title=f"事{i}") for i in range(n)],
        small=3,
        large=20,
        check=lambda response, rows: len(response.context["items"]) == rows,
        max_queries=8,
    )


def test_the_inbox_refuses_a_post(client, citizen):
    client.force_login(citizen)
    assert client.post(INBOX).status_code == 405


# Marking read ----------------------------------------------------------------------------------
def test_opening_a_notification_marks_it_read_and_goes_to_its_object(client, event_types, citizen):
    notification = tell(citizen)
    client.force_login(citizen)
    response = client.post(reverse("notifications:mark_read", args=[notification.pk]))
    assert response.status_code == 302
    assert response["Location"] == "/things/1/"
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_a_notification_without_a_link_goes_back_to_the_inbox(client, event_types, citizen):
    notification = tell(citizen, url="")
    client.force_login(citizen)
    response = client.post(reverse("notifications:mark_read", args=[notification.pk]))
    assert response["Location"] == INBOX


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/phish",
        "http://evil.example/",
        "//evil.example/phish",
        "///evil.example/phish",
        "/\\evil.example/phish",
        "\\\\evil.example",
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "http://testserver.evil.example/",
        " https://evil.example/",
    ],
)
def test_a_link_off_the_site_is_never_followed(client, event_types, citizen, url):
    notification = tell(citizen, url=url)
    client.force_login(citizen)
    response = client.post(reverse("notifications:mark_read", args=[notification.pk]))
    assert response.status_code == 302
    assert response["Location"] == INBOX
    notification.refresh_from_db()
    assert notification.read_at is not None


@pytest.mark.parametrize("url", ["/cases/7/", "http://testserver/cases/7/", "/cases/7/?tab=2"])
def test_a_link_on_the_site_is_followed(client, event_types, citizen, url):
    notification = tell(citizen, url=url)
    client.force_login(citizen)
    response = client.post(reverse("notifications:mark_read", args=[notification.pk]))
    assert response["Location"] == url


def test_a_link_that_is_not_a_url_name_does_not_break(client, event_types, citizen):
    notification = tell(citizen, url="cases-detail")
    client.force_login(citizen)
    response = client.post(reverse("notifications:mark_read", args=[notification.pk]))
    assert response.status_code == 302


def test_someone_elses_notification_is_not_found(client, event_types, citizen, department_staff):
    notification = tell(department_staff)
    client.force_login(citizen)
    response = client.post(reverse("notifications:mark_read", args=[notification.pk]))
    assert response.status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


def test_marking_read_needs_a_post(client, event_types, citizen):
    notification = tell(citizen)
    client.force_login(citizen)
    response = client.get(reverse("notifications:mark_read", args=[notification.pk]))
    assert response.status_code == 405
    notification.refresh_from_db()
    assert notification.read_at is None


def test_marking_read_needs_a_csrf_token(event_types, citizen):
    notification = tell(citizen)
    client = Client(enforce_csrf_checks=True)
    client.force_login(citizen)
    response = client.post(reverse("notifications:mark_read", args=[notification.pk]))
    assert response.status_code == 403
    notification.refresh_from_db()
    assert notification.read_at is None


def test_anonymous_visitors_cannot_mark_read(client, event_types, citizen):
    notification = tell(citizen)
    response = client.post(reverse("notifications:mark_read", args=[notification.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    notification.refresh_from_db()
    assert notification.read_at is None


def test_reading_twice_keeps_the_first_time(client, event_types, citizen):
    notification = tell(citizen, read=True)
    first = notification.read_at
    client.force_login(citizen)
    client.post(reverse("notifications:mark_read", args=[notification.pk]))
    notification.refresh_from_db()
    assert notification.read_at == first


def test_mark_all_read_marks_only_ones_own(client, event_types, citizen, department_staff):
    mine = [tell(citizen), tell(citizen), tell(citizen, read=True)]
    theirs = tell(department_staff)
    client.force_login(citizen)
    response = client.post(reverse("notifications:mark_all_read"))
    assert response.status_code == 302
    assert response["Location"] == INBOX
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["已将 2 条通知标为已读。"]
    assert not Notification.objects.filter(pk__in=[n.pk for n in mine], read_at=None).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read_speaks_english_in_the_singular(client, event_types, citizen):
    citizen.language = "en"
    citizen.save(update_fields=["language"])
    tell(citizen)
    client.force_login(citizen)
    response = client.post(reverse("notifications:mark_all_read"), HTTP_ACCEPT_LANGUAGE="en")
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Marked 1 notification as read."
    ]


def test_mark_all_read_needs_a_post(client, event_types, citizen):
    tell(citizen)
    client.force_login(citizen)
    assert client.get(reverse("notifications:mark_all_read")).status_code == 405
    assert Notification.objects.filter(read_at=None).count() == 1


# Preferences page ------------------------------------------------------------------------------
def _choices(response, code) -> list[str]:
    return [value for value, _label in response.context["form"].fields[field(code)].choices]


def test_the_preferences_page_asks_anonymous_visitors_to_sign_in(client):
    response = client.get(PREFERENCES)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_preferences_page_offers_only_what_may_be_chosen(client, citizen):
    client.force_login(citizen)
    response = client.get(PREFERENCES)
    assert response.status_code == 200
    assert _choices(response, MEMBERSHIP) == ["immediate", "daily", "weekly", "off"]
    assert _choices(response, TWO_FACTOR) == ["immediate"]
    assert response.context["form"].fields[field(TWO_FACTOR)].disabled
    html = response.content.decode()
    assert "安全通知总是立即发送，不能关闭。" in html


def test_the_preferences_page_shows_each_roles_defaults(
    client, event_types, citizen, department_staff, partner_staff
):
    expected = {
        citizen: Mode.IMMEDIATE,
        department_staff: Mode.DAILY,
        partner_staff: Mode.WEEKLY,
    }
    for user, mode in expected.items():
        client.force_login(user)
        form = client.get(PREFERENCES).context["form"]
        assert form[field("tests.thing_happened")].value() == mode, user.email
        assert form[field("tests.case_assigned")].value() == (
            Mode.IMMEDIATE if user != partner_staff else Mode.WEEKLY
        )


def _post_all(client, **changes):
    """Post the page as a browser would: every field at its shown value, then the changes."""
    form = client.get(PREFERENCES).context["form"]
    data = {
        name: form[name].value()
        for name in form.fields
        if not form.fields[name].disabled and name != "digests_enabled"
    }
    if form["digests_enabled"].value():
        data["digests_enabled"] = "on"
    data.update(changes)
    return client.post(PREFERENCES, {k: v for k, v in data.items() if v is not None})


def test_saving_a_preference(client, citizen):
    client.force_login(citizen)
    response = _post_all(client, **{field(MEMBERSHIP): "weekly"})
    assert response.status_code == 302
    assert response["Location"] == PREFERENCES
    assert Preference.objects.get(user=citizen, event_type=MEMBERSHIP).mode == Mode.WEEKLY
    assert client.get(PREFERENCES).context["form"][field(MEMBERSHIP)].value() == "weekly"


def test_saving_unchanged_defaults_writes_no_rows(client, citizen):
    client.force_login(citizen)
    assert _post_all(client).status_code == 302
    assert not Preference.objects.exists()


def test_turning_digests_off_and_on(client, citizen):
    client.force_login(citizen)
    _post_all(client, digests_enabled=None)
    assert Settings.objects.get(user=citizen).digests_enabled is False
    _post_all(client, digests_enabled="on")
    assert Settings.objects.get(user=citizen).digests_enabled is True


@pytest.mark.parametrize("mode", ["hourly", "", "OFF", "immediate; DROP TABLE", "x" * 300])
def test_an_unknown_mode_is_a_form_error_not_a_crash(client, citizen, mode):
    client.force_login(citizen)
    response = _post_all(client, **{field(MEMBERSHIP): mode})
    assert response.status_code == 200
    assert response.context["form"].errors[field(MEMBERSHIP)]
    assert not Preference.objects.exists()


def test_a_security_notice_stays_on_whatever_is_posted(client, citizen):
    client.force_login(citizen)
    response = _post_all(client, **{field(TWO_FACTOR): "off", field(MEMBERSHIP): "daily"})
    assert response.status_code == 302
    assert not Preference.objects.filter(event_type=TWO_FACTOR).exists()
    assert Preference.objects.get(user=citizen, event_type=MEMBERSHIP).mode == Mode.DAILY
    form = client.get(PREFERENCES).context["form"]
    assert form[field(TWO_FACTOR)].value() == "immediate"


def test_off_is_refused_where_the_type_does_not_offer_it(client, event_types, department_staff):
    client.force_login(department_staff)
    response = client.get(PREFERENCES)
    assert "off" not in _choices(response, "tests.rule_changed")
    response = _post_all(client, **{field("tests.rule_changed"): "off"})
    assert response.status_code == 200
    assert response.context["form"].errors[field("tests.rule_changed")]
    assert not Preference.objects.exists()


def test_an_empty_post_is_a_form_error_not_a_crash(client, citizen):
    client.force_login(citizen)
    response = client.post(PREFERENCES, {})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not Preference.objects.exists()
    assert not Settings.objects.exists()


def test_the_preferences_page_needs_a_csrf_token(citizen):
    client = Client(enforce_csrf_checks=True)
    client.force_login(citizen)
    response = client.post(PREFERENCES, {field(MEMBERSHIP): "off"})
    assert response.status_code == 403
    assert not Preference.objects.exists()


def test_the_preferences_page_in_english(client, citizen):
    citizen.language = "en"
    citizen.save(update_fields=["language"])
    client.force_login(citizen)
    html = client.get(PREFERENCES).content.decode()
    assert "Seat in an organisation" in html
    assert "Two-factor authentication changed" in html


# Unsubscribe -----------------------------------------------------------------------------------
def link(user, kind="type", event_type=MEMBERSHIP) -> str:
    token = unsubscribe_token(user_id=user.pk, kind=kind, event_type=event_type)
    return reverse("notifications:unsubscribe", args=[token])


@pytest.fixture
def mail_client():
    """A mail client's one-click POST: no session, no cookies, and CSRF checks on."""
    return Client(enforce_csrf_checks=True)


def test_the_unsubscribe_page_asks_before_changing_anything(client, citizen):
    response = client.get(link(citizen))
    assert response.status_code == 200
    html = response.content.decode()
    assert "不再接收“获得组织席位”的电子邮件？" in html
    assert 'method="post"' in html
    assert not Preference.objects.exists()


def test_the_unsubscribe_page_does_not_sign_the_visitor_in(client, citizen):
    html = client.get(link(citizen)).content.decode()
    # The header is an anonymous visitor's: the token's owner is not shown as signed in.
    assert reverse("account_login") in html
    assert reverse("account_logout") not in html


def test_one_click_unsubscribe_turns_the_type_off(mail_client, citizen):
    response = mail_client.post(link(citizen), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert "已停止发送“获得组织席位”邮件" in response.content.decode()
    assert Preference.objects.get(user=citizen, event_type=MEMBERSHIP).mode == Mode.OFF


def test_unsubscribing_twice_is_harmless(mail_client, citizen):
    mail_client.post(link(citizen))
    assert mail_client.post(link(citizen)).status_code == 200
    assert Preference.objects.get(user=citizen).mode == Mode.OFF


def test_the_digest_link_turns_digests_off(mail_client, partner_staff):
    url = link(partner_staff, kind="digest", event_type="")
    assert "不再接收摘要邮件？" in mail_client.get(url).content.decode()
    assert mail_client.post(url).status_code == 200
    assert Settings.objects.get(user=partner_staff).digests_enabled is False
    assert not Preference.objects.exists()


def test_after_unsubscribing_the_type_is_no_longer_mailed(mail_client, event_types, citizen):
    mail_client.post(link(citizen, event_type="tests.thing_happened"))
    (notification,) = services.publish(ThingHappened(user_ids=(citizen.pk,)))
    assert notification.mode == Mode.OFF


def _tampered(url: str) -> str:
    token = url.rstrip("/").rsplit("/", 1)[1]
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    return url.replace(token, flipped)


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_tampered_link_changes_nothing(mail_client, citizen, method):
    response = getattr(mail_client, method)(_tampered(link(citizen)))
    assert response.status_code == 400
    assert "该退订链接无效或已被篡改" in response.content.decode()
    assert not Preference.objects.exists()


def test_a_link_for_someone_else_cannot_be_made_by_editing_the_token(mail_client, citizen):
    other = UserFactory()
    token = unsubscribe_token(user_id=citizen.pk, kind="type", event_type=MEMBERSHIP)
    _payload, _, rest = token.partition(":")
    forged_payload = signing.dumps(
        {"u": other.pk, "k": "type", "t": MEMBERSHIP}, salt="not-the-salt"
    ).partition(":")[0]
    url = reverse("notifications:unsubscribe", args=[f"{forged_payload}:{rest}"])
    assert mail_client.post(url).status_code == 400
    assert not Preference.objects.exists()


@pytest.mark.parametrize("token", ["x", "abc:def:ghi", "..", "%20", "a" * 500])
def test_garbage_tokens_are_refused(mail_client, token):
    assert mail_client.post(f"/notifications/unsubscribe/{token}/").status_code == 400


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_expired_link_says_so_and_changes_nothing(mail_client, citizen, monkeypatch, method):
    long_ago = int(time.time()) - 61 * 24 * 3600
    with monkeypatch.context() as patched:
        patched.setattr(
            signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(long_ago)
        )
        url = link(citizen)
    response = getattr(mail_client, method)(url)
    assert response.status_code == 400
    assert "该退订链接已过期" in response.content.decode()
    assert not Preference.objects.exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_security_notice_cannot_be_unsubscribed(mail_client, citizen, method):
    response = getattr(mail_client, method)(link(citizen, event_type=TWO_FACTOR))
    assert 400 <= response.status_code < 500
    assert "安全通知不能退订。" in response.content.decode()
    assert not Preference.objects.exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_type_the_person_may_not_turn_off_is_refused(
    mail_client, event_types, department_staff, method
):
    response = getattr(mail_client, method)(link(department_staff, event_type="tests.rule_changed"))
    assert 400 <= response.status_code < 500
    assert "这类通知不能关闭" in response.content.decode()
    assert not Preference.objects.exists()


def test_a_link_for_a_type_that_no_longer_exists_is_refused(mail_client, citizen):
    assert mail_client.post(link(citizen, event_type="gone.away")).status_code == 400


def test_a_link_of_an_unknown_kind_is_refused(mail_client, citizen):
    assert mail_client.post(link(citizen, kind="everything")).status_code == 400
    assert not Settings.objects.exists()
    assert not Preference.objects.exists()


def test_a_link_for_a_deactivated_account_is_refused(mail_client, citizen):
    url = link(citizen)
    citizen.is_active = False
    citizen.save(update_fields=["is_active"])
    assert mail_client.post(url).status_code == 400
    assert not Preference.objects.exists()


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_other_methods_are_refused(mail_client, citizen, method):
    assert getattr(mail_client, method)(link(citizen)).status_code == 405
    assert not Preference.objects.exists()


def test_the_unsubscribe_page_in_english(client, citizen):
    response = client.get(link(citizen), HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert "Seat in an organisation" in html
