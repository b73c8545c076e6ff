"""Billing end to end through the `dues` command: deliveries -> bill run -> approval (a credit refusal,
an audited override) -> tax invoice PDF read back -> e-invoice JSON validated -> the invoice in ageing -> a
credit note against it (approved and allocated, PDF, ageing)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import dues_env

pytestmark = pytest.mark.e2e

CUSTOMERS = """code,name,gstin,state,credit_limit,credit_days,address,city,pin
C001,Patil Engineering Works,27AAPFU0939F1ZV,27,"20,000",30,"Gat 12, Chakan MIDC",Pune,410501
C002,Kaveri Pumps Pvt Ltd,29AAGCB7383J1Z4,29,,45,"14 Peenya Industrial Area",Bengaluru,560058
"""
ITEMS = """code,name,hsn,unit,gst_rate,kind
BOLT,Hex bolt M12 x 50,73181500,NOS,18,goods
PIPE,GI pipe 2 inch,7306,MTR,12,goods
"""
CONTRACTS = """customer,item,rate,valid_from,valid_to,discount_pct
C001,BOLT,12.50,2026-04-01,2027-03-31,2
"""
DELIVERIES = """delivery,customer,date,item,hsn,qty,uom,rate,gst_rate,discount_pct,po
DC-101,C001,2026-11-20,BOLT,,1000,NOS,,,,PO-7
DC-102,C002,2026-11-26,PIPE,7306,7,MTR,410,12,,
"""
INVOICES = """number,customer,date,amount
OLD-1,C001,2026-11-01,10000
"""


@pytest.fixture
def dues(tmp_path, scratch_db):
    env = dues_env(tmp_path, scratch_db)
    script = Path(sys.executable).with_name("dues")  # the console script pip installed: the real entry point
    command = [str(script)] if script.exists() else [sys.executable, "-m", "dues.cli.main"]

    def run(*args, ok=True, user=None):
        proc = subprocess.run([*command, *(["--user", user] if user else []), *map(str, args)], env=env,
                              capture_output=True, text=True, timeout=300)
        if ok and proc.returncode != 0:
            raise AssertionError(f"dues {' '.join(map(str, args))} exited {proc.returncode}:\n{proc.stderr}{proc.stdout}")
        return proc

    return run


def test_deliveries_to_ageing(dues, tmp_path):
    from pypdf import PdfReader

    from dues.billing.einvoice import einvoice_problems

    dues("init", "--company", "Sahyadri Industrial Supplies Pvt Ltd", "--gstin", "27AAPFU0939F1ZV")
    dues("bill", "settings", "--set", "address=Plot 7, MIDC Bhosari", "--set", "city=Pune", "--set", "pin=411026",
         "--set", "upi_vpa=sahyadri@hdfcbank", "--set", "bank_details=HDFC Bank A/c 50100123456789 IFSC HDFC0000123",
         "--set", "four_eyes=on")
    for kind, text in (("customers", CUSTOMERS), ("items", ITEMS), ("contracts", CONTRACTS),
                       ("deliveries", DELIVERIES), ("invoices", INVOICES)):
        path = tmp_path / f"{kind}.csv"
        path.write_text(text)
        dues("import", kind, path)
    bad = tmp_path / "bad.csv"
    bad.write_text("delivery,customer,date,item,qty,rate,gst_rate\nDC-9,C001,2026-11-20,BOLT,-1,10,17\n")
    proc = dues("import", "deliveries", bad, ok=False)
    assert proc.returncode == 1 and "bad.csv:2: qty: must be positive, got -1" in proc.stderr
    assert "bad.csv:2: gst_rate: 17 is not a GST rate slab" in proc.stderr and "nothing was written" in proc.stderr

    drafts = json.loads(dues("bill", "run", "--date", "2026-11-30", "--format", "json", user="maker").stdout)["drafts"]
    by_customer = {d["customer"]: d for d in drafts}
    assert by_customer["C001"] == {
        "number": None, "draft": by_customer["C001"]["draft"], "customer": "C001", "date": "2026-11-30",
        "status": "draft", "taxable": "12250.00", "cgst": "1102.50", "sgst": "1102.50", "igst": "0.00",
        "round_off": "0.00", "total": "14455.00", "deliveries": ["DC-101"]}
    assert by_customer["C002"]["igst"] == "344.40" and by_customer["C002"]["round_off"] == "-0.40"
    assert json.loads(dues("bill", "run", "--date", "2026-11-30", "--format", "json").stdout) == {"drafts": []}
    # drafts are not receivables
    assert "C002" not in dues("ageing", "--as-of", "2026-12-06", "--format", "json").stdout

    proc = dues("bill", "approve", "--all", user="maker", ok=False)  # four-eyes: the maker may not approve
    assert proc.returncode == 1 and "four-eyes" in proc.stderr
    proc = dues("bill", "approve", "--all", user="checker", ok=False)
    assert proc.returncode == 1
    assert "credit limit 20,000.00" in proc.stdout and "outstanding 10,000.00" in proc.stdout
    assert "exposure 24,455.00" in proc.stdout and "held on credit" in proc.stderr
    assert "approved" in proc.stdout  # C002 (no limit) went through
    held = by_customer["C001"]["draft"]
    proc = dues("bill", "approve", held, "--override", "--reason", "MD approved: advance cheque in hand",
                user="checker")
    number = proc.stdout.split(" as invoice ")[1].split(":")[0]
    assert number.startswith("INV/2627/000") and "credit hold overridden" in proc.stdout
    log = json.loads(dues("audit", "log", "--format", "json", "--limit", "200").stdout)
    records = log if isinstance(log, list) else log.get("records", log.get("entries", []))
    assert any(r.get("action") == "credit_override" and "MD approved" in json.dumps(r) for r in records)

    pdf = tmp_path / "inv.pdf"
    dues("invoice", "pdf", number, "-o", pdf)
    text = PdfReader(io.BytesIO(pdf.read_bytes())).pages[0].extract_text()
    for expected in ("Tax invoice", number, "Patil Engineering Works", "73181500", "CGST @ 9%", "14,455.00",
                     "Rupees Fourteen Thousand Four Hundred Fifty-Five Only", "Place of supply: 27 Maharashtra",
                     "sahyadri@hdfcbank"):
        assert expected in text, expected

    out = tmp_path / "einv.json"
    dues("einvoice", number, "-o", out)
    payload = json.loads(out.read_text())
    assert einvoice_problems(payload) == [] and payload["DocDtls"]["Dt"] == "30/11/2026"

    report = json.loads(dues("ageing", "--as-of", "2026-12-06", "--format", "json").stdout)
    rows = {r["key"]: r for r in report["rows"]}
    assert rows["C001"]["total"] == "24455.00" and rows["C002"]["total"] == "3214.00"
    assert dues("ledger", "trial-balance", "--format", "json").returncode == 0

    # a credit note for 100 bolts returned: 1,225.00 + 9% + 9% = 1,445.50 -> 1,446, allocated to the invoice
    note = json.loads(dues("bill", "note", "credit", "--invoice", number, "--reason", "return", "--line", "BOLT:100",
                           "--date", "2026-12-05", "--format", "json", user="maker").stdout)["note"]
    assert (note["taxable"], note["cgst"], note["round_off"], note["total"]) == ("1225.00", "110.25", "0.50", "1446.00")
    proc = dues("bill", "note", "approve", note["draft"], user="checker")
    assert "as credit note CN/2627/0001" in proc.stdout and "1,446.00 applied to " + number in proc.stdout
    dues("invoice", "pdf", "CN/2627/0001", "-o", pdf)
    text = PdfReader(io.BytesIO(pdf.read_bytes())).pages[0].extract_text()
    assert "Credit note" in text and f"Against tax invoice No. {number} dated 30-11-2026" in text
    report = json.loads(dues("ageing", "--as-of", "2026-12-06", "--format", "json").stdout)
    assert {r["key"]: r for r in report["rows"]}["C001"]["total"] == "23009.00"


def test_credit_check_for_sales_and_dispatch(dues, tmp_path):
    """`dues credit check` answers before goods leave: allowed or blocked (exit 1), with the figures as JSON."""
    dues("init", "--company", "Sahyadri Industrial Supplies Pvt Ltd", "--gstin", "27AAPFU0939F1ZV")
    for kind, text in (("customers", CUSTOMERS), ("invoices", INVOICES)):
        path = tmp_path / f"{kind}.csv"
        path.write_text(text)
        dues("import", kind, path)

    ok = json.loads(dues("credit", "check", "C001", "--amount", "5,000", "--date", "2026-11-20",
                         "--format", "json").stdout)
    assert ok["customer"] == "C001" and ok["allowed"] is True and ok["reasons"] == []
    assert (ok["figures"]["outstanding"], ok["figures"]["amount"], ok["figures"]["exposure"], ok["figures"]["limit"]) \
        == ("10000.00", "5000.00", "15000.00", "20000.00")

    proc = dues("credit", "check", "C001", "--amount", "15000", "--date", "2026-11-20", ok=False)
    assert proc.returncode == 1 and "BLOCKED" in proc.stdout
    assert "credit limit 20,000.00 exceeded" in proc.stdout and "exposure 25,000.00" in proc.stdout

    # OLD-1 is due 30 days after 01-11-2026: on 11-12-2026 it is 10 days overdue
    late = dues("credit", "check", "C001", "--amount", "1", "--date", "2026-12-11", "--overdue-days", "7",
                "--format", "json", ok=False)
    body = json.loads(late.stdout)
    assert late.returncode == 1 and body["allowed"] is False
    assert body["figures"]["oldest_overdue_days"] == 10 and body["figures"]["overdue"] == "10000.00"
    assert "10 days overdue (allowed 7 days)" in body["reasons"][0]

    proc = dues("credit", "check", "NOPE", ok=False)
    assert proc.returncode == 1 and "no customer 'NOPE'" in proc.stderr
