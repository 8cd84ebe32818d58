#!/usr/bin/env python
"""Shared KPIs at scale (issue 5): rollups, backfill and the KPI reads over 10,000,000 visits.

    .venv/bin/python bench/kpis.py                       # build or reuse the data set, then all
    .venv/bin/python bench/kpis.py --duration 5 --rounds 2
    .venv/bin/python bench/kpis.py --skip-http           # rollup, backfill and query counts only

What it does, on PostgreSQL and Redis like bench/run.py (production settings, DEBUG off):

1. Builds ``gongzhi_bench_kpis`` once and reuses it (a marker row records what was built):
   the catalogue of bench/dataset.py (10 stations, 200 services of 4 departments, each service
   offered at 3 stations), the demo indicators with monthly targets, and ``--visits``
   (10,000,000) visits over ``--days`` (1,095) days up to yesterday, inserted by
   ``INSERT … SELECT generate_series`` with ``random()``: weekday and weekend counts, slow
   growth, opening-hours arrivals with a few before opening, a kiosk share rising from 8 % to
   25 %, counter waits, handling times against each service's target, and the outcomes. Then
   ``kpis_backfill`` of the whole history in 365-day slices (timed). A small database
   (``gongzhi_bench_kpis_small``, ``--small-days`` of history at the same daily rate) is built
   the same way, for comparison.
2. Rollup of one new day: the day after the history gets a normal day's visits (1× and 4×),
   is marked dirty with ``kpis_mark_dirty`` and rolled up with ``kpis_rollup``, in both
   databases: wall time against the day's rows and against the history.
3. ``kpis_backfill`` of the last 365 days over the existing measurements (replace).
4. Peak memory of those processes (``ru_maxrss``, and the growth of the resident set during
   the timed call), and of the largest gunicorn worker under wrk.
5. SQL queries of each KPI endpoint, counted in-process with the test client in both
   databases (they must be the same), and wrk against gunicorn on the big one: requests per
   second, p50/p95/p99 latency, and the ratio to the harness baselines of bench/run.py.

Each step that touches Django runs in a child process of its own (``--phase``), so its peak
memory is its own. See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
import types
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.run import (  # noqa: E402  (after the path is set)
    BASELINES,
    Result,
    Scenario,
    ensure_database,
    environment,
    manage,
    run_wrk,
    start_gunicorn,
)

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/gongzhi_bench_kpis"
DEFAULT_SMALL_DATABASE = "postgres://postgres@127.0.0.1:5432/gongzhi_bench_kpis_small"
DEFAULT_REDIS = "redis://127.0.0.1:6379/5"
STATIONS, SERVICES = 10, 200
# Days per INSERT statement while loading.
LOAD_CHUNK_DAYS = 31

# The bench's HTTP scenarios. {first} is the first day of the history.
KPI_BASELINES = [b for b in BASELINES if b.name in ("baseline_bare", "baseline_values")]
KPI_SCENARIOS = [
    Scenario("kpis_api", "/api/v1/kpis/", baseline="baseline_values", goal=0.35),
    Scenario(
        "kpi_measurements",
        "/api/v1/kpis/wait-median/measurements/?period=month",
        baseline="baseline_values",
        goal=0.35,
    ),
    Scenario(
        "kpi_measurements_36m",
        "/api/v1/kpis/wait-median/measurements/?period=month&from={first}",
        baseline="baseline_values",
    ),
    Scenario("kpi_open_data_csv", "/kpis/visits.csv", baseline="baseline_bare"),
    Scenario("kpis_page", "/kpis/", baseline="baseline_bare"),
]


# Generating visits -------------------------------------------------------------------------
# Daily counts: growth of 40 % over the history, weekends quieter, ±15 % day-to-day noise
# (from a hash of the date, so the same on every build); cumulative floors make the total
# exact. One row per visit, drawn per row with random().
VISITS_SQL = """
WITH pairs AS (
    SELECT array_agg(ss.service_id ORDER BY s.service_code, st.slug) AS services,
           array_agg(ss.station_id ORDER BY s.service_code, st.slug) AS stations,
           array_agg(s.target_minutes ORDER BY s.service_code, st.slug) AS targets
    FROM stations_service_stations ss
    JOIN stations_service s ON s.id = ss.service_id
    JOIN stations_station st ON st.id = ss.station_id
    WHERE s.service_code LIKE 'BENCH-%%' AND st.slug LIKE 'bench-%%'
),
days AS (
    SELECT d::date AS day, (d::date - %(first)s::date) AS i
    FROM generate_series(%(first)s::date, %(last)s::date, interval '1 day') AS d
),
weights AS (
    SELECT day, i,
           (1 + 0.4 * i / %(ndays)s::float)
           * CASE extract(isodow FROM day) WHEN 6 THEN 0.7 WHEN 7 THEN 0.55 ELSE 1.0 END
           * (0.85 + 0.3 * ((hashtext(day::text) & 1023) / 1023.0)) AS w
    FROM days
),
cumulative AS (
    SELECT day, i, floor(%(total)s * sum(w) OVER (ORDER BY day) / sum(w) OVER ())::bigint AS c
    FROM weights
),
counts AS (
    SELECT day, i, c - coalesce(lag(c) OVER (ORDER BY day), 0) AS n FROM cumulative
),
draws AS (
    SELECT counts.day, counts.i, g,
           random() AS r_pair, random() AS r_when, random() AS r_when2, random() AS r_early,
           random() AS r_channel, random() AS r_wait, random() AS r_busy, random() AS r_outcome,
           random() AS r_handle
    FROM counts CROSS JOIN LATERAL generate_series(1, counts.n) AS g
    WHERE counts.day BETWEEN %(start)s AND %(end)s
),
shaped AS (
    SELECT d.day, d.g,
           1 + floor(array_length(p.services, 1) * d.r_pair * d.r_pair)::int AS k,
           CASE WHEN d.r_channel < 0.08 + 0.17 * d.i / %(ndays)s::float
                THEN 'kiosk' ELSE 'counter' END AS channel,
           -- Minutes after local midnight: 3 %% before opening (8:00-10:00), the rest over
           -- the opening hours (10:00-22:00), peaking mid-afternoon.
           CASE WHEN d.r_early < 0.03 THEN 480 + 120 * d.r_when
                ELSE 600 + 720 * (d.r_when + d.r_when2) / 2 END AS minute,
           -ln(1 - d.r_wait) * (4 + 12 * d.r_busy) AS wait,
           CASE WHEN d.r_outcome < 0.04 THEN 'abandoned'
                WHEN d.r_outcome < 0.09 THEN 'missing_documents'
                WHEN d.r_outcome < 0.12 THEN 'referred'
                ELSE 'completed' END AS outcome,
           d.r_handle,
           p.services, p.stations, p.targets
    FROM draws d, pairs p
),
timed AS (
    SELECT *,
           (day + minute * interval '1 minute') AT TIME ZONE 'Asia/Shanghai' AS arrived,
           CASE WHEN channel = 'kiosk' THEN 0 ELSE least(wait, 300) END AS waited,
           -ln(1 - r_handle) * targets[k] * 0.6 AS handling
    FROM shaped
)
INSERT INTO stations_visit
    (station_id, service_id, ticket, channel, counter, arrived_at, called_at, finished_at,
     outcome)
