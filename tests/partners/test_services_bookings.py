"""Booking a resource through ``partners.services``: the checks on a request (each a
ValidationError naming its field with a code), who may ask for whom, the approved time that
refuses others (BookingOverlap naming the booking in the way), and the states a booking goes
through: requested → approved | declined, requested | approved → cancelled (by either side,
recorded)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from partners import services
from partners.models import Booking
from tests.conftest import _member
from tests.factories import MembershipFactory, OrganisationFactory
from tests.partners.conftest import at, fresh, frozen_at, refused

pytestmark = pytest.mark.django_db


def conflict(error: ValidationError, code: str) -> None:
    """A state refusal: the code, which the API answers 409."""
    assert not hasattr(error, "error_dict"), error
    assert error.code == code
    assert code in services.CONFLICTS


# The request's checks ------------------------------------------------------------------------
def test_a_request_records_who_asked_for_whom(book, department, department_staff, resource):
    booking = book()
    assert booking.status == Booking.Status.REQUESTED
    assert (booking.requester, booking.requested_by, booking.resource) == (
        department,
        department_staff,
        resource,
    )
    assert booking.purpose == "交通安全宣传活动"
    assert booking.decided_at is None


def test_a_request_ending_before_it_starts_is_refused(book, monday):
    with pytest.raises(ValidationError) as caught:
        book(at(monday, 12), at(monday, 11))
    refused(caught.value, "ends_at", "ends_before_start")
    with pytest.raises(ValidationError) as caught:
        book(at(monday, 12), at(monday, 12))
    refused(caught.value, "ends_at", "ends_before_start")
    assert not Booking.objects.exists()


def test_a_request_in_the_past_is_refused(book):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    with pytest.raises(ValidationError) as caught:
        book(at(yesterday, 10))
    refused(caught.value, "starts_at", "in_past")
    assert not Booking.objects.exists()


def test_a_request_longer_than_the_resource_allows_is_refused(book, monday):
    assert book(at(monday, 10), at(monday, 18)).status == "requested"  # 8 hours is the limit
    with pytest.raises(ValidationError) as caught:
        book(at(monday, 10), at(monday, 18, 1))
    refused(caught.value, "ends_at", "too_long")
    assert "480" in caught.value.error_dict["ends_at"][0].message


def test_a_request_outside_the_opening_hours_is_refused(book, monday):
    with pytest.raises(ValidationError) as caught:
        book(at(monday, 7), at(monday, 9))
    refused(caught.value, "starts_at", "outside_hours")


def test_a_request_on_a_closure_is_refused_with_its_reason(book, resource, monday, partner_admin):
    services.exception_add(
        actor=partner_admin,
        resource=resource,
        kind="closed",
        starts_at=at(monday, 0),
        ends_at=at(monday, 23),
        reason="商场周年庆布展",
    )
    with pytest.raises(ValidationError) as caught:
        book(at(monday, 14))
    refused(caught.value, "starts_at", "closed")
    assert "商场周年庆布展" in caught.value.error_dict["starts_at"][0].message


@pytest.mark.parametrize(("purpose", "code"), [("", "required"), ("  ", "required")])
def test_a_request_needs_a_purpose(book, purpose, code):
    with pytest.raises(ValidationError) as caught:
        book(purpose=purpose)
    refused(caught.value, "purpose", code)


def test_a_purpose_longer_than_500_characters_is_refused(book):
    with pytest.raises(ValidationError) as caught:
        book(purpose="宣" * 501)
    refused(caught.value, "purpose", "max_length")


def test_a_request_without_times_is_refused_naming_the_field(book, monday):
    with pytest.raises(ValidationError) as caught:
        book(start="not a time", end=at(monday, 12))
    refused(caught.value, "starts_at", "required")
    with pytest.raises(ValidationError) as caught:
        book(start=at(monday, 10), end="2031-01-01")
    refused(caught.value, "ends_at", "required")


# Who asks for whom ---------------------------------------------------------------------------
def test_staff_ask_only_for_an_organisation_they_act_for(book, other_department):
    with pytest.raises(PermissionDenied):
        book(requester=other_department)
    assert not Booking.objects.exists()


def test_a_viewer_cannot_ask(book, department, department_viewer):
    with pytest.raises(PermissionDenied):
        book(actor=department_viewer, requester=department)


def test_a_citizen_cannot_ask(book, citizen, department):
    with pytest.raises(PermissionDenied):
        book(actor=citizen)


def test_the_partner_does_not_book_its_own_resource(book, partner, partner_staff):
    with pytest.raises(PermissionDenied):
        book(actor=partner_staff, requester=partner)


def test_someone_acting_for_the_owner_and_a_department_cannot_book_for_the_owner(
    book, partner, department, department_staff
):
    MembershipFactory(user=department_staff, organisation=partner, role="staff")
    actor = fresh(department_staff)
    with pytest.raises(ValidationError) as caught:
        book(actor=actor, requester=partner)
    refused(caught.value, "requester", "own_resource")
    assert book(actor=actor, requester=department).requester == department


def test_another_partner_and_a_community_organisation_may_ask(book, other_partner, monday):
    bank = book(
        actor=_member(other_partner, "staff", "bank.staff@example.com"), requester=other_partner
    )
    assert bank.status == "requested"
    community = OrganisationFactory(kind="community", slug="jiedao", name_zh="街道社区")
    neighbour = _member(community, "staff", "community@example.com")
    booking = book(at(monday, 14), actor=neighbour, requester=community)
    assert booking.requester == community


def test_a_stakeholders_only_resource_is_asked_for_by_people_with_a_seat(book, room, monday):
    assert book(at(monday, 9), resource=room).resource == room


def test_an_inactive_or_unbookable_resource_takes_no_request(book, resource, partner_admin):
    """Checked on the row as it is now, not on the caller's copy (``resource`` is stale)."""
    services.resource_update(actor=partner_admin, resource=resource, data={"bookable": False})
    with pytest.raises(PermissionDenied):
        book()
    services.resource_update(
        actor=partner_admin, resource=resource, data={"bookable": True, "is_active": False}
    )
    with pytest.raises(PermissionDenied):
        book()
    assert not Booking.objects.exists()


