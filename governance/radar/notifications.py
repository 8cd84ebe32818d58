"""The radar's event type: each department's weekly summary, for its admins' weekly digest.

Beat runs ``radar.weekly_summaries`` on Monday morning, after the night's computation and
before the weekly digest is planned (08:00). For each active department it reads the stored
results of the month the past week belongs to (on Monday 1 December, November; on Monday
8 December, December so far) and publishes :class:`RadarSummaryReady` when the radar has
something for that department: a rising theme at one of its stations, a reason for
unhappiness with its services, or a visit to one of them. A department with nothing in the
radar gets no summary.

Once per department and ISO week: under a lock on the department's row, a summary is
published only when none exists for that week yet (the notifications written by an earlier
run carry the week in their payload). Beat firing twice, a retry, or someone running the task
by hand on Wednesday adds nothing.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import ExpressionWrapper, F, FloatField, Sum
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from governance.notifications.models import Mode, Notification
from governance.notifications.registry import Audience, EventType, register
from governance.notifications.services import publish
from governance.radar import compute, registry
from governance.radar.events import RadarSummaryReady
from governance.radar.models import HeatCell, ReasonCount, Run, Theme
from governance.stakeholders.models import Membership, Organisation
from governance.stakeholders.queries import acting_members

CODE = "radar.weekly_summary"
THEMES = 5  # rising themes in a summary
REASONS = 3  # reasons for unhappiness in a summary


def department_admins(event: RadarSummaryReady):
    """Active admins of the department (while it is active); not its staff or viewers."""
    return acting_members([event.department_id], roles={Membership.Role.ADMIN})


def first_station(department_id: int):
    """The department's first active station, by name (the radar page's own order)."""
    from governance.stations.models import Station

    return (
        Station.objects.filter(departments=department_id, is_active=True)
        .order_by("name_zh", "pk")
        .only("pk", "slug")
        .first()
    )


def radar_url(event: RadarSummaryReady) -> str:
    """The radar page at the department's first station, for the summary's month, with the
    reasons narrowed to the department."""
    params = {"month": f"{event.month:%Y-%m}"}
    station = first_station(event.department_id)
    if station is not None:
        params["station"] = station.slug
    slug = (
        Organisation.objects.filter(pk=event.department_id).values_list("slug", flat=True).first()
    )
    if slug:
        params["department"] = slug
    return f"{reverse('radar:overview')}?{urlencode(params)}"


def register_event_types() -> None:
    register(
        EventType(
            code=CODE,
            event=RadarSummaryReady,
            label=_("需求雷达周报"),
            recipients=department_admins,
            url=radar_url,
            # A summary of the week: it belongs in the weekly digest, not in the inbox at once.
            defaults={Audience.DEPARTMENT: Mode.WEEKLY},
        )
    )


# The summary -------------------------------------------------------------------------------
def iso_week(day: dt.date) -> str:
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


def summary_month(today: dt.date) -> dt.date:
    """The month the past week belongs to: the month of yesterday (Sunday, on a Monday)."""
    return compute.month_of(today - dt.timedelta(days=1))


def _reason_label(source: str, reason: str) -> str:
    """The reason's label as its Chinese msgid (the templates translate it per reader)."""
    try:
        reason_source = registry.reason_source(source)
    except registry.UnknownSource:
        return reason
    with translation.override(settings.LANGUAGE_CODE):
        return reason_source.label_of(reason)


def department_themes(department_id: int, month: dt.date) -> tuple[tuple[str, int, float], ...]:
    """The month's rising themes at the department's stations: each term once (its best rank
    at any of them; its texts and its baseline added up), best ranked first. One query."""
    rows = Theme.objects.filter(
        month=month, station__departments=department_id, station__is_active=True
    ).values_list("term", "rank", "count", "baseline")
    best: dict[str, list] = {}
    for term, rank, count, baseline in rows:
        seen = best.setdefault(term, [rank, 0, 0.0])
        seen[0] = min(seen[0], rank)
        seen[1] += count
        seen[2] += baseline
    ranked = sorted(best.items(), key=lambda pair: (pair[1][0], -pair[1][1], pair[0]))
    return tuple(
        (term, count, round(baseline, 1)) for term, (_rank, count, baseline) in ranked[:THEMES]
    )


