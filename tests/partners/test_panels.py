"""The pledges panel on the proposal and case pages and in their API (``partners/panels.py``
through ``governance.core.panels``): who sees which pledges, the links offered to those who
may act, a delivery on the proposal's timeline, and one query for the panel whatever the
number of pledges."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import NoReverseMatch, reverse
from rest_framework.test import APIClient

from governance.core import panels as core_panels
from governance.proposals import services as proposal_services
from governance.proposals.models import Proposal
from partners import panels, services
from partners.models import Pledge
from tests.partners.fixtures_panels import *  # noqa: F403  (the fixtures)
from tests.partners.fixtures_panels import sign_in, today
from tests.query_budget import assert_constant_queries, capture_queries

pytestmark = pytest.mark.django_db

PUBLIC = ("anonymous", "citizen", "other_department_staff", "other_partner_admin")
BOTH_SIDES = ("partner_staff", "partner_admin", "department_staff", "department_viewer")


def page_url(target) -> str:
    if isinstance(target, Proposal):
        return reverse("proposals:detail", args=[target.pk])
    return reverse("cases:detail", args=[target.reference])


def api_url(target) -> str:
    if isinstance(target, Proposal):
        return f"/api/v1/proposals/{target.pk}/"
    return f"/api/v1/cases/{target.reference}/"


def api_client(request, role: str) -> APIClient:
    client = APIClient()
    if role != "anonymous":
        client.force_authenticate(request.getfixturevalue(role))
    return client


def shown_pledges(response) -> list[int]:
    """The pledges the page lists, by id."""
    [panel] = [one for one in response.context["panels"] if one.panel.key == "pledges"]
    return [pledge.pk for pledge in panel.items]


def target_kwargs(target) -> dict:
    return {"proposal": target} if isinstance(target, Proposal) else {"case": target}


@pytest.fixture(params=["proposal", "case"])
def target(request):
    """A published proposal, then a public case: both take pledges, both hukou's."""
    return request.getfixturevalue(request.param)


@pytest.fixture
def three(pledge, target, department_staff, partner_staff):
    """An offered, a declined and a withdrawn pledge to ``target``."""
    kwargs = target_kwargs(target)
    live = pledge(**kwargs)
    declined = services.pledge_decline(
        actor=department_staff, pledge=pledge(**kwargs), reason="暂不需要"
    )
    withdrawn = services.pledge_withdraw(
        actor=partner_staff, pledge=pledge(**kwargs), reason="设备另有安排"
    )
    return live, declined, withdrawn


# Who sees which pledges -----------------------------------------------------------------------
@pytest.mark.parametrize("role", PUBLIC)
def test_the_public_sees_live_pledges_only(client, request, role, target, three):
    live, _declined, _withdrawn = three
    sign_in(client, request, role)
    response = client.get(page_url(target))
    assert response.status_code == 200
    assert shown_pledges(response) == [live.pk]
    html = response.content.decode()
    assert 'id="panel-pledges"' in html
    assert f'id="pledge-{live.pk}"' in html
    assert "万象城" in html
    assert "自助服务终端 × 2 台/个" in html
    body = api_client(request, role).get(api_url(target)).json()
    assert [row["id"] for row in body["panels"]["pledges"]] == [live.pk]


@pytest.mark.parametrize("role", BOTH_SIDES)
def test_the_partner_and_the_responsible_department_see_every_pledge(
    client, request, role, target, three
):
    sign_in(client, request, role)
    expected = [pledge.pk for pledge in three]
    assert shown_pledges(client.get(page_url(target))) == expected
    body = api_client(request, role).get(api_url(target)).json()
    assert [row["id"] for row in body["panels"]["pledges"]] == expected


def test_the_api_gives_what_was_pledged_by_whom_for_when_and_where_it_stands(
    target, pledge, partner, deliver
):
    kiosks = deliver(pledge(**target_kwargs(target)))
    money = pledge(resource=None, quantity="5000.5", **target_kwargs(target))
    rows = APIClient().get(api_url(target)).json()["panels"]["pledges"]
    by_id = {row["id"]: row for row in rows}
    assert by_id[kiosks.pk] == {
        "id": kiosks.pk,
        "url": f"http://testserver/api/v1/partners/pledges/{kiosks.pk}/",
        "partner": "万象城",
        "resource": "自助服务终端",
        "funding": False,
        "quantity": "2.00",
        "unit": "items",
        "unit_label": "台/个",
        "note": "放在一层大厅",
        "starts_on": today().isoformat(),
        "ends_on": (today() + dt.timedelta(days=365)).isoformat(),
        "status": "delivered",
        "status_label": "已兑现",
        "offered_at": by_id[kiosks.pk]["offered_at"],
        "delivered_at": by_id[kiosks.pk]["delivered_at"],
    }
    assert dt.datetime.fromisoformat(by_id[kiosks.pk]["offered_at"]) == kiosks.created_at
    assert dt.datetime.fromisoformat(by_id[kiosks.pk]["delivered_at"]) == kiosks.delivered_at
    assert by_id[money.pk]["resource"] is None
    assert by_id[money.pk]["funding"] is True
    assert (by_id[money.pk]["quantity"], by_id[money.pk]["unit"]) == ("5000.50", "yuan")
    assert by_id[money.pk]["delivered_at"] is None


