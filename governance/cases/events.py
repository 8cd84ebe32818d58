"""Events the cases app publishes (see governance.notifications).

Every event carries the case's reference and title, so the templates render without a query;
none carries a reporter's contact details (notifications are read by people who may not see
them).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class CaseOpened:
    """A new case reached its responsible organisation, or the triage queue."""

    case_id: int
    reference: str
    title: str
    responsible_id: int | None
    triage_organisation_id: int | None
    priority: str
    acknowledge_due_at: dt.datetime | None


@dataclass(frozen=True)
class CaseRouted:
    """A case was handed to another responsible organisation (out of the triage queue, or
    passed on): news for the organisation that receives it, not a new case."""

    case_id: int
    reference: str
    title: str
    responsible_id: int
    previous_responsible_id: int | None
    priority: str
    acknowledge_due_at: dt.datetime | None


@dataclass(frozen=True)
class CaseAssigned:
    """Someone was made the case's assignee (or a co-handler's assignee)."""

    case_id: int
    reference: str
    title: str
    assignee_id: int
    resolve_due_at: dt.datetime | None


@dataclass(frozen=True)
class CaseStatusChanged:
    """The case moved on; its followers hear about it."""

    case_id: int
    reference: str
    title: str
    old_status: str
    new_status: str
    # The public reason (rejection) or the reference of the case it duplicates.
    reason: str
    duplicate_of_reference: str


@dataclass(frozen=True)
class CaseReplied:
    """A public reply was posted on the case."""

    case_id: int
    reference: str
    title: str
    body: str


@dataclass(frozen=True)
class CaseCoHandlerAdded:
    """An organisation was asked to co-handle the case with a task of its own."""

    case_id: int
    reference: str
    title: str
    organisation_id: int
    task: str
    due_at: dt.datetime | None


@dataclass(frozen=True)
class CaseDueSoon:
    """A deadline is near and the case is not there yet: a reminder to whoever handles it."""

    case_id: int
    reference: str
    title: str
    deadline: str  # "acknowledge" | "resolve"
    due_at: dt.datetime
    assignee_id: int | None
    responsible_id: int | None
    # While the case waits in the triage queue, the triage desk is who handles it.
    triage_organisation_id: int | None = None


@dataclass(frozen=True)
class CaseOverdue:
    """A deadline passed: an escalation to the responsible organisation's admins."""

    case_id: int
    reference: str
    title: str
    deadline: str  # "acknowledge" | "resolve"
    due_at: dt.datetime
    responsible_id: int | None
    triage_organisation_id: int | None
