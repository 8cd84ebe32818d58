"""Who may read the needs radar: the table in docs/permissions.md, walked for every role, and
the members the table has no column for (community organisations, inactive seats)."""

from __future__ import annotations

import pytest

from tests.factories import MembershipFactory, OrganisationFactory, UserFactory
from tests.permission_table import (
    ROLES,
    assert_role_matches_its_column,
    assert_rows_are_the_documents,
    assert_rows_cover_registered_permissions,
    parse_table,
)

# The radar rows of docs/permissions.md (the test below checks the two agree).
TABLE = """
| `radar.view_radar` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
"""

APP = "radar"
ROWS = parse_table(TABLE, APP)

pytestmark = pytest.mark.django_db


def test_table_is_the_one_in_the_docs():
    assert_rows_are_the_documents(APP, ROWS)


def test_table_covers_every_permission_the_app_registers():
    assert_rows_cover_registered_permissions(APP, ROWS)


@pytest.mark.parametrize("role", ROLES)
def test_role_holds_exactly_the_permissions_in_the_table(request, role):
    assert_role_matches_its_column(request, role, ROWS, {"—": None})


def test_a_community_organisations_member_may_not_read_the_radar():
    resident = UserFactory(email="resident@example.com")
    committee = OrganisationFactory(kind="community", slug="committee")
    MembershipFactory(user=resident, organisation=committee, role="admin")
    assert not resident.has_perm("radar.view_radar")


def test_a_seat_in_an_inactive_department_counts_for_nothing(department, django_user_model):
    staff = MembershipFactory(organisation=department, role="viewer").user
    department.is_active = False
    department.save(update_fields=["is_active"])
    assert not django_user_model.objects.get(pk=staff.pk).has_perm("radar.view_radar")


def test_a_deactivated_account_reads_nothing(department_admin, django_user_model):
    department_admin.is_active = False
    department_admin.save(update_fields=["is_active"])
    assert not django_user_model.objects.get(pk=department_admin.pk).has_perm("radar.view_radar")
