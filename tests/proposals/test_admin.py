"""The proposals admin through the real admin site: lists scoped to the organisations a
proposal concerns, drafts and unpublished answers kept to their owners, nothing changed behind
the services' back (superusers included), comments hidden through the service with a reason,
the search through the full-text index, categories kept by superusers, and lists that run a
constant number of queries."""

from __future__ import annotations

import pytest
from django.urls import reverse

from governance.proposals import services
from governance.proposals.models import Answer, Category, Comment, Proposal, Result
from tests.factories import UserFactory
from tests.proposals.conftest import PLAN_END, fresh, png
from tests.query_budget import assert_constant_queries

pytestmark = pytest.mark.django_db


def url(model: str, view: str, *args) -> str:
    return reverse(f"admin:proposals_{model}_{view}", args=args)


def listed(response) -> list:
    assert response.status_code == 200, response.status_code
    return list(response.context["cl"].result_list)


@pytest.fixture
def rows(propose, answer, partner, partner_staff, other_service, department_staff, people):
    """hukou answers ``hukou`` (accepted, with a milestone) and the mall's proposal (a draft
    answer waits); traffic answers ``traffic``; the citizen keeps a draft."""
    hukou = propose(title="周末延长开放时间", uploads=[png()])
    [commenter] = people(1)
    comment = services.comment_add(actor=commenter, proposal=hukou, body="支持延长")
    answer(hukou, "accepted")
    services.milestone_add(actor=department_staff, proposal=hukou, title="排班", due_on=PLAN_END)
    malls = propose(title="停车券", actor=partner_staff, on_behalf_of=partner)
    draft_answer = services.answer_draft(
        actor=department_staff, proposal=malls, state="evaluating", text="正在评估停车场容量"
    )
    traffic = propose(title="罚款自助缴纳", service=other_service)
    traffic_comment = services.comment_add(actor=commenter, proposal=traffic, body="同意")
    return {
        "hukou": Proposal.objects.get(pk=hukou.pk),
        "malls": malls,
        "traffic": traffic,
        "draft": propose(title="草稿建议", publish=False),
        "comment": comment,
        "traffic comment": traffic_comment,
        "draft answer": draft_answer,
        "commenter": commenter,
    }


# Who sees what -----------------------------------------------------------------------------------
def test_department_people_see_the_proposals_they_answer(
    mfa_client, department_viewer, department_staff, rows
):
    for user in (department_viewer, department_staff):
        client = mfa_client(user)
        assert set(listed(client.get(url("proposal", "changelist")))) == {
            rows["hukou"],
            rows["malls"],
        }
        assert client.get(url("proposal", "change", rows["hukou"].pk)).status_code == 200
        assert client.get(url("proposal", "change", rows["traffic"].pk)).status_code == 302
        assert client.get(url("proposal", "change", rows["draft"].pk)).status_code == 302


def test_a_partner_sees_what_it_proposed_but_not_the_departments_draft_answer(
    mfa_client, partner_admin, rows
):
    client = mfa_client(partner_admin)
    assert listed(client.get(url("proposal", "changelist"))) == [rows["malls"]]
    page = client.get(url("proposal", "change", rows["malls"].pk)).content.decode()
    assert "停车券" in page
    assert "正在评估停车场容量" not in page
    assert listed(client.get(url("answer", "changelist"))) == []
    assert client.get(url("answer", "change", rows["draft answer"].pk)).status_code == 302


def test_the_department_reads_its_draft_answer(mfa_client, department_viewer, rows):
    client = mfa_client(department_viewer)
    assert rows["draft answer"] in listed(client.get(url("answer", "changelist")))
    page = client.get(url("proposal", "change", rows["malls"].pk)).content.decode()
    assert "正在评估停车场容量" in page


