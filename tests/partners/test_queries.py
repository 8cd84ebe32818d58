"""``partners.queries``: what each role sees (a partner its own inactive resources, bookings and
agreements and nobody else's; a department the bookings it made and the resources shared with
stakeholders; the public public resources only), the week calendar (windows, closures, taken
time, others' requests shown without who), and constant query counts however long the history.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from partners import queries, services
from partners.models import Booking, Pledge
from tests.conftest import _member
from tests.partners.conftest import at, fresh, frozen_at
from tests.partners.fixtures_domain import *  # noqa: F403

pytestmark = pytest.mark.django_db


def pks(qs) -> set[int]:
    return set(qs.values_list("pk", flat=True))


@pytest.fixture
def catalogue(resource, room, make_resource, partner_admin, other_partner, other_partner_admin):
    """mall: the public atrium, the stakeholders-only room, a switched-off stand; bank: its
    public hall and a switched-off counter."""
    stand = make_resource(name_zh="旧展台", windows=())
    services.resource_update(actor=partner_admin, resource=stand, data={"is_active": False})
    hall = make_resource(actor=other_partner_admin, owner=other_partner, name_zh="银行大厅")
    counter = make_resource(actor=other_partner_admin, owner=other_partner, name_zh="旧柜台")
    services.resource_update(actor=other_partner_admin, resource=counter, data={"is_active": False})
    return {"atrium": resource, "room": room, "stand": stand, "hall": hall, "counter": counter}


# Resources ---------------------------------------------------------------------------------
def names(qs) -> set[str]:
    return set(qs.values_list("name_zh", flat=True))


def test_the_public_sees_public_resources_only(catalogue, citizen):
    assert names(queries.resources_visible_to(AnonymousUser())) == {"中庭活动区", "银行大厅"}
    assert names(queries.resources_visible_to(citizen)) == {"中庭活动区", "银行大厅"}


def test_a_department_sees_what_is_shared_with_stakeholders(catalogue, department_viewer):
    assert names(queries.resources_visible_to(department_viewer)) == {
        "中庭活动区",
        "三楼会议室",
        "银行大厅",
    }


def test_a_partner_sees_its_own_inactive_resources_and_no_one_elses(
    catalogue, partner_staff, other_partner_admin
):
    assert names(queries.resources_visible_to(partner_staff)) == {
        "中庭活动区",
        "三楼会议室",
        "旧展台",
        "银行大厅",
    }
    assert names(queries.resources_visible_to(other_partner_admin)) == {
        "中庭活动区",
        "三楼会议室",
        "银行大厅",
        "旧柜台",
    }


def test_a_superuser_sees_every_resource(catalogue, superuser):
    assert len(names(queries.resources_visible_to(superuser))) == 5


def test_a_deactivated_partners_resources_leave_the_catalogue(catalogue, other_partner, citizen):
    other_partner.is_active = False
    other_partner.save()
    assert names(queries.resources_visible_to(citizen)) == {"中庭活动区"}


def test_one_resource_is_found_only_where_it_is_visible(catalogue, other_partner_admin, citizen):
    stand = catalogue["stand"]
    assert queries.resource_for(other_partner_admin, stand.pk) is None
    assert queries.resource_for(citizen, catalogue["room"].pk) is None
    found = queries.resource_for(citizen, str(catalogue["atrium"].pk))
    assert found == catalogue["atrium"]
    assert [rule.weekday for rule in found.opening_rules.all()] == list(range(7))
    for garbage in (None, "abc", "1.5", ""):
        assert queries.resource_for(citizen, garbage) is None


def test_the_managed_resources_are_the_acting_members_own(
    catalogue, partner_staff, partner, department_admin
):
    assert names(queries.resources_managed_by(partner_staff)) == {
        "中庭活动区",
        "三楼会议室",
        "旧展台",
    }
    assert names(queries.resources_managed_by(department_admin)) == set()
    viewer = _member(partner, "viewer", "mall.viewer@example.com")
    assert names(queries.resources_managed_by(viewer)) == set()


# Bookings ----------------------------------------------------------------------------------
@pytest.fixture
def bookings(catalogue, book, monday, other_department, other_department_staff, other_partner):
    """hukou asks for the atrium and the room; traffic for the atrium and bank's hall."""
    return {
        "hukou atrium": book(at(monday, 10)),
        "hukou room": book(at(monday, 9), resource=catalogue["room"]),
        "traffic atrium": book(
            at(monday, 14), actor=other_department_staff, requester=other_department
        ),
        "traffic hall": book(
            at(monday, 14),
            resource=catalogue["hall"],
            actor=other_department_staff,
            requester=other_department,
        ),
    }


