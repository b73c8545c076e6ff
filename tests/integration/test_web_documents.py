"""Invoices, receipts and credit notes at the desk: lists with filters and totals, one document's
page (journal, allocations, history), and cancelling by reversal (who may, and what a refusal leaves)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model

from dues import clock
from dues.audit.models import AuditRecord
from dues.ledger.models import Allocation, Document, JournalEntry, OpenItem
from dues.reporting.selectors import ageing

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]

D = Decimal
SLASHED = "SIS/25-26/0004"  # numbers with slashes (Tally-style) must have a page too


@pytest.fixture
def books(company, make_customer, post):
    """Acme (salesperson Ravi) and Zenith (Sita), with invoices in every state, receipts and a credit note.

    INV-1  Acme   1,00,000  paid 40,000 by RCT-1 (38,000 cash + 2,000 TDS)   partly paid, overdue
    INV-2  Acme     50,000  paid by RCT-2                                      paid
    INV-5  Acme     10,000  cancelled 20-06-2025                               cancelled
    INV-3  Zenith   80,000  5,000 credited by CN-1                             partly paid, overdue
    SLASHED Zenith  30,000  due 31-12-2099                                     open, not due
    RCT-3  Acme     25,000  on account                                         unapplied
    """
    acme = make_customer("C001", name="Acme Fasteners Pvt Ltd", salesperson="Ravi")
    zen = make_customer("C002", name="Zenith Polymers", salesperson="Sita")
    post("invoice", "INV-1", acme, "2025-04-01", "100000", taxable_value=D("84745.76"))
    post("receipt", "RCT-1", acme, "2025-05-10", "38000", tds=D("2000"), mode="neft", reference="UTR0042",
         allocations=[("INV-1", D("40000"))])
    post("invoice", "INV-2", acme, "2025-06-01", "50000")
    post("receipt", "RCT-2", acme, "2025-06-05", "50000", allocations=[("INV-2", D("50000"))])
    post("invoice", "INV-3", zen, "2025-06-10", "80000")
    post("credit_note", "CN-1", zen, "2025-06-12", "5000", allocations=[("INV-3", D("5000"))])
    post("invoice", SLASHED, zen, "2025-06-15", "30000", due_date=date(2099, 12, 31))
    post("invoice", "INV-5", acme, "2025-06-16", "10000")
    post("receipt", "RCT-3", acme, "2025-06-20", "25000")
    from dues.ledger.services import document_cancel

    document_cancel(document=Document.objects.get(number="INV-5"), on=date(2025, 6, 20), reason="duplicate",
                    actor="test")
    return SimpleNamespace(acme=acme, zen=zen)


@pytest.fixture
def login(client, db):
    """login(role, person="") signs a fresh user with that role into the test client."""
    from dues.users.models import UserRole

    def _login(role: str, person: str = ""):
        user = get_user_model().objects.create_user(f"{role}-user", password="not-used-2025")
        UserRole.objects.create(user=user, role=role, person_name=person)
        client.force_login(user)
        return client

    return _login


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def numbers(response) -> list[str]:
    return [d.number for d in response.context["rows"]]


def doc_url(kind: str, number: str, action: str = "") -> str:
    return f"/documents/{kind}/{number}/{action + '/' if action else ''}"


def ledger_state() -> tuple:
    """Everything a cancel would change, to show that a refused one changed nothing."""
    return (list(Document.objects.order_by("pk").values_list("number", "status")),
            JournalEntry.objects.count(), Allocation.objects.count(),
            list(OpenItem.objects.order_by("pk").values_list("pk", "residual")), AuditRecord.objects.count())


# ---- lists --------------------------------------------------------------------------------------


def test_invoice_list_shows_every_debit_with_status_residual_and_totals(login, books):
    desk = login("ar_manager")
    response = desk.get("/invoices/")
    assert response.status_code == 200
    assert numbers(response) == ["INV-5", SLASHED, "INV-3", "INV-2", "INV-1"]  # newest first
    status = {d.number: d.status_code for d in response.context["rows"]}
    assert status == {"INV-1": "partial", "INV-2": "settled", "INV-3": "partial", SLASHED: "open",
                      "INV-5": "cancelled"}
    residual = {d.number: d.outstanding for d in response.context["rows"]}
    assert residual == {"INV-1": D("60000"), "INV-2": 0, "INV-3": D("75000"), SLASHED: D("30000"), "INV-5": 0}
    totals = response.context["totals"]
    # the cancelled invoice is counted but adds nothing to the amount
    assert (totals.count, totals.amount, totals.residual) == (5, D("260000"), D("165000"))
    page = text(response)
    assert "2,60,000.00" in page and "1,65,000.00" in page  # Indian grouping
    assert "Partly paid" in page and "Cancelled" in page and "Paid" in page
    assert f'href="/documents/invoice/{SLASHED}/"' in page
    assert 'href="/customers/C002/"' in page
    days = {d.number: d.days_overdue for d in response.context["rows"]}
    assert days[SLASHED] == 0 and days["INV-2"] == 0 and days["INV-5"] == 0
    assert days["INV-1"] == (clock.today() - date(2025, 5, 1)).days  # due 30 days after 01-04-2025


@pytest.mark.parametrize(("query", "expected", "amount", "residual"), [
    ("status=open", [SLASHED], "30000", "30000"),
    ("status=partly_paid", ["INV-3", "INV-1"], "180000", "135000"),
    ("status=paid", ["INV-2"], "50000", "0"),
    ("status=cancelled", ["INV-5"], "0", "0"),
    ("overdue=1", ["INV-3", "INV-1"], "180000", "135000"),
    ("status=overdue", ["INV-3", "INV-1"], "180000", "135000"),  # the same, as a status
    ("customer=zenith", [SLASHED, "INV-3"], "110000", "105000"),
    ("customer=C001", ["INV-5", "INV-2", "INV-1"], "150000", "60000"),
    ("from=2025-06-01&to=2025-06-12", ["INV-3", "INV-2"], "130000", "75000"),
    ("from=10-06-2025", ["INV-5", SLASHED, "INV-3"], "110000", "105000"),  # dd-mm-yyyy accepted too
    ("q=0004", [SLASHED], "30000", "30000"),
    ("customer=C001&status=partly_paid&overdue=1", ["INV-1"], "100000", "60000"),
    ("sort=amount", ["INV-5", SLASHED, "INV-2", "INV-3", "INV-1"], "260000", "165000"),
    ("sort=-amount", ["INV-1", "INV-3", "INV-2", SLASHED, "INV-5"], "260000", "165000"),
    ("sort=-due", [SLASHED, "INV-5", "INV-3", "INV-2", "INV-1"], "260000", "165000"),
])
def test_invoice_list_filters_and_totals(login, books, query, expected, amount, residual):
    response = login("collector").get(f"/invoices/?{query}")
    assert response.status_code == 200
    assert numbers(response) == expected
    totals = response.context["totals"]
    assert (totals.count, totals.amount, totals.residual) == (len(expected), D(amount), D(residual))


def test_bad_filters_are_shown_next_to_the_field_and_ignored(login, books):
    response = login("collector").get("/invoices/?from=someday&status=lost")
    assert response.status_code == 200
    assert response.context["errors"] == {"from": "“someday” is not a date (use YYYY-MM-DD)",
                                          "status": "unknown status “lost”"}
    page = text(response)
    assert 'id="f-from-error">“someday” is not a date' in page and 'aria-invalid="true"' in page
    assert len(numbers(response)) == 5


def test_empty_filter_result_says_what_to_do(login, books):
    page = text(login("collector").get("/invoices/?customer=nobody"))
    assert "Nothing matches these filters" in page and "Clear them" in page


def test_receipts_list_uses_applied_words(login, books):
    desk = login("collector")
    response = desk.get("/receipts/")
    assert numbers(response) == ["RCT-3", "RCT-2", "RCT-1"]
    assert {d.number: d.status_label for d in response.context["rows"]} == {
        "RCT-1": "Applied", "RCT-2": "Applied", "RCT-3": "Unapplied"}
    totals = response.context["totals"]
    assert (totals.count, totals.amount, totals.residual) == (3, D("113000"), D("25000"))
    assert "UTR0042" in text(response) and "NEFT" in text(response)
    assert numbers(desk.get("/receipts/?status=unapplied")) == ["RCT-3"]
    assert numbers(desk.get("/receipts/?status=applied")) == ["RCT-2", "RCT-1"]
    assert numbers(desk.get("/receipts/?q=utr0042")) == ["RCT-1"]  # the reference (UTR) is searched too
    credit_notes = desk.get("/credit-notes/")
    assert numbers(credit_notes) == ["CN-1"] and credit_notes.context["rows"][0].status_label == "Applied"


def test_lists_are_paginated_and_keep_the_filters(login, company, make_customer, post):
    acme = make_customer("C001")
    for n in range(53):
        post("invoice", f"B-{n:03d}", acme, "2025-04-01", "100")
    desk = login("billing")
    first = desk.get("/invoices/?customer=C001")
    assert len(first.context["rows"]) == 50 and first.context["totals"].count == 53
    assert first.context["totals"].amount == D("5300")  # the whole filtered set, not the page
    assert 'href="?customer=C001&amp;page=2"' in first.content.decode()
    second = desk.get("/invoices/?customer=C001&page=2")
    assert len(second.context["rows"]) == 3


def test_sales_sees_only_their_customers_documents(login, books):
    desk = login("sales", person="Ravi")
    assert numbers(desk.get("/invoices/")) == ["INV-5", "INV-2", "INV-1"]
    assert numbers(desk.get("/credit-notes/")) == []
    assert numbers(desk.get("/invoices/?customer=zenith")) == []
    assert desk.get(doc_url("invoice", "INV-1")).status_code == 200
    refused = desk.get(doc_url("invoice", "INV-3"))
    assert refused.status_code == 403 and "INV-3" not in text(refused)
    assert desk.get(doc_url("credit_note", "CN-1")).status_code == 403


def test_anonymous_is_sent_to_login(client, books):
    for url in ("/invoices/", "/receipts/", "/credit-notes/", doc_url("invoice", "INV-1")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/?next=")
    before = ledger_state()
    response = client.post(doc_url("invoice", "INV-1", "cancel"), {"on": "2025-07-01", "reason": "x"})
    assert response.status_code == 302 and ledger_state() == before


# ---- the document page --------------------------------------------------------------------------


def test_invoice_page_shows_tax_journal_allocations_and_history(login, books):
    response = login("auditor").get(doc_url("invoice", "INV-1"))
    assert response.status_code == 200
    page = text(response)
    p = response.context["p"]
    assert p.status_label == "Partly paid" and p.item.residual == D("60000")
    assert "₹84,745.76" in page and "CGST" in page and "₹7,627.12" in page  # intra-state: CGST + SGST halves
    assert "27 Maharashtra" in page  # place of supply
    [entry] = p.entries
    assert (entry.debit, entry.credit) == (D("100000"), D("100000"))
    ar = next(ln for ln in entry.lines if ln.customer_id)
    assert ar.debit == D("100000") and ar.account.role == "ar_control"
    [alloc] = p.allocations
    assert (alloc.other.number, alloc.allocation.amount, alloc.reversed) == ("RCT-1", D("40000"), False)
    assert 'href="/documents/receipt/RCT-1/"' in page and "10-05-2025" in page
    assert [a.action for a in response.context["audit"]] == ["post"]
    assert "Cancel this invoice" not in page  # an auditor changes nothing


def test_receipt_page_shows_mode_reference_tds_and_what_it_paid(login, books):
    response = login("collector").get(doc_url("receipt", "RCT-1"))
    page = text(response)
    assert "NEFT" in page and "UTR0042" in page and "₹2,000.00" in page and "₹40,000.00" in page  # TDS, total
    assert 'href="/documents/invoice/INV-1/"' in page
    assert response.context["p"].status_label == "Applied"
    assert "Cancel this receipt" in page  # a collector posts (and cancels) receipts


def test_cancelled_document_shows_its_reversal(login, books):
    response = login("auditor").get(doc_url("invoice", "INV-5"))
    p = response.context["p"]
    assert p.status_code == "cancelled"
    original, reversal = p.entries
    assert reversal.entry.reverses_id == original.entry.pk and reversal.entry.date == date(2025, 6, 20)
    assert [(ln.debit, ln.credit) for ln in reversal.lines] == [(ln.credit, ln.debit) for ln in original.lines]
    page = text(response)
    assert "reversal" in page and "duplicate" in page and "cancellation of this document" in page
    assert [a.action for a in response.context["audit"]] == ["cancel", "post"]


def test_unknown_documents_are_not_found(login, books):
    desk = login("ar_manager")
    assert desk.get(doc_url("invoice", "NOPE")).status_code == 404
    assert desk.get(doc_url("bill", "INV-1")).status_code == 404
    assert desk.get(doc_url("receipt", "INV-1")).status_code == 404  # the kind is part of the name
    assert desk.get(doc_url("invoice", SLASHED)).status_code == 200


# ---- cancelling ---------------------------------------------------------------------------------


def zenith_ageing(on: str) -> tuple[Decimal, Decimal]:
    """(open invoices, unapplied) of Zenith on a date."""
    from dues.companies.models import Company
    from dues.customers.models import Customer

    zen = Customer.objects.get(code="C002")
    report = ageing(company=Company.objects.get(), as_of=date.fromisoformat(on), customer=zen)
    row = report.rows[0]
    return sum(row.buckets.values(), D(0)), row.unapplied


def test_billing_cancels_an_invoice_by_reversal(login, books):
    assert zenith_ageing("2025-07-15") == (D("105000"), D("0"))
    desk = login("billing")
    page = desk.get(doc_url("invoice", "INV-3"))
    assert "Cancel this invoice" in text(page) and page.context["form"]["on"] == clock.today().isoformat()
    response = desk.post(doc_url("invoice", "INV-3", "cancel"), {"on": "2025-07-01", "reason": "wrong rate"})
    assert response.status_code == 302 and response["Location"] == doc_url("invoice", "INV-3")
    inv = Document.objects.get(number="INV-3")
    assert (inv.status, inv.cancelled_on, inv.cancel_reason) == ("cancelled", date(2025, 7, 1), "wrong rate")
    reversal = JournalEntry.objects.get(document=inv, reverses__isnull=False)
    assert reversal.date == date(2025, 7, 1)
    # CN-1's 5,000 came off the invoice and is money on account again
    assert OpenItem.objects.get(document__number="CN-1").residual == D("5000")
    # ageing: before the cancellation the invoice is there, from it on it is gone
    assert zenith_ageing("2025-06-30") == (D("105000"), D("0"))
    assert zenith_ageing("2025-07-15") == (D("30000"), D("-5000"))
    shown = desk.get(response["Location"])
    page = text(shown)
    assert "Invoice INV-3 cancelled on 01-07-2025: the reversal is posted." in page
    assert "Cancel this invoice" not in page and shown.context["p"].status_code == "cancelled"
    undone = [a for a in shown.context["p"].allocations if a.other and a.other.number == "CN-1"]
    assert [(a.allocation.amount, a.reversed, a.is_reversal) for a in undone] == [
        (D("5000"), True, False), (D("-5000"), False, True)]
    assert AuditRecord.objects.filter(object_type="invoice", object_id="INV-3", action="cancel",
                                      actor="billing-user").count() == 1
    listed = desk.get("/invoices/?status=cancelled")
    assert numbers(listed) == ["INV-5", "INV-3"]


def test_a_slashed_number_can_be_cancelled(login, books):
    desk = login("ar_manager")
    response = desk.post(doc_url("invoice", SLASHED, "cancel"), {"on": "2025-07-01", "reason": "test"})
    assert response.status_code == 302
    assert Document.objects.get(number=SLASHED).status == "cancelled"
    assert desk.get(doc_url("invoice", SLASHED, "cancel")).status_code == 302  # a GET changes nothing


@pytest.mark.parametrize(("role", "person", "number"), [
    ("collector", "", "INV-3"), ("auditor", "", "INV-3"), ("sales", "Sita", "INV-3"), ("sales", "Ravi", "INV-1"),
    ("sales", "Ravi", "INV-3"),  # not even his customer
])
def test_who_may_not_cancel_an_invoice_changes_nothing(login, books, role, person, number):
    desk = login(role, person)
    page = desk.get(doc_url("invoice", number))
    assert page.status_code in (200, 403) and "Cancel this invoice" not in text(page)
    before = ledger_state()
    response = desk.post(doc_url("invoice", number, "cancel"), {"on": "2025-07-01", "reason": "not mine"})
    assert response.status_code == 403
    assert ledger_state() == before


def test_collector_may_cancel_a_receipt_but_not_a_credit_note(login, books):
    desk = login("collector")
    assert "Cancel this credit note" not in text(desk.get(doc_url("credit_note", "CN-1")))
    before = ledger_state()
    assert desk.post(doc_url("credit_note", "CN-1", "cancel"), {"on": "2025-07-01", "reason": "x"}).status_code == 403
    assert ledger_state() == before
    response = desk.post(doc_url("receipt", "RCT-1", "cancel"), {"on": "2025-07-01", "reason": "bounced"})
    assert response.status_code == 302
    assert Document.objects.get(number="RCT-1").status == "cancelled"
    assert OpenItem.objects.get(document__number="INV-1", reversal_of__isnull=True).residual == D("100000")


@pytest.mark.parametrize(("form", "field", "message"), [
    ({"on": "2025-07-01", "reason": "  "}, "reason", "Say why the document is cancelled."),
    ({"on": "", "reason": "x"}, "on", "Give the date of the cancellation."),
    ({"on": "1st July", "reason": "x"}, "on", "“1st July” is not a date (use YYYY-MM-DD)."),
    ({"on": "2025-05-01", "reason": "x"}, "on", "cannot cancel invoice INV-3 before its own date 10-06-2025"),
])
def test_cancel_form_errors_are_shown_next_to_the_field(login, books, form, field, message):
    desk = login("billing")
    before = ledger_state()
    response = desk.post(doc_url("invoice", "INV-3", "cancel"), form)
    assert response.status_code == 400
    assert response.context["errors"] == {field: message}
    assert f'id="cancel-{field}-error">{message}' in text(response)
    assert response.context["form"]["reason"] == form["reason"].strip()  # what was typed stays
    assert ledger_state() == before


def test_cancel_in_a_closed_period_is_refused(login, books, company):
    from dues.companies.services import company_lock_period

    company_lock_period(company=company, lock_date=date(2025, 6, 30), actor="test")
    desk = login("billing")
    before = ledger_state()
    response = desk.post(doc_url("invoice", "INV-3", "cancel"), {"on": "2025-06-30", "reason": "late"})
    assert response.status_code == 400
    assert "lock date 30-06-2025" in response.context["errors"]["on"]
    assert ledger_state() == before


def test_cancelling_twice_is_refused(login, books):
    desk = login("billing")
    before = ledger_state()
    response = desk.post(doc_url("invoice", "INV-5", "cancel"), {"on": "2025-07-01", "reason": "again"})
    assert response.status_code == 400
    assert "was already cancelled" in response.context["errors"]["form"]
    assert "was already cancelled" in text(response)
    assert ledger_state() == before
