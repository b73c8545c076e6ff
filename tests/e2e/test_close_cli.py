"""``dues reconcile bank`` and ``dues close month`` as a user runs them: subprocesses on their own database."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import dues_env

pytestmark = pytest.mark.e2e

CUSTOMERS = """code,name,state,credit_days
C001,Shree Ganesh Traders,27,30
C002,Ravi Kumar,27,30
"""
INVOICES = """number,customer,date,amount
INV-1,C001,2026-10-01,"1,00,000.00"
INV-2,C002,2026-10-02,750.00
"""
RECEIPTS = """number,customer,date,amount,mode,reference,allocations
RCT-1,C001,2026-10-03,"60,000",neft,N123456789012,INV-1:60000
RCT-3,C001,2026-10-30,"25,000",cheque,456789,
"""
LATE_RECEIPT = """number,customer,date,amount,mode,reference,allocations
RCT-4,C002,2026-10-29,750,upi,612345678901,INV-2:750
"""
HEADER = "Date,Narration,Chq./Ref.No.,Value Dt,Withdrawal Amt.,Deposit Amt.,Closing Balance\n"
STATEMENT = ("Account No :50100123456789\n\n" + HEADER +
             '03/10/26,NEFT CR-ICIC0000456-SHREE GANESH TRADERS-N123456789012,0000N123456789012,03/10/26,,'
             '"60,000.00","2,60,000.00"\n'
             '29/10/26,UPI/612345678901/Ravi Kumar/ravi.k@okhdfcbank/HDFC Bank,0000612345678901,29/10/26,,'
             '750.00,"2,60,750.00"\n'
             '31/10/26,CHARGES FOR NEFT AND SMS INCL GST,,31/10/26,118.00,,"2,60,632.00"\n')


@pytest.fixture
def dues(tmp_path, scratch_db):
    env = dues_env(tmp_path, scratch_db)

    def run(*args, ok=True):
        proc = subprocess.run([sys.executable, "-m", "dues.cli.main", *map(str, args)], env=env, capture_output=True,
                              text=True, timeout=300)
        if ok and proc.returncode != 0:
            raise AssertionError(f"dues {' '.join(map(str, args))} exited {proc.returncode}:\n{proc.stderr}{proc.stdout}")
        return proc

    run("init", "--company", "Acme Steel", "--state", "27")
    for kind, text in [("customers", CUSTOMERS), ("invoices", INVOICES), ("receipts", RECEIPTS)]:
        f = tmp_path / f"{kind}.csv"
        f.write_text(text, encoding="utf-8")
        run("import", kind, f)
    f = tmp_path / "oct.csv"
    f.write_text(STATEMENT, encoding="utf-8")
    run("import", "bank", f, "--preset", "hdfc")
    return run


def test_bank_reconciliation_and_close_refuses_then_locks(dues, tmp_path):
    rec = json.loads(dues("reconcile", "bank", "--account", "BANK1", "--as-of", "2026-10-31", "--format", "json").stdout)
    assert (rec["account"], rec["book_balance"], rec["brought_forward"], rec["bank_balance"], rec["ties"]) == (
        "BANK1", "85000.00", "200000.00", "260632.00", True)
    assert [(m["book"], m["how"]) for m in rec["matched"]] == [("RCT-1", "reference")]
    assert [(x["document"], x["amount"]) for x in rec["in_book_not_in_bank"]] == [("RCT-3", "25000.00")]
    assert [(x["kind"], x["amount"]) for x in rec["in_bank_not_in_book"]] == [
        ("unapplied_credit", "750.00"), ("bank_charges", "-118.00")]

    # the UPI credit is neither applied nor booked: the close refuses to lock and names the check
    refused = dues("close", "month", "2026-10", "--lock", "--format", "json", ok=False)
    assert refused.returncode == 1
    assert "not locking 2026-10" in refused.stderr and "bank_lines" in refused.stderr
    pack = json.loads(refused.stdout)
    assert (pack["ok"], pack["failing"], pack["lock_date"]) == (False, ["bank_lines"], None)
    assert [c["name"] for c in pack["checks"]] == ["ar_ledger", "bank_lines", "unapplied_cash", "bank_reconciliation",
                                                   "audit_chain"]
    assert pack["checks"][0]["figures"]["sub_ledger"] == pack["checks"][0]["figures"]["control_account"] == "15750.00"
    # without --lock it fails too (exit 1, naming the check), so a scheduled close can alert
    checked = dues("close", "month", "2026-10", "--format", "json", ok=False)
    assert checked.returncode == 1 and "bank_lines" in checked.stderr
    assert json.loads(checked.stdout)["lock_date"] is None
    table = dues("close", "month", "2026-10", ok=False)
    assert table.returncode == 1 and "FAIL" in table.stdout and "does not close" in table.stderr

    # book the receipt for it: the month closes and locks
    f = tmp_path / "late.csv"
    f.write_text(LATE_RECEIPT, encoding="utf-8")
    dues("import", "receipts", f)
    locked = dues("close", "month", "2026-10", "--lock")
    assert "locked through 31-10-2026" in locked.stdout and "FAIL" not in locked.stdout
    after = json.loads(dues("close", "month", "2026-10", "--format", "json").stdout)
    assert (after["ok"], after["lock_date"]) == (True, "2026-10-31")
    assert after["checks"][2]["items"] == [{"customer": "C001", "name": "Shree Ganesh Traders", "amount": "25000.00"}]
    dues("close", "month", "2026-10", "--format", "pdf", "-o", tmp_path / "close.pdf")
    dues("close", "month", "2026-10", "--format", "xlsx", "-o", tmp_path / "close.xlsx")
    assert (tmp_path / "close.pdf").read_bytes().startswith(b"%PDF")
    assert (tmp_path / "close.xlsx").read_bytes().startswith(b"PK")
    table = dues("reconcile", "bank", "--account", "BANK1", "--as-of", "2026-10-31")
    assert "Balance as per bank" in table.stdout and "2,60,632.00" in table.stdout
    wrong = dues("close", "month", "2026-13", ok=False)
    assert wrong.returncode == 1 and "YYYY-MM" in wrong.stderr
