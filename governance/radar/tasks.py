"""Beat computes the radar every night (the current month; in the first days of a month, the
month that just ended too) and sends each department's weekly summary on Monday morning."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from governance.radar import compute
from governance.radar.services import radar_compute


@shared_task(name="radar.compute", acks_late=True, autoretry_for=(OSError,), retry_backoff=True)
def compute_task(month: str | None = None) -> dict:
    import datetime as dt

    if month:
        months = [dt.date.fromisoformat(month)]
    else:
        today = timezone.localdate(timezone=compute.TZ)
        months = [compute.month_of(today)]
        if today.day <= 3:  # late visits, ratings and texts of the month that just ended
            months.insert(0, compute.add_months(months[0], -1))
    runs = []
    for one in months:
        runs += radar_compute(month=one)
    return {
        "months": [run.month.isoformat() for run in runs],
        "texts": sum(run.texts for run in runs),
        "seconds": round(sum(run.seconds for run in runs), 3),
    }
