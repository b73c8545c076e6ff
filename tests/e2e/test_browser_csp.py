"""Pages under the Content-Security-Policy in real Chromium: nothing refused (the new_page fixture fails a test
on any refusal Chromium reports), and what scripts now do for the markup still happens."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_dashboard_bars_take_their_widths_under_the_policy(login, ledger):
    page = login("ar_manager")
    page.goto("/")
    bar = page.locator(".meter > span").first
    width = bar.get_attribute("data-width")
    assert width and width != "0%"
    page.wait_for_function("el => el.style.width !== ''", arg=bar.element_handle())
    assert bar.evaluate("el => el.style.width") == width
    assert bar.evaluate("el => el.getBoundingClientRect().width") > 0
    page.wait_for_function("() => document.querySelectorAll('canvas#ageing-chart').length === 1 && window.Chart")


def test_the_api_docs_page_renders_swagger_ui_under_the_policy(new_page, users):
    page = new_page()
    page.goto("/api/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("dues")
    expect(page.locator(".opblock").first).to_be_visible()