def test_another_department_sees_only_its_own(mfa_client, other_department_staff, rows):
    client = mfa_client(other_department_staff)
    assert listed(client.get(url("proposal", "changelist"))) == [rows["traffic"]]
    assert listed(client.get(url("comment", "changelist"))) == [rows["traffic comment"]]
    assert client.get(url("comment", "change", rows["comment"].pk)).status_code == 302
    assert listed(client.get(url("result", "changelist"))) == []


def test_the_triage_desk_reads_every_published_proposal(mfa_client, triager, rows):
    client = mfa_client(triager)
    assert set(listed(client.get(url("proposal", "changelist")))) == {
        rows["hukou"],
        rows["malls"],
        rows["traffic"],
    }


def test_superusers_see_every_published_proposal_and_no_draft(mfa_client, superuser, rows):
    client = mfa_client(superuser)
    published = set(Proposal.objects.exclude(status="draft"))
    assert set(listed(client.get(url("proposal", "changelist")))) == published
    assert client.get(url("proposal", "change", rows["hukou"].pk)).status_code == 200
    # A draft is its author's alone: the admin answers as for a row that is not there.
    refused = client.get(url("proposal", "change", rows["draft"].pk))
    assert refused.status_code == 302
    assert refused["Location"] == "/admin/"


def test_people_without_a_seat_are_refused(mfa_client, rows):
    loner = UserFactory(email="loner@example.com", is_staff=True)
    client = mfa_client(loner)
    for model in ("proposal", "comment", "answer", "result", "category"):
        assert client.get(url(model, "changelist")).status_code == 403


def test_the_proposal_page_shows_versions_attachments_and_answers(
    mfa_client, department_staff, rows
):
    page = mfa_client(department_staff).get(url("proposal", "change", rows["hukou"].pk))
    content = page.content.decode()
    assert page.status_code == 200
    assert "photo.png" in content
    assert "经研究，同意采纳。" in content
    assert reverse("proposals:detail", args=[rows["hukou"].pk]) in content


def test_the_implementation_page_shows_milestones(mfa_client, department_staff, rows):
    result = Result.objects.get(proposal=rows["hukou"])
    page = mfa_client(department_staff).get(url("result", "change", result.pk))
    assert page.status_code == 200
    assert "排班" in page.content.decode()


# Read-only ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["superuser", "department_admin"])
def test_nobody_adds_changes_or_deletes_a_proposal_here(request, mfa_client, role, rows):
    client = mfa_client(request.getfixturevalue(role))
    proposal = rows["hukou"]
    assert client.get(url("proposal", "add")).status_code == 403
    client.post(url("proposal", "change", proposal.pk), {"title": "改写", "status": "rejected"})
    proposal.refresh_from_db()
    assert (proposal.title, proposal.status) == ("周末延长开放时间", "accepted")
    assert client.post(url("proposal", "delete", proposal.pk), {"post": "yes"}).status_code == 403
    assert Proposal.objects.filter(pk=proposal.pk).exists()


def test_comments_and_answers_are_read_only_for_superusers_too(mfa_client, superuser, rows):
    client = mfa_client(superuser)
    comment = rows["comment"]
    client.post(url("comment", "change", comment.pk), {"body": "篡改", "is_hidden": "on"})
    comment.refresh_from_db()
    assert (comment.body, comment.is_hidden) == ("支持延长", False)
    assert client.post(url("comment", "delete", comment.pk), {"post": "yes"}).status_code == 403
    answer = rows["draft answer"]
    assert client.post(url("answer", "delete", answer.pk), {"post": "yes"}).status_code == 403
    assert client.get(url("answer", "add")).status_code == 403
    assert Answer.objects.filter(pk=answer.pk).exists()


# Hiding comments ---------------------------------------------------------------------------------
def _hide(client, comments, reason=None):
    data = {"action": "hide_selected", "_selected_action": [c.pk for c in comments]}
    if reason is not None:
        data.update({"confirm": "yes", "reason": reason})
    return client.post(url("comment", "changelist"), data, follow=True)


