"""Posting, allocating and cancelling through the services, on the real database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum

from dues.audit.models import AuditRecord
from dues.audit.services import audit_verify
from dues.companies.services import company_lock_period
from dues.core.errors import (
    AlreadyCancelledError,
    ClosedPeriodError,
    DuesError,
    OverAllocationError,
    ValidationFailed,
)
from dues.ledger.models import Allocation, Document, JournalEntry, JournalLine, OpenItem
from dues.ledger.services import (
    LineDraft,
    allocation_create,
    allocation_reverse,
    document_cancel,
)
from dues.reporting.selectors import ageing, outstanding

pytestmark = pytest.mark.django_db


def item(doc) -> OpenItem:
    return OpenItem.objects.get(document=doc, reversal_of__isnull=True)


def account_balances(company) -> dict[str, Decimal]:
    rows = JournalLine.objects.filter(entry__company=company).values("account__role").annotate(
        d=Sum("debit"), c=Sum("credit"))
    return {r["account__role"]: r["d"] - r["c"] for r in rows if r["d"] != r["c"]}


def assert_every_entry_balances(company):
    for entry in JournalEntry.objects.filter(company=company):
        totals = entry.lines.aggregate(d=Sum("debit"), c=Sum("credit"))
        assert totals["d"] == totals["c"], entry.narration


def test_invoice_posts_a_balanced_entry_and_a_debit_item(company, make_customer, post):
    c = make_customer("C001", credit_days="45", state="29")  # another state: IGST
    inv = post("invoice", "INV-1", c, "2025-04-10", "11800", taxable_value=Decimal("10000"), tax=Decimal("1800"))
    assert inv.due_date == date(2025, 5, 25)
    assert (inv.igst, inv.cgst) == (Decimal("1800"), Decimal("0"))
    assert account_balances(company) == {"ar_control": Decimal("11800"), "sales": Decimal("-10000"),
                                         "igst_output": Decimal("-1800")}
    oi = item(inv)
    assert (oi.side, oi.amount, oi.residual) == ("D", Decimal("11800"), Decimal("11800"))
    assert isinstance(oi.residual, Decimal)
    assert AuditRecord.objects.filter(object_type="invoice", object_id="INV-1", action="post").exists()


def test_invoice_from_lines_splits_gst_within_the_state(company, make_customer, post):
    c = make_customer("C001")
    inv = post("invoice", "INV-L", c, "2025-04-10", "0", lines=[
        LineDraft("Bolts M8", Decimal("3.35"), Decimal("1000"), Decimal("18"), "7318"),
        LineDraft("Freight", Decimal("500"), Decimal("1"), Decimal("18"), "9965")])
    # amount 0: the lines make the grand total
    assert inv.taxable_value == Decimal("3850.00")
    assert (inv.cgst, inv.sgst, inv.igst) == (Decimal("346.50"), Decimal("346.50"), Decimal("0"))
    assert inv.lines.count() == 2
    assert inv.amount == Decimal("4543.00")


def test_receipt_with_tds_settles_the_invoice(company, make_customer, post):
    c = make_customer("C001")
    post("invoice", "INV-1", c, "2025-04-01", "11800", taxable_value=Decimal("10000"), tax=Decimal("1800"))
    rct = post("receipt", "RCT-1", c, "2025-05-10", "11790", mode="neft", reference="UTR1", tds=Decimal("10"),
               allocations=[("INV-1", Decimal("11800"))])
    assert item(Document.objects.get(number="INV-1")).residual == 0
    assert item(rct).residual == 0
    assert account_balances(company) == {"bank": Decimal("11790"), "tds_receivable": Decimal("10"),
                                         "sales": Decimal("-10000"), "cgst_output": Decimal("-900"),
                                         "sgst_output": Decimal("-900")}
    a = Allocation.objects.get()
    assert a.effective_date == date(2025, 5, 10)
    assert_every_entry_balances(company)


def test_over_allocation_is_refused_and_nothing_is_written(company, make_customer, post):
    c = make_customer("C001")
    post("invoice", "INV-1", c, "2025-04-01", "1000")
    before = (Document.objects.count(), AuditRecord.objects.count(), JournalLine.objects.count())
    with pytest.raises(ValidationFailed) as err:
        post("receipt", "RCT-1", c, "2025-04-05", "2000", allocations=[("INV-1", Decimal("1500"))])
    assert "exceeds what is outstanding" in str(err.value)
    with pytest.raises(ValidationFailed, match="exceeds what is left"):
        post("receipt", "RCT-2", c, "2025-04-05", "500", allocations=[("INV-1", Decimal("600"))])
    assert (Document.objects.count(), AuditRecord.objects.count(), JournalLine.objects.count()) == before


def test_allocation_to_another_customers_invoice_is_refused(company, make_customer, post):
    a, b = make_customer("C001"), make_customer("C002")
    post("invoice", "INV-1", a, "2025-04-01", "1000")
    with pytest.raises(ValidationFailed, match="INV-1"):
        post("receipt", "RCT-1", b, "2025-04-05", "1000", allocations=[("INV-1", Decimal("1000"))])


def test_on_account_money_allocated_later_and_undone(company, make_customer, post):
    c = make_customer("C001")
    inv = post("invoice", "INV-1", c, "2025-04-01", "1000")
    rct = post("receipt", "RCT-1", c, "2025-04-20", "600")
    a = allocation_create(credit_item=item(rct), debit_item=item(inv), amount=Decimal("600"), on=date(2025, 5, 3),
                          actor="test")
    assert a.effective_date == date(2025, 5, 3)
    assert (item(inv).residual, item(rct).residual) == (Decimal("400"), Decimal("0"))
    with pytest.raises(OverAllocationError):
        allocation_create(credit_item=item(rct), debit_item=item(inv), amount=Decimal("1"), on=date(2025, 5, 4))
    # a past date still sees the money on account
    past = ageing(company=company, as_of=date(2025, 5, 1)).rows[0]
    assert past.unapplied == Decimal("-600") and sum(past.buckets.values()) == Decimal("1000")
    rev = allocation_reverse(allocation=a, on=date(2025, 6, 1), reason="wrong invoice", actor="test")
    assert rev.amount == Decimal("-600") and rev.reverses_id == a.pk
    assert (item(inv).residual, item(rct).residual) == (Decimal("1000"), Decimal("600"))
    with pytest.raises(AlreadyCancelledError):
        allocation_reverse(allocation=a, on=date(2025, 6, 2), reason="again")
    between = ageing(company=company, as_of=date(2025, 5, 15)).rows[0]
    assert between.total == Decimal("400") and between.unapplied == 0


def test_cancel_invoice_reverses_entry_and_returns_money_on_account(company, make_customer, post):
    c = make_customer("C001")
    inv = post("invoice", "INV-1", c, "2025-04-01", "1180", taxable_value=Decimal("1000"), tax=Decimal("180"))
    post("receipt", "RCT-1", c, "2025-04-10", "500", allocations=[("INV-1", Decimal("500"))])
    balances_before = account_balances(company)
    entry = document_cancel(document=inv, on=date(2025, 4, 15), reason="wrong rate", actor="test")
    assert entry.reverses is not None and entry.date == date(2025, 4, 15)
    inv.refresh_from_db()
    assert inv.status == Document.CANCELLED
    # the invoice's own entry is untouched; the reversal nets it out, leaving the receipt's effect
    assert account_balances(company) == {"bank": Decimal("500"), "ar_control": Decimal("-500")}
    assert balances_before["sales"] == Decimal("-1000")
    assert item(inv).residual == 0
    rct_item = OpenItem.objects.get(document__number="RCT-1")
    assert rct_item.residual == Decimal("500")  # back on account
    before = ageing(company=company, as_of=date(2025, 4, 14)).totals
    after = ageing(company=company, as_of=date(2025, 4, 15)).totals
    assert before.total == Decimal("680") and sum(before.buckets.values()) == Decimal("680")
    assert after.total == Decimal("-500") and after.unapplied == Decimal("-500")
    with pytest.raises(AlreadyCancelledError):
        document_cancel(document=inv, on=date(2025, 4, 16), reason="again")
    assert_every_entry_balances(company)


def test_cancel_receipt_reopens_invoices(company, make_customer, post):
    c = make_customer("C001")
    post("invoice", "INV-1", c, "2025-04-01", "1000")
    rct = post("receipt", "RCT-1", c, "2025-04-10", "1000", allocations=[("INV-1", Decimal("1000"))])
    document_cancel(document=rct, on=date(2025, 4, 20), reason="cheque bounced", actor="test")
    assert OpenItem.objects.get(document__number="INV-1").residual == Decimal("1000")
    assert ageing(company=company, as_of=date(2025, 4, 25)).totals.total == Decimal("1000")
    assert ageing(company=company, as_of=date(2025, 4, 15)).totals.total == Decimal("0")


def test_lock_date_refuses_postings_allocations_and_cancellations(company, make_customer, post):
    c = make_customer("C001")
    inv = post("invoice", "INV-1", c, "2025-03-01", "1000")
    rct = post("receipt", "RCT-1", c, "2025-03-05", "1000")
    company = company_lock_period(company=company, lock_date=date(2025, 3, 31), actor="test")
    with pytest.raises(ValidationFailed, match="lock date"):
        post("invoice", "INV-2", c, "2025-03-31", "1000")
    with pytest.raises(ClosedPeriodError):
        allocation_create(credit_item=item(rct), debit_item=item(inv), amount=Decimal("1"), on=date(2025, 3, 30))
    with pytest.raises(ClosedPeriodError):
        document_cancel(document=inv, on=date(2025, 3, 20), reason="x")
    post("invoice", "INV-2", c, "2025-04-01", "1000")
    assert AuditRecord.objects.filter(action="lock_period").exists()


def test_duplicate_number_is_refused(company, make_customer, post):
    c = make_customer("C001")
    post("invoice", "INV-1", c, "2025-04-01", "1000")
    with pytest.raises(ValidationFailed, match="already exists"):
        post("invoice", "INV-1", c, "2025-04-02", "5")
    post("receipt", "INV-1", c, "2025-04-02", "5")  # numbers are per kind


def test_database_refuses_over_clearing_even_without_the_service(company, make_customer, post):
    c = make_customer("C001")
    inv = post("invoice", "INV-1", c, "2025-04-01", "1000")
    with pytest.raises(IntegrityError), transaction.atomic():
        OpenItem.objects.filter(pk=item(inv).pk).update(residual=Decimal("-1"))
    with pytest.raises(IntegrityError), transaction.atomic():
        OpenItem.objects.filter(pk=item(inv).pk).update(residual=Decimal("1000.01"))


def test_audit_log_refuses_changes_and_verifies(company, make_customer, post):
    c = make_customer("C001")
    post("invoice", "INV-1", c, "2025-04-01", "1000")
    assert audit_verify().ok
    for sql in ("UPDATE audit_record SET actor = 'mallory'", "DELETE FROM audit_record"):
        with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql)
    assert audit_verify().ok


def test_outstanding_lists_open_items_with_days_overdue(company, make_customer, post):
    c = make_customer("C001")
    post("invoice", "INV-1", c, "2025-04-01", "1000", due_date=date(2025, 4, 30))
    post("invoice", "INV-2", c, "2025-04-15", "500", due_date=date(2025, 5, 15))
    post("receipt", "RCT-1", c, "2025-05-01", "1200", allocations=[("INV-1", Decimal("1000"))])
    items = outstanding(company=company, customer=c, as_of=date(2025, 5, 20))
    assert [(i.number, i.residual, i.days_overdue) for i in items] == [
        ("INV-2", Decimal("500"), 5), ("RCT-1", Decimal("200"), 0)]


def test_opening_balances_keep_their_original_due_date(company, make_customer, post):
    c = make_customer("C001")
    post("opening", "OB-1", c, "2025-04-01", "5000", due_date=date(2024, 12, 1))
    post("opening", "OB-ADV", c, "2025-04-01", "700", opening_side="C")
    row = ageing(company=company, as_of=date(2025, 4, 30)).rows[0]
    assert row.buckets["120+"] == Decimal("5000") and row.unapplied == Decimal("-700")
    assert account_balances(company) == {"ar_control": Decimal("4300"), "opening_balance": Decimal("-4300")}
    with pytest.raises(ValidationFailed, match="before the document date"):
        post("invoice", "INV-1", c, "2025-04-01", "10", due_date=date(2025, 3, 1))


def test_changing_credit_days_moves_the_terms(company, make_customer):
    from dues.customers.services import customer_update

    c = make_customer("C001", credit_days="30")
    c = customer_update(customer=c, data={"credit_days": "45"}, actor="test")
    assert (c.credit_days, c.terms_kind, c.terms_days) == (45, "net", 45)
    c = customer_update(customer=c, data={"terms": "eom 15"}, actor="test")
    assert (c.terms_kind, c.terms_days) == ("eom", 15)
    c = customer_update(customer=c, data={"salesperson": "Ravi"}, actor="test")
    assert (c.terms_kind, c.terms_days, c.salesperson) == ("eom", 15, "Ravi")


def test_a_cancellation_is_not_undone_piecemeal_and_cancelled_bills_take_no_money(company, make_customer, post):
    c = make_customer("C001")
    inv = post("invoice", "INV-1", c, "2025-04-01", "1000")
    rct = post("receipt", "RCT-1", c, "2025-04-05", "1000")
    document_cancel(document=inv, on=date(2025, 4, 10), reason="wrong party", actor="test")
    clearing = Allocation.objects.get(debit_item=item(inv))
    with pytest.raises(DuesError, match="not undone piecemeal"):
        allocation_reverse(allocation=clearing, on=date(2025, 4, 11), reason="typo")
    with pytest.raises(DuesError, match="cancelled"):
        allocation_create(credit_item=item(rct), debit_item=item(inv), amount=Decimal("1"), on=date(2025, 4, 12))
    with pytest.raises(ValidationFailed, match="INV-1 is not an open invoice"):
        post("receipt", "RCT-2", c, "2025-04-12", "10", allocations=[("INV-1", Decimal("10"))])


def test_an_anchor_kept_outside_catches_newest_records_removed_with_the_head_rewound(company, make_customer, post):
    """The chain and its head are in one database: delete the newest records and rewind the head to the new
    end, and the chain alone still verifies. An anchor (seq, hash) printed in a close pack does not."""
    c = make_customer("C001")
    post("invoice", "INV-1", c, "2025-04-01", "1000")
    anchor = audit_verify()
    assert anchor.ok
    post("invoice", "INV-2", c, "2025-04-02", "2000")
    later = audit_verify()
    keep = anchor.head_seq
    with connection.cursor() as cur:  # someone with database access drops the guards and cuts the log back
        if connection.vendor == "sqlite":
            cur.execute("DROP TRIGGER audit_record_no_delete")
        else:
            cur.execute("ALTER TABLE audit_record DISABLE TRIGGER audit_record_append_only")
        cur.execute("DELETE FROM audit_record WHERE seq > %s", [keep])
        cur.execute("UPDATE audit_head SET seq = %s, hash = %s WHERE id = 1", [anchor.head_seq, anchor.head_hash])
    assert audit_verify().ok  # the chain alone cannot tell
    assert audit_verify([(anchor.head_seq, anchor.head_hash)]).ok  # the older anchor still holds
    cut = audit_verify([(anchor.head_seq, anchor.head_hash), (later.head_seq, later.head_hash)])
    assert not cut.ok and cut.problem.seq == keep + 1
    assert f"the log ends at record {keep}, but anchor {later.head_seq}" in cut.problem.reason
    assert "records were removed from the end and the head rewound" in cut.problem.reason
    forged = audit_verify([(anchor.head_seq, "f" * 64)])
    assert not forged.ok and f"record {anchor.head_seq} does not have the anchored hash" in forged.problem.reason
