"""The proposals API: the list and its filters, the detail, proposing, editing, publishing and
withdrawing; every role, the refusals too; bad input that writes nothing; query counts.
Supports and follows are in ``test_api_supports.py``, comments in ``test_api_comments.py``,
official answers in ``test_api_answers.py``, the schema in ``test_api_schema.py``."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from governance.cases.models import Case
from governance.proposals import services
from governance.proposals.models import (
    Attachment,
    Milestone,
    Proposal,
    ProposalVersion,
    Scope,
    Status,
)
from tests.factories import MembershipFactory, StationFactory
from tests.proposals.fixtures_api import *  # noqa: F403  (fixtures, found by pytest here)
from tests.proposals.fixtures_api import PROPOSALS, ROLES, client_for, upload, url
from tests.query_budget import assert_constant_queries

pytestmark = pytest.mark.django_db


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content[:500]
    return [row["id"] for row in response.json()["results"]]


def proposal_input(**overrides) -> dict:
    values = {
        "title": "增加自助拍照机",
        "body": "出入境证件照可以在**自助机**上拍。",
        "category": "hours",
        "scope": "service",
        "station": "mall-station",
        "service": "HK-ID",
    }
    values.update(overrides)
    return values


def accept(proposal, staff, **plan):
    values = {
        "state": "accepted",
        "text": "采纳，下月实施。",
        "starts_on": dt.date(2026, 7, 1),
        "ends_on": dt.date(2026, 9, 30),
        "cost": "12000",
    }
    values.update(plan)
    return services.proposal_answer(actor=staff, proposal=proposal, **values)


def expire_edit_window(proposal) -> None:
    Proposal.objects.filter(pk=proposal.pk).update(
        edit_until=timezone.now() - dt.timedelta(minutes=1)
    )


# Visibility -----------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_published_proposals_are_listed_for_everyone_and_drafts_only_for_their_author_as_mine(
    roles, published, draft, role
):
    client = client_for(roles[role])
    listed = ids(client.get(PROPOSALS))
    mine = ids(client.get(PROPOSALS, {"mine": "true"}))

    assert published.pk in listed
    assert draft.pk not in listed  # the list is of published proposals
    assert client.get(url(published)).status_code == 200
    if role == "author":
        assert set(mine) == {published.pk, draft.pk}
        assert client.get(url(draft)).status_code == 200
    else:
        assert draft.pk not in mine
        response = client.get(url(draft))
        assert response.status_code == 404
        assert "草稿" not in response.content.decode()


def test_an_unknown_proposal_is_a_json_404():
    response = client_for().get(url(987654321))
    assert response.status_code == 404
    assert response.json()["detail"]


def test_an_id_beyond_any_integer_is_a_404_not_a_500(published):
    response = client_for().get(f"{PROPOSALS}{'9' * 30}/")
    assert response.status_code == 404


# The list -------------------------------------------------------------------------------------
def test_a_list_row_has_the_proposal_its_references_and_the_readers_own_state(
    propose, author, citizen, partner, partner_staff, department
):
    proposal = propose(on_behalf_of=partner, actor=partner_staff)
    services.proposal_support(actor=citizen, proposal=proposal)

    row = client_for(citizen).get(PROPOSALS).json()["results"][0]

    assert row["id"] == proposal.pk
    assert row["url"].endswith(f"/api/v1/proposals/{proposal.pk}/")
    assert row["url"].startswith("http")
    assert row["page_url"] == f"/proposals/{proposal.pk}/"
    assert row["title"] == "周末延长开放时间"
    assert "周末" in row["summary"]
    assert "*" not in row["summary"]
    assert row["category"] == {"slug": "hours", "name": "开放时间"}
    assert row["scope"] == "service"
    assert row["station"]["slug"] == "mall-station"
    assert row["service"] == {"service_code": "HK-ID", "name": proposal.service.name}
    assert row["status"] == "published"
    assert row["status_label"] == "征集支持中"
    assert row["supports_count"] == 1
    assert row["comments_count"] == 0
    assert row["supported_by_me"] is True
    assert row["followed_by_me"] is False
    assert row["on_behalf_of"]["slug"] == "mall"
    assert row["responsible"]["slug"] == department.slug
    assert row["published_at"]
    assert row["answered_at"] is None
    assert row["implemented_at"] is None
    assert row["answer_due_at"] is None
    # The list carries no text beyond the summary, and nobody's address.
    assert "body" not in row
    assert "author@example.com" not in client_for().get(PROPOSALS).content.decode()

    anonymous = client_for().get(PROPOSALS).json()["results"][0]
    assert anonymous["supported_by_me"] is False
    assert anonymous["followed_by_me"] is False
    own = client_for(partner_staff).get(PROPOSALS).json()["results"][0]
    assert own["followed_by_me"] is True  # an author follows what they publish


def test_the_list_filters_as_the_page_does(
    propose, author, citizen, category, other_category, station, service, department_staff
):
    about_service = propose(title="延长周末开放时间")
    about_station = propose(
        title="增加座椅", scope=Scope.STATION, service=None, category=other_category
    )
    about_platform = propose(title="网上预约", scope=Scope.PLATFORM, station=None, service=None)
    supported = propose(actor=citizen, title="增设母婴室", scope=Scope.PLATFORM, station=None,
                        service=None)  # fmt: skip
    services.proposal_support(actor=author, proposal=supported)
    answered = propose(title="自助拍照")
    services.proposal_answer(actor=department_staff, proposal=answered, state="rejected",
                             text="暂不采纳。")  # fmt: skip
    client = client_for(author)

    def listed(**params):
        return set(ids(client.get(PROPOSALS, params)))

    everything = {about_service.pk, about_station.pk, about_platform.pk, supported.pk}
    everything |= {answered.pk}
    assert listed() == everything
    assert listed(q="开放时间") == {about_service.pk}
    assert listed(category="facilities") == {about_station.pk}
    assert listed(scope="station") == {about_station.pk}
    assert listed(scope="platform") == {about_platform.pk, supported.pk}
    assert listed(station="mall-station") == {about_station.pk, about_service.pk, answered.pk}
    assert listed(service="HK-ID") == {about_service.pk, answered.pk}
    assert listed(status="rejected") == {answered.pk}
    assert listed(answered="true") == {answered.pk}
    assert listed(answered="false") == everything - {answered.pk}
    assert listed(mine="true") == everything - {supported.pk}
    assert listed(mine="false") == {supported.pk}
    assert listed(supported="true") == {supported.pk}
    assert listed(sort="answered") == {answered.pk}
    assert client_for().get(PROPOSALS, {"mine": "true"}).json()["results"] == []
    assert client_for().get(PROPOSALS, {"supported": "true"}).json()["results"] == []


def test_the_list_sorts_by_supports_comments_and_newest(propose, citizen, other_citizen):
    quiet, popular, discussed = propose(title="一"), propose(title="二"), propose(title="三")
    for person in (citizen, other_citizen):
        services.proposal_support(actor=person, proposal=popular)
    services.comment_add(actor=citizen, proposal=discussed, body="赞成")
    client = client_for()

    assert ids(client.get(PROPOSALS))[:3] == [discussed.pk, popular.pk, quiet.pk]
    assert ids(client.get(PROPOSALS, {"sort": "supported"}))[0] == popular.pk
    assert ids(client.get(PROPOSALS, {"sort": "commented"}))[0] == discussed.pk


@pytest.mark.parametrize(
    "params",
    [
        {"category": "no-such-category"},
        {"status": "nonsense"},
        {"scope": "galaxy"},
        {"station": "nowhere"},
        {"answered": "maybe"},
        {"sort": "random"},
        {"q": "x" * 101},
        {"page_size": "abc"},
    ],
)
def test_a_bad_filter_is_a_400_naming_it(published, params):
    response = client_for().get(PROPOSALS, params)
    assert response.status_code == 400, response.content
    assert set(params) <= set(response.json())


def test_the_list_is_paginated(propose):
    for number in range(3):
        propose(title=f"建议{number}")
    body = client_for().get(PROPOSALS, {"page_size": 2}).json()
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["next"]
    assert client_for().get(PROPOSALS, {"page": 9}).status_code == 404


@pytest.mark.parametrize("role", ["anonymous", "citizen"])
def test_the_list_runs_a_constant_number_of_queries(
    roles, role, propose, author, other_citizen, partner, partner_staff, category
):
    reader = roles[role]
    client = client_for(reader)

    def make(count):
        for number in range(count):
            proposal = propose(
                title=f"建议{number}",
                actor=partner_staff if number % 2 else author,
                on_behalf_of=partner if number % 2 else None,
            )
            services.proposal_support(actor=other_citizen, proposal=proposal)
            if reader is not None:
                services.proposal_follow(actor=reader, proposal=proposal)

    def check(response, rows):
        assert len(response.json()["results"]) == rows

    assert_constant_queries(
        lambda: client.get(PROPOSALS, {"page_size": 100, "sort": "supported"}),
        make,
        small=3,
        large=12,
        check=check,
        max_queries=3,
    )


# The detail -----------------------------------------------------------------------------------
def test_the_detail_has_the_text_its_versions_attachments_and_what_the_caller_may_do(
    propose, author, citizen
):
    proposal = propose(uploads=[upload("plan.png")])
    services.proposal_update(actor=author, proposal=proposal, body="希望**周末**也能办理。")

    body = client_for(citizen).get(url(proposal)).json()

    assert body["body"] == "希望**周末**也能办理。"
    assert body["body_html"] == "<p>希望<strong>周末</strong>也能办理。</p>\n"
    assert body["author"] == {"name": "李建议", "is_you": False}
    assert body["version"] == 2
    assert [version["number"] for version in body["versions"]] == [1, 2]
    assert body["versions"][0]["body"] == "希望**周末**也能办理身份证业务。"
    assert body["edit_until"]
    assert body["support_threshold"] == 100
    [attachment] = body["attachments"]
    assert attachment["name"] == "plan.png"
    assert attachment["content_type"] == "image/png"
    assert attachment["url"].endswith(f"/proposals/{proposal.pk}/attachments/{attachment['id']}/")
    assert body["answers"] == []
    assert body["result"] is None
    assert [event["kind"] for event in body["timeline"]] == ["published", "edited"]
    assert body["timeline"][1]["version"] == 2
    assert body["permissions"] == {
        "edit": False,
        "publish": False,
        "withdraw": False,
        "support": True,
        "comment": True,
        "follow": True,
        "answer": False,
        "moderate": False,
    }
    mine = client_for(author).get(url(proposal)).json()
    assert mine["author"]["is_you"] is True
    assert mine["permissions"]["edit"] is True
    assert mine["permissions"]["withdraw"] is True


def test_an_author_without_a_display_name_is_shown_as_a_citizen(propose, citizen):
    citizen.display_name = ""
    citizen.save(update_fields=["display_name"])
    proposal = propose(actor=citizen)
    body = client_for().get(url(proposal))
    assert body.json()["author"] == {"name": "市民", "is_you": False}
    assert "citizen@example.com" not in body.content.decode()
    assert '"citizen"' not in body.content.decode()


PERMISSIONS = {
    "anonymous": set(),
    "author": {"edit", "withdraw", "support", "comment", "follow"},
    "citizen": {"support", "comment", "follow"},
    "other_citizen": {"support", "comment", "follow"},
    "partner_staff": {"support", "comment", "follow"},
    "other_department_staff": {"support", "comment", "follow"},
    "department_viewer": {"support", "comment", "follow"},
    "department_staff": {"support", "comment", "follow", "answer", "moderate"},
    "department_admin": {"support", "comment", "follow", "answer", "moderate"},
    "triager": {"support", "comment", "follow", "moderate"},
    "superuser": {"support", "comment", "follow", "moderate"},
}


@pytest.mark.parametrize("role", ROLES)
def test_the_detail_says_what_each_role_may_do(roles, published, role):
    body = client_for(roles[role]).get(url(published)).json()
    allowed = {name for name, value in body["permissions"].items() if value}
    assert allowed == PERMISSIONS[role]


def test_the_detail_shows_published_answers_the_result_and_the_timeline_to_done(
    published, department_staff, service, station
):
    accept(published, department_staff)
    milestone = services.milestone_add(
        actor=department_staff, proposal=published, title="采购设备", due_on=dt.date(2026, 8, 1)
    )
    case = services.result_open_case(
        actor=department_staff, proposal=published, title="安装拍照机", description="二楼东侧"
    )
    services.milestone_set_state(actor=department_staff, milestone=milestone, state="done")

    body = client_for().get(url(published)).json()

    assert body["status"] == "accepted"
    [answer] = body["answers"]
    assert answer["state"] == "accepted"
    assert answer["text"] == "采纳，下月实施。"
    assert answer["text_html"] == "<p>采纳，下月实施。</p>\n"
    assert answer["cost"] == "12000.00"
    assert answer["starts_on"] == "2026-07-01"
    assert answer["ends_on"] == "2026-09-30"
    assert answer["organisation"]["slug"] == "hukou"
    assert answer["published_at"]
    result = body["result"]
    assert result["progress"] == 50
    assert result["state"] == "in_progress"
    assert [row["title"] for row in result["milestones"]] == ["采购设备"]
    assert result["milestones"][0]["state"] == "done"
    [task] = result["task_cases"]
    assert task["reference"] == case.reference
    assert task["title"] == "安装拍照机"
    assert task["url"].endswith(f"/api/v1/cases/{case.reference}/")
    assert [event["kind"] for event in body["timeline"]] == ["published", "answered", "milestone"]
    assert body["timeline"][1]["answer_state"] == "accepted"
    assert body["timeline"][1]["organisation"]["slug"] == "hukou"
    assert body["timeline"][2]["milestone"] == "采购设备"


def test_a_private_task_case_shows_its_reference_but_not_its_title(published, department_staff):
    accept(published, department_staff)
    case = services.result_open_case(
        actor=department_staff, proposal=published, title="内部任务", description="内部"
    )
    Case.objects.filter(pk=case.pk).update(is_public=False)
    [task] = client_for().get(url(published)).json()["result"]["task_cases"]
    assert task["reference"] == case.reference
    assert task["title"] is None


def test_the_detail_runs_a_constant_number_of_queries_however_long_its_history(
    published, author, citizen, other_citizen, department_staff
):
    accept(published, department_staff)
    client = client_for(citizen)

    def make(count):
        for number in range(count):
            comment = services.comment_add(actor=other_citizen, proposal=published, body="同意")
            services.comment_vote(actor=citizen, comment=comment, value=1)
            services.milestone_add(
                actor=department_staff,
                proposal=published,
                title=f"里程碑{number}",
                due_on=dt.date(2026, 8, 1),
            )

    assert_constant_queries(
        lambda: client.get(url(published)), make, small=2, large=10, max_queries=8
    )


# Proposing ------------------------------------------------------------------------------------
def test_anonymous_callers_cannot_propose():
    response = client_for().post(PROPOSALS, proposal_input(), format="json")
    assert response.status_code == 401
    assert Proposal.objects.count() == 0


@pytest.mark.parametrize("role", [role for role in ROLES if role != "anonymous"])
def test_every_signed_in_role_may_propose_a_draft_only_they_see(
    roles, role, service, category, triage_org
):
    response = client_for(roles[role]).post(PROPOSALS, proposal_input(), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft"
    assert body["published_at"] is None
    assert body["responsible"] is None
    assert body["author"]["is_you"] is True
    assert body["permissions"]["publish"] is True
    assert client_for().get(url(body["id"])).status_code == 404


def test_publishing_at_once_names_the_answering_department(
    author, service, category, department, triage_org
):
    response = client_for(author).post(PROPOSALS, proposal_input(publish=True), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "published"
    assert body["responsible"]["slug"] == department.slug
    assert body["versions"][0]["number"] == 1
    assert body["followed_by_me"] is True
    assert client_for().get(url(body["id"])).status_code == 200


def test_a_station_proposal_without_a_routing_rule_goes_to_the_triage_desk(
    author, station, category, triage_org
):
    response = client_for(author).post(
        PROPOSALS,
        proposal_input(scope="station", service=None, publish=True),
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["responsible"]["slug"] == "triage"


def test_script_and_html_in_the_body_are_kept_as_source_and_rendered_inert(
    author, service, category, triage_org
):
    source = (
        '<script>alert("x")</script>\n\n<img src=x onerror=alert(1)>\n\n'
        "[点我](javascript:alert(1)) **加粗**"
    )
    response = client_for(author).post(
        PROPOSALS, proposal_input(body=source, publish=True), format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["body"] == source
    html = body["body_html"]
    assert "<script" not in html
    assert "<img" not in html
    assert "onerror" not in html.replace("onerror=alert(1)&gt;", "")
    assert "javascript:" not in html.replace("[点我](javascript:alert(1))", "")
    assert "href=" not in html
    assert "&lt;script&gt;" in html
    assert "<strong>加粗</strong>" in html
    # The summary is plain text (what was typed, never HTML): a client escapes it, as the
    # pages do.
    assert body["summary"].startswith('<script>alert("x")</script>')


def test_a_proposal_with_attachments_as_multipart(author, service, category, triage_org):
    response = client_for(author).post(
        PROPOSALS,
        {**proposal_input(), "attachments": [upload("a.png"), upload("b.png")]},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    names = [row["name"] for row in response.json()["attachments"]]
    assert names == ["a.png", "b.png"]
    assert Attachment.objects.count() == 2


def test_on_behalf_of_an_organisation_its_acting_member_proposes(
    partner, partner_staff, service, category, triage_org
):
    response = client_for(partner_staff).post(
        PROPOSALS, proposal_input(on_behalf_of="mall", publish=True), format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["on_behalf_of"]["slug"] == "mall"


@pytest.mark.parametrize("role", ["citizen", "department_viewer", "other_department_staff"])
def test_nobody_else_proposes_on_behalf_of_an_organisation(
    roles, role, partner, service, category, triage_org
):
    MembershipFactory(organisation=partner, user=roles["department_viewer"], role="viewer")
    response = client_for(roles[role]).post(
        PROPOSALS, proposal_input(on_behalf_of="mall"), format="json"
    )
    assert response.status_code == 403
    assert Proposal.objects.count() == 0


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"body": "长" * 20_001}, "body"),
        ({"body": ""}, "body"),
        ({"title": ""}, "title"),
        ({"title": "题" * 151}, "title"),
        ({"title": "a\x00b"}, "title"),
        ({"title": 123}, "title"),
        ({"body": ["列表"]}, "body"),
        ({"category": "no-such-category"}, "category"),
        ({"category": "retired"}, "category"),
        ({"category": None}, "category"),
        ({"scope": "galaxy"}, "scope"),
        ({"scope": "station", "station": None, "service": None}, "station"),
        ({"scope": "service", "service": None}, "service"),
        ({"scope": "platform"}, "scope"),
        ({"station": "nowhere"}, "station"),
        ({"service": "NOPE"}, "service"),
        ({"on_behalf_of": "no-such-org"}, "on_behalf_of"),
        # PostgreSQL refuses NUL characters in a query: a 400, never a 500.
        ({"on_behalf_of": "m\x00ll"}, "on_behalf_of"),
        ({"category": "hours\x00"}, "category"),
        ({"station": "mall\x00station"}, "station"),
        ({"service": 5}, "service"),
        ({"publish": "yes"}, "publish"),
        ({"publish": 1}, "publish"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(
    author, service, category, triage_org, values, field
):
    from governance.proposals.models import Category

    Category.objects.create(slug="retired", name_zh="旧类别", is_active=False)
    response = client_for(author).post(PROPOSALS, proposal_input(**values), format="json")

    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert Proposal.objects.count() == 0


def test_a_body_of_exactly_twenty_thousand_characters_is_taken(
    author, service, category, triage_org
):
    response = client_for(author).post(PROPOSALS, proposal_input(body="长" * 20_000), format="json")
    assert response.status_code == 201, response.content


def test_six_attachments_are_refused_and_nothing_is_written(author, service, category, triage_org):
    files = [upload(f"{number}.png") for number in range(6)]
    response = client_for(author).post(
        PROPOSALS, {**proposal_input(), "attachments": files}, format="multipart"
    )
    assert response.status_code == 400
    assert "attachments" in response.json()
    assert Proposal.objects.count() == 0
    assert Attachment.objects.count() == 0


def test_a_file_that_is_no_image_refuses_the_whole_proposal(author, service, category, triage_org):
    response = client_for(author).post(
        PROPOSALS,
        {
            **proposal_input(),
            "attachments": [upload("a.png"), upload("evil.png", b"MZ not an image")],
        },
        format="multipart",
    )
    assert response.status_code == 400
    assert "attachments" in response.json()
    assert Proposal.objects.count() == 0
    assert Attachment.objects.count() == 0


# Editing --------------------------------------------------------------------------------------
def test_the_author_edits_within_the_window_and_each_edit_is_a_version(published, author):
    response = client_for(author).patch(
        url(published), {"body": "改正：**周末**全天开放。"}, format="json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["body"] == "改正：**周末**全天开放。"
    assert body["version"] == 2
    assert body["title"] == "周末延长开放时间"
    assert ProposalVersion.objects.filter(proposal=published).count() == 2


def test_the_author_edits_a_draft_without_versions(draft, author, other_category):
    response = client_for(author).patch(
        url(draft), {"title": "新标题", "category": "facilities"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["category"]["slug"] == "facilities"
    assert ProposalVersion.objects.filter(proposal=draft).count() == 0


@pytest.mark.parametrize("role", [role for role in ROLES if role not in ("author", "anonymous")])
def test_nobody_but_the_author_edits(roles, published, role):
    response = client_for(roles[role]).patch(url(published), {"title": "改掉"}, format="json")
    assert response.status_code == 403
    published.refresh_from_db()
    assert published.title == "周末延长开放时间"


def test_anonymous_edits_are_a_401(published):
    assert client_for().patch(url(published), {"title": "改掉"}, format="json").status_code == 401


def test_after_the_window_an_edit_is_a_409_not_editable(published, author):
    expire_edit_window(published)
    response = client_for(author).patch(url(published), {"title": "改掉"}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "not_editable"
    assert response.json()["detail"]
    published.refresh_from_db()
    assert published.title == "周末延长开放时间"


def test_an_over_long_edit_is_a_400_and_changes_nothing(published, author):
    response = client_for(author).patch(url(published), {"body": "长" * 20_001}, format="json")
    assert response.status_code == 400
    assert "body" in response.json()
    assert ProposalVersion.objects.filter(proposal=published).count() == 1


# Publishing and withdrawing -------------------------------------------------------------------
def test_the_author_publishes_a_draft(draft, author):
    response = client_for(author).post(url(draft, "publish"))
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "published"
    again = client_for(author).post(url(draft, "publish"))
    assert again.status_code == 409
    assert again.json()["code"] == "closed"


@pytest.mark.parametrize("role", [role for role in ROLES if role != "author"])
def test_nobody_else_publishes_or_even_sees_a_draft(roles, draft, role):
    response = client_for(roles[role]).post(url(draft, "publish"))
    assert response.status_code == (401 if role == "anonymous" else 404)
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


@pytest.mark.parametrize("role", ROLES)
def test_only_the_author_withdraws(roles, published, role):
    response = client_for(roles[role]).post(url(published, "withdraw"))
    published.refresh_from_db()
    if role == "author":
        assert response.status_code == 200, response.content
        assert response.json()["status"] == "withdrawn"
        assert [event["kind"] for event in response.json()["timeline"]][-1] == "withdrawn"
        assert published.status == Status.WITHDRAWN
    else:
        assert response.status_code == (401 if role == "anonymous" else 403)
        assert published.status == Status.PUBLISHED


def test_withdrawing_a_decided_or_withdrawn_proposal_is_a_409(
    published, propose, author, department_staff
):
    accept(published, department_staff)
    response = client_for(author).post(url(published, "withdraw"))
    assert response.status_code == 409
    assert response.json()["code"] == "closed"
    other = propose(title="另一条")
    client_for(author).post(url(other, "withdraw"))
    assert client_for(author).post(url(other, "withdraw")).status_code == 409


def test_a_withdrawn_proposal_stays_readable(published, author):
    services.proposal_withdraw(actor=author, proposal=published)
    body = client_for().get(url(published)).json()
    assert body["status"] == "withdrawn"
    assert body["withdrawn_at"]
    assert body["permissions"]["support"] is False


def test_a_proposal_at_another_station_is_filtered_out(propose, department, partner):
    elsewhere = StationFactory(slug="airport", host=partner, departments=[department])
    here = propose(title="这里", scope=Scope.STATION, service=None)
    there = propose(title="那里", scope=Scope.STATION, service=None, station=elsewhere)
    assert ids(client_for().get(PROPOSALS, {"station": "airport"})) == [there.pk]
    assert here.pk not in ids(client_for().get(PROPOSALS, {"station": "airport"}))


def test_a_milestone_done_shows_on_the_list_as_implemented(published, department_staff):
    accept(published, department_staff)
    milestone = services.milestone_add(
        actor=department_staff, proposal=published, title="上线", due_on=dt.date(2026, 8, 1)
    )
    services.milestone_set_state(
        actor=department_staff, milestone=milestone, state=Milestone.State.DONE
    )
    row = client_for().get(PROPOSALS, {"status": "implemented"}).json()["results"][0]
    assert row["id"] == published.pk
    assert row["implemented_at"]


@pytest.mark.parametrize("field", ["title", "body", "category"])
def test_a_blank_field_in_an_edit_is_refused_not_ignored(published, author, field):
    response = client_for(author).patch(url(published), {field: ""}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()


def test_an_edit_takes_json_only(published, author):
    response = client_for(author).patch(url(published), {"title": "改"}, format="multipart")
    assert response.status_code == 415
    published.refresh_from_db()
    assert published.title == "周末延长开放时间"


def test_a_blank_publish_flag_in_a_multipart_proposal_is_refused(
    author, service, category, triage_org
):
    response = client_for(author).post(
        PROPOSALS, {**proposal_input(), "publish": ""}, format="multipart"
    )
    assert response.status_code == 400
    assert "publish" in response.json()
    assert Proposal.objects.count() == 0


def test_the_api_is_throttled_at_the_projects_anonymous_and_user_rates(
    published, citizen, monkeypatch
):
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(
        SimpleRateThrottle,
        "THROTTLE_RATES",
        {**SimpleRateThrottle.THROTTLE_RATES, "anon": "2/min", "user": "3/min"},
    )
    anonymous = [client_for().get(PROPOSALS).status_code for _ in range(3)]
    signed_in = client_for(citizen)
    answers = [signed_in.post(url(published, "support")).status_code for _ in range(4)]

    assert anonymous == [200, 200, 429]
    assert answers == [201, 200, 200, 429]