SELECT stations[k], services[k],
       CASE WHEN channel = 'kiosk' THEN 'K' ELSE 'A' END || lpad(g::text, 4, '0'),
       channel,
       CASE WHEN channel = 'counter' THEN 'W' || lpad((1 + g %% 8)::text, 2, '0') ELSE '' END,
       arrived,
       CASE WHEN outcome = 'abandoned' THEN NULL ELSE arrived + waited * interval '1 minute' END,
       CASE WHEN outcome = 'abandoned' THEN NULL
            ELSE arrived + (waited + handling) * interval '1 minute' END,
       outcome
FROM timed
"""

# One day's visits drawn like the history's last day, ``n`` of them.
NEW_DAY_SQL = VISITS_SQL.replace(
    """days AS (
    SELECT d::date AS day, (d::date - %(first)s::date) AS i
    FROM generate_series(%(first)s::date, %(last)s::date, interval '1 day') AS d
)""",
    """days AS (SELECT %(start)s::date AS day, %(ndays)s AS i)""",
).replace(
    "floor(%(total)s * sum(w) OVER (ORDER BY day) / sum(w) OVER ())::bigint AS c",
    "%(total)s::bigint AS c",
)
if NEW_DAY_SQL.count("%(start)s::date AS day") != 1 or "%(first)s" in NEW_DAY_SQL:
    raise RuntimeError("NEW_DAY_SQL no longer matches VISITS_SQL")


def insert_visits(cursor, *, first, last, total, start, end) -> None:
    cursor.execute(
        VISITS_SQL,
        {
            "first": first,
            "last": last,
            "ndays": (last - first).days + 1,
            "total": total,
            "start": start,
            "end": end,
        },
    )


# Measuring (inside a phase) ----------------------------------------------------------------
def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def measure():
    from bench.notifications import Measure

    return Measure()


def emit(data) -> None:
    print("RESULT " + json.dumps(data, default=str), flush=True)


def log(text: str) -> None:
    print(f"  {text}", flush=True)


# Phases (each a child process with Django set up) ------------------------------------------
def marker(cursor) -> dict | None:
    cursor.execute(
        "CREATE TABLE IF NOT EXISTS bench_kpis_dataset (key text PRIMARY KEY, value jsonb)"
    )
    cursor.execute("SELECT value FROM bench_kpis_dataset WHERE key = 'history'")
    row = cursor.fetchone()
    if row is None:
        return None
    # Django's psycopg loader hands jsonb over as text (JSONField decodes it).
    return json.loads(row[0]) if isinstance(row[0], str) else row[0]


def indicators(first: dt.date, last: dt.date) -> None:
    """The demo indicators of governance/kpis/seed.py with monthly platform targets, and the
    mall's footfall with approved monthly figures."""
    from django.utils import timezone

    from governance.kpis.models import Indicator, Period, ReportedFigure, Target
    from governance.kpis.seed import FOOTFALL, INDICATORS
    from governance.stakeholders.models import Organisation

    organisations = {org.slug: org for org in Organisation.objects.all()}
    months, month = [], first.replace(day=1)
    while month <= last + dt.timedelta(days=40):
        months.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    text = ("name_zh", "name_en", "description_zh", "description_en")
    for spec in INDICATORS:
        indicator, _created = Indicator.objects.update_or_create(
            code=spec["code"],
            defaults={
                "kind": Indicator.Kind.METRIC,
                "metric": spec["metric"],
                "visibility": spec["visibility"],
                **{key: spec[key] for key in text},
            },
        )
        indicator.owners.set([organisations[s] for s in spec["owners"] if s in organisations])
        green, amber = spec["thresholds"]
        Target.objects.filter(indicator=indicator).delete()
        Target.objects.bulk_create(
            Target(
                indicator=indicator, period=Period.MONTH, period_start=m, green=green, amber=amber
            )
            for m in months
        )
    footfall, _created = Indicator.objects.update_or_create(
        code=FOOTFALL["code"],
        defaults={
            "kind": Indicator.Kind.REPORTED,
            "unit": FOOTFALL["unit"],
            "higher_is_better": True,
            **{key: FOOTFALL[key] for key in text},
        },
    )
    # The review time's field, by either of its names.
    fields = {field.name for field in ReportedFigure._meta.get_fields()}
    reviewed = {name: timezone.now() for name in ("reviewed_at", "approved_at") if name in fields}
    mall = organisations["bench-mall"]
    footfall.owners.set([mall])
    ReportedFigure.objects.filter(indicator=footfall).delete()
    ReportedFigure.objects.bulk_create(
        ReportedFigure(
            indicator=footfall,
            period=Period.MONTH,
            period_start=m,
            value=1_200_000 + 10_000 * (m.month % 7),
            reported_by=mall,
            status=ReportedFigure.Status.APPROVED,
            **reviewed,
        )
        for m in months[:-2]
    )


