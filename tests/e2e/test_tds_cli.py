"""``dues reconcile tds`` as a user runs it: a subprocess on its own database."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal

import pytest

from tests.conftest import dues_env
from tests.core.test_tds26as import TEXT

pytestmark = pytest.mark.e2e

CUSTOMERS = """code,name,tan,state
C001,Shree Ganesh Traders,PNES12345A,27
C002,Kaveri Distributors,BLRK54321C,29
"""
RECEIPTS = """number,customer,date,amount,mode,reference,tds
RCT-1,C001,2025-05-10,999000,neft,UTR1,1000
RCT-2,C001,12-06-2025,249750.40,neft,UTR2,249.60
RCT-3,C001,2025-08-20,799200,neft,UTR3,800
RCT-4,C002,2025-10-20,294000,rtgs,UTR4,6000
"""


@pytest.fixture
def dues(tmp_path, scratch_db):
    env = dues_env(tmp_path, scratch_db)

    def run(*args, ok=True):
        proc = subprocess.run([sys.executable, "-m", "dues.cli.main", *map(str, args)], env=env, capture_output=True,
                              text=True, timeout=300)
        if ok and proc.returncode != 0:
            raise AssertionError(f"dues {' '.join(map(str, args))} exited {proc.returncode}:\n{proc.stderr}{proc.stdout}")
        return proc

    run("init", "--company", "Test Traders", "--state", "27")
    for kind, text in [("customers", CUSTOMERS), ("receipts", RECEIPTS)]:
        f = tmp_path / f"{kind}.csv"
        f.write_text(text, encoding="utf-8")
        run("import", kind, f)
    return run


@pytest.fixture
def form(tmp_path):
    f = tmp_path / "26AS.txt"
    f.write_text(TEXT, encoding="utf-8")
    return f


def test_reconcile_tds_json_and_follow_ups(dues, form, tmp_path):
    out = json.loads(dues("reconcile", "tds", form, "--fy", "2025-26", "--format", "json").stdout)
    assert [(r["customer"], r["quarter"], r["status"], r["difference"]) for r in out["rows"]] == [
        ("C001", "Q1", "matched", "0.40"), ("C001", "Q2", "deducted_not_in_26as", "-800.00"),
        ("C002", "Q3", "in_26as_not_recorded", "4000.00")]
    assert out["totals"]["ours"] == "8049.60" and out["totals"]["26as"] == "11250.00" and out["ties"] is True
    assert out["follow_ups"] is None
    assert all(isinstance(v, str) for v in out["totals"].values())  # money as strings, never floats

    first = json.loads(dues("reconcile", "tds", form, "--fy", "2025-26", "--follow-up", "--format", "json").stdout)
    assert first["follow_ups"] == {"created": 1, "existing": 0, "customers": ["C001"]}
    again = json.loads(dues("reconcile", "tds", form, "--fy", "2025-26", "--follow-up", "--format", "json").stdout)
    assert again["follow_ups"] == {"created": 0, "existing": 1, "customers": []}

    table = dues("reconcile", "tds", form, "--fy", "2025-26").stdout
    assert "deducted_not_in_26as" in table and "8,049.60" in table and "11,250.00" in table

    xlsx = tmp_path / "tds.xlsx"
    dues("reconcile", "tds", form, "--fy", "2025-26", "--format", "xlsx", "-o", xlsx)
    from openpyxl import load_workbook

    ws = load_workbook(xlsx).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:5] == ("Customer", "Name", "TAN", "Quarter", "Status")
    assert [(r[0], r[3], r[4], Decimal(str(r[7]))) for r in rows[1:4]] == [
        ("C001", "Q1", "matched", Decimal("0.4")), ("C001", "Q2", "deducted_not_in_26as", Decimal("-800")),
        ("C002", "Q3", "in_26as_not_recorded", Decimal("4000"))]


def test_bad_files_are_refused_clearly(dues, form, tmp_path):
    bad = tmp_path / "cut.txt"
    bad.write_text(TEXT.replace("^12-Jun-2025^F^", "^12-Jun-2025^Z^"), encoding="utf-8")
    proc = dues("reconcile", "tds", bad, "--fy", "2025-26", "--format", "json", ok=False)
    assert proc.returncode == 1 and proc.stdout == ""
    assert "cut.txt:9: booking_status: 'Z' is not a booking status" in proc.stderr
    proc = dues("reconcile", "tds", form, "--fy", "2024-25", ok=False)
    assert proc.returncode == 1 and "is Form 26AS for FY 2025-26, not 2024-25" in proc.stderr


def test_reconcile_tds_book_posts_what_26as_shows_once(dues, form):
    proc = dues("reconcile", "tds", form, "--fy", "2025-26", "--book", "--format", "json")
    out = json.loads(proc.stdout)
    assert out["booked"] == [{"customer": "C002", "quarter": "Q3", "number": "TDS26AS/C002/2025-26-Q3",
                              "date": "2025-10-15", "tds": "4000.00"}]
    assert out["booking_skipped"] == []
    assert "booked TDS TDS26AS/C002/2025-26-Q3: C002 Q3 4,000.00 on 2025-10-15" in proc.stderr
    # the report is the one before booking; the next run shows the quarter matched and books nothing
    again = json.loads(dues("reconcile", "tds", form, "--fy", "2025-26", "--book", "--format", "json").stdout)
    assert [(r["customer"], r["quarter"], r["status"], r["ours"]) for r in again["rows"]] == [
        ("C001", "Q1", "matched", "1249.60"), ("C001", "Q2", "deducted_not_in_26as", "800.00"),
        ("C002", "Q3", "matched", "10000.00")]
    assert again["booked"] == [] and again["totals"]["in_26as_not_recorded"] == "0.00"
    plain = json.loads(dues("reconcile", "tds", form, "--fy", "2025-26", "--format", "json").stdout)
    assert plain["booked"] is None
    table = dues("reconcile", "tds", form, "--fy", "2025-26", "--book").stdout
    assert "in_26as_not_recorded" not in table
