"""Statements of account and dunning letters as PDF, read back with pypdf and checked figure by figure."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from pypdf import PdfReader

from dues.core.errors import DuesError
from dues.documents.letters import render_letter
from dues.documents.pdf import upi_link
from dues.documents.statements import render_statement, statement_data
from dues.reporting.selectors import ageing

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]

START, END = date(2026, 4, 1), date(2026, 6, 30)


def pages(pdf: bytes) -> list[str]:
    """Each page's text with runs of whitespace made single spaces."""
    assert pdf.startswith(b"%PDF-")
    return [re.sub(r"\s+", " ", page.extract_text()) for page in PdfReader(io.BytesIO(pdf)).pages]


def text(pdf: bytes) -> str:
    return " ".join(pages(pdf))


@pytest.fixture
def books(company, make_customer, post):
    """C001 (30 days' credit): INV-1 before the period, then an invoice, a receipt and a credit note in it."""
    c1 = make_customer("C001", name="Shree Ganesh Traders & Sons", gstin="27AAPFU0939F1ZV")
    post("invoice", "INV-1", c1, "2026-03-10", "123456.00")  # due 09-04-2026
    post("invoice", "INV-2", c1, "2026-04-15", "50000.00")  # due 15-05-2026
    post("receipt", "RCT-1", c1, "2026-05-10", "100000.00", allocations=[("INV-1", Decimal("100000.00"))])
    post("credit_note", "CN-1", c1, "2026-06-01", "5000.00")  # unapplied
    post("invoice", "INV-3", c1, "2026-06-20", "12345678.90")  # due 20-07-2026: not yet due on 30-06
    post("invoice", "INV-4", c1, "2026-07-05", "999.00")  # after the period
    return c1


def test_statement_figures(company, books):
    pdf = render_statement(company, books, START, END)
    body = text(pdf)
    # header, customer block, period
    assert "Test Traders Pvt Ltd" in body and "Statement of account" in body
    assert "Shree Ganesh Traders & Sons" in body and "Customer code C001" in body
    assert "GSTIN 27AAPFU0939F1ZV" in body and "State 27 Maharashtra" in body
    assert "Period 01-04-2026 to 30-06-2026" in body
    # opening balance (INV-1 only), the ₹ sign and lakh grouping
    assert "Opening balance ₹1,23,456.00" in body
    assert "01-04-2026 Opening balance 1,23,456.00" in body
    # every transaction with its running balance, in date order
    assert "15-04-2026 Invoice INV-2 50,000.00 1,73,456.00" in body
    assert "10-05-2026 Receipt RCT-1 1,00,000.00 73,456.00" in body
    assert "01-06-2026 Credit note CN-1 5,000.00 68,456.00" in body
    assert "20-06-2026 Invoice INV-3 1,23,45,678.90 1,24,14,134.90" in body  # crore grouping
    assert "INV-4" not in body  # dated after the period
    # closing balance = the ageing total for this customer on the `to` date
    closing = Decimal("12414134.90")
    report = ageing(company=company, as_of=END, customer=books)
    assert report.rows[0].total == closing == statement_data(company, books, START, END).statement.closing
    assert "Closing balance ₹1,24,14,134.90" in body
    assert "30-06-2026 Closing balance 1,23,95,678.90 1,05,000.00 1,24,14,134.90" in body
    # ageing summary: INV-1 rest 23,456 is 82 days overdue (61-90), INV-2 46 days (31-60), INV-3 not due, CN-1
    assert "Not due 1-30 days 31-60 days 61-90 days 91-120 days 120+ days Unapplied Total due" in body
    assert "1,23,45,678.90 0.00 50,000.00 23,456.00 0.00 0.00 -5,000.00 1,24,14,134.90" in body
    # open items with days overdue, and the total due
    assert "Invoice INV-1 10-03-2026 09-04-2026 1,23,456.00 23,456.00 82" in body
    assert "Invoice INV-2 15-04-2026 15-05-2026 50,000.00 50,000.00 46" in body
    assert "Credit note CN-1 01-06-2026 -5,000.00 -5,000.00" in body
    assert "Total due ₹1,24,14,134.90" in body
    assert "Page 1 of 1" in body
    # no UPI address configured: no QR code, the total due in words instead
    assert "by UPI" not in body and "Total due ₹1,24,14,134.90. Please quote your customer code C001" in body


