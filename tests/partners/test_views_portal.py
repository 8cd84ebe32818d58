"""The partner portal's dashboard for every role: who may open it and for which partner, and
what it shows (pending requests, upcoming bookings, pledges by status, agreements ending and
ended, the KPIs the partner shares, its resources including inactive ones), in a constant
number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from governance.kpis.models import Indicator, Visibility
from governance.proposals import services as proposal_services
from governance.proposals.models import Category, Scope
from partners import services
from tests.factories import MembershipFactory, ServiceFactory
from tests.partners.fixtures_views import *  # noqa: F403  (the fixtures)
from tests.partners.fixtures_views import MALL, ROLES, at, fresh, sign_in
from tests.query_budget import assert_constant_queries

pytestmark = pytest.mark.django_db

PORTAL = "/partners/portal/"


def html_of(response) -> str:
    return response.content.decode()


def section(html: str, name: str) -> str:
    """The dashboard's ``<section class="… name">`` (up to the next section)."""
    start = html.index(f'class="{name}"') if f'class="{name}"' in html else html.index(name)
    end = html.find("<section", start + 1)
    return html[start : end if end != -1 else len(html)]


@pytest.fixture
def proposal(department, mall_station, citizen):
    """A citizen's published proposal on a hukou service: hukou answers it."""
    category = Category.objects.create(slug="facilities", name_zh="设施设备", name_en="Facilities")
    service = ServiceFactory(
        department=department, service_code="HK-ID", name_zh="身份证办理", stations=[mall_station]
    )
    return proposal_services.proposal_create(
        actor=citizen,
        title="增设自助拍照机",
        body="排队拍照太久。",
        category=category,
        scope=Scope.SERVICE,
        service=service,
        publish_now=True,
    )


@pytest.fixture
def pledge(proposal, partner, partner_admin, atrium):
    def make(**extra):
        today = timezone.localdate()
        values = {
            "actor": partner_admin,
            "partner": partner,
            "quantity": "1",
            "starts_on": today,
            "ends_on": today + dt.timedelta(days=90),
            "proposal": proposal,
            "resource": atrium,
        }
        values.update(extra)
        return services.pledge_offer(**values)

    return make


@pytest.fixture
def agreement(partner, partner_admin, department, department_admin):
    """Recorded by the mall's admin; in effect on hukou's admin's word (never the partner's
    alone)."""

    def make(ends_in_days: int, title="警务服务站共建协议", **extra):
        today = timezone.localdate()
        status = extra.pop("status", "active")
        made = services.agreement_create(
            actor=partner_admin,
            partner=extra.pop("owner", partner),
            departments=[department],
            data={
                "title_zh": title,
                "scope_zh": "场地、志愿者与宣传合作。",
                "starts_on": today - dt.timedelta(days=365),
                "ends_on": today + dt.timedelta(days=ends_in_days),
            },
        )
        if status != "draft":
            made = services.agreement_update(
                actor=department_admin, agreement=made, data={}, status=status
            )
        return made

    return make


def indicator(code, owners, visibility=Visibility.OWNERS):
    made = Indicator.objects.create(
        code=code,
        kind=Indicator.Kind.REPORTED,
        name_zh=f"指标 {code}",
        name_en=f"Indicator {code}",
        unit="小时",
        visibility=visibility,
    )
    made.owners.set(owners)
    return made


# Who may open it ----------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_portal_is_for_partner_members_and_superusers(
    request, client, role, partner, other_partner
):
    sign_in(client, request, role)
    response = client.get(PORTAL)
    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    elif role in MALL | {"other_partner_admin", "superuser"}:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        assert "伙伴工作台只对企业伙伴的成员开放" in html_of(response)


def test_portal_acts_for_the_users_own_partner(client, partner_staff, other_partner_admin):
    client.force_login(partner_staff)
    assert "<small>万象城</small>" in html_of(client.get(PORTAL))
    client.force_login(other_partner_admin)
    assert "<small>银行</small>" in html_of(client.get(PORTAL))


