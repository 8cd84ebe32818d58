"""The staff work queue: who may open it, what each tab lists, the filters, and bulk
assignment (all or nothing)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from governance.cases import services
from governance.cases.models import Case, Priority, Status
from tests.cases.conftest import drive
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

URL = "/cases/queue/"


def listed(response) -> set[str]:
    assert response.status_code == 200, response.status_code
    return {case.reference for case in response.context["page"].object_list}


def refs(*cases) -> set[str]:
    return {case.reference for case in cases}


def set_due(case, delta: dt.timedelta) -> Case:
    Case.objects.filter(pk=case.pk).update(resolve_due_at=timezone.now() + delta)
    return Case.objects.get(pk=case.pk)


@pytest.fixture
def desk(
    open_case,
    department_admin,
    department_staff,
    partner,
    facility,
    other_service,
    lost_item,
    triage_org,
    station,
):
    """hukou: a (assigned to dept staff, overdue), b (high, acknowledged, due soon), shared
    (co-handled by mall), resolved; mall: facility; triage: lost, fine (no rule matched)."""
    a = open_case(title="a")
    services.case_assign(actor=department_admin, case=a, assignee=department_staff)
    b = drive(
        open_case(title="b", priority=Priority.HIGH), Status.ACKNOWLEDGED, actor=department_admin
    )
    shared = open_case(title="shared", station=None, address="南门")
    services.case_add_cohandler(
        actor=department_admin, case=shared, organisation=partner, task="协助"
    )
    cases = {
        "a": a,
        "b": b,
        "shared": shared,
        "resolved": drive(open_case(title="resolved"), Status.RESOLVED, actor=department_admin),
        "facility": open_case(title="facility", service=None, category=facility),
        "lost": open_case(title="lost", actor=None, service=None, category=lost_item),
        "fine": open_case(
            title="fine", actor=None, service=other_service, station=None, address="x"
        ),
    }
    for case in cases.values():
        set_due(case, dt.timedelta(days=10))
    cases["a"] = set_due(a, -dt.timedelta(hours=1))
    cases["b"] = set_due(b, dt.timedelta(hours=2))
    return cases


@pytest.mark.parametrize("role", ["department_viewer", "citizen"])
def test_viewers_and_citizens_get_403(request, client, role, desk):
    client.force_login(request.getfixturevalue(role))
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"cases": [desk["a"].reference]}).status_code == 403
    assert Case.objects.get(pk=desk["a"].pk).assignee.email == "dept.staff@example.com"


@pytest.mark.parametrize(
    ("role", "tab", "expected"),
    [
        ("department_staff", "department", {"a", "b", "shared"}),
        ("department_staff", "mine", {"a"}),
        ("department_staff", "triage", set()),
        ("department_staff", "overdue", {"a"}),
        ("department_staff", "due_soon", {"b"}),
        ("department_admin", "mine", set()),
        ("partner_staff", "department", {"facility", "shared"}),
        ("other_department_staff", "department", set()),
        ("triager", "triage", {"lost", "fine"}),
        ("triager", "department", set()),
        ("superuser", "department", {"a", "b", "shared", "facility", "lost", "fine"}),
        ("superuser", "triage", {"lost", "fine"}),
    ],
)
def test_each_tab_lists_the_right_cases(request, client, desk, role, tab, expected):
    client.force_login(request.getfixturevalue(role))
    response = client.get(URL, {"tab": tab})
    assert listed(response) == {desk[name].reference for name in expected}
    assert response.context["tab"] == tab


def test_default_tab_is_my_organisations_and_tabs_are_counted(client, desk, department_staff):
    client.force_login(department_staff)
    response = client.get(URL)
    assert listed(response) == refs(desk["a"], desk["b"], desk["shared"])
    counts = {key: count for key, _label, count in response.context["tabs"]}
    assert counts == {"mine": 1, "department": 3, "triage": 0, "overdue": 1, "due_soon": 1}
    html = response.content.decode()
    assert 'class="overdue"' in html
    assert 'class="due-soon"' in html


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": Status.ACKNOWLEDGED}, {"b"}),
        ({"priority": Priority.HIGH}, {"b"}),
        ({"station": "mall-station"}, {"a", "b"}),
        ({"service": "HK-ID"}, {"a", "b", "shared"}),
        ({"category": "facility"}, set()),
        ({"reference": "__a__"}, {"a"}),
        ({"status": Status.NEW, "station": "mall-station"}, {"a"}),
    ],
)
def test_filters(client, desk, department_staff, params, expected):
    if params.get("reference") == "__a__":
        params = {"reference": f"  {desk['a'].reference.lower()} "}
    client.force_login(department_staff)
    assert listed(client.get(URL, params)) == {desk[name].reference for name in expected}


def test_category_filter_on_the_partners_queue(client, desk, partner_staff):
    client.force_login(partner_staff)
    assert listed(client.get(URL, {"category": "facility"})) == refs(desk["facility"])


def test_bad_filters_are_not_a_500(client, desk, department_staff):
    client.force_login(department_staff)
    for params in (
        {"status": "bogus"},
        {"station": "nowhere"},
        {"tab": "everything"},
        {"page": "abc"},
        {"page": "999"},
        {"reference": "x" * 100},
    ):
        assert client.get(URL, params).status_code == 200, params


# Bulk assignment -------------------------------------------------------------------------------
def test_bulk_assign_assigns_every_selected_case(client, desk, department_admin, department_staff):
    client.force_login(department_admin)
    picked = [desk["b"].reference, desk["shared"].reference]
    response = client.post(
        f"{URL}?tab=department", {"cases": picked, "assignee": department_admin.pk}
    )
    assert response.status_code == 302
    assert response["Location"] == f"{URL}?tab=department"
    assert set(Case.objects.filter(reference__in=picked).values_list("assignee", flat=True)) == {
        department_admin.pk
    }
    html = client.get(response["Location"]).content.decode()
    assert "已把 2 个事项指派给" in html


def test_a_batch_with_one_case_that_cannot_take_the_assignee_assigns_none(
    client, desk, department_admin, department_staff, partner
):
    # An admin of hukou who also sits in the mall sees both organisations' cases in the queue;
    # the hukou staff member cannot take the mall's case, so nothing is assigned.
    MembershipFactory(organisation=partner, role="staff", user=department_admin)
    client.force_login(department_admin)
    picked = [desk["b"].reference, desk["facility"].reference, desk["shared"].reference]
    response = client.post(URL, {"cases": picked, "assignee": department_staff.pk})
    assert response.status_code in (200, 400)
    assert not Case.objects.filter(reference__in=picked, assignee__isnull=False).exists()
    html = response.content.decode()
    assert "没有指派任何事项" in html
    assert desk["facility"].reference in html.split("没有指派任何事项")[1][:200]


def test_a_batch_with_a_case_the_user_only_co_handles_assigns_none(
    client, desk, partner_staff, partner_admin
):
    client.force_login(partner_admin)
    picked = [desk["facility"].reference, desk["shared"].reference]
    response = client.post(URL, {"cases": picked, "assignee": partner_staff.pk})
    assert response.status_code in (200, 400)
    assert not Case.objects.filter(reference__in=picked, assignee__isnull=False).exists()
    assert desk["shared"].reference in response.content.decode().split("没有指派任何事项")[1][:200]


def test_bulk_assign_refuses_cases_outside_the_queue_and_strangers(
    client, desk, department_admin, department_staff, other_department_staff
):
    client.force_login(department_admin)
    outside = client.post(
        URL,
        {
            "cases": [desk["b"].reference, desk["facility"].reference],
            "assignee": department_staff.pk,
        },
    )
    assert outside.status_code == 400
    stranger = client.post(
        URL, {"cases": [desk["b"].reference], "assignee": other_department_staff.pk}
    )
    assert stranger.status_code == 400
    assert client.post(URL, {"cases": [], "assignee": department_staff.pk}).status_code == 400
    assert client.post(URL, {"cases": [desk["b"].reference], "assignee": "x"}).status_code == 400
    assert Case.objects.get(pk=desk["b"].pk).assignee is None
