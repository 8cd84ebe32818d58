"""Reads of feedback, scoped to what the actor may see and joined for the API and pages.

- ``feedback_of``: the signed-in author's own feedback;
- ``feedback_inbox``: the feedback of every organisation the user sits in (any seat, as
  ``rules.sits_in_feedback_organisation``), everything for a superuser;
- ``feedback_visible_to``: either of the two (a detail the caller may open);
- ``visits_for_rating_link``: the visits whose rating link the user may print or show: those
  of their department's services and those at a station their organisation hosts (a kiosk's or
  queue system's account sits in one of them);
- ``inbox_filtered`` / ``with_reason`` / ``filter_values``: the inbox's filters, among them a
  reason ticked (the needs radar links its counts there, see ``feedback.radar``).

A list runs a constant number of queries whatever its length: what a row shows (service,
station, organisation, case reference) is joined, and the permission checks per row read the
user's seats once (``stakeholders.rules.memberships_of``).
"""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.db.models import Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils.translation import pgettext_lazy

from feedback import reasons as reason_tags
from feedback.models import BAD_LEVELS, Appeal, Feedback
from governance.kpis.registry import day_start
from governance.stakeholders.models import Organisation
from governance.stakeholders.rules import ACTING_ROLES, is_superuser, organisation_ids
from governance.stations.models import Service, Station, Visit

ROW_RELATIONS = ("service", "station", "organisation", "case")

# The inbox's level filter takes a level (1–5) or this: every 差评 (不满意 and 非常不满意).
LEVEL_BAD = "bad"
# The reason filter takes a code of ``feedback.reasons`` or this: rows with no reason ticked.
UNSPECIFIED = "unspecified"
UNSPECIFIED_LABEL = pgettext_lazy("rating reason", "未说明原因")
# A reason is not indexed: filtering by one needs a date range of at most this many days, so
# the scan stays within the (organisation | station | service | created_at) index's range.
REASON_MAX_DAYS = 366


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


def _names(reason: str) -> Q:
    """Rows whose reasons include ``reason``: JSON containment on PostgreSQL; the JSON text
    elsewhere (a code is letters and underscores, so its quoted form matches that code only)."""
    if connection.features.supports_json_field_contains:
        return Q(reasons__contains=[reason])
    return Q(reasons_text__contains=f'"{reason}"')


def with_reason(qs: QuerySet[Feedback], reason: str) -> QuerySet[Feedback]:
    """The rows of ``qs`` that name ``reason``; for ``UNSPECIFIED``, the rows that name no
    reason of the catalogue (none at all, or only codes it does not know), as the radar
    counts them."""
    if not connection.features.supports_json_field_contains:
        qs = qs.alias(reasons_text=Cast("reasons", TextField()))
    if reason == UNSPECIFIED:
        for code in reason_tags.BY_CODE:
            qs = qs.exclude(_names(code))
        return qs
    return qs.filter(_names(reason))


def inbox_filtered(
    user,
    *,
    kind: str = "",
    level: int | str | None = None,
    reason: str = "",
    station=None,
    service=None,
    organisation=None,
    answered: str = "",
    appeals: str = "",
    excluded: str = "",
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> QuerySet[Feedback]:
    """The inbox narrowed as the inbox page's filters say (each backed by an index, the reason
    by the date range the form requires with it), newest first; ``level`` is 1–5 or
    ``LEVEL_BAD``, ``answered`` and ``excluded`` (upheld appeal) "yes" or "no", ``appeals``
    "pending"."""
    qs = feedback_inbox(user)
    if kind:
        qs = qs.filter(kind=kind)
    if level == LEVEL_BAD:
        qs = qs.filter(level__in=sorted(BAD_LEVELS))
    elif level:
        qs = qs.filter(level=level)
    if reason:
        qs = with_reason(qs, reason)
    if station is not None:
        qs = qs.filter(station=station)
    if service is not None:
        qs = qs.filter(service=service)
    if organisation is not None:
        qs = qs.filter(organisation=organisation)
    if answered == "yes":
        qs = qs.exclude(reply="")
    elif answered == "no":
        qs = qs.filter(reply="")
    if excluded in ("yes", "no"):
        qs = qs.filter(excluded=excluded == "yes")
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


def filter_values(
    *, station_id: int | None = None, service_id: int | None = None, organisation_id=None
) -> dict[str, str | None]:
    """What the inbox's filters take (station slug, service code, organisation slug) for the
    ids a link names (the radar's links carry ids, so building one costs no query): one
    query per id given; an id that names nothing maps to None."""
    lookups = (
        ("station", station_id, Station, "slug"),
        ("service", service_id, Service, "service_code"),
        ("organisation", organisation_id, Organisation, "slug"),
    )
    values: dict[str, str | None] = {}
    for name, pk, model, field in lookups:
        if pk is not None:
            values[name] = model.objects.filter(pk=pk).values_list(field, flat=True).first()
    return values
