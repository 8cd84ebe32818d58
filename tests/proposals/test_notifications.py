"""Who hears of what happens to a proposal, and what they read: the recipients of every event
type the app registers (author, supporters, followers, the answering department's staff or
admins; never the person who caused the event), and the e-mails and inbox lines rendered from
``templates/notifications/proposals.*/``."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.template.loader import get_template
from django.utils import timezone, translation

from governance.notifications import registry
from governance.notifications import services as notification_services
from governance.notifications.channels import render_line, render_notification
from governance.notifications.models import Delivery, Notification
from governance.proposals import services
from governance.proposals.events import ProposalPublished
from tests.proposals.conftest import PLAN_END, notifications, notified, shifted

pytestmark = pytest.mark.django_db

CODES = (
    "proposals.published",
    "proposals.threshold_reached",
    "proposals.commented",
    "proposals.answered",
    "proposals.milestone_reached",
    "proposals.implemented",
    "proposals.answer_due_soon",
    "proposals.answer_overdue",
)
TEMPLATE_FILES = ("subject.txt", "body.txt", "body.html", "line.txt")


# The registry ------------------------------------------------------------------------------------
def test_every_event_type_is_registered():
    codes = {event_type.code for event_type in registry.all_types()}
    assert set(CODES) <= codes
    assert {code for code in codes if code.startswith("proposals.")} == set(CODES)
    assert registry.for_event(
        ProposalPublished(proposal_id=1, title="t", responsible_id=None)
    ) is registry.get("proposals.published")


@pytest.mark.parametrize("code", CODES)
@pytest.mark.parametrize("name", TEMPLATE_FILES)
def test_every_event_type_has_each_template(code, name):
    assert get_template(f"{registry.get(code).template_dir}/{name}")


@pytest.mark.parametrize("code", CODES)
def test_nobody_is_told_of_what_they_did_themselves(code):
    assert registry.get(code).skip_actor is True
    assert registry.get(code).security is False


# Who is told -------------------------------------------------------------------------------------
@pytest.fixture
def involved(proposal, people, other_citizen):
    """Two supporters and a follower of the citizen's proposal; the follower also supports."""
    supporters = people(2, prefix="supporter")
    for user in supporters:
        services.proposal_support(actor=user, proposal=proposal)
    services.proposal_follow(actor=other_citizen, proposal=proposal)
    return {"supporters": {user.pk for user in supporters}, "follower": other_citizen.pk}


def test_publication_tells_the_answering_departments_acting_staff(
    propose, citizen, department_admin, department_staff, department_viewer, other_department_staff
):
    proposal = propose()
    assert notified("published", proposal) == {department_admin.pk, department_staff.pk}


def test_a_proposal_waiting_at_the_triage_desk_tells_the_desk(
    propose, station, triage_org, triager
):
    from governance.proposals.models import Scope

    proposal = propose(scope=Scope.STATION, station=station)
    assert notified("published", proposal) == {triager.pk}


def test_an_unrouted_proposal_tells_nobody_and_still_publishes(propose, station):
    from governance.proposals.models import Scope

    proposal = propose(scope=Scope.STATION, station=station)
    assert proposal.status == "published"
    assert notifications("published") == 0


def test_the_threshold_tells_the_department_and_the_author_not_the_supporters(
    proposal, involved, settings, people, citizen, department_admin, department_staff
):
    settings.PROPOSALS_SUPPORT_THRESHOLD = 3
    [third] = people(1, prefix="third")
    services.proposal_support(actor=third, proposal=proposal)
    assert notified("threshold_reached", proposal) == {
        citizen.pk,
        department_admin.pk,
        department_staff.pk,
    }


def test_when_the_author_tips_the_threshold_only_the_department_hears(
    proposal, involved, settings, citizen, department_staff
):
    settings.PROPOSALS_SUPPORT_THRESHOLD = 3
    services.proposal_support(actor=citizen, proposal=proposal)
    assert notified("threshold_reached", proposal) == {department_staff.pk}


def test_a_comment_tells_the_author_and_followers_not_the_commenter(
    proposal, involved, people, citizen, other_citizen
):
    [commenter] = people(1, prefix="commenter")
    services.comment_add(actor=commenter, proposal=proposal, body="赞成")
    # Supporters do not follow by supporting; the follower and the author hear of it.
    assert notified("commented", proposal) == {citizen.pk, other_citizen.pk}


