"""Celery tasks: thin wrappers around the rollup services, idempotent and acknowledged late."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from governance.kpis import alerts, services
from governance.kpis.registry import local_day

RELIABLE = {"ignore_result": True, "acks_late": True, "reject_on_worker_lost": True}


@shared_task(name="kpis.rollup", **RELIABLE)
def rollup(limit: int = 400) -> dict:
    """Recompute the dirty days; today and yesterday are always dirty, so fresh data flows in
    even where a write did not go through a service (imports, the admin)."""
    today = local_day(timezone.now())
    services.kpis_mark_dirty(days=[today, today - dt.timedelta(days=1)])
    return services.kpis_rollup(limit=limit)


@shared_task(name="kpis.check_alerts", **RELIABLE)
def check_alerts() -> dict:
    """Tell the owners of each KPI that turned red for its period (once per target)."""
    return alerts.kpis_check_alerts(today=local_day(timezone.now()))
