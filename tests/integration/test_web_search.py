"""Global search: every kind it finds, amounts written the Indian way, exact matches first, role scope."""

from __future__ import annotations

import re
import time
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dues.banking.services import bank_statement_import
from dues.web.search import parse_amount, search

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]

HEADER = "Date,Narration,Chq./Ref.No.,Value Dt,Withdrawal Amt.,Deposit Amt.,Closing Balance\n"
STATEMENT = ("Account No :50100123456789\n\n" + HEADER +
             '01/06/25,NEFT CR-HDFC0000456-ACME FASTENERS-N555000000001,N555000000001,01/06/25,,'
             '"1,50,000.00","2,50,000.00"\n'
             '02/06/25,CHQ DEP 000777 ZENITH,000777,02/06/25,,"7,777.00","2,57,777.00"\n')


def _user(username, role, person=""):
    from dues.users.models import UserRole

    user = get_user_model().objects.create_user(username, password="pw-2026-search")
    UserRole.objects.create(user=user, role=role, person_name=person)
    return user


@pytest.fixture
def book(company, make_customer, post):
    acme = make_customer("C001", name="Acme Fasteners Pvt Ltd", gstin="27AAPFU0939F1ZV", phone="+91 98200 12345",
                         salesperson="Ravi", collector="Meena")
    zen = make_customer("C002", name="Zenith Polymers", salesperson="Kiran", phone="022-2345-6789")
    post("invoice", "INV-1042", acme, "2025-04-01", "150000.00")
    post("invoice", "INV-10420", acme, "2025-04-02", "1000.00")
    post("invoice", "INV-2001", zen, "2025-04-03", "236000.00")
    post("invoice", "INV-2002", zen, "2025-04-04", "300000.00")
    post("receipt", "RCT-77", zen, "2025-05-01", "150000.00", mode="neft", reference="UTR998877",
         allocations=[("INV-2002", Decimal("150000.00"))])  # INV-2002 left with 1,50,000.00 to pay
    post("receipt", "RCT-78", zen, "2025-05-02", "5000.00", mode="cheque", reference="CHQ445566")
    post("credit_note", "CN-5", acme, "2025-05-05", "1180.00")
    bank_statement_import(company=company, path="june.csv", data=STATEMENT.encode(), preset="hdfc", actor="test")
    return {"acme": acme, "zen": zen}


@pytest.fixture
def manager(client, book):
    client.force_login(_user("asha", "ar_manager"))
    return client


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def titles(response) -> list[str]:
    return re.findall(r'<li class="search-results__hit[^"]*"><a href="[^"]*">([^<]+)</a>', response.content.decode())


@pytest.mark.parametrize("given", ["1,50,000", "150000", "1,50,000.00", "₹1,50,000", "Rs. 1,50,000", "150,000"])
def test_amounts_are_read_the_indian_way(given):
    assert parse_amount(given) == Decimal("150000")


@pytest.mark.parametrize("given", ["INV-1", "1,50,000x", "", "0", "12.345", "₹"])
def test_what_is_not_an_amount(given):
    assert parse_amount(given) is None


def test_the_box_is_on_every_page_with_its_shortcut(manager):
    page = text(manager.get("/"))
    assert 'action="/search/"' in page and 'accesskey="k"' in page and 'hx-get="/search/"' in page
    assert 'aria-keyshortcuts="/ Alt+K"' in page


def test_invoice_number_exact_first_then_prefix(manager):
    response = manager.get("/search/", {"q": "inv-1042"})
    assert response.status_code == 200
    found = titles(response)
    assert found[:2] == ["Invoice INV-1042", "Invoice INV-10420"]
    assert 'href="/documents/invoice/INV-1042/"' in response.content.decode()
    assert "exact" in text(response)


def test_receipt_by_number_utr_and_cheque(manager):
    assert "Receipt RCT-77" in titles(manager.get("/search/", {"q": "RCT-77"}))
    utr = manager.get("/search/", {"q": "utr998877"})
    assert titles(utr)[0] == "Receipt RCT-77"
    cheque = manager.get("/search/", {"q": "CHQ445566"})
    assert titles(cheque)[0] == "Receipt RCT-78"


