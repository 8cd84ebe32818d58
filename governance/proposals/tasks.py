"""The proposals app's Celery task: ``proposals.answers_sweep`` (every five minutes, from beat)
tells departments of official answers due soon and overdue, once each (idempotent: the
``*_told_at`` columns are claimed by an ``UPDATE`` before the event is published)."""

from __future__ import annotations

from celery import shared_task

from governance.proposals import services


@shared_task(name="proposals.answers_sweep", ignore_result=True, acks_late=True)
def answers_sweep() -> dict[str, int]:
    return services.answers_sweep()
