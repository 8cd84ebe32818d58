"""Demo seed: the Chenghua Mixc station, a second station, the service catalogue and visits.

The catalogue is read from ``data/services.csv`` next to this module (columns: department,
service_code, name_zh, name_en, channel, target_minutes, documents_zh, documents_en, keywords,
description_zh, description_en; documents are ``;``-separated). It is the shared demo catalogue
plus three Tianfutong counter services and a short description of every service.

Visits are made up, day by day, over the last :data:`WINDOW_DAYS` days (a year, so the KPI
charts have a history) in Asia/Shanghai: each
day draws from ``random.Random(f"{station.slug}:{day}")``, so it comes out the same on every
machine, and a day that already has visits at a station is never seeded again. Arrivals follow
the station's opening hours, peak at lunchtime and on weekend afternoons, and travel documents
surge in the two weeks before public holidays.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from django.db.models.functions import TruncDate

from governance.core.seeding import SeedContext, sync_row
from governance.kpis.services import kpis_mark_dirty
from governance.stakeholders.models import Organisation
from governance.stations.metrics import METRIC_CODES
from governance.stations.models import Channel, OpeningHours, Service, Station, Visit

TZ = ZoneInfo("Asia/Shanghai")
CATALOGUE = Path(__file__).resolve().parent / "data" / "services.csv"
WINDOW_DAYS = 365
BATCH_SIZE = 1000

MODELS = (
    "stations.Station",
    "stations.Station_departments",
    "stations.OpeningHours",
    "stations.Service",
    "stations.Service_stations",
    "stations.Visit",
)

# Department codes used in the CSV → organisation slugs (a slug has no underscore here).
DEPARTMENTS = {
    "hukou": "hukou",
    "traffic": "traffic",
    "exit_entry": "exit-entry",
    "tianfu": "tianfu",
}
CHANNELS = {
    "counter": Channel.COUNTER,
    "window": Channel.COUNTER,
    "窗口": Channel.COUNTER,
    "kiosk": Channel.KIOSK,
    "self-service": Channel.KIOSK,
    "self_service": Channel.KIOSK,
    "自助": Channel.KIOSK,
    "online": Channel.ONLINE,
    "web": Channel.ONLINE,
    "网上": Channel.ONLINE,
}
AT_STATION = (Channel.COUNTER, Channel.KIOSK)


def _every_day(opens: dt.time, closes: dt.time, days=range(7)):
    return tuple((weekday, opens, closes) for weekday in days)


@dataclass(frozen=True)
class StationProfile:
    slug: str
    values: dict
    host: str | None
    departments: tuple[str, ...]
    hours: tuple[tuple[int, dt.time, dt.time], ...]
    # Arrivals per hour in an hour of weight 1 (see HOUR_WEIGHTS).
    hourly_rate: float
    counters: dict[str, tuple[str, ...]]
    kiosks: tuple[str, ...] = field(default=("K1", "K2"))


STATIONS = (
    StationProfile(
        slug="chenghua-mixc",
        values={
            "name_zh": "成华区万象城智慧警务服务站",
            "name_en": "Chenghua Mixc Smart Police Service Station",
            "description_zh": (
                "开在商场里的“一站式”警务服务站：户政、交管、出入境和天府通办业务一窗通办，"
                "跟随商场营业时间每天 10:00–22:00 开放，周末和晚间也能办事。"
            ),
            "description_en": (
                "A one-stop police service station inside the mall: household administration, "
                "traffic police, exit-entry and Tianfutong services at one counter, open with "
                "the mall from 10:00 to 22:00 every day, evenings and weekends included."
            ),
            "address_zh": "成都市成华区双庆路8号万象城负一楼",
            "address_en": "B1, The Mixc, 8 Shuangqing Road, Chenghua District, Chengdu",
            "latitude": Decimal("30.662400"),
            "longitude": Decimal("104.103000"),
            "phone": "028-84335110",
            "is_active": True,
        },
        host="mall",
        departments=("hukou", "traffic", "exit-entry", "tianfu"),
        hours=_every_day(dt.time(10), dt.time(22)),
        hourly_rate=3.0,
        counters={
            "hukou": ("01", "02"),
            "traffic": ("03",),
            "exit-entry": ("04", "05"),
            "tianfu": ("06",),
        },
        kiosks=("K1", "K2", "K3"),
    ),
    StationProfile(
        slug="chenghua-government-services",
        values={
            "name_zh": "成华区政务服务中心",
            "name_en": "Chenghua District Government Service Centre",
            "description_zh": "区级政务服务大厅，集中办理天府通办社保、医保、公积金和不动产业务。",
            "description_en": (
                "The district's government service hall for Tianfutong social insurance, "
                "medical insurance, housing provident fund and real estate services."
            ),
            "address_zh": "成都市成华区华盛路58号",
            "address_en": "58 Huasheng Road, Chenghua District, Chengdu",
            "latitude": Decimal("30.678000"),
            "longitude": Decimal("104.119000"),
            "phone": "028-84318800",
            "is_active": True,
        },
        host=None,
        departments=("tianfu",),
        hours=(
            *_every_day(dt.time(9), dt.time(17), days=range(5)),
            (OpeningHours.Weekday.SATURDAY, dt.time(9), dt.time(12)),
        ),
        hourly_rate=1.5,
        counters={"tianfu": ("01", "02", "03")},
    ),
)

# Relative demand for a service at a station; unlisted services weigh 1.
POPULARITY = {
    "HK-ID-RENEW": 3.0,
    "HK-ID-LOST": 1.5,
    "HK-RESPERMIT": 2.0,
    "HK-BIRTH": 0.6,
    "HK-MOVE-IN": 0.6,
    "TR-VIOLATION": 3.0,
    "TR-DL-RENEW": 2.0,
    "TR-TEMPPLATE": 0.8,
    "EE-PASSPORT": 2.5,
    "EE-HKMO": 2.5,
    "EE-HKMO-ENDORSE": 3.0,
    "EE-PHOTO": 2.0,
    "EE-TW": 0.6,
    "TF-SOCIAL": 2.0,
    "TF-HOUSINGFUND": 1.5,
    "TF-SSCARD": 1.5,
}

# Arrival weight of each hour of the day: office workers come at lunchtime, families on
# weekend afternoons, a few after work.
HOUR_WEIGHTS = {
    False: {9: 0.9, 10: 0.6, 11: 0.9, 12: 1.9, 13: 1.8, 14: 0.9, 15: 0.8, 16: 0.8, 17: 0.9,
            18: 1.2, 19: 1.2, 20: 0.9, 21: 0.4},
    True: {9: 0.7, 10: 0.7, 11: 1.0, 12: 1.6, 13: 1.7, 14: 2.0, 15: 2.1, 16: 2.0, 17: 1.6,
           18: 1.2, 19: 1.1, 20: 0.8, 21: 0.4},
}  # fmt: skip
LAST_TICKET_BEFORE_CLOSING = dt.timedelta(minutes=30)

# Demo data only: an approximate list of the first day of each public holiday, good enough to
# show the surge in travel documents before it. Working-day arithmetic (SLA clocks) must use a
# maintained calendar package instead. The weight says how much people travel.
HOLIDAYS = (
    (dt.date(2026, 2, 15), 1.0),  # Spring Festival
    (dt.date(2026, 4, 4), 0.4),  # Qingming
    (dt.date(2026, 5, 1), 0.8),  # Labour Day
    (dt.date(2026, 6, 19), 0.4),  # Dragon Boat Festival
    (dt.date(2026, 9, 25), 0.5),  # Mid-Autumn Festival
    (dt.date(2026, 10, 1), 1.0),  # National Day
    (dt.date(2027, 2, 5), 1.0),
    (dt.date(2027, 4, 3), 0.4),
    (dt.date(2027, 5, 1), 0.8),
    (dt.date(2027, 6, 9), 0.4),
    (dt.date(2027, 9, 15), 0.5),
    (dt.date(2027, 10, 1), 1.0),
)
SURGE_DAYS = 14
SURGE_DEPARTMENT = "exit-entry"
TICKET_PREFIXES = {"hukou": "A", "traffic": "B", "exit-entry": "C", "tianfu": "D"}
KIOSK_PREFIX = "K"

ABANDON_RATE = 0.03
MISSING_DOCUMENTS_RATE = 0.05
REFERRED_RATE = 0.01


def seed_stations(context: SeedContext) -> None:
    departments = {
        organisation.slug: organisation
        for organisation in Organisation.objects.filter(slug__in=DEPARTMENTS.values())
    }
    hosts = {profile.host for profile in STATIONS if profile.host}
    partners = {
        organisation.slug: organisation
        for organisation in Organisation.objects.filter(slug__in=hosts)
    }
    stations = {
        profile.slug: seed_station(profile, departments=departments, partners=partners)
        for profile in STATIONS
    }
    seed_catalogue(stations=stations, departments=departments)
    for profile in STATIONS:
        seed_visits(profile, station=stations[profile.slug], context=context)


def seed_station(
    profile: StationProfile,
    *,
    departments: dict[str, Organisation],
    partners: dict[str, Organisation],
) -> Station:
    station, _changed = sync_row(
        Station,
        {"slug": profile.slug},
        {**profile.values, "host": partners[profile.host] if profile.host else None},
    )
    station.departments.set([departments[slug] for slug in profile.departments])
    kept = []
    for weekday, opens, closes in profile.hours:
        hours, _changed = sync_row(
            OpeningHours,
            {"station": station, "weekday": weekday, "opens": opens},
            {"closes": closes},
        )
        kept.append(hours.pk)
    station.opening_hours.exclude(pk__in=kept).delete()
    return station


def read_catalogue(path: Path = CATALOGUE) -> list[dict]:
    """The catalogue rows as field values for :class:`Service` (plus ``department_code``)."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    services = []
    for line, row in enumerate(rows, start=2):
        channel = CHANNELS.get(row["channel"].strip().lower())
        department = DEPARTMENTS.get(row["department"].strip())
        if channel is None or department is None:
            raise ValueError(
                f"{path.name} line {line}: unknown channel {row['channel']!r} "
                f"or department {row['department']!r}"
            )
        services.append(
            {
                "department_code": department,
                "service_code": row["service_code"].strip(),
                "name_zh": row["name_zh"].strip(),
                "name_en": row["name_en"].strip(),
                "description_zh": (row.get("description_zh") or "").strip(),
                "description_en": (row.get("description_en") or "").strip(),
                "channel": channel,
                "target_minutes": int(row["target_minutes"]),
                "documents_zh": _lines(row["documents_zh"]),
                "documents_en": _lines(row["documents_en"]),
                "keywords": row["keywords"].strip(),
            }
        )
    return services


