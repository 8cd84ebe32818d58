"""Who hears of what happens to bookings, pledges and agreements, and what they read: the
recipients of every event type the partners app registers (never the person who caused the
event; nobody when the change rolls back), and the e-mails and inbox lines rendered from
``templates/notifications/partners.*/`` with times in Asia/Shanghai."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.template.loader import get_template
from django.urls import reverse
from django.utils import translation

from governance.notifications import registry
from governance.notifications.channels import render_line, render_notification, render_text
from governance.notifications.models import Delivery, Mode, Notification
from governance.notifications.registry import Audience
from partners import services
from partners.events import BookingRequested
from tests.conftest import _member
from tests.partners.conftest import at, notified
from tests.partners.fixtures_domain import *  # noqa: F403

pytestmark = pytest.mark.django_db

CODES = (
    "partners.booking_requested",
    "partners.booking_approved",
    "partners.booking_declined",
    "partners.booking_cancelled",
    "partners.pledge_offered",
    "partners.pledge_answered",
    "partners.pledge_withdrawn",
    "partners.agreement_expiring",
)
TEMPLATE_FILES = ("subject.txt", "body.txt", "body.html", "line.txt")


# The registry ----------------------------------------------------------------------------------
def test_every_event_type_is_registered():
    codes = {event_type.code for event_type in registry.all_types()}
    assert {code for code in codes if code.startswith("partners.")} == set(CODES)
    event = BookingRequested(
        booking_id=1,
        resource_name="中庭",
        partner_id=1,
        requester_id=2,
        requester_name="户政",
        starts_at=at(dt.date(2031, 1, 6), 10),
        ends_at=at(dt.date(2031, 1, 6), 12),
        purpose="宣传",
    )
    assert registry.for_event(event) is registry.get("partners.booking_requested")


@pytest.mark.parametrize("code", CODES)
@pytest.mark.parametrize("name", TEMPLATE_FILES)
def test_every_event_type_has_each_template(code, name):
    assert get_template(f"{registry.get(code).template_dir}/{name}")


@pytest.mark.parametrize("code", CODES)
def test_nobody_is_told_of_what_they_did_themselves(code):
    assert registry.get(code).skip_actor is True
    assert registry.get(code).security is False


@pytest.mark.parametrize(
    "code",
    [c for c in CODES if c.startswith("partners.booking_")] + ["partners.agreement_expiring"],
)
def test_bookings_and_expiring_agreements_are_told_at_once_to_organisations(code):
    event_type = registry.get(code)
    assert event_type.default_mode(Audience.DEPARTMENT) == Mode.IMMEDIATE
    assert event_type.default_mode(Audience.PARTNER) == Mode.IMMEDIATE


# Who is told: bookings -------------------------------------------------------------------------
@pytest.fixture
def everyone(
    department_admin,
    department_staff,
    department_viewer,
    partner_admin,
    partner_staff,
    other_partner_admin,
    other_department_staff,
    partner,
):
    """Every role, and a viewer of mall's (who is told nothing: viewers do not act)."""
    return _member(partner, "viewer", "mall.viewer@example.com")


def test_a_request_tells_the_partners_acting_members(book, everyone, partner_admin, partner_staff):
    booking = book()
    assert notified("booking_requested", booking_id=booking.pk) == {
        partner_admin.pk,
        partner_staff.pk,
    }


def test_an_approval_tells_the_requesting_side_and_who_asked(
    book, approve, everyone, department_admin, department_staff, partner_staff
):
    booking = approve(book(), actor=partner_staff)
    assert notified("booking_approved", booking_id=booking.pk) == {
        department_admin.pk,
        department_staff.pk,
    }


def test_the_person_who_asked_is_told_even_without_an_acting_seat_any_more(
    book, approve, everyone, department, department_staff, department_admin
):
    from governance.stakeholders.models import Membership

    booking = book()
    Membership.objects.filter(user=department_staff, organisation=department).update(role="viewer")
    approve(booking)
    assert notified("booking_approved", booking_id=booking.pk) == {
        department_admin.pk,
        department_staff.pk,
    }


def test_a_decline_tells_the_requesting_side(
    book, everyone, department_admin, department_staff, partner_admin
):
    booking = services.booking_decline(actor=partner_admin, booking=book(), reason="当天闭馆")
    assert notified("booking_declined", booking_id=booking.pk) == {
        department_admin.pk,
        department_staff.pk,
    }
    [payload] = set(
        Notification.objects.filter(event_type="partners.booking_declined")
        .values_list("payload__reason", flat=True)
        .distinct()
    )
    assert payload == "当天闭馆"


