#!/usr/bin/env python
"""Partners at scale (issue 9): a resource's week (``queries.week``, the calendar page, the
availability API) and the booking check, for a resource with 100,000 past bookings.

    .venv/bin/python bench/partners.py                    # build or reuse the data set, then all
    .venv/bin/python bench/partners.py --skip-http        # in-process figures and plans only
    .venv/bin/python bench/partners.py --skip-http --plans  # also every plan in full

What it does, on PostgreSQL and Redis with the production settings of bench/run.py:

1. Builds ``gongzhi_bench_partners`` once and reuses it (a marker row records what was built):
   the station, the mall and the four departments of bench/dataset.py, a bank and a community
   organisation, their staff; the mall's atrium with ``--bookings`` (100,000) past bookings and
   its second atrium, with the same rules and the same density, with ``--small-bookings``
   (10,000), so that the two differ only in how far back their history goes; ``--others``
   (3,000) bookings of seven other resources of the mall and the bank over two years; a few
   future bookings (approved and requested) for the next eight weeks. Opening rules as the
   mall keeps them, closures (Spring Festival from ``chinese_calendar``, quarterly upkeep, a
   renovation) and extra openings (National Day nights). The slots are drawn inside the open
   windows that ``partners.availability`` computes, one after another, so approved bookings
   never overlap (the exclusion constraint stays on during the COPY and checks it); past
   bookings are 80 % approved, 8 % cancelled, 8 % declined, 4 % requests never answered, plus
   a declined competing request for the same slot for one approved booking in ten.
2. In-process, with ``CaptureQueriesContext``: ``queries.week`` for the current week, 26 weeks
   back, the middle of each resource's history and its oldest full week, as the public, a
   department's staff member and the mall's staff member; the resource page and the
   availability endpoint through the test client (all but 26 weeks back);
   ``services.check_period`` and ``services.conflicting_booking`` for a free and a taken slot
   next week. Query counts, wall time median and p95 over ``--repeat``, and CPU time.
3. ``EXPLAIN (ANALYZE, BUFFERS)`` of the week's bookings query and of the overlap query, with
   the index each scan uses and the rows it returns and filters out; then other shapes of the
   two (bounded, ordered by ``ends_at``, through a GiST index made by hand) in a transaction
   that is rolled back.
4. wrk against gunicorn (unless ``--skip-http``): the atrium's page and endpoint, anonymous,
   for the current, middle and oldest week, interleaved with ``baseline_bare`` and
   ``baseline_values``.

Django runs in this process (the data set, the in-process figures); gunicorn and wrk are
children. See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import signal
import statistics
import sys
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.cases import drain, status_of  # noqa: E402  (after the path is set)
from bench.run import (  # noqa: E402
    BASELINES,
    Result,
    Scenario,
    ensure_database,
    environment,
    manage,
    run_wrk,
    start_gunicorn,
)

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/gongzhi_bench_partners"
DEFAULT_REDIS = "redis://127.0.0.1:6379/8"
MARKER = "bench_partners_dataset"
GENERATOR = 2  # bumped when the rows drawn change: a data set of another generator is rebuilt
REBUILD_AFTER_DAYS = 28  # the future bookings cover eight weeks from the build
PASSWORD = "bench-password-not-used"  # noqa: S105 (nobody signs in with it)
BASELINE_NAMES = ("baseline_bare", "baseline_values")
PARTNER_BASELINES = [b for b in BASELINES if b.name in BASELINE_NAMES]
API_PATH = "/api/v1/partners/resources/{pk}/availability/?week={monday}"
PAGE_PATH = "/partners/resources/{pk}/?week={monday}"

MALL_HOURS = [(day, "10:00", "22:00") for day in range(5)] + [
    (day, "09:30", "22:00") for day in (5, 6)
]
# slug: (partner, kind, name_zh, name_en, unit, quantity, visibility, max minutes, rules)
RESOURCES = {
    "atrium": ("mall", "space", "一楼中庭", "Ground-floor atrium", "sqm", 800, "public", 720,
               MALL_HOURS),
    "atrium-2": ("mall", "space", "二楼中庭", "First-floor atrium", "sqm", 400, "public", 720,
                 MALL_HOURS),
    "screen": ("mall", "equipment", "中庭LED大屏", "Atrium LED screen", "items", 1, "public",
               1440, [(day, "00:00", "00:00") for day in range(7)]),
    "kiosks": ("mall", "equipment", "自助终端（3台）", "Self-service kiosks (3)", "items", 3,
               "stakeholders", 600, MALL_HOURS),
    "parking": ("mall", "parking", "地下停车场B区", "Car park, zone B", "spaces", 20, "public",
                960, [(day, "07:00", "23:00") for day in range(7)]),
    "meeting-room": ("mall", "space", "多功能会议室", "Meeting room", "sqm", 60, "stakeholders",
                     480, [(day, "09:00", "12:00") for day in range(5)]
                     + [(day, "13:30", "18:00") for day in range(5)]),
    "volunteers": ("mall", "volunteers", "志愿者导办服务", "Volunteer guides", "people", 6,
                   "public", 480, [(day, "10:00", "18:00") for day in (5, 6)]),
    "bank-room": ("bank", "space", "社区金融服务室", "Community finance room", "sqm", 40,
                  "stakeholders", 480, [(day, "09:00", "17:00") for day in range(5)]),
    "bank-lobby": ("bank", "other", "银行大堂宣传位", "Bank lobby stand", "items", 1, "public",
                   480, [(day, "09:00", "17:00") for day in range(7)]),
}  # fmt: skip
BIG, SMALL = "atrium", "atrium-2"
OTHERS = [slug for slug in RESOURCES if slug not in (BIG, SMALL)]
PURPOSES = [
    "交通安全宣传活动", "反电诈宣传进商场", "出入境政策咨询日", "户籍业务现场办理",
    "社区志愿者培训", "防溺水安全宣传", "消防安全演练", "老年人智能手机教学", "天府通办推广",
    "禁毒宣传展览", "文明养犬宣传", "医保政策咨询", "新市民服务日", "驾驶证业务预约办理",
]  # fmt: skip
DECLINE_REASONS = ["该时段已安排商场活动。", "场地布置时间不足。", "用途与场地不符。"]
OVERLAP_REASON = "该时段已被其他单位预约。"
CANCEL_REASONS = ["活动改期。", "天气原因取消。", "商场临时施工。", "活动取消。"]
COPY_COLUMNS = (
    "resource_id", "requester_id", "requested_by_id", "starts_at", "ends_at", "purpose", "status",
    "created_at", "updated_at", "decided_by_id", "decided_at", "decline_reason",
    "cancelled_by_id", "cancelled_side", "cancelled_at", "cancel_reason",
)  # fmt: skip


def log(text: str) -> None:
    print(f"  {text}", flush=True)


# The data set --------------------------------------------------------------------------------
def marker(cursor) -> dict | None:
    cursor.execute(f"CREATE TABLE IF NOT EXISTS {MARKER} (key text PRIMARY KEY, value jsonb)")
    cursor.execute(f"SELECT value FROM {MARKER} WHERE key = 'built'")  # noqa: S608
    row = cursor.fetchone()
    return None if row is None else json.loads(row[0]) if isinstance(row[0], str) else row[0]


def organisations_and_people() -> dict:
    """The mall and departments of bench/dataset.py, a bank and a community organisation, and
    two acting staff members of each (seat ``[0]`` is an admin)."""
    from django.contrib.auth.hashers import make_password

    from bench.dataset import DEPARTMENTS, _catalogue
    from governance.stakeholders.models import Membership, Organisation, User
    from governance.stations.models import Station

    _catalogue(1, 0)
    organisations = {"mall": Organisation.objects.get(slug="bench-mall")}
    for slug, _zh, _en in DEPARTMENTS:
        organisations[slug] = Organisation.objects.get(slug=slug)
    for key, kind, zh, en in (
        ("bank", "partner", "基准银行", "Bank"),
        ("community", "community", "基准社区居委会", "Residents' committee"),
    ):
        organisations[key] = Organisation.objects.get_or_create(
            slug=f"bench-{key}", defaults={"kind": kind, "name_zh": zh, "name_en": en}
        )[0]
    password = make_password(PASSWORD)
    staff: dict[str, list[int]] = {}
    for key, organisation in organisations.items():
        for number in range(2):
            user, _created = User.objects.get_or_create(
                email=f"bench-partners-{key}-{number}@bench.invalid",
                defaults={
                    "display_name": f"{organisation.name_zh}工作人员{number}",
                    "password": password,
                    "is_staff": organisation.kind == "department",
                },
            )
            Membership.objects.get_or_create(
                user=user,
                organisation=organisation,
                defaults={"role": "admin" if number == 0 else "staff"},
            )
            staff.setdefault(key, []).append(user.pk)
    station = Station.objects.filter(slug__startswith="bench-").order_by("slug").first()
    return {"organisations": organisations, "staff": staff, "station": station}


def closures(first_year: int, last_year: int, slug: str) -> list[tuple]:
    """(kind, starts, ends, reason), local: the Spring Festival's first two days closed, upkeep
    on the first Tuesday of each quarter's last month, one renovation, National Day nights."""
    import chinese_calendar
    from django.utils import timezone

    zone = timezone.get_current_timezone()
    out = []
    for year in range(first_year, last_year + 1):
        day = dt.date(year, 1, 15)
        while day < dt.date(year, 2, 25):
            try:
                name = chinese_calendar.get_holiday_detail(day)[1]
            except NotImplementedError:  # years the package does not cover yet
                name = None
            if name == chinese_calendar.Holiday.spring_festival.value:
                start = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
                out.append(("closed", start, start + dt.timedelta(days=2), "春节闭馆"))
                break
            day += dt.timedelta(days=1)
        for month in (3, 6, 9, 12):
            tuesday = dt.date(year, month, 1)
            tuesday += dt.timedelta(days=(1 - tuesday.weekday()) % 7)
            start = dt.datetime.combine(tuesday, dt.time(10), tzinfo=zone)
            out.append(("closed", start, start + dt.timedelta(hours=4), "设备检修"))
        if slug in (BIG, SMALL):
            night = dt.datetime.combine(dt.date(year, 10, 1), dt.time(22), tzinfo=zone)
            out.append(("open", night, night + dt.timedelta(hours=2), "国庆夜场"))
    if slug == BIG:
        start = dt.datetime.combine(dt.date(last_year - 3, 7, 6), dt.time(0), tzinfo=zone)
        out.append(("closed", start, start + dt.timedelta(days=14), "中庭地面翻新"))
    return out


