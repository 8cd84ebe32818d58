"""The event types this app declares with the notifications registry.

Links point at the public proposal page (``proposals:detail``). Who hears what:

- published: the acting staff of the department that will answer;
- support threshold reached: that department and the author;
- commented: the author and the followers (and the author of the comment replied to);
- answered, milestone reached, implemented: the author, the supporters and the followers;
- answer due soon: the department's acting staff; overdue: its admins.
"""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from governance.notifications.registry import Audience, EventType, register
from governance.proposals.events import (
    ProposalAnswerDueSoon,
    ProposalAnswered,
    ProposalAnswerOverdue,
    ProposalCommented,
    ProposalImplemented,
    ProposalMilestoneReached,
    ProposalPublished,
    ProposalThresholdReached,
)
from governance.proposals.models import Follow, Proposal, Support
from governance.stakeholders.models import Membership, User
from governance.stakeholders.queries import acting_members
from governance.stakeholders.rules import ACTING_ROLES

AT_ONCE = {Audience.DEPARTMENT: "immediate", Audience.PARTNER: "immediate"}


def proposal_url(event) -> str:
    return reverse("proposals:detail", args=[event.proposal_id])


def acting_in(organisation_id: int | None, roles=ACTING_ROLES):
    if organisation_id is None:
        return User.objects.none()
    return acting_members([organisation_id], roles=roles)


def _author(proposal_id: int):
    return Proposal.objects.filter(pk=proposal_id).values("author_id")


def author_and_followers(proposal_id: int, *extra_ids: int | None):
    """Subqueries of ids, not joins: no duplicates to remove, one index scan each."""
    extra = [pk for pk in extra_ids if pk is not None]
    return User.objects.filter(
        Q(pk__in=_author(proposal_id))
        | Q(pk__in=Follow.objects.filter(proposal_id=proposal_id).values("user_id"))
        | Q(pk__in=extra),
        is_active=True,
    )


def everyone_involved(event):
    """Author, supporters and followers (the set may be large: every supporter)."""
    return User.objects.filter(
        Q(pk__in=_author(event.proposal_id))
        | Q(pk__in=Support.objects.filter(proposal_id=event.proposal_id).values("user_id"))
        | Q(pk__in=Follow.objects.filter(proposal_id=event.proposal_id).values("user_id")),
        is_active=True,
    )


def threshold_recipients(event: ProposalThresholdReached):
    return User.objects.filter(
        Q(pk__in=acting_in(event.responsible_id).values("pk"))
        | Q(pk__in=_author(event.proposal_id)),
        is_active=True,
    )


def register_event_types() -> None:
    types = [
        EventType(
            code="proposals.published",
            event=ProposalPublished,
            label=_("新建议待关注"),
            recipients=lambda event: acting_in(event.responsible_id),
            url=proposal_url,
        ),
        EventType(
            code="proposals.threshold_reached",
            event=ProposalThresholdReached,
            label=_("建议达到支持门槛"),
            recipients=threshold_recipients,
            url=proposal_url,
            defaults=AT_ONCE,
        ),
        EventType(
            code="proposals.commented",
            event=ProposalCommented,
            label=_("建议有新评论"),
            recipients=lambda event: author_and_followers(
                event.proposal_id, event.parent_author_id
            ),
            url=proposal_url,
        ),
        EventType(
            code="proposals.answered",
            event=ProposalAnswered,
            label=_("建议收到正式答复"),
            recipients=everyone_involved,
            url=proposal_url,
        ),
        EventType(
            code="proposals.milestone_reached",
            event=ProposalMilestoneReached,
            label=_("建议落实里程碑完成"),
            recipients=everyone_involved,
            url=proposal_url,
        ),
        EventType(
            code="proposals.implemented",
            event=ProposalImplemented,
            label=_("建议已落实"),
            recipients=everyone_involved,
            url=proposal_url,
        ),
        EventType(
            code="proposals.answer_due_soon",
            event=ProposalAnswerDueSoon,
            label=_("建议答复即将到期"),
            recipients=lambda event: acting_in(event.responsible_id),
            url=proposal_url,
            defaults=AT_ONCE,
        ),
        EventType(
            code="proposals.answer_overdue",
            event=ProposalAnswerOverdue,
            label=_("建议答复已逾期"),
            recipients=lambda event: acting_in(
                event.responsible_id, roles=(Membership.Role.ADMIN,)
            ),
            url=proposal_url,
            defaults=AT_ONCE,
        ),
    ]
    for event_type in types:
        register(event_type)
