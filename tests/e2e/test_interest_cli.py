"""Overdue interest and escalation from the command line: subprocesses on their own database, JSON out."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from tests.conftest import dues_env

pytestmark = pytest.mark.e2e

CUSTOMERS = """code,name,email,phone,credit_days,state,collector
C001,Acme Fasteners Pvt Ltd,accounts@acme.example,,30,27,Meena
C002,Zenith Polymers,ap@zenith.example,,30,27,Meena
"""
INVOICES = """number,customer,date,amount,due_date
INV-1,C001,2026-01-01,100000,2026-01-31
INV-2,C002,2026-01-01,50000,2026-01-31
"""
RECEIPTS = """number,customer,date,amount,mode,reference,tds,allocations
RCT-1,C001,2026-02-15,40000,neft,UTR1,0,INV-1:40000
"""


@pytest.fixture
def dues(tmp_path, scratch_db):
    env = dues_env(tmp_path, scratch_db)
    env.pop("DUES_RBI_BANK_RATE", None)

    def run(*args, ok=True):
        proc = subprocess.run([sys.executable, "-m", "dues.cli.main", *map(str, args)], env=env, capture_output=True,
                              text=True, timeout=300)
        if ok and proc.returncode != 0:
            raise AssertionError(f"dues {' '.join(map(str, args))} exited {proc.returncode}:\n{proc.stderr}{proc.stdout}")
        return proc

    run.json = lambda *args: json.loads(run(*args, "--format", "json").stdout)
    return run


def test_interest_posted_and_escalation_with_case_history(dues, tmp_path):
    for name, text in (("customers", CUSTOMERS), ("invoices", INVOICES), ("receipts", RECEIPTS)):
        (tmp_path / f"{name}.csv").write_text(text, encoding="utf-8")
    dues("init", "--company", "Test Traders Pvt Ltd", "--state", "27")
    for name in ("customers", "invoices", "receipts"):
        dues("import", name, tmp_path / f"{name}.csv")

    none = dues.json("interest", "C002", "--date", "2026-03-02")
    assert (none["mode"], none["total"], none["items"]) == ("none", "0.00", [])

    shown = dues.json("interest", "C001", "--date", "2026-03-02", "--terms", "simple:18")
    assert (shown["mode"], shown["rate"], shown["basis"], shown["total"], shown["posted"]) == (
        "simple", "18", "reducing", "1183.57", None)
    [item] = shown["items"]
    assert [(p["from"], p["to"], p["balance"], p["interest"]) for p in item["periods"]] == [
        ("2026-02-01", "2026-02-15", "100000.00", "739.73"), ("2026-02-16", "2026-03-02", "60000.00", "443.84")]

    posted = dues.json("interest", "C001", "--date", "2026-03-02", "--post")
    assert (posted["posted"], posted["total"]) == ("INT-C001-20260302", "1183.57")
    again = dues("interest", "C001", "--date", "2026-03-02", "--post", ok=False)
    assert again.returncode != 0 and "no interest due from C001" in again.stderr
    later = dues.json("interest", "C001", "--date", "2026-03-12")
    assert (later["since"], later["total"]) == ("2026-03-02", "295.89")

    msmed = dues.json("interest", "C002", "--date", "2026-03-31", "--terms", "msmed")
    assert msmed["mode"] == "msmed" and msmed["rate"] == "16.5"  # 3 x the default bank rate of 5.50 %

    case = tmp_path / "case.pdf"
    esc = dues.json("escalate", "C001", "--to", "legal", "--reason", "no payment after final notice",
                    "--date", "2026-03-12", "-o", case)
    assert (esc["to"], esc["overdue"], esc["case_history"]) == ("legal", "61183.57", str(case))  # the interest note is overdue too
    from pypdf import PdfReader

    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(case.read_bytes())).pages)
    for needle in ("Case history", "Acme Fasteners Pvt Ltd", "Debit note INT-C001-20260302", "1,183.57",
                   "no payment after final notice", "61,183.57"):
        assert needle in text, needle
    refused = dues("escalate", "C001", "--to", "legal", "--reason", "", ok=False)
    assert refused.returncode != 0 and "say why" in refused.stderr
