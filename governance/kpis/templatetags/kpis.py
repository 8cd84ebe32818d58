"""Template helpers of the KPI pages: periods, values with units, lights and thresholds."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils.translation import gettext as _

from governance.kpis.models import Light, Period

register = template.Library()


@register.filter
def period_label(start: dt.date | None, kind: str = Period.MONTH) -> str:
    """ "2026年10月" / "October 2026", "2026年第4季度", "2026年"."""
    if start is None:
        return ""
    if kind == Period.YEAR:
        return _("%(year)d年") % {"year": start.year}
    if kind == Period.QUARTER:
        return _("%(year)d年第%(quarter)d季度") % {
            "year": start.year,
            "quarter": (start.month - 1) // 3 + 1,
        }
    return _("%(year)d年%(month)d月") % {"year": start.year, "month": start.month}


@register.filter
def unit_label(unit: str) -> str:
    """A unit in the reader's language (reported KPIs' units are catalogue msgids too)."""
    return _(unit) if unit else ""


@register.simple_tag
def kpi_value(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    # Thousands grouped the same way in both languages (Django's zh-Hans formats don't group).
    rounded = round(value, 1)
    number = f"{rounded:,.0f}" if rounded == int(rounded) else f"{rounded:,.1f}"
    unit = unit_label(unit)
    if unit == "%":
        return f"{number}%"
    return f"{number} {unit}".strip()


@register.simple_tag
def thresholds(target, higher_is_better: bool, unit: str = "") -> str:
    """ "绿灯 ≥ 20 %，黄灯 ≥ 12 %" (or ≤ for lower-is-better)."""
    if target is None:
        return ""
    sign = "≥" if higher_is_better else "≤"
    return _("绿灯 %(sign)s %(green)s，黄灯 %(sign)s %(amber)s") % {
        "sign": sign,
        "green": kpi_value(target.green, unit),
        "amber": kpi_value(target.amber, unit),
    }


@register.filter
def status_label(row) -> str:
    """A period's state in words: its light, or why it has none."""
    if row.target is None:
        return _("未设目标")
    if row.value is None:
        return _("暂无数据")
    return str(Light(row.light).label)
