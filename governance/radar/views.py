"""The radar's staff pages: the overview (where queues form, why people are unhappy, what they
ask for, what they ask for that is not offered) and one theme with its texts.

Both read the stored results only (``queries``), so each runs the same few queries whatever the
number of visits and texts behind them. Readers need ``radar.view_radar``: anonymous visitors
are sent to sign in, anyone else without it gets a 403 page saying who may read the radar.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import render
from django.template.defaultfilters import floatformat
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from django.views.decorators.http import require_safe

from governance.radar import compute, queries, registry
from governance.radar.forms import ALL_STATIONS, RadarQuery

MAIN_FIELDS = ("station", "month", "compare")  # the rest (reasons only) fold away
HEAT_LEVELS = 5  # shades of the heatmap, besides "no queue"
TREND_HEIGHT = 24  # height of a reason's trend bars, in SVG units
TREND_BAR = 8
TREND_GAP = 3


def reader_required(view):
    """Sign in first; then ``radar.view_radar`` or a 403 page that says why."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.has_perm("radar.view_radar"):
            return render(
                request,
                "errors/error.html",
                {
                    "status": 403,
                    "title": _("没有权限"),
                    "message": _("需求雷达只对部门和企业伙伴的成员开放。"),
                },
                status=403,
            )
        return view(request, *args, **kwargs)

    return wrapped


# What the templates draw -------------------------------------------------------------------
@dataclass(frozen=True)
class HeatSquare:
    """One cell of a heatmap table, with its shade (0 = no one waited, 5 = the worst)."""

    cell: object  # queries.Cell
    level: int


@dataclass(frozen=True)
class DeltaSquare:
    delta: object  # queries.Delta
    trend: str  # "up" (longer queue), "down" or "same"
    text: str


@dataclass(frozen=True)
class PeakView:
    """A peak in words: "星期六 14:00–15:00" and what happened then."""

    peak: object  # queries.Peak
    when: str
    text: str


@dataclass(frozen=True)
class Bar:
    month: object
    count: int
    x: int
    y: int
    height: int


@dataclass(frozen=True)
class ReasonView:
    line: object  # queries.ReasonLine
    bars: list[Bar]
    width: int
    trend_text: str


@dataclass(frozen=True)
class SourceCount:
    label: str
    count: int


def _level(queue: float, top: float) -> int:
    if queue <= 0 or top <= 0:
        return 0
    return max(1, min(HEAT_LEVELS, math.ceil(HEAT_LEVELS * queue / top)))


def heat_rows(heat) -> list[tuple[str, list[HeatSquare]]]:
    """The heatmap's rows (weekday label, its shown hours), each cell with its shade."""
    rows = heat.rows
    top = max((cell.queue for _day, _label, cells in rows for cell in cells), default=0.0)
    return [
        (label, [HeatSquare(cell=cell, level=_level(cell.queue, top)) for cell in cells])
        for _day, label, cells in rows
    ]


def _separator() -> str:
    return pgettext("separator between list items", "、")


def _number(value: float, places: int) -> str:
    # The template's own rounding (half up), so a figure reads the same in words and in cells.
    return floatformat(value, places)


def _percent(share: float) -> str:
    return f"{round(share * 100)}%"


def _delta_square(delta) -> DeltaSquare:
    # Shown to one decimal: what rounds to 0.0 is "no change".
    if delta.queue >= 0.05:
        return DeltaSquare(delta=delta, trend="up", text="+" + _number(delta.queue, 1))
    if delta.queue <= -0.05:
        return DeltaSquare(delta=delta, trend="down", text="−" + _number(-delta.queue, 1))
    return DeltaSquare(delta=delta, trend="same", text="0")


def delta_rows(heat) -> list[tuple[str, list[DeltaSquare]]]:
    return [
        (label, [_delta_square(delta) for delta in deltas])
        for _day, label, deltas in heat.delta_rows
    ]


def peak_views(peaks) -> list[PeakView]:
    views = []
    for peak in peaks:
        cell = peak.cell
        parts = [_("平均排队 %(queue)s 人") % {"queue": _number(cell.queue, 1)}]
        if cell.mean_wait is not None:
            parts.append(_("平均等候 %(wait)s 分钟") % {"wait": _number(cell.mean_wait, 0)})
        parts.append(
            ngettext("%(visits)s 人次办件", "%(visits)s 人次办件", cell.visits)
            % {"visits": cell.visits}
        )
        if peak.services:
            services = _separator().join(
                _("%(service)s（占等候的 %(share)s）")
                % {"service": load.service.name, "share": _percent(load.share)}
                for load in peak.services
            )
            parts.append(_("主要是 %(services)s") % {"services": services})
        views.append(PeakView(peak=peak, when=peak.label, text=_("，").join(parts) + _("。")))
    return views


