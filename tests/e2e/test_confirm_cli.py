"""``dues confirm`` and the follow-up flags of ``dues reconcile customer``, run as a user runs them."""

from __future__ import annotations

import email
import email.policy
import json
from decimal import Decimal
from pathlib import Path

import pytest

from tests.e2e.test_reconcile_cli import MAP, THEIRS, dues, theirs  # noqa: F401  (fixtures)

pytestmark = pytest.mark.e2e


def test_confirm_send_reply_status_remind(dues, tmp_path):  # noqa: F811
    sent = json.loads(dues("confirm", "send", "C001", "--as-of", "2025-06-30", "--format", "json").stdout)
    assert [(s["customer"], s["status"], s["our_balance"]) for s in sent] == [("C001", "sent", "5310.00")]
    [eml] = list(Path(tmp_path / "var" / "outbox").glob("*.eml"))
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert msg["To"] == "a@ganesh.example"
    assert [p.get_content_type() for p in msg.walk()].count("application/pdf") == 1
    # again: skipped while unanswered
    again = json.loads(dues("confirm", "send", "C001", "--as-of", "2025-06-30", "--format", "json").stdout)
    assert again[0]["status"] == "skipped"
    status = json.loads(dues("confirm", "status", "--format", "json").stdout)
    assert status["counts"] == {"requested": 1, "confirmed": 0, "disagreed": 0, "no_reply": 0}
    rid = status["requests"][0]["id"]
    f = tmp_path / "theirs.csv"
    f.write_text(THEIRS, encoding="utf-8")
    reply = json.loads(dues("confirm", "reply", rid, "--disagreed", "--file", f, "--map", MAP,
                            "--format", "json").stdout)
    assert reply["status"] == "disagreed" and reply["their_balance"] == "5550.00"
    assert reply["reconciliation"]["unexplained"] == "0.00" and len(reply["reconciliation"]["differences"]) == 3
    text = dues("confirm", "status").stdout
    assert "disagreed" in text and "5,550.00" in text and "240.00" in text
    proc = dues("confirm", "reply", rid, "--balance", "1", ok=False)
    assert proc.returncode == 1 and "--confirmed, --disagreed or --no-reply" in proc.stderr
    reminded = json.loads(dues("confirm", "remind", "--days", "0", "--format", "json").stdout)
    assert reminded == []  # answered


def test_reconcile_followup_flags(dues, theirs):  # noqa: F811
    proc = dues("reconcile", "customer", "C001", theirs, "--as-of", "2025-06-30", "--map", MAP, "--book-tds",
                "--log-activities", "--format", "json")
    out = json.loads(proc.stdout)
    assert out["followups"]["booked"] == ["TDS/C001/250630/3"]
    assert out["followups"]["activities"] == ["ask C001 to book CN-1 (590.00) in their ledger"]
    assert "booked TDS TDS/C001/250630/3" in proc.stderr
    after = json.loads(dues("reconcile", "customer", "C001", theirs, "--as-of", "2025-06-30", "--map", MAP,
                            "--format", "json").stdout)
    assert after["our_balance"] == "5260.00"  # 5,310 less the 50 of TDS they deducted
    # the engine pairs their 150 with RCT-1's 100 (-50) and shows the booked 50 on its own (+50): net nil
    tds = [Decimal(d["amount"]) for d in after["differences"] if d["kind"] == "tds_difference"]
    assert sorted(tds) == [Decimal("-50.00"), Decimal("50.00")]
    again = json.loads(dues("reconcile", "customer", "C001", theirs, "--as-of", "2025-06-30", "--map", MAP,
                            "--book-tds", "--format", "json").stdout)
    assert again["followups"]["booked"] == [] and again["followups"]["skipped"] == ["TDS/C001/250630/3: already booked"]
