"""/healthz and /readyz through the Django test client: public, not cached, and /readyz names what is not ready."""

from __future__ import annotations

import json
import logging

import pytest

from dues.web.views import health


@pytest.fixture(autouse=True)
def _forget_migrations():
    health._migrations_done = False
    yield
    health._migrations_done = False


def test_healthz_needs_no_login_and_no_database(client):
    response = client.get("/healthz")  # no django_db mark: any query would raise
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_is_ready_on_a_migrated_database_without_login(client):
    response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ready" and body["failed"] == []
    assert body["checks"] == {"database": "ok", "migrations": "ok"}  # no Redis configured: not checked
    assert client.post("/readyz").status_code == 405


@pytest.mark.django_db
def test_readyz_names_a_migration_not_applied(client):
    from django.db import connection

    with connection.cursor() as cursor:  # rolled back with the test
        cursor.execute("DELETE FROM django_migrations WHERE app = 'ledger' AND name = '0001_initial'")
        cursor.execute("DELETE FROM django_migrations WHERE app = 'audit'")
    response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 503 and body["failed"] == ["migrations"]
    message = body["checks"]["migrations"]
    assert "audit.0001_initial" in message and "ledger.0001_initial" in message and "run dues init" in message


@pytest.mark.django_db
def test_readyz_checks_redis_when_one_is_configured(client, settings, monkeypatch):
    settings.REDIS_URL = "redis://127.0.0.1:6379/13"
    assert client.get("/readyz").json()["checks"]["redis"] == "ok"
    settings.REDIS_URL = "redis://127.0.0.1:1/13"  # nothing listens on port 1
    monkeypatch.setenv("DUES_JOBS_QUEUE", "redis://127.0.0.1:1/14")
    response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 503 and body["failed"] == ["jobs_queue", "redis"]
    assert body["checks"]["redis"].startswith("unreachable: ") and "127.0.0.1" not in json.dumps(body)


@pytest.mark.django_db
def test_each_request_is_logged_with_its_request_id(client, caplog):
    with caplog.at_level(logging.INFO, logger="dues.request"):
        response = client.get("/healthz", HTTP_X_REQUEST_ID="probe-42")
        other = client.get("/healthz", HTTP_X_REQUEST_ID="not a sane id; <script>")
    assert response["X-Request-ID"] == "probe-42"
    assert other["X-Request-ID"] != "not a sane id; <script>" and len(other["X-Request-ID"]) == 32
    records = [r for r in caplog.records if r.name == "dues.request"]
    assert [(r.request_id, r.method, r.path, r.status, r.user) for r in records] == [
        ("probe-42", "GET", "/healthz", 200, ""), (other["X-Request-ID"], "GET", "/healthz", 200, "")]
    assert all(r.duration_ms >= 0 for r in records)
