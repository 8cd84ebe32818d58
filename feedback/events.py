"""Events the feedback wing publishes through ``governance.notifications``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RectificationDone:
    """The case opened by someone's bad rating was resolved: they may re-rate it."""

    feedback_id: int
    user_id: int
    reference: str
    rerate_token: str


@dataclass(frozen=True)
class FeedbackReplied:
    """The organisation answered someone's feedback in public."""

    feedback_id: int
    user_id: int
    body: str


@dataclass(frozen=True)
class AppealFiled:
    """Staff contested a rating; the organisation's admins (or the platform) decide."""

    appeal_id: int
    organisation_id: int | None
    # The filer's role: an admin's appeal goes to the platform, a staff member's to the admins.
    filed_role: str
