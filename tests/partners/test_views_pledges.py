"""The pledge pages: the list (what each role sees, filters, the pledges waiting for an answer,
constant queries), one pledge with its buttons (accept, decline, confirm delivery, withdraw)
and the refusals, and the offer form reached from a proposal or a case."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from governance.cases import services as case_services
from governance.proposals import services as proposal_services
from partners import services
from partners.models import Pledge
from tests.factories import MembershipFactory, UserFactory
from tests.partners.fixtures_portal import *  # noqa: F403  (the fixtures)
from tests.partners.fixtures_portal import ROLES, next_year, sign_in, today
from tests.query_budget import assert_constant_queries

pytestmark = pytest.mark.django_db

LIST = "/partners/pledges/"
NEW = "/partners/pledges/new/"


def rows_of(response, name: str = "pledge") -> list[int]:
    return [int(pk) for pk in re.findall(rf'data-{name}="(\d+)"', response.content.decode())]


def detail_url(pledge: Pledge) -> str:
    return reverse("partners:pledge", args=[pledge.pk])


def act_url(pledge: Pledge, action: str) -> str:
    return reverse("partners:pledge_act", args=[pledge.pk, action])


def test_url_names_match_the_contract():
    assert reverse("partners:pledges") == LIST
    assert reverse("partners:pledge_new") == NEW
    assert reverse("partners:pledge", args=[7]) == "/partners/pledges/7/"


# The list -----------------------------------------------------------------------------------
LIST_SEES = {
    "partner_staff",
    "partner_admin",
    "department_viewer",
    "department_staff",
    "department_admin",
    "superuser",
}


@pytest.mark.parametrize("role", ROLES)
def test_list_shows_the_partners_pledges_and_those_to_the_users_organisations(
    request, client, role, make_pledge, accepted_proposal
):
    pledge = make_pledge(proposal=accepted_proposal)
    sign_in(client, request, role)
    response = client.get(LIST)
    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
        return
    if role == "citizen":
        assert response.status_code == 403
        assert "只对各单位的成员开放" in response.content.decode()
        return
    assert response.status_code == 200
    # A public pledge is on its proposal's page for everyone; the portal list is of one's own.
    assert (pledge.pk in rows_of(response)) is (role in LIST_SEES)


@pytest.mark.parametrize("role", ROLES[1:])
def test_offered_pledges_wait_for_an_answer_only_in_the_responsible_departments_list(
    request, client, role, make_pledge, accepted_proposal
):
    pledge = make_pledge(proposal=accepted_proposal)
    sign_in(client, request, role)
    response = client.get(LIST)
    waiting = rows_of(response, "answer") if response.status_code == 200 else []
    assert (pledge.pk in waiting) is (role in {"department_staff", "department_admin"})


def test_answered_pledges_leave_the_waiting_list_but_stay_in_the_list(
    client, make_pledge, accepted_proposal, department_staff
):
    pledge = make_pledge(proposal=accepted_proposal)
    services.pledge_accept(actor=department_staff, pledge=pledge)
    client.force_login(department_staff)
    response = client.get(LIST)
    assert rows_of(response, "answer") == []
    assert rows_of(response) == [pledge.pk]
    assert "已接受" in response.content.decode()


def test_list_filters_by_status_and_target(
    client, make_pledge, accepted_proposal, case, partner_staff, department_staff
):
    offered = make_pledge(proposal=accepted_proposal)
    to_case = make_pledge(case=case, quantity="5000")
    accepted = make_pledge(proposal=accepted_proposal, quantity="20000")
    services.pledge_accept(actor=department_staff, pledge=accepted)
    client.force_login(partner_staff)
    assert set(rows_of(client.get(LIST))) == {offered.pk, to_case.pk, accepted.pk}
    assert set(rows_of(client.get(f"{LIST}?status=offered"))) == {offered.pk, to_case.pk}
    assert rows_of(client.get(f"{LIST}?status=accepted")) == [accepted.pk]
    assert rows_of(client.get(f"{LIST}?target=case")) == [to_case.pk]
    assert set(rows_of(client.get(f"{LIST}?target=proposal&status=offered"))) == {offered.pk}


def test_list_refuses_an_unknown_filter_value_with_400(client, partner_staff):
    client.force_login(partner_staff)
    response = client.get(f"{LIST}?status=nonsense")
    assert response.status_code == 400
    assert "nonsense" in response.content.decode()  # Django names the bad choice


def test_list_acts_for_one_partner_and_never_for_one_the_user_has_no_seat_in(
    client, make_pledge, accepted_proposal, partner_staff, other_partner, other_partner_admin
):
    mine = make_pledge(proposal=accepted_proposal)
    bank = make_pledge(proposal=accepted_proposal, partner=other_partner, actor=other_partner_admin)
    client.force_login(partner_staff)
    assert client.get(f"{LIST}?partner=bank").status_code == 404
    # Someone in both partners switches between them.
    MembershipFactory(user=partner_staff, organisation=other_partner, role="staff")
    response = client.get(LIST)
    assert rows_of(response) == [mine.pk]  # the first partner (by name): 万象城 before 银行
    html = response.content.decode()
    assert 'href="?partner=bank"' in html
    assert rows_of(client.get(f"{LIST}?partner=bank")) == [bank.pk]


def test_list_runs_a_constant_number_of_queries(
    client, make_pledge, accepted_proposal, case, department_staff, django_assert_max_num_queries
):
    client.force_login(department_staff)

    def make_rows(count):
        for number in range(count):
            target = {"case": case} if number % 2 else {"proposal": accepted_proposal}
            make_pledge(quantity=str(100 + number), **target)

    budget = assert_constant_queries(
        lambda: client.get(LIST),
        make_rows,
        check=lambda response, rows: len(rows_of(response, "answer")) == rows,
    )
    with django_assert_max_num_queries(budget):
        response = client.get(LIST)
    assert len(rows_of(response)) == 30  # one page of the fifty


# One pledge ---------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_a_live_pledge_to_a_public_proposal_is_public(
    request, client, role, make_pledge, accepted_proposal
):
    pledge = make_pledge(proposal=accepted_proposal, resource=None, quantity="10000")
    sign_in(client, request, role)
    response = client.get(detail_url(pledge))
    assert response.status_code == 200
    html = response.content.decode()
    assert "万象城" in html
    assert "10000 元" in html
    assert accepted_proposal.title in html


@pytest.mark.parametrize("role", ROLES)
def test_a_withdrawn_pledge_is_seen_only_by_both_sides(
    request, client, role, make_pledge, accepted_proposal, partner_staff
):
    pledge = make_pledge(proposal=accepted_proposal)
    services.pledge_withdraw(actor=partner_staff, pledge=pledge, reason="预算调整")
    sign_in(client, request, role)
    response = client.get(detail_url(pledge))
    sides = {
        "partner_staff",
        "partner_admin",
        "department_viewer",
        "department_staff",
        "department_admin",
        "superuser",
    }
    assert response.status_code == (200 if role in sides else 404)
    if role in sides:
        assert "预算调整" in response.content.decode()


def test_a_pledge_to_a_private_case_shows_its_reference_not_its_title_to_the_partner(
    client, department, service, station, make_pledge, partner_staff, department_staff
):
    from governance.cases.models import CoHandler

    private = case_services.case_open(
        actor=None,
        title="机密事项标题",
        description="内部安排",
        service=service,
        station=station,
        system=True,
        responsible=department,
        is_public=False,
    )
    CoHandler.objects.create(case=private, organisation=station.host, task="提供场地")
    pledge = make_pledge(case=private)
    client.force_login(partner_staff)
    html = client.get(detail_url(pledge)).content.decode()
    assert private.reference in html
    assert "机密事项标题" not in html


BUTTONS = ("accept", "decline", "deliver", "withdraw")


@pytest.mark.parametrize(
    ("role", "shown"),
    [
        ("anonymous", set()),
        ("citizen", set()),
        ("department_viewer", set()),
        ("department_staff", {"accept", "decline"}),
        ("department_admin", {"accept", "decline"}),
        ("other_department_staff", set()),
        ("partner_staff", {"withdraw"}),
        ("partner_admin", {"withdraw"}),
        ("other_partner_admin", set()),
        # The organisations' word: a superuser answers for none of them.
        ("superuser", set()),
    ],
)
def test_the_pledge_page_offers_each_role_its_own_buttons(
    request, client, role, shown, make_pledge, accepted_proposal
):
    pledge = make_pledge(proposal=accepted_proposal)
    sign_in(client, request, role)
    html = client.get(detail_url(pledge)).content.decode()
    offered = {action for action in BUTTONS if f'action="{act_url(pledge, action)}"' in html}
    assert offered == shown


def test_department_accepts_then_confirms_delivery(
    client, make_pledge, accepted_proposal, department_staff, kiosk
):
    pledge = make_pledge(proposal=accepted_proposal, resource=kiosk, quantity="1")
    client.force_login(department_staff)
    response = client.post(act_url(pledge, "accept"))
    assert response.status_code == 302
    assert response["Location"] == detail_url(pledge)
    pledge.refresh_from_db()
    assert pledge.status == Pledge.Status.ACCEPTED
    page = client.get(detail_url(pledge)).content.decode()
    assert "已接受这项承诺。" in page
    assert f'action="{act_url(pledge, "deliver")}"' in page
    assert "自助服务终端 × 1 台/个" in page

    assert client.post(act_url(pledge, "deliver")).status_code == 302
    pledge.refresh_from_db()
    assert pledge.status == Pledge.Status.DELIVERED
    assert pledge.delivered_by == department_staff


def test_declining_needs_a_reason_and_the_partner_reads_it(
    client, make_pledge, accepted_proposal, department_admin, partner_staff
):
    pledge = make_pledge(proposal=accepted_proposal)
    client.force_login(department_admin)
    response = client.post(act_url(pledge, "decline"), {"decline-reason": "  "})
    assert response.status_code == 400
    assert "该字段是必填项。" in response.content.decode()
    pledge.refresh_from_db()
    assert pledge.status == Pledge.Status.OFFERED

    response = client.post(act_url(pledge, "decline"), {"decline-reason": "场地已有安排"})
    assert response.status_code == 302
    pledge.refresh_from_db()
    assert (pledge.status, pledge.reason) == (Pledge.Status.DECLINED, "场地已有安排")
    client.force_login(partner_staff)
    assert "场地已有安排" in client.get(detail_url(pledge)).content.decode()


def test_a_stale_button_is_a_409_with_the_reason(
    client, make_pledge, accepted_proposal, department_staff, department_admin
):
    pledge = make_pledge(proposal=accepted_proposal)
    services.pledge_accept(actor=department_admin, pledge=pledge)
    client.force_login(department_staff)
    response = client.post(act_url(pledge, "accept"))
    assert response.status_code == 409
    assert "只有待接受的承诺才能接受或谢绝。" in response.content.decode()
    response = client.post(act_url(pledge, "decline"), {"decline-reason": "不需要"})
    assert response.status_code == 409
    pledge.refresh_from_db()
    assert pledge.status == Pledge.Status.ACCEPTED


def test_delivery_before_acceptance_is_a_409(
    client, make_pledge, accepted_proposal, department_staff
):
    pledge = make_pledge(proposal=accepted_proposal)
    client.force_login(department_staff)
    response = client.post(act_url(pledge, "deliver"))
    assert response.status_code == 409
    assert "只有已接受的承诺才能确认兑现。" in response.content.decode()


def test_partner_withdraws_with_a_reason(client, make_pledge, accepted_proposal, partner_admin):
    pledge = make_pledge(proposal=accepted_proposal)
    client.force_login(partner_admin)
    assert client.post(act_url(pledge, "withdraw"), {}).status_code == 400
    response = client.post(act_url(pledge, "withdraw"), {"withdraw-reason": "设备另作他用"})
    assert response.status_code == 302
    pledge.refresh_from_db()
    assert (pledge.status, pledge.reason) == (Pledge.Status.WITHDRAWN, "设备另作他用")
    assert (
        client.post(act_url(pledge, "withdraw"), {"withdraw-reason": "再撤一次"}).status_code == 409
    )


@pytest.mark.parametrize(
    ("role", "action", "status"),
    [
        ("partner_staff", "accept", 403),
        ("partner_admin", "deliver", 403),
        ("department_staff", "withdraw", 403),
        ("department_viewer", "accept", 403),
        ("other_department_staff", "accept", 403),
        ("other_partner_admin", "withdraw", 403),
        ("citizen", "accept", 403),
        ("superuser", "accept", 403),
    ],
)
def test_the_wrong_side_is_refused_with_403_and_nothing_changes(
    request, client, role, action, status, make_pledge, accepted_proposal
):
    pledge = make_pledge(proposal=accepted_proposal)
    sign_in(client, request, role)
    response = client.post(act_url(pledge, action), {f"{action}-reason": "理由"})
    assert response.status_code == status
    pledge.refresh_from_db()
    assert pledge.status == Pledge.Status.OFFERED


def test_acting_on_a_pledge_one_cannot_see_is_a_404(
    client, make_pledge, accepted_proposal, partner_staff, other_partner_admin
):
    pledge = make_pledge(proposal=accepted_proposal)
    services.pledge_withdraw(actor=partner_staff, pledge=pledge, reason="改期")
    client.force_login(other_partner_admin)
    assert client.post(act_url(pledge, "accept")).status_code == 404
    assert client.get(reverse("partners:pledge", args=[999_999])).status_code == 404


def test_an_unknown_action_is_a_404_and_a_get_is_a_405(
    client, make_pledge, accepted_proposal, department_staff
):
    pledge = make_pledge(proposal=accepted_proposal)
    client.force_login(department_staff)
    assert client.post(act_url(pledge, "explode")).status_code == 404
    assert client.get(act_url(pledge, "accept")).status_code == 405


def test_anonymous_posts_are_sent_to_sign_in(client, make_pledge, accepted_proposal):
    pledge = make_pledge(proposal=accepted_proposal)
    response = client.post(act_url(pledge, "accept"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


# Offering -----------------------------------------------------------------------------------
def test_the_offer_form_lists_only_the_partners_active_resources(
    client,
    accepted_proposal,
    partner_staff,
    kiosk,
    make_resource,
    other_partner,
    other_partner_admin,
):
    retired = make_resource(name_zh="旧显示屏", kind="equipment", unit="items", quantity="1")
    services.resource_update(actor=partner_staff, resource=retired, data={"is_active": False})
    theirs = make_resource(
        name_zh="银行大堂", owner=other_partner, actor=other_partner_admin, windows=()
    )
    client.force_login(partner_staff)
    response = client.get(f"{NEW}?proposal={accepted_proposal.pk}")
    assert response.status_code == 200
    html = response.content.decode()
    assert accepted_proposal.title in html
    assert "户政管理" in html  # who answers it
    assert f'value="{kiosk.pk}"' in html
    assert f'value="{retired.pk}"' not in html
    assert f'value="{theirs.pk}"' not in html
    assert "承诺资金，单位为元" in html


def test_partner_pledges_a_kiosk_to_an_accepted_proposal(
    client, accepted_proposal, partner_staff, kiosk, department_staff
):
    client.force_login(partner_staff)
    response = client.post(
        f"{NEW}?proposal={accepted_proposal.pk}",
        {
            "resource": kiosk.pk,
            "quantity": "1",
            "starts_on": today().isoformat(),
            "ends_on": next_year().isoformat(),
            "note": "放在一层服务台旁",
        },
    )
    pledge = Pledge.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail_url(pledge)
    assert (pledge.proposal, pledge.resource, pledge.unit) == (accepted_proposal, kiosk, "items")
    assert pledge.offered_by == partner_staff
    # The responsible department finds it waiting for its answer.
    client.force_login(department_staff)
    assert rows_of(client.get(LIST), "answer") == [pledge.pk]


def test_without_a_resource_the_pledge_is_money_in_yuan(client, case, partner_staff):
    client.force_login(partner_staff)
    response = client.post(
        f"{NEW}?case={case.pk}",
        {"quantity": "8000.50", "starts_on": today(), "ends_on": next_year()},
    )
    assert response.status_code == 302
    pledge = Pledge.objects.get()
    assert (pledge.case, pledge.resource, pledge.unit) == (case, None, "yuan")
    assert str(pledge.quantity) == "8000.50"


def test_a_case_may_be_named_by_its_reference_too(client, case, partner_staff):
    client.force_login(partner_staff)
    response = client.get(f"{NEW}?case={case.reference}")
    assert response.status_code == 200
    assert case.reference in response.content.decode()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"quantity": "0"}, "quantity", "确保该值大于或等于0.01"),
        ({"quantity": "1.234"}, "quantity", "确认小数不超过 2 位"),
        ({"ends_on": "2001-01-01", "starts_on": "2000-01-01"}, "ends_on", "承诺期限不能已经结束"),
        (
            {"starts_on": "2099-02-01", "ends_on": "2099-01-01"},
            "ends_on",
            "结束日期不能早于开始日期",
        ),
        ({"starts_on": "soon"}, "starts_on", "输入一个有效的日期"),
    ],
)
def test_bad_input_comes_back_on_the_form_with_400(
    client, accepted_proposal, partner_staff, data, field, message
):
    values = {"quantity": "100", "starts_on": today(), "ends_on": next_year(), **data}
    client.force_login(partner_staff)
    response = client.post(f"{NEW}?proposal={accepted_proposal.pk}", values)
    assert response.status_code == 400
    form = response.context["form"]
    assert field in form.errors, form.errors
    assert message in " ".join(form.errors[field])
    assert not Pledge.objects.exists()


def test_another_partners_resource_is_not_a_choice(
    client, accepted_proposal, partner_staff, make_resource, other_partner, other_partner_admin
):
    theirs = make_resource(
        name_zh="银行大堂", owner=other_partner, actor=other_partner_admin, windows=()
    )
    client.force_login(partner_staff)
    response = client.post(
        f"{NEW}?proposal={accepted_proposal.pk}",
        {"resource": theirs.pk, "quantity": "1", "starts_on": today(), "ends_on": next_year()},
    )
    assert response.status_code == 400
    assert "resource" in response.context["form"].errors
    assert not Pledge.objects.exists()


def test_a_proposal_the_services_refuse_is_a_form_error(
    client, proposal, partner_staff, department_staff
):
    proposal_services.proposal_answer(
        actor=department_staff, proposal=proposal, state="rejected", text="不采纳。"
    )
    client.force_login(partner_staff)
    response = client.post(
        f"{NEW}?proposal={proposal.pk}",
        {"quantity": "100", "starts_on": today(), "ends_on": next_year()},
    )
    assert response.status_code == 400
    assert "只能向征集中、评估中或已采纳的建议作出承诺。" in response.content.decode()
    assert not Pledge.objects.exists()


def test_targets_the_user_cannot_see_are_404(
    client, category, service, partner_staff, department, station
):
    draft = proposal_services.proposal_create(
        actor=UserFactory(email="drafter@example.com"),
        title="草稿",
        body="还没有发布。",
        category=category,
        scope="service",
        service=service,
    )
    private = case_services.case_open(
        actor=None,
        title="内部事项",
        description="不公开",
        service=service,
        station=station,
        system=True,
        responsible=department,
        is_public=False,
    )
    client.force_login(partner_staff)
    assert client.get(f"{NEW}?proposal={draft.pk}").status_code == 404
    assert client.get(f"{NEW}?proposal=999999").status_code == 404
    assert client.get(f"{NEW}?proposal=abc").status_code == 404
    assert client.get(f"{NEW}?case={private.pk}").status_code == 404
    assert (
        client.post(
            f"{NEW}?case={private.pk}",
            {"quantity": "1", "starts_on": today(), "ends_on": next_year()},
        ).status_code
        == 404
    )
    assert not Pledge.objects.exists()


def test_the_offer_form_needs_exactly_one_target(client, accepted_proposal, case, partner_staff):
    client.force_login(partner_staff)
    assert client.get(NEW).status_code == 400
    both = client.get(f"{NEW}?proposal={accepted_proposal.pk}&case={case.pk}")
    assert both.status_code == 400
    assert "请从一条建议或一个事项的页面发起承诺。" in both.content.decode()


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 302),
        ("citizen", 403),
        ("department_staff", 403),
        ("department_admin", 403),
        ("superuser", 403),
        ("partner_staff", 200),
        ("partner_admin", 200),
        ("other_partner_admin", 200),
    ],
)
def test_only_partners_acting_members_may_offer(request, client, role, status, accepted_proposal):
    sign_in(client, request, role)
    response = client.get(f"{NEW}?proposal={accepted_proposal.pk}")
    assert response.status_code == status
    if status == 403:
        assert "只有企业伙伴的工作人员才能作出承诺。" in response.content.decode()