def test_a_department_sees_the_bookings_it_made(
    bookings, department_viewer, other_department_staff
):
    assert pks(queries.bookings_visible_to(department_viewer)) == {
        bookings["hukou atrium"].pk,
        bookings["hukou room"].pk,
    }
    assert pks(queries.bookings_visible_to(other_department_staff)) == {
        bookings["traffic atrium"].pk,
        bookings["traffic hall"].pk,
    }


def test_a_partner_sees_the_bookings_of_its_resources_only(
    bookings, partner_staff, other_partner_admin
):
    assert pks(queries.bookings_visible_to(partner_staff)) == {
        bookings["hukou atrium"].pk,
        bookings["hukou room"].pk,
        bookings["traffic atrium"].pk,
    }
    assert pks(queries.bookings_visible_to(other_partner_admin)) == {bookings["traffic hall"].pk}
    assert queries.booking_for(other_partner_admin, bookings["hukou atrium"].pk) is None
    assert queries.booking_for(partner_staff, "x") is None


def test_the_public_sees_no_bookings(bookings, citizen):
    assert pks(queries.bookings_visible_to(citizen)) == set()
    assert pks(queries.bookings_visible_to(AnonymousUser())) == set()


def test_pending_requests_are_the_partners_future_requests_soonest_first(
    bookings, partner_staff, partner_admin, department_staff, monday
):
    services.booking_decline(
        actor=partner_admin, booking=bookings["hukou room"], reason="会议室维修"
    )
    pending = list(queries.pending_requests(partner_staff))
    assert [b.pk for b in pending] == [bookings["hukou atrium"].pk, bookings["traffic atrium"].pk]
    assert list(queries.pending_requests(department_staff)) == []
    with frozen_at(at(monday, 12)):
        assert [b.pk for b in queries.pending_requests(partner_staff)] == [
            bookings["traffic atrium"].pk
        ]


def test_upcoming_bookings_are_approved_and_not_over(
    bookings, approve, partner_staff, department_staff, monday
):
    approve(bookings["hukou atrium"])
    approve(bookings["hukou room"])
    assert [b.pk for b in queries.upcoming_bookings(department_staff)] == [
        bookings["hukou room"].pk,
        bookings["hukou atrium"].pk,
    ]
    assert len(queries.upcoming_bookings(partner_staff)) == 2
    with frozen_at(at(monday, 11)):
        assert [b.pk for b in queries.upcoming_bookings(department_staff)] == [
            bookings["hukou atrium"].pk
        ]


# The week --------------------------------------------------------------------------------------
def test_the_week_shows_windows_closures_and_taken_time(
    resource, book, approve, monday, partner_admin, partner_staff, department_staff
):
    wednesday = monday + dt.timedelta(days=2)
    pending = book(at(monday, 15))
    approved = approve(book(at(monday, 10)))
    declined = services.booking_decline(
        actor=partner_admin, booking=book(at(monday, 18)), reason="冲突"
    )
    closure = services.exception_add(
        actor=partner_admin,
        resource=resource,
        kind="closed",
        starts_at=at(wednesday, 14),
        ends_at=at(wednesday, 16),
        reason="中庭地面维修",
    )
    week = queries.week(resource, monday, user=department_staff)
    assert [day.date for day in week.days] == [monday + dt.timedelta(days=n) for n in range(7)]
    assert (week.previous, week.next) == (
        monday - dt.timedelta(days=7),
        monday + dt.timedelta(days=7),
    )
    first = week.days[0]
    assert first.windows == [(at(monday, 10), at(monday, 22))]
    assert [b.pk for b in first.bookings] == [approved.pk, pending.pk]
    assert declined.pk not in {b.pk for day in week.days for b in day.bookings}
    assert week.days[2].windows == [
        (at(wednesday, 10), at(wednesday, 14)),
        (at(wednesday, 16), at(wednesday, 22)),
    ]
    assert week.days[2].closures == [closure]
    assert all(not day.bookings for day in week.days[1:])


