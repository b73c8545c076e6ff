"""Webhooks: events written to the outbox with the change itself, signed deliveries to a local receiver,
retries with exponential back-off, the delivery log, and the subscriber commands."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dues import clock

pytestmark = pytest.mark.date_sensitive  # deliveries are due by "now"


class Receiver:
    """A local HTTP endpoint that records what it is sent and answers ``status``."""

    def __init__(self):
        self.received: list[tuple[dict, bytes]] = []
        self.status = 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def book(company, make_customer, post):
    c1 = make_customer("C001", name="Shree Ganesh Traders")
    return c1


def test_posting_writes_the_outbox_and_delivery_is_signed(book, post, receiver):
    from dues.api.models import WebhookDelivery, WebhookOutbox
    from dues.api.webhooks import deliver_due, subscriber_add, verify

    sub = subscriber_add(url=receiver.url, events=["invoice.posted", "receipt.posted"], secret="s3cret", actor="test")
    other = subscriber_add(url=receiver.url, events=["dispute.opened"], actor="test")
    post("invoice", "INV-1", book, "2026-11-01", "1180.00", taxable_value=Decimal("1000.00"))
    post("receipt", "RCT-1", book, "2026-11-05", "1180.00", allocations=[("INV-1", Decimal("1180.00"))])
    rows = list(WebhookOutbox.objects.order_by("pk"))
    assert [(r.event, r.subscriber_id) for r in rows] == [("invoice.posted", sub.pk), ("receipt.posted", sub.pk)]
    assert not WebhookOutbox.objects.filter(subscriber=other).exists()

    counts = deliver_due(clock.now())
    assert counts == {"delivered": 2, "retry": 0, "failed": 0}
    assert len(receiver.received) == 2
    headers, body = receiver.received[0]
    assert headers["x-dues-event"] == "invoice.posted"
    assert headers["x-dues-signature"].startswith("sha256=")
    assert verify("s3cret", headers["x-dues-timestamp"], body, headers["x-dues-signature"],
                  now=int(clock.now().timestamp()))
    assert not verify("wrong", headers["x-dues-timestamp"], body, headers["x-dues-signature"])
    assert not verify("s3cret", headers["x-dues-timestamp"], body + b" ", headers["x-dues-signature"])
    payload = json.loads(body)
    assert payload["event"] == "invoice.posted" and payload["data"]["number"] == "INV-1"
    assert payload["data"]["customer"] == "C001" and payload["data"]["amount"].startswith("1180")
    assert WebhookOutbox.objects.filter(status="delivered").count() == 2
    assert WebhookDelivery.objects.filter(status_code=200).count() == 2
    assert deliver_due(clock.now()) == {"delivered": 0, "retry": 0, "failed": 0}  # sent once


def test_a_rolled_back_change_leaves_no_event(book, post, receiver):
    from django.db import transaction

    from dues.api.models import WebhookOutbox
    from dues.api.webhooks import subscriber_add

    subscriber_add(url=receiver.url, actor="test")
    with pytest.raises(RuntimeError), transaction.atomic():
        post("invoice", "INV-X", book, "2026-11-01", "100.00")
        assert WebhookOutbox.objects.count() == 1
        raise RuntimeError("the caller's transaction fails")
    assert WebhookOutbox.objects.count() == 0


def test_failures_are_retried_with_exponential_backoff_then_given_up(book, post, receiver):
    from dues.api.models import WebhookDelivery, WebhookOutbox
    from dues.api.webhooks import MAX_ATTEMPTS, backoff, deliver_due, subscriber_add

    subscriber_add(url=receiver.url, events=["invoice.posted"], actor="test")
    post("invoice", "INV-1", book, "2026-11-01", "100.00")
    receiver.status = 500
    now = clock.now()
    assert deliver_due(now) == {"delivered": 0, "retry": 1, "failed": 0}
    row = WebhookOutbox.objects.get()
    assert row.attempts == 1 and row.next_attempt_at == now + timedelta(seconds=60)
    assert deliver_due(now + timedelta(seconds=59)) == {"delivered": 0, "retry": 0, "failed": 0}  # not yet due
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    for _ in range(MAX_ATTEMPTS - 2):
        row.refresh_from_db()
        deliver_due(row.next_attempt_at)
    row.refresh_from_db()
    assert row.attempts == MAX_ATTEMPTS - 1 and row.status == "pending"
    receiver.status = 204
    assert deliver_due(row.next_attempt_at)["delivered"] == 1
    log = list(WebhookDelivery.objects.order_by("pk").values_list("status_code", flat=True))
    assert log == [500] * (MAX_ATTEMPTS - 1) + [204]

    # a receiver that is gone: connection errors logged, given up after MAX_ATTEMPTS
    receiver.close()
    post("invoice", "INV-2", book, "2026-11-02", "100.00")
    row = WebhookOutbox.objects.get(status="pending")
    for _ in range(MAX_ATTEMPTS):
        deliver_due(row.next_attempt_at)
        row.refresh_from_db()
    assert row.status == "failed" and row.attempts == MAX_ATTEMPTS
    assert WebhookDelivery.objects.filter(outbox=row, status_code__isnull=True).exclude(error="").count() == MAX_ATTEMPTS


def test_collections_events(book, post, receiver, company):
    from dues.api.models import WebhookOutbox
    from dues.api.webhooks import subscriber_add
    from dues.collections.services.disputes import dispute_open, dispute_resolve
    from dues.collections.services.policies import customer_collections_update
    from dues.collections.services.promises import promise_add, promises_refresh

    subscriber_add(url=receiver.url, events=["dispute.opened", "dispute.resolved", "promise.broken", "customer.hold",
                                             "customer.released"], actor="test")
    post("invoice", "INV-1", book, "2026-10-01", "1000.00")
    dispute = dispute_open(company=company, invoice="INV-1", amount=Decimal("100"), reason="price", owner="sales",
                           actor="test")
    dispute_resolve(dispute=dispute, rejected=True, actor="test")
    customer_collections_update(customer=book, actor="test", hold=True, hold_reason="talks")
    customer_collections_update(customer=book, actor="test", hold=False)
    today = clock.today()
    promise_add(customer=book, amount=Decimal("500"), promised_date=today - timedelta(days=10),
                taken_on=today - timedelta(days=12), grace_days=0, actor="test")
    promises_refresh(company)
    assert list(WebhookOutbox.objects.order_by("pk").values_list("event", flat=True)) == [
        "dispute.opened", "dispute.resolved", "customer.hold", "customer.released", "promise.broken"]


def test_webhook_commands(company, receiver):
    from click.testing import CliRunner

    from dues.api.models import WebhookSubscriber
    from dues.cli import api as _api  # noqa: F401  (registers the commands)
    from dues.cli.main import cli

    runner = CliRunner()
    r = runner.invoke(cli, ["--user", "test", "webhook", "add", receiver.url, "--event", "invoice.posted,receipt.posted"])
    assert r.exit_code == 0, r.output
    sub = WebhookSubscriber.objects.get()
    assert r.output.strip().splitlines()[-1] == sub.secret and sub.events == ["invoice.posted", "receipt.posted"]
    r = runner.invoke(cli, ["webhook", "list", "--format", "json"])
    assert json.loads(r.output)[0]["url"] == receiver.url
    r = runner.invoke(cli, ["--user", "test", "webhook", "add", "ftp://x", "--event", "nope"])
    assert r.exit_code != 0
    r = runner.invoke(cli, ["webhook", "deliver"])
    assert r.exit_code == 0 and "delivered 0" in r.output
    r = runner.invoke(cli, ["--user", "test", "webhook", "remove", str(sub.pk)])
    assert r.exit_code == 0
    sub.refresh_from_db()
    assert sub.active is False


def test_a_deliverer_that_dies_mid_way_leaves_its_rows_to_the_next_after_the_lease(book, post, receiver, monkeypatch):
    from dues.api import webhooks
    from dues.api.models import WebhookOutbox

    webhooks.subscriber_add(url=receiver.url, actor="test")
    post("invoice", "INV-1", book, "2026-11-01", "100.00")

    def crash(row, now):
        raise SystemExit("killed while sending")

    send = webhooks._send
    monkeypatch.setattr(webhooks, "_send", crash)
    now = clock.now()
    with pytest.raises(SystemExit):
        webhooks.deliver_due(now)
    row = WebhookOutbox.objects.get()
    assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 0, now + webhooks.LEASE)
    monkeypatch.setattr(webhooks, "_send", send)  # (not undo(): that would unfreeze the clock too)
    assert webhooks.deliver_due(now)["delivered"] == 0  # still claimed
    assert webhooks.deliver_due(now + webhooks.LEASE)["delivered"] == 1
    assert len(receiver.received) == 1