# The approved time refuses others ------------------------------------------------------------
def test_requests_may_overlap_until_one_is_approved(book, monday):
    first = book(at(monday, 10), at(monday, 12))
    second = book(at(monday, 11), at(monday, 13))
    assert {first.status, second.status} == {"requested"}


def test_a_request_over_an_approved_booking_is_refused_naming_it(book, approve, monday):
    taken = approve(book(at(monday, 10), at(monday, 12)))
    with pytest.raises(services.BookingOverlap) as caught:
        book(at(monday, 11), at(monday, 13))
    assert caught.value.booking == taken
    assert caught.value.code == "overlap"
    assert caught.value.named is True
    assert f"#{taken.pk}" in caught.value.message
    assert "户政管理" in caught.value.message
    assert isinstance(caught.value, ValidationError)
    assert Booking.objects.count() == 1


def test_another_organisation_is_told_the_time_taken_not_who_took_it(
    book, approve, monday, other_department, other_department_staff
):
    """As the week calendar shows it: someone else's booking is taken time, without who."""
    taken = approve(book(at(monday, 10), at(monday, 12)))
    with pytest.raises(services.BookingOverlap) as caught:
        book(
            at(monday, 11),
            at(monday, 13),
            actor=other_department_staff,
            requester=other_department,
        )
    assert caught.value.booking == taken
    assert (caught.value.code, caught.value.named) == ("overlap", False)
    assert f"#{taken.pk}" not in caught.value.message
    assert "户政管理" not in caught.value.message
    assert f"{monday:%Y-%m-%d} 10:00" in caught.value.message
    assert Booking.objects.count() == 1


def test_ranges_are_half_open_so_back_to_back_bookings_fit(book, approve, monday):
    middle = approve(book(at(monday, 12), at(monday, 14)))
    before = approve(book(at(monday, 10), at(monday, 12)))
    after = approve(book(at(monday, 14), at(monday, 16)))
    assert {middle.status, before.status, after.status} == {"approved"}
    assert Booking.objects.filter(status="approved").count() == 3


