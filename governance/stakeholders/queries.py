"""Reads of people and organisations, scoped to what the actor may see."""

from __future__ import annotations

from django.db.models import QuerySet

from governance.stakeholders.models import Membership, Organisation
from governance.stakeholders.rules import organisation_ids


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
