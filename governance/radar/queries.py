"""Reads of the radar's stored results, shaped for the staff page and the API.

Every function reads the rows ``compute`` stored, in a fixed number of queries whatever the
number of visits, reasons or themes behind them (the heatmap: one query per month shown;
the reasons: one; themes and unmet demand: one; a theme's items: one, plus one per text source
that holds some of them). Who may read the radar at all is ``radar.view_radar``
(``governance.radar.rules``); the texts behind a theme are filtered again by their sources.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.radar import registry
from governance.radar.compute import TZ, add_months, weekday_days
from governance.radar.models import HeatCell, ReasonCount, Run, Theme, ThemeItem, UnmetDemand
from governance.radar.registry import Item
from governance.stations.models import Station

MIN_YEAR = 2000  # no month before this one is a radar month
PEAKS = 5  # cells named as peaks
PEAK_SERVICES = 3  # services named per peak
REASON_MONTHS = 6  # months of a reason's trend, this one included
MAX_REASON_MONTHS = 24
WEEKDAYS = (
    _("星期一"),
    _("星期二"),
    _("星期三"),
    _("星期四"),
    _("星期五"),
    _("星期六"),
    _("星期日"),
)
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")


# Months ------------------------------------------------------------------------------------
def latest_month() -> dt.date | None:
    """The latest month with stored results (a recompute under way, or a failed one, leaves
    the last good results in place)."""
    return (
        Run.objects.filter(done_at__isnull=False)
        .order_by("-month")
        .values_list("month", flat=True)
        .first()
    )


def month_computed(month: dt.date) -> bool:
    """Whether ``month`` has stored results (an empty result then means "no data")."""
    return Run.objects.filter(month=month, done_at__isnull=False).exists()


def run_for(month: dt.date) -> Run | None:
    """``month``'s computation (the attempt under way or last made), or None."""
    return Run.objects.filter(month=month).first()


def stored_item_count(theme: Theme) -> int:
    """How many texts the computation kept for ``theme``, readable or not."""
    return ThemeItem.objects.filter(theme=theme).count()


def max_year() -> int:
    return timezone.localdate(timezone=TZ).year + 1


def parse_month(value: str) -> dt.date:
    """``"2026-11"`` → ``date(2026, 11, 1)``; :class:`ValueError` for anything else, including
    a month before 2000 or after next year."""
    match = _MONTH.fullmatch((value or "").strip()) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"not a month (YYYY-MM): {value!r}")
    year, month = int(match[1]), int(match[2])
    if not 1 <= month <= 12:
        raise ValueError(f"no such month: {value!r}")
    if not MIN_YEAR <= year <= max_year():
        raise ValueError(f"month out of range ({MIN_YEAR}–{max_year()}): {value!r}")
    return dt.date(year, month, 1)


def reader_stations() -> QuerySet[Station]:
    """The stations a reader picks from: the active ones, by name."""
    return Station.objects.filter(is_active=True).order_by("name_zh", "pk")


def runs(limit: int = 36) -> list[Run]:
    """The latest computations, newest month first."""
    return list(Run.objects.order_by("-month")[:limit])


# The heatmap -------------------------------------------------------------------------------
def hour_label(hour: int) -> str:
    return f"{hour:02d}:00–{(hour + 1) % 24:02d}:00"


@dataclass
class Cell:
    """One weekday × hour of one station's month, every service together."""

    weekday: int  # 0 is Monday
    hour: int
    days: int  # how many such weekdays of the month had passed when it was computed
    visits: int = 0
    called: int = 0
    wait_minutes: float = 0.0  # the waits of the visits that took a ticket in this hour
    queue_minutes: float = 0.0  # the waiting that happened in this hour
    max_wait: float = 0.0

    @property
    def queue(self) -> float:
        """Mean number of people waiting over the hour (Little's law)."""
        return self.queue_minutes / (60 * self.days) if self.days else 0.0

    @property
    def mean_wait(self) -> float | None:
        return self.wait_minutes / self.called if self.called else None

    @property
    def weekday_label(self) -> str:
        return str(WEEKDAYS[self.weekday])

    @property
    def hour_label(self) -> str:
        return hour_label(self.hour)

    def add(self, row: HeatCell) -> None:
        self.visits += row.visits
        self.called += row.called
        self.wait_minutes += row.wait_minutes
        self.queue_minutes += row.queue_minutes
        self.max_wait = max(self.max_wait, row.max_wait_minutes)


