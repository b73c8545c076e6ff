"""Global search from the top bar and a bulk action on the customer list, in Chromium at 1366 px and 390 px."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from dues.audit.models import AuditRecord
from dues.collections.models import CustomerCollections

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]

NO_SIDEWAYS = "document.documentElement.scrollWidth <= window.innerWidth"
# what this feature adds to a page, each within the viewport
OURS_FIT = """() => Array.from(document.querySelectorAll('.bulkbar, .saved-filters, .search-results:not(.search-results--compact), .search'))
  .filter(el => el.getBoundingClientRect().right > window.innerWidth + 0.5)
  .map(el => el.className + ' ' + Math.round(el.getBoundingClientRect().right) + ' ' + window.scrollX)"""
def fits(page, what: str) -> bool:
    """No sideways scrolling: what search and bulk actions add, then the page as a whole."""
    page.evaluate("window.scrollTo(0, window.scrollY)")  # focusing a box off to the right scrolls sideways
    wide = page.evaluate(OURS_FIT)
    assert not wide, f"{what}: the search / saved filters / bulk bar is wider than the viewport: {wide}"
    assert page.evaluate(NO_SIDEWAYS), f"{what} is wider than the viewport"
    return True


@pytest.mark.parametrize("width", [1366, 390])
def test_search_an_invoice_by_keyboard_then_hold_dunning_in_bulk(login, ledger, width):
    page = login("ar_manager")
    before = AuditRecord.objects.filter(action="bulk", object_id="hold").count()
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/customers/")
    whole = fits(page, "the customer list")

    # "/" focuses the top bar's box from anywhere; the typeahead lists the invoice; Tab reaches it, Enter opens it
    page.locator("body").press("/")
    box = page.locator("#topsearch-q")
    expect(box).to_be_focused()
    box.press_sequentially("INV-101", delay=30)
    first = page.locator("#topsearch-suggest a").first
    expect(first).to_have_text("Invoice INV-101")
    page.keyboard.press("Tab")
    expect(first).to_be_focused()
    whole &= fits(page, "the page with the typeahead open")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/documents/invoice/INV-101/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("INV-101")
    whole &= fits(page, "the invoice page")

    # the results page: the exact match first, reached by keyboard from the page's own box
    page.goto("/search/?q=inv-101")
    expect(page.locator(".search-results__hit a").first).to_have_text("Invoice INV-101")
    page.locator("#search-q").focus()
    page.keyboard.press("Tab")  # the Search button
    page.keyboard.press("Tab")  # the first result
    expect(page.locator(".search-results__hit a").first).to_be_focused()
    whole &= fits(page, "the search results")

    # bulk: tick Acme and Bharat, hold their dunning with a reason
    page.goto("/customers/")
    page.get_by_label("Select C001 Acme Fasteners Pvt Ltd").check()
    page.get_by_label("Select C003 Bharat Steel Traders").check()
    expect(page.locator("#bulk-count")).to_have_text("2 selected")
    page.locator("#bulk-action").select_option("hold")
    page.locator("#bulk-reason").fill("rates under dispute")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("status").filter(has_text="2 customers put on hold")).to_be_visible()
    whole &= fits(page, "the customer list with its message")
    held = CustomerCollections.objects.filter(dunning_hold=True)
    assert sorted(p.customer.code for p in held) == ["C001", "C003"]
    assert AuditRecord.objects.filter(action="bulk", object_id="hold").count() == before + 1
    assert whole
