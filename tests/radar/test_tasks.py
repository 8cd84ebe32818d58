"""The nightly ``radar.compute`` task: the current month, and in the first three days of a
month the month that just ended first (its late visits, ratings and texts); a month given
explicitly; and the figures it returns."""

from __future__ import annotations

import datetime as dt
import types

import pytest

from governance.radar import compute, tasks
from governance.radar.models import HeatCell, Run, Theme
from tests.radar.helpers_tasks import THEME, done, month_of_rows

pytestmark = pytest.mark.django_db

NOVEMBER = dt.date(2026, 11, 1)
OCTOBER = dt.date(2026, 10, 1)


@pytest.fixture
def today(monkeypatch):
    """Set the task's "today" (Asia/Shanghai), and the computation's (the last day passed)."""

    def set_today(day: dt.date) -> None:
        clock = types.SimpleNamespace(localdate=lambda timezone=None: day)
        monkeypatch.setattr(tasks, "timezone", clock)
        monkeypatch.setattr(compute, "today", lambda: day)

    return set_today


@pytest.fixture
def history():
    # The months before October, computed already: the task recomputes only what it must.
    done(dt.date(2026, 7, 1), dt.date(2026, 8, 1), dt.date(2026, 9, 1))


def test_mid_month_the_task_computes_the_current_month(today, history, department):
    month_of_rows(NOVEMBER, department)
    done(OCTOBER)
    october = Run.objects.get(month=OCTOBER)
    today(dt.date(2026, 11, 15))

    result = tasks.compute_task.apply().get()

    assert result["months"] == ["2026-11-01"]
    assert result["texts"] == 4
    assert result["seconds"] >= 0
    run = Run.objects.get(month=NOVEMBER)
    assert run.status == Run.Status.DONE
    assert run.visits == 3
    assert run.texts == 4
    # October was left as it was.
    assert Run.objects.get(month=OCTOBER).started_at == october.started_at
    # Computed on the 15th: the averages are over the days passed, Saturdays 7 and 14.
    assert run.through == dt.date(2026, 11, 15)
    (cell,) = HeatCell.objects.filter(month=NOVEMBER)
    assert (cell.weekday, cell.hour, cell.visits, cell.days) == (5, 14, 3, 2)
    assert cell.queue_minutes == pytest.approx(3 * 12)
    assert cell.queue == pytest.approx(36 / (60 * 2))
    assert Theme.objects.filter(month=NOVEMBER, station=None, term=THEME).exists()


@pytest.mark.parametrize("day", [1, 2, 3])
def test_in_the_first_three_days_the_month_just_ended_is_computed_first(
    today, history, department, day
):
    month_of_rows(OCTOBER, department, visits=5)
    today(dt.date(2026, 11, day))

    result = tasks.compute_task.apply().get()

    assert result["months"] == ["2026-10-01", "2026-11-01"]
    assert result["texts"] == 4  # October's; November has none yet
    october = Run.objects.get(month=OCTOBER)
    assert (october.status, october.visits, october.texts) == (Run.Status.DONE, 5, 4)
    assert october.through == dt.date(2026, 10, 31)  # the month just ended, whole
    november = Run.objects.get(month=NOVEMBER)
    assert november.status == Run.Status.DONE
    assert november.through == dt.date(2026, 11, day)


def test_from_the_fourth_the_month_just_ended_is_left_alone(today, history, department):
    month_of_rows(OCTOBER, department)
    done(OCTOBER)
    today(dt.date(2026, 11, 4))
    result = tasks.compute_task.apply().get()
    assert result["months"] == ["2026-11-01"]
    assert Run.objects.get(month=OCTOBER).texts == 0  # never recomputed with its cases


def test_a_month_given_explicitly_is_computed_with_the_history_it_lacks(department):
    month_of_rows(OCTOBER, department)
    result = tasks.compute_task.apply(kwargs={"month": "2026-10-01"}).get()
    # The three months before were never computed: they come first.
    assert result["months"] == ["2026-07-01", "2026-08-01", "2026-09-01", "2026-10-01"]
    assert result["texts"] == 4
    assert set(Run.objects.values_list("status", flat=True)) == {Run.Status.DONE}


def test_the_task_is_safe_to_run_twice(today, history, department):
    month_of_rows(NOVEMBER, department)
    done(OCTOBER)
    today(dt.date(2026, 11, 15))
    first = tasks.compute_task.apply().get()
    second = tasks.compute_task.apply().get()
    assert first["texts"] == second["texts"] == 4
    # The month's rows are replaced, not added to.
    assert HeatCell.objects.filter(month=NOVEMBER).count() == 1
    assert Theme.objects.filter(month=NOVEMBER, station=None, term=THEME).count() == 1
    assert Run.objects.filter(month=NOVEMBER).count() == 1


def test_a_long_computation_is_neither_cut_short_nor_handed_out_twice(settings):
    # The default hard limit (CELERY_TASK_TIME_LIMIT) would kill a month of a million texts;
    # the task's own limits stay under the broker's visibility timeout.
    task = tasks.compute_task
    assert task.soft_time_limit < task.time_limit
    assert task.time_limit > settings.CELERY_TASK_TIME_LIMIT
    assert task.time_limit < 3600  # the Redis visibility timeout of governance/settings.py
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
    if "visibility_timeout" in options:
        assert task.time_limit < options["visibility_timeout"]
