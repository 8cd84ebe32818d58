"""The partners wing's Celery tasks.

- ``send_invitation``: the invitation e-mail, enqueued when the invitation commits. The link's
  token travels in the message only; the database keeps its hash.
- ``agreements_remind`` (daily, from beat): the 60- and 14-day expiry reminders; each goes out
  once, so a rerun or a lost run does no harm.
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from partners import services
from partners.models import Invitation

RELIABLE = {
    "ignore_result": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (Exception,),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "max_retries": 8,
}


@shared_task(name="partners.send_invitation", **RELIABLE)
def send_invitation(invitation_id: int, token: str) -> bool:
    invitation = (
        Invitation.objects.select_related("organisation", "invited_by")
        .filter(pk=invitation_id, accepted_at__isnull=True, revoked_at__isnull=True)
        .first()
    )
    if invitation is None or invitation.expires_at <= timezone.now():
        return False
    context = {
        "organisation": invitation.organisation,
        "role": invitation.get_role_display(),
        "inviter": invitation.invited_by,
        "expires_at": invitation.expires_at,
        "link": settings.SITE_URL.rstrip("/") + reverse("partners:invitation", args=[token]),
    }
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string("partners/email/invitation_subject.txt", context).strip()
        body = render_to_string("partners/email/invitation_body.txt", context)
    send_mail(subject, body, None, [invitation.email])
    return True


@shared_task(name="partners.agreements_remind", ignore_result=True, acks_late=True)
def agreements_remind() -> dict[str, int]:
    return services.agreements_remind()
