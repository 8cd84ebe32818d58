"""Reads of notifications, scoped to the person they are for."""

from __future__ import annotations

import logging

from django.db.models import QuerySet
from django.template import TemplateDoesNotExist, TemplateSyntaxError

from governance.notifications import registry
from governance.notifications.channels import render_line
from governance.notifications.models import Notification, Preference, Settings
from governance.notifications.services import audiences_of

logger = logging.getLogger(__name__)


def inbox_of(user) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user).only(
        "event_type", "payload", "url", "created_at", "read_at", "recipient_id", "mode"
    )


def unread_count(user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def label_of(code: str) -> str:
    """The event type's label in the active language; the bare code for a type that is no
    longer registered (its rows outlive the app that declared it)."""
    try:
        return str(registry.get(code).label)
    except registry.UnknownEventType:
        return code


def line_of(notification: Notification, language: str) -> str:
    """The inbox line of one notification. A row whose type was unregistered, or whose line
    template is missing or broken, still shows (as its label) instead of breaking the inbox."""
    try:
        return render_line(notification, language)
    except (registry.UnknownEventType, TemplateDoesNotExist, TemplateSyntaxError):
        logger.warning(
            "no inbox line for notification %s (%s)", notification.pk, notification.event_type
        )
        return label_of(notification.event_type)


def inbox_rows(notifications, language: str) -> list[dict]:
    """What the inbox page and the API show for each notification, rendered without queries."""
    return [
        {
            "notification": n,
            "id": n.pk,
            "event_type": n.event_type,
            "label": label_of(n.event_type),
            "text": line_of(n, language),
            "url": n.url,
            "created_at": n.created_at,
            "read_at": n.read_at,
        }
        for n in notifications
    ]


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


def allowed_modes_of(user, event_type: registry.EventType) -> list[str]:
    """The modes ``user`` may choose for ``event_type`` (their audience decides "off")."""
    return event_type.allowed_modes(audiences_of([user.pk])[user.pk])


def digests_enabled(user) -> bool:
    settings = Settings.objects.filter(user=user).only("digests_enabled").first()
    return settings.digests_enabled if settings else True
