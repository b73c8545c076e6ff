"""The desk in real Chromium (Playwright): sign in, find a customer, take a receipt, allocate it, watch the
ageing move, export it to Excel and read the file back; keyboard use and the sign-in rate limit.

Every page the flow passes through is also saved as a full-page screenshot (see conftest.py).
"""

from __future__ import annotations

import re
import urllib.request
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from .conftest import PASSWORD, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]


def test_static_files_are_served(live_server):
    for path in ("/static/vendor/htmx.min.js", "/static/web/dues.css"):
        with urllib.request.urlopen(live_server.url + path, timeout=10) as response:  # noqa: S310 - our server
            assert response.status == 200 and len(response.read()) > 1000, path


def test_sign_in_through_the_form_and_out_again(new_page, users, ledger, shoot):
    page = new_page()
    page.goto("/customers/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/customers/"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_text("Test Traders Pvt Ltd").first).to_be_visible()
    shoot(page, "login")

    page.get_by_label("Username").fill(users["ar_manager"].username)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/login/"))

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/customers/$"))  # back where they were going
    expect(page.get_by_role("heading", name="Customers", level=1)).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login/$"))
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))


def test_five_wrong_passwords_lock_the_name_and_the_address_out(new_page, users):
    page = new_page()
    name = users["collector"].username
    for _ in range(5):
        sign_in(page, name, "wrong-password")
    expect(page.get_by_role("alert")).to_contain_text("Too many failed sign-ins")
    sign_in(page, name, PASSWORD)  # even the right password waits out the window
    expect(page.get_by_role("alert")).to_contain_text("Too many failed sign-ins")
    expect(page).to_have_url(re.compile(r"/login/"))
    sign_in(page, users["billing"].username)  # and so is another name from the same address (per-address lock)
    expect(page.get_by_role("alert")).to_contain_text("Too many failed sign-ins")
    expect(page).to_have_url(re.compile(r"/login/"))


def test_dashboard_shows_the_books(login, ledger, shoot):
    page = login("ar_manager")
    expect(page.get_by_role("heading", name="Receivables", level=1)).to_be_visible()
    totals = page.get_by_role("region", name="Totals")
    # 1,18,000 + 59,000 + 2,36,000 owed; Acme's two invoices are overdue
    expect(totals.get_by_role("article").filter(has_text="Total outstanding")).to_contain_text("₹4,13,000.00")
    expect(totals.get_by_role("article").filter(has_text="Overdue").first).to_contain_text("₹1,77,000.00")
    shoot(page, "dashboard")


def test_keyboard_reaches_the_search_box_and_enter_searches(login, ledger):
    page = login("collector")
    page.goto("/customers/")
    search = page.get_by_role("search", name="Customers").get_by_role("searchbox")
    for _ in range(40):
        page.keyboard.press("Tab")
        if search.evaluate("el => el === document.activeElement"):
            break
    else:
        pytest.fail("Tab never reached the customer search box")
    page.keyboard.type("zenith")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]q=zenith"))
    expect(page.get_by_role("link", name="Zenith Polymers")).to_be_visible()
    expect(page.get_by_role("link", name="Acme Fasteners Pvt Ltd")).to_have_count(0)


def test_sales_sees_only_their_customers(login, ledger):
    page = login("sales")
    page.goto("/customers/")
    expect(page.get_by_role("link", name="Acme Fasteners Pvt Ltd")).to_be_visible()
    expect(page.get_by_role("link", name="Zenith Polymers")).to_have_count(0)
    response = page.goto("/customers/C002/")
    assert response.status in (403, 404)


TABLE_JS = """table => {
  const text = el => el.textContent.replace(/\\s+/g, ' ').trim();  // as written, not as CSS shows it
  const heads = [...table.querySelectorAll('thead th')].map(text);
  return [...table.querySelectorAll('tbody tr, tfoot tr')].map(tr =>
    Object.fromEntries([...tr.querySelectorAll('th, td')].map((cell, i) => [heads[i] ?? i, text(cell)])));
}"""


