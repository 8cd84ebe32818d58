"""The event types this app declares with the notifications registry.

Links point at the case page by its URL name ``cases:detail`` (argument: the reference) once the
pages exist; until then a notification carries no link.
"""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from governance.cases.events import (
    CaseAssigned,
    CaseCoHandlerAdded,
    CaseDueSoon,
    CaseOpened,
    CaseOverdue,
    CaseReplied,
    CaseStatusChanged,
)
from governance.notifications.registry import Audience, EventType, register
from governance.stakeholders.models import Membership, User

ACTING_ROLES = (Membership.Role.ADMIN, Membership.Role.STAFF)
# Work that runs on an SLA clock: a digest would come too late.
AT_ONCE = {Audience.DEPARTMENT: "immediate", Audience.PARTNER: "immediate"}


def case_url(event) -> str:
    try:
        return reverse("cases:detail", args=[event.reference])
    except NoReverseMatch:
        return ""


def acting_in(organisation_id: int | None, roles=ACTING_ROLES):
    if organisation_id is None:
        return User.objects.none()
    return User.objects.filter(
        memberships__organisation_id=organisation_id,
        memberships__organisation__is_active=True,
        memberships__role__in=roles,
    ).distinct()


def followers(event):
    return User.objects.filter(case_follows__case_id=event.case_id)


def opened_recipients(event: CaseOpened):
    return acting_in(event.responsible_id or event.triage_organisation_id)


def due_soon_recipients(event: CaseDueSoon):
    if event.assignee_id is not None:
        return User.objects.filter(pk=event.assignee_id)
    return acting_in(event.responsible_id)


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
