"""Writes with business meaning for stations and visits."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from governance.kpis.registry import local_day
from governance.kpis.services import kpis_mark_dirty
from governance.stations.metrics import METRIC_CODES
from governance.stations.models import Service, Station, Visit


@transaction.atomic
def visit_record(
    *,
    actor,
    station: Station,
    service: Service,
    ticket: str,
    channel: str,
    arrived_at: datetime | None = None,
) -> Visit:
    """A citizen takes a ticket for ``service`` at ``station``."""
    visit = Visit(
        station=station,
        service=service,
        ticket=ticket,
        channel=channel,
        arrived_at=arrived_at or timezone.now(),
    )
    visit.full_clean()
    visit.save()
    kpis_mark_dirty(metric_codes=METRIC_CODES, days=[local_day(visit.arrived_at)])
    return visit


@transaction.atomic
def visit_call(*, actor, visit: Visit, counter: str, called_at: datetime | None = None) -> Visit:
    visit.called_at = called_at or timezone.now()
    visit.counter = counter
    visit.outcome = Visit.Outcome.SERVING
    visit.handled_by = actor if getattr(actor, "is_authenticated", False) else None
    visit.full_clean()
    visit.save(update_fields=["called_at", "counter", "outcome", "handled_by"])
    kpis_mark_dirty(metric_codes=METRIC_CODES, days=[local_day(visit.arrived_at)])
    return visit


@transaction.atomic
def visit_finish(
    *, actor, visit: Visit, outcome: str, finished_at: datetime | None = None
) -> Visit:
    visit.finished_at = finished_at or timezone.now()
    visit.outcome = outcome
    visit.full_clean()
    visit.save(update_fields=["finished_at", "outcome"])
    kpis_mark_dirty(metric_codes=METRIC_CODES, days=[local_day(visit.arrived_at)])
    return visit
