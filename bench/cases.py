#!/usr/bin/env python
"""Cases and ratings at scale (issues 6 and 7): the staff case lists and Open311's
``requests.json`` over 1,000,000 cases, and visit ratings through the QR endpoint with
1,000,000 ratings in the table.

    .venv/bin/python bench/cases.py                      # build or reuse the data set, then all
    .venv/bin/python bench/cases.py --duration 5 --rounds 2 --only rating_post
    .venv/bin/python bench/cases.py --skip-http --explain  # queries, their time and plans only
    .venv/bin/python bench/cases.py --skip-http --profile  # where a rating's time goes

What it does, on PostgreSQL and Redis like bench/run.py (production settings, DEBUG off, API
throttling off):

1. Builds ``gongzhi_bench_cases`` once and reuses it (a marker row records what was built):
   the catalogue of bench/dataset.py (10 stations, 200 services of 4 departments), 8 case
   categories, 20 staff per department (one with a DRF token: the benchmark's caller),
   5,000 citizens, an Open311 app; ``--cases`` (1,000,000) cases over ``--days`` (730) days up
   to now, twice as many a day at the end as at the start, numbered ``CH-YYYY-NNNNNN`` per
   year, with the status mix of a working backlog (most of the last days' cases open, 3 % of
   the older ones still open, the rest resolved, closed, rejected or duplicates), services or
   categories, stations or places, the services' departments responsible (30 % of new ones in
   triage), assignees, 4 % co-handled, 15 % private, 40 % by signed-in citizens; their
   timeline (opened, status changes, public replies, internal notes: about 4 rows a case,
   which Open311 reads for ``status_notes``), and the Open311 sidecars of the Open311 cases.
   Then ``--ratings`` (1,000,000) visits over the same days, each rated once at the QR code
   (70 % very satisfied … 1.5 % very dissatisfied). All by ``INSERT … SELECT generate_series``
   with secondary indexes dropped and rebuilt, foreign key triggers skipped.
2. Tops up a pool of ``--pool`` unrated visits finished in the last 12 hours (their links are
   valid) and writes one signed token per visit (``feedback.tokens.visit_token``); before each
   rating run the file holds the pool's still unrated visits, so no token is sent twice.
3. Counts the queries of one request of each scenario in-process with the test client on the
   same data (and the Redis commands), with the time of each query; ``--explain`` adds the
   plans of the slow ones.
4. wrk against gunicorn, interleaved with the baselines of bench/run.py for ``--rounds``
   rounds, medians: requests per second, p50/p95/p99, errors, and the ratio to the scenario's
   baseline with its goal (a list ≥ 0.35 × ``baseline_values``, the rating ≥ 0.8 ×
   ``baseline_insert``).

Each step that touches Django runs in a child process of its own (``--phase``). See
bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
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
    print_cpu,
    run_wrk,
    start_gunicorn,
)

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/gongzhi_bench_cases"
DEFAULT_REDIS = "redis://127.0.0.1:6379/6"
STATIONS, SERVICES = 10, 200
STAFF_PER_DEPARTMENT, CITIZENS = 20, 5_000
CATEGORIES = [
    ("bench-facilities", "设施设备", "Facilities"),
    ("bench-environment", "环境卫生", "Cleanliness"),
    ("bench-queue", "排队叫号", "Queueing"),
    ("bench-guidance", "指引标识", "Signage"),
    ("bench-lost", "失物招领", "Lost and found"),
    ("bench-safety", "安全隐患", "Safety"),
    ("bench-noise", "噪音扰民", "Noise"),
    ("bench-other", "其他问题", "Other"),
]
STAFF_EMAIL = "bench-staff-hukou-00@bench.invalid"
RATING_PATH = "/api/v1/feedback/visit-ratings/"
RATING_BAD_EVERY = 20  # one rating in 20 is bad (level 2) and enqueues its rectification
MARKER = "bench_cases_dataset"

BASELINE_NAMES = ("baseline_bare", "baseline_values", "baseline_insert")
CASE_BASELINES = [b for b in BASELINES if b.name in BASELINE_NAMES]


def scenarios(args, token_file: str = "") -> list[Scenario]:
    """The scenarios; the staff ones carry the caller's token (``{token}``) in WRK_AUTHORIZATION
    and the page its session cookie (``{cookie}``), filled in by :func:`with_credentials`."""
    return [
        Scenario(
            "cases_staff_queue",
            "/api/v1/cases/?queue=department",
            baseline="baseline_values",
            goal=0.35,
            env=(("WRK_AUTHORIZATION", "Token {token}"),),
        ),
        Scenario(
            "cases_staff_list",
            "/api/v1/cases/",
            baseline="baseline_values",
            goal=0.35,
            env=(("WRK_AUTHORIZATION", "Token {token}"),),
        ),
        Scenario("open311_requests", "/open311/v2/requests.json", baseline="baseline_values"),
        Scenario(
            "cases_queue_page",
            "/cases/queue/",
            baseline="baseline_bare",
            env=(("WRK_COOKIE", "{cookie}"),),
        ),
        Scenario(
            "rating_post",
            RATING_PATH,
            method="POST",
            baseline="baseline_insert",
            goal=0.8,
            script="wrk_rating.lua",
            env=(
                ("WRK_TOKENS", token_file),
                ("WRK_THREADS", str(args.threads)),
                ("WRK_BAD_EVERY", str(RATING_BAD_EVERY)),
            ),
        ),
    ]


def with_credentials(scenario: Scenario, credentials: dict) -> Scenario:
    env = tuple((key, value.format(**credentials)) for key, value in scenario.env)
    return Scenario(**{**scenario.__dict__, "env": env})


# Generating the data set ------------------------------------------------------------------
# Case g of N (ids in the order of creation): its moment is the inverse of a density rising
# linearly from 1 to 2 over the history; everything else is drawn per row with random().
MOMENT = (
    "%(start)s::timestamptz + (%(end)s::timestamptz - %(start)s::timestamptz)"
    " * (-1 + sqrt(1 + 3 * g::float / %(total)s))"
)
# The first case of each year (Asia/Shanghai), for the references' numbering.
YEAR_FIRST_SQL = """
SELECT extract(year FROM ({moment}) AT TIME ZONE 'Asia/Shanghai')::int, min(g)
FROM generate_series(1, %(total)s) AS g GROUP BY 1 ORDER BY 1
""".replace("{moment}", MOMENT)
CASES_SQL = """
WITH ctx AS (
    SELECT
        (SELECT array_agg(id ORDER BY service_code) FROM stations_service
          WHERE service_code LIKE 'BENCH-%%') AS services,
        (SELECT array_agg(department_id ORDER BY service_code) FROM stations_service
          WHERE service_code LIKE 'BENCH-%%') AS service_departments,
        (SELECT array_agg(id ORDER BY slug) FROM stations_station
          WHERE slug LIKE 'bench-%%') AS stations,
        (SELECT array_agg(id ORDER BY slug) FROM cases_category
          WHERE slug LIKE 'bench-%%') AS categories,
        %(departments)s::bigint[] AS departments,
        %(staff)s::bigint[] AS staff,
        %(citizens)s::bigint[] AS citizens
),
draws AS (
    SELECT g, {moment} AS created,
           random() AS r_open, random() AS r_status, random() AS r_source, random() AS r_kind,
           random() AS r_service, random() AS r_place, random() AS r_triage, random() AS r_pub,
           random() AS r_priority, random() AS r_assignee, random() AS r_reporter,
           random() AS r_ack, random() AS r_resolve, random() AS r_due, random() AS r_title
    FROM generate_series(%(first)s, %(last)s) AS g
),
shaped AS (
    SELECT d.*, ctx.*,
           extract(epoch FROM %(end)s::timestamptz - d.created) / 86400 AS age,
           CASE WHEN d.r_kind < 0.8
                THEN 1 + floor(array_length(ctx.services, 1) * power(d.r_service, 1.5))::int
           END AS k,
           CASE WHEN d.r_open < 0.03 + 0.6 * exp(-extract(epoch FROM %(end)s::timestamptz
                                                          - d.created) / 86400 / 10)
                THEN CASE WHEN d.r_status < 0.20 THEN 'new'
                          WHEN d.r_status < 0.45 THEN 'acknowledged'
                          WHEN d.r_status < 0.95 THEN 'in_progress'
                          ELSE 'reopened' END
                ELSE CASE WHEN d.r_status < 0.55 THEN 'closed'
                          WHEN d.r_status < 0.83 THEN 'resolved'
                          WHEN d.r_status < 0.93 THEN 'rejected'
                          WHEN d.g > 1 THEN 'duplicate'
                          ELSE 'closed' END
           END AS status,
           CASE WHEN d.r_source < 0.70 THEN 'citizen' WHEN d.r_source < 0.82 THEN 'feedback'
                WHEN d.r_source < 0.87 THEN 'partner' WHEN d.r_source < 0.92 THEN 'staff'
                WHEN d.r_source < 0.97 THEN 'open311' ELSE 'proposal' END AS source
    FROM draws d, ctx
),
routed AS (
    SELECT s.*,
           CASE WHEN s.status = 'new' AND s.r_triage < 0.3 THEN NULL
                WHEN s.k IS NOT NULL THEN s.service_departments[s.k]
                ELSE s.departments[1 + (s.g %% array_length(s.departments, 1))] END AS responsible,
           s.created + interval '1 day' AS ack_due,
           s.created + (5 + 10 * s.r_due) * interval '1 day' AS resolve_due,
           CASE WHEN s.status <> 'new'
                THEN s.created + least(s.age * 24 * 0.9, 30 * s.r_ack) * interval '1 hour' END
             AS acked
    FROM shaped s
),
resolving AS (
    SELECT r.*,
           CASE WHEN r.status IN ('resolved', 'closed')
                THEN least(%(end)s::timestamptz,
                           r.acked + (1 + 12 * r.r_resolve) * interval '1 day')
           END AS resolved
    FROM routed r
),
timed AS (
    SELECT r.*,
           CASE WHEN r.status = 'closed'
                THEN least(%(end)s::timestamptz, r.resolved + interval '3 days') END AS closed,
           CASE WHEN r.responsible IS NOT NULL AND r.status <> 'new' AND r.r_assignee < 0.8
                THEN r.staff[(array_position(r.departments, r.responsible) - 1) * %(per)s
                             + 1 + floor(%(per)s * r.r_assignee / 0.8)::int] END AS assignee
    FROM resolving r
)
INSERT INTO cases_case
    (id, created_at, updated_at, reference, title, description, source, latitude, longitude,
     address, contact_name, contact_phone, contact_email, priority, status, status_changed_at,
     routing, routed_by_name, is_public, rejection_reason, acknowledge_due_at, resolve_due_at,
     due_estimated, acknowledged_at, resolved_at, first_resolved_at, closed_at,
     acknowledged_on_time, resolved_on_time, reopen_count, assignee_id, duplicate_of_id,
     reporter_id, responsible_id, service_id, station_id, category_id, routed_by_id,
     sla_policy_id)
