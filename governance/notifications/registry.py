"""Event types: what can be told, to whom, how by default, and with which templates.

An app declares its event types in ``AppConfig.ready``::

    registry.register(EventType(
        code="stakeholders.membership_granted",
        event=MembershipGranted,
        label=_("获得组织席位"),
        recipients=lambda event: User.objects.filter(pk=event.user_id),
        url=lambda event: reverse("notifications:inbox"),
    ))

and its services ``publish(MembershipGranted(...))``. Templates live under
``templates/notifications/<code>/``: ``subject.txt``, ``body.txt`` and ``body.html`` for the
e-mail and ``line.txt`` for the inbox and digests, rendered in the recipient's language with the
event's fields as context.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise

from governance.notifications.models import Mode


class Audience:
    """Who a recipient is, for default modes and for who may turn a type off."""

    CITIZEN = "citizen"
    DEPARTMENT = "department"
    PARTNER = "partner"
    ALL = frozenset({CITIZEN, DEPARTMENT, PARTNER})


# Defaults per audience when an event type says nothing more specific: citizens hear about
# their own things at once, department staff get a daily digest, partner members a weekly one.
DEFAULT_MODES: Mapping[str, str] = {
    Audience.CITIZEN: Mode.IMMEDIATE,
    Audience.DEPARTMENT: Mode.DAILY,
    Audience.PARTNER: Mode.WEEKLY,
}


class UnknownEventType(LookupError):
    pass


class RecipientsFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class EventType:
    code: str
    event: type
    label: str | Promise
    recipients: Callable[[Any], Iterable]
    url: Callable[[Any], str] | None = None
    # Mode per audience; audiences not named fall back to DEFAULT_MODES.
    defaults: Mapping[str, str] = field(default_factory=dict)
    # Audiences who may choose "off" for this type (everyone may choose another mode).
    may_turn_off: frozenset[str] = Audience.ALL
    # Security notices are sent at once to everyone, whatever the preferences.
    security: bool = False
    # The person who caused the event is not told about it.
    skip_actor: bool = True

    def __post_init__(self):
        if not dataclasses.is_dataclass(self.event):
            raise TypeError(f"{self.code}: events are dataclasses, got {self.event!r}")
        if not self.event.__dataclass_params__.frozen:
            raise TypeError(f"{self.code}: event {self.event.__name__} must be frozen")

    @property
    def template_dir(self) -> str:
        return f"notifications/{self.code}"

    def default_mode(self, audience: str) -> str:
        if self.security:
            return Mode.IMMEDIATE
        return self.defaults.get(audience, DEFAULT_MODES[audience])

    def allowed_modes(self, audience: str) -> list[str]:
        if self.security:
            return [Mode.IMMEDIATE]
        modes = [Mode.IMMEDIATE, Mode.DAILY, Mode.WEEKLY]
        if audience in self.may_turn_off:
            modes.append(Mode.OFF)
        return modes


_by_code: dict[str, EventType] = {}
_by_class: dict[type, EventType] = {}


def register(event_type: EventType) -> EventType:
    existing = _by_code.get(event_type.code)
    if existing is not None and existing.event is not event_type.event:
        raise ValueError(f"event type {event_type.code!r} is registered twice")
    _by_code[event_type.code] = event_type
    _by_class[event_type.event] = event_type
    return event_type


def get(code: str) -> EventType:
    try:
        return _by_code[code]
    except KeyError:
        raise UnknownEventType(f"unknown event type {code!r}") from None


def for_event(event: Any) -> EventType:
    try:
        return _by_class[type(event)]
    except KeyError:
        raise UnknownEventType(
            f"no event type is registered for {type(event).__module__}.{type(event).__qualname__}"
        ) from None


def all_types() -> list[EventType]:
    return sorted(_by_code.values(), key=lambda event_type: event_type.code)