def test_others_requests_are_taken_time_without_who(
    resource,
    book,
    monday,
    department_staff,
    other_department,
    other_department_staff,
    partner_staff,
    other_partner_admin,
    superuser,
):
    ours = book(at(monday, 10))
    theirs = book(at(monday, 14), actor=other_department_staff, requester=other_department)

    def hidden(user) -> dict[int, bool]:
        day = queries.week(resource, monday, user=user).days[0]
        return {booking.pk: booking.hidden for booking in day.bookings}

    assert hidden(department_staff) == {ours.pk: False, theirs.pk: True}
    assert hidden(other_department_staff) == {ours.pk: True, theirs.pk: False}
    assert hidden(partner_staff) == {ours.pk: False, theirs.pk: False}
    assert hidden(superuser) == {ours.pk: False, theirs.pk: False}
    assert hidden(other_partner_admin) == {ours.pk: True, theirs.pk: True}
    assert hidden(AnonymousUser()) == {ours.pk: True, theirs.pk: True}


def test_a_booking_across_midnight_shows_on_both_days(make_resource, book, monday):
    night = make_resource(
        name_zh="停车场",
        kind="parking",
        unit="spaces",
        quantity="20",
        windows=[(day, dt.time(0), dt.time(0)) for day in range(7)],
    )
    sunday = monday + dt.timedelta(days=6)
    across = book(at(monday, 22), at(monday + dt.timedelta(days=1), 2), resource=night)
    into_next_week = book(at(sunday, 23), at(sunday + dt.timedelta(days=1), 1), resource=night)
    week = queries.week(night, monday, user=AnonymousUser())
    assert [[b.pk for b in day.bookings] for day in week.days] == [
        [across.pk],
        [across.pk],
        [],
        [],
        [],
        [],
        [into_next_week.pk],
    ]


def test_monday_of_any_day_is_that_weeks_monday(monday):
    for offset in range(7):
        assert queries.monday_of(monday + dt.timedelta(days=offset)) == monday


def _past_bookings(resource, requester, user, count: int) -> None:
    """``count`` approved bookings of ``resource`` on the days before this week, one a day:
    the resource's history, written directly (the services refuse times in the past)."""
    start = at(timezone.localdate() - dt.timedelta(days=7), 10)
    Booking.objects.bulk_create(
        Booking(
            resource=resource,
            requester=requester,
            requested_by=user,
            starts_at=start - dt.timedelta(days=n),
            ends_at=start - dt.timedelta(days=n) + dt.timedelta(hours=2),
            purpose="往期活动",
            status=Booking.Status.APPROVED,
            created_at=start - dt.timedelta(days=n + 7),
        )
        for n in range(count)
    )


@pytest.mark.parametrize("history", [10, 1_000])
def test_the_week_costs_three_queries_however_long_the_history(
    resource,
    book,
    approve,
    monday,
    department,
    department_staff,
    history,
    django_assert_num_queries,
):
    approve(book(at(monday, 10)))
    book(at(monday + dt.timedelta(days=3), 10))
    _past_bookings(resource, department, department_staff, history)
    with django_assert_num_queries(3):
        week = queries.week(resource, monday, user=department_staff)
        shown = [(b.pk, b.requester.name_zh, b.hidden) for day in week.days for b in day.bookings]
    assert len(shown) == 2