def slots(rng: random.Random, windows, *, dense: bool):
    """Back-to-back slots inside the open windows: 15–60 minutes with short gaps (dense), or
    one to four hours with longer gaps."""
    lengths = (15, 15, 30, 30, 30, 45, 60) if dense else (60, 120, 120, 180, 240)
    gaps = (0, 0, 0, 15) if dense else (0, 30, 60, 120)
    for window_start, window_end in windows:
        at = window_start
        while True:
            at += dt.timedelta(minutes=rng.choice(gaps))
            end = at + dt.timedelta(minutes=rng.choice(lengths))
            if end > window_end:
                break
            yield at, end
            at = end


def booking_rows(rng, resource, people, starts_at, ends_at, now, *, future: bool) -> list[tuple]:
    """One booking (two when a declined request overlaps an approved one), as COPY rows."""
    owner_staff = people["staff"]["mall" if resource["partner"] == "mall" else "bank"]
    requesters = [k for k in people["staff"] if k != resource["partner"]]
    requester = rng.choice(requesters)
    requested_by = rng.choice(people["staff"][requester])
    created = min(starts_at - dt.timedelta(days=rng.uniform(1, 30)), now)
    decided = min(created + dt.timedelta(hours=rng.uniform(1, 48)), starts_at, now)
    draw = rng.random()
    if future:
        status = "approved" if draw < 0.6 else "requested"
    else:
        status = (
            "approved"
            if draw < 0.80
            else "cancelled"
            if draw < 0.88
            else "declined"
            if draw < 0.96
            else "requested"
        )
    row = {
        "resource_id": resource["pk"],
        "requester_id": people["organisations"][requester].pk,
        "requested_by_id": requested_by,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "purpose": rng.choice(PURPOSES),
        "status": status,
        "created_at": created,
        "updated_at": created,
        "decided_by_id": None,
        "decided_at": None,
        "decline_reason": "",
        "cancelled_by_id": None,
        "cancelled_side": "",
        "cancelled_at": None,
        "cancel_reason": "",
    }
    if status in ("approved", "declined", "cancelled"):
        row.update(decided_by_id=rng.choice(owner_staff), decided_at=decided, updated_at=decided)
    if status == "declined":
        row["decline_reason"] = rng.choice(DECLINE_REASONS)
    if status == "cancelled":
        side = rng.choice(("owner", "requester"))
        cancelled = decided + (starts_at - decided) * rng.random()
        row.update(
            cancelled_by_id=rng.choice(owner_staff if side == "owner" else [requested_by]),
            cancelled_side=side,
            cancelled_at=cancelled,
            cancel_reason=rng.choice(CANCEL_REASONS),
            updated_at=cancelled,
        )
    rows = [tuple(row[column] for column in COPY_COLUMNS)]
    if status == "approved" and not future and rng.random() < 0.1:
        twin = {
            **row,
            "requester_id": people["organisations"][(other := rng.choice(requesters))].pk,
            "requested_by_id": rng.choice(people["staff"][other]),
            "status": "declined",
            "decline_reason": OVERLAP_REASON,
        }
        rows.append(tuple(twin[column] for column in COPY_COLUMNS))
    return rows


