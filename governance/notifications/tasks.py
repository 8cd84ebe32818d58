"""Celery tasks: thin wrappers that take ids and call the services.

All are idempotent (the rows' states and unique keys decide what is left to do) and run with
the project's defaults: ``acks_late``, reject on worker loss, prefetch 1. Retries use a
countdown, never longer than the broker's visibility timeout; digests are scheduled by beat,
not by ETA.
"""

from __future__ import annotations

from celery import shared_task

from governance.notifications import services
from governance.notifications.models import Mode


@shared_task(name="notifications.deliver", ignore_result=True)
def deliver(delivery_ids: list[int]) -> dict:
    outcome = services.deliveries_send(delivery_ids)
    if outcome["retry"]:
        deliver.apply_async(args=[outcome["retry"]], countdown=outcome["retry_in"])
    return {key: value for key, value in outcome.items() if key != "retry"}


@shared_task(name="notifications.sweep", ignore_result=True)
def sweep() -> int:
    return services.deliveries_sweep()


@shared_task(name="notifications.plan_digests", ignore_result=True)
def plan_digests(period: str) -> int:
    return services.digests_plan(period=period)


@shared_task(name="notifications.send_digests", ignore_result=True)
def send_digests(digest_ids: list[int]) -> dict:
    outcome: dict[str, int] = {}
    for digest_id in digest_ids:
        result = services.digest_send(digest_id)
        outcome[result] = outcome.get(result, 0) + 1
    return outcome


DAILY = Mode.DAILY.value
WEEKLY = Mode.WEEKLY.value
