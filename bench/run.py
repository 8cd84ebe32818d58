#!/usr/bin/env python
"""Load benchmark: gunicorn on loopback, PostgreSQL and Redis, DEBUG off, driven by wrk.

Every figure is read as a ratio to baselines measured in the same run by the same processes:
(a) a bare JSON view, (b) a hand-written ``.values()`` list, (c) a one-row insert. Baselines and
scenarios are interleaved for several rounds and the medians reported, since this machine's
speed drifts and only same-run ratios mean anything.

    .venv/bin/python bench/run.py                       # load the data set if needed, then run
    .venv/bin/python bench/run.py --duration 5 --rounds 3 --only services_api

Needs: PostgreSQL and Redis on 127.0.0.1, and wrk (``apt-get install wrk``). See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


@dataclass(frozen=True)
class Scenario:
    name: str
    path: str
    method: str = "GET"
    baseline: str | None = None  # which baseline its goal is read against
    goal: float | None = None  # the least ratio to that baseline it is held to
    accept: str | None = None
    script: str = "wrk_report.lua"  # the wrk Lua script in bench/
    env: tuple[tuple[str, str], ...] = ()  # extra WRK_* variables for the script


# Later issues add their scenarios here (cases, feedback, proposals, partners, KPIs, radar).
BASELINES = [
    Scenario("baseline_bare", "/bench/bare"),
    Scenario("baseline_values", "/bench/values"),
    Scenario("baseline_station_values", "/bench/station-values"),
    Scenario("baseline_insert", "/bench/insert", method="POST"),
]
SCENARIOS = [
    Scenario("home_page", "/", baseline="baseline_bare"),
    Scenario("services_api", "/api/v1/services/", baseline="baseline_values", goal=0.35),
    Scenario("stations_api", "/api/v1/stations/", baseline="baseline_station_values", goal=0.35),
    Scenario("service_page", "/services/{service_code}/", baseline="baseline_bare"),
]


@dataclass
class Run:
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int
    peak_rss_mb: float
    # The machine's CPU per request during the run, µs, by process group (CPU_GROUPS).
    cpu_us: dict[str, float] = field(default_factory=dict)


@dataclass
class Result:
    scenario: Scenario
    runs: list[Run] = field(default_factory=list)

    def median(self, attribute: str) -> float:
        return statistics.median(getattr(run, attribute) for run in self.runs)

    def median_cpu(self) -> dict[str, float]:
        """Each group's median µs per request over the runs, and their total."""
        runs = [run.cpu_us for run in self.runs if run.cpu_us]
        if not runs:
            return {}
        groups = {group: statistics.median(run[group] for run in runs) for group in CPU_GROUPS}
        total = statistics.median(sum(run[group] for group in CPU_GROUPS) for run in runs)
        return {**groups, "total": total, "steal": statistics.median(run["steal"] for run in runs)}


def print_cpu(results: dict[str, Result], indent: str = "") -> None:
    """The CPU table: µs of the machine's CPU per request, by process group (medians)."""
    print(
        f"\n{indent}CPU per request, µs (medians; the whole machine, read from /proc)\n{indent}"
        + f"{'scenario':<24}"
        + "".join(f"{group:>11}" for group in (*CPU_GROUPS, "total", "steal"))
    )
    for name, result in results.items():
        cpu = result.median_cpu()
        if cpu:
            print(
                f"{indent}{name:<24}"
                + "".join(f"{cpu[group]:11.0f}" for group in (*CPU_GROUPS, "total", "steal"))
            )


def environment(args) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WRK_")}
    env.update(
        DATABASE_URL=args.database_url,
        REDIS_URL=args.redis_url,
        DEBUG="false",
        SECRET_KEY="bench-" + "k" * 60,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SITE_URL="http://127.0.0.1",
        # Production settings, less what needs TLS on a loopback benchmark.
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        BENCHMARK_BASELINES="true",
        # Every request comes from 127.0.0.1: per-address throttling would measure itself.
        API_THROTTLING="false",
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="governance.settings",
    )
    return env


