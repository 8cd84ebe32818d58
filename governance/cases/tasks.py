"""The SLA sweep: due-soon reminders and overdue escalations, each sent once per deadline.

Celery beat runs :func:`sweep` every five minutes. For each kind of notice it reads the cases
whose deadline is near (or past) and that have no :class:`~governance.cases.models.SlaNotice`
of that kind for that deadline yet, then per case re-reads the case under a row lock, checks it
still qualifies (its status, its due time), inserts the notice and publishes the event in one
transaction. The unique notice is the once-only rule: a second sweep, or a concurrent one that
lost the race, inserts nothing and tells no one. A moved deadline is a new deadline.

- acknowledge due soon: still new, deadline within ``CASES_ACKNOWLEDGE_DUE_SOON`` (2 hours);
  to the assignee, or the responsible organisation's acting staff when nobody is assigned.
- resolve due soon: still open, deadline within ``CASES_RESOLVE_DUE_SOON`` (24 hours); same.
- overdue (either deadline): to the responsible organisation's admins (the triage
  organisation's while the case waits in the queue).
"""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from governance.cases.events import CaseDueSoon, CaseOverdue
from governance.cases.models import OPEN_STATUSES, UNACKNOWLEDGED_STATUSES, Case, SlaNotice
from governance.cases.services import triage_organisation
from governance.kpis.registry import TZ
from governance.notifications.services import publish

RELIABLE = {"ignore_result": True, "acks_late": True, "reject_on_worker_lost": True}
# Notices per kind per sweep: a backlog after an outage drains over a few sweeps.
BATCH = 500
Kind = SlaNotice.Kind


def _windows() -> dict[str, dt.timedelta]:
    return {
        "acknowledge": getattr(settings, "CASES_ACKNOWLEDGE_DUE_SOON", dt.timedelta(hours=2)),
        "resolve": getattr(settings, "CASES_RESOLVE_DUE_SOON", dt.timedelta(hours=24)),
    }


# kind → (deadline, due-time column, statuses in which the deadline still matters, overdue?)
PLAN = (
    (Kind.ACKNOWLEDGE_OVERDUE, "acknowledge", "acknowledge_due_at", UNACKNOWLEDGED_STATUSES, True),
    (Kind.RESOLVE_OVERDUE, "resolve", "resolve_due_at", OPEN_STATUSES, True),
    (
        Kind.ACKNOWLEDGE_DUE_SOON,
        "acknowledge",
        "acknowledge_due_at",
        UNACKNOWLEDGED_STATUSES,
        False,
    ),
    (Kind.RESOLVE_DUE_SOON, "resolve", "resolve_due_at", OPEN_STATUSES, False),
)


def cases_sla_sweep(*, now: dt.datetime) -> dict:
    """Send every reminder and escalation that is due at ``now`` and not sent yet."""
    windows = _windows()
    triage = triage_organisation()
    sent: dict[str, int] = {}
    for plan in PLAN:
        kind, deadline, column, statuses, overdue = plan
        window = Q(**{f"{column}__lte": now})
        if not overdue:
            window = Q(**{f"{column}__gt": now, f"{column}__lte": now + windows[deadline]})
        candidates = (
            Case.objects.filter(window, status__in=statuses)
            .filter(
                ~Exists(
                    SlaNotice.objects.filter(
                        case=OuterRef("pk"), kind=kind, due_at=OuterRef(column)
                    )
                )
            )
            .order_by(column, "pk")
            .values_list("pk", column)[:BATCH]
        )
        count = 0
        for case_id, due_at in candidates:
            if _notify(case_id, plan, due_at, now, triage):
                count += 1
        sent[kind] = count
    return sent


def _still_due(case: Case, column: str, due_at, statuses, overdue: bool, now) -> bool:
    """Whether the locked case still earns the notice read from the candidates: someone may
    have acknowledged, resolved or moved the deadline since the sweep's read."""
    if case.status not in statuses or getattr(case, column) != due_at:
        return False
    return due_at <= now if overdue else due_at > now


@transaction.atomic
def _notify(case_id: int, plan: tuple, due_at, now, triage) -> bool:
    """Insert the notice and publish its event; ``False`` when it was already sent, or when
    the case no longer qualifies once locked."""
    kind, deadline, column, statuses, overdue = plan
    case = (
        Case.objects.select_for_update()
        .only("pk", "reference", "title", "status", "assignee_id", "responsible_id", column)
        .filter(pk=case_id)
        .first()
    )
    if case is None or not _still_due(case, column, due_at, statuses, overdue, now):
        return False
    try:
        with transaction.atomic():
            SlaNotice.objects.create(case_id=case.pk, kind=kind, due_at=due_at)
    except IntegrityError:
        return False
    triage_id = triage.pk if triage and case.responsible_id is None else None
    if overdue:
        event = CaseOverdue(
            case_id=case.pk,
            reference=case.reference,
            title=case.title,
            deadline=deadline,
            due_at=due_at.astimezone(TZ),
            responsible_id=case.responsible_id,
            triage_organisation_id=triage_id,
        )
    else:
        event = CaseDueSoon(
            case_id=case.pk,
            reference=case.reference,
            title=case.title,
            deadline=deadline,
            due_at=due_at.astimezone(TZ),
            assignee_id=case.assignee_id,
            responsible_id=case.responsible_id,
            triage_organisation_id=triage_id,
        )
    publish(event)
    return True


@shared_task(name="cases.sla_sweep", **RELIABLE)
def sla_sweep() -> dict:
    """Due-soon reminders to the assignee, overdue escalations to the department admins."""
    return cases_sla_sweep(now=timezone.now())