def reason_views(report) -> list[ReasonView]:
    views = []
    for line in report.rows:
        top = max(line.series, default=0)
        bars = []
        for index, (month, count) in enumerate(zip(report.months, line.series, strict=False)):
            height = round(TREND_HEIGHT * count / top) if top else 0
            if count and not height:
                height = 1
            bars.append(
                Bar(
                    month=month,
                    count=count,
                    x=index * (TREND_BAR + TREND_GAP),
                    y=TREND_HEIGHT - height,
                    height=height,
                )
            )
        trend_text = _separator().join(f"{bar.month:%Y-%m} {bar.count}" for bar in bars)
        views.append(
            ReasonView(
                line=line,
                bars=bars,
                width=max(len(bars) * (TREND_BAR + TREND_GAP) - TREND_GAP, 1),
                trend_text=trend_text,
            )
        )
    return views


def text_source_labels() -> dict[str, str]:
    return {source.code: str(source.label) for source in registry.text_sources()}


def source_counts(sources: dict, labels: dict[str, str]) -> list[SourceCount]:
    return [
        SourceCount(label=labels.get(code, code), count=count)
        for code, count in sorted(sources.items(), key=lambda pair: (-pair[1], pair[0]))
    ]


# Pages -------------------------------------------------------------------------------------
@require_safe
@reader_required
def overview(request):
    """The radar of one station (or every station) in one month."""
    stations = list(queries.reader_stations())
    latest = queries.latest_month()
    default_month = latest or compute.current_month()
    data = request.GET.copy()
    if stations:
        data.setdefault("station", stations[0].slug)
    data.setdefault("month", f"{default_month:%Y-%m}")
    form = RadarQuery(data, stations=stations, default_month=default_month)
    context = {"form": form, "latest": latest, "main_fields": MAIN_FIELDS}
    if not form.is_valid():
        return render(request, "radar/overview.html", {**context, "invalid": True}, status=400)

    query = form.cleaned_data
    month, compare = query["month"], query["compare"]
    station = None if query["all_stations"] else query["station"]
    heat = queries.heatmap(station, month, compare) if station is not None else None
    report = queries.reasons(
        month, station=station, service=query["service"], department=query["department"]
    )
    labels = text_source_labels()
    themes = queries.themes(month, station=station)
    run = queries.run_for(month)
    context.update(
        {
            "month": month,
            "compare": compare,
            "station": station,
            "all_stations": query["all_stations"],
            "station_value": ALL_STATIONS
            if query["all_stations"]
            else getattr(station, "slug", ""),
            # Has this month been computed, and when: what each empty section says.
            "run": run,
            "computed": run is not None and run.done_at is not None,
            "heat": heat,
            "peaks": peak_views(heat.peaks) if heat is not None else [],
            "heat_rows": heat_rows(heat) if heat is not None and not heat.empty else [],
            "delta_rows": (
                delta_rows(heat)
                if heat is not None and compare and not heat.empty and not heat.compare_empty
                else []
            ),
            "report": report,
            "reasons": reason_views(report),
            "reason_department": query["department"],
            "reason_service": query["service"],
            "themes": [(theme, source_counts(theme.sources, labels)) for theme in themes],
            "unmet": [
                (row, source_counts(row.sources, labels))
                for row in queries.unmet(month, station=station)
            ],
        }
    )
    return render(request, "radar/overview.html", context)


@require_safe
@reader_required
def theme(request, pk: int):
    """One theme: its figures, and the texts behind it that the reader may open."""
    found = queries.theme_for(pk)
    if found is None:
        raise Http404
    items = queries.theme_items(found, request.user)
    stored = queries.stored_item_count(found)
    labels = text_source_labels()
    return render(
        request,
        "radar/theme.html",
        {
            "theme": found,
            "items": [(item, labels.get(item.source, item.source)) for item in items],
            "stored": stored,
            "hidden": max(stored - len(items), 0),
            "sources": source_counts(found.sources, labels),
            "station_value": found.station.slug if found.station else ALL_STATIONS,
        },
    )
