"""The SLA sweep: a due-soon reminder to the assignee and an overdue escalation to the
department admins, each once per case and deadline, whatever the number of sweeps."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template.loader import get_template
from django.utils import translation

from governance.cases import services, tasks
from governance.cases.models import SlaNotice, Status
from governance.notifications import registry
from governance.notifications.channels import render_text
from governance.notifications.models import Notification
from tests.cases.conftest import at

pytestmark = pytest.mark.django_db

CASE_TYPES = (
    "cases.opened",
    "cases.routed",
    "cases.assigned",
    "cases.status_changed",
    "cases.replied",
    "cases.cohandler_added",
    "cases.due_soon",
    "cases.overdue",
)


def sent(event_type):
    return list(Notification.objects.filter(event_type=event_type).order_by("recipient_id"))


def test_due_soon_reminder_goes_to_the_assignee_once(open_case, department_admin, department_staff):
    # Opened Monday 23 November 09:00: acknowledge by Tuesday 10:00.
    case = open_case(opened_at=at(2026, 11, 23, 9))
    services.case_assign(actor=department_admin, case=case, assignee=department_staff)
    tasks.cases_sla_sweep(now=at(2026, 11, 24, 8, 30))
    tasks.cases_sla_sweep(now=at(2026, 11, 24, 8, 35))
    reminders = sent("cases.due_soon")
    assert [n.recipient for n in reminders] == [department_staff]
    assert reminders[0].payload["deadline"] == "acknowledge"
    assert reminders[0].payload["due_at"].startswith("2026-11-24T10:00:00+08:00")
    assert SlaNotice.objects.filter(case=case).count() == 1


def test_overdue_escalates_to_the_department_admins_once(
    open_case, department_admin, department_staff
):
    case = open_case(opened_at=at(2026, 11, 23, 9))
    for minute in (0, 5, 10):
        tasks.cases_sla_sweep(now=at(2026, 11, 24, 11, minute))
    escalations = sent("cases.overdue")
    assert [n.recipient for n in escalations] == [department_admin]
    assert escalations[0].payload["reference"] == case.reference
    # The deadline had passed when the sweep first looked: no "due soon" after the fact.
    assert sent("cases.due_soon") == []


def test_without_an_assignee_the_reminder_goes_to_the_departments_acting_staff(
    open_case, department_admin, department_staff, department_viewer
):
    open_case(opened_at=at(2026, 11, 23, 9))
    tasks.cases_sla_sweep(now=at(2026, 11, 24, 9))
    tasks.cases_sla_sweep(now=at(2026, 11, 24, 9, 5))
    assert [n.recipient for n in sent("cases.due_soon")] == [department_admin, department_staff]


def test_acknowledged_case_is_not_reminded_about_acknowledgement(open_case, department_staff):
    case = open_case(opened_at=at(2026, 11, 23, 9))
    services.case_transition(
        actor=department_staff, case=case, to=Status.ACKNOWLEDGED, at=at(2026, 11, 23, 9, 30)
    )
    tasks.cases_sla_sweep(now=at(2026, 11, 24, 11))
    assert not SlaNotice.objects.filter(kind__startswith="ack").exists()


def test_a_moved_deadline_earns_a_new_reminder(open_case, department_staff):
    case = open_case(opened_at=at(2026, 11, 23, 9))
    services.case_transition(
        actor=department_staff, case=case, to=Status.ACKNOWLEDGED, at=at(2026, 11, 23, 9, 30)
    )
    tasks.cases_sla_sweep(now=case.resolve_due_at - dt.timedelta(hours=1))
    assert SlaNotice.objects.filter(kind="resolve_due_soon").count() == 1
    services.case_set_due(
        actor=department_staff,
        case=case,
        due_at=case.resolve_due_at + dt.timedelta(days=3),
        reason="等待外单位复函",
    )
    case.refresh_from_db()
    tasks.cases_sla_sweep(now=case.resolve_due_at - dt.timedelta(hours=1))
    tasks.cases_sla_sweep(now=case.resolve_due_at - dt.timedelta(minutes=30))
    assert SlaNotice.objects.filter(kind="resolve_due_soon").count() == 2


def test_overdue_case_in_triage_escalates_to_the_triage_admins(
    open_case, lost_item, triager, triage_admin
):
    open_case(service=None, category=lost_item, opened_at=at(2026, 11, 23, 9))
    tasks.cases_sla_sweep(now=at(2026, 11, 24, 11))
    assert [n.recipient for n in sent("cases.overdue")] == [triage_admin]


def test_due_soon_reminder_for_a_case_in_triage_reaches_the_triage_desk(
    open_case, lost_item, triager, triage_admin
):
    open_case(service=None, category=lost_item, opened_at=at(2026, 11, 23, 9))
    tasks.cases_sla_sweep(now=at(2026, 11, 24, 9))
    reminders = sent("cases.due_soon")
    assert {n.recipient for n in reminders} == {triager, triage_admin}
    assert (
        reminders[0].payload["triage_organisation_id"] == triager.memberships.get().organisation_id
    )


def test_notice_is_not_sent_for_a_case_that_changed_after_the_sweep_read_it(
    open_case, department_staff
):
    case = open_case(opened_at=at(2026, 11, 23, 9))
    now = at(2026, 11, 24, 9)
    plan = next(step for step in tasks.PLAN if step[0] == SlaNotice.Kind.ACKNOWLEDGE_DUE_SOON)
    stale_due = case.acknowledge_due_at
    # Between the sweep's read and its notice, someone acknowledges the case ...
    services.case_transition(actor=department_staff, case=case, to=Status.ACKNOWLEDGED, at=now)
    assert tasks._notify(case.pk, plan, stale_due, now, None) is False
    # ... or moves the deadline.
    other = open_case(opened_at=at(2026, 11, 23, 9))
    services.case_set_due(
        actor=department_staff,
        case=other,
        due_at=other.acknowledge_due_at + dt.timedelta(days=2),
        reason="等待材料",
        deadline="acknowledge",
    )
    assert tasks._notify(other.pk, plan, stale_due, now, None) is False
    assert not SlaNotice.objects.exists()
    assert sent("cases.due_soon") == []


def test_the_beat_task_runs_the_sweep(open_case):
    open_case(opened_at=at(2026, 1, 5, 9))  # long overdue by now
    result = tasks.sla_sweep.apply().get()
    assert result["ack_overdue"] == 1
    assert result["resolve_overdue"] == 1
    assert tasks.sla_sweep.apply().get()["ack_overdue"] == 0


@pytest.mark.parametrize("code", CASE_TYPES)
@pytest.mark.parametrize("name", ["subject.txt", "body.txt", "body.html", "line.txt"])
def test_every_case_event_type_has_templates_that_render(code, name):
    event_type = registry.get(code)
    template = f"{event_type.template_dir}/{name}"
    assert get_template(template)
    payload = {"reference": "CH-2026-000123", "title": "Broken lift", "task": "Check lift"}
    payload |= {"due_at": "2026-10-13T17:30:00+08:00", "deadline": "resolve"}
    payload |= {"old_status": "new", "new_status": "rejected", "reason": "Spam", "body": "Done"}
    with translation.override("zh-hans"):
        chinese = render_text(template, payload)
    with translation.override("en"):
        english = render_text(template, payload)
    assert "CH-2026-000123" in chinese
    assert english.strip()
