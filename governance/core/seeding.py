"""The demo seed registry: every app declares its own demo rows; the core only runs them.

An app registers in its ``AppConfig.ready``::

    register_seeder("stations", "governance.stations.seed.seed_stations", order=20,
                    models=("stations.Station", "stations.Visit"))

``python manage.py seed_demo`` runs the seeders by ``order`` (then name) in one transaction.
Orders in use: 10 stakeholders (organisations, demo accounts), 20 stations (stations, the
service catalogue, visits). Later wings pick an order after the rows they build on.

A seeder takes one :class:`SeedContext` and must be idempotent: it keys its rows on natural keys
(slug, service code, e-mail), so a second run writes nothing new.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TextIO

from django.apps import apps
from django.db import models
from django.utils import timezone
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class SeedContext:
    stdout: TextIO
    # False when the run must not create or touch the demo accounts (public password).
    with_demo_users: bool
    # The last day of demo history, in Asia/Shanghai.
    today: dt.date
    # Nothing is seeded as having happened after this instant.
    now: dt.datetime

    def write(self, message: str) -> None:
        self.stdout.write(message)


@dataclass(frozen=True)
class Seeder:
    name: str
    func: Callable[[SeedContext], Any] | str
    order: int
    models: tuple[str, ...] = ()

    def __call__(self, context: SeedContext) -> Any:
        func = import_string(self.func) if isinstance(self.func, str) else self.func
        return func(context)


_seeders: dict[str, Seeder] = {}


def register_seeder(
    name: str,
    func: Callable[[SeedContext], Any] | str,
    order: int = 100,
    *,
    models: Iterable[str] = (),
) -> None:
    """Declare a demo seeder; ``func`` is a callable or its dotted path (imported when run).

    ``models`` are the ``app_label.ModelName`` labels the seeder writes, for the command's
    summary and for tests. Registering a name again replaces the earlier entry, so an app whose
    ``ready`` runs twice does not seed twice.
    """
    _seeders[name] = Seeder(name=name, func=func, order=order, models=tuple(models))


def registered_seeders() -> list[Seeder]:
    return sorted(_seeders.values(), key=lambda seeder: (seeder.order, seeder.name))


def seeded_models() -> list[type[models.Model]]:
    """Every model some seeder writes, in seeding order, each once."""
    labels: dict[str, None] = {}
    for seeder in registered_seeders():
        labels.update(dict.fromkeys(seeder.models))
    return [apps.get_model(label) for label in labels]


def run_seeders(
    *,
    stdout: TextIO,
    with_demo_users: bool,
    today: dt.date,
    now: dt.datetime | None = None,
) -> list[Seeder]:
    """Run every registered seeder in order; the caller holds the transaction."""
    if now is None:
        now = timezone.now()
    context = SeedContext(stdout=stdout, with_demo_users=with_demo_users, today=today, now=now)
    ran = []
    for seeder in registered_seeders():
        seeder(context)
        ran.append(seeder)
    return ran


def sync_row(
    model: type[models.Model],
    lookup: Mapping[str, Any],
    values: Mapping[str, Any],
) -> tuple[models.Model, bool]:
    """Create the row found by ``lookup``, or bring its ``values`` up to date.

    Unlike ``update_or_create`` it saves only what changed (``update_fields``), so re-seeding
    leaves unchanged rows, their ``updated_at`` included, untouched. Rows are validated with
    ``full_clean`` first, so bad demo data fails loudly instead of landing in the database.
    Returns ``(row, changed)``.
    """
    row = model._default_manager.filter(**lookup).first()
    if row is None:
        row = model(**lookup, **values)
        row.full_clean()
        row.save()
        return row, True
    changed = [name for name, value in values.items() if getattr(row, name) != value]
    if not changed:
        return row, False
    for name in changed:
        setattr(row, name, values[name])
    row.full_clean()
    update_fields = list(changed)
    if any(field.name == "updated_at" for field in model._meta.concrete_fields):
        update_fields.append("updated_at")
    row.save(update_fields=update_fields)
    return row, True
