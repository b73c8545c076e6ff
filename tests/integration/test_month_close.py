"""Month-end close: the five checks with their figures, the close pack, and the lock only when all pass."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from dues.audit.models import AuditRecord
from dues.banking.models import BankLine
from dues.banking.returns import bank_line_ignore
from dues.companies.models import Company
from dues.core.errors import DuesError, PermissionDenied
from dues.reconciliation.close import close_month, close_month_lock, month_bounds, write_pdf, write_xlsx
from tests.integration.test_bank_reconciliation import OCTOBER, UNKNOWN_UPI, build_month

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]


def test_a_clean_month_passes_every_check_and_locks(company, make_customer, post, tmp_path):
    build_month(company, make_customer, post)
    result = close_month(company=company, month="2026-10")
    assert result.ok and result.failing == []
    ar = result.check("ar_ledger")
    # INV-1 1,00,000 - 60,000 + INV-2 50,000 - 30,000 - RCT-3 25,000 on account = 35,000 in both
    assert ar.figures == {"sub_ledger": "35000.00", "open_debits": "60000.00", "unapplied_credits": "-25000.00",
                          "control_account": "35000.00", "difference": "0.00"}
    cash = result.check("unapplied_cash")
    assert cash.items == [{"customer": "C001", "name": "Shree Ganesh Traders", "amount": "25000.00"}]
    lines = result.check("bank_lines")
    assert (lines.figures["lines"], lines.figures["applied"], lines.figures["unapplied"],
            lines.figures["debits_on_reconciliation"], lines.items) == ("3", "1", "2", "1", [])
    [bank] = result.check("bank_reconciliation").items
    assert (bank["not_cleared"], bank["not_booked"], bank["unexplained"], bank["ties"]) == (
        "25000.00", "-118.00", "0.00", True)
    assert result.check("audit_chain").ok
    before = AuditRecord.objects.count()
    locked, moved = close_month_lock(company=company, result=result, actor="test")
    assert moved and locked.lock_date == date(2026, 10, 31) == Company.objects.get().lock_date
    audit = AuditRecord.objects.order_by("-seq").first()
    assert AuditRecord.objects.count() == before + 1 and audit.action == "lock_period"
    assert json.loads(audit.after_json)["lock_date"] == "2026-10-31"
    assert json.loads(audit.before_json)["lock_date"] is None
    # locking again changes nothing; posting into October is now refused
    assert close_month_lock(company=locked, result=close_month(company=locked, month="2026-10"), actor="test")[1] is False
    with pytest.raises(DuesError, match="lock date"):
        post("invoice", "INV-LATE", make_customer("C009"), "2026-10-31", "10.00")
    write_xlsx(result, tmp_path / "close.xlsx", company_name=company.name)
    write_pdf(result, tmp_path / "close.pdf", company_name=company.name)
    from openpyxl import load_workbook

    wb = load_workbook(tmp_path / "close.xlsx")
    assert wb.sheetnames[:3] == ["Checks", "Unapplied cash", "Bank lines to explain"]
    assert wb["Checks"]["B2"].value == "PASS" and wb["Checks"]["A3"].value.startswith("AR sub-ledger") and wb["Unapplied cash"]["C2"].value == 25000
    assert (tmp_path / "close.pdf").read_bytes().startswith(b"%PDF")


def test_an_unapplied_bank_credit_fails_the_close_and_nothing_is_locked(company, make_customer, post):
    text = OCTOBER.replace('31/10/26,CHARGES FOR NEFT AND SMS INCL GST,,31/10/26,118.00,,"2,89,882.00"\n', UNKNOWN_UPI)
    build_month(company, make_customer, post, text)
    result = close_month(company=company, month="2026-10")
    assert result.failing == ["bank_lines"]
    [line] = result.check("bank_lines").items
    assert (line["amount"], line["why"]) == ("750.00", "credit not applied to a customer nor matched to a receipt")
    # the bank reconciliation itself still ties: the credit is listed as not in the book
    assert result.check("bank_reconciliation").ok
    before = AuditRecord.objects.count()
    with pytest.raises(DuesError, match=r"not locking 2026-10: check\(s\) failed: bank_lines"):
        close_month_lock(company=company, result=result, actor="test")
    assert Company.objects.get().lock_date is None and AuditRecord.objects.count() == before
    # ignoring it with a reason explains it: the month closes
    bank_line_ignore(BankLine.objects.get(amount=Decimal("750.00")), reason="staff refund, not a customer",
                     actor="test")
    again = close_month(company=company, month="2026-10")
    assert again.ok and again.check("bank_lines").figures["ignored"] == "1"
    close_month_lock(company=company, result=again, actor="test")
    assert Company.objects.get().lock_date == date(2026, 10, 31)


def test_only_settings_change_may_lock_and_months_are_checked(company, make_customer, post, django_user_model):
    from dues.users.models import UserRole

    build_month(company, make_customer, post)
    collector = django_user_model.objects.create_user("pooja", password="x")
    UserRole.objects.create(user=collector, role="collector")
    result = close_month(company=company, month="2026-10")
    with pytest.raises(PermissionDenied):
        close_month_lock(company=company, result=result, actor=collector)
    assert Company.objects.get().lock_date is None
    assert month_bounds("2024-02") == (date(2024, 2, 1), date(2024, 2, 29))
    for bad in ("2026-13", "Oct 2026", ""):
        with pytest.raises(DuesError, match="YYYY-MM"):
            month_bounds(bad)


def test_large_balances_compare_exactly(company, make_customer, post):
    """Crores compare exactly. The GL is summed in integers: on the demo company (thousands of lines) SQLite's
    float SUM gave 776516306.239999 for 776516306.24; this small case only guards the figures."""
    customer = make_customer("C001")
    amounts = ["987654321.37", "876543210.29", "765432109.41", "654321098.53", "543210987.67", "432109876.79",
               "321098765.83", "210987654.91", "109876543.11", "98765432.17", "87654321.23", "76543210.39"]
    for i, amount in enumerate(amounts, 1):
        post("invoice", f"INV-{i}", customer, "2026-10-01", amount)
        third = (Decimal(amount) / 3).quantize(Decimal("0.01"))
        post("receipt", f"RCT-{i}", customer, "2026-10-02", third, mode="neft", allocations=[(f"INV-{i}", third)])
    result = close_month(company=company, month="2026-10")
    ar = result.check("ar_ledger")
    assert ar.ok and ar.figures["difference"] == "0.00" and ar.figures["sub_ledger"] == ar.figures["control_account"]
    assert Decimal(ar.figures["open_debits"]) == sum((Decimal(a) for a in amounts), Decimal(0)) - sum(
        ((Decimal(a) / 3).quantize(Decimal("0.01")) for a in amounts), Decimal(0))
