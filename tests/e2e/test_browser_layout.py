"""Every main page fits a 390 px phone and a 1366 px laptop (no sideways scrolling), the menu opens on the
phone, and a receipt typed the Indian way ("1,50,000", dated dd-mm-yyyy) saves. Real Chromium."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from dues import clock

pytestmark = [pytest.mark.browser]

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}

#: the main pages, as the AR manager opens them (a page not built yet answers 404 and is skipped)
MAIN_PAGES = [
    "/", "/customers/", "/customers/C001/", "/customers/C001/timeline/", "/worklist/", "/promises/", "/disputes/",
    "/dunning/preview/", "/collections/policies/", "/collections/templates/", "/cash/", "/invoices/", "/receipts/",
    "/credit-notes/", "/documents/invoice/INV-101/", "/receipts/new/?customer=C001", "/ageing/",
    "/ageing/items/?bucket=61-90", "/reconcile/", "/reconcile/confirmations/", "/imports/", "/audit/", "/my-day/",
    "/search/?q=INV-101",
]

WIDER_THAN_THE_WINDOW = "() => document.documentElement.scrollWidth - window.innerWidth"


@pytest.fixture
def manager_at(browser, live_server, users, ledger):
    """manager_at(viewport) -> a page signed in as the AR manager in a browser window that size."""
    from .conftest import sign_in

    contexts = []

    def _open(viewport):
        context = browser.new_context(base_url=live_server.url, viewport=viewport, locale="en-IN")
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        sign_in(page, users["ar_manager"].username)
        page.wait_for_url(lambda url: "/login/" not in url)
        return page

    yield _open
    for context in contexts:
        context.close()


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["390px", "1366px"])
def test_every_main_page_fits_the_window(manager_at, viewport):
    page = manager_at(viewport)
    too_wide, seen = {}, 0
    for url in MAIN_PAGES:
        response = page.goto(url)
        if response.status == 404:
            continue
        assert response.status == 200, url
        seen += 1
        extra = page.evaluate(WIDER_THAN_THE_WINDOW)
        if extra > 0:
            too_wide[url] = extra
    assert seen >= 18
    assert not too_wide, f"pages wider than {viewport['width']} px (by px): {too_wide}"


def test_the_menu_opens_on_a_phone_and_the_nav_is_inline_on_a_laptop(manager_at):
    phone = manager_at(PHONE)
    phone.goto("/customers/")
    nav = phone.get_by_role("navigation", name="Main")
    menu = phone.get_by_role("button", name="Menu")
    expect(nav).to_be_hidden()
    expect(menu).to_have_attribute("aria-expanded", "false")
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(nav.get_by_role("link", name="Ageing")).to_be_visible()
    expect(phone.locator(".session__role")).to_have_text("AR manager")   # not "armanager"
    nav.get_by_role("link", name="Ageing").click()
    expect(phone.get_by_role("heading", name="Ageing", level=1)).to_be_visible()
    assert phone.evaluate(WIDER_THAN_THE_WINDOW) <= 0

    laptop = manager_at(LAPTOP)
    laptop.goto("/")
    expect(laptop.get_by_role("button", name="Menu")).to_be_hidden()
    expect(laptop.get_by_role("navigation", name="Main").get_by_role("link", name="Customers")).to_be_visible()
    expect(laptop.get_by_role("button", name="Log out")).to_have_attribute("title", re.compile(r"\(AR manager\)$"))


def test_dashboard_figures_fit_and_show_the_exact_amount_on_focus(manager_at):
    page = manager_at(LAPTOP)
    page.goto("/")
    figure = page.locator(".card__figure data.figure").first
    expect(figure).to_have_attribute("title", "₹4,13,000.00")  # 1,18,000 + 59,000 + 2,36,000
    expect(figure).to_contain_text("₹4.13 L")
    figure.focus()
    expect(figure.locator(".figure__exact-tip")).to_be_visible()
    clipped = page.evaluate("""() => [...document.querySelectorAll('.card__figure')]
        .filter(el => el.scrollWidth > el.clientWidth).map(el => el.textContent.trim())""")
    assert clipped == []


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["390px", "1366px"])
def test_a_receipt_typed_the_indian_way_saves(manager_at, viewport):
    from dues.ledger.models import Document

    page = manager_at(viewport)
    page.goto("/receipts/new/?customer=C001")
    typed_on = clock.today().strftime("%d-%m-%Y")
    date_box = page.get_by_label("Date")
    expect(date_box).to_have_attribute("type", "text")
    expect(date_box).to_have_attribute("placeholder", "dd-mm-yyyy")
    date_box.fill(typed_on)
    page.get_by_label("Amount received").fill("1,50,000")
    page.get_by_label("Reference / UTR").fill("UTR-LAKH-0001")
    page.get_by_label("Allocate to INV-101").fill("1,18,000")
    expect(page.get_by_role("status").filter(has_text="on account")).to_contain_text("32,000.00")
    page.get_by_role("button", name="Post receipt").click()
    expect(page.get_by_text(re.compile(r"Receipt \S+ posted"))).to_be_visible()
    receipt = Document.objects.get(kind="receipt", reference="UTR-LAKH-0001")
    assert receipt.amount == Decimal("150000.00") and receipt.date == clock.today()
    assert page.evaluate(WIDER_THAN_THE_WINDOW) <= 0


def test_after_an_htmx_save_focus_returns_to_the_changed_row(manager_at):
    page = manager_at(LAPTOP)
    page.goto("/worklist/")
    expect(page.locator("#busy.htmx-indicator")).to_be_attached()          # the top bar's loading indicator
    expect(page.locator("link[rel=icon]")).to_have_attribute("href", re.compile(r"favicon\.svg$"))
    row = page.locator("#wl-c001")
    row.get_by_text("Log a call").click()
    row.get_by_label("Outcome").select_option("reached")
    row.get_by_role("button", name=re.compile("^Save")).click()
    expect(page.locator("#wl-c001").get_by_role("status")).to_contain_text("logged")
    page.wait_for_function("() => document.activeElement && document.activeElement.closest('#wl-c001') !== null")