def test_portal_never_acts_for_a_partner_the_user_has_no_seat_in(
    client, partner_admin, other_partner
):
    client.force_login(partner_admin)
    assert client.get(f"{PORTAL}?partner=bank").status_code == 404
    assert client.get(f"{PORTAL}?partner=nobody").status_code == 404


def test_a_member_of_two_partners_chooses_one(client, partner_staff, other_partner):
    MembershipFactory(user=partner_staff, organisation=other_partner, role="staff")
    client.force_login(fresh(partner_staff))
    html = html_of(client.get(PORTAL))
    assert 'id="partner-switch"' in html
    assert '<option value="bank"' in html
    assert "<small>银行</small>" in html_of(client.get(f"{PORTAL}?partner=bank"))
    assert "<small>万象城</small>" in html_of(client.get(f"{PORTAL}?partner=mall"))


def test_superuser_may_look_at_any_partner(client, superuser, partner, other_partner):
    client.force_login(superuser)
    assert "<small>银行</small>" in html_of(client.get(f"{PORTAL}?partner=bank"))
    assert 'id="partner-switch"' in html_of(client.get(PORTAL))


# What it shows ------------------------------------------------------------------------------
def test_portal_shows_pending_requests_and_upcoming_bookings(
    client, partner_staff, request_booking, monday
):
    pending = request_booking(start=at(monday, 10))
    approved = request_booking(start=at(monday, 14))
    services.booking_approve(actor=partner_staff, booking=approved)
    declined = request_booking(start=at(monday, 18))
    services.booking_decline(actor=partner_staff, booking=declined, reason="有活动")
    client.force_login(partner_staff)
    html = html_of(client.get(PORTAL))
    waiting = section(html, "pending-requests")
    assert f'data-booking="{pending.pk}"' in waiting
    assert f'data-booking="{approved.pk}"' not in waiting
    coming = section(html, "upcoming-bookings")
    assert f'data-booking="{approved.pk}"' in coming
    assert f'data-booking="{pending.pk}"' not in coming
    assert f'data-booking="{declined.pk}"' not in html


def test_portal_shows_bookings_the_partner_made_of_others_resources(
    client, other_partner_admin, other_partner, partner_staff, atrium, monday
):
    booking = services.booking_request(
        actor=other_partner_admin,
        resource=atrium,
        requester=other_partner,
        starts_at=at(monday, 10),
        ends_at=at(monday, 12),
        purpose="银行金融知识宣传",
    )
    services.booking_approve(actor=partner_staff, booking=booking)
    client.force_login(other_partner_admin)
    html = html_of(client.get(PORTAL))
    assert f'data-booking="{booking.pk}"' in section(html, "upcoming-bookings")


def test_portal_shows_pledges_by_status_and_links_to_them(
    client, partner_staff, pledge, department_staff
):
    offered = pledge()
    accepted = pledge(quantity="2")
    services.pledge_accept(actor=department_staff, pledge=accepted)
    withdrawn = pledge(quantity="3")
    services.pledge_withdraw(actor=partner_staff, pledge=withdrawn, reason="设备调配")
    client.force_login(partner_staff)
    html = html_of(client.get(PORTAL))
    pledges = section(html, "pledges")
    assert 'data-pledge-status="offered">已承诺：<strong>1</strong>' in pledges
    assert 'data-pledge-status="accepted">已接受：<strong>1</strong>' in pledges
    assert 'data-pledge-status="withdrawn">已撤回：<strong>1</strong>' in pledges
    assert f'data-pledge="{offered.pk}"' in pledges
    assert f'data-pledge="{accepted.pk}"' in pledges
    assert f'data-pledge="{withdrawn.pk}"' not in pledges  # closed ones are counted only
    assert "增设自助拍照机" in pledges
    assert f'href="{reverse("partners:pledges")}?partner=mall"' in pledges


