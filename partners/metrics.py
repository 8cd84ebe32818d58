"""The KPI metrics of the partners wing, registered with ``governance.kpis`` in ``ready``.

Every figure is computed from the rows themselves (bookings, pledges, shifts, attendance),
never from stored totals, by Asia/Shanghai day. The partner dimension is the organisation that
contributes (the resource's partner, the pledging partner, the partner whose volunteers served);
the department dimension is the department on the other side (the one that booked, the one
responsible for what a pledge went to); the station is where it happened.

- ``partners.resource_hours`` (资源贡献时长): hours of approved bookings that have taken place,
  on the days they took place (SUM). A booking that runs past midnight counts on each day for
  the hours it spent there; one under way counts up to now ("now" is the services' clock, so a
  replay reads the moment it has reached). Only approved bookings count: one cancelled, even
  while under way, counts nothing. Cut by the resource's partner and station and by the
  requesting department.
- ``partners.booking_approval_rate`` (预约批准率): the percentage approved among the requests
  decided on the day (WEIGHTED_MEAN, weighted by decisions). An approval later cancelled was
  still an approval; a request cancelled before anyone decided it is not a decision.
- ``partners.booking_response_hours`` (预约答复时长中位数): hours from a request to its decision
  (approved or declined), median, one-hour bins capped at a week, by the decision day
  (DISTRIBUTION).
- ``partners.utilisation`` (资源利用率): of the hours a bookable resource was open (its weekly
  rules, plus extra openings, minus closures), the percentage covered by approved bookings
  (WEIGHTED_MEAN, weighted by open hours: a period's value is all booked open hours over all
  open hours, not an average of daily percentages). Booked time outside the open hours (a
  closure added after the approval) is not counted. Days ahead count too: the figure of next
  week is what is booked for it now. The resources counted are those that take bookings now,
  with the rules they have now (rules keep no history): a change of rules or of a resource is
  marked from today on (:data:`OPENING_HORIZON_DAYS`), and past days keep the figures they were
  computed with. Per resource it is no registry dimension; the pages read
  :func:`utilisation_by_resource`.
- ``partners.pledges_delivered`` (兑现的资源承诺数): pledges confirmed delivered on the day
  (SUM), by the pledging partner, the department responsible for the proposal or case it went
  to, and that proposal's or case's station.
- ``partners.volunteer_hours`` (志愿服务时长): hours of the shifts marked done, on the day the
  shift started (SUM; a shift lasts twelve hours at most), by partner and station.
- ``partners.training_hours_per_member`` (人均培训学时): training hours attended by an
  organisation's acting members (admins and staff), divided by its number of acting members,
  on the day of the session (SUM). See :func:`training_hours_per_member` for why it adds up
  over a period and what the platform's figure is.

Each compute reads a fixed number of queries whatever the number of rows: one grouped query
handed to ``registry.roll_up`` where SQL can do the grouping; where hours must be split at
midnight or set against opening windows (resource hours, utilisation), one query per source
table, the arithmetic done here over the rows of the days asked for.

The services mark the days they change dirty (see :data:`CODES` and the groups below);
the KPI rollup also recomputes today and yesterday on every run, which is how hours that pass
without any write (a booking under way) reach the figures.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import models
from django.db.models import (
    Count,
    Exists,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Floor, Least, TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.core import clock
from governance.kpis.registry import (
    TZ,
    Combine,
    Dimension,
    Metric,
    Row,
    Scope,
    day_start,
    local_day,
    register,
    roll_up,
)
from governance.stakeholders.models import Membership, Organisation
from governance.stakeholders.rules import ACTING_ROLES
from governance.stations.metrics import between
from partners import availability
from partners.models import (
    MAX_BOOKING_MINUTES,
    Attendance,
    AvailabilityException,
    Booking,
    OpeningRule,
    Pledge,
    VolunteerShift,
)

HOUR = 3600.0
RESPONSE_CAP_HOURS = 7 * 24
# The longest a booking or a shift runs: how far before a day its rows may start.
LONGEST_BOOKING = dt.timedelta(minutes=MAX_BOOKING_MINUTES)
LONGEST_SHIFT = dt.timedelta(hours=12)
DEPARTMENT = Organisation.Kind.DEPARTMENT
PARTNER = Organisation.Kind.PARTNER


# Shared helpers --------------------------------------------------------------------------------


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    return day_start(start), day_start(end + dt.timedelta(days=1))


def _within(moment: str, start: dt.date, end: dt.date) -> dict:
    lower, upper = _bounds(start, end)
    return {f"{moment}__gte": lower, f"{moment}__lt": upper}


def _of_kind(field: str, kind: str):
    """``field``'s organisation id when it is of ``kind``, else NULL."""
    return models.Case(
        When(**{f"{field}__kind": kind, "then": F(f"{field}_id")}),
        default=Value(None),
        output_field=IntegerField(),
    )


