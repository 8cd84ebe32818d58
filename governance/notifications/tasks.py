"""Celery tasks: thin wrappers that take ids and call the services.

All are idempotent (the rows' states, row locks and unique keys decide what is left to do), so
a message delivered twice does no harm, and each says so to Celery: ``acks_late`` (the message
is acknowledged only after the task ran) with ``reject_on_worker_lost`` (a pool process killed
mid-task puts its message back in the queue). Workers prefetch one message each.

Retries are new messages with a countdown, capped at half the Redis visibility timeout (see
``services.max_countdown``) so no worker holds one long enough for Redis to hand it out again;
digests are planned by beat, never by ETA.

Recovery, as measured by tests/integration/test_notifications_reliability.py: a pool process
killed mid-batch is replaced in about 0.1 s and its message goes back to the end of the queue,
so the rest of that batch is sent once the messages ahead of it are. A whole worker killed
(main process and pool) leaves its message unacknowledged in Redis until the visibility
timeout (an hour); the periodic sweep re-enqueues those deliveries first, after at most
``NOTIFICATIONS_STALE_SECONDS`` (300 s) plus the sweep's period (60 s). The same sweep sends
what never reached a broker that was down at commit time.
"""

from __future__ import annotations

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from governance.notifications import services
from governance.notifications.models import Mode

RELIABLE = {"ignore_result": True, "acks_late": True, "reject_on_worker_lost": True}


def _summary(outcome: dict) -> dict:
    return {key: value for key, value in outcome.items() if key not in {"retry", "retry_later"}}


@shared_task(name="notifications.deliver", **RELIABLE)
def deliver(delivery_ids: list[int]) -> dict:
    try:
        outcome = services.deliveries_send(delivery_ids)
    except SoftTimeLimitExceeded:
        # Out of time mid-batch: what was sent is marked sent, the rest goes back in the queue
        # (the sent ones are skipped there at the cost of one query each).
        services.enqueue_deliveries(delivery_ids)
        return {"requeued": len(delivery_ids)}
    for wait, ids in sorted(outcome["retry_later"].items()):
        services.enqueue_deliveries(ids, countdown=wait)
    return _summary(outcome)


@shared_task(name="notifications.sweep", **RELIABLE)
def sweep() -> int:
    return services.deliveries_sweep()


@shared_task(name="notifications.plan_digests", **RELIABLE)
def plan_digests(period: str) -> int:
    return services.digests_plan(period=period)


@shared_task(name="notifications.send_digests", **RELIABLE)
def send_digests(digest_ids: list[int]) -> dict:
    try:
        outcome = services.digests_send(digest_ids)
    except SoftTimeLimitExceeded:
        services.enqueue_digests(digest_ids)
        return {"requeued": len(digest_ids)}
    for wait, ids in sorted(outcome["retry_later"].items()):
        services.enqueue_digests(ids, countdown=wait)
    return _summary(outcome)


DAILY = Mode.DAILY.value
WEEKLY = Mode.WEEKLY.value
