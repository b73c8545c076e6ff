"""Promises, disputes and the worklist from the command line: subprocesses on their own database, JSON out."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import dues_env

pytestmark = pytest.mark.e2e

CUSTOMERS = """code,name,email,phone,credit_days,state,collector
C001,Acme Fasteners Pvt Ltd,accounts@acme.example,,30,27,Meena
C002,Zenith Polymers,ap@zenith.example,,30,27,Meena
C003,Orbit Tools,pay@orbit.example,,30,27,Arjun
"""
INVOICES = """number,customer,date,amount,due_date
INV-1,C001,2026-10-16,118000,2026-11-15
INV-2,C001,2026-10-16,1234567.50,2026-11-15
INV-3,C002,2026-10-01,50000,2026-10-31
INV-4,C003,2026-10-01,90000,2026-10-31
"""
RECEIPTS = """number,customer,date,amount,mode,reference,tds,allocations
RCT-4,C003,2026-12-02,81000,neft,UTR9,9000,INV-4:90000
"""


@pytest.fixture
def dues(tmp_path, scratch_db):
    env = dues_env(tmp_path, scratch_db)
    env.pop("DUES_SMTP_URL", None)
    env.pop("DUES_SMS_WEBHOOK_URL", None)

    def run(*args, ok=True):
        proc = subprocess.run([sys.executable, "-m", "dues.cli.main", *map(str, args)], env=env, capture_output=True,
                              text=True, timeout=300)
        if ok and proc.returncode != 0:
            raise AssertionError(f"dues {' '.join(map(str, args))} exited {proc.returncode}:\n{proc.stderr}{proc.stdout}")
        return proc

    def js(*args):
        return json.loads(run(*args, "--format", "json").stdout)

    run.json = js
    return run


def test_promises_disputes_and_the_worklist(dues, tmp_path):
    for name, text in (("customers", CUSTOMERS), ("invoices", INVOICES)):
        (tmp_path / f"{name}.csv").write_text(text, encoding="utf-8")
    dues("init", "--company", "Test Traders Pvt Ltd", "--state", "27")
    dues("import", "customers", tmp_path / "customers.csv")
    dues("import", "invoices", tmp_path / "invoices.csv")

    p1 = dues.json("promise", "add", "C001", "--amount", "118000", "--date", "2026-12-02", "--invoice", "INV-1",
                   "--taken-on", "2026-11-30")
    assert {k: p1[k] for k in ("customer", "amount", "deadline", "invoices", "status", "taken_by")} == {
        "customer": "C001", "amount": "118000.00", "deadline": "2026-12-05", "invoices": ["INV-1"], "status": "open",
        "taken_by": "e2e"}
    p2 = dues.json("promise", "add", "C003", "--amount", "90000", "--date", "2026-12-03", "--taken-on", "2026-11-30")
    d = dues.json("dispute", "open", "INV-2", "--amount", "34567.50", "--reason", "damaged", "--owner", "dispatch",
                  "--date", "2026-11-30", "--sla", "5")
    assert (d["document"], d["amount"], d["status"], d["reason"]) == ("INV-2", "34567.50", "open", "damaged")
    refused = dues("dispute", "open", "INV-2", "--amount", "1200000.01", "--reason", "price", "--owner", "sales",
                   ok=False)
    assert refused.returncode != 0 and "more than what is left to dispute on INV-2 (1200000.00)" in refused.stderr

    # the run leaves C001's promised INV-1 and C003 (promised on account) alone, and chases only the
    # undisputed part of C001's INV-2
    actions = dues.json("collect", "run", "--date", "2026-11-30", "--dry-run")
    assert sorted((a["customer"], a["step"], a["status"], a["reason"]) for a in actions) == [
        ("C001", "call", "pending", "dry run: would send"),
        ("C001", "call", "skipped", "promised item(s) left out"),
        ("C001", "statement", "pending", "dry run: would send"),
        ("C001", "statement", "skipped", "promised item(s) left out"),
        ("C002", "escalation", "pending", "dry run: would send"),
        ("C003", "escalation", "skipped", "promised item(s) left out"),
    ]
    chased = [a for a in actions if a["customer"] == "C001" and a["status"] == "pending"]
    assert {(tuple(a["items"]), a["amount"]) for a in chased} == {(("INV-2",), "1200000.00")}  # 12,34,567.50 - 34,567.50

    # C003 pays (cash + TDS) inside the grace; C001 does not
    (tmp_path / "receipts.csv").write_text(RECEIPTS, encoding="utf-8")
    dues("import", "receipts", tmp_path / "receipts.csv")
    # as of 06-12: C001's deadline (05-12) passed unpaid, broken the day after; C003 kept the day it paid
    promises = dues.json("promises", "--date", "2026-12-06")
    assert sorted((p["customer"], p["status"], p["received"], p["settled_on"]) for p in promises) == [
        ("C001", "broken", "0.00", "2026-12-06"), ("C003", "kept", "90000.00", "2026-12-02")]
    assert [p["id"] for p in dues.json("promises", "--status", "broken")] == [p1["id"]]
    assert [p["id"] for p in dues.json("promises", "--status", "kept")] == [p2["id"]]
    report = dues.json("promises", "--report")
    assert [(r["promised_date"], r["taken_by"], r["promised"], r["received"], r["kept"], r["broken"]) for r in report] == [
        ("2026-12-02", "e2e", "118000.00", "0.00", 0, 1), ("2026-12-03", "e2e", "90000.00", "90000.00", 1, 0)]

    # the broken promise puts C001 first, ahead of C002's older debt; C003 has nothing left to chase
    work = dues.json("worklist", "--date", "2026-12-06")
    assert [w["customer"] for w in work] == ["C001", "C002"]
    assert work[0]["reasons"][0] == "broken promise (deadline 2026-12-05), not followed up: +1000"
    assert work[0]["overdue"] == "1352567.50" and work[1]["oldest_days"] == 36
    assert [w["customer"] for w in dues.json("worklist", "--date", "2026-12-06", "--collector", "Arjun")] == []
    unknown = dues("worklist", "--collector", "Pooja", ok=False)
    assert unknown.returncode != 0 and "no collector 'Pooja'" in unknown.stderr and "Arjun, Meena" in unknown.stderr
    table = dues("worklist", "--date", "2026-12-06").stdout
    assert "Worklist for 06-12-2026" in table and "13,52,567.50" in table

    # a call is logged; the dispute is rejected and INV-2 can be dunned again
    dues("activity", "C001", "--outcome", "reached", "--notes", "will pay next week", "--follow-up", "2026-12-10",
         "--date", "2026-12-06")
    # the follow-up brings C001 to the top of 10-12's list, whatever else is due
    [first, *_] = dues.json("worklist", "--date", "2026-12-10")
    assert (first["customer"], first["follow_up"], first["last_contact"]) == ("C001", "2026-12-10", "2026-12-06")
    assert first["reasons"][0] == "follow-up due today (call on 2026-12-06: will pay next week): +2500"
    assert dues.json("dispute", "resolve", str(d["id"]), "--reject", "--date", "2026-12-06")["status"] == "rejected"
    assert dues.json("disputes", "--status", "active") == []
    [closed] = dues.json("disputes")
    assert (closed["status"], closed["resolved_on"], closed["age_days"], closed["overdue_sla"]) == (
        "rejected", "2026-12-06", 6, False)
