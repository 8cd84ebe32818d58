"""The proposals API: the official answer. Only the responsible department's admins and staff
answer (403 for everyone else, superusers and other departments included); drafts stay the
department's until published; a decided proposal is a 409; bad input writes nothing."""

from __future__ import annotations

import pytest

from governance.proposals import services
from governance.proposals.models import Answer, Result, Status
from tests.proposals.fixtures_api import *  # noqa: F403  (fixtures, found by pytest here)
from tests.proposals.fixtures_api import ROLES, client_for, url

pytestmark = pytest.mark.django_db

ANSWERERS = {"department_staff", "department_admin"}
ACCEPTED = {
    "state": "accepted",
    "text": "采纳。**下月**起周末开放。",
    "cost": "12000.50",
    "starts_on": "2026-07-01",
    "ends_on": "2026-09-30",
}


def answer_url(proposal) -> str:
    return url(proposal, "answer")


@pytest.mark.parametrize("role", ROLES)
def test_only_the_responsible_departments_acting_staff_answer(roles, published, role):
    response = client_for(roles[role]).post(
        answer_url(published), {**ACCEPTED, "publish": True}, format="json"
    )
    published.refresh_from_db()

    if role in ANSWERERS:
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["state"] == "accepted"
        assert body["text_html"] == "<p>采纳。<strong>下月</strong>起周末开放。</p>\n"
        assert body["cost"] == "12000.50"
        assert body["organisation"]["slug"] == "hukou"
        assert body["published_at"]
        assert published.status == Status.ACCEPTED
        assert Result.objects.filter(proposal=published).exists()
    else:
        # The viewer, other departments, the triage desk and superusers alike.
        assert response.status_code == (401 if role == "anonymous" else 403), response.content
        assert published.status == Status.PUBLISHED
        assert not Answer.objects.exists()


def test_a_draft_answer_is_the_departments_until_published(published, department_staff, author):
    client = client_for(department_staff)
    response = client.post(
        answer_url(published), {"state": "rejected", "text": "初稿"}, format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["published_at"] is None
    public = client_for(author).get(url(published)).json()
    assert public["answers"] == []
    assert public["status"] == "published"
    assert "初稿" not in client_for(author).get(url(published)).content.decode()

    rewritten = client.post(
        answer_url(published), {"state": "rejected", "text": "定稿", "publish": True},
        format="json",
    )  # fmt: skip

    assert rewritten.status_code == 201
    assert rewritten.json()["id"] == response.json()["id"]  # the draft, published
    body = client_for(author).get(url(published)).json()
    assert body["status"] == "rejected"
    assert [answer["text"] for answer in body["answers"]] == ["定稿"]
    assert body["answered_at"]
    assert Answer.objects.count() == 1


def test_evaluating_then_accepted_keeps_both_answers_on_the_timeline(published, department_staff):
    client = client_for(department_staff)
    client.post(
        answer_url(published),
        {"state": "evaluating", "text": "正在评估。", "publish": True},
        format="json",
    )
    client.post(answer_url(published), {**ACCEPTED, "publish": True}, format="json")

    body = client_for().get(url(published)).json()
    assert [answer["state"] for answer in body["answers"]] == ["evaluating", "accepted"]
    answered = [event for event in body["timeline"] if event["kind"] == "answered"]
    assert [event["answer_state"] for event in answered] == ["evaluating", "accepted"]
    assert body["result"]["starts_on"] == "2026-07-01"
    assert body["result"]["cost"] == "12000.50"


@pytest.mark.parametrize("state", ["accepted", "rejected"])
def test_a_decided_proposal_cannot_be_answered_again_409(published, department_staff, state):
    services.proposal_answer(
        actor=department_staff,
        proposal=published,
        state=state,
        text="已决定。",
        starts_on=None if state == "rejected" else "2026-07-01",
        ends_on=None if state == "rejected" else "2026-09-30",
    )
    response = client_for(department_staff).post(
        answer_url(published), {"state": "rejected", "text": "再答一次"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "answered"
    assert Answer.objects.count() == 1


def test_a_withdrawn_proposal_cannot_be_answered_409(published, author, department_admin):
    services.proposal_withdraw(actor=author, proposal=published)
    response = client_for(department_admin).post(
        answer_url(published), {"state": "rejected", "text": "不采纳"}, format="json"
    )
    assert response.status_code == 409
    assert not Answer.objects.exists()


def test_a_draft_proposal_is_not_found_by_the_department(draft, department_staff):
    response = client_for(department_staff).post(
        answer_url(draft), {"state": "rejected", "text": "不采纳"}, format="json"
    )
    assert response.status_code == 404


def test_the_staff_of_the_department_a_proposal_was_routed_to_answer_it(
    published, other_department, other_department_staff, triager, department_staff
):
    services.proposal_route(actor=triager, proposal=published, responsible=other_department)

    refused = client_for(department_staff).post(
        answer_url(published), {"state": "rejected", "text": "不采纳"}, format="json"
    )
    taken = client_for(other_department_staff).post(
        answer_url(published), {"state": "rejected", "text": "不采纳"}, format="json"
    )

    assert refused.status_code == 403
    assert taken.status_code == 201, taken.content
    assert taken.json()["organisation"]["slug"] == other_department.slug


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"state": "accepted", "text": "采纳"}, "starts_on"),
        ({**ACCEPTED, "starts_on": None}, "starts_on"),
        ({**ACCEPTED, "ends_on": "2026-06-01"}, "ends_on"),
        ({**ACCEPTED, "ends_on": "not a date"}, "ends_on"),
        ({**ACCEPTED, "starts_on": 20260701}, "starts_on"),
        ({**ACCEPTED, "state": "maybe"}, "state"),
        ({**ACCEPTED, "text": ""}, "text"),
        ({**ACCEPTED, "text": "长" * 20_001}, "text"),
        ({**ACCEPTED, "cost": "-1"}, "cost"),
        ({**ACCEPTED, "cost": "abc"}, "cost"),
        ({**ACCEPTED, "cost": "1.234"}, "cost"),
        ({**ACCEPTED, "cost": True}, "cost"),
        ({**ACCEPTED, "cost": "99999999999"}, "cost"),
        ({**ACCEPTED, "publish": "yes"}, "publish"),
    ],
)
def test_a_bad_answer_is_a_400_naming_the_field_and_writes_nothing(
    published, department_staff, values, field
):
    response = client_for(department_staff).post(
        answer_url(published), {**values, "publish": values.get("publish", True)}, format="json"
    )
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert not Answer.objects.exists()
    published.refresh_from_db()
    assert published.status == Status.PUBLISHED
