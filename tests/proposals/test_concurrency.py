"""Counters under real concurrency: threads, each with its own PostgreSQL connection, released
together by a barrier so their transactions overlap.

A support is a row behind a unique constraint and an ``UPDATE … SET supports_count =
supports_count + 1`` in the same transaction: however the transactions interleave, the count
equals the rows, nobody has two rows, and the threshold is reached (and told) exactly once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connections

from governance.proposals import services
from governance.proposals.models import Comment, CommentVote, Proposal, Support
from tests.conftest import need
from tests.proposals.conftest import notifications, notified

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

THREADS = 12


@pytest.fixture(autouse=True)
def _postgres(require_postgres):
    """SQLite serialises every writer: nothing would overlap."""


def together(calls: list[Callable[[], object]]) -> tuple[list[object], list[BaseException]]:
    """Run ``calls`` in threads started at the same moment; each thread closes its connection.
    Returns the results and the exceptions raised."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(call):
        try:
            barrier.wait(timeout=30)
            outcome = call()
            with lock:
                results.append(outcome)
        except BaseException as error:  # reported by the test
            with lock:
                errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    need(not any(thread.is_alive() for thread in threads), "threads did not finish")
    return results, errors


def test_concurrent_supports_of_different_people_are_all_counted(
    proposal, people, settings, citizen, department_staff
):
    settings.PROPOSALS_SUPPORT_THRESHOLD = THREADS // 2
    supporters = people(THREADS)
    results, errors = together(
        [
            lambda user=user: services.proposal_support(actor=user, proposal=proposal)
            for user in supporters
        ]
    )
    assert errors == []
    assert all(created for _proposal, created in results)
    proposal.refresh_from_db()
    assert proposal.supports_count == Support.objects.filter(proposal=proposal).count() == THREADS
    # Reached once, told once: one notification for each of the author and hukou's staff.
    assert proposal.threshold_reached_at is not None
    assert notified("threshold_reached", proposal) == {citizen.pk, department_staff.pk}
    assert notifications("threshold_reached", proposal) == 2


def test_a_persons_concurrent_double_support_is_one_row(proposal, other_citizen):
    results, errors = together(
        [lambda: services.proposal_support(actor=other_citizen, proposal=proposal)] * THREADS
    )
    assert errors == []
    assert sorted(created for _proposal, created in results) == [False] * (THREADS - 1) + [True]
    proposal.refresh_from_db()
    assert proposal.supports_count == 1
    assert Support.objects.filter(proposal=proposal, user=other_citizen).count() == 1


def test_supports_and_unsupports_at_once_keep_the_count_equal_to_the_rows(proposal, people):
    leaving = people(THREADS // 2, prefix="leaving")
    for user in leaving:
        services.proposal_support(actor=user, proposal=proposal)
    arriving = people(THREADS // 2, prefix="arriving")
    calls = [
        lambda user=user: services.proposal_unsupport(actor=user, proposal=proposal)
        for user in leaving
    ] + [
        lambda user=user: services.proposal_support(actor=user, proposal=proposal)
        for user in arriving
    ]
    _results, errors = together(calls)
    assert errors == []
    proposal.refresh_from_db()
    rows = set(Support.objects.filter(proposal=proposal).values_list("user_id", flat=True))
    assert rows == {user.pk for user in arriving}
    assert proposal.supports_count == len(rows)


def test_concurrent_comments_and_votes_are_all_counted(proposal, citizen, people):
    commenters = people(THREADS, prefix="commenter")
    _results, errors = together(
        [
            lambda user=user: services.comment_add(actor=user, proposal=proposal, body="同意")
            for user in commenters
        ]
    )
    assert errors == []
    proposal = Proposal.objects.get(pk=proposal.pk)
    assert proposal.comments_count == Comment.objects.filter(proposal=proposal).count() == THREADS

    comment = services.comment_add(actor=citizen, proposal=proposal, body="谢谢大家")
    values = [1 if i % 3 else -1 for i in range(THREADS)]
    _results, errors = together(
        [
            lambda user=user, value=value: services.comment_vote(
                actor=user, comment=comment, value=value
            )
            for user, value in zip(commenters, values, strict=True)
        ]
    )
    assert errors == []
    comment.refresh_from_db()
    assert comment.upvotes == CommentVote.objects.filter(comment=comment, value=1).count()
    assert comment.downvotes == CommentVote.objects.filter(comment=comment, value=-1).count()
    assert (comment.upvotes, comment.downvotes) == (values.count(1), values.count(-1))


def test_one_persons_racing_votes_leave_one_vote_and_matching_counts(
    proposal, citizen, other_citizen
):
    comment = services.comment_add(actor=citizen, proposal=proposal, body="你怎么看？")
    values = [1, -1, 0] * (THREADS // 3)
    _results, errors = together(
        [
            lambda value=value: services.comment_vote(
                actor=other_citizen, comment=comment, value=value
            )
            for value in values
        ]
    )
    assert errors == []
    comment.refresh_from_db()
    votes = list(CommentVote.objects.filter(comment=comment).values_list("value", flat=True))
    assert len(votes) <= 1
    assert (comment.upvotes, comment.downvotes) == (votes.count(1), votes.count(-1))


def test_concurrent_flags_of_one_person_count_once(proposal, citizen, other_citizen):
    comment = services.comment_add(actor=citizen, proposal=proposal, body="可疑内容")
    results, errors = together(
        [lambda: services.comment_flag(actor=other_citizen, comment=comment)] * THREADS
    )
    assert errors == []
    assert sum(created for _comment, created in results) == 1
    comment.refresh_from_db()
    assert comment.flags_count == 1
