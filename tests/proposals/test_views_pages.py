"""The proposal pages for every role: the list (filters, sorts, pages, the reader's marks), the
form that proposes, one proposal (what each role sees and may do, text rendered inert, the
timeline, versions, answers and progress), its attachments and the edit window; 404 and
405 rather than 500, and constant query counts."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import rules
from django.urls import reverse
from django.utils import timezone

from governance.proposals import services
from governance.proposals.models import (
    MAX_BODY,
    Attachment,
    Comment,
    Proposal,
    ProposalVersion,
    Scope,
    Status,
)
from tests.factories import MembershipFactory, ServiceFactory, StationFactory
from tests.proposals.fixtures_views import *  # noqa: F403  (the fixtures)
from tests.proposals.fixtures_views import (
    MODERATORS,
    ROLES,
    ROUTERS,
    STAFF,
    act_url,
    detail_url,
    fresh,
    png,
    sign_in,
    when_past,
)
from tests.query_budget import assert_constant_queries

pytestmark = pytest.mark.django_db

LIST = "/proposals/"
NEW = "/proposals/new/"
SCRIPT = '<script>alert("x")</script><img src=x onerror="alert(1)">'


def html_of(response) -> str:
    return response.content.decode()


def rows_of(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-proposal="(\d+)"', html_of(response))]


# The list -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_list_shows_published_proposals_to_everyone_and_drafts_only_to_their_author(
    request, client, role, propose
):
    public = propose(title="周末延长开放时间")
    draft = propose(title="自助拍照机", publish=False)
    sign_in(client, request, role)
    response = client.get(LIST)
    assert response.status_code == 200
    rows = rows_of(response)
    assert public.pk in rows
    assert draft.pk not in rows  # the list is of published proposals
    # The author finds their drafts under "mine", with their published ones.
    mine = rows_of(client.get(f"{LIST}?mine=true"))
    assert (draft.pk in mine) is (role == "author")
    assert (public.pk in mine) is (role == "author")


def test_list_row_shows_title_summary_category_scope_status_counts_and_my_support(
    client, propose, author, citizen, other_citizen, station
):
    proposal = propose(body="希望周末也能办理身份证。" * 3)
    services.proposal_support(actor=citizen, proposal=proposal)
    services.proposal_support(actor=other_citizen, proposal=proposal)
    services.comment_add(actor=other_citizen, proposal=proposal, body="同意")
    on_station = propose(title="增加休息座椅", scope=Scope.STATION, station=station)
    platform = propose(title="短信提醒", scope=Scope.PLATFORM)

    client.force_login(citizen)
    html = html_of(client.get(LIST))
    row = html[html.index(f'data-proposal="{proposal.pk}"') :]
    row = row[: row.index("</li>")]
    assert "周末延长开放时间" in row
    assert "希望周末也能办理身份证。" in row  # the summary
    assert "开放时间" in row  # the category
    assert "身份证办理" in row  # the scope: the service
    assert "征集支持中" in row  # the status
    assert "2 人支持" in row
    assert "1 条评论" in row
    assert "我已支持" in row
    assert "万象城警务站" in html[html.index(f'data-proposal="{on_station.pk}"') :]
    platform_row = html[html.index(f'data-proposal="{platform.pk}"') :]
    assert "整个平台" in platform_row[: platform_row.index("</li>")]
    # Its author has not supported it.
    client.force_login(author)
    html = html_of(client.get(LIST))
    row = html[html.index(f'data-proposal="{proposal.pk}"') :]
    assert "我已支持" not in row[: row.index("</li>")]
    client.logout()
    html = html_of(client.get(LIST))
    assert "我已支持" not in html


def test_list_marks_answered_and_implemented_proposals(client, propose, accept, department_staff):
    answered = accept(propose(title="答复了的"), state="rejected", text="不采纳。")
    implemented = accept(propose(title="落实了的"))
    milestone = services.milestone_add(
        actor=department_staff, proposal=implemented, title="安装", due_on=dt.date(2031, 4, 1)
    )
    services.milestone_set_state(actor=department_staff, milestone=milestone, state="done")
    html = html_of(client.get(LIST))
    answered_row = html[html.index(f'data-proposal="{answered.pk}"') :]
    assert "已正式答复" in answered_row[: answered_row.index("</li>")]
    implemented_row = html[html.index(f'data-proposal="{implemented.pk}"') :]
    assert "已落实" in implemented_row[: implemented_row.index("</li>")]


def test_list_filters_by_category_scope_status_station_service_and_answered(
    client, propose, accept, station, department, category
):
    from governance.proposals.models import Category

    other_category = Category.objects.create(slug="facilities", name_zh="设施设备", order=20)
    other_service = ServiceFactory(department=department, service_code="HK-PHOTO")
    on_service = propose(title="服务事项的")
    on_station = propose(title="站点的", scope=Scope.STATION, station=station)
    on_platform = propose(title="平台的", scope=Scope.PLATFORM, category=other_category)
    on_other_service = propose(title="另一个服务的", service=other_service)
    answered = accept(propose(title="答复了的"), state="evaluating", text="正在评估。")

    def listed(query: str) -> set[int]:
        response = client.get(f"{LIST}?{query}")
        assert response.status_code == 200, query
        return set(rows_of(response))

    everything = {on_service.pk, on_station.pk, on_platform.pk, on_other_service.pk, answered.pk}
    assert listed("") == everything
    assert listed("category=facilities") == {on_platform.pk}
    assert listed("scope=station") == {on_station.pk}
    assert listed("scope=platform") == {on_platform.pk}
    assert listed("status=evaluating") == {answered.pk}
    assert listed("station=mall-station") == {on_station.pk}
    assert listed("service=HK-PHOTO") == {on_other_service.pk}
    assert listed("answered=true") == {answered.pk}
    assert listed("answered=false") == everything - {answered.pk}


def test_list_filters_mine_and_supported_by_me(client, propose, author, citizen):
    mine = propose(title="我的")
    theirs = propose(title="别人的", actor=citizen)
    services.proposal_support(actor=citizen, proposal=mine)
    client.force_login(citizen)
    assert set(rows_of(client.get(f"{LIST}?mine=true"))) == {theirs.pk}
    assert set(rows_of(client.get(f"{LIST}?supported=true"))) == {mine.pk}
    assert set(rows_of(client.get(f"{LIST}?supported=false"))) == {theirs.pk}
    html = html_of(client.get(LIST))
    assert 'name="mine"' in html
    assert 'name="supported"' in html
    # Meaningless to an anonymous reader: not offered, and "mine" lists nothing.
    client.logout()
    html = html_of(client.get(LIST))
    assert 'name="mine"' not in html
    assert 'name="supported"' not in html


def test_list_searches_title_and_body_in_chinese(client, propose):
    hours = propose(title="周末延长开放时间", body="希望周末也能办理。")
    kiosk = propose(title="增加自助机", body="出入境照片可以在自助机上拍摄。")
    assert set(rows_of(client.get(f"{LIST}?q=开放时间"))) == {hours.pk}
    assert set(rows_of(client.get(f"{LIST}?q=照片"))) == {kiosk.pk}
    assert rows_of(client.get(f"{LIST}?q=不存在的词语")) == []
    assert "没有符合条件的建议" in html_of(client.get(f"{LIST}?q=不存在的词语"))


def test_list_sorts_by_newest_supports_comments_and_answers(
    client, propose, accept, citizen, other_citizen
):
    first = propose(title="第一")
    second = propose(title="第二")
    third = propose(title="第三")
    for user in (citizen, other_citizen):
        services.proposal_support(actor=user, proposal=first)
    services.proposal_support(actor=citizen, proposal=second)
    for body in ("一", "二", "三"):
        services.comment_add(actor=citizen, proposal=third, body=body)
    services.comment_add(actor=citizen, proposal=first, body="一")
    accept(second, state="evaluating", text="评估中。")
    accept(first, state="rejected", text="不采纳。")

    assert rows_of(client.get(LIST)) == [third.pk, second.pk, first.pk]
    assert rows_of(client.get(f"{LIST}?sort=newest")) == [third.pk, second.pk, first.pk]
    assert rows_of(client.get(f"{LIST}?sort=supported")) == [first.pk, second.pk, third.pk]
    assert rows_of(client.get(f"{LIST}?sort=commented")) == [third.pk, first.pk, second.pk]
    # Recently answered: answered ones only, the latest answer first.
    assert rows_of(client.get(f"{LIST}?sort=answered")) == [first.pk, second.pk]


def test_list_paginates_twenty_a_page(client, propose):
    made = [propose(title=f"建议 {number}") for number in range(23)]
    first = client.get(LIST)
    assert len(rows_of(first)) == 20
    assert "第 1 / 2 页" in html_of(first)
    second = client.get(f"{LIST}?page=2&sort=newest")
    assert rows_of(second) == [proposal.pk for proposal in made[:3]][::-1]
    # The pager keeps the filters and the sort.
    assert "sort=newest&amp;page=1" in html_of(second)
    # A page past the end is the last page, not an error.
    assert client.get(f"{LIST}?page=99").status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "category=nope",
        "station=nope",
        "service=nope",
        "status=nope",
        "scope=nope",
        "answered=maybe",
        "sort=random",
        "q=" + "长" * 101,
    ],
)
def test_list_refuses_a_bad_filter_with_400_and_says_why(client, published, query):
    response = client.get(f"{LIST}?{query}")
    assert response.status_code == 400
    assert 'class="field-error"' in html_of(response)


@pytest.mark.parametrize("role", ROLES)
def test_list_links_acting_staff_to_their_work_lists(request, client, role, triage_org):
    sign_in(client, request, role)
    html = html_of(client.get(LIST))
    acting = {
        "partner_staff",
        "other_department_staff",
        "department_staff",
        "department_admin",
        "triager",
    }
    assert ('href="/proposals/to-answer/"' in html) is (role in acting), role


def test_list_is_a_head_and_get_page_only(client):
    assert client.post(LIST).status_code == 405


@pytest.mark.parametrize("role", ["anonymous", "citizen"])
def test_list_runs_constant_queries(request, client, role, propose, citizen, other_citizen):
    sign_in(client, request, role)
    counter = iter(range(10_000))

    def make(n: int):
        for _ in range(n):
            number = next(counter)
            proposal = propose(title=f"建议 {number}")
            if number % 2:
                services.proposal_support(actor=citizen, proposal=proposal)
                services.comment_add(actor=other_citizen, proposal=proposal, body="同意")

    assert_constant_queries(
        lambda: client.get(f"{LIST}?sort=supported&answered=false"),
        make,
        small=3,
        large=25,
        check=lambda response, rows: len(rows_of(response)) == min(rows, 20),
    )


# Proposing --------------------------------------------------------------------------------------
def test_new_page_sends_anonymous_visitors_to_sign_in(client):
    response = client.get(NEW)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/proposals/new/")


@pytest.mark.parametrize("role", [r for r in ROLES if r != "anonymous"])
def test_new_page_offers_on_behalf_of_only_for_organisations_one_acts_for(
    request, client, role, partner, department, triage_org, other_department
):
    sign_in(client, request, role)
    response = client.get(NEW)
    assert response.status_code == 200
    html = html_of(response)
    offered = set(re.findall(r'<option value="([a-z-]+)"', _select(html, "on_behalf_of")))
    expected = {
        "partner_staff": {"mall"},
        "other_department_staff": {"traffic"},
        "department_staff": {"hukou"},
        "department_admin": {"hukou"},
        "triager": {"triage"},
    }.get(role, set())
    assert offered == expected, role
    assert ('name="on_behalf_of"' in html) is bool(expected)


def _select(html: str, name: str) -> str:
    start = html.find(f'name="{name}"')
    if start < 0:
        return ""
    return html[start : html.index("</select>", start)]


def test_new_page_preselects_the_service_or_station_it_was_linked_from(client, citizen, service):
    client.force_login(citizen)
    html = html_of(client.get(f"{NEW}?service=HK-ID"))
    assert re.search(r'<option value="HK-ID" selected>', html)
    assert re.search(r'value="service"[^>]*checked', html)
    html = html_of(client.get(f"{NEW}?station=mall-station"))
    assert re.search(r'<option value="mall-station" selected>', html)
    assert re.search(r'value="station"[^>]*checked', html)
    # The service and station pages link here.
    service_page = html_of(client.get(reverse("stations:service", args=["HK-ID"])))
    assert "/proposals/new/?service=HK-ID" in service_page


def _form(**overrides) -> dict:
    data = {
        "title": "周末延长开放时间",
        "body": "希望**周末**也能办理身份证。",
        "category": "opening-hours",
        "scope": "service",
        "service": "HK-ID",
        "station": "",
        "intent": "publish",
    }
    data.update(overrides)
    return data


def test_citizen_publishes_a_proposal_on_a_service(client, citizen, category, service):
    client.force_login(citizen)
    response = client.post(NEW, _form())
    proposal = Proposal.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail_url(proposal)
    assert proposal.author == citizen
    assert proposal.status == Status.PUBLISHED
    assert proposal.service == service
    assert proposal.responsible_id == service.department_id
    page = client.get(response["Location"])
    assert "建议已发布" in html_of(page)
    assert "<strong>周末</strong>" in html_of(page)


def test_citizen_saves_a_draft_only_they_see(client, citizen, other_citizen, category, service):
    client.force_login(citizen)
    response = client.post(NEW, _form(intent="draft"))
    proposal = Proposal.objects.get()
    assert proposal.status == Status.DRAFT
    html = html_of(client.get(response["Location"]))
    assert "草稿已保存" in html
    assert act_url(proposal, "publish") in html
    client.force_login(other_citizen)
    assert client.get(detail_url(proposal)).status_code == 404


def test_proposal_on_a_station_and_on_the_platform(client, citizen, category, station, triage_org):
    client.force_login(citizen)
    client.post(NEW, _form(scope="station", station="mall-station", service="HK-ID"))
    client.post(NEW, _form(title="全平台", scope="platform", station="mall-station"))
    on_station, on_platform = Proposal.objects.order_by("pk")
    # The scope decides: a station proposal names no service, a platform one nothing.
    assert (on_station.station, on_station.service) == (station, None)
    assert (on_platform.station, on_platform.service) == (None, None)
    assert on_platform.responsible == triage_org


def test_proposal_on_behalf_of_the_organisation_one_acts_for(
    client, partner_staff, partner, other_partner, category, service
):
    client.force_login(partner_staff)
    response = client.post(NEW, _form(on_behalf_of="mall"))
    proposal = Proposal.objects.get()
    assert proposal.on_behalf_of == partner
    html = html_of(client.get(response["Location"]))
    assert "提议单位" in html
    assert partner.name_zh in html
    # Another organisation is no choice at all.
    response = client.post(NEW, _form(on_behalf_of="bank"))
    assert response.status_code == 400
    assert Proposal.objects.count() == 1


def test_proposal_with_attachments(client, citizen, category, service):
    client.force_login(citizen)
    response = client.post(NEW, _form(attachments=[png("a.png"), png("b.png")]))
    assert response.status_code == 302
    assert Attachment.objects.count() == 2


def test_six_attachments_are_refused_with_nothing_written(client, citizen, category, service):
    client.force_login(citizen)
    response = client.post(NEW, _form(attachments=[png(f"{n}.png") for n in range(6)]))
    assert response.status_code == 400
    assert "最多还能上传 5 个附件" in html_of(response)
    assert not Proposal.objects.exists()
    assert not Attachment.objects.exists()


def test_a_file_that_is_no_image_refuses_the_proposal(client, citizen, category, service):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(citizen)
    fake = SimpleUploadedFile("evil.png", b"<script>alert(1)</script>", content_type="image/png")
    response = client.post(NEW, _form(attachments=[png(), fake]))
    assert response.status_code == 400
    assert 'class="field-error"' in html_of(response)
    assert not Proposal.objects.exists()
    assert not Attachment.objects.exists()


def test_a_body_over_20000_characters_is_a_form_error_and_nothing_is_written(
    client, citizen, category, service
):
    client.force_login(citizen)
    response = client.post(NEW, _form(body="长" * (MAX_BODY + 1)))
    assert response.status_code == 400
    html = html_of(response)
    assert 'class="field-error"' in html
    assert "20000" in html
    assert not Proposal.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "标" * 151}, "title"),
        ({"body": "   "}, "body"),
        ({"category": "nope"}, "category"),
        ({"scope": "galaxy"}, "scope"),
        ({"scope": "service", "service": ""}, "service"),
        ({"scope": "station", "station": ""}, "station"),
        ({"service": "NO-SUCH"}, "service"),
    ],
)
def test_bad_input_comes_back_on_the_form_with_nothing_written(
    client, citizen, category, service, overrides, field
):
    client.force_login(citizen)
    response = client.post(NEW, _form(**overrides))
    assert response.status_code == 400
    assert response.context["form"].errors.get(field), response.context["form"].errors
    assert not Proposal.objects.exists()


def test_an_inactive_category_is_no_choice(client, citizen, category, service):
    category.is_active = False
    category.save()
    client.force_login(citizen)
    assert client.post(NEW, _form()).status_code == 400
    assert not Proposal.objects.exists()


# One proposal: who sees what ------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_draft_is_its_authors_alone(request, client, role, propose):
    draft = propose(publish=False, title="还在写的草稿")
    sign_in(client, request, role)
    response = client.get(detail_url(draft))
    if role != "author":
        assert response.status_code == 404, role
        return
    assert response.status_code == 200
    html = html_of(response)
    assert "还在写的草稿" in html
    assert act_url(draft, "publish") in html
    assert reverse("proposals:edit", args=[draft.pk]) in html
    assert act_url(draft, "support") not in html  # a draft takes no support
    assert 'id="comments"' not in html


@pytest.mark.parametrize("role", ROLES)
def test_published_proposal_page_shows_each_role_its_buttons(request, client, role, published):
    user = sign_in(client, request, role)
    response = client.get(detail_url(published))
    assert response.status_code == 200
    html = html_of(response)
    assert "周末延长开放时间" in html
    signed_in = role != "anonymous"
    facts = {
        "support": act_url(published, "support") in html,
        "sign in to support": "登录后支持" in html,
        "follow": act_url(published, "unfollow") in html or act_url(published, "follow") in html,
        "comment form": 'id="comment"' in html,
        "edit": reverse("proposals:edit", args=[published.pk]) in html,
        "withdraw": act_url(published, "withdraw") in html,
        "answer": reverse("proposals:answer", args=[published.pk]) in html,
        "route": 'id="route"' in html,
    }
    expected = {
        "support": signed_in,
        "sign in to support": not signed_in,
        "follow": signed_in,
        "comment form": signed_in,
        "edit": role == "author",  # within its first 30 minutes
        "withdraw": role == "author",
        "answer": role in STAFF,  # the department's word: not even a superuser's
        "route": role in ROUTERS,
    }
    assert facts == expected, role
    assert expected["answer"] is rules.has_perm("proposals.answer_proposal", fresh(user), published)


@pytest.mark.parametrize("role", ROLES)
def test_moderators_get_a_hide_form_on_each_comment_and_others_do_not(
    request, client, role, published, other_citizen
):
    comment = services.comment_add(actor=other_citizen, proposal=published, body="一条评论")
    sign_in(client, request, role)
    html = html_of(client.get(detail_url(published)))
    assert (f'id="hide-{comment.pk}-reason"' in html) is (role in MODERATORS), role
    # Voting and flagging: signed-in people other than the comment's author.
    can_vote = role not in ("anonymous", "other_citizen")
    assert (f'name="vote-comment" value="{comment.pk}"' in html) is can_vote, role
    assert (f'id="flag-{comment.pk}-reason"' in html) is can_vote, role
    # Replying: whoever may comment.
    assert (f'id="reply-{comment.pk}-body"' in html) is (role != "anonymous"), role


def test_author_is_named_by_display_name_never_by_email(client, propose, author):
    proposal = propose()
    html = html_of(client.get(detail_url(proposal)))
    assert "林提议" in html
    assert author.email not in html
    author.display_name = ""
    author.save()
    html = html_of(client.get(detail_url(proposal)))
    assert author.email not in html
    assert "市民" in html


def test_script_in_title_body_and_comments_is_rendered_inert(client, propose, other_citizen):
    proposal = propose(
        title=f"标题{SCRIPT}",
        body=f"正文{SCRIPT}\n\n[点我](javascript:alert(1))\n\n<b onclick=x>粗</b>",
    )
    comment = services.comment_add(actor=other_citizen, proposal=proposal, body=f"评论{SCRIPT}")
    services.comment_add(
        actor=other_citizen, proposal=proposal, body=f"回复{SCRIPT}", parent=comment
    )
    html = html_of(client.get(detail_url(proposal)))
    # No element the text made: no script, no image, no handler on any tag, no script link.
    assert "<script" not in html
    assert "<img" not in html
    assert not re.search(r"<[a-z][^>]*\son[a-z]+=", html)
    assert not re.search(r"<a\s[^>]*javascript:", html)
    # The text is there, escaped: readers see what was typed.
    escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
    assert f"标题{escaped}" in html
    assert f"评论{escaped}" in html
    assert f"回复{escaped}" in html
    assert "正文&lt;script&gt;" in html
    # And on the list.
    assert "<script>alert" not in html_of(client.get(LIST))


def test_hidden_comment_shows_the_reason_without_the_text(
    client, published, other_citizen, department_staff
):
    comment = services.comment_add(actor=other_citizen, proposal=published, body="不文明的话")
    services.comment_hide(actor=department_staff, comment=comment, reason="人身攻击")
    for user in (None, other_citizen, department_staff):
        client.logout()
        if user is not None:
            client.force_login(user)
        html = html_of(client.get(detail_url(published)))
        assert "不文明的话" not in html
        assert "该评论已被审核人员隐藏，原因：人身攻击" in html
        assert f'id="hide-{comment.pk}-reason"' not in html


def test_replies_are_one_level_under_their_comment(client, published, citizen, other_citizen):
    first = services.comment_add(actor=citizen, proposal=published, body="第一条")
    services.comment_add(actor=other_citizen, proposal=published, body="第一条的回复", parent=first)
    services.comment_add(actor=other_citizen, proposal=published, body="第二条")
    html = html_of(client.get(detail_url(published)))
    replies = html[html.index('class="replies"') :]
    assert "第一条的回复" in replies[: replies.index("</ol>")]
    assert html.index("第一条") < html.index("第一条的回复") < html.index("第二条")
    client.force_login(citizen)
    html = html_of(client.get(detail_url(published)))
    # Replies are not answered again: a reply form only under top-level comments.
    assert html.count('class="reply-form"') == 2


def test_my_vote_is_shown_pressed(client, published, citizen, other_citizen):
    comment = services.comment_add(actor=other_citizen, proposal=published, body="好主意")
    services.comment_vote(actor=citizen, comment=comment, value=1)
    client.force_login(citizen)
    html = html_of(client.get(detail_url(published)))
    assert re.search(r'name="vote-value" value="0" class="vote-button" aria-pressed="true"', html)
    assert re.search(r'name="vote-value" value="-1" class="vote-button" aria-pressed="false"', html)


def test_supports_and_threshold_on_the_page(client, settings, published, citizen, other_citizen):
    settings.PROPOSALS_SUPPORT_THRESHOLD = 2
    html = html_of(client.get(detail_url(published)))
    assert "达到 2 人支持后，答复单位须在 30 天内正式答复" in html
    services.proposal_support(actor=citizen, proposal=published)
    services.proposal_support(actor=other_citizen, proposal=published)
    client.force_login(citizen)
    html = html_of(client.get(detail_url(published)))
    assert "<strong data-supports>2</strong>" in html
    assert "达到支持门槛" in html
    assert "应答复时间" in html
    assert act_url(published, "unsupport") in html
    assert "我已支持" in html


def test_timeline_answers_and_progress_from_idea_to_done(
    client, settings, published, citizen, other_citizen, accept, department_staff
):
    settings.PROPOSALS_SUPPORT_THRESHOLD = 2
    services.proposal_support(actor=citizen, proposal=published)
    services.proposal_support(actor=other_citizen, proposal=published)
    proposal = accept(published, text="同意，**下月**开始试行。", cost="8000")
    services.milestone_add(
        actor=department_staff, proposal=proposal, title="调整排班", due_on=dt.date(2031, 3, 10)
    )
    services.milestone_add(
        actor=department_staff, proposal=proposal, title="对外公告", due_on=dt.date(2031, 3, 20)
    )
    first = proposal.result.milestones.order_by("due_on").first()
    services.milestone_set_state(actor=department_staff, milestone=first, state="done")

    html = html_of(client.get(detail_url(proposal)))
    assert 'value="50"' in html  # the progress bar
    assert "调整排班" in html
    assert "对外公告" in html
    assert "<strong>下月</strong>" in html  # the answer's text, rendered
    assert "8000.00 元" in html
    assert "2031-03-01" in html
    assert "2031-06-30" in html
    timeline = html[html.index('id="timeline"') :]
    order = [
        "建议发布，开始征集支持",
        "支持人数达到门槛",
        "正式答复：采纳",
        "里程碑完成：调整排班",
    ]
    positions = [timeline.index(text) for text in order]
    assert positions == sorted(positions)
    assert "建议已落实" not in timeline

    services.milestone_set_state(
        actor=department_staff,
        milestone=proposal.result.milestones.order_by("due_on").last(),
        state="done",
    )
    html = html_of(client.get(detail_url(proposal)))
    assert "已落实" in html[html.index('class="page-head"') :][:400]
    assert "建议已落实" in html[html.index('id="timeline"') :]
    assert 'value="100"' in html


def test_each_published_version_is_readable(client, published, author):
    services.proposal_update(actor=author, proposal=published, body="第二版的正文")
    html = html_of(client.get(detail_url(published)))
    assert "修改记录" in html
    assert "第 1 版" in html
    assert "第 2 版" in html
    assert "希望**周末**也能办理身份证" in html  # the first version's text, as written
    assert "提议人修改了建议（第 2 版）" in html
    assert ProposalVersion.objects.filter(proposal=published).count() == 2


def test_detail_of_a_missing_proposal_is_404_and_post_is_405(client, published):
    assert client.get("/proposals/999999/").status_code == 404
    assert client.post(detail_url(published)).status_code == 405


@pytest.mark.parametrize("role", ["anonymous", "citizen", "department_staff"])
def test_detail_with_many_comments_runs_constant_queries(
    request, client, role, published, other_citizen, citizen
):
    sign_in(client, request, role)
    counter = iter(range(10_000))

    def make(n: int):
        for _ in range(n):
            number = next(counter)
            comment = services.comment_add(
                actor=other_citizen, proposal=published, body=f"评论 {number}"
            )
            services.comment_add(actor=citizen, proposal=published, body="回复", parent=comment)
            services.comment_vote(actor=citizen, comment=comment, value=1)
            if number % 3 == 0:
                services.comment_flag(actor=citizen, comment=comment, reason="广告")

    assert_constant_queries(
        lambda: client.get(detail_url(published)),
        make,
        small=2,
        large=20,
        check=lambda response, rows: len(response.context["comments"]) == rows,
    )


def test_detail_of_an_implemented_proposal_runs_constant_queries(
    client, published, accept, department_staff
):
    proposal = accept(published)
    counter = iter(range(10_000))

    def make(n: int):
        for _ in range(n):
            number = next(counter)
            milestone = services.milestone_add(
                actor=department_staff,
                proposal=proposal,
                title=f"里程碑 {number}",
                due_on=dt.date(2031, 3, 1) + dt.timedelta(days=number),
            )
            services.milestone_set_state(actor=department_staff, milestone=milestone, state="done")
            services.result_open_case(
                actor=department_staff, proposal=proposal, title=f"任务 {number}", description="做"
            )

    assert_constant_queries(lambda: client.get(detail_url(proposal)), make, small=2, large=8)


# Attachments -----------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_attachments_of_a_public_proposal_are_for_everyone_of_a_draft_for_its_author(
    request, client, role, propose
):
    public = propose(uploads=[png("public.png")])
    draft = propose(publish=False, uploads=[png("draft.png")])
    sign_in(client, request, role)
    for proposal, allowed in ((public, True), (draft, role == "author")):
        item = Attachment.objects.get(proposal=proposal)
        url = reverse("proposals:attachment", args=[proposal.pk, item.pk])
        response = client.get(url)
        assert response.status_code == (200 if allowed else 404), (role, proposal.status)
        if allowed:
            assert response["Content-Type"] == "image/png"
            assert response["Content-Disposition"].startswith("inline;")
            assert b"".join(response.streaming_content).startswith(b"\x89PNG")
            expected = "max-age=3600" if proposal.is_public else "private, no-store"
            assert response["Cache-Control"] == expected


def test_attachment_is_served_only_under_its_own_proposal(client, propose):
    first = propose(uploads=[png()])
    second = propose()
    item = Attachment.objects.get(proposal=first)
    response = client.get(reverse("proposals:attachment", args=[second.pk, item.pk]))
    assert response.status_code == 404
    # The page links to the view, never to a media URL.
    html = html_of(client.get(detail_url(first)))
    assert reverse("proposals:attachment", args=[first.pk, item.pk]) in html
    assert item.file.name not in html


# Editing ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_only_the_author_gets_the_edit_page(request, client, role, published):
    sign_in(client, request, role)
    url = reverse("proposals:edit", args=[published.pk])
    response = client.get(url)
    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    elif role == "author":
        assert response.status_code == 200
        assert "周末延长开放时间" in html_of(response)
    else:
        assert response.status_code == 403, role
        assert "只有提议人才能修改建议" in html_of(response)
    before = Proposal.objects.get(pk=published.pk).title
    client.post(url, {"title": "改了", "body": "改了", "category": "opening-hours"})
    assert (Proposal.objects.get(pk=published.pk).title == "改了") is (role == "author")
    assert before == "周末延长开放时间"


def test_author_edits_within_the_window_and_a_new_version_is_kept(client, published, author):
    client.force_login(author)
    url = reverse("proposals:edit", args=[published.pk])
    response = client.post(
        url, {"title": "周末和节假日延长开放时间", "body": "新正文", "category": "opening-hours"}
    )
    assert response.status_code == 302
    assert response["Location"] == detail_url(published)
    published.refresh_from_db()
    assert published.title == "周末和节假日延长开放时间"
    assert published.version == 2
    assert "建议已修改" in html_of(client.get(detail_url(published)))


def test_edit_adds_attachments_up_to_five_in_all(client, propose, author):
    proposal = propose(uploads=[png(f"{n}.png") for n in range(4)])
    client.force_login(author)
    url = reverse("proposals:edit", args=[proposal.pk])
    data = {"title": "标题", "body": "正文", "category": "opening-hours"}
    response = client.post(url, {**data, "attachments": [png("x.png"), png("y.png")]})
    assert response.status_code == 400
    assert "最多还能上传 1 个附件" in html_of(response)
    assert Attachment.objects.filter(proposal=proposal).count() == 4
    assert client.post(url, {**data, "attachments": [png("x.png")]}).status_code == 302
    assert Attachment.objects.filter(proposal=proposal).count() == 5
    assert 'name="attachments"' not in html_of(client.get(url))


def test_edit_is_refused_after_the_window_with_a_clear_message(client, propose, author):
    with when_past(31):
        proposal = propose()
    client.force_login(author)
    url = reverse("proposals:edit", args=[proposal.pk])
    response = client.get(url, follow=True)
    assert response.redirect_chain == [(detail_url(proposal), 302)]
    html = html_of(response)
    assert "发布 30 分钟后不能再修改，只能撤回。" in html
    assert reverse("proposals:edit", args=[proposal.pk]) not in html  # no edit button
    assert act_url(proposal, "withdraw") in html
    # Posting anyway: 409, the text typed stays on the page, nothing changes.
    response = client.post(
        url, {"title": "迟到的修改", "body": "正文", "category": "opening-hours"}
    )
    assert response.status_code == 409
    assert "发布 30 分钟后不能再修改，只能撤回。" in html_of(response)
    assert "迟到的修改" in html_of(response)
    proposal.refresh_from_db()
    assert proposal.title == "周末延长开放时间"
    assert proposal.version == 1


def test_edit_window_follows_the_setting(client, settings, propose, author):
    settings.PROPOSALS_EDIT_MINUTES = 60
    with when_past(31):
        proposal = propose()
    client.force_login(author)
    assert client.get(reverse("proposals:edit", args=[proposal.pk])).status_code == 200


def test_answered_proposal_is_no_longer_editable_even_within_the_window(
    client, published, author, accept
):
    accept(published, state="evaluating", text="评估中")
    client.force_login(author)
    response = client.get(reverse("proposals:edit", args=[published.pk]), follow=True)
    assert "这条建议当前不能修改。" in html_of(response)


def test_body_too_long_on_edit_changes_nothing(client, published, author):
    client.force_login(author)
    url = reverse("proposals:edit", args=[published.pk])
    response = client.post(
        url, {"title": "t", "body": "长" * (MAX_BODY + 1), "category": "opening-hours"}
    )
    assert response.status_code == 400
    published.refresh_from_db()
    assert published.title == "周末延长开放时间"


def test_edit_of_someone_elses_draft_is_404(client, propose, citizen):
    draft = propose(publish=False)
    client.force_login(citizen)
    assert client.get(reverse("proposals:edit", args=[draft.pk])).status_code == 404


def test_edit_page_does_not_leak_other_authors_drafts_through_the_list(client, propose, citizen):
    draft = propose(publish=False, title="别人的草稿")
    client.force_login(citizen)
    assert draft.pk not in rows_of(client.get(LIST))
    assert "别人的草稿" not in html_of(client.get(LIST))


def test_membership_gained_later_is_offered_as_on_behalf_of(client, citizen, partner):
    client.force_login(citizen)
    assert 'name="on_behalf_of"' not in html_of(client.get(NEW))
    MembershipFactory(user=citizen, organisation=partner, role="admin")
    assert 'name="on_behalf_of"' in html_of(client.get(NEW))


def test_station_choices_exclude_inactive_stations(client, citizen):
    StationFactory(slug="closed-station", is_active=False)
    client.force_login(citizen)
    assert 'value="closed-station"' not in html_of(client.get(NEW))


def test_comment_count_and_timezone_rendered(client, published):
    html = html_of(client.get(detail_url(published)))
    assert "评论（0）" in html
    local = timezone.localtime(published.published_at).strftime("%Y-%m-%d %H:%M")
    assert local in html


def test_withdrawn_proposal_shows_withdrawn_and_takes_no_comments(
    client, published, author, citizen
):
    services.proposal_withdraw(actor=author, proposal=published)
    client.force_login(citizen)
    html = html_of(client.get(detail_url(published)))
    assert "已撤回" in html
    assert 'id="comment"' not in html
    assert act_url(published, "support") not in html
    assert "提议人撤回了建议" in html


def test_comments_of_other_proposals_stay_on_theirs(client, propose, citizen):
    first = propose(title="第一条建议")
    second = propose(title="第二条建议")
    services.comment_add(actor=citizen, proposal=first, body="只属于第一条")
    assert "只属于第一条" not in html_of(client.get(detail_url(second)))
    assert Comment.objects.count() == 1
