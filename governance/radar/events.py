"""Events the radar publishes (see governance.notifications)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class RadarSummaryReady:
    """A department's weekly radar summary: what rose, why people were unhappy, where the
    queue was longest, for the month the past week belongs to. Its admins read it in their
    weekly digest.

    The figures are copied from the stored results when the summary is made, as plain values,
    so the digest tells what the radar said that Monday even if the month is recomputed later.
    """

    department_id: int
    department_zh: str
    department_en: str
    month: dt.date
    # ISO week the summary was made in ("2026-W48"): one summary per department and week.
    week: str
    # (term, texts this month, mean texts a month over the three months before), best first.
    themes: tuple[tuple[str, int, float], ...]
    # (reason label as its Chinese msgid, count this month, change against last month).
    reasons: tuple[tuple[str, int, int], ...]
    # The department's busiest heatmap cell: a station, a service, a weekday (0 = Monday) and
    # an hour, with its mean queue (people) and mean wait (minutes). Empty when no visits.
    peak_station_zh: str = ""
    peak_station_en: str = ""
    peak_service_zh: str = ""
    peak_service_en: str = ""
    peak_weekday: int | None = None
    peak_hour: int | None = None
    peak_visits: int = 0
    peak_queue: float = 0.0
    peak_wait: float | None = None
