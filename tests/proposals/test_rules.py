"""The proposals rows of docs/permissions.md, walked for every role, refusals included; the
roles the table has no column for (another citizen, the author of an organisation's
proposal, the triage desk); and the queries that must agree with the rules.

hukou is the department of dept admin/staff/viewer and answers every proposal below but the
traffic one; the citizen wrote all of them but the mall's, which mall's staff made on behalf
of mall. Columns after the permission and the object are the ROLES, in order.
"""

from __future__ import annotations

import datetime as dt

import pytest
import rules
from django.utils import timezone

from governance.proposals import queries, services
from governance.proposals.models import Proposal
from governance.stakeholders.models import Membership
from tests.permission_table import (
    ROLES,
    actor,
    assert_role_matches_its_column,
    assert_rows_are_the_documents,
    assert_rows_cover_registered_permissions,
    parse_table,
)
from tests.proposals.conftest import fresh, png

pytestmark = pytest.mark.django_db

APP = "proposals"
# The proposals rows of docs/permissions.md.
TABLE = """
| `proposals` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `proposals.view_proposal` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `proposals.view_proposal` | draft proposal | ✓⁴ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ |
| `proposals.view_proposal` | open proposal | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ |
| `proposals.view_proposal` | withdrawn proposal | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ |
| `proposals.edit_proposal` | — | ✓⁴ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.edit_proposal` | draft proposal | ✓⁴ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ |
| `proposals.edit_proposal` | open proposal | ✓⁴ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ |
| `proposals.edit_proposal` | window closed | ✓⁴ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.edit_proposal` | accepted proposal | ✓⁴ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.withdraw_proposal` | — | ✓⁴ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.withdraw_proposal` | draft proposal | ✓⁴ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.withdraw_proposal` | open proposal | ✓⁴ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ |
| `proposals.withdraw_proposal` | window closed | ✓⁴ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ |
| `proposals.withdraw_proposal` | accepted proposal | ✓⁴ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.withdraw_proposal` | withdrawn proposal | ✓⁴ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.support_proposal` | — | ✓⁴ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.support_proposal` | draft proposal | ✓⁴ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.support_proposal` | open proposal | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ |
| `proposals.support_proposal` | accepted proposal | ✓⁴ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.support_proposal` | withdrawn proposal | ✓⁴ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.comment_proposal` | — | ✓⁴ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.comment_proposal` | draft proposal | ✓⁴ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.comment_proposal` | open proposal | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ |
| `proposals.comment_proposal` | accepted proposal | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ |
| `proposals.comment_proposal` | withdrawn proposal | ✓⁴ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.follow_proposal` | — | ✓⁴ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.follow_proposal` | draft proposal | ✓⁴ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.follow_proposal` | open proposal | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ |
| `proposals.answer_proposal` | — | ✓⁴ | ✓ | ✓ | ✗ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `proposals.answer_proposal` | open proposal | ✓⁴ | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.answer_proposal` | traffic proposal | ✓⁴ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.manage_result` | — | ✓⁴ | ✓ | ✓ | ✗ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `proposals.manage_result` | accepted proposal | ✓⁴ | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.manage_result` | traffic proposal | ✓⁴ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.moderate_proposal` | — | ✓ | ✓ | ✓ | ✗ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `proposals.moderate_proposal` | open proposal | ✓ | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.moderate_proposal` | comment | ✓ | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.moderate_proposal` | traffic proposal | ✓ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.route_proposal` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.route_proposal` | open proposal | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.add_proposal` | — | ✓³ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.change_proposal` | open proposal | ✓³ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.delete_proposal` | open proposal | ✓³ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.view_proposalversion` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `proposals.add_proposalversion` | — | ✓³ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.change_proposalversion` | — | ✓³ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.delete_proposalversion` | — | ✓³ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.view_attachment` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `proposals.view_attachment` | draft's attachment | ✓⁴ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.add_attachment` | — | ✓³ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.change_attachment` | draft's attachment | ✓³ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.delete_attachment` | draft's attachment | ✓³ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.view_support` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `proposals.view_support` | a support | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.add_support` | — | ✓³ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.change_support` | a support | ✓³ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.delete_support` | a support | ✓³ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.view_follow` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `proposals.add_follow` | — | ✓³ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.change_follow` | — | ✓³ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.delete_follow` | — | ✓³ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.view_comment` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `proposals.view_comment` | comment | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.view_comment` | comment on mall's proposal | ✓ | ✓ | ✓ | ✓ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `proposals.add_comment` | — | ✓³ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.change_comment` | comment | ✓³ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.delete_comment` | comment | ✓³ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.view_commentvote` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `proposals.add_commentvote` | — | ✓³ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.change_commentvote` | — | ✓³ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.delete_commentvote` | — | ✓³ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.view_commentflag` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `proposals.add_commentflag` | — | ✓³ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.change_commentflag` | — | ✓³ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.delete_commentflag` | — | ✓³ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.view_answer` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `proposals.view_answer` | hukou's answer | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.view_answer` | mall's draft answer | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.add_answer` | — | ✓³ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.change_answer` | hukou's answer | ✓³ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.delete_answer` | hukou's answer | ✓³ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.view_result` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `proposals.add_result` | — | ✓³ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.change_result` | — | ✓³ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.delete_result` | — | ✓³ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.view_milestone` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `proposals.add_milestone` | — | ✓³ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.change_milestone` | — | ✓³ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.delete_milestone` | — | ✓³ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.view_resultcase` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `proposals.add_resultcase` | — | ✓³ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.change_resultcase` | — | ✓³ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.delete_resultcase` | — | ✓³ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.view_category` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `proposals.add_category` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.change_category` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `proposals.delete_category` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
"""
ROWS = parse_table(TABLE, APP)
# Rows whose superuser ✓ is only Django's superuser rule: the rule itself says no.
SUPERUSER_BY_DJANGO_ONLY = {
    (line.split("|")[1].strip().strip("`"), line.split("|")[2].strip())
    for line in TABLE.splitlines()
    if line.startswith("| `") and line.split("|")[3].strip() in {"✓³", "✓⁴"}
}


