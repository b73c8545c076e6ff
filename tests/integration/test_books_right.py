"""The books stay right (issue 10 §4): overdue interest is interest income (with GST when the company
says so), and the chart of accounts is completed on upgrade."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

pytestmark = pytest.mark.django_db

ON = date(2026, 3, 2)
CENT = Decimal("0.01")


def gl(company, code: str) -> tuple[Decimal, Decimal]:
    """(Σ debit, Σ credit) posted to the account ``code``."""
    from dues.ledger.models import JournalLine

    rows = JournalLine.objects.filter(entry__company=company, account__code=code).values_list("debit", "credit")
    return (sum((Decimal(d) for d, _ in rows), Decimal(0)).quantize(CENT),
            sum((Decimal(c) for _, c in rows), Decimal(0)).quantize(CENT))


@pytest.fixture
def late(company, make_customer, post):
    """Two customers 30 days late: C001 in our state (CGST+SGST), C002 in Karnataka (IGST)."""
    from dues.collections.services.interest import customer_interest_update
    from dues.ledger.services import LineDraft

    local = make_customer("C001", name="Acme Fasteners Pvt Ltd")
    away = make_customer("C002", name="Kaveri Engineering Pvt Ltd", state="29")
    # known by its totals only (an import): 1,00,000 + 18 % GST
    post("invoice", "INV-1", local, "2026-01-01", "118000", due_date=date(2026, 1, 31), taxable_value=Decimal("100000"),
         tax=Decimal("18000"))
    # itemised, two rates: 60,000 at 18 %, 40,000 at 5 % (IGST 10,800 + 2,000)
    post("invoice", "INV-2", away, "2026-01-01", "0", due_date=date(2026, 1, 31),
         lines=[LineDraft("Ball valves", Decimal("600"), Decimal("100"), Decimal("18")),
                LineDraft("Leather gloves", Decimal("400"), Decimal("100"), Decimal("5"))])
    # an opening balance: no tax detail to go by
    post("opening", "OB-1", local, "2025-12-31", "10000", due_date=date(2026, 1, 31))
    for c in (local, away):
        customer_interest_update(customer=c, actor="test", mode="simple", rate="18")
    return local, away


def test_interest_is_interest_income_not_sales(company, late):
    """Failed before: the debit note credited 4100 Sales."""
    from dues.collections.services.interest import interest_post

    local, _ = late
    sales_before = gl(company, "4100")
    document, computed = interest_post(company=company, customer=local, on=ON, actor="test")
    assert computed.total > 0 and document.amount == computed.total
    assert (document.cgst, document.sgst, document.igst) == (0, 0, 0)  # GST on interest is off by default
    assert gl(company, "4100") == sales_before
    assert gl(company, "4200") == (Decimal("0.00"), computed.total)
    from dues.companies.models import Account

    assert Account.objects.get(company=company, code="4200").name == "Interest on overdue receivables"


def test_interest_gst_at_the_rate_of_the_original_supply(company, late):
    """Failed before: there was no ``interest_gst`` setting and no GST on interest."""
    from dues.collections.services.interest import interest_post
    from dues.companies.services import company_update
    from dues.core.errors import DuesError

    local, away = late
    with pytest.raises(DuesError, match="on' or 'off"):
        company_update(company=company, actor="test", interest_gst="maybe")
    company = company_update(company=company, actor="test", interest_gst="on")
    assert company.audit_state()["interest_gst"] == "on"

    # intra-state: CGST + SGST, 9 % each, on INV-1's interest; none on the opening balance's
    doc, computed = interest_post(company=company, customer=local, on=ON, actor="test")
    by = {i.number: i.interest for i in computed.items}
    assert set(by) == {"INV-1", "OB-1"}
    half = (by["INV-1"] * 9 / 100).quantize(CENT)
    assert (doc.cgst, doc.sgst, doc.igst) == (half, half, 0)
    assert doc.taxable_value == computed.total and doc.amount == computed.total + 2 * half
    assert [(ln.gst_rate, ln.taxable_value) for ln in doc.lines.order_by("position")] == [
        (Decimal("18"), by["INV-1"]), (Decimal("0"), by["OB-1"])]

    # inter-state, two rates: the interest split 60:40 by taxable value, IGST at 18 % and 5 %
    doc2, computed2 = interest_post(company=company, customer=away, on=ON, actor="test")
    interest = computed2.total
    at18 = (interest * Decimal("0.6")).quantize(CENT)
    at5 = interest - at18
    assert (doc2.cgst, doc2.sgst) == (0, 0)
    assert doc2.igst == (at18 * Decimal("0.18")).quantize(CENT) + (at5 * Decimal("0.05")).quantize(CENT)

    # the ledger: interest income credited with the interest, output GST with the tax, sales untouched
    assert gl(company, "4200")[1] == computed.total + computed2.total
    assert gl(company, "2100")[1] == Decimal("9000.00") + half
    assert gl(company, "2120")[1] == Decimal("12800.00") + doc2.igst
    assert gl(company, "4100")[1] == Decimal("200000.00")


def test_init_again_adds_the_missing_accounts(company):
    """Failed before: ``company_init`` on an existing company changed nothing."""
    from dues.audit.models import AuditRecord
    from dues.companies.models import Account
    from dues.companies.services import company_init

    Account.objects.filter(company=company, role="interest_income").delete()  # a database from before
    Account.objects.create(company=company, code="4200", name="Misc income", kind="income")  # the code is taken
    again, created = company_init(name="ignored", actor="test")
    assert (again, created) == (company, False)
    added = Account.objects.get(company=company, role="interest_income")
    assert (added.code, added.name) == ("4201", "Interest on overdue receivables")
    assert AuditRecord.objects.filter(object_type="account", object_id="4201", action="create").exists()
    company_init(name="ignored", actor="test")
    assert Account.objects.filter(company=company, role="interest_income").count() == 1
