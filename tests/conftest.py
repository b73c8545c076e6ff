"""Shared fixtures. The database is SQLite unless DUES_DATABASE_URL names PostgreSQL."""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings

# A busy CI machine (the suite runs on every core) can make input generation look slow: that is not a failure
# of the property under test.
settings.register_profile("dues", suppress_health_check=[HealthCheck.too_slow], deadline=None)
settings.load_profile("dues")

# Every test runs on a frozen clock (dues.clock reads DUES_NOW; the dues command run as a subprocess
# inherits it). CI runs the date-sensitive tests a second time with DUES_NOW set to a far-off
# fiscal-year and month end late at night (see .ci/run), so a new dependency on the real date fails.
TEST_NOW = "2026-12-06T10:00:00+05:30"
# The tests whose meaning turns on "today" (what is overdue, due, broken, closed, charged): marked
# ``date_sensitive`` and run again on the far-off date by scripts/test. A module name containing one of
# these words, or any end-to-end test, is one.
DATE_SENSITIVE = ("collect", "promise", "dispute", "worklist", "close", "interest", "confirmation", "ageing",
                  "dunning", "statement", "clock", "web_collections", "web_documents", "web_receipts", "web_reports",
                  "web_dashboard", "tds", "reconcil")


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = item.path.as_posix()
        if "/tests/e2e/" in path or any(word in item.path.stem for word in DATE_SENSITIVE):
            item.add_marker(pytest.mark.date_sensitive)


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch):
    """The instant every test runs at: $DUES_NOW when the run sets it, else TEST_NOW."""
    from dues import clock

    monkeypatch.setenv(clock.ENV, os.environ.get(clock.ENV) or TEST_NOW)
    return clock.now()


def _transactional(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    return bool({"transactional_db", "live_server"} & set(request.fixturenames)) or bool(
        marker and (marker.kwargs.get("transaction") or (len(marker.args) > 0 and marker.args[0])))


@pytest.fixture(autouse=True)
def audit_log_emptied_after_transactional_tests(request):
    """Django empties every table after a transactional test (``flush``), except the audit log: it is unmanaged
    and its triggers refuse DELETE and TRUNCATE. Left alone, one test's records would show in the next test's
    audit pages, in whichever order the tests run. Empty it the way only a test may: triggers off (PostgreSQL)
    or dropped and re-made as the migration makes them (SQLite), then the head back to the start."""
    yield
    if not _transactional(request):
        return
    import importlib

    from django.db import connection

    blocker = request.getfixturevalue("django_db_blocker")
    initial = importlib.import_module("dues.audit.migrations.0001_initial")
    with blocker.unblock(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_record DISABLE TRIGGER USER")
            cursor.execute("TRUNCATE audit_record")
            cursor.execute("ALTER TABLE audit_record ENABLE TRIGGER USER")
        else:
            cursor.execute("DROP TRIGGER IF EXISTS audit_record_no_update")
            cursor.execute("DROP TRIGGER IF EXISTS audit_record_no_delete")
            cursor.execute("DELETE FROM audit_record")
            for sql in initial.SQLITE:
                if sql.lstrip().startswith("CREATE TRIGGER audit_record_"):
                    cursor.execute(sql)
        cursor.execute("UPDATE audit_head SET seq = 0, hash = %s WHERE id = 1", [initial.GENESIS])


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache: no figure cached by an earlier test, and no cull of a full
    local-memory cache (300 entries) dropping what this test just cached."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Argon2 (the product's hasher, see test_roles) is slow by design; tests that create users use MD5."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def company(db):
    from dues.companies.services import company_init

    company, _ = company_init(name="Test Traders Pvt Ltd", state_code="27", actor="test")
    return company


@pytest.fixture
def make_customer(company):
    from dues.customers.services import customer_create

    def make(code: str = "C001", **fields):
        data = {"code": code, "name": fields.pop("name", f"Customer {code}"), "state": "27", "credit_days": "30"}
        data.update(fields)
        return customer_create(company=company, data=data, actor="test")

    return make


@pytest.fixture
def post(company):
    """post(kind, number, customer, date, amount, **draft fields) through the real service."""
    from dues.ledger.services import DocumentDraft, document_post

    def _post(kind, number, customer, on, amount, **fields):
        if isinstance(on, str):
            on = date.fromisoformat(on)
        draft = DocumentDraft(kind=kind, number=number, customer=customer, date=on, amount=Decimal(str(amount)),
                              **fields)
        return document_post(draft, company=company, actor="test")

    return _post


def dues_env(tmp_path, db_url: str | None = None) -> dict:
    """Environment for running the ``dues`` command as a subprocess on its own database."""
    env = dict(os.environ)
    env["DUES_HOME"] = str(tmp_path / "var")
    env["DUES_DATABASE_URL"] = db_url or f"sqlite:///{tmp_path / 'var' / 'dues.sqlite3'}"
    env["DUES_USER"] = "e2e"
    return env


@pytest.fixture
def scratch_db(tmp_path):
    """A fresh, empty database URL of the kind under test (SQLite file or a new PostgreSQL database)."""
    main = os.environ.get("DUES_DATABASE_URL", "")
    if not main.startswith("postgres"):
        yield f"sqlite:///{tmp_path / 'var' / 'dues.sqlite3'}"
        return
    import uuid

    import psycopg

    base = main.split("?")[0].rsplit("/", 1)[0]
    name = f"dues_e2e_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{base}/{name}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
