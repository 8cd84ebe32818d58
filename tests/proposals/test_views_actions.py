"""Every action of the proposal page for every role: the permitted ones change the proposal and
come back to its page with a message (POST-redirect-GET); the refused ones answer 403 with the
reason (404 where the proposal is invisible, the sign-in page for anonymous visitors) and
change nothing; a refusal because of the proposal's state is a message, never a 500."""

from __future__ import annotations

import pytest
import rules
from django.contrib.messages import get_messages

from governance.proposals import services
from governance.proposals.models import (
    MAX_COMMENT,
    Comment,
    CommentFlag,
    CommentVote,
    Follow,
    Proposal,
    Status,
    Support,
)
from tests.proposals.fixtures_views import *  # noqa: F403  (the fixtures)
from tests.proposals.fixtures_views import (
    MODERATORS,
    ROLES,
    ROUTERS,
    act_url,
    detail_url,
    fresh,
    sign_in,
    when_past,
)

pytestmark = pytest.mark.django_db

SIGNED_IN = tuple(role for role in ROLES if role != "anonymous")


def _state(proposal: Proposal) -> tuple:
    proposal = Proposal.objects.get(pk=proposal.pk)
    return (
        proposal.status,
        proposal.responsible_id,
        proposal.supports_count,
        proposal.comments_count,
        Support.objects.filter(proposal=proposal).count(),
        Follow.objects.filter(proposal=proposal).count(),
        Comment.objects.filter(proposal=proposal).count(),
        Comment.objects.filter(proposal=proposal, is_hidden=True).count(),
        CommentVote.objects.filter(comment__proposal=proposal).count(),
        CommentFlag.objects.filter(comment__proposal=proposal).count(),
    )


def _texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def thread(published, other_citizen):
    """A comment by the other citizen on the published proposal."""
    return services.comment_add(actor=other_citizen, proposal=published, body="好主意")


# action: (who may, who is told "no" by a message on the page, the form's data)
def _actions(thread) -> dict:
    everyone = set(SIGNED_IN)
    return {
        # Publishing a published proposal: its author is told it is published already.
        "publish": (set(), {"author"}, {}),
        "support": (everyone, set(), {}),
        "unsupport": (everyone, set(), {}),
        "follow": (everyone, set(), {}),
        "unfollow": (everyone, set(), {}),
        "comment": (everyone, set(), {"comment-body": "我也支持。"}),
        # Not on one's own comment: a message, as for a stale page.
        "vote": (
            everyone - {"other_citizen"},
            {"other_citizen"},
            {"vote-comment": thread.pk, "vote-value": "1"},
        ),
        "flag": (
            everyone - {"other_citizen"},
            {"other_citizen"},
            {"flag-comment": thread.pk, "flag-reason": "广告"},
        ),
        "hide": (set(MODERATORS), set(), {"hide-comment": thread.pk, "hide-reason": "广告"}),
        "route": (set(ROUTERS), set(), {"route-responsible": "traffic"}),
        "withdraw": ({"author"}, set(), {}),
    }


ACTIONS = (
    "publish",
    "support",
    "unsupport",
    "follow",
    "unfollow",
    "comment",
    "vote",
    "flag",
    "hide",
    "route",
    "withdraw",
)


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("role", ROLES)
def test_action_on_a_published_proposal_for_each_role(
    request, client, role, action, published, thread, other_department
):
    allowed, told, data = _actions(thread)[action]
    user = sign_in(client, request, role)
    if role != "anonymous":
        # Each action finds the state it changes: not following before "follow", supporting
        # before "unsupport", following before "unfollow".
        if action == "follow":
            Follow.objects.filter(proposal=published, user=user).delete()
        elif action == "unfollow":
            services.proposal_follow(actor=user, proposal=published)
        elif action == "unsupport":
            services.proposal_support(actor=user, proposal=published)
    before = _state(published)
    response = client.post(act_url(published, action), data)
    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
        assert _state(published) == before
        return
    if role in told:
        assert response.status_code == 302, (role, action)
        assert response["Location"].startswith(detail_url(published))
        assert _state(published) == before, (role, action)
        assert _texts(response), (role, action)
    elif role in allowed:
        assert response.status_code == 302, (role, action, response.content[:2000])
        assert response["Location"].startswith(detail_url(published)), (role, action)
        assert _state(published) != before, (role, action)
        assert _texts(response), (role, action)
    else:
        assert response.status_code == 403, (role, action)
        assert "没有权限" in response.content.decode()
        assert _state(published) == before, (role, action)
    # The page's rules say the same.
    permission = {
        "hide": "proposals.moderate_proposal",
        "route": "proposals.route_proposal",
        "withdraw": "proposals.withdraw_proposal",
    }.get(action)
    if permission:
        assert rules.has_perm(permission, fresh(user), published) is (role in allowed)


