"""When a resource may be booked: weekly windows (Asia/Shanghai local hours, no daylight saving),
windows that reach midnight joining the next day's, extra openings, closures refused with their
reason, and round-the-clock resources booked across days. The pure functions of
``partners.availability`` first, then the same through ``services.booking_request``."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from partners import availability, queries, services
from partners.models import MIDNIGHT, AvailabilityException, OpeningRule
from tests.partners.conftest import ALL_WEEK, TZ, at, refused

pytestmark = pytest.mark.django_db

UTC = dt.UTC


def rule(weekday: int, opens: str, closes: str) -> OpeningRule:
    return OpeningRule(
        weekday=weekday, opens=dt.time.fromisoformat(opens), closes=dt.time.fromisoformat(closes)
    )


def closure(start: dt.datetime, end: dt.datetime, reason: str = "") -> AvailabilityException:
    return AvailabilityException(
        kind=AvailabilityException.Kind.CLOSED, starts_at=start, ends_at=end, reason=reason
    )


def opening(start: dt.datetime, end: dt.datetime) -> AvailabilityException:
    return AvailabilityException(kind=AvailabilityException.Kind.OPEN, starts_at=start, ends_at=end)


# A Monday in the past is fine for the pure functions: they never look at the clock.
MONDAY = dt.date(2025, 3, 3)


# The pure functions ------------------------------------------------------------------------
def test_weekly_windows_are_the_rules_local_hours_each_day():
    rules = [rule(day, "10:00", "22:00") for day in range(7)]
    start = at(MONDAY, 0)
    windows = availability.open_windows(rules, [], start, start + dt.timedelta(days=7))
    assert windows == [
        (at(MONDAY + dt.timedelta(days=d), 10), at(MONDAY + dt.timedelta(days=d), 22))
        for d in range(7)
    ]


def test_a_day_without_a_rule_is_closed():
    rules = [rule(0, "09:00", "12:00"), rule(0, "14:00", "18:00")]
    tuesday = MONDAY + dt.timedelta(days=1)
    assert availability.open_windows(rules, [], at(tuesday, 0), at(tuesday, 23, 59)) == []
    assert availability.open_windows(rules, [], at(MONDAY, 0), at(tuesday, 0)) == [
        (at(MONDAY, 9), at(MONDAY, 12)),
        (at(MONDAY, 14), at(MONDAY, 18)),
    ]


def test_a_window_closing_at_midnight_joins_the_next_days_early_window():
    friday, saturday = MONDAY + dt.timedelta(days=4), MONDAY + dt.timedelta(days=5)
    rules = [rule(4, "18:00", "00:00"), rule(5, "00:00", "02:00")]
    windows = availability.open_windows(rules, [], at(friday, 0), at(saturday, 12))
    assert windows == [(at(friday, 18), at(saturday, 2))]
    assert availability.refusal(rules, [], at(friday, 23), at(saturday, 1, 30)) is None


def test_a_window_closing_at_midnight_ends_at_midnight_without_a_next_day_rule():
    friday, saturday = MONDAY + dt.timedelta(days=4), MONDAY + dt.timedelta(days=5)
    rules = [rule(4, "18:00", "00:00")]
    assert availability.open_windows(rules, [], at(friday, 0), at(saturday, 12)) == [
        (at(friday, 18), at(saturday, 0))
    ]
    assert availability.refusal(rules, [], at(friday, 22), at(saturday, 0)) is None
    refusal = availability.refusal(rules, [], at(friday, 23), at(saturday, 0, 30))
    assert refusal == availability.Refusal("outside_hours")


def test_a_window_reaching_midnight_is_found_from_the_next_day():
    """A range that starts after midnight still sees the window opened the evening before."""
    saturday, sunday = MONDAY + dt.timedelta(days=5), MONDAY + dt.timedelta(days=6)
    rules = [rule(5, "20:00", "00:00"), rule(6, "00:00", "03:00")]
    assert availability.refusal(rules, [], at(sunday, 1), at(sunday, 2)) is None
    assert availability.refusal(rules, [], at(saturday, 23), at(sunday, 3)) is None
    assert availability.refusal(rules, [], at(saturday, 23), at(sunday, 4)) is not None


def test_an_extra_opening_opens_a_day_the_rules_keep_closed():
    sunday = MONDAY + dt.timedelta(days=6)
    rules = [rule(day, "10:00", "18:00") for day in range(5)]
    extra = opening(at(sunday, 9), at(sunday, 17))
    assert availability.refusal(rules, [], at(sunday, 10), at(sunday, 12)).code == "outside_hours"
    assert availability.refusal(rules, [extra], at(sunday, 10), at(sunday, 12)) is None
    assert availability.open_windows(rules, [extra], at(sunday, 0), at(sunday, 23)) == [
        (at(sunday, 9), at(sunday, 17))
    ]


def test_an_extra_opening_extends_a_window_it_touches():
    rules = [rule(0, "10:00", "18:00")]
    evening = opening(at(MONDAY, 18), at(MONDAY, 21))
    assert availability.open_windows(rules, [evening], at(MONDAY, 0), at(MONDAY, 23)) == [
        (at(MONDAY, 10), at(MONDAY, 21))
    ]
    assert availability.refusal(rules, [evening], at(MONDAY, 17), at(MONDAY, 20)) is None


def test_a_closure_cuts_the_window_and_is_refused_with_its_reason():
    rules = [rule(0, "10:00", "22:00")]
    shut = closure(at(MONDAY, 12), at(MONDAY, 14), "消防检查")
    assert availability.open_windows(rules, [shut], at(MONDAY, 0), at(MONDAY, 23)) == [
        (at(MONDAY, 10), at(MONDAY, 12)),
        (at(MONDAY, 14), at(MONDAY, 22)),
    ]
    assert availability.refusal(rules, [shut], at(MONDAY, 11), at(MONDAY, 13)) == (
        availability.Refusal("closed", "消防检查")
    )
    assert availability.refusal(rules, [shut], at(MONDAY, 10), at(MONDAY, 12)) is None
    assert availability.refusal(rules, [shut], at(MONDAY, 14), at(MONDAY, 16)) is None


def test_a_closure_beats_an_extra_opening_over_the_same_time():
    rules: list[OpeningRule] = []
    extra = opening(at(MONDAY, 9), at(MONDAY, 18))
    shut = closure(at(MONDAY, 12), at(MONDAY, 13), "布展")
    assert availability.refusal(rules, [extra, shut], at(MONDAY, 11), at(MONDAY, 14)) == (
        availability.Refusal("closed", "布展")
    )


@pytest.mark.parametrize(
    "day",
    [
        dt.date(2025, 3, 9),  # North America moves its clocks forward
        dt.date(2025, 3, 30),  # Europe moves its clocks forward
        dt.date(2025, 10, 26),  # Europe moves them back
        dt.date(2025, 11, 2),  # North America moves them back
        dt.date(2025, 6, 21),
        dt.date(2025, 12, 21),
    ],
)
def test_local_hours_are_the_same_utc_hours_all_year(day):
    """Asia/Shanghai keeps UTC+8 all year: 10:00–22:00 is 02:00–14:00 UTC on every date."""
    rules = [rule(day.weekday(), "10:00", "22:00")]
    [(opens, closes)] = availability.open_windows(rules, [], at(day, 0), at(day, 23, 59))
    assert opens.astimezone(UTC) == dt.datetime.combine(day, dt.time(2), tzinfo=UTC)
    assert closes.astimezone(UTC) == dt.datetime.combine(day, dt.time(14), tzinfo=UTC)
    assert closes - opens == dt.timedelta(hours=12)


def test_times_given_in_another_zone_are_read_as_the_same_instant():
    rules = [rule(0, "10:00", "22:00")]
    london = ZoneInfo("Europe/London")
    start = at(MONDAY, 10).astimezone(london)
    assert availability.refusal(rules, [], start, start + dt.timedelta(hours=12)) is None
    assert availability.refusal(rules, [], start, start + dt.timedelta(hours=13)) is not None


def test_a_round_the_clock_resource_is_one_window_all_week():
    rules = [rule(day, "00:00", "00:00") for day in range(7)]
    start = at(MONDAY, 0)
    assert availability.open_windows(rules, [], start, start + dt.timedelta(days=7)) == [
        (start, start + dt.timedelta(days=7))
    ]
    assert availability.refusal(rules, [], at(MONDAY, 20), at(MONDAY, 8) + dt.timedelta(2)) is None


def test_the_windows_are_clipped_to_the_range_asked_for():
    rules = [rule(0, "10:00", "22:00")]
    assert availability.open_windows(rules, [], at(MONDAY, 12), at(MONDAY, 13)) == [
        (at(MONDAY, 12), at(MONDAY, 13))
    ]


# Through the booking service -----------------------------------------------------------------
def test_a_request_inside_the_weekly_hours_is_taken(book, monday):
    first = book(at(monday, 10), at(monday, 18))
    last = book(at(monday, 14), at(monday, 22))
    assert (first.status, last.status) == ("requested", "requested")
    assert (first.starts_at, last.ends_at) == (at(monday, 10), at(monday, 22))


def test_a_request_outside_the_weekly_hours_is_refused_naming_the_start(book, monday):
    with pytest.raises(ValidationError) as caught:
        book(at(monday, 21), at(monday, 23))
    refused(caught.value, "starts_at", "outside_hours")
    with pytest.raises(ValidationError) as caught:
        book(at(monday, 8), at(monday, 11))
    refused(caught.value, "starts_at", "outside_hours")


def test_a_request_over_a_window_reaching_midnight_and_the_next_days_is_taken(
    make_resource, book, monday, partner_admin
):
    friday, saturday = monday + dt.timedelta(days=4), monday + dt.timedelta(days=5)
    bar = make_resource(
        name_zh="屋顶花园",
        windows=[(4, dt.time(18), MIDNIGHT), (5, MIDNIGHT, dt.time(2))],
    )
    booking = book(at(friday, 22), at(saturday, 1, 30), resource=bar)
    assert (booking.starts_at, booking.ends_at) == (at(friday, 22), at(saturday, 1, 30))
    with pytest.raises(ValidationError) as caught:
        book(at(friday, 23), at(saturday, 2, 30), resource=bar)
    refused(caught.value, "starts_at", "outside_hours")


def test_an_extra_opening_takes_a_request_on_a_closed_day(
    make_resource, book, monday, partner_admin
):
    sunday = monday + dt.timedelta(days=6)
    weekdays = make_resource(windows=[(day, dt.time(10), dt.time(18)) for day in range(5)])
    with pytest.raises(ValidationError) as caught:
        book(at(sunday, 10), resource=weekdays)
    refused(caught.value, "starts_at", "outside_hours")
    services.exception_add(
        actor=partner_admin,
        resource=weekdays,
        kind="open",
        starts_at=at(sunday, 9),
        ends_at=at(sunday, 17),
        reason="周日宣传日",
    )
    assert book(at(sunday, 10), resource=weekdays).status == "requested"


def test_a_closure_refuses_a_request_with_its_reason(resource, book, monday, partner_admin):
    services.exception_add(
        actor=partner_admin,
        resource=resource,
        kind="closed",
        starts_at=at(monday, 12),
        ends_at=at(monday, 15),
        reason="中庭地面翻新",
    )
    with pytest.raises(ValidationError) as caught:
        book(at(monday, 11), at(monday, 13))
    refused(caught.value, "starts_at", "closed")
    assert "中庭地面翻新" in caught.value.error_dict["starts_at"][0].message
    assert book(at(monday, 10), at(monday, 12)).status == "requested"
    assert book(at(monday, 15), at(monday, 17)).status == "requested"


def test_a_closure_without_a_reason_says_the_partner_gave_none(
    resource, book, monday, partner_admin
):
    services.exception_add(
        actor=partner_admin,
        resource=resource,
        kind="closed",
        starts_at=at(monday, 0),
        ends_at=at(monday + dt.timedelta(days=1), 0),
    )
    with pytest.raises(ValidationError) as caught:
        book(at(monday, 10))
    refused(caught.value, "starts_at", "closed")
    assert "提供方未说明原因" in str(caught.value.error_dict["starts_at"][0].message)


def test_removing_a_closure_opens_the_time_again(resource, book, monday, partner_admin):
    shut = services.exception_add(
        actor=partner_admin,
        resource=resource,
        kind="closed",
        starts_at=at(monday, 10),
        ends_at=at(monday, 22),
        reason="包场",
    )
    with pytest.raises(ValidationError):
        book(at(monday, 10))
    services.exception_remove(actor=partner_admin, exception=shut)
    assert book(at(monday, 10)).status == "requested"


def test_a_request_given_in_utc_is_checked_in_local_hours(book, monday):
    start = at(monday, 20).astimezone(UTC)  # 12:00 UTC
    assert book(start, start + dt.timedelta(hours=2)).ends_at == at(monday, 22)
    late = at(monday, 21).astimezone(UTC)
    with pytest.raises(ValidationError) as caught:
        book(late, late + dt.timedelta(hours=2))
    refused(caught.value, "starts_at", "outside_hours")


def test_a_naive_time_is_read_as_shanghai_time(book, monday):
    naive = dt.datetime.combine(monday, dt.time(20))
    booking = book(naive, naive + dt.timedelta(hours=2))
    assert booking.starts_at == at(monday, 20)
    assert booking.starts_at.astimezone(TZ).hour == 20


def test_a_round_the_clock_resource_is_booked_across_days(make_resource, book, monday, approve):
    kiosk = make_resource(
        kind="equipment",
        name_zh="自助终端",
        quantity="2",
        unit="items",
        max_booking_minutes=3 * 24 * 60,
        windows=[(day, MIDNIGHT, MIDNIGHT) for day in range(7)],
    )
    wednesday = monday + dt.timedelta(days=2)
    booking = approve(book(at(monday, 20), at(wednesday, 8), resource=kiosk))
    assert booking.status == "approved"
    week = queries.week(kiosk, monday, user=booking.requested_by)
    shown = [[b.pk for b in day.bookings] for day in week.days]
    assert shown == [[booking.pk], [booking.pk], [booking.pk], [], [], [], []]
    assert week.days[0].windows == [(at(monday, 0), at(monday + dt.timedelta(days=1), 0))]


def test_a_booking_across_a_night_the_resource_is_closed_is_refused(make_resource, book, monday):
    long_days = make_resource(max_booking_minutes=24 * 60)
    tuesday = monday + dt.timedelta(days=1)
    with pytest.raises(ValidationError) as caught:
        book(at(monday, 20), at(tuesday, 11), resource=long_days)
    refused(caught.value, "starts_at", "outside_hours")


# Opening rules through their service ---------------------------------------------------------
def test_opening_rules_are_replaced_as_a_whole(resource, partner_admin):
    services.resource_set_opening_rules(
        actor=partner_admin, resource=resource, windows=[(5, "09:00", "00:00")]
    )
    rules = list(resource.opening_rules.all())
    assert [(r.weekday, r.opens, r.closes) for r in rules] == [(5, dt.time(9), MIDNIGHT)]


def test_overlapping_windows_on_one_day_are_refused(resource, partner_admin):
    with pytest.raises(ValidationError) as caught:
        services.resource_set_opening_rules(
            actor=partner_admin,
            resource=resource,
            windows=[(0, dt.time(9), dt.time(12)), (0, dt.time(11), dt.time(14))],
        )
    refused(caught.value, "opens", "overlap")
    assert resource.opening_rules.count() == len(ALL_WEEK)


@pytest.mark.parametrize(
    ("window", "field", "code"),
    [
        ((7, "09:00", "12:00"), "weekday", "invalid"),
        ((-1, "09:00", "12:00"), "weekday", "invalid"),
        ((0, "12:00", "09:00"), "closes", "invalid"),
        ((0, "12:00", "12:00"), "closes", "invalid"),
        ((0, "noon", "13:00"), "opens", "invalid"),
    ],
)
def test_a_bad_window_is_refused_naming_its_field(resource, partner_admin, window, field, code):
    with pytest.raises(ValidationError) as caught:
        services.resource_set_opening_rules(
            actor=partner_admin, resource=resource, windows=[window]
        )
    refused(caught.value, field, code)
    assert resource.opening_rules.count() == len(ALL_WEEK)


def test_a_closure_ending_before_it_starts_is_refused(resource, partner_admin, monday):
    with pytest.raises(ValidationError) as caught:
        services.exception_add(
            actor=partner_admin,
            resource=resource,
            kind="closed",
            starts_at=at(monday, 12),
            ends_at=at(monday, 11),
        )
    refused(caught.value, "ends_at", "invalid")
    with pytest.raises(ValidationError) as caught:
        services.exception_add(
            actor=partner_admin,
            resource=resource,
            kind="holiday",
            starts_at=at(monday, 12),
            ends_at=at(monday, 13),
        )
    refused(caught.value, "kind", "invalid_choice")
    assert not resource.exceptions.exists()
