"""Permissions on stations, services and visits.

Departments keep their own catalogue and visits; the partner that hosts a station keeps the
station's details; superusers keep everything.
"""

from __future__ import annotations

import rules

from governance.stakeholders.models import Membership, Organisation
from governance.stakeholders.rules import (
    ACTING_ROLES,
    is_department_staff,
    is_member_of,
    is_org_admin,
    is_superuser,
    organisation_ids,
    seat_in,
)


def _department_id(obj) -> int | None:
    if obj is None:
        return None
    if hasattr(obj, "department_id"):
        return obj.department_id
    if hasattr(obj, "service"):
        return obj.service.department_id
    return None


@rules.predicate
def is_department_staff_of(user, obj=None) -> bool:
    """Acts (admin or staff) for the department that owns the service or visit."""
    if obj is None:
        return is_department_staff(user)
    return is_department_staff(user, _department_id(obj))


@rules.predicate
def is_department_member_of(user, obj=None) -> bool:
    """Sits (any role, viewers included) in the department that owns the service or visit."""
    if obj is None:
        return bool(organisation_ids(user, kind=Organisation.Kind.DEPARTMENT))
    seat = seat_in(user, _department_id(obj))
    return seat is not None and seat.kind == Organisation.Kind.DEPARTMENT


@rules.predicate
def is_department_admin_of(user, obj=None) -> bool:
    if obj is None:
        return bool(
            organisation_ids(user, kind=Organisation.Kind.DEPARTMENT, roles={Membership.Role.ADMIN})
        )
    seat = seat_in(user, _department_id(obj))
    return (
        seat is not None
        and seat.kind == Organisation.Kind.DEPARTMENT
        and seat.role == Membership.Role.ADMIN
    )


@rules.predicate
def is_station_host_admin(user, station=None) -> bool:
    if station is None:
        return bool(
            organisation_ids(user, kind=Organisation.Kind.PARTNER, roles={Membership.Role.ADMIN})
        )
    return station.host_id is not None and is_org_admin(user, station.host_id)


@rules.predicate
def works_at_station(user, station=None) -> bool:
    """Sits in the station's host partner or in a department present there."""
    if station is None:
        return is_member_of(user)
    if station.host_id and seat_in(user, station.host_id):
        return True
    present = {d.pk for d in station.departments.all()}
    return bool(present & organisation_ids(user))


@rules.predicate
def acts_for_a_department(user) -> bool:
    return bool(organisation_ids(user, kind=Organisation.Kind.DEPARTMENT, roles=ACTING_ROLES))


rules.add_perm("stations", is_superuser | is_member_of)
rules.add_perm("stations.view_station", is_superuser | works_at_station)
rules.add_perm("stations.change_station", is_superuser | is_station_host_admin)
rules.add_perm("stations.add_station", is_superuser)
rules.add_perm("stations.delete_station", is_superuser)
rules.add_perm("stations.view_openinghours", is_superuser | works_at_station)

rules.add_perm("stations.view_service", is_superuser | is_department_member_of)
rules.add_perm("stations.add_service", is_superuser | acts_for_a_department)
rules.add_perm("stations.change_service", is_superuser | is_department_staff_of)
rules.add_perm("stations.delete_service", is_superuser | is_department_admin_of)

rules.add_perm("stations.view_visit", is_superuser | is_department_member_of)
rules.add_perm("stations.add_visit", is_superuser | acts_for_a_department)
rules.add_perm("stations.change_visit", is_superuser | is_department_staff_of)
rules.add_perm("stations.delete_visit", is_superuser | is_department_admin_of)
