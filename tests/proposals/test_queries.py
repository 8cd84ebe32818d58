"""The reads of the proposals app: what each reader sees, the list's filters and sorts, one
proposal with its published answers, its comment threads, the moderators' and the department's
work lists, the public timeline from idea to done, and query counts that do not grow with the
rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from governance.cases.models import Status as CaseStatus
from governance.cases.services import case_transition
from governance.proposals import queries, services
from governance.proposals.filters import ProposalFilter
from governance.proposals.models import Scope
from tests.proposals.conftest import PLAN_END, shifted
from tests.query_budget import assert_constant_queries, capture_queries

pytestmark = pytest.mark.django_db


def pks(rows) -> list[int]:
    return [row.pk for row in rows]


def filtered(user=None, **params) -> list[int]:
    user = user or AnonymousUser()
    request = RequestFactory().get("/proposals/", params)
    request.user = user
    result = ProposalFilter(request.GET, queryset=queries.listing(user), request=request)
    return pks(result.qs)


# What each reader sees ---------------------------------------------------------------------------
def test_drafts_are_their_authors_alone(
    draft, proposal, citizen, other_citizen, department_staff, superuser
):
    assert set(pks(queries.visible_to(citizen))) == {draft.pk, proposal.pk}
    for reader in (None, AnonymousUser(), other_citizen, department_staff, superuser):
        assert pks(queries.visible_to(reader)) == [proposal.pk]
        assert queries.proposal_for(reader, draft.pk) is None
    assert queries.proposal_for(citizen, draft.pk) == draft


def test_a_withdrawn_proposal_stays_readable(proposal, citizen, other_citizen):
    services.proposal_withdraw(actor=citizen, proposal=proposal)
    assert queries.proposal_for(other_citizen, proposal.pk).status == "withdrawn"


def test_the_list_says_what_the_reader_supports_and_follows(
    propose, proposal, other_citizen, citizen
):
    other = propose(title="另一条")
    services.proposal_support(actor=other_citizen, proposal=proposal)
    services.proposal_follow(actor=other_citizen, proposal=other)
    rows = {row.pk: row for row in queries.listing(other_citizen)}
    assert (rows[proposal.pk].supported_by_me, rows[proposal.pk].followed_by_me) == (True, False)
    assert (rows[other.pk].supported_by_me, rows[other.pk].followed_by_me) == (False, True)
    # The author follows what they published.
    assert all(row.followed_by_me for row in queries.listing(citizen))
    assert not any(row.supported_by_me for row in queries.listing(AnonymousUser()))


def test_one_proposal_with_its_versions_and_published_answers_only(
    proposal, citizen, department_staff, answer
):
    with shifted(dt.timedelta(minutes=5)):
        services.proposal_update(actor=citizen, proposal=proposal, title="改后的标题")
    answer(proposal, "evaluating", text="评估中")
    services.answer_draft(
        actor=department_staff, proposal=proposal, state="rejected", text="还没发布的答复"
    )
    page, queries_run = capture_queries(lambda: queries.proposal_for(citizen, proposal.pk))
    assert [v.number for v in page.versions.all()] == [1, 2]
    assert [a.text for a in page.published_answers] == ["评估中"]
    assert page.followed_by_me is True
    assert queries.draft_answer(proposal).text == "还没发布的答复"
    _, more = capture_queries(
        lambda: (page.author, page.category, list(page.attachments.all()), page.responsible)
    )
    assert more == []
    assert len(queries_run) <= 5


# Filters and sorts -------------------------------------------------------------------------------
@pytest.fixture
def spread(
    propose, answer, citizen, other_citizen, station, service, other_service, other_category,
    station_rule, support,
):  # fmt: skip
    """Five proposals: the citizen's on the hukou service (accepted, two supporters), on the
    traffic service (three supporters), on the station, a platform one of another category,
    and the other citizen's (one comment); plus the citizen's draft."""
    hukou = propose(title="身份证周末办理")
    support(hukou, 2)
    answer(hukou, "accepted")
    traffic = propose(title="罚款自助缴纳", service=other_service)
    support(traffic, 3)
    at_station = propose(title="增设座椅", scope=Scope.STATION, station=station)
    platform = propose(title="短信提醒", scope=Scope.PLATFORM, category=other_category)
    others = propose(title="停车券", actor=other_citizen)
    services.comment_add(actor=citizen, proposal=others, body="支持")
    draft = propose(title="草稿", publish=False)
    return {
        "hukou": hukou,
        "traffic": traffic,
        "station": at_station,
        "platform": platform,
        "others": others,
        "draft": draft,
    }


def test_filters_narrow_the_list(spread, citizen, other_citizen, category, station):
    s = spread
    everything = {s["hukou"].pk, s["traffic"].pk, s["station"].pk, s["platform"].pk}
    everything |= {s["others"].pk}
    assert set(filtered()) == everything
    assert set(filtered(category="facilities")) == {s["platform"].pk}
    assert set(filtered(scope="station")) == {s["station"].pk}
    assert set(filtered(scope="platform")) == {s["platform"].pk}
    assert set(filtered(status="accepted")) == {s["hukou"].pk}
    assert set(filtered(station="mall-station")) == {s["station"].pk}
    assert set(filtered(service="TR-FINE")) == {s["traffic"].pk}
    assert set(filtered(answered="true")) == {s["hukou"].pk}
    assert set(filtered(answered="false")) == everything - {s["hukou"].pk}
    # The list is of published proposals, for their authors too; "mine" adds one's drafts.
    assert set(filtered(citizen)) == everything
    # "Mine" includes the reader's own draft; for the anonymous it is empty.
    assert set(filtered(citizen, mine="true")) == everything - {s["others"].pk} | {s["draft"].pk}
    assert set(filtered(other_citizen, mine="true")) == {s["others"].pk}
    assert filtered(mine="true") == []
    supporter = s["traffic"].supports.first().user
    assert set(filtered(supporter, supported="true")) == {s["traffic"].pk}
    assert s["traffic"].pk not in filtered(supporter, supported="false")
    assert filtered(supported="true") == []


def test_sorts(spread):
    s = spread
    assert filtered(sort="supported")[:2] == [s["traffic"].pk, s["hukou"].pk]
    assert filtered(sort="commented")[0] == s["others"].pk
    assert filtered(sort="answered") == [s["hukou"].pk]
    newest = filtered(sort="newest")
    assert newest[0] == s["others"].pk
    assert filtered() == newest


@pytest.mark.parametrize(
    "params",
    [
        {"status": "nonsense"},
        {"category": "no-such"},
        {"station": "nowhere"},
        {"sort": "random"},
        {"answered": "maybe"},
        {"q": "长" * 101},
    ],
)
def test_bad_filter_values_are_form_errors_not_crashes(spread, params):
    request = RequestFactory().get("/proposals/", params)
    request.user = AnonymousUser()
    result = ProposalFilter(request.GET, queryset=queries.listing(request.user), request=request)
    assert not result.is_valid()
    list(result.qs)  # evaluates without raising


def test_the_list_runs_constant_queries(propose, support, other_citizen, people):
    def page():
        request = RequestFactory().get("/proposals/", {"sort": "supported"})
        request.user = other_citizen
        result = ProposalFilter(request.GET, queryset=queries.listing(other_citizen))
        return [
            (row.title, row.category.name, row.responsible, row.supported_by_me)
            for row in result.qs[:100]
        ]

    def more(n):
        for _ in range(n):
            support(propose(), 1)

    assert_constant_queries(page, more, status=None, check=lambda rows, n: len(rows) == n)


# Comments ----------------------------------------------------------------------------------------
def test_comment_threads_with_my_vote_and_hidden_ones_shown_as_hidden(
    proposal, citizen, other_citizen, people, department_staff
):
    [third] = people(1)
    first = services.comment_add(actor=other_citizen, proposal=proposal, body="一楼")
    reply = services.comment_add(actor=citizen, proposal=proposal, body="回复", parent=first)
    second = services.comment_add(actor=third, proposal=proposal, body="二楼")
    services.comment_vote(actor=third, comment=first, value=1)
    services.comment_vote(actor=third, comment=reply, value=-1)
    services.comment_hide(actor=department_staff, comment=second, reason="广告")

    threads = queries.comments_of(proposal, third)
    assert pks(threads) == [first.pk, second.pk]
    assert pks(threads[0].thread_replies) == [reply.pk]
    assert (threads[0].my_vote, threads[0].thread_replies[0].my_vote) == (1, -1)
    assert threads[1].my_vote is None
    assert threads[1].is_hidden
    assert threads[1].hidden_reason == "广告"
    anonymous = queries.comments_of(proposal, AnonymousUser())
    assert not hasattr(anonymous[0], "my_vote")


def test_comment_threads_run_constant_queries(proposal, citizen, people):
    def more(n):
        for person in people(n):
            top = services.comment_add(actor=person, proposal=proposal, body="评论")
            services.comment_add(actor=citizen, proposal=proposal, body="回复", parent=top)

    def read():
        return [
            (c.author.display_name, c.my_vote, [r.author.display_name for r in c.thread_replies])
            for c in queries.comments_of(proposal, citizen)
        ]

    count = assert_constant_queries(read, more, status=None, small=2, large=12)
    assert count <= 3


def test_flagged_comments_most_flagged_first_hidden_left_out(
    proposal, citizen, people, department_staff
):
    once = services.comment_add(actor=citizen, proposal=proposal, body="一次")
    twice = services.comment_add(actor=citizen, proposal=proposal, body="两次")
    hidden = services.comment_add(actor=citizen, proposal=proposal, body="隐藏")
    services.comment_add(actor=citizen, proposal=proposal, body="没人举报")
    a, b = people(2)
    for comment, flaggers in ((once, [a]), (twice, [a, b]), (hidden, [a, b])):
        for person in flaggers:
            services.comment_flag(actor=person, comment=comment)
    services.comment_hide(actor=department_staff, comment=hidden, reason="已处理")
    assert pks(queries.flagged_comments(department_staff)) == [twice.pk, once.pk]


def test_the_answer_list_puts_due_answers_first(
    propose, support, settings, department_staff, other_department_staff, answer
):
    settings.PROPOSALS_SUPPORT_THRESHOLD = 1
    quiet = propose(title="还没人支持")
    due = propose(title="已达门槛")
    support(due, 1)
    done = propose(title="已答复")
    answer(done, "rejected", text="不采纳")
    evaluating = propose(title="评估中")
    answer(evaluating, "evaluating", text="评估")
    assert pks(queries.to_answer(department_staff)) == [due.pk, evaluating.pk, quiet.pk]
    assert pks(queries.to_answer(other_department_staff)) == []


# The timeline ------------------------------------------------------------------------------------
def test_the_timeline_runs_from_idea_to_done(
    proposal, citizen, support, settings, answer, department_staff
):
    settings.PROPOSALS_SUPPORT_THRESHOLD = 1
    with shifted(dt.timedelta(minutes=5)):
        services.proposal_update(actor=citizen, proposal=proposal, body="补充：节假日也开放。")
    with shifted(dt.timedelta(hours=1)):
        support(proposal, 1)
    with shifted(dt.timedelta(days=2)):
        answer(proposal, "evaluating", text="评估")
    with shifted(dt.timedelta(days=3)):
        answer(proposal, "accepted")
        milestone = services.milestone_add(
            actor=department_staff, proposal=proposal, title="排班", due_on=PLAN_END
        )
        case = services.result_open_case(
            actor=department_staff, proposal=proposal, title="培训", description="周末值班培训"
        )
    with shifted(dt.timedelta(days=4)):
        services.milestone_set_state(actor=department_staff, milestone=milestone, state="done")
    with shifted(dt.timedelta(days=5)):
        for step in (CaseStatus.ACKNOWLEDGED, CaseStatus.RESOLVED):
            case = case_transition(actor=department_staff, case=case, to=step)
    page = queries.proposal_for(citizen, proposal.pk)
    events = queries.timeline(page)
    assert [event.kind for event in events] == [
        "published",
        "edited",
        "threshold",
        "answered",
        "answered",
        "milestone",
        "task_done",
        "implemented",
    ]
    assert [event.at for event in events] == sorted(event.at for event in events)
    assert events[1].data == {"number": 2}
    assert events[2].data["due"] == page.answer_due_at
    assert events[4].data["answer"].state == "accepted"


def test_a_withdrawn_proposal_ends_its_timeline(proposal, citizen):
    services.proposal_withdraw(actor=citizen, proposal=proposal)
    proposal.refresh_from_db()
    assert [event.kind for event in queries.timeline(proposal)] == ["published", "withdrawn"]
