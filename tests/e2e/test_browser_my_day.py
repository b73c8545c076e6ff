"""A collector's day in real Chromium, on a laptop (1366×768) and on a phone (390×844): signing in lands on My
day; log a call dated yesterday with a follow-up (the row comes back over htmx, focused, offering the promise),
take the promise in Indian grouping, preview a statement from its template and send it to a loopback SMTP
server, whose message is read back with its PDF. No page is wider than the window."""

from __future__ import annotations

import email
import email.policy
import re
import socket
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from dues import clock
from dues.formats import format_day

from .conftest import PASSWORD, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]

SIZES = {"laptop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}


class Sink:
    """An aiosmtpd handler keeping every message delivered to the loopback server."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        msg = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        self.messages.append(SimpleNamespace(rcpt=list(envelope.rcpt_tos), msg=msg))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp(monkeypatch, tmp_path):
    """A real SMTP server on loopback; the live server (a thread of this process) sends to it."""
    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("DUES_HOME", str(tmp_path / "home"))
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("DUES_SMTP_URL", f"smtp://127.0.0.1:{port}")
    monkeypatch.setenv("DUES_MAIL_FROM", "Test Traders Accounts <ar@testtraders.example>")
    yield sink
    controller.stop()


@pytest.fixture
def pooja(live_server, company, make_customer, post, _fresh_rate_limits):
    """The collector Pooja Deshpande (login pooja) with two customers overdue; someone else's customer."""
    from dues.users.services import user_add

    def ago(n):
        return clock.today() - timedelta(days=n)

    user, _ = user_add(username="pooja", role="collector", password=PASSWORD, person_name="Pooja Deshpande",
                       actor="test")
    acme = make_customer("C001", name="Acme Fasteners Pvt Ltd", collector="Pooja Deshpande",
                         email="accounts@acme.example", phone="+91 98200 11111")
    orbit = make_customer("C004", name="Orbit Engineering Works", collector="Pooja Deshpande")
    other = make_customer("C009", name="Zenith Polymers", collector="Kavita Menon")
    post("invoice", "INV-101", acme, ago(100), "118000.00")
    post("invoice", "INV-102", acme, ago(40), "59000.00")
    post("invoice", "INV-401", orbit, ago(50), "75000.00")
    post("invoice", "INV-901", other, ago(50), "99000.00")
    return SimpleNamespace(user=user, acme=acme)


def fits(page) -> None:
    """No sideways scrolling: the page is no wider than the window."""
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if width > inner:  # name what sticks out, for the failure message
        wide = page.evaluate("""() => Array.from(document.querySelectorAll('body *'))
            .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1)
            .slice(0, 8).map(el => `${el.tagName.toLowerCase()}.${el.className}#${el.id}`)""")
        raise AssertionError(f"{page.url} is {width}px wide in a {inner}px window: {', '.join(wide)}")


@pytest.mark.parametrize("size", list(SIZES))
def test_poojas_day(browser, live_server, pooja, smtp, size, shoot):
    from dues.collections.models import Activity, PromiseToPay

    context = browser.new_context(base_url=live_server.url, viewport=SIZES[size], locale="en-IN")
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        sign_in(page, "pooja")
        fits(page)
        # a collector's home page is My day
        page.wait_for_url(re.compile(r"/my-day/$"))
        expect(page.get_by_role("heading", name="My day", level=1)).to_be_visible()
        expect(page.locator('[data-count="calls"]')).to_have_text("0")
        row = page.locator("#day-c001")
        expect(row).to_contain_text("Acme Fasteners Pvt Ltd")
        expect(row).to_contain_text("₹1,77,000.00")
        expect(page.locator("#day-c009")).to_have_count(0)  # Kavita's customer
        fits(page)
        shoot(page, f"my-day-{size}")

        # 1. a call yesterday: they promised; follow up in two days
        yesterday, follow = clock.today() - timedelta(days=1), clock.today() + timedelta(days=2)
        row.get_by_role("link", name=re.compile("^Log a call")).click()  # the form comes into the row
        call = page.locator("#day-c001-call")
        expect(call.get_by_label("How")).to_be_focused()
        call.get_by_label("Outcome").select_option("promised")
        call.get_by_label("Day of the call").fill(yesterday.isoformat())
        call.get_by_label("Next follow-up").fill(follow.isoformat())
        call.get_by_label("Notes").fill("Accounts head says the cheque is signed")
        fits(page)
        call.get_by_role("button", name=re.compile("Save call")).click()
        row = page.locator("#day-c001")
        expect(row.get_by_role("status")).to_contain_text(
            f"Call on {format_day(yesterday)} logged: promised; follow up on {format_day(follow)}.")
        expect(row).to_be_focused()  # focus is back on the changed row
        expect(row.get_by_role("status").get_by_role("link", name="Take a promise")).to_be_visible()
        activity = Activity.objects.get(kind="call")
        assert (activity.on, activity.next_follow_up, activity.created_by) == (yesterday, follow, "pooja")
        fits(page)

        # 2. the promise, offered next, in Indian grouping
        promise_form = row.locator("#day-c001-promise")
        expect(promise_form.get_by_label("Amount promised")).to_be_visible()
        promised = clock.today() + timedelta(days=3)
        promise_form.get_by_label("Amount promised").fill("1,50,000")
        promise_form.get_by_label("Promised date").fill(promised.isoformat())
        promise_form.get_by_role("button", name=re.compile("Save promise")).click()
        row = page.locator("#day-c001")
        expect(row.get_by_role("status")).to_contain_text(f"Promise of ₹1,50,000.00 by {format_day(promised)} taken.")
        expect(row).to_be_focused()
        promise = PromiseToPay.objects.get()
        assert promise.amount == Decimal("150000") and promise.taken_on == yesterday
        fits(page)

        # 3. the statement from its template: preview, then send to the loopback SMTP server
        send = row.locator("#day-c001-send")
        expect(send.get_by_label("Template")).to_be_visible()  # offered next
        send.get_by_label("Template").select_option("statement")
        send.get_by_label("Channel").select_option("email")
        send.get_by_role("button", name=re.compile("Preview")).click()
        row = page.locator("#day-c001")
        preview = row.get_by_role("region", name=re.compile("Preview of the message"))
        attachment = f"statement-C001-{clock.today().isoformat()}.pdf"
        expect(preview).to_contain_text("accounts@acme.example")
        expect(preview).to_contain_text(attachment)
        assert smtp.messages == []  # a preview sends nothing
        fits(page)
        shoot(page, f"my-day-preview-{size}")
        preview.get_by_role("button", name=re.compile("Send now")).click()
        row = page.locator("#day-c001")
        expect(row.get_by_role("status")).to_contain_text("Statement sent by email to accounts@acme.example")
        [mail] = smtp.messages
        assert mail.rcpt == ["accounts@acme.example"]
        [pdf] = list(mail.msg.iter_attachments())
        assert pdf.get_filename() == attachment and pdf.get_content_type() == "application/pdf"
        assert pdf.get_content().startswith(b"%PDF")
        fits(page)

        # the counts at the top follow the day's work
        page.reload()
        expect(page.locator('[data-count="calls"]')).to_have_text("1")
        expect(page.locator('[data-count="promises"]')).to_have_text("1")
        expect(page.locator('[data-count="promised"]')).to_have_text("₹1,50,000.00")
        fits(page)
        shoot(page, f"my-day-after-{size}")
    finally:
        context.close()
