"""The proposals app's Celery task, run in-process: ``proposals.answers_sweep`` (every five
minutes from beat) tells the answering department of official answers due soon and overdue,
once each, and nobody about proposals already answered or withdrawn."""

from __future__ import annotations

import datetime as dt

import pytest

from governance.celery import app
from governance.proposals import services, tasks
from tests.proposals.conftest import notifications, notified, shifted

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


@pytest.fixture
def due(department_admin, department_staff, proposal, support, settings):
    """The citizen's proposal past the threshold a moment ago: hukou owes an answer within
    30 days."""
    settings.PROPOSALS_SUPPORT_THRESHOLD = 1
    settings.PROPOSALS_ANSWER_DAYS = 30
    settings.PROPOSALS_DUE_SOON_DAYS = 5
    support(proposal, 1)
    proposal.refresh_from_db()
    return proposal


def test_the_task_is_registered_idempotent_and_scheduled():
    task = app.tasks["proposals.answers_sweep"]
    assert task.acks_late is True
    entries = [
        entry
        for entry in app.conf.beat_schedule.values()
        if entry["task"] == "proposals.answers_sweep"
    ]
    assert len(entries) == 1
    assert entries[0]["schedule"] == 300.0


def test_nothing_is_due_before_the_reminder_window(due):
    with shifted(20 * DAY):
        assert tasks.answers_sweep() == {"due_soon": 0, "overdue": 0}
    assert notifications("answer_due_soon") == 0


def test_due_soon_then_overdue_once_each(due, department_admin, department_staff):
    with shifted(26 * DAY):
        assert tasks.answers_sweep() == {"due_soon": 1, "overdue": 0}
    with shifted(27 * DAY):
        assert tasks.answers_sweep() == {"due_soon": 0, "overdue": 0}
    with shifted(31 * DAY):
        assert tasks.answers_sweep() == {"due_soon": 0, "overdue": 1}
    with shifted(40 * DAY):
        assert tasks.answers_sweep() == {"due_soon": 0, "overdue": 0}
    assert notified("answer_due_soon", due) == {department_admin.pk, department_staff.pk}
    assert notified("answer_overdue", due) == {department_admin.pk}
    due.refresh_from_db()
    assert due.due_soon_told_at is not None
    assert due.overdue_told_at is not None


def test_a_proposal_first_seen_late_is_only_overdue(due):
    with shifted(31 * DAY):
        assert tasks.answers_sweep() == {"due_soon": 0, "overdue": 1}
    assert notifications("answer_due_soon") == 0


def test_the_reminder_window_is_a_setting(due, settings):
    settings.PROPOSALS_DUE_SOON_DAYS = 12
    with shifted(20 * DAY):
        assert tasks.answers_sweep() == {"due_soon": 1, "overdue": 0}


@pytest.mark.parametrize("state", ["evaluating", "rejected", "accepted"])
def test_an_answered_proposal_is_not_reminded(due, answer, state):
    answer(due, state, text="答复")
    with shifted(26 * DAY):
        assert tasks.answers_sweep() == {"due_soon": 0, "overdue": 0}
    with shifted(31 * DAY):
        assert tasks.answers_sweep() == {"due_soon": 0, "overdue": 0}


def test_a_withdrawn_proposal_is_not_reminded(due, citizen):
    services.proposal_withdraw(actor=citizen, proposal=due)
    with shifted(31 * DAY):
        assert tasks.answers_sweep() == {"due_soon": 0, "overdue": 0}


def test_a_proposal_below_the_threshold_owes_nothing(proposal, department_staff):
    with shifted(100 * DAY):
        assert tasks.answers_sweep() == {"due_soon": 0, "overdue": 0}


def test_the_sweep_works_in_batches(propose, support, settings, department_staff):
    settings.PROPOSALS_SUPPORT_THRESHOLD = 1
    for _ in range(3):
        support(propose(), 1)
    with shifted(31 * DAY):
        assert services.answers_sweep(limit=2) == {"due_soon": 0, "overdue": 2}
        assert services.answers_sweep(limit=2) == {"due_soon": 0, "overdue": 1}
        assert services.answers_sweep(limit=2) == {"due_soon": 0, "overdue": 0}


def test_an_explicit_now_is_honoured(due):
    assert services.answers_sweep(now=due.answer_due_at - DAY) == {"due_soon": 1, "overdue": 0}
    assert services.answers_sweep(now=due.answer_due_at) == {"due_soon": 0, "overdue": 1}
