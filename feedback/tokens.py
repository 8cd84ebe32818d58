"""Signed links: a visit's rating link (the counter's QR code) and a rectification's re-rating
link (sent to a rater who left an e-mail address).

A visit link carries the visit, its station, service and department, and the visit's time,
signed with the site's secret: nothing in it can be guessed or changed, and a rating from it
needs no read of the database before its one insert. It expires ``RATING_LINK_DAYS`` (7) days
after the visit, whenever the link was printed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.stations.models import Visit

VISIT_SALT = "feedback.visit-rating"
RERATE_SALT = "feedback.rerate"
DEFAULT_RATING_LINK_DAYS = 7
DEFAULT_RERATE_LINK_DAYS = 30


class BadLink(Exception):
    """A link that was forged, cut short, or has expired; ``message`` says which for people."""

    def __init__(self, message, *, code: str):
        super().__init__(str(message))
        self.message = message
        self.code = code


def rating_link_days() -> int:
    return getattr(settings, "FEEDBACK_RATING_LINK_DAYS", DEFAULT_RATING_LINK_DAYS)


@dataclass(frozen=True)
class VisitClaim:
    visit_id: int
    station_id: int
    service_id: int
    department_id: int
    visited_at: dt.datetime

    @property
    def expires_at(self) -> dt.datetime:
        return self.visited_at + dt.timedelta(days=rating_link_days())


def visit_token(visit: Visit) -> str:
    """The token of ``visit``'s rating link (``service`` must be loaded, or it is read)."""
    moment = visit.finished_at or visit.arrived_at
    payload = [
        visit.pk,
        visit.station_id,
        visit.service_id,
        visit.service.department_id,
        int(moment.timestamp()),
    ]
    # No signing time: the same visit always has the same link (a reprinted slip matches the
    # first), and it expires by the visit's own time.
    return signing.Signer(salt=VISIT_SALT).sign_object(payload, compress=True)


def visit_claim(token: str, *, now: dt.datetime | None = None) -> VisitClaim:
    """What a visit token says, or :class:`BadLink`."""
    try:
        visit_id, station_id, service_id, department_id, stamp = signing.Signer(
            salt=VISIT_SALT
        ).unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError) as error:
        raise BadLink(_("这个评价链接无效：请重新扫描窗口的二维码。"), code="invalid") from error
    claim = VisitClaim(
        visit_id=int(visit_id),
        station_id=int(station_id),
        service_id=int(service_id),
        department_id=int(department_id),
        visited_at=dt.datetime.fromtimestamp(int(stamp), tz=dt.UTC),
    )
    if (now or timezone.now()) > claim.expires_at:
        raise BadLink(
            _("这个评价链接已经过期：办件后 %(days)d 天内可以评价。")
            % {"days": rating_link_days()},
            code="expired",
        )
    return claim


def rerate_token(feedback_id: int) -> str:
    return signing.dumps(feedback_id, salt=RERATE_SALT)


def rerate_claim(token: str) -> int:
    try:
        return int(
            signing.loads(
                token,
                salt=RERATE_SALT,
                max_age=dt.timedelta(
                    days=getattr(settings, "FEEDBACK_RERATE_LINK_DAYS", DEFAULT_RERATE_LINK_DAYS)
                ),
            )
        )
    except signing.SignatureExpired as error:
        raise BadLink(_("这个链接已经过期。"), code="expired") from error
    except (signing.BadSignature, ValueError, TypeError) as error:
        raise BadLink(_("这个链接无效。"), code="invalid") from error