@pytest.mark.parametrize("action", ["publish", "support", "follow", "comment", "withdraw"])
@pytest.mark.parametrize("role", SIGNED_IN)
def test_action_on_someone_elses_draft_is_404(request, client, role, action, propose):
    draft = propose(publish=False)
    sign_in(client, request, role)
    before = _state(draft)
    response = client.post(act_url(draft, action), {"comment-body": "草稿评论"})
    if role == "author":
        return  # the author's own: below
    assert response.status_code == 404, (role, action)
    assert _state(draft) == before


def test_author_publishes_the_draft(client, propose, author):
    draft = propose(publish=False)
    client.force_login(author)
    response = client.post(act_url(draft, "publish"))
    assert response.status_code == 302
    assert response["Location"] == detail_url(draft)
    draft.refresh_from_db()
    assert draft.status == Status.PUBLISHED
    assert any("建议已发布" in text for text in _texts(response))


def test_supporting_ones_own_draft_is_refused_with_a_message(client, propose, author):
    draft = propose(publish=False)
    client.force_login(author)
    response = client.post(act_url(draft, "support"), follow=True)
    assert response.status_code == 200
    assert response.redirect_chain == [(detail_url(draft), 302)]
    assert "草稿还不能支持；请先发布。" in response.content.decode()
    assert not Support.objects.exists()
    draft.refresh_from_db()
    assert draft.supports_count == 0


def test_commenting_on_ones_own_draft_is_refused_on_the_page(client, propose, author):
    draft = propose(publish=False)
    client.force_login(author)
    response = client.post(act_url(draft, "comment"), {"comment-body": "自言自语"})
    assert response.status_code == 400
    assert "草稿还不能评论。" in response.content.decode()
    assert not Comment.objects.exists()


def test_supporting_twice_keeps_one_support(client, published, citizen):
    client.force_login(citizen)
    first = client.post(act_url(published, "support"))
    second = client.post(act_url(published, "support"), follow=True)
    assert first.status_code == 302
    assert "你已经支持过这条建议。" in second.content.decode()
    assert Support.objects.filter(proposal=published, user=citizen).count() == 1
    published.refresh_from_db()
    assert published.supports_count == 1


def test_unsupport_and_unsupport_again(client, published, citizen):
    client.force_login(citizen)
    client.post(act_url(published, "support"))
    response = client.post(act_url(published, "unsupport"), follow=True)
    assert "已取消支持。" in response.content.decode()
    response = client.post(act_url(published, "unsupport"), follow=True)
    assert "你没有支持过这条建议。" in response.content.decode()
    published.refresh_from_db()
    assert published.supports_count == 0
    assert not Support.objects.exists()


def test_support_reaching_the_threshold_sets_the_answer_due_date(
    client, settings, published, citizen, other_citizen
):
    settings.PROPOSALS_SUPPORT_THRESHOLD = 2
    for user in (citizen, other_citizen):
        client.force_login(user)
        client.post(act_url(published, "support"))
    published.refresh_from_db()
    assert published.threshold_reached_at is not None
    assert published.answer_due_at is not None


@pytest.mark.parametrize("status", ["accepted", "rejected", "withdrawn"])
def test_supporting_a_closed_proposal_is_a_message_not_an_error(
    client, published, citizen, author, accept, status
):
    if status == "withdrawn":
        services.proposal_withdraw(actor=author, proposal=published)
    else:
        accept(published, state=status, text="结论")
    client.force_login(citizen)
    for action in ("support", "unsupport"):
        response = client.post(act_url(published, action), follow=True)
        assert response.status_code == 200
        assert "这条建议已经答复或撤回，不再征集支持。" in response.content.decode()
    assert not Support.objects.exists()


def test_withdrawing_twice_and_publishing_again_are_messages(client, published, author):
    client.force_login(author)
    assert client.post(act_url(published, "withdraw")).status_code == 302
    response = client.post(act_url(published, "withdraw"), follow=True)
    assert "这条建议当前不能撤回。" in response.content.decode()
    response = client.post(act_url(published, "publish"), follow=True)
    assert "这条建议已经发布。" in response.content.decode()
    published.refresh_from_db()
    assert published.status == Status.WITHDRAWN


