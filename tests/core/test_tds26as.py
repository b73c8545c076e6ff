"""TDS vs Form 26AS, pure: quarters, the reconciliation per TAN and quarter, and reading the 26AS files."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from dues.core import tds26as as t
from dues.core.errors import DuesError, ValidationFailed
from dues.core.taxids import TaxIdError, validate_tan
from dues.integrations.form26as import read_form26as

D = Decimal
FY = t.fiscal_year_of("2025-26")

# Our own invented 26AS (never a real person's): a header block, Part A with two deductors, parts after A.
TEXT = """File Creation Date^Permanent Account Number (PAN)^Current Status of PAN^Financial Year^Assessment Year^Name of Assessee
28-11-2026^AAACT1234E^Active^2025-26^2026-27^TEST TRADERS PRIVATE LIMITED

PART A - Details of Tax Deducted at Source
Sr. No.^Name of Deductor^TAN of Deductor^^^^^Total Amount Paid / Credited(Rs.)^Total Tax Deducted(Rs.)^Total TDS Deposited(Rs.)
1^SHREE GANESH TRADERS^PNES12345A^^^^^1250000.00^1250.00^1250.00
^Sr. No.^Section^Transaction Date^Status of Booking^Date of Booking^Remarks^Amount Paid / Credited(Rs.)^Tax Deducted(Rs.)^TDS Deposited(Rs.)
^1^194Q^10-May-2025^F^31-Jul-2025^-^1000000.00^1000.00^1000.00
^2^194Q^12-Jun-2025^F^31-Jul-2025^-^250000.00^250.00^250.00
2^KAVERI DISTRIBUTORS^BLRK54321C^^^^^500000.00^10000.00^10000.00
^Sr. No.^Section^Transaction Date^Status of Booking^Date of Booking^Remarks^Amount Paid / Credited(Rs.)^Tax Deducted(Rs.)^TDS Deposited(Rs.)
^1^194C^15-Oct-2025^U^-^-^500000.00^10000.00^10000.00

