"""Who may act for which organisation.

The predicates read the user's memberships once per user object (``memberships_of``), so an
admin list that asks about fifty rows costs one query, not fifty.
"""

from __future__ import annotations

from dataclasses import dataclass

import rules

from governance.stakeholders.models import Membership, Organisation

ACTING_ROLES = frozenset({Membership.Role.ADMIN, Membership.Role.STAFF})
_CACHE_ATTR = "_gongzhi_memberships"


@dataclass(frozen=True)
class Seat:
    organisation_id: int
    kind: str
    role: str


def memberships_of(user) -> dict[int, Seat]:
    """The user's seats by organisation id, read once and kept on the user object."""
    # Django asks permission backends about inactive users too (only ModelBackend refuses
    # them); a deactivated account acts for nobody.
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return {}
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        cached = {
            org_id: Seat(org_id, kind, role)
            for org_id, kind, role in Membership.objects.filter(
                user_id=user.pk, organisation__is_active=True
            ).values_list("organisation_id", "organisation__kind", "role")
        }
        setattr(user, _CACHE_ATTR, cached)
    return cached


def forget_memberships(user) -> None:
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def organisation_ids(user, *, kind: str | None = None, roles=None) -> set[int]:
    return {
        seat.organisation_id
        for seat in memberships_of(user).values()
        if (kind is None or seat.kind == kind) and (roles is None or seat.role in roles)
    }


def _organisation_id(target) -> int | None:
    if target is None:
        return None
    if isinstance(target, Organisation):
        return target.pk
    if isinstance(target, int):
        return target
    return None


def seat_in(user, organisation) -> Seat | None:
    org_id = _organisation_id(organisation)
    return memberships_of(user).get(org_id) if org_id is not None else None


# Predicates on an organisation (or none: "in any organisation of that kind") ----------------
@rules.predicate
def is_member_of(user, organisation=None) -> bool:
    if organisation is None:
        return bool(memberships_of(user))
    return seat_in(user, organisation) is not None


@rules.predicate
def is_org_admin(user, organisation=None) -> bool:
    if organisation is None:
        return bool(organisation_ids(user, roles={Membership.Role.ADMIN}))
    seat = seat_in(user, organisation)
    return seat is not None and seat.role == Membership.Role.ADMIN


@rules.predicate
def is_department_staff(user, organisation=None) -> bool:
    """Acts for a department (admin or staff role); with an organisation, for that one."""
    if organisation is None:
        return bool(organisation_ids(user, kind=Organisation.Kind.DEPARTMENT, roles=ACTING_ROLES))
    seat = seat_in(user, organisation)
    return (
        seat is not None and seat.kind == Organisation.Kind.DEPARTMENT and seat.role in ACTING_ROLES
    )


@rules.predicate
def is_partner_member(user, organisation=None) -> bool:
    """Belongs to a partner (any role); with an organisation, to that one."""
    if organisation is None:
        return bool(organisation_ids(user, kind=Organisation.Kind.PARTNER))
    seat = seat_in(user, organisation)
    return seat is not None and seat.kind == Organisation.Kind.PARTNER


@rules.predicate
def is_superuser(user) -> bool:
    return bool(getattr(user, "is_superuser", False) and user.is_active)


@rules.predicate
def is_membership_admin(user, membership=None) -> bool:
    if membership is None:
        return is_org_admin(user)
    return is_org_admin(user, membership.organisation_id)


@rules.predicate
def is_organisation_admin(user, organisation=None) -> bool:
    return is_org_admin(user, organisation)


# The admin's app index shows this app to anyone who sits in an organisation.
rules.add_perm("stakeholders", is_superuser | is_member_of)
rules.add_perm("stakeholders.view_organisation", is_superuser | is_member_of)
rules.add_perm("stakeholders.change_organisation", is_superuser | is_organisation_admin)
rules.add_perm("stakeholders.add_organisation", is_superuser)
rules.add_perm("stakeholders.delete_organisation", is_superuser)
rules.add_perm("stakeholders.view_membership", is_superuser | is_membership_admin)
rules.add_perm("stakeholders.add_membership", is_superuser | is_membership_admin)
rules.add_perm("stakeholders.change_membership", is_superuser | is_membership_admin)
rules.add_perm("stakeholders.delete_membership", is_superuser | is_membership_admin)
rules.add_perm("stakeholders.view_user", is_superuser)
rules.add_perm("stakeholders.add_user", is_superuser)
rules.add_perm("stakeholders.change_user", is_superuser)
rules.add_perm("stakeholders.delete_user", is_superuser)
rules.add_perm("stakeholders.view_auditevent", is_superuser)
# The audit log is append-only: nobody adds, changes or deletes a row by hand. Django's
# ``User.has_perm`` answers yes to an active superuser before it asks any backend, so for
# superusers the read-only AuditEventAdmin and the model itself are what refuse.
rules.add_perm("stakeholders.add_auditevent", rules.always_deny)
rules.add_perm("stakeholders.change_auditevent", rules.always_deny)
rules.add_perm("stakeholders.delete_auditevent", rules.always_deny)
