"""Browser fixtures: Debian's Chromium driven through Playwright's sync API against pytest-django's live server.

The browser is /usr/bin/chromium (``DUES_CHROMIUM`` to use another); Playwright never downloads one. Without
it the browser tests are skipped, except in CI (``CI=true``), where they fail.

Screenshots go to ``DUES_SCREENSHOTS`` when it is set, else to a temporary directory.
"""

from __future__ import annotations

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from dues import clock

# Playwright's sync API keeps an event loop in the main thread; the test code still talks to the
# database synchronously (it is not in a coroutine), which Django would otherwise refuse.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("DUES_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 800}
expect.set_options(timeout=15_000)  # a busy CI machine renders slowly
PASSWORD = "e2e-pass-2026"


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        message = f"Chromium is not installed at {CHROMIUM} (scripts/setup test installs Debian's chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        yield browser
        browser.close()


@pytest.fixture
def screenshots(tmp_path) -> Path:
    directory = Path(os.environ.get("DUES_SCREENSHOTS") or tmp_path / "screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture
def shoot(screenshots):
    """shoot(page, "dashboard"): a PNG of what the browser shows now (the whole page unless full_page=False)."""
    def _shoot(page, name: str, *, full_page: bool = True) -> Path:
        path = screenshots / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return _shoot


@pytest.fixture
def _fresh_rate_limits():
    """No failed sign-ins counted (django-axes keeps them in the database the live server shares)."""
    from axes.utils import reset

    reset()
    yield
    reset()


@pytest.fixture
def users(live_server, company, _fresh_rate_limits):
    """One user per role, all with the password PASSWORD (sales is the salesperson "Ravi")."""
    from dues.users.services import user_add

    made = {}
    for role in ("admin", "ar_manager", "collector", "billing", "sales", "auditor"):
        made[role], _ = user_add(username=f"e2e_{role}", role=role, password=PASSWORD,
                                 person_name="Ravi" if role == "sales" else "", actor="test")
    return made


def days_ago(n: int) -> str:
    """A date relative to the app's today (pages default to "as of today"), as YYYY-MM-DD."""

    return (clock.today() - timedelta(days=n)).isoformat()


@pytest.fixture
def ledger(company, make_customer, post):
    """A small, realistic book, dated back from today (30-day terms):

    Acme owes INV-101 (1,18,000.00, 70 days overdue: 61-90) and INV-102 (59,000.00, 10 days overdue: 1-30);
    Zenith owes INV-201 (2,36,000.00, not yet due); Bharat has paid INV-301 in full.
    """
    acme = make_customer("C001", name="Acme Fasteners Pvt Ltd", gstin="27AAPFU0939F1ZV", credit_limit="1500000",
                         salesperson="Ravi", collector="Meena", email="accounts@acme.example")
    zen = make_customer("C002", name="Zenith Polymers", salesperson="Kiran", collector="Meena")
    bharat = make_customer("C003", name="Bharat Steel Traders", salesperson="Ravi")
    post("invoice", "INV-101", acme, days_ago(100), "118000.00")
    post("invoice", "INV-102", acme, days_ago(40), "59000.00")
    post("invoice", "INV-201", zen, days_ago(10), "236000.00")
    post("invoice", "INV-301", bharat, days_ago(80), "50000.00")
    post("receipt", "RCT-301", bharat, days_ago(60), "50000.00", mode="neft", reference="UTR0001",
         allocations=[("INV-301", Decimal("50000.00"))])
    return SimpleNamespace(acme=acme, zen=zen, bharat=bharat)


@pytest.fixture
def new_page(browser, live_server):
    """new_page(): a fresh browser context (own cookies) and page on the live server.

    Every page is watched for what the Content-Security-Policy refused (an inline script, style or event
    handler, an eval): Chromium reports each on the console, and any makes the test fail at its end.
    """
    contexts = []
    refused = []

    def watch(message):
        if "Content Security Policy" in message.text:
            refused.append(f"{message.location.get('url', '')}: {message.text}")

    def _new():
        context = browser.new_context(base_url=live_server.url, viewport=VIEWPORT, locale="en-IN",
                                      accept_downloads=True)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.on("console", watch)
        return page

    yield _new
    for context in contexts:
        context.close()
    assert not refused, "the Content-Security-Policy refused:\n" + "\n".join(refused)


def sign_in(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


@pytest.fixture
def login(new_page, users):
    """login("collector") -> a page signed in through the form as that role's user."""
    def _login(role: str = "ar_manager"):
        page = new_page()
        sign_in(page, users[role].username)
        page.wait_for_url(lambda url: "/login/" not in url)
        return page

    return _login
