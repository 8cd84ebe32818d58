"""Migrations apply from nothing on SQLite and on PostgreSQL."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def migrate(env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL"}}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_migrations_apply_on_a_fresh_sqlite_database(tmp_path):
    result = migrate({"DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}"})

    assert result.returncode == 0, result.stderr
    assert "Applying stations.0001_initial... OK" in result.stdout


@pytest.mark.django_db
def test_migrations_apply_on_a_fresh_postgresql_database(require_postgres):
    params = connection.settings_dict
    name = f"gongzhi_migrate_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(
        host=params["HOST"] or "127.0.0.1",
        port=params["PORT"] or 5432,
        user=params["USER"],
        password=params["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        host, port = params["HOST"] or "127.0.0.1", params["PORT"] or 5432
        url = f"postgres://{params['USER']}@{host}:{port}/{name}"
        if params["PASSWORD"]:
            url = url.replace("@", f":{params['PASSWORD']}@", 1)
        result = migrate({"DATABASE_URL": url})
        assert result.returncode == 0, result.stderr
        assert "Applying stakeholders.0002_auditevent_append_only... OK" in result.stdout
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
