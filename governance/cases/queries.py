"""Reads of cases, scoped to what the actor may see and joined for the pages that use them.

Every list here runs a constant number of queries whatever the number of rows: the relations
a case row shows are joined, its co-handlers (which the permission predicates read) prefetched.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from governance.cases.models import (
    OPEN_STATUSES,
    Attachment,
    Case,
    CoHandler,
    TimelineEntry,
)
from governance.cases.routing import triage_slug
from governance.cases.rules import is_triager, signed_in
from governance.stakeholders.models import Membership, User
from governance.stakeholders.rules import ACTING_ROLES, organisation_ids

LIST_RELATIONS = ("service", "category", "station", "responsible", "assignee", "reporter")


def _with_relations(qs: QuerySet[Case]) -> QuerySet[Case]:
    return qs.select_related(*LIST_RELATIONS).prefetch_related(
        Prefetch(
            "cohandlers",
            queryset=CoHandler.objects.select_related("organisation", "assignee").order_by("pk"),
        )
    )


def _in_organisations(org_ids) -> Q:
    return Q(responsible_id__in=org_ids) | Q(
        Exists(CoHandler.objects.filter(case=OuterRef("pk"), organisation_id__in=org_ids))
    )


def cases_visible_to(user) -> QuerySet[Case]:
    """Every case ``user`` may open: public ones, their own, their organisations', and (for
    the triage role) those waiting in the triage queue."""
    qs = _with_relations(Case.objects.all())
    if getattr(user, "is_superuser", False) and user.is_active:
        return qs
    visible = Q(is_public=True)
    if signed_in(user):
        visible |= Q(reporter_id=user.pk)
        mine = organisation_ids(user)
        if mine:
            visible |= _in_organisations(mine)
        if is_triager(user):
            visible |= Q(responsible__isnull=True)
    return qs.filter(visible)


def users_who_may_see(case: Case) -> QuerySet[User]:
    """The active users who may open ``case``: the rule of :func:`cases_visible_to` seen from
    the case's side, in one SQL filter (the case's ``is_public``, ``reporter_id`` and
    ``responsible_id`` must be loaded). News of a private case goes to these people only.
    """
    users = User.objects.filter(is_active=True)
    if case.is_public:
        return users
    organisations = Q(
        organisation_id__in=CoHandler.objects.filter(case_id=case.pk).values("organisation_id")
    )
    if case.responsible_id is not None:
        organisations |= Q(organisation_id=case.responsible_id)
    seats = Membership.objects.filter(organisations, user=OuterRef("pk"))
    visible = Q(is_superuser=True) | Exists(seats.filter(organisation__is_active=True))
    if case.reporter_id is not None:
        visible |= Q(pk=case.reporter_id)
    if case.responsible_id is None:
        visible |= Exists(
            Membership.objects.filter(
                user=OuterRef("pk"),
                organisation__slug=triage_slug(),
                organisation__is_active=True,
                role__in=ACTING_ROLES,
            )
        )
    return users.filter(visible)


def work_queue(user) -> QuerySet[Case]:
    """The open cases ``user`` handles: their responsible or co-handling organisations' (acting
    seats), most urgent deadline first.

    Being the assignee adds nothing: a case is assigned to a member of its organisation, and
    one who has lost the seat (or become a viewer) no longer sees it here, as ``rules`` says.
    """
    qs = _with_relations(Case.objects.filter(status__in=OPEN_STATUSES))
    if not signed_in(user):
        return qs.none()
    acting = organisation_ids(user, roles=ACTING_ROLES)
    if not acting:
        return qs.none()
    return qs.filter(_in_organisations(acting)).order_by("resolve_due_at", "pk")


def all_open() -> QuerySet[Case]:
    """Every open case, most urgent first: the superuser's work queue."""
    return _with_relations(Case.objects.filter(status__in=OPEN_STATUSES)).order_by(
        "resolve_due_at", "pk"
    )


def reported_by(user) -> QuerySet[Case]:
    """The cases ``user`` reported, newest first ("my cases")."""
    if not signed_in(user):
        return Case.objects.none()
    return _with_relations(Case.objects.filter(reporter_id=user.pk)).order_by("-created_at", "-pk")