def test_portal_flags_agreements_ending_soon_and_already_ended(client, partner_admin, agreement):
    soon = agreement(30, title="中庭使用协议")
    ended = agreement(-5, title="停车位共享协议")
    later = agreement(200, title="长期合作备忘录")
    draft = agreement(10, title="草拟中的协议", status="draft")
    client.force_login(partner_admin)
    agreements = section(html_of(client.get(PORTAL)), "agreements")
    assert f'data-agreement="{soon.pk}"' in agreements
    assert reverse("partners:agreement", args=[soon.pk]) in agreements
    assert "还有 30 天" in agreements
    row = agreements[agreements.index(f'data-agreement="{ended.pk}"') :]
    assert "已到期" in row[: row.index("</li>")]
    assert f'data-agreement="{later.pk}"' not in agreements
    assert f'data-agreement="{draft.pk}"' not in agreements
    assert "户政管理" in agreements  # the departments on the other side


def test_portal_shows_the_kpis_the_partner_shares(
    client, partner_staff, partner, department, other_partner
):
    shared = indicator("volunteer-hours", [partner, department])
    indicator("bank-service", [other_partner], visibility=Visibility.PUBLIC)
    indicator("hukou-only", [department])
    client.force_login(partner_staff)
    html = html_of(client.get(PORTAL))
    kpis = section(html, "partner-kpis")
    assert f'data-kpi="{shared.code}"' in kpis
    assert 'data-kpi="bank-service"' not in kpis
    assert 'data-kpi="hukou-only"' not in kpis
    assert "chart.umd.min.js" in html  # the cards' sparklines


def test_portal_without_shared_kpis_says_so(client, partner_staff):
    client.force_login(partner_staff)
    assert "本单位还没有参与共享的指标" in html_of(client.get(PORTAL))


def test_portal_lists_the_partners_resources_including_inactive_ones(
    client, partner_staff, atrium, retired, bank_hall
):
    client.force_login(partner_staff)
    resources = section(html_of(client.get(PORTAL)), "partner-resources")
    assert f'data-resource="{atrium.pk}"' in resources
    row = resources[resources.index(f'data-resource="{retired.pk}"') :]
    assert "已停用" in row[: row.index("</li>")]
    assert f'data-resource="{bank_hall.pk}"' not in resources
    assert reverse("partners:resource_edit", args=[retired.pk]) in resources
    assert reverse("partners:resource_new") + "?partner=mall" in resources


def test_portal_offers_no_management_to_a_viewer(client, partner, atrium):
    from tests.conftest import _member

    viewer = _member(partner, "viewer", "mall.viewer@example.com")
    client.force_login(viewer)
    html = html_of(client.get(PORTAL))
    assert f'data-resource="{atrium.pk}"' in html
    assert reverse("partners:resource_edit", args=[atrium.pk]) not in html
    assert reverse("partners:resource_new") not in html


def test_portal_runs_constant_queries(
    client,
    partner_staff,
    partner_admin,
    make_resource,
    atrium,
    department,
    department_staff,
    pledge,
    agreement,
    partner,
    monday,
):
    indicator("volunteer-hours", [partner, department])
    made = {"count": 0}

    def add(count):
        for _ in range(count):
            number = made["count"]
            made["count"] += 1
            start = at(monday + dt.timedelta(days=number // 3), 10 + 4 * (number % 3))
            booking = services.booking_request(
                actor=fresh(department_staff),
                resource=atrium,
                requester=department,
                starts_at=start,
                ends_at=start + dt.timedelta(hours=2),
                purpose=f"活动 {number}",
            )
            if number % 2:
                services.booking_approve(actor=fresh(partner_staff), booking=booking)
            make_resource(name_zh=f"资源 {number}", windows=(), is_active=bool(number % 2))
            pledge(quantity=str(number + 1))
            agreement(number + 1, title=f"协议 {number}")

    client.force_login(partner_staff)
    assert_constant_queries(lambda: client.get(PORTAL), add, small=2, large=12, max_queries=25)
