"""Beat computes the radar every night (the current month; in the first days of a month, the
month that just ended too) and publishes each department's weekly summary on Monday morning,
before the weekly digest is planned. Both are idempotent: a month's results are replaced as a
whole, and a department gets one summary per ISO week however often the task runs."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from governance.radar import compute
from governance.radar.services import radar_compute

# A month of a million texts takes minutes, past the default limits (CELERY_TASK_TIME_LIMIT,
# 300 s); these stay under the Redis visibility timeout (3600 s), so a late-acked computation
# is never handed to a second worker while it runs. See bench/README.md for the figures.
COMPUTE_SOFT_LIMIT = 3000
COMPUTE_HARD_LIMIT = 3300


@shared_task(
    name="radar.compute",
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    soft_time_limit=COMPUTE_SOFT_LIMIT,
    time_limit=COMPUTE_HARD_LIMIT,
)
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


@shared_task(
    name="radar.weekly_summaries", acks_late=True, autoretry_for=(OSError,), retry_backoff=True
)
def weekly_summaries_task(today: str | None = None) -> dict:
    import datetime as dt

    from governance.radar.notifications import weekly_summaries_publish

    outcome = weekly_summaries_publish(today=dt.date.fromisoformat(today) if today else None)
    return {
        **outcome,
        "sent": len(outcome["sent"]),
        "already": len(outcome["already"]),
        "empty": len(outcome["empty"]),
    }
