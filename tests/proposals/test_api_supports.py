"""The proposals API: supports and follows, for every role; supporting twice (one row), a draft
(400), a closed proposal (409); supports sent at the same moment (one row per person, the count
exact)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from governance.proposals import services
from governance.proposals.models import Follow, Proposal, Support
from tests.factories import UserFactory
from tests.proposals.fixtures_api import *  # noqa: F403  (fixtures, found by pytest here)
from tests.proposals.fixtures_api import PROPOSALS, ROLES, client_for, url

pytestmark = pytest.mark.django_db

SIGNED_IN = [role for role in ROLES if role != "anonymous"]


def supports_of(proposal) -> int:
    return Support.objects.filter(proposal=proposal).count()


def count_of(proposal) -> int:
    return Proposal.objects.values_list("supports_count", flat=True).get(pk=proposal.pk)


# Supporting -----------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_every_signed_in_person_may_support_once_and_anonymous_callers_may_not(
    roles, published, role
):
    client = client_for(roles[role])
    first = client.post(url(published, "support"))
    second = client.post(url(published, "support"))

    if role == "anonymous":
        assert (first.status_code, second.status_code) == (401, 401)
        assert supports_of(published) == 0
        return
    assert first.status_code == 201, first.content
    assert first.json() == {"supported": True, "supports_count": 1}
    # Supporting again is an idempotent no-op: 200, never a second row.
    assert second.status_code == 200
    assert second.json() == {"supported": True, "supports_count": 1}
    assert supports_of(published) == 1
    assert count_of(published) == 1
    row = client.get(PROPOSALS).json()["results"][0]
    assert row["supported_by_me"] is True


def test_supporting_ones_own_draft_is_a_400_and_writes_nothing(draft, author):
    response = client_for(author).post(url(draft, "support"))

    assert response.status_code == 400
    assert response.json()
    assert supports_of(draft) == 0
    assert count_of(draft) == 0


@pytest.mark.parametrize("role", [role for role in SIGNED_IN if role != "author"])
def test_someone_elses_draft_cannot_even_be_found(roles, draft, role):
    response = client_for(roles[role]).post(url(draft, "support"))
    assert response.status_code == 404
    assert supports_of(draft) == 0


def test_a_withdrawn_or_decided_proposal_takes_no_support_409(
    published, propose, author, citizen, department_staff
):
    services.proposal_answer(
        actor=department_staff, proposal=published, state="rejected", text="不采纳。"
    )
    withdrawn = propose(title="撤回的")
    services.proposal_withdraw(actor=author, proposal=withdrawn)

    for proposal in (published, withdrawn):
        response = client_for(citizen).post(url(proposal, "support"))
        assert response.status_code == 409
        assert response.json()["code"] == "closed"
        assert supports_of(proposal) == 0


def test_a_proposal_under_evaluation_still_takes_supports(published, citizen, department_staff):
    services.proposal_answer(
        actor=department_staff, proposal=published, state="evaluating", text="评估中。"
    )
    assert client_for(citizen).post(url(published, "support")).status_code == 201


def test_passing_the_threshold_sets_the_answer_due_date(
    published, citizen, other_citizen, settings
):
    settings.PROPOSALS_SUPPORT_THRESHOLD = 2
    client_for(citizen).post(url(published, "support"))
    assert client_for().get(url(published)).json()["answer_due_at"] is None

    client_for(other_citizen).post(url(published, "support"))

    body = client_for().get(url(published)).json()
    assert body["answer_due_at"]
    assert body["threshold_reached_at"]
    assert [event["kind"] for event in body["timeline"]] == ["published", "threshold"]
    assert body["timeline"][1]["answer_due_at"] == body["answer_due_at"]


# Withdrawing a support ------------------------------------------------------------------------
def test_delete_takes_the_support_back_and_answers_with_the_count(published, citizen, author):
    services.proposal_support(actor=author, proposal=published)
    client = client_for(citizen)
    client.post(url(published, "support"))

    response = client.delete(url(published, "support"))

    assert response.status_code == 200
    assert response.json() == {"supported": False, "supports_count": 1}
    assert not Support.objects.filter(proposal=published, user=citizen).exists()
    again = client.delete(url(published, "support"))
    assert again.status_code == 200
    assert again.json() == {"supported": False, "supports_count": 1}


def test_anonymous_callers_cannot_take_a_support_back(published, citizen):
    services.proposal_support(actor=citizen, proposal=published)
    assert client_for().delete(url(published, "support")).status_code == 401
    assert supports_of(published) == 1


def test_a_support_of_a_decided_proposal_stays(published, citizen, department_staff):
    services.proposal_support(actor=citizen, proposal=published)
    services.proposal_answer(
        actor=department_staff, proposal=published, state="rejected", text="不采纳。"
    )
    response = client_for(citizen).delete(url(published, "support"))
    assert response.status_code == 409
    assert supports_of(published) == 1


# At the same moment ---------------------------------------------------------------------------
def _at_once(requests) -> list[int]:
    """Send ``requests`` (callables) from as many threads, released together."""
    barrier = threading.Barrier(len(requests))
    statuses: list[int] = []
    errors: list[BaseException] = []

    def run(request):
        try:
            barrier.wait(timeout=10)
            statuses.append(request().status_code)
        except BaseException as exc:  # reported by the test below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(request,)) for request in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    return sorted(statuses)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("require_postgres")
def test_one_person_supporting_several_times_at_once_is_one_row(published, citizen):
    path = url(published, "support")
    statuses = _at_once([lambda: client_for(citizen).post(path) for _ in range(4)])

    assert statuses == [200, 200, 200, 201]
    assert supports_of(published) == 1
    assert count_of(published) == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("require_postgres")
def test_many_people_supporting_at_once_lose_no_support(published):
    people = [UserFactory() for _ in range(6)]
    path = url(published, "support")
    statuses = _at_once([lambda person=person: client_for(person).post(path) for person in people])

    assert statuses == [201] * 6
    assert supports_of(published) == 6
    assert count_of(published) == 6


# Following ------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_every_signed_in_person_may_follow_and_stop(roles, published, role):
    client = client_for(roles[role])
    response = client.post(url(published, "follow"))
    if role == "anonymous":
        assert response.status_code == 401
        assert client.delete(url(published, "follow")).status_code == 401
        return
    assert response.status_code == 200
    assert response.json() == {"following": True}
    assert Follow.objects.filter(proposal=published, user=roles[role]).exists()
    assert client.get(url(published)).json()["followed_by_me"] is True

    stopped = client.delete(url(published, "follow"))

    assert stopped.status_code == 200
    assert stopped.json() == {"following": False}
    assert not Follow.objects.filter(proposal=published, user=roles[role]).exists()


def test_a_draft_cannot_be_followed(draft, author, citizen):
    assert client_for(author).post(url(draft, "follow")).status_code == 403
    assert client_for(citizen).post(url(draft, "follow")).status_code == 404
    assert not Follow.objects.filter(proposal=draft).exists()
