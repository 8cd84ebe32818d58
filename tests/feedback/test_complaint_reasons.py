"""A complaint may say why, with the reasons an unhappy rater ticks; the needs radar counts
them beside bad ratings' (``feedback.complaint``)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from feedback import services
from feedback.models import Feedback, Kind
from governance.radar import registry

pytestmark = pytest.mark.django_db


def test_a_complaint_keeps_its_reasons(service, citizen):
    complaint = services.feedback_submit(
        actor=citizen,
        kind=Kind.COMPLAINT,
        text="周六下午排队两个小时，窗口只开了一个。",
        reasons=["waiting_time", "waiting_time", "facilities"],
        service=service,
    )
    assert complaint.reasons == ["waiting_time", "facilities"]


def test_a_complaint_refuses_praise_or_unknown_reasons_and_writes_nothing(service):
    for reasons in (["friendly"], ["gossip"]):
        with pytest.raises(ValidationError) as excinfo:
            services.feedback_submit(
                actor=None, kind=Kind.COMPLAINT, text="排队太久", reasons=reasons, service=service
            )
        assert "reasons" in excinfo.value.message_dict
    assert not Feedback.objects.exists()


def test_suggestions_and_praise_carry_no_reasons(service):
    suggestion = services.feedback_submit(
        actor=None,
        kind=Kind.SUGGESTION,
        text="希望周末开放",
        reasons=["waiting_time"],
        service=service,
    )
    assert suggestion.reasons == []


def test_the_radar_counts_a_complaints_reasons(service, department):
    complaint = services.feedback_submit(
        actor=None,
        kind=Kind.COMPLAINT,
        text="等了很久",
        reasons=["waiting_time"],
        service=service,
    )
    start = complaint.created_at - dt.timedelta(minutes=1)
    rows = list(
        registry.reason_source("feedback.complaint").count(start, start + dt.timedelta(hours=1))
    )
    assert [(row.reason, row.count, row.service_id) for row in rows] == [
        ("waiting_time", 1, service.pk)
    ]
