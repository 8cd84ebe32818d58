"""The responsible department's pages for every role: the official answer (draft, publish,
refusals), the implementation (milestones, their states, task cases, progress), the work
list of proposals to answer and the moderators' list of flagged comments."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from governance.cases.models import Case, Source
from governance.proposals import services
from governance.proposals.models import Answer, Milestone, Proposal, Result, Status
from tests.proposals.fixtures_views import *  # noqa: F403  (the fixtures)
from tests.proposals.fixtures_views import (
    MODERATORS,
    PLAN_END,
    PLAN_START,
    ROLES,
    STAFF,
    detail_url,
    sign_in,
)
from tests.query_budget import assert_constant_queries

pytestmark = pytest.mark.django_db

# Only the department answers and runs the implementation: not even a superuser.
ANSWERERS = STAFF


def answer_url(proposal: Proposal) -> str:
    return reverse("proposals:answer", args=[proposal.pk])


def implementation_url(proposal: Proposal) -> str:
    return reverse("proposals:implementation", args=[proposal.pk])


def _answer_form(**overrides) -> dict:
    data = {
        "answer-state": "accepted",
        "answer-text": "同意，**下月**起周末开放。",
        "answer-cost": "12000",
        "answer-starts_on": PLAN_START.isoformat(),
        "answer-ends_on": PLAN_END.isoformat(),
        "intent": "publish",
    }
    data.update(overrides)
    return data


# The answer -------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_answer_page_is_for_the_responsible_departments_acting_staff(
    request, client, role, published
):
    sign_in(client, request, role)
    response = client.get(answer_url(published))
    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    elif role in ANSWERERS:
        assert response.status_code == 200, role
        assert 'id="answer"' in response.content.decode()
    else:
        assert response.status_code == 403, role
        assert "只有答复单位的工作人员才能答复建议。" in response.content.decode()
    response = client.post(answer_url(published), _answer_form())
    published.refresh_from_db()
    if role in ANSWERERS:
        assert response.status_code == 302, role
        assert published.status == Status.ACCEPTED
    else:
        assert response.status_code in (302, 403)
        assert published.status == Status.PUBLISHED
        assert not Answer.objects.exists()


def test_answer_page_of_a_draft_is_404(client, propose, department_staff):
    draft = propose(publish=False)
    client.force_login(department_staff)
    assert client.get(answer_url(draft)).status_code == 404


def test_staff_save_a_draft_answer_then_publish_it(
    client, published, department_staff, department_admin, author
):
    client.force_login(department_staff)
    response = client.post(answer_url(published), _answer_form(intent="draft"))
    assert response.status_code == 302
    assert response["Location"] == answer_url(published)
    draft = Answer.objects.get()
    assert draft.published_at is None
    published.refresh_from_db()
    assert published.status == Status.PUBLISHED
    # The draft is the department's: the public page does not show it.
    html = client.get(detail_url(published)).content.decode()
    assert "下月" not in html
    # A colleague finds it on the form, and publishes it.
    client.force_login(department_admin)
    html = client.get(answer_url(published)).content.decode()
    assert "答复草稿" in html
    assert "同意，**下月**起周末开放。" in html
    assert 'value="2031-03-01"' in html
    response = client.post(answer_url(published), _answer_form(**{"answer-cost": "9000.5"}))
    assert response["Location"] == f"{detail_url(published)}#answers"
    answer = Answer.objects.get()
    assert answer.published_at is not None
    assert answer.cost == Decimal("9000.50")
    published.refresh_from_db()
    assert published.status == Status.ACCEPTED
    assert Result.objects.filter(proposal=published).exists()
    client.force_login(author)
    html = client.get(detail_url(published)).content.decode()
    assert "<strong>下月</strong>" in html
    assert "9000.50 元" in html


def test_evaluating_first_then_rejected(client, published, department_staff):
    client.force_login(department_staff)
    client.post(
        answer_url(published),
        _answer_form(**{"answer-state": "evaluating", "answer-text": "正在评估。"}),
    )
    published.refresh_from_db()
    assert published.status == Status.EVALUATING
    client.post(
        answer_url(published),
        _answer_form(**{"answer-state": "rejected", "answer-text": "场地不足，暂不采纳。"}),
    )
    published.refresh_from_db()
    assert published.status == Status.REJECTED
    html = client.get(detail_url(published)).content.decode()
    assert html.index("正式答复：评估中") < html.index("正式答复：不采纳")
    # Answered for good: the page says so and offers no form.
    response = client.get(answer_url(published))
    assert 'id="answer"' not in response.content.decode()
    assert "当前不能答复" in response.content.decode()


def test_answering_an_answered_proposal_again_is_409(client, published, department_staff, accept):
    accept(published)
    client.force_login(department_staff)
    response = client.post(answer_url(published), _answer_form(**{"answer-state": "rejected"}))
    assert response.status_code == 409
    assert "这条建议已有正式答复结论，不能再答复。" in response.content.decode()
    assert Answer.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"answer-starts_on": ""}, "starts_on"),
        ({"answer-ends_on": ""}, "ends_on"),
        ({"answer-ends_on": "2031-01-01"}, "ends_on"),
        ({"answer-state": "maybe"}, "state"),
        ({"answer-text": ""}, "text"),
        ({"answer-text": "长" * 20_001}, "text"),
        ({"answer-cost": "-1"}, "cost"),
        ({"answer-cost": "abc"}, "cost"),
        ({"answer-starts_on": "2031-02-30"}, "starts_on"),
    ],
)
def test_bad_answer_comes_back_on_the_form_with_nothing_written(
    client, published, department_staff, overrides, field
):
    client.force_login(department_staff)
    response = client.post(answer_url(published), _answer_form(**overrides))
    assert response.status_code == 400
    assert response.context["form"].errors.get(field), response.context["form"].errors
    assert not Answer.objects.exists()
    published.refresh_from_db()
    assert published.status == Status.PUBLISHED


def test_answer_text_is_rendered_inert(client, published, department_staff):
    client.force_login(department_staff)
    client.post(
        answer_url(published),
        _answer_form(
            **{"answer-text": '采纳<script>alert(1)</script><a href="javascript:x">链</a>'}
        ),
    )
    html = client.get(detail_url(published)).content.decode()
    assert "<script" not in html
    assert not re.search(r"<a\s[^>]*javascript:", html)
    assert "采纳&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_routed_proposal_is_answered_by_its_new_department(
    client, published, triager, other_department, other_department_staff, department_staff
):
    services.proposal_route(actor=triager, proposal=published, responsible=other_department)
    client.force_login(department_staff)
    assert client.get(answer_url(published)).status_code == 403
    client.force_login(other_department_staff)
    assert client.get(answer_url(published)).status_code == 200


# The implementation -----------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_implementation_page_is_for_the_responsible_departments_acting_staff(
    request, client, role, published, accept
):
    proposal = accept(published)
    sign_in(client, request, role)
    response = client.get(implementation_url(proposal))
    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    elif role in ANSWERERS:
        assert response.status_code == 200, role
        assert 'id="milestone"' in response.content.decode()
    else:
        assert response.status_code == 403, role
        assert "只有答复单位的工作人员才能管理落实情况。" in response.content.decode()
    response = client.post(
        implementation_url(proposal),
        {"step": "milestone", "milestone-title": "调整排班", "milestone-due_on": "2031-03-10"},
    )
    assert Milestone.objects.exists() is (role in ANSWERERS), role
    if role in ANSWERERS:
        assert response.status_code == 302


def test_implementation_link_on_the_proposal_page(client, published, accept, department_staff):
    client.force_login(department_staff)
    assert implementation_url(published) not in client.get(detail_url(published)).content.decode()
    accept(published)
    assert implementation_url(published) in client.get(detail_url(published)).content.decode()


def test_before_acceptance_the_implementation_page_says_so(client, published, department_staff):
    client.force_login(department_staff)
    response = client.get(implementation_url(published))
    assert response.status_code == 200
    assert "只有已采纳的建议才有落实情况" in response.content.decode()
    response = client.post(
        implementation_url(published),
        {"step": "milestone", "milestone-title": "调整排班", "milestone-due_on": "2031-03-10"},
    )
    assert response.status_code == 409
    assert not Milestone.objects.exists()


def test_milestones_move_the_progress_to_implemented(
    client, published, accept, department_staff, citizen
):
    proposal = accept(published)
    client.force_login(department_staff)
    url = implementation_url(proposal)
    for title, due in (("调整排班", "2031-03-10"), ("对外公告", "2031-03-20")):
        response = client.post(
            url, {"step": "milestone", "milestone-title": title, "milestone-due_on": due}
        )
        assert response.status_code == 302
    first, second = Milestone.objects.order_by("due_on")
    response = client.post(url, {"step": "state", "milestone": first.pk, "state": "in_progress"})
    assert response.status_code == 302
    client.post(url, {"step": "state", "milestone": first.pk, "state": "done"})
    html = client.get(url).content.decode()
    assert 'value="50"' in html
    client.post(url, {"step": "state", "milestone": second.pk, "state": "done"}, follow=True)
    proposal.refresh_from_db()
    assert proposal.status == Status.IMPLEMENTED
    # The public page shows it.
    client.force_login(citizen)
    html = client.get(detail_url(proposal)).content.decode()
    assert "建议已落实" in html
    assert 'value="100"' in html


def test_task_case_opened_for_the_implementation(client, published, accept, department_staff):
    proposal = accept(published)
    client.force_login(department_staff)
    response = client.post(
        implementation_url(proposal),
        {
            "step": "task",
            "task-title": "采购自助机",
            "task-description": "采购一台出入境自助拍照机",
        },
        follow=True,
    )
    case = Case.objects.get()
    assert case.source == Source.PROPOSAL
    assert case.responsible == proposal.responsible
    html = response.content.decode()
    assert f"已开立落实事项 {case.reference}" in html
    assert reverse("cases:detail", args=[case.reference]) in html
    # A task not done yet: progress 0 of 1.
    assert 'value="0"' in html


def test_task_of_a_platform_wide_proposal_must_name_its_service_and_station(
    client, propose, accept, department_staff, service, station
):
    from governance.proposals.models import Scope

    proposal = propose(scope=Scope.PLATFORM)
    # The triage desk answers platform-wide proposals; this one it handed to hukou.
    Proposal.objects.filter(pk=proposal.pk).update(responsible=service.department)
    proposal = accept(proposal)
    client.force_login(department_staff)
    data = {"step": "task", "task-title": "统一排班", "task-description": "各窗口统一周末排班"}
    response = client.post(implementation_url(proposal), data)
    assert response.status_code == 400
    assert "请选择这项落实任务所属的服务事项。" in response.content.decode()
    assert not Case.objects.exists()
    response = client.post(
        implementation_url(proposal),
        {**data, "task-service": "HK-ID", "task-station": "mall-station"},
    )
    assert response.status_code == 302
    case = Case.objects.get()
    assert (case.service, case.station) == (service, station)


@pytest.mark.parametrize(
    "data",
    [
        {"step": "milestone", "milestone-title": "", "milestone-due_on": "2031-03-10"},
        {"step": "milestone", "milestone-title": "标题", "milestone-due_on": "not a date"},
        {"step": "milestone", "milestone-title": "长" * 151, "milestone-due_on": "2031-03-10"},
        {"step": "state", "milestone": "999999", "state": "done"},
        {"step": "state", "milestone": "", "state": "done"},
        {"step": "task", "task-title": "", "task-description": "做"},
    ],
)
def test_bad_implementation_input_is_400_and_changes_nothing(
    client, published, accept, department_staff, data
):
    proposal = accept(published)
    client.force_login(department_staff)
    response = client.post(implementation_url(proposal), data)
    assert response.status_code == 400
    assert 'class="field-error"' in response.content.decode() or "form-errors" in (
        response.content.decode()
    )
    assert not Milestone.objects.exists()
    assert not Case.objects.exists()


def test_bad_milestone_state_is_400(client, published, accept, department_staff):
    proposal = accept(published)
    milestone = services.milestone_add(
        actor=department_staff, proposal=proposal, title="排班", due_on=dt.date(2031, 3, 1)
    )
    client.force_login(department_staff)
    response = client.post(
        implementation_url(proposal), {"step": "state", "milestone": milestone.pk, "state": "x"}
    )
    assert response.status_code == 400
    milestone.refresh_from_db()
    assert milestone.state == "planned"


def test_milestone_of_another_proposal_is_refused(client, propose, accept, department_staff):
    first = accept(propose())
    second = accept(propose(title="另一条"))
    milestone = services.milestone_add(
        actor=department_staff, proposal=second, title="排班", due_on=dt.date(2031, 3, 1)
    )
    client.force_login(department_staff)
    response = client.post(
        implementation_url(first), {"step": "state", "milestone": milestone.pk, "state": "done"}
    )
    assert response.status_code == 400
    milestone.refresh_from_db()
    assert milestone.state == "planned"


def test_unknown_step_is_400(client, published, accept, department_staff):
    proposal = accept(published)
    client.force_login(department_staff)
    assert client.post(implementation_url(proposal), {"step": "explode"}).status_code == 400


# The work lists --------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_to_answer_lists_the_departments_proposals_for_its_acting_staff(
    request, client, role, propose, station, partner
):
    hukou = propose(title="户政的建议")
    on_station = propose(title="站点的建议", scope="station", station=station)
    sign_in(client, request, role)
    response = client.get("/proposals/to-answer/")
    if role == "anonymous":
        assert response.status_code == 302
        return
    acting = {
        "department_staff",
        "department_admin",
        "partner_staff",
        "other_department_staff",
        "triager",
    }
    if role not in acting:
        assert response.status_code == 403, role
        return
    assert response.status_code == 200, role
    html = response.content.decode()
    assert (f'data-proposal="{hukou.pk}"' in html) is (role in STAFF), role
    # The station's proposal goes to the triage desk (no routing rule names the station).
    assert (f'data-proposal="{on_station.pk}"' in html) is (role == "triager"), role


def test_to_answer_puts_proposals_past_the_threshold_first_and_marks_overdue(
    client, settings, propose, department_staff, citizen, other_citizen
):
    settings.PROPOSALS_SUPPORT_THRESHOLD = 2
    quiet = propose(title="安静的")
    popular = propose(title="热门的")
    for user in (citizen, other_citizen):
        services.proposal_support(actor=user, proposal=popular)
    Proposal.objects.filter(pk=popular.pk).update(
        answer_due_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    )
    client.force_login(department_staff)
    html = client.get("/proposals/to-answer/").content.decode()
    assert html.index(f'data-proposal="{popular.pk}"') < html.index(f'data-proposal="{quiet.pk}"')
    assert "已超期" in html
    assert answer_url_of(popular) in html


def answer_url_of(proposal: Proposal) -> str:
    return reverse("proposals:answer", args=[proposal.pk])


def test_to_answer_runs_constant_queries(client, propose, department_staff, citizen):
    client.force_login(department_staff)
    counter = iter(range(10_000))

    def make(n: int):
        for _ in range(n):
            proposal = propose(title=f"建议 {next(counter)}")
            services.proposal_support(actor=citizen, proposal=proposal)

    assert_constant_queries(lambda: client.get("/proposals/to-answer/"), make, small=3, large=25)


@pytest.mark.parametrize("role", ROLES)
def test_flagged_comments_are_for_moderators_of_their_proposals(
    request, client, role, published, citizen, other_citizen
):
    comment = services.comment_add(actor=other_citizen, proposal=published, body="广告链接")
    services.comment_flag(actor=citizen, comment=comment, reason="广告")
    sign_in(client, request, role)
    response = client.get("/proposals/flagged/")
    if role == "anonymous":
        assert response.status_code == 302
        return
    # Acting staff anywhere reach the page; each sees the proposals they moderate.
    reach = MODERATORS | {"partner_staff", "other_department_staff"}
    if role not in reach:
        assert response.status_code == 403, role
        return
    assert response.status_code == 200, role
    html = response.content.decode()
    assert (f'data-comment="{comment.pk}"' in html) is (role in MODERATORS), role


def test_flagged_list_hides_and_forgets_hidden_comments(
    client, published, citizen, other_citizen, department_staff
):
    comment = services.comment_add(actor=other_citizen, proposal=published, body="<b>广告</b>")
    services.comment_flag(actor=citizen, comment=comment, reason="广告")
    client.force_login(department_staff)
    html = client.get("/proposals/flagged/").content.decode()
    assert "&lt;b&gt;广告&lt;/b&gt;" in html
    assert "1 次举报" in html
    response = client.post(
        reverse("proposals:act", args=[published.pk, "hide"]),
        {"hide-comment": comment.pk, "hide-reason": "广告", "back": "flagged"},
        follow=True,
    )
    assert response.redirect_chain == [("/proposals/flagged/", 302)]
    assert f'data-comment="{comment.pk}"' not in response.content.decode()
    assert "没有待处理的举报" in response.content.decode()


def test_flagged_runs_constant_queries(client, published, department_staff, citizen):
    from tests.factories import UserFactory

    client.force_login(department_staff)
    counter = iter(range(10_000))

    def make(n: int):
        for _ in range(n):
            number = next(counter)
            writer = UserFactory(email=f"writer{number}@example.com")
            comment = services.comment_add(actor=writer, proposal=published, body=f"广告 {number}")
            services.comment_flag(actor=citizen, comment=comment)

    assert_constant_queries(lambda: client.get("/proposals/flagged/"), make, small=3, large=20)
