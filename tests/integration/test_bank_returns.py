"""Returned bank credits (cheque bounce): the receipt is cancelled, the invoice is open again, once only."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from dues.audit.models import AuditRecord
from dues.banking.models import BankLine
from dues.banking.returns import bank_line_ignore, bank_returns_apply, returned_pairs
from dues.banking.services import bank_statement_import, cash_apply
from dues.core.errors import DuesError, PermissionDenied
from dues.ledger.models import Allocation, Document, OpenItem
from dues.reporting.selectors import ageing

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]

HEADER = "Date,Narration,Chq./Ref.No.,Value Dt,Withdrawal Amt.,Deposit Amt.,Closing Balance\n"
CREDITS = ("Account No :50100123456789\n\n" + HEADER +
           # a cheque from Shree Ganesh for INV-1 exactly
           '01/06/25,CLG CHQ 004512 SHREE GANESH TRADERS INV-1,004512,01/06/25,,"1,18,000.00","2,18,000.00"\n'
           # an unapplied credit nobody has matched yet
           '02/06/25,NEFT CR-KKBK0000001-SOMEONE ELSE-N900000000002,N900000000002,02/06/25,,"7,777.00",'
           '"2,25,777.00"\n')
BOUNCE = ("Account No :50100123456789\n\n" + HEADER +
          # the bank takes the cheque back, quoting its number
          '05/06/25,CHQ RET 004512 INSUFFICIENT FUNDS,004512,05/06/25,"1,18,000.00",,"1,07,777.00"\n'
          # a reversal of the unapplied NEFT credit
          '06/06/25,REVERSAL N900000000002,N900000000002,06/06/25,"7,777.00",,"1,00,000.00"\n'
          # an ordinary payment out, the same amount as nothing: left alone
          '07/06/25,NEFT DR-SUPPLIER PAYMENT,D100,07/06/25,"5,000.00",,"95,000.00"\n'
          # a return-worded debit of an amount no credit had: left alone
          '08/06/25,RTN CHQ 999999,999999,08/06/25,"1,234.00",,"93,766.00"\n')


@pytest.fixture
def book(company, make_customer, post):
    c1 = make_customer("C001", name="Shree Ganesh Traders")
    post("invoice", "INV-1", c1, "2025-04-01", "118000.00", taxable_value=Decimal("100000.00"))
    bank_statement_import(company=company, path="june.csv", data=CREDITS.encode(), preset="hdfc", actor="test")
    result = cash_apply(company, auto=True, actor="test")
    assert [x.status for x in result.lines if x.reference == "004512"] == ["applied"]
    return c1


def _c001_total(company, on: str) -> Decimal:
    report = ageing(company=company, as_of=date.fromisoformat(on))
    row = next((r for r in report.rows if r.key == "C001"), None)
    return sum(row.buckets.values(), Decimal(0)) if row else Decimal(0)


def test_bounce_cancels_the_receipt_and_reopens_the_invoice(company, book):
    inv = OpenItem.objects.get(document__number="INV-1", side="D")
    assert inv.residual == 0 and _c001_total(company, "2025-06-04") == 0
    bank_statement_import(company=company, path="bounce.csv", data=BOUNCE.encode(), preset="hdfc", actor="test")

    pairs = bank_returns_apply(company, actor="test")
    assert sorted((p.credit.reference, p.debit.reference, p.receipt) for p in pairs) == [
        ("004512", "004512", "BNK-" + str(BankLine.objects.get(reference="004512", direction="C").pk)),
        ("N900000000002", "N900000000002", None)]
    assert all(not p.error for p in pairs)

    credit = BankLine.objects.get(reference="004512", direction="C")
    debit = BankLine.objects.get(reference="004512", direction="D")
    assert (credit.status, debit.status) == ("returned", "reversal")
    receipt = credit.receipt
    assert receipt.status == Document.CANCELLED and receipt.cancelled_on == date(2025, 6, 5)
    assert "returned by bank" in receipt.cancel_reason
    inv.refresh_from_db()
    assert inv.residual == Decimal("118000.00")  # open again
    # ageing: cleared while the cheque stood, owed again from the day the bank returned it
    assert _c001_total(company, "2025-06-04") == 0
    assert _c001_total(company, "2025-06-05") == Decimal("118000.00")
    # the allocation was undone by a reversing allocation, not deleted
    assert Allocation.objects.filter(debit_item=inv).count() == 2

    neft = BankLine.objects.get(reference="N900000000002", direction="C")
    assert (neft.status, neft.receipt_id) == ("returned", None)
    assert BankLine.objects.get(reference="N900000000002", direction="D").status == "reversal"
    # the debits that match nothing are left as they were
    assert set(BankLine.objects.filter(reference__in=["D100", "999999"]).values_list("status", flat=True)) == {
        "unapplied"}
    assert AuditRecord.objects.filter(object_type="bank_line", action="bank_return").count() == 4


def test_rerunning_does_nothing_twice(company, book):
    bank_statement_import(company=company, path="bounce.csv", data=BOUNCE.encode(), preset="hdfc", actor="test")
    assert len(bank_returns_apply(company, actor="test")) == 2
    receipts_cancelled = Document.objects.filter(status=Document.CANCELLED).count()
    assert bank_returns_apply(company, actor="test") == []
    assert returned_pairs(company) == []
    assert Document.objects.filter(status=Document.CANCELLED).count() == receipts_cancelled == 1
    # and matching no longer proposes the returned credits
    refs = {x.reference for x in cash_apply(company, auto=False, actor="test").lines}
    assert not refs & {"004512", "N900000000002"}
    # re-importing the same bounce statement adds nothing and finds nothing to undo
    bank_statement_import(company=company, path="bounce.csv", data=BOUNCE.encode(), preset="hdfc", actor="test")
    assert bank_returns_apply(company, actor="test") == []


def test_a_debit_matching_nothing_is_left_alone(company, book):
    lonely = ("Account No :50100123456789\n\n" + HEADER +
              '09/06/25,CHQ RET 777777,777777,09/06/25,"50,000.00",,"1,68,000.00"\n')
    bank_statement_import(company=company, path="l.csv", data=lonely.encode(), preset="hdfc", actor="test")
    assert bank_returns_apply(company, actor="test") == []
    assert BankLine.objects.get(reference="777777").status == "unapplied"
    assert Document.objects.get(kind="receipt").status == Document.POSTED


def test_dry_run_writes_nothing_and_a_desk_user_without_rights_is_refused(company, book, django_user_model):
    from dues.users.models import UserRole

    bank_statement_import(company=company, path="bounce.csv", data=BOUNCE.encode(), preset="hdfc", actor="test")
    assert len(bank_returns_apply(company, actor="test", dry_run=True)) == 2
    assert not BankLine.objects.filter(status__in=["returned", "reversal"]).exists()
    billing = django_user_model.objects.create_user("bill", password="x")
    UserRole.objects.create(user=billing, role="billing")
    with pytest.raises(PermissionDenied):
        bank_returns_apply(company, actor=billing)
    assert not BankLine.objects.filter(status__in=["returned", "reversal"]).exists()
    assert Document.objects.get(kind="receipt").status == Document.POSTED


def test_ignore_needs_a_reason_and_only_unapplied_credits(company, book):
    line = BankLine.objects.get(reference="N900000000002")
    with pytest.raises(DuesError, match="say why"):
        bank_line_ignore(line, reason="  ", actor="test")
    bank_line_ignore(line, reason="refund from a supplier", actor="test")
    line.refresh_from_db()
    assert (line.status, line.note) == ("ignored", "refund from a supplier")
    applied = BankLine.objects.get(reference="004512")
    with pytest.raises(DuesError, match="only an unapplied credit"):
        bank_line_ignore(applied, reason="x", actor="test")
    assert AuditRecord.objects.filter(object_type="bank_line", action="ignore").count() == 1


def test_cli_cash_apply_undoes_returns_and_counts_them(tmp_path, scratch_db):
    import json
    import subprocess
    import sys

    from tests.conftest import dues_env

    env = dues_env(tmp_path, scratch_db)

    def dues(*args):
        proc = subprocess.run([sys.executable, "-m", "dues.cli.main", *map(str, args)], env=env, capture_output=True,
                              text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr + proc.stdout
        return proc

    (tmp_path / "c.csv").write_text("code,name,state,credit_days\nC001,Shree Ganesh Traders,27,30\n")
    (tmp_path / "i.csv").write_text("number,customer,date,due_date,amount,taxable_value,tax\n"
                                    "INV-1,C001,2025-04-01,,118000,100000,18000\n")
    (tmp_path / "s.csv").write_text(CREDITS)
    (tmp_path / "b.csv").write_text(BOUNCE)
    dues("init", "--company", "Acme Steel", "--state", "27")
    dues("import", "customers", tmp_path / "c.csv")
    dues("import", "invoices", tmp_path / "i.csv")
    dues("import", "bank", tmp_path / "s.csv", "--preset", "hdfc")
    first = json.loads(dues("cash-apply", "--auto", "--format", "json").stdout)
    assert first["summary"]["applied"] == 1 and "returned" not in first["summary"]
    dues("import", "bank", tmp_path / "b.csv", "--preset", "hdfc")
    preview = json.loads(dues("cash-apply", "--format", "json").stdout)
    assert preview["summary"]["returned"] == 2  # counted, nothing written
    data = json.loads(dues("cash-apply", "--auto", "--format", "json").stdout)
    assert data["summary"] == {"lines": 0, "applied": 0, "suggested": 0, "unmatched": 0, "returned": 2}
    again = json.loads(dues("cash-apply", "--auto", "--format", "json").stdout)
    assert "returned" not in again["summary"]
    ageing = dues("ageing", "--as-of", "2025-06-30", "--format", "json").stdout
    assert "118000" in ageing
