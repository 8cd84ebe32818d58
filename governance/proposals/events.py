"""Events the proposals app publishes (see governance.notifications).

Every event carries the proposal's id and title, so the templates render without a query.
Moments are in the site's time zone (``TIME_ZONE``): the templates print their date and time
as stored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class ProposalPublished:
    """A proposal went public: news for the department that will answer it."""

    proposal_id: int
    title: str
    responsible_id: int | None


@dataclass(frozen=True)
class ProposalThresholdReached:
    """Enough people support it: the department owes an official answer by ``answer_due_at``."""

    proposal_id: int
    title: str
    supports: int
    threshold: int
    responsible_id: int | None
    answer_due_at: dt.datetime


@dataclass(frozen=True)
class ProposalCommented:
    """A comment (or a reply); the author and the followers hear of it."""

    proposal_id: int
    title: str
    comment_id: int
    commenter_id: int
    parent_author_id: int | None
    excerpt: str


@dataclass(frozen=True)
class ProposalAnswered:
    """The responsible department published an official answer (``state``)."""

    proposal_id: int
    title: str
    state: str
    responsible_id: int | None


@dataclass(frozen=True)
class ProposalMilestoneReached:
    proposal_id: int
    title: str
    milestone: str
    progress: int


@dataclass(frozen=True)
class ProposalImplemented:
    proposal_id: int
    title: str


@dataclass(frozen=True)
class ProposalAnswerDueSoon:
    proposal_id: int
    title: str
    responsible_id: int
    answer_due_at: dt.datetime


@dataclass(frozen=True)
class ProposalAnswerOverdue:
    proposal_id: int
    title: str
    responsible_id: int
    answer_due_at: dt.datetime
