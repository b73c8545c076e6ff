"""`dues policy ...` through the installed `dues` command: policies edited as data, audited, and the run
that follows them (one e-mail a day per customer, nothing below the minimum) (issue 10)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import dues_env

pytestmark = pytest.mark.e2e

CUSTOMERS = """code,name,email,phone,credit_days,state,segment
C001,Acme Fasteners Pvt Ltd,accounts@acme.example,,30,27,Industrial
C002,Tiny Balance Stores,ap@tiny.example,,30,27,Retail
"""
INVOICES = """number,customer,date,amount,due_date
INV-1,C001,2026-10-16,118000,2026-11-15
INV-2,C001,2026-10-30,20000,2026-11-29
INV-3,C002,2026-10-26,34.00,2026-11-25
"""


@pytest.fixture
def dues(tmp_path, scratch_db):
    env = dues_env(tmp_path, scratch_db)
    env.pop("DUES_SMTP_URL", None)
    env.pop("DUES_SMS_WEBHOOK_URL", None)
    command = Path(sys.executable).parent / "dues"  # the console script pyproject.toml installs

    def run(*args, ok=True):
        proc = subprocess.run([str(command), *map(str, args)], env=env, capture_output=True, text=True, timeout=300)
        if ok and proc.returncode != 0:
            raise AssertionError(f"dues {' '.join(map(str, args))} exited {proc.returncode}:\n{proc.stderr}{proc.stdout}")
        return proc

    run.home = tmp_path / "var"
    return run


def test_policies_edited_from_the_cli_drive_a_polite_run(dues, tmp_path):
    (tmp_path / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    (tmp_path / "invoices.csv").write_text(INVOICES, encoding="utf-8")
    dues("init", "--company", "Test Traders Pvt Ltd", "--state", "27")
    dues("import", "customers", tmp_path / "customers.csv")
    dues("import", "invoices", tmp_path / "invoices.csv")

    [standard] = json.loads(dues("policy", "list", "--format", "json").stdout)
    assert (standard["name"], standard["default"], standard["min_overdue"]) == ("Standard", True, "500.00")
    assert standard["steps"][:3] == ["pre-due", "reminder-1", "reminder-2"]

    # bad input names the field and writes nothing
    bad = dues("policy", "step", "set", "Standard", "escalation", "--days", "soon", "--cc", "legal at firm", ok=False)
    assert bad.returncode == 1
    assert "error days: “soon” is not a whole number of days" in bad.stderr
    assert "error cc: “legal at firm” is not an e-mail address (or @ar_manager)" in bad.stderr
    assert "nothing was written" in bad.stderr
    assert "no dunning policy called “Nope”" in dues("policy", "show", "Nope", ok=False).stderr

    shown = json.loads(dues("policy", "set", "standard", "--min-overdue", "1000", "--format", "json").stdout)
    assert shown["min_overdue"] == "1000.00"
    shown = json.loads(dues("policy", "step", "add", "Standard", "pre-due-7", "--days", "-7", "--template", "pre-due",
                            "--format", "json").stdout)
    assert [s["key"] for s in shown["steps"]][:2] == ["pre-due-7", "pre-due"]
    shown = json.loads(dues("policy", "step", "set", "Standard", "escalation", "--cc", "@ar_manager, legal@tt.example",
                            "--format", "json").stdout)
    assert next(s for s in shown["steps"] if s["key"] == "escalation")["cc"] == "@ar_manager, legal@tt.example"
    dues("policy", "create", "Retail", "--copy-from", "Standard", "--min-overdue", "100")
    assert "segment Retail: policy Retail" in dues("policy", "segment", "Retail", "Retail").stdout
    assert "Retail" in dues("policy", "show", "Retail").stdout

    actions = json.loads(dues("collect", "run", "--date", "2026-11-30", "--format", "json").stdout)
    mine = [(a["customer"], a["step"], a["status"], a["items"]) for a in actions]
    # C001: statement (+15) and reminder-1 (+1) fall due together: one statement e-mail with both invoices
    assert ("C001", "statement", "sent", ["INV-1", "INV-2"]) in mine
    assert ("C001", "reminder-1", "skipped", ["INV-2"]) in mine
    assert ("C001", "call", "sent", ["INV-1"]) in mine  # a task still comes alongside
    # C002 owes 34.00: below the Retail policy's minimum of 100, nothing goes
    [tiny] = [a for a in actions if a["customer"] == "C002"]
    assert (tiny["status"], tiny["reason"]) == ("skipped", "overdue 34.00 (net of disputes and unapplied credits) "
                                                           "below the policy's minimum 100.00")
    mails = sorted((dues.home / "outbox").glob("*.eml"))
    assert [m.name.split("-")[0] for m in mails] == ["C001"]

    log = json.loads(dues("audit", "log", "--object", "dunning_policy", "--format", "json").stdout)
    [changed] = [r for r in log if r["before"] and r["before"]["min_overdue"] != r["after"]["min_overdue"]]
    assert (changed["action"], changed["object_id"], changed["actor"]) == ("update", "Standard", "e2e")
    assert (changed["before"]["min_overdue"], changed["after"]["min_overdue"]) == ("500.00", "1000.00")
    assert "audit log OK" in dues("audit", "verify").stdout
