"""Writes with business meaning for notifications: publish, read, preferences, unsubscribe."""

from __future__ import annotations

import dataclasses
import json
import logging
import smtplib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings as django_settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import RowNumber
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


_muted: ContextVar[bool] = ContextVar("notifications_muted", default=False)


@contextmanager
def muted() -> Iterator[None]:
    """Publish nothing inside the block: for replaying history (demo data, imports), whose
    events happened before anyone could have been told."""
    token = _muted.set(True)
    try:
        yield
    finally:
        _muted.reset(token)


def publish(event, *, actor: User | None = None) -> list[Notification]:
    """Tell the event's recipients: one notification each, written in the caller's transaction.

    E-mail for those who want it at once is enqueued when the transaction commits; a rolled
    back transaction notifies nobody. An unknown event type or a failing recipient function
    raises here, so the caller's change rolls back with it.
    """
    event_type = registry.for_event(event)
    if _muted.get():
        return []
    payload = _payload(event)
    try:
        user_ids, only_active = _recipient_ids(event_type.recipients(event))
    except Exception as exc:
        raise registry.RecipientsFailed(
            f"{event_type.code}: resolving recipients failed: {exc}"
        ) from exc
    actor_id = getattr(actor, "pk", None)
    if event_type.skip_actor and actor_id:
        user_ids.discard(actor_id)
    if not user_ids:
        return []
    url = event_type.url(event) if event_type.url else ""
    with transaction.atomic():
        if only_active:
            active = sorted(user_ids)
        else:
            active = list(
                User.objects.filter(pk__in=user_ids, is_active=True)
                .order_by("pk")
                .values_list("pk", flat=True)
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


def _recipient_ids(recipients) -> tuple[set[int], bool]:
    """The recipients' ids, and whether inactive accounts are already left out.

    A queryset of users (what most event types return) is read as ids of active accounts in
    one query, without building a User object per recipient: a fan-out to 10,000 people
    costs one short column, not 10,000 model instances.
    """
    if (
        isinstance(recipients, QuerySet)
        and recipients.model is User
        and not recipients.query.is_sliced
        and not recipients.query.combinator
    ):
        return set(recipients.filter(is_active=True).values_list("pk", flat=True)), True
    return {_pk(user) for user in recipients}, False


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
#
# Delivery is at least once, and in practice once. A delivery row is locked, rendered, marked
# sent and handed to the channel inside one transaction, and the COMMIT is the very next thing
# after the channel returns: a send that raises rolls the mark back, and a worker that dies
# before the commit leaves the row pending for the next try. The only way to send twice is to
# die in the instant between the mail leaving and that COMMIT reaching PostgreSQL; the stable
# Message-ID lets a receiving server collapse such a duplicate. Nothing else (audit rows,
# logging, a savepoint) may be added between the send and the commit.


class _SendFailed(Exception):
    """The channel raised: the transaction that marked the row sent must roll back."""

    def __init__(self, error: BaseException):
        super().__init__(str(error))
        self.error = error


def backoff_seconds(attempt: int) -> int:
    """30 s, 60 s, 120 s … capped at 30 min, always well inside the broker's visibility timeout."""
    return min(30 * 2 ** max(attempt - 1, 0), 1800)


def max_countdown() -> int:
    """The longest countdown a task may be given: half the broker's visibility timeout.

    Redis hands an unacknowledged message to another worker once the visibility timeout has
    passed, and a worker holds a countdown message unacknowledged until it runs; a longer
    countdown would have it run twice.
    """
    options = getattr(django_settings, "CELERY_BROKER_TRANSPORT_OPTIONS", None) or {}
    return int(options.get("visibility_timeout", 3600)) // 2


def _max_attempts() -> int:
    return getattr(django_settings, "NOTIFICATIONS_MAX_ATTEMPTS", 5)


def _stale_seconds() -> int:
    return getattr(django_settings, "NOTIFICATIONS_STALE_SECONDS", 300)


# Recorded as the error of what is not sent because its recipient's account was deactivated.
INACTIVE = "Not sent: the recipient's account is inactive."


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:2000]


def _retry_later(outcome: dict, pk: int, wait: int) -> None:
    outcome["retry"].append(pk)
    outcome["retry_in"] = wait if outcome["retry_in"] is None else min(outcome["retry_in"], wait)
    outcome["retry_later"].setdefault(wait, []).append(pk)


