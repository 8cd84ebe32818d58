"""No double booking under real concurrency: threads, each with its own database connection,
released together by a barrier, approve overlapping requests at the same moment. Exactly one
approval wins; the other gets BookingOverlap naming the winner; the database holds one
approved booking.

On PostgreSQL the transactions truly overlap, and the exclusion constraint
``partners_booking_no_overlap`` decides: a test holds both threads after the service's own
check so that only the constraint can refuse the second. On SQLite (writers serialise there:
``transaction_mode=IMMEDIATE``) the trigger of migration 0002 refuses the same; the same race
still ends with exactly one approval. Either database refuses an overlapping approved row
written past the service (a raw ``update()`` or ``bulk_create``), and takes back-to-back ones
(half-open ranges).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable

import pytest
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from governance.notifications.models import Notification
from partners import services
from partners.models import Booking
from tests.conftest import need
from tests.partners.conftest import at, fresh

TIMEOUT = 60


def waiting_for_the_lock(call: Callable[[], object]) -> object:
    """``call()``, tried again while SQLite says another connection holds the write lock.

    A file database with ``transaction_mode=IMMEDIATE`` and a timeout (the settings' SQLite)
    waits at ``BEGIN IMMEDIATE`` for the writer before it; the tests' in-memory database is
    shared between connections through SQLite's shared cache, which answers "table is locked"
    at once instead. Trying again plays that wait: the failed attempt wrote nothing."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            return call()
        except OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def together(calls: list[Callable[[], object]]) -> list[object]:
    """Run ``calls`` in threads released at the same moment, each on its own connection
    (closed at the end). Returns each call's result, or the exception it raised, in order."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[object] = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=TIMEOUT)
            if connection.vendor == "sqlite":
                outcomes[index] = waiting_for_the_lock(call)
            else:
                outcomes[index] = call()
        except BaseException as error:  # the test looks at it
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIMEOUT * 2)
    need(not any(thread.is_alive() for thread in threads), "threads did not finish")
    return outcomes


def one_winner(outcomes: list[object]) -> tuple[Booking, services.BookingOverlap]:
    winners = [o for o in outcomes if isinstance(o, Booking)]
    losers = [o for o in outcomes if isinstance(o, services.BookingOverlap)]
    assert (len(winners), len(losers)) == (1, 1), outcomes
    return winners[0], losers[0]


@pytest.fixture
def overlapping(book, department, other_department, other_department_staff, monday):
    """hukou asks for the atrium 10:00–12:00, traffic for 11:00–13:00 on the same day."""
    return (
        book(at(monday, 10), at(monday, 12)),
        book(
            at(monday, 11),
            at(monday, 13),
            actor=other_department_staff,
            requester=other_department,
        ),
    )


# The race --------------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_two_overlapping_approvals_at_once_approve_exactly_one(
    overlapping, partner_admin, partner_staff
):
    first, second = overlapping
    deciders = [fresh(partner_staff), fresh(partner_admin)]
    outcomes = together(
        [
            lambda: services.booking_approve(actor=deciders[0], booking=first),
            lambda: services.booking_approve(actor=deciders[1], booking=second),
        ]
    )
    winner, loser = one_winner(outcomes)
    assert loser.booking.pk == winner.pk
    assert loser.code == "overlap"
    assert f"#{winner.pk}" in loser.message
    approved = Booking.objects.filter(status="approved")
    assert list(approved.values_list("pk", flat=True)) == [winner.pk]
    other = (set(overlapping) - {winner}).pop()
    other.refresh_from_db()
    assert (other.status, other.decided_at) == ("requested", None)
    # The loser's transaction rolled back: only the winner's requester heard of an approval.
    told = Notification.objects.filter(event_type="partners.booking_approved")
    assert set(told.values_list("payload__booking_id", flat=True)) == {winner.pk}


@pytest.mark.django_db(transaction=True)
def test_when_both_pass_the_services_check_the_database_refuses_the_second(
    require_postgres, overlapping, partner_admin, partner_staff, monkeypatch
):
    """Both threads read "nothing approved there" before either writes: only the exclusion
    constraint stands between them. The loser waits for the winner's commit, gets the
    constraint's error, and the service turns it into BookingOverlap naming the winner."""
    first, second = overlapping
    checked = threading.Barrier(2)
    real_check = services.conflicting_booking
    waited = threading.local()

    def check_then_wait(*args, **kwargs):
        found = real_check(*args, **kwargs)
        if not getattr(waited, "done", False):
            waited.done = True
            assert found is None
            checked.wait(timeout=TIMEOUT)
        return found

    monkeypatch.setattr(services, "conflicting_booking", check_then_wait)
    deciders = [fresh(partner_staff), fresh(partner_admin)]
    outcomes = together(
        [
            lambda: services.booking_approve(actor=deciders[0], booking=first),
            lambda: services.booking_approve(actor=deciders[1], booking=second),
        ]
    )
    winner, loser = one_winner(outcomes)
    assert loser.booking.pk == winner.pk
    assert isinstance(loser.__cause__, IntegrityError)
    assert "partners_booking_no_overlap" in str(loser.__cause__)
    assert Booking.objects.filter(status="approved").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_request_approved_twice_at_once_is_approved_once(
    book, partner_admin, partner_staff
):
    booking = book()
    deciders = [fresh(partner_staff), fresh(partner_admin)]
    outcomes = together(
        [
            lambda user=user: services.booking_approve(actor=user, booking=booking)
            for user in deciders
        ]
    )
    approved = [o for o in outcomes if isinstance(o, Booking)]
    refused = [o for o in outcomes if not isinstance(o, Booking)]
    assert len(approved) == 1, outcomes
    [error] = refused
    assert getattr(error, "code", None) == "not_requested", outcomes
    booking.refresh_from_db()
    assert booking.status == "approved"
    assert booking.decided_by_id == approved[0].decided_by_id


@pytest.mark.django_db(transaction=True)
def test_approving_and_declining_at_once_leave_one_decision(book, partner_admin, partner_staff):
    booking = book()
    outcomes = together(
        [
            lambda: services.booking_approve(actor=fresh(partner_staff), booking=booking),
            lambda: services.booking_decline(
                actor=fresh(partner_admin), booking=booking, reason="场地另有安排"
            ),
        ]
    )
    decided = [o for o in outcomes if isinstance(o, Booking)]
    assert len(decided) == 1, outcomes
    booking.refresh_from_db()
    assert booking.status == decided[0].status


@pytest.mark.django_db(transaction=True)
def test_back_to_back_requests_and_approvals_at_once_both_succeed(
    book,
    department,
    other_department,
    department_staff,
    other_department_staff,
    partner_admin,
    partner_staff,
    monday,
):
    """Half-open ranges: 10:00–12:00 and 12:00–14:00 share an instant, not a minute."""

    def ask_and_approve(actor, requester, start, end, decider):
        booking = book(start, end, actor=actor, requester=requester)
        return services.booking_approve(actor=decider, booking=booking)

    outcomes = together(
        [
            lambda: ask_and_approve(
                fresh(department_staff),
                department,
                at(monday, 10),
                at(monday, 12),
                fresh(partner_staff),
            ),
            lambda: ask_and_approve(
                fresh(other_department_staff),
                other_department,
                at(monday, 12),
                at(monday, 14),
                fresh(partner_admin),
            ),
        ]
    )
    assert all(isinstance(o, Booking) for o in outcomes), outcomes
    assert sorted(
        Booking.objects.filter(status="approved").values_list("starts_at", "ends_at")
    ) == [(at(monday, 10), at(monday, 12)), (at(monday, 12), at(monday, 14))]


@pytest.mark.django_db(transaction=True)
def test_overlapping_requests_and_approvals_at_once_approve_exactly_one(
    book,
    department,
    other_department,
    department_staff,
    other_department_staff,
    partner_admin,
    partner_staff,
    monday,
):
    def ask_and_approve(actor, requester, start, decider):
        booking = book(start, start + dt.timedelta(hours=2), actor=actor, requester=requester)
        return services.booking_approve(actor=decider, booking=booking)

    outcomes = together(
        [
            lambda: ask_and_approve(
                fresh(department_staff), department, at(monday, 10), fresh(partner_staff)
            ),
            lambda: ask_and_approve(
                fresh(other_department_staff),
                other_department,
                at(monday, 11),
                fresh(partner_admin),
            ),
        ]
    )
    winner, loser = one_winner(outcomes)
    assert loser.booking.pk == winner.pk
    assert Booking.objects.filter(status="approved").count() == 1


# The constraint alone ----------------------------------------------------------------------------
def _approved_row(booking: Booking, **changes) -> Booking:
    values = {
        "resource_id": booking.resource_id,
        "requester_id": booking.requester_id,
        "requested_by_id": booking.requested_by_id,
        "starts_at": booking.starts_at,
        "ends_at": booking.ends_at,
        "purpose": "绕过服务写入",
        "status": Booking.Status.APPROVED,
        "created_at": timezone.now(),
    }
    values.update(changes)
    return Booking(**values)


@pytest.mark.django_db
def test_the_database_refuses_an_overlapping_approved_row_written_with_update(overlapping, approve):
    first, second = overlapping
    approve(first)
    with pytest.raises(IntegrityError, match="partners_booking_no_overlap"), transaction.atomic():
        Booking.objects.filter(pk=second.pk).update(status=Booking.Status.APPROVED)
    assert Booking.objects.filter(status="approved").count() == 1


@pytest.mark.django_db
def test_the_database_refuses_an_overlapping_approved_row_written_with_bulk_create(
    overlapping, approve, monday
):
    first, _second = overlapping
    approve(first)
    row = _approved_row(first, starts_at=at(monday, 11, 59), ends_at=at(monday, 12, 30))
    with pytest.raises(IntegrityError, match="partners_booking_no_overlap"), transaction.atomic():
        Booking.objects.bulk_create([row])
    assert Booking.objects.filter(status="approved").count() == 1


@pytest.mark.django_db
def test_the_database_refuses_two_overlapping_approved_rows_in_one_insert(overlapping):
    first, second = overlapping
    rows = [_approved_row(first), _approved_row(second)]
    with pytest.raises(IntegrityError, match="partners_booking_no_overlap"), transaction.atomic():
        Booking.objects.bulk_create(rows)
    assert not Booking.objects.filter(status="approved").exists()


@pytest.mark.django_db
def test_the_database_refuses_moving_an_approved_row_onto_another(overlapping, approve, monday):
    first, _second = overlapping
    approve(first)
    later = _approved_row(first, starts_at=at(monday, 14), ends_at=at(monday, 16))
    [later] = Booking.objects.bulk_create([later])
    with pytest.raises(IntegrityError, match="partners_booking_no_overlap"), transaction.atomic():
        Booking.objects.filter(pk=later.pk).update(starts_at=at(monday, 11))
    later.refresh_from_db()
    assert later.starts_at == at(monday, 14)


@pytest.mark.django_db
def test_the_database_takes_back_to_back_and_other_approved_rows(
    overlapping, approve, make_resource, monday
):
    first, second = overlapping
    approve(first)
    stage = make_resource(name_zh="北广场舞台")
    Booking.objects.bulk_create(
        [
            # Ends as the approved one starts, and starts as it ends.
            _approved_row(first, starts_at=at(monday, 8), ends_at=at(monday, 10)),
            _approved_row(first, starts_at=at(monday, 12), ends_at=at(monday, 14)),
            # The same time on another resource.
            _approved_row(first, resource_id=stage.pk),
            # Requested, declined and cancelled rows over the same time hold nothing.
            _approved_row(first, status=Booking.Status.REQUESTED),
            _approved_row(first, status=Booking.Status.DECLINED, decline_reason="冲突"),
            _approved_row(
                first,
                status=Booking.Status.CANCELLED,
                cancel_reason="改期",
                cancelled_side=Booking.Side.OWNER,
            ),
        ]
    )
    assert Booking.objects.filter(status="approved").count() == 4
    # A row that stays approved may be updated in place.
    Booking.objects.filter(pk=first.pk).update(purpose="交通安全宣传（更新）")
    second.refresh_from_db()
    assert second.status == "requested"


@pytest.mark.django_db
def test_the_constraint_is_the_one_the_database_enforces(overlapping):
    """PostgreSQL holds it as an exclusion constraint, SQLite as two triggers."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT contype FROM pg_constraint WHERE conname = 'partners_booking_no_overlap'"
            )
            assert cursor.fetchall() == [("x",)]
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                "AND tbl_name = 'partners_booking' ORDER BY name"
            )
            assert [name for (name,) in cursor.fetchall()] == [
                "partners_booking_no_overlap_INSERT",
                "partners_booking_no_overlap_UPDATE",
            ]
