"""The partners API's bookings: who sees which, requesting, approving, declining and
cancelling, for every role; the issue's bad input (an overlap is a 409 naming the booking in
the way; a booking ending before it starts, in the past, longer than allowed or outside the
opening hours is a 400 naming the field; partner A on partner B's booking is a 404); state
refusals as 409s with their code; filters and query counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from governance.stakeholders.rules import forget_memberships
from partners import services
from partners.models import Booking
from tests.factories import MembershipFactory
from tests.partners.fixtures_api import *  # noqa: F403  (fixtures, found by pytest here)
from tests.partners.fixtures_api import ROLES, client_for, in_the_past, slot, url
from tests.query_budget import assert_constant_queries

pytestmark = pytest.mark.django_db

BOOKINGS = url("bookings")
HUKOU = {"department_viewer", "department_staff", "department_admin"}
MALL = {"partner_admin", "partner_staff", "partner_viewer"}


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content[:500]
    return [row["id"] for row in response.json()["results"]]


def request_input(resource, when=None, **overrides) -> dict:
    starts_at, ends_at = when or slot()
    values = {
        "resource": resource.pk,
        "starts_at": starts_at.isoformat(),
        "ends_at": ends_at.isoformat(),
        "purpose": "交通安全宣传",
    }
    values.update(overrides)
    return values


@pytest.fixture
def bank_booking(book, bank_screen, department_staff):
    """Hukou asks the bank for its lobby screen: the mall has nothing to do with it."""
    return book(resource=bank_screen, actor=department_staff, when=slot(days=9))


# Who sees which -------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_a_booking_is_seen_by_both_sides_and_nobody_else(roles, role, book, bank_booking):
    booking = book()
    client = client_for(roles[role])

    listed = ids(client.get(BOOKINGS))
    sees_mall = role in HUKOU | MALL | {"superuser"}
    sees_bank = role in HUKOU | {"other_partner_admin", "superuser"}

    assert (booking.pk in listed) is sees_mall
    assert (bank_booking.pk in listed) is sees_bank
    assert client.get(url("bookings", booking)).status_code == (200 if sees_mall else 404)
    # A member of one partner never reads another partner's booking: a 404, not a 403.
    assert client.get(url("bookings", bank_booking)).status_code == (200 if sees_bank else 404)


def test_a_booking_row_names_both_sides_and_its_direction_for_the_reader(
    book, partner_admin, department_staff, superuser
):
    booking = book(purpose="反诈宣传")

    row = client_for(partner_admin).get(BOOKINGS).json()["results"][0]

    assert row["id"] == booking.pk
    assert row["url"] == f"http://testserver{url('bookings', booking)}"
    assert row["page_url"] == f"/partners/bookings/{booking.pk}/"
    assert row["resource"]["id"] == booking.resource_id
    assert row["resource"]["name"] == "中庭"
    assert row["partner"]["slug"] == "mall"
    assert row["requester"]["slug"] == "hukou"
    assert row["purpose"] == "反诈宣传"
    assert row["status"] == "requested"
    assert row["status_label"] == "待审批"
    assert row["starts_at"].endswith("T10:00:00+08:00")
    assert row["direction"] == "incoming"
    assert "permissions" not in row
    assert client_for(department_staff).get(BOOKINGS).json()["results"][0]["direction"] == (
        "outgoing"
    )
    assert client_for(superuser).get(BOOKINGS).json()["results"][0]["direction"] is None


@pytest.mark.parametrize(
    ("role", "decide", "cancel"),
    [
        ("department_viewer", False, False),
        ("department_staff", False, True),
        ("department_admin", False, True),
        ("partner_viewer", False, False),
        ("partner_staff", True, True),
        ("partner_admin", True, True),
        ("superuser", False, False),  # a booking is the organisations' word
    ],
)
def test_the_detail_says_what_the_caller_may_do(roles, role, decide, cancel, book):
    booking = book()
    permissions = client_for(roles[role]).get(url("bookings", booking)).json()["permissions"]
    assert permissions == {"approve": decide, "decline": decide, "cancel": cancel}


def test_the_list_filters_by_resource_status_direction_requester_and_dates(
    book,
    atrium,
    meeting_room,
    bank_screen,
    partner_admin,
    department_staff,
    other_partner,
    other_partner_admin,
):
    soon = book(when=slot(days=3))
    later = book(when=slot(days=20), resource=meeting_room, approve_by=partner_admin)
    outgoing = book(actor=other_partner_admin, requester=other_partner, when=slot(days=5))
    own = book(resource=bank_screen, when=slot(days=6))
    # The mall's admin also sits in the bank: they see the bank's bookings of its screen too.
    MembershipFactory(user=partner_admin, organisation=other_partner, role="admin")
    forget_memberships(partner_admin)
    client = client_for(partner_admin)

    assert set(ids(client.get(BOOKINGS))) == {soon.pk, later.pk, outgoing.pk, own.pk}
    assert ids(client.get(BOOKINGS, {"resource": meeting_room.pk})) == [later.pk]
    assert ids(client.get(BOOKINGS, {"status": "approved"})) == [later.pk]
    assert set(ids(client.get(BOOKINGS, {"requester": "bank"}))) == {outgoing.pk}
    hukou_side = client_for(department_staff)
    assert set(ids(hukou_side.get(BOOKINGS, {"direction": "outgoing"}))) == {
        soon.pk,
        later.pk,
        own.pk,
    }
    assert ids(hukou_side.get(BOOKINGS, {"direction": "incoming"})) == []
    bank_side = client_for(other_partner_admin)
    assert ids(bank_side.get(BOOKINGS, {"direction": "incoming"})) == [own.pk]
    assert ids(bank_side.get(BOOKINGS, {"direction": "outgoing"})) == [outgoing.pk]

    today = timezone.localdate()
    window = {
        "date_from": (today + dt.timedelta(days=4)).isoformat(),
        "date_to": (today + dt.timedelta(days=6)).isoformat(),
    }
    assert set(ids(client.get(BOOKINGS, window))) == {outgoing.pk, own.pk}
    assert ids(client.get(BOOKINGS, {"date_to": (today + dt.timedelta(days=3)).isoformat()})) == [
        soon.pk
    ]
    # Latest start first, unless ``ordering`` says otherwise.
    assert ids(client.get(BOOKINGS)) == [later.pk, own.pk, outgoing.pk, soon.pk]
    assert ids(client.get(BOOKINGS, {"ordering": "starts_at"})) == [
        soon.pk,
        outgoing.pk,
        own.pk,
        later.pk,
    ]


@pytest.mark.parametrize(
    "query",
    [
        {"status": "maybe"},
        {"direction": "sideways"},
        {"resource": "atrium"},
        {"resource": "1.5"},
        {"requester": "nobody"},
        {"date_from": "yesterday"},
        {"date_to": "1500-01-01"},
        {"ordering": "purpose"},
    ],
)
def test_a_bad_filter_is_a_400_naming_it(department_staff, query):
    response = client_for(department_staff).get(BOOKINGS, query)
    assert response.status_code == 400
    assert set(response.json()) == set(query)


def test_the_list_runs_a_constant_number_of_queries(
    book, department_staff, partner_admin, other_department, other_department_staff
):
    made = {"count": 0}

    def add(count):
        for _ in range(count):
            made["count"] += 1
            day, hour = divmod(made["count"], 6)
            actor, requester = (
                (other_department_staff, other_department)
                if made["count"] % 2
                else (department_staff, None)
            )
            book(when=slot(days=2 + day, hour=8 + 2 * hour), actor=actor, requester=requester)

    for user in (partner_admin, department_staff):
        Booking.objects.all().delete()
        made["count"] = 0
        assert_constant_queries(
            lambda user=user: client_for(user).get(BOOKINGS, {"page_size": 100}),
            add,
            check=lambda response, rows: response.json()["count"] >= rows // 2,
        )


# Requesting -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 401),
        ("citizen", 403),
        ("department_viewer", 403),
        ("department_staff", 201),
        ("department_admin", 201),
        ("other_department_staff", 201),
        ("other_partner_admin", 201),  # another partner may book the mall's atrium
        ("partner_admin", 403),  # the mall does not book its own resource
        ("partner_viewer", 403),
        ("superuser", 403),
    ],
)
def test_the_acting_members_of_other_organisations_request_a_resource(
    roles, role, expected, atrium
):
    response = client_for(roles[role]).post(BOOKINGS, request_input(atrium), format="json")

    assert response.status_code == expected, response.content[:300]
    if expected == 201:
        body = response.json()
        assert body["status"] == "requested"
        assert body["direction"] == "outgoing"
        assert body["permissions"]["cancel"] is True
        booking = Booking.objects.get(pk=body["id"])
        assert booking.requested_by == roles[role]
        assert booking.requester.slug == body["requester"]["slug"]
    else:
        assert not Booking.objects.exists()


def test_the_requester_must_be_named_by_who_acts_for_several(
    atrium, department_staff, other_department
):
    MembershipFactory(user=department_staff, organisation=other_department, role="staff")
    forget_memberships(department_staff)
    client = client_for(department_staff)

    response = client.post(BOOKINGS, request_input(atrium), format="json")
    assert response.status_code == 400
    assert "requester" in response.json()

    response = client.post(BOOKINGS, request_input(atrium, requester="traffic"), format="json")
    assert response.status_code == 201
    assert response.json()["requester"]["slug"] == "traffic"


def test_nobody_books_in_the_name_of_an_organisation_they_do_not_act_for(
    atrium, department_staff, other_department
):
    response = client_for(department_staff).post(
        BOOKINGS, request_input(atrium, requester="traffic"), format="json"
    )
    assert response.status_code == 403
    assert not Booking.objects.exists()


@pytest.mark.parametrize(
    ("case", "field"),
    [
        ("ends_before_start", "ends_at"),
        ("in_the_past", "starts_at"),
        ("longer_than_allowed", "ends_at"),
        ("outside_opening_hours", "starts_at"),
        ("during_a_closure", "starts_at"),
        ("no_purpose", "purpose"),
        ("not_a_time", "starts_at"),
        ("out_of_the_calendar", "ends_at"),
        ("unknown_resource", "resource"),
        ("id_as_text", "resource"),
    ],
)
def test_a_bad_request_is_a_400_naming_the_field_and_writes_nothing(
    atrium, partner_admin, department_staff, case, field
):
    start, end = slot(days=10, hour=10)
    values = request_input(atrium, (start, end))
    if case == "ends_before_start":
        values["ends_at"] = (start - dt.timedelta(hours=1)).isoformat()
    elif case == "in_the_past":
        values.update(request_input(atrium, slot(days=-2)))
    elif case == "longer_than_allowed":
        values["ends_at"] = (start + dt.timedelta(hours=5)).isoformat()  # at most four
    elif case == "outside_opening_hours":
        values.update(request_input(atrium, slot(days=10, hour=20, hours=3)))  # closes at 22
    elif case == "during_a_closure":
        services.exception_add(
            actor=partner_admin,
            resource=atrium,
            kind="closed",
            starts_at=start - dt.timedelta(hours=1),
            ends_at=end,
            reason="地面保养",
        )
    elif case == "no_purpose":
        values["purpose"] = "  "
    elif case == "not_a_time":
        values["starts_at"] = "next tuesday"
    elif case == "out_of_the_calendar":
        values["ends_at"] = "9999-12-31T23:59:59+00:00"
    elif case == "unknown_resource":
        values["resource"] = 987654321
    elif case == "id_as_text":
        values["resource"] = str(atrium.pk)

    response = client_for(department_staff).post(BOOKINGS, values, format="json")

    assert response.status_code == 400, response.content[:300]
    assert field in response.json()
    if case == "during_a_closure":
        assert "地面保养" in response.json()["starts_at"][0]
    assert not Booking.objects.exists()


def test_a_resource_the_requester_cannot_see_is_unknown_to_them(
    make_resource, other_partner, other_partner_admin, department_staff
):
    retired = make_resource(
        actor=other_partner_admin, owner=other_partner, name_zh="旧屏幕", is_active=False
    )
    response = client_for(department_staff).post(BOOKINGS, request_input(retired), format="json")
    assert response.status_code == 400
    assert "resource" in response.json()


def test_a_resource_that_takes_no_bookings_is_refused(make_resource, department_staff):
    fund = make_resource(kind="funding", unit="yuan", name_zh="公益基金", rules=())
    response = client_for(department_staff).post(BOOKINGS, request_input(fund), format="json")
    assert response.status_code == 403
    assert not Booking.objects.exists()


def test_a_request_over_another_organisations_approved_booking_is_a_409_giving_its_time(
    atrium, book, partner_admin, other_department_staff
):
    taken = book(when=slot(days=8, hour=10, hours=3), approve_by=partner_admin)
    start, _end = slot(days=8, hour=12)

    response = client_for(other_department_staff).post(
        BOOKINGS, request_input(atrium, (start, start + dt.timedelta(hours=2))), format="json"
    )

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "overlap"
    # Traffic may not read hukou's booking: the time taken, as the calendar shows it.
    assert f"#{taken.pk}" not in body["detail"]
    assert "户政" not in body["detail"]
    assert body["conflicting_booking"] == {
        "starts_at": timezone.localtime(taken.starts_at).isoformat(),
        "ends_at": timezone.localtime(taken.ends_at).isoformat(),
    }
    assert Booking.objects.count() == 1


def test_a_request_over_the_callers_own_approved_booking_is_a_409_naming_it(
    atrium, book, partner_admin, department_admin
):
    taken = book(when=slot(days=8, hour=10, hours=3), approve_by=partner_admin)
    start, _end = slot(days=8, hour=12)

    response = client_for(department_admin).post(
        BOOKINGS, request_input(atrium, (start, start + dt.timedelta(hours=2))), format="json"
    )

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "overlap"
    assert f"#{taken.pk}" in body["detail"]
    assert body["conflicting_booking"] == {
        "id": taken.pk,
        "starts_at": timezone.localtime(taken.starts_at).isoformat(),
        "ends_at": timezone.localtime(taken.ends_at).isoformat(),
        "requester": {
            "slug": "hukou",
            "kind": "department",
            "name": "户政管理",
            "name_zh": "户政管理",
            "name_en": "Household Administration",
        },
    }
    assert Booking.objects.count() == 1


def test_requests_may_overlap_each_other_until_one_is_approved(
    atrium, book, other_department_staff
):
    book()
    response = client_for(other_department_staff).post(
        BOOKINGS, request_input(atrium), format="json"
    )
    assert response.status_code == 201
    assert Booking.objects.filter(status="requested").count() == 2


def test_requesting_takes_json_only(atrium, department_staff):
    response = client_for(department_staff).post(BOOKINGS, request_input(atrium))
    assert response.status_code == 415


# Approving and declining -----------------------------------------------------------------------
DECIDERS = [
    ("anonymous", 401),
    ("citizen", 404),
    ("other_department_staff", 404),
    ("other_partner_admin", 404),  # another partner's booking
    ("department_viewer", 403),
    ("department_staff", 403),  # the requester does not answer its own request
    ("partner_viewer", 403),
    ("superuser", 403),
    ("partner_staff", 200),
    ("partner_admin", 200),
]


@pytest.mark.parametrize(("role", "expected"), DECIDERS)
def test_only_the_resources_partner_approves(roles, role, expected, book):
    booking = book()

    response = client_for(roles[role]).post(url("bookings", booking, "approve"), format="json")

    assert response.status_code == expected, response.content[:300]
    booking.refresh_from_db()
    if expected == 200:
        assert response.json()["status"] == "approved"
        assert response.json()["permissions"]["approve"] is False
        assert booking.status == "approved"
        assert booking.decided_by == roles[role]
    else:
        assert booking.status == "requested"


@pytest.mark.parametrize(("role", "expected"), DECIDERS)
def test_only_the_resources_partner_declines_and_says_why(roles, role, expected, book):
    booking = book()

    response = client_for(roles[role]).post(
        url("bookings", booking, "decline"), {"reason": "当天商场闭店"}, format="json"
    )

    assert response.status_code == expected, response.content[:300]
    booking.refresh_from_db()
    if expected == 200:
        assert response.json()["status"] == "declined"
        assert response.json()["decline_reason"] == "当天商场闭店"
        assert booking.status == "declined"
    else:
        assert booking.status == "requested"


def test_an_approval_over_an_approved_booking_is_a_409_naming_it(
    book, partner_admin, other_department, other_department_staff
):
    first = book(when=slot(days=8, hour=10, hours=2))
    second = book(
        when=slot(days=8, hour=11, hours=2),
        actor=other_department_staff,
        requester=other_department,
    )
    client = client_for(partner_admin)
    assert client.post(url("bookings", first, "approve")).status_code == 200

    response = client.post(url("bookings", second, "approve"))

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "overlap"
    assert body["conflicting_booking"]["id"] == first.pk
    assert body["conflicting_booking"]["requester"]["slug"] == "hukou"
    starts_at = timezone.localtime(first.starts_at).isoformat()
    assert body["conflicting_booking"]["starts_at"] == starts_at
    second.refresh_from_db()
    assert second.status == "requested"


def test_answering_an_answered_request_is_a_409_with_its_code(book, partner_admin):
    booking = book()
    services.booking_decline(actor=partner_admin, booking=booking, reason="闭店")
    client = client_for(partner_admin)

    for action, body in (("approve", None), ("decline", {"reason": "再次拒绝"})):
        response = client.post(url("bookings", booking, action), body, format="json")
        assert response.status_code == 409
        assert response.json()["code"] == "not_requested"
        assert response.json()["detail"]
    booking.refresh_from_db()
    assert booking.decline_reason == "闭店"


def test_a_request_whose_start_has_passed_can_no_longer_be_approved(
    atrium, department, department_staff, partner_admin
):
    start = timezone.localtime(timezone.now() - dt.timedelta(days=1)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    with in_the_past(start - dt.timedelta(days=1)):
        booking = services.booking_request(
            actor=department_staff,
            resource=atrium,
            requester=department,
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
            purpose="早班宣传",
        )

    response = client_for(partner_admin).post(url("bookings", booking, "approve"))

    assert response.status_code == 409
    assert response.json()["code"] == "started"
    assert (
        client_for(partner_admin).get(url("bookings", booking)).json()["permissions"]["approve"]
        is False
    )


def test_a_request_for_a_resource_that_stopped_taking_bookings_cannot_be_approved(
    atrium, book, partner_admin
):
    booking = book()
    services.resource_update(actor=partner_admin, resource=atrium, data={"bookable": False})

    response = client_for(partner_admin).post(url("bookings", booking, "approve"))

    assert response.status_code == 409
    assert response.json()["code"] == "not_bookable"
    decline = client_for(partner_admin).post(
        url("bookings", booking, "decline"), {"reason": "资源已停用"}, format="json"
    )
    assert decline.status_code == 200


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "x" * 501}, {"reason": 5}])
def test_a_decline_needs_a_reason(book, partner_admin, body):
    booking = book()
    response = client_for(partner_admin).post(
        url("bookings", booking, "decline"), body, format="json"
    )
    assert response.status_code == 400
    assert "reason" in response.json()
    booking.refresh_from_db()
    assert booking.status == "requested"


# Cancelling -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("role", "expected", "side"),
    [
        ("anonymous", 401, None),
        ("citizen", 404, None),
        ("other_department_staff", 404, None),
        ("other_partner_admin", 404, None),
        ("department_viewer", 403, None),
        ("partner_viewer", 403, None),
        ("superuser", 403, None),
        ("department_staff", 200, "requester"),
        ("department_admin", 200, "requester"),
        ("partner_staff", 200, "owner"),
        ("partner_admin", 200, "owner"),
    ],
)
def test_either_side_cancels_an_approved_booking_with_a_reason(
    roles, role, expected, side, book, partner_admin
):
    booking = book(approve_by=partner_admin)

    response = client_for(roles[role]).post(
        url("bookings", booking, "cancel"), {"reason": "活动改期"}, format="json"
    )

    assert response.status_code == expected, response.content[:300]
    booking.refresh_from_db()
    if expected == 200:
        body = response.json()
        assert (body["status"], body["cancelled_side"], body["cancel_reason"]) == (
            "cancelled",
            side,
            "活动改期",
        )
        assert booking.status == "cancelled"
    else:
        assert booking.status == "approved"


def test_cancelling_frees_the_time_for_another_approval(
    book, partner_admin, other_department, other_department_staff, department_staff
):
    first = book()
    second = book(actor=other_department_staff, requester=other_department)
    services.booking_approve(actor=partner_admin, booking=first)
    assert client_for(partner_admin).post(url("bookings", second, "approve")).status_code == 409
    client_for(department_staff).post(
        url("bookings", first, "cancel"), {"reason": "改期"}, format="json"
    )
    assert client_for(partner_admin).post(url("bookings", second, "approve")).status_code == 200


def test_a_booking_that_is_not_open_or_has_ended_cannot_be_cancelled(
    atrium, book, department, department_staff, partner_admin
):
    declined = book()
    services.booking_decline(actor=partner_admin, booking=declined, reason="闭店")
    response = client_for(department_staff).post(
        url("bookings", declined, "cancel"), {"reason": "改期"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "not_open"

    start = timezone.localtime(timezone.now() - dt.timedelta(days=3)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    with in_the_past(start - dt.timedelta(days=1)):
        ended = services.booking_request(
            actor=department_staff,
            resource=atrium,
            requester=department,
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
            purpose="往期活动",
        )
        services.booking_approve(actor=partner_admin, booking=ended)
    response = client_for(department_staff).post(
        url("bookings", ended, "cancel"), {"reason": "改期"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "ended"
    ended.refresh_from_db()
    assert ended.status == "approved"


def test_a_cancel_needs_a_reason(book, department_staff):
    booking = book()
    response = client_for(department_staff).post(
        url("bookings", booking, "cancel"), {}, format="json"
    )
    assert response.status_code == 400
    assert "reason" in response.json()
