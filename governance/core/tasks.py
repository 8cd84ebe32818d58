from __future__ import annotations

from celery import shared_task
from django.db.models import F
from django.utils import timezone

from governance.core.models import WorkerHeartbeat


@shared_task(name="core.heartbeat", bind=True, ignore_result=False)
def heartbeat(self) -> dict:
    """Record that a worker is alive and consuming; idempotent per run (an upsert)."""
    hostname = self.request.hostname or "unknown"
    now = timezone.now()
    updated = WorkerHeartbeat.objects.filter(hostname=hostname).update(
        beat_at=now, beats=F("beats") + 1
    )
    if not updated:
        WorkerHeartbeat.objects.get_or_create(
            hostname=hostname, defaults={"beat_at": now, "beats": 1}
        )
    return {"hostname": hostname, "beat_at": now.isoformat()}