def test_a_cancellation_by_the_requester_tells_the_partner(
    book, approve, everyone, department_staff, partner_admin, partner_staff
):
    booking = approve(book())
    services.booking_cancel(actor=department_staff, booking=booking, reason="活动取消")
    assert notified("booking_cancelled", booking_id=booking.pk) == {
        partner_admin.pk,
        partner_staff.pk,
    }


def test_a_cancellation_by_the_partner_tells_the_requester(
    book, approve, everyone, department_admin, department_staff, partner_admin
):
    booking = approve(book())
    services.booking_cancel(actor=partner_admin, booking=booking, reason="场地维修")
    assert notified("booking_cancelled", booking_id=booking.pk) == {
        department_admin.pk,
        department_staff.pk,
    }


def test_booking_news_is_delivered_by_email_at_once(
    book, everyone, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        booking = book()
    told = Notification.objects.filter(
        event_type="partners.booking_requested", payload__booking_id=booking.pk
    )
    assert {n.mode for n in told} == {Mode.IMMEDIATE}
    assert Delivery.objects.filter(notification__in=told).count() == 2
    assert len(callbacks) == 1  # the deliveries are enqueued when the request commits


def test_nobody_is_told_when_the_change_rolls_back(
    book, approve, everyone, monday, partner_staff, django_capture_on_commit_callbacks
):
    booking = book()
    Notification.objects.all().delete()

    def fails_after(change):
        with transaction.atomic():
            change()
            raise RuntimeError("the page failed after the change")

    with django_capture_on_commit_callbacks() as callbacks:
        with pytest.raises(RuntimeError):
            fails_after(lambda: approve(booking, actor=partner_staff))
        with pytest.raises(RuntimeError):
            fails_after(lambda: book(at(monday, 15)))
    assert callbacks == []
    assert not Notification.objects.exists()
    assert not Delivery.objects.exists()
    booking.refresh_from_db()
    assert booking.status == "requested"


def test_a_refused_approval_tells_nobody(
    book, approve, everyone, monday, other_department, other_department_staff
):
    first = book(at(monday, 10))
    second = book(at(monday, 11), actor=other_department_staff, requester=other_department)
    approve(first)
    with pytest.raises(services.BookingOverlap):
        approve(second)
    assert notified("booking_approved", booking_id=second.pk) == set()
    assert notified("booking_approved", booking_id=first.pk)


# Who is told: pledges ----------------------------------------------------------------------------
def test_an_offer_tells_the_responsible_organisations_acting_staff(
    pledge, everyone, department_admin, department_staff
):
    offered = pledge()
    assert notified("pledge_offered", pledge_id=offered.pk) == {
        department_admin.pk,
        department_staff.pk,
    }


def test_an_answer_tells_the_partners_acting_members(
    pledge, everyone, department_staff, partner_admin, partner_staff
):
    offered = pledge()
    services.pledge_accept(actor=department_staff, pledge=offered)
    services.pledge_deliver(actor=department_staff, pledge=offered)
    declined = services.pledge_decline(actor=department_staff, pledge=pledge(), reason="重复")
    for pk, statuses in ((offered.pk, {"accepted", "delivered"}), (declined.pk, {"declined"})):
        told = Notification.objects.filter(
            event_type="partners.pledge_answered", payload__pledge_id=pk
        )
        assert set(told.values_list("recipient_id", flat=True)) == {
            partner_admin.pk,
            partner_staff.pk,
        }
        assert set(told.values_list("payload__status", flat=True)) == statuses


def test_a_withdrawal_tells_the_responsible_organisation(
    pledge, everyone, department_admin, department_staff, partner_staff
):
    offered = pledge()
    services.pledge_withdraw(actor=partner_staff, pledge=offered, reason="预算调整")
    assert notified("pledge_withdrawn", pledge_id=offered.pk) == {
        department_admin.pk,
        department_staff.pk,
    }


def test_a_pledge_to_a_case_tells_the_cases_responsible_organisation(
    pledge, case, everyone, department_admin, department_staff
):
    offered = pledge(case=case)
    assert notified("pledge_offered", pledge_id=offered.pk) == {
        department_admin.pk,
        department_staff.pk,
    }
    assert Notification.objects.filter(payload__pledge_id=offered.pk).first().url == reverse(
        "partners:pledges"
    )


# What they read --------------------------------------------------------------------------------
def _one(code: str, recipient) -> Notification:
    return Notification.objects.get(event_type=f"partners.{code}", recipient=recipient)


def test_the_request_email_names_who_what_when_in_local_time(
    book, monday, everyone, partner_admin, settings
):
    settings.SITE_URL = "https://gongzhi.example.cn"
    booking = book(at(monday, 10), at(monday, 12))
    notification = _one("booking_requested", partner_admin)
    assert notification.url == reverse("partners:booking", args=[booking.pk])
    with translation.override("zh-hans"):
        message = render_notification(notification, partner_admin)
        line = render_line(notification, "zh-hans")
    assert message.subject == "资源预约申请：户政管理 申请使用 中庭活动区"
    when = f"{monday:%Y-%m-%d} 10:00 – {monday:%Y-%m-%d} 12:00"
    assert when in message.text
    assert "交通安全宣传活动" in message.text
    assert f"https://gongzhi.example.cn{notification.url}" in message.text
    assert when in message.html
    assert line == f"资源预约申请：户政管理 申请使用 中庭活动区 · {when}"


def test_the_decline_email_gives_the_reason(book, everyone, partner_admin, department_admin):
    services.booking_decline(actor=partner_admin, booking=book(), reason="当天<商场>闭馆")
    message = render_notification(_one("booking_declined", department_admin), department_admin)
    assert "万象城 没有批准" in message.text
    assert "当天<商场>闭馆" in message.text  # plain text is not escaped
    assert "当天&lt;商场&gt;闭馆" in message.html  # HTML is


@pytest.mark.parametrize(
    ("side", "words"),
    [("owner", "资源提供方取消了"), ("requester", "申请单位取消了")],
)
def test_the_cancellation_email_says_which_side_cancelled(
    book, approve, everyone, partner_admin, department_staff, department_admin, side, words
):
    booking = approve(book())
    canceller = partner_admin if side == "owner" else department_staff
    services.booking_cancel(actor=canceller, booking=booking, reason="临时调整")
    told = department_admin if side == "owner" else partner_admin
    message = render_notification(_one("booking_cancelled", told), told)
    assert words in message.text
    assert "临时调整" in message.text


def test_the_pledge_emails_name_the_partner_what_and_the_target(
    pledge, kiosk, everyone, department_staff, partner_admin
):
    offered = pledge(resource=kiosk, quantity="2")
    message = render_notification(_one("pledge_offered", department_staff), department_staff)
    assert message.subject == "收到资源承诺：万象城 承诺支持“增设身份证自助办理终端”"
    assert "自助服务终端 × 2 台/个" in message.text
    services.pledge_accept(actor=department_staff, pledge=offered)
    answered = render_notification(_one("pledge_answered", partner_admin), partner_admin)
    assert answered.subject == "资源承诺已被接受：增设身份证自助办理终端"


def test_the_expiry_email_says_when_and_how_many_days(agreement, everyone, partner_admin):
    from django.utils import timezone

    ends_on = timezone.localdate() + dt.timedelta(days=30)
    agreement(ends_on=ends_on)
    services.agreements_remind()
    message = render_notification(_one("agreement_expiring", partner_admin), partner_admin)
    assert message.subject == "合作协议 30 天后到期：警务服务站合作备忘录"
    assert f"将于 {ends_on:%Y-%m-%d} 到期" in message.text


@pytest.mark.parametrize("code", CODES)
@pytest.mark.parametrize("name", TEMPLATE_FILES)
def test_every_template_renders_in_chinese_from_a_stored_payload(code, name):
    payload = {
        "booking_id": 1,
        "resource_name": "中庭活动区",
        "partner_name": "万象城",
        "partner_id": 1,
        "requester_id": 2,
        "requester_name": "户政管理",
        "requested_by_id": 3,
        "starts_at": "2031-01-06T10:00:00+08:00",
        "ends_at": "2031-01-06T12:00:00+08:00",
        "purpose": "宣传",
        "reason": "原因说明",
        "side": "owner",
        "pledge_id": 1,
        "what": "10000 元",
        "responsible_id": 2,
        "target_title": "增设自助终端",
        "proposal_id": 1,
        "case_id": None,
        "status": "accepted",
        "agreement_id": 1,
        "title": "合作备忘录",
        "department_ids": [2],
        "ends_on": "2031-03-01",
        "days_left": 14,
    }
    with translation.override("zh-hans"):
        text = render_text(f"{registry.get(code).template_dir}/{name}", payload)
    assert text.strip()
    assert "{{" not in text
    assert "{%" not in text
