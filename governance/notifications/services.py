"""Writes with business meaning for notifications: publish, read, preferences, unsubscribe."""

from __future__ import annotations

import dataclasses
import json
import logging
import smtplib
from collections.abc import Iterable
from datetime import date, timedelta

from django.conf import settings as django_settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone, translation

from governance.notifications import registry
from governance.notifications.models import (
    Delivery,
    Digest,
    Mode,
    Notification,
    Preference,
    Settings,
)
from governance.notifications.registry import Audience, EventType
from governance.stakeholders.models import Membership, Organisation, User

logger = logging.getLogger(__name__)

INSERT_BATCH = 1000
# Deliveries per task: a worker's message is small, and one lost task loses little time.
TASK_BATCH = 200
EMAIL = "email"
# Errors worth another try: the mail server or the network, not our own code.
TRANSIENT_ERRORS = (smtplib.SMTPException, ConnectionError, TimeoutError, OSError)


def audiences_of(user_ids: Iterable[int]) -> dict[int, str]:
    """Each user's audience in one query: a department seat wins, then a partner seat."""
    user_ids = list(user_ids)
    kinds: dict[int, set[str]] = {}
    for user_id, kind in Membership.objects.filter(
        user_id__in=user_ids, organisation__is_active=True
    ).values_list("user_id", "organisation__kind"):
        kinds.setdefault(user_id, set()).add(kind)
    result = {}
    for user_id in user_ids:
        seats = kinds.get(user_id, set())
        if Organisation.Kind.DEPARTMENT in seats:
            result[user_id] = Audience.DEPARTMENT
        elif Organisation.Kind.PARTNER in seats:
            result[user_id] = Audience.PARTNER
        else:
            result[user_id] = Audience.CITIZEN
    return result


def modes_for(event_type: EventType, user_ids: list[int]) -> dict[int, str]:
    """The mode each recipient gets for ``event_type``: their preference, else the default."""
    if event_type.security:
        return dict.fromkeys(user_ids, Mode.IMMEDIATE)
    audiences = audiences_of(user_ids)
    chosen = dict(
        Preference.objects.filter(user_id__in=user_ids, event_type=event_type.code).values_list(
            "user_id", "mode"
        )
    )
    modes = {}
    for user_id in user_ids:
        audience = audiences[user_id]
        mode = chosen.get(user_id) or event_type.default_mode(audience)
        if mode not in event_type.allowed_modes(audience):
            mode = event_type.default_mode(audience)
        modes[user_id] = mode
    return modes


def _payload(event) -> dict:
    data = dataclasses.asdict(event)
    # Round-trip through JSON now, so a value that cannot be stored fails inside the caller's
    # transaction rather than later in a worker.
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def publish(event, *, actor: User | None = None) -> list[Notification]:
    """Tell the event's recipients: one notification each, written in the caller's transaction.

    E-mail for those who want it at once is enqueued when the transaction commits; a rolled
    back transaction notifies nobody. An unknown event type or a failing recipient function
    raises here, so the caller's change rolls back with it.
    """
    event_type = registry.for_event(event)
    payload = _payload(event)
    try:
        recipients = list(event_type.recipients(event))
    except Exception as exc:
        raise registry.RecipientsFailed(
            f"{event_type.code}: resolving recipients failed: {exc}"
        ) from exc
    actor_id = getattr(actor, "pk", None)
    user_ids = sorted(
        {
            user.pk if isinstance(user, User) else int(user)
            for user in recipients
            if not (event_type.skip_actor and actor_id and _pk(user) == actor_id)
        }
    )
    if not user_ids:
        return []
    url = event_type.url(event) if event_type.url else ""
    with transaction.atomic():
        active = list(
            User.objects.filter(pk__in=user_ids, is_active=True).values_list("pk", flat=True)
        )
        modes = modes_for(event_type, active)
        now = timezone.now()
        notifications = Notification.objects.bulk_create(
            [
                Notification(
                    recipient_id=user_id,
                    event_type=event_type.code,
                    payload=payload,
                    url=url,
                    mode=modes[user_id],
                    created_at=now,
                )
                for user_id in active
            ],
            batch_size=INSERT_BATCH,
        )
        deliveries = Delivery.objects.bulk_create(
            [
                Delivery(notification_id=n.pk, channel=EMAIL, created_at=now, enqueued_at=now)
                for n in notifications
                if n.mode == Mode.IMMEDIATE
            ],
            batch_size=INSERT_BATCH,
        )
        delivery_ids = [delivery.pk for delivery in deliveries]
        if delivery_ids:
            transaction.on_commit(lambda: enqueue_deliveries(delivery_ids))
    return notifications


def _pk(user) -> int:
    return user.pk if isinstance(user, User) else int(user)


def enqueue_deliveries(delivery_ids: list[int]) -> None:
    """Hand deliveries to the workers; a broker outage is logged, and the sweep retries."""
    from governance.notifications.tasks import deliver

    for start in range(0, len(delivery_ids), TASK_BATCH):
        chunk = delivery_ids[start : start + TASK_BATCH]
        try:
            deliver.apply_async(args=[chunk], retry=False)
        except Exception:  # the rows are safe in the database; the sweep re-enqueues them
            logger.warning("broker unavailable: %d deliveries left for the sweep", len(chunk))


