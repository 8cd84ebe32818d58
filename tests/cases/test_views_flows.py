"""The reporter's and the staff's work on the case page: reopening and closing, following,
transitions and their refusals, replies and notes, assignment, routing, co-handlers, due
dates and attachments."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from governance.cases import services
from governance.cases.models import Case, CoHandler, Follower, Status, TimelineEntry
from tests.cases.conftest import drive
from tests.cases.test_attachments import PDF, image_bytes, upload
from tests.cases.test_views_pages import act_url, case_url
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def errors_of(response, key: str) -> str:
    """The messages of the form ``key`` on a refused page (its fields' and its own)."""
    form = response.context[f"{key}_form"]
    return " ".join(message for messages in form.errors.values() for message in messages)


def resolved(open_case, staff, *, days_ago: float, **kwargs) -> Case:
    case = drive(open_case(**kwargs), Status.RESOLVED, actor=staff)
    Case.objects.filter(pk=case.pk).update(resolved_at=timezone.now() - dt.timedelta(days=days_ago))
    return Case.objects.get(pk=case.pk)


# The reporter ----------------------------------------------------------------------------------
def test_reporter_reopens_within_seven_days(client, open_case, department_staff, citizen):
    case = resolved(open_case, department_staff, days_ago=6.9)
    client.force_login(citizen)
    assert 'id="reopen"' in client.get(case_url(case)).content.decode()
    response = client.post(act_url(case, "reopen"), {"reopen-reason": "照片还是模糊"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.REOPENED
    assert case.reopen_count == 1
    html = client.get(case_url(case)).content.decode()
    assert "事项已重开" in html  # the message
    assert "已重开" in html


def test_reporter_cannot_reopen_after_seven_days(client, open_case, department_staff, citizen):
    case = resolved(open_case, department_staff, days_ago=7.1)
    client.force_login(citizen)
    html = client.get(case_url(case)).content.decode()
    assert 'id="reopen"' not in html
    assert act_url(case, "close") in html  # closing is still theirs
    response = client.post(act_url(case, "reopen"), {"reopen-reason": "还是不行"})
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.status == Status.RESOLVED


def test_reopen_needs_a_reason(client, open_case, department_staff, citizen):
    case = resolved(open_case, department_staff, days_ago=1)
    client.force_login(citizen)
    response = client.post(act_url(case, "reopen"), {"reopen-reason": " "})
    assert response.status_code == 400
    assert "reason" in response.context["reopen_form"].errors
    assert Case.objects.get(pk=case.pk).status == Status.RESOLVED


def test_reporter_closes_a_resolved_case(client, open_case, department_staff, citizen):
    case = resolved(open_case, department_staff, days_ago=1)
    client.force_login(citizen)
    response = client.post(act_url(case, "close"))
    assert response.status_code == 302
    assert Case.objects.get(pk=case.pk).status == Status.CLOSED
    assert "事项已关闭" in client.get(case_url(case)).content.decode()


def test_reporter_cannot_close_an_open_case(client, open_case, citizen):
    case = open_case()
    client.force_login(citizen)
    assert act_url(case, "close") not in client.get(case_url(case)).content.decode()
    response = client.post(act_url(case, "close"))
    assert response.status_code in (400, 403)
    assert Case.objects.get(pk=case.pk).status == Status.NEW


def test_anonymous_visitor_is_not_offered_to_close_an_anonymous_report(
    client, open_case, department_staff
):
    case = resolved(open_case, department_staff, days_ago=1, actor=None)
    assert case.is_public
    assert case.reporter_id is None
    assert act_url(case, "close") not in client.get(case_url(case)).content.decode()


def test_follow_and_unfollow(client, open_case):
    case = open_case()
    reader = UserFactory(email="reader@example.com")
    client.force_login(reader)
    assert act_url(case, "follow") in client.get(case_url(case)).content.decode()
    assert client.post(act_url(case, "follow")).status_code == 302
    assert Follower.objects.filter(case=case, user=reader).exists()
    html = client.get(case_url(case)).content.decode()
    assert act_url(case, "unfollow") in html
    assert "已关注此事项" in html
    assert client.post(act_url(case, "follow")).status_code == 302  # twice is once
    assert Follower.objects.filter(case=case, user=reader).count() == 1
    assert client.post(act_url(case, "unfollow")).status_code == 302
    assert not Follower.objects.filter(case=case, user=reader).exists()


def test_reporter_adds_a_photo_which_stays_private(client, open_case, citizen, department_staff):
    case = open_case()
    client.force_login(citizen)
    response = client.post(
        act_url(case, "attachments"),
        {"attachment-file": upload("x.jpg", image_bytes(exif=True)), "attachment-is_public": "on"},
    )
    assert response.status_code == 302
    attachment = case.attachments.get()
    assert attachment.is_public  # the uploader chose so, on a public case
    assert attachment.uploaded_by == citizen


# Transitions ----------------------------------------------------------------------------------
def test_invalid_target_is_400_and_names_the_allowed_ones(client, open_case, department_staff):
    case = open_case()
    client.force_login(department_staff)
    response = client.post(act_url(case, "transition"), {"transition-to": Status.RESOLVED})
    assert response.status_code == 400
    assert Case.objects.get(pk=case.pk).status == Status.NEW
    message = errors_of(response, "transition")
    for allowed in ("已受理", "不予受理", "重复"):
        assert allowed in message


def test_invalid_target_is_400_and_changes_nothing(client, open_case, department_staff):
    case = open_case()
    client.force_login(department_staff)
    for target in (Status.RESOLVED, Status.CLOSED, "bogus"):
        response = client.post(act_url(case, "transition"), {"transition-to": target})
        assert response.status_code == 400
        assert errors_of(response, "transition")
    assert Case.objects.get(pk=case.pk).status == Status.NEW


def test_transition_on_a_case_that_just_ended_says_why(client, open_case, department_staff):
    case = open_case()
    client.force_login(department_staff)
    assert 'id="transition"' in client.get(case_url(case)).content.decode()
    drive(case, Status.REJECTED, actor=department_staff)  # meanwhile, a colleague rejects it
    response = client.post(act_url(case, "transition"), {"transition-to": Status.ACKNOWLEDGED})
    assert response.status_code == 400
    assert Case.objects.get(pk=case.pk).status == Status.REJECTED
    assert 'role="alert"' in response.content.decode()


def test_ended_case_offers_no_transition(client, open_case, department_staff):
    case = drive(open_case(), Status.REJECTED, actor=department_staff)
    client.force_login(department_staff)
    assert 'id="transition"' not in client.get(case_url(case)).content.decode()
    response = client.post(act_url(case, "transition"), {"transition-to": Status.ACKNOWLEDGED})
    assert response.status_code == 400
    assert Case.objects.get(pk=case.pk).status == Status.REJECTED


def test_acknowledge_then_resolve(client, open_case, department_staff, citizen):
    case = open_case()
    client.force_login(department_staff)
    for target in (Status.ACKNOWLEDGED, Status.RESOLVED):
        response = client.post(act_url(case, "transition"), {"transition-to": target})
        assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.RESOLVED
    client.force_login(citizen)
    html = client.get(case_url(case)).content.decode()
    assert "状态变为“已解决”" in html


def test_reject_needs_a_reason(client, open_case, department_staff, citizen):
    case = open_case()
    client.force_login(department_staff)
    response = client.post(act_url(case, "transition"), {"transition-to": Status.REJECTED})
    assert response.status_code == 400
    assert "不予受理必须说明理由" in errors_of(response, "transition")
    assert Case.objects.get(pk=case.pk).status == Status.NEW
    response = client.post(
        act_url(case, "transition"),
        {"transition-to": Status.REJECTED, "transition-reason": "不属于本站受理范围"},
    )
    assert response.status_code == 302
    client.force_login(citizen)
    assert "不属于本站受理范围" in client.get(case_url(case)).content.decode()


def test_duplicate_needs_a_known_reference(client, open_case, department_staff):
    original, case = open_case(), open_case()
    client.force_login(department_staff)
    for reference in ("", "CH-1999-000001", case.reference):
        response = client.post(
            act_url(case, "transition"),
            {"transition-to": Status.DUPLICATE, "transition-duplicate_of": reference},
        )
        assert response.status_code == 400, reference
        assert errors_of(response, "transition"), reference
    assert "没有找到这个事项编号" in errors_of(
        client.post(
            act_url(case, "transition"),
            {"transition-to": Status.DUPLICATE, "transition-duplicate_of": "CH-1999-000001"},
        ),
        "transition",
    )
    assert Case.objects.get(pk=case.pk).status == Status.NEW
    response = client.post(
        act_url(case, "transition"),
        {"transition-to": Status.DUPLICATE, "transition-duplicate_of": original.reference.lower()},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.duplicate_of == original
    html = client.get(case_url(case)).content.decode()
    assert f"与事项 {original.reference} 重复" in html


def test_duplicate_of_a_case_i_cannot_see_is_refused(
    client, open_case, department_staff, other_service
):
    hidden = open_case(actor=None, service=other_service, is_public=False)
    case = open_case()
    client.force_login(department_staff)
    response = client.post(
        act_url(case, "transition"),
        {"transition-to": Status.DUPLICATE, "transition-duplicate_of": hidden.reference},
    )
    assert response.status_code == 400
    assert Case.objects.get(pk=case.pk).status == Status.NEW


# Replies and notes ----------------------------------------------------------------------------
def test_reply_and_note_appear_in_the_timeline(client, open_case, department_staff, citizen):
    case = open_case()
    client.force_login(department_staff)
    assert client.post(act_url(case, "reply"), {"reply-body": "已安排重拍"}).status_code == 302
    assert client.post(act_url(case, "note"), {"note-body": "设备镜头脏"}).status_code == 302
    html = client.get(case_url(case)).content.decode()
    assert "已安排重拍" in html
    assert "设备镜头脏" in html
    assert str(department_staff) in html  # the staff see who wrote
    for reader in (citizen, None):
        client.logout()
        if reader:
            client.force_login(reader)
        html = client.get(case_url(case)).content.decode()
        assert "已安排重拍" in html
        assert "设备镜头脏" not in html
        assert str(department_staff) not in html


def test_empty_reply_is_400(client, open_case, department_staff):
    case = open_case()
    client.force_login(department_staff)
    response = client.post(act_url(case, "reply"), {"reply-body": "   "})
    assert response.status_code == 400
    assert response.context["failed"] == "reply"
    assert not case.timeline.filter(kind=TimelineEntry.Kind.REPLY).exists()


def test_html_in_a_reply_is_shown_escaped(client, open_case, department_staff):
    case = open_case()
    client.force_login(department_staff)
    client.post(act_url(case, "reply"), {"reply-body": "<script>alert(3)</script>"})
    assert case.timeline.get(kind=TimelineEntry.Kind.REPLY).body == "<script>alert(3)</script>"
    html = client.get(case_url(case)).content.decode()
    assert "<script>alert(3)</script>" not in html
    assert "&lt;script&gt;alert(3)&lt;/script&gt;" in html


# Assignment ------------------------------------------------------------------------------------
def test_assign_only_to_acting_members_of_the_responsible_organisation(
    client,
    open_case,
    department_admin,
    department_staff,
    department_viewer,
    other_department_staff,
):
    case = open_case()
    client.force_login(department_admin)
    html = client.get(case_url(case)).content.decode()
    assert f'<option value="{department_staff.pk}"' in html
    assert f'<option value="{department_viewer.pk}"' not in html
    for outsider in (department_viewer, other_department_staff):
        response = client.post(act_url(case, "assign"), {"assign-assignee": outsider.pk})
        assert response.status_code == 400
        assert "assignee" in response.context["assign_form"].errors
        assert Case.objects.get(pk=case.pk).assignee is None
    response = client.post(act_url(case, "assign"), {"assign-assignee": department_staff.pk})
    assert response.status_code == 302
    assert Case.objects.get(pk=case.pk).assignee == department_staff
    assert client.post(act_url(case, "assign"), {"assign-assignee": ""}).status_code == 302
    assert Case.objects.get(pk=case.pk).assignee is None


# Routing --------------------------------------------------------------------------------------
@pytest.fixture
def triage_case(open_case, lost_item, triage_org):
    return open_case(actor=None, service=None, category=lost_item, is_public=False)


def test_triager_routes_a_waiting_case(client, triage_case, triager, department):
    client.force_login(triager)
    html = client.get(case_url(triage_case)).content.decode()
    assert 'id="route"' in html
    # In triage only rejecting or marking a duplicate: no acknowledging before it is routed.
    transitions = client.get(case_url(triage_case)).context["transition_form"]
    assert {value for value, _ in transitions.fields["to"].choices} == {
        Status.REJECTED,
        Status.DUPLICATE,
    }
    response = client.post(
        act_url(triage_case, "route"), {"route-responsible": "hukou", "route-note": "户籍问题"}
    )
    assert response.status_code == 302
    triage_case.refresh_from_db()
    assert triage_case.responsible == department
    assert triage_case.routing == Case.Routing.MANUAL
    # Routed, it left the triage queue: the triager no longer handles it.
    response = client.post(act_url(triage_case, "route"), {"route-responsible": "traffic"})
    assert response.status_code == 404


def test_after_routing_a_private_case_the_triager_lands_on_a_page_they_may_see(
    client, triage_case, triager, department
):
    client.force_login(triager)
    response = client.post(act_url(triage_case, "route"), {"route-responsible": "hukou"})
    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 200


def test_route_to_the_same_organisation_is_400(client, open_case, department_staff):
    case = open_case()
    client.force_login(department_staff)
    response = client.post(act_url(case, "route"), {"route-responsible": "hukou"})
    assert response.status_code == 400
    assert "responsible" in response.context["route_form"].errors
    response = client.post(act_url(case, "route"), {"route-responsible": "nowhere"})
    assert response.status_code == 400


def test_handler_passes_a_case_on(client, open_case, department_staff, other_department):
    case = open_case()
    client.force_login(department_staff)
    response = client.post(act_url(case, "route"), {"route-responsible": "traffic"})
    assert response.status_code == 302
    assert Case.objects.get(pk=case.pk).responsible == other_department
    # A public case: still visible, no longer handled.
    assert 'id="transition"' not in client.get(case_url(case)).content.decode()


# Co-handlers ----------------------------------------------------------------------------------
def test_cohandler_added_assigned_and_done(
    client, open_case, department_staff, other_partner, other_partner_admin
):
    case = open_case(is_public=False)
    client.force_login(other_partner_admin)
    assert client.get(case_url(case)).status_code == 404

    client.force_login(department_staff)
    response = client.post(
        act_url(case, "cohandlers"),
        {"cohandler-organisation": "bank", "cohandler-task": "查询转账记录"},
    )
    assert response.status_code == 302
    cohandler = CoHandler.objects.get(case=case)
    assert cohandler.organisation == other_partner
    html = client.get(case_url(case)).content.decode()
    assert 'data-organisation="bank"' in html
    assert "查询转账记录" in html
    again = client.post(
        act_url(case, "cohandlers"), {"cohandler-organisation": "bank", "cohandler-task": "再来"}
    )
    assert again.status_code == 400
    assert CoHandler.objects.filter(case=case).count() == 1

    # The co-handling organisation now sees the case and runs its task.
    client.force_login(other_partner_admin)
    html = client.get(case_url(case)).content.decode()
    assert case_url(case, "cohandlers", str(cohandler.pk), "assign") in html
    assert 'id="transition"' not in html
    base = case_url(case, "cohandlers", str(cohandler.pk))
    prefix = f"task-{cohandler.pk}"
    assert (
        client.post(f"{base}assign/", {f"{prefix}-assignee": department_staff.pk}).status_code
        == 400
    )
    response = client.post(f"{base}assign/", {f"{prefix}-assignee": other_partner_admin.pk})
    assert response.status_code == 302
    assert client.post(f"{base}done/", {f"done-{cohandler.pk}-note": " "}).status_code == 400
    response = client.post(f"{base}done/", {f"done-{cohandler.pk}-note": "流水已提供"})
    assert response.status_code == 302
    cohandler.refresh_from_db()
    assert cohandler.assignee == other_partner_admin
    assert cohandler.state == CoHandler.State.DONE
    html = client.get(case_url(case)).content.decode()
    assert "完成协办任务" in html
    assert "流水已提供" in html
    # Done is done.
    response = client.post(f"{base}done/", {f"done-{cohandler.pk}-note": "再完成一次"})
    assert response.status_code == 400


def test_cohandler_due_date_in_the_past_is_400(client, open_case, department_staff, other_partner):
    case = open_case()
    client.force_login(department_staff)
    past = (timezone.localtime() - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        act_url(case, "cohandlers"),
        {"cohandler-organisation": "bank", "cohandler-task": "协助", "cohandler-due_at": past},
    )
    assert response.status_code == 400
    assert "due_at" in response.context["cohandler_form"].errors
    assert not CoHandler.objects.filter(case=case).exists()


# Due dates ------------------------------------------------------------------------------------
def test_due_change_needs_a_reason(client, open_case, department_staff, citizen):
    case = open_case()
    before = case.resolve_due_at
    later = timezone.localtime() + dt.timedelta(days=30)
    client.force_login(department_staff)
    data = {"due-deadline": "resolve", "due-due_at": later.strftime("%Y-%m-%dT%H:%M")}
    response = client.post(act_url(case, "due"), data)
    assert response.status_code == 400
    assert "reason" in response.context["due_form"].errors
    assert Case.objects.get(pk=case.pk).resolve_due_at == before
    response = client.post(act_url(case, "due"), {**data, "due-reason": "等待配件到货"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.resolve_due_at.replace(second=0, microsecond=0) == later.replace(
        second=0, microsecond=0
    )
    client.force_login(citizen)
    html = client.get(case_url(case)).content.decode()
    assert "办结时限调整" in html
    assert "等待配件到货" in html


def test_due_before_the_case_was_opened_is_400(client, open_case, department_staff):
    case = open_case()
    client.force_login(department_staff)
    response = client.post(
        act_url(case, "due"),
        {"due-deadline": "resolve", "due-due_at": "2001-01-01T10:00", "due-reason": "试试"},
    )
    assert response.status_code == 400
    assert "due_at" in response.context["due_form"].errors


# Attachments on the page ------------------------------------------------------------------------
def test_attachment_refusals(client, open_case, department_staff):
    from governance.cases import attachments

    case = open_case()
    client.force_login(department_staff)
    url = act_url(case, "attachments")
    big = PDF + b"0" * attachments.MAX_BYTES
    assert client.post(url, {"attachment-file": upload("big.pdf", big)}).status_code == 413
    evil = client.post(url, {"attachment-file": upload("evil.png", b"<svg onload=alert(1)>")})
    assert evil.status_code == 400
    assert "只能上传" in errors_of(evil, "attachment")
    assert client.post(url, {}).status_code == 400
    assert not case.attachments.exists()
    for number in range(5):
        assert (
            client.post(url, {"attachment-file": upload(f"{number}.pdf", PDF)}).status_code == 302
        )
    sixth = client.post(url, {"attachment-file": upload("6.pdf", PDF)})
    assert sixth.status_code == 400
    assert "最多 5 个" in sixth.content.decode()
    assert case.attachments.count() == 5


def test_closed_case_takes_no_more_work(client, open_case, department_staff, citizen):
    case = drive(open_case(), Status.CLOSED, actor=department_staff)
    client.force_login(department_staff)
    html = client.get(case_url(case)).content.decode()
    for form in ("assign", "cohandler", "due", "attachment", "route"):
        assert f'id="{form}"' not in html
    response = client.post(act_url(case, "assign"), {"assign-assignee": department_staff.pk})
    assert response.status_code == 400
    response = client.post(act_url(case, "attachments"), {"attachment-file": upload("a.pdf", PDF)})
    assert response.status_code == 400
    assert not case.attachments.exists()
    services_case = Case.objects.get(pk=case.pk)
    assert services_case.assignee is None
    # Reopening is still the handlers'.
    response = client.post(act_url(case, "transition"), {"transition-to": Status.REOPENED})
    assert response.status_code == 302
    assert Case.objects.get(pk=case.pk).status == Status.REOPENED
    assert services.allowed_transitions(Case.objects.get(pk=case.pk))
