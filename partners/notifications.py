"""The event types this app declares with the notifications registry.

Who hears what:

- a booking requested: the partner's acting members (at once: requests wait on them);
- approved or declined: the requesting organisation's acting members and whoever asked;
- cancelled: the other side's acting members;
- a pledge offered or withdrawn: the acting members of the organisation responsible for the
  proposal or case; accepted, declined or delivered: the partner's acting members;
- an agreement expiring (60 and 14 days before): the admins of the partner and of every
  department party to it.
"""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from governance.notifications.registry import Audience, EventType, register
from governance.stakeholders.models import Membership, User
from governance.stakeholders.queries import acting_members
from partners.events import (
    AgreementExpiring,
    BookingApproved,
    BookingCancelled,
    BookingDeclined,
    BookingRequested,
    PledgeAnswered,
    PledgeOffered,
    PledgeWithdrawn,
)
from partners.models import Booking

AT_ONCE = {Audience.DEPARTMENT: "immediate", Audience.PARTNER: "immediate"}


def booking_url(event) -> str:
    return reverse("partners:booking", args=[event.booking_id])


def pledge_url(event) -> str:
    if event.proposal_id:
        return reverse("proposals:detail", args=[event.proposal_id])
    return reverse("partners:pledges")


def acting_in(*organisation_ids: int | None, roles=None):
    ids = [pk for pk in organisation_ids if pk is not None]
    if not ids:
        return User.objects.none()
    return acting_members(ids) if roles is None else acting_members(ids, roles=roles)


def requester_side(event):
    return User.objects.filter(
        Q(pk__in=acting_in(event.requester_id).values("pk")) | Q(pk=event.requested_by_id),
        is_active=True,
    )


def other_side(event: BookingCancelled):
    if event.side == Booking.Side.OWNER:
        return acting_in(event.requester_id)
    return acting_in(event.partner_id)


def register_event_types() -> None:
    types = [
        EventType(
            code="partners.booking_requested",
            event=BookingRequested,
            label=_("收到资源预约申请"),
            recipients=lambda event: acting_in(event.partner_id),
            url=booking_url,
            defaults=AT_ONCE,
        ),
        EventType(
            code="partners.booking_approved",
            event=BookingApproved,
            label=_("资源预约已批准"),
            recipients=requester_side,
            url=booking_url,
            defaults=AT_ONCE,
        ),
        EventType(
            code="partners.booking_declined",
            event=BookingDeclined,
            label=_("资源预约被拒绝"),
            recipients=requester_side,
            url=booking_url,
            defaults=AT_ONCE,
        ),
        EventType(
            code="partners.booking_cancelled",
            event=BookingCancelled,
            label=_("资源预约已取消"),
            recipients=other_side,
            url=booking_url,
            defaults=AT_ONCE,
        ),
        EventType(
            code="partners.pledge_offered",
            event=PledgeOffered,
            label=_("收到企业资源承诺"),
            recipients=lambda event: acting_in(event.responsible_id),
            url=pledge_url,
        ),
        EventType(
            code="partners.pledge_answered",
            event=PledgeAnswered,
            label=_("资源承诺有了回复"),
            recipients=lambda event: acting_in(event.partner_id),
            url=pledge_url,
        ),
        EventType(
            code="partners.pledge_withdrawn",
            event=PledgeWithdrawn,
            label=_("企业撤回资源承诺"),
            recipients=lambda event: acting_in(event.responsible_id),
            url=pledge_url,
        ),
        EventType(
            code="partners.agreement_expiring",
            event=AgreementExpiring,
            label=_("合作协议即将到期"),
            recipients=lambda event: acting_in(
                event.partner_id, *event.department_ids, roles=(Membership.Role.ADMIN,)
            ),
            url=lambda event: reverse("partners:agreement", args=[event.agreement_id]),
            defaults=AT_ONCE,
        ),
    ]
    for event_type in types:
        register(event_type)
