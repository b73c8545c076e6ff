"""``dues demo`` builds a consistent, repeatable demo company (always on SQLite, in a temporary directory)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from contextlib import contextmanager
from decimal import Decimal

import pytest

pytestmark = pytest.mark.e2e

TODAY = "2026-03-31"


def _env(tmp_path) -> dict:
    env = dict(os.environ)
    env["DUES_HOME"] = str(tmp_path)
    env.pop("DUES_DATABASE_URL", None)  # the demo's own SQLite file, whatever the suite runs on
    env["DUES_USER"] = "e2e"
    return env


def _dues(tmp_path, url: str, *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "dues.cli.main", "--db", url, *args], env=_env(tmp_path),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"dues {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}{proc.stdout}"
    return proc


def _build(tmp_path, name: str = "demo.sqlite3", *extra: str) -> tuple[str, str]:
    url = f"sqlite:///{tmp_path}/{name}"
    proc = _dues(tmp_path, url, "demo", "--no-serve", "--customers", "40", "--today", TODAY, *extra)
    assert "admin" in proc.stdout and "dues-demo" in proc.stdout
    _portal_link_works(url, proc.stdout)
    return url, proc.stdout


def _portal_link_works(url: str, stdout: str) -> None:
    """The demo prints a portal link whose token is stored (hashed), unrevoked, for the customer it names."""
    import hashlib
    import re
    import sqlite3

    m = re.search(r"customer portal of (\S+) \(no login, 30 days\): http://127\.0\.0\.1:8000/portal/([\w-]+)/", stdout)
    assert m, stdout[-2000:]
    with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
        row = db.execute("SELECT c.code, l.revoked_at FROM portal_portallink l JOIN customers_customer c "
                         "ON c.id = l.customer_id WHERE l.digest = ?",
                         (hashlib.sha256(m.group(2).encode()).hexdigest(),)).fetchone()
    assert row == (m.group(1), None)


def _ageing(tmp_path, url: str) -> dict:
    return json.loads(_dues(tmp_path, url, "ageing", "--as-of", TODAY, "--format", "json").stdout)


@pytest.fixture(scope="module")
def demo_built(tmp_path_factory):
    """(the folder, the database URL, what ``dues demo`` printed): one build for the module."""
    tmp_path = tmp_path_factory.mktemp("demo")
    return (tmp_path, *_build(tmp_path))


@pytest.fixture(scope="module")
def demo_db(demo_built):
    return demo_built[:2]


@contextmanager
def _on_demo_database(url: str):
    """This process's Django, talking to the demo's SQLite file instead of the suite's database."""
    from django.db import connections
    from django.db.utils import ConnectionHandler

    demo = ConnectionHandler({"default": {"ENGINE": "django.db.backends.sqlite3",
                                          "NAME": url.removeprefix("sqlite:///")}})["default"]
    suite = connections["default"]
    connections["default"] = demo
    try:
        yield
    finally:
        connections["default"] = suite
        demo.close()


@pytest.mark.filterwarnings("ignore:No directory at:UserWarning")  # static files are not collected here
def test_demo_prints_a_working_api_token_for_the_admin(demo_built, django_db_blocker):
    """The token and the curl example the demo prints answer the open-items endpoint, in process."""
    import re

    from django.test import Client

    _tmp_path, url, stdout = demo_built
    m = re.search(r"API token for admin \(Authorization: Bearer …\): (dues_\S+)", stdout)
    assert m, stdout[-2000:]
    token = m.group(1)
    curl = re.search(r"curl -H 'Authorization: Bearer (\S+)' http://127\.0\.0\.1:8000(/api/v1/customers/(\S+)/open-items)",
                     stdout)
    assert curl and curl.group(1) == token, stdout[-2000:]
    with django_db_blocker.unblock(), _on_demo_database(url):
        from dues.api.tokens import token_user

        assert token_user(token).username == "admin"
        client = Client()
        answer = client.get(curl.group(2), HTTP_AUTHORIZATION=f"Bearer {token}")
        assert answer.status_code == 200, answer.content
        body = answer.json()
        assert body["customer"] == curl.group(3) and body["items"] and Decimal(body["total"]) > 0
        assert client.get(curl.group(2), HTTP_AUTHORIZATION=f"Bearer {token}x").status_code == 401


def test_demo_audit_log_verifies(demo_db):
    tmp_path, url = demo_db
    proc = _dues(tmp_path, url, "audit", "verify")
    assert "audit log OK" in proc.stdout


def test_demo_ageing_adds_up(demo_db):
    tmp_path, url = demo_db
    data = _ageing(tmp_path, url)
    columns = data["columns"]
    assert data["rows"], "the demo has customers with something outstanding"
    sums = {c: Decimal(0) for c in columns}
    unapplied = total = Decimal(0)
    for row in data["rows"]:
        buckets = {c: Decimal(row["buckets"][c]) for c in columns}
        assert sum(buckets.values()) + Decimal(row["unapplied"]) == Decimal(row["total"]), row["key"]
        for c in columns:
            sums[c] += buckets[c]
        unapplied += Decimal(row["unapplied"])
        total += Decimal(row["total"])
    totals = data["totals"]
    assert {c: Decimal(totals["buckets"][c]) for c in columns} == sums
    assert Decimal(totals["unapplied"]) == unapplied
    assert Decimal(totals["total"]) == total
    assert total > 0
    overdue = sum(Decimal(totals["buckets"][c]) for c in columns if c != "not_due")
    assert overdue > 0
    assert unapplied < 0
    assert any(Decimal(row["unapplied"]) < 0 for row in data["rows"])


