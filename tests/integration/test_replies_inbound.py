"""Customers' replies read back from a drop folder: matched by thread or sender, suggestions accepted or dismissed."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from email.message import EmailMessage

import pytest

from dues import clock


@pytest.fixture
def replied(company, make_customer, post, tmp_path):
    from dues.customers.models import Contact
    from dues.messaging.transports import Message, email_message

    c1 = make_customer("C001", name="Shree Ganesh Traders", email="owner@ganesh.example", collector="Pooja")
    Contact.objects.create(customer=c1, name="Anil", email="ap@ganesh.example", whatsapp="+91 98200 11122")
    make_customer("C002", name="Kaveri Distributors", email="ap@kaveri.example")
    today = clock.today()
    post("invoice", "INV-1", c1, today - timedelta(days=40), "118000.00", taxable_value=Decimal("100000.00"))
    ours = email_message(Message(channel="email", customer="C002", key="desk:C002:reminder:1", subject="Reminder",
                                 body="...")).message()
    promised = today + timedelta(days=10)
    folder = tmp_path / "inbox"
    folder.mkdir()

    def eml(name, sender, body, **headers):
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = sender, "accounts@test.example", "Re: payment reminder"
        for key, value in headers.items():
            msg[key.replace("_", "-")] = value
        msg.set_content(body)
        (folder / name).write_bytes(bytes(msg))

    eml("1.eml", "Anil <AP@ganesh.example>", f"We will pay 50k on {promised:%d %B %Y}.\n\n> quoted reminder",
        Message_ID="<r1@ganesh.example>")
    eml("2.eml", "someone@gmail.example", "3 cartons were damaged in INV-1, please check",  # matched by thread
        Message_ID="<r2@gmail.example>", In_Reply_To=ours["Message-ID"])
    eml("3.eml", "owner@ganesh.example", "Payment done UTR HDFCR52026120712345678. Please send ledger copy",
        Message_ID="<r3@ganesh.example>")
    eml("4.eml", "stranger@nowhere.example", "will pay by 15th", Message_ID="<r4@nowhere.example>")
    (folder / "5.eml").write_bytes(b"Subject: no sender\n\nhello\n")
    return {"folder": folder, "promised": promised, "c1": c1}


def test_replies_are_matched_turned_into_suggestions_and_accepted_or_dismissed(replied):
    from dues.audit.models import AuditRecord
    from dues.collections.models import Activity, Dispute, InboundReply, PromiseToPay, ReplySuggestion
    from dues.collections.selectors import reply_suggestions
    from dues.collections.services.replies import replies_fetch_folder, suggestion_accept, suggestion_dismiss
    from dues.companies.selectors import company_get
    from dues.core.errors import ValidationFailed

    company = company_get()
    result = replies_fetch_folder(company=company, folder=replied["folder"], actor="test")
    assert (result.read, result.new, result.unmatched) == (4, 4, 1)
    assert result.problems == ["5.eml: no From address"]
    assert dict(InboundReply.objects.values_list("message_id", "matched_by")) == {
        "<r1@ganesh.example>": "address", "<r2@gmail.example>": "thread", "<r3@ganesh.example>": "address",
        "<r4@nowhere.example>": ""}
    again = replies_fetch_folder(company=company, folder=replied["folder"], actor="test")
    assert (again.read, again.new) == (4, 0)  # each message once

    by_kind = {s.kind: s for s in reply_suggestions(company)}
    assert set(by_kind) == {"promise", "dispute", "payment_claimed", "statement_request"}
    assert by_kind["promise"].customer.code == "C001" and by_kind["promise"].amount == Decimal("50000")
    assert by_kind["promise"].date == replied["promised"]
    assert by_kind["dispute"].customer.code == "C002" and by_kind["dispute"].documents == ["INV-1"]
    assert by_kind["payment_claimed"].utr == "HDFCR52026120712345678"
    assert [s.kind for s in reply_suggestions(company, collector="Pooja")].count("promise") == 1

    accepted = suggestion_accept(suggestion=by_kind["promise"], actor="test")
    promise = PromiseToPay.objects.get()
    assert promise.amount == Decimal("50000") and promise.promised_date == replied["promised"]
    assert accepted.status == "accepted" and accepted.result.startswith(f"promise {promise.pk}")
    with pytest.raises(ValidationFailed, match="already accepted"):
        suggestion_accept(suggestion=by_kind["promise"], actor="test")
    # INV-1 is C001's, the dispute reply came (by thread) from C002: refused, named, nothing written
    with pytest.raises(ValidationFailed) as refused:
        suggestion_accept(suggestion=by_kind["dispute"], actor="test")
    assert refused.value.problems[0].field == "invoice" and Dispute.objects.count() == 0
    suggestion_dismiss(suggestion=by_kind["dispute"], actor="test")
    suggestion_accept(suggestion=by_kind["payment_claimed"], actor="test")
    assert Activity.objects.filter(subject__contains="UTR HDFCR52026120712345678").count() == 1

    sent = []

    class FakeTransport:
        def send(self, message):
            sent.append(message)
            return "sent"

    suggestion_accept(suggestion=by_kind["statement_request"], actor="test", transport=FakeTransport())
    assert len(sent) == 1 and sent[0].attachments[0][2] == "application/pdf"
    assert ReplySuggestion.objects.filter(status="open").count() == 0
    actions = set(AuditRecord.objects.filter(object_type="reply_suggestion").values_list("action", flat=True))
    assert actions == {"accept", "dismiss"}
    assert AuditRecord.objects.filter(object_type="inbound_reply").count() == 4


def test_a_dispute_is_opened_on_the_invoice_named_and_a_promise_without_amount_needs_one(replied):
    from dues.collections.models import Dispute
    from dues.collections.services.replies import reply_record, suggestion_accept
    from dues.companies.selectors import company_get
    from dues.core.errors import ValidationFailed

    company = company_get()
    reply, _ = reply_record(company=company, channel="whatsapp", sender="919820011122", message_id="wamid.1",
                            body="INV-1 mein rate difference hai. baaki kal tak kar denge", actor="test")
    assert reply.customer.code == "C001"
    kinds = {s.kind: s for s in reply.suggestions.all()}
    with pytest.raises(ValidationFailed) as refused:
        suggestion_accept(suggestion=kinds["promise"], actor="test")
    assert refused.value.problems[0].field == "amount"
    suggestion_accept(suggestion=kinds["promise"], actor="test", amount=Decimal("5000"))
    suggestion_accept(suggestion=kinds["dispute"], actor="test")
    dispute = Dispute.objects.get()
    assert dispute.reason == "price" and dispute.document.number == "INV-1" and dispute.amount == Decimal("118000")


def test_the_fetch_list_and_accept_commands(replied):
    from click.testing import CliRunner

    from dues.cli import replies as _replies  # noqa: F401  (registers the commands)
    from dues.cli.main import cli

    runner = CliRunner()
    r = runner.invoke(cli, ["--user", "test", "replies", "fetch", "--folder", str(replied["folder"])])
    assert r.exit_code == 1 and "4 new" in r.output and "5.eml: no From address" in r.output, r.output
    rows = json.loads(runner.invoke(cli, ["replies", "list", "--format", "json"]).output)
    promise = next(row for row in rows if row["kind"] == "promise")
    r = runner.invoke(cli, ["--user", "test", "replies", "accept", str(promise["id"])])
    assert r.exit_code == 0 and "accepted: promise" in r.output, r.output
    r = runner.invoke(cli, ["--user", "test", "replies", "dismiss", "99999"])
    assert r.exit_code != 0 and "no suggestion 99999" in r.output
    r = runner.invoke(cli, ["--user", "test", "replies", "opt-out", "whatsapp", "+91 98200 11122", "--reason", "call"])
    assert r.exit_code == 0 and "will not be sent" in r.output, r.output
    r = runner.invoke(cli, ["--user", "test", "replies", "opt-out", "sms", "12345"])
    assert r.exit_code != 0 and "not a phone number" in r.output


@pytest.mark.filterwarnings("ignore:No directory at:UserWarning")
def test_suggestions_on_my_day_and_the_customer_page_accepted_and_dismissed_with_one_click(replied, client):
    from dues.audit.models import AuditRecord
    from dues.collections.models import PromiseToPay, ReplySuggestion
    from dues.collections.services.replies import replies_fetch_folder
    from dues.companies.selectors import company_get
    from dues.users.services import user_add

    replies_fetch_folder(company=company_get(), folder=replied["folder"], actor="test")
    pooja, _ = user_add(username="pooja", role="collector", password="pw-replies-2026", person_name="Pooja",
                        actor="test")
    client.force_login(pooja)
    page = client.get("/my-day/").content.decode()
    promise = ReplySuggestion.objects.get(kind="promise")
    payment = ReplySuggestion.objects.get(kind="payment_claimed")
    assert f'data-suggestion="{promise.pk}"' in page and f'data-suggestion="{payment.pk}"' in page
    dispute = ReplySuggestion.objects.get(kind="dispute")  # C002's, not Pooja's customer
    assert f'data-suggestion="{dispute.pk}"' not in page
    r = client.post(f"/replies/{promise.pk}/accept/", {"next": "/my-day/#replies"})
    assert r.status_code == 302 and r["Location"] == "/my-day/#replies"
    assert PromiseToPay.objects.get().amount == Decimal("50000")
    r = client.post(f"/replies/{promise.pk}/accept/", {"next": "https://evil.example/"})  # decided; next ignored
    assert r["Location"] == "/customers/C001/" and PromiseToPay.objects.count() == 1
    assert f'data-suggestion="{payment.pk}"' in client.get("/customers/C001/").content.decode()
    client.post(f"/replies/{payment.pk}/dismiss/", {"next": "/customers/C001/#replies"})
    assert ReplySuggestion.objects.get(pk=payment.pk).status == "dismissed"
    assert AuditRecord.objects.filter(object_type="reply_suggestion", actor="pooja").count() == 2


def test_imap_unseen_messages_are_read_and_marked_seen(replied):
    from dues.collections.models import InboundReply
    from dues.collections.services.replies import replies_fetch_imap
    from dues.companies.selectors import company_get

    files = sorted(replied["folder"].glob("*.eml"))[:3]
    calls = []

    class FakeImap:  # the few imaplib.IMAP4 calls used, answering as a server does
        def __init__(self, host, port):
            calls.append(("connect", host, port))

        def login(self, user, password):
            calls.append(("login", user, password))

        def select(self, mailbox):
            calls.append(("select", mailbox))

        def search(self, charset, criterion):
            return "OK", [b" ".join(str(n).encode() for n in range(1, len(files) + 1))]

        def fetch(self, num, what):
            return "OK", [(num + b" (RFC822 {10}", files[int(num) - 1].read_bytes()), b")"]

        def store(self, num, flags, flag):
            calls.append(("seen", num.decode(), flag))

        def logout(self):
            calls.append(("logout",))

    result = replies_fetch_imap(company=company_get(), url="imaps://ar%40test.example:s3cret@imap.example/Replies",
                                actor="test", imap_class=FakeImap)
    assert (result.read, result.new) == (3, 3) and InboundReply.objects.count() == 3
    assert calls[:3] == [("connect", "imap.example", 993), ("login", "ar@test.example", "s3cret"),
                         ("select", "Replies")]
    assert [c for c in calls if c[0] == "seen"] == [("seen", "1", "\\Seen"), ("seen", "2", "\\Seen"),
                                                    ("seen", "3", "\\Seen")] and calls[-1] == ("logout",)
