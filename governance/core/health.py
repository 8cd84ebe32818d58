"""Health of the parts the site needs: the database and the broker (and, for information, the
age of the last worker heartbeat)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.utils import timezone

from governance.celery import app as celery_app

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str


def check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"
        # The driver's message names hosts and users: it goes to the log, not to the public.
        logger.warning("health check: database down: %s", exc)
        return Check(False, type(exc).__name__)
    return Check(True, connection.vendor)


def check_broker(timeout: float = 2.0) -> Check:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
            transport = conn.transport_cls
    except Exception as exc:  # kombu raises OperationalError and socket errors alike
        logger.warning("health check: broker down: %s", exc)
        return Check(False, type(exc).__name__)
    return Check(True, str(transport))


def worker_heartbeat() -> dict:
    from governance.core.models import WorkerHeartbeat

    try:
        last = WorkerHeartbeat.objects.order_by("-beat_at").values("hostname", "beat_at").first()
    except Exception:  # the database check reports the cause
        return {"status": "unknown"}
    if not last:
        return {"status": "never"}
    age = (timezone.now() - last["beat_at"]).total_seconds()
    fresh = age <= 2 * settings.WORKER_HEARTBEAT_SECONDS
    return {
        "status": "fresh" if fresh else "stale",
        "hostname": last["hostname"],
        "age_seconds": round(age, 1),
    }