def test_a_page_without_pledges_shows_no_panel_to_the_public(client, target):
    response = client.get(page_url(target))
    assert shown_pledges(response) == []
    assert b"panel-pledges" not in response.content
    assert APIClient().get(api_url(target)).json()["panels"] == {"pledges": []}


def test_a_private_case_shows_its_pledges_only_to_the_sides_of_the_pledge(
    client, request, private_case, pledge
):
    offered = pledge(case=private_case)
    assert client.get(page_url(private_case)).status_code == 404
    assert APIClient().get(api_url(private_case)).status_code == 404
    # The reporter reads the case, not what partners pledged to it.
    sign_in(client, request, "citizen")
    assert shown_pledges(client.get(page_url(private_case))) == []
    assert api_client(request, "citizen").get(api_url(private_case)).json()["panels"] == {
        "pledges": []
    }
    for role in ("department_staff", "partner_staff"):
        sign_in(client, request, role)
        assert shown_pledges(client.get(page_url(private_case))) == [offered.pk]
        rows = api_client(request, role).get(api_url(private_case)).json()["panels"]["pledges"]
        assert [row["id"] for row in rows] == [offered.pk]


# The timeline -------------------------------------------------------------------------------------
def test_a_delivered_pledge_is_a_step_of_the_proposals_timeline_on_the_day_it_came(
    client, proposal, pledge, deliver
):
    delivered = deliver(pledge(proposal=proposal))
    steps = client.get(page_url(proposal)).context["steps"]
    assert [step.kind for step in steps] == ["published", "panel"]
    assert steps[1].title == "万象城 兑现了 自助服务终端 × 2 台/个"
    assert steps[1].at == delivered.delivered_at
    assert "万象城 兑现了 自助服务终端 × 2 台/个" in client.get(page_url(proposal)).content.decode()

    timeline = APIClient().get(api_url(proposal)).json()["timeline"]
    step = timeline[-1]
    assert (step["kind"], step["panel"], step["panel_kind"]) == ("panel", "pledges", "delivered")
    assert step["text"] == "万象城 兑现了 自助服务终端 × 2 台/个"
    assert step["label"] == "资源承诺"
    assert dt.datetime.fromisoformat(step["at"]) == delivered.delivered_at


def test_money_delivered_reads_as_an_amount(client, proposal, pledge, deliver):
    deliver(pledge(proposal=proposal, resource=None, quantity="10000"))
    steps = client.get(page_url(proposal)).context["steps"]
    assert steps[-1].title == "万象城 兑现了 10000 元"


def test_pledges_not_delivered_add_no_step(client, proposal, pledge, department_staff):
    services.pledge_accept(actor=department_staff, pledge=pledge(proposal=proposal))
    pledge(proposal=proposal)
    steps = client.get(page_url(proposal)).context["steps"]
    assert [step.kind for step in steps] == ["published"]


# The links --------------------------------------------------------------------------------------
def panel_links(response) -> list[tuple[str, str]]:
    [panel] = [one for one in response.context["panels"] if one.panel.key == "pledges"]
    return [(link.label, link.url) for link in panel.actions]


@pytest.mark.parametrize("role", ["partner_staff", "partner_admin", "other_partner_admin"])
def test_a_partners_acting_members_get_a_link_to_pledge(client, request, role, target):
    sign_in(client, request, role)
    param = "proposal" if isinstance(target, Proposal) else "case"
    url = f"{reverse('partners:pledge_new')}?{param}={target.pk}"
    response = client.get(page_url(target))
    assert panel_links(response) == [("承诺资源", url)]
    assert f'href="{url}"' in response.content.decode()


@pytest.mark.parametrize(
    "role", ["anonymous", "citizen", "department_staff", "department_admin", "superuser"]
)
def test_nobody_else_gets_the_link_to_pledge(client, request, role, target):
    sign_in(client, request, role)
    response = client.get(page_url(target))
    assert panel_links(response) == []
    assert reverse("partners:pledge_new") not in response.content.decode()


def test_no_link_to_pledge_where_pledges_are_no_longer_taken(
    client, proposal, department_staff, partner_staff
):
    proposal_services.proposal_answer(
        actor=department_staff, proposal=proposal, state="rejected", text="暂不采纳。"
    )
    client.force_login(partner_staff)
    assert panel_links(client.get(page_url(proposal))) == []


def test_the_responsible_staff_get_a_link_to_answer_each_open_pledge(
    client, target, pledge, department_staff, department_viewer
):
    offered = pledge(**target_kwargs(target))
    pledge_url = reverse("partners:pledge", args=[offered.pk])
    client.force_login(department_staff)
    response = client.get(page_url(target))
    [shown] = response.context["panels"]
    assert shown.items[0].link == core_panels.Link("接受或谢绝", pledge_url)
    assert f'href="{pledge_url}"' in response.content.decode()

    services.pledge_accept(actor=department_staff, pledge=offered)
    [shown] = client.get(page_url(target)).context["panels"]
    assert shown.items[0].link == core_panels.Link("确认兑现", pledge_url)

    services.pledge_deliver(actor=department_staff, pledge=offered)
    [shown] = client.get(page_url(target)).context["panels"]
    assert shown.items[0].link is None

    client.force_login(department_viewer)
    [shown] = client.get(page_url(target)).context["panels"]
    assert shown.items[0].link is None


