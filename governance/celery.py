"""The Celery application: configured from Django settings (the ``CELERY_`` names)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")

app = Celery("gongzhi")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    "worker-heartbeat": {
        "task": "core.heartbeat",
        "schedule": 30.0,
        # A heartbeat that waited longer than its own period says nothing new.
        "options": {"expires": 25},
    },
}
