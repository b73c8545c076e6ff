"""The daily dunning run end to end: a real SMTP server on loopback, an SMS webhook, the outbox,
idempotency across runs and crashes, and who may run it."""

from __future__ import annotations

import email
import email.policy
import http.server
import json
import re
import socket
import threading
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]

D = date(2026, 11, 30)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sink:
    """An aiosmtpd handler keeping every delivered message."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        msg = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        self.messages.append(SimpleNamespace(mail_from=envelope.mail_from, rcpt=list(envelope.rcpt_tos), msg=msg,
                                             body=msg.get_body(("plain",)).get_content()))
        return "250 Message accepted for delivery"

    def to(self, address):
        return [m for m in self.messages if address in m.rcpt]


@pytest.fixture
def smtp(monkeypatch, tmp_path):
    from aiosmtpd.controller import Controller

    monkeypatch.setenv("DUES_HOME", str(tmp_path / "home"))
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("DUES_SMTP_URL", f"smtp://127.0.0.1:{port}")
    monkeypatch.setenv("DUES_MAIL_FROM", "Test Traders Accounts <ar@testtraders.example>")
    monkeypatch.setenv("DUES_MAIL_REPLY_TO", "collections@testtraders.example")
    yield sink
    controller.stop()


@pytest.fixture
def outbox(monkeypatch, tmp_path):
    monkeypatch.delenv("DUES_SMTP_URL", raising=False)
    monkeypatch.delenv("DUES_SMS_WEBHOOK_URL", raising=False)
    monkeypatch.setenv("DUES_HOME", str(tmp_path / "home"))
    return tmp_path / "home" / "outbox"


def invoice(post, number, customer, amount, days_overdue):
    due = D - timedelta(days=days_overdue)
    return post("invoice", number, customer, due - timedelta(days=30), amount, due_date=due)


@pytest.fixture
def books(company, make_customer, post):
    """C001 two invoices 1 day overdue; C002 one 7 days overdue; C003 one due in 3 days; C004 on hold."""
    from dues.customers.models import Contact

    acme = make_customer("C001", name="Acme Fasteners Pvt Ltd", email="accounts@acme.example", collector="Meena")
    Contact.objects.create(customer=acme, name="Ravi Kumar", role="accounts", email="ravi@acme.example")
    zen = make_customer("C002", name="Zenith Polymers", email="ap@zenith.example")
    orb = make_customer("C003", name="Orbit Tools", email="pay@orbit.example")
    held = make_customer("C004", name="Held Co", email="held@example.com")
    invoice(post, "INV-1", acme, "118000", 1)
    invoice(post, "INV-2", acme, "1234567.50", 1)
    invoice(post, "INV-3", zen, "50000", 7)
    invoice(post, "INV-4", orb, "2500", -3)
    invoice(post, "INV-5", held, "9000", 1)
    invoice(post, "INV-6", zen, "75000", -20)  # nothing due on it yet
    from dues.collections.services.policies import customer_collections_update

    customer_collections_update(customer=held, actor="test", hold=True, hold_reason="legal case")
    return SimpleNamespace(acme=acme, zen=zen, orb=orb, held=held)


def run(company, on=D, **kw):
    from dues.collections.services.dunning import collect_run

    kw.setdefault("actor", "test")
    return [a.as_json() for a in collect_run(company=company, on=on, **kw).actions]


def by(actions, status):
    return sorted((a["customer"], a["step"]) for a in actions if a["status"] == status)


def test_run_sends_one_mail_per_customer_and_step_through_smtp(company, books, smtp, monkeypatch):
    from dues.collections.models import Activity, DunningAction

    monkeypatch.setenv("DUES_UPI_VPA", "testtraders@icici")
    actions = run(company)
    assert by(actions, "sent") == [("C001", "reminder-1"), ("C002", "reminder-2"), ("C003", "pre-due")]
    assert by(actions, "skipped") == [("C004", "reminder-1")]
    held = next(a for a in actions if a["customer"] == "C004")
    assert held == {"customer": "C004", "step": "reminder-1", "channel": "email", "items": ["INV-5"],
                    "amount": "9000.00", "status": "skipped", "reason": "customer on hold from dunning"}
    acme = next(a for a in actions if a["customer"] == "C001")
    assert acme["items"] == ["INV-1", "INV-2"] and acme["amount"] == "1352567.50"

    assert len(smtp.messages) == 3  # never one mail per invoice
    [mail] = smtp.to("accounts@acme.example")
    assert sorted(mail.rcpt) == ["accounts@acme.example", "ravi@acme.example"]
    assert mail.mail_from == "ar@testtraders.example"
    assert mail.msg["Reply-To"] == "collections@testtraders.example"
    assert mail.msg["Subject"] == "Payment reminder: ₹13,52,567.50 overdue (C001)"
    assert "Dear Ravi Kumar," in mail.body
    assert "INV-1" in mail.body and "₹1,18,000.00" in mail.body and "₹12,34,567.50" in mail.body
    assert "(1 days overdue)" in mail.body
    assert "Test Traders Pvt Ltd" in mail.body  # the signature
    assert "Pay by UPI (any UPI app): upi://pay?" in mail.body and "am=1352567.50" in mail.body
    [zen] = smtp.to("ap@zenith.example")
    assert zen.msg["Subject"] == "Second reminder: ₹50,000.00 overdue (C002)"
    assert "INV-6" not in zen.body  # not due yet, not listed
    assert "outstanding" not in zen.msg["Subject"]
    [orbit] = smtp.to("pay@orbit.example")
    assert orbit.msg["Subject"].startswith("Friendly reminder: ₹2,500.00 falls due on 03-12-2026")

    assert DunningAction.objects.filter(status="sent").count() == 3
    assert set(DunningAction.objects.values_list("attempts", flat=True)) == {1}
    log = Activity.objects.filter(customer=books.acme).get()
    assert (log.kind, log.outcome, log.created_by) == ("email", "sent", "test")
    assert log.subject == mail.msg["Subject"] and log.action.items == ["INV-1", "INV-2"]


def test_second_run_sends_nothing(company, books, smtp):
    run(company)
    again = run(company)
    assert len(smtp.messages) == 3
    assert by(again, "sent") == []
    assert sorted((a["customer"], a["reason"][:12]) for a in again if a["status"] == "skipped") == [
        ("C001", "already sent"), ("C002", "already sent"), ("C003", "already sent"),
        ("C004", "customer on "),
    ]
    # the next day nothing new is due either; a week later both C001 invoices go together once
    assert by(run(company, D + timedelta(days=1)), "sent") == []
    later = run(company, D + timedelta(days=6))
    assert ("C001", "reminder-2") in by(later, "sent")
    assert [m.msg["Subject"] for m in smtp.to("accounts@acme.example")][-1].startswith("Second reminder: ₹13,52,567.50")
    assert by(run(company, D + timedelta(days=6)), "sent") == []


def test_dry_run_writes_and_sends_nothing(company, books, smtp):
    from dues.collections.models import Activity, DunningAction

    actions = run(company, dry_run=True)
    assert by(actions, "pending") == [("C001", "reminder-1"), ("C002", "reminder-2"), ("C003", "pre-due")]
    assert smtp.messages == [] and not DunningAction.objects.exists() and not Activity.objects.exists()


class Crash(BaseException):
    """Stands for the process dying (not an error the run could catch)."""


class CrashAfter:
    def __init__(self, real, ok: int):
        self.real, self.ok, self.calls = real, ok, 0

    def send(self, message):
        self.calls += 1
        if self.calls > self.ok:
            raise Crash()
        return self.real.send(message)

    def close(self):
        self.real.close()


def test_crash_half_way_then_the_next_run_sends_the_rest_once(company, books, smtp):
    from dues.collections.models import DunningAction
    from dues.messaging.transports import EmailTransport

    with pytest.raises(Crash):
        run(company, transports={"email": CrashAfter(EmailTransport(), ok=1)})
    assert len(smtp.messages) == 1
    assert DunningAction.objects.filter(status="pending").count() == 2  # created before sending, left pending
    assert DunningAction.objects.filter(status="sent").count() == 1
    rest = run(company)
    assert len(by(rest, "sent")) == 2
    assert len(smtp.messages) == 3
    assert sorted(r for m in smtp.messages for r in m.rcpt if "acme" not in r) == ["ap@zenith.example",
                                                                                   "pay@orbit.example"]
    assert len(smtp.to("accounts@acme.example")) == 1
    assert by(run(company), "sent") == [] and len(smtp.messages) == 3


class Failing:
    def __init__(self):
        self.calls = 0

    def send(self, message):
        self.calls += 1
        raise ConnectionRefusedError("SMTP server down")


def test_failed_sends_are_recorded_and_retried_next_run(company, books, smtp):
    from dues.collections.models import Activity, DunningAction

    failing = Failing()
    first = run(company, transports={"email": failing})
    assert by(first, "failed") == [("C001", "reminder-1"), ("C002", "reminder-2"), ("C003", "pre-due")]
    assert {a["reason"] for a in first if a["status"] == "failed"} == {"SMTP server down"}
    action = DunningAction.objects.get(customer=books.acme)
    assert (action.status, action.attempts, action.last_error) == ("failed", 1, "SMTP server down")
    run(company, transports={"email": failing})
    action.refresh_from_db()
    assert action.attempts == 2
    assert Activity.objects.filter(customer=books.acme, outcome="failed").count() == 1  # logged once, not daily
    retried = run(company)
    assert by(retried, "sent") == [("C001", "reminder-1"), ("C002", "reminder-2"), ("C003", "pre-due")]
    assert len(smtp.messages) == 3
    action.refresh_from_db()
    assert (action.status, action.attempts, action.last_error) == ("sent", 3, "")


def test_a_retry_for_items_paid_meanwhile_is_skipped(company, books, smtp, post):
    run(company, transports={"email": Failing()})
    post("receipt", "RCT-1", books.zen, D, "50000", allocations=[("INV-3", Decimal("50000"))])
    retried = run(company)
    zen = next(a for a in retried if a["customer"] == "C002")
    assert (zen["status"], zen["reason"]) == ("skipped", "paid meanwhile: nothing left to send")
    assert smtp.to("ap@zenith.example") == []


def test_no_smtp_writes_eml_files_to_the_outbox(company, books, outbox):
    actions = run(company)
    assert len(by(actions, "sent")) == 3
    files = sorted(outbox.glob("*.eml"))
    assert len(files) == 3
    acme = next(f for f in files if f.name.startswith("C001-"))
    msg = email.message_from_bytes(acme.read_bytes(), policy=email.policy.default)
    assert msg["To"] == "accounts@acme.example, ravi@acme.example"
    assert msg["Subject"] == "Payment reminder: ₹13,52,567.50 overdue (C001)"
    assert "₹12,34,567.50" in msg.get_body(("plain",)).get_content()
    assert "written to" in next(a for a in actions if a["customer"] == "C001")["reason"]


def test_customer_without_email_fails_and_is_retried(company, make_customer, post, outbox):
    nobody = make_customer("C009", name="No Mail Traders")
    invoice(post, "INV-9", nobody, "1000", 1)
    [action] = run(company)
    assert (action["status"], action["reason"]) == ("failed", "no e-mail address for the customer")


class Hook(http.server.BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802
        length = int(self.headers["Content-Length"])
        Hook.received.append((dict(self.headers), json.loads(self.rfile.read(length))))
        self.send_response(202)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook(monkeypatch):
    Hook.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("DUES_SMS_WEBHOOK_URL", f"http://127.0.0.1:{server.server_port}/sms")
    yield Hook.received
    server.shutdown()
    server.server_close()


def test_sms_steps_post_to_the_webhook(company, make_customer, post, outbox, webhook):
    from dues.collections.models import Activity, DunningPolicy, DunningStep
    from dues.collections.services.policies import customer_collections_update

    policy = DunningPolicy.objects.create(company=company, name="SMS first")
    DunningStep.objects.create(policy=policy, order=1, key="sms-1", offset_days=1, channel="sms",
                               template="sms-reminder")
    DunningStep.objects.create(policy=policy, order=2, key="call-7", offset_days=7, channel="call_task", template="call")
    shop = make_customer("C010", name="Corner Shop", phone="+91 98200 12345")
    customer_collections_update(customer=shop, actor="test", policy=policy)
    invoice(post, "INV-10", shop, "4321", 2)
    invoice(post, "INV-11", shop, "1000", 9)
    actions = run(company)
    assert sorted((a["step"], a["channel"], a["status"], tuple(a["items"])) for a in actions) == [
        ("call-7", "call_task", "sent", ("INV-11",)), ("sms-1", "sms", "sent", ("INV-10",))]
    [(headers, payload)] = webhook
    assert payload["channel"] == "sms" and payload["to"] == "+91 98200 12345" and payload["customer"] == "C010"
    assert "₹4,321.00" in payload["text"] and "INV-10" in payload["text"]
    assert headers["Idempotency-Key"] == payload["key"]
    task = Activity.objects.get(kind="task")
    assert (task.outcome, task.next_follow_up) == ("open", D)
    assert task.subject == "Call Corner Shop (C010) about ₹1,000.00 overdue"
    assert run(company) and len(webhook) == 1


def test_segment_policy_applies_and_minimum_amount_holds_back(company, make_customer, post, outbox):
    from dues.collections.models import DunningPolicy, DunningStep, SegmentPolicy

    policy = DunningPolicy.objects.create(company=company, name="Big accounts only")
    DunningStep.objects.create(policy=policy, order=1, key="big-reminder", offset_days=1, channel="email",
                               template="reminder-1", min_overdue=Decimal("100000"))
    SegmentPolicy.objects.create(company=company, segment="Retail", policy=policy)
    small = make_customer("C020", name="Small Retail", segment="retail", email="s@example.com")
    invoice(post, "INV-20", small, "99999.99", 3)
    [action] = run(company)
    assert (action["step"], action["status"], action["amount"]) == ("big-reminder", "skipped", "99999.99")
    invoice(post, "INV-21", small, "0.01", 2)
    [action] = run(company)
    assert (action["status"], action["items"], action["amount"]) == ("sent", ["INV-20", "INV-21"], "100000.00")


def test_escalation_copies_the_ar_managers(company, make_customer, post, smtp):
    from django.contrib.auth import get_user_model

    from dues.users.models import UserRole

    boss = get_user_model().objects.create_user("boss", email="boss@testtraders.example", password="x-long-pass-1")
    UserRole.objects.create(user=boss, role="ar_manager")
    late = make_customer("C030", name="Late Payers", email="ap@late.example")
    invoice(post, "INV-30", late, "250000", 31)
    [action] = [a for a in run(company) if a["status"] == "sent"]
    assert action["step"] == "escalation"
    [mail] = smtp.messages
    assert sorted(mail.rcpt) == ["ap@late.example", "boss@testtraders.example"]
    assert mail.msg["Cc"] == "boss@testtraders.example"
    assert "₹2,50,000.00" in mail.body


@pytest.mark.parametrize("role,allowed", [("collector", True), ("ar_manager", True), ("billing", False),
                                          ("sales", False), ("auditor", False)])
def test_running_dunning_needs_collections_act(company, books, outbox, role, allowed):
    from django.contrib.auth import get_user_model

    from dues.collections.models import DunningAction
    from dues.collections.services.dunning import collect_run
    from dues.core.errors import PermissionDenied
    from dues.users.models import UserRole

    user = get_user_model().objects.create_user(f"u-{role}", password="x-long-pass-1")
    UserRole.objects.create(user=user, role=role)
    if allowed:
        assert collect_run(company=company, on=D, actor=user).count("sent") == 3
        assert DunningAction.objects.filter(created_by=f"u-{role}").count() == 3
    else:
        with pytest.raises(PermissionDenied):
            collect_run(company=company, on=D, actor=user)
        assert not DunningAction.objects.exists()


def test_templates_are_sandboxed(company):
    from jinja2.exceptions import SecurityError

    from dues.collections.services.messages import template_environment

    env = template_environment()
    with pytest.raises(SecurityError):
        env.from_string("{{ ''.__class__.__mro__[1].__subclasses__() }}").render()


@pytest.fixture
def lock_elsewhere(company):
    """Holds the run lock as another process would: another PostgreSQL session, or another flock."""
    from contextlib import contextmanager

    from django.db import connection

    from dues.collections.services.dunning import _PG_RUN_LOCK, run_lock_path

    @contextmanager
    def hold():
        if connection.vendor == "postgresql":
            import psycopg

            s = connection.settings_dict
            with psycopg.connect(host=s["HOST"] or None, port=s["PORT"] or None, user=s["USER"] or None,
                                 password=s["PASSWORD"] or None, dbname=s["NAME"], autocommit=True) as other:
                other.execute("SELECT pg_advisory_lock(%s, %s)", [_PG_RUN_LOCK, company.pk])
                yield
            return
        import fcntl

        with open(run_lock_path(company), "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    return hold


def test_a_second_run_at_the_same_time_is_refused(company, books, outbox, lock_elsewhere):
    from dues.collections.models import DunningAction
    from dues.core.errors import DuesError

    with lock_elsewhere(), pytest.raises(DuesError, match="another dunning run is in progress"):
        run(company)
    assert not DunningAction.objects.exists()
    assert len(by(run(company, dry_run=True), "pending")) == 3  # a dry run needs no lock
    assert len(by(run(company), "sent")) == 3  # released: the next run goes ahead


def test_statement_step_mails_the_statement_pdf(company, make_customer, post, smtp):
    import io

    import pypdf
    slow = make_customer("C040", name="Slow Payers", email="ap@slow.example")
    invoice(post, "INV-40", slow, "1234567.50", 15)
    actions = run(company)
    assert sorted((a["step"], a["status"]) for a in actions) == [("call", "sent"), ("statement", "sent")]
    [mail] = smtp.messages
    assert mail.msg["Subject"] == "Statement of account C040: ₹12,34,567.50 outstanding on 30-11-2026"
    assert "Please find your statement of account attached." in mail.body
    [attachment] = list(mail.msg.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "statement-C040-2026-11-30.pdf"
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(attachment.get_content())).pages)
    assert "12,34,567.50" in text and "INV-40" in text


# --- collections a customer would not find rude (issue 10) ---------------------------------------------------


def test_several_steps_due_together_go_as_one_mail_of_the_strongest(company, make_customer, post, smtp):
    from dues.collections.models import Activity, DunningAction, DunningActionItem

    busy = make_customer("C050", name="Busy Buyers", email="ap@busy.example")
    invoice(post, "INV-50", busy, "5000", -3)  # pre-due
    invoice(post, "INV-51", busy, "1000", 1)  # reminder-1
    invoice(post, "INV-52", busy, "2000", 15)  # statement (+ call task)
    invoice(post, "INV-53", busy, "20000", 31)  # escalation
    actions = run(company)
    sent = sorted((a["step"], a["channel"], tuple(a["items"]), a["amount"]) for a in actions if a["status"] == "sent")
    assert sent == [("call", "call_task", ("INV-52",), "2000.00"),
                    ("escalation", "email", ("INV-53", "INV-52", "INV-51", "INV-50"), "28000.00")]
    [mail] = smtp.messages  # one e-mail, not four
    assert mail.msg["Subject"].startswith("Escalation") or "₹28,000.00" in mail.msg["Subject"] + mail.body
    for number in ("INV-50", "INV-51", "INV-52", "INV-53"):
        assert number in mail.body
    merged = {a["step"]: a["reason"] for a in actions if a["status"] == "skipped"}
    assert merged == dict.fromkeys(("pre-due", "reminder-1", "statement"),
                                   "merged into the escalation e-mail of the day (one e-mail a day)")
    # recorded, so the timeline explains them, and their items count as covered at their own steps
    rows = {a.step_key: (a.status, a.note) for a in DunningAction.objects.filter(customer=busy)}
    assert rows["reminder-1"] == ("skipped", "merged into the escalation e-mail of the day (one e-mail a day)")
    assert rows["escalation"][0] == "sent"
    assert sorted(DunningActionItem.objects.filter(action__customer=busy).values_list("open_item__document__number",
                                                                                       "step_key")) == [
        ("INV-50", "pre-due"), ("INV-51", "reminder-1"), ("INV-52", "call"), ("INV-52", "statement"),
        ("INV-53", "escalation")]
    assert Activity.objects.filter(customer=busy, kind="email").count() == 1
    # a re-run the same day sends nothing, and the next day none of the merged steps comes back
    again = run(company)
    assert by(again, "sent") == [] and len(smtp.messages) == 1
    assert by(run(company, D + timedelta(days=1)), "sent") == [] and len(smtp.messages) == 1


def test_a_second_run_the_same_day_defers_new_mail_to_the_next_run(company, make_customer, post, smtp):
    from dues.collections.models import DunningAction

    shop = make_customer("C051", name="Second Run Stores", email="ap@second.example")
    invoice(post, "INV-60", shop, "8000", 1)
    assert by(run(company), "sent") == [("C051", "reminder-1")]
    # later that day an overdue invoice arrives (an import of old bills): no second e-mail today
    invoice(post, "INV-61", shop, "9000", 7)
    later = run(company)
    assert by(later, "sent") == [] and len(smtp.messages) == 1
    deferred = next(a for a in later if a["step"] == "reminder-2")
    assert (deferred["status"], deferred["items"]) == ("skipped", ["INV-61"])
    assert deferred["reason"] == ("deferred to the next run: one e-mail a day and the reminder-1 e-mail already "
                                  "went today")
    assert not DunningAction.objects.filter(step_key="reminder-2").exists()  # not recorded: it goes tomorrow
    tomorrow = run(company, D + timedelta(days=1))
    assert by(tomorrow, "sent") == [("C051", "reminder-2")] and len(smtp.messages) == 2
    assert "INV-61" in smtp.messages[-1].body


def test_a_retry_and_a_new_step_for_one_customer_send_one_mail(company, make_customer, post, smtp):
    shop = make_customer("C052", name="Retry Mart", email="ap@retry.example")
    invoice(post, "INV-70", shop, "8000", 1)
    assert by(run(company, transports={"email": Failing()}), "failed") == [("C052", "reminder-1")]
    invoice(post, "INV-71", shop, "9000", 6)  # reaches reminder-2 on the next day
    nextday = run(company, D + timedelta(days=1))
    assert by(nextday, "sent") == [("C052", "reminder-1")]  # the retry goes; the new step waits a day
    assert [a["reason"][:25] for a in nextday if a["step"] == "reminder-2"] == ["deferred to the next run:"]
    assert len(smtp.messages) == 1
    assert by(run(company, D + timedelta(days=2)), "sent") == [("C052", "reminder-2")]


def test_crash_after_creating_a_merged_mail_sends_it_once(company, make_customer, post, smtp):
    from dues.collections.models import DunningAction
    from dues.messaging.transports import EmailTransport

    busy = make_customer("C053", name="Crash Co", email="ap@crash.example")
    invoice(post, "INV-80", busy, "1000", 1)
    invoice(post, "INV-81", busy, "2000", 7)
    with pytest.raises(Crash):
        run(company, transports={"email": CrashAfter(EmailTransport(), ok=0)})
    assert sorted(DunningAction.objects.values_list("step_key", "status")) == [("reminder-1", "skipped"),
                                                                               ("reminder-2", "pending")]
    rest = run(company)
    assert by(rest, "sent") == [("C053", "reminder-2")]
    [mail] = smtp.messages
    assert "INV-80" in mail.body and "INV-81" in mail.body
    assert by(run(company), "sent") == [] and len(smtp.messages) == 1


def test_a_customer_owing_a_few_rupees_gets_no_reminder(company, make_customer, post, smtp, monkeypatch):
    from dues.collections.models import DunningAction

    tiny = make_customer("C054", name="Tiny Balance", email="ap@tiny.example")
    invoice(post, "INV-90", tiny, "34.00", 3)
    actions = run(company)
    assert [(a["status"], a["reason"]) for a in actions] == [
        ("skipped", "overdue 34.00 (net of disputes and unapplied credits) below the policy's minimum 500.00")]
    assert smtp.messages == [] and not DunningAction.objects.exists()
    # a pre-due reminder for a small bill neither; a big one goes
    invoice(post, "INV-91", tiny, "400", -3)
    assert by(run(company), "sent") == []
    invoice(post, "INV-92", tiny, "4000", -3)
    assert by(run(company), "sent") == [("C054", "pre-due")]


def test_unapplied_credits_count_against_the_minimum(company, make_customer, post, outbox):
    shop = make_customer("C055", name="Credit Side", email="ap@credit.example")
    invoice(post, "INV-95", shop, "1000", 2)
    post("receipt", "RCT-95", shop, D - timedelta(days=1), "700")  # on account, not applied
    [action] = run(company)
    assert (action["status"], action["reason"][:13]) == ("skipped", "overdue 300.0")


def test_existing_policies_get_the_default_minimum(company):
    from dues.collections.models import DunningPolicy
    from dues.collections.services.policies import policy_default

    assert policy_default(company).min_overdue == Decimal("500")
    assert DunningPolicy.objects.create(company=company, name="Other").min_overdue == Decimal("500")


def test_a_merged_mail_calls_overdue_only_what_is_overdue(company, make_customer, post, smtp):
    shop = make_customer("C056", name="Honest Subjects", email="ap@honest.example")
    invoice(post, "INV-96", shop, "1000", 1)  # reminder-1
    invoice(post, "INV-97", shop, "5000", -3)  # pre-due, merged into the reminder
    assert by(run(company), "sent") == [("C056", "reminder-1")]
    [mail] = smtp.messages
    assert mail.msg["Subject"] == "Payment reminder: ₹1,000.00 overdue (C056)"
    assert re.search(r"INV-97 .*\(not yet due\): ₹5,000\.00", mail.body)
    assert re.search(r"INV-96 .*\(1 days overdue\): ₹1,000\.00", mail.body)
    assert re.search(r"Total +₹6,000\.00", mail.body)


def test_a_retry_that_will_not_go_does_not_hold_back_the_new_step(company, make_customer, post, smtp):
    shop = make_customer("C057", name="Paid Meanwhile", email="ap@paid.example")
    invoice(post, "INV-98", shop, "8000", 1)
    run(company, transports={"email": Failing()})
    post("receipt", "RCT-98", shop, D, "8000", allocations=[("INV-98", Decimal("8000"))])
    invoice(post, "INV-99", shop, "9000", 6)
    nextday = run(company, D + timedelta(days=1))
    assert by(nextday, "sent") == [("C057", "reminder-2")]  # INV-99's reminder: the paid retry is skipped
    assert [a["reason"] for a in nextday if a["step"] == "reminder-1" and a["status"] == "skipped"] == [
        "paid meanwhile: nothing left to send"]
    assert len(smtp.messages) == 1 and "INV-99" in smtp.messages[0].body


def test_a_whole_book_reads_without_id_lists_and_decides_the_same(company, books, post, outbox, monkeypatch):
    """Past ``ID_LIST_LIMIT`` ids the profiles, disputed amounts and unapplied credits are read for the company
    and the ids kept in Python (no list of 100,000 parameters): the run decides exactly as with the lists,
    and other customers' rows do not leak in."""
    from dues.collections import selectors
    from dues.collections.models import Dispute
    from dues.collections.services.disputes import dispute_open
    from dues.ledger.models import OpenItem

    post("receipt", "RCT-9", books.zen, D - timedelta(days=1), "60000")  # on account: counts against the minimum
    dispute_open(company=company, invoice="INV-1", amount="18000", reason=Dispute.REASONS[0][0],
                 owner=Dispute.OWNERS[0][0], actor="test", opened_on=D - timedelta(days=1))
    with_lists = run(company, dry_run=True)
    items = [i.id for rows in selectors.open_debit_items(company).values() for i in rows]
    expected = (selectors.customer_profiles(company, [books.acme.id]), selectors.disputed_amounts(company, items[:1]),
                selectors.unapplied_credits(company, [books.acme.id]))
    monkeypatch.setattr(selectors, "ID_LIST_LIMIT", 0)
    assert run(company, dry_run=True) == with_lists
    assert (selectors.customer_profiles(company, [books.acme.id]), selectors.disputed_amounts(company, items[:1]),
            selectors.unapplied_credits(company, [books.acme.id])) == expected
    assert set(expected[0]) == {books.acme.id} and expected[2] == {}
    inv1 = OpenItem.objects.get(document__number="INV-1", side="D").id
    assert selectors.disputed_amounts(company, items) == {inv1: Decimal("18000")}
    assert selectors.disputed_amounts(company, [i for i in items if i != inv1]) == {}