SELECT g, created,
       coalesce(closed, resolved, acked, created),
       'CH-' || extract(year FROM created AT TIME ZONE 'Asia/Shanghai')::int || '-'
         || lpad((g - (%(year_first)s::bigint[])[extract(year FROM created AT TIME ZONE
                                                         'Asia/Shanghai')::int
                                                 - %(first_year)s + 1] + 1)::text, 6, '0'),
       (ARRAY['候车区空调不制冷', '自助机无法打印回执', '窗口等候时间过长', '指引标识不清楚',
              '卫生间需要清洁', '叫号屏显示故障', '捡到一个钱包', '楼梯扶手松动'])
         [1 + floor(8 * r_title)::int],
       '反映人称：' || (ARRAY['下午两点左右在服务站办理业务时发现该问题，',
                            '周末人多的时候尤其明显，',
                            '已经持续了好几天，希望尽快处理，'])[1 + g %% 3]
         || repeat('现场工作人员表示会向上反映，但目前仍未解决。', 1 + g %% 4)
         || '编号' || g,
       source,
       CASE WHEN r_place >= 0.85 THEN round((30.60 + 0.1 * r_place)::numeric, 6) END,
       CASE WHEN r_place >= 0.85 THEN round((104.05 + 0.1 * r_title)::numeric, 6) END,
       CASE WHEN r_place >= 0.85 THEN '成都市成华区建设路' || (g %% 300) || '号' ELSE '' END,
       CASE WHEN r_reporter >= 0.4 AND r_reporter < 0.7 THEN '张先生' ELSE '' END, '', '',
       CASE WHEN r_priority < 0.10 THEN 'low' WHEN r_priority < 0.80 THEN 'normal'
            WHEN r_priority < 0.95 THEN 'high' ELSE 'urgent' END,
       status,
       coalesce(closed, resolved, acked, created),
       CASE WHEN responsible IS NULL THEN 'triage' WHEN source = 'feedback' THEN 'direct'
            WHEN r_triage < 0.05 THEN 'manual' ELSE 'rule' END,
       '',
       r_pub < 0.85,
       CASE WHEN status = 'rejected' THEN '不属于本平台受理范围，请向相关部门反映。' ELSE '' END,
       ack_due, resolve_due, false,
       acked, resolved, resolved, closed,
       CASE WHEN acked IS NOT NULL THEN acked <= ack_due END,
       CASE WHEN resolved IS NOT NULL THEN resolved <= resolve_due END,
       CASE WHEN status = 'reopened' THEN 1 ELSE 0 END,
       assignee,
       CASE WHEN status = 'duplicate' THEN greatest(1, g - 1 - floor(500 * r_ack)::int) END,
       CASE WHEN r_reporter < 0.4 THEN citizens[1 + floor(array_length(citizens, 1)
                                                      * r_reporter / 0.4)::int] END,
       responsible,
       CASE WHEN k IS NOT NULL THEN services[k] END,
       CASE WHEN r_place < 0.85 THEN stations[1 + floor(array_length(stations, 1)
                                                     * r_place / 0.85)::int] END,
       CASE WHEN k IS NULL THEN categories[1 + floor(array_length(categories, 1) * r_service)::int]
       END,
       NULL, NULL