@dataclass
class ServiceLoad:
    """A service's part of a cell or of the month: its visits and the waiting it caused."""

    service: object  # stations.Service
    visits: int = 0
    called: int = 0
    wait_minutes: float = 0.0
    queue_minutes: float = 0.0
    max_wait: float = 0.0
    share: float = 0.0  # of the waiting that happened in the cell (or month), 0–1

    @property
    def mean_wait(self) -> float | None:
        return self.wait_minutes / self.called if self.called else None


@dataclass
class Peak:
    cell: Cell
    services: list[ServiceLoad]  # the services that drive it, most waiting first

    @property
    def label(self) -> str:
        return f"{self.cell.weekday_label} {self.cell.hour_label}"


@dataclass
class Delta:
    """This month minus the compared one, in one cell."""

    weekday: int
    hour: int
    visits: int
    queue: float
    mean_wait: float | None  # None when either month has no called visit there


@dataclass
class Grid:
    """A station's month as 7 weekdays × 24 hours, and what stands out in it."""

    month: dt.date
    cells: list[list[Cell]]  # [weekday][hour]
    empty: bool
    peaks: list[Peak] = field(default_factory=list)
    services: list[ServiceLoad] = field(default_factory=list)

    @property
    def visits(self) -> int:
        return sum(cell.visits for row in self.cells for cell in row)

    def busy_hours(self) -> list[int]:
        return [
            hour
            for hour in range(24)
            if any(
                self.cells[day][hour].visits or self.cells[day][hour].queue_minutes
                for day in range(7)
            )
        ]


@dataclass
class Heatmap:
    station: Station
    month: dt.date
    compare: dt.date | None
    empty: bool
    grid: list[list[Cell]]  # [weekday][hour], 7 × 24
    hours: list[int]  # the hours shown: first to last hour with data, contiguous
    peaks: list[Peak]
    services: list[ServiceLoad]
    compare_grid: list[list[Cell]] | None = None
    compare_empty: bool = True
    compare_peaks: list[Peak] = field(default_factory=list)
    compare_services: list[ServiceLoad] = field(default_factory=list)
    deltas: list[list[Delta]] | None = None  # [weekday][hour]
    computed: bool = False  # ``month`` was computed (else ``empty`` means "not yet")

    @property
    def rows(self) -> list[tuple[int, str, list[Cell]]]:
        """(weekday, label, cells of the shown hours): what a template iterates."""
        return [
            (day, str(WEEKDAYS[day]), [self.grid[day][hour] for hour in self.hours])
            for day in range(7)
        ]

    @property
    def delta_rows(self) -> list[tuple[int, str, list[Delta]]]:
        if self.deltas is None:
            return []
        return [
            (day, str(WEEKDAYS[day]), [self.deltas[day][hour] for hour in self.hours])
            for day in range(7)
        ]


def _grid(station: Station, month: dt.date) -> Grid:
    """One month of one station, from its stored cells: one query."""
    days = weekday_days(month)
    cells = [
        [Cell(weekday=day, hour=hour, days=days[day]) for hour in range(24)] for day in range(7)
    ]
    per_cell: dict[tuple[int, int], dict[int, ServiceLoad]] = defaultdict(dict)
    totals: dict[int, ServiceLoad] = {}
    rows = (
        HeatCell.objects.filter(month=month, station=station)
        .select_related("service")
        .only(
            "weekday",
            "hour",
            "visits",
            "called",
            "wait_minutes",
            "queue_minutes",
            "max_wait_minutes",
            "days",
            "service__id",
            "service__service_code",
            "service__name_zh",
            "service__name_en",
        )
        .order_by("weekday", "hour", "service_id")
    )
    empty = True
    for row in rows:
        empty = False
        cell = cells[row.weekday][row.hour]
        if row.days:
            cell.days = row.days
        cell.add(row)
        for loads in (per_cell[(row.weekday, row.hour)], totals):
            load = loads.get(row.service_id)
            if load is None:
                load = loads[row.service_id] = ServiceLoad(service=row.service)
            load.visits += row.visits
            load.called += row.called
            load.wait_minutes += row.wait_minutes
            load.queue_minutes += row.queue_minutes
            load.max_wait = max(load.max_wait, row.max_wait_minutes)
    grid = Grid(month=month, cells=cells, empty=empty)
    if empty:
        return grid
    grid.services = _ranked(list(totals.values()))
    busy = [cell for row in cells for cell in row if cell.visits or cell.queue_minutes]
    busy.sort(key=lambda cell: (-cell.queue, -cell.visits, cell.weekday, cell.hour))
    grid.peaks = [
        Peak(
            cell=cell,
            services=_ranked(list(per_cell[(cell.weekday, cell.hour)].values()))[:PEAK_SERVICES],
        )
        for cell in busy[:PEAKS]
    ]
    return grid


