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
