"""Who may see and do what on a case.

- Anyone sees a public case; a private one only its reporter and the people of the organisations
  on it. The reporter's contact details are seen only by the acting staff (admins and staff, not
  viewers) of the responsible and co-handling organisations, and by the reporter.
- The responsible organisation's acting staff handle the case (status, assignment,
  co-handlers, due dates); co-handlers' staff reply, note and attach. Being the assignee grants
  nothing by itself: the seat does, so revoking a seat ends the handling at once.
- The triage role (acting seats in the triage organisation, see ``governance.cases.routing``)
  sees and handles the cases waiting in the triage queue, and routes them.
- The reporter may reopen their case within ``CASES_REOPEN_DAYS`` (7) days of its resolution.

The predicates read the user's seats once per user object (``memberships_of``) and a case's
co-handlers from ``case.cohandlers.all()``, which the queries in ``queries.py`` prefetch: an
admin list asking about fifty cases costs no query per row.
"""

from __future__ import annotations

import datetime as dt

import rules
from django.conf import settings
from django.utils import timezone

from governance.cases.models import Case, CoHandler, Status
from governance.cases.routing import triage_slug
from governance.stakeholders.models import Organisation
from governance.stakeholders.rules import (
    ACTING_ROLES,
    is_member_of,
    is_superuser,
    memberships_of,
    organisation_ids,
    seat_in,
)

DEFAULT_REOPEN_DAYS = 7
_TRIAGE_ATTR = "_gongzhi_triage_organisation"


def reopen_window() -> dt.timedelta:
    return dt.timedelta(days=getattr(settings, "CASES_REOPEN_DAYS", DEFAULT_REOPEN_DAYS))


def triage_organisation_id(user) -> int | None:
    """The triage organisation's id, read once per user object (like the seats)."""
    if not hasattr(user, _TRIAGE_ATTR):
        setattr(
            user,
            _TRIAGE_ATTR,
            Organisation.objects.filter(slug=triage_slug(), is_active=True)
            .values_list("pk", flat=True)
            .first(),
        )
    return getattr(user, _TRIAGE_ATTR)


def cohandler_org_ids(case: Case) -> set[int]:
    if case.pk is None:
        return set()
    return {cohandler.organisation_id for cohandler in case.cohandlers.all()}


def _acting_in(user, organisation_id) -> bool:
    seat = seat_in(user, organisation_id)
    return seat is not None and seat.role in ACTING_ROLES


def _is_case(obj) -> bool:
    return isinstance(obj, Case)


def signed_in(user) -> bool:
    """Signed in with an active account: the only kind of user that acts as a person (the
    anonymous and the deactivated act for nobody)."""
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "is_active", False))


is_signed_in = rules.predicate(signed_in, name="is_signed_in")


@rules.predicate
def is_triager(user, case=None) -> bool:
    """Acts in the triage organisation; with a case, only while that case awaits triage."""
    if not memberships_of(user):
        return False
    triage_id = triage_organisation_id(user)
    if triage_id is None or not _acting_in(user, triage_id):
        return False
    if case is None:
        return True
    return _is_case(case) and case.responsible_id is None


@rules.predicate
def is_reporter(user, case=None) -> bool:
    return (
        _is_case(case)
        and case.reporter_id is not None
        and signed_in(user)
        and case.reporter_id == user.pk
    )


@rules.predicate
def is_public_case(user, case=None) -> bool:
    return _is_case(case) and case.is_public


@rules.predicate
def is_handler(user, case=None) -> bool:
    """Acting staff of the responsible organisation.

    The assignee is one of them when assigned (``case_assign`` checks the seat); an assignee
    who has since lost the seat, or been made a viewer, no longer handles the case.
    """
    if case is None:
        return bool(organisation_ids(user, roles=ACTING_ROLES))
    if not _is_case(case):
        return False
    return case.responsible_id is not None and _acting_in(user, case.responsible_id)