def _share(condition: Q) -> Sum:
    """100 for each row that meets ``condition``, 0 for the others, summed."""
    return Sum(
        models.Case(
            When(condition, then=Value(100.0)), default=Value(0.0), output_field=FloatField()
        )
    )


def days_touched(starts_at: dt.datetime, ends_at: dt.datetime) -> set[dt.date]:
    """The Asia/Shanghai days ``[starts_at, ends_at)`` touches: what a write that changes a
    booking (or a shift, a session) must mark dirty."""
    first = local_day(starts_at)
    last = local_day(ends_at - dt.timedelta(microseconds=1)) if ends_at > starts_at else first
    return {first + dt.timedelta(days=offset) for offset in range((last - first).days + 1)}


def _split_by_day(starts_at: dt.datetime, ends_at: dt.datetime) -> Iterable[tuple[dt.date, float]]:
    """The hours of ``[starts_at, ends_at)`` on each Asia/Shanghai day it touches."""
    for day in sorted(days_touched(starts_at, ends_at)):
        lower = max(starts_at, day_start(day))
        upper = min(ends_at, day_start(day + dt.timedelta(days=1)))
        if upper > lower:
            yield day, (upper - lower).total_seconds() / HOUR


def _approved_overlapping(lower: dt.datetime, upper: dt.datetime):
    """Approved bookings that overlap ``[lower, upper)``. A booking lasts a week at most, so
    bounding its start lets ``partners_booking_status_idx`` skip the years before."""
    return Booking.objects.filter(
        status=Booking.Status.APPROVED,
        starts_at__gte=lower - LONGEST_BOOKING,
        starts_at__lt=upper,
        ends_at__gt=lower,
    ).order_by()


# Resource hours ------------------------------------------------------------------------------


def resource_hours(start: dt.date, end: dt.date) -> list[Row]:
    """One query: the approved bookings over the days, split at midnight and cut at now."""
    lower, upper = _bounds(start, end)
    upper = min(upper, clock.now())
    if upper <= lower:
        return []
    bookings = _approved_overlapping(lower, upper).values_list(
        "starts_at",
        "ends_at",
        "resource__partner_id",
        "resource__station_id",
        "requester_id",
        "requester__kind",
    )
    cells: dict[tuple, float] = defaultdict(float)
    for starts_at, ends_at, partner, station, requester, kind in bookings:
        department = requester if kind == DEPARTMENT else None
        for day, hours in _split_by_day(max(starts_at, lower), min(ends_at, upper)):
            cells[(day, partner, station, department)] += hours
    keys = ("day", "partner", "station", "department")
    return roll_up(
        ({**dict(zip(keys, cell, strict=True)), "value": hours} for cell, hours in cells.items()),
        metric=RESOURCE_HOURS,
    )


# Decisions -------------------------------------------------------------------------------------


def _decisions(start: dt.date, end: dt.date):
    """Bookings decided (approved or declined) on ``start``–``end``, with their day and cell:
    the resource's partner and station, and the requester when it is a department."""
    return (
        Booking.objects.filter(decided_at__isnull=False, **_within("decided_at", start, end))
        .annotate(day=TruncDate("decided_at", tzinfo=TZ))
        .order_by()
    )


def _grouped_decisions(queryset, *extra: str):
    return queryset.values(
        "day",
        *extra,
        partner=F("resource__partner"),
        station=F("resource__station"),
        department=_of_kind("requester", DEPARTMENT),
    )


def booking_approval_rate(start: dt.date, end: dt.date) -> list[Row]:
    cells = _grouped_decisions(_decisions(start, end)).annotate(
        value=_share(~Q(status=Booking.Status.DECLINED)), weight=Count("pk")
    )
    return roll_up(cells, metric=BOOKING_APPROVAL_RATE)


def booking_response_hours(start: dt.date, end: dt.date) -> list[Row]:
    decided = _decisions(start, end).annotate(
        bin=Least(
            Cast(Floor(between("created_at", "decided_at") / HOUR), IntegerField()),
            Value(RESPONSE_CAP_HOURS),
        )
    )
    cells = _grouped_decisions(decided, "bin").annotate(count=Count("pk"))
    return roll_up(cells, metric=BOOKING_RESPONSE_HOURS)