def build(args) -> dict:
    """The data set, unless the marker says it is there and recent."""
    from django.db import connection, transaction
    from django.utils import timezone

    from partners import availability
    from partners.models import AvailabilityException, OpeningRule, Resource

    now = timezone.now()
    wanted = {
        "bookings": args.bookings,
        "small_bookings": args.small_bookings,
        "others": args.others,
        "generator": GENERATOR,
    }
    with connection.cursor() as cursor:
        built = marker(cursor)
    if built and {key: built.get(key) for key in wanted} == wanted:
        age = now - dt.datetime.fromisoformat(built["built_at"])
        if age < dt.timedelta(days=REBUILD_AFTER_DAYS):
            log(f"reusing the data set built on {built['built_at']}")
            return {**built, "reused": True}
    log(
        f"building: {args.bookings:,} + {args.small_bookings:,} bookings of two atriums, "
        f"{args.others:,} of {len(OTHERS)} other resources"
    )
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE partners_booking, partners_availabilityexception, partners_openingrule, "
            f"partners_resource, {MARKER} CASCADE"
        )
    people = organisations_and_people()
    zone = timezone.get_current_timezone()
    today = timezone.localdate(now)
    rng = random.Random(9)  # noqa: S311 (a data set, not a secret)
    resources, exceptions = {}, {}
    with transaction.atomic():
        for slug, row in RESOURCES.items():
            partner, kind, zh, en, unit, quantity, visibility, minutes, hours = row
            resource = Resource.objects.create(
                partner=people["organisations"][partner],
                kind=kind,
                name_zh=zh,
                name_en=en,
                station=people["station"],
                place_zh="基准商场",
                quantity=quantity,
                unit=unit,
                visibility=visibility,
                max_booking_minutes=minutes,
            )
            rules = OpeningRule.objects.bulk_create(
                OpeningRule(
                    resource=resource,
                    weekday=day,
                    opens=dt.time.fromisoformat(opens),
                    closes=dt.time.fromisoformat(closes),
                )
                for day, opens, closes in hours
            )
            # The atrium's history goes back about 13 years at its density; the rest, two.
            first_year = today.year - (14 if slug == BIG else 2)
            exceptions[slug] = AvailabilityException.objects.bulk_create(
                AvailabilityException(
                    resource=resource, kind=kind_, starts_at=start, ends_at=end, reason=reason
                )
                for kind_, start, end, reason in closures(first_year, today.year + 1, slug)
            )
            resources[slug] = {"pk": resource.pk, "partner": partner, "rules": rules}

    def day_windows(slug, day):
        start = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
        rules = resources[slug]["rules"]
        return availability.open_windows(
            rules, exceptions[slug], start, start + dt.timedelta(days=1)
        )

    rows: list[tuple] = []
    counted: dict[str, int] = {}
    first_day: dict[str, str] = {}
    for slug, target in ((BIG, args.bookings), (SMALL, args.small_bookings)):
        # Backwards from yesterday, day by day, until the target is reached.
        made, day = 0, today - dt.timedelta(days=1)
        while made < target:
            for starts_at, ends_at in slots(rng, day_windows(slug, day), dense=True):
                new = booking_rows(rng, resources[slug], people, starts_at, ends_at, now,
                                   future=False)  # fmt: skip
                rows.extend(new[: target - made])
                made += min(len(new), target - made)
                if made >= target:
                    break
            day -= dt.timedelta(days=1)
        counted[slug], first_day[slug] = made, str(day + dt.timedelta(days=1))
    per_other = args.others // len(OTHERS)
    for slug in OTHERS:
        candidates = [
            slot
            for offset in range(1, 731)
            for slot in slots(rng, day_windows(slug, today - dt.timedelta(days=offset)),
                              dense=False)
        ]  # fmt: skip
        chosen = sorted(rng.sample(candidates, min(per_other, len(candidates))))
        made = 0
        for starts_at, ends_at in chosen:
            new = booking_rows(rng, resources[slug], people, starts_at, ends_at, now, future=False)
            rows.extend(new)
            made += len(new)
        counted[slug], first_day[slug] = made, str(chosen[0][0].date()) if chosen else ""
    future = 0
    for slug in RESOURCES:
        for offset in range(56):
            day = today + dt.timedelta(days=offset)
            for starts_at, ends_at in slots(rng, day_windows(slug, day), dense=False):
                if rng.random() < (0.5 if slug in (BIG, SMALL) else 0.15):
                    rows.extend(booking_rows(rng, resources[slug], people, starts_at, ends_at,
                                             now, future=True))  # fmt: skip
                    future += 1
    drawn = time.perf_counter() - began
    log(f"{len(rows):,} rows drawn in {drawn:.1f} s; COPY with the constraints on")
    with transaction.atomic(), connection.cursor() as cursor:
        # The exclusion constraint and the checks stay on: they vouch for the rows.
        columns = ", ".join(COPY_COLUMNS)
        with cursor.copy(f"COPY partners_booking ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    copied = time.perf_counter() - began - drawn
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE partners_booking")
        cursor.execute("ANALYZE")
        cursor.execute(
            "SELECT status, count(*) FROM partners_booking WHERE resource_id = %s GROUP BY 1",
            [resources[BIG]["pk"]],
        )
        statuses = dict(cursor.fetchall())
        cursor.execute(
            "SELECT count(*), pg_total_relation_size('partners_booking') FROM partners_booking"
        )
        total, size = cursor.fetchone()
    built = {
        **wanted,
        "built_at": now.isoformat(),
        "build_s": round(time.perf_counter() - began, 1),
        "draw_s": round(drawn, 1),
        "copy_s": round(copied, 1),
        "resources": {slug: r["pk"] for slug, r in resources.items()},
        "past": counted,
        "first_day": first_day,
        "future": future,
        "total": total,
        "table_mb": round(size / 2**20, 1),
        "big_statuses": statuses,
        "exceptions": {slug: len(e) for slug, e in exceptions.items()},
        "staff": people["staff"],
    }
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {MARKER} VALUES ('built', %s)", [json.dumps(built)])  # noqa: S608
    return {**built, "reused": False}


# Measuring -----------------------------------------------------------------------------------
def timed(call, repeat: int, prepare=lambda: None) -> dict:
    """Queries of one warm call, then the wall time of ``repeat`` calls (median, p95) and
    the median CPU time this process spent in them (the Python side; PostgreSQL runs in its
    own process), which a loaded machine disturbs less than the wall time."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    call(prepare())  # warm: imports, caches, the pages the query reads
    # A request starts with reset_queries(), which would empty the log mid-capture.
    argument = prepare()
    reset_queries()
    with CaptureQueriesContext(connection) as context:
        result = call(argument)
    captured = list(context.captured_queries)  # read now: the next request empties the log
    walls, cpus = [], []
    for _ in range(repeat):
        argument = prepare()
        began, began_cpu = time.perf_counter(), time.process_time()
        call(argument)
        walls.append((time.perf_counter() - began) * 1000)
        cpus.append((time.process_time() - began_cpu) * 1000)
    walls.sort()
    return {
        "result": result,
        "queries": len(captured),
        "sql": [{"ms": float(q["time"]) * 1000, "sql": q["sql"]} for q in captured],
        "p50": statistics.median(walls),
        "cpu": statistics.median(cpus),  # this process only: Python, not PostgreSQL
        "p95": walls[min(len(walls) - 1, round(0.95 * (len(walls) - 1)))],
    }


def explain(sql: str) -> dict:
    """The plan of ``sql`` run for real: its text, and per scan node the index, the rows it
    returned and removed by filter, and the buffers it touched."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql)
        data = cursor.fetchone()[0]
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        text = [row[0] for row in cursor.fetchall()]
    data = json.loads(data) if isinstance(data, str) else data
    scans = []

    def walk(node):
        if "Scan" in node["Node Type"]:
            scans.append(
                {
                    "node": node["Node Type"],
                    "index": node.get("Index Name", ""),
                    # Per loop in the plan: times the loops (a parallel scan has one per process).
                    "rows": node["Actual Rows"] * node.get("Actual Loops", 1),
                    "removed": (
                        node.get("Rows Removed by Filter", 0)
                        + node.get("Rows Removed by Index Recheck", 0)
                    )
                    * node.get("Actual Loops", 1),
                    "buffers": node.get("Shared Hit Blocks", 0) + node.get("Shared Read Blocks", 0),
                }
            )
        for child in node.get("Plans", ()):
            walk(child)

    walk(data[0]["Plan"])
    return {"ms": data[0]["Execution Time"], "scans": scans, "text": text}


def booking_sql(sql: list[dict]) -> str:
    return next(q["sql"] for q in sql if 'FROM "partners_booking"' in q["sql"])


def measure(args, built) -> dict:
    from django.contrib.auth.models import AnonymousUser
    from django.core.exceptions import ValidationError
    from django.db import connection
    from django.test import Client
    from django.urls import Resolver404, resolve
    from django.utils import timezone

    from governance.stakeholders.models import User
    from partners import queries, services
    from partners.models import Booking, Resource

    today = timezone.localdate()
    users = {
        "public": None,
        "department": built["staff"]["hukou"][1],
        "owner": built["staff"]["mall"][1],
    }

    def user_of(key):
        # A fresh object each call, as in a request: its seats are read again.
        return AnonymousUser() if users[key] is None else User.objects.get(pk=users[key])

    def weeks_of(slug) -> dict[str, dt.date]:
        current = queries.monday_of(today)
        oldest = queries.monday_of(dt.date.fromisoformat(built["first_day"][slug]))
        oldest += dt.timedelta(weeks=1)  # the first full week of its history
        return {
            "current": current,
            "26 weeks back": current - dt.timedelta(weeks=26),
            "middle": queries.monday_of(oldest + (current - oldest) / 2),
            "oldest": oldest,
        }

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    out: dict = {
        "machine": {
            "cpus": os.cpu_count(),
            "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
            "postgres": f"PostgreSQL {version.split()[0]}",
            "load_before": ", ".join(f"{x:.1f}" for x in os.getloadavg()),
        },
        "week": [],
        "http": [],
        "check": [],
        "plans": [],
        "fixes": [],
    }
    for slug in (BIG, SMALL):
        resource = Resource.objects.get(pk=built["resources"][slug])
        for label, monday in weeks_of(slug).items():
            for who in users:
                figures = timed(
                    lambda user, resource=resource, monday=monday: queries.week(
                        resource, monday, user=user
                    ),
                    args.repeat,
                    prepare=lambda who=who: user_of(who),
                )
                week = figures.pop("result")
                shown = len({b.pk for day in week.days for b in day.bookings})
                sql = booking_sql(figures["sql"])
                out["week"].append(
                    {
                        "resource": slug,
                        "size": built["past"][slug],
                        "week": label,
                        "monday": str(monday),
                        "user": who,
                        "shown": shown,
                        "booking_ms": next(q["ms"] for q in figures["sql"] if q["sql"] == sql),
                        **{k: v for k, v in figures.items() if k != "sql"},
                    }
                )
                if who == "public":
                    plan = explain(sql)
                    out["plans"].append({"what": f"week {slug} {label}", "sql": sql, **plan})

    # The page and the endpoint, through the test client.
    anonymous = Client(HTTP_HOST="127.0.0.1")
    department = Client(HTTP_HOST="127.0.0.1")
    department.force_login(User.objects.get(pk=users["department"]))
    for name, template in (("page", PAGE_PATH), ("api", API_PATH)):
        for slug in (BIG, SMALL):
            for label, monday in weeks_of(slug).items():
                if label not in ("current", "middle", "oldest"):
                    continue
                path = template.format(pk=built["resources"][slug], monday=monday)
                try:
                    resolve(path.split("?")[0])
                except Resolver404:
                    out["http"].append({"name": name, "path": path, "missing": True})
                    continue
                for who, client in (("public", anonymous), ("department", department)):
                    figures = timed(lambda _arg, client=client, path=path: client.get(path),
                                    args.repeat)  # fmt: skip
                    response = figures.pop("result")
                    figures.pop("sql")
                    out["http"].append(
                        {
                            "name": name,
                            "resource": slug,
                            "size": built["past"][slug],
                            "week": label,
                            "user": who,
                            "path": path,
                            "status": response.status_code,
                            "bytes": len(response.content),
                            **figures,
                        }
                    )

    # The booking check: a free and a taken slot of next week, as a request and an approval
    # run them (check_period, then conflicting_booking).
    now = timezone.now()
    checked = []
    for slug in (BIG, SMALL):
        resource = Resource.objects.get(pk=built["resources"][slug])
        taken = (
            Booking.objects.filter(resource=resource, status="approved", starts_at__gt=now)
            .order_by("starts_at")
            .first()
        )
        # A free half hour on Wednesday next week: open, and no approved booking in it.
        day = queries.week(resource, queries.monday_of(today) + dt.timedelta(weeks=1),
                           user=AnonymousUser()).days[2]  # fmt: skip
        held = [(b.starts_at, b.ends_at) for b in day.bookings if b.status == "approved"]
        half_hour = dt.timedelta(minutes=30)
        free = next(
            (at, at + half_hour)
            for start, end in day.windows
            for at in (start + k * half_hour / 2 for k in range(int((end - start) / half_hour) * 2))
            if at + half_hour <= end and all(e <= at or s >= at + half_hour for s, e in held)
        )
        for label, (start, end) in (("free", free), ("taken", (taken.starts_at, taken.ends_at))):
            checked.append(((slug, label), (start, end)))

            def check(_arg, resource=resource, start=start, end=end):
                fresh = Resource.objects.get(pk=resource.pk)
                services.check_period(fresh, start, end, now=now)
                return services.conflicting_booking(fresh.pk, start, end)

            try:
                figures = timed(check, args.repeat)
                found = figures.pop("result")
            except ValidationError as error:  # a refused period is a figure too
                out["check"].append({"resource": slug, "slot": label, "error": repr(error)})
                continue
            sql = booking_sql(figures["sql"])
            out["check"].append(
                {
                    "resource": slug,
                    "size": built["past"][slug],
                    "slot": label,
                    "starts_at": str(timezone.localtime(start)),
                    "conflict": found.pk if found else None,
                    "booking_ms": next(q["ms"] for q in figures["sql"] if q["sql"] == sql),
                    **{k: v for k, v in figures.items() if k != "sql"},
                }
            )
            plan = explain(sql)
            out["plans"].append({"what": f"overlap {slug} {label}", "sql": sql, **plan})

    out["fixes"] = try_fixes(built, weeks_of, checked)
    connection.close()
    return out


def try_fixes(built, weeks_of, checked) -> list[dict]:
    """Other shapes of the two reads, each planned and run on the same data, in a transaction
    that is rolled back (the GiST index is made by hand inside it):

    - the week's open bookings: as ``queries.week`` reads them; ``bounded``, with an upper
      bound on ``ends_at`` as well (no booking is longer than ``MAX_BOOKING_MINUTES``, so
      ``partners_booking_resource_idx`` is read over a closed range); ``gist``, an overlap
      (``&&``) on a GiST index of the open bookings' ranges;
    - the overlap check (``checked``: the slots of the booking check): as
      ``services.conflicting_booking`` reads it; ``by ends_at``, ordered by
      ``partners_booking_resource_idx``'s own column (approved bookings of a resource do not
      overlap, so the first to end is the first to start); ``bounded`` as above; ``gist``,
      ``&&`` on the exclusion constraint's own index (``partners_booking_no_overlap``)."""
    from django.contrib.postgres.fields import RangeBoundary
    from django.db import connection, transaction
    from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
    from django.utils import timezone

    from partners.models import MAX_BOOKING_MINUTES, Booking, TsTzRange

    zone = timezone.get_current_timezone()
    longest = dt.timedelta(minutes=MAX_BOOKING_MINUTES)
    open_ = (Booking.Status.REQUESTED, Booking.Status.APPROVED)

    def span():
        return TsTzRange("starts_at", "ends_at", RangeBoundary())

    week_shapes = {
        "as is": lambda pk, start, end: Booking.objects.filter(
            resource_id=pk, ends_at__gt=start, starts_at__lt=end, status__in=open_
        ).order_by("starts_at", "pk"),
        "bounded": lambda pk, start, end: Booking.objects.filter(
            resource_id=pk,
            ends_at__gt=start,
            ends_at__lt=end + longest,
            starts_at__lt=end,
            status__in=open_,
        ).order_by("starts_at", "pk"),
        "gist": lambda pk, start, end: (
            Booking.objects.alias(span=span())
            .filter(resource_id=pk, span__overlap=DateTimeTZRange(start, end), status__in=open_)
            .order_by("starts_at", "pk")
        ),
    }
    approved = Booking.Status.APPROVED
    overlap_shapes = {
        "as is": lambda pk, start, end: Booking.objects.filter(
            resource_id=pk, status=approved, starts_at__lt=end, ends_at__gt=start
        ).order_by("starts_at", "pk")[:1],
        "by ends_at": lambda pk, start, end: Booking.objects.filter(
            resource_id=pk, status=approved, starts_at__lt=end, ends_at__gt=start
        ).order_by("ends_at", "pk")[:1],
        "bounded": lambda pk, start, end: Booking.objects.filter(
            resource_id=pk,
            status=approved,
            starts_at__lt=end,
            ends_at__gt=start,
            ends_at__lt=end + longest,
        ).order_by("starts_at", "pk")[:1],
        "gist": lambda pk, start, end: (
            Booking.objects.alias(span=span())
            .filter(resource_id=pk, status=approved, span__overlap=DateTimeTZRange(start, end))
            .order_by("starts_at", "pk")[:1]
        ),
    }
    cases = []
    for slug in (BIG, SMALL):
        for label, monday in weeks_of(slug).items():
            start = dt.datetime.combine(monday, dt.time(0), tzinfo=zone)
            cases.append(("week", slug, label, start, start + dt.timedelta(days=7)))
    cases += [("overlap", slug, label, start, end) for (slug, label), (start, end) in checked]
    out = []
    with transaction.atomic():
        for kind, shapes in (("week", week_shapes), ("overlap", overlap_shapes)):
            for shape, make in shapes.items():
                if kind == "week" and shape == "gist":
                    with connection.cursor() as cursor:
                        cursor.execute(
                            "CREATE INDEX bench_booking_open_span_idx ON partners_booking "
                            "USING gist (resource_id, tstzrange(starts_at, ends_at, '[)')) "
                            "WHERE status IN ('requested', 'approved')"
                        )
                        cursor.execute("ANALYZE partners_booking")
                for kind_, slug, label, start, end in cases:
                    if kind_ != kind:
                        continue
                    qs = make(built["resources"][slug], start, end).select_related("requester")
                    sql, params = qs.query.sql_with_params()
                    plan = explain(connection.ops.compose_sql(sql, params))
                    out.append(
                        {
                            "kind": kind,
                            "shape": shape,
                            "resource": slug,
                            "size": built["past"][slug],
                            "case": label,
                            "rows": len(list(qs)),
                            **plan,
                        }
                    )
        transaction.set_rollback(True)
    return out


# HTTP -----------------------------------------------------------------------------------------
def run_http(args, env, built, measured) -> tuple[dict[str, Result], list[str], dict]:
    chosen = [
        row
        for row in measured["http"]
        if not row.get("missing") and row["user"] == "public" and row["resource"] == BIG
    ]
    scenarios = [
        Scenario(f"{row['name']}_{row['week'].replace(' ', '_')}", row["path"],
                 baseline="baseline_values" if row["name"] == "api" else "baseline_bare")
        for row in chosen
    ]  # fmt: skip
    queries = {s.name: row["queries"] for s, row in zip(scenarios, chosen, strict=True)}
    results: dict[str, Result] = {}
    skipped: list[str] = []
    server = start_gunicorn(env, args)
    try:
        runnable = []
        for scenario in scenarios:
            code = status_of(f"http://127.0.0.1:{args.port}{scenario.path}", {})
            if code >= 300:
                skipped.append(f"{scenario.name} ({scenario.path} answered {code})")
            else:
                runnable.append(scenario)
        results = {s.name: Result(s) for s in PARTNER_BASELINES + runnable}
        for round_number in range(1, args.rounds + 1):
            for scenario in [*PARTNER_BASELINES, *runnable]:
                run = run_wrk(scenario, f"http://127.0.0.1:{args.port}{scenario.path}", args,
                              server.pid)  # fmt: skip
                results[scenario.name].runs.append(run)
                drain(args.port)
                print(
                    f"  round {round_number} {scenario.name:<22} {run.rps:9.1f} req/s "
                    f"p95 {run.p95_ms:7.1f} ms errors {run.errors}",
                    flush=True,
                )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
    return results, skipped, queries


# Report ---------------------------------------------------------------------------------------
def named(row) -> str:
    return f"{row['resource']} ({row['size']:,})"


def report(args, built, measured, http) -> None:
    print("\n" + "=" * 100)
    machine = measured["machine"]
    print(
        f"machine: {machine['cpus']} cores, {machine['memory_gb']} GiB, {machine['postgres']}; "
        f"load average {machine['load_before']} before the measurement, "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} after"
    )
    past = built["past"]
    print(
        f"data set: {built['total']:,} bookings ({built['table_mb']} MB with indexes); "
        f"atrium {past[BIG]:,} past since {built['first_day'][BIG]}, atrium-2 {past[SMALL]:,} "
        f"since {built['first_day'][SMALL]}, {sum(past[s] for s in OTHERS):,} of "
        f"{len(OTHERS)} other resources; {built['future']:,} in the next 8 weeks"
    )
    statuses = ", ".join(f"{k} {v:,}" for k, v in sorted(built["big_statuses"].items()))
    print(f"  the atrium's bookings by status: {statuses}; closures and extra openings: "
          f"{built['exceptions'][BIG]}")  # fmt: skip
    print(
        f"  built {'(earlier) ' if built['reused'] else ''}on {built['built_at'][:19]} in "
        f"{built['build_s']} s (drawn {built['draw_s']} s, COPY {built['copy_s']} s)"
    )

    print(
        f"\nqueries.week(resource, monday, user=…): queries, bookings shown, wall ms median / "
        f"p95 of {args.repeat}, this process's CPU ms (median), the bookings query's own ms"
    )
    print(f"  {'resource':<20} {'week':<14} {'monday':<10} {'user':<10} {'queries':>7} "
          f"{'shown':>5} {'p50 ms':>7} {'p95 ms':>7} {'cpu ms':>6} {'sql ms':>6}")  # fmt: skip
    for row in measured["week"]:
        print(
            f"  {named(row):<20} {row['week']:<14} "
            f"{row['monday']:<10} {row['user']:<10} {row['queries']:7} {row['shown']:5} "
            f"{row['p50']:7.2f} {row['p95']:7.2f} {row['cpu']:6.2f} {row['booking_ms']:6.1f}"
        )

    print(f"\nthe page and the availability endpoint, test client, median / p95 of {args.repeat}")
    print(
        f"  {'what':<5} {'resource':<20} {'week':<8} {'user':<10} {'status':>6} {'queries':>7} "
        f"{'bytes':>8} {'p50 ms':>7} {'p95 ms':>7} {'cpu ms':>6}  path"
    )
    missing = set()
    for row in measured["http"]:
        if row.get("missing"):
            missing.add(row["name"])
            continue
        print(
            f"  {row['name']:<5} {named(row):<20} {row['week']:<8} "
            f"{row['user']:<10} {row['status']:6} {row['queries']:7} {row['bytes']:8,} "
            f"{row['p50']:7.2f} {row['p95']:7.2f} {row['cpu']:6.2f}  {row['path']}"
        )
    for name in sorted(missing):
        print(f"  {name}: no such route yet ({API_PATH if name == 'api' else PAGE_PATH})")

    print(
        "\nthe booking check of a 30-minute slot next week: check_period + conflicting_booking "
        f"(the resource read fresh), median / p95 of {args.repeat}"
    )
    for row in measured["check"]:
        if "error" in row:
            print(f"  {row['resource']:<10} {row['slot']:<6} {row['error']}")
            continue
        print(
            f"  {named(row):<20} {row['slot']:<6} "
            f"{row['starts_at'][:16]}  queries {row['queries']}, conflict "
            f"{row['conflict'] or '-'}, {row['p50']:.2f} / {row['p95']:.2f} ms (cpu "
            f"{row['cpu']:.2f}), "
            f"overlap query {row['booking_ms']:.1f} ms"
        )

    def scans(plan) -> str:
        parts = []
        for scan in plan["scans"]:
            index = f" {scan['index']}" if scan["index"] else ""
            removed = f" (+{scan['removed']:,} removed)" if scan["removed"] else ""
            parts.append(
                f"{scan['node']}{index}: {scan['rows']:,} rows{removed}, "
                f"{scan['buffers']:,} buffers"
            )
        return "; ".join(parts)

    print("\nEXPLAIN (ANALYZE, BUFFERS): the scans, rows returned (and removed by filter)")
    for plan in measured["plans"]:
        print(f"  {plan['what']:<32} {plan['ms']:7.2f} ms  {scans(plan)}")
        if args.plans or plan["what"] in (f"week {BIG} oldest", f"overlap {BIG} taken"):
            print(f"      {plan['sql'][:400]}")
            print("\n".join("        " + line for line in plan["text"]))

    print(
        "\nother shapes of the two reads (bench only, rolled back; see try_fixes): the week's "
        "open bookings, then the overlap check"
    )
    for row in measured["fixes"]:
        print(
            f"  {row['kind']:<7} {row['shape']:<10} {named(row):<20} {row['case']:<14} "
            f"{row['rows']:4} rows {row['ms']:7.2f} ms  {scans(row)}"
        )
        if args.plans:
            print("\n".join("        " + line for line in row["text"]))

    results, skipped, queries = http
    if results:
        print(
            f"\nHTTP: {args.rounds} rounds × {args.duration} s, wrk -t{args.threads} "
            f"-c{args.connections}, gunicorn {args.workers} sync workers, anonymous, medians"
        )
        print(f"  {'scenario':<22} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
              f"{'errors':>6} {'peak MB':>8} {'queries':>7} {'ratio':>14}")  # fmt: skip
        for name, result in results.items():
            scenario = result.scenario
            ratio = ""
            if scenario.baseline:
                value = result.median("rps") / results[scenario.baseline].median("rps")
                ratio = f"{value:.2f}x {scenario.baseline.removeprefix('baseline_')}"
            print(
                f"  {name:<22} {result.median('rps'):9.1f} {result.median('p50_ms'):8.1f} "
                f"{result.median('p95_ms'):8.1f} {result.median('p99_ms'):8.1f} "
                f"{sum(run.errors for run in result.runs):6d} "
                f"{max(run.peak_rss_mb for run in result.runs):8.1f} "
                f"{queries.get(name, ''):>7} {ratio:>14}"
            )
    for line in skipped:
        print(f"  skipped: {line}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    parser.add_argument("--bookings", type=int, default=100_000, help="the atrium's past ones")
    parser.add_argument("--small-bookings", type=int, default=10_000, help="the second atrium's")
    parser.add_argument("--others", type=int, default=3_000, help="other resources' bookings")
    parser.add_argument("--repeat", type=int, default=40, help="timed calls per figure")
    parser.add_argument("--plans", action="store_true", help="print every plan in full")
    parser.add_argument("--skip-http", action="store_true", help="no gunicorn, no wrk")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--port", type=int, default=8769)
    args = parser.parse_args()

    if not args.skip_http and not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk (or --skip-http)")
    started = time.monotonic()
    env = environment(
        types.SimpleNamespace(database_url=args.database_url, redis_url=args.redis_url)
    )
    ensure_database(args.database_url)
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "collectstatic", "--noinput", "-v", "0")
    os.environ.update(env)
    import django

    django.setup()
    print(f"data set ({args.database_url.rsplit('/', 1)[1]}):")
    built = build(args)
    print(f"data set ready in {time.monotonic() - started:.0f} s; measuring in-process")
    measured = measure(args, built)
    http = ({}, [], {}) if args.skip_http else run_http(args, env, built, measured)
    report(args, built, measured, http)
    print(f"\nwhole run: {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
