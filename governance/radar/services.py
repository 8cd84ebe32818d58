"""The radar's writes: searches that found nothing, and (re)computing a month."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from governance.radar import compute
from governance.radar.models import Run, SearchMiss
from governance.radar.text import normalise_query


def search_miss_record(*, query: str, station=None, day: dt.date | None = None) -> None:
    """Count one catalogue search that found nothing: one row per day, station and term,
    incremented in the database (no lost updates when many search at once)."""
    term = normalise_query(query)
    if len(term) < 2:
        return
    day = day or timezone.localdate(timezone=compute.TZ)
    station_id = getattr(station, "pk", station)
    rows = SearchMiss.objects.filter(day=day, station_id=station_id, term=term)
    if rows.update(count=F("count") + 1):
        return
    try:
        with transaction.atomic():
            SearchMiss.objects.create(day=day, station_id=station_id, term=term, count=1)
    except IntegrityError:  # another request created it first
        rows.update(count=F("count") + 1)


def radar_compute(
    *, month: dt.date | None = None, history: int = compute.HISTORY_MONTHS
) -> list[Run]:
    """Recompute ``month`` (the current one by default) and the months its growth needs."""
    return compute.compute(month, history=history)
