"""Events the partners app publishes (see governance.notifications).

Each carries the names its templates print, so rendering needs no query. Moments are aware
datetimes; the templates print them in the site's time zone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class BookingRequested:
    """Someone asks for a resource: the partner's acting members decide."""

    booking_id: int
    resource_name: str
    partner_id: int
    requester_id: int
    requester_name: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    purpose: str


@dataclass(frozen=True)
class BookingApproved:
    booking_id: int
    resource_name: str
    partner_name: str
    requester_id: int
    requested_by_id: int | None
    starts_at: dt.datetime
    ends_at: dt.datetime


@dataclass(frozen=True)
class BookingDeclined:
    booking_id: int
    resource_name: str
    partner_name: str
    requester_id: int
    requested_by_id: int | None
    starts_at: dt.datetime
    ends_at: dt.datetime
    reason: str


@dataclass(frozen=True)
class BookingCancelled:
    """Cancelled by one side (``side``: owner or requester): the other side hears of it."""

    booking_id: int
    resource_name: str
    partner_id: int
    requester_id: int
    side: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    reason: str


@dataclass(frozen=True)
class PledgeOffered:
    """A partner pledges to a proposal or case: its responsible organisation decides."""

    pledge_id: int
    partner_name: str
    what: str
    responsible_id: int | None
    target_title: str
    proposal_id: int | None
    case_id: int | None


@dataclass(frozen=True)
class PledgeAnswered:
    """Accepted, declined or delivered (``status``): the partner hears of it."""

    pledge_id: int
    partner_id: int
    what: str
    status: str
    reason: str
    target_title: str
    proposal_id: int | None
    case_id: int | None


@dataclass(frozen=True)
class PledgeWithdrawn:
    pledge_id: int
    partner_name: str
    what: str
    responsible_id: int | None
    reason: str
    target_title: str
    proposal_id: int | None
    case_id: int | None


@dataclass(frozen=True)
class AgreementExpiring:
    """Sent 60 and 14 days before an active agreement ends, to the admins of both sides."""

    agreement_id: int
    title: str
    partner_id: int
    department_ids: tuple[int, ...]
    ends_on: dt.date
    days_left: int