def table_rows(locator) -> list[dict[str, str]]:
    """A table as a list of {column heading: cell text}, body and footer rows."""
    return locator.evaluate(TABLE_JS)


def ageing_row(page, code: str) -> dict[str, str]:
    rows = [r for r in table_rows(page.get_by_role("table").first) if code in next(iter(r.values()))]
    assert len(rows) == 1, f"{code} in the ageing table: {rows}"
    return rows[0]


def figure(text: str) -> Decimal:
    """'1,18,000.00' or '₹59,000.00' or '–' as a Decimal."""
    cleaned = text.replace("₹", "").replace(",", "").strip()
    return Decimal(0) if cleaned in ("", "–", "-") else Decimal(cleaned)


def bucket(row: dict[str, str], start: str) -> Decimal:
    """The figure under the column whose heading starts with ``start`` ('1', '61', 'Not due', 'Total')."""
    cells = [v for k, v in row.items() if isinstance(k, str) and k.startswith(start)]
    assert len(cells) == 1, f"one column starting {start!r} in {list(row)}"
    return figure(cells[0])


def test_find_a_customer_take_a_receipt_allocate_it_and_see_the_ageing_move(login, ledger, shoot, tmp_path):
    from openpyxl import load_workbook

    from dues.ledger.models import Allocation, Document

    page = login("collector")

    # the ageing before: Acme owes 1,18,000 at 61-90 days and 59,000 at 1-30
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Ageing").click()
    expect(page.get_by_role("heading", name="Ageing", level=1)).to_be_visible()
    before = ageing_row(page, "C001")
    assert bucket(before, "61") == Decimal("118000.00") and bucket(before, "1") == Decimal("59000.00")
    assert bucket(before, "Total") == Decimal("177000.00")

    # find the customer
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Customers").click()
    shoot(page, "customers")
    page.get_by_role("search", name="Customers").get_by_role("searchbox").fill("acme")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"[?&]q=acme"))
    page.get_by_role("link", name="Acme Fasteners Pvt Ltd").click()
    expect(page.get_by_role("heading", name=re.compile("Acme Fasteners Pvt Ltd"), level=1)).to_be_visible()
    expect(page.get_by_text("1,77,000.00").first).to_be_visible()
    shoot(page, "customer")

    # a receipt of 1,50,000 by NEFT: 50,000 typed against INV-101, the rest left on account
    page.get_by_role("link", name="New receipt").click()
    expect(page.get_by_role("heading", name="New receipt", level=1)).to_be_visible()
    expect(page.get_by_label("Customer", exact=True)).to_have_value("C001")
    page.get_by_label("Amount received").fill("150000")
    page.get_by_label("Reference / UTR").fill("UTR-E2E-0001")
    page.get_by_label("Allocate to INV-101").fill("50000")
    expect(page.get_by_role("status").filter(has_text="on account")).to_contain_text("1,00,000.00")
    shoot(page, "receipt-entry")
    page.get_by_role("button", name="Post receipt").click()

    # posted: on the allocation page, 1,00,000 still on account
    expect(page.get_by_role("heading", name=re.compile(r"^Allocate "), level=1)).to_be_visible()
    expect(page.get_by_text(re.compile(r"Receipt \S+ posted"))).to_be_visible()
    on_account = page.get_by_role("region", name="This credit").get_by_role("article").filter(has_text="On account")
    expect(on_account).to_contain_text("₹1,00,000.00")
    receipt = Document.objects.get(kind="receipt", reference="UTR-E2E-0001")
    assert receipt.amount == Decimal("150000.00") and receipt.customer == ledger.acme

    # allocate the rest oldest first: 68,000 finishes INV-101, 32,000 goes to INV-102
    page.get_by_role("button", name="Oldest first").click()
    expect(page.get_by_label("Allocate to INV-101")).to_have_value(re.compile(r"^68,?000(\.00)?$"))
    expect(page.get_by_label("Allocate to INV-102")).to_have_value(re.compile(r"^32,?000(\.00)?$"))
    shoot(page, "allocation")
    page.get_by_role("button", name="Allocate", exact=True).click()
    expect(page.get_by_text(re.compile(r"Allocated ₹1,00,000.00"))).to_be_visible()
    expect(on_account).to_contain_text("₹0.00")
    applied = sorted((a.debit_item.document.number, a.amount) for a in
                     Allocation.objects.filter(credit_item__document=receipt).select_related("debit_item__document"))
    assert applied == [("INV-101", Decimal("50000")), ("INV-101", Decimal("68000")), ("INV-102", Decimal("32000"))]

    # the ageing after: nothing left at 61-90, 27,000 at 1-30
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Ageing").click()
    after = ageing_row(page, "C001")
    assert bucket(after, "61") == 0 and bucket(after, "1") == Decimal("27000.00")
    assert bucket(after, "Total") == Decimal("27000.00")
    shoot(page, "ageing")

    # Excel: the file the browser downloads holds the same figures, as numbers
    with page.expect_download() as download:
        page.get_by_role("link", name="Excel").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.suffix == ".xlsx"
    sheet = load_workbook(path).worksheets[0]
    header = [c.value for c in sheet[1]]
    rows = {r[0]: dict(zip(header, r, strict=True)) for r in sheet.iter_rows(min_row=2, values_only=True)}
    acme = rows["C001"]
    assert acme["Name"] == "Acme Fasteners Pvt Ltd"
    assert Decimal(str(acme["Total"])) == Decimal("27000.00")
    assert Decimal(str(acme[next(h for h in header if str(h).startswith("1"))])) == Decimal("27000.00")
    assert Decimal(str(acme[next(h for h in header if str(h).startswith("61"))] or 0)) == 0
    assert Decimal(str(rows["C002"]["Total"])) == Decimal("236000.00")
    assert isinstance(acme["Total"], int | float)  # a number Excel can add up, not text
    assert "C003" not in rows  # Bharat has paid everything