def _ranked(loads: list[ServiceLoad]) -> list[ServiceLoad]:
    """Most waiting first (then most visits), each with its share of the waiting."""
    total = sum(load.queue_minutes for load in loads)
    for load in loads:
        load.share = load.queue_minutes / total if total else 0.0
    return sorted(
        loads,
        key=lambda load: (-load.queue_minutes, -load.visits, getattr(load.service, "pk", 0)),
    )


def _hours(*grids: Grid) -> list[int]:
    busy = sorted({hour for grid in grids for hour in grid.busy_hours()})
    return list(range(busy[0], busy[-1] + 1)) if busy else []


def _deltas(now: Grid, then: Grid) -> list[list[Delta]]:
    deltas = []
    for day in range(7):
        row = []
        for hour in range(24):
            a, b = now.cells[day][hour], then.cells[day][hour]
            wait = None
            if a.mean_wait is not None and b.mean_wait is not None:
                wait = a.mean_wait - b.mean_wait
            row.append(
                Delta(
                    weekday=day,
                    hour=hour,
                    visits=a.visits - b.visits,
                    queue=a.queue - b.queue,
                    mean_wait=wait,
                )
            )
        deltas.append(row)
    return deltas


def heatmap(station: Station, month: dt.date, compare: dt.date | None = None) -> Heatmap:
    """``station``'s visits in ``month`` by weekday × hour, with the mean queue (Little's law),
    the waits, the five worst cells and the services that drive them; with ``compare``, the
    same for that month and the difference cell by cell. One query per month shown, and one
    to know whether ``month`` was computed."""
    now = _grid(station, month)
    then = _grid(station, compare) if compare is not None else None
    heat = Heatmap(
        station=station,
        month=month,
        compare=compare,
        empty=now.empty,
        grid=now.cells,
        hours=_hours(now, *([then] if then else [])),
        peaks=now.peaks,
        services=now.services,
        computed=month_computed(month),
    )
    if then is not None:
        heat.compare_grid = then.cells
        heat.compare_empty = then.empty
        heat.compare_peaks = then.peaks
        heat.compare_services = then.services
        heat.deltas = _deltas(now, then)
    return heat


# Reasons -----------------------------------------------------------------------------------
@dataclass
class ReasonLine:
    """One reason from one source: how often this month, last month, and over the months."""

    source: str
    source_label: str
    reason: str
    label: str
    count: int
    last: int
    series: list[int]  # one count per month of the report, oldest first
    items_url: str = ""

    @property
    def change(self) -> int:
        return self.count - self.last

    @property
    def change_ratio(self) -> float | None:
        """This month against the last, as a fraction (0.5 = +50 %); None when last was 0."""
        return self.change / self.last if self.last else None


@dataclass
class ReasonReport:
    month: dt.date
    months: list[dt.date]  # oldest first, ``month`` last
    rows: list[ReasonLine]
    empty: bool  # nothing was counted this month in this scope
    station: object = None
    service: object = None
    department: object = None
    computed: bool = False  # ``month`` was computed (else ``empty`` means "not yet")

    @property
    def total(self) -> int:
        return sum(row.count for row in self.rows)


def _pk(value):
    return getattr(value, "pk", value)


