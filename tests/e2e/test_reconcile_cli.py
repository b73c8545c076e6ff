"""``dues reconcile customer`` as a user runs it: a subprocess on its own database."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal

import pytest

from tests.conftest import dues_env
from tests.integration.test_imports import CREDIT_NOTES, CUSTOMERS, INVOICES, RECEIPTS

pytestmark = pytest.mark.e2e

# C001 in our books: INV-1 1,18,000 (1 Apr), RCT-1 1,17,900 + TDS 100 (10 May), INV-2 5,900 (15 May), CN-1 590 (20 Jun)
THEIRS = """Txn Date,Bill No,Remarks,Amt,Side
03-04-2025,INV-1,Purchase of steel,"1,18,000.00",Cr
10-05-2025,,NEFT UTR123,"1,17,900.00",Dr
10-05-2025,,TDS 194Q,150.00,Dr
18-05-2025,INV 2,Purchase,"5,900.00",Cr
25-06-2025,DN-1,Debit note: rate difference,300.00,Dr
"""
MAP = "date=Txn Date,ref=Bill No,narration=Remarks,amount=Amt,drcr=Side"


@pytest.fixture
def dues(tmp_path, scratch_db):
    env = dues_env(tmp_path, scratch_db)

    def run(*args, ok=True):
        proc = subprocess.run([sys.executable, "-m", "dues.cli.main", *map(str, args)], env=env, capture_output=True,
                              text=True, timeout=300)
        if ok and proc.returncode != 0:
            raise AssertionError(f"dues {' '.join(map(str, args))} exited {proc.returncode}:\n{proc.stderr}{proc.stdout}")
        return proc

    dues_ = run
    dues_("init", "--company", "Acme Steel", "--state", "27")
    for kind, text in [("customers", CUSTOMERS), ("invoices", INVOICES), ("receipts", RECEIPTS),
                       ("credit-notes", CREDIT_NOTES)]:
        f = tmp_path / f"{kind}.csv"
        f.write_text(text, encoding="utf-8")
        dues_("import", kind, f)
    return run


@pytest.fixture
def theirs(tmp_path):
    f = tmp_path / "theirs.csv"
    f.write_text(THEIRS, encoding="utf-8")
    return f


def test_reconcile_customer_json(dues, theirs):
    out = json.loads(dues("reconcile", "customer", "C001", theirs, "--as-of", "2025-06-30", "--map", MAP,
                          "--format", "json").stdout)
    assert list(out) == ["customer", "as_of", "our_balance", "their_balance", "matched", "differences", "unexplained"]
    assert out["customer"] == "C001" and out["as_of"] == "2025-06-30"
    assert out["our_balance"] == "5310.00" and out["their_balance"] == "5550.00" and out["unexplained"] == "0.00"
    assert out["matched"] == [
        {"ours": "INV-1", "theirs": "row 1", "amount": "118000.00", "how": "number", "note": ""},
        {"ours": "INV-2", "theirs": "row 4", "amount": "5900.00", "how": "number", "note": ""},
        {"ours": "RCT-1", "theirs": "row 2", "amount": "-117900.00", "how": "utr", "note": ""}]
    assert [{k: d[k] for k in ("kind", "ours", "theirs", "amount")} for d in out["differences"]] == [
        {"kind": "tds_difference", "ours": "RCT-1 TDS", "theirs": "row 3", "amount": "-50.00"},
        {"kind": "missing_in_theirs", "ours": "CN-1", "theirs": None, "amount": "590.00"},
        {"kind": "missing_in_ours", "ours": None, "theirs": "row 5", "amount": "-300.00"},
    ]
    assert all(set(d) == {"kind", "ours", "theirs", "amount", "explanation"} and d["explanation"]
               for d in out["differences"])
    assert Decimal(out["our_balance"]) + sum(Decimal(d["amount"]) for d in out["differences"]) == Decimal(
        out["their_balance"])


def test_reconcile_customer_table_xlsx_pdf(dues, theirs, tmp_path):
    text = dues("reconcile", "customer", "C001", theirs, "--as-of", "30-06-2025", "--map", MAP).stdout
    assert "Balance in our books" in text and "5,310.00" in text and "5,550.00" in text
    assert "missing_in_ours" in text and "unexplained 0.00" in text
    for fmt in ("xlsx", "pdf"):
        target = tmp_path / f"rec.{fmt}"
        dues("reconcile", "customer", "C001", theirs, "--as-of", "2025-06-30", "--map", MAP, "--format", fmt,
             "-o", target)
        assert target.stat().st_size > 1000
    assert (tmp_path / "rec.pdf").read_bytes().startswith(b"%PDF")
    proc = dues("reconcile", "customer", "C001", theirs, "--as-of", "2025-06-30", "--map", MAP, "--format", "xlsx",
                ok=False)
    assert proc.returncode == 1 and "needs -o FILE" in proc.stderr


# INV-2 booked twice under two of their voucher numbers; their debit note DN/7 for our CN-1 (590 against INV-2)
TWICE = """Txn Date,Vch No,Remarks,Amt,Side
03-04-2025,PV-1,Purchase INV-1,"1,18,000.00",Cr
10-05-2025,,NEFT UTR123,"1,17,900.00",Dr
10-05-2025,,TDS 194Q,100.00,Dr
16-05-2025,PV-9,Purchase INV-2,"5,900.00",Cr
19-05-2025,PV-12,Purchase INV-2,"5,900.00",Cr
22-06-2025,DN/7,Debit note: rate difference INV-2,590.00,Dr
"""


def test_duplicate_and_credit_note_debit_note_pair_in_every_output(dues, tmp_path):
    f = tmp_path / "twice.csv"
    f.write_text(TWICE, encoding="utf-8")
    mapping = "date=Txn Date,ref=Vch No,narration=Remarks,amount=Amt,drcr=Side"
    out = json.loads(dues("reconcile", "customer", "C001", f, "--as-of", "2025-06-30", "--map", mapping,
                          "--format", "json").stdout)
    assert [(d["kind"], d["ours"], d["theirs"], d["amount"]) for d in out["differences"]] == [
        ("duplicate", None, "row 5", "5900.00")]
    assert out["unexplained"] == "0.00"
    pair = next(m for m in out["matched"] if m["ours"] == "CN-1")
    assert pair["theirs"] == "row 6" and pair["how"] == "note" and "same bill INV-2" in pair["note"]
    text = dues("reconcile", "customer", "C001", f, "--as-of", "2025-06-30", "--map", mapping).stdout
    assert "duplicate" in text and "5,900.00" in text and "unexplained 0.00" in text
    assert "1 matched under different numbers" in text and "CN-1" in text
    narrow = json.loads(dues("reconcile", "customer", "C001", f, "--as-of", "2025-06-30", "--map", mapping,
                             "--note-days", "1", "--format", "json").stdout)  # the notes are 2 days apart
    assert {(d["kind"], d["ours"] or d["theirs"]) for d in narrow["differences"]} == {
        ("duplicate", "row 5"), ("missing_in_theirs", "CN-1"), ("missing_in_ours", "row 6")}


def test_bad_files_rejected_clearly(dues, tmp_path, theirs):
    bad = tmp_path / "bad.csv"
    bad.write_text("Txn Date,Bill No,Remarks,Amt,Side\n31-02-2025,INV-1,x,100,Cr\n01-03-2025,INV-2,y,1oo,Cr\n"
                   "01-03-2025,INV-2,y,100,Maybe\n", encoding="utf-8")
    proc = dues("reconcile", "customer", "C001", bad, "--as-of", "2025-06-30", "--map", MAP, ok=False)
    assert proc.returncode == 1
    assert "bad.csv:1: txn_date:" in proc.stderr and "bad.csv:2: amt:" in proc.stderr
    assert "bad.csv:3: side:" in proc.stderr
    proc = dues("reconcile", "customer", "C001", theirs, "--as-of", "2025-06-30", ok=False)  # no map: columns unknown
    assert proc.returncode == 1 and "use --map" in proc.stderr
    proc = dues("reconcile", "customer", "C002", theirs, "--as-of", "2025-06-30", "--map", MAP, ok=False)
    assert proc.returncode == 1 and "another customer's ledger" in proc.stderr


def test_bench_reconcile(dues):
    out = json.loads(dues("bench", "reconcile", "--entries", "2000", "--format", "json").stdout)
    assert out["ties"] is True and out["unexplained"] == "0.00"
    assert out["planted"] > 20 and Decimal(out["accuracy"]) >= Decimal("0.95")