def test_an_approval_over_an_approved_booking_is_refused_naming_it(book, approve, monday):
    first = book(at(monday, 10), at(monday, 12))
    second = book(at(monday, 11), at(monday, 13))
    approve(first)
    with pytest.raises(services.BookingOverlap) as caught:
        approve(second)
    assert caught.value.booking == first
    second.refresh_from_db()
    assert second.status == "requested"


def test_another_resource_at_the_same_time_is_free(book, approve, make_resource, monday):
    approve(book(at(monday, 10)))
    stage = make_resource(name_zh="北广场舞台")
    assert approve(book(at(monday, 10), resource=stage)).status == "approved"


def test_a_declined_or_cancelled_booking_holds_no_time(book, approve, monday, partner_staff):
    first = approve(book(at(monday, 10)))
    services.booking_cancel(actor=partner_staff, booking=first, reason="场地临时维修")
    second = approve(book(at(monday, 10)))
    assert second.status == "approved"
    third = book(at(monday, 14))
    services.booking_decline(actor=partner_staff, booking=third, reason="已有其他活动")
    assert approve(book(at(monday, 14))).status == "approved"


# Approve, decline, cancel ----------------------------------------------------------------------
def test_approving_records_who_and_when(book, approve, partner_staff):
    booking = approve(book())
    booking.refresh_from_db()
    assert booking.status == "approved"
    assert booking.decided_by == partner_staff
    assert booking.decided_at is not None


@pytest.mark.parametrize("first", ["approve", "decline", "cancel"])
def test_only_a_requested_booking_is_approved_or_declined(book, partner_staff, first):
    booking = book()
    if first == "approve":
        services.booking_approve(actor=partner_staff, booking=booking)
    elif first == "decline":
        services.booking_decline(actor=partner_staff, booking=booking, reason="时间冲突")
    else:
        services.booking_cancel(actor=partner_staff, booking=booking, reason="场地维修")
    with pytest.raises(ValidationError) as caught:
        services.booking_approve(actor=partner_staff, booking=booking)
    conflict(caught.value, "not_requested")
    with pytest.raises(ValidationError) as caught:
        services.booking_decline(actor=partner_staff, booking=booking, reason="再次拒绝")
    conflict(caught.value, "not_requested")


def test_a_request_whose_start_has_passed_is_no_longer_approved(book, monday, partner_staff):
    booking = book(at(monday, 10))
    with frozen_at(at(monday, 10, 30)), pytest.raises(ValidationError) as caught:
        services.booking_approve(actor=partner_staff, booking=booking)
    conflict(caught.value, "started")


def test_an_approval_checks_the_hours_again(book, resource, monday, partner_admin, partner_staff):
    booking = book(at(monday, 10))
    services.exception_add(
        actor=partner_admin,
        resource=resource,
        kind="closed",
        starts_at=at(monday, 9),
        ends_at=at(monday, 11),
        reason="电梯检修",
    )
    with pytest.raises(ValidationError) as caught:
        services.booking_approve(actor=partner_staff, booking=booking)
    refused(caught.value, "starts_at", "closed")
    booking.refresh_from_db()
    assert booking.status == "requested"


def test_declining_needs_a_reason_and_keeps_it(book, partner_staff):
    booking = book()
    with pytest.raises(ValidationError) as caught:
        services.booking_decline(actor=partner_staff, booking=booking, reason=" ")
    refused(caught.value, "reason", "required")
    services.booking_decline(actor=partner_staff, booking=booking, reason="当天已有商场活动")
    booking.refresh_from_db()
    assert (booking.status, booking.decline_reason) == ("declined", "当天已有商场活动")
    assert booking.decided_by == partner_staff


def test_the_requester_cancels_and_the_side_is_recorded(book, approve, department_staff):
    booking = approve(book())
    services.booking_cancel(actor=department_staff, booking=booking, reason="活动改期")
    booking.refresh_from_db()
    assert booking.status == "cancelled"
    assert (booking.cancelled_side, booking.cancelled_by) == ("requester", department_staff)
    assert booking.cancel_reason == "活动改期"
    assert booking.cancelled_at is not None