def manage(env, *args) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def load_data(env, args) -> dict[str, int]:
    """The data set: stations, services and visits, loaded once and reused across runs."""
    code = f"""
import django, json
django.setup()
from bench.dataset import load
print("DATASET", json.dumps(load(stations={args.stations}, services={args.services},
                                   visits={args.visits})))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("DATASET "))
    return json.loads(line.split(" ", 1)[1])


def start_gunicorn(env, args) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "governance.wsgi",
            "--bind",
            f"127.0.0.1:{args.port}",
            "--workers",
            str(args.workers),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{args.port}/bench/bare", timeout=2):
                return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit("gunicorn did not answer within 30 s")


def worker_pids(master: int) -> list[int]:
    import psutil

    try:
        return [child.pid for child in psutil.Process(master).children()]
    except psutil.NoSuchProcess:
        return []


def sample_peak_rss(master: int, stop: threading.Event, peak: list[float]) -> None:
    import psutil

    while not stop.is_set():
        total = 0
        for pid in worker_pids(master):
            try:
                total = max(total, psutil.Process(pid).memory_info().rss)
            except psutil.NoSuchProcess:
                continue
        peak[0] = max(peak[0], total / 2**20)
        stop.wait(0.25)


# Where a request's CPU goes while wrk runs, read from /proc: the server's processes, PostgreSQL's
# backends (the connections serving it) and its other processes (WAL writer, checkpointer,
# autovacuum), wrk itself, Redis, the rest of the machine, and the time the hypervisor took
# from this virtual machine ("steal": not work of ours, but a sign of a noisy run).
CPU_GROUPS = ("django", "pg backend", "pg other", "wrk", "redis", "other")


def _cpu_group(process, server: set[int]) -> str:
    if process.pid in server:
        return "django"
    name = process.info["name"] or ""
    if name == "wrk":
        return "wrk"
    if name.startswith("redis"):
        return "redis"
    if name in ("postgres", "postmaster"):
        title = " ".join(process.info["cmdline"] or ())
        # A backend's title is "postgres: USER DATABASE HOST(PORT) STATE".
        return "pg backend" if "(" in title and ")" in title else "pg other"
    return "other"


@dataclass
class CpuSnapshot:
    busy: float  # the machine's CPU seconds at work (user, nice, system, irq, softirq)
    steal: float
    children: float  # this process's finished children (wrk, once it has exited)
    processes: dict[int, tuple[str, float]]  # pid: (group, its CPU seconds)


def cpu_snapshot(master: int) -> CpuSnapshot:
    import resource

    import psutil

    server = {master, *worker_pids(master)}
    processes = {}
    for process in psutil.process_iter(["name", "cmdline", "cpu_times"]):
        times = process.info["cpu_times"]
        if times is not None:
            processes[process.pid] = (_cpu_group(process, server), times.user + times.system)
    total = psutil.cpu_times()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return CpuSnapshot(
        busy=total.user + total.nice + total.system + total.irq + total.softirq,
        steal=total.steal,
        children=children.ru_utime + children.ru_stime,
        processes=processes,
    )


def cpu_per_request(before: CpuSnapshot, after: CpuSnapshot, requests: int) -> dict[str, float]:
    """µs of CPU per request by group between two snapshots: ``before`` taken while wrk runs,
    once its threads are started, ``after`` once it has exited. wrk's share is what it spent
    after ``before`` (its script's ``init``, which runs before its clock starts, is left out).
    A process that started and ended between them (a short autovacuum worker) is in "other",
    by way of the machine's total."""
    if not requests:
        return {}
    spent = dict.fromkeys(CPU_GROUPS, 0.0)
    for pid, (group, seconds) in after.processes.items():
        earlier = before.processes.get(pid)
        spent[group] += seconds - (earlier[1] if earlier and earlier[0] == group else 0.0)
    spent["wrk"] = (after.children - before.children) - sum(
        seconds
        for pid, (group, seconds) in before.processes.items()
        if group == "wrk" and pid not in after.processes
    )
    spent["other"] += max(0.0, (after.busy - before.busy) - sum(spent.values()))
    spent["steal"] = after.steal - before.steal
    return {group: seconds / requests * 1e6 for group, seconds in spent.items()}


def wait_for_threads(process: subprocess.Popen, threads: int) -> None:
    """Wait until wrk has started its ``threads`` load threads (its clock starts then; each
    thread's script ``init`` runs before, in its main thread) or has exited."""
    tasks = Path(f"/proc/{process.pid}/task")
    while process.poll() is None:
        try:
            if len(list(tasks.iterdir())) > threads:
                return
        except FileNotFoundError:
            return
        time.sleep(0.005)


def run_wrk(scenario: Scenario, url: str, args, master: int) -> Run:
    env = {**os.environ, "WRK_METHOD": scenario.method, **dict(scenario.env)}
    if scenario.accept:
        env["WRK_ACCEPT"] = scenario.accept
    stop, peak = threading.Event(), [0.0]
    sampler = threading.Thread(target=sample_peak_rss, args=(master, stop, peak), daemon=True)
    sampler.start()
    wrk = subprocess.Popen(
        [
            "wrk",
            f"-t{args.threads}",
            f"-c{args.connections}",
            f"-d{args.duration}s",
            "--timeout",
            "10s",
            "-s",
            str(ROOT / "bench" / scenario.script),
            url,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for_threads(wrk, args.threads)
    before = cpu_snapshot(master)
    stdout, stderr = wrk.communicate()
    after = cpu_snapshot(master)
    stop.set()
    sampler.join()
    if wrk.returncode:
        raise subprocess.CalledProcessError(wrk.returncode, wrk.args, stdout, stderr)
    line = next(line for line in stdout.splitlines() if line.startswith("WRK_JSON "))
    data = json.loads(line.split(" ", 1)[1])
    errors = sum(data[k] for k in ("connect", "read", "write", "status", "timeout"))
    return Run(
        rps=data["requests"] / (data["duration_us"] / 1e6),
        p50_ms=data["p50"] / 1000,
        p95_ms=data["p95"] / 1000,
        p99_ms=data["p99"] / 1000,
        errors=errors,
        peak_rss_mb=peak[0],
        cpu_us=cpu_per_request(before, after, data["requests"]),
    )


def query_counts(env, paths: dict[str, str]) -> dict[str, int]:
    """Queries per request for each scenario, counted in-process on the same data."""
    code = f"""
import django, json
django.setup()
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
paths = {json.dumps(paths)}
client = Client()
counts = {{}}
for name, path in paths.items():
    method = "post" if name.endswith("insert") else "get"
    with CaptureQueriesContext(connection) as ctx:
        getattr(client, method)(path, HTTP_HOST="127.0.0.1")
    counts[name] = len(ctx.captured_queries)
print("QUERIES", json.dumps(counts))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("QUERIES "))
    return json.loads(line.split(" ", 1)[1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/gongzhi_bench"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/3")
    parser.add_argument("--stations", type=int, default=10)
    parser.add_argument("--services", type=int, default=200)
    parser.add_argument("--visits", type=int, default=1_000_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--only", nargs="*", help="scenario names to run (baselines always run)")
    args = parser.parse_args()

    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk")
    env = environment(args)
    ensure_database(args.database_url)
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "collectstatic", "--noinput", "-v", "0")
    started = time.monotonic()
    dataset = load_data(env, args)
    print(f"data set: {json.dumps(dataset)} (ready in {time.monotonic() - started:.1f} s)")

    scenarios = [s for s in SCENARIOS if not args.only or s.name in args.only]
    service_code = dataset["sample_service_code"]
    paths = {s.name: s.path.format(service_code=service_code) for s in BASELINES + scenarios}
    queries = query_counts(env, paths)

    server = start_gunicorn(env, args)
    results = {s.name: Result(s) for s in BASELINES + scenarios}
    try:
        for round_number in range(1, args.rounds + 1):
            # Baselines and scenarios interleaved, so drift hits both alike.
            for scenario in [*BASELINES, *scenarios]:
                url = f"http://127.0.0.1:{args.port}{paths[scenario.name]}"
                run = run_wrk(scenario, url, args, server.pid)
                results[scenario.name].runs.append(run)
                print(
                    f"  round {round_number} {scenario.name:<24} {run.rps:9.1f} req/s "
                    f"p95 {run.p95_ms:7.1f} ms errors {run.errors}",
                    flush=True,
                )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)

    print()
    print(
        f"{'scenario':<24} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'errors':>6} {'peak MB':>8} {'queries':>7} {'ratio':>14} {'goal':>6}"
    )
    for name, result in results.items():
        scenario = result.scenario
        ratio, goal = "", ""
        if scenario.baseline:
            value = result.median("rps") / results[scenario.baseline].median("rps")
            ratio = f"{value:.2f}x {scenario.baseline.removeprefix('baseline_')[:12]}"
            if scenario.goal:
                goal = ("ok " if value >= scenario.goal else "LOW ") + f"{scenario.goal}"
        print(
            f"{name:<24} {result.median('rps'):9.1f} {result.median('p50_ms'):8.1f} "
            f"{result.median('p95_ms'):8.1f} {result.median('p99_ms'):8.1f} "
            f"{sum(run.errors for run in result.runs):6d} "
            f"{max(run.peak_rss_mb for run in result.runs):8.1f} {queries.get(name, ''):>7} "
            f"{ratio:>14} {goal:>6}"
        )
    print_cpu(results)
    print(
        f"\n{args.rounds} rounds × {args.duration} s, wrk -t{args.threads} -c{args.connections}, "
        f"gunicorn {args.workers} sync workers, medians; peak MB is the largest worker's RSS."
    )


if __name__ == "__main__":
    main()