def public_cases() -> QuerySet[Case]:
    """Public cases, newest first, for anyone to read."""
    return (
        Case.objects.filter(is_public=True)
        .select_related("service", "category", "station", "responsible")
        .order_by("-created_at", "-pk")
    )


QUEUE_TABS = ("mine", "department", "triage", "overdue", "due_soon")
DEFAULT_RESOLVE_DUE_SOON = dt.timedelta(hours=24)


def queue(user, tab: str, *, now: dt.datetime | None = None) -> QuerySet[Case]:
    """One tab of the staff work queue, for the page and the API alike: ``mine`` (assigned to
    the user), ``department`` (every open case of their organisations; every open case for a
    superuser), ``triage``, ``overdue`` (past the resolution deadline) and ``due_soon`` (due
    within ``CASES_RESOLVE_DUE_SOON``, 24 hours)."""
    if tab == "triage":
        return triage_queue(user)
    if tab not in QUEUE_TABS:
        raise ValueError(f"unknown queue tab {tab!r}")
    qs = all_open() if getattr(user, "is_superuser", False) and user.is_active else work_queue(user)
    now = now or timezone.now()
    if tab == "mine":
        return qs.filter(assignee_id=user.pk)
    if tab == "overdue":
        return qs.filter(resolve_due_at__lt=now)
    if tab == "due_soon":
        window = getattr(settings, "CASES_RESOLVE_DUE_SOON", DEFAULT_RESOLVE_DUE_SOON)
        return qs.filter(resolve_due_at__gte=now, resolve_due_at__lt=now + window)
    return qs


def triage_queue(user) -> QuerySet[Case]:
    """Open cases that no rule routed, oldest first; empty for anyone but the triage role."""
    qs = _with_relations(Case.objects.filter(responsible__isnull=True, status__in=OPEN_STATUSES))
    if getattr(user, "is_superuser", False) and user.is_active:
        return qs.order_by("created_at", "pk")
    if not is_triager(user):
        return qs.none()
    return qs.order_by("created_at", "pk")


def timeline_for(user, case: Case) -> QuerySet[TimelineEntry]:
    """The case's history as ``user`` may read it: internal entries only for the organisations
    on the case (and the triage role while it waits)."""
    qs = (
        TimelineEntry.objects.filter(case=case).select_related("actor").order_by("created_at", "pk")
    )
    if not user.has_perm("cases.view_case_internal", case):
        qs = qs.filter(is_public=True)
    return qs


def attachments_for(user, case: Case) -> QuerySet[Attachment]:
    """The case's attachments as ``user`` may see them: private ones (a reporter's upload by
    default) only for the organisations on the case and the person who uploaded them."""
    qs = Attachment.objects.filter(case=case).order_by("created_at", "pk")
    if not user.has_perm("cases.view_case_internal", case):
        # The public ones, and one's own uploads (a reporter sees the photos they sent).
        mine = Q(uploaded_by_id=user.pk) if signed_in(user) else Q(pk__in=[])
        qs = qs.filter(Q(is_public=True) | mine)
    return qs


@dataclass(frozen=True)
class Contact:
    name: str
    phone: str
    email: str


def contact_for(user, case: Case) -> Contact | None:
    """The reporter's contact details, or ``None`` for anyone who may not see them.

    A signed-in reporter's account is their contact where they left nothing else. No query per
    case on a list from this module (seats are cached, co-handlers prefetched, the reporter
    must be joined by the caller if it shows an account's details).
    """
    if not user.has_perm("cases.view_case_contact", case):
        return None
    reporter = case.reporter if case.reporter_id else None
    return Contact(
        name=case.contact_name or (reporter.get_full_name() if reporter else ""),
        phone=case.contact_phone or (reporter.phone if reporter else ""),
        email=case.contact_email or (reporter.email if reporter else ""),
    )


# Admin scoping --------------------------------------------------------------------------------
def cases_for_admin(user) -> QuerySet[Case]:
    """Cases of the user's organisations (any role), plus the triage queue for the triage role;
    superusers see them all."""
    qs = _with_relations(Case.objects.all())
    if user.is_superuser:
        return qs
    mine = organisation_ids(user)
    scope = _in_organisations(mine)
    if is_triager(user):
        scope |= Q(responsible__isnull=True)
    return qs.filter(scope)
