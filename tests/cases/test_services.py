"""The case lifecycle through the services: numbering, every allowed and refused transition,
reasons, duplicates, reopening, on-time recording, assignment, co-handlers, replies and notes."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Q
from django.utils import timezone, translation

from governance.cases import services
from governance.cases.models import (
    Attachment,
    Case,
    CaseSequence,
    Follower,
    Source,
    Status,
    TimelineEntry,
)
from governance.cases.services import TRANSITIONS
from governance.notifications.models import Notification
from governance.stakeholders.models import Membership
from tests.cases.conftest import at, drive
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PAIRS = [(before, after) for before in Status.values for after in Status.values]


# Opening and numbering ----------------------------------------------------------------------
def test_opened_case_has_a_readable_reference_and_its_reporter_follows_it(open_case, citizen):
    case = open_case(opened_at=at(2026, 11, 23))
    second = open_case(opened_at=at(2026, 11, 23, 11))
    assert re.fullmatch(r"CH-2026-\d{6}", case.reference)
    assert int(second.reference[-6:]) == int(case.reference[-6:]) + 1
    assert case.status == Status.NEW
    assert list(case.followers.all()) == [citizen]
    assert [entry.kind for entry in case.timeline.all()] == ["opened", "routed"]


def test_numbers_start_again_each_year_in_shanghai_time(open_case):
    # 31 December 2025, 23:30 in Shanghai is still 2025 there (15:30 UTC).
    late = open_case(opened_at=at(2025, 12, 31, 23, 30))
    early = open_case(opened_at=at(2026, 1, 1, 0, 30))
    assert late.reference == "CH-2025-000001"
    assert early.reference.startswith("CH-2026-")


def test_prefix_is_a_setting(open_case, settings):
    settings.CASES_REFERENCE_PREFIX = "GZ"
    assert open_case().reference.startswith("GZ-")


def test_refused_report_draws_no_number_and_leaves_nothing(open_case, citizen):
    with pytest.raises(ValidationError):
        open_case(title="")
    assert not Case.objects.exists()
    assert CaseSequence.objects.filter(last__gt=0).count() == 0


def test_case_needs_a_service_or_category_and_a_place(open_case):
    with pytest.raises(ValidationError) as info:
        open_case(service=None, station=None)
    assert set(info.value.message_dict) >= {"category", "address"}


def test_anonymous_report_keeps_its_contact_and_has_no_follower(open_case):
    case = open_case(actor=None, contact_name="王女士", contact_phone="13800138000")
    assert case.reporter is None
    assert case.contact_phone == "13800138000"
    assert not case.followers.exists()


def test_citizen_cannot_claim_a_staff_source(open_case):
    with pytest.raises(PermissionDenied):
        open_case(source="staff")


def test_opening_tells_the_responsible_departments_staff(open_case, department_staff):
    case = open_case()
    notice = Notification.objects.get(event_type="cases.opened")
    assert notice.recipient == department_staff
    assert notice.payload["reference"] == case.reference


# The state machine --------------------------------------------------------------------------
@pytest.mark.parametrize(("before", "after"), PAIRS)
def test_every_transition_is_allowed_or_refused_as_the_table_says(
    open_case, department_staff, before, after
):
    original = open_case(title="原事项")
    case = drive(open_case(), before, actor=department_staff, original=original)
    assert case.status == before
    allowed = after in TRANSITIONS[before]
    kwargs = {
        "actor": department_staff,
        "case": case,
        "to": after,
        "reason": "重复提交" if after == Status.REJECTED else "",
        "duplicate_of": original if after == Status.DUPLICATE else None,
    }
    if allowed:
        moved = services.case_transition(**kwargs)
        assert moved.status == after
        entry = moved.timeline.filter(kind="status").last()
        assert entry.data["from"] == before
        assert entry.data["to"] == after
        assert entry.actor == department_staff
    else:
        with pytest.raises(ValidationError) as info:
            services.case_transition(**kwargs)
        assert Case.objects.get(pk=case.pk).status == before
        message = info.value.messages[0]
        for status in TRANSITIONS[before]:
            assert str(Status(status).label) in message


def test_refusal_names_the_allowed_next_statuses_in_each_language(open_case, department_staff):
    case = open_case()
    with translation.override("zh-hans"), pytest.raises(ValidationError) as info:
        services.case_transition(actor=department_staff, case=case, to=Status.RESOLVED)
    assert info.value.messages == [
        "事项不能从“待受理”变为“已解决”；可以变为：已受理、不予受理、重复。"
    ]


def test_final_statuses_say_so(open_case, department_staff):
    case = drive(open_case(), Status.REJECTED, actor=department_staff)
    with pytest.raises(ValidationError, match="已经办结"):
        services.case_transition(actor=department_staff, case=case, to=Status.ACKNOWLEDGED)


def test_rejection_needs_a_reason(open_case, department_staff):
    case = open_case()
    with pytest.raises(ValidationError) as info:
        services.case_transition(actor=department_staff, case=case, to=Status.REJECTED, reason=" ")
    assert "reason" in info.value.message_dict
    rejected = services.case_transition(
        actor=department_staff, case=case, to=Status.REJECTED, reason="不属于本站受理范围"
    )
    assert rejected.rejection_reason == "不属于本站受理范围"
    assert rejected.timeline.get(kind="status").body == "不属于本站受理范围"


def test_duplicate_needs_an_original_that_is_not_itself_nor_a_duplicate(
    open_case, department_staff
):
    first, second, third = open_case(), open_case(), open_case()
    with pytest.raises(ValidationError, match="原事项"):
        services.case_transition(actor=department_staff, case=first, to=Status.DUPLICATE)
    with pytest.raises(ValidationError, match="自身"):
        services.case_transition(
            actor=department_staff, case=first, to=Status.DUPLICATE, duplicate_of=first
        )
    services.case_transition(
        actor=department_staff, case=second, to=Status.DUPLICATE, duplicate_of=first
    )
    with pytest.raises(ValidationError, match=first.reference):
        services.case_transition(
            actor=department_staff, case=third, to=Status.DUPLICATE, duplicate_of=second
        )


def test_duplicate_moves_its_followers_to_the_original(open_case, department_staff, citizen):
    neighbour = UserFactory(email="neighbour@example.com")
    original = open_case(actor=neighbour)
    duplicate = open_case()
    services.case_follow(actor=neighbour, case=duplicate)
    bystander = UserFactory(email="bystander@example.com")
    services.case_follow(actor=bystander, case=duplicate)

    services.case_transition(
        actor=department_staff, case=duplicate, to=Status.DUPLICATE, duplicate_of=original
    )

    assert not Follower.objects.filter(case=duplicate).exists()
    assert set(original.followers.all()) == {neighbour, citizen, bystander}
    told = Notification.objects.filter(event_type="cases.status_changed")
    assert {n.recipient for n in told} == {neighbour, citizen, bystander}
    assert told.first().payload["duplicate_of_reference"] == original.reference


def test_only_handlers_change_the_status(open_case, citizen, other_department_staff):
    case = open_case()
    for outsider in (citizen, other_department_staff, None):
        with pytest.raises(PermissionDenied):
            services.case_transition(actor=outsider, case=case, to=Status.ACKNOWLEDGED)


# Reopening ----------------------------------------------------------------------------------
def _resolved(open_case, staff, *, days_ago: float):
    case = drive(open_case(), Status.RESOLVED, actor=staff)
    Case.objects.filter(pk=case.pk).update(resolved_at=timezone.now() - dt.timedelta(days=days_ago))
    return Case.objects.get(pk=case.pk)


def test_reporter_reopens_within_seven_days_of_resolution(open_case, department_staff, citizen):
    case = _resolved(open_case, department_staff, days_ago=6.9)
    reopened = services.case_transition(
        actor=citizen, case=case, to=Status.REOPENED, reason="问题没有解决"
    )
    assert reopened.status == Status.REOPENED
    assert reopened.reopen_count == 1
    assert reopened.resolved_at is None
    assert reopened.resolve_due_at > timezone.now()


def test_reporter_cannot_reopen_after_seven_days_but_staff_can(
    open_case, department_staff, citizen
):
    case = _resolved(open_case, department_staff, days_ago=7.1)
    with pytest.raises(PermissionDenied, match="7"):
        services.case_transition(actor=citizen, case=case, to=Status.REOPENED)
    assert services.case_transition(actor=department_staff, case=case, to=Status.REOPENED)


def test_reporter_cannot_reopen_a_closed_case_nor_someone_elses(
    open_case, department_staff, citizen
):
    closed = drive(open_case(), Status.CLOSED, actor=department_staff)
    with pytest.raises(PermissionDenied):
        services.case_transition(actor=citizen, case=closed, to=Status.REOPENED)
    other = UserFactory(email="other@example.com")
    case = _resolved(open_case, department_staff, days_ago=1)
    with pytest.raises(PermissionDenied):
        services.case_transition(actor=other, case=case, to=Status.REOPENED)


def test_reporter_may_close_their_resolved_case(open_case, department_staff, citizen):
    case = drive(open_case(), Status.RESOLVED, actor=department_staff)
    assert services.case_transition(actor=citizen, case=case, to=Status.CLOSED).closed_at


# On time or late ----------------------------------------------------------------------------
def test_acknowledgement_and_first_resolution_record_on_time_or_late(open_case, department_staff):
    # Opened Monday 23 November 2026 09:00: acknowledge by Tuesday 10:00 (8 working hours),
    # resolve by Monday 30 November 17:30 (5 working days).
    case = open_case(opened_at=at(2026, 11, 23, 9))
    case = services.case_transition(
        actor=department_staff, case=case, to=Status.ACKNOWLEDGED, at=at(2026, 11, 24, 9, 59)
    )
    assert case.acknowledged_on_time is True
    case = services.case_transition(
        actor=department_staff, case=case, to=Status.RESOLVED, at=at(2026, 11, 30, 17, 31)
    )
    assert case.resolved_on_time is False
    assert case.timeline.filter(kind="status").last().data["on_time"] is False
    # A second resolution after reopening does not change the first verdict.
    case = services.case_transition(
        actor=department_staff, case=case, to=Status.REOPENED, at=at(2026, 12, 1, 9)
    )
    case = services.case_transition(
        actor=department_staff, case=case, to=Status.RESOLVED, at=at(2026, 12, 1, 10)
    )
    assert case.resolved_on_time is False
    assert case.first_resolved_at == at(2026, 11, 30, 17, 31)


# Triage -------------------------------------------------------------------------------------
def test_triage_case_must_be_routed_before_it_is_acknowledged(
    open_case, lost_item, triager, department, department_staff
):
    case = open_case(service=None, category=lost_item)
    assert case.responsible is None
    with pytest.raises(ValidationError, match="分拨队列"):
        services.case_transition(actor=triager, case=case, to=Status.ACKNOWLEDGED)
    case = services.case_route(actor=triager, case=case, responsible=department)
    assert case.routing == Case.Routing.MANUAL
    # Once routed, the case has left the triage queue and the triager's hands.
    with pytest.raises(PermissionDenied):
        services.case_route(actor=triager, case=case, responsible=department)
    assert services.case_transition(actor=department_staff, case=case, to=Status.ACKNOWLEDGED)


def test_triager_may_reject_a_case_in_the_queue(open_case, lost_item, triager):
    case = open_case(service=None, category=lost_item)
    rejected = services.case_transition(
        actor=triager, case=case, to=Status.REJECTED, reason="恶意提交"
    )
    assert rejected.status == Status.REJECTED


# Assignment, co-handlers, replies, notes, due dates -------------------------------------------
def test_assignee_must_act_for_the_responsible_organisation(
    open_case, department_admin, department_staff, department_viewer, other_department_staff
):
    case = open_case()
    for wrong in (department_viewer, other_department_staff):
        with pytest.raises(ValidationError):
            services.case_assign(actor=department_admin, case=case, assignee=wrong)
    case = services.case_assign(actor=department_admin, case=case, assignee=department_staff)
    assert case.assignee == department_staff
    assert Notification.objects.get(event_type="cases.assigned").recipient == department_staff
    assert case.timeline.get(kind="assigned").data == {"from": None, "to": department_staff.pk}


def test_cohandler_gets_a_task_and_may_reply_and_note_but_not_change_status(
    open_case, department_staff, partner, partner_staff, partner_admin
):
    case = open_case()
    due = timezone.now() + dt.timedelta(days=3)
    cohandler = services.case_add_cohandler(
        actor=department_staff,
        case=case,
        organisation=partner,
        task="检查二楼自助机的照明",
        assignee=partner_staff,
        due_at=due,
    )
    assert cohandler.due_at == due
    told = Notification.objects.filter(event_type="cases.cohandler_added")
    assert {n.recipient for n in told} == {partner_staff, partner_admin}
    with pytest.raises(ValidationError):
        services.case_add_cohandler(
            actor=department_staff, case=case, organisation=partner, task="again"
        )
    services.case_reply(actor=partner_staff, case=case, body="已安排检修。")
    services.case_note(actor=partner_staff, case=case, body="备件周三到。")
    with pytest.raises(PermissionDenied):
        services.case_transition(actor=partner_staff, case=case, to=Status.ACKNOWLEDGED)
    public = case.timeline.filter(kind="reply").get()
    note = case.timeline.filter(kind="note").get()
    assert public.is_public
    assert not note.is_public


def test_public_reply_tells_the_followers_not_the_author(open_case, department_staff, citizen):
    case = open_case()
    services.case_follow(actor=department_staff, case=case)
    services.case_reply(actor=department_staff, case=case, body="已收到，正在处理。")
    told = Notification.objects.filter(event_type="cases.replied")
    assert [n.recipient for n in told] == [citizen]


def test_empty_reply_is_refused(open_case, department_staff):
    with pytest.raises(ValidationError):
        services.case_reply(actor=department_staff, case=open_case(), body="  ")


def test_citizen_cannot_write_internal_notes(open_case, citizen):
    with pytest.raises(PermissionDenied):
        services.case_note(actor=citizen, case=open_case(), body="内部")


def test_due_date_change_needs_a_reason_and_is_recorded(open_case, department_staff):
    case = open_case()
    later = case.resolve_due_at + dt.timedelta(days=5)
    with pytest.raises(ValidationError):
        services.case_set_due(actor=department_staff, case=case, due_at=later, reason="")
    case = services.case_set_due(
        actor=department_staff, case=case, due_at=later, reason="需要外单位配合调查"
    )
    assert case.resolve_due_at == later
    entry = case.timeline.get(kind="due_changed")
    assert entry.body == "需要外单位配合调查"
    assert entry.is_public
    assert entry.data["to"] == later.isoformat()


def test_follow_needs_sign_in_and_sight_of_the_case(open_case, citizen, other_department_staff):
    private = open_case(is_public=False)
    with pytest.raises(PermissionDenied):
        services.case_follow(actor=other_department_staff, case=private)
    assert services.case_follow(actor=citizen, case=private)
    services.case_unfollow(actor=citizen, case=private)
    assert not private.followers.exists()


def test_every_change_is_a_timeline_entry_with_actor_and_time(open_case, department_staff):
    case = open_case()
    case = drive(case, Status.RESOLVED, actor=department_staff)
    services.case_note(actor=department_staff, case=case, body="已电话回访")
    entries = list(case.timeline.all())
    assert [e.kind for e in entries] == [
        "opened",
        "routed",
        "status",
        "status",
        "status",
        "note",
    ]
    assert all(e.created_at for e in entries)
    assert all(e.actor == department_staff for e in entries[2:])
    assert TimelineEntry.objects.filter(Q(case=case) & Q(actor__isnull=True)).count() == 1


# Review fixes ---------------------------------------------------------------------------------
def test_private_case_news_skips_followers_who_can_no_longer_see_it(
    open_case, department, department_staff, department_viewer, citizen
):
    case = open_case(is_public=False)
    services.case_follow(actor=department_viewer, case=case)
    Membership.objects.filter(user=department_viewer, organisation=department).delete()
    services.case_transition(actor=department_staff, case=case, to=Status.ACKNOWLEDGED)
    told = Notification.objects.filter(event_type="cases.status_changed")
    assert {n.recipient for n in told} == {citizen}


def test_duplicate_moves_to_a_private_original_only_those_who_may_see_it(
    open_case, department_staff, department_viewer, citizen
):
    original = open_case(is_public=False, actor=department_staff)
    duplicate = open_case()
    services.case_follow(actor=department_viewer, case=duplicate)
    bystander = UserFactory(email="bystander@example.com")
    services.case_follow(actor=bystander, case=duplicate)
    services.case_transition(
        actor=department_staff, case=duplicate, to=Status.DUPLICATE, duplicate_of=original
    )
    # The citizen reported the duplicate only; the viewer sits in the responsible department.
    assert set(original.followers.all()) == {department_staff, department_viewer}


def test_anonymous_caller_is_not_the_system(open_case, facility):
    for source in (Source.FEEDBACK, Source.PROPOSAL, Source.STAFF, Source.PARTNER):
        with pytest.raises(PermissionDenied):
            open_case(actor=None, source=source)
    assert open_case(actor=None, source=Source.OPEN311).source == Source.OPEN311
    case = open_case(actor=None, source=Source.FEEDBACK, system=True)
    assert case.source == Source.FEEDBACK
    assert case.reporter is None


def test_acknowledgement_deadline_cannot_move_once_acknowledged(open_case, department_staff):
    case = open_case(opened_at=at(2026, 11, 23, 9))
    case = services.case_transition(
        actor=department_staff, case=case, to=Status.ACKNOWLEDGED, at=at(2026, 11, 24, 12)
    )
    assert case.acknowledged_on_time is False
    with pytest.raises(ValidationError) as refused:
        services.case_set_due(
            actor=department_staff,
            case=case,
            due_at=at(2026, 11, 25, 12),
            reason="补记",
            deadline="acknowledge",
        )
    assert refused.value.error_dict["deadline"][0].code == "already_acknowledged"
    case.refresh_from_db()
    assert case.acknowledge_due_at == at(2026, 11, 24, 10)


def test_status_change_cannot_be_dated_before_the_last_one(open_case, department_staff):
    case = open_case(opened_at=at(2026, 11, 23, 9))
    case = services.case_transition(
        actor=department_staff, case=case, to=Status.ACKNOWLEDGED, at=at(2026, 11, 24, 9)
    )
    with pytest.raises(ValidationError) as refused:
        services.case_transition(
            actor=department_staff, case=case, to=Status.RESOLVED, at=at(2026, 11, 23, 12)
        )
    assert refused.value.code == "before_last_change"


def test_opening_and_transitions_run_a_bounded_number_of_queries(
    open_case, department_staff, django_assert_max_num_queries
):
    open_case()  # warm the caches every request has warm (content types, the calendar)
    # Before the review: 48 queries to open, 43 to acknowledge (a SELECT per foreign key,
    # unique field and check constraint in full_clean).
    with django_assert_max_num_queries(19):
        case = open_case()
    with django_assert_max_num_queries(16):
        case = services.case_transition(actor=department_staff, case=case, to=Status.ACKNOWLEDGED)
    with django_assert_max_num_queries(17):
        services.case_transition(actor=department_staff, case=case, to=Status.RESOLVED)


def test_reference_is_drawn_in_one_statement(django_assert_num_queries):
    with django_assert_num_queries(1):
        first = services.next_reference(at=at(2030, 3, 1))
    with django_assert_num_queries(1):
        second = services.next_reference(at=at(2030, 3, 2))
    assert (first, second) == ("CH-2030-000001", "CH-2030-000002")
    assert CaseSequence.objects.get(prefix="CH", year=2030).last == 2


def test_rerouting_tells_the_new_organisation_the_case_was_passed_on(
    open_case, lost_item, triager, other_department, other_department_staff
):
    case = open_case(service=None, category=lost_item)
    Notification.objects.all().delete()
    services.case_route(actor=triager, case=case, responsible=other_department)
    assert not Notification.objects.filter(event_type="cases.opened").exists()
    routed = Notification.objects.get(event_type="cases.routed")
    assert routed.recipient == other_department_staff
    assert routed.payload["previous_responsible_id"] is None


def test_finished_case_takes_no_assignee_and_no_attachment(
    open_case, department_admin, department_staff, citizen
):
    case = drive(open_case(), Status.REJECTED, actor=department_staff)
    with pytest.raises(ValidationError) as refused:
        services.case_assign(actor=department_admin, case=case, assignee=department_staff)
    assert refused.value.code == "not_open"
    pdf = SimpleUploadedFile("a.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
    with pytest.raises(ValidationError) as refused:
        services.case_attach(actor=citizen, case=case, upload=pdf)
    assert refused.value.code == "not_open"
    assert not Attachment.objects.exists()


def test_reporters_upload_is_private_unless_said_otherwise(open_case, citizen):
    case = open_case()
    pdf = SimpleUploadedFile("a.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
    attachment = services.case_attach(actor=citizen, case=case, upload=pdf)
    assert attachment.is_public is False
    assert case.timeline.get(kind="attachment").is_public is False
