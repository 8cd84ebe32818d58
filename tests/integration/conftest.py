"""Real processes: a Celery worker started as a subprocess against real services."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def database_url_for_tests() -> str:
    """The URL of the database the test run uses, so a worker process sees the same rows."""
    params = connection.settings_dict
    if connection.vendor != "postgresql":
        raise RuntimeError("a worker subprocess needs the PostgreSQL test database")
    auth = params["USER"] or ""
    if params["PASSWORD"]:
        auth += f":{params['PASSWORD']}"
    host = params["HOST"] or "127.0.0.1"
    port = params["PORT"] or 5432
    return f"postgres://{auth}@{host}:{port}/{params['NAME']}"


@contextmanager
def celery_worker(*, queue: str, env: dict[str, str], log_path: Path, extra_args=()):
    """Start ``celery worker`` consuming ``queue``; stop it (TERM, then KILL) on exit.

    ``env`` is the worker's whole environment, so a test decides exactly what it sees.
    """
    process_env = env
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "governance",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                "1",
                "--without-gossip",
                "--without-mingle",
                "-n",
                f"test-{queue}@%h",
                "-Q",
                queue,
                *extra_args,
            ],
            cwd=ROOT,
            env=process_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=5)


def wait_for(predicate, *, timeout: float, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    return predicate()


@pytest.fixture
def unique_queue():
    return f"test-{uuid.uuid4().hex[:10]}"