def test_the_week_reads_the_bookings_from_the_weeks_start(
    resource, monday, department, department_staff, require_postgres
):
    """The bookings query is bounded by the week on the indexed end time, so the history
    before it is not read (PostgreSQL's plan uses partners_booking_resource_idx)."""
    _past_bookings(resource, department, department_staff, 2_000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE partners_booking")
    with CaptureQueriesContext(connection) as captured:
        queries.week(resource, monday, user=department_staff)
    [sql] = [q["sql"] for q in captured.captured_queries if "partners_booking" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "partners_booking_resource_idx" in plan, plan


# Pledges, agreements, the people ---------------------------------------------------------------
def test_pledges_are_seen_by_both_sides_and_live_ones_by_the_public(
    pledge, partner_staff, department_viewer, other_partner_admin, citizen
):
    live = pledge()
    withdrawn = services.pledge_withdraw(actor=partner_staff, pledge=pledge(), reason="调整")
    assert pks(queries.pledges_visible_to(citizen)) == {live.pk}
    assert pks(queries.pledges_visible_to(AnonymousUser())) == {live.pk}
    assert pks(queries.pledges_visible_to(other_partner_admin)) == {live.pk}
    assert pks(queries.pledges_visible_to(partner_staff)) == {live.pk, withdrawn.pk}
    assert pks(queries.pledges_visible_to(department_viewer)) == {live.pk, withdrawn.pk}


def test_pledges_to_group_the_visible_pledges_by_target(
    pledge, proposal, case, propose, partner_staff, citizen, django_assert_num_queries
):
    other = propose(title="增设母婴室")
    first, second = pledge(), pledge(quantity="5")
    on_case = pledge(case=case)
    withdrawn = services.pledge_withdraw(
        actor=partner_staff, pledge=pledge(proposal=other), reason="调整"
    )
    with django_assert_num_queries(2):  # the reader's seats, the pledges
        grouped = queries.pledges_to(
            citizen, proposal_ids=[proposal.pk, other.pk], case_ids=[case.pk]
        )
    assert {key: [p.pk for p in found] for key, found in grouped.items()} == {
        ("proposal", proposal.pk): [first.pk, second.pk],
        ("case", case.pk): [on_case.pk],
    }
    assert withdrawn.pk not in {p.pk for found in grouped.values() for p in found}
    assert queries.pledges_to(citizen) == {}


def test_pledges_to_answer_are_offered_ones_to_the_users_targets(
    pledge, department_staff, department_viewer, partner_staff
):
    offered = pledge()
    services.pledge_accept(actor=department_staff, pledge=pledge())
    assert pks(queries.pledges_to_answer(department_staff)) == {offered.pk}
    assert pks(queries.pledges_to_answer(department_viewer)) == set()
    assert pks(queries.pledges_to_answer(partner_staff)) == set()


def test_agreements_are_seen_by_their_parties_only(
    agreement,
    department,
    other_department,
    other_partner,
    other_partner_admin,
    partner_staff,
    department_viewer,
    other_department_staff,
    citizen,
):
    ours = agreement()
    theirs = agreement(
        actor=other_partner_admin,
        partner=other_partner,
        departments=[other_department],
        status="draft",
    )
    assert pks(queries.agreements_visible_to(partner_staff)) == {ours.pk}
    assert pks(queries.agreements_visible_to(department_viewer)) == {ours.pk}
    assert pks(queries.agreements_visible_to(other_department_staff)) == {theirs.pk}
    assert pks(queries.agreements_visible_to(other_partner_admin)) == {theirs.pk}
    assert pks(queries.agreements_visible_to(citizen)) == set()


def test_expiring_agreements_are_active_ones_ending_soon_or_ended(agreement, partner_staff):
    today = timezone.localdate()
    soon = agreement(ends_on=today + dt.timedelta(days=30))
    ended = agreement(starts_on=today - dt.timedelta(days=400), ends_on=today - dt.timedelta(1))
    agreement(ends_on=today + dt.timedelta(days=200))
    agreement(ends_on=today + dt.timedelta(days=10), status="draft")
    assert pks(queries.expiring_agreements(partner_staff)) == {soon.pk, ended.pk}
    assert pks(queries.expiring_agreements(partner_staff, within_days=10)) == {ended.pk}
    assert ended.is_expired(today)
    assert not soon.is_expired(today)


def test_shifts_are_seen_by_the_partner_and_the_departments_at_the_station(
    shift, monday, partner_staff, department_viewer, other_department_staff, other_partner_admin
):
    made = shift(at(monday, 10))
    assert pks(queries.shifts_visible_to(partner_staff)) == {made.pk}
    assert pks(queries.shifts_visible_to(department_viewer)) == {made.pk}
    assert pks(queries.shifts_visible_to(other_department_staff)) == set()
    assert pks(queries.shifts_visible_to(other_partner_admin)) == set()


def test_training_sessions_are_seen_by_anyone_with_a_seat(
    training, monday, other_partner_admin, citizen
):
    session = training(at(monday, 9))
    assert pks(queries.trainings_visible_to(other_partner_admin)) == {session.pk}
    assert pks(queries.trainings_visible_to(citizen)) == set()


def test_open_invitations_and_the_users_partners(
    partner, partner_admin, other_partner, department_staff, django_capture_on_commit_callbacks
):
    first, _ = services.invitation_send(
        actor=partner_admin, organisation=partner, email="a@example.com", role="staff"
    )
    second, _ = services.invitation_send(
        actor=partner_admin, organisation=partner, email="b@example.com", role="viewer"
    )
    services.invitation_revoke(actor=partner_admin, invitation=second)
    assert pks(queries.invitations_of(partner)) == {first.pk}
    _member(other_partner, "viewer", partner_admin.email.replace("@", "+bank@"))
    assert list(queries.partners_of(partner_admin)) == [partner]
    assert list(queries.partners_of(department_staff)) == []


# Constant query counts for the lists -------------------------------------------------------
def _read_list(qs) -> list:
    return [
        (b.resource.name, b.resource.partner.name_zh, b.requester.name_zh, b.requested_by_id)
        for b in qs
    ]


@pytest.mark.parametrize("count", [2, 12])
def test_the_booking_list_is_two_queries_whatever_its_length(
    book, monday, partner_staff, count, django_assert_num_queries
):
    for n in range(count):
        book(at(monday + dt.timedelta(days=n // 6), 10 + 2 * (n % 6)))
    reader = fresh(partner_staff)
    with django_assert_num_queries(2):  # the reader's seats, the bookings
        rows = _read_list(queries.bookings_visible_to(reader))
    assert len(rows) == count


@pytest.mark.parametrize("count", [2, 12])
def test_the_pledge_list_is_two_queries_whatever_its_length(
    pledge, kiosk, partner_staff, count, django_assert_num_queries
):
    for n in range(count):
        pledge(resource=kiosk if n % 2 else None, quantity=str(n + 1))
    reader = fresh(partner_staff)
    with django_assert_num_queries(2):  # the reader's seats, the pledges
        rows = [
            (p.partner.name_zh, p.resource.name if p.resource_id else "", p.target.title)
            for p in queries.pledges_visible_to(reader)
        ]
    assert len(rows) == count
    assert Pledge.objects.count() == count


@pytest.mark.parametrize("count", [1, 6])
def test_the_agreement_list_is_four_queries_whatever_its_length(
    agreement, department, other_department, partner_staff, count, django_assert_num_queries
):
    for _ in range(count):
        agreement(departments=[department, other_department])
    reader = fresh(partner_staff)
    # The reader's seats, the agreements, their departments, their documents.
    with django_assert_num_queries(4):
        rows = [
            (a.partner.name_zh, [d.name_zh for d in a.departments.all()], list(a.documents.all()))
            for a in queries.agreements_visible_to(reader)
        ]
    assert len(rows) == count
