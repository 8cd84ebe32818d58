"""Fixtures for the notifications tests: event types made for the tests, and a broker stand-in
that records what would have been enqueued (the real worker runs in tests/integration)."""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from governance.notifications import registry, tasks
from governance.notifications.models import Mode
from governance.notifications.registry import Audience, EventType
from governance.stakeholders.models import User

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class ThingHappened:
    """A plain event told to whoever ``user_ids`` names."""

    user_ids: tuple[int, ...]
    title: str = "一件事"
    when: dt.datetime | None = None
    extra: object = None


@dataclass(frozen=True)
class CaseAssigned:
    """An assignment: department staff want it at once, not in the daily digest."""

    user_ids: tuple[int, ...]


@dataclass(frozen=True)
class RuleChanged:
    """Only citizens may turn this one off."""

    user_ids: tuple[int, ...]


@dataclass(frozen=True)
class AccountLocked:
    """A security notice."""

    user_ids: tuple[int, ...]


@dataclass(frozen=True)
class Broken:
    """Its recipient function raises."""

    user_id: int


@dataclass(frozen=True)
class Unregistered:
    user_id: int


@dataclass
class Recorder:
    deliveries: list[list[int]] = field(default_factory=list)
    digests: list[list[int]] = field(default_factory=list)

    @property
    def delivery_ids(self) -> list[int]:
        return [pk for chunk in self.deliveries for pk in chunk]


def _users(event) -> list[int]:
    return list(event.user_ids)


def _broken(event):
    raise RuntimeError("the directory is down")


TEST_TYPES = (
    EventType(
        code="tests.thing_happened",
        event=ThingHappened,
        label="一件事发生了",
        recipients=_users,
        url=lambda event: "/things/1/",
    ),
    EventType(
        code="tests.case_assigned",
        event=CaseAssigned,
        label="案件已分派",
        recipients=lambda event: User.objects.filter(pk__in=event.user_ids),
        defaults={Audience.DEPARTMENT: Mode.IMMEDIATE},
    ),
    EventType(
        code="tests.rule_changed",
        event=RuleChanged,
        label="规则变更",
        recipients=_users,
        may_turn_off=frozenset({Audience.CITIZEN}),
    ),
    EventType(
        code="tests.account_locked",
        event=AccountLocked,
        label="账号已锁定",
        recipients=_users,
        security=True,
        skip_actor=False,
    ),
    EventType(code="tests.broken", event=Broken, label="坏的", recipients=_broken),
)


@pytest.fixture
def event_types(monkeypatch, settings):
    """The test event types, registered for one test only, with their templates findable."""
    monkeypatch.setattr(registry, "_by_code", dict(registry._by_code))
    monkeypatch.setattr(registry, "_by_class", dict(registry._by_class))
    for event_type in TEST_TYPES:
        registry.register(event_type)
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [*templates[0]["DIRS"], TEMPLATES]
    settings.TEMPLATES = templates
    return {event_type.code: event_type for event_type in TEST_TYPES}


@pytest.fixture
def enqueued(monkeypatch):
    """Records the task messages that would go to the broker, instead of sending them."""
    recorder = Recorder()
    monkeypatch.setattr(
        tasks.deliver,
        "apply_async",
        lambda args, **kwargs: recorder.deliveries.append(list(args[0])),
    )
    monkeypatch.setattr(
        tasks.send_digests,
        "apply_async",
        lambda args, **kwargs: recorder.digests.append(list(args[0])),
    )
    return recorder
