"""Reads of the partners app, already scoped to what the user may see and joined for the pages
and endpoints that use them. Views and viewsets never filter by permission themselves: an
object outside these querysets is a 404, whoever owns it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from governance.core import clock
from governance.stakeholders.models import Organisation
from governance.stakeholders.rules import is_superuser, memberships_of, organisation_ids
from governance.stations.models import Station
from partners import availability
from partners.models import (
    MAX_BOOKING,
    Agreement,
    AvailabilityException,
    Booking,
    Invitation,
    OpeningRule,
    Pledge,
    Resource,
    TrainingSession,
    Visibility,
    VolunteerShift,
)
from partners.rules import ACTING_ROLES


def _seats(user) -> set[int]:
    return set(memberships_of(user))


def partners_of(user, *, acting: bool = False) -> QuerySet[Organisation]:
    """The partners the user has a seat in (``acting``: as admin or staff)."""
    ids = organisation_ids(
        user, kind=Organisation.Kind.PARTNER, roles=ACTING_ROLES if acting else None
    )
    return Organisation.objects.filter(pk__in=ids, is_active=True).order_by("name_zh")


# Resources ----------------------------------------------------------------------------------
def resources_visible_to(user) -> QuerySet[Resource]:
    """Active public resources for everyone, stakeholders-only ones for people with a seat,
    and everything of the partners the user sits in (inactive ones too)."""
    qs = Resource.objects.select_related("partner", "station")
    if is_superuser(user):
        return qs
    seats = _seats(user)
    shown = Q(is_active=True, visibility=Visibility.PUBLIC, partner__is_active=True)
    if seats:
        shown |= Q(is_active=True, visibility=Visibility.STAKEHOLDERS, partner__is_active=True)
        shown |= Q(partner_id__in=seats)
    return qs.filter(shown)


def resource_for(user, pk) -> Resource | None:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    return (
        resources_visible_to(user)
        .prefetch_related(
            Prefetch("opening_rules", queryset=OpeningRule.objects.order_by("weekday", "opens")),
            "photos",
        )
        .filter(pk=pk)
        .first()
    )


def resources_managed_by(user) -> QuerySet[Resource]:
    qs = Resource.objects.select_related("partner", "station")
    if is_superuser(user):
        return qs
    return qs.filter(
        partner_id__in=organisation_ids(user, kind=Organisation.Kind.PARTNER, roles=ACTING_ROLES)
    )


# Bookings -----------------------------------------------------------------------------------
def bookings_visible_to(user) -> QuerySet[Booking]:
    """The bookings the user's organisations made or were asked for; superusers see all."""
    qs = Booking.objects.select_related(
        "resource", "resource__partner", "resource__station", "requester", "requested_by"
    )
    if is_superuser(user):
        return qs
    seats = _seats(user)
    if not seats:
        return qs.none()
    return qs.filter(Q(requester_id__in=seats) | Q(resource__partner_id__in=seats))


def booking_for(user, pk) -> Booking | None:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    return bookings_visible_to(user).filter(pk=pk).first()


def pending_requests(user) -> QuerySet[Booking]:
    """Requests the user's partners must answer, soonest first."""
    ids = organisation_ids(user, kind=Organisation.Kind.PARTNER, roles=ACTING_ROLES)
    return (
        bookings_visible_to(user)
        .filter(
            resource__partner_id__in=ids,
            status=Booking.Status.REQUESTED,
            starts_at__gt=clock.now(),
        )
        .order_by("starts_at", "pk")
    )


def upcoming_bookings(user, *, partner_ids=None) -> QuerySet[Booking]:
    partner_ids = partner_ids if partner_ids is not None else _seats(user)
    return (
        bookings_visible_to(user)
        .filter(
            Q(resource__partner_id__in=partner_ids) | Q(requester_id__in=partner_ids),
            status=Booking.Status.APPROVED,
            ends_at__gt=clock.now(),
        )
        .order_by("starts_at", "pk")
    )


@dataclass
class Day:
    date: dt.date
    windows: list[tuple[dt.datetime, dt.datetime]] = field(default_factory=list)
    bookings: list[Booking] = field(default_factory=list)
    closures: list[AvailabilityException] = field(default_factory=list)