def test_moderators_hide_comments_with_a_reason(mfa_client, department_staff, rows):
    client = mfa_client(department_staff)
    comment = rows["comment"]
    ask = _hide(client, [comment])
    assert ask.status_code == 200
    assert "隐藏原因" in ask.content.decode()
    comment.refresh_from_db()
    assert not comment.is_hidden
    # No reason: asked again, nothing hidden.
    assert "隐藏原因" in _hide(client, [comment], reason="").content.decode()
    comment.refresh_from_db()
    assert not comment.is_hidden
    done = _hide(client, [comment], reason="广告")
    assert "已隐藏 1 条评论" in done.content.decode()
    comment.refresh_from_db()
    assert (comment.is_hidden, comment.hidden_reason, comment.hidden_by) == (
        True,
        "广告",
        department_staff,
    )
    assert Comment.objects.filter(pk=comment.pk).exists()


def test_viewers_cannot_hide_even_in_the_admin(mfa_client, department_viewer, rows):
    client = mfa_client(department_viewer)
    assert "hide_selected" not in client.get(url("comment", "changelist")).content.decode()
    _hide(client, [rows["comment"]], reason="广告")
    rows["comment"].refresh_from_db()
    assert not rows["comment"].is_hidden


def test_comments_outside_the_scope_cannot_be_hidden(mfa_client, department_staff, rows):
    _hide(mfa_client(department_staff), [rows["traffic comment"]], reason="广告")
    rows["traffic comment"].refresh_from_db()
    assert not rows["traffic comment"].is_hidden


def test_the_flagged_filter_lists_flagged_comments_not_yet_hidden(
    mfa_client, department_staff, rows, other_citizen
):
    services.comment_flag(actor=other_citizen, comment=rows["comment"], reason="广告")
    client = mfa_client(department_staff)
    assert listed(client.get(url("comment", "changelist"), {"flagged": "yes"})) == [rows["comment"]]
    services.comment_hide(actor=department_staff, comment=rows["comment"], reason="广告")
    assert listed(client.get(url("comment", "changelist"), {"flagged": "yes"})) == []
    page = client.get(url("comment", "change", rows["comment"].pk)).content.decode()
    assert other_citizen.display_name in page  # the flags, with who flagged


# Search and filters ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("周末延长", {"hukou"}),
        ("停车", {"malls"}),
        ("罚款", {"traffic"}),
        ("'; DROP TABLE proposals_proposal; --", set()),
        ("!!!", {"hukou", "malls", "traffic"}),
    ],
)
def test_search_uses_the_full_text_index(mfa_client, superuser, rows, q, expected):
    found = listed(mfa_client(superuser).get(url("proposal", "changelist"), {"q": q}))
    assert set(found) == {rows[name] for name in expected}


def test_search_by_id(mfa_client, superuser, rows):
    client = mfa_client(superuser)
    found = listed(client.get(url("proposal", "changelist"), {"q": str(rows["traffic"].pk)}))
    assert found == [rows["traffic"]]


def test_filters(mfa_client, superuser, rows, settings, support):
    client = mfa_client(superuser)
    # Drafts are their authors' alone, so the status filter finds none here.
    assert listed(client.get(url("proposal", "changelist"), {"status__exact": "draft"})) == []
    assert listed(client.get(url("proposal", "changelist"), {"status__exact": "published"}))
    settings.PROPOSALS_SUPPORT_THRESHOLD = 1
    support(rows["traffic"], 1)
    assert listed(client.get(url("proposal", "changelist"), {"answer_due": "awaiting"})) == [
        rows["traffic"]
    ]
    assert listed(client.get(url("proposal", "changelist"), {"answer_due": "overdue"})) == []


