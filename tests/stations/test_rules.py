"""Every role against every station, service and visit permission: the table in
docs/permissions.md, walked row by row, refusals included."""

from __future__ import annotations

import pytest

from governance.stations import queries
from governance.stations.models import Service, Station, Visit
from tests.factories import ServiceFactory, StationFactory, VisitFactory
from tests.permission_table import (
    ROLES,
    actor,
    assert_role_matches_its_column,
    assert_rows_are_the_documents,
    assert_rows_cover_registered_permissions,
    parse_table,
)

# The stations rows of docs/permissions.md (the test below checks the two agree).
# hukou is the department of dept admin/staff/viewer, traffic the other department;
# mall is the partner of partner admin/staff, bank the other partner.
# mall station: hosted by mall, hukou present; bank station: hosted by bank, traffic present.
# Columns after the permission and the object are the ROLES, in order.
TABLE = """
| `stations` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `stations.view_station` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `stations.view_station` | mall station | ✓ | ✓ | ✓ | ✓ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `stations.view_station` | bank station | ✓ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ | ✓ | ✗ | ✗ |
| `stations.add_station` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stations.change_station` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ | ✓ | ✗ | ✗ |
| `stations.change_station` | mall station | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ | ✗ | ✗ |
| `stations.change_station` | bank station | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ |
| `stations.delete_station` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stations.delete_station` | mall station | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stations.view_openinghours` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `stations.view_openinghours` | mall station hours | ✓ | ✓ | ✓ | ✓ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `stations.view_openinghours` | bank station hours | ✓ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ | ✓ | ✗ | ✗ |
| `stations.add_openinghours` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ | ✓ | ✗ | ✗ |
| `stations.change_openinghours` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ | ✓ | ✗ | ✗ |
| `stations.change_openinghours` | mall station hours | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ | ✗ | ✗ |
| `stations.change_openinghours` | bank station hours | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ |
| `stations.delete_openinghours` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ | ✓ | ✗ | ✗ |
| `stations.delete_openinghours` | mall station hours | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ | ✗ | ✗ |
| `stations.delete_openinghours` | bank station hours | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ |
| `stations.view_service` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stations.view_service` | hukou service | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stations.view_service` | traffic service | ✓ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stations.add_service` | — | ✓ | ✓ | ✓ | ✗ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stations.change_service` | — | ✓ | ✓ | ✓ | ✗ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stations.change_service` | hukou service | ✓ | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stations.change_service` | traffic service | ✓ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stations.delete_service` | — | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stations.delete_service` | hukou service | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stations.delete_service` | traffic service | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stations.view_visit` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stations.view_visit` | hukou visit | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stations.view_visit` | traffic visit | ✓ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stations.add_visit` | — | ✓ | ✓ | ✓ | ✗ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stations.change_visit` | — | ✓ | ✓ | ✓ | ✗ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stations.change_visit` | hukou visit | ✓ | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stations.change_visit` | traffic visit | ✓ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stations.delete_visit` | — | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stations.delete_visit` | hukou visit | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stations.delete_visit` | traffic visit | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
"""

APP = "stations"


ROWS = parse_table(TABLE, APP)


@pytest.fixture
def objects(department, other_department, partner, other_partner):
    station = StationFactory(slug="mall-station", host=partner, departments=[department])
    other_station = StationFactory(
        slug="bank-station", host=other_partner, departments=[other_department]
    )
    service = ServiceFactory(department=department, service_code="HK-ID", stations=[station])
    other_service = ServiceFactory(
        department=other_department, service_code="TR-LICENCE", stations=[other_station]
    )
    return {
        "—": None,
        "mall station": station,
        "bank station": other_station,
        "mall station hours": station.opening_hours.first(),
        "bank station hours": other_station.opening_hours.first(),
        "hukou service": service,
        "traffic service": other_service,
        "hukou visit": VisitFactory(station=station, service=service),
        "traffic visit": VisitFactory(station=other_station, service=other_service),
    }


def test_table_is_the_one_in_the_docs():
    assert_rows_are_the_documents(APP, ROWS)


def test_table_covers_every_permission_the_app_registers():
    assert_rows_cover_registered_permissions(APP, ROWS)


@pytest.mark.parametrize("role", ROLES)
def test_role_holds_exactly_the_permissions_in_the_table(request, role, objects):
    assert_role_matches_its_column(request, role, ROWS, objects)


def test_department_staff_cannot_change_a_service_without_a_department(department_staff):
    # "No department" must not read as "no object given" (which means "any department").
    assert not department_staff.has_perm("stations.change_service", Service())


def test_objects_of_another_kind_are_refused(department_staff, partner_admin, objects):
    station = objects["mall station"]
    service = objects["hukou service"]
    assert not department_staff.has_perm("stations.change_service", station)
    assert not department_staff.has_perm("stations.view_visit", station)
    assert not partner_admin.has_perm("stations.change_station", service)
    assert not partner_admin.has_perm("stations.view_station", service)


def test_seat_in_an_inactive_department_counts_for_nothing(department, objects, django_user_model):
    from tests.factories import MembershipFactory, UserFactory

    staff = MembershipFactory(
        organisation=department, role="staff", user=UserFactory(is_staff=True)
    ).user
    department.is_active = False
    department.save(update_fields=["is_active"])
    staff = django_user_model.objects.get(pk=staff.pk)
    assert not staff.has_perm("stations.view_service", objects["hukou service"])
    assert not staff.has_perm("stations.add_service")
    assert not staff.has_perm("stations.view_station", objects["mall station"])


def test_deactivated_account_acts_for_nobody(department_admin, objects, django_user_model):
    department_admin.is_active = False
    department_admin.save(update_fields=["is_active"])
    user = django_user_model.objects.get(pk=department_admin.pk)
    assert not user.has_perm("stations.change_service", objects["hukou service"])
    assert not user.has_perm("stations.view_visit", objects["hukou visit"])
    assert not user.has_perm("stations")


def test_checking_many_services_reads_the_seats_once(
    department, department_staff, django_user_model, django_assert_num_queries
):
    services = [ServiceFactory(department=department) for _ in range(20)]
    user = django_user_model.objects.get(pk=department_staff.pk)
    with django_assert_num_queries(1):
        assert all(user.has_perm("stations.change_service", service) for service in services)


def test_station_without_host_is_changed_by_superusers_only(
    superuser, partner_admin, department_staff
):
    station = StationFactory(slug="city-hall", host=None, departments=[])
    assert superuser.has_perm("stations.change_station", station)
    assert not partner_admin.has_perm("stations.change_station", station)
    assert not partner_admin.has_perm("stations.view_station", station)
    assert not department_staff.has_perm("stations.view_station", station)


@pytest.mark.parametrize(
    ("scope", "permission", "model"),
    [
        ("stations_for_admin", "stations.view_station", Station),
        ("services_for_admin", "stations.view_service", Service),
        ("visits_for_admin", "stations.view_visit", Visit),
    ],
)
def test_admin_scope_holds_exactly_what_the_rule_lets_each_role_view(
    request, objects, scope, permission, model
):
    for role in ROLES[:-1]:  # anonymous never reaches the admin
        user = actor(request, role)
        visible = set(getattr(queries, scope)(user))
        allowed = {obj for obj in model.objects.all() if user.has_perm(permission, obj)}
        assert visible == allowed, role
