"""The feedback wing's Celery tasks.

- ``open_rectification``: a bad rating's case, enqueued when the rating commits.
- ``mail_rerate_link``: tell a rater who left only an e-mail address that the rectification is
  done, with a signed link to re-rate it.
- ``sweep`` (every two minutes, scheduled by ``FeedbackConfig.ready``): does what a lost
  message would have left undone — bad ratings still without a case after two minutes, and
  raters not yet told — so a broker outage delays the loop and loses nothing.

All are idempotent: the services lock the row and find the work already done.
"""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from feedback import services, tokens
from feedback.metrics import RATING_RATE
from feedback.models import BAD_LEVELS, Feedback
from governance.kpis.registry import local_day
from governance.kpis.services import kpis_mark_dirty

RELIABLE = {
    "ignore_result": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (Exception,),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "max_retries": 8,
}
logger = logging.getLogger(__name__)
GRACE = dt.timedelta(minutes=2)
BATCH = 200


@shared_task(name="feedback.open_rectification", **RELIABLE)
def open_rectification(feedback_id: int) -> str | None:
    case = services.rectification_open(feedback_id=feedback_id)
    return case.reference if case else None


@shared_task(name="feedback.mail_rerate_link", **RELIABLE)
def mail_rerate_link(feedback_id: int) -> bool:
    with transaction.atomic():
        feedback = (
            Feedback.objects.select_for_update(of=("self",))
            .select_related("case")
            .filter(pk=feedback_id, rater_told_at__isnull=True, rectified_at__isnull=False)
            .exclude(contact_email="")
            .first()
        )
        if feedback is None:
            return False
        link = settings.SITE_URL.rstrip("/") + reverse(
            "feedback:rerate", args=[tokens.rerate_token(feedback.pk)]
        )
        context = {"reference": feedback.case.reference if feedback.case else "", "link": link}
        with translation.override(settings.LANGUAGE_CODE):
            subject = render_to_string("feedback/email/rerate_subject.txt", context).strip()
            body = render_to_string("feedback/email/rerate_body.txt", context)
        send_mail(subject, body, None, [feedback.contact_email])
        feedback.rater_told_at = timezone.now()
        feedback.save(update_fields=["rater_told_at"])
    return True


@shared_task(name="feedback.sweep", ignore_result=True, acks_late=True)
def sweep() -> dict:
    cutoff = timezone.now() - GRACE
    waiting = list(
        Feedback.objects.filter(
            case__isnull=True,
            level__in=list(BAD_LEVELS),
            excluded=False,
            service__isnull=False,
            created_at__lt=cutoff,
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:BATCH]
    )
    opened = failed = 0
    for pk in waiting:
        # One rating that cannot become a case (a service switched off since) must not hold
        # up the others: it is logged and tried again on the next sweep.
        try:
            services.rectification_open(feedback_id=pk)
            opened += 1
        except Exception:
            failed += 1
            logger.exception("feedback %s: the rectification case could not be opened", pk)
    untold = list(
        Feedback.objects.filter(rectified_at__isnull=False, rater_told_at__isnull=True)
        .exclude(contact_email="")
        .order_by("rectified_at")
        .values_list("pk", flat=True)[:BATCH]
    )
    told = 0
    for pk in untold:
        # Sent here, not enqueued: the sweep is what works when the broker did not. A refused
        # address is logged and tried again next time, without holding up the others.
        try:
            told += bool(mail_rerate_link(pk))
        except Exception:
            logger.exception("feedback %s: the re-rating link could not be mailed", pk)
    # A rating may come up to a week after its visit and changes that visit day's share of
    # rated visits: those days are recomputed by the next rollup, at no cost to the rating.
    today = local_day(timezone.now())
    kpis_mark_dirty(
        metric_codes=[RATING_RATE.code],
        days=[today - dt.timedelta(days=n) for n in range(tokens.rating_link_days() + 1)],
    )
    return {"opened": opened, "failed": failed, "told": told}