def test_invoices_document_page_and_audit_log(login, ledger, shoot):
    page = login("ar_manager")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Documents").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Invoices")
    numbers = page.get_by_role("link", name=re.compile(r"^INV-\d+$"))
    expect(numbers).to_have_count(4)
    page.get_by_label("Overdue only").check()
    page.get_by_role("button", name=re.compile("^(Filter|Apply|Show)")).click()
    expect(page).to_have_url(re.compile(r"overdue="))
    expect(numbers).to_have_count(2)  # Acme's two; Zenith's is not due and Bharat's is paid
    shoot(page, "invoices")

    page.get_by_role("link", name="INV-101").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("INV-101")
    expect(page.get_by_role("region", name="Amounts")).to_contain_text("1,18,000.00")
    shoot(page, "document")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit").click()
    expect(page.get_by_role("heading", name="Audit log", level=1)).to_be_visible()
    page.get_by_role("button", name="Verify now").click()
    expect(page.get_by_role("status").filter(has_text="Chain verified")).to_be_visible()
    shoot(page, "audit")


def test_what_each_role_is_offered(login, ledger):
    auditor = login("auditor")
    auditor.goto("/customers/C001/")
    expect(auditor.get_by_role("link", name="New receipt")).to_have_count(0)
    assert auditor.goto("/receipts/new/").status == 403
    expect(auditor.get_by_role("navigation", name="Main").get_by_role("link", name="Audit")).to_be_visible()

    collector = login("collector")
    expect(collector.get_by_role("navigation", name="Main").get_by_role("link", name="Audit")).to_have_count(0)
    assert collector.goto("/audit/").status == 403


def money_text(value: Decimal) -> str:
    """₹ figures as the pages print them for en_IN (1,23,456.78)."""
    whole, paise = f"{value:.2f}".split(".")
    head, tail = whole[:-3], whole[-3:]
    groups = []
    while len(head) > 2:
        groups.insert(0, head[-2:])
        head = head[:-2]
    if head:
        groups.insert(0, head)
    return ",".join([*groups, tail]) + "." + paise


def test_money_text():
    assert money_text(Decimal("12345678")) == "1,23,45,678.00"
    assert money_text(Decimal("59000")) == "59,000.00"
    assert money_text(Decimal("118000.5")) == "1,18,000.50"
