"""The feedback wing's Celery tasks, run in-process (the task functions themselves): the
rectification case opened after the commit, the re-rating e-mail, the sweep that catches what a
lost message left undone; and the whole bad-rating loop through the pages, from the QR code to
the re-rating, with the case's timeline telling every step."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from feedback import services, tasks, tokens
from feedback.models import Appeal, Feedback
from governance.cases import services as case_services
from governance.cases.models import Case, Status, TimelineEntry
from governance.celery import app
from governance.notifications.models import Notification
from tests.feedback.fixtures import *  # noqa: F403  (the fixtures)
from tests.feedback.fixtures import CONTACT_EMAIL, fresh, new_key

pytestmark = pytest.mark.django_db


def resolve(case, actor):
    for step in (Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.RESOLVED):
        case = case_services.case_transition(actor=actor, case=case, to=step)
    return case


def age(feedback, minutes: int) -> None:
    Feedback.objects.filter(pk=feedback.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=minutes)
    )


# open_rectification ---------------------------------------------------------------------------
def test_open_rectification_returns_the_reference_and_is_idempotent(rate_visit, routing):
    rating = rate_visit(1)

    first = tasks.open_rectification(rating.pk)
    second = tasks.open_rectification(rating.pk)

    assert first == second == Case.objects.get().reference
    rating.refresh_from_db()
    assert rating.case.reference == first


def test_open_rectification_of_a_good_rating_does_nothing(rate_visit):
    assert tasks.open_rectification(rate_visit(4).pk) is None
    assert not Case.objects.exists()


def test_the_tasks_are_reliable():
    for task in (tasks.open_rectification, tasks.mail_rerate_link):
        assert task.acks_late is True
        assert task.max_retries
        assert Exception in task.autoretry_for
    assert tasks.sweep.acks_late is True


def test_the_sweep_is_scheduled_every_two_minutes():
    entry = app.conf.beat_schedule["feedback-sweep"]
    assert entry["task"] == "feedback.sweep"
    assert entry["schedule"] == 120.0
    assert tasks.sweep.name in app.tasks


# mail_rerate_link -------------------------------------------------------------------------------
def test_the_rerate_mail_is_sent_once(rate_visit, routing, department_staff, lost_messages):
    rating = rate_visit(2, contact_email=CONTACT_EMAIL)
    resolve(services.rectification_open(feedback_id=rating.pk), department_staff)

    assert tasks.mail_rerate_link(rating.pk) is True
    assert tasks.mail_rerate_link(rating.pk) is False

    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "你的差评已整改，欢迎再次评价"
    rating.refresh_from_db()
    assert rating.rater_told_at is not None


def test_no_mail_before_the_rectification_or_without_an_address(rate_visit, routing):
    unrectified = rate_visit(1, contact_email=CONTACT_EMAIL)
    no_address = rate_visit(1)
    Feedback.objects.filter(pk=no_address.pk).update(rectified_at=timezone.now())
    assert tasks.mail_rerate_link(unrectified.pk) is False
    assert tasks.mail_rerate_link(no_address.pk) is False
    assert tasks.mail_rerate_link(987654) is False
    assert mail.outbox == []


# sweep -------------------------------------------------------------------------------------------
def test_the_sweep_opens_the_cases_a_lost_message_left_unopened(
    rate_visit, routing, lost_messages, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        old, fresh_one, good = rate_visit(1), rate_visit(2), rate_visit(5)
    assert [name for name, _pk in lost_messages] == ["feedback.open_rectification"] * 2
    age(old, 3)
    age(good, 3)

    assert tasks.sweep() == {"opened": 1, "failed": 0, "told": 0}

    old.refresh_from_db()
    fresh_one.refresh_from_db()
    assert old.case is not None
    assert fresh_one.case is None  # still within the grace: its message may yet arrive
    age(fresh_one, 3)
    assert tasks.sweep() == {"opened": 1, "failed": 0, "told": 0}
    assert tasks.sweep() == {"opened": 0, "failed": 0, "told": 0}
    assert Case.objects.count() == 2


def test_the_sweep_mails_the_raters_a_lost_message_left_untold(
    rate_visit, routing, department_staff, lost_messages, django_capture_on_commit_callbacks
):
    rating = rate_visit(1, contact_email=CONTACT_EMAIL)
    case = services.rectification_open(feedback_id=rating.pk)
    with django_capture_on_commit_callbacks(execute=True):
        resolve(case, department_staff)
    assert ("feedback.mail_rerate_link", rating.pk) in lost_messages
    assert mail.outbox == []

    assert tasks.sweep() == {"opened": 0, "failed": 0, "told": 1}
    assert len(mail.outbox) == 1
    assert tasks.sweep() == {"opened": 0, "failed": 0, "told": 0}
    assert len(mail.outbox) == 1


def test_the_sweep_skips_excluded_ratings_and_station_ratings(rate_visit, station, routing):
    excluded = rate_visit(1)
    Feedback.objects.filter(pk=excluded.pk).update(excluded=True)
    age(excluded, 10)
    station_only = services.feedback_submit(
        actor=None, kind="online_rating", level=1, station=station
    )
    age(station_only, 10)
    assert tasks.sweep() == {"opened": 0, "failed": 0, "told": 0}
    assert not Case.objects.exists()


# The whole loop through the pages ----------------------------------------------------------------
def test_the_bad_rating_loop_from_the_qr_code_to_the_rerating(
    client,
    make_visit,
    routing,
    department,
    department_staff,
    run_tasks,
    django_capture_on_commit_callbacks,
    settings,
):
    settings.SITE_URL = "https://gongzhi.example.cn"
    visit = make_visit()
    rate_url = reverse("feedback:rate", args=[tokens.visit_token(visit)])

    # 1. An anonymous visitor scans the code and rates 非常不满意, leaving an e-mail address.
    client.get(rate_url)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            rate_url,
            {
                "level": "1",
                "reasons": ["waiting_time", "attitude"],
                "comment": "排队一个小时",
                "contact_email": CONTACT_EMAIL,
                "idempotency_key": new_key(),
            },
        )
    assert response.status_code == 302
    rating = Feedback.objects.get()
    assert run_tasks == [("feedback.open_rectification", rating.pk)]

    # 2. The rectification case is hukou's, private, due by its (default) working days.
    case = rating.case
    assert case.responsible == department
    assert case.is_public is False
    assert rating.return_visit_due_at == case.acknowledge_due_at
    staff = fresh(department_staff)
    assert staff.has_perm("cases.view_case_contact", case)

    # 3. Staff call back (the return visit) and record it on the case.
    case_services.case_record_contact(
        actor=staff, case=case, channel="email", body="已邮件致歉，增开一个窗口"
    )

    # 4. Staff resolve the case; the rater gets the re-rating link by e-mail.
    with django_capture_on_commit_callbacks(execute=True):
        resolve(case, staff)
    assert ("feedback.mail_rerate_link", rating.pk) in run_tasks
    (message,) = mail.outbox
    assert message.to == [CONTACT_EMAIL]
    link = re.search(r"https://gongzhi\.example\.cn(/feedback/rerate/\S+/)", message.body).group(1)

    # 5. The rater re-rates once; the original stays.
    page = client.get(link)
    assert page.status_code == 200
    assert client.post(link, {"level": "4", "comment": "好多了"}).status_code == 302
    assert client.post(link, {"level": "1"}).status_code == 400
    rating.refresh_from_db()
    assert (rating.level, rating.rerating_level, rating.rerating_comment) == (1, 4, "好多了")

    # 6. A second scan still shows the original rating.
    assert "非常不满意" in client.get(rate_url).content.decode()

    # 7. The case's timeline tells every step.
    kinds = list(case.timeline.order_by("created_at", "pk").values_list("kind", flat=True))
    assert kinds[0] == TimelineEntry.Kind.OPENED
    assert TimelineEntry.Kind.CONTACT in kinds
    assert kinds.count(TimelineEntry.Kind.STATUS) == 3
    assert kinds[-1] == TimelineEntry.Kind.NOTE
    assert "好多了" in case.timeline.order_by("created_at", "pk").last().body


def test_a_signed_in_rater_follows_the_case_and_is_notified(
    client,
    make_visit,
    routing,
    citizen,
    department_staff,
    run_tasks,
    django_capture_on_commit_callbacks,
):
    visit = make_visit()
    client.force_login(citizen)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("feedback:rate", args=[tokens.visit_token(visit)]),
            {"level": "2", "idempotency_key": new_key()},
        )
    rating = Feedback.objects.get()
    case_page = client.get(reverse("cases:detail", args=[rating.case.reference]))
    assert case_page.status_code == 200  # the rater follows their private case

    with django_capture_on_commit_callbacks(execute=True):
        resolve(rating.case, fresh(department_staff))

    notice = Notification.objects.get(recipient=citizen, event_type="feedback.rectified")
    assert mail.outbox == []  # told by notification, not by the re-rating e-mail
    assert client.get(notice.url).status_code == 200
    assert client.post(notice.url, {"level": "5"}).status_code == 302
    rating.refresh_from_db()
    assert rating.rerating_level == 5


def test_an_upheld_appeal_is_on_the_cases_timeline_and_keeps_the_rating(
    rate_visit, routing, department_staff, department_admin, delivered
):
    rating = rate_visit(1, comment="恶意")
    case = services.rectification_open(feedback_id=rating.pk)
    rating.refresh_from_db()
    appeal = services.appeal_file(actor=fresh(department_staff), feedback=rating, reason="恶意差评")
    services.appeal_decide(actor=fresh(department_admin), appeal=appeal, upheld=True, note="成立")

    bodies = list(
        case.timeline.filter(kind=TimelineEntry.Kind.NOTE)
        .order_by("created_at", "pk")
        .values_list("body", flat=True)
    )
    assert len(bodies) == 2
    assert "恶意差评" in bodies[0]
    assert "成立" in bodies[1]
    assert Feedback.objects.filter(pk=rating.pk, excluded=True).exists()
    assert Appeal.objects.get().status == Appeal.Status.UPHELD
