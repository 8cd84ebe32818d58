"""The radar's writes: searches that found nothing, and (re)computing a month."""

from __future__ import annotations

import datetime as dt
import hashlib

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from governance.radar import compute
from governance.radar.models import Run, SearchMiss
from governance.radar.text import normalise_query

SECONDS_PER_DAY = 24 * 60 * 60


MAX_NEW_TERMS_PER_DAY = 2_000  # distinct terms recorded per day; the rest are not counted


def search_miss_record(
    *, query: str, station=None, searcher: str = "", day: dt.date | None = None
) -> bool:
    """Count one catalogue search that found nothing: one row per day, station and term,
    incremented in the database (no lost updates when many search at once). Returns whether
    it counted.

    Anyone may search, so the list is kept from being stuffed: each searcher (a key such as the
    client address, hashed here and kept only in the cache for the day) counts once per term
    and day, and no more than ``MAX_NEW_TERMS_PER_DAY`` new terms are recorded a day. The
    unmet-demand list then shows a term only when several people searched for it.
    """
    term = normalise_query(query)
    if len(term) < 2:
        return False
    day = day or timezone.localdate(timezone=compute.TZ)
    station_id = getattr(station, "pk", station)
    if not searcher:  # nobody to count once: not counted at all
        return False
    digest = hashlib.sha256(f"{searcher}|{station_id}|{term}".encode()).hexdigest()[:32]
    if not cache.add(f"radar:searched:{day}:{digest}", 1, timeout=SECONDS_PER_DAY):
        return False
    rows = SearchMiss.objects.filter(day=day, station_id=station_id, term=term)
    if rows.update(count=F("count") + 1):
        return True
    new_terms = f"radar:new-terms:{day}"
    cache.add(new_terms, 0, timeout=SECONDS_PER_DAY)
    try:
        if cache.incr(new_terms) > MAX_NEW_TERMS_PER_DAY:
            return False
    except ValueError:  # evicted between add and incr: count from here
        cache.set(new_terms, 1, timeout=SECONDS_PER_DAY)
    try:
        with transaction.atomic():
            SearchMiss.objects.create(day=day, station_id=station_id, term=term, count=1)
    except IntegrityError:  # another request created it first
        rows.update(count=F("count") + 1)
    return True


def radar_compute(
    *, month: dt.date | None = None, history: int = compute.HISTORY_MONTHS
) -> list[Run]:
    """Recompute ``month`` (the current one by default) and the months its growth needs."""
    return compute.compute(month, history=history)
