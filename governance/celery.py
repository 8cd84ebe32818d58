"""The Celery application: configured from Django settings (the ``CELERY_`` names)."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")

app = Celery("gongzhi")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Times are Asia/Shanghai (CELERY_TIMEZONE). Digests run from beat, never from an ETA, so no
# message waits in Redis longer than the visibility timeout.
app.conf.beat_schedule = {
    "worker-heartbeat": {
        "task": "core.heartbeat",
        "schedule": 30.0,
        # A heartbeat that waited longer than its own period says nothing new.
        "options": {"expires": 25},
    },
    "notifications-sweep": {
        "task": "notifications.sweep",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "notifications-daily-digest": {
        "task": "notifications.plan_digests",
        "schedule": crontab(hour=8, minute=0),
        "args": ("daily",),
    },
    "notifications-weekly-digest": {
        "task": "notifications.plan_digests",
        "schedule": crontab(hour=8, minute=0, day_of_week="mon"),
        "args": ("weekly",),
    },
    "kpis-rollup": {
        "task": "kpis.rollup",
        "schedule": 600.0,
        "options": {"expires": 540},
    },
    "kpis-check-alerts": {
        "task": "kpis.check_alerts",
        "schedule": crontab(minute=15),
        "options": {"expires": 3000},
    },
    # Due-soon reminders and overdue escalations, each sent once per case and deadline.
    "cases-sla-sweep": {
        "task": "cases.sla_sweep",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
    # The needs radar: the month so far, every night (and the month just ended, early on).
    "radar-compute": {
        "task": "radar.compute",
        "schedule": crontab(hour=2, minute=40),
    },
    # Each department's weekly radar summary, from the night's results, published before the
    # weekly digest is planned (08:00) so that Monday's digest carries it.
    "radar-weekly-summaries": {
        "task": "radar.weekly_summaries",
        "schedule": crontab(hour=7, minute=30, day_of_week="mon"),
        "options": {"expires": 1800},
    },
    # Official answers to proposals past their support threshold: due soon, then overdue.
    "proposals-answers-sweep": {
        "task": "proposals.answers_sweep",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
}
