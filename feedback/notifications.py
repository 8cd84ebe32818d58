"""The event types of the feedback wing, registered with the notifications core in ``ready``."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from feedback.events import AppealFiled, FeedbackReplied, RectificationDone
from governance.notifications.registry import Audience, EventType, register
from governance.stakeholders.models import Membership, User
from governance.stakeholders.queries import acting_members


def _the_user(event):
    return User.objects.filter(pk=event.user_id)


def _appeal_deciders(event: AppealFiled):
    """Those who may decide: the organisation's admins for a staff member's appeal, the
    platform (superusers) for anyone else's (see ``rules.may_decide``)."""
    if event.organisation_id is None or event.filed_role != Membership.Role.STAFF:
        return User.objects.filter(is_superuser=True, is_active=True)
    return acting_members([event.organisation_id], roles=(Membership.Role.ADMIN,))


def register_event_types() -> None:
    register(
        EventType(
            code="feedback.rectified",
            event=RectificationDone,
            label=_("差评整改已完成，请再次评价"),
            recipients=_the_user,
            url=lambda event: reverse("feedback:rerate", args=[event.rerate_token]),
            defaults={Audience.CITIZEN: "immediate"},
        )
    )
    register(
        EventType(
            code="feedback.replied",
            event=FeedbackReplied,
            label=_("你的反馈有了答复"),
            recipients=_the_user,
            url=lambda event: reverse("feedback:detail", args=[event.feedback_id]),
            defaults={Audience.CITIZEN: "immediate"},
        )
    )
    register(
        EventType(
            code="feedback.appeal_filed",
            event=AppealFiled,
            label=_("评价申诉待审核"),
            recipients=_appeal_deciders,
            url=lambda event: reverse("feedback:inbox") + "?appeals=pending",
            defaults={Audience.DEPARTMENT: "immediate", Audience.PARTNER: "immediate"},
        )
    )
