"""``dues demo`` builds a consistent, repeatable demo company (always on SQLite, in a temporary directory)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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


def _build(tmp_path, name: str = "demo.sqlite3", *extra: str) -> str:
    url = f"sqlite:///{tmp_path}/{name}"
    proc = _dues(tmp_path, url, "demo", "--no-serve", "--customers", "40", "--today", TODAY, *extra)
    assert "admin" in proc.stdout and "dues-demo" in proc.stdout
    return url


def _ageing(tmp_path, url: str) -> dict:
    return json.loads(_dues(tmp_path, url, "ageing", "--as-of", TODAY, "--format", "json").stdout)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("demo")
    return tmp_path, _build(tmp_path)


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
    again = _build(tmp_path, "again.sqlite3")
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
