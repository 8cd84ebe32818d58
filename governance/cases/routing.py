"""Which organisation handles a new case, and who helps.

Routing rules (``RoutingRule``) map a service, a category and/or a station to the responsible
organisation and optional co-handlers. The first active rule, by ``order`` then id, whose
criteria all match wins; an empty criterion matches anything. A case no rule matches goes to
the triage queue (no responsible organisation), which the triage role empties.

The triage role
    The platform's triage desk is an organisation like any other (in the demo, the station's
    one-stop counter run by the lead department), named by its slug in
    ``CASES_TRIAGE_ORGANISATION`` (default ``"triage"``). Its admins and staff (not viewers)
    triage: they see the cases waiting in the queue and route them. Being a seat, the role is
    granted, audited and revoked like every other seat (``membership_grant``), with no second
    permission system beside the memberships.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q

from governance.cases.models import RoutingRule

DEFAULT_TRIAGE_ORGANISATION = "triage"


def triage_slug() -> str:
    return getattr(settings, "CASES_TRIAGE_ORGANISATION", DEFAULT_TRIAGE_ORGANISATION)


@dataclass(frozen=True)
class Route:
    """Where a case goes: a rule and what it names, or nowhere (the triage queue)."""

    rule: RoutingRule | None = None
    cohandler_ids: tuple[int, ...] = field(default=())

    @property
    def responsible_id(self) -> int | None:
        return self.rule.responsible_id if self.rule else None


def route(*, service_id: int | None, category_id: int | None, station_id: int | None) -> Route:
    """The matching rule and its active co-handlers, in two queries (one when none matches)."""
    criteria = Q(is_active=True, responsible__is_active=True)
    for column, value in (
        ("service", service_id),
        ("category", category_id),
        ("station", station_id),
    ):
        if value:
            criteria &= Q(**{f"{column}__isnull": True}) | Q(**{f"{column}_id": value})
        else:
            criteria &= Q(**{f"{column}__isnull": True})
    rule = (
        RoutingRule.objects.filter(criteria)
        .select_related("responsible")
        .order_by("order", "pk")
        .first()
    )
    if rule is None:
        return Route()
    cohandlers = tuple(
        rule.cohandlers.filter(is_active=True)
        .exclude(pk=rule.responsible_id)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return Route(rule=rule, cohandler_ids=cohandlers)