def _lines(value: str) -> str:
    return "\n".join(part.strip() for part in value.split(";") if part.strip())


def seed_catalogue(
    *, stations: dict[str, Station], departments: dict[str, Organisation]
) -> list[Service]:
    services = []
    for row in read_catalogue():
        department_code = row.pop("department_code")
        code = row.pop("service_code")
        service, _changed = sync_row(
            Service,
            {"service_code": code},
            {**row, "department": departments[department_code], "is_active": True},
        )
        # Counter and kiosk services are offered at every seeded station the department
        # works at; online services at none.
        offered_at = [
            stations[profile.slug]
            for profile in STATIONS
            if service.channel in AT_STATION and department_code in profile.departments
        ]
        service.stations.set(offered_at)
        services.append(service)
    return services


# Visits ---------------------------------------------------------------------------------------


def seed_visits(profile: StationProfile, *, station: Station, context: SeedContext) -> int:
    """Seed every day of the window that has no visits yet at ``station``; returns the count."""
    services = list(
        station.services.filter(is_active=True, channel__in=AT_STATION)
        .select_related("department")
        .order_by("service_code")
    )
    if not services:
        return 0
    hours: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for weekday, opens, closes in station.opening_hours.values_list("weekday", "opens", "closes"):
        hours.setdefault(weekday, []).append((opens, closes))
    # Two runs at once would both find a day empty; the second waits here for the first.
    Station.objects.select_for_update().filter(pk=station.pk).exists()
    first = context.today - dt.timedelta(days=WINDOW_DAYS - 1)
    seeded = set(
        Visit.objects.filter(
            station=station,
            arrived_at__gte=_at(first, dt.time(0)),
            arrived_at__lt=_at(context.today + dt.timedelta(days=1), dt.time(0)),
        )
        .annotate(day=TruncDate("arrived_at", tzinfo=TZ))
        .order_by()
        .values_list("day", flat=True)
        .distinct()
    )
    created = 0
    batch: list[Visit] = []
    # Only days that get visits change a metric: a closed day stays empty on every run.
    changed: set[dt.date] = set()
    dates = [first + dt.timedelta(days=offset) for offset in range(WINDOW_DAYS)]
    for day in dates:
        if day in seeded:
            continue
        visits = day_visits(
            profile,
            station=station,
            services=services,
            day=day,
            hours=sorted(hours.get(day.weekday(), [])),
            now=context.now,
        )
        if visits:
            changed.add(day)
        batch.extend(visits)
        if len(batch) >= BATCH_SIZE:
            created += len(Visit.objects.bulk_create(batch, batch_size=BATCH_SIZE))
            batch = []
    if batch:
        created += len(Visit.objects.bulk_create(batch, batch_size=BATCH_SIZE))
    kpis_mark_dirty(metric_codes=METRIC_CODES, days=changed)
    return created


