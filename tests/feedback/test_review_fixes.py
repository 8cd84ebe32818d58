"""What a review of the wing found: a sweep that one bad row could stop, idempotency keys
answered across people, appeals shown to the rater, and phones the case would refuse."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from feedback import services, tasks, tokens
from feedback.models import Feedback

pytestmark = pytest.mark.django_db


def _age(feedback, minutes):
    Feedback.objects.filter(pk=feedback.pk).update(
        created_at=feedback.created_at - dt.timedelta(minutes=minutes)
    )


def test_one_rating_that_cannot_become_a_case_does_not_stop_the_sweep(
    rate_visit, routing, service, monkeypatch
):
    broken, fine = rate_visit(1, device="a"), rate_visit(2, device="b")
    _age(broken, 10)
    _age(fine, 5)
    real = services.rectification_open

    def open_or_fail(*, feedback_id, now=None):
        if feedback_id == broken.pk:
            raise ValidationError("service switched off")
        return real(feedback_id=feedback_id, now=now)

    monkeypatch.setattr(services, "rectification_open", open_or_fail)
    result = tasks.sweep()
    assert result["opened"] == 1
    assert result["failed"] == 1
    assert Feedback.objects.get(pk=fine.pk).case_id is not None
    assert Feedback.objects.get(pk=broken.pk).case_id is None


def test_a_key_reused_by_someone_else_is_refused_not_answered(make_visit):
    key = uuid.uuid4()
    services.feedback_submit(
        actor=None, kind="suggestion", text="多开一个窗口", idempotency_key=key, device="kiosk-1"
    )
    with pytest.raises(ValidationError) as caught:
        services.feedback_submit(
            actor=None, kind="complaint", text="别人的表单", idempotency_key=key, device="phone-2"
        )
    assert "idempotency_key" in caught.value.message_dict
    assert Feedback.objects.count() == 1


def test_the_same_sender_tapping_twice_gets_one_row(make_visit):
    key = uuid.uuid4()
    token = tokens.visit_token(make_visit())
    first = services.visit_rate(token=token, level=4, idempotency_key=key, device="d1")
    again = services.visit_rate(token=token, level=4, idempotency_key=key, device="d1")
    assert again.pk == first.pk


def test_a_phone_the_case_would_refuse_is_refused_at_the_rating(make_visit):
    with pytest.raises(ValidationError) as caught:
        services.visit_rate(
            token=tokens.visit_token(make_visit()), level=1, contact_phone="1380013800-"
        )
    assert "contact_phone" in caught.value.message_dict
    assert not Feedback.objects.exists()


def test_the_rater_never_reads_the_appeal_against_them(
    client, rate_visit, routing, citizen, department_staff
):
    rating = rate_visit(1, actor=citizen)
    services.rectification_open(feedback_id=rating.pk)
    services.appeal_file(actor=department_staff, feedback=rating, reason="恶意差评，监控可证")
    client.force_login(citizen)
    page = client.get(reverse("feedback:detail", args=[rating.pk])).content.decode()
    assert "恶意差评" not in page
    client.force_login(department_staff)
    staff_page = client.get(reverse("feedback:detail", args=[rating.pk])).content.decode()
    assert "恶意差评" in staff_page
