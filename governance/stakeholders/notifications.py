"""The event types this app declares with the notifications registry."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from governance.notifications.registry import Audience, EventType, register
from governance.stakeholders.events import MembershipGranted, TwoFactorChanged
from governance.stakeholders.models import User


def register_event_types() -> None:
    register(
        EventType(
            code="stakeholders.membership_granted",
            event=MembershipGranted,
            label=_("获得组织席位"),
            recipients=lambda event: User.objects.filter(pk=event.user_id),
            url=lambda event: reverse("notifications:inbox"),
            # Being given a seat is news one wants at once, whoever one is.
            defaults={
                Audience.CITIZEN: "immediate",
                Audience.DEPARTMENT: "immediate",
                Audience.PARTNER: "immediate",
            },
        )
    )
    register(
        EventType(
            code="stakeholders.two_factor_changed",
            event=TwoFactorChanged,
            label=_("双重验证变更"),
            recipients=lambda event: User.objects.filter(pk=event.user_id),
            url=lambda event: reverse("mfa_index"),
            security=True,
            skip_actor=False,
        )
    )