def _at(day: dt.date, time: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=TZ)


def holiday_surge(day: dt.date) -> float:
    """0 on ordinary days, rising to the holiday's weight on the day before it starts."""
    surge = 0.0
    for start, weight in HOLIDAYS:
        days_before = (start - day).days
        if 1 <= days_before <= SURGE_DAYS:
            surge = max(surge, weight * (SURGE_DAYS + 1 - days_before) / SURGE_DAYS)
    return surge


def day_visits(
    profile: StationProfile,
    *,
    station: Station,
    services: list[Service],
    day: dt.date,
    hours: list[tuple[dt.time, dt.time]],
    now: dt.datetime,
) -> list[Visit]:
    """The visits of one day at one station, the same on every run; none after ``now``."""
    rng = random.Random(f"{station.slug}:{day.isoformat()}")  # noqa: S311  (demo data)
    weekend = day.weekday() >= 5
    hour_weights = HOUR_WEIGHTS[weekend]

    # Ticket-issuing periods, cut at the hour so each piece carries its hour's weight.
    pieces: list[tuple[dt.datetime, float, float, dt.datetime]] = []
    for opens, closes in hours:
        start, close = _at(day, opens), _at(day, closes)
        last_ticket = close - LAST_TICKET_BEFORE_CLOSING
        while start < last_ticket:
            end = min(last_ticket, start.replace(minute=0, second=0) + dt.timedelta(hours=1))
            seconds = (end - start).total_seconds()
            pieces.append((start, seconds, hour_weights.get(start.hour, 0.8), close))
            start = end
    if not pieces:
        return []

    surge = holiday_surge(day)
    base = [POPULARITY.get(service.service_code, 1.0) for service in services]
    weights = [
        weight * (1 + 3 * surge if service.department.slug == SURGE_DEPARTMENT else 1)
        for weight, service in zip(base, services, strict=True)
    ]
    busy_hours = sum(seconds / 3600 * weight for _start, seconds, weight, _close in pieces)
    expected = profile.hourly_rate * busy_hours * sum(weights) / sum(base)
    count = max(0, round(expected * rng.gauss(1, 0.08)))

    piece_weights = [seconds * weight for _start, seconds, weight, _close in pieces]
    arrivals = []
    for index in range(count):
        start, seconds, weight, close = rng.choices(pieces, weights=piece_weights)[0]
        arrived = start + dt.timedelta(seconds=int(rng.random() * seconds))
        service = rng.choices(services, weights=weights)[0]
        arrivals.append((arrived, index, service, weight, close))
    arrivals.sort(key=lambda arrival: (arrival[0], arrival[1]))

    numbers: dict[str, int] = {}
    visits = []
    for arrived, _index, service, weight, close in arrivals:
        kiosk = service.channel == Channel.KIOSK
        department = service.department.slug
        prefix = KIOSK_PREFIX if kiosk else TICKET_PREFIXES.get(department, "X")
        numbers[prefix] = numbers.get(prefix, 0) + 1
        visit = Visit(
            station=station,
            service=service,
            ticket=f"{prefix}{numbers[prefix]:03d}",
            channel=service.channel,
            arrived_at=arrived,
        )
        if kiosk:
            _kiosk_visit(visit, rng, profile=profile)
        else:
            load = weight * (1 + surge if department == SURGE_DEPARTMENT else 1)
            _counter_visit(visit, rng, profile=profile, load=load, close=close)
        if arrived < now:
            visits.append(_as_of(visit, now))
    return visits


