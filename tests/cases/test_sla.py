"""SLA clocks over the real Chinese calendar: National Day 2026 and its 调休 working days, the
lunch break, the policies' precedence, and a year the calendar package does not know."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from governance.cases import sla
from governance.cases.models import Priority
from tests.cases.conftest import TZ, at
from tests.cases.factories import SlaPolicyFactory


def test_calendar_package_knows_2026_holidays_and_working_weekends():
    assert sla.is_working_day(dt.date(2026, 10, 1)) == (False, False)  # National Day, Thursday
    assert sla.is_working_day(dt.date(2026, 10, 10)) == (True, False)  # Saturday made a work day
    assert sla.is_working_day(dt.date(2026, 9, 20)) == (True, False)  # Sunday made a work day
    assert sla.is_working_day(dt.date(2026, 10, 11)) == (False, False)  # an ordinary Sunday


def test_resolution_days_skip_national_day_and_count_its_working_saturday():
    # Opened Wednesday 30 September 2026. 1–7 October are off; 8 (Thu), 9 (Fri), 10 (Sat,
    # 调休), 12 (Mon) and 13 (Tue) October are the five working days.
    due = sla.add_working_days(at(2026, 9, 30, 10), 5)
    assert due == sla.Due(at=dt.datetime(2026, 10, 13, 17, 30, tzinfo=TZ), estimated=False)


def test_acknowledgement_hours_run_over_the_holiday_to_the_next_working_morning():
    # One hour left on 30 September (16:30–17:30), three more on 8 October (09:00–12:00).
    due = sla.add_working_hours(at(2026, 9, 30, 16, 30), 4)
    assert due.at == dt.datetime(2026, 10, 8, 12, 0, tzinfo=TZ)


def test_acknowledgement_hours_count_a_sunday_made_working_day():
    # Saturday 19 September 2026 is off; Sunday 20 September is worked (调休 for National Day).
    due = sla.add_working_hours(at(2026, 9, 19, 10), 2)
    assert due.at == dt.datetime(2026, 9, 20, 11, 0, tzinfo=TZ)


def test_lunch_break_does_not_count():
    due = sla.add_working_hours(at(2026, 11, 23, 11), 2)  # Monday
    assert due.at == dt.datetime(2026, 11, 23, 14, 30, tzinfo=TZ)


def test_a_case_opened_in_the_evening_starts_counting_next_working_morning():
    due = sla.add_working_hours(at(2026, 11, 27, 20), 1)  # Friday evening
    assert due.at == dt.datetime(2026, 11, 30, 10, 0, tzinfo=TZ)


def test_working_hours_are_a_setting(settings):
    settings.CASES_WORKING_HOURS = [("09:00", "17:00")]
    assert sla.add_working_hours(at(2026, 11, 23, 16), 2).at == at(2026, 11, 24, 10)
    assert sla.add_working_days(at(2026, 11, 23, 9), 1).at == at(2026, 11, 24, 17)


def test_overlapping_working_hours_are_refused(settings):
    settings.CASES_WORKING_HOURS = [("09:00", "12:00"), ("11:00", "17:00")]
    with pytest.raises(ValueError, match="overlap"):
        sla.working_periods()


def test_utc_input_is_counted_in_shanghai_time():
    opened = dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai
    assert sla.add_working_hours(opened, 1).at == at(2026, 11, 23, 10)


def test_unknown_year_falls_back_to_weekdays_with_a_warning(caplog, monkeypatch):
    monkeypatch.setattr(sla, "_warned_years", set())
    with caplog.at_level(logging.WARNING, logger="governance.cases.sla"):
        due = sla.add_working_days(at(2027, 3, 5, 10), 1)  # Friday → Monday
    assert due == sla.Due(at=dt.datetime(2027, 3, 8, 17, 30, tzinfo=TZ), estimated=True)
    assert "no schedule for 2027" in caplog.text


def test_unknown_year_fails_loudly_when_configured(settings):
    settings.CASES_SLA_UNKNOWN_YEAR = "error"
    with pytest.raises(sla.CalendarNotCovered, match="2027"):
        sla.add_working_days(at(2026, 12, 30, 10), 5)


def test_a_deadline_crossing_into_an_unknown_year_is_marked_estimated():
    assert sla.add_working_days(at(2026, 12, 29, 10), 5).estimated is True
    assert sla.add_working_days(at(2026, 12, 1, 10), 5).estimated is False


@pytest.mark.django_db
def test_most_specific_policy_wins(service, facility):
    SlaPolicyFactory(acknowledge_hours=20, resolve_days=20)
    SlaPolicyFactory(priority=Priority.URGENT, acknowledge_hours=10, resolve_days=10)
    by_category = SlaPolicyFactory(category=facility, acknowledge_hours=6, resolve_days=6)
    by_service = SlaPolicyFactory(service=service, acknowledge_hours=4, resolve_days=4)
    urgent_service = SlaPolicyFactory(
        service=service, priority=Priority.URGENT, acknowledge_hours=1, resolve_days=1
    )

    def policy(**kwargs):
        kwargs.setdefault("service_id", None)
        kwargs.setdefault("category_id", None)
        return sla.policy_for(**kwargs)

    assert policy(service_id=service.pk, priority=Priority.URGENT) == urgent_service
    assert policy(service_id=service.pk, priority=Priority.LOW) == by_service
    assert policy(category_id=facility.pk, priority=Priority.LOW) == by_category
    assert policy(category_id=facility.pk, priority=Priority.URGENT) == by_category
    assert policy(priority=Priority.URGENT).acknowledge_hours == 10
    assert policy(priority=Priority.NORMAL).acknowledge_hours == 20


@pytest.mark.django_db
def test_without_any_policy_the_built_in_clock_applies():
    clock = sla.clock_for(
        opened_at=at(2026, 11, 23, 9), service_id=None, category_id=None, priority="normal"
    )
    assert clock.policy_id is None
    assert (clock.acknowledge_hours, clock.resolve_days) == sla.BUILT_IN["normal"]
    # Seven working hours on Monday, the eighth on Tuesday morning.
    assert clock.acknowledge_due_at == at(2026, 11, 24, 10)


@pytest.mark.django_db
def test_opened_case_carries_its_due_times_and_expected_datetime(open_case, service):
    policy = SlaPolicyFactory(service=service, acknowledge_hours=4, resolve_days=5)
    case = open_case(opened_at=at(2026, 9, 30, 16, 30))
    assert case.sla_policy == policy
    assert case.acknowledge_due_at == dt.datetime(2026, 10, 8, 12, 0, tzinfo=TZ)
    assert case.resolve_due_at == dt.datetime(2026, 10, 13, 17, 30, tzinfo=TZ)
    assert case.expected_datetime == case.resolve_due_at
    assert case.due_estimated is False