@rules.predicate
def is_cohandler_staff(user, case=None) -> bool:
    if not _is_case(case) or not memberships_of(user):
        return False
    return any(_acting_in(user, org_id) for org_id in cohandler_org_ids(case))


@rules.predicate
def acts_for_cohandler(user, cohandler=None) -> bool:
    """Acting staff of the organisation that holds this co-handling task."""
    if not isinstance(cohandler, CoHandler) or not memberships_of(user):
        return False
    return _acting_in(user, cohandler.organisation_id)


@rules.predicate
def handles_cohandler_case(user, cohandler=None) -> bool:
    """Handles the case the co-handling task belongs to (the responsible organisation)."""
    return isinstance(cohandler, CoHandler) and is_handler(user, cohandler.case)


@rules.predicate
def is_case_organisation_member(user, case=None) -> bool:
    """Sits (any role) in the responsible or a co-handling organisation."""
    if case is None:
        return is_member_of(user)
    if not _is_case(case) or not memberships_of(user):
        return False
    org_ids = cohandler_org_ids(case)
    if case.responsible_id is not None:
        org_ids.add(case.responsible_id)
    return any(seat_in(user, org_id) is not None for org_id in org_ids)


@rules.predicate
def may_see_contact(user, case=None) -> bool:
    """Acting staff of the responsible or a co-handling organisation."""
    if not _is_case(case) or not memberships_of(user):
        return False
    org_ids = cohandler_org_ids(case)
    if case.responsible_id is not None:
        org_ids.add(case.responsible_id)
    return any(_acting_in(user, org_id) for org_id in org_ids)


@rules.predicate
def resolved_within_reopen_window(user, case=None) -> bool:
    return (
        _is_case(case)
        and case.status == Status.RESOLVED
        and case.resolved_at is not None
        and timezone.now() - case.resolved_at <= reopen_window()
    )


can_view = is_superuser | is_public_case | is_reporter | is_case_organisation_member | is_triager
can_handle = is_superuser | is_handler | is_triager

rules.add_perm("cases", is_superuser | is_member_of)
rules.add_perm("cases.view_case", can_view)
rules.add_perm("cases.view_case_internal", is_superuser | is_case_organisation_member | is_triager)
rules.add_perm("cases.view_case_contact", is_superuser | is_reporter | may_see_contact)
rules.add_perm("cases.handle_case", can_handle)
rules.add_perm("cases.triage_case", is_superuser | is_triager)
rules.add_perm("cases.reply_case", can_handle | is_cohandler_staff)
rules.add_perm("cases.note_case", can_handle | is_cohandler_staff)
rules.add_perm("cases.attach_case", can_handle | is_cohandler_staff | is_reporter)
rules.add_perm("cases.reopen_case", can_handle | (is_reporter & resolved_within_reopen_window))
rules.add_perm("cases.follow_case", is_signed_in & can_view)
# A co-handling task (object: the CoHandler) is run by its own organisation; the responsible
# organisation, which shared the case, may also reassign or close it.
rules.add_perm("cases.handle_cohandler", is_superuser | acts_for_cohandler | handles_cohandler_case)
# The admin shows cases and their history; every change goes through the services (the case
# pages), which write the timeline. Django answers yes to a superuser before asking a backend,
# so the read-only admin classes are what refuse superusers.
rules.add_perm("cases.add_case", rules.always_deny)
rules.add_perm("cases.change_case", rules.always_deny)
rules.add_perm("cases.delete_case", rules.always_deny)
# Routing, SLA policies and categories are the platform's: its admins keep them, the people of
# the organisations read them.
for _model in ("category", "routingrule", "slapolicy"):
    rules.add_perm(f"cases.view_{_model}", is_superuser | is_member_of)
    rules.add_perm(f"cases.add_{_model}", is_superuser)
    rules.add_perm(f"cases.change_{_model}", is_superuser)
    rules.add_perm(f"cases.delete_{_model}", is_superuser)
