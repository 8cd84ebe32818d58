"""The cases rows of docs/permissions.md, walked for every role, refusals included; the scoped
queries; and who sees a reporter's contact details.

hukou is the department of dept admin/staff/viewer (responsible for every case below but the
triage one); the mall (partner admin/staff) co-handles the shared case; the citizen reported
the public, shared and resolved cases. Columns after the permission and the object are the
ROLES, in order.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from governance.cases import queries, services
from governance.cases.models import Case, Status
from governance.stakeholders.models import Membership, User
from tests.cases.conftest import drive
from tests.permission_table import (
    ROLES,
    actor,
    assert_role_matches_its_column,
    assert_rows_are_the_documents,
    assert_rows_cover_registered_permissions,
    parse_table,
)
from tests.query_budget import capture_queries

APP = "cases"
# The cases rows of docs/permissions.md.
TABLE = """
| `cases` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `cases.view_case` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `cases.view_case` | public case | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ |
| `cases.view_case` | private case | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `cases.view_case` | shared case | ✓ | ✓ | ✓ | ✓ | ✗ | ✓ | ✓ | ✗ | ✓ | ✗ |
| `cases.view_case` | triage case | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `cases.view_case_internal` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `cases.view_case_internal` | public case | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `cases.view_case_internal` | shared case | ✓ | ✓ | ✓ | ✓ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `cases.view_case_internal` | triage case | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `cases.view_case_contact` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `cases.view_case_contact` | public case | ✓ | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ |
| `cases.view_case_contact` | private case | ✓ | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `cases.view_case_contact` | shared case | ✓ | ✓ | ✓ | ✗ | ✗ | ✓ | ✓ | ✗ | ✓ | ✗ |
| `cases.view_case_contact` | triage case | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `cases.handle_case` | — | ✓ | ✓ | ✓ | ✗ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `cases.handle_case` | public case | ✓ | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `cases.handle_case` | shared case | ✓ | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `cases.handle_case` | triage case | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `cases.triage_case` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `cases.triage_case` | triage case | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `cases.reply_case` | — | ✓ | ✓ | ✓ | ✗ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `cases.reply_case` | public case | ✓ | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `cases.reply_case` | shared case | ✓ | ✓ | ✓ | ✗ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `cases.note_case` | — | ✓ | ✓ | ✓ | ✗ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `cases.note_case` | public case | ✓ | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `cases.note_case` | shared case | ✓ | ✓ | ✓ | ✗ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `cases.attach_case` | — | ✓ | ✓ | ✓ | ✗ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `cases.attach_case` | public case | ✓ | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ |
| `cases.attach_case` | shared case | ✓ | ✓ | ✓ | ✗ | ✗ | ✓ | ✓ | ✗ | ✓ | ✗ |
| `cases.reopen_case` | — | ✓ | ✓ | ✓ | ✗ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `cases.reopen_case` | public case | ✓ | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `cases.reopen_case` | resolved case | ✓ | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ |
| `cases.follow_case` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `cases.follow_case` | public case | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ |
| `cases.follow_case` | private case | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `cases.follow_case` | shared case | ✓ | ✓ | ✓ | ✓ | ✗ | ✓ | ✓ | ✗ | ✓ | ✗ |
| `cases.handle_cohandler` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `cases.handle_cohandler` | mall task | ✓ | ✓ | ✓ | ✗ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `cases.add_case` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `cases.change_case` | public case | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `cases.delete_case` | public case | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `cases.view_category` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `cases.add_category` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `cases.change_category` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `cases.delete_category` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `cases.view_routingrule` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `cases.add_routingrule` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `cases.change_routingrule` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `cases.delete_routingrule` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `cases.view_slapolicy` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `cases.add_slapolicy` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `cases.change_slapolicy` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `cases.delete_slapolicy` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
"""
ROWS = parse_table(TABLE, APP)


@pytest.fixture
def objects(open_case, citizen, partner, lost_item, department_staff, triage_org):
    shared = open_case(is_public=False)
    mall_task = services.case_add_cohandler(
        actor=department_staff, case=shared, organisation=partner, task="调取监控"
    )
    resolved = drive(open_case(), Status.RESOLVED, actor=department_staff)
    return {
        "—": None,
        "public case": open_case(),
        "private case": open_case(actor=None, is_public=False, contact_phone="13800138000"),
        "shared case": shared,
        "triage case": open_case(actor=None, service=None, category=lost_item, is_public=False),
        "resolved case": resolved,
        "mall task": mall_task,
    }


def test_table_is_the_one_in_the_docs():
    assert_rows_are_the_documents(APP, ROWS)


def test_table_covers_every_permission_the_app_registers():
    assert_rows_cover_registered_permissions(APP, ROWS)


@pytest.mark.parametrize("role", ROLES)
def test_role_holds_exactly_the_permissions_in_the_table(request, role, objects):
    assert_role_matches_its_column(request, role, ROWS, objects)


def test_triager_sees_and_handles_only_the_cases_waiting_in_triage(triager, objects, department):
    triage = objects["triage case"]
    assert triager.has_perm("cases.view_case", triage)
    assert triager.has_perm("cases.triage_case", triage)
    assert triager.has_perm("cases.handle_case", triage)
    # Triage is not handling: the contact details stay with the handling organisations.
    assert not triager.has_perm("cases.view_case_contact", triage)
    assert not triager.has_perm("cases.view_case", objects["private case"])
    assert not triager.has_perm("cases.handle_case", objects["public case"])


@pytest.mark.parametrize("role", ROLES)
def test_visible_cases_query_agrees_with_the_view_permission(request, role, objects):
    user = actor(request, role)
    cases = [case for case in objects.values() if isinstance(case, Case)]
    expected = {case.pk for case in cases if user.has_perm("cases.view_case", case)}
    assert set(queries.cases_visible_to(user).values_list("pk", flat=True)) == expected


@pytest.mark.parametrize("role", ROLES)
def test_contact_details_only_for_the_handling_organisations_staff(request, role, objects):
    user = actor(request, role)
    private = objects["private case"]
    contact = queries.contact_for(user, private)
    if role in ("superuser", "department_admin", "department_staff"):
        assert contact.phone == "13800138000"
    else:
        assert contact is None


def test_internal_entries_are_hidden_from_the_public(objects, citizen, department_staff):
    case = objects["public case"]
    services.case_note(actor=department_staff, case=case, body="内部备注")
    services.case_reply(actor=department_staff, case=case, body="公开答复")
    assert "note" not in {e.kind for e in queries.timeline_for(citizen, case)}
    assert "routed" not in {e.kind for e in queries.timeline_for(citizen, case)}
    assert "note" in {e.kind for e in queries.timeline_for(department_staff, case)}


def test_lists_and_permission_checks_run_constant_queries(open_case, department_staff, partner):
    def listing():
        rows = list(queries.cases_visible_to(department_staff))
        for case in rows:
            department_staff.has_perm("cases.view_case_contact", case)
            queries.contact_for(department_staff, case)
        return rows

    for _ in range(2):
        open_case()
    listing()  # the user's seats are read once and kept on the user object
    small, small_queries = capture_queries(listing)
    for _ in range(8):
        case = open_case(is_public=False)
        services.case_add_cohandler(
            actor=department_staff, case=case, organisation=partner, task="协助"
        )
    large, large_queries = capture_queries(listing)
    assert len(large) == len(small) + 8
    assert len(large_queries) == len(small_queries)


def test_work_queue_holds_open_cases_of_my_organisations(
    open_case, department_staff, partner_staff
):
    case = open_case()
    drive(open_case(), Status.REJECTED, actor=department_staff)
    assert list(queries.work_queue(department_staff)) == [case]
    assert list(queries.work_queue(partner_staff)) == []


def test_assignee_who_loses_the_seat_no_longer_handles_the_case(
    open_case, department, department_admin, department_staff
):
    case = services.case_assign(actor=department_admin, case=open_case(), assignee=department_staff)
    assert department_staff.has_perm("cases.handle_case", case)
    Membership.objects.filter(user=department_staff, organisation=department).delete()
    former = User.objects.get(pk=department_staff.pk)
    assert not former.has_perm("cases.handle_case", case)
    with pytest.raises(PermissionDenied):
        services.case_transition(actor=former, case=case, to=Status.ACKNOWLEDGED)


def test_assignee_made_a_viewer_no_longer_handles_the_case(
    open_case, department, department_admin, department_staff
):
    case = services.case_assign(actor=department_admin, case=open_case(), assignee=department_staff)
    Membership.objects.filter(user=department_staff, organisation=department).update(
        role=Membership.Role.VIEWER
    )
    assert not User.objects.get(pk=department_staff.pk).has_perm("cases.handle_case", case)
