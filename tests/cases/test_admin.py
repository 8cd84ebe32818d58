"""The cases admin through the real admin site: scoped lists, the contact details only for the
handling staff, and no way to change a case behind the timeline's back."""

from __future__ import annotations

import pytest
from django.urls import reverse

from governance.cases.models import Case

pytestmark = pytest.mark.django_db


def url(view: str, *args) -> str:
    return reverse(f"admin:cases_case_{view}", args=args)


@pytest.fixture
def cases(open_case, other_service):
    return {
        "hukou": open_case(actor=None, contact_phone="13800138000", is_public=False),
        "traffic": open_case(service=other_service, title="罚单缴费失败"),
    }


def test_staff_see_only_their_organisations_cases(mfa_client, department_staff, cases):
    client = mfa_client(department_staff)
    response = client.get(url("changelist"))
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [cases["hukou"]]
    assert client.get(url("change", cases["traffic"].pk)).status_code == 302


def test_superuser_sees_every_case(mfa_client, superuser, cases):
    response = mfa_client(superuser).get(url("changelist"))
    assert set(response.context["cl"].result_list) == set(Case.objects.all())


def test_contact_details_only_for_the_handling_staff(
    mfa_client, department_staff, department_viewer, cases
):
    case = cases["hukou"]
    staff_page = mfa_client(department_staff).get(url("change", case.pk))
    assert "13800138000" in staff_page.content.decode()
    viewer_page = mfa_client(department_viewer).get(url("change", case.pk))
    assert viewer_page.status_code == 200
    assert "13800138000" not in viewer_page.content.decode()


def test_nobody_adds_or_changes_a_case_in_the_admin(mfa_client, superuser, cases):
    client = mfa_client(superuser)
    assert client.get(url("add")).status_code == 403
    case = cases["hukou"]
    client.post(url("change", case.pk), {"title": "rewritten"})
    case.refresh_from_db()
    assert case.title != "rewritten"
    assert client.post(url("delete", case.pk), {"post": "yes"}).status_code == 403


def _act(client, action: str, cases):
    return client.post(
        url("changelist"),
        {"action": action, "_selected_action": [case.pk for case in cases]},
        follow=True,
    )


def test_staff_acknowledge_their_cases_through_the_service(mfa_client, department_staff, cases):
    case = cases["hukou"]
    response = _act(mfa_client(department_staff), "acknowledge_selected", [case])
    assert response.status_code == 200
    case.refresh_from_db()
    assert case.status == "acknowledged"
    assert case.timeline.filter(kind="status").exists()
    assert "已受理 1 个事项" in response.content.decode()


def test_an_action_names_the_cases_it_could_not_change(mfa_client, department_staff, cases):
    case = cases["hukou"]
    client = mfa_client(department_staff)
    _act(client, "acknowledge_selected", [case])
    # Acknowledged already: the service refuses and the admin says which case and why.
    page = _act(client, "acknowledge_selected", [case]).content.decode()
    assert case.reference in page
    assert "以下事项未变更" in page


def test_viewers_may_not_act_even_in_the_admin(mfa_client, department_viewer, cases):
    case = cases["hukou"]
    page = _act(mfa_client(department_viewer), "assign_to_me", [case]).content.decode()
    case.refresh_from_db()
    assert case.assignee_id is None
    assert "以下事项未变更" in page


def test_assign_to_me(mfa_client, department_staff, cases):
    case = cases["hukou"]
    _act(mfa_client(department_staff), "assign_to_me", [case])
    case.refresh_from_db()
    assert case.assignee == department_staff


def test_cases_outside_the_scope_cannot_be_selected(mfa_client, department_staff, cases):
    traffic = cases["traffic"]
    _act(mfa_client(department_staff), "assign_to_me", [traffic])
    traffic.refresh_from_db()
    assert traffic.assignee_id is None
