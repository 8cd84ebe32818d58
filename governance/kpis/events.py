"""Events the KPIs app publishes (see governance.notifications)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class KpiTurnedRed:
    """A KPI's value for its period passed the amber threshold on the wrong side."""

    indicator_id: int
    code: str
    name_zh: str
    name_en: str
    period: str  # "month" | "quarter" | "year"
    period_start: dt.date
    period_end: dt.date
    # Empty for the whole platform; else the station, service, department or partner.
    scope_zh: str
    scope_en: str
    value: float
    amber: float
    green: float
    # The Chinese unit (a msgid for computed metrics; the templates translate it).
    unit: str
    higher_is_better: bool
    # Whether the open-data page exists for everyone to follow the link.
    url_public: bool


@dataclass(frozen=True)
class TargetSet:
    """An owner set (or changed) a KPI's target; the other owners are told."""

    indicator_id: int
    code: str
    name_zh: str
    name_en: str
    # The owning organisation the setter acted for; the others hear of it.
    organisation_id: int
    organisation_zh: str
    organisation_en: str
    period: str
    period_start: dt.date
    scope_zh: str
    scope_en: str
    green: float
    amber: float
    # The thresholds it replaced, or ``None`` for a new target.
    previous_green: float | None
    previous_amber: float | None


@dataclass(frozen=True)
class FigureSubmitted:
    """An owner reported a figure; a co-owner's admin is asked to approve it."""

    figure_id: int
    indicator_id: int
    code: str
    name_zh: str
    name_en: str
    reported_by_id: int
    reporter_zh: str
    reporter_en: str
    period: str
    period_start: dt.date
    value: float
    unit: str


@dataclass(frozen=True)
class FigureReviewed:
    """A co-owner approved a reported figure (now public as the KPI allows) or sent it back."""

    figure_id: int
    indicator_id: int
    code: str
    name_zh: str
    name_en: str
    reported_by_id: int
    entered_by_id: int | None
    reviewer_zh: str
    reviewer_en: str
    period: str
    period_start: dt.date
    value: float
    unit: str
    approved: bool
    note: str