def test_bank_lines_by_utr_and_cheque_number(manager):
    page = manager.get("/search/", {"q": "N555000000001"})
    assert "Bank lines" in text(page) and "N555000000001" in text(page)
    assert 'href="/cash/?from=2025-06-01&amp;to=2025-06-01"' in page.content.decode()  # not yet a receipt
    cheque = manager.get("/search/", {"q": "000777"})
    assert "cheque 000777" in text(cheque)


def test_credit_note_and_customer_code_name_gstin_phone(manager):
    assert "Credit note CN-5" in titles(manager.get("/search/", {"q": "CN-5"}))
    assert titles(manager.get("/search/", {"q": "c001"}))[0] == "Acme Fasteners Pvt Ltd"
    assert titles(manager.get("/search/", {"q": "fasten"})) == ["Acme Fasteners Pvt Ltd"]
    assert titles(manager.get("/search/", {"q": "27aapfu0939f1zv"}))[0] == "Acme Fasteners Pvt Ltd"
    assert titles(manager.get("/search/", {"q": "9820012345"}))[0] == "Acme Fasteners Pvt Ltd"
    assert "Zenith Polymers" in titles(manager.get("/search/", {"q": "22 2345 6789"}))


@pytest.mark.parametrize("given", ["1,50,000", "150000", "1,50,000.00", "₹1,50,000"])
def test_amount_finds_documents_by_amount_and_by_residual(manager, given):
    page = manager.get("/search/", {"q": given})
    found = titles(page)
    assert "Invoice INV-1042" in found          # its amount
    assert "Invoice INV-2002" in found          # what is left to pay on it
    assert "Receipt RCT-77" in found
    assert "Invoice INV-2001" not in found
    assert "Bank lines" in text(page)           # the 1,50,000.00 credit of 01-06-2025


def test_too_short_and_empty_queries(manager):
    for q in ("", "a", " "):
        page = manager.get("/search/", {"q": q})
        assert page.status_code == 200 and "Type at least 2 characters" in text(page)
        assert titles(page) == []
    assert "Nothing found for “no-such-thing”" in text(manager.get("/search/", {"q": "no-such-thing"}))


def test_htmx_typeahead_is_a_fragment(manager):
    page = manager.get("/search/", {"q": "INV-10"}, headers={"HX-Request": "true"})
    body = page.content.decode()
    assert "<html" not in body and "Invoice INV-1042" in body and "All results for" in body
    assert manager.get("/search/", {"q": "I"}, headers={"HX-Request": "true"}).content.decode().strip() == ""


def test_groups_are_capped_with_the_count_of_the_rest(company, make_customer, manager):
    for i in range(12):
        make_customer(f"BULK{i:02d}", name=f"Bulk Buyer {i}")
    page = manager.get("/search/", {"q": "bulk buyer"})
    assert len(titles(page)) == 8 and "and 4 more customers" in text(page)


def test_sales_sees_only_their_customers_and_documents(client, book):
    client.force_login(_user("rahul", "sales", person="Ravi"))
    assert "Acme Fasteners Pvt Ltd" in titles(client.get("/search/", {"q": "C00"}))
    assert "Zenith Polymers" not in titles(client.get("/search/", {"q": "C00"}))
    assert titles(client.get("/search/", {"q": "INV-2001"})) == []
    assert titles(client.get("/search/", {"q": "UTR998877"})) == []
    amount = titles(client.get("/search/", {"q": "1,50,000"}))
    assert "Invoice INV-1042" in amount and "Invoice INV-2002" not in amount and "Receipt RCT-77" not in amount
    assert "Bank lines" not in text(client.get("/search/", {"q": "N555000000001"}))


def test_no_role_finds_nothing(client, book):
    user = get_user_model().objects.create_user("norole", password="pw-2026-search")
    client.force_login(user)
    assert client.get("/search/", {"q": "INV-1042"}).status_code == 403


def test_a_search_is_a_few_bounded_queries(company, book):
    user = _user("meera", "ar_manager")
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        results = search(company=company, user=user, query="1,50,000")
        elapsed = time.perf_counter() - started
    assert results.groups and len(queries) <= 25 and elapsed < 0.3