# Utilisation -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Utilisation:
    """A resource's use over some days: booked open hours, open hours, and their ratio in
    percent (``None`` when the resource was never open)."""

    booked_hours: float
    open_hours: float

    @property
    def percent(self) -> float | None:
        if not self.open_hours:
            return None
        return 100.0 * self.booked_hours / self.open_hours


def _overlap(intervals, others) -> float:
    """Seconds where two lists of intervals overlap (neither overlaps itself)."""
    seconds = 0.0
    for start, end in intervals:
        for other_start, other_end in others:
            lower, upper = max(start, other_start), min(end, other_end)
            if upper > lower:
                seconds += (upper - lower).total_seconds()
    return seconds


def _usage(resources: dict, start: dt.date, end: dt.date):
    """``(resource id, day, booked open hours, open hours)`` for each day a resource matched
    by ``resources`` (lookups on ``Resource``) is open, and each resource's ``(partner,
    station)``. Three queries: the rules, the exceptions and the bookings."""
    lower, upper = _bounds(start, end)
    prefixed = {f"resource__{lookup}": value for lookup, value in resources.items()}
    places: dict[int, tuple[int, int | None]] = {}
    rules: dict[int, list[OpeningRule]] = defaultdict(list)
    for rule in OpeningRule.objects.filter(**prefixed).select_related("resource").order_by():
        rules[rule.resource_id].append(rule)
        places[rule.resource_id] = (rule.resource.partner_id, rule.resource.station_id)
    exceptions: dict[int, list[AvailabilityException]] = defaultdict(list)
    for exception in (
        AvailabilityException.objects.filter(**prefixed, ends_at__gt=lower, starts_at__lt=upper)
        .select_related("resource")
        .order_by()
    ):
        exceptions[exception.resource_id].append(exception)
        resource = exception.resource
        places[exception.resource_id] = (resource.partner_id, resource.station_id)
    booked: dict[int, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    for resource_id, starts_at, ends_at in (
        _approved_overlapping(lower, upper)
        .filter(resource_id__in=list(places))
        .values_list("resource_id", "starts_at", "ends_at")
    ):
        booked[resource_id].append((starts_at, ends_at))
    usage = []
    with timezone.override(TZ):
        for resource_id in places:
            day = start
            while day <= end:
                day_lower, day_upper = day_start(day), day_start(day + dt.timedelta(days=1))
                windows = availability.open_windows(
                    rules[resource_id], exceptions[resource_id], day_lower, day_upper
                )
                opened = sum((close - open_).total_seconds() for open_, close in windows)
                if opened:
                    used = _overlap(windows, booked[resource_id])
                    usage.append((resource_id, day, used / HOUR, opened / HOUR))
                day += dt.timedelta(days=1)
    return usage, places


# What the metric counts: the resources that take bookings now.
BOOKABLE = {"is_active": True, "bookable": True}


def utilisation(start: dt.date, end: dt.date) -> list[Row]:
    usage, places = _usage(BOOKABLE, start, end)
    cells = []
    for resource_id, day, used, opened in usage:
        partner, station = places[resource_id]
        cells.append(
            {
                "day": day,
                "partner": partner,
                "station": station,
                "value": 100.0 * used,
                "weight": opened,
            }
        )
    return roll_up(cells, metric=UTILISATION)


def utilisation_by_resource(
    resource_ids: Iterable[int], start_day: dt.date, end_day: dt.date
) -> dict[int, Utilisation]:
    """Each resource's utilisation over ``start_day``–``end_day`` (Asia/Shanghai days,
    inclusive), as the ``partners.utilisation`` metric counts it, for the resources given
    (whatever their state). Three queries, whatever the number of resources and days; a
    resource never open in the period is left out."""
    ids = sorted({int(pk) for pk in resource_ids})
    if not ids or end_day < start_day:
        return {}
    usage, _places = _usage({"pk__in": ids}, start_day, end_day)
    booked: dict[int, float] = defaultdict(float)
    opened: dict[int, float] = defaultdict(float)
    for resource_id, _day, used, hours in usage:
        booked[resource_id] += used
        opened[resource_id] += hours
    return {pk: Utilisation(booked[pk], opened[pk]) for pk in opened}


# Pledges ---------------------------------------------------------------------------------------


def pledges_delivered(start: dt.date, end: dt.date) -> list[Row]:
    pledges = (
        Pledge.objects.filter(status=Pledge.Status.DELIVERED, **_within("delivered_at", start, end))
        .annotate(day=TruncDate("delivered_at", tzinfo=TZ))
        .order_by()
    )
    cells = pledges.values(
        "day",
        "partner",
        department=models.Case(
            When(proposal__responsible__kind=DEPARTMENT, then=F("proposal__responsible_id")),
            When(case__responsible__kind=DEPARTMENT, then=F("case__responsible_id")),
            default=Value(None),
            output_field=IntegerField(),
        ),
        station=models.Case(
            When(proposal__isnull=False, then=F("proposal__station")),
            default=F("case__station"),
            output_field=IntegerField(),
        ),
    ).annotate(value=Count("pk"))
    return roll_up(cells, metric=PLEDGES_DELIVERED)


# Volunteers and training -----------------------------------------------------------------------


def volunteer_hours(start: dt.date, end: dt.date) -> list[Row]:
    lower, upper = _bounds(start, end)
    shifts = (
        VolunteerShift.objects.filter(
            status=VolunteerShift.Status.DONE,
            # partners_shift_done_idx is on the end of done shifts.
            ends_at__gt=lower,
            ends_at__lte=upper + LONGEST_SHIFT,
            starts_at__gte=lower,
            starts_at__lt=upper,
        )
        .annotate(day=TruncDate("starts_at", tzinfo=TZ))
        .order_by()
    )
    cells = shifts.values("day", "partner", "station").annotate(
        value=Sum(between("starts_at", "ends_at") / HOUR)
    )
    return roll_up(cells, metric=VOLUNTEER_HOURS)


def training_hours_per_member(start: dt.date, end: dt.date) -> list[Row]:
    """Hours attended by an organisation's acting members, per acting member (SUM).

    A row's value is the day's attended hours divided by the headcount, so the days of a
    period add up to the period's hours per member: a month's figure is the hours the
    organisation's staff trained that month, per head. A mean of daily values (or a weighted
    mean) would instead read the same for one training day as for ten.

    The numerator counts attendees recorded as attended who hold an acting seat (admin or
    staff) in the organisation they attended for; volunteers and people without an account are
    trained too, but are not in the headcount, so counting their hours would inflate the
    figure of a partner with many volunteers and two staff. The headcount is the acting seats
    of active accounts as they stand when the day is computed (memberships keep no history):
    the rollup computes a day when it is marked, so a past day keeps the headcount it was
    computed with until it is recomputed.

    The platform's row is all those hours divided by the number of people holding an acting
    seat anywhere on the platform (each person once), not a sum of the organisations' ratios.
    Organisations other than departments and partners count in the platform's row only. Three
    queries: the hours, the headcounts, the platform's headcount.
    """
    acting = Membership.objects.filter(
        user=OuterRef("user"), organisation=OuterRef("organisation"), role__in=ACTING_ROLES
    )
    attended = (
        Attendance.objects.filter(
            attended=True,
            user__isnull=False,
            **_within("session__starts_at", start, end),
        )
        .filter(Exists(acting))
        .annotate(day=TruncDate("session__starts_at", tzinfo=TZ))
        .order_by()
        .values_list("day", "organisation_id", "organisation__kind")
        .annotate(hours=Sum("session__hours"))
    )
    attended = list(attended)
    if not attended:
        return []
    seats = Membership.objects.filter(
        role__in=ACTING_ROLES, user__is_active=True, organisation__is_active=True
    ).order_by()
    headcount = dict(seats.values_list("organisation_id").annotate(count=Count("user_id")))
    people = seats.aggregate(count=Count("user_id", distinct=True))["count"]
    platform: dict[dt.date, float] = defaultdict(float)
    rows = []
    for day, organisation, kind, hours in attended:
        hours = float(hours)
        platform[day] += hours
        count = headcount.get(organisation)
        if count and kind in (DEPARTMENT, PARTNER):
            scope = (
                Scope(department_id=organisation)
                if kind == DEPARTMENT
                else Scope(partner_id=organisation)
            )
            rows.append(Row(day=day, scope=scope, value=hours / count, weight=float(count)))
    if people:
        rows += [
            Row(day=day, scope=Scope(), value=hours / people, weight=float(people))
            for day, hours in platform.items()
        ]
    return rows


# The metrics -----------------------------------------------------------------------------------

OWNER_SIDE = frozenset({Dimension.PARTNER, Dimension.STATION, Dimension.DEPARTMENT})

RESOURCE_HOURS = Metric(
    code="partners.resource_hours",
    label=_("资源贡献时长"),
    unit=_("小时"),
    higher_is_better=True,
    dimensions=OWNER_SIDE,
    combine=Combine.SUM,
    compute=resource_hours,
    description=_(
        "企业伙伴资源被批准使用并已实际使用的小时数，按使用日期（北京时间）统计；"
        "跨越午夜的预约分别计入各天，已取消的预约不计。"
    ),
)
BOOKING_APPROVAL_RATE = Metric(
    code="partners.booking_approval_rate",
    label=_("预约批准率"),
    unit="%",
    higher_is_better=True,
    dimensions=OWNER_SIDE,
    combine=Combine.WEIGHTED_MEAN,
    compute=booking_approval_rate,
    description=_(
        "已作出审批的资源预约中予以批准的比例，按审批日期统计；批准后又取消的仍计为批准。"
    ),
)
BOOKING_RESPONSE_HOURS = Metric(
    code="partners.booking_response_hours",
    label=_("预约答复时长中位数"),
    unit=_("小时"),
    higher_is_better=False,
    dimensions=OWNER_SIDE,
    combine=Combine.DISTRIBUTION,
    compute=booking_response_hours,
    description=_(
        "从提出资源预约到提供方批准或拒绝的小时数的中位数，按整小时分组，按审批日期统计，"
        "最多计 168 小时（一周）。"
    ),
    quantile=0.5,
    cap=RESPONSE_CAP_HOURS,
)
UTILISATION = Metric(
    code="partners.utilisation",
    label=_("资源利用率"),
    unit="%",
    higher_is_better=True,
    dimensions=frozenset({Dimension.PARTNER, Dimension.STATION}),
    combine=Combine.WEIGHTED_MEAN,
    compute=utilisation,
    description=_(
        "可预约资源的开放时间（每周开放规则加临时开放、减暂停开放）中，"
        "被已批准预约占用的时间所占的比例；按开放小时加权，即总占用时间除以总开放时间。"
    ),
)
PLEDGES_DELIVERED = Metric(
    code="partners.pledges_delivered",
    label=_("兑现的资源承诺数"),
    unit=_("项"),
    higher_is_better=True,
    dimensions=OWNER_SIDE,
    combine=Combine.SUM,
    compute=pledges_delivered,
    description=_("负责单位确认已兑现的资源承诺数，按确认兑现日期统计。"),
)
VOLUNTEER_HOURS = Metric(
    code="partners.volunteer_hours",
    label=_("志愿服务时长"),
    unit=_("小时"),
    higher_is_better=True,
    dimensions=frozenset({Dimension.PARTNER, Dimension.STATION}),
    combine=Combine.SUM,
    compute=volunteer_hours,
    description=_("企业伙伴志愿者已到岗班次的小时数，按班次开始日期统计；缺勤和取消的班次不计。"),
)
TRAINING_HOURS_PER_MEMBER = Metric(
    code="partners.training_hours_per_member",
    label=_("人均培训学时"),
    unit=_("学时/人"),
    higher_is_better=True,
    dimensions=frozenset({Dimension.DEPARTMENT, Dimension.PARTNER}),
    combine=Combine.SUM,
    compute=training_hours_per_member,
    description=_(
        "单位在岗成员（管理员和工作人员）实际参加培训的学时除以在岗成员人数，按培训日期统计，"
        "一段时间内逐日相加，即该时段的人均培训学时；全平台的数值以全平台在岗人数为分母。"
        "志愿者等非成员的参训学时不计入。"
    ),
)

METRICS = (
    RESOURCE_HOURS,
    BOOKING_APPROVAL_RATE,
    BOOKING_RESPONSE_HOURS,
    UTILISATION,
    PLEDGES_DELIVERED,
    VOLUNTEER_HOURS,
    TRAINING_HOURS_PER_MEMBER,
)
CODES = tuple(metric.code for metric in METRICS)

# What each kind of write changes, for the services that mark days dirty.
# An approved booking's hours (and their share of the open hours), on the days it touches.
BOOKING_USE_CODES = (RESOURCE_HOURS.code, UTILISATION.code)
# A decision (approve, decline), on the decision day.
BOOKING_DECISION_CODES = (BOOKING_APPROVAL_RATE.code, BOOKING_RESPONSE_HOURS.code)
# Opening rules and closures change the open hours, on the days they cover; a change of the
# weekly rules (or of whether a resource takes bookings) on the days from today to this many
# days ahead.
OPENING_CODES = (UTILISATION.code,)
OPENING_HORIZON_DAYS = 90
PLEDGE_CODES = (PLEDGES_DELIVERED.code,)
SHIFT_CODES = (VOLUNTEER_HOURS.code,)
TRAINING_CODES = (TRAINING_HOURS_PER_MEMBER.code,)


def register_metrics() -> None:
    for metric in METRICS:
        register(metric)
