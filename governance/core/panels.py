"""Panels the wings put on the core's pages about one proposal or one case.

The core never imports a wing (``feedback``, ``partners``). Where a wing has something to say
about a proposal or a case (the resources partners pledged to it), it describes a
:class:`Panel` and registers it from its ``AppConfig.ready``::

    register_panel("proposal", Panel(
        key="pledges",
        title=_("资源承诺"),
        template="partners/panels/pledges.html",
        load="partners.panels.load_pledges",
        serialize="partners.panels.serialize_pledge",
        timeline="partners.panels.pledge_timeline",
        actions="partners.panels.pledge_actions",
    ))

The page and the API call :func:`load` once with the objects they show: every registered
panel reads its rows for all of them at once (its ``load`` must run one query for any number
of objects), so each panel costs one query whatever the number of objects and rows. A panel
reads only what the reader may see: its ``load`` is given the user. With no panel registered
the pages and the API are as they were, but for an empty ``panels`` object in the API.

Callables may be given as dotted paths, imported on first use (a wing's modules are not
imported while the apps load).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.utils.module_loading import import_string

PAGES = frozenset({"proposal", "case"})

# The ``panels`` field of the proposal and case details, for the OpenAPI schema: the rows of
# each registered panel, by the panel's key; each wing documents its rows' fields.
API_SCHEMA = {
    "type": "object",
    "description": (
        "What the wings show about this object, by panel key (e.g. `pledges`: the resources "
        "partners pledged), each a list of the rows the caller may see."
    ),
    "additionalProperties": {
        "type": "array",
        "items": {"type": "object", "additionalProperties": True},
    },
}


@dataclass(frozen=True)
class TimelineEntry:
    """A step a panel's row adds to the object's public timeline (a proposal's, from idea to
    done): ``kind`` is the panel's own word for it ("delivered"), ``text`` the sentence the
    page shows."""

    at: dt.datetime
    kind: str
    text: str


@dataclass(frozen=True)
class Link:
    """A link a panel offers the reader, e.g. "pledge resources" to a partner's staff."""

    label: str
    url: str


@dataclass(frozen=True)
class Panel:
    """A section of the ``proposal`` or ``case`` page, and a key of its API's ``panels``.

    - ``title``: the section's heading (a lazy translation);
    - ``template``: renders the rows, with ``items``, ``object`` and ``request``;
    - ``load(user, page, objects) -> {object_pk: [items]}``: the rows ``user`` may see, for
      all ``objects`` in one query;
    - ``serialize(item, request) -> dict``: one row as the API gives it;
    - ``timeline(item) -> [TimelineEntry]`` (optional): what a row adds to the timeline;
    - ``actions(user, object) -> [Link | (label, url)]`` (optional): links for the reader,
      read from what is already loaded (no query per object).
    """

    key: str
    title: Any
    template: str
    load: Callable | str
    serialize: Callable | str
    timeline: Callable | str | None = None
    actions: Callable | str | None = None
    order: int = 100


def _resolve(func: Callable | str) -> Callable:
    return import_string(func) if isinstance(func, str) else func


@dataclass
class Shown:
    """One panel about one object, as the reader sees it: its rows and its links. It is
    rendered when it has either."""

    panel: Panel
    object: Any
    items: list = field(default_factory=list)
    actions: list[Link] = field(default_factory=list)

    @property
    def visible(self) -> bool:
        return bool(self.items or self.actions)


_panels: dict[tuple[str, str], Panel] = {}


def register_panel(page: str, panel: Panel) -> None:
    """Show ``panel`` on the ``page`` ("proposal" or "case") pages and in their API.
    Registering a key again replaces the earlier panel (an app whose ``ready`` runs twice
    shows it once)."""
    if page not in PAGES:
        raise ValueError(f"unknown page {page!r}; one of {sorted(PAGES)}")
    _panels[(page, panel.key)] = panel


def unregister_panel(page: str, key: str) -> None:
    _panels.pop((page, key), None)


def panels_for(page: str) -> list[Panel]:
    return sorted(
        (panel for (on, _key), panel in _panels.items() if on == page),
        key=lambda panel: (panel.order, panel.key),
    )


def _links(actions: Iterable) -> list[Link]:
    return [action if isinstance(action, Link) else Link(*action) for action in actions]


def load(page: str, user, objects: Iterable) -> dict[Any, list[Shown]]:
    """Every registered panel of ``page`` for each of ``objects``, by the object's pk, in
    the panels' order: one ``load`` call (one query) per panel for all the objects."""
    objects = list(objects)
    shown: dict[Any, list[Shown]] = {obj.pk: [] for obj in objects}
    if not objects:
        return shown
    user = user if user is not None else AnonymousUser()
    for panel in panels_for(page):
        found: Mapping = _resolve(panel.load)(user, page, objects) or {}
        actions = _resolve(panel.actions) if panel.actions else None
        for obj in objects:
            shown[obj.pk].append(
                Shown(
                    panel=panel,
                    object=obj,
                    items=list(found.get(obj.pk, ())),
                    actions=_links(actions(user, obj)) if actions else [],
                )
            )
    return shown


def load_one(page: str, user, obj) -> list[Shown]:
    """The panels of one object's page."""
    return load(page, user, [obj])[obj.pk]


def serialized(shown: Iterable[Shown], request) -> dict[str, list[dict]]:
    """The API's ``panels``: each panel's rows, serialized, by its key (an empty list for a
    panel with nothing the caller may see)."""
    return {
        item.panel.key: [_resolve(item.panel.serialize)(row, request) for row in item.items]
        for item in shown
    }


def timeline_entries(shown: Iterable[Shown]) -> list[tuple[Panel, TimelineEntry]]:
    """What the panels' rows add to the timeline, each with its panel."""
    entries = []
    for item in shown:
        if not item.panel.timeline:
            continue
        timeline = _resolve(item.panel.timeline)
        for row in item.items:
            entries.extend((item.panel, entry) for entry in timeline(row) or ())
    return entries
