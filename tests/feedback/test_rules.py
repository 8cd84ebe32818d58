"""The feedback rows of docs/permissions.md, walked for every role; and the rules the pages and
services add on top (the appeal's decider, the counter card's printers)."""

from __future__ import annotations

import pytest

from feedback.models import Appeal
from feedback.rules import staff_role
from feedback.views import may_print_for
from tests.feedback.fixtures import *  # noqa: F403  (the fixtures)
from tests.feedback.fixtures import fresh, suggestion
from tests.permission_table import (
    ROLES,
    actor,
    assert_role_matches_its_column,
    assert_rows_are_the_documents,
    assert_rows_cover_registered_permissions,
    parse_table,
)

pytestmark = pytest.mark.django_db

APP = "feedback"
# The feedback rows of docs/permissions.md.
TABLE = """
| `feedback` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `feedback.view_feedback` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `feedback.view_feedback` | hukou rating | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ |
| `feedback.view_feedback` | mall suggestion | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `feedback.view_feedback_contact` | — | ✓ | ✓ | ✓ | ✗ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `feedback.view_feedback_contact` | hukou rating | ✓ | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `feedback.view_feedback_contact` | mall suggestion | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `feedback.reply_feedback` | — | ✓ | ✓ | ✓ | ✗ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `feedback.reply_feedback` | hukou rating | ✓ | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `feedback.reply_feedback` | mall suggestion | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `feedback.appeal_feedback` | — | ✓ | ✓ | ✓ | ✗ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `feedback.appeal_feedback` | hukou rating | ✓ | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `feedback.moderate_feedback` | — | ✓ | ✓ | ✗ | ✗ | ✗ | ✓ | ✗ | ✓ | ✗ | ✗ |
| `feedback.moderate_feedback` | hukou rating | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `feedback.moderate_feedback` | mall suggestion | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ | ✗ | ✗ |
| `feedback.view_appeal` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `feedback.view_appeal` | staff's appeal | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `feedback.decide_appeal` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `feedback.decide_appeal` | staff's appeal | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `feedback.decide_appeal` | admin's appeal | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `feedback.set_policy` | — | ✓ | ✓ | ✗ | ✗ | ✗ | ✓ | ✗ | ✓ | ✗ | ✗ |
| `feedback.set_policy` | hukou | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `feedback.set_policy` | mall | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ | ✗ | ✗ |
| `feedback.add_feedback` | — | ✓² | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `feedback.change_feedback` | hukou rating | ✓² | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `feedback.delete_feedback` | hukou rating | ✓² | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `feedback.add_appeal` | — | ✓² | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `feedback.change_appeal` | staff's appeal | ✓² | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `feedback.delete_appeal` | staff's appeal | ✓² | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `feedback.view_feedbackpolicy` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `feedback.add_feedbackpolicy` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `feedback.change_feedbackpolicy` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `feedback.delete_feedbackpolicy` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
"""
ROWS = parse_table(TABLE, APP)


@pytest.fixture
def objects(department, partner, station, rate_visit, citizen, department_staff, department_admin):
    rating = rate_visit(1, actor=citizen, contact_phone="13900000001")
    other_rating = rate_visit(2)
    return {
        "—": None,
        "hukou rating": rating,
        "mall suggestion": suggestion(organisation=partner, station=station),
        "staff's appeal": Appeal.objects.create(
            feedback=rating, filed_by=department_staff, filed_role="staff", reason="r"
        ),
        "admin's appeal": Appeal.objects.create(
            feedback=other_rating, filed_by=department_admin, filed_role="admin", reason="r"
        ),
        "hukou": department,
        "mall": partner,
    }


def test_table_is_the_one_in_the_docs():
    assert_rows_are_the_documents(APP, ROWS)


def test_table_covers_every_permission_the_app_registers():
    assert_rows_cover_registered_permissions(APP, ROWS)


@pytest.mark.parametrize("role", ROLES)
def test_role_holds_exactly_the_permissions_in_the_table(request, role, objects):
    assert_role_matches_its_column(request, role, ROWS, objects)


def test_the_writes_of_the_admin_are_refused_by_the_rule_itself(superuser, objects):
    """Superusers' ✓² is Django's superuser rule; the rule refuses everyone."""
    import rules

    for permission in ("add_feedback", "change_feedback", "delete_feedback"):
        assert not rules.has_perm(f"feedback.{permission}", superuser, objects["hukou rating"])
    for permission in ("add_appeal", "change_appeal", "delete_appeal"):
        assert not rules.has_perm(f"feedback.{permission}", superuser, objects["staff's appeal"])


def test_the_filer_never_decides_even_as_an_admin(department_admin, objects):
    appeal = objects["admin's appeal"]
    assert appeal.filed_by == department_admin
    assert not fresh(department_admin).has_perm("feedback.decide_appeal", appeal)


def test_a_partners_appeals_are_decided_by_its_admin(
    partner, partner_admin, partner_staff, department_admin, objects
):
    appeal = Appeal.objects.create(
        feedback=objects["mall suggestion"], filed_by=partner_staff, filed_role="staff", reason="r"
    )
    assert fresh(partner_admin).has_perm("feedback.decide_appeal", appeal)
    assert not fresh(partner_staff).has_perm("feedback.decide_appeal", appeal)
    assert not fresh(department_admin).has_perm("feedback.decide_appeal", appeal)


def test_staff_role_names_the_seat_or_the_platform(
    department, department_staff, department_viewer, superuser, citizen
):
    assert staff_role(fresh(department_staff), department.pk) == "staff"
    assert staff_role(fresh(department_viewer), department.pk) == "viewer"
    assert staff_role(superuser, department.pk) == "superuser"
    assert staff_role(fresh(citizen), department.pk) == ""


def test_a_revoked_seat_acts_for_nothing(department, department_staff, objects):
    from governance.stakeholders.models import Membership

    Membership.objects.filter(user=department_staff).delete()
    user = fresh(department_staff)
    assert not user.has_perm("feedback.view_feedback", objects["hukou rating"])
    assert not user.has_perm("feedback.reply_feedback", objects["hukou rating"])


def test_an_inactive_organisation_counts_for_nothing(department, department_admin, objects):
    department.is_active = False
    department.save()
    user = fresh(department_admin)
    assert not user.has_perm("feedback.view_feedback", objects["hukou rating"])
    assert not user.has_perm("feedback.decide_appeal", objects["staff's appeal"])


PRINTERS = {
    "superuser": True,
    "department_admin": True,
    "department_staff": True,
    "department_viewer": False,  # reads, but a rating link is a vote: acting staff hand it out
    "other_department_staff": False,
    "partner_admin": True,
    "partner_staff": True,
    "other_partner_admin": False,
    "citizen": False,
}


@pytest.mark.parametrize("role", sorted(PRINTERS))
def test_who_may_print_a_visits_rating_card(request, role, visit):
    assert may_print_for(fresh(actor(request, role)), visit) is PRINTERS[role]