def reasons(
    month: dt.date,
    *,
    station=None,
    service=None,
    department=None,
    months: int = REASON_MONTHS,
) -> ReasonReport:
    """Why people were unhappy in ``month``, per source and reason, optionally in one station,
    service or department (instances or ids), with each reason's last ``months`` months. A
    reason shows when it was given in any of those months. Two queries (the counts, and
    whether ``month`` was computed)."""
    months = max(1, min(int(months), MAX_REASON_MONTHS))
    window = [add_months(month, back) for back in range(-(months - 1), 1)]
    rows = ReasonCount.objects.filter(month__gte=window[0], month__lte=month)
    if station is not None:
        rows = rows.filter(station_id=_pk(station))
    if service is not None:
        rows = rows.filter(service_id=_pk(service))
    if department is not None:
        rows = rows.filter(department_id=_pk(department))
    series: dict[tuple[str, str], list[int]] = {}
    position = {when: index for index, when in enumerate(window)}
    for row in rows.values("source", "reason", "month").annotate(total=Sum("count")).order_by():
        index = position.get(row["month"])
        if index is None:  # not the first day of a month: compute never writes one
            continue
        series.setdefault((row["source"], row["reason"]), [0] * months)[index] += row["total"] or 0
    lines = []
    for (code, reason), counts in series.items():
        try:
            source = registry.reason_source(code)
        except registry.UnknownSource:
            source_label, label, url = code, reason, ""
        else:
            source_label, label = str(source.label), source.label_of(reason)
            url = ""
            if source.items_url is not None:
                url = source.items_url(reason, month, _pk(station), _pk(service), _pk(department))
        lines.append(
            ReasonLine(
                source=code,
                source_label=source_label,
                reason=reason,
                label=label,
                count=counts[-1],
                last=counts[-2] if months > 1 else 0,
                series=counts,
                items_url=url or "",
            )
        )
    lines.sort(key=lambda line: (-line.count, -line.change, line.source, line.reason))
    return ReasonReport(
        month=month,
        months=window,
        rows=lines,
        empty=not any(line.count for line in lines),
        station=station,
        service=service,
        department=department,
        computed=month_computed(month),
    )


# Themes ------------------------------------------------------------------------------------
def themes(month: dt.date, *, station=None, limit: int = 30) -> list[Theme]:
    """The month's themes, fastest-growing first, in one station's texts or (``station``
    None) in everyone's. One query."""
    rows = Theme.objects.filter(month=month)
    rows = (
        rows.filter(station__isnull=True)
        if station is None
        else rows.filter(station_id=_pk(station))
    )
    return list(rows.order_by("rank", "pk")[: max(0, limit)])


def theme_for(pk) -> Theme | None:
    """One theme with its station, or None (also for a key that is not a number)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    if not 0 < pk < 2**63:
        return None
    return Theme.objects.select_related("station").filter(pk=pk).first()


def theme_items(theme: Theme, actor) -> list[Item]:
    """The texts behind ``theme`` that ``actor`` may read, newest first: one query for the
    theme's items, then one per source that holds some (the source filters by its own
    permissions). Items of a source no longer registered are left out."""
    by_source: dict[str, list[int]] = defaultdict(list)
    for source, object_id in (
        ThemeItem.objects.filter(theme=theme).order_by("pk").values_list("source", "object_id")
    ):
        by_source[source].append(object_id)
    items: list[Item] = []
    for code, ids in by_source.items():
        try:
            source = registry.text_source(code)
        except registry.UnknownSource:
            continue
        if source.visible is None:
            continue
        items.extend(source.visible(actor, ids))
    oldest = dt.datetime.min.replace(tzinfo=dt.UTC)
    items.sort(key=lambda item: (item.created_at or oldest, item.source, item.object_id))
    items.reverse()
    return items


# Unmet demand ------------------------------------------------------------------------------
def unmet(month: dt.date, *, station=None, limit: int = 30) -> list[UnmetDemand]:
    """What people asked for that the station (or, ``station`` None, no station) offers,
    most asked first, with the catalogue service it names. One query."""
    rows = UnmetDemand.objects.filter(month=month).select_related("service")
    rows = (
        rows.filter(station__isnull=True)
        if station is None
        else rows.filter(station_id=_pk(station))
    )
    return list(rows.order_by("rank", "pk")[: max(0, limit)])
