"""The proposals API: comments, replies, votes, flags and moderation, for every role; hidden
comments keep their place but not their text; bad input writes nothing; query counts."""

from __future__ import annotations

import pytest

from governance.proposals import services
from governance.proposals.models import Comment, CommentFlag, CommentVote
from tests.proposals.fixtures_api import *  # noqa: F403  (fixtures, found by pytest here)
from tests.proposals.fixtures_api import ROLES, client_for, url
from tests.query_budget import assert_constant_queries

pytestmark = pytest.mark.django_db

SIGNED_IN = [role for role in ROLES if role != "anonymous"]
MODERATORS = {"department_staff", "department_admin", "triager", "superuser"}


def comments_url(proposal) -> str:
    return url(proposal, "comments")


def comment_url(proposal, comment, action: str) -> str:
    return f"{url(proposal, 'comments')}{comment.pk}/{action}/"


@pytest.fixture
def thread(published, citizen, other_citizen):
    """A comment of the citizen with one reply of the other citizen."""
    top = services.comment_add(actor=citizen, proposal=published, body="我也觉得周末人多。")
    services.comment_add(actor=other_citizen, proposal=published, body="同意", parent=top)
    return top


# Reading --------------------------------------------------------------------------------------
def test_comments_are_threads_oldest_first_with_their_replies(published, thread, citizen):
    later = services.comment_add(actor=citizen, proposal=published, body="补充一点")

    response = client_for().get(comments_url(published))

    assert response.status_code == 200
    threads = response.json()
    assert [row["id"] for row in threads] == [thread.pk, later.pk]
    first = threads[0]
    assert first["body"] == "我也觉得周末人多。"
    assert first["parent"] is None
    assert first["author"]["is_you"] is False
    assert first["my_vote"] is None
    assert first["flags_count"] is None
    assert [reply["body"] for reply in first["replies"]] == ["同意"]
    assert first["replies"][0]["parent"] == thread.pk
    assert threads[1]["replies"] == []


def test_comment_text_is_plain_text_returned_as_written(published, citizen):
    client_for(citizen).post(
        comments_url(published), {"body": "<script>alert(1)</script>"}, format="json"
    )
    [row] = client_for().get(comments_url(published)).json()
    assert row["body"] == "<script>alert(1)</script>"
    assert "body_html" not in row


def test_a_hidden_comment_keeps_its_place_and_reason_but_only_moderators_read_it(
    roles, published, thread, department_staff
):
    services.comment_hide(actor=department_staff, comment=thread, reason="人身攻击")

    for role in ROLES:
        [row] = client_for(roles[role]).get(comments_url(published)).json()
        assert row["is_hidden"] is True
        assert row["hidden_reason"] == "人身攻击"
        assert row["hidden_at"]
        assert len(row["replies"]) == 1
        if role in MODERATORS:
            assert row["body"] == "我也觉得周末人多。", role
        else:
            assert row["body"] is None, role
            assert "我也觉得周末人多" not in str(row)


def test_the_reader_sees_their_own_vote(published, thread, author):
    services.comment_vote(actor=author, comment=thread, value=-1)
    [row] = client_for(author).get(comments_url(published)).json()
    assert row["my_vote"] == -1
    assert row["downvotes"] == 1
    assert row["replies"][0]["my_vote"] is None


def test_the_comments_of_a_draft_are_its_authors_alone(draft, author, citizen):
    assert client_for(author).get(comments_url(draft)).json() == []
    assert client_for(citizen).get(comments_url(draft)).status_code == 404
    assert client_for().get(comments_url(draft)).status_code == 404


def test_the_comments_run_a_constant_number_of_queries(published, citizen, other_citizen):
    client = client_for(citizen)

    def make(count):
        for _index in range(count):
            top = services.comment_add(actor=other_citizen, proposal=published, body="同意")
            services.comment_add(actor=citizen, proposal=published, body="谢谢", parent=top)
            services.comment_vote(actor=citizen, comment=top, value=1)

    def check(response, rows):
        assert len(response.json()) == rows

    assert_constant_queries(
        lambda: client.get(comments_url(published)), make, check=check, max_queries=8
    )


