"""The README's screenshots, taken from a running desk (the demo) in real Chromium; changes nothing in it.

Not part of the suite (it needs a running desk). ``scripts/screenshots`` builds the demo, serves it and runs
this file (one command); by hand:

    DUES_HOME=/tmp/demo dues demo --no-serve && DUES_HOME=/tmp/demo dues serve --port 8105 &
    DUES_SHOWCASE_URL=http://127.0.0.1:8105 DUES_SCREENSHOTS=docs/screenshots \\
        .venv/bin/pytest tests/e2e/showcase_screenshots.py

``test_main_pages_at_both_widths`` photographs every main page as the AR manager at 1366 px and on a 390 px
phone (``NAME-1366.png``, ``NAME-390.png``); a page the desk does not have (404) is skipped.
"""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import expect

from .conftest import sign_in

#: (file name, URL) of the main pages; {customer} and {invoice} are filled from the desk's own lists
MAIN_PAGES = [
    ("dashboard", "/"), ("customers", "/customers/?sort=-overdue"), ("customer", "/customers/{customer}/"),
    ("worklist", "/worklist/"), ("my-day", "/my-day/"), ("search", "/search/?q={invoice}"),
    ("promises", "/promises/"), ("disputes", "/disputes/"), ("cash", "/cash/"), ("documents", "/invoices/"),
    ("ageing", "/ageing/"), ("reconcile", "/reconcile/"), ("imports", "/imports/"), ("audit", "/audit/"),
]
WIDTHS = {"1366": {"width": 1366, "height": 768}, "390": {"width": 390, "height": 844}}

pytestmark = [pytest.mark.browser]

SHOWCASE_URL = os.environ.get("DUES_SHOWCASE_URL", "").rstrip("/")


def test_screenshots_of_a_running_desk(browser, shoot):
    assert SHOWCASE_URL, "set DUES_SHOWCASE_URL to the running desk to photograph"
    """The README's screenshots (long lists cut at the 1280x800 viewport), from a running desk (the demo), changing
    nothing in it:

        DUES_HOME=/tmp/demo dues demo --no-serve && DUES_HOME=/tmp/demo dues serve --port 8105 &
        DUES_SHOWCASE_URL=http://127.0.0.1:8105 DUES_SCREENSHOTS=docs/screenshots \\
            pytest tests/e2e/test_browser.py -k running_desk
    """
    from .conftest import VIEWPORT

    context = browser.new_context(base_url=SHOWCASE_URL, viewport=VIEWPORT, locale="en-IN")
    context.set_default_timeout(20_000)
    page = context.new_page()
    nav = page.get_by_role("navigation", name="Main")
    try:
        page.goto("/login/")
        shoot(page, "login")
        sign_in(page, os.environ.get("DUES_SHOWCASE_USER", "admin"), os.environ.get("DUES_SHOWCASE_PASSWORD",
                                                                                     "dues-demo"))
        expect(page.get_by_role("heading", name="Receivables", level=1)).to_be_visible()
        page.wait_for_load_state("networkidle")  # the charts
        shoot(page, "dashboard")

        nav.get_by_role("link", name="Customers").click()
        page.goto(page.url.split("?")[0] + "?sort=-overdue")
        shoot(page, "customers", full_page=False)
        page.locator("tbody").get_by_role("link").nth(1).click()  # the name of the most overdue customer
        expect(page.get_by_role("link", name="New receipt")).to_be_visible()
        shoot(page, "customer")

        page.get_by_role("link", name="New receipt").click()
        page.get_by_label("Amount received").fill("250000")
        page.get_by_label("Reference / UTR").fill("UTR-SBIN-2611290042")
        page.get_by_role("button", name="Oldest first").click()
        expect(page.get_by_role("status").filter(has_text="on account")).to_be_visible()
        page.wait_for_load_state("networkidle")
        shoot(page, "receipt-entry")  # never posted

        nav.get_by_role("link", name="Documents").click()
        page.get_by_role("link", name=re.compile("^Receipts")).first.click()
        page.get_by_label("Status").select_option(label="Unapplied")
        page.get_by_role("button", name=re.compile("^(Filter|Apply|Show)")).click()
        links = page.locator("tbody td:first-child").get_by_role("link")
        for number in [links.nth(i).inner_text() for i in range(min(10, links.count()))]:
            page.goto(f"/allocate/receipt/{number}/")  # one whose customer still owes something
            if page.get_by_role("button", name="Oldest first").count():
                break
        page.get_by_role("button", name="Oldest first").click()
        page.wait_for_load_state("networkidle")
        shoot(page, "allocation")  # never allocated

        nav.get_by_role("link", name="Ageing").click()
        shoot(page, "ageing", full_page=False)
        page.locator("tbody td a").first.click()
        shoot(page, "ageing-items")

        nav.get_by_role("link", name="Documents").click()
        shoot(page, "invoices", full_page=False)
        page.locator("tbody").get_by_role("link").first.click()
        shoot(page, "document")

        nav.get_by_role("link", name="Audit").click()
        shoot(page, "audit", full_page=False)
    finally:
        context.close()


def test_main_pages_at_both_widths(browser, shoot):
    """Every main page as the AR manager (demo login ``manager``), at 1366 px and 390 px, the top of the page."""
    assert SHOWCASE_URL, "set DUES_SHOWCASE_URL to the running desk to photograph"
    user = os.environ.get("DUES_SHOWCASE_MANAGER", "manager")
    password = os.environ.get("DUES_SHOWCASE_PASSWORD", "dues-demo")
    for width, viewport in WIDTHS.items():
        context = browser.new_context(base_url=SHOWCASE_URL, viewport=viewport, locale="en-IN")
        context.set_default_timeout(20_000)
        page = context.new_page()
        try:
            sign_in(page, user, password)
            page.wait_for_url(lambda url: "/login/" not in url)
            page.goto("/customers/?sort=-overdue")
            href = page.locator("tbody a[href*='/customers/']").first.get_attribute("href")
            customer = href.split("/customers/", 1)[1].split("/")[0].split("?")[0]
            page.goto("/invoices/?status=overdue")
            href = page.locator("tbody a[href*='/documents/invoice/']").first.get_attribute("href")
            invoice = href.split("/documents/invoice/", 1)[1].rstrip("/").split("?")[0]
            for name, url in MAIN_PAGES:
                response = page.goto(url.format(customer=customer, invoice=invoice))
                if response.status == 404:
                    continue
                assert response.status == 200, url
                page.wait_for_load_state("networkidle")  # the charts
                shoot(page, f"{name}-{width}", full_page=False)
            if width == "390":
                page.goto("/")
                page.get_by_role("button", name="Menu").click()
                shoot(page, "menu-390", full_page=False)
        finally:
            context.close()