def department_reasons(department_id: int, month: dt.date) -> tuple[tuple[str, int, int], ...]:
    """The reasons given most often about the department this month, with the change against
    last month. One query."""
    previous = compute.add_months(month, -1)
    totals: dict[tuple[str, str], list[int]] = {}
    rows = (
        ReasonCount.objects.filter(department_id=department_id, month__in=[month, previous])
        .values_list("source", "reason", "month")
        .annotate(total=Sum("count"))
        .order_by()
    )
    for source, reason, row_month, total in rows:
        counts = totals.setdefault((source, reason), [0, 0])
        counts[0 if row_month == month else 1] += total
    ranked = sorted(
        ((key, now, before) for key, (now, before) in totals.items() if now),
        key=lambda row: (-row[1], -(row[1] - row[2]), row[0]),
    )
    return tuple(
        (_reason_label(source, reason), now, now - before)
        for (source, reason), now, before in ranked[:REASONS]
    )


def department_peak(department_id: int, month: dt.date) -> dict:
    """The department's busiest heatmap cell: the longest mean queue, then the most visits.
    One query; empty when its services had no visits this month."""
    # HeatCell.queue, in the database: the waiting in that hour over the hour's length.
    queue = ExpressionWrapper(F("queue_minutes") / (60.0 * F("days")), output_field=FloatField())
    cell = (
        HeatCell.objects.filter(month=month, service__department=department_id, days__gt=0)
        .select_related("station", "service")
        .annotate(mean_queue=queue)
        .order_by("-mean_queue", "-visits", "weekday", "hour", "pk")
        .first()
    )
    if cell is None:
        return {}
    wait = cell.mean_wait
    return {
        "peak_station_zh": cell.station.name_zh,
        "peak_station_en": cell.station.name_en,
        "peak_service_zh": cell.service.name_zh,
        "peak_service_en": cell.service.name_en,
        "peak_weekday": cell.weekday,
        "peak_hour": cell.hour,
        "peak_visits": cell.visits,
        "peak_queue": round(cell.queue, 1),
        "peak_wait": None if wait is None else round(wait, 1),
    }


def summary_for(department: Organisation, month: dt.date, week: str) -> RadarSummaryReady | None:
    """The department's summary of ``month`` from the stored results, or ``None`` when the
    radar has nothing for it."""
    themes = department_themes(department.pk, month)
    reasons = department_reasons(department.pk, month)
    peak = department_peak(department.pk, month)
    if not (themes or reasons or peak):
        return None
    return RadarSummaryReady(
        department_id=department.pk,
        department_zh=department.name_zh,
        department_en=department.name_en,
        month=month,
        week=week,
        themes=themes,
        reasons=reasons,
        **peak,
    )


def already_summarised(department_id: int, week: str) -> bool:
    return Notification.objects.filter(
        event_type=CODE, payload__department_id=department_id, payload__week=week
    ).exists()


def weekly_summaries_publish(*, today: dt.date | None = None) -> dict:
    """Publish each active department's summary for this ISO week, once. Returns what it did:
    the month and week, whether the month was computed (if not, nobody is told anything), and
    the ids of the departments told, told earlier this week, and left out (nothing in the
    radar for them)."""
    today = today or timezone.localdate(timezone=compute.TZ)
    month = summary_month(today)
    week = iso_week(today)
    computed = Run.objects.filter(month=month, done_at__isnull=False).exists()
    outcome = {
        "month": month.isoformat(),
        "week": week,
        "computed": computed,
        "sent": [],
        "already": [],
        "empty": [],
    }
    if not computed:
        return outcome
    departments = Organisation.objects.filter(
        kind=Organisation.Kind.DEPARTMENT, is_active=True
    ).order_by("pk")
    for department_id in departments.values_list("pk", flat=True):
        with transaction.atomic():
            # The lock makes "no summary yet, so publish one" a single step per department.
            department = (
                Organisation.objects.select_for_update()
                .filter(pk=department_id, is_active=True)
                .first()
            )
            if department is None:
                continue
            if already_summarised(department.pk, week):
                outcome["already"].append(department.pk)
                continue
            event = summary_for(department, month, week)
            if event is None:
                outcome["empty"].append(department.pk)
                continue
            publish(event)
            outcome["sent"].append(department.pk)
    return outcome