def test_demo_keeps_an_ageing_summary_that_ages_as_the_ledger(demo_db):
    """The demo builds the ageing summary; the ageing read through it is the ledger's, figure for figure."""
    tmp_path, url = demo_db
    state = json.loads(_dues(tmp_path, url, "ageing-summary", "status", "--format", "json").stdout)
    assert state["exists"] and state["as_of"] == TODAY and state["triggers"] and state["rows"] > 0, state
    through_summary = _ageing(tmp_path, url)
    assert "dropped" in _dues(tmp_path, url, "ageing-summary", "drop").stdout
    try:
        assert _ageing(tmp_path, url) == through_summary
    finally:
        rebuilt = _dues(tmp_path, url, "ageing-summary", "build", "--as-of", TODAY).stdout
    assert rebuilt.startswith("built: ") and f"as of {TODAY}" in rebuilt, rebuilt


def test_demo_bank_statement_waits_on_the_cash_workbench(demo_db):
    """The demo imports an HDFC statement of customer credits; the engine proposes a customer for each."""
    tmp_path, url = demo_db
    before = _ageing(tmp_path, url)
    data = json.loads(_dues(tmp_path, url, "cash-apply", "--format", "json").stdout)  # a preview: posts nothing
    lines = data["lines"]
    credits = [line for line in lines if not line["reference"].startswith("GEN-")]
    assert len(credits) >= 10 and data["summary"]["applied"] == 0
    proposed = [line for line in credits if line["customer"]]
    assert len(proposed) >= 0.9 * len(credits), lines
    assert any("TDS" in reason for line in proposed for reason in line["reasons"])
    interest = [line for line in lines if line["amount"] == "4127.00"]
    assert interest and interest[0]["status"] == "unmatched"  # bank interest is nobody's payment
    assert _ageing(tmp_path, url) == before  # the preview changed nothing


def test_demo_is_repeatable_and_rebuilt_from_scratch(demo_db, tmp_path):
    """The same seed and day give the same books; a second run on the same file replaces them."""
    first_tmp, first_url = demo_db
    expected = _ageing(first_tmp, first_url)
    again, _ = _build(tmp_path, "again.sqlite3")
    assert _ageing(tmp_path, again) == expected
    _build(tmp_path, "again.sqlite3")
    assert _ageing(tmp_path, again) == expected


def test_demo_will_not_delete_a_file_that_is_not_a_dues_database(tmp_path):
    precious = tmp_path / "precious.sqlite3"
    precious.write_bytes(b"not a database, but somebody's file")
    proc = subprocess.run([sys.executable, "-m", "dues.cli.main", "--db", f"sqlite:///{precious}", "demo",
                           "--no-serve", "--customers", "5", "--today", TODAY], env=_env(tmp_path),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    assert "--reset" in proc.stderr
    assert precious.read_bytes() == b"not a database, but somebody's file"


def test_demo_defaults_to_its_own_file_under_dues_home(tmp_path):
    env = _env(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "dues.cli.main", "demo", "--no-serve", "--customers", "5",
                           "--today", TODAY], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert (tmp_path / "demo.sqlite3").exists()
    assert not (tmp_path / "dues.sqlite3").exists()


def _run(tmp_path, url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dues.cli.main", "--db", url, *args], env=_env(tmp_path),
                          capture_output=True, text=True, timeout=300)


def test_demo_bank_reconciles_like_a_real_company(demo_db):
    """Failed before: the demo's bank held ten days of lines, so every receipt was 'not cleared' and the
    reconciliation still said it tied. Now its receipts are cleared by its bank lines, the last cheques are in
    clearing, the unbooked credits wait for the workbench, and last month closes."""
    from datetime import date, timedelta

    tmp_path, url = demo_db
    rec = json.loads(_dues(tmp_path, url, "reconcile", "bank", "--account", "BANK1", "--as-of", TODAY,
                           "--format", "json").stdout)
    assert rec["ties"] and rec["unexplained"] == "0.00" and rec["bank_balance_source"] == "statement"
    assert rec["statements_from"] < "2025-05-01" and rec["statements_to"] >= "2026-03-28"
    assert rec["before_statements"] == rec["not_in_bank"] == "0.00"
    matched, uncleared = rec["matched"], rec["in_book_not_in_bank"]
    assert len(matched) > 500 and {m["how"] for m in matched} == {"link"}
    today = date.fromisoformat(TODAY)
    for item in uncleared:  # only cheques of the last days, still in clearing
        assert item["status"] == "in_transit" and date.fromisoformat(item["date"]) >= today - timedelta(days=3)
    assert len(uncleared) < 0.02 * len(matched)
    kinds = {x["kind"] for x in rec["in_bank_not_in_book"]}
    assert kinds <= {"unapplied_credit", "bank_charges"} and "bank_charges" in kinds
    statement = {s["label"]: s["amount"] for s in rec["statement"]}
    assert statement["Balance as per bank"] == rec["bank_balance"] == rec["adjusted_book_balance"]

    # last month closes clean (exit 0); this month's credits wait on the workbench, so it does not (exit 1)
    previous = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    closed = json.loads(_dues(tmp_path, url, "close", "month", previous, "--format", "json").stdout)
    assert closed["ok"], closed["failing"]
    [bank] = closed["checks"][3]["items"]
    assert bank["ties"] and bank["not_in_bank"] == []
    current = _run(tmp_path, url, "close", "month", TODAY[:7], "--format", "json")
    assert current.returncode == 1 and json.loads(current.stdout)["failing"] == ["bank_lines"]
    trial = _run(tmp_path, url, "ledger", "trial-balance", "--as-of", TODAY, "--format", "json")
    assert trial.returncode == 0 and json.loads(trial.stdout)["balanced"]
