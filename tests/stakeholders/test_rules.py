"""Every role against every permission on organisations, memberships, users and the audit log:
the table in docs/permissions.md, walked row by row, refusals included."""

from __future__ import annotations

import pytest
import rules

from governance.stakeholders import queries, services
from governance.stakeholders.models import AuditEvent, Membership, Organisation
from tests.factories import MembershipFactory, UserFactory
from tests.permission_table import (
    ROLES,
    actor,
    assert_role_matches_its_column,
    assert_rows_are_the_documents,
    assert_rows_cover_registered_permissions,
    parse_table,
)

# The stakeholders rows of docs/permissions.md (the test below checks the two agree).
# hukou is the department of dept admin/staff/viewer, traffic the other department;
# mall is the partner of partner admin/staff, bank the other partner. "<org> membership" is
# someone else's staff seat in that organisation.
# Columns after the permission and the object are the ROLES, in order.
# ✓¹: Django's User.has_perm says yes to every active superuser before any rule is asked; the
# rule itself refuses (see test_audit_log_rules_refuse_even_superusers).
TABLE = """
| `stakeholders` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `stakeholders.view_organisation` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `stakeholders.view_organisation` | hukou | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stakeholders.view_organisation` | traffic | ✓ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stakeholders.view_organisation` | mall | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `stakeholders.view_organisation` | bank | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ |
| `stakeholders.add_organisation` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stakeholders.change_organisation` | — | ✓ | ✓ | ✗ | ✗ | ✗ | ✓ | ✗ | ✓ | ✗ | ✗ |
| `stakeholders.change_organisation` | hukou | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stakeholders.change_organisation` | traffic | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stakeholders.change_organisation` | mall | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ | ✗ | ✗ |
| `stakeholders.change_organisation` | bank | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ |
| `stakeholders.delete_organisation` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stakeholders.delete_organisation` | hukou | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stakeholders.delete_organisation` | mall | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stakeholders.view_membership` | — | ✓ | ✓ | ✗ | ✗ | ✗ | ✓ | ✗ | ✓ | ✗ | ✗ |
| `stakeholders.view_membership` | hukou membership | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stakeholders.view_membership` | traffic membership | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stakeholders.view_membership` | mall membership | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ | ✗ | ✗ |
| `stakeholders.view_membership` | bank membership | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ |
| `stakeholders.add_membership` | — | ✓ | ✓ | ✗ | ✗ | ✗ | ✓ | ✗ | ✓ | ✗ | ✗ |
| `stakeholders.change_membership` | — | ✓ | ✓ | ✗ | ✗ | ✗ | ✓ | ✗ | ✓ | ✗ | ✗ |
| `stakeholders.change_membership` | hukou membership | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stakeholders.change_membership` | traffic membership | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stakeholders.change_membership` | mall membership | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ | ✗ | ✗ |
| `stakeholders.change_membership` | bank membership | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ |
| `stakeholders.delete_membership` | — | ✓ | ✓ | ✗ | ✗ | ✗ | ✓ | ✗ | ✓ | ✗ | ✗ |
| `stakeholders.delete_membership` | hukou membership | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stakeholders.delete_membership` | traffic membership | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stakeholders.delete_membership` | mall membership | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ | ✗ | ✗ |
| `stakeholders.delete_membership` | bank membership | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ |
| `stakeholders.view_user` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stakeholders.view_user` | a user | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stakeholders.add_user` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stakeholders.change_user` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stakeholders.change_user` | a user | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stakeholders.delete_user` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stakeholders.delete_user` | a user | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stakeholders.view_auditevent` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stakeholders.view_auditevent` | an audit event | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stakeholders.add_auditevent` | — | ✓¹ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stakeholders.change_auditevent` | an audit event | ✓¹ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `stakeholders.delete_auditevent` | an audit event | ✓¹ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
"""

APP = "stakeholders"


ROWS = parse_table(TABLE, APP)


@pytest.fixture
def objects(department, other_department, partner, other_partner):
    def seat(organisation):
        return MembershipFactory(organisation=organisation, role=Membership.Role.STAFF)

    return {
        "—": None,
        "hukou": department,
        "traffic": other_department,
        "mall": partner,
        "bank": other_partner,
        "hukou membership": seat(department),
        "traffic membership": seat(other_department),
        "mall membership": seat(partner),
        "bank membership": seat(other_partner),
        "a user": UserFactory(),
        "an audit event": services.audit_record(
            action=AuditEvent.Action.LOGIN_FAILED, identifier="someone@example.com"
        ),
    }


def test_table_is_the_one_in_the_docs():
    assert_rows_are_the_documents(APP, ROWS)


def test_table_covers_every_permission_the_app_registers():
    assert_rows_cover_registered_permissions(APP, ROWS)


@pytest.mark.parametrize("role", ROLES)
def test_role_holds_exactly_the_permissions_in_the_table(request, role, objects):
    assert_role_matches_its_column(request, role, ROWS, objects)


@pytest.mark.parametrize(
    "permission",
    [
        "stakeholders.add_auditevent",
        "stakeholders.change_auditevent",
        "stakeholders.delete_auditevent",
    ],
)
def test_audit_log_rules_refuse_even_superusers(superuser, objects, permission):
    event = objects["an audit event"]
    assert not rules.has_perm(permission, superuser, event)
    assert not rules.has_perm(permission, superuser)


def test_viewer_seat_is_not_an_admin_seat(department, department_viewer, objects):
    assert department_viewer.has_perm("stakeholders.view_organisation", department)
    assert not department_viewer.has_perm("stakeholders.change_organisation", department)
    assert not department_viewer.has_perm(
        "stakeholders.view_membership", objects["hukou membership"]
    )


def test_seat_in_an_inactive_organisation_counts_for_nothing(
    partner, partner_admin, objects, django_user_model
):
    partner.is_active = False
    partner.save(update_fields=["is_active"])
    user = django_user_model.objects.get(pk=partner_admin.pk)
    assert not user.has_perm("stakeholders.view_organisation", partner)
    assert not user.has_perm("stakeholders.change_organisation", partner)
    assert not user.has_perm("stakeholders.view_membership", objects["mall membership"])
    assert not user.has_perm("stakeholders")


def test_deactivated_account_acts_for_nobody(partner, partner_admin, django_user_model):
    partner_admin.is_active = False
    partner_admin.save(update_fields=["is_active"])
    user = django_user_model.objects.get(pk=partner_admin.pk)
    assert not user.has_perm("stakeholders.change_organisation", partner)
    assert not user.has_perm("stakeholders.add_membership")


def test_granting_a_seat_takes_effect_on_the_next_check(partner, citizen):
    assert not citizen.has_perm("stakeholders.view_organisation", partner)
    services.membership_grant(
        actor=None, user=citizen, organisation=partner, role=Membership.Role.ADMIN
    )
    assert citizen.has_perm("stakeholders.change_organisation", partner)


def test_checking_many_organisations_reads_the_seats_once(
    partner_admin, django_user_model, django_assert_num_queries
):
    from tests.factories import PartnerFactory

    organisations = [PartnerFactory() for _ in range(20)]
    user = django_user_model.objects.get(pk=partner_admin.pk)
    with django_assert_num_queries(1):
        assert not any(
            user.has_perm("stakeholders.change_organisation", organisation)
            for organisation in organisations
        )


@pytest.mark.parametrize(
    ("scope", "permission", "model"),
    [
        ("organisations_visible_to", "stakeholders.view_organisation", Organisation),
        ("memberships_visible_to", "stakeholders.view_membership", Membership),
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