@pytest.fixture
def objects(
    propose,
    answer,
    citizen,
    partner,
    partner_staff,
    other_service,
    people,
    triage_org,
    department_staff,
):
    draft = propose(publish=False, uploads=[png()])
    open_proposal = propose()
    window_closed = propose()
    Proposal.objects.filter(pk=window_closed.pk).update(
        edit_until=timezone.now() - dt.timedelta(minutes=1)
    )
    window_closed.refresh_from_db()
    accepted = propose()
    hukou_answer = answer(accepted, "accepted")
    accepted.refresh_from_db()
    withdrawn = services.proposal_withdraw(actor=citizen, proposal=propose())
    malls = propose(actor=partner_staff, on_behalf_of=partner)
    [supporter] = people(1)
    services.proposal_support(actor=supporter, proposal=open_proposal)
    return {
        "—": None,
        "draft proposal": draft,
        "open proposal": open_proposal,
        "window closed": window_closed,
        "accepted proposal": accepted,
        "withdrawn proposal": withdrawn,
        "traffic proposal": propose(service=other_service),
        "comment": services.comment_add(actor=supporter, proposal=open_proposal, body="支持"),
        "comment on mall's proposal": services.comment_add(
            actor=supporter, proposal=malls, body="好"
        ),
        "a support": open_proposal.supports.get(),
        "hukou's answer": hukou_answer,
        "mall's draft answer": services.answer_draft(
            actor=department_staff, proposal=malls, state="evaluating", text="正在评估"
        ),
        "draft's attachment": draft.attachments.get(),
        "mall's proposal": malls,
    }


def test_table_is_the_one_in_the_docs():
    assert_rows_are_the_documents(APP, ROWS)


def test_table_covers_every_permission_the_app_registers():
    assert_rows_cover_registered_permissions(APP, ROWS)


@pytest.mark.parametrize("role", ROLES)
def test_role_holds_exactly_the_permissions_in_the_table(request, role, objects):
    assert_role_matches_its_column(request, role, ROWS, objects)


def test_the_rule_itself_refuses_the_superuser_where_the_table_says_so(superuser, objects):
    """A superuser's ✓³ and ✓⁴ are Django's superuser rule; the rule says no, and the
    services (which ask the rule, or check the author) refuse."""
    assert SUPERUSER_BY_DJANGO_ONLY
    for permission, label, _marks in ROWS:
        expected = (permission, label) not in SUPERUSER_BY_DJANGO_ONLY
        assert rules.has_perm(permission, superuser, objects[label]) is expected, (
            permission,
            label,
        )


# Roles the table has no column for --------------------------------------------------------------
OTHER_CITIZEN = {
    ("proposals.view_proposal", "draft proposal"): False,
    ("proposals.view_proposal", "open proposal"): True,
    ("proposals.edit_proposal", "open proposal"): False,
    ("proposals.withdraw_proposal", "open proposal"): False,
    ("proposals.support_proposal", "open proposal"): True,
    ("proposals.comment_proposal", "open proposal"): True,
    ("proposals.follow_proposal", "open proposal"): True,
    ("proposals.answer_proposal", "open proposal"): False,
    ("proposals.moderate_proposal", "comment"): False,
    ("proposals.view_comment", "comment"): False,
    ("proposals", "—"): False,
}


@pytest.mark.parametrize(("permission", "label"), sorted(OTHER_CITIZEN))
def test_another_citizen_is_the_public(other_citizen, objects, permission, label):
    assert other_citizen.has_perm(permission, objects[label]) is OTHER_CITIZEN[(permission, label)]