def _new_outcome() -> dict:
    # retry_later groups the ids by how long they wait, so each group is enqueued with its
    # own countdown; retry and retry_in (the shortest wait) summarise it.
    return {"sent": 0, "skipped": 0, "failed": 0, "retry": [], "retry_in": None, "retry_later": {}}


def deliveries_send(delivery_ids: Iterable[int]) -> dict:
    """Send each pending delivery once; returns what happened, with the ids to retry later.

    Each delivery is locked (``SELECT … FOR UPDATE SKIP LOCKED``), so two workers never both
    send it, and sent as described above. Transient errors (SMTP, network) count an attempt
    and back off exponentially; after the last attempt, and at once for errors that will not
    go away (a missing template, a bug), the delivery is marked failed with the error, for the
    admin to see and resend. A delivery that is not due yet, already sent or being sent by
    another worker is skipped.
    """
    outcome = _new_outcome()
    for delivery_id in delivery_ids:
        result, wait = _delivery_send(delivery_id)
        if result == "retry":
            _retry_later(outcome, delivery_id, wait)
        else:
            outcome[result] += 1
    return outcome


def _locked_pending(model, pk: int, *, related=()):
    return (
        model.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related(*related)
        .filter(pk=pk, state=model.State.PENDING)
        .first()
    )


def _delivery_send(delivery_id: int) -> tuple[str, int | None]:
    from governance.notifications.channels import CHANNELS, render_notification

    try:
        with transaction.atomic():
            delivery = _locked_pending(
                Delivery, delivery_id, related=("notification", "notification__recipient")
            )
            now = timezone.now()
            if delivery is None or (delivery.next_attempt_at and delivery.next_attempt_at > now):
                return "skipped", None
            notification = delivery.notification
            recipient = notification.recipient
            if not recipient.is_active:  # deactivated since publishing: no one to tell
                delivery.state = Delivery.State.FAILED
                delivery.last_error = INACTIVE
                delivery.save(update_fields=["state", "last_error"])
                return "failed", None
            delivery.attempts += 1
            try:
                channel = CHANNELS[delivery.channel]
                message = render_notification(notification, recipient)
            except Exception as exc:  # a bug or a missing template: retrying will not help
                logger.exception("delivery %s cannot be rendered", delivery.pk)
                delivery.state = Delivery.State.FAILED
                delivery.last_error = _describe(exc)
                delivery.save(update_fields=["state", "attempts", "last_error"])
                return "failed", None
            delivery.state = Delivery.State.SENT
            delivery.sent_at = now
            delivery.last_error = ""
            delivery.next_attempt_at = None
            delivery.save(
                update_fields=["state", "attempts", "last_error", "next_attempt_at", "sent_at"]
            )
            try:
                channel.send(recipient=recipient, message=message)
            except SoftTimeLimitExceeded:
                raise
            except Exception as exc:
                raise _SendFailed(exc) from exc
    except _SendFailed as failure:
        return _delivery_record_failure(delivery_id, failure.error)
    return "sent", None


@transaction.atomic
def _delivery_record_failure(delivery_id: int, error: BaseException) -> tuple[str, int | None]:
    """Count the failed attempt that rolled back: retry later, or fail for good."""
    delivery = _locked_pending(Delivery, delivery_id)
    if delivery is None:  # another worker has it now, or has sent it
        return "skipped", None
    delivery.attempts += 1
    delivery.last_error = _describe(error)
    result: tuple[str, int | None]
    if isinstance(error, TRANSIENT_ERRORS) and delivery.attempts < _max_attempts():
        wait = backoff_seconds(delivery.attempts)
        delivery.next_attempt_at = timezone.now() + timedelta(seconds=wait)
        result = ("retry", wait)
    else:
        if not isinstance(error, TRANSIENT_ERRORS):
            logger.error("delivery %s failed for good", delivery.pk, exc_info=error)
        delivery.state = Delivery.State.FAILED
        result = ("failed", None)
    delivery.save(update_fields=["state", "attempts", "last_error", "next_attempt_at"])
    return result


