"""Ledger clearance against the real ledger: our side read set-based, balances tie with the ageing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from dues.core.errors import DuesError

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]

D = Decimal
AS_OF = date(2025, 6, 30)

THEIRS = """Date,Particulars,Vch Type,Vch No.,Debit,Credit
01-04-2025,Opening Balance,,,,"20,000.00"
05-04-2025,Purchase SGT/101/25-26,Purchase,SGT/101/25-26,,"59,000.00"
12-04-2025,Purchase bill 102,Purchase,PB-88,,"11,000.00"
02-05-2025,HDFC NEFT N250000101,Payment,P-17,"57,820.00",
02-05-2025,TDS 194Q on SGT/101,Journal,J-4,"1,180.00",
20-05-2025,Debit note: short supply on 102,Debit Note,DN-3,"1,500.00",
02-07-2025,Purchase SGT/104/25-26,Purchase,SGT/104/25-26,,"4,000.00"
"""


@pytest.fixture
def books(company, make_customer, post):
    from dues.ledger.models import Document
    from dues.ledger.services import document_cancel

    c = make_customer("C001", name="Shree Ganesh Traders")
    other = make_customer("C002")
    post("opening", "OB-C001", c, "2025-03-31", "20000.00")
    post("invoice", "SGT/101/25-26", c, "2025-04-03", "59000.00")
    post("invoice", "SGT/102/25-26", c, "2025-04-10", "12000.00")  # they booked 11,000
    post("invoice", "SGT/103/25-26", c, "2025-05-15", "8000.00")  # not in their books
    post("invoice", "SGT/104/25-26", c, "2025-06-29", "4000.00")  # they book it on 2 July
    post("invoice", "SGT/105/25-26", c, "2025-05-01", "3000.00")  # cancelled by the cut-off: out
    document_cancel(document=Document.objects.get(number="SGT/105/25-26"), on=date(2025, 5, 5), reason="wrong party",
                    actor="test")
    post("receipt", "RCPT-1", c, "2025-05-02", "57820.00", mode="neft", reference="N250000101", tds=D("1180.00"),
         allocations=[("SGT/101/25-26", D("59000.00"))])
    post("invoice", "SGT/900/25-26", other, "2025-04-03", "777.00")  # another customer's: never read
    return c


def run(company, tmp_path, text=THEIRS, **kw):
    from dues.reconciliation.selectors import reconcile_customer

    f = tmp_path / "theirs.csv"
    f.write_text(text, encoding="utf-8")
    return reconcile_customer(company=company, code="C001", their_file=f, as_of=AS_OF, **kw)


def test_reconcile_customer_explains_every_rupee(company, books, tmp_path):
    from dues.reporting.selectors import ageing

    rec = run(company, tmp_path)
    data = rec.as_json()
    assert data["customer"] == "C001" and data["as_of"] == "2025-06-30"
    assert data["our_balance"] == str(ageing(company=company, as_of=AS_OF, customer=books).totals.total.quantize(D("0.01")))
    assert data["our_balance"] == "44000.00"  # 20,000 + 59,000 + 12,000 + 8,000 + 4,000 - 57,820 - 1,180
    assert data["their_balance"] == "29500.00"  # 20,000 + 59,000 + 11,000 - 57,820 - 1,180 - 1,500
    assert data["unexplained"] == "0.00"
    assert {(m["ours"], m["theirs"], m["amount"]) for m in data["matched"]} == {
        ("opening balance", "row 1", "20000.00"), ("SGT/101/25-26", "row 2", "59000.00"),
        ("RCPT-1", "row 4", "-57820.00"), ("RCPT-1 TDS", "row 5", "-1180.00")}
    diffs = {(d["kind"], d["ours"], d["theirs"], d["amount"]) for d in data["differences"]}
    assert diffs == {
        ("amount_mismatch", "SGT/102/25-26", "row 3", "-1000.00"),
        ("missing_in_theirs", "SGT/103/25-26", None, "-8000.00"),
        ("timing", "SGT/104/25-26", "row 7", "-4000.00"),
        ("missing_in_ours", None, "row 6", "-1500.00"),
    }
    assert sum(D(d["amount"]) for d in data["differences"]) + D(data["our_balance"]) == D(data["their_balance"])
    assert all(d["explanation"] for d in data["differences"])


def test_cancelled_after_the_cut_off_is_still_in(company, books, tmp_path):
    from dues.ledger.models import Document
    from dues.ledger.services import document_cancel

    document_cancel(document=Document.objects.get(number="SGT/103/25-26"), on=date(2025, 7, 10), reason="returned",
                    actor="test")
    data = run(company, tmp_path).as_json()
    assert data["our_balance"] == "44000.00"  # as the books stood on 30 June
    assert ("missing_in_theirs", "SGT/103/25-26") in {(d["kind"], d["ours"]) for d in data["differences"]}


def test_another_customers_ledger_is_rejected(company, books, make_customer, tmp_path):
    text = "Date,Particulars,Debit,Credit\n" + "".join(
        f"0{i}-04-2025,Purchase X-{i}99,,{i}11.00\n" for i in range(1, 7))
    with pytest.raises(DuesError, match="another customer's ledger"):
        run(company, tmp_path, text)


def test_unknown_customer(company, tmp_path):
    with pytest.raises(DuesError, match="no customer 'C001'"):
        run(company, tmp_path)


def test_xlsx_and_pdf_statements(company, books, tmp_path):
    from openpyxl import load_workbook

    from dues.reconciliation import exports

    rec = run(company, tmp_path)
    exports.write_xlsx(rec, tmp_path / "r.xlsx")
    wb = load_workbook(tmp_path / "r.xlsx")
    assert wb.sheetnames == ["Statement", "Differences", "Matched"]
    statement = {r[0]: r[1] for r in wb["Statement"].iter_rows(min_row=5, values_only=True) if r[0]}
    assert statement["Balance in our books"] == 44000 and statement["Balance in their books"] == 29500
    assert statement["amount mismatch"] == -1000
    assert wb["Differences"].max_row == 5
    exports.write_pdf(rec, tmp_path / "r.pdf")
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")


def test_xlsx_file_busy_layout_and_timing_both_ways(company, books, post, tmp_path):
    from openpyxl import Workbook

    from dues.reconciliation.selectors import reconcile_customer

    # they paid on 29 June; the money reached our books on 2 July
    post("receipt", "RCPT-2", books, "2025-07-02", "8000.00", mode="neft", reference="N250000202")
    wb = Workbook()
    ws = wb.active
    ws.append(["Date", "Vch/Bill No", "Account", "Type", "Debit(Rs.)", "Credit(Rs.)"])
    ws.append([date(2025, 4, 1), "", "Opening Balance", "", None, 20000])
    ws.append([date(2025, 4, 5), "SGT/101/25-26", "Purchase", "Purchase", None, 59000])
    ws.append([date(2025, 4, 12), "SGT/102/25-26", "Purchase", "Purchase", None, 12000])
    ws.append([date(2025, 5, 2), "N250000101", "HDFC Bank", "Payment", 57820, None])
    ws.append([date(2025, 5, 2), "J-4", "TDS 194Q", "Journal", 1180, None])
    ws.append([date(2025, 5, 16), "SGT/103/25-26", "Purchase", "Purchase", None, 8000])
    ws.append([date(2025, 6, 29), "N250000202", "HDFC Bank", "Payment", 8000, None])
    f = tmp_path / "busy.xlsx"
    wb.save(f)
    rec = reconcile_customer(company=company, code="C001", their_file=f, as_of=AS_OF, preset="busy")
    data = rec.as_json()
    assert data["our_balance"] == "44000.00" and data["their_balance"] == "32000.00"
    assert {(d["kind"], d["ours"], d["theirs"], d["amount"]) for d in data["differences"]} == {
        ("missing_in_theirs", "SGT/104/25-26", None, "-4000.00"),  # not in their file at all
        ("timing", "RCPT-2", "row 7", "-8000.00"),  # their payment of 29 June, our receipt of 2 July
    }
    assert "after the cut-off" in next(d for d in data["differences"] if d["kind"] == "timing")["explanation"]
    assert data["unexplained"] == "0.00"


# a Tally "Ledger Vouchers" export: their own voucher numbers in Vch No., our bill in the particulars
TWICE_AND_NOTES = """Date,Particulars,Vch Type,Vch No.,Debit,Credit
01-04-2025,Opening Balance,,,,"20,000.00"
11-05-2025,Purchase - INV-0011,Purchase,PB-101,,"1,180.00"
12-05-2025,Purchase - INV-0012,Purchase,PB-102,,"11,800.00"
14-05-2025,Purchase - INV-0011,Purchase,PB-107,,"1,180.00"
22-05-2025,Rate difference on INV-0012,Debit Note,DN/23,"1,180.00",
"""


def test_a_bill_booked_twice_and_our_credit_note_against_their_debit_note(company, make_customer, post, tmp_path):
    from openpyxl import load_workbook

    from dues.reconciliation import exports
    from dues.reconciliation.selectors import reconcile_customer

    c = make_customer("C001", name="Shree Ganesh Traders")
    post("opening", "OB-C001", c, "2025-03-31", "20000.00")
    post("invoice", "INV-0011", c, "2025-05-10", "1180.00")
    post("invoice", "INV-0012", c, "2025-05-10", "11800.00")
    post("credit_note", "CN-0042", c, "2025-05-20", "1180.00", allocations=[("INV-0012", D("1180.00"))])
    f = tmp_path / "theirs.csv"
    f.write_text(TWICE_AND_NOTES, encoding="utf-8")
    rec = reconcile_customer(company=company, code="C001", their_file=f, as_of=AS_OF, preset="tally")
    data = rec.as_json()
    assert data["our_balance"] == "31800.00" and data["their_balance"] == "32980.00" and data["unexplained"] == "0.00"
    assert [(d["kind"], d["ours"], d["theirs"], d["amount"]) for d in data["differences"]] == [
        ("duplicate", None, "row 4", "1180.00")]
    assert "INV-0011" in data["differences"][0]["explanation"] and "row 2" in data["differences"][0]["explanation"]
    pair = next(m for m in data["matched"] if m["ours"] == "CN-0042")
    assert pair["theirs"] == "row 5" and pair["how"] == "note" and pair["amount"] == "-1180.00"
    assert "same bill INV-0012" in pair["note"] and "2 days apart" in pair["note"] and "DN/23" in pair["note"]
    assert next(m for m in data["matched"] if m["ours"] == "INV-0011")["theirs"] == "row 2"

    exports.write_xlsx(rec, tmp_path / "r.xlsx")
    wb = load_workbook(tmp_path / "r.xlsx")
    statement = {r[0]: r[1] for r in wb["Statement"].iter_rows(min_row=5, values_only=True) if r[0]}
    assert statement["duplicate"] == 1180
    assert [r[0] for r in wb["Differences"].iter_rows(min_row=2, values_only=True)] == ["duplicate"]
    why = {r[0]: r[4] for r in wb["Matched"].iter_rows(min_row=2, values_only=True)}
    assert "same bill INV-0012" in why["CN-0042"]
    exports.write_pdf(rec, tmp_path / "r.pdf")
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")
