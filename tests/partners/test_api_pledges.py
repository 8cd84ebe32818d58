"""The partners API's pledges: who sees which, offering, and the answers (accept, decline,
deliver) and the withdrawal, for every role; bad input that writes nothing; state refusals
as 409s with their code; filters and query counts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from partners import services
from partners.models import Pledge
from tests.partners.fixtures_api import *  # noqa: F403  (fixtures, found by pytest here)
from tests.partners.fixtures_api import ROLES, client_for, url
from tests.query_budget import assert_constant_queries

pytestmark = pytest.mark.django_db

PLEDGES = url("pledges")
HUKOU = {"department_viewer", "department_staff", "department_admin"}
MALL = {"partner_admin", "partner_staff", "partner_viewer"}


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content[:500]
    return [row["id"] for row in response.json()["results"]]


def days(count: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=count)


def offer_input(**overrides) -> dict:
    values = {
        "quantity": "2",
        "note": "两台自助拍照机，含安装",
        "starts_on": days(7).isoformat(),
        "ends_on": days(90).isoformat(),
    }
    values.update(overrides)
    return values


@pytest.fixture
def pledge(partner, partner_admin, proposal, atrium):
    """The mall pledges its atrium to the proposal (hukou answers it)."""

    def make(*, actor=None, owner=None, resource=atrium, **target) -> Pledge:
        target = target or {"proposal": proposal}
        return services.pledge_offer(
            actor=actor or partner_admin,
            partner=owner or partner,
            quantity=Decimal("50"),
            starts_on=days(7),
            ends_on=days(60),
            resource=resource,
            note="周末可用",
            **target,
        )

    return make


# Who sees which -------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_live_pledges_to_public_proposals_are_public_and_declined_ones_stay_with_both_sides(
    roles, role, pledge, department_staff
):
    live = pledge()
    declined = pledge()
    services.pledge_decline(actor=department_staff, pledge=declined, reason="已有场地")
    client = client_for(roles[role])

    listed = ids(client.get(PLEDGES))
    sides = role in HUKOU | MALL | {"superuser"}

    assert live.pk in listed
    assert client.get(url("pledges", live)).status_code == 200
    assert (declined.pk in listed) is sides
    assert client.get(url("pledges", declined)).status_code == (200 if sides else 404)


@pytest.mark.parametrize("role", ROLES)
def test_a_pledge_to_a_private_case_is_seen_by_both_sides_only(
    roles, role, partner, partner_admin, service, station, department
):
    from governance.cases.services import case_open
    from tests.cases.factories import RoutingRuleFactory

    RoutingRuleFactory(service=service, responsible=department)
    # The mall's admin reported it, so the mall may read it and pledge to it.
    private = case_open(
        actor=partner_admin,
        title="东门通道缺少扶手",
        description="轮椅通行不便。",
        service=service,
        station=station,
        is_public=False,
    )
    offered = services.pledge_offer(
        actor=partner_admin,
        partner=partner,
        quantity=Decimal("2"),
        unit="people",
        starts_on=days(1),
        ends_on=days(30),
        case=private,
        note="派两名志愿者引导",
    )
    client = client_for(roles[role])

    sides = role in HUKOU | MALL | {"superuser"}
    assert (offered.pk in ids(client.get(PLEDGES))) is sides
    response = client.get(url("pledges", offered))
    assert response.status_code == (200 if sides else 404)
    if sides:
        assert response.json()["case"]["reference"] == private.reference
        assert response.json()["case"]["title"] is None  # a private case's title stays inside


def test_a_pledge_row_names_the_partner_the_resource_and_the_target(
    pledge, proposal, atrium, case, partner_admin
):
    to_proposal = pledge()
    to_case = pledge(case=case, resource=None)

    rows = {row["id"]: row for row in client_for().get(PLEDGES).json()["results"]}

    row = rows[to_proposal.pk]
    assert row["url"] == f"http://testserver{url('pledges', to_proposal)}"
    assert row["page_url"] == f"/partners/pledges/{to_proposal.pk}/"
    assert row["partner"]["slug"] == "mall"
    assert row["resource"]["id"] == atrium.pk
    assert row["proposal"]["id"] == proposal.pk
    assert row["proposal"]["title"] == "增加自助拍照机"
    assert row["proposal"]["url"].endswith(f"/api/v1/proposals/{proposal.pk}/")
    assert row["case"] is None
    assert (row["quantity"], row["unit"], row["unit_label"]) == ("50.00", "sqm", "平方米")
    assert row["status"] == "offered"
    assert row["status_label"] == "已承诺"
    assert row["starts_on"] == days(7).isoformat()
    assert row["note"] == "周末可用"
    assert "permissions" not in row
    other = rows[to_case.pk]
    assert other["resource"] is None
    assert other["unit"] == "yuan"  # no resource: money
    assert other["proposal"] is None
    assert other["case"]["reference"] == case.reference
    assert other["case"]["title"] == "自助机无法打印"
    assert other["case"]["url"].endswith(f"/api/v1/cases/{case.reference}/")


NOTHING = {"accept": False, "decline": False, "deliver": False, "withdraw": False}


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", NOTHING),
        ("citizen", NOTHING),
        ("department_viewer", NOTHING),
        ("department_staff", {**NOTHING, "accept": True, "decline": True}),
        ("partner_staff", {**NOTHING, "withdraw": True}),
        ("partner_viewer", NOTHING),
        ("superuser", NOTHING),
    ],
)
def test_the_detail_says_what_the_caller_may_do(roles, role, expected, pledge):
    offered = pledge()
    response = client_for(roles[role]).get(url("pledges", offered))
    assert response.json()["permissions"] == expected


def test_the_list_filters_by_status_partner_proposal_case_and_resource(
    pledge, proposal, case, atrium, department_staff, other_partner, other_partner_admin
):
    first = pledge()
    to_case = pledge(case=case, resource=None)
    banks = pledge(actor=other_partner_admin, owner=other_partner, resource=None)
    services.pledge_accept(actor=department_staff, pledge=first)
    client = client_for(department_staff)

    assert ids(client.get(PLEDGES, {"status": "accepted"})) == [first.pk]
    assert ids(client.get(PLEDGES, {"partner": "bank"})) == [banks.pk]
    assert set(ids(client.get(PLEDGES, {"proposal": proposal.pk}))) == {first.pk, banks.pk}
    assert ids(client.get(PLEDGES, {"case": case.reference})) == [to_case.pk]
    assert ids(client.get(PLEDGES, {"resource": atrium.pk})) == [first.pk]
    # Newest first.
    assert ids(client.get(PLEDGES)) == [banks.pk, to_case.pk, first.pk]


@pytest.mark.parametrize(
    "query", [{"status": "promised"}, {"partner": "hukou"}, {"proposal": "x"}, {"resource": "0"}]
)
def test_a_bad_filter_is_a_400_naming_it(query):
    response = client_for().get(PLEDGES, query)
    assert response.status_code == 400
    assert set(response.json()) == set(query)


def test_the_list_runs_a_constant_number_of_queries(pledge, case, partner_admin):
    def add(count):
        for number in range(count):
            pledge(**({"case": case, "resource": None} if number % 2 else {}))

    for user in (None, partner_admin):
        Pledge.objects.all().delete()
        assert_constant_queries(
            lambda user=user: client_for(user).get(PLEDGES, {"page_size": 100}),
            add,
            check=lambda response, rows: response.json()["count"] == rows,
        )


# Offering -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("role", "expected", "partner_slug"),
    [
        ("anonymous", 401, None),
        ("citizen", 403, None),
        ("department_viewer", 403, None),
        ("department_staff", 403, None),
        ("department_admin", 403, None),
        ("partner_viewer", 403, None),
        ("superuser", 403, None),  # a pledge is a partner's word
        ("partner_staff", 201, "mall"),
        ("partner_admin", 201, "mall"),
        ("other_partner_admin", 201, "bank"),
    ],
)
def test_partners_acting_members_pledge_and_others_are_refused(
    roles, role, expected, partner_slug, proposal
):
    response = client_for(roles[role]).post(
        PLEDGES, offer_input(proposal=proposal.pk), format="json"
    )

    assert response.status_code == expected, response.content[:300]
    if expected == 201:
        body = response.json()
        assert body["partner"]["slug"] == partner_slug
        assert body["status"] == "offered"
        assert body["unit"] == "yuan"
        assert body["quantity"] == "2.00"
        assert body["permissions"]["withdraw"] is True
        assert Pledge.objects.get(pk=body["id"]).offered_by == roles[role]
    else:
        assert not Pledge.objects.exists()


def test_a_pledge_of_a_resource_takes_its_unit_and_may_go_to_a_case(partner_staff, atrium, case):
    response = client_for(partner_staff).post(
        PLEDGES, offer_input(case=case.reference, resource=atrium.pk), format="json"
    )
    assert response.status_code == 201, response.content[:300]
    body = response.json()
    assert body["unit"] == "sqm"
    assert body["case"]["reference"] == case.reference
    assert body["resource"]["id"] == atrium.pk


@pytest.mark.parametrize(
    ("case_name", "field"),
    [
        ("both_targets", "proposal"),
        ("no_target", "proposal"),
        ("unknown_proposal", "proposal"),
        ("unknown_case", "case"),
        ("another_partners_resource", "resource"),
        ("unknown_resource", "resource"),
        ("zero", "quantity"),
        ("three_decimals", "quantity"),
        ("ends_before_it_starts", "ends_on"),
        ("already_over", "ends_on"),
        ("bad_unit", "unit"),
        ("not_a_date", "starts_on"),
        ("long_note", "note"),
    ],
)
def test_a_bad_offer_is_a_400_naming_the_field_and_writes_nothing(
    partner_admin, proposal, case, bank_screen, case_name, field
):
    values = offer_input(proposal=proposal.pk)
    if case_name == "both_targets":
        values["case"] = case.reference
    elif case_name == "no_target":
        del values["proposal"]
    elif case_name == "unknown_proposal":
        values["proposal"] = 987654321
    elif case_name == "unknown_case":
        del values["proposal"]
        values["case"] = "NOPE-1"
    elif case_name == "another_partners_resource":
        values["resource"] = bank_screen.pk
    elif case_name == "unknown_resource":
        values["resource"] = 987654321
    elif case_name == "zero":
        values["quantity"] = 0
    elif case_name == "three_decimals":
        values["quantity"] = "1.005"
    elif case_name == "ends_before_it_starts":
        values["ends_on"] = days(6).isoformat()
    elif case_name == "already_over":
        values.update(starts_on=days(-30).isoformat(), ends_on=days(-1).isoformat())
    elif case_name == "bad_unit":
        values["unit"] = "bushels"
    elif case_name == "not_a_date":
        values["starts_on"] = "next week"
    elif case_name == "long_note":
        values["note"] = "x" * 501

    response = client_for(partner_admin).post(PLEDGES, values, format="json")

    assert response.status_code == 400, response.content[:300]
    assert field in response.json()
    assert not Pledge.objects.exists()


def test_a_case_the_partner_cannot_read_is_unknown_to_it(
    partner_admin, service, station, department, citizen
):
    from governance.cases.services import case_open
    from tests.cases.factories import RoutingRuleFactory

    RoutingRuleFactory(service=service, responsible=department)
    private = case_open(
        actor=citizen,
        title="个人证件遗失",
        description="身份证遗失在服务站。",
        service=service,
        station=station,
        is_public=False,
    )
    response = client_for(partner_admin).post(
        PLEDGES, offer_input(case=private.reference), format="json"
    )
    assert response.status_code == 400
    assert "case" in response.json()
    assert not Pledge.objects.exists()


# Answering and withdrawing ---------------------------------------------------------------------
ANSWERERS = [
    ("anonymous", 401),
    ("citizen", 403),
    ("other_department_staff", 403),
    ("other_partner_admin", 403),
    ("partner_admin", 403),  # the partner does not answer its own pledge
    ("department_viewer", 403),
    ("superuser", 403),
    ("department_staff", 200),
    ("department_admin", 200),
]


@pytest.mark.parametrize(("role", "expected"), ANSWERERS)
def test_the_responsible_department_accepts_a_pledge(roles, role, expected, pledge):
    offered = pledge()
    response = client_for(roles[role]).post(url("pledges", offered, "accept"))

    assert response.status_code == expected, response.content[:300]
    offered.refresh_from_db()
    if expected == 200:
        assert response.json()["status"] == "accepted"
        assert response.json()["permissions"]["deliver"] is True
        assert offered.status == "accepted"
        assert offered.decided_by == roles[role]
    else:
        assert offered.status == "offered"


@pytest.mark.parametrize(("role", "expected"), ANSWERERS)
def test_the_responsible_department_declines_a_pledge_with_a_reason(roles, role, expected, pledge):
    offered = pledge()
    response = client_for(roles[role]).post(
        url("pledges", offered, "decline"), {"reason": "场地已落实"}, format="json"
    )

    assert response.status_code == expected, response.content[:300]
    offered.refresh_from_db()
    if expected == 200:
        assert (response.json()["status"], response.json()["reason"]) == ("declined", "场地已落实")
    else:
        assert offered.status == "offered"


@pytest.mark.parametrize(("role", "expected"), ANSWERERS)
def test_the_responsible_department_confirms_delivery(
    roles, role, expected, pledge, department_staff
):
    offered = pledge()
    services.pledge_accept(actor=department_staff, pledge=offered)

    response = client_for(roles[role]).post(url("pledges", offered, "deliver"))

    assert response.status_code == expected, response.content[:300]
    offered.refresh_from_db()
    if expected == 200:
        assert response.json()["status"] == "delivered"
        assert response.json()["delivered_at"]
        assert offered.status == "delivered"
    else:
        assert offered.status == "accepted"


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 401),
        ("citizen", 403),
        ("department_staff", 403),
        ("other_partner_admin", 403),
        ("partner_viewer", 403),
        ("superuser", 403),
        ("partner_staff", 200),
        ("partner_admin", 200),
    ],
)
def test_the_partners_acting_members_withdraw_a_pledge(roles, role, expected, pledge):
    offered = pledge()
    response = client_for(roles[role]).post(
        url("pledges", offered, "withdraw"), {"reason": "资源另有安排"}, format="json"
    )

    assert response.status_code == expected, response.content[:300]
    offered.refresh_from_db()
    assert offered.status == ("withdrawn" if expected == 200 else "offered")


def test_a_withdrawn_pledge_leaves_the_public_list_but_not_its_partners(pledge, partner_admin):
    offered = pledge()
    client_for(partner_admin).post(
        url("pledges", offered, "withdraw"), {"reason": "资源另有安排"}, format="json"
    )
    assert offered.pk not in ids(client_for().get(PLEDGES))
    assert offered.pk in ids(client_for(partner_admin).get(PLEDGES))


def test_state_refusals_are_409s_with_their_code(pledge, department_staff, partner_admin):
    offered = pledge()
    hukou, mall = client_for(department_staff), client_for(partner_admin)

    response = hukou.post(url("pledges", offered, "deliver"))
    assert (response.status_code, response.json()["code"]) == (409, "not_accepted")

    assert hukou.post(url("pledges", offered, "accept")).status_code == 200
    for action, body in (("accept", None), ("decline", {"reason": "不需要了"})):
        response = hukou.post(url("pledges", offered, action), body, format="json")
        assert (response.status_code, response.json()["code"]) == (409, "not_offered")

    assert hukou.post(url("pledges", offered, "deliver")).status_code == 200
    response = mall.post(url("pledges", offered, "withdraw"), {"reason": "晚了"}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "not_open")
    offered.refresh_from_db()
    assert offered.status == "delivered"


@pytest.mark.parametrize("action", ["decline", "withdraw"])
def test_declining_and_withdrawing_need_a_reason(pledge, department_staff, partner_admin, action):
    offered = pledge()
    user = department_staff if action == "decline" else partner_admin
    response = client_for(user).post(url("pledges", offered, action), {"reason": ""}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()
    offered.refresh_from_db()
    assert offered.status == "offered"