def deliveries_sweep(*, now=None, limit: int = 10_000) -> int:
    """Re-enqueue what was never picked up: the broker was down at commit time, the message
    was lost, or the worker holding it died (Redis would hand it out again only after the
    visibility timeout). Returns how many deliveries and digests were re-enqueued.

    A delivery is stale once it has been pending for ``NOTIFICATIONS_STALE_SECONDS`` since it
    was last enqueued and is due; a digest once it has been pending that long past its last
    backoff. Rows locked by a worker sending them right now are left alone. Re-enqueuing one
    that is merely slow is harmless: the second message finds it sent and does nothing.
    """
    now = now or timezone.now()
    stale = now - timedelta(seconds=_stale_seconds())
    with transaction.atomic():
        ids = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(state=Delivery.State.PENDING)
            .filter(Q(enqueued_at__lt=stale) | Q(enqueued_at__isnull=True))
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .order_by("pk")
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            Delivery.objects.filter(pk__in=ids).update(enqueued_at=now)
            transaction.on_commit(lambda: enqueue_deliveries(ids))
        # Digests keep no enqueue time or due time of their own: a digest counts as stale once
        # the stale age plus the backoffs of its failed attempts have passed since it was
        # planned.
        due = Q()
        for attempts in range(_max_attempts()):
            waited = sum(backoff_seconds(n) for n in range(1, attempts + 1))
            due |= Q(attempts=attempts, created_at__lt=stale - timedelta(seconds=waited))
        digest_ids = list(
            Digest.objects.select_for_update(skip_locked=True)
            .filter(due, state=Digest.State.PENDING)
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
    and enqueue their sending. Running it twice creates nothing new (the rows' unique key).

    Memory stays bounded whatever the number of users: one batch of ``PLAN_BATCH`` user ids
    at a time, walked in id order, each batch in its own short transaction.
    """
    if period not in (Mode.DAILY, Mode.WEEKLY):
        raise ValueError(f"unknown digest period {period!r}")
    now = now or timezone.now()
    start = period_start(period, now)
    # A subquery, not a join through the user: joined, PostgreSQL walks the users from the
    # first id on every batch, and planning grows with the square of the number of users.
    opted_out = Settings.objects.filter(digests_enabled=False).values("user_id")
    planned = 0
    last_id = 0
    while True:
        batch = list(
            Notification.objects.filter(
                mode=period, digest__isnull=True, created_at__lte=now, recipient_id__gt=last_id
            )
            .exclude(recipient_id__in=opted_out)
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


def digests_send(digest_ids: Iterable[int]) -> dict:
    """Send each digest at most once (see ``digest_send``); returns counts per result and, as
    ``deliveries_send`` does, the ids to retry grouped by how long they wait."""
    outcome = _new_outcome()
    for digest_id in digest_ids:
        result, wait = _digest_send(digest_id)
        if result == "retry":
            _retry_later(outcome, digest_id, wait)
        else:
            outcome[result] = outcome.get(result, 0) + 1
    return outcome


def digest_send(digest_id: int) -> str:
    """Send one digest at most once: lock its row, group its items, mark them, send.

    Returns ``"sent"``, ``"empty"`` (nothing left to tell), ``"skipped"`` (sent already, or
    being sent by another worker), ``"retry"`` (a transient error; backs off like deliveries)
    or ``"failed"``. Sent exactly as deliveries are: marked inside the transaction, the commit
    right after the send.
    """
    return _digest_send(digest_id)[0]


def _digest_items(digest: Digest):
    return Notification.objects.filter(
        recipient_id=digest.recipient_id,
        mode=digest.period,
        digest__isnull=True,
        created_at__lte=digest.created_at,
    )


def _digest_groups(digest: Digest, items, counts: dict[str, int], language: str) -> list[dict]:
    """Per event type, most frequent first: its label, its count and its newest items."""
    from governance.notifications.channels import render_line

    newest: dict[str, list[Notification]] = {}
    ranked = items.annotate(
        rank=Window(
            RowNumber(),
            partition_by=[F("event_type")],
            order_by=[F("created_at").desc(), F("pk").desc()],
        )
    ).filter(rank__lte=DIGEST_TOP_ITEMS)
    for notification in ranked.order_by("event_type", "rank"):
        newest.setdefault(notification.event_type, []).append(notification)
    groups = []
    for code, count in sorted(counts.items(), key=lambda pair: (-pair[1], pair[0])):
        try:
            event_type = registry.get(code)
        except registry.UnknownEventType:
            # A type whose app is gone: its items are left out (and attached to this digest,
            # so they never hold up the next one), the rest is still told.
            logger.warning(
                "digest %s leaves out %d items of unknown type %s", digest.pk, count, code
            )
            continue
        with translation.override(language):
            label = str(event_type.label)
        groups.append(
            {
                "code": code,
                "label": label,
                "count": count,
                "items": [
                    {"line": render_line(n, language), "url": n.url} for n in newest.get(code, [])
                ],
            }
        )
    return groups


def _digest_send(digest_id: int) -> tuple[str, int | None]:
    from governance.notifications.channels import CHANNELS, render_digest

    try:
        with transaction.atomic():
            digest = _locked_pending(Digest, digest_id, related=("recipient",))
            if digest is None:
                return "skipped", None
            recipient = digest.recipient
            items = _digest_items(digest)
            counts = dict(
                items.order_by()
                .values_list("event_type")
                .annotate(n=Count("pk"))
                .values_list("event_type", "n")
            )
            if not counts:
                digest.state = Digest.State.EMPTY
                digest.save(update_fields=["state"])
                return "empty", None
            if not recipient.is_active:  # deactivated since planning: no one to tell
                items.update(digest=digest)
                digest.state = Digest.State.FAILED
                digest.last_error = INACTIVE
                digest.save(update_fields=["state", "last_error"])
                return "failed", None
            digest.attempts += 1
            try:
                language = recipient.language or django_settings.LANGUAGE_CODE
                groups = _digest_groups(digest, items, counts, language)
                message = render_digest(digest, recipient, groups) if groups else None
            except Exception as exc:  # a bug or a missing template: retrying will not help
                logger.exception("digest %s cannot be rendered", digest.pk)
                digest.state = Digest.State.FAILED
                digest.last_error = _describe(exc)
                digest.save(update_fields=["state", "attempts", "last_error"])
                return "failed", None
            items.update(digest=digest)
            if message is None:  # only items of unknown types: nothing left to tell
                digest.state = Digest.State.EMPTY
                digest.save(update_fields=["state", "attempts"])
                return "empty", None
            digest.state = Digest.State.SENT
            digest.sent_at = timezone.now()
            digest.item_count = sum(counts.values())
            digest.last_error = ""
            digest.save(update_fields=["state", "sent_at", "item_count", "attempts", "last_error"])
            try:
                CHANNELS[EMAIL].send(recipient=recipient, message=message)
            except SoftTimeLimitExceeded:
                raise
            except Exception as exc:
                raise _SendFailed(exc) from exc
    except _SendFailed as failure:
        return _digest_record_failure(digest_id, failure.error)
    return "sent", None


@transaction.atomic
def _digest_record_failure(digest_id: int, error: BaseException) -> tuple[str, int | None]:
    digest = _locked_pending(Digest, digest_id)
    if digest is None:
        return "skipped", None
    digest.attempts += 1
    digest.last_error = _describe(error)
    result: tuple[str, int | None]
    if isinstance(error, TRANSIENT_ERRORS) and digest.attempts < _max_attempts():
        result = ("retry", backoff_seconds(digest.attempts))
    else:
        if not isinstance(error, TRANSIENT_ERRORS):
            logger.error("digest %s failed for good", digest.pk, exc_info=error)
        digest.state = Digest.State.FAILED
        result = ("failed", None)
    digest.save(update_fields=["state", "attempts", "last_error"])
    return result


# Enqueuing -------------------------------------------------------------------------------
def enqueue_deliveries(delivery_ids: list[int], *, countdown: int | None = None) -> int:
    """Hand deliveries to the workers in batches of ``TASK_BATCH``; returns how many went.

    A broker outage is logged and the rest left for the sweep: the rows are safe in the
    database. The first failure stops the loop, so a fan-out to 10,000 people waits for one
    connection timeout, not for one per batch.
    """
    from governance.notifications.tasks import deliver

    return _enqueue(deliver, delivery_ids, countdown=countdown, what="deliveries")


def enqueue_digests(digest_ids: list[int], *, countdown: int | None = None) -> int:
    from governance.notifications.tasks import send_digests

    return _enqueue(send_digests, digest_ids, countdown=countdown, what="digests")


def _enqueue(task, ids: list[int], *, countdown: int | None, what: str) -> int:
    ids = list(ids)
    options = {"retry": False}
    if countdown is not None:
        options["countdown"] = min(countdown, max_countdown())
    enqueued = 0
    for start in range(0, len(ids), TASK_BATCH):
        chunk = ids[start : start + TASK_BATCH]
        try:
            task.apply_async(args=[chunk], **options)
        except Exception as exc:  # the rows are safe in the database; the sweep re-enqueues
            logger.warning(
                "broker unavailable: %d %s left for the sweep (%s)",
                len(ids) - enqueued,
                what,
                _describe(exc),
            )
            break
        enqueued += len(chunk)
    return enqueued
