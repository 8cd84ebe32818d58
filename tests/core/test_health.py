import pytest
from django.db import OperationalError
from django.urls import reverse

from governance.celery import app as celery_app
from governance.core.models import WorkerHeartbeat
from governance.core.tasks import heartbeat


@pytest.mark.django_db
def test_healthz_is_ok_when_database_and_broker_answer(client):
    response = client.get(reverse("healthz"))

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is True
    assert body["worker"]["status"] == "never"


@pytest.mark.django_db
def test_healthz_is_503_when_the_broker_is_down(client, require_redis):
    original = celery_app.conf.broker_url
    # Port 9 (discard) has nothing listening on this machine: the connection is refused.
    celery_app.conf.broker_url = "redis://127.0.0.1:9/0"
    try:
        response = client.get(reverse("healthz"))
    finally:
        celery_app.conf.broker_url = original

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["broker"]["ok"] is False
    assert body["database"]["ok"] is True


@pytest.mark.django_db
def test_healthz_is_503_when_the_database_is_down(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("governance.core.health.connection.cursor", refuse)

    response = client.get(reverse("healthz"))

    assert response.status_code == 503
    body = response.json()
    # The driver's message stays in the log; the public sees only what kind of failure.
    assert body["database"] == {"ok": False, "detail": "OperationalError"}
    assert body["worker"] == {"status": "unknown"}


@pytest.mark.django_db
def test_healthz_reports_the_age_of_the_last_worker_heartbeat(client):
    heartbeat.apply(task_id="t1").get()

    worker = client.get(reverse("healthz")).json()["worker"]

    assert worker["status"] == "fresh"
    assert worker["age_seconds"] < 5


@pytest.mark.django_db
def test_heartbeat_is_an_upsert_per_worker():
    heartbeat.apply().get()
    heartbeat.apply().get()

    row = WorkerHeartbeat.objects.get()
    assert row.beats == 2


@pytest.mark.django_db
def test_healthz_refuses_writes(client):
    assert client.post(reverse("healthz")).status_code == 405