# Categories --------------------------------------------------------------------------------------
def test_superusers_keep_the_categories(mfa_client, superuser, category):
    client = mfa_client(superuser)
    response = client.post(
        url("category", "add"),
        {
            "slug": "digital",
            "name_zh": "数字服务",
            "name_en": "Digital",
            "order": 30,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    assert Category.objects.filter(slug="digital", is_active=True).exists()
    client.post(
        url("category", "change", category.pk),
        {"slug": category.slug, "name_zh": "办理时间", "name_en": "Hours", "order": 10},
    )
    category.refresh_from_db()
    assert (category.name_zh, category.is_active) == ("办理时间", False)


def test_a_category_in_use_is_not_deleted(mfa_client, superuser, rows, category):
    response = mfa_client(superuser).post(url("category", "delete", category.pk), {"post": "yes"})
    assert response.status_code == 200
    assert Category.objects.filter(pk=category.pk).exists()


def test_members_read_the_categories_but_do_not_change_them(mfa_client, department_admin, category):
    client = mfa_client(department_admin)
    assert listed(client.get(url("category", "changelist"))) == [category]
    page = client.get(url("category", "change", category.pk))
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    client.post(
        url("category", "change", category.pk),
        {"slug": "x", "name_zh": "改", "name_en": "x", "order": 1, "is_active": "on"},
    )
    category.refresh_from_db()
    assert category.name_zh == "开放时间"
    assert client.get(url("category", "add")).status_code == 403


# Query budgets -----------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["superuser", "department_staff"])
def test_the_proposal_list_runs_constant_queries(request, mfa_client, propose, support, role):
    client = mfa_client(request.getfixturevalue(role))

    def more(n):
        for _ in range(n):
            support(propose(), 1)

    assert_constant_queries(
        lambda: client.get(url("proposal", "changelist")),
        more,
        check=lambda response, n: len(listed(response)) == n,
    )


def test_the_comment_and_answer_lists_run_constant_queries(
    mfa_client, department_staff, propose, answer, people
):
    client = mfa_client(department_staff)

    def more(n):
        for person in people(n):
            proposal = propose(actor=person)
            comment = services.comment_add(actor=person, proposal=proposal, body="补充")
            services.comment_flag(actor=department_staff, comment=comment)
            answer(proposal, "rejected", text="不采纳")

    assert_constant_queries(lambda: client.get(url("comment", "changelist")), more)
    assert_constant_queries(lambda: client.get(url("answer", "changelist")), more)


def test_the_result_list_runs_constant_queries(mfa_client, superuser, propose, answer):
    client = mfa_client(superuser)

    def more(n):
        for _ in range(n):
            answer(propose(), "accepted")

    assert_constant_queries(lambda: client.get(url("result", "changelist")), more)


def test_a_new_seat_counts_at_once(mfa_client, rows, department):
    from tests.factories import MembershipFactory

    person = UserFactory(email="newcomer@example.com", is_staff=True)
    MembershipFactory(organisation=department, user=person, role="viewer")
    client = mfa_client(fresh(person))
    assert rows["hukou"] in listed(client.get(url("proposal", "changelist")))


def test_the_admin_shows_citizens_by_their_public_name_never_their_e_mail(
    mfa_client, department_viewer, citizen, rows
):
    """A department's viewers read its proposals' records: the proposer, editors, commenters
    and flaggers appear as the public pages show them."""
    # People without a display name: User.__str__ would show their e-mail address.
    for person in (citizen, rows["commenter"]):
        person.display_name = ""
        person.save(update_fields=["display_name"])
    services.comment_flag(actor=citizen, comment=rows["comment"], reason="广告")
    client = mfa_client(department_viewer)
    pages = [
        client.get(url("proposal", "change", rows["hukou"].pk)),
        client.get(url("comment", "change", rows["comment"].pk)),
        client.get(url("comment", "changelist")),
    ]
    for page in pages:
        assert page.status_code == 200
        content = page.content.decode()
        for person in (citizen, rows["commenter"]):
            assert person.email not in content