def phase_load(args) -> None:
    """Build the data set unless the marker says it is there; report what it holds."""
    from django.db import connection, transaction

    from bench.dataset import _catalogue
    from governance.kpis.registry import local_day
    from governance.stations.models import Visit

    with connection.cursor() as cursor:
        built = marker(cursor)
    wanted = {"visits": args.visits, "days": args.days}
    if built and {key: built.get(key) for key in wanted} == wanted:
        log(f"reusing the data set built on {built['built_at']}")
        emit({**built, "reused": True})
        return

    last = local_day(dt.datetime.now(dt.UTC)) - dt.timedelta(days=1)
    first = last - dt.timedelta(days=args.days - 1)
    log(f"building {args.visits:,} visits over {first} – {last} ({args.days} days)")
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE stations_visit, kpis_measurement, kpis_dirtyday, bench_kpis_dataset "
            "RESTART IDENTITY CASCADE"
        )
    _catalogue(STATIONS, SERVICES)
    indicators(first, last)

    started = time.perf_counter()
    with connection.cursor() as cursor:
        # The secondary indexes are dropped for the load and built again after it from their
        # own definitions (several times faster than keeping them up to date row by row).
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'stations_visit' "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)"
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        # The ids come from the tables themselves: skip the per-row foreign key triggers.
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SET work_mem = '256MB'")
        start = first
        while start <= last:
            end = min(last, start + dt.timedelta(days=LOAD_CHUNK_DAYS - 1))
            with transaction.atomic():
                insert_visits(
                    cursor, first=first, last=last, total=args.visits, start=start, end=end
                )
            log(f"visits to {end}: {time.perf_counter() - started:6.1f} s")
            start = end + dt.timedelta(days=1)
        cursor.execute("SET session_replication_role = origin")
        log(f"visits inserted in {time.perf_counter() - started:.1f} s")
        cursor.execute("SET maintenance_work_mem = '1GB'")
        for name, definition in indexes:
            cursor.execute(definition)
            log(f"{name} built: {time.perf_counter() - started:6.1f} s")
    insert_s = time.perf_counter() - started
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) stations_visit")
    vacuum_s = time.perf_counter() - started
    log(f"inserted and indexed in {insert_s:.1f} s, VACUUM ANALYZE {vacuum_s:.1f} s")

    # The history's backfill, split into --build-jobs consecutive ranges backfilled at once
    # by as many processes (a one-off build step; (b) times one process on 365 days).
    started = time.perf_counter()
    jobs = []
    for number in range(args.build_jobs):
        begin = first + dt.timedelta(days=args.days * number // args.build_jobs)
        until = first + dt.timedelta(days=args.days * (number + 1) // args.build_jobs - 1)
        jobs.append(
            subprocess.Popen(
                [
                    *(sys.executable, __file__, "--phase", "backfill"),
                    *("--start", str(begin), "--end", str(until)),
                    *("--database-url", args.database_url),
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
        )
    slices = []
    for job in jobs:
        out, _err = job.communicate()
        if job.returncode != 0:
            raise SystemExit("a backfill job failed")
        slices.append(
            json.loads(next(ln for ln in out.splitlines() if ln.startswith("RESULT "))[7:])
        )
        log(
            f"backfill {slices[-1]['start']} – {slices[-1]['end']}: {slices[-1]['seconds']:.1f} s, "
            f"{slices[-1]['rows']:,} visits, {slices[-1]['measurements']:,} measurements, "
            f"maxrss {slices[-1]['maxrss_mb']:.0f} MB"
        )
    backfill_s = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) kpis_measurement")
        cursor.execute("SELECT count(*) FROM kpis_measurement")
        measurements = cursor.fetchone()[0]
        cursor.execute(
            "SELECT pg_total_relation_size('stations_visit'), "
            "pg_total_relation_size('kpis_measurement')"
        )
        visit_bytes, measurement_bytes = cursor.fetchone()
    normal_day = (
        Visit.objects.filter(
            arrived_at__gte=day_start_of(last - dt.timedelta(days=27)),
            arrived_at__lt=day_start_of(last + dt.timedelta(days=1)),
        ).count()
        // 28
    )
    built = {
        **wanted,
        "first": first.isoformat(),
        "last": last.isoformat(),
        "rows": Visit.objects.count(),
        "normal_day": normal_day,
        "insert_s": round(insert_s, 1),
        "vacuum_s": round(vacuum_s, 1),
        "backfill_s": round(backfill_s, 1),
        "backfill_jobs": slices,
        "measurements": measurements,
        "visit_table_mb": round(visit_bytes / 2**20),
        "measurement_table_mb": round(measurement_bytes / 2**20),
        "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_kpis_dataset VALUES ('history', %s)",
            [json.dumps(built, default=str)],
        )
    emit({**built, "reused": False})


def day_start_of(day: dt.date) -> dt.datetime:
    from governance.kpis.registry import day_start

    return day_start(day)


def new_day_visits(cursor, day: dt.date, rows: int, ndays: int) -> None:
    """Replace ``day``'s visits by ``rows`` fresh ones, drawn like the history's last day."""
    cursor.execute(
        "DELETE FROM stations_visit WHERE arrived_at >= %s AND arrived_at < %s",
        [day_start_of(day), day_start_of(day + dt.timedelta(days=1))],
    )
    cursor.execute(NEW_DAY_SQL, {"start": day, "end": day, "ndays": ndays, "total": rows})


def explain_day(day: dt.date) -> list[dict]:
    """EXPLAIN ANALYZE of each metric's compute query for one day: time and the scan used."""
    from django.db import connection

    from governance.kpis import registry

    captured: list[tuple[str, object]] = []

    def capture(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith("SELECT"):
            captured.append((sql, params))
        return execute(sql, params, many, context)

    plans = []
    for metric in registry.all_metrics():
        captured.clear()
        with connection.execute_wrapper(capture):
            list(metric.compute(day, day))
        for sql, params in captured:
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                lines = [row[0] for row in cursor.fetchall()]
            scans = sorted(
                {
                    line.strip().removeprefix("->").strip().split("  (")[0]
                    for line in lines
                    if "Scan" in line and "stations_visit" in line
                }
            )
            total = next(line for line in lines if line.startswith("Execution Time"))
            plans.append(
                {"metric": metric.code, "visit_scans": scans, "time": total, "plan": lines}
            )
    return plans


def phase_rollup(args) -> None:
    """Roll up one new day of ``rows`` visits, for each of ``--rows``."""
    from django.db import connection

    from governance.kpis.models import DirtyDay, Measurement
    from governance.kpis.services import kpis_mark_dirty, kpis_rollup

    with connection.cursor() as cursor:
        built = marker(cursor)
        cursor.execute("SELECT count(*) FROM stations_visit")
        history_rows = cursor.fetchone()[0]
    day = dt.date.fromisoformat(built["last"]) + dt.timedelta(days=1)
    ndays = built["days"]
    kpis_rollup(limit=10_000)  # drain marks left by anything else, untimed
    results = []
    for rows in args.rows:
        with connection.cursor() as cursor:
            new_day_visits(cursor, day, rows, ndays)
            cursor.execute(
                "SELECT count(*) FROM stations_visit WHERE arrived_at >= %s AND arrived_at < %s",
                [day_start_of(day), day_start_of(day + dt.timedelta(days=1))],
            )
            day_rows = cursor.fetchone()[0]
            cursor.execute("SELECT count(*) FROM stations_visit")
            history_rows = cursor.fetchone()[0] - day_rows
        Measurement.objects.filter(day=day).delete()
        marks = kpis_mark_dirty(days=[day])
        with measure() as rollup:
            outcome = kpis_rollup()
        if DirtyDay.objects.exists():
            raise SystemExit("marks left after the rollup")
        results.append(
            {
                "day": day,
                "day_rows": day_rows,
                "history_rows": history_rows,
                "marks": marks,
                "seconds": rollup.seconds,
                "queries": rollup.queries,
                "peak_rss_growth_mb": rollup.peak_rss / 2**20,
                "measurements": outcome["measurements"],
            }
        )
        log(
            f"rollup of {day} with {day_rows:,} visits (history {history_rows:,}): "
            f"{rollup.seconds:.2f} s, {rollup.queries} queries"
        )
    plans = explain_day(day) if args.explain else []
    emit({"runs": results, "maxrss_mb": maxrss_mb(), "plans": plans})


def phase_backfill(args) -> None:
    """kpis_backfill of ``--start``–``--end``, by default the history's last ``--backfill-days``."""
    from django.db import connection

    from governance.kpis.services import kpis_backfill

    if args.start:
        start, end = dt.date.fromisoformat(args.start), dt.date.fromisoformat(args.end)
    else:
        with connection.cursor() as cursor:
            built = marker(cursor)
        end = dt.date.fromisoformat(built["last"])
        start = end - dt.timedelta(days=args.backfill_days - 1)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM stations_visit WHERE arrived_at >= %s AND arrived_at < %s",
            [day_start_of(start), day_start_of(end + dt.timedelta(days=1))],
        )
        rows = cursor.fetchone()[0]
    with measure() as backfill:
        outcome = kpis_backfill(start=start, end=end)
    emit(
        {
            "start": start,
            "end": end,
            "rows": rows,
            "seconds": backfill.seconds,
            "queries": backfill.queries,
            "measurements": outcome["measurements"],
            "peak_rss_growth_mb": backfill.peak_rss / 2**20,
            "maxrss_mb": maxrss_mb(),
        }
    )


def phase_queries(args) -> None:
    """Queries, status and size of one anonymous GET of each path, with the test client."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    paths = json.loads(args.paths)
    client = Client()
    counts = {}
    for name, path in paths.items():
        client.get(path, HTTP_HOST="127.0.0.1")  # warm: first-request imports, caches
        with CaptureQueriesContext(connection) as context:
            response = client.get(path, HTTP_HOST="127.0.0.1")
        counts[name] = {
            "status": response.status_code,
            "queries": len(context.captured_queries),
            "bytes": len(response.content),
            "sql": [query["sql"] for query in context.captured_queries] if args.explain else [],
        }
    emit(counts)


def phase_explain_reads(args) -> None:
    """EXPLAIN ANALYZE of the measurement reads behind the measurements action (platform)."""
    from django.db import connection

    from governance.kpis import queries
    from governance.kpis.models import Measurement, Period
    from governance.kpis.registry import Scope

    with connection.cursor() as cursor:
        built = marker(cursor)
    last = dt.date.fromisoformat(built["last"])
    out = []
    twelve = queries.periods_back(Period.MONTH, last, 12)
    for label, start in (("12 months", twelve), ("all", dt.date.fromisoformat(built["first"]))):
        queryset = (
            Measurement.objects.filter(
                metric="stations.wait_median", day__range=(start, last), **Scope().columns()
            )
            .order_by()
            .values_list("day", "value", "weight", "histogram")
        )
        sql, params = queryset.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            out.append({"range": label, "plan": [row[0] for row in cursor.fetchall()]})
    emit(out)


PHASES = {
    "load": phase_load,
    "rollup": phase_rollup,
    "backfill": phase_backfill,
    "queries": phase_queries,
    "explain_reads": phase_explain_reads,
}


# The orchestrating process -----------------------------------------------------------------
def run_phase(env, phase: str, database_url: str, *extra: str) -> object:
    """Run ``phase`` in a child process on ``database_url``; echo its log; return its RESULT."""
    command = [sys.executable, __file__, "--phase", phase, "--database-url", database_url, *extra]
    child = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**env, "DATABASE_URL": database_url},
        stdout=subprocess.PIPE,
        text=True,
    )
    result = None
    for line in child.stdout:
        if line.startswith("RESULT "):
            result = json.loads(line.split(" ", 1)[1])
        else:
            print(line, end="", flush=True)
    if child.wait() != 0:
        raise SystemExit(f"phase {phase} failed on {database_url}")
    return result


def prepare(env, database_url: str) -> None:
    ensure_database(database_url)
    manage({**env, "DATABASE_URL": database_url}, "migrate", "--noinput", "-v", "0")


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (http, loopback)
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def show_plans(plans: list[dict], full: bool) -> None:
    for plan in plans:
        scans = "; ".join(plan["visit_scans"]) or "(no scan of stations_visit)"
        print(f"  {plan['metric']:<24} {plan['time']:<26} {scans}")
        if full:
            print("\n".join("      " + line for line in plan["plan"]))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    parser.add_argument("--small-database-url", default=DEFAULT_SMALL_DATABASE)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    parser.add_argument("--visits", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=1095, help="days of history")
    parser.add_argument("--small-days", type=int, default=10, help="the small data set's days")
    parser.add_argument("--backfill-days", type=int, default=365)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--skip-http", action="store_true", help="no gunicorn, no wrk")
    parser.add_argument("--explain", action="store_true", help="print the full query plans")
    parser.add_argument("--phase", choices=PHASES, help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=lambda s: [int(n) for n in s.split(",")], default=[])
    parser.add_argument("--paths", help=argparse.SUPPRESS)
    parser.add_argument("--start", help=argparse.SUPPRESS)
    parser.add_argument("--end", help=argparse.SUPPRESS)
    parser.add_argument(
        "--build-jobs", type=int, default=2, help="processes backfilling the history on a build"
    )
    args = parser.parse_args()

    if args.phase:
        import django

        django.setup()
        PHASES[args.phase](args)
        return

    if not args.skip_http and not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk (or --skip-http)")
    env = environment(
        types.SimpleNamespace(database_url=args.database_url, redis_url=args.redis_url)
    )
    common = ["--explain"] if args.explain else []
    started = time.monotonic()
    for url in (args.database_url, args.small_database_url):
        prepare(env, url)
    manage(env, "collectstatic", "--noinput", "-v", "0")

    # 1. The data sets.
    print(f"big data set ({args.database_url.rsplit('/', 1)[1]}):")
    big = run_phase(
        env,
        "load",
        args.database_url,
        "--visits",
        str(args.visits),
        "--days",
        str(args.days),
        "--build-jobs",
        str(args.build_jobs),
    )
    small_visits = round(args.visits * args.small_days / args.days)
    print(f"small data set ({args.small_database_url.rsplit('/', 1)[1]}):")
    small = run_phase(
        env,
        "load",
        args.small_database_url,
        "--visits",
        str(small_visits),
        "--days",
        str(args.small_days),
    )
    print(
        f"\ndata sets ready in {time.monotonic() - started:.0f} s\n"
        f"  big:   {big['rows']:,} visits, {big['first']} – {big['last']}, "
        f"normal day {big['normal_day']:,} visits, {big['measurements']:,} measurements; "
        f"visits table {big['visit_table_mb']:,} MB, measurements {big['measurement_table_mb']} MB"
        f"\n         built {'(earlier) ' if big['reused'] else ''}on {big['built_at']}: "
        f"insert and index {big['insert_s']} s, VACUUM ANALYZE {big['vacuum_s']} s, "
        f"backfill of all {big['days']} days {big['backfill_s']} s "
        f"({history_jobs(big)})"
        f"\n  small: {small['rows']:,} visits, {small['first']} – {small['last']}"
    )

    # 2. Rollup of one new day, normal and 4×, in both.
    normal = big["normal_day"]
    rows = f"{normal},{4 * normal}"
    print("\n(a) rollup of one new day")
    rollups = {
        "big": run_phase(env, "rollup", args.database_url, "--rows", rows, *common),
        "small": run_phase(env, "rollup", args.small_database_url, "--rows", rows),
    }

    # 3. Backfill of 365 days.
    print(f"\n(b) kpis_backfill of {args.backfill_days} days")
    backfill = run_phase(
        env, "backfill", args.database_url, "--backfill-days", str(args.backfill_days)
    )

    # 4. Queries per request, both data sets.
    paths = {s.name: s.path.format(first=big["first"]) for s in KPI_BASELINES + KPI_SCENARIOS}
    queries = {
        name: run_phase(env, "queries", url, "--paths", json.dumps(paths), *common)
        for name, url in (("big", args.database_url), ("small", args.small_database_url))
    }
    reads = run_phase(env, "explain_reads", args.database_url)

    # 5. HTTP.
    results: dict[str, Result] = {}
    skipped: list[str] = []
    if not args.skip_http:
        http_args = types.SimpleNamespace(**vars(args))
        server = start_gunicorn(env, http_args)
        try:
            scenarios = []
            for scenario in KPI_SCENARIOS:
                url = f"http://127.0.0.1:{args.port}{paths[scenario.name]}"
                code = status_of(url)
                if code != 200:
                    skipped.append(f"{scenario.name} ({paths[scenario.name]} answered {code})")
                else:
                    scenarios.append(scenario)
            results = {s.name: Result(s) for s in KPI_BASELINES + scenarios}
            for round_number in range(1, args.rounds + 1):
                for scenario in [*KPI_BASELINES, *scenarios]:
                    url = f"http://127.0.0.1:{args.port}{paths[scenario.name]}"
                    run = run_wrk(scenario, url, http_args, server.pid)
                    results[scenario.name].runs.append(run)
                    print(
                        f"  round {round_number} {scenario.name:<22} {run.rps:9.1f} req/s "
                        f"p95 {run.p95_ms:7.1f} ms errors {run.errors}",
                        flush=True,
                    )
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=20)

    report(args, big, small, rollups, backfill, queries, reads, results, skipped, paths)
    print(f"\nwhole run: {time.monotonic() - started:.0f} s")


def history_jobs(built: dict) -> str:
    jobs = built["backfill_jobs"]
    return f"{len(jobs)} processes at once: " + "; ".join(
        f"{job['start']} – {job['end']} "
        f"{job['rows']:,} visits {job['seconds']:.0f} s maxrss {job['maxrss_mb']:.0f} MB"
        for job in jobs
    )


def report(args, big, small, rollups, backfill, queries, reads, results, skipped, paths) -> None:
    print("\n" + "=" * 100)
    print(
        f"data set: {big['rows']:,} visits over {big['days']} days ({big['first']} – "
        f"{big['last']}), {STATIONS} stations, {SERVICES} services, 4 departments; "
        f"{big['measurements']:,} measurements; small: {small['rows']:,} visits over "
        f"{small['days']} days"
    )
    print(
        f"history backfill ({big['days']} days into empty measurements): {big['backfill_s']} s "
        f"wall, {history_jobs(big)}"
    )

    print("\n(a) rollup of one new day (kpis_mark_dirty + kpis_rollup, every registered metric)")
    print(
        f"  {'data set':<8} {'history':>12} {'day rows':>9} {'seconds':>8} {'µs/row':>7} "
        f"{'queries':>7} {'measurements':>12} {'RSS +MB':>8} {'maxrss MB':>9}"
    )
    for name, outcome in rollups.items():
        for run in outcome["runs"]:
            print(
                f"  {name:<8} {run['history_rows']:12,} {run['day_rows']:9,} "
                f"{run['seconds']:8.2f} {1e6 * run['seconds'] / run['day_rows']:7.0f} "
                f"{run['queries']:7} {run['measurements']:12,} "
                f"{run['peak_rss_growth_mb']:8.1f} {outcome['maxrss_mb']:9.1f}"
            )
    if rollups["big"]["plans"]:
        print("  one-day compute queries on the big data set (EXPLAIN ANALYZE):")
        show_plans(rollups["big"]["plans"], args.explain)

    print(
        f"\n(b) kpis_backfill {backfill['start']} – {backfill['end']} "
        f"({args.backfill_days} days, replacing): {backfill['seconds']:.1f} s for "
        f"{backfill['rows']:,} visits ({1e6 * backfill['seconds'] / backfill['rows']:.0f} µs/row), "
        f"{backfill['queries']} queries, {backfill['measurements']:,} measurements, "
        f"RSS +{backfill['peak_rss_growth_mb']:.1f} MB, process maxrss "
        f"{backfill['maxrss_mb']:.1f} MB"
    )

    print("\n(e) queries per anonymous GET, in-process (test client), big vs small data set")
    print(f"  {'scenario':<22} {'big':>5} {'small':>5} {'status':>6} {'bytes':>8}  path")
    for name, path in paths.items():
        b, s = queries["big"][name], queries["small"][name]
        flag = "" if b["queries"] == s["queries"] else "  <-- differs"
        print(
            f"  {name:<22} {b['queries']:5} {s['queries']:5} {b['status']:6} "
            f"{b['bytes']:8,}  {path}{flag}"
        )
        if args.explain:
            for sql in b["sql"]:
                print(f"      {sql[:300]}")
    print("\n  measurement read of the platform scope (wait-median), EXPLAIN ANALYZE:")
    for read in reads:
        lines = read["plan"]
        print(f"   {read['range']}:")
        shown = (
            lines
            if args.explain
            else [
                line
                for line in lines
                if "Scan" in line or "Rows Removed" in line or "Execution" in line
            ]
        )
        print("\n".join("      " + line for line in shown))

    if results:
        print(
            f"\n(c, d) HTTP: {args.rounds} rounds × {args.duration} s, wrk -t{args.threads} "
            f"-c{args.connections}, gunicorn {args.workers} sync workers, medians; peak MB is "
            "the largest worker's RSS"
        )
        print(
            f"  {'scenario':<22} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
            f"{'errors':>6} {'peak MB':>8} {'queries':>7} {'ratio':>14} {'goal':>7}"
        )
        for name, result in results.items():
            scenario = result.scenario
            ratio, goal = "", ""
            if scenario.baseline:
                value = result.median("rps") / results[scenario.baseline].median("rps")
                ratio = f"{value:.2f}x {scenario.baseline.removeprefix('baseline_')}"
                if scenario.goal:
                    goal = ("ok " if value >= scenario.goal else "LOW ") + f"{scenario.goal}"
            print(
                f"  {name:<22} {result.median('rps'):9.1f} {result.median('p50_ms'):8.1f} "
                f"{result.median('p95_ms'):8.1f} {result.median('p99_ms'):8.1f} "
                f"{sum(run.errors for run in result.runs):6d} "
                f"{max(run.peak_rss_mb for run in result.runs):8.1f} "
                f"{queries['big'][name]['queries']:7} {ratio:>14} {goal:>7}"
            )
    for line in skipped:
        print(f"  skipped: {line}")


if __name__ == "__main__":
    main()