TRIAGER = {
    ("proposals.route_proposal", "—"): True,
    ("proposals.route_proposal", "open proposal"): True,
    ("proposals.moderate_proposal", "comment"): True,
    ("proposals.moderate_proposal", "traffic proposal"): True,
    ("proposals.view_comment", "comment"): True,
    ("proposals.view_comment", "comment on mall's proposal"): True,
    ("proposals.view_attachment", "draft's attachment"): False,
    ("proposals.answer_proposal", "open proposal"): False,
    ("proposals.manage_result", "accepted proposal"): False,
    ("proposals.view_proposal", "draft proposal"): False,
}


@pytest.mark.parametrize(("permission", "label"), sorted(TRIAGER))
def test_the_triage_desk_routes_and_moderates_but_does_not_answer(
    triager, objects, permission, label
):
    assert fresh(triager).has_perm(permission, objects[label]) is TRIAGER[(permission, label)]


def test_a_triage_desk_viewer_does_not_route(triage_org, objects):
    from tests.factories import MembershipFactory

    viewer = MembershipFactory(organisation=triage_org, role=Membership.Role.VIEWER).user
    assert not fresh(viewer).has_perm("proposals.route_proposal", objects["open proposal"])
    assert not fresh(viewer).has_perm("proposals.moderate_proposal", objects["comment"])


def test_the_author_of_an_organisations_proposal_edits_it_not_the_organisation(
    partner_staff, partner_admin, objects
):
    malls = objects["mall's proposal"]
    assert partner_staff.has_perm("proposals.edit_proposal", malls)
    assert partner_staff.has_perm("proposals.withdraw_proposal", malls)
    assert not partner_admin.has_perm("proposals.edit_proposal", malls)
    assert not partner_admin.has_perm("proposals.withdraw_proposal", malls)


def test_a_revoked_seat_acts_for_nothing(department_staff, objects):
    Membership.objects.filter(user=department_staff).delete()
    user = fresh(department_staff)
    assert not user.has_perm("proposals.answer_proposal", objects["open proposal"])
    assert not user.has_perm("proposals.moderate_proposal", objects["comment"])
    assert not user.has_perm("proposals.view_comment", objects["comment"])
    assert not user.has_perm("proposals")


def test_an_inactive_organisation_counts_for_nothing(department, department_admin, objects):
    department.is_active = False
    department.save()
    user = fresh(department_admin)
    assert not user.has_perm("proposals.answer_proposal", objects["open proposal"])
    assert not user.has_perm("proposals.manage_result", objects["accepted proposal"])
    assert not user.has_perm("proposals.view_answer", objects["hukou's answer"])


def test_a_deactivated_account_is_nobody(citizen, objects):
    citizen.is_active = False
    citizen.save()
    user = fresh(citizen)
    assert not user.has_perm("proposals.view_proposal", objects["draft proposal"])
    assert not user.has_perm("proposals.support_proposal", objects["open proposal"])
    assert not user.has_perm("proposals.withdraw_proposal", objects["open proposal"])


# The queries agree with the rules ----------------------------------------------------------------
@pytest.mark.parametrize("role", [role for role in ROLES if role != "superuser"])
def test_visible_proposals_agree_with_the_view_permission(request, role, objects):
    user = actor(request, role)
    proposals = [value for value in objects.values() if isinstance(value, Proposal)]
    expected = {p.pk for p in proposals if user.has_perm("proposals.view_proposal", p)}
    assert set(queries.visible_to(user).values_list("pk", flat=True)) == expected


def test_superusers_read_no_ones_draft_on_the_pages(superuser, objects):
    """The rule lets a superuser open a draft (the admin); the public pages list only
    published proposals and the reader's own drafts, for superusers too."""
    assert objects["draft proposal"].pk not in set(
        queries.visible_to(superuser).values_list("pk", flat=True)
    )


@pytest.mark.parametrize("role", ROLES)
def test_the_answer_list_agrees_with_the_answer_permission(request, role, objects):
    user = actor(request, role)
    open_ones = [
        value
        for value in objects.values()
        if isinstance(value, Proposal) and value.status in ("published", "evaluating")
    ]
    expected = {p.pk for p in open_ones if rules.has_perm("proposals.answer_proposal", user, p)}
    assert set(queries.to_answer(user).values_list("pk", flat=True)) == expected


@pytest.mark.parametrize("role", ROLES)
def test_the_flagged_list_agrees_with_the_moderation_permission(request, role, objects, people):
    flagger = people(1, prefix="flagger")[0]
    for label in ("comment", "comment on mall's proposal"):
        services.comment_flag(actor=flagger, comment=objects[label], reason="广告")
    user = actor(request, role)
    expected = {
        objects[label].pk
        for label in ("comment", "comment on mall's proposal")
        if user.has_perm("proposals.moderate_proposal", objects[label])
    }
    assert {comment.pk for comment in queries.flagged_comments(user)} == expected