def test_author_withdraws_after_the_edit_window(client, propose, author):
    with when_past(45):
        proposal = propose()
    client.force_login(author)
    html = client.get(detail_url(proposal)).content.decode()
    assert act_url(proposal, "withdraw") in html
    client.post(act_url(proposal, "withdraw"))
    proposal.refresh_from_db()
    assert proposal.status == Status.WITHDRAWN


def test_follow_and_unfollow(client, published, citizen):
    client.force_login(citizen)
    response = client.post(act_url(published, "follow"), follow=True)
    assert "已关注这条建议" in response.content.decode()
    assert act_url(published, "unfollow") in response.content.decode()
    assert Follow.objects.filter(proposal=published, user=citizen).exists()
    client.post(act_url(published, "unfollow"))
    assert not Follow.objects.filter(proposal=published, user=citizen).exists()


def test_comment_and_reply(client, published, citizen, thread):
    client.force_login(citizen)
    response = client.post(act_url(published, "comment"), {"comment-body": "同意"})
    comment = Comment.objects.get(body="同意")
    assert response["Location"] == f"{detail_url(published)}#comment-{comment.pk}"
    response = client.post(
        act_url(published, "comment"), {"comment-body": "回复你", "comment-parent": thread.pk}
    )
    reply = Comment.objects.get(body="回复你")
    assert reply.parent == thread
    assert response["Location"].endswith(f"#comment-{reply.pk}")


def test_a_reply_to_a_reply_is_refused_under_that_thread(client, published, citizen, thread):
    reply = services.comment_add(actor=citizen, proposal=published, body="回复", parent=thread)
    client.force_login(citizen)
    response = client.post(
        act_url(published, "comment"), {"comment-body": "再回复", "comment-parent": reply.pk}
    )
    assert response.status_code == 400
    assert "只能回复一级评论。" in response.content.decode()
    assert not Comment.objects.filter(body="再回复").exists()


def test_a_reply_to_a_comment_of_another_proposal_is_refused(client, propose, citizen):
    first, second = propose(), propose(title="另一条")
    elsewhere = services.comment_add(actor=citizen, proposal=second, body="那边的评论")
    client.force_login(citizen)
    response = client.post(
        act_url(first, "comment"), {"comment-body": "回复", "comment-parent": elsewhere.pk}
    )
    assert response.status_code == 400
    assert "回复的评论不存在。" in response.content.decode()
    assert Comment.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [("", "该字段是必填项"), ("   ", "该字段是必填项"), ("长" * (MAX_COMMENT + 1), "2000")],
)
def test_bad_comment_comes_back_with_the_text_and_nothing_written(
    client, published, citizen, body, message
):
    client.force_login(citizen)
    response = client.post(act_url(published, "comment"), {"comment-body": body})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Comment.objects.exists()


def test_a_refused_reply_keeps_its_text_under_its_comment(client, published, citizen, thread):
    client.force_login(citizen)
    response = client.post(
        act_url(published, "comment"),
        {"comment-body": "长" * (MAX_COMMENT + 1), "comment-parent": thread.pk},
    )
    assert response.status_code == 400
    html = response.content.decode()
    reply_box = html[html.index(f'id="reply-{thread.pk}-body"') :]
    assert reply_box.index("长" * 50) < reply_box.index("</details>")
    assert "field-error" in reply_box[: reply_box.index("</details>")]


def test_vote_up_down_and_take_back(client, published, citizen, thread):
    client.force_login(citizen)

    def vote(value):
        return client.post(
            act_url(published, "vote"), {"vote-comment": thread.pk, "vote-value": value}
        )

    vote("1")
    thread.refresh_from_db()
    assert (thread.upvotes, thread.downvotes) == (1, 0)
    vote("-1")
    thread.refresh_from_db()
    assert (thread.upvotes, thread.downvotes) == (0, 1)
    vote("-1")  # the same again changes nothing
    thread.refresh_from_db()
    assert (thread.upvotes, thread.downvotes) == (0, 1)
    vote("0")
    thread.refresh_from_db()
    assert (thread.upvotes, thread.downvotes) == (0, 0)
    assert not CommentVote.objects.exists()


