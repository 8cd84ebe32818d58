"""Who may see a KPI, set its targets, report its figures and approve them.

- Seeing follows the indicator's visibility: public ones everyone; "stakeholders" ones any
  member of an organisation; "owners" ones members of an owning organisation.
- Owners are co-governors: an admin of any owning organisation (a department or the mall) sets
  targets; the other owners are told (``kpis.target_set``) and the audit log keeps who did it.
- Admins and staff of an owning organisation report figures of a reported KPI.
- A figure is approved (or sent back) by an admin of a *different* owning organisation: the mall
  reports its footfall, the department checks it. When an indicator has a single owner, another
  admin of that owner approves, never the person who entered it.
- An organisation's KPI page (everything it owns, whatever the visibility, and the figures
  waiting for it) is for its members.

Superusers may do everything. Seats are read once per request (``memberships_of``); owners come
from the indicator's prefetched ``owners``.
"""

from __future__ import annotations

import rules

from governance.stakeholders.models import Membership
from governance.stakeholders.rules import (
    ACTING_ROLES,
    is_member_of,
    is_superuser,
    memberships_of,
)


def owner_ids(indicator) -> set[int]:
    return {owner.pk for owner in indicator.owners.all()}


def acting_owner_ids(user, indicator, roles=ACTING_ROLES) -> set[int]:
    """The owning organisations ``user`` acts for with one of ``roles``."""
    seats = memberships_of(user)
    return {
        org_id for org_id in owner_ids(indicator) if org_id in seats and seats[org_id].role in roles
    }


@rules.predicate
def can_see_indicator(user, indicator=None) -> bool:
    from governance.kpis.models import Visibility

    if indicator is None:
        return True
    if not indicator.is_active:
        return False
    if indicator.visibility == Visibility.PUBLIC:
        return True
    seats = memberships_of(user)
    if indicator.visibility == Visibility.STAKEHOLDERS:
        return bool(seats)
    return bool(owner_ids(indicator) & set(seats))


@rules.predicate
def is_owner_admin(user, indicator=None) -> bool:
    if indicator is None:
        return any(seat.role == Membership.Role.ADMIN for seat in memberships_of(user).values())
    return bool(acting_owner_ids(user, indicator, roles={Membership.Role.ADMIN}))


@rules.predicate
def is_reporting_owner(user, indicator=None) -> bool:
    from governance.kpis.models import Indicator

    if indicator is None:
        return any(seat.role in ACTING_ROLES for seat in memberships_of(user).values())
    return indicator.kind == Indicator.Kind.REPORTED and bool(acting_owner_ids(user, indicator))


def acts_for(user, organisation_id: int, roles=ACTING_ROLES) -> bool:
    """Whether ``user`` may act in the name of this organisation itself with one of ``roles``:
    a seat in a co-owner carries the KPI permissions, never another owner's name."""
    if is_superuser(user):
        return True
    seat = memberships_of(user).get(organisation_id)
    return seat is not None and seat.role in roles


def owner_actions(user, indicator) -> list[dict]:
    """For each owner ``user`` sits in: may they set targets, report figures in its name?"""
    from governance.kpis.models import Indicator

    reported = indicator.kind == Indicator.Kind.REPORTED
    actions = []
    for owner in indicator.owners.all():
        may_set_target = acts_for(user, owner.pk, {Membership.Role.ADMIN})
        may_report = reported and acts_for(user, owner.pk)
        if (may_set_target or may_report) and owner.pk in memberships_of(user):
            actions.append(
                {"owner": owner, "may_set_target": may_set_target, "may_report": may_report}
            )
    return actions


def reviewing_owner_ids(user, figure) -> set[int]:
    """The owners ``user`` may approve ``figure`` for (empty: may not)."""
    admin_of = acting_owner_ids(user, figure.indicator, roles={Membership.Role.ADMIN})
    others = admin_of - {figure.reported_by_id}
    if others:
        return others
    single_owner = owner_ids(figure.indicator) == {figure.reported_by_id}
    if single_owner and figure.entered_by_id != user.pk:
        return admin_of
    return set()


@rules.predicate
def is_figure_reviewer(user, figure=None) -> bool:
    if figure is None:
        return is_owner_admin(user)
    return bool(reviewing_owner_ids(user, figure))


rules.add_perm("kpis.view_indicator", is_superuser | can_see_indicator)
rules.add_perm("kpis.set_target", is_superuser | is_owner_admin)
rules.add_perm("kpis.report_figure", is_superuser | is_reporting_owner)
rules.add_perm("kpis.review_figure", is_superuser | is_figure_reviewer)
rules.add_perm("kpis.view_organisation_kpis", is_superuser | is_member_of)