def _kiosk_visit(visit: Visit, rng: random.Random, *, profile: StationProfile) -> None:
    """A self-service kiosk: no queue, a few minutes at the machine."""
    visit.counter = rng.choice(profile.kiosks)
    visit.called_at = visit.arrived_at
    visit.finished_at = visit.arrived_at + dt.timedelta(seconds=rng.randint(120, 360))
    visit.outcome = (
        Visit.Outcome.MISSING_DOCUMENTS
        if rng.random() < MISSING_DOCUMENTS_RATE / 2
        else Visit.Outcome.COMPLETED
    )


def _counter_visit(
    visit: Visit, rng: random.Random, *, profile: StationProfile, load: float, close: dt.datetime
) -> None:
    """A counter visit: the wait grows with the hour's load, handling varies around target."""
    mean_wait = 3 + 10 * load
    wait = min(45.0, max(3.0, rng.gauss(mean_wait, mean_wait * 0.35)))
    target = visit.service.target_minutes
    roll = rng.random()
    if roll < ABANDON_RATE:
        # Left before being called; ``finished_at`` is remembered only to know when they left.
        visit.outcome = Visit.Outcome.ABANDONED
        visit.finished_at = visit.arrived_at + dt.timedelta(minutes=wait * rng.uniform(0.5, 1))
        return
    if roll < ABANDON_RATE + MISSING_DOCUMENTS_RATE:
        visit.outcome = Visit.Outcome.MISSING_DOCUMENTS
        handling = rng.uniform(2, 6)
    elif roll < ABANDON_RATE + MISSING_DOCUMENTS_RATE + REFERRED_RATE:
        visit.outcome = Visit.Outcome.REFERRED
        handling = rng.uniform(0.4, 0.8) * target
    else:
        visit.outcome = Visit.Outcome.COMPLETED
        handling = min(target * 2.5, max(2.0, target * 0.4, rng.gauss(target, target * 0.3)))
    called = visit.arrived_at + dt.timedelta(seconds=int(wait * 60))
    finished = called + dt.timedelta(seconds=int(handling * 60))
    if finished > close:
        # The last customers are served quickly so the counter closes on time.
        finished = close
        called = max(visit.arrived_at, min(called, close - dt.timedelta(minutes=2)))
    windows = profile.counters.get(visit.service.department.slug) or ("01",)
    visit.counter = rng.choice(windows)
    visit.called_at = called
    visit.finished_at = finished


def _as_of(visit: Visit, now: dt.datetime) -> Visit:
    """The visit as it stands at ``now``: still waiting or being served if that is later."""
    if visit.outcome == Visit.Outcome.ABANDONED:
        left_at, visit.finished_at = visit.finished_at, None
        if left_at > now:
            visit.outcome = Visit.Outcome.WAITING
        return visit
    if visit.called_at > now:
        visit.called_at = visit.finished_at = None
        visit.counter = ""
        visit.outcome = Visit.Outcome.WAITING
    elif visit.finished_at > now:
        visit.finished_at = None
        visit.outcome = Visit.Outcome.SERVING
    return visit
