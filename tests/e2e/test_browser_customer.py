"""The customer page in real Chromium, on a desk (1366 px) and on a phone (390 px): a manager creates a
customer with two contacts and opens it; a collector opens a customer with money on account and
allocates it from the customer page. No page is wider than the window."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]

WIDTHS = {"desk": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


WIDEST = """() => [...document.querySelectorAll('body *')].filter(e => {
    if (e.getBoundingClientRect().right <= window.innerWidth + 1) return false;
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(a).overflowX)) return false;
    }
    return true;
  }).slice(0, 8).map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))"""


def fits(page) -> None:
    wide = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert wide[0] <= wide[1], f"{page.url} is {wide[0]} px wide in a {wide[1]} px window: {page.evaluate(WIDEST)}"


@pytest.mark.parametrize("size", WIDTHS)
def test_manager_creates_a_customer_with_two_contacts(login, company, size, shoot):
    from dues.audit.models import AuditRecord
    from dues.customers.models import Customer

    page = login("ar_manager")
    page.set_viewport_size(WIDTHS[size])
    page.goto("/customers/")
    fits(page)
    page.get_by_role("link", name="New customer").click()
    expect(page.get_by_role("heading", name="New customer", level=1)).to_be_visible()
    fits(page)
    page.get_by_label("Code").fill("C500")
    page.get_by_role("region", name="Customer").get_by_label("Name").fill("Godavari Agro Foods")
    page.get_by_label("GSTIN").fill("27AAPFU0939F1ZX")  # a wrong check digit first
    page.get_by_label("Credit limit").fill("1,50,000")
    page.get_by_label("Credit days").fill("45")
    page.get_by_label("Collector").fill("Meena")
    contacts = page.locator(".cust-contact")
    first, second = contacts.nth(0), contacts.nth(1)
    first.get_by_label("Name").fill("Lakshmi Iyer")
    first.get_by_label("E-mail").fill("lakshmi@godavari.example")
    first.get_by_label("WhatsApp").fill("+91 98450 11111")
    first.get_by_label("Primary").check()
    second.get_by_label("Name").fill("Ramesh Godavari")
    second.get_by_label("Role").select_option("owner")
    second.get_by_label("Phone").fill("+91 98450 22222")
    page.get_by_role("button", name="Create customer").click()
    expect(page.get_by_text("The customer was not saved")).to_be_visible()
    expect(page.locator("#f-gstin-error")).to_contain_text("GSTIN")
    fits(page)
    assert not Customer.objects.filter(code="C500").exists()
    expect(page.locator(".cust-contact").nth(0).get_by_label("Name")).to_have_value("Lakshmi Iyer")  # kept
    page.get_by_label("GSTIN").fill("27AAPFU0939F1ZV")
    page.get_by_role("button", name="Create customer").click()

    expect(page).to_have_url(re.compile(r"/customers/C500/$"))
    expect(page.get_by_role("heading", name="Godavari Agro Foods", level=1)).to_be_visible()
    contacts_panel = page.locator("#contacts")
    expect(contacts_panel).to_contain_text("Lakshmi Iyer")
    expect(contacts_panel).to_contain_text("Ramesh Godavari")
    expect(contacts_panel).to_contain_text("primary")
    expect(page.locator(".facts")).to_contain_text("₹1,50,000.00")
    fits(page)
    shoot(page, f"customer-created-{size}")
    customer = Customer.objects.get(code="C500")
    assert customer.contacts.count() == 2 and customer.contacts.get(is_primary=True).name == "Lakshmi Iyer"
    assert AuditRecord.objects.filter(object_type="customer", object_id="C500", action="create").exists()


@pytest.mark.parametrize("size", WIDTHS)
def test_collector_allocates_an_unapplied_receipt_from_the_customer_page(login, ledger, post, size, shoot):
    from dues.ledger.models import OpenItem

    from .conftest import days_ago

    post("receipt", "RCT-900", ledger.acme, days_ago(3), "59000.00", mode="neft", reference="UTR900")  # on account
    page = login("collector")
    page.set_viewport_size(WIDTHS[size])
    page.goto("/customers/C001/")
    expect(page.get_by_role("heading", name="Acme Fasteners Pvt Ltd", level=1)).to_be_visible()
    credits = page.locator("#credits")
    expect(credits).to_contain_text("RCT-900")
    expect(credits).to_contain_text("59,000.00")
    fits(page)
    shoot(page, f"customer-page-{size}")
    credits.get_by_role("link", name="Allocate RCT-900").click()

    expect(page).to_have_url(re.compile(r"/allocate/receipt/RCT-900/$"))
    fits(page)
    page.get_by_role("button", name="Oldest first").click()
    expect(page.get_by_label("Allocate to INV-101")).to_have_value(re.compile(r"^59,?000(\.00)?$"))
    page.get_by_role("button", name="Allocate", exact=True).click()
    expect(page.get_by_role("alert").or_(page.get_by_role("status")).first).to_contain_text("Allocated ₹59,000.00")
    item = OpenItem.objects.get(document__number="RCT-900", side="C", reversal_of__isnull=True)
    assert item.residual == 0
    page.get_by_role("link", name="Back to C001").click()
    expect(page.locator("#credits")).not_to_contain_text("RCT-900")
    expect(page.locator("#receipts")).to_contain_text("INV-101")
    fits(page)
