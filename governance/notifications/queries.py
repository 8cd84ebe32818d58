"""Reads of notifications, scoped to the person they are for."""

from __future__ import annotations

from django.db.models import QuerySet

from governance.notifications import registry
from governance.notifications.models import Mode, Notification, Preference, Settings
from governance.notifications.services import audiences_of


def inbox_of(user) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user).only(
        "event_type", "payload", "url", "created_at", "read_at", "recipient_id", "mode"
    )


def unread_count(user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def preferences_of(user) -> list[dict]:
    """Every event type with the user's mode, its default and the modes they may choose."""
    audience = audiences_of([user.pk])[user.pk]
    chosen = dict(Preference.objects.filter(user=user).values_list("event_type", "mode"))
    rows = []
    for event_type in registry.all_types():
        default = event_type.default_mode(audience)
        allowed = event_type.allowed_modes(audience)
        mode = chosen.get(event_type.code, default)
        rows.append(
            {
                "event_type": event_type,
                "code": event_type.code,
                "label": event_type.label,
                "mode": mode if mode in allowed else default,
                "default": default,
                "allowed": allowed,
                "security": event_type.security,
            }
        )
    return rows


def digests_enabled(user) -> bool:
    settings = Settings.objects.filter(user=user).only("digests_enabled").first()
    return settings.digests_enabled if settings else True


MODE_LABELS = dict(Mode.choices)
