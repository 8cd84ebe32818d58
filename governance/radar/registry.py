"""What feeds the radar: text sources and reason sources, registered by the apps that own them.

An app says which of its models and fields feed the themes, in its ``AppConfig.ready``::

    registry.register_text_source(TextSource(
        code="feedback",
        label=_("评价与反馈"),
        model="feedback.Feedback",
        fields=("text",),
        created="created_at",
        station="station_id",
        eligible=Q(is_hidden=False),
        visible=lambda actor, ids: ...,   # the rows of ``ids`` the actor may read, as Items
    ))

and which reasons people give when they are unhappy::

    registry.register_reason_source(ReasonSource(
        code="feedback.bad_rating",
        label=_("差评"),
        reasons={"waiting_time": _("等候时间长"), ...},
        count=lambda start, end: ...,     # ReasonRow per reason and cell, in a few queries
        items_url=lambda row: ...,        # where a reader finds the items behind a count
    ))

The core (``governance.radar.sources``) registers cases and proposals the same way, so the
radar never imports a wing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db.models import Q
from django.utils.functional import Promise


class UnknownSource(LookupError):
    pass


@dataclass(frozen=True)
class Item:
    """One text behind a theme, as a reader may see it."""

    source: str
    object_id: int
    title: str
    url: str
    created_at: dt.datetime | None = None


@dataclass(frozen=True)
class TextSource:
    code: str
    label: str | Promise
    model: str  # "app_label.Model"
    fields: Sequence[str]
    created: str  # the datetime field that places a text in a month
    # The column that names the text's station (``station_id``), or "" when it has none.
    station: str = ""
    # Which rows count (published, not hidden, not a test…).
    eligible: Q = field(default_factory=Q)
    # ``visible(actor, ids)``: the Items among ``ids`` that ``actor`` may read, in one or two
    # queries whatever the number of ids.
    visible: Callable[[Any, Iterable[int]], list[Item]] | None = None

    def model_class(self):
        return apps.get_model(self.model)


@dataclass(frozen=True)
class ReasonRow:
    reason: str
    count: int
    station_id: int | None = None
    service_id: int | None = None
    department_id: int | None = None


@dataclass(frozen=True)
class ReasonSource:
    code: str
    label: str | Promise
    # reason code → label (lazy); codes are stored, labels follow the reader's language.
    reasons: Mapping[str, str | Promise]
    # ``count(start, end)``: ReasonRows for [start, end), one per reason and finest cell
    # (station × service × department), in a constant number of queries.
    count: Callable[[dt.datetime, dt.datetime], Iterable[ReasonRow]]
    # ``items_url(reason, month, station_id, service_id, department_id)``: a page listing the
    # items behind a count (the reader's own permissions apply there), or "".
    items_url: Callable[..., str] | None = None

    def label_of(self, reason: str) -> str:
        return str(self.reasons.get(reason, reason))


_text_sources: dict[str, TextSource] = {}
_reason_sources: dict[str, ReasonSource] = {}


def register_text_source(source: TextSource) -> None:
    _text_sources[source.code] = source


def register_reason_source(source: ReasonSource) -> None:
    _reason_sources[source.code] = source


def text_sources() -> list[TextSource]:
    return list(_text_sources.values())


def reason_sources() -> list[ReasonSource]:
    return list(_reason_sources.values())


def text_source(code: str) -> TextSource:
    try:
        return _text_sources[code]
    except KeyError:
        raise UnknownSource(code) from None


def reason_source(code: str) -> ReasonSource:
    try:
        return _reason_sources[code]
    except KeyError:
        raise UnknownSource(code) from None
