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
from governance.stations.models import OpeningHours, Station


def _department_id(obj) -> int | None:
    if obj is None:
        return None
    if hasattr(obj, "department_id"):
        return obj.department_id
    if hasattr(obj, "service"):
        return obj.service.department_id
    return None


def _station(obj) -> Station | None:
    """The station an object belongs to: the station itself, or the station of opening hours."""
    if isinstance(obj, Station):
        return obj
    if isinstance(obj, OpeningHours):
        return obj.station
    return None


@rules.predicate
def is_department_staff_of(user, obj=None) -> bool:
    """Acts (admin or staff) for the department that owns the service or visit."""
    if obj is None:
        return is_department_staff(user)
    department_id = _department_id(obj)
    # Without this guard an object with no department would read as "no object given", which
    # means "acts for any department", and every department's staff could change it.
    return department_id is not None and is_department_staff(user, department_id)


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
def is_station_host_admin(user, obj=None) -> bool:
    """Admin of the partner that hosts the station (or the station of the opening hours)."""
    if obj is None:
        return bool(
            organisation_ids(user, kind=Organisation.Kind.PARTNER, roles={Membership.Role.ADMIN})
        )
    station = _station(obj)
    return (
        station is not None and station.host_id is not None and is_org_admin(user, station.host_id)
    )


@rules.predicate
def works_at_station(user, obj=None) -> bool:
    """Sits in the station's host partner or in a department present there."""
    if obj is None:
        return is_member_of(user)
    station = _station(obj)
    if station is None:
        return False
    mine = organisation_ids(user)
    if not mine:
        return False
    if station.host_id and seat_in(user, station.host_id):
        return True
    present = {d.pk for d in station.departments.all()}
    return bool(present & mine)


@rules.predicate
def acts_for_a_department(user) -> bool:
    return bool(organisation_ids(user, kind=Organisation.Kind.DEPARTMENT, roles=ACTING_ROLES))


rules.add_perm("stations", is_superuser | is_member_of)
rules.add_perm("stations.view_station", is_superuser | works_at_station)
rules.add_perm("stations.change_station", is_superuser | is_station_host_admin)
rules.add_perm("stations.add_station", is_superuser)
rules.add_perm("stations.delete_station", is_superuser)
# Opening hours are part of the station: whoever may change the station keeps its hours.
rules.add_perm("stations.view_openinghours", is_superuser | works_at_station)
rules.add_perm("stations.add_openinghours", is_superuser | is_station_host_admin)
rules.add_perm("stations.change_openinghours", is_superuser | is_station_host_admin)
rules.add_perm("stations.delete_openinghours", is_superuser | is_station_host_admin)

rules.add_perm("stations.view_service", is_superuser | is_department_member_of)
rules.add_perm("stations.add_service", is_superuser | acts_for_a_department)
rules.add_perm("stations.change_service", is_superuser | is_department_staff_of)
rules.add_perm("stations.delete_service", is_superuser | is_department_admin_of)

rules.add_perm("stations.view_visit", is_superuser | is_department_member_of)
rules.add_perm("stations.add_visit", is_superuser | acts_for_a_department)
rules.add_perm("stations.change_visit", is_superuser | is_department_staff_of)
rules.add_perm("stations.delete_visit", is_superuser | is_department_admin_of)