PART A1 - Details of Tax Deducted at Source for 15G / 15H
Sr. No.^Name of Deductor^TAN of Deductor^^^^^Total Amount Paid / Credited(Rs.)^Total Tax Deducted(Rs.)^Total TDS Deposited(Rs.)
1^SOMEONE ELSE^MUMS99999Z^^^^^100.00^0.00^0.00
^1^194A^01-Apr-2025^F^31-Jul-2025^-^100.00^0.00^0.00
PART B - Details of Tax Collected at Source
No Transactions Present
"""


def line(tan, on, tds, row, status="F", section="194Q", deductor="X"):
    return t.Line(tan, deductor, section, date.fromisoformat(on), status, D(tds) * 1000, D(tds), row)


def ours(code, tan, quarter, tds, receipts=1, name=None):
    return t.OurQuarter(code, name or f"Customer {code}", tan, quarter, D(tds), receipts)


def test_fiscal_quarters():
    assert [t.fy_quarter(date(2025, m, 15)) for m in (4, 6, 7, 9, 10, 12)] == [1, 1, 2, 2, 3, 3]
    assert [t.fy_quarter(date(2026, m, 1)) for m in (1, 3)] == [4, 4]
    assert [t.calendar_to_fy_quarter(q) for q in (1, 2, 3, 4)] == [4, 1, 2, 3]
    assert (FY.start, FY.end, FY.label) == (date(2025, 4, 1), date(2026, 3, 31), "2025-26")
    for bad in ("2025", "2025-27", "25-26"):
        with pytest.raises(ValueError, match="not a fiscal year"):
            t.fiscal_year_of(bad)


def test_tan_format():
    assert validate_tan(" pnes 12345a ") == "PNES12345A"
    with pytest.raises(TaxIdError, match="wrong length"):
        validate_tan("PNES1234A")
    with pytest.raises(TaxIdError, match="four letters, five digits and a letter"):
        validate_tan("PNE123456A")


def test_each_quarter_is_classified_and_the_figures_tie():
    tans = {"PNES12345A": [("C001", "Shree Ganesh")], "BLRK54321C": [("C002", "Kaveri")]}
    mine = [ours("C001", "PNES12345A", 1, "1249.60", receipts=2),  # two receipts vs two lines, rounding 0.40
            ours("C001", "PNES12345A", 2, "800.00"),  # not in 26AS at all
            ours("C002", "BLRK54321C", 3, "6000.00"),  # 26AS shows 10,000: book 4,000
            ours("C003", "", 1, "50.00")]  # no TAN on the customer
    lines = [line("PNES12345A", "2025-05-10", "1000.00", 8), line("PNES12345A", "2025-06-12", "250.00", 9),
             line("BLRK54321C", "2025-10-15", "10000.00", 12, status="U", section="194C"),
             line("DELX11111B", "2025-08-01", "300.00", 15, deductor="NEW BUYER LLP"),
             line("PNES12345A", "2026-04-02", "99.00", 16)]  # the next year
    rec = t.reconcile_tds(mine, lines, tans, FY)
    got = {(r.customers[0], r.quarter): (r.status, r.ours, r.theirs) for r in rec.rows}
    assert got == {
        ("C001", 1): (t.MATCHED, D("1249.60"), D("1250.00")),
        ("C001", 2): (t.DEDUCTED_NOT_IN_26AS, D("800.00"), D("0")),
        ("C002", 3): (t.NOT_RECORDED, D("6000.00"), D("10000.00")),
        ("C003", 1): (t.DEDUCTED_NOT_IN_26AS, D("50.00"), D("0")),
    }
    c2 = next(r for r in rec.rows if r.customers == ["C002"])
    assert c2.not_final == D("10000.00") and "not final in 26AS" in c2.explanation and c2.sections == ["194C"]
    assert "no TAN" in next(r for r in rec.rows if r.customers == ["C003"]).explanation
    assert [(u.tan, u.quarter, u.tds, u.rows) for u in rec.unknown_tans] == [("DELX11111B", 2, D("300.00"), [15])]
    assert [ln.row for ln in rec.outside_year] == [16]
    tot = rec.totals()
    assert tot == {"ours": D("8099.60"), "matched": D("1249.60"), "deducted_not_in_26as": D("850.00"),
                   "in_26as_not_recorded": D("4000.00"), "rounding": D("0.40"), "theirs": D("11250.00"),
                   "unknown_tan": D("300.00"), "26as": D("11550.00")}
    assert rec.ties()
    per = {c["customer"]: c for c in rec.by_customer()}
    assert (per["C001"]["matched"], per["C001"]["deducted_not_in_26as"]) == (D("1249.60"), D("800.00"))
    assert [(r.customers[0], r.quarter) for r in rec.to_follow_up()] == [("C001", 2), ("C003", 1)]


def test_tolerance_is_a_rupee_per_deduction_not_more():
    tans = {"PNES12345A": [("C001", "A")]}
    one = t.reconcile_tds([ours("C001", "PNES12345A", 1, "101.01")], [line("PNES12345A", "2025-04-20", "100", 1)],
                          tans, FY)
    assert one.rows[0].status == t.DEDUCTED_NOT_IN_26AS and one.rows[0].difference == D("-1.01")
    three = t.reconcile_tds([ours("C001", "PNES12345A", 1, "302.50", receipts=3)],
                            [line("PNES12345A", "2025-04-20", "300", 1)], tans, FY)
    assert three.rows[0].status == t.MATCHED  # three receipts each rounded to the rupee


def test_quarter_timing_is_pointed_out_and_receipts_are_named():
    tans = {"PNES12345A": [("C001", "A")]}
    rec = t.reconcile_tds([ours("C001", "PNES12345A", 1, "500.00", receipts=2)],
                          [line("PNES12345A", "2025-07-02", "500.00", 3)], tans, FY)
    q1, q2 = rec.rows
    assert (q1.status, q2.status) == (t.DEDUCTED_NOT_IN_26AS, t.NOT_RECORDED)
    assert "quarter timing" in q1.explanation and "quarter timing" in q2.explanation
    row = t.Row("PNES12345A", 1, ["C001"], "A", lines=[line("PNES12345A", "2025-05-01", "200.00", 4)])
    receipts = [("RCT-1", date(2025, 4, 10), D("300.00")), ("RCT-2", date(2025, 5, 2), D("200.00"))]
    assert t.pair_receipts(row, receipts) == ["RCT-1"]


def test_two_customers_sharing_a_tan_are_one_row():
    tans = {"PNES12345A": [("C001", "Ganesh Pune"), ("C009", "Ganesh Nashik")]}
    rec = t.reconcile_tds([ours("C001", "PNES12345A", 1, "100"), ours("C009", "PNES12345A", 1, "150")],
                          [line("PNES12345A", "2025-05-01", "250", 1)], tans, FY)
    assert [(r.customers, r.status, r.ours) for r in rec.rows] == [(["C001", "C009"], t.MATCHED, D("250"))]


def test_reading_the_text_export(tmp_path):
    f = tmp_path / "AAACT1234E-2026.txt"
    f.write_text(TEXT, encoding="utf-8")
    form = read_form26as(f)
    assert (form.fy, form.pan) == ("2025-26", "AAACT1234E")
    assert form.deductors == {"PNES12345A": "SHREE GANESH TRADERS", "BLRK54321C": "KAVERI DISTRIBUTORS"}
    got = [(c.tan, c.section, c.date, c.status, c.amount, c.tds, c.deposited, c.row, c.booked_on) for c in form.credits]
    assert got == [
        ("PNES12345A", "194Q", date(2025, 5, 10), "F", D("1000000.00"), D("1000.00"), D("1000.00"), 8, date(2025, 7, 31)),
        ("PNES12345A", "194Q", date(2025, 6, 12), "F", D("250000.00"), D("250.00"), D("250.00"), 9, date(2025, 7, 31)),
        ("BLRK54321C", "194C", date(2025, 10, 15), "U", D("500000.00"), D("10000.00"), D("10000.00"), 12, None),
    ]  # Part A1 (15G/15H) and Part B are not read


def test_bad_text_files_are_refused_naming_file_row_and_field(tmp_path):
    f = tmp_path / "bad.txt"
    f.write_text(TEXT.replace("^10-May-2025^F^", "^31-Apr-2025^X^").replace("BLRK54321C", "BLRK5432C"),
                 encoding="utf-8")
    with pytest.raises(ValidationFailed) as exc:
        read_form26as(f)
    messages = [str(p) for p in exc.value.problems]
    assert any(m.startswith("bad.txt:8: transaction_date: not a date: '31-Apr-2025'") for m in messages), messages
    assert any(m.startswith("bad.txt:8: booking_status: 'X' is not a booking status") for m in messages), messages
    assert any(m.startswith("bad.txt:10: tan: TAN BLRK5432C has the wrong length") for m in messages), messages
    # a deductor whose lines do not add up to its totals (a cut or edited file)
    f.write_text(TEXT.replace("^250000.00^250.00^250.00", "^250000.00^25.00^250.00"), encoding="utf-8")
    with pytest.raises(ValidationFailed, match=r"bad.txt:6: total_tds: the deductor's total 1250.00 differs from the "
                                               r"sum of its 2 transaction line\(s\), 1025.00"):
        read_form26as(f)
    f.write_text("Date,Amount\n01-04-2025,100\n", encoding="utf-8")
    with pytest.raises(DuesError, match="not a Form 26AS text export"):
        read_form26as(f)
    f.write_text(TEXT.split("PART A -")[0], encoding="utf-8")
    with pytest.raises(DuesError, match="no 'PART A' section"):
        read_form26as(f)


def test_reading_the_csv_layout(tmp_path):
    f = tmp_path / "26as.csv"
    f.write_text("deductor_name,tan,section,transaction_date,amount,tds,deposited,booking_status\n"
                 'Shree Ganesh Traders,pnes12345a,194Q,10-05-2025,"10,00,000.00",1000.00,1000.00,F\n'
                 "Kaveri Distributors,BLRK54321C,194C,2025-10-15,500000,10000,10000,U\n", encoding="utf-8")
    form = read_form26as(f)
    assert [(c.tan, c.date, c.amount, c.tds, c.status, c.row) for c in form.credits] == [
        ("PNES12345A", date(2025, 5, 10), D("1000000.00"), D("1000.00"), "F", 2),
        ("BLRK54321C", date(2025, 10, 15), D("500000"), D("10000"), "U", 3)]
    f.write_text("deductor_name,tan,section,date,amount,tds\nA,PNES12345A,194Q,2025-05-10,100,1\n", encoding="utf-8")
    with pytest.raises(ValidationFailed, match="26as.csv:1: header: missing column"):
        read_form26as(f)
    f.write_text("deductor_name,tan,section,transaction_date,amount,tds,deposited,booking_status\n"
                 "A,PNES12345A,GST,2025-05-10,100,-1,1,F\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as exc:
        read_form26as(f)
    assert [str(p) for p in exc.value.problems] == ["26as.csv:2: section: not a TDS section: 'GST' (like 194Q or 194C)",
                                                    "26as.csv:2: tds: cannot be negative (-1)"]


def test_reading_the_xlsx_layout(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Deductor Name", "TAN", "Section", "Transaction Date", "Amount", "TDS", "Deposited", "Booking Status"])
    ws.append(["Shree Ganesh Traders", "PNES12345A", "194Q", date(2025, 5, 10), 1000000, 1000.5, 1000.5, "P"])
    f = tmp_path / "26as.xlsx"
    wb.save(f)
    (c,) = read_form26as(f).credits
    assert (c.tan, c.date, c.amount, c.tds, c.status, c.row) == ("PNES12345A", date(2025, 5, 10), D("1000000"),
                                                                D("1000.5"), "P", 2)
