"""The radar's tasks in a real ``celery worker`` process: ``radar.compute`` reads the month's
visits and texts and stores its results, and ``radar.weekly_summaries`` then tells the
department's admins from those results, once however often it runs.

Real parts: the PostgreSQL test database, a ``redis-server`` of the tests' own as the broker
(emptied first, so the worker consumes only what these tests publish), and a worker subprocess.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from governance.notifications.models import Notification
from governance.radar import tasks
from governance.radar.models import HeatCell, Run, Theme, ThemeItem
from tests.integration.conftest import (
    wait_for,
)
from tests.radar.helpers_tasks import CASE_TEXTS, THEME, month_of_rows

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

OCTOBER = dt.date(2026, 10, 1)


def succeeded(log: Path, task: str) -> list[str]:
    """The worker's log lines of ``task`` runs that succeeded, with what they returned."""
    return [
        line
        for line in log.read_text(errors="replace").splitlines()
        if f"Task {task}[" in line and " succeeded in " in line
    ]


def test_the_worker_computes_a_month_and_stores_its_results(worker, department):
    rows = month_of_rows(OCTOBER, department, visits=3)
    tasks.compute_task.delay(OCTOBER.isoformat())

    assert wait_for(lambda: succeeded(worker, "radar.compute"), timeout=180), worker.read_text()[
        -3000:
    ]
    # What the task returned, as the worker logged it.
    (line,) = succeeded(worker, "radar.compute")
    assert "'months': ['2026-07-01', '2026-08-01', '2026-09-01', '2026-10-01']" in line
    assert f"'texts': {len(CASE_TEXTS)}" in line
    run = Run.objects.get(month=OCTOBER)
    assert run.status == Run.Status.DONE
    assert (run.visits, run.texts, run.error) == (3, len(CASE_TEXTS), "")
    assert run.finished_at is not None
    assert run.done_at is not None
    assert run.through == dt.date(2026, 10, 31)  # October had passed: every day counts
    # The visits of Wednesday 7 October at 14:00, Asia/Shanghai.
    (cell,) = HeatCell.objects.filter(month=OCTOBER)
    assert (cell.station_id, cell.service_id, cell.hour, cell.visits) == (
        rows["station"].pk,
        rows["service"].pk,
        14,
        3,
    )
    assert cell.weekday == dt.date(2026, 10, 7).weekday()
    # Three 12-minute waits within the hour, over October's four Wednesdays.
    assert (cell.queue_minutes, cell.days) == (36, 4)
    theme = Theme.objects.get(month=OCTOBER, station=None, term=THEME)
    assert theme.count == len(CASE_TEXTS)
    assert ThemeItem.objects.filter(theme=theme, source="cases").count() == len(CASE_TEXTS)


def test_the_worker_sends_the_weekly_summaries_once(worker, department, department_admin):
    month_of_rows(OCTOBER, department)
    tasks.compute_task.delay(OCTOBER.isoformat())
    assert wait_for(lambda: succeeded(worker, "radar.compute"), timeout=180), worker.read_text()[
        -3000:
    ]
    monday = dt.date(2026, 10, 26)  # the past week is October's
    # Beat firing twice (or a retry): the second run finds the week's summary there.
    tasks.weekly_summaries_task.delay(monday.isoformat())
    tasks.weekly_summaries_task.delay(monday.isoformat())

    def twice():
        return len(succeeded(worker, "radar.weekly_summaries")) >= 2

    assert wait_for(twice, timeout=60), worker.read_text()[-3000:]
    first, again = succeeded(worker, "radar.weekly_summaries")
    assert "'sent': 1, 'already': 0" in first
    assert "'sent': 0, 'already': 1" in again
    (told,) = Notification.objects.filter(event_type="radar.weekly_summary")
    assert told.recipient_id == department_admin.pk
    assert told.payload["themes"][0][0] == THEME
    assert told.payload["peak_hour"] == 14
