"""The partners wing's Celery tasks, run in-process: the invitation e-mail (sent once the
invitation commits, with the link only the e-mail carries; nothing for an invitation that is no
longer open), the daily agreement reminders (idempotent: a rerun tells nobody twice), and their
place in beat's schedule."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from celery.schedules import crontab
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from governance.celery import app
from governance.notifications.models import Notification
from partners import services, tasks
from tests.factories import UserFactory
from tests.partners.conftest import frozen_at
from tests.partners.fixtures_domain import *  # noqa: F403

pytestmark = pytest.mark.django_db


@pytest.fixture
def enqueued(monkeypatch):
    """What ``send_invitation.delay`` was handed (the broker is not part of these tests)."""
    calls: list[tuple] = []
    monkeypatch.setattr(tasks.send_invitation, "delay", lambda *args: calls.append(args))
    return calls


@pytest.fixture
def invitation(partner, partner_admin, enqueued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return services.invitation_send(
            actor=partner_admin, organisation=partner, email="new.staff@example.com", role="staff"
        )


def test_the_task_is_enqueued_on_commit_with_plain_arguments(invitation, enqueued):
    made, token = invitation
    assert enqueued == [(made.pk, token)]
    assert json.loads(json.dumps(enqueued[0])) == [made.pk, token]


def test_the_invitation_email_carries_the_link_and_the_inviter(
    invitation, enqueued, settings, partner_admin
):
    settings.SITE_URL = "https://gongzhi.example.cn/"
    made, token = invitation
    assert tasks.send_invitation.apply(args=enqueued[0]).get() is True
    [message] = mail.outbox
    link = "https://gongzhi.example.cn" + reverse("partners:invitation", args=[token])
    assert link in message.body
    assert message.to == ["new.staff@example.com"]
    assert message.subject == "邀请您加入万象城"
    assert str(partner_admin) in message.body
    expires = timezone.localtime(made.expires_at)
    assert f"{expires:%Y-%m-%d %H:%M}" in message.body


def test_a_rerun_for_an_accepted_invitation_sends_nothing(invitation, enqueued):
    _made, token = invitation
    services.invitation_accept(actor=UserFactory(email="new.staff@example.com"), token=token)
    assert tasks.send_invitation.apply(args=enqueued[0]).get() is False
    assert mail.outbox == []


def test_an_expired_invitation_is_not_sent(invitation, enqueued, monkeypatch):
    made, _token = invitation
    later = made.expires_at + dt.timedelta(minutes=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert tasks.send_invitation.apply(args=enqueued[0]).get() is False
    assert mail.outbox == []


def test_an_unknown_invitation_is_not_sent():
    assert tasks.send_invitation.apply(args=(999_999, "x" * 43)).get() is False
    assert mail.outbox == []


def test_the_invitation_task_retries_and_survives_a_lost_worker():
    task = tasks.send_invitation
    assert task.name == "partners.send_invitation"
    assert task.acks_late is True
    assert task.reject_on_worker_lost is True
    assert task.max_retries == 8
    assert Exception in task.autoretry_for


def test_the_reminder_task_runs_the_sweep_once_per_agreement(agreement, partner_admin):
    agreement(ends_on=timezone.localdate() + dt.timedelta(days=40))
    agreement(ends_on=timezone.localdate() + dt.timedelta(days=7))
    assert tasks.agreements_remind.apply().get() == {"reminded_60": 1, "reminded_14": 1}
    assert tasks.agreements_remind.apply().get() == {"reminded_60": 0, "reminded_14": 0}
    told = Notification.objects.filter(
        event_type="partners.agreement_expiring", recipient=partner_admin
    )
    assert told.count() == 2


def test_the_reminder_task_reads_the_services_clock(agreement):
    made = agreement(ends_on=timezone.localdate() + dt.timedelta(days=100))
    moment = timezone.now() + dt.timedelta(days=50)
    with frozen_at(moment):
        assert tasks.agreements_remind.apply().get() == {"reminded_60": 1, "reminded_14": 0}
    made.refresh_from_db()
    assert made.reminded_60_at == moment


def test_beat_runs_the_reminders_every_morning():
    entry = app.conf.beat_schedule["partners-agreements-remind"]
    assert entry["task"] == tasks.agreements_remind.name == "partners.agreements_remind"
    assert entry["schedule"] == crontab(hour=8, minute=30)
    assert entry["options"]["expires"] <= 24 * 3600
