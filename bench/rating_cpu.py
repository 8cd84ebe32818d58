#!/usr/bin/env python
"""Where a QR rating's CPU goes, against the insert baseline's: the Django process's CPU time
and its PostgreSQL backend's, per request, in-process (the test client) on the data set of
bench/cases.py, which must have been built (run ``bench/cases.py`` once).

    .venv/bin/python bench/rating_cpu.py                   # 2,000 requests of each, 3 rounds
    .venv/bin/python bench/rating_cpu.py --requests 500 --bad-every 0

One connection, one process, nothing in parallel: the two CPU times are what a request costs
the machine, without the scheduling noise of an HTTP run (bench/README.md reads them beside
the ``rating_post`` ratio of bench/cases.py). The backend's time is read from
``/proc/<pid>/stat`` (Linux; the server on this machine). Each round takes fresh unrated
visits of the pool; every ``--bad-every``-th rating is a bad one (its rectification is
published to Celery after commit), as in bench/wrk_rating.lua.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.cases import DEFAULT_DATABASE, DEFAULT_REDIS, RATING_PATH  # noqa: E402
from bench.run import environment  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    parser.add_argument("--requests", type=int, default=2000, help="requests of each, a round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--bad-every", type=int, default=20)
    args = parser.parse_args()
    os.environ.update(environment(args))

    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    from feedback.tokens import visit_token
    from governance.stations.models import Visit

    n = args.requests
    wanted = (args.rounds + 1) * n + 100
    visits = list(
        Visit.objects.filter(rating__isnull=True, finished_at__isnull=False)
        .select_related("service")
        .order_by("-finished_at")[:wanted]
    )
    if len(visits) < wanted:
        raise SystemExit(f"{len(visits)} unrated visits in the pool, {wanted} needed: run cases.py")
    tokens = [visit_token(visit) for visit in visits]
    client = Client(HTTP_HOST="127.0.0.1")
    sent = [0]

    def rating():
        sent[0] += 1
        bad = args.bad_every and sent[0] % args.bad_every == 0
        level, reason = (2, "waiting_time") if bad else (5, "fast")
        body = {"token": tokens.pop(), "level": level, "reasons": [reason]}
        return client.post(RATING_PATH, body, content_type="application/json")

    def baseline_insert():
        return client.post("/bench/insert", {}, content_type="application/json")

    for send in (rating, baseline_insert):  # warm: imports, prepared statements, pages
        for _ in range(50):
            response = send()
            if response.status_code != 201:
                raise SystemExit(f"{send.__name__}: {response.status_code} {response.content!r}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (backend,) = cursor.fetchone()
    tick = os.sysconf("SC_CLK_TCK")

    def backend_seconds() -> float:
        fields = Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick  # utime, stime

    rows: dict[str, list[tuple[float, float]]] = {"baseline_insert": [], "rating_post": []}
    for _round in range(args.rounds):
        for name, send in (("rating_post", rating), ("baseline_insert", baseline_insert)):
            process, database = time.process_time(), backend_seconds()
            for _ in range(n):
                send()
            rows[name].append(
                (
                    (time.process_time() - process) / n * 1e6,
                    (backend_seconds() - database) / n * 1e6,
                )
            )
    print(
        f"CPU per request, µs: medians of {args.rounds} rounds of {n:,} requests "
        f"(1 rating in {args.bad_every or 'none'} bad)"
    )
    print(f"  {'':<18} {'python':>8} {'postgres':>9} {'total':>7}")
    totals = {}
    for name, values in rows.items():
        python = statistics.median(value[0] for value in values)
        database = statistics.median(value[1] for value in values)
        totals[name] = statistics.median(value[0] + value[1] for value in values)
        print(f"  {name:<18} {python:8.0f} {database:9.0f} {totals[name]:7.0f}")
    ratio = totals["baseline_insert"] / totals["rating_post"]
    print(f"  baseline_insert / rating_post, CPU: {ratio:.2f}x")


if __name__ == "__main__":
    main()
