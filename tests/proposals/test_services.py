"""The proposals services, one action at a time, through the real database: drafts and
publishing, the edit window and its versions, proposing for an organisation, supports and the
threshold, follows, comments (votes, flags, moderation), official answers and the
implementation with its milestones and task cases.

Refusals are checked for every role that might try, and each bad input is checked to leave
nothing half-written.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction

from governance.cases.models import Case, Source
from governance.cases.models import Status as CaseStatus
from governance.cases.services import case_transition
from governance.proposals import search, services
from governance.proposals.models import (
    Answer,
    Attachment,
    Comment,
    CommentFlag,
    CommentVote,
    Follow,
    Milestone,
    Proposal,
    ProposalVersion,
    Result,
    ResultCase,
    Scope,
    Status,
    Support,
)
from governance.stakeholders.models import Membership
from tests.factories import MembershipFactory, UserFactory
from tests.proposals.conftest import (
    PLAN_END,
    PLAN_START,
    fresh,
    notifications,
    notified,
    png,
    shifted,
)

pytestmark = pytest.mark.django_db

AFTER_WINDOW = dt.timedelta(minutes=31)


def code_of(error: ValidationError) -> str | None:
    """The code of a ValidationError raised with a message (not a field dict)."""
    return getattr(error, "code", None)


def field_codes(error: ValidationError) -> dict[str, list[str]]:
    return {field: [item.code for item in items] for field, items in error.error_dict.items()}


def matching(text: str) -> set[int]:
    return set(search.matching(Proposal.objects.all(), text).values_list("pk", flat=True))


# Drafts and publishing ---------------------------------------------------------------------------
def test_a_draft_is_private_unrouted_and_unindexed(draft, citizen):
    assert draft.status == Status.DRAFT
    assert draft.author == citizen
    assert (draft.version, draft.published_at, draft.edit_until) == (0, None, None)
    assert draft.responsible_id is None
    assert not draft.versions.exists()
    assert Proposal.objects.get(pk=draft.pk).search is None
    assert "<strong>周末</strong>" in draft.body_html
    assert draft.summary.startswith("希望周末也能办理身份证")
    # Nobody is told of a draft.
    assert notifications("published") == 0


def test_publishing_makes_version_one_and_opens_the_edit_window(
    draft, citizen, department, settings
):
    settings.PROPOSALS_EDIT_MINUTES = 30
    published = services.proposal_publish(actor=citizen, proposal=draft)
    assert published.status == Status.PUBLISHED
    assert published.version == 1
    assert published.edit_until - published.published_at == dt.timedelta(minutes=30)
    assert list(published.versions.values_list("number", "title", "edited_by")) == [
        (1, draft.title, citizen.pk)
    ]
    # A service's proposal is answered by the service's own department.
    assert published.responsible == department
    # The author follows what they published; the text is searchable from now on.
    assert Follow.objects.filter(proposal=published, user=citizen).exists()
    assert matching("开放时间") == {published.pk}


def test_publishing_tells_the_answering_departments_acting_staff(
    propose, department_admin, department_staff, department_viewer, other_department_staff
):
    proposal = propose()
    assert notified("published", proposal) == {department_admin.pk, department_staff.pk}


def test_a_station_proposal_is_answered_by_whom_the_cases_routing_names(
    propose, station, station_rule, partner
):
    proposal = propose(scope=Scope.STATION, station=station)
    assert proposal.responsible == partner


def test_without_a_routing_rule_the_triage_desk_answers(propose, station, triage_org):
    assert propose(scope=Scope.STATION, station=station).responsible == triage_org
    assert propose(scope=Scope.PLATFORM).responsible == triage_org


def test_with_no_rule_and_no_triage_desk_nobody_answers_yet(propose, station):
    assert propose(scope=Scope.STATION, station=station).responsible_id is None


def test_a_service_proposal_ignores_the_station_rule(
    propose, station, service, station_rule, department
):
    proposal = propose(scope=Scope.SERVICE, station=station, service=service)
    assert proposal.responsible == department


@pytest.mark.parametrize(
    "role", ["other_citizen", "department_staff", "superuser", "partner_admin"]
)
def test_only_the_author_publishes(request, draft, role):
    with pytest.raises(PermissionDenied):
        services.proposal_publish(actor=request.getfixturevalue(role), proposal=draft)
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


def test_anonymous_cannot_propose(category):
    from django.contrib.auth.models import AnonymousUser

    for actor in (None, AnonymousUser()):
        with pytest.raises(PermissionDenied):
            services.proposal_create(actor=actor, title="t", body="b", category=category)
    assert not Proposal.objects.exists()


def test_a_deactivated_account_cannot_propose(citizen, category):
    citizen.is_active = False
    citizen.save()
    with pytest.raises(PermissionDenied):
        services.proposal_create(actor=citizen, title="t", body="b", category=category)


def test_publishing_twice_is_refused(proposal, citizen):
    with pytest.raises(ValidationError) as error:
        services.proposal_publish(actor=citizen, proposal=proposal)
    assert code_of(error.value) == "closed"
    assert code_of(error.value) in services.CONFLICTS
    assert proposal.versions.count() == 1


# Bad input ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"title": ""}, "title", "required"),
        ({"title": "   "}, "title", "required"),
        ({"title": "标" * 151}, "title", "max_length"),
        ({"body": ""}, "body", "required"),
        ({"body": "长" * 20_001}, "body", "max_length"),
        ({"body": "a\x00b"}, "body", "null_characters"),
        ({"title": 42}, "title", "invalid"),
        ({"scope": "galaxy"}, "scope", "invalid_choice"),
        ({"scope": Scope.STATION}, "station", "required"),
        ({"scope": Scope.SERVICE, "service": None}, "service", "required"),
        ({"category": None}, "category", "invalid_choice"),
    ],
)
def test_bad_input_names_its_field_and_writes_nothing(propose, overrides, field, code):
    with pytest.raises(ValidationError) as error:
        propose(**overrides)
    assert field in error.value.error_dict
    assert field_codes(error.value)[field] == [code]
    assert not Proposal.objects.exists()
    assert not ProposalVersion.objects.exists()


def test_a_body_of_exactly_twenty_thousand_characters_is_accepted(propose):
    assert len(propose(body="长" * 20_000).body) == 20_000


def test_the_scope_must_not_name_other_objects(propose, station, service):
    with pytest.raises(ValidationError) as error:
        propose(scope=Scope.PLATFORM, station=station)
    assert "scope" in error.value.error_dict
    with pytest.raises(ValidationError) as error:
        propose(scope=Scope.STATION, station=station, service=service)
    assert "service" in error.value.error_dict
    assert not Proposal.objects.exists()


def test_an_inactive_category_is_refused(propose, category):
    category.is_active = False
    category.save()
    with pytest.raises(ValidationError) as error:
        propose()
    assert "category" in error.value.error_dict


def test_attachments_are_checked_and_stored(propose):
    proposal = propose(uploads=[png("窗口.png")])
    attachment = proposal.attachments.get()
    assert attachment.content_type == "image/png"
    assert attachment.original_name == "窗口.png"
    assert attachment.file.name.startswith(f"proposals/{proposal.pk}/")


def test_one_bad_attachment_refuses_the_whole_proposal(propose):
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = SimpleUploadedFile("x.png", b"<script>alert(1)</script>", content_type="image/png")
    with pytest.raises(ValidationError):
        propose(uploads=[png(), bad])
    assert not Proposal.objects.exists()
    assert not Attachment.objects.exists()


def test_at_most_five_attachments(propose, draft, citizen):
    with pytest.raises(ValidationError) as error:
        propose(uploads=[png(f"{i}.png") for i in range(6)])
    assert field_codes(error.value)["attachments"] == ["too_many"]
    services.proposal_update(actor=citizen, proposal=draft, uploads=[png() for _ in range(5)])
    with pytest.raises(ValidationError):
        services.proposal_update(actor=citizen, proposal=draft, uploads=[png()])
    assert draft.attachments.count() == 5


# On behalf of an organisation --------------------------------------------------------------------
@pytest.mark.parametrize("role", ["partner_admin", "partner_staff"])
def test_acting_members_propose_for_their_organisation(request, propose, partner, role):
    proposal = propose(actor=request.getfixturevalue(role), on_behalf_of=partner)
    assert proposal.on_behalf_of == partner
    assert proposal.author == request.getfixturevalue(role)


def test_a_department_proposes_as_itself(propose, department, department_staff):
    assert propose(actor=department_staff, on_behalf_of=department).on_behalf_of == department


@pytest.mark.parametrize(
    "role", ["citizen", "department_staff", "other_partner_admin", "department_viewer"]
)
def test_proposing_for_an_organisation_without_an_acting_seat_is_refused(
    request, propose, partner, department, role
):
    organisation = department if role == "department_viewer" else partner
    with pytest.raises(PermissionDenied):
        propose(actor=request.getfixturevalue(role), on_behalf_of=organisation)
    assert not Proposal.objects.exists()


def test_a_partner_viewer_cannot_propose_for_it(propose, partner):
    viewer = MembershipFactory(organisation=partner, role=Membership.Role.VIEWER).user
    with pytest.raises(PermissionDenied):
        propose(actor=viewer, on_behalf_of=partner)


def test_a_draft_for_an_organisation_is_published_only_while_the_seat_lasts(
    propose, partner, partner_staff
):
    draft = propose(actor=partner_staff, on_behalf_of=partner, publish=False)
    Membership.objects.filter(user=partner_staff).delete()
    with pytest.raises(PermissionDenied):
        services.proposal_publish(actor=fresh(partner_staff), proposal=draft)
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


def test_an_inactive_organisation_proposes_nothing(propose, partner, partner_admin):
    partner.is_active = False
    partner.save()
    with pytest.raises(PermissionDenied):
        propose(actor=fresh(partner_admin), on_behalf_of=partner)


# The edit window ---------------------------------------------------------------------------------
def test_a_draft_is_edited_freely_without_versions(draft, citizen, other_category):
    edited = services.proposal_update(
        actor=citizen, proposal=draft, title="新标题", body="# 新正文", category=other_category
    )
    assert (edited.title, edited.category, edited.version) == ("新标题", other_category, 0)
    assert "<h3>新正文</h3>" in edited.body_html
    assert not ProposalVersion.objects.exists()


def test_each_edit_in_the_window_is_a_new_readable_version(proposal, citizen):
    with shifted(dt.timedelta(minutes=10)):
        services.proposal_update(actor=citizen, proposal=proposal, body="改为**工作日**延长。")
    with shifted(dt.timedelta(minutes=20)):
        edited = services.proposal_update(actor=citizen, proposal=proposal, title="工作日延长")
    assert edited.version == 3
    versions = list(proposal.versions.order_by("number"))
    assert [(v.number, v.title) for v in versions] == [
        (1, "周末延长开放时间"),
        (2, "周末延长开放时间"),
        (3, "工作日延长"),
    ]
    assert versions[0].body.startswith("希望**周末**")
    assert versions[2].body == "改为**工作日**延长。"
    assert "<strong>工作日</strong>" in edited.body_html
    # The search index follows the text.
    assert matching("工作日") == {proposal.pk}
    assert matching("晚上八点") == set()


def test_saving_the_same_text_adds_no_version(proposal, citizen):
    services.proposal_update(actor=citizen, proposal=proposal, title=proposal.title)
    proposal.refresh_from_db()
    assert proposal.version == 1
    assert proposal.versions.count() == 1


def test_after_the_window_the_author_may_only_withdraw(proposal, citizen):
    with shifted(AFTER_WINDOW):
        with pytest.raises(ValidationError) as error:
            services.proposal_update(actor=citizen, proposal=proposal, title="改了")
        assert code_of(error.value) == "not_editable"
        assert code_of(error.value) in services.CONFLICTS
        withdrawn = services.proposal_withdraw(actor=citizen, proposal=proposal)
    proposal.refresh_from_db()
    assert proposal.title == "周末延长开放时间"
    assert proposal.versions.count() == 1
    assert withdrawn.status == Status.WITHDRAWN
    assert withdrawn.withdrawn_at is not None


def test_the_window_is_a_setting(proposal, citizen, settings):
    settings.PROPOSALS_EDIT_MINUTES = 5
    draft = services.proposal_create(
        actor=citizen, title="t", body="b", category=proposal.category, publish_now=True
    )
    with shifted(dt.timedelta(minutes=6)), pytest.raises(ValidationError):
        services.proposal_update(actor=citizen, proposal=draft, title="x")


def test_an_answered_proposal_is_not_editable_even_within_the_window(proposal, citizen, answer):
    answer(proposal, "evaluating", text="正在评估。")
    with pytest.raises(ValidationError) as error:
        services.proposal_update(actor=citizen, proposal=proposal, title="改了")
    assert code_of(error.value) == "not_editable"


@pytest.mark.parametrize(
    "role", ["other_citizen", "department_staff", "department_admin", "superuser", "triager"]
)
def test_only_the_author_edits(request, proposal, role):
    with pytest.raises(PermissionDenied):
        services.proposal_update(
            actor=request.getfixturevalue(role), proposal=proposal, title="别人改的"
        )
    proposal.refresh_from_db()
    assert proposal.title == "周末延长开放时间"


def test_a_bad_edit_changes_nothing(proposal, citizen):
    with pytest.raises(ValidationError):
        services.proposal_update(actor=citizen, proposal=proposal, title="新", body="长" * 20_001)
    proposal.refresh_from_db()
    assert (proposal.title, proposal.version) == ("周末延长开放时间", 1)
    assert proposal.versions.count() == 1


def test_versions_are_append_only(proposal):
    version = proposal.versions.get()
    version.title = "篡改"
    with pytest.raises(ValidationError, match="历史版本不能修改"):
        version.save()
    with pytest.raises(ValidationError, match="历史版本不能删除"):
        version.delete()
    # Behind the model, PostgreSQL's trigger refuses a rewrite too (SQLite has none).
    if connection.vendor == "postgresql":
        with pytest.raises(Exception), transaction.atomic():  # noqa: B017, PT011
            ProposalVersion.objects.filter(pk=version.pk).update(title="篡改")
    assert proposal.versions.get().title == "周末延长开放时间"


# Withdrawing -------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["other_citizen", "department_admin", "superuser"])
def test_only_the_author_withdraws(request, proposal, role):
    with pytest.raises(PermissionDenied):
        services.proposal_withdraw(actor=request.getfixturevalue(role), proposal=proposal)
    proposal.refresh_from_db()
    assert proposal.status == Status.PUBLISHED


def test_a_draft_or_a_withdrawn_or_accepted_proposal_cannot_be_withdrawn(
    draft, proposal, accepted, citizen, propose
):
    other = propose()
    services.proposal_withdraw(actor=citizen, proposal=other)
    for target in (draft, other, accepted):
        with pytest.raises(ValidationError) as error:
            services.proposal_withdraw(actor=citizen, proposal=target)
        assert code_of(error.value) == "closed"


def test_an_evaluated_proposal_may_still_be_withdrawn(proposal, citizen, answer):
    answer(proposal, "evaluating", text="评估中")
    assert services.proposal_withdraw(actor=citizen, proposal=proposal).status == Status.WITHDRAWN


# Supports ----------------------------------------------------------------------------------------
def test_support_is_one_row_and_one_count(proposal, other_citizen):
    supported, created = services.proposal_support(actor=other_citizen, proposal=proposal)
    assert created is True
    assert supported.supports_count == 1
    again, created = services.proposal_support(actor=other_citizen, proposal=proposal)
    assert created is False
    assert again.supports_count == 1
    assert Support.objects.filter(proposal=proposal).count() == 1


def test_the_database_refuses_a_second_support_row(proposal, other_citizen):
    services.proposal_support(actor=other_citizen, proposal=proposal)
    with pytest.raises(IntegrityError), transaction.atomic():
        Support.objects.create(proposal=proposal, user=other_citizen)


def test_unsupport_gives_the_support_back(proposal, other_citizen, citizen):
    services.proposal_support(actor=other_citizen, proposal=proposal)
    services.proposal_support(actor=citizen, proposal=proposal)
    after, removed = services.proposal_unsupport(actor=other_citizen, proposal=proposal)
    assert removed is True
    assert after.supports_count == 1
    after, removed = services.proposal_unsupport(actor=other_citizen, proposal=proposal)
    assert removed is False
    assert after.supports_count == 1
    assert list(Support.objects.values_list("user", flat=True)) == [citizen.pk]


def test_supporting_a_draft_is_a_bad_request_even_ones_own(draft, citizen, other_citizen):
    for actor in (citizen, other_citizen):
        with pytest.raises(ValidationError) as error:
            services.proposal_support(actor=actor, proposal=draft)
        assert code_of(error.value) == "not_published"
        assert code_of(error.value) not in services.CONFLICTS
    assert not Support.objects.exists()


def test_a_withdrawn_or_answered_proposal_takes_no_support(
    proposal, propose, accepted, citizen, other_citizen
):
    withdrawn = propose()
    services.proposal_withdraw(actor=citizen, proposal=withdrawn)
    for target in (withdrawn, accepted):
        with pytest.raises(ValidationError) as error:
            services.proposal_support(actor=other_citizen, proposal=target)
        assert code_of(error.value) == "closed"
        with pytest.raises(ValidationError):
            services.proposal_unsupport(actor=other_citizen, proposal=target)
    assert not Support.objects.exists()


def test_a_proposal_under_evaluation_still_takes_supports(proposal, answer, other_citizen):
    answer(proposal, "evaluating", text="评估中")
    assert services.proposal_support(actor=other_citizen, proposal=proposal)[1] is True


def test_anonymous_and_deactivated_people_do_not_support(proposal, other_citizen):
    from django.contrib.auth.models import AnonymousUser

    other_citizen.is_active = False
    other_citizen.save()
    for actor in (None, AnonymousUser(), other_citizen):
        with pytest.raises(PermissionDenied):
            services.proposal_support(actor=actor, proposal=proposal)
    assert not Support.objects.exists()


def test_a_member_supports_as_a_person(proposal, partner_admin):
    services.proposal_support(actor=partner_admin, proposal=proposal)
    assert Support.objects.get().user == partner_admin


def test_the_threshold_obliges_an_answer_within_thirty_days_once(
    proposal, support, settings, department_staff, department_admin, department_viewer, citizen
):
    settings.PROPOSALS_SUPPORT_THRESHOLD = 3
    settings.PROPOSALS_ANSWER_DAYS = 30
    first_two = support(proposal, 2)
    proposal.refresh_from_db()
    assert (proposal.threshold_reached_at, proposal.answer_due_at) == (None, None)
    [third] = support(proposal, 1)
    proposal.refresh_from_db()
    assert proposal.supports_count == 3
    assert proposal.threshold_reached_at is not None
    assert proposal.answer_due_at - proposal.threshold_reached_at == dt.timedelta(days=30)
    # The department's acting staff and the author; not the viewer, not the supporter whose
    # support tipped it (they caused the event).
    assert notified("threshold_reached", proposal) == {
        department_staff.pk,
        department_admin.pk,
        citizen.pk,
    }
    reached = proposal.threshold_reached_at
    # More supports, or a support taken back and given again, do not reach it twice.
    support(proposal, 2)
    services.proposal_unsupport(actor=first_two[0], proposal=proposal)
    services.proposal_unsupport(actor=third, proposal=proposal)
    services.proposal_support(actor=third, proposal=proposal)
    proposal.refresh_from_db()
    assert proposal.threshold_reached_at == reached
    assert proposal.supports_count == 4
    assert notifications("threshold_reached", proposal) == 3


def test_the_threshold_event_carries_the_due_date(proposal, support, settings):
    from governance.notifications.models import Notification

    settings.PROPOSALS_SUPPORT_THRESHOLD = 1
    support(proposal, 1)
    proposal.refresh_from_db()
    payload = Notification.objects.filter(event_type="proposals.threshold_reached").first().payload
    assert payload["supports"] == 1
    assert payload["threshold"] == 1
    # JSON keeps milliseconds.
    due = dt.datetime.fromisoformat(payload["answer_due_at"])
    assert abs(due - proposal.answer_due_at) < dt.timedelta(milliseconds=1)


# Follows -----------------------------------------------------------------------------------------
def test_follow_and_unfollow(proposal, other_citizen):
    assert services.proposal_follow(actor=other_citizen, proposal=proposal) is True
    assert services.proposal_follow(actor=other_citizen, proposal=proposal) is False
    assert Follow.objects.filter(proposal=proposal, user=other_citizen).count() == 1
    assert services.proposal_unfollow(actor=other_citizen, proposal=proposal) is True
    assert services.proposal_unfollow(actor=other_citizen, proposal=proposal) is False


def test_a_draft_cannot_be_followed(draft, other_citizen):
    with pytest.raises(PermissionDenied):
        services.proposal_follow(actor=other_citizen, proposal=draft)
    with pytest.raises(PermissionDenied):
        services.proposal_follow(actor=None, proposal=draft)


# Comments ----------------------------------------------------------------------------------------
def test_a_comment_counts_and_makes_its_writer_a_follower(proposal, other_citizen):
    comment = services.comment_add(actor=other_citizen, proposal=proposal, body="  支持！ ")
    assert comment.body == "支持！"
    proposal.refresh_from_db()
    assert proposal.comments_count == 1
    assert Follow.objects.filter(proposal=proposal, user=other_citizen).exists()


def test_replies_are_one_level_deep(proposal, citizen, other_citizen, people):
    top = services.comment_add(actor=other_citizen, proposal=proposal, body="好建议")
    reply = services.comment_add(actor=citizen, proposal=proposal, body="谢谢", parent=top)
    assert reply.parent == top
    [third] = people(1)
    with pytest.raises(ValidationError) as error:
        services.comment_add(actor=third, proposal=proposal, body="回复的回复", parent=reply)
    assert field_codes(error.value) == {"parent": ["too_deep"]}
    assert Comment.objects.count() == 2
    proposal.refresh_from_db()
    assert proposal.comments_count == 2


def test_a_reply_must_belong_to_the_same_proposal(proposal, propose, other_citizen):
    elsewhere = services.comment_add(actor=other_citizen, proposal=propose(), body="别处")
    with pytest.raises(ValidationError) as error:
        services.comment_add(actor=other_citizen, proposal=proposal, body="x", parent=elsewhere)
    assert "parent" in error.value.error_dict


def test_comments_refused_on_drafts_withdrawn_proposals_and_anonymous(
    draft, proposal, citizen, other_citizen
):
    with pytest.raises(ValidationError) as error:
        services.comment_add(actor=other_citizen, proposal=draft, body="x")
    assert code_of(error.value) == "not_published"
    with pytest.raises(PermissionDenied):
        services.comment_add(actor=None, proposal=proposal, body="x")
    services.proposal_withdraw(actor=citizen, proposal=proposal)
    with pytest.raises(PermissionDenied):
        services.comment_add(actor=other_citizen, proposal=proposal, body="x")
    assert not Comment.objects.exists()


def test_an_answered_proposal_is_still_discussed(accepted, other_citizen):
    assert services.comment_add(actor=other_citizen, proposal=accepted, body="什么时候开始？")


@pytest.mark.parametrize(("body", "code"), [("", "required"), ("评" * 2_001, "max_length")])
def test_a_bad_comment_writes_nothing(proposal, other_citizen, body, code):
    with pytest.raises(ValidationError) as error:
        services.comment_add(actor=other_citizen, proposal=proposal, body=body)
    assert field_codes(error.value)["body"] == [code]
    proposal.refresh_from_db()
    assert proposal.comments_count == 0
    assert not Follow.objects.filter(user=other_citizen).exists()


def test_comment_text_is_kept_as_written_for_the_pages_to_escape(proposal, other_citizen):
    body = '<script>alert("x")</script> <b>粗</b>'
    comment = services.comment_add(actor=other_citizen, proposal=proposal, body=body)
    assert comment.body == body
    from django.template import Context, Template

    page = Template("{{ comment.body }}").render(Context({"comment": comment}))
    assert "<script>" not in page
    assert "&lt;script&gt;" in page


# Votes -------------------------------------------------------------------------------------------
@pytest.fixture
def comment(proposal, citizen):
    return services.comment_add(actor=citizen, proposal=proposal, body="我补充一点")


def counts(comment) -> tuple[int, int]:
    comment.refresh_from_db()
    return comment.upvotes, comment.downvotes


def test_votes_move_between_up_and_down_and_zero_takes_them_back(comment, other_citizen):
    services.comment_vote(actor=other_citizen, comment=comment, value=1)
    assert counts(comment) == (1, 0)
    services.comment_vote(actor=other_citizen, comment=comment, value=1)
    assert counts(comment) == (1, 0)
    services.comment_vote(actor=other_citizen, comment=comment, value=-1)
    assert counts(comment) == (0, 1)
    assert CommentVote.objects.get().value == -1
    services.comment_vote(actor=other_citizen, comment=comment, value=0)
    assert counts(comment) == (0, 0)
    assert not CommentVote.objects.exists()
    services.comment_vote(actor=other_citizen, comment=comment, value=0)
    assert counts(comment) == (0, 0)


def test_votes_of_several_people_add_up(comment, people):
    for person, value in zip(people(5), (1, 1, 1, -1, -1), strict=True):
        services.comment_vote(actor=person, comment=comment, value=value)
    assert counts(comment) == (3, 2)


def test_nobody_votes_on_their_own_comment(comment, citizen):
    with pytest.raises(ValidationError) as error:
        services.comment_vote(actor=citizen, comment=comment, value=1)
    assert code_of(error.value) == "own_comment"
    assert counts(comment) == (0, 0)


@pytest.mark.parametrize("value", [2, -2, True, "1", None, 0.5])
def test_a_vote_is_one_minus_one_or_zero(comment, other_citizen, value):
    with pytest.raises(ValidationError) as error:
        services.comment_vote(actor=other_citizen, comment=comment, value=value)
    assert "value" in error.value.error_dict
    assert not CommentVote.objects.exists()


def test_anonymous_people_do_not_vote(comment):
    with pytest.raises(PermissionDenied):
        services.comment_vote(actor=None, comment=comment, value=1)


# Flags -------------------------------------------------------------------------------------------
def test_each_person_flags_a_comment_once(comment, other_citizen, people):
    flagged, created = services.comment_flag(actor=other_citizen, comment=comment, reason="广告")
    assert (created, flagged.flags_count) == (True, 1)
    flagged, created = services.comment_flag(actor=other_citizen, comment=comment, reason="再举报")
    assert (created, flagged.flags_count) == (False, 1)
    assert CommentFlag.objects.get().reason == "广告"
    [second] = people(1)
    assert services.comment_flag(actor=second, comment=comment)[0].flags_count == 2


def test_flags_need_a_signed_in_person_and_a_short_reason(comment, other_citizen):
    with pytest.raises(PermissionDenied):
        services.comment_flag(actor=None, comment=comment)
    with pytest.raises(ValidationError):
        services.comment_flag(actor=other_citizen, comment=comment, reason="长" * 201)
    assert counts_flags(comment) == 0


def counts_flags(comment) -> int:
    comment.refresh_from_db()
    return comment.flags_count


# Moderation --------------------------------------------------------------------------------------
MODERATORS = {
    "superuser": True,
    "department_admin": True,
    "department_staff": True,
    "triager": True,
    "department_viewer": False,
    "other_department_staff": False,
    "partner_admin": False,
    "partner_staff": False,
    "other_partner_admin": False,
    "citizen": False,  # the proposal's author
    "other_citizen": False,
}


@pytest.mark.parametrize("role", sorted(MODERATORS))
def test_who_hides_a_comment(request, comment, triage_org, role):
    actor = request.getfixturevalue(role)
    if MODERATORS[role]:
        hidden = services.comment_hide(actor=actor, comment=comment, reason="人身攻击")
        assert hidden.is_hidden
        assert (hidden.hidden_reason, hidden.hidden_by) == ("人身攻击", actor)
        assert hidden.hidden_at is not None
    else:
        with pytest.raises(PermissionDenied):
            services.comment_hide(actor=actor, comment=comment, reason="人身攻击")
        comment.refresh_from_db()
        assert not comment.is_hidden


def test_anonymous_hides_nothing(comment):
    with pytest.raises(PermissionDenied):
        services.comment_hide(actor=None, comment=comment, reason="x")


def test_a_hidden_comment_stays_in_the_thread_with_its_reason(
    comment, department_staff, superuser, other_citizen
):
    reply = services.comment_add(
        actor=other_citizen, proposal=comment.proposal, body="同意", parent=comment
    )
    services.comment_hide(actor=department_staff, comment=comment, reason="广告")
    # Hiding again keeps the first moderator's reason.
    services.comment_hide(actor=superuser, comment=comment, reason="别的理由")
    comment.refresh_from_db()
    assert Comment.objects.filter(pk=comment.pk).exists()
    assert (comment.hidden_reason, comment.hidden_by) == ("广告", department_staff)
    assert comment.body == "我补充一点"
    assert Comment.objects.get(pk=reply.pk).parent_id == comment.pk
    comment.proposal.refresh_from_db()
    assert comment.proposal.comments_count == 2


def test_hiding_needs_a_reason(comment, department_staff):
    with pytest.raises(ValidationError) as error:
        services.comment_hide(actor=department_staff, comment=comment, reason="  ")
    assert "reason" in error.value.error_dict
    comment.refresh_from_db()
    assert not comment.is_hidden


# Official answers --------------------------------------------------------------------------------
ANSWERERS = {
    "department_admin": True,
    "department_staff": True,
    "superuser": False,  # an answer is the department's word
    "department_viewer": False,
    "other_department_staff": False,
    "triager": False,
    "partner_admin": False,
    "partner_staff": False,
    "citizen": False,  # the author
    "other_citizen": False,
}


@pytest.mark.parametrize("role", sorted(ANSWERERS))
def test_only_the_responsible_departments_acting_staff_answer(request, proposal, triage_org, role):
    actor = request.getfixturevalue(role)
    kwargs = {"state": "rejected", "text": "不予采纳：场地不足。"}
    if ANSWERERS[role]:
        answer = services.proposal_answer(actor=actor, proposal=proposal, **kwargs)
        assert answer.published_by == actor
        assert answer.organisation == proposal.responsible
        return
    with pytest.raises(PermissionDenied):
        services.proposal_answer(actor=actor, proposal=proposal, **kwargs)
    with pytest.raises(PermissionDenied):
        services.answer_draft(actor=actor, proposal=proposal, **kwargs)
    assert not Answer.objects.exists()
    proposal.refresh_from_db()
    assert (proposal.status, proposal.answered_at) == (Status.PUBLISHED, None)


def test_nobody_publishes_a_draft_answer_but_the_department(
    proposal, department_staff, superuser, other_department_staff
):
    draft = services.answer_draft(
        actor=department_staff, proposal=proposal, state="rejected", text="不予采纳"
    )
    for actor in (superuser, other_department_staff, None):
        with pytest.raises(PermissionDenied):
            services.answer_publish(actor=actor, answer=draft)
    draft.refresh_from_db()
    assert draft.published_at is None


def test_anonymous_answers_nothing(proposal):
    with pytest.raises(PermissionDenied):
        services.proposal_answer(actor=None, proposal=proposal, state="rejected", text="x")


def test_a_draft_answer_changes_nothing_until_published(
    proposal, department_staff, department_admin, citizen, support, other_citizen
):
    supporters = support(proposal, 2)
    services.proposal_follow(actor=other_citizen, proposal=proposal)
    draft = services.answer_draft(
        actor=department_staff, proposal=proposal, state="rejected", text="初稿"
    )
    redrafted = services.answer_draft(
        actor=department_admin, proposal=proposal, state="evaluating", text="第二稿"
    )
    assert redrafted.pk == draft.pk
    assert Answer.objects.count() == 1
    proposal.refresh_from_db()
    assert (proposal.status, proposal.answered_at) == (Status.PUBLISHED, None)
    assert notifications("answered") == 0

    published = services.answer_publish(actor=department_staff, answer=redrafted)
    assert (published.text, published.state) == ("第二稿", "evaluating")
    assert published.published_by == department_staff
    assert published.drafted_by == department_admin
    proposal.refresh_from_db()
    assert proposal.status == Status.EVALUATING
    assert proposal.answered_at == published.published_at
    # The author, the supporters and the followers; not the staff who answered.
    assert notified("answered", proposal) == {
        citizen.pk,
        other_citizen.pk,
        *(user.pk for user in supporters),
    }


def test_an_answer_is_published_once(proposal, department_staff, answer):
    published = answer(proposal, "evaluating", text="评估")
    with pytest.raises(ValidationError) as error:
        services.answer_publish(actor=department_staff, answer=published)
    assert code_of(error.value) in services.CONFLICTS


def test_accepting_needs_a_plan(proposal, department_staff):
    with pytest.raises(ValidationError) as error:
        services.proposal_answer(
            actor=department_staff, proposal=proposal, state="accepted", text="采纳"
        )
    assert set(error.value.error_dict) == {"starts_on", "ends_on"}
    with pytest.raises(ValidationError) as error:
        services.proposal_answer(
            actor=department_staff,
            proposal=proposal,
            state="accepted",
            text="采纳",
            starts_on=PLAN_END,
            ends_on=PLAN_START,
        )
    assert set(error.value.error_dict) == {"ends_on"}
    assert not Answer.objects.exists()
    assert not Result.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("cost", "-1"),
        ("cost", "abc"),
        ("cost", "NaN"),
        ("cost", "1e12"),
        ("state", "maybe"),
        ("text", ""),
        ("text", "答" * 20_001),
    ],
)
def test_bad_answers_name_their_field(proposal, department_staff, field, value):
    kwargs = {
        "state": "accepted",
        "text": "采纳",
        "starts_on": PLAN_START,
        "ends_on": PLAN_END,
        field: value,
    }
    with pytest.raises(ValidationError) as error:
        services.proposal_answer(actor=department_staff, proposal=proposal, **kwargs)
    assert field in error.value.error_dict
    assert not Answer.objects.exists()


def test_evaluating_then_accepted_with_a_plan(proposal, answer, department_staff):
    answer(proposal, "evaluating", text="正在评估场地。")
    proposal.refresh_from_db()
    assert proposal.status == Status.EVALUATING
    accepted = answer(proposal, "accepted", cost="8800.5")
    proposal.refresh_from_db()
    assert proposal.status == Status.ACCEPTED
    assert accepted.cost == Decimal("8800.50")
    assert list(proposal.answers.values_list("state", flat=True)) == ["evaluating", "accepted"]
    result = proposal.result
    assert (result.starts_on, result.ends_on, result.cost) == (
        PLAN_START,
        PLAN_END,
        Decimal("8800.50"),
    )
    assert (result.state, result.progress) == (Result.State.NOT_STARTED, 0)


def test_answering_the_answered_or_withdrawn_is_a_conflict(
    accepted, propose, answer, citizen, department_staff
):
    rejected = propose()
    answer(rejected, "rejected", text="不采纳")
    withdrawn = propose()
    services.proposal_withdraw(actor=citizen, proposal=withdrawn)
    for target in (accepted, rejected, withdrawn):
        for call in (services.answer_draft, services.proposal_answer):
            with pytest.raises(ValidationError) as error:
                call(actor=department_staff, proposal=target, state="evaluating", text="再答")
            assert code_of(error.value) in services.CONFLICTS
    assert Answer.objects.count() == 2


def test_a_draft_answer_cannot_be_published_once_the_proposal_is_withdrawn(
    proposal, department_staff, citizen
):
    draft = services.answer_draft(
        actor=department_staff, proposal=proposal, state="rejected", text="不采纳"
    )
    services.proposal_withdraw(actor=citizen, proposal=proposal)
    with pytest.raises(ValidationError) as error:
        services.answer_publish(actor=department_staff, answer=draft)
    assert code_of(error.value) in services.CONFLICTS
    proposal.refresh_from_db()
    assert proposal.status == Status.WITHDRAWN


def test_rerouting_hands_the_answer_to_the_new_department(
    proposal, superuser, other_department, other_department_staff, department_staff
):
    services.proposal_route(actor=superuser, proposal=proposal, responsible=other_department)
    with pytest.raises(PermissionDenied):
        services.proposal_answer(
            actor=department_staff, proposal=proposal, state="rejected", text="x"
        )
    answer = services.proposal_answer(
        actor=fresh(other_department_staff), proposal=proposal, state="rejected", text="不采纳"
    )
    assert answer.organisation == other_department


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("superuser", True),
        ("triager", True),
        ("department_admin", False),
        ("citizen", False),
        ("partner_admin", False),
    ],
)
def test_who_reroutes(request, proposal, triage_org, other_department, role, allowed):
    actor = request.getfixturevalue(role)
    if allowed:
        services.proposal_route(actor=actor, proposal=proposal, responsible=other_department)
        proposal.refresh_from_db()
        assert proposal.responsible == other_department
    else:
        with pytest.raises(PermissionDenied):
            services.proposal_route(actor=actor, proposal=proposal, responsible=other_department)


def test_routing_refuses_drafts_and_inactive_organisations(
    draft, proposal, superuser, other_department
):
    with pytest.raises(ValidationError) as error:
        services.proposal_route(actor=superuser, proposal=draft, responsible=other_department)
    assert code_of(error.value) == "not_published"
    other_department.is_active = False
    other_department.save()
    with pytest.raises(ValidationError):
        services.proposal_route(actor=superuser, proposal=proposal, responsible=other_department)


def test_routing_goes_to_a_department_or_a_partner_never_a_community_group(
    proposal, superuser, partner
):
    from tests.factories import OrganisationFactory

    community = OrganisationFactory(slug="residents", kind="community")
    with pytest.raises(ValidationError) as error:
        services.proposal_route(actor=superuser, proposal=proposal, responsible=community)
    assert field_codes(error.value) == {"responsible": ["invalid_choice"]}
    # The mall answers for what it contributes.
    services.proposal_route(actor=superuser, proposal=proposal, responsible=partner)
    proposal.refresh_from_db()
    assert proposal.responsible == partner


def test_rerouting_drops_the_previous_departments_draft_answer(
    proposal, superuser, department_staff, other_department
):
    services.answer_draft(
        actor=department_staff, proposal=proposal, state="rejected", text="还在斟酌"
    )
    services.proposal_route(actor=superuser, proposal=proposal, responsible=other_department)
    assert not Answer.objects.filter(proposal=proposal).exists()


# Implementation ----------------------------------------------------------------------------------
def progress(proposal) -> tuple[int, str, str]:
    proposal.refresh_from_db()
    result = Result.objects.get(proposal=proposal)
    return result.progress, result.state, proposal.status


def test_milestones_move_the_progress_up_to_implemented(
    accepted, department_staff, citizen, support
):
    first = services.milestone_add(
        actor=department_staff, proposal=accepted, title="采购设备", due_on=PLAN_START
    )
    second = services.milestone_add(
        actor=department_staff,
        proposal=accepted,
        title="周末开放",
        due_on=PLAN_END,
        description="周六周日 10:00–20:00",
    )
    assert progress(accepted) == (0, "not_started", "accepted")
    services.milestone_set_state(actor=department_staff, milestone=first, state="in_progress")
    assert progress(accepted) == (0, "in_progress", "accepted")
    services.milestone_set_state(actor=department_staff, milestone=first, state="done")
    assert progress(accepted) == (50, "in_progress", "accepted")
    assert notified("milestone_reached", accepted) == {citizen.pk}
    assert notifications("implemented") == 0
    services.milestone_set_state(actor=department_staff, milestone=second, state="done")
    assert progress(accepted) == (100, "done", "implemented")
    accepted.refresh_from_db()
    assert accepted.implemented_at is not None
    assert notified("implemented", accepted) == {citizen.pk}
    second.refresh_from_db()
    assert second.completed_at is not None


def test_a_milestone_undone_takes_the_proposal_back_to_accepted(accepted, department_staff):
    milestone = services.milestone_add(
        actor=department_staff, proposal=accepted, title="完成", due_on=PLAN_END
    )
    services.milestone_set_state(actor=department_staff, milestone=milestone, state="done")
    assert progress(accepted) == (100, "done", "implemented")
    services.milestone_set_state(actor=department_staff, milestone=milestone, state="in_progress")
    assert progress(accepted) == (0, "in_progress", "accepted")
    accepted.refresh_from_db()
    assert accepted.implemented_at is None
    milestone.refresh_from_db()
    assert milestone.completed_at is None
    # Done again: implemented again, and told again.
    services.milestone_set_state(actor=department_staff, milestone=milestone, state="done")
    assert progress(accepted)[2] == "implemented"
    assert notifications("implemented", accepted) == 2


def test_setting_the_same_state_again_changes_nothing(accepted, department_staff):
    milestone = services.milestone_add(
        actor=department_staff, proposal=accepted, title="完成", due_on=PLAN_END
    )
    services.milestone_set_state(actor=department_staff, milestone=milestone, state="planned")
    assert notifications("milestone_reached") == 0


def test_bad_milestones_are_refused(accepted, department_staff):
    with pytest.raises(ValidationError) as error:
        services.milestone_add(actor=department_staff, proposal=accepted, title="", due_on=PLAN_END)
    assert "title" in error.value.error_dict
    with pytest.raises(ValidationError) as error:
        services.milestone_add(
            actor=department_staff, proposal=accepted, title="x", due_on="2031-01-01"
        )
    assert "due_on" in error.value.error_dict
    milestone = services.milestone_add(
        actor=department_staff, proposal=accepted, title="x", due_on=PLAN_END
    )
    with pytest.raises(ValidationError) as error:
        services.milestone_set_state(actor=department_staff, milestone=milestone, state="gone")
    assert "state" in error.value.error_dict
    assert Milestone.objects.count() == 1


def test_only_an_accepted_proposal_has_an_implementation(proposal, answer, department_staff):
    with pytest.raises(ValidationError) as error:
        services.milestone_add(
            actor=department_staff, proposal=proposal, title="x", due_on=PLAN_END
        )
    assert code_of(error.value) == "not_accepted"
    answer(proposal, "rejected", text="不采纳")
    with pytest.raises(ValidationError):
        services.result_open_case(
            actor=department_staff, proposal=proposal, title="x", description="y"
        )


MANAGERS = {
    "department_admin": True,
    "department_staff": True,
    "superuser": False,
    "department_viewer": False,
    "other_department_staff": False,
    "triager": False,
    "partner_admin": False,
    "citizen": False,
}


@pytest.mark.parametrize("role", sorted(MANAGERS))
def test_who_runs_the_implementation(request, accepted, triage_org, role):
    actor = request.getfixturevalue(role)
    if MANAGERS[role]:
        services.milestone_add(actor=actor, proposal=accepted, title="x", due_on=PLAN_END)
        return
    with pytest.raises(PermissionDenied):
        services.milestone_add(actor=actor, proposal=accepted, title="x", due_on=PLAN_END)
    with pytest.raises(PermissionDenied):
        services.result_open_case(actor=actor, proposal=accepted, title="x", description="y")
    assert not Milestone.objects.exists()
    assert not ResultCase.objects.exists()


def test_task_cases_move_the_progress_and_a_reopened_one_takes_it_back(
    accepted, department_staff, department, citizen
):
    milestone = services.milestone_add(
        actor=department_staff, proposal=accepted, title="改造窗口", due_on=PLAN_START
    )
    case = services.result_open_case(
        actor=department_staff,
        proposal=accepted,
        title="安排周末值班",
        description="排出周末两名值班人员。",
    )
    assert case.source == Source.PROPOSAL
    assert case.responsible == department
    assert ResultCase.objects.get(case=case).result == accepted.result
    assert progress(accepted) == (0, "in_progress", "accepted")

    services.milestone_set_state(actor=department_staff, milestone=milestone, state="done")
    assert progress(accepted) == (50, "in_progress", "accepted")
    for step in (CaseStatus.ACKNOWLEDGED, CaseStatus.RESOLVED):
        case = case_transition(actor=department_staff, case=case, to=step)
    assert progress(accepted) == (100, "done", "implemented")
    assert notified("implemented", accepted) == {citizen.pk}

    case = case_transition(actor=department_staff, case=case, to=CaseStatus.REOPENED)
    assert progress(accepted) == (50, "in_progress", "accepted")
    accepted.refresh_from_db()
    assert accepted.implemented_at is None

    case_transition(actor=department_staff, case=case, to=CaseStatus.RESOLVED)
    assert progress(accepted) == (100, "done", "implemented")


def test_a_closed_task_case_counts_as_done(accepted, department_staff):
    case = services.result_open_case(
        actor=department_staff, proposal=accepted, title="任务", description="说明"
    )
    for step in (CaseStatus.ACKNOWLEDGED, CaseStatus.RESOLVED, CaseStatus.CLOSED):
        case = case_transition(actor=department_staff, case=case, to=step)
    assert progress(accepted) == (100, "done", "implemented")


def test_a_rejected_task_case_does_not_hold_the_implementation_back(accepted, department_staff):
    milestone = services.milestone_add(
        actor=department_staff, proposal=accepted, title="完成", due_on=PLAN_END
    )
    dropped = services.result_open_case(
        actor=department_staff, proposal=accepted, title="多余的任务", description="说明"
    )
    services.milestone_set_state(actor=department_staff, milestone=milestone, state="done")
    assert progress(accepted) == (50, "in_progress", "accepted")
    case_transition(actor=department_staff, case=dropped, to=CaseStatus.REJECTED, reason="不再需要")
    assert progress(accepted) == (100, "done", "implemented")


def test_a_case_that_is_no_task_does_not_touch_any_result(
    accepted, department, department_staff, service, station
):
    from governance.cases.services import case_open
    from tests.cases.factories import RoutingRuleFactory

    RoutingRuleFactory(name_zh="户籍业务", service=service, responsible=department)
    case = case_open(
        actor=department_staff,
        title="无关",
        description="与建议无关",
        service=service,
        station=station,
    )
    case_transition(actor=department_staff, case=case, to=CaseStatus.ACKNOWLEDGED)
    assert progress(accepted) == (0, "not_started", "accepted")
    assert Case.objects.filter(source=Source.PROPOSAL).count() == 0


def test_a_new_task_after_implementation_reopens_it(accepted, department_staff):
    milestone = services.milestone_add(
        actor=department_staff, proposal=accepted, title="完成", due_on=PLAN_END
    )
    services.milestone_set_state(actor=department_staff, milestone=milestone, state="done")
    assert progress(accepted)[2] == "implemented"
    services.result_open_case(
        actor=department_staff, proposal=accepted, title="补充任务", description="说明"
    )
    assert progress(accepted) == (50, "in_progress", "accepted")


def test_a_task_case_title_is_checked(accepted, department_staff):
    with pytest.raises(ValidationError) as error:
        services.result_open_case(
            actor=department_staff, proposal=accepted, title="", description="说明"
        )
    assert "title" in error.value.error_dict
    assert not Case.objects.exists()


def test_a_task_case_is_done_where_the_service_is_offered(accepted, department_staff, station):
    # The proposal names the service only; the service is offered at the mall station alone.
    assert accepted.station_id is None
    case = services.result_open_case(
        actor=department_staff, proposal=accepted, title="任务", description="说明"
    )
    assert case.station == station


def test_a_platform_proposals_task_must_name_its_service_and_station(
    propose, answer, department, department_staff, service, station, superuser, triage_org
):
    proposal = propose(scope=Scope.PLATFORM)
    services.proposal_route(actor=superuser, proposal=proposal, responsible=department)
    answer(proposal, "accepted")
    with pytest.raises(ValidationError) as error:
        services.result_open_case(
            actor=department_staff, proposal=proposal, title="任务", description="说明"
        )
    assert field_codes(error.value) == {"service": ["required"]}
    assert not Case.objects.exists()
    case = services.result_open_case(
        actor=department_staff,
        proposal=proposal,
        title="任务",
        description="说明",
        service=service,
    )
    assert (case.service, case.station, case.responsible) == (service, station, department)


# Other users -------------------------------------------------------------------------------------
def test_a_new_member_acts_at_once_and_a_revoked_one_not(proposal, department):
    person = UserFactory(email="new.staff@example.com")
    MembershipFactory(organisation=department, user=person, role=Membership.Role.STAFF)
    draft = services.answer_draft(
        actor=fresh(person), proposal=proposal, state="evaluating", text="评估"
    )
    Membership.objects.filter(user=person).delete()
    with pytest.raises(PermissionDenied):
        services.answer_publish(actor=fresh(person), answer=draft)


def test_a_closed_station_or_a_withdrawn_service_takes_no_new_proposal(propose, station, service):
    service.is_active = False
    service.save(update_fields=["is_active"])
    with pytest.raises(ValidationError) as error:
        propose()
    assert field_codes(error.value) == {"service": ["invalid_choice"]}
    station.is_active = False
    station.save(update_fields=["is_active"])
    with pytest.raises(ValidationError) as error:
        propose(scope=Scope.STATION, station=station)
    assert field_codes(error.value) == {"station": ["invalid_choice"]}
    assert not Proposal.objects.exists()
