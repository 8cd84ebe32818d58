"""Every action of the case page for every role: the permitted ones change the case and come
back to its page, the refused ones answer 403 (404 where the case is invisible, the sign-in
page for anonymous visitors) and change nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from governance.cases import services
from governance.cases.models import Attachment, Case, CoHandler, Follower, Status, TimelineEntry
from tests.cases.conftest import drive
from tests.cases.test_attachments import PDF, upload
from tests.cases.test_views_pages import act_url, case_url, fresh, may, sign_in
from tests.permission_table import ROLES

pytestmark = pytest.mark.django_db


def _later() -> str:
    return (timezone.localtime() + dt.timedelta(days=20)).strftime("%Y-%m-%dT%H:%M")


# action: (permission, the case it acts on, the form's data)
ACTIONS = {
    "reply": ("cases.reply_case", lambda w: {"reply-body": "已联系窗口，明天重拍。"}),
    "note": ("cases.note_case", lambda w: {"note-body": "窗口说设备已报修。"}),
    "attachments": ("cases.attach_case", lambda w: {"attachment-file": upload("a.pdf", PDF)}),
    "assign": ("cases.handle_case", lambda w: {"assign-assignee": w["department_staff"].pk}),
    "route": ("cases.handle_case", lambda w: {"route-responsible": "traffic", "route-note": "转"}),
    "cohandlers": (
        "cases.handle_case",
        lambda w: {"cohandler-organisation": "bank", "cohandler-task": "查询流水"},
    ),
    "due": (
        "cases.handle_case",
        lambda w: {"due-deadline": "resolve", "due-due_at": _later(), "due-reason": "等待配件"},
    ),
    "transition": ("cases.handle_case", lambda w: {"transition-to": Status.ACKNOWLEDGED}),
    "follow": ("cases.follow_case", lambda w: {}),
    # Recording a call to the reporter: those who may see the contact, the reporter excepted.
    "contact": ("contact", lambda w: {"contact-channel": "phone", "contact-body": "已电话回访"}),
}
RESOLVED_ACTIONS = {
    "reopen": ("cases.reopen_case", lambda w: {"reopen-reason": "照片还是模糊"}),
    "close": (None, lambda w: {}),
}


@pytest.fixture
def actors(department_staff, other_department, other_partner, partner, citizen):
    return {"department_staff": department_staff}


@pytest.fixture
def cases(open_case, department_staff, partner):
    """A public case and a private one shared with the mall; a resolved public one."""

    def make(kind: str) -> Case:
        if kind == "public":
            return open_case()
        if kind == "shared":
            case = open_case(is_public=False)
            services.case_add_cohandler(
                actor=department_staff, case=case, organisation=partner, task="调取监控"
            )
            return Case.objects.get(pk=case.pk)
        return drive(open_case(), Status.RESOLVED, actor=department_staff)

    return make


def _state(case: Case) -> tuple:
    case = Case.objects.get(pk=case.pk)
    return (
        case.status,
        case.responsible_id,
        case.assignee_id,
        case.resolve_due_at,
        TimelineEntry.objects.filter(case=case).count(),
        Attachment.objects.filter(case=case).count(),
        CoHandler.objects.filter(case=case).count(),
        Follower.objects.filter(case=case).count(),
    )


def _check(client, role, user, case, action, permission, data):
    before = _state(case)
    is_reporter = user.is_authenticated and case.reporter_id == user.pk
    if permission is None:  # closing: the handlers, or the reporter of a resolved case
        allowed = may(user, "cases.handle_case", case) or is_reporter
    elif permission == "contact":
        allowed = may(user, "cases.view_case_contact", case) and not is_reporter
    else:
        allowed = may(user, permission, case)
    visible = may(user, "cases.view_case", case)
    if action == "follow" and role != "anonymous":
        Follower.objects.filter(case=case, user=user).delete()
        before = _state(case)
    response = client.post(act_url(case, action), data)
    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
        assert _state(case) == before
        return
    if not visible:
        assert response.status_code == 404, (role, action)
        assert _state(case) == before
        return
    if allowed:
        assert response.status_code == 302, (role, action, response.content[:3000])
        # Routing a private case away takes it out of the router's sight: back to the queue.
        still_visible = may(fresh(user), "cases.view_case", Case.objects.get(pk=case.pk))
        expected = case_url(case) if still_visible else reverse("cases:queue")
        assert response["Location"] == expected, (role, action)
        assert _state(case) != before, (role, action)
    else:
        assert response.status_code == 403, (role, action, response.status_code)
        assert _state(case) == before, (role, action)


@pytest.mark.parametrize("kind", ["public", "shared"])
@pytest.mark.parametrize("action", [a for a in ACTIONS if a != "transition"])
@pytest.mark.parametrize("role", ROLES)
def test_action_for_each_role(request, client, actors, cases, role, action, kind):
    case = cases(kind)
    user = sign_in(client, request, role)
    permission, data = ACTIONS[action]
    _check(client, role, fresh(user), case, action, permission, data(actors))


# A refused transition should be a 403 like every other refused action.


@pytest.mark.parametrize("kind", ["public", "shared"])
@pytest.mark.parametrize("role", ROLES)
def test_transition_for_each_role(request, client, actors, cases, role, kind):
    case = cases(kind)
    user = fresh(sign_in(client, request, role))
    permission, data = ACTIONS["transition"]
    _check(client, role, user, case, "transition", permission, data(actors))


@pytest.mark.parametrize("action", list(RESOLVED_ACTIONS))
@pytest.mark.parametrize("role", ROLES)
def test_resolved_case_action_for_each_role(request, client, actors, cases, role, action):
    case = cases("resolved")
    user = sign_in(client, request, role)
    permission, data = RESOLVED_ACTIONS[action]
    _check(client, role, fresh(user), case, action, permission, data(actors))


@pytest.mark.parametrize("role", ROLES)
def test_unfollow_for_each_role(request, client, cases, role):
    case = cases("public")
    user = sign_in(client, request, role)
    response = client.post(act_url(case, "unfollow"))
    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
        return
    assert response.status_code == 302
    assert not Follower.objects.filter(case=case, user=user).exists()


@pytest.mark.parametrize("role", ROLES)
def test_cohandler_task_for_each_role(request, client, cases, role, partner_staff):
    case = cases("shared")
    cohandler = case.cohandlers.get()
    user = fresh(sign_in(client, request, role))
    base = case_url(case, "cohandlers", str(cohandler.pk))
    visible = may(user, "cases.view_case", case)
    allowed = may(user, "cases.handle_cohandler", cohandler)

    assign = client.post(f"{base}assign/", {f"task-{cohandler.pk}-assignee": partner_staff.pk})
    done = client.post(f"{base}done/", {f"done-{cohandler.pk}-note": "监控已调取"})
    cohandler.refresh_from_db()
    if role == "anonymous":
        assert assign.status_code == done.status_code == 302
        assert assign["Location"].startswith("/accounts/login/")
    elif not visible:
        assert assign.status_code == done.status_code == 404
    elif allowed:
        assert assign.status_code == done.status_code == 302
        assert cohandler.assignee_id == partner_staff.pk
        assert cohandler.state == CoHandler.State.DONE
        return
    else:
        assert assign.status_code == done.status_code == 403
    assert cohandler.assignee_id is None
    assert cohandler.state == CoHandler.State.OPEN