# Writing --------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_every_signed_in_person_may_comment_and_reply(roles, published, thread, role):
    client = client_for(roles[role])
    response = client.post(comments_url(published), {"body": "好建议"}, format="json")
    reply = client.post(
        comments_url(published), {"body": "回复", "parent": thread.pk}, format="json"
    )

    if role == "anonymous":
        assert (response.status_code, reply.status_code) == (401, 401)
        assert Comment.objects.count() == 2
        return
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["body"] == "好建议"
    assert body["author"]["is_you"] is True
    assert body["parent"] is None
    assert reply.status_code == 201, reply.content
    assert reply.json()["parent"] == thread.pk
    assert client.get(url(published)).json()["comments_count"] == 4
    assert client.get(url(published)).json()["followed_by_me"] is True


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"body": ""}, "body"),
        ({"body": "长" * 2001}, "body"),
        ({"body": 5}, "body"),
        ({"body": "a\x00b"}, "body"),
        ({"body": "好", "parent": "x"}, "parent"),
        ({"body": "好", "parent": True}, "parent"),
        ({"body": "好", "parent": 0}, "parent"),
        ({"body": "好", "parent": 987654321}, "parent"),
    ],
)
def test_a_bad_comment_is_a_400_naming_the_field_and_writes_nothing(
    published, thread, citizen, values, field
):
    response = client_for(citizen).post(comments_url(published), values, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert Comment.objects.count() == 2


def test_a_reply_to_a_reply_or_to_another_proposals_comment_is_refused(
    published, propose, thread, citizen
):
    reply = thread.replies.get()
    other = propose(title="另一条")
    elsewhere = services.comment_add(actor=citizen, proposal=other, body="别处")
    for parent in (reply, elsewhere):
        response = client_for(citizen).post(
            comments_url(published), {"body": "再回复", "parent": parent.pk}, format="json"
        )
        assert response.status_code == 400
        assert "parent" in response.json()
    assert Comment.objects.filter(proposal=published).count() == 2


def test_a_draft_cannot_be_commented(draft, author):
    response = client_for(author).post(comments_url(draft), {"body": "先说一句"}, format="json")
    assert response.status_code == 400
    assert not Comment.objects.filter(proposal=draft).exists()


def test_a_withdrawn_proposal_takes_no_more_comments(published, author, citizen):
    services.proposal_withdraw(actor=author, proposal=published)
    response = client_for(citizen).post(comments_url(published), {"body": "晚了"}, format="json")
    assert response.status_code == 403
    assert not Comment.objects.filter(proposal=published).exists()


# Votes ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_every_signed_in_person_but_its_writer_may_vote_a_comment(roles, published, thread, role):
    client = client_for(roles[role])
    response = client.post(comment_url(published, thread, "vote"), {"value": 1}, format="json")

    if role == "anonymous":
        assert response.status_code == 401
        assert not CommentVote.objects.exists()
        return
    if role == "citizen":  # its writer
        assert response.status_code == 400
        assert not CommentVote.objects.exists()
        return
    assert response.status_code == 200, response.content
    assert response.json()["upvotes"] == 1
    assert response.json()["my_vote"] == 1

    changed = client.post(comment_url(published, thread, "vote"), {"value": -1}, format="json")
    assert (changed.json()["upvotes"], changed.json()["downvotes"]) == (0, 1)
    assert changed.json()["my_vote"] == -1
    taken_back = client.post(comment_url(published, thread, "vote"), {"value": 0}, format="json")
    assert (taken_back.json()["upvotes"], taken_back.json()["downvotes"]) == (0, 0)
    assert taken_back.json()["my_vote"] is None
    assert not CommentVote.objects.exists()


@pytest.mark.parametrize("value", [2, -2, "1", True, None, 1.0, [1]])
def test_a_vote_is_1_minus_1_or_0_and_nothing_else(published, thread, author, value):
    response = client_for(author).post(
        comment_url(published, thread, "vote"), {"value": value}, format="json"
    )
    assert response.status_code == 400
    assert "value" in response.json()
    assert not CommentVote.objects.exists()


def test_voting_twice_the_same_way_counts_once(published, thread, author):
    client = client_for(author)
    for _index in range(2):
        client.post(comment_url(published, thread, "vote"), {"value": 1}, format="json")
    thread.refresh_from_db()
    assert thread.upvotes == 1
    assert CommentVote.objects.count() == 1


def test_a_comment_of_another_proposal_or_none_at_all_is_a_404(published, propose, thread, author):
    other = propose(title="另一条")
    for path in (
        comment_url(other, thread, "vote"),
        f"{comments_url(published)}987654321/vote/",
        f"{comments_url(published)}{'9' * 30}/vote/",
    ):
        response = client_for(author).post(path, {"value": 1}, format="json")
        assert response.status_code == 404, path


# Flags ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_every_signed_in_person_but_its_writer_may_flag_a_comment_once(
    roles, published, thread, role
):
    client = client_for(roles[role])
    first = client.post(comment_url(published, thread, "flag"), {"reason": "广告"}, format="json")
    second = client.post(comment_url(published, thread, "flag"), {}, format="json")

    if role in ("anonymous", "citizen"):  # the citizen wrote it
        expected = 401 if role == "anonymous" else 400
        assert (first.status_code, second.status_code) == (expected, expected)
        assert not CommentFlag.objects.exists()
        return
    assert first.status_code == 201, first.content
    assert first.json() == {"flagged": True, "created": True}
    assert second.status_code == 200
    assert second.json() == {"flagged": True, "created": False}
    assert CommentFlag.objects.count() == 1
    thread.refresh_from_db()
    assert thread.flags_count == 1