def test_the_owner_cancels_and_the_side_is_recorded(book, approve, partner_admin):
    booking = approve(book())
    services.booking_cancel(actor=partner_admin, booking=booking, reason="中庭临时封闭")
    booking.refresh_from_db()
    assert (booking.status, booking.cancelled_side) == ("cancelled", "owner")


def test_a_pending_request_may_be_withdrawn_by_its_requester(book, department_admin):
    booking = book()
    services.booking_cancel(actor=department_admin, booking=booking, reason="不需要了")
    booking.refresh_from_db()
    assert (booking.status, booking.cancelled_side) == ("cancelled", "requester")


def test_cancelling_needs_a_reason(book, department_staff):
    booking = book()
    with pytest.raises(ValidationError) as caught:
        services.booking_cancel(actor=department_staff, booking=booking, reason="")
    refused(caught.value, "reason", "required")


def test_a_declined_or_cancelled_booking_is_not_cancelled_again(book, partner_staff):
    declined = services.booking_decline(actor=partner_staff, booking=book(), reason="冲突")
    with pytest.raises(ValidationError) as caught:
        services.booking_cancel(actor=partner_staff, booking=declined, reason="再取消")
    conflict(caught.value, "not_open")


def test_a_booking_that_has_ended_is_not_cancelled(book, approve, monday, department_staff):
    booking = approve(book(at(monday, 10), at(monday, 12)))
    with frozen_at(at(monday, 13)), pytest.raises(ValidationError) as caught:
        services.booking_cancel(actor=department_staff, booking=booking, reason="补录")
    conflict(caught.value, "ended")


def test_a_booking_under_way_may_still_be_cancelled(book, approve, monday, partner_staff):
    booking = approve(book(at(monday, 10), at(monday, 12)))
    with frozen_at(at(monday, 11)):
        services.booking_cancel(actor=partner_staff, booking=booking, reason="突发安全事件")
    booking.refresh_from_db()
    assert booking.status == "cancelled"


# Who decides ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "role",
    ["department_staff", "department_admin", "other_partner_admin", "superuser", "citizen"],
)
def test_only_the_partners_acting_members_approve_or_decline(request, book, role):
    booking = book()
    user = request.getfixturevalue(role)
    with pytest.raises(PermissionDenied):
        services.booking_approve(actor=user, booking=booking)
    with pytest.raises(PermissionDenied):
        services.booking_decline(actor=user, booking=booking, reason="不行")
    booking.refresh_from_db()
    assert booking.status == "requested"


def test_a_partner_viewer_does_not_decide(book, partner):
    viewer = _member(partner, "viewer", "mall.viewer@example.com")
    with pytest.raises(PermissionDenied):
        services.booking_approve(actor=viewer, booking=book())


@pytest.mark.parametrize(
    "role", ["other_department_staff", "other_partner_admin", "department_viewer", "superuser"]
)
def test_only_either_sides_acting_members_cancel(request, book, role):
    booking = book()
    with pytest.raises(PermissionDenied):
        services.booking_cancel(actor=request.getfixturevalue(role), booking=booking, reason="x")
    booking.refresh_from_db()
    assert booking.status == "requested"


def test_a_stale_booking_object_is_read_again_before_deciding(book, partner_staff):
    booking = book()
    stale = Booking.objects.get(pk=booking.pk)
    services.booking_decline(actor=partner_staff, booking=booking, reason="冲突")
    with pytest.raises(ValidationError) as caught:
        services.booking_approve(actor=partner_staff, booking=stale)
    conflict(caught.value, "not_requested")
    assert Booking.objects.get(pk=booking.pk).status == "declined"


def test_a_request_for_a_resource_switched_off_since_is_not_approved(
    book, resource, partner_admin, partner_staff
):
    booking = book()
    services.resource_update(actor=partner_admin, resource=resource, data={"is_active": False})
    with pytest.raises(ValidationError) as caught:
        services.booking_approve(actor=partner_staff, booking=booking)
    conflict(caught.value, "not_bookable")
    assert Booking.objects.get(pk=booking.pk).status == "requested"
    declined = services.booking_decline(actor=partner_staff, booking=booking, reason="资源停用")
    assert declined.status == "declined"
