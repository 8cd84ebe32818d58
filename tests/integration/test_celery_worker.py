"""A real Celery worker process runs the project's tasks, on Redis and on the embedded defaults."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest
from django.conf import settings

from governance.core.models import WorkerHeartbeat
from governance.core.tasks import heartbeat
from tests.integration.conftest import ROOT, celery_worker, database_url_for_tests, wait_for

pytestmark = pytest.mark.integration


@pytest.mark.django_db(transaction=True)
def test_worker_on_redis_runs_the_heartbeat_task(
    require_postgres, require_redis, unique_queue, tmp_path
):
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_tests(),
        "REDIS_URL": settings.REDIS_URL,
    }
    with celery_worker(queue=unique_queue, env=env, log_path=tmp_path / "worker.log"):
        result = heartbeat.apply_async(queue=unique_queue)
        outcome = result.get(timeout=60)

    assert outcome["hostname"].startswith(f"test-{unique_queue}@")
    row = WorkerHeartbeat.objects.get(hostname=outcome["hostname"])
    assert row.beats == 1, (tmp_path / "worker.log").read_text()


def test_worker_on_embedded_defaults_runs_the_heartbeat_task(tmp_path, unique_queue):
    """With nothing configured: SQLite file and kombu's filesystem transport under var/."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env["GONGZHI_VAR_DIR"] = str(tmp_path / "var")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    enqueue = (
        "import django; django.setup();"
        "from governance.core.tasks import heartbeat;"
        f"heartbeat.apply_async(queue={unique_queue!r})"
    )
    env_with_settings = {**env, "DJANGO_SETTINGS_MODULE": "governance.settings"}
    subprocess.run(
        [sys.executable, "-c", enqueue], cwd=ROOT, env=env_with_settings, check=True, timeout=60
    )
    database = tmp_path / "var" / "gongzhi.sqlite3"

    def beats():
        with sqlite3.connect(database) as db:
            row = db.execute("SELECT beats FROM core_workerheartbeat").fetchone()
        return row and row[0]

    with celery_worker(queue=unique_queue, env=env, log_path=tmp_path / "worker.log"):
        assert wait_for(beats, timeout=60) == 1, (tmp_path / "worker.log").read_text()