@dataclass
class Week:
    resource: Resource
    monday: dt.date
    days: list[Day]

    @property
    def previous(self) -> dt.date:
        return self.monday - dt.timedelta(days=7)

    @property
    def next(self) -> dt.date:
        return self.monday + dt.timedelta(days=7)


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def week(resource: Resource, monday: dt.date, *, user) -> Week:
    """The resource's week from ``monday``: its open windows, closures and the pending and
    approved bookings, per day. Three queries (rules, exceptions, bookings), whatever the
    number of bookings the resource has had: the bookings are read through
    ``partners_booking_resource_idx`` from the week's start, so past years are never read.

    Bookings the user may not read (another organisation's request) are shown as taken time
    without who or why: ``booking.hidden`` is True."""
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(monday, dt.time(0), tzinfo=zone)
    end = start + dt.timedelta(days=7)
    # The page's resource comes with its rules prefetched (``resource_for``).
    rules = list(resource.opening_rules.all())
    exceptions = list(
        AvailabilityException.objects.filter(
            resource=resource, ends_at__gt=start, starts_at__lt=end
        ).order_by("starts_at")
    )
    bookings = list(
        Booking.objects.select_related("requester")
        .filter(
            resource=resource,
            # Both ends bound the index range: no booking is longer than MAX_BOOKING (a
            # constraint), so a week in the middle of years of history reads only its own.
            ends_at__gt=start,
            ends_at__lt=end + MAX_BOOKING,
            starts_at__lt=end,
            status__in=(Booking.Status.REQUESTED, Booking.Status.APPROVED),
        )
        .order_by("starts_at", "pk")
    )
    seats = _seats(user)
    sees_all = is_superuser(user) or resource.partner_id in seats
    days = []
    for offset in range(7):
        day_start = start + dt.timedelta(days=offset)
        day_end = day_start + dt.timedelta(days=1)
        day = Day(
            date=monday + dt.timedelta(days=offset),
            windows=availability.open_windows(rules, exceptions, day_start, day_end),
            closures=[
                e
                for e in exceptions
                if e.kind == AvailabilityException.Kind.CLOSED
                and e.starts_at < day_end
                and e.ends_at > day_start
            ],
        )
        for booking in bookings:
            if booking.starts_at < day_end and booking.ends_at > day_start:
                booking.hidden = not (sees_all or booking.requester_id in seats)
                day.bookings.append(booking)
        days.append(day)
    return Week(resource=resource, monday=monday, days=days)


# Pledges ------------------------------------------------------------------------------------
def pledges_visible_to(user) -> QuerySet[Pledge]:
    """Pledges of the user's partners, pledges to the proposals and cases of the user's
    organisations, and the live pledges to public proposals and cases for everyone."""
    qs = Pledge.objects.select_related("partner", "resource", "proposal", "case")
    if is_superuser(user):
        return qs
    public = ~Q(status__in=(Pledge.Status.WITHDRAWN, Pledge.Status.DECLINED)) & (
        Q(proposal__isnull=False) & ~Q(proposal__status="draft")
        | Q(case__isnull=False, case__is_public=True)
    )
    seats = _seats(user)
    if not seats:
        return qs.filter(public)
    return qs.filter(
        public
        | Q(partner_id__in=seats)
        | Q(proposal__responsible_id__in=seats)
        | Q(case__responsible_id__in=seats)
    )


def pledges_to(user, *, proposal_ids=(), case_ids=()) -> dict[tuple[str, int], list[Pledge]]:
    """The pledges the user may see on these proposals and cases, keyed ``("proposal", id)``
    or ``("case", id)``, oldest first: one query for any number of them."""
    if not proposal_ids and not case_ids:
        return {}
    pledges = (
        pledges_visible_to(user)
        .filter(Q(proposal_id__in=list(proposal_ids)) | Q(case_id__in=list(case_ids)))
        .order_by("created_at", "pk")
    )
    found: dict[tuple[str, int], list[Pledge]] = {}
    for pledge in pledges:
        key = ("proposal", pledge.proposal_id) if pledge.proposal_id else ("case", pledge.case_id)
        found.setdefault(key, []).append(pledge)
    return found


def pledges_to_answer(user) -> QuerySet[Pledge]:
    """Offered pledges to the proposals and cases the user's organisations are responsible
    for (acting seats)."""
    ids = organisation_ids(user, roles=ACTING_ROLES)
    return pledges_visible_to(user).filter(
        Q(proposal__responsible_id__in=ids) | Q(case__responsible_id__in=ids),
        status=Pledge.Status.OFFERED,
    )


# Agreements ---------------------------------------------------------------------------------
def agreements_visible_to(user) -> QuerySet[Agreement]:
    qs = Agreement.objects.select_related("partner").prefetch_related("departments", "documents")
    if is_superuser(user):
        return qs
    seats = _seats(user)
    if not seats:
        return qs.none()
    through = Agreement.departments.through
    return qs.filter(
        Q(partner_id__in=seats)
        | Exists(through.objects.filter(agreement_id=OuterRef("pk"), organisation_id__in=seats))
    )


def expiring_agreements(user, *, within_days: int = 60) -> QuerySet[Agreement]:
    """Active agreements that ended already or end within ``within_days``."""
    today = timezone.localdate(clock.now())
    return agreements_visible_to(user).filter(
        status=Agreement.Status.ACTIVE, ends_on__lte=today + dt.timedelta(days=within_days)
    )


# Volunteers and training --------------------------------------------------------------------
def shifts_visible_to(user) -> QuerySet[VolunteerShift]:
    # The station's departments come along for the rules (``sits_at_shift_station``).
    qs = VolunteerShift.objects.select_related("partner", "station").prefetch_related(
        "station__departments"
    )
    if is_superuser(user):
        return qs
    seats = _seats(user)
    if not seats:
        return qs.none()
    departments = organisation_ids(user, kind=Organisation.Kind.DEPARTMENT)
    at_station = Station.departments.through.objects.filter(
        station_id=OuterRef("station_id"), organisation_id__in=departments
    )
    return qs.filter(Q(partner_id__in=seats) | Exists(at_station))


def trainings_visible_to(user) -> QuerySet[TrainingSession]:
    qs = TrainingSession.objects.select_related("organiser", "station")
    if is_superuser(user) or _seats(user):
        return qs
    return qs.none()


def invitations_of(organisation: Organisation) -> QuerySet[Invitation]:
    return Invitation.objects.filter(
        organisation=organisation, accepted_at__isnull=True, revoked_at__isnull=True
    ).select_related("invited_by")
