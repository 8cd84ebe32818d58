"""Reads of people and organisations, scoped to what the actor may see."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Exists, OuterRef, QuerySet

from governance.stakeholders.models import Membership, Organisation, User
from governance.stakeholders.rules import ACTING_ROLES, organisation_ids


def organisations_visible_to(user) -> QuerySet[Organisation]:
    """Superusers see every organisation; members see the ones they sit in."""
    qs = Organisation.objects.all()
    if getattr(user, "is_superuser", False):
        return qs
    return qs.filter(pk__in=organisation_ids(user))


def memberships_visible_to(user) -> QuerySet[Membership]:
    qs = Membership.objects.select_related("user", "organisation")
    if getattr(user, "is_superuser", False):
        return qs
    return qs.filter(organisation_id__in=organisation_ids(user, roles={Membership.Role.ADMIN}))


def organisations_administered_by(user) -> QuerySet[Organisation]:
    """The organisations a user may manage seats in: those where they hold an admin seat."""
    qs = Organisation.objects.filter(is_active=True)
    if getattr(user, "is_superuser", False):
        return qs
    return qs.filter(pk__in=organisation_ids(user, roles={Membership.Role.ADMIN}))


def acting_members(organisations: Iterable[int] | QuerySet, roles=ACTING_ROLES) -> QuerySet[User]:
    """Active users with a seat of one of ``roles`` in one of the active organisations: the
    people an organisation's notifications go to.

    ``organisations`` may be ids or a queryset of organisations, which stays a subquery.
    The seat test is an ``EXISTS``, so a user with several seats is one row without
    ``DISTINCT`` and the result can be filtered further.
    """
    seats = Membership.objects.filter(
        user=OuterRef("pk"),
        organisation__in=organisations,
        organisation__is_active=True,
        role__in=roles,
    )
    return User.objects.filter(Exists(seats), is_active=True)