def test_a_reply_tells_the_author_of_the_comment_replied_to(
    proposal, people, citizen, other_citizen
):
    [first, replier] = people(2, prefix="commenter")
    top = services.comment_add(actor=first, proposal=proposal, body="我有个问题")
    services.proposal_unfollow(actor=first, proposal=proposal)
    Notification.objects.all().delete()
    services.comment_add(actor=replier, proposal=proposal, body="我来回答", parent=top)
    assert notified("commented", proposal) == {citizen.pk, first.pk}


def test_the_author_commenting_is_not_told_of_it(proposal, citizen, other_citizen):
    services.proposal_follow(actor=other_citizen, proposal=proposal)
    services.comment_add(actor=citizen, proposal=proposal, body="补充说明")
    assert notified("commented", proposal) == {other_citizen.pk}


def test_a_deactivated_follower_is_not_told(proposal, other_citizen, people):
    services.proposal_follow(actor=other_citizen, proposal=proposal)
    other_citizen.is_active = False
    other_citizen.save()
    [commenter] = people(1)
    services.comment_add(actor=commenter, proposal=proposal, body="x")
    assert other_citizen.pk not in notified("commented", proposal)


def test_an_answer_tells_the_author_supporters_and_followers(
    proposal, involved, answer, citizen, department_staff, department_admin
):
    answer(proposal, "rejected", text="不采纳")
    expected = {citizen.pk, involved["follower"], *involved["supporters"]}
    assert notified("answered", proposal) == expected
    assert department_staff.pk not in expected


def test_milestones_and_implementation_tell_everyone_involved(
    proposal, involved, answer, department_staff, citizen
):
    answer(proposal, "accepted")
    milestone = services.milestone_add(
        actor=department_staff, proposal=proposal, title="完成改造", due_on=PLAN_END
    )
    services.milestone_set_state(actor=department_staff, milestone=milestone, state="done")
    expected = {citizen.pk, involved["follower"], *involved["supporters"]}
    assert notified("milestone_reached", proposal) == expected
    assert notified("implemented", proposal) == expected


def test_reminders_tell_the_staff_then_the_admins_once_each(
    proposal, settings, support, department_admin, department_staff, department_viewer
):
    settings.PROPOSALS_SUPPORT_THRESHOLD = 1
    support(proposal, 1)
    with shifted(dt.timedelta(days=26)):
        assert services.answers_sweep() == {"due_soon": 1, "overdue": 0}
        assert services.answers_sweep() == {"due_soon": 0, "overdue": 0}
    assert notified("answer_due_soon", proposal) == {department_admin.pk, department_staff.pk}
    with shifted(dt.timedelta(days=31)):
        assert services.answers_sweep() == {"due_soon": 0, "overdue": 1}
        assert services.answers_sweep() == {"due_soon": 0, "overdue": 0}
    assert notified("answer_overdue", proposal) == {department_admin.pk}
    assert notifications("answer_due_soon") == 2
    assert notifications("answer_overdue") == 1


# What they read ----------------------------------------------------------------------------------
def _rendered(code: str, recipient_id: int | None = None):
    qs = Notification.objects.filter(event_type=f"proposals.{code}").select_related("recipient")
    if recipient_id is not None:
        qs = qs.filter(recipient_id=recipient_id)
    notification = qs.first()
    assert notification is not None, code
    with translation.override("zh-hans"):
        message = render_notification(notification, notification.recipient)
        line = render_line(notification, "zh-hans")
    for text in (message.subject, message.text, message.html, line):
        assert "{%" not in text
        assert "{{" not in text
    return notification, message, line


@pytest.fixture
def everything(department_admin, department_staff, proposal, involved, settings, people, answer):
    """Every event of the proposals app, once: published, threshold, a comment and a reply,
    evaluating then accepted, a milestone done (implemented), due soon and overdue for a
    second proposal."""
    settings.PROPOSALS_SUPPORT_THRESHOLD = 3
    [third, commenter] = people(2, prefix="late")
    services.proposal_support(actor=third, proposal=proposal)
    top = services.comment_add(actor=commenter, proposal=proposal, body="第一行\n第二行")
    services.comment_add(actor=proposal.author, proposal=proposal, body="谢谢支持", parent=top)
    answer(proposal, "evaluating", text="评估中")
    answer(proposal, "accepted")
    milestone = services.milestone_add(
        actor=department_staff, proposal=proposal, title="增设周末窗口", due_on=PLAN_END
    )
    services.milestone_set_state(actor=department_staff, milestone=milestone, state="done")
    return {"commenter": commenter}