def test_statement_upi_qr(company, books, monkeypatch):
    monkeypatch.setenv("DUES_UPI_VPA", "testtraders@okhdfc")
    pdf = render_statement(company, books, START, END)
    body = text(pdf)
    assert "Pay ₹1,24,14,134.90 by UPI" in body and "testtraders@okhdfc" in body
    link = ("upi://pay?pa=testtraders%40okhdfc&pn=Test%20Traders%20Pvt%20Ltd&am=12414134.90&cu=INR"
            "&tn=C001%20statement")
    assert upi_link(company, books, Decimal("12414134.90"), "C001 statement") == link
    uris = [a.get_object()["/A"]["/URI"] for page in PdfReader(io.BytesIO(pdf)).pages
            for a in page.get("/Annots", [])]
    assert uris == [link]  # the QR code itself carries the link
    # nothing due: no QR code
    assert upi_link(company, books, Decimal("0"), "x") is None


def test_long_statement_breaks_pages_with_repeated_headers(company, make_customer, post):
    c = make_customer("C150")
    day = date(2026, 4, 1)
    for n in range(150):
        post("invoice", f"INV-{n:03d}", c, day + timedelta(days=n // 2), "1000.00")
    pdf = render_statement(company, c, date(2026, 4, 1), date(2026, 11, 29))
    texts = pages(pdf)
    assert len(texts) >= 4
    for n, page in enumerate(texts, 1):
        assert f"Page {n} of {len(texts)}" in page
    # the table header is printed again on every page the transactions run over
    header = "Date Particulars Debit Credit Balance"
    with_header = [n for n, page in enumerate(texts) if header in page]
    assert len(with_header) >= 3 and with_header == list(range(len(with_header)))
    # later pages say whose statement they are
    assert "Statement of account · C150 Customer C150" in texts[1]
    body = " ".join(texts)
    assert "Invoice INV-149 1,000.00 1,50,000.00" in body
    assert "Closing balance ₹1,50,000.00" in body
    assert body.count("Invoice INV-") >= 300  # every transaction, then every open item


def test_statement_rejects_a_reversed_period(company, books):
    with pytest.raises(DuesError, match="after it ends"):
        render_statement(company, books, END, START)


def test_empty_statement(company, make_customer):
    c = make_customer("C009")
    body = text(render_statement(company, c, START, END))
    assert "No transactions in this period." in body and "Nothing is due. Thank you." in body
    assert "Closing balance ₹0.00" in body


def test_statement_in_credit(company, make_customer, post, monkeypatch):
    monkeypatch.setenv("DUES_UPI_VPA", "testtraders@okhdfc")
    c = make_customer("C010")
    post("invoice", "INV-9", c, "2026-04-02", "1000.00")
    post("receipt", "RCT-9", c, "2026-04-20", "1500.00", allocations=[("INV-9", Decimal("1000.00"))])
    body = text(render_statement(company, c, START, END))
    assert "20-04-2026 Receipt RCT-9 1,500.00 -500.00" in body and "Closing balance -₹500.00" in body
    assert "Your account is in credit by ₹500.00" in body and "by UPI" not in body


@pytest.mark.parametrize("kind, words", [
    ("reminder", "It may simply have been overlooked"),
    ("escalation", "referred to our accounts receivable manager"),
    ("final_notice", "This is our final notice"),
])
def test_letters_list_the_overdue_items(company, books, kind, words):
    pdf = render_letter(company, books, kind, END, signatory="Anita Rao", cc="AR manager")
    body = text(pdf)
    assert words in body
    # overdue on 30-06: INV-1 (23,456, 82 days) and INV-2 (50,000, 46 days); INV-3 is not due, CN-1 is a credit
    assert "Invoice INV-1 10-03-2026 09-04-2026 1,23,456.00 23,456.00 82" in body
    assert "Invoice INV-2 15-04-2026 15-05-2026 50,000.00 50,000.00 46" in body
    assert "INV-3" not in body and "CN-1" not in body
    assert "Total overdue ₹73,456.00" in body
    assert "₹73,456.00 overdue on account C001" in body
    assert "by 07-07-2026" in body  # seven days to pay
    assert "for Test Traders Pvt Ltd" in body and "Anita Rao" in body and "Copy to: AR manager" in body
    assert "Date 30-06-2026" in body and "Page 1 of 1" in body


def test_letter_with_given_items_and_unknown_kind(company, books):
    from dues.reporting.selectors import outstanding

    items = [i for i in outstanding(company=company, customer=books, as_of=END) if i.number == "INV-2"]
    body = text(render_letter(company, books, "reminder", END, items))
    assert "INV-2" in body and "INV-1" not in body and "Total overdue ₹50,000.00" in body
    with pytest.raises(DuesError, match="no letter of kind"):
        render_letter(company, books, "threat", END)