def test_voting_on_ones_own_comment_is_a_message(client, published, other_citizen, thread):
    client.force_login(other_citizen)
    response = client.post(
        act_url(published, "vote"), {"vote-comment": thread.pk, "vote-value": "1"}, follow=True
    )
    assert "不能给自己的评论投票。" in response.content.decode()
    assert not CommentVote.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"vote-value": "2"}, "投票只能是"),
        ({"vote-value": "abc"}, "投票只能是"),
        ({"vote-value": "1", "vote-comment": "999999"}, "这条建议下没有这条评论。"),
        ({"vote-value": "1", "vote-comment": "abc"}, "这条建议下没有这条评论。"),
    ],
)
def test_bad_vote_is_400_with_the_reason(client, published, citizen, thread, data, message):
    client.force_login(citizen)
    data = {"vote-comment": thread.pk, **data}
    response = client.post(act_url(published, "vote"), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not CommentVote.objects.exists()


def test_vote_on_a_comment_of_another_proposal_is_refused(client, propose, citizen, other_citizen):
    first, second = propose(), propose(title="另一条")
    elsewhere = services.comment_add(actor=other_citizen, proposal=second, body="那边")
    client.force_login(citizen)
    response = client.post(
        act_url(first, "vote"), {"vote-comment": elsewhere.pk, "vote-value": "1"}
    )
    assert response.status_code == 400
    assert not CommentVote.objects.exists()


def test_flagging_twice_is_one_flag(client, published, citizen, thread):
    client.force_login(citizen)
    client.post(act_url(published, "flag"), {"flag-comment": thread.pk})
    response = client.post(act_url(published, "flag"), {"flag-comment": thread.pk}, follow=True)
    assert "你已经举报过这条评论。" in response.content.decode()
    thread.refresh_from_db()
    assert thread.flags_count == 1


def test_hide_needs_a_reason_and_keeps_the_comment(client, published, department_staff, thread):
    client.force_login(department_staff)
    response = client.post(act_url(published, "hide"), {"hide-comment": thread.pk})
    assert response.status_code == 400
    html = response.content.decode()
    hide_box = html[html.index(f'id="hide-{thread.pk}-reason"') :]
    assert "field-error" in hide_box[: hide_box.index("</details>")]
    thread.refresh_from_db()
    assert not thread.is_hidden
    response = client.post(
        act_url(published, "hide"), {"hide-comment": thread.pk, "hide-reason": "广告"}
    )
    assert response["Location"].endswith(f"#comment-{thread.pk}")
    thread.refresh_from_db()
    assert thread.is_hidden
    assert thread.hidden_reason == "广告"
    assert Comment.objects.filter(pk=thread.pk).exists()  # hidden, never deleted


def test_hide_from_the_flagged_list_goes_back_to_it(client, published, triager, thread, citizen):
    services.comment_flag(actor=citizen, comment=thread, reason="广告")
    client.force_login(triager)
    response = client.post(
        act_url(published, "hide"),
        {"hide-comment": thread.pk, "hide-reason": "广告", "back": "flagged"},
    )
    assert response["Location"] == "/proposals/flagged/"


def test_route_hands_the_proposal_to_another_department(
    client, published, triager, other_department
):
    client.force_login(triager)
    response = client.post(act_url(published, "route"), {"route-responsible": "traffic"})
    assert response.status_code == 302
    published.refresh_from_db()
    assert published.responsible == other_department
    response = client.post(act_url(published, "route"), {"route-responsible": "nowhere"})
    assert response.status_code == 400
    published.refresh_from_db()
    assert published.responsible == other_department


def test_commenting_on_a_withdrawn_proposal_is_refused(client, published, author, citizen):
    services.proposal_withdraw(actor=author, proposal=published)
    client.force_login(citizen)
    response = client.post(act_url(published, "comment"), {"comment-body": "晚了"})
    assert response.status_code == 403
    assert "这条建议已撤回，不能再评论。" in response.content.decode()
    assert not Comment.objects.exists()


def test_unknown_action_is_404_and_get_is_405(client, published, citizen):
    client.force_login(citizen)
    assert client.post(act_url(published, "explode")).status_code == 404
    assert client.get(act_url(published, "support")).status_code == 405
    assert client.post("/proposals/999999/support/").status_code == 404


def test_actions_need_the_csrf_token(published, citizen):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(citizen)
    assert strict.post(act_url(published, "support")).status_code == 403
    assert not Support.objects.exists()