FROM timed
""".replace("{moment}", MOMENT)

# The timeline: what the services write as a case goes along (opened, acknowledged with a
# public reply from most, internal notes from some, resolved, closed, rejected, a duplicate).
TIMELINE_SQL = """
INSERT INTO cases_timelineentry (kind, is_public, body, data, created_at, actor_id, case_id)
SELECT kind, is_public, body, data, at, actor, id FROM (
    SELECT id, 'opened' AS kind, true AS is_public, '' AS body, '{}'::jsonb AS data,
           created_at AS at, reporter_id AS actor
    FROM cases_case WHERE id BETWEEN %(first)s AND %(last)s
    UNION ALL
    SELECT id, 'status', true, '', '{"from": "new", "to": "acknowledged"}'::jsonb,
           acknowledged_at, assignee_id
    FROM cases_case WHERE id BETWEEN %(first)s AND %(last)s AND acknowledged_at IS NOT NULL
    UNION ALL
    SELECT id, 'reply', true, '您好，您反映的问题已收到，我们已安排工作人员现场核实处理。',
           '{}'::jsonb, acknowledged_at + interval '1 minute', assignee_id
    FROM cases_case WHERE id BETWEEN %(first)s AND %(last)s AND acknowledged_at IS NOT NULL
          AND id %% 10 < 6
    UNION ALL
    SELECT id, 'note', false, '已电话联系报告人，约定明天上午复查。', '{}'::jsonb,
           acknowledged_at + interval '2 minutes', assignee_id
    FROM cases_case WHERE id BETWEEN %(first)s AND %(last)s AND acknowledged_at IS NOT NULL
          AND id %% 10 >= 7
    UNION ALL
    SELECT id, 'status', true, '', '{"from": "in_progress", "to": "resolved"}'::jsonb,
           resolved_at, assignee_id
    FROM cases_case WHERE id BETWEEN %(first)s AND %(last)s AND resolved_at IS NOT NULL
    UNION ALL
    SELECT id, 'status', true, '', jsonb_build_object('from', 'resolved', 'to', status),
           closed_at, assignee_id
    FROM cases_case WHERE id BETWEEN %(first)s AND %(last)s AND closed_at IS NOT NULL
    UNION ALL
    SELECT id, 'status', true, rejection_reason, jsonb_build_object('from', 'new', 'to', status),
           status_changed_at + interval '1 minute', assignee_id
    FROM cases_case WHERE id BETWEEN %(first)s AND %(last)s
          AND status IN ('rejected', 'duplicate')
) AS entries
"""

COHANDLERS_SQL = """
INSERT INTO cases_cohandler
    (created_at, updated_at, task, due_at, state, done_at, assignee_id, case_id, organisation_id)
SELECT coalesce(c.acknowledged_at, c.created_at), c.updated_at, '协助核实现场情况并反馈。',
       c.resolve_due_at,
       CASE WHEN c.status IN ('new', 'acknowledged', 'in_progress', 'reopened')
            THEN 'open' ELSE 'done' END,
       CASE WHEN c.status IN ('new', 'acknowledged', 'in_progress', 'reopened')
            THEN NULL ELSE c.updated_at END,
       NULL, c.id,
       d.ids[1 + (array_position(d.ids, c.responsible_id) %% array_length(d.ids, 1))]
FROM cases_case c, (SELECT %(departments)s::bigint[] AS ids) d
WHERE c.responsible_id IS NOT NULL AND c.id %% 25 = 7
"""

OPEN311_SQL = """
INSERT INTO cases_open311request
    (token, attributes, address_id, media_url, device_id, account_id, created_at, case_id,
     client_id)
SELECT gen_random_uuid(), '{}'::jsonb, '', '', '', '', created_at, id, %(client)s
FROM cases_case WHERE source = 'open311'
"""

# Visits, each rated once at the counter's QR code within a day of the visit.
VISITS_SQL = """
WITH pairs AS (
    SELECT array_agg(ss.station_id ORDER BY s.service_code, st.slug) AS stations,
           array_agg(ss.service_id ORDER BY s.service_code, st.slug) AS services
    FROM stations_service_stations ss
    JOIN stations_service s ON s.id = ss.service_id
    JOIN stations_station st ON st.id = ss.station_id
    WHERE s.service_code LIKE 'BENCH-%%' AND st.slug LIKE 'bench-%%'
)
INSERT INTO stations_visit
    (id, ticket, channel, counter, arrived_at, called_at, finished_at, outcome, station_id,
     service_id)
SELECT g, 'A' || lpad((g %% 1000)::text, 3, '0'), 'counter',
       'W' || lpad((1 + g %% 8)::text, 2, '0'),
       arrived, arrived + wait, arrived + wait + handle, 'completed',
       p.stations[k], p.services[k]
