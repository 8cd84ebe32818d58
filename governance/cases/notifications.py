"""The event types this app declares with the notifications registry.

Links point at the case page by its URL name ``cases:detail`` (argument: the reference).
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from governance.cases.events import (
    CaseAssigned,
    CaseCoHandlerAdded,
    CaseDueSoon,
    CaseOpened,
    CaseOverdue,
    CaseReplied,
    CaseRouted,
    CaseStatusChanged,
)
from governance.cases.models import Case
from governance.cases.queries import users_who_may_see
from governance.notifications.registry import Audience, EventType, register
from governance.stakeholders.models import Membership, User
from governance.stakeholders.queries import acting_members
from governance.stakeholders.rules import ACTING_ROLES

# Work that runs on an SLA clock: a digest would come too late.
AT_ONCE = {Audience.DEPARTMENT: "immediate", Audience.PARTNER: "immediate"}


def case_url(event) -> str:
    return reverse("cases:detail", args=[event.reference])


def acting_in(organisation_id: int | None, roles=ACTING_ROLES):
    if organisation_id is None:
        return User.objects.none()
    return acting_members([organisation_id], roles=roles)


def followers(event):
    """The case's followers who may still see it: a private case's news never reaches someone
    who has lost the seat that let them follow it."""
    case = Case.objects.only("is_public", "reporter_id", "responsible_id").get(pk=event.case_id)
    return users_who_may_see(case).filter(case_follows__case_id=event.case_id)


def opened_recipients(event: CaseOpened):
    return acting_in(event.responsible_id or event.triage_organisation_id)


def due_soon_recipients(event: CaseDueSoon):
    if event.assignee_id is not None:
        return User.objects.filter(pk=event.assignee_id)
    return acting_in(event.responsible_id or event.triage_organisation_id)


def overdue_recipients(event: CaseOverdue):
    return acting_in(
        event.responsible_id or event.triage_organisation_id, roles=(Membership.Role.ADMIN,)
    )


def register_event_types() -> None:
    register(
        EventType(
            code="cases.opened",
            event=CaseOpened,
            label=_("新事项待受理"),
            recipients=opened_recipients,
            url=case_url,
            defaults=AT_ONCE,
        )
    )
    register(
        EventType(
            code="cases.routed",
            event=CaseRouted,
            label=_("事项转交我单位"),
            recipients=lambda event: acting_in(event.responsible_id),
            url=case_url,
            defaults=AT_ONCE,
        )
    )
    register(
        EventType(
            code="cases.assigned",
            event=CaseAssigned,
            label=_("事项指派给我"),
            recipients=lambda event: User.objects.filter(pk=event.assignee_id),
            url=case_url,
            defaults=AT_ONCE,
        )
    )
    register(
        EventType(
            code="cases.status_changed",
            event=CaseStatusChanged,
            label=_("关注的事项状态变更"),
            recipients=followers,
            url=case_url,
        )
    )
    register(
        EventType(
            code="cases.replied",
            event=CaseReplied,
            label=_("关注的事项有新答复"),
            recipients=followers,
            url=case_url,
        )
    )
    register(
        EventType(
            code="cases.cohandler_added",
            event=CaseCoHandlerAdded,
            label=_("收到协办任务"),
            recipients=lambda event: acting_in(event.organisation_id),
            url=case_url,
            defaults=AT_ONCE,
        )
    )
    register(
        EventType(
            code="cases.due_soon",
            event=CaseDueSoon,
            label=_("事项即将超时"),
            recipients=due_soon_recipients,
            url=case_url,
            defaults=AT_ONCE,
        )
    )
    register(
        EventType(
            code="cases.overdue",
            event=CaseOverdue,
            label=_("事项已超时"),
            recipients=overdue_recipients,
            url=case_url,
            defaults=AT_ONCE,
            # Escalations are how an overdue case reaches the people who answer for it.
            may_turn_off=frozenset({Audience.CITIZEN}),
        )
    )