def test_only_moderators_see_how_often_a_comment_was_flagged(
    published, thread, author, department_staff
):
    services.comment_flag(actor=author, comment=thread, reason="广告")
    assert client_for(author).get(comments_url(published)).json()[0]["flags_count"] is None
    staff = client_for(department_staff).get(comments_url(published)).json()
    assert staff[0]["flags_count"] == 1


def test_an_over_long_flag_reason_is_a_400(published, thread, author):
    response = client_for(author).post(
        comment_url(published, thread, "flag"), {"reason": "长" * 201}, format="json"
    )
    assert response.status_code == 400
    assert "reason" in response.json()
    assert not CommentFlag.objects.exists()


# Moderation -----------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_only_moderators_hide_a_comment(roles, published, thread, role):
    response = client_for(roles[role]).post(
        comment_url(published, thread, "hide"), {"reason": "人身攻击"}, format="json"
    )
    thread.refresh_from_db()
    if role in MODERATORS:
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["is_hidden"] is True
        assert body["hidden_reason"] == "人身攻击"
        assert body["body"] == "我也觉得周末人多。"  # the moderator still reads it
        assert thread.is_hidden
    else:
        assert response.status_code == (401 if role == "anonymous" else 403)
        assert not thread.is_hidden
    assert Comment.objects.filter(pk=thread.pk).exists()  # never deleted


def test_hiding_needs_a_reason(published, thread, department_staff):
    response = client_for(department_staff).post(
        comment_url(published, thread, "hide"), {"reason": ""}, format="json"
    )
    assert response.status_code == 400
    assert "reason" in response.json()
    thread.refresh_from_db()
    assert not thread.is_hidden


def test_the_staff_of_another_department_do_not_moderate_this_one(
    published, thread, other_department_staff
):
    response = client_for(other_department_staff).post(
        comment_url(published, thread, "hide"), {"reason": "不当"}, format="json"
    )
    assert response.status_code == 403