FROM (
    SELECT g,
           %(start)s::timestamptz + (%(end)s::timestamptz - %(start)s::timestamptz)
             * (-1 + sqrt(1 + 3 * g::float / %(total)s)) AS arrived,
           (1 + 40 * random()) * interval '1 minute' AS wait,
           (2 + 20 * random()) * interval '1 minute' AS handle,
           1 + floor(array_length(p.services, 1) * power(random(), 1.5))::int AS k
    FROM generate_series(%(first)s, %(last)s) AS g, pairs p
) AS v, pairs p
"""

RATINGS_SQL = """
INSERT INTO feedback_feedback
    (kind, level, reasons, text, contact_name, contact_phone, contact_email, channel,
     idempotency_key, device, photo, photo_type, rerating_comment, reply, is_hidden,
     hidden_reason, excluded, created_at, visit_id, station_id, service_id, organisation_id)
SELECT 'visit_rating', level,
       CASE WHEN level <= 2 THEN '["waiting_time"]'::jsonb
            WHEN level = 5 AND r < 0.3 THEN '["fast"]'::jsonb ELSE '[]'::jsonb END,
       CASE WHEN level <= 2 THEN '等了一个多小时才叫到号。' ELSE '' END,
       '', '', '', 'qr', NULL, '', '', '', '', '', false, '', false,
       least(now(), finished_at + r * interval '1 day'),
       id, station_id, service_id, department_id
FROM (
    SELECT v.id, v.station_id, v.service_id, s.department_id, v.finished_at, random() AS r,
           CASE WHEN x < 0.70 THEN 5 WHEN x < 0.90 THEN 4 WHEN x < 0.96 THEN 3
                WHEN x < 0.985 THEN 2 ELSE 1 END AS level
    FROM (SELECT *, random() AS x FROM stations_visit
          WHERE id BETWEEN %(first)s AND %(last)s) v
    JOIN stations_service s ON s.id = v.service_id
) AS rated
"""

# The pool: visits finished in the last 12 hours, not yet rated (ticket P…).
POOL_SQL = """
WITH pairs AS (
    SELECT array_agg(ss.station_id ORDER BY ss.id) AS stations,
           array_agg(ss.service_id ORDER BY ss.id) AS services
    FROM stations_service_stations ss
    JOIN stations_service s ON s.id = ss.service_id
    WHERE s.service_code LIKE 'BENCH-%%'
)
INSERT INTO stations_visit
    (ticket, channel, counter, arrived_at, called_at, finished_at, outcome, station_id,
     service_id)
SELECT 'P' || lpad((g %% 10000)::text, 4, '0'), 'counter', 'W01', arrived,
       arrived + interval '5 minutes', arrived + interval '15 minutes', 'completed',
       p.stations[k], p.services[k]
FROM (
    SELECT g, now() - interval '12 hours' * random() - interval '15 minutes' AS arrived,
           1 + floor(array_length(p.services, 1) * random())::int AS k
    FROM generate_series(1, %(n)s) AS g, pairs p
) AS v, pairs p
"""
UNRATED_POOL_SQL = """
SELECT v.id FROM stations_visit v
WHERE v.ticket LIKE 'P%%' AND v.finished_at > %(since)s
  AND NOT EXISTS (SELECT 1 FROM feedback_feedback f WHERE f.visit_id = v.id)
