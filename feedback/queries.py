"""Reads of feedback, scoped to what the actor may see and joined for the API and pages.

- ``feedback_of``: the signed-in author's own feedback;
- ``feedback_inbox``: the feedback of every organisation the user sits in (any seat, as
  ``rules.sits_in_feedback_organisation``), everything for a superuser;
- ``feedback_visible_to``: either of the two (a detail the caller may open);
- ``visits_for_rating_link``: the visits whose rating link the user may print or show: those
  of their department's services and those at a station their organisation hosts (a kiosk's or
  queue system's account sits in one of them).

A list runs a constant number of queries whatever its length: what a row shows (service,
station, organisation, case reference) is joined, and the permission checks per row read the
user's seats once (``stakeholders.rules.memberships_of``).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet

from feedback.models import Appeal, Feedback
from governance.kpis.registry import day_start
from governance.stakeholders.rules import ACTING_ROLES, is_superuser, organisation_ids
from governance.stations.models import Visit

ROW_RELATIONS = ("service", "station", "organisation", "case")


def _signed_in(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def _joined(qs: QuerySet[Feedback]) -> QuerySet[Feedback]:
    return qs.select_related(*ROW_RELATIONS)


def feedback_of(user) -> QuerySet[Feedback]:
    """What ``user`` submitted while signed in, newest first."""
    if not _signed_in(user):
        return Feedback.objects.none()
    return _joined(Feedback.objects.filter(user_id=user.pk))


def feedback_inbox(user) -> QuerySet[Feedback]:
    """The feedback of ``user``'s organisations (all of it for a superuser), newest first."""
    if not _signed_in(user):
        return Feedback.objects.none()
    if is_superuser(user):
        return _joined(Feedback.objects.all())
    return _joined(Feedback.objects.filter(organisation_id__in=organisation_ids(user)))


def inbox_filtered(
    user,
    *,
    kind: str = "",
    level: int | None = None,
    station=None,
    service=None,
    answered: str = "",
    appeals: str = "",
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> QuerySet[Feedback]:
    """The inbox narrowed as the inbox page's filters say (each backed by an index), newest
    first; ``answered`` is "yes" or "no", ``appeals`` "pending"."""
    qs = feedback_inbox(user)
    if kind:
        qs = qs.filter(kind=kind)
    if level:
        qs = qs.filter(level=level)
    if station is not None:
        qs = qs.filter(station=station)
    if service is not None:
        qs = qs.filter(service=service)
    if answered == "yes":
        qs = qs.exclude(reply="")
    elif answered == "no":
        qs = qs.filter(reply="")
    if appeals == "pending":
        qs = qs.filter(appeals__status=Appeal.Status.PENDING)
    if start:
        qs = qs.filter(created_at__gte=day_start(start))
    if end:
        qs = qs.filter(created_at__lt=day_start(end + dt.timedelta(days=1)))
    return qs.order_by("-created_at", "-pk")


def feedback_visible_to(user) -> QuerySet[Feedback]:
    """Every piece of feedback ``user`` may open: their own and their organisations'."""
    if not _signed_in(user):
        return Feedback.objects.none()
    if is_superuser(user):
        return _joined(Feedback.objects.all())
    return _joined(
        Feedback.objects.filter(Q(user_id=user.pk) | Q(organisation_id__in=organisation_ids(user)))
    )


def visits_for_rating_link(user) -> QuerySet[Visit]:
    """Visits whose rating link ``user`` may fetch, with the service (the token names its
    department) loaded."""
    if not _signed_in(user):
        return Visit.objects.none()
    visits = Visit.objects.select_related("service")
    if is_superuser(user):
        return visits
    # Acting seats only: a viewer may read, not hand out votes.
    mine = organisation_ids(user, roles=ACTING_ROLES)
    return visits.filter(Q(service__department_id__in=mine) | Q(station__host_id__in=mine))


def may_fetch_rating_link(user, visit: Visit) -> bool:
    """Whether ``user`` may hand out ``visit``'s rating link (the counter slip, the API)."""
    return visits_for_rating_link(user).filter(pk=visit.pk).exists()


def visit_for_rating(visit_id: int) -> Visit | None:
    """The visit a rating link names, with what its rating page shows."""
    return Visit.objects.select_related("service", "station").filter(pk=visit_id).first()


def rating_of_visit(visit_id: int) -> Feedback | None:
    return (
        Feedback.objects.filter(visit_id=visit_id)
        .only("pk", "level", "created_at", "visit_id")
        .first()
    )


def feedback_row(pk) -> Feedback | None:
    """One row, joined as a list's, whoever may see it: the answer to a write the caller just
    made (the write checked the permission)."""
    return _joined(Feedback.objects.filter(pk=pk)).first()
