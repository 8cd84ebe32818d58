"""The reads the case pages and notifications rely on, scoped to who may see what."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile

from governance.cases import queries, services
from governance.stakeholders.models import Membership
from governance.stakeholders.queries import acting_members
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def pdf(name="a.pdf"):
    return SimpleUploadedFile(name, b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")


def test_who_may_see_a_private_case_matches_the_visible_cases_query(
    open_case, department, department_staff, department_viewer, other_department_staff, citizen
):
    case = open_case(is_public=False)
    stranger = UserFactory(email="stranger@example.com")
    may_see = set(queries.users_who_may_see(case))
    for user in (department_staff, department_viewer, other_department_staff, citizen, stranger):
        visible = queries.cases_visible_to(user).filter(pk=case.pk).exists()
        assert (user in may_see) == visible, user
    Membership.objects.filter(user=department_viewer, organisation=department).delete()
    assert department_viewer not in set(queries.users_who_may_see(case))


def test_private_attachments_only_for_the_organisations_on_the_case(
    open_case, citizen, department_staff
):
    case = open_case()
    private = services.case_attach(actor=citizen, case=case, upload=pdf())
    public = services.case_attach(actor=department_staff, case=case, upload=pdf(), is_public=True)
    assert list(queries.attachments_for(department_staff, case)) == [private, public]
    assert list(queries.attachments_for(AnonymousUser(), case)) == [public]


def test_acting_members_are_active_admins_and_staff_of_active_organisations(
    department, department_admin, department_staff, department_viewer, partner, partner_staff
):
    assert set(acting_members([department.pk])) == {department_admin, department_staff}
    both = acting_members([department.pk, partner.pk], roles=[Membership.Role.STAFF])
    assert set(both) == {department_staff, partner_staff}
    department_staff.is_active = False
    department_staff.save(update_fields=["is_active"])
    partner.is_active = False
    partner.save(update_fields=["is_active"])
    assert set(acting_members([department.pk, partner.pk])) == {department_admin}