def test_the_partners_members_get_a_link_to_their_pledge_and_the_public_none(
    client, target, pledge, partner_staff, citizen
):
    offered = pledge(**target_kwargs(target))
    client.force_login(partner_staff)
    [shown] = client.get(page_url(target)).context["panels"]
    assert shown.items[0].link == core_panels.Link(
        "查看承诺", reverse("partners:pledge", args=[offered.pk])
    )
    client.force_login(citizen)
    [shown] = client.get(page_url(target)).context["panels"]
    assert shown.items[0].link is None


def test_without_the_pledge_pages_the_panel_offers_no_links_and_still_renders(
    client, monkeypatch, target, pledge, partner_staff
):
    def missing(name, *args, **kwargs):
        raise NoReverseMatch(name)

    monkeypatch.setattr(panels, "reverse", missing)
    offered = pledge(**target_kwargs(target))
    client.force_login(partner_staff)
    response = client.get(page_url(target))
    assert response.status_code == 200
    [shown] = response.context["panels"]
    assert shown.actions == []
    assert [(item.pk, item.link) for item in shown.items] == [(offered.pk, None)]


# Query counts ---------------------------------------------------------------------------------
@pytest.fixture
def add_pledges(pledge, target, department_staff, partner_staff):
    """``make(n)``: n more pledges to ``target``, offered, accepted, delivered or withdrawn in
    turn."""
    counter = iter(range(10_000))

    def make(n: int) -> None:
        for _ in range(n):
            number = next(counter)
            made = pledge(quantity=str(number + 1), **target_kwargs(target))
            if number % 4 in (1, 2):
                services.pledge_accept(actor=department_staff, pledge=made)
            if number % 4 == 2:
                services.pledge_deliver(actor=department_staff, pledge=made)
            if number % 4 == 3:
                services.pledge_withdraw(actor=partner_staff, pledge=made, reason="另有安排")

    return make


@pytest.mark.parametrize("role", ["anonymous", "department_staff", "partner_staff"])
def test_the_page_runs_as_many_queries_with_twenty_pledges_as_with_one(
    client, request, role, target, add_pledges
):
    sign_in(client, request, role)
    assert_constant_queries(
        lambda: client.get(page_url(target)),
        add_pledges,
        small=1,
        large=20,
        check=lambda response, rows: len(shown_pledges(response)) >= rows * 3 // 4,
    )


@pytest.mark.parametrize("role", ["anonymous", "department_staff", "partner_staff"])
def test_the_api_detail_runs_as_many_queries_with_twenty_pledges_as_with_one(
    request, role, target, add_pledges
):
    client = api_client(request, role)
    assert_constant_queries(
        lambda: client.get(api_url(target)),
        add_pledges,
        small=1,
        large=20,
        check=lambda response, rows: len(response.json()["panels"]["pledges"]) >= rows * 3 // 4,
    )


@pytest.mark.parametrize("kind", ["page", "api"])
def test_the_panel_costs_one_query(client, monkeypatch, kind, target, add_pledges):
    add_pledges(3)
    call = (
        (lambda: client.get(page_url(target)))
        if kind == "page"
        else (lambda: APIClient().get(api_url(target)))
    )
    call()  # warm what is cached once per process
    _response, with_panel = capture_queries(call)
    monkeypatch.setattr(core_panels, "_panels", {})
    _response, without = capture_queries(call)
    assert len(with_panel) == len(without) + 1
    assert any('"partners_pledge"' in sql for sql in with_panel)


def test_loading_the_pledges_of_many_proposals_is_one_query(
    proposal, pledge, author, category, service, django_assert_num_queries
):
    others = [
        proposal_services.proposal_create(
            actor=author,
            title=f"建议 {number}",
            body="内容",
            category=category,
            scope="service",
            service=service,
            publish_now=True,
        )
        for number in range(3)
    ]
    for target in (proposal, *others):
        pledge(proposal=target)
    with django_assert_num_queries(1):
        found = panels.load_pledges(AnonymousUser(), "proposal", [proposal, *others])
    assert {pk: len(items) for pk, items in found.items()} == {
        target.pk: 1 for target in (proposal, *others)
    }
    assert all(
        item.amount == "自助服务终端 × 2 台/个" for items in found.values() for item in items
    )


def test_amounts_drop_trailing_zeros():
    pledge = Pledge(quantity=Decimal("10.50"), unit="yuan")
    assert panels.amount(pledge) == "10.5 元"
    pledge = Pledge(quantity=Decimal("100.00"), unit="yuan")
    assert panels.amount(pledge) == "100 元"
