"""`dues collect run` as a user runs it: a subprocess on its own database, e-mails to the outbox."""

from __future__ import annotations

import email
import email.policy
import json
import subprocess
import sys

import pytest

from tests.conftest import dues_env

pytestmark = pytest.mark.e2e

CUSTOMERS = """code,name,email,phone,credit_days,state
C001,Acme Fasteners Pvt Ltd,accounts@acme.example,,30,27
C002,Zenith Polymers,ap@zenith.example,,30,27
"""
INVOICES = """number,customer,date,amount,due_date
INV-1,C001,2026-10-16,118000,2026-11-15
INV-2,C001,2026-10-16,1234567.50,2026-11-15
INV-3,C002,2026-11-01,50000,2026-12-03
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

    run.home = tmp_path / "var"
    return run


def test_collect_run_json_dry_run_and_idempotent(dues, tmp_path):
    (tmp_path / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    (tmp_path / "invoices.csv").write_text(INVOICES, encoding="utf-8")
    dues("init", "--company", "Test Traders Pvt Ltd", "--state", "27")
    dues("import", "customers", tmp_path / "customers.csv")
    dues("import", "invoices", tmp_path / "invoices.csv")

    dry = json.loads(dues("collect", "run", "--date", "2026-11-30", "--dry-run", "--format", "json").stdout)
    assert [(a["customer"], a["step"], a["status"]) for a in dry] == [("C001", "statement", "pending"),
                                                                      ("C001", "call", "pending"),
                                                                      ("C002", "pre-due", "pending")]
    assert not (dues.home / "outbox").exists()

    actions = json.loads(dues("collect", "run", "--date", "2026-11-30", "--format", "json").stdout)
    statement = actions[0]
    assert set(statement) == {"customer", "step", "channel", "items", "amount", "status", "reason"}
    assert statement["customer"] == "C001" and statement["step"] == "statement" and statement["channel"] == "email"
    assert statement["items"] == ["INV-1", "INV-2"] and statement["amount"] == "1352567.50"
    assert statement["status"] == "sent" and "outbox" in statement["reason"]
    assert [(a["step"], a["channel"], a["status"]) for a in actions[1:]] == [("call", "call_task", "sent"),
                                                                             ("pre-due", "email", "sent")]
    mails = sorted((dues.home / "outbox").glob("*.eml"))
    assert [m.name.split("-")[0] for m in mails] == ["C001", "C002"]
    msg = email.message_from_bytes(mails[0].read_bytes(), policy=email.policy.default)
    assert msg["Subject"] == "Statement of account C001: ₹13,52,567.50 outstanding on 30-11-2026"
    assert "₹12,34,567.50" in msg.get_body(("plain",)).get_content()

    again = json.loads(dues("collect", "run", "--date", "2026-11-30", "--format", "json").stdout)
    assert {(a["status"], a["reason"][:12]) for a in again} == {("skipped", "already sent")}
    assert len(list((dues.home / "outbox").glob("*.eml"))) == 2

    assert "on hold from dunning (legal case)" in dues("collect", "hold", "C002", "--reason", "legal case").stdout
    held = json.loads(dues("collect", "run", "--date", "2026-12-04", "--format", "json").stdout)
    assert [(a["customer"], a["step"], a["status"], a["reason"]) for a in held] == [
        ("C002", "reminder-1", "skipped", "customer on hold from dunning")]
    assert "dunning resumes" in dues("collect", "hold", "C002", "--off").stdout
    assert dues("collect", "hold", "C999", ok=False).stderr.strip() == "error no customer 'C999'"

    table = dues("collect", "run", "--date", "2026-11-30").stdout
    assert "13,52,567.50" in table and "already sent" in table and "3 skipped" in table
    assert "dunning_action" in dues("audit", "log", "--object", "dunning_action").stdout
    assert "audit log OK" in dues("audit", "verify").stdout
