"""Pledges through ``partners.services``: what a partner may pledge to (a proposal before its
verdict or being carried out, an open case the pledger can read), what it pledges (its own
active resource, or money in yuan), and the states: offered → accepted | declined → delivered,
offered | accepted → withdrawn; the responsible organisation's acting staff answer and confirm
delivery, the partner's withdraw."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from governance.cases import services as case_services
from governance.proposals import services as proposal_services
from partners import services
from partners.models import Pledge
from tests.conftest import _member
from tests.partners.conftest import refused
from tests.partners.fixtures_domain import *  # noqa: F403

pytestmark = pytest.mark.django_db


def conflict(error: ValidationError, code: str) -> None:
    assert not hasattr(error, "error_dict"), error
    assert error.code == code
    assert code in services.CONFLICTS


def today() -> dt.date:
    return timezone.localdate()


# Targets -----------------------------------------------------------------------------------
def test_a_pledge_to_a_published_proposal_is_offered(pledge, proposal, partner, partner_staff):
    offered = pledge()
    assert offered.status == Pledge.Status.OFFERED
    assert (offered.partner, offered.proposal, offered.case) == (partner, proposal, None)
    assert offered.offered_by == partner_staff
    assert offered.target == proposal


@pytest.mark.parametrize("state", ["evaluating", "accepted"])
def test_a_proposal_under_evaluation_or_being_carried_out_takes_pledges(
    pledge, proposal, answer, state
):
    answered = answer(proposal, state)
    assert answered.status == state
    assert pledge(proposal=answered).status == "offered"


def test_a_rejected_proposal_takes_no_pledge(pledge, proposal, answer):
    rejected = answer(proposal, "rejected")
    with pytest.raises(ValidationError) as caught:
        pledge(proposal=rejected)
    refused(caught.value, "proposal", "not_pledgeable")


def test_a_draft_or_withdrawn_proposal_takes_no_pledge(pledge, propose, proposer):
    draft = propose(publish_now=False)
    with pytest.raises(ValidationError) as caught:
        pledge(proposal=draft)
    refused(caught.value, "proposal", "not_pledgeable")
    withdrawn = proposal_services.proposal_withdraw(actor=proposer, proposal=propose())
    with pytest.raises(ValidationError) as caught:
        pledge(proposal=withdrawn)
    refused(caught.value, "proposal", "not_pledgeable")
    assert not Pledge.objects.exists()


def test_a_pledge_to_an_open_public_case_is_offered(pledge, case):
    offered = pledge(case=case)
    assert (offered.case, offered.proposal) == (case, None)


def test_a_case_the_pledger_cannot_read_is_refused(pledge, private_case):
    with pytest.raises(PermissionDenied):
        pledge(case=private_case)
    assert not Pledge.objects.exists()


def test_a_resolved_case_takes_no_pledge(pledge, case, department_staff):
    for status in ("acknowledged", "in_progress", "resolved"):
        case = case_services.case_transition(actor=department_staff, case=case, to=status)
    with pytest.raises(ValidationError) as caught:
        pledge(case=case)
    refused(caught.value, "case", "not_pledgeable")


def test_a_pledge_names_exactly_one_target(pledge, proposal, case):
    with pytest.raises(ValidationError) as caught:
        pledge(proposal=proposal, case=case)
    refused(caught.value, "proposal", "one_target")
    with pytest.raises(ValidationError) as caught:
        pledge(proposal=None)
    refused(caught.value, "proposal", "one_target")


# What is pledged ---------------------------------------------------------------------------
def test_money_is_pledged_in_yuan_by_default(pledge):
    offered = pledge(quantity="50000.50")
    assert (offered.unit, offered.resource, offered.quantity) == ("yuan", None, Decimal("50000.50"))


def test_a_resource_is_pledged_in_its_own_unit(pledge, kiosk):
    offered = pledge(resource=kiosk, quantity="2")
    assert (offered.resource, offered.unit) == (kiosk, "items")
    assert str(offered) == "万象城 · 自助服务终端 × 2"


def test_another_partners_resource_is_refused(pledge, make_resource, other_partner):
    theirs = make_resource(
        owner=other_partner,
        actor=_member(other_partner, "admin", "bank.owner@example.com"),
        name_zh="银行大厅",
    )
    with pytest.raises(ValidationError) as caught:
        pledge(resource=theirs)
    refused(caught.value, "resource", "not_own")


def test_an_inactive_resource_is_refused(pledge, kiosk, partner_admin):
    services.resource_update(actor=partner_admin, resource=kiosk, data={"is_active": False})
    kiosk.refresh_from_db()
    with pytest.raises(ValidationError) as caught:
        pledge(resource=kiosk)
    refused(caught.value, "resource", "not_own")


@pytest.mark.parametrize(
    ("quantity", "code"),
    [
        ("0", "min_value"),
        ("-5", "min_value"),
        ("abc", "invalid"),
        ("1.234", "invalid"),
        ("NaN", "min_value"),
        ("1e12", "invalid"),
    ],
)
def test_a_bad_quantity_is_refused(pledge, quantity, code):
    with pytest.raises(ValidationError) as caught:
        pledge(quantity=quantity)
    refused(caught.value, "quantity", code)


def test_an_unknown_unit_is_refused(pledge):
    with pytest.raises(ValidationError) as caught:
        pledge(unit="gold")
    refused(caught.value, "unit", "invalid_choice")


def test_the_period_must_be_ordered_and_not_over(pledge):
    with pytest.raises(ValidationError) as caught:
        pledge(starts_on=today(), ends_on=today() - dt.timedelta(days=1))
    refused(caught.value, "ends_on", "invalid")
    with pytest.raises(ValidationError) as caught:
        pledge(starts_on=today() - dt.timedelta(days=30), ends_on=today() - dt.timedelta(days=1))
    refused(caught.value, "ends_on", "in_past")
    with pytest.raises(ValidationError) as caught:
        pledge(starts_on=None)
    refused(caught.value, "starts_on", "required")
    assert pledge(starts_on=today(), ends_on=today()).status == "offered"


# Who pledges -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "role", ["other_partner_admin", "department_staff", "department_admin", "citizen", "superuser"]
)
def test_only_the_partners_acting_members_pledge_for_it(request, pledge, role):
    with pytest.raises(PermissionDenied):
        pledge(actor=request.getfixturevalue(role))
    assert not Pledge.objects.exists()


def test_a_partner_viewer_does_not_pledge(pledge, partner):
    with pytest.raises(PermissionDenied):
        pledge(actor=_member(partner, "viewer", "mall.viewer@example.com"))


def test_the_partners_admin_pledges_too(pledge, partner_admin):
    assert pledge(actor=partner_admin).offered_by == partner_admin


# The states --------------------------------------------------------------------------------
def test_the_responsible_department_accepts_then_confirms_delivery(pledge, department_staff):
    offered = pledge()
    accepted = services.pledge_accept(actor=department_staff, pledge=offered)
    assert (accepted.status, accepted.decided_by) == ("accepted", department_staff)
    assert accepted.decided_at is not None
    delivered = services.pledge_deliver(actor=department_staff, pledge=accepted)
    delivered.refresh_from_db()
    assert (delivered.status, delivered.delivered_by) == ("delivered", department_staff)
    assert delivered.delivered_at is not None


def test_declining_needs_a_reason_and_keeps_it(pledge, department_admin):
    offered = pledge()
    with pytest.raises(ValidationError) as caught:
        services.pledge_decline(actor=department_admin, pledge=offered, reason="")
    refused(caught.value, "reason", "required")
    services.pledge_decline(actor=department_admin, pledge=offered, reason="已有财政预算")
    offered.refresh_from_db()
    assert (offered.status, offered.reason) == ("declined", "已有财政预算")


def test_only_an_offered_pledge_is_accepted_or_declined(pledge, department_staff):
    accepted = services.pledge_accept(actor=department_staff, pledge=pledge())
    with pytest.raises(ValidationError) as caught:
        services.pledge_accept(actor=department_staff, pledge=accepted)
    conflict(caught.value, "not_offered")
    with pytest.raises(ValidationError) as caught:
        services.pledge_decline(actor=department_staff, pledge=accepted, reason="改变主意")
    conflict(caught.value, "not_offered")


def test_only_an_accepted_pledge_is_delivered(pledge, department_staff, partner_staff):
    offered = pledge()
    with pytest.raises(ValidationError) as caught:
        services.pledge_deliver(actor=department_staff, pledge=offered)
    conflict(caught.value, "not_accepted")
    declined = services.pledge_decline(actor=department_staff, pledge=offered, reason="不需要")
    with pytest.raises(ValidationError) as caught:
        services.pledge_deliver(actor=department_staff, pledge=declined)
    conflict(caught.value, "not_accepted")
    assert Pledge.objects.get(pk=offered.pk).delivered_at is None


@pytest.mark.parametrize("accepted_first", [False, True])
def test_the_partner_withdraws_an_offered_or_accepted_pledge(
    pledge, department_staff, partner_admin, accepted_first
):
    offered = pledge()
    if accepted_first:
        services.pledge_accept(actor=department_staff, pledge=offered)
    withdrawn = services.pledge_withdraw(actor=partner_admin, pledge=offered, reason="预算调整")
    withdrawn.refresh_from_db()
    assert (withdrawn.status, withdrawn.reason) == ("withdrawn", "预算调整")
    assert withdrawn.withdrawn_at is not None


def test_withdrawing_needs_a_reason(pledge, partner_staff):
    with pytest.raises(ValidationError) as caught:
        services.pledge_withdraw(actor=partner_staff, pledge=pledge(), reason="  ")
    refused(caught.value, "reason", "required")


def test_a_delivered_declined_or_withdrawn_pledge_is_not_withdrawn(
    pledge, department_staff, partner_staff
):
    delivered = services.pledge_deliver(
        actor=department_staff,
        pledge=services.pledge_accept(actor=department_staff, pledge=pledge()),
    )
    declined = services.pledge_decline(actor=department_staff, pledge=pledge(), reason="不需要")
    withdrawn = services.pledge_withdraw(actor=partner_staff, pledge=pledge(), reason="撤回")
    for done in (delivered, declined, withdrawn):
        with pytest.raises(ValidationError) as caught:
            services.pledge_withdraw(actor=partner_staff, pledge=done, reason="再撤回")
        conflict(caught.value, "not_open")
    with pytest.raises(ValidationError) as caught:
        services.pledge_accept(actor=department_staff, pledge=withdrawn)
    conflict(caught.value, "not_offered")


# Who answers -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "role",
    [
        "partner_staff",
        "partner_admin",
        "other_department_staff",
        "department_viewer",
        "superuser",
        "citizen",
    ],
)
def test_only_the_responsible_organisations_acting_staff_answer(request, pledge, role):
    offered = pledge()
    user = request.getfixturevalue(role)
    with pytest.raises(PermissionDenied):
        services.pledge_accept(actor=user, pledge=offered)
    with pytest.raises(PermissionDenied):
        services.pledge_decline(actor=user, pledge=offered, reason="不要")
    assert Pledge.objects.get(pk=offered.pk).status == "offered"


def test_only_the_responsible_organisations_acting_staff_confirm_delivery(
    pledge, department_staff, partner_staff, other_department_staff
):
    accepted = services.pledge_accept(actor=department_staff, pledge=pledge())
    for user in (partner_staff, other_department_staff):
        with pytest.raises(PermissionDenied):
            services.pledge_deliver(actor=user, pledge=accepted)
    assert Pledge.objects.get(pk=accepted.pk).status == "accepted"


def test_the_case_s_responsible_organisation_answers_a_pledge_to_it(
    pledge, case, department_admin, other_department_staff
):
    offered = pledge(case=case)
    with pytest.raises(PermissionDenied):
        services.pledge_accept(actor=other_department_staff, pledge=offered)
    assert services.pledge_accept(actor=department_admin, pledge=offered).status == "accepted"


@pytest.mark.parametrize(
    "role", ["department_staff", "other_partner_admin", "superuser", "citizen"]
)
def test_only_the_partners_acting_members_withdraw(request, pledge, role):
    offered = pledge()
    with pytest.raises(PermissionDenied):
        services.pledge_withdraw(actor=request.getfixturevalue(role), pledge=offered, reason="撤回")
    assert Pledge.objects.get(pk=offered.pk).status == "offered"


def test_a_partner_does_not_pledge_to_what_it_answers_for_itself(
    pledge, department, service, station, partner
):
    """Accepting and confirming its own pledge would count it delivered on its own word."""
    own = case_services.case_open(
        actor=None,
        title="商场入口指示牌缺失",
        description="找不到警务站入口。",
        service=service,
        station=station,
        system=True,
        responsible=partner,
    )
    with pytest.raises(ValidationError) as caught:
        pledge(case=own)
    refused(caught.value, "case", "own_target")
    assert not Pledge.objects.exists()
