"""The bookings pages for every role: the list (incoming and outgoing, by status and dates,
constant queries), one booking (who sees it, who may answer or cancel it), and its actions:
approve, decline and cancel (a reason required), an approval that would double-book refused
with 409 naming the booking in the way, a stale answer refused with 409."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from partners import services
from partners.models import Booking
from tests.partners.fixtures_views import *  # noqa: F403  (the fixtures)
from tests.partners.fixtures_views import MALL, ROLES, at, fresh, sign_in, when
from tests.query_budget import assert_constant_queries

pytestmark = pytest.mark.django_db

LIST = "/partners/bookings/"


def html_of(response) -> str:
    return response.content.decode()


def rows_of(response) -> list[int]:
    return [
        int(pk)
        for pk in re.findall(r'<li class="booking-row" data-booking="(\d+)"', html_of(response))
    ]


def detail_url(booking: Booking) -> str:
    return reverse("partners:booking", args=[booking.pk])


def act_url(booking: Booking, action: str) -> str:
    return reverse("partners:booking_act", args=[booking.pk, action])


@pytest.fixture
def hukou_booking(request_booking, monday):
    """Hukou asks for the atrium on Monday 10:00–12:00."""
    return request_booking(start=at(monday, 10))


@pytest.fixture
def traffic_booking(request_booking, other_department, other_department_staff, monday):
    """Traffic asks for the atrium on Monday 11:00–13:00 (overlapping hukou's request)."""
    return request_booking(
        start=at(monday, 11),
        actor=other_department_staff,
        requester=other_department,
        purpose="文明交通劝导",
    )


# The list -----------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_bookings_list_is_for_organisation_members(request, client, role, hukou_booking):
    sign_in(client, request, role)
    response = client.get(LIST)
    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    elif role == "citizen":
        assert response.status_code == 403
    else:
        assert response.status_code == 200


@pytest.mark.parametrize("role", [role for role in ROLES if role not in ("anonymous", "citizen")])
def test_bookings_list_shows_each_side_its_own_bookings(
    request, client, role, hukou_booking, traffic_booking
):
    sign_in(client, request, role)
    default = set(rows_of(client.get(LIST)))
    incoming = set(rows_of(client.get(f"{LIST}?tab=incoming")))
    outgoing = set(rows_of(client.get(f"{LIST}?tab=outgoing")))
    both = {hukou_booking.pk, traffic_booking.pk}
    if role in MALL:
        assert default == incoming == both  # a partner starts with what it was asked for
        assert outgoing == set()
    elif role in ("department_viewer", "department_staff"):
        assert default == outgoing == {hukou_booking.pk}  # a department with what it asked
        assert incoming == set()
    elif role == "other_department_staff":
        assert default == outgoing == {traffic_booking.pk}
        assert incoming == set()
    elif role == "other_partner_admin":
        assert default == incoming == outgoing == set()
    elif role == "superuser":
        assert default == set(rows_of(client.get(f"{LIST}?tab=all"))) == both


def test_bookings_list_row_shows_resource_time_status_and_both_sides(
    client, partner_staff, hukou_booking, monday
):
    client.force_login(partner_staff)
    html = html_of(client.get(LIST))
    row = html[html.index(f'data-booking="{hukou_booking.pk}"') :]
    row = row[: row.index("</li>")]
    assert "中庭活动区" in row
    assert f"{monday:%Y-%m-%d} 10:00</time>–12:00" in row
    assert "待审批" in row
    assert "申请单位：户政管理" in row
    assert "提供方：万象城" in row
    assert "交通安全宣传活动" in row


def test_bookings_list_filters_by_status_and_dates(
    client, partner_staff, request_booking, monday, other_department, other_department_staff
):
    first = request_booking(start=at(monday, 10))
    services.booking_approve(actor=partner_staff, booking=first)
    later = request_booking(start=at(monday + dt.timedelta(days=3), 10))
    declined = request_booking(start=at(monday + dt.timedelta(days=8), 10))
    services.booking_decline(actor=partner_staff, booking=declined, reason="场地已另有安排")
    client.force_login(partner_staff)
    assert set(rows_of(client.get(f"{LIST}?status=approved"))) == {first.pk}
    assert set(rows_of(client.get(f"{LIST}?status=requested"))) == {later.pk}
    assert set(rows_of(client.get(f"{LIST}?status=declined"))) == {declined.pk}
    one_day = monday + dt.timedelta(days=3)
    assert set(rows_of(client.get(f"{LIST}?date_from={one_day}&date_to={one_day}"))) == {later.pk}
    assert set(rows_of(client.get(f"{LIST}?date_from={monday + dt.timedelta(days=1)}"))) == {
        later.pk,
        declined.pk,
    }
    assert set(rows_of(client.get(f"{LIST}?date_to={monday}"))) == {first.pk}


@pytest.mark.parametrize(
    "query",
    [
        "tab=everything",
        "status=lost",
        "date_from=yesterday",
        "date_from=2031-05-02&date_to=2031-05-01",
        "date_from=0001-01-01",
    ],
)
def test_bookings_list_refuses_a_bad_filter_with_400(client, partner_staff, hukou_booking, query):
    client.force_login(partner_staff)
    response = client.get(f"{LIST}?{query}")
    assert response.status_code == 400
    assert 'class="field-error"' in html_of(response)
    assert rows_of(response) == []


def test_the_all_tab_is_only_for_superusers(client, department_staff, hukou_booking):
    client.force_login(department_staff)
    assert client.get(f"{LIST}?tab=all").status_code == 400


def test_bookings_list_runs_constant_queries(
    client, partner_staff, atrium, department, department_staff, monday
):
    made = {"count": 0}

    def add(count):
        for _ in range(count):
            number = made["count"]
            made["count"] += 1
            start = at(monday + dt.timedelta(days=number // 5), 10 + 2 * (number % 5))
            services.booking_request(
                actor=fresh(department_staff),
                resource=atrium,
                requester=department,
                starts_at=start,
                ends_at=start + dt.timedelta(hours=1),
                purpose=f"活动 {number}",
            )

    client.force_login(partner_staff)
    assert_constant_queries(
        lambda: client.get(LIST),
        add,
        small=3,
        large=25,
        check=lambda response, rows: len(rows_of(response)) == rows,
        max_queries=10,
    )


def test_bookings_list_pages(client, partner_staff, atrium, department, department_staff, monday):
    for number in range(35):
        start = at(monday + dt.timedelta(days=number // 5), 10 + 2 * (number % 5))
        services.booking_request(
            actor=department_staff,
            resource=atrium,
            requester=department,
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
            purpose="活动",
        )
    client.force_login(partner_staff)
    first, second = client.get(LIST), client.get(f"{LIST}?page=2")
    assert len(rows_of(first)) == 30
    assert len(rows_of(second)) == 5
    assert "tab=incoming" in html_of(first)


# One booking --------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_booking_page_is_for_both_sides_and_404_to_others(request, client, role, hukou_booking):
    sign_in(client, request, role)
    response = client.get(detail_url(hukou_booking))
    if role == "anonymous":
        assert response.status_code == 302
    elif role in MALL | {"department_viewer", "department_staff", "superuser"}:
        assert response.status_code == 200
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("role", [role for role in ROLES if role != "anonymous"])
def test_booking_page_offers_each_role_only_what_it_may_do(request, client, role, hukou_booking):
    sign_in(client, request, role)
    html = html_of(client.get(detail_url(hukou_booking)))
    decides = role in MALL
    cancels = role in MALL or role == "department_staff"
    assert (act_url(hukou_booking, "approve") in html) is decides
    assert (act_url(hukou_booking, "decline") in html) is decides
    assert (act_url(hukou_booking, "cancel") in html) is cancels


def test_booking_page_shows_the_booking(client, department_staff, hukou_booking, monday):
    client.force_login(department_staff)
    html = html_of(client.get(detail_url(hukou_booking)))
    assert f"预约 #{hukou_booking.pk}：中庭活动区" in html
    assert f"{monday:%Y-%m-%d} 10:00" in html
    assert f"{monday:%Y-%m-%d} 12:00" in html
    assert "户政管理" in html
    assert "万象城" in html
    assert "交通安全宣传活动" in html
    assert 'data-status="requested"' in html
    assert f"?week={monday:%Y-%m-%d}#week" in html  # its week on the calendar


def test_unknown_booking_is_404(client, partner_staff):
    client.force_login(partner_staff)
    assert client.get("/partners/bookings/999999/").status_code == 404


def test_booking_page_warns_the_partner_of_an_overlap_before_approving(
    client, partner_staff, hukou_booking, traffic_booking
):
    services.booking_approve(actor=partner_staff, booking=hukou_booking)
    client.force_login(partner_staff)
    html = html_of(client.get(detail_url(traffic_booking)))
    assert f"与已批准的预约 #{hukou_booking.pk}（户政管理" in html


# Actions ------------------------------------------------------------------------------------
def test_partner_approves_a_request(client, partner_staff, hukou_booking):
    client.force_login(partner_staff)
    response = client.post(act_url(hukou_booking, "approve"))
    assert response.status_code == 302
    assert response["Location"] == detail_url(hukou_booking)
    hukou_booking.refresh_from_db()
    assert hukou_booking.status == Booking.Status.APPROVED
    assert hukou_booking.decided_by == partner_staff
    html = html_of(client.get(response["Location"]))
    assert "预约已批准" in html
    assert 'data-status="approved"' in html
    assert act_url(hukou_booking, "approve") not in html  # answered once


def test_approving_an_overlapping_request_is_409_naming_the_booking_in_the_way(
    client, partner_staff, partner_admin, hukou_booking, traffic_booking
):
    services.booking_approve(actor=partner_admin, booking=hukou_booking)
    client.force_login(partner_staff)
    response = client.post(act_url(traffic_booking, "approve"))
    assert response.status_code == 409
    html = html_of(response)
    assert f"该时段已被预约 #{hukou_booking.pk}（户政管理" in html
    assert 'role="alert"' in html
    assert f'href="{detail_url(hukou_booking)}"' in html  # the one in the way, to look at
    traffic_booking.refresh_from_db()
    assert traffic_booking.status == Booking.Status.REQUESTED


def test_partner_declines_with_a_reason_the_requester_reads(
    client, partner_staff, department_staff, hukou_booking
):
    client.force_login(partner_staff)
    response = client.post(
        act_url(hukou_booking, "decline"), {"decline-reason": "当天中庭有商场活动"}
    )
    assert response.status_code == 302
    hukou_booking.refresh_from_db()
    assert hukou_booking.status == Booking.Status.DECLINED
    assert hukou_booking.decline_reason == "当天中庭有商场活动"
    client.force_login(department_staff)
    html = html_of(client.get(detail_url(hukou_booking)))
    assert "拒绝原因" in html
    assert "当天中庭有商场活动" in html


@pytest.mark.parametrize("action", ["decline", "cancel"])
@pytest.mark.parametrize("reason", ["", "   ", "长" * 501])
def test_decline_and_cancel_need_a_reason(client, partner_staff, hukou_booking, action, reason):
    client.force_login(partner_staff)
    response = client.post(act_url(hukou_booking, action), {f"{action}-reason": reason})
    assert response.status_code == 400
    assert f'id="id_{action}-reason_error"' in html_of(response)
    hukou_booking.refresh_from_db()
    assert hukou_booking.status == Booking.Status.REQUESTED


def test_requester_cancels_with_a_reason(client, department_staff, hukou_booking):
    client.force_login(department_staff)
    response = client.post(act_url(hukou_booking, "cancel"), {"cancel-reason": "活动改期"})
    assert response.status_code == 302
    hukou_booking.refresh_from_db()
    assert hukou_booking.status == Booking.Status.CANCELLED
    assert hukou_booking.cancelled_side == Booking.Side.REQUESTER
    html = html_of(client.get(detail_url(hukou_booking)))
    assert "活动改期" in html
    assert "申请方" in html


def test_partner_cancels_an_approved_booking(client, partner_staff, hukou_booking):
    services.booking_approve(actor=partner_staff, booking=hukou_booking)
    client.force_login(partner_staff)
    response = client.post(act_url(hukou_booking, "cancel"), {"cancel-reason": "中庭临时维修"})
    assert response.status_code == 302
    hukou_booking.refresh_from_db()
    assert hukou_booking.status == Booking.Status.CANCELLED
    assert hukou_booking.cancelled_side == Booking.Side.OWNER


@pytest.mark.parametrize(
    ("role", "action", "status"),
    [
        ("department_staff", "approve", 403),  # the requester does not answer its own request
        ("department_viewer", "cancel", 403),  # a viewer acts for nobody
        ("superuser", "approve", 403),  # superusers do not answer for a partner
        ("other_partner_admin", "approve", 404),  # not theirs to see
        ("other_department_staff", "cancel", 404),
        ("citizen", "decline", 404),
    ],
)
def test_actions_refused_to_those_who_may_not_take_them(
    request, client, hukou_booking, role, action, status
):
    sign_in(client, request, role)
    response = client.post(act_url(hukou_booking, action), {f"{action}-reason": "不行"})
    assert response.status_code == status
    hukou_booking.refresh_from_db()
    assert hukou_booking.status == Booking.Status.REQUESTED


def test_anonymous_actions_are_sent_to_sign_in(client, hukou_booking):
    response = client.post(act_url(hukou_booking, "approve"))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    hukou_booking.refresh_from_db()
    assert hukou_booking.status == Booking.Status.REQUESTED


def test_a_stale_answer_is_409(client, partner_staff, partner_admin, hukou_booking):
    services.booking_decline(actor=partner_admin, booking=hukou_booking, reason="已另有安排")
    client.force_login(partner_staff)
    response = client.post(act_url(hukou_booking, "approve"))
    assert response.status_code == 409
    assert "只有待审批的预约才能批准或拒绝" in html_of(response)
    response = client.post(act_url(hukou_booking, "cancel"), {"cancel-reason": "重复"})
    assert response.status_code == 409
    assert "只有待审批或已批准的预约才能取消" in html_of(response)
    hukou_booking.refresh_from_db()
    assert hukou_booking.status == Booking.Status.DECLINED


def test_a_started_request_can_no_longer_be_approved(
    client, partner_staff, atrium, department, department_staff
):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    with when(at(yesterday - dt.timedelta(days=1), 9)):
        booking = services.booking_request(
            actor=department_staff,
            resource=atrium,
            requester=department,
            starts_at=at(yesterday, 10),
            ends_at=at(yesterday, 11),
            purpose="已经过去的活动",
        )
    client.force_login(partner_staff)
    html = html_of(client.get(detail_url(booking)))
    assert act_url(booking, "approve") not in html  # not offered
    response = client.post(act_url(booking, "approve"))
    assert response.status_code == 409


def test_unknown_action_is_404_and_get_is_405(client, partner_staff, hukou_booking):
    client.force_login(partner_staff)
    assert client.post(act_url(hukou_booking, "delete")).status_code == 404
    assert client.get(act_url(hukou_booking, "approve")).status_code == 405