ORDER BY v.id
"""


# Measuring (inside a phase) ----------------------------------------------------------------
def emit(data) -> None:
    print("RESULT " + json.dumps(data, default=str), flush=True)


def log(text: str) -> None:
    print(f"  {text}", flush=True)


def marker(cursor) -> dict | None:
    cursor.execute(f"CREATE TABLE IF NOT EXISTS {MARKER} (key text PRIMARY KEY, value jsonb)")
    cursor.execute(f"SELECT value FROM {MARKER} WHERE key = 'built'")  # noqa: S608
    row = cursor.fetchone()
    if row is None:
        return None
    return json.loads(row[0]) if isinstance(row[0], str) else row[0]


def secondary_indexes(cursor, table: str) -> list[tuple[str, str]]:
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s "
        "AND indexname NOT IN (SELECT conname FROM pg_constraint)",
        [table],
    )
    return cursor.fetchall()


def people(departments) -> dict:
    """Staff (``STAFF_PER_DEPARTMENT`` a department, acting seats, is_staff as a grant sets it),
    citizens, the benchmark caller's DRF token, and an Open311 app."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection
    from rest_framework.authtoken.models import Token

    from governance.cases.models import Open311Client
    from governance.cases.open311 import keys
    from governance.stakeholders.models import Membership, User

    password = make_password("bench-password-not-used")
    staff = []
    for department in departments:
        for number in range(STAFF_PER_DEPARTMENT):
            email = f"bench-staff-{department.slug}-{number:02d}@bench.invalid"
            user, _created = User.objects.get_or_create(
                email=email,
                defaults={
                    "display_name": f"{department.name_zh}工作人员{number:02d}",
                    "is_staff": True,
                    "password": password,
                },
            )
            Membership.objects.get_or_create(
                user=user,
                organisation=department,
                defaults={"role": Membership.Role.ADMIN if number == 0 else Membership.Role.STAFF},
            )
            staff.append(user.pk)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO stakeholders_user
                (password, is_superuser, is_staff, is_active, date_joined, email, display_name,
                 phone, language)
            SELECT %s, false, false, true, now(), 'bench-citizen-' || g || '@bench.invalid',
                   '市民' || g, '', ''
            FROM generate_series(1, %s) AS g
            """,
            [password, CITIZENS],
        )
    citizens = list(
        User.objects.filter(email__startswith="bench-citizen-")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    caller = User.objects.get(email=STAFF_EMAIL)
    token, _created = Token.objects.get_or_create(user=caller)
    client, _created = Open311Client.objects.get_or_create(
        organisation=departments[0],
        name="Bench Open311 app",
        defaults={"key_prefix": "o311_bench", "key_hash": keys.hash_key(keys.generate_key())},
    )
    return {"staff": staff, "citizens": citizens, "token": token.key, "client": client.pk}


def phase_load(args) -> None:
    """Build the data set unless the marker says it is there; report what it holds."""
    from django.db import connection, transaction

    from bench.dataset import DEPARTMENTS, _catalogue
    from governance.cases.models import Category
    from governance.stakeholders.models import Organisation

    with connection.cursor() as cursor:
        built = marker(cursor)
    wanted = {"cases": args.cases, "days": args.days, "ratings": args.ratings}
    if built and {key: built.get(key) for key in wanted} == wanted:
        log(f"reusing the data set built on {built['built_at']}")
        emit({**built, "reused": True})
        return

    log(f"building {args.cases:,} cases and {args.ratings:,} rated visits over {args.days} days")
    started_all = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"TRUNCATE cases_case, cases_timelineentry, cases_cohandler, cases_open311request, "
            f"cases_casesequence, stations_visit, feedback_feedback, {MARKER} "
            "RESTART IDENTITY CASCADE"
        )
        cursor.execute("DELETE FROM stakeholders_user WHERE email LIKE 'bench-citizen-%%'")
    _catalogue(STATIONS, SERVICES)
    for order, (slug, zh, en) in enumerate(CATEGORIES):
        Category.objects.get_or_create(
            slug=slug, defaults={"name_zh": zh, "name_en": en, "order": order}
        )
    by_slug = {o.slug: o for o in Organisation.objects.filter(slug__in=[d[0] for d in DEPARTMENTS])}
    departments = [by_slug[slug] for slug, _zh, _en in DEPARTMENTS]
    who = people(departments)

    end = dt.datetime.now(dt.UTC).replace(microsecond=0)
    start = end - dt.timedelta(days=args.days)
    # Where each year's numbering starts: its first case, by the same formula as the insert.
    with connection.cursor() as cursor:
        cursor.execute(YEAR_FIRST_SQL, {"start": start, "end": end, "total": args.cases})
        firsts = dict(cursor.fetchall())
    first_year = min(firsts)
    year_first = [firsts[year] for year in range(first_year, max(firsts) + 1)]
    timings = {}

    def timed(label: str, function) -> None:
        began = time.perf_counter()
        function()
        timings[label] = round(time.perf_counter() - began, 1)
        log(f"{label}: {timings[label]} s")

    with connection.cursor() as cursor:
        tables = (
            "cases_case",
            "cases_timelineentry",
            "cases_cohandler",
            "stations_visit",
            "feedback_feedback",
        )
        dropped = []
        for table in tables:
            for name, definition in secondary_indexes(cursor, table):
                cursor.execute(f'DROP INDEX "{name}"')
                dropped.append((name, definition))
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SET work_mem = '256MB'")
        chunk = 250_000

        def cases() -> None:
            for first in range(1, args.cases + 1, chunk):
                last = min(args.cases, first + chunk - 1)
                with transaction.atomic():
                    cursor.execute(
                        CASES_SQL,
                        {
                            "first": first,
                            "last": last,
                            "total": args.cases,
                            "start": start,
                            "end": end,
                            "departments": [d.pk for d in departments],
                            "staff": who["staff"],
                            "citizens": who["citizens"],
                            "per": STAFF_PER_DEPARTMENT,
                            "year_first": year_first,
                            "first_year": first_year,
                        },
                    )
            cursor.execute(
                """
                INSERT INTO cases_casesequence (prefix, year, last)
                SELECT 'CH', substr(reference, 4, 4)::int, count(*) FROM cases_case GROUP BY 2
                """
            )

        def timeline() -> None:
            for first in range(1, args.cases + 1, chunk):
                with transaction.atomic():
                    cursor.execute(TIMELINE_SQL, {"first": first, "last": first + chunk - 1})

        def extras() -> None:
            cursor.execute(COHANDLERS_SQL, {"departments": [d.pk for d in departments]})
            cursor.execute(OPEN311_SQL, {"client": who["client"]})

        def visits() -> None:
            for first in range(1, args.ratings + 1, chunk):
                last = min(args.ratings, first + chunk - 1)
                with transaction.atomic():
                    cursor.execute(
                        VISITS_SQL,
                        {
                            "first": first,
                            "last": last,
                            "total": args.ratings,
                            "start": start,
                            "end": end - dt.timedelta(days=1),
                        },
                    )
                    cursor.execute(RATINGS_SQL, {"first": first, "last": last})

        timed("cases", cases)
        timed("timeline", timeline)
        timed("co-handlers and Open311 sidecars", extras)
        timed("visits and ratings", visits)
        cursor.execute("SET session_replication_role = origin")
        for table in ("cases_case", "stations_visit", "cases_timelineentry", "feedback_feedback"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT max(id) FROM {table}))"
            )
        cursor.execute("SET maintenance_work_mem = '1GB'")

        def indexes() -> None:
            for _name, definition in dropped:
                cursor.execute(definition)

        timed(f"{len(dropped)} indexes rebuilt", indexes)
        timed(
            "VACUUM ANALYZE",
            lambda: [
                cursor.execute(f"VACUUM (ANALYZE) {table}")
                for table in (*tables, "cases_open311request", "stakeholders_user")
            ],
        )
        cursor.execute(
            "SELECT status, count(*) FROM cases_case GROUP BY status ORDER BY count(*) DESC"
        )
        statuses = dict(cursor.fetchall())
        counts = {}
        for table in (
            "cases_case",
            "cases_timelineentry",
            "cases_cohandler",
            "cases_open311request",
            "stations_visit",
            "feedback_feedback",
        ):
            cursor.execute(
                f"SELECT count(*), pg_total_relation_size('{table}') FROM {table}"  # noqa: S608
            )
            rows, size = cursor.fetchone()
            counts[table] = {"rows": rows, "mb": round(size / 2**20)}
        cursor.execute(
            "SELECT count(*) FROM cases_case WHERE responsible_id = %s "
            "AND status IN ('new', 'acknowledged', 'in_progress', 'reopened')",
            [departments[0].pk],
        )
        queue = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM cases_case WHERE is_public "
            "AND created_at >= now() - interval '90 days'"
        )
        public_90 = cursor.fetchone()[0]

    built = {
        **wanted,
        "first": start.isoformat(),
        "last": end.isoformat(),
        "statuses": statuses,
        "tables": counts,
        "caller_queue": queue,
        "public_last_90_days": public_90,
        "token": who["token"],
        "timings": timings,
        "build_s": round(time.perf_counter() - started_all, 1),
        "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {MARKER} VALUES ('built', %s)",  # noqa: S608
            [json.dumps(built, default=str)],
        )
    emit({**built, "reused": False})


def phase_pool(args) -> None:
    """Top up the unrated visits of the last 12 hours to ``--pool``; write a token for each of
    them (``visit_id token`` lines) to ``--tokens``."""
    from django.db import connection

    from feedback.tokens import visit_token
    from governance.stations.models import Visit

    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=5)
    with connection.cursor() as cursor:
        # Unrated pool visits too old for their links to last the run go first.
        cursor.execute(
            "DELETE FROM stations_visit v WHERE v.ticket LIKE 'P%%' AND v.finished_at <= %s "
            "AND NOT EXISTS (SELECT 1 FROM feedback_feedback f WHERE f.visit_id = v.id)",
            [since],
        )
        cursor.execute(UNRATED_POOL_SQL, {"since": since})
        have = cursor.rowcount
        if have < args.pool:
            cursor.execute(POOL_SQL, {"n": args.pool - have})
            cursor.execute("ANALYZE stations_visit")
        cursor.execute(UNRATED_POOL_SQL, {"since": since})
        ids = [row[0] for row in cursor.fetchall()]
    started = time.perf_counter()
    lines = []
    for start in range(0, len(ids), 5_000):
        visits = Visit.objects.filter(pk__in=ids[start : start + 5_000]).select_related("service")
        lines.extend(f"{visit.pk} {visit_token(visit)}" for visit in visits)
    Path(args.tokens).write_text("\n".join(lines) + "\n")
    log(f"{len(ids):,} unrated visits in the pool, tokens in {time.perf_counter() - started:.1f} s")
    emit({"pool": len(ids), "since": since})


class RedisCounter:
    """Counts the commands sent to Redis (cache, Celery's broker) while it is entered."""

    def __enter__(self):
        import redis.connection

        self.commands = 0
        self._class = redis.connection.AbstractConnection
        self._original = self._class.send_packed_command
        counter = self

        def counted(connection, command, check_health=True):
            counter.commands += 1
            return counter._original(connection, command, check_health)

        self._class.send_packed_command = counted
        return self

    def __exit__(self, *exc):
        self._class.send_packed_command = self._original


def phase_queries(args) -> None:
    """Queries, Redis commands, status and size of one request of each path, with the test
    client: the staff ones with the caller's token (the page with a signed-in session), the
    rating with a fresh token of the pool. Also creates the page's session for wrk."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from governance.stakeholders.models import User

    paths = json.loads(args.paths)
    token = args.token
    tokens = [line.split(" ", 1)[1] for line in Path(args.tokens).read_text().split("\n") if line]
    tokens = tokens[-4:]  # from the end of the pool: wrk starts from its beginning
    host = "127.0.0.1"
    anonymous = Client(HTTP_HOST=host)
    staff_api = Client(HTTP_HOST=host, HTTP_AUTHORIZATION=f"Token {token}")
    page = Client(HTTP_HOST=host)
    page.force_login(User.objects.get(email=STAFF_EMAIL))
    out = {}
    for name, path in paths.items():
        client = anonymous
        if name.startswith("cases_staff"):
            client = staff_api
        elif name == "cases_queue_page":
            client = page

        def send(client=client, name=name, path=path):
            if name == "rating_post":
                body = {"token": tokens.pop(), "level": 5, "reasons": ["fast"]}
                return client.post(path, body, content_type="application/json")
            if name.endswith("insert"):
                return client.post(path, {}, content_type="application/json")
            return client.get(path)

        send()  # warm: first-request imports, caches
        with RedisCounter() as redis_calls, CaptureQueriesContext(connection) as context:
            response = send()
        queries = [
            {"ms": round(float(query["time"]) * 1000, 1), "sql": query["sql"]}
            for query in context.captured_queries
        ]
        plans = []
        if args.explain:
            for query in queries:
                if query["ms"] >= 5 and query["sql"].lstrip().upper().startswith("SELECT"):
                    with connection.cursor() as cursor:
                        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
                        plans.append([row[0] for row in cursor.fetchall()])
        out[name] = {
            "status": response.status_code,
            "bytes": len(response.content),
            "queries": len(queries),
            "redis": redis_calls.commands,
            "sql": queries,
            "plans": plans,
        }
    emit({"counts": out, "cookie": f"sessionid={page.cookies['sessionid'].value}"})


def phase_profile(args) -> None:
    """Where a rating's time goes, in-process: the mean time of ``--profile-requests``
    requests of the rating, the insert baseline and the bare baseline with the test client,
    the same without the middleware (the view called through the URL resolver alone), and
    a cProfile of the ratings."""
    import cProfile
    import io
    import pstats

    from django.contrib.auth.models import AnonymousUser
    from django.test import Client, RequestFactory
    from django.urls import resolve

    n = args.profile_requests
    lines = [line.split(" ", 1) for line in Path(args.tokens).read_text().split("\n") if line]
    # From the pool's end (the queries phase took the last few): 3 n for the requests, 2 n
    # for the raw and ORM inserts of the components.
    lines = lines[-(5 * n + 20) : -10]
    visit_ids = [int(visit) for visit, _token in lines[: 2 * n]]
    tokens = [token for _visit, token in lines[2 * n :]]
    client = Client(HTTP_HOST="127.0.0.1")
    factory = RequestFactory(HTTP_HOST="127.0.0.1")

    def rating(c):
        return c.post(
            RATING_PATH,
            {"token": tokens.pop(), "level": 5, "reasons": ["fast"]},
            content_type="application/json",
        )

    def insert(c):
        return c.post("/bench/insert", {}, content_type="application/json")

    def bare(c):
        return c.get("/bench/bare")

    def direct(path, body):
        view = resolve(path).func

        def call(_c):
            data = body() if callable(body) else body
            if data is None:
                return view(factory.get(path))
            request = factory.post(path, data, content_type="application/json")
            request.user = AnonymousUser()  # what the middleware would have set
            return view(request)

        return call

    def rating_body():
        return {"token": tokens.pop(), "level": 5, "reasons": ["fast"]}

    def timing(label, send) -> float:
        send(client)
        began = time.perf_counter()
        for _ in range(n):
            response = send(client)
            if response.status_code >= 300:
                raise SystemExit(f"{label} answered {response.status_code}: {response.content}")
        return (time.perf_counter() - began) / n * 1e6

    rows = {
        "rating_post (whole stack)": timing("rating", rating),
        "baseline_insert (whole stack)": timing("insert", insert),
        "baseline_bare (whole stack)": timing("bare", bare),
        "rating_post (view only)": timing("rating view", direct(RATING_PATH, rating_body)),
        "baseline_insert (view only)": timing("insert view", direct("/bench/insert", {})),
    }
    rows.update(components(n, visit_ids, tokens))
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(n):
        rating(client)
    profiler.disable()
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream).sort_stats("cumulative")
    stats.print_stats(45)
    emit({"us": rows, "profile": stream.getvalue(), "n": n})


def components(n: int, visit_ids: list[int], tokens: list[str]) -> dict[str, float]:
    """The rating's pieces, each timed alone over ``n`` calls (µs each): the database's part
    (the INSERT as Django compiles it, executed raw, vs the baseline's), the ORM's, the signed
    link, DRF's input and output serializers and renderer, and the service."""
    from django.db import connection
    from django.db.models.sql.subqueries import InsertQuery
    from rest_framework.renderers import JSONRenderer

    from feedback import tokens as links
    from feedback.models import Channel, Feedback, Kind
    from feedback.serializers import VisitRateInputSerializer, VisitRatingOutputSerializer

    claim = links.visit_claim(tokens[-1])
    meta = Feedback._meta
    fields = [f for f in meta.local_concrete_fields if f is not meta.auto_field]

    def row(visit_id):
        return Feedback(
            kind=Kind.VISIT_RATING,
            level=5,
            reasons=["fast"],
            visit_id=visit_id,
            station_id=claim.station_id,
            service_id=claim.service_id,
            organisation_id=claim.department_id,
            channel=Channel.QR,
        )

    def compiled(feedback):
        query = InsertQuery(Feedback)
        query.insert_values(fields, [feedback])
        compiler = query.get_compiler(using="default")
        compiler.returning_fields = [meta.pk]
        return compiler.as_sql()[0]

    raw_ids, orm_ids = visit_ids[:n], visit_ids[n : 2 * n]
    sql, params = compiled(row(raw_ids[0]))
    position = fields.index(meta.get_field("visit"))
    baseline_sql = (
        "INSERT INTO bench_baselinerow (created_at, label, value) "
        "VALUES (now(), 'baseline', 2) RETURNING id"
    )
    out: dict[str, float] = {}

    def each(label, function, items):
        began = time.perf_counter()
        for item in items:
            function(item)
        out[label] = (time.perf_counter() - began) / len(items) * 1e6

    with connection.cursor() as cursor:

        def raw(visit_id):
            values = list(params)
            values[position] = visit_id
            cursor.execute(sql, values)

        each("  INSERT feedback, raw SQL", raw, raw_ids)
        each("  INSERT baseline row, raw SQL", lambda _i: cursor.execute(baseline_sql), range(n))
    each("  compile the INSERT (ORM, no I/O)", lambda i: compiled(row(i)), raw_ids)
    each(
        "  Feedback.save(force_insert=True)",
        lambda i: row(i).save(force_insert=True),
        orm_ids,
    )
    each("  tokens.visit_claim", links.visit_claim, tokens[:n])
    body = {"token": tokens[0], "level": 5, "reasons": ["fast"]}

    def parse(_i):
        serializer = VisitRateInputSerializer(data=body)
        serializer.is_valid(raise_exception=True)

    each("  VisitRateInputSerializer.is_valid", parse, range(n))
    rated = Feedback.objects.filter(visit_id=orm_ids[0]).first()
    data = VisitRatingOutputSerializer(rated).data
    each(
        "  VisitRatingOutputSerializer.data",
        lambda _i: VisitRatingOutputSerializer(rated).data,
        range(n),
    )
    each("  JSONRenderer.render", lambda _i: JSONRenderer().render(data), range(n))
    return out


PHASES = {
    "load": phase_load,
    "pool": phase_pool,
    "queries": phase_queries,
    "profile": phase_profile,
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


def status_of(url: str, headers: dict) -> int:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (http, loopback)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def drain(port: int) -> float:
    """Wait until the workers have finished what wrk left behind: a sync worker goes on with
    the queued requests of connections wrk has closed, which would slow down the next
    scenario. A request to the bare baseline, queued behind them, answers once they are done
    (twice, for the other worker's last one). Returns the seconds waited."""
    began = time.monotonic()
    for _ in range(2):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/bench/bare", timeout=600):
            pass
    return time.monotonic() - began


def write_unrated_tokens(database_url: str, all_tokens: Path, target: Path) -> int:
    """The tokens of the pool's visits still unrated, in visit order, to ``target``."""
    import psycopg

    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=5)
    with psycopg.connect(database_url) as conn:
        unrated = {row[0] for row in conn.execute(UNRATED_POOL_SQL, {"since": since})}
    lines = []
    for line in all_tokens.read_text().split("\n"):
        if line:
            visit, token = line.split(" ", 1)
            if int(visit) in unrated:
                lines.append(token)
    target.write_text("\n".join(lines) + "\n")
    return len(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=730, help="days of history")
    parser.add_argument("--ratings", type=int, default=1_000_000, help="rated visits")
    parser.add_argument("--pool", type=int, default=60_000, help="unrated visits for the run")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--warmup", type=int, default=2, help="seconds of each scenario before round 1 (0: none)"
    )
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--port", type=int, default=8767)
    parser.add_argument("--only", nargs="*", help="scenario names to run (baselines always run)")
    parser.add_argument("--skip-http", action="store_true", help="no gunicorn, no wrk")
    parser.add_argument("--explain", action="store_true", help="plans of the slow queries")
    parser.add_argument("--profile", action="store_true", help="in-process costs of a rating")
    parser.add_argument("--profile-requests", type=int, default=300)
    parser.add_argument("--phase", choices=PHASES, help=argparse.SUPPRESS)
    parser.add_argument("--paths", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--tokens", help=argparse.SUPPRESS)
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
    started = time.monotonic()
    ensure_database(args.database_url)
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "collectstatic", "--noinput", "-v", "0")

    # 1. The data set.
    print(f"data set ({args.database_url.rsplit('/', 1)[1]}):")
    built = run_phase(
        env,
        "load",
        args.database_url,
        *("--cases", str(args.cases), "--days", str(args.days)),
        *("--ratings", str(args.ratings)),
    )
    print(f"data set ready in {time.monotonic() - started:.0f} s")

    workdir = Path(tempfile.mkdtemp(prefix="bench-cases-"))
    try:
        all_tokens, run_tokens = workdir / "all-tokens.txt", workdir / "tokens.txt"
        # 2. The pool of unrated visits and their tokens.
        pool = run_phase(
            env,
            "pool",
            args.database_url,
            *("--pool", str(args.pool), "--tokens", str(all_tokens)),
        )
        chosen = [
            s for s in scenarios(args, str(run_tokens)) if not args.only or s.name in args.only
        ]
        paths = {s.name: s.path for s in CASE_BASELINES + chosen}

        # 3. Queries per request (uses a few of the pool's tokens, from its end).
        measured = run_phase(
            env,
            "queries",
            args.database_url,
            *("--paths", json.dumps(paths), "--token", built["token"]),
            *("--tokens", str(all_tokens), *(["--explain"] if args.explain else [])),
        )
        profile = None
        if args.profile:
            profile = run_phase(
                env,
                "profile",
                args.database_url,
                *("--tokens", str(all_tokens)),
                *("--profile-requests", str(args.profile_requests)),
            )
        credentials = {"token": built["token"], "cookie": measured["cookie"]}
        chosen = [with_credentials(s, credentials) for s in chosen]

        # 4. HTTP.
        results: dict[str, Result] = {}
        skipped: list[str] = []
        if not args.skip_http:
            http_args = types.SimpleNamespace(**vars(args))
            server = start_gunicorn(env, http_args)
            try:
                runnable = []
                for scenario in chosen:
                    headers = {}
                    for key, value in scenario.env:
                        if key == "WRK_AUTHORIZATION":
                            headers["Authorization"] = value
                        elif key == "WRK_COOKIE":
                            headers["Cookie"] = value
                    code = 201
                    if scenario.method == "GET":
                        url = f"http://127.0.0.1:{args.port}{paths[scenario.name]}"
                        code = status_of(url, headers)
                    if code >= 300:
                        skipped.append(f"{scenario.name} ({paths[scenario.name]} answered {code})")
                    else:
                        runnable.append(scenario)
                results = {s.name: Result(s) for s in CASE_BASELINES + runnable}
                # A round 0 of --warmup seconds a scenario, not counted: each worker's first
                # requests of a path (its prepared statements, the pages of the indexes it
                # writes) would otherwise fall in round 1 of whichever scenario came first.
                warm_args = types.SimpleNamespace(**{**vars(http_args), "duration": args.warmup})
                for round_number in range(0 if args.warmup else 1, args.rounds + 1):
                    for scenario in [*CASE_BASELINES, *runnable]:
                        if scenario.name == "rating_post":
                            left = write_unrated_tokens(args.database_url, all_tokens, run_tokens)
                            if left < 1000:
                                raise SystemExit("the pool ran out: raise --pool")
                        url = f"http://127.0.0.1:{args.port}{paths[scenario.name]}"
                        if round_number == 0:
                            run_wrk(scenario, url, warm_args, server.pid)
                            drain(args.port)
                            continue
                        run = run_wrk(scenario, url, http_args, server.pid)
                        results[scenario.name].runs.append(run)
                        waited = drain(args.port)
                        print(
                            f"  round {round_number} {scenario.name:<20} {run.rps:9.1f} req/s "
                            f"p95 {run.p95_ms:7.1f} ms errors {run.errors} "
                            f"(backlog drained in {waited:.1f} s)",
                            flush=True,
                        )
            finally:
                os.killpg(server.pid, signal.SIGTERM)
                server.wait(timeout=20)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    report(args, built, pool, measured["counts"], profile, results, skipped, paths)
    print(f"\nwhole run: {time.monotonic() - started:.0f} s")


def report(args, built, pool, counts, profile, results, skipped, paths) -> None:
    print("\n" + "=" * 100)
    tables = built["tables"]
    print(
        f"data set: {tables['cases_case']['rows']:,} cases over {built['days']} days "
        f"({built['first'][:10]} – {built['last'][:10]}), {STATIONS} stations, {SERVICES} "
        f"services, 4 departments; {tables['cases_timelineentry']['rows']:,} timeline rows, "
        f"{tables['cases_cohandler']['rows']:,} co-handlers, "
        f"{tables['cases_open311request']['rows']:,} Open311 sidecars; "
        f"{tables['feedback_feedback']['rows']:,} ratings on "
        f"{tables['stations_visit']['rows']:,} visits (at build)"
    )
    statuses = ", ".join(f"{status} {count:,}" for status, count in built["statuses"].items())
    print(f"  statuses: {statuses}")
    print(
        f"  the caller's department queue: {built['caller_queue']:,} open cases; public cases "
        f"of the last 90 days: {built['public_last_90_days']:,}; pool: {pool['pool']:,} "
        "unrated visits"
    )
    sizes = ", ".join(f"{table} {info['mb']:,} MB" for table, info in tables.items())
    print(f"  sizes: {sizes}")
    timings = ", ".join(f"{label} {seconds} s" for label, seconds in built["timings"].items())
    print(
        f"  built {'(earlier) ' if built['reused'] else ''}on {built['built_at']} in "
        f"{built['build_s']} s: {timings}"
    )

    print("\nqueries per request, in-process (test client), with their time and Redis commands")
    print(f"  {'scenario':<20} {'queries':>7} {'redis':>5} {'status':>6} {'bytes':>9}  path")
    for name, path in paths.items():
        c = counts[name]
        print(
            f"  {name:<20} {c['queries']:7} {c['redis']:5} {c['status']:6} {c['bytes']:9,}  {path}"
        )
        for query in c["sql"]:
            if query["ms"] >= 2 or args.explain:
                print(f"      {query['ms']:7.1f} ms  {query['sql'][:150]}")
        for plan in c["plans"]:
            print("\n".join("          " + line for line in plan))

    if profile:
        print(f"\nin-process cost of one request (mean of {profile['n']}, µs)")
        for label, us in profile["us"].items():
            print(f"  {label:<32} {us:8.0f}")
        print(profile["profile"])

    if results:
        print(
            f"\nHTTP: {args.rounds} rounds × {args.duration} s after {args.warmup} s of warm-up "
            f"each, wrk -t{args.threads} "
            f"-c{args.connections}, gunicorn {args.workers} sync workers, medians; peak MB is "
            "the largest worker's RSS"
        )
        print(
            f"  {'scenario':<20} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
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
                f"  {name:<20} {result.median('rps'):9.1f} {result.median('p50_ms'):8.1f} "
                f"{result.median('p95_ms'):8.1f} {result.median('p99_ms'):8.1f} "
                f"{sum(run.errors for run in result.runs):6d} "
                f"{max(run.peak_rss_mb for run in result.runs):8.1f} "
                f"{counts[name]['queries']:7} {ratio:>14} {goal:>7}"
            )
        print_cpu(results, indent="  ")
    for line in skipped:
        print(f"  skipped: {line}")


if __name__ == "__main__":
    main()
