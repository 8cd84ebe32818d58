"""What the feedback wing tells the needs radar (``governance.radar.registry``).

- **Text source** ``feedback``: the free text of every kind of feedback (a rating's comment, a
  suggestion, a complaint, a praise). Hidden text (abusive, taken down by a moderator) and
  ratings excluded on appeal (malicious or mistaken) do not feed the themes; rows without text
  are not even read. The comment a rater adds when re-rating a rectification is left out: it
  judges the rectification (the KPI 整改满意率 measures that), it is written weeks after the
  month the row is placed in by ``created_at``, and a month computed before it was written
  would never see it.
- **Reason source** ``feedback.bad_rating``: the reasons ticked on a 差评, a visit or online
  rating at 不满意 or 非常不满意 (``BAD_LEVELS``). A 基本满意 may carry complaint reasons too
  (``feedback.reasons``), but it is not a 差评: the national 好差评 scheme, the KPI
  "差评率", the rectification loop and the inbox all draw the line at 不满意, and counting the
  reasons of a satisfied-enough rater beside those of an unhappy one would make a reason look
  like unhappiness where the rater said "基本满意". Their reasons stay on the row, readable in
  the inbox (``reason`` filter with level 3).
- **Reason source** ``feedback.complaint``: complaints (投诉), by the reasons they carry.

A row with no reason ticked counts once under ``unspecified`` (未说明原因); a row counts once
under each reason it names. Excluded rows (upheld appeal) do not count, as in every figure;
hidden rows do, since hiding takes down the text, not the rating.

Each count is one grouped query: rows are grouped by their list of reasons and their cell
(station × service × department), so the database returns one row per distinct combination,
whatever the number of ratings, and the lists are split here. That works alike on PostgreSQL
(``jsonb`` groups by value) and SQLite (JSON text).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import Counter
from collections.abc import Iterable
from urllib.parse import urlencode

from django.db.models import Case, Count, F, IntegerField, Q, When
from django.urls import reverse
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from feedback import reasons as reason_tags
from feedback.models import BAD_LEVELS, RATING_KINDS, Feedback, Kind
from feedback.queries import LEVEL_BAD, UNSPECIFIED, UNSPECIFIED_LABEL, feedback_visible_to
from governance.radar.registry import (
    Item,
    ReasonRow,
    ReasonSource,
    TextSource,
    register_reason_source,
    register_text_source,
)
from governance.stakeholders.models import Organisation

TEXT_SOURCE = "feedback"
BAD_RATING_SOURCE = "feedback.bad_rating"
COMPLAINT_SOURCE = "feedback.complaint"
TITLE_CHARS = 40

# What feeds the themes: text a reader may still see, in rows that count.
ELIGIBLE = Q(is_hidden=False, excluded=False) & ~Q(text="")


def reason_labels() -> dict:
    """The complaint reasons (those a 不满意 may carry) and ``unspecified``, code → label."""
    labels = {
        reason.code: reason.label
        for reason in reason_tags.REASONS
        if reason.levels & frozenset(BAD_LEVELS)
    }
    labels[UNSPECIFIED] = UNSPECIFIED_LABEL
    return labels


# Texts -------------------------------------------------------------------------------------
def visible(actor, ids: Iterable[int]) -> list[Item]:
    """The feedback among ``ids`` that ``actor`` may open (their own, their organisations';
    everything for a superuser), newest first, in one query once the actor's seats are read.
    A text hidden or excluded since the month was computed is left out, as it would be now."""
    ids = [int(pk) for pk in ids]
    if not ids:
        return []
    rows = (
        feedback_visible_to(actor)
        .select_related(None)
        .filter(ELIGIBLE, pk__in=ids)
        .only("pk", "kind", "text", "created_at")
        .order_by("-created_at", "-pk")
    )
    return [
        Item(
            source=TEXT_SOURCE,
            object_id=row.pk,
            title=f"{row.get_kind_display()} · {Truncator(row.text).chars(TITLE_CHARS)}",
            url=reverse("feedback:detail", args=[row.pk]),
            created_at=row.created_at,
        )
        for row in rows
    ]


# Reasons -----------------------------------------------------------------------------------
def _count(rows, start: dt.datetime, end: dt.datetime) -> list[ReasonRow]:
    known = reason_tags.BY_CODE
    department = Case(
        When(
            organisation__kind=Organisation.Kind.DEPARTMENT,
            then=F("organisation_id"),
        ),
        default=None,
        output_field=IntegerField(),
    )
    grouped = (
        rows.filter(excluded=False, created_at__gte=start, created_at__lt=end)
        .annotate(department=department)
        .values("reasons", "station_id", "service_id", "department")
        .annotate(n=Count("pk"))
        .order_by()
    )
    totals: Counter = Counter()
    for row in grouped:
        cell = (row["station_id"], row["service_id"], row["department"])
        codes = row["reasons"] if isinstance(row["reasons"], list) else []
        # Each reason once per row; codes the catalogue does not know (written around the
        # services) count as no reason, so every row is counted.
        named = [code for code in dict.fromkeys(codes) if isinstance(code, str) and code in known]
        for code in named or [UNSPECIFIED]:
            totals[(code, *cell)] += row["n"]
    return [
        ReasonRow(
            reason=code,
            count=count,
            station_id=station,
            service_id=service,
            department_id=department,
        )
        for (code, station, service, department), count in totals.items()
    ]


def count_bad_ratings(start: dt.datetime, end: dt.datetime) -> list[ReasonRow]:
    rows = Feedback.objects.filter(kind__in=sorted(RATING_KINDS), level__in=sorted(BAD_LEVELS))
    return _count(rows, start, end)


def count_complaints(start: dt.datetime, end: dt.datetime) -> list[ReasonRow]:
    return _count(Feedback.objects.filter(kind=Kind.COMPLAINT), start, end)


def inbox_url(
    *,
    reason: str,
    month: dt.date,
    station_id: int | None = None,
    service_id: int | None = None,
    department_id: int | None = None,
    **criteria,
) -> str:
    """The staff inbox narrowed to ``reason`` in ``month`` (and the cell, where given: an
    empty one means any), built without a query: the inbox form reads the ids
    (``forms.ID_PARAMS``). The reader's own inbox applies: they see the rows of their
    organisations only."""
    month = month.replace(day=1)
    params = {
        **criteria,
        "reason": reason,
        # As counted: a rating excluded on appeal is in no figure.
        "excluded": "no",
        "start": month.isoformat(),
        "end": month.replace(day=calendar.monthrange(month.year, month.month)[1]).isoformat(),
    }
    for name, value in (
        ("station_id", station_id),
        ("service_id", service_id),
        ("organisation_id", department_id),
    ):
        if value is not None:
            params[name] = value
    return f"{reverse('feedback:inbox')}?{urlencode(params)}"


def bad_rating_items_url(reason, month, station_id=None, service_id=None, department_id=None):
    return inbox_url(
        level=LEVEL_BAD,
        reason=reason,
        month=month,
        station_id=station_id,
        service_id=service_id,
        department_id=department_id,
    )


def complaint_items_url(reason, month, station_id=None, service_id=None, department_id=None):
    return inbox_url(
        kind=Kind.COMPLAINT,
        reason=reason,
        month=month,
        station_id=station_id,
        service_id=service_id,
        department_id=department_id,
    )


def register_radar_sources() -> None:
    register_text_source(
        TextSource(
            code=TEXT_SOURCE,
            label=_("评价与反馈"),
            model="feedback.Feedback",
            fields=("text",),
            created="created_at",
            station="station_id",
            eligible=ELIGIBLE,
            visible=visible,
        )
    )
    labels = reason_labels()
    register_reason_source(
        ReasonSource(
            code=BAD_RATING_SOURCE,
            label=_("差评"),
            reasons=labels,
            count=count_bad_ratings,
            items_url=bad_rating_items_url,
        )
    )
    register_reason_source(
        ReasonSource(
            code=COMPLAINT_SOURCE,
            label=_("投诉"),
            reasons=labels,
            count=count_complaints,
            items_url=complaint_items_url,
        )
    )
