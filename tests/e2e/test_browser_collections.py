"""Collections in real Chromium: a collector logs a call with a promise on the worklist (HTMX row refresh),
the receipt arrives, and the promise turns kept on the promises board; the timeline shows it all."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from dues import clock

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]


def test_a_promise_taken_on_the_worklist_turns_kept_when_the_receipt_arrives(login, ledger, post, shoot):

    from dues.collections.models import Activity, PromiseToPay

    page = login("collector")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Worklist").click()
    expect(page.get_by_role("heading", name="Worklist", level=1)).to_be_visible()
    # this collector has no customers of their own: the empty state says so; pick Meena's list
    expect(page.get_by_text("Nobody to chase for e2e_collector")).to_be_visible()
    page.get_by_label("Collector").select_option("Meena")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"collector=Meena"))
    row = page.locator("#wl-c001")
    # Acme: 1,77,000 overdue (1,18,000 for 70 days), first on the list; Zenith is not due yet
    expect(row).to_contain_text("₹1,77,000.00")
    expect(row).to_contain_text("never contacted: +120")
    expect(page.locator("#wl-c002")).to_have_count(0)
    shoot(page, "worklist")

    row.get_by_text("Log a call").click()
    row.get_by_label("Kind").select_option("call")
    row.get_by_label("Outcome").select_option("promised")
    row.get_by_role("button", name=re.compile("Save")).click()  # promised, but no amount or date yet
    row = page.locator("#wl-c001")
    expect(row.get_by_text("How much did they promise?")).to_be_visible()
    expect(row.get_by_text("By when?")).to_be_visible()
    assert PromiseToPay.objects.count() == 0 and Activity.objects.count() == 0
    expect(row.get_by_label("Outcome")).to_have_value("promised")  # what was typed is kept
    row.get_by_label("Notes").fill("Accounts will pay INV-102 by NEFT")
    promised = clock.today() + timedelta(days=3)
    row.get_by_label("Amount promised").fill("59000")
    row.get_by_label("Promised date").fill(promised.isoformat())
    row.get_by_label("Invoices").fill("INV-102")
    row.get_by_role("button", name=re.compile("Save")).click()

    row = page.locator("#wl-c001")
    expect(row.get_by_role("status")).to_contain_text("Promise of ₹59,000.00 by " + promised.strftime("%d-%m-%Y"))
    expect(row).not_to_contain_text("never contacted")
    expect(page).to_have_url(re.compile(r"/worklist/\?collector=Meena"))  # the row refreshed in place
    shoot(page, "worklist-logged")
    promise = PromiseToPay.objects.get()
    assert promise.amount == Decimal("59000") and promise.status == PromiseToPay.OPEN
    assert Activity.objects.get(outcome="promised").notes == "Accounts will pay INV-102 by NEFT"

    page.get_by_role("link", name="Promises").click()
    expect(page.get_by_role("link", name=re.compile("^Open"))).to_contain_text("1")
    expect(page.get_by_role("region", name="Open promises")).to_contain_text("Acme Fasteners Pvt Ltd")

    # the receipt arrives and is allocated to INV-102
    post("receipt", "RCT-900", ledger.acme, clock.today().isoformat(), "59000.00", mode="neft",
         reference="UTR900", allocations=[("INV-102", Decimal("59000.00"))])
    page.goto("/promises/?status=kept")
    board = page.get_by_role("region", name="Kept promises")
    expect(board).to_contain_text("Acme Fasteners Pvt Ltd")
    expect(board).to_contain_text("Kept")
    expect(board.locator("td.num").nth(1)).to_have_text("₹59,000.00")  # received
    report = page.get_by_role("region", name="Promised against received")
    expect(report).to_contain_text("₹59,000.00")
    shoot(page, "promises-kept")
    assert PromiseToPay.objects.get().status == PromiseToPay.KEPT

    page.get_by_role("link", name="Acme Fasteners Pvt Ltd").first.click()
    expect(page.get_by_role("heading", name=re.compile("timeline"))).to_be_visible()
    timeline = page.get_by_role("region", name="Timeline")
    expect(timeline).to_contain_text("Accounts will pay INV-102 by NEFT")
    expect(timeline).to_contain_text("Kept")
    shoot(page, "timeline")


def test_sales_and_auditor_cannot_act_on_collections(login, ledger):
    page = login("auditor")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Worklist")).to_have_count(0)
    response = page.goto("/worklist/")
    assert response.status == 403
    page.goto("/disputes/")
    expect(page.get_by_role("heading", name="Disputes", level=1)).to_be_visible()
    expect(page.get_by_role("button", name="Open dispute")).to_have_count(0)
