"""Real processes: a Celery worker started as a subprocess against real services."""

from __future__ import annotations

import email
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from pathlib import Path

import kombu.pools
import pytest
import redis
from django.db import connection

from tests.conftest import need

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
def celery_worker(
    *, queue: str, env: dict[str, str], log_path: Path, extra_args=(), concurrency: int = 1
):
    """Start ``celery worker`` consuming ``queue``; stop it (TERM, then KILL) on exit.

    ``env`` is the worker's whole environment, so a test decides exactly what it sees. The
    worker leads its own process group, so ``os.killpg(worker.pid, …)`` reaches its pool too.
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
                str(concurrency),
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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivateRedis:
    """A ``redis-server`` of the tests' own, on a free port, with nothing saved to disk.

    Tests that stop and restart the broker, or that need a queue no other process consumes,
    use this one; the machine's Redis on 6379 is shared and is never stopped.
    """

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 10) -> None:
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if not wait_for(self.ping, timeout=timeout, interval=0.05):
            raise RuntimeError(f"redis-server on port {self.port} did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def ping(self) -> bool:
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False
        finally:
            client.close()

    def flush(self) -> None:
        client = redis.Redis.from_url(self.url)
        try:
            client.flushall()
        finally:
            client.close()


@pytest.fixture(scope="module")
def private_redis(tmp_path_factory) -> Iterator[PrivateRedis]:
    need(shutil.which("redis-server") is not None, "needs redis-server on PATH")
    server = PrivateRedis(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def celery_broker(url: str):
    """Point this process's Celery app at ``url`` for publishing, and back afterwards.

    The app caches its connection and producer pools, and kombu keeps them per broker, so
    all of them are dropped on each switch.
    """
    from governance.celery import app

    def repoint(target: str) -> None:
        app.conf.broker_url = target
        app._pool = None
        app.amqp._producer_pool = None
        kombu.pools.reset()

    saved = app.conf.broker_url
    repoint(url)
    try:
        yield app
    finally:
        repoint(saved)


def worker_ready(log_path: Path) -> bool:
    return log_path.exists() and " ready." in log_path.read_text(errors="replace")


SITE = "https://gongzhi.example.cn"


@pytest.fixture
def broker(require_postgres, private_redis):
    """This process publishes to the private Redis, emptied first; the workers consume it."""
    if not private_redis.ping():
        private_redis.start()
    private_redis.flush()
    with celery_broker(private_redis.url):
        yield private_redis


@pytest.fixture
def mail_dir(tmp_path) -> Path:
    folder = tmp_path / "mail"
    folder.mkdir()
    return folder


@pytest.fixture
def worker(broker, tmp_path, mail_dir):
    """A worker on the default queue of the private broker, on the test database, sending
    mail to ``mail_dir`` and links to ``SITE``; yields its log."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_tests(),
        "REDIS_URL": broker.url,
        "EMAIL_URL": f"filemail:///{mail_dir}",
        "SITE_URL": SITE,
        "GONGZHI_VAR_DIR": str(tmp_path / "var"),
    }
    log = tmp_path / "worker.log"
    with celery_worker(queue="celery", env=env, log_path=log):
        assert wait_for(lambda: worker_ready(log), timeout=60), log.read_text()
        yield log


# Django's file e-mail backend writes each message followed by a line of 79 dashes.
MAIL_SEPARATOR = b"\n" + b"-" * 79 + b"\n"


def read_mail_folder(folder: Path) -> tuple[list[Message], int]:
    """Every complete message the file backend wrote under ``folder``, and how many were cut
    short (a process killed in the middle of writing one: like an SMTP session dropped before
    the end of DATA, not a delivered message)."""
    messages: list[Message] = []
    truncated = 0
    for path in sorted(folder.glob("*.log")):
        *complete, tail = path.read_bytes().split(MAIL_SEPARATOR)
        messages.extend(email.message_from_bytes(chunk) for chunk in complete)
        if tail.strip():
            truncated += 1
    return messages, truncated
