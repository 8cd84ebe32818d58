"""The KPI events people are told about: targets set, figures to approve, figures reviewed.

(``kpis.turned_red`` is registered by ``alerts``, beside the check that raises it.)
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from governance.kpis.events import FigureReviewed, FigureSubmitted, TargetSet
from governance.notifications.registry import Audience, EventType, register
from governance.stakeholders.models import Membership, Organisation, User
from governance.stakeholders.queries import acting_members
from governance.stakeholders.rules import ACTING_ROLES


def _members_of_owners(indicator_id: int, *, roles, exclude: int | None):
    owners = Organisation.objects.filter(kpi_indicators=indicator_id, is_active=True)
    if exclude is not None:
        owners = owners.exclude(pk=exclude)
    return acting_members(owners, roles=roles)


def other_owners_acting(event: TargetSet):
    """Admins and staff of the owners other than the one that set the target."""
    return _members_of_owners(event.indicator_id, roles=ACTING_ROLES, exclude=event.organisation_id)


def figure_reviewers(event: FigureSubmitted):
    """Admins of the other owners; of the reporter itself when it is the only owner."""
    owners = set(
        Organisation.objects.filter(kpi_indicators=event.indicator_id).values_list("pk", flat=True)
    )
    exclude = event.reported_by_id if owners - {event.reported_by_id} else None
    return _members_of_owners(event.indicator_id, roles={Membership.Role.ADMIN}, exclude=exclude)


def figure_enterer(event: FigureReviewed):
    return User.objects.filter(pk=event.entered_by_id)


def indicator_url(event) -> str:
    return reverse("kpis:indicator", args=[event.code])


def my_kpis_url(event) -> str:
    return reverse("kpis:mine")


def register_event_types() -> None:
    register(
        EventType(
            code="kpis.target_set",
            event=TargetSet,
            label=_("共有指标的目标有变"),
            recipients=other_owners_acting,
            url=indicator_url,
        )
    )
    register(
        EventType(
            code="kpis.figure_submitted",
            event=FigureSubmitted,
            label=_("有填报数据待审核"),
            recipients=figure_reviewers,
            url=my_kpis_url,
            # A figure waits unpublished until someone approves it.
            defaults={Audience.DEPARTMENT: "immediate", Audience.PARTNER: "immediate"},
        )
    )
    register(
        EventType(
            code="kpis.figure_reviewed",
            event=FigureReviewed,
            label=_("填报数据已审核"),
            recipients=figure_enterer,
            url=my_kpis_url,
            defaults={Audience.DEPARTMENT: "immediate", Audience.PARTNER: "immediate"},
        )
    )