def test_each_event_renders_an_email_and_an_inbox_line_in_chinese(everything, proposal):
    for code in (c.removeprefix("proposals.") for c in CODES[:6]):
        notification, message, line = _rendered(code)
        assert proposal.title in message.subject
        assert proposal.title in message.text
        assert proposal.title in message.html
        assert proposal.title in line
        assert f"/proposals/{proposal.pk}/" in message.text
        assert notification.url == f"/proposals/{proposal.pk}/"


def test_the_threshold_mail_gives_the_due_date_in_local_time(proposal, support, settings):
    settings.PROPOSALS_SUPPORT_THRESHOLD = 1
    support(proposal, 1)
    proposal.refresh_from_db()
    due = timezone.localtime(proposal.answer_due_at)
    _notification, message, line = _rendered("threshold_reached")
    stamp = f"{due:%Y-%m-%d %H:%M}"
    assert stamp in message.text
    assert stamp in line


def test_the_comment_mail_quotes_the_comment_and_says_when_it_is_a_reply(
    everything, proposal, citizen
):
    commenter = everything["commenter"]
    _notification, to_author, _line = _rendered("commented", citizen.pk)
    assert "第一行" in to_author.text
    assert "第一行<br>第二行" in to_author.html
    _notification, to_commenter, _line = _rendered("commented", commenter.pk)
    assert "回复了你" in to_commenter.text
    assert "谢谢支持" in to_commenter.text


def test_the_answer_mail_names_the_verdict(everything):
    states = {
        n.payload["state"]: n for n in Notification.objects.filter(event_type="proposals.answered")
    }
    assert set(states) == {"evaluating", "accepted"}
    with translation.override("zh-hans"):
        accepted = render_notification(states["accepted"], states["accepted"].recipient)
        evaluating = render_line(states["evaluating"], "zh-hans")
    assert "采纳" in accepted.text
    assert "评估中" in evaluating


def test_the_milestone_mail_gives_the_milestone_and_the_progress(everything):
    _notification, message, line = _rendered("milestone_reached")
    assert "增设周末窗口" in message.text
    assert "100%" in message.text
    assert "100%" in line


def test_the_reminders_render_with_their_due_date(
    department_admin, department_staff, proposal, support, settings
):
    settings.PROPOSALS_SUPPORT_THRESHOLD = 1
    support(proposal, 1)
    proposal.refresh_from_db()
    stamp = f"{timezone.localtime(proposal.answer_due_at):%Y-%m-%d %H:%M}"
    with shifted(dt.timedelta(days=26)):
        services.answers_sweep()
    with shifted(dt.timedelta(days=31)):
        services.answers_sweep()
    for code in ("answer_due_soon", "answer_overdue"):
        _notification, message, line = _rendered(code)
        assert stamp in message.text
        assert stamp in line
        assert proposal.title in message.subject


def test_a_title_with_markup_is_escaped_in_the_html_mail(propose, department_staff):
    propose(title='<script>alert("x")</script>周末')
    _notification, message, line = _rendered("published", department_staff.pk)
    assert "<script>" not in message.html
    assert "&lt;script&gt;" in message.html
    # Plain text stays plain: no HTML entities in the subject, the text or the inbox line.
    assert '<script>alert("x")</script>周末' in message.subject
    assert "&lt;" not in message.text
    assert "&lt;" not in line


def test_immediate_mails_reach_the_outbox(
    proposal, involved, answer, citizen, django_capture_on_commit_callbacks, monkeypatch
):
    sent: list[list[int]] = []
    monkeypatch.setattr(
        notification_services, "enqueue_deliveries", lambda ids, **kw: sent.append(list(ids))
    )
    with django_capture_on_commit_callbacks(execute=True):
        answer(proposal, "rejected", text="不采纳：场地不足。")
    ids = [pk for batch in sent for pk in batch]
    assert set(
        Delivery.objects.filter(pk__in=ids).values_list("notification__recipient", flat=True)
    ) == {citizen.pk, involved["follower"], *involved["supporters"]}
    notification_services.deliveries_send(ids)
    subjects = {(message.to[0], message.subject) for message in mail.outbox}
    assert (citizen.email, f"建议收到正式答复：{proposal.title}") in subjects


def test_a_refused_action_notifies_nobody(proposal, citizen, other_citizen):
    from django.core.exceptions import ValidationError

    services.proposal_withdraw(actor=citizen, proposal=proposal)
    before = Notification.objects.count()
    with pytest.raises(ValidationError):
        services.proposal_support(actor=other_citizen, proposal=proposal)
    assert Notification.objects.count() == before
