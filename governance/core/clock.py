"""The services' clock: the wall clock, or the moment being replayed.

Services that take no time argument read "now" here. Demo data and imports replay history
inside :func:`replaying`, so every row they write (timeline entries, deadlines, decisions)
carries the moment it happened at; combine it with ``notifications.services.muted`` so the
replay tells no one today about things that happened months ago.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.utils import timezone

_clock: ContextVar[Callable[[], dt.datetime] | None] = ContextVar("services_clock", default=None)


@contextmanager
def replaying(clock: Callable[[], dt.datetime]) -> Iterator[None]:
    """Inside the block, :func:`now` is ``clock()`` (the moment being replayed)."""
    token = _clock.set(clock)
    try:
        yield
    finally:
        _clock.reset(token)


def now() -> dt.datetime:
    clock = _clock.get()
    return clock() if clock is not None else timezone.now()