@transaction.atomic
def notification_mark_read(*, actor: User, notification: Notification) -> Notification:
    if notification.recipient_id != actor.pk:
        raise PermissionError("Only the recipient marks a notification read.")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


@transaction.atomic
def notifications_mark_all_read(*, actor: User) -> int:
    return Notification.objects.filter(recipient=actor, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def _audience(user: User) -> str:
    return audiences_of([user.pk])[user.pk]


class ModeNotAllowed(ValueError):
    def __init__(self, event_type: EventType, mode: str, allowed: list[str]):
        self.allowed = allowed
        super().__init__(
            f"{mode!r} is not allowed for {event_type.code}; allowed: {', '.join(allowed)}"
        )


@transaction.atomic
def preference_set(*, actor: User, event_type: EventType, mode: str) -> Preference:
    allowed = event_type.allowed_modes(_audience(actor))
    if mode not in allowed:
        raise ModeNotAllowed(event_type, mode, allowed)
    preference, _created = Preference.objects.update_or_create(
        user=actor, event_type=event_type.code, defaults={"mode": mode}
    )
    return preference


@transaction.atomic
def digests_set(*, actor: User, enabled: bool) -> Settings:
    settings, _created = Settings.objects.update_or_create(
        user=actor, defaults={"digests_enabled": enabled}
    )
    return settings


@transaction.atomic
def delivery_resend(*, actor: User, delivery: Delivery) -> Delivery:
    """An admin's "send again": back to pending with a clean slate, enqueued on commit."""
    delivery.state = Delivery.State.PENDING
    delivery.attempts = 0
    delivery.last_error = ""
    delivery.next_attempt_at = None
    delivery.enqueued_at = timezone.now()
    delivery.save(
        update_fields=["state", "attempts", "last_error", "next_attempt_at", "enqueued_at"]
    )
    transaction.on_commit(lambda: enqueue_deliveries([delivery.pk]))
    return delivery


# Sending ---------------------------------------------------------------------------------
def backoff_seconds(attempt: int) -> int:
    """30 s, 60 s, 120 s … capped at 30 min, always well inside the broker's visibility timeout."""
    return min(30 * 2 ** max(attempt - 1, 0), 1800)


def _max_attempts() -> int:
    return getattr(django_settings, "NOTIFICATIONS_MAX_ATTEMPTS", 5)


def deliveries_send(delivery_ids: Iterable[int]) -> dict:
    """Send each pending delivery once; returns what happened, with the ids to retry later.

    Each delivery is locked (``SELECT … FOR UPDATE SKIP LOCKED``), sent and marked sent in one
    transaction, so two workers never both send it and a crash before the commit leaves it
    pending for the next try. Transient errors (SMTP, network) count an attempt and back off;
    after the last attempt, and for errors that will not go away (a missing template), the
    delivery is marked failed with the error, for the admin to see and resend.
    """
    from governance.notifications.channels import CHANNELS, render_notification

    outcome = {"sent": 0, "skipped": 0, "failed": 0, "retry": [], "retry_in": None}
    for delivery_id in delivery_ids:
        with transaction.atomic():
            delivery = (
                Delivery.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("notification", "notification__recipient")
                .filter(pk=delivery_id, state=Delivery.State.PENDING)
                .first()
            )
            now = timezone.now()
            if delivery is None or (delivery.next_attempt_at and delivery.next_attempt_at > now):
                outcome["skipped"] += 1
                continue
            recipient = delivery.notification.recipient
            delivery.attempts += 1
            try:
                message = render_notification(delivery.notification, recipient)
                CHANNELS[delivery.channel].send(recipient=recipient, message=message)
            except TRANSIENT_ERRORS as exc:
                delivery.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                if delivery.attempts >= _max_attempts():
                    delivery.state = Delivery.State.FAILED
                    outcome["failed"] += 1
                else:
                    wait = backoff_seconds(delivery.attempts)
                    delivery.next_attempt_at = now + timedelta(seconds=wait)
                    outcome["retry"].append(delivery.pk)
                    outcome["retry_in"] = min(outcome["retry_in"] or wait, wait)
            except Exception as exc:  # a bug or a missing template: retrying will not help
                logger.exception("delivery %s failed for good", delivery.pk)
                delivery.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                delivery.state = Delivery.State.FAILED
                outcome["failed"] += 1
            else:
                delivery.state = Delivery.State.SENT
                delivery.sent_at = now
                delivery.last_error = ""
                outcome["sent"] += 1
            delivery.save(
                update_fields=["state", "attempts", "last_error", "next_attempt_at", "sent_at"]
            )
    return outcome


def deliveries_sweep(*, now=None, limit: int = 10_000) -> int:
    """Re-enqueue deliveries that were never picked up: the broker was down at commit time, or
    the message was lost. Returns how many were re-enqueued."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=getattr(django_settings, "NOTIFICATIONS_STALE_SECONDS", 300))
    with transaction.atomic():
        ids = list(
            Delivery.objects.filter(state=Delivery.State.PENDING, enqueued_at__lt=stale)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .order_by("pk")
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            Delivery.objects.filter(pk__in=ids).update(enqueued_at=now)
            transaction.on_commit(lambda: enqueue_deliveries(ids))
        digest_ids = list(
            Digest.objects.filter(state=Digest.State.PENDING, created_at__lt=stale)
            .order_by("pk")
            .values_list("pk", flat=True)[:limit]
        )
        if digest_ids:
            transaction.on_commit(lambda: enqueue_digests(digest_ids))
    return len(ids) + len(digest_ids)


# Digests ---------------------------------------------------------------------------------
PLAN_BATCH = 1000
DIGEST_TOP_ITEMS = 5


def period_start(period: str, now) -> date:
    today = timezone.localdate(now)
    if period == Mode.WEEKLY:
        return today - timedelta(days=today.weekday())
    return today


def digests_plan(*, period: str, now=None) -> int:
    """Create this period's digest rows for everyone with pending items, in batches of users,
    and enqueue their sending. Running it twice creates nothing new (the rows' unique key)."""
    if period not in (Mode.DAILY, Mode.WEEKLY):
        raise ValueError(f"unknown digest period {period!r}")
    now = now or timezone.now()
    start = period_start(period, now)
    planned = 0
    last_id = 0
    while True:
        batch = list(
            Notification.objects.filter(
                mode=period, digest__isnull=True, created_at__lte=now, recipient_id__gt=last_id
            )
            .exclude(recipient__notification_settings__digests_enabled=False)
            .order_by("recipient_id")
            .values_list("recipient_id", flat=True)
            .distinct()[:PLAN_BATCH]
        )
        if not batch:
            return planned
        last_id = batch[-1]
        with transaction.atomic():
            Digest.objects.bulk_create(
                [
                    Digest(recipient_id=user_id, period=period, period_start=start, created_at=now)
                    for user_id in batch
                ],
                ignore_conflicts=True,
            )
            ids = list(
                Digest.objects.filter(
                    recipient_id__in=batch,
                    period=period,
                    period_start=start,
                    state=Digest.State.PENDING,
                ).values_list("pk", flat=True)
            )
            transaction.on_commit(lambda ids=ids: enqueue_digests(ids))
        planned += len(ids)


def enqueue_digests(digest_ids: list[int]) -> None:
    from governance.notifications.tasks import send_digests

    for start in range(0, len(digest_ids), TASK_BATCH):
        chunk = digest_ids[start : start + TASK_BATCH]
        try:
            send_digests.apply_async(args=[chunk], retry=False)
        except Exception:  # the sweep re-enqueues pending digests
            logger.warning("broker unavailable: %d digests left for the sweep", len(chunk))


def digest_send(digest_id: int) -> str:
    """Send one digest at most once: lock its row, group its items, send, mark them."""
    from governance.notifications.channels import CHANNELS, render_digest, render_line

    with transaction.atomic():
        digest = (
            Digest.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("recipient")
            .filter(pk=digest_id, state=Digest.State.PENDING)
            .first()
        )
        if digest is None:
            return "skipped"
        recipient = digest.recipient
        items = Notification.objects.filter(
            recipient=recipient,
            mode=digest.period,
            digest__isnull=True,
            created_at__lte=digest.created_at,
        )
        counts = dict(
            items.order_by()
            .values_list("event_type")
            .annotate(n=Count("pk"))
            .values_list("event_type", "n")
        )
        if not counts:
            digest.state = Digest.State.EMPTY
            digest.save(update_fields=["state"])
            return "empty"
        newest: dict[str, list[Notification]] = {}
        for notification in items.order_by("-created_at", "-pk")[
            : DIGEST_TOP_ITEMS * len(counts) * 4
        ]:
            bucket = newest.setdefault(notification.event_type, [])
            if len(bucket) < DIGEST_TOP_ITEMS:
                bucket.append(notification)
        language = recipient.language or django_settings.LANGUAGE_CODE
        groups = []
        for code, count in sorted(counts.items(), key=lambda pair: -pair[1]):
            event_type = registry.get(code)
            with translation.override(language):
                label = str(event_type.label)
            groups.append(
                {
                    "code": code,
                    "label": label,
                    "count": count,
                    "items": [
                        {"line": render_line(n, language), "url": n.url}
                        for n in newest.get(code, [])
                    ],
                }
            )
        digest.attempts += 1
        try:
            message = render_digest(digest, recipient, groups)
            CHANNELS["email"].send(recipient=recipient, message=message)
        except TRANSIENT_ERRORS as exc:
            digest.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if digest.attempts >= _max_attempts():
                digest.state = Digest.State.FAILED
            digest.save(update_fields=["attempts", "last_error", "state"])
            return "retry"
        items.update(digest=digest)
        digest.state = Digest.State.SENT
        digest.sent_at = timezone.now()
        digest.item_count = sum(counts.values())
        digest.last_error = ""
        digest.save(update_fields=["state", "sent_at", "item_count", "attempts", "last_error"])
        return "sent"
