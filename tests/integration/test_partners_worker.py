"""The partners wing's tasks in a real ``celery worker`` process: the invitation e-mail goes out
once the invitation commits, and the daily agreement reminders run through the task, tell the
admins of both sides by e-mail, and tell nobody twice.

Real parts: the PostgreSQL test database, a ``redis-server`` of the tests' own as the broker
(emptied first, so the worker consumes only what these tests publish), a worker subprocess, and
Django's file e-mail backend, whose files are parsed.
"""

from __future__ import annotations

import datetime as dt
from email.header import decode_header, make_header
from pathlib import Path

import pytest
from django.utils import timezone

from governance.notifications.models import Delivery, Notification
from partners import services, tasks
from partners.models import Agreement
from tests.integration.conftest import SITE, read_mail_folder, wait_for
from tests.partners.fixtures_domain import agreement  # noqa: F401  (a fixture)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def messages(mail_dir: Path) -> list:
    found, truncated = read_mail_folder(mail_dir)
    assert truncated == 0
    return found


def header(message, name: str) -> str:
    return str(make_header(decode_header(message[name])))


def text_of(message) -> str:
    if message.is_multipart():
        return next(
            part.get_payload(decode=True).decode()
            for part in message.walk()
            if part.get_content_type() == "text/plain"
        )
    return message.get_payload(decode=True).decode()


def test_the_invitation_email_is_sent_by_the_worker_after_commit(
    worker, mail_dir, partner, partner_admin
):
    invitation, token = services.invitation_send(
        actor=partner_admin, organisation=partner, email="new.staff@example.com", role="staff"
    )
    found = wait_for(lambda: messages(mail_dir), timeout=60)
    assert found, worker.read_text()[-3000:]
    [message] = found
    assert header(message, "To") == "new.staff@example.com"
    assert header(message, "Subject") == "邀请您加入万象城"
    body = text_of(message)
    assert f"{SITE}/partners/invitations/{token}/" in body
    assert invitation.token_hash not in body
    # The worker read the committed row; the token exists nowhere but in the e-mail.
    assert services.invitation_for_token(token) == invitation


def test_a_revoked_invitation_is_not_sent_by_the_worker(worker, mail_dir, partner, partner_admin):
    invitation, token = services.invitation_send(
        actor=partner_admin, organisation=partner, email="late@example.com", role="staff"
    )
    # Revoked before the worker runs the task again (a retry, a late worker): nothing more.
    wait_for(lambda: messages(mail_dir), timeout=60)
    services.invitation_revoke(actor=partner_admin, invitation=invitation)
    tasks.send_invitation.delay(invitation.pk, token)
    log_lines = lambda: worker.read_text().count("partners.send_invitation") >= 4  # noqa: E731
    wait_for(log_lines, timeout=30)
    assert len(messages(mail_dir)) == 1


def test_agreement_reminders_run_through_the_task_and_reach_both_sides_once(
    worker,
    mail_dir,
    agreement,  # noqa: F811
    partner_admin,
    partner_staff,
    department_admin,
    department_staff,
):
    soon = agreement(ends_on=timezone.localdate() + dt.timedelta(days=30))
    tasks.agreements_remind.delay()

    def reminded():
        return Agreement.objects.filter(pk=soon.pk, reminded_60_at__isnull=False).exists()

    assert wait_for(reminded, timeout=60), worker.read_text()[-3000:]
    told = Notification.objects.filter(event_type="partners.agreement_expiring")
    assert set(told.values_list("recipient_id", flat=True)) == {
        partner_admin.pk,
        department_admin.pk,
    }

    def delivered():
        return Delivery.objects.filter(state=Delivery.State.SENT).count() >= 2

    assert wait_for(delivered, timeout=60), worker.read_text()[-3000:]
    found = messages(mail_dir)
    assert sorted(header(message, "To") for message in found) == sorted(
        [partner_admin.email, department_admin.email]
    )
    assert {header(message, "Subject") for message in found} == {
        "合作协议 30 天后到期：警务服务站合作备忘录"
    }

    # A second run (beat fires again, a retry) tells nobody twice.
    tasks.agreements_remind.delay()
    ran_twice = lambda: worker.read_text().count("partners.agreements_remind") >= 4  # noqa: E731
    assert wait_for(ran_twice, timeout=60), worker.read_text()[-3000:]
    assert told.count() == 2
    assert len(messages(mail_dir)) == 2
