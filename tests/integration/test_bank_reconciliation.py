"""Bank reconciliation: the bank book (receipts on the Bank account) against imported statement lines."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from dues.banking.models import BankAccount, BankLine
from dues.banking.services import bank_statement_import, cash_apply_confirm
from dues.core.errors import DuesError
from dues.reconciliation.bank import bank_reconciliation, write_xlsx

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]

HEADER = "Date,Narration,Chq./Ref.No.,Value Dt,Withdrawal Amt.,Deposit Amt.,Closing Balance\n"
# opening balance 2,00,000.00 (implied by the first line); closing 2,89,882.00
OCTOBER = ("Account No :50100123456789\n\n" + HEADER +
           '03/10/26,NEFT CR-ICIC0000456-SHREE GANESH TRADERS-N123456789012,0000N123456789012,03/10/26,,'
           '"60,000.00","2,60,000.00"\n'
           '10/10/26,NEFT CR-SBIN0000789-PATIL STEEL-N999888777666,0000N999888777666,10/10/26,,'
           '"30,000.00","2,90,000.00"\n'
           '31/10/26,CHARGES FOR NEFT AND SMS INCL GST,,31/10/26,118.00,,"2,89,882.00"\n')
UNKNOWN_UPI = ('29/10/26,UPI/612345678901/Ravi Kumar/ravi.k@okhdfcbank/HDFC Bank,0000612345678901,29/10/26,,'
               '750.00,"2,90,750.00"\n'
               '31/10/26,CHARGES FOR NEFT AND SMS INCL GST,,31/10/26,118.00,,"2,90,632.00"\n')


def import_statement(company, text=OCTOBER, name="oct.csv"):
    return bank_statement_import(company=company, path=name, data=text.encode(), actor="test", preset="hdfc")


def build_month(company, make_customer, post, text=OCTOBER):
    """October 2026: two invoices, a NEFT applied from the bank line, a NEFT receipt keyed in by hand
    (the same UTR as its bank line, not linked), a cheque deposited on the 30th the bank has not cleared,
    and an NEFT/SMS charge the bank debited that nobody booked."""
    ganesh = make_customer("C001", name="Shree Ganesh Traders")
    patil = make_customer("C002", name="Patil Steel")
    post("invoice", "INV-1", ganesh, "2026-10-01", "100000.00")
    post("invoice", "INV-2", patil, "2026-10-05", "50000.00")
    import_statement(company, text)
    neft = BankLine.objects.get(reference__endswith="N123456789012")
    cash_apply_confirm(neft, ganesh, [("INV-1", Decimal("60000.00"))], actor="test")
    post("receipt", "RCT-2", patil, "2026-10-09", "30000.00", mode="neft", reference="N999888777666",
         allocations=[("INV-2", Decimal("30000.00"))])
    post("receipt", "RCT-3", ganesh, "2026-10-30", "25000.00", mode="cheque", reference="456789")
    return BankAccount.objects.get(company=company)


def test_the_statement_ties_with_the_uncleared_cheque_and_the_unbooked_charge(company, make_customer, post):
    account = build_month(company, make_customer, post)
    rec = bank_reconciliation(company=company, account=account.code, as_of=date(2026, 10, 31))
    assert rec.book_balance == Decimal("115000.00")
    assert (rec.brought_forward, rec.bank_balance, rec.computed_bank_balance) == (
        Decimal("200000.00"), Decimal("289882.00"), Decimal("289882.00"))
    neft = BankLine.objects.get(reference__endswith="N123456789012")
    assert [(m.book.number, m.bank.line_id, m.how) for m in rec.matched] == [
        (f"BNK-{neft.pk}", neft.pk, "link"), ("RCT-2", neft.pk + 1, "reference")]
    [uncleared] = rec.book_only
    assert (uncleared.number, uncleared.amount, uncleared.reference) == ("RCT-3", Decimal("25000.00"), "456789")
    [charge] = rec.bank_only
    assert (charge.kind, charge.amount) == ("bank_charges", Decimal("-118.00"))
    # 1,15,000 + 2,00,000 brought forward - 25,000 not cleared - 118 charges = 2,89,882 as per bank
    assert rec.adjusted_book_balance == Decimal("289882.00") and rec.unexplained == 0 and rec.ties
    data = rec.as_json()
    assert (data["ties"], data["unexplained"], data["bank_balance_source"]) == (True, "0.00", "statement")
    assert [x["document"] for x in data["in_book_not_in_bank"]] == ["RCT-3"]
    assert [(x["kind"], x["amount"]) for x in data["in_bank_not_in_book"]] == [("bank_charges", "-118.00")]
    assert data["statement"][-1] == {"label": "Balance as per bank", "amount": "289882.00"}


def test_before_the_cheque_and_the_charge_and_a_missing_statement(company, make_customer, post, tmp_path):
    account = build_month(company, make_customer, post)
    rec = bank_reconciliation(company=company, account=account, as_of=date(2026, 10, 15))
    # on the 15th: both NEFTs in book and bank, nothing outstanding; bank balance 2,90,000
    assert (rec.book_balance, rec.bank_balance, rec.book_only, rec.bank_only, rec.ties) == (
        Decimal("90000.00"), Decimal("290000.00"), [], [], True)
    # a later statement whose opening does not follow the last one: the stated balance shows the gap
    later = ("Account No :50100123456789\n\n" + HEADER +
             '05/11/26,CASH DEPOSIT,,05/11/26,,"1,000.00","2,95,882.00"\n')
    import_statement(company, later, "nov.csv")
    nov = bank_reconciliation(company=company, account=account, as_of=date(2026, 11, 30))
    assert nov.computed_bank_balance == Decimal("290882.00") and nov.bank_balance == Decimal("295882.00")
    assert nov.unexplained == Decimal("5000.00") and not nov.ties and "missing" in nov.warnings[0]
    write_xlsx(rec, tmp_path / "rec.xlsx")
    from openpyxl import load_workbook

    wb = load_workbook(tmp_path / "rec.xlsx")
    assert wb.sheetnames == ["Statement", "Matched", "Not cleared", "Not in book"]
    last = wb["Statement"].max_row
    assert (wb["Statement"].cell(row=last, column=1).value, wb["Statement"].cell(row=last, column=2).value) == (
        "Balance as per bank", 290000)


def test_a_cancelled_receipt_cancels_out_and_unknown_accounts_are_named(company, make_customer, post):
    from dues.ledger.services import document_cancel

    account = build_month(company, make_customer, post)
    wrong = post("receipt", "RCT-9", make_customer("C003"), "2026-10-20", "7000.00", mode="neft", reference="X1")
    document_cancel(document=wrong, on=date(2026, 10, 21), reason="keyed twice", actor="test")
    rec = bank_reconciliation(company=company, account=account, as_of=date(2026, 10, 31))
    assert [(a.number, b.amount) for a, b in rec.cancelled_in_book] == [("RCT-9", Decimal("-7000.00"))]
    assert [b.number for b in rec.book_only] == ["RCT-3"] and rec.ties
    with pytest.raises(DuesError, match="no bank account 'NOPE'"):
        bank_reconciliation(company=company, account="NOPE", as_of=date(2026, 10, 31))


def test_a_receipt_the_bank_never_booked_is_unexplained_not_uncleared(company, make_customer, post):
    """Failed before: every book item missing from the bank was "not cleared", so the statement always tied."""
    from dues.reconciliation.close import close_month

    account = build_month(company, make_customer, post)
    # booked before the first statement (3 October): in its opening balance, explains itself
    post("receipt", "RCT-0", make_customer("C004"), "2026-09-28", "4000.00", mode="neft", reference="N4000")
    rec = bank_reconciliation(company=company, account=account, as_of=date(2026, 10, 31))
    assert [(b.number, b.status) for b in rec.book_only] == [("RCT-0", "before_statements"), ("RCT-3", "in_transit")]
    assert rec.ties and "before the first statement" in rec.warnings[0]
    assert rec.before_statements == Decimal("4000.00") and rec.not_cleared == Decimal("25000.00")

    # keyed in on the 12th, never reached the bank although the statement runs to the 31st
    post("receipt", "RCT-5", make_customer("C005"), "2026-10-12", "5000.00", mode="neft", reference="N5000")
    rec = bank_reconciliation(company=company, account=account, as_of=date(2026, 10, 31))
    assert [(b.number, b.status) for b in rec.book_only] == [
        ("RCT-0", "before_statements"), ("RCT-5", "not_in_bank"), ("RCT-3", "in_transit")]
    assert (rec.not_cleared, rec.not_found, rec.unexplained, rec.ties) == (
        Decimal("25000.00"), Decimal("5000.00"), Decimal("-5000.00"), False)
    lines = dict(rec.statement_lines())
    assert lines["Less: deposited, not yet cleared by the bank"] == Decimal("-25000.00")
    assert lines["Unexplained: in the book, never booked by the bank"] == Decimal("-5000.00")
    data = rec.as_json()
    assert (data["not_in_bank"], data["not_cleared"], data["ties"]) == ("5000.00", "25000.00", False)
    check = close_month(company=company, month="2026-10").check("bank_reconciliation")
    assert not check.ok and "RCT-5" in check.message and check.items[0]["not_in_bank"] == ["12-10-2026 RCT-5 5000.00"]
    assert check.items[0]["uncleared"] == ["30-10-2026 RCT-3 25000.00"]
