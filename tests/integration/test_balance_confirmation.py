"""Balance confirmation: letters to the outbox with the PDF, replies (a disagreement's ledger reconciled), reminders."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from dues import clock
from dues.core.errors import PermissionDenied, ValidationFailed

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]

D = Decimal
AS_OF = date(2025, 6, 30)

THEIRS = """Date,Particulars,Vch Type,Vch No.,Debit,Credit
01-04-2025,Opening Balance,,,,"20,000.00"
05-04-2025,Purchase SGT/101/25-26,Purchase,SGT/101/25-26,,"59,000.00"
12-04-2025,Purchase bill 102,Purchase,PB-88,,"11,000.00"
02-05-2025,HDFC NEFT N250000101,Payment,P-17,"57,820.00",
02-05-2025,TDS 194Q on SGT/101,Journal,J-4,"1,180.00",
"""


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("DUES_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DUES_SMTP_URL", raising=False)
    return tmp_path / "home"


@pytest.fixture
def books(company, make_customer, post):
    c = make_customer("C001", name="Shree Ganesh Traders", email="accounts@ganesh.example")
    make_customer("C002", name="Zero Balance Co", email="zero@example.com")
    nomail = make_customer("C003", name="No Mail Stores")
    post("opening", "OB-C001", c, "2025-03-31", "20000.00")
    post("invoice", "SGT/101/25-26", c, "2025-04-03", "59000.00")
    post("invoice", "SGT/102/25-26", c, "2025-04-10", "12000.00")  # they booked 11,000
    post("receipt", "RCPT-1", c, "2025-05-02", "57820.00", mode="neft", reference="N250000101", tds=D("1180.00"),
         allocations=[("SGT/101/25-26", D("59000.00"))])
    post("invoice", "NM-1", nomail, "2025-06-01", "5000.00")
    post("invoice", "SGT/200/25-26", c, "2025-07-05", "999.00")  # after the date: not in the letter
    return c


def user(role, name):
    from django.contrib.auth.models import User

    from dues.users.models import UserRole

    u = User.objects.create_user(name, password="x")
    UserRole.objects.create(user=u, role=role)
    return u


def test_send_to_one_customer_emails_the_pdf_to_the_outbox(company, books, home):
    from dues.audit.models import AuditRecord
    from dues.reconciliation.models import ConfirmationRequest
    from dues.reconciliation.services import confirmation_request

    [r] = confirmation_request(company=company, as_of=AS_OF, actor="test", customers=[books])
    assert r.status == "sent" and r.customer == "C001"
    req = ConfirmationRequest.objects.get()
    # 20,000 + 59,000 + 12,000 - (57,820 + 1,180): the ageing total on 30 June
    assert req.our_balance == D("32000.00") and req.status == "requested" and req.channel == "email"
    assert req.sent_to == "accounts@ganesh.example"
    [eml] = list((home / "outbox").glob("*.eml"))
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert msg["To"] == "accounts@ganesh.example"
    assert "Balance confirmation as of 30-06-2025" in msg["Subject"]
    pdfs = [p for p in msg.walk() if p.get_content_type() == "application/pdf"]
    assert len(pdfs) == 1 and pdfs[0].get_payload(decode=True).startswith(b"%PDF")
    assert "32,000.00" in msg.get_body(("plain",)).get_content()
    assert Path(req.letter_path).read_bytes().startswith(b"%PDF")
    audit = AuditRecord.objects.filter(object_type="balance_confirmation").get()
    assert json.loads(audit.after_json)["our_balance"] == "32000.00" and audit.action == "create"
    # a second request for the same date while this one is unanswered is skipped
    [again] = confirmation_request(company=company, as_of=AS_OF, actor="test", customers=[books])
    assert again.status == "skipped" and ConfirmationRequest.objects.count() == 1


def test_send_all_with_a_balance(company, books, home):
    from dues.reconciliation.models import ConfirmationRequest
    from dues.reconciliation.services import confirmation_request

    results = confirmation_request(company=company, as_of=AS_OF, actor="test", all_with_balance=True)
    assert [(r.customer, r.status) for r in results] == [("C001", "sent"), ("C003", "letter")]  # C002 owes nothing
    nm = ConfirmationRequest.objects.get(customer__code="C003")
    assert nm.channel == "letter" and nm.our_balance == D("5000.00") and nm.sent_to == ""
    assert len(list((home / "outbox").glob("*.eml"))) == 1
    assert len(list((home / "letters").glob("balance-confirmation-*.pdf"))) == 2


def test_letter_pdf_has_items_balance_and_reply_slip(company, books):
    import io

    from pypdf import PdfReader

    from dues.reconciliation import confirmation as conf

    items = conf.open_items(company, books, AS_OF)
    assert conf.balance_of(items) == D("32000.00")
    pdf = conf.render_confirmation(company, books, AS_OF, items, conf.balance_of(items), on=date(2025, 7, 2))
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Balance confirmation" in text and "30-06-2025" in text
    assert "SGT/102/25-26" in text and "12,000.00" in text and "SGT/200/25-26" not in text
    assert "₹32,000.00" in text
    assert "We confirm" in text and "We disagree" in text


def test_reply_confirmed_and_refusals(company, books):
    from dues.reconciliation.services import confirmation_reply, confirmation_request

    [r] = confirmation_request(company=company, as_of=AS_OF, actor="test", customers=[books])
    with pytest.raises(ValidationFailed, match="record a disagreement"):
        confirmation_reply(request=r.request, status="confirmed", their_balance="31000", actor="test")
    with pytest.raises(ValidationFailed, match="give their balance"):
        confirmation_reply(request=r.request, status="disagreed", actor="test")
    req = confirmation_reply(request=r.request, status="confirmed", actor="test")
    assert req.status == "confirmed" and req.their_balance == D("32000.00") and req.replied_at is not None


def test_reply_disagreed_with_their_ledger_stores_the_reconciliation(company, books, tmp_path):
    from dues.reconciliation.models import ConfirmationRequest
    from dues.reconciliation.services import confirmation_reply, confirmation_request

    [r] = confirmation_request(company=company, as_of=AS_OF, actor="test", customers=[books])
    f = tmp_path / "ganesh-ledger.csv"
    f.write_text(THEIRS, encoding="utf-8")
    confirmation_reply(request=r.request, status="disagreed", file=str(f), actor="test")
    req = ConfirmationRequest.objects.get(pk=r.request.pk)
    assert req.status == "disagreed"
    assert req.their_balance == D("31000.00")  # 20,000 + 59,000 + 11,000 - 57,820 - 1,180, from their file
    assert req.difference == D("-1000.00")
    assert bytes(req.reply_file) == THEIRS.encode() and req.reply_file_name == "ganesh-ledger.csv"
    rec = req.reconciliation
    assert rec["our_balance"] == "32000.00" and rec["their_balance"] == "31000.00" and rec["unexplained"] == "0.00"
    assert [(d["kind"], d["ours"], d["theirs"], d["amount"]) for d in rec["differences"]] == [
        ("amount_mismatch", "SGT/102/25-26", "row 3", "-1000.00")]


def test_roles_refused_and_nothing_written(company, books):
    from dues.reconciliation.models import ConfirmationRequest
    from dues.reconciliation.services import confirmation_remind, confirmation_reply, confirmation_request

    for role in ("billing", "auditor", "sales"):
        u = user(role, f"u-{role}")
        with pytest.raises(PermissionDenied):
            confirmation_request(company=company, as_of=AS_OF, actor=u, customers=[books])
        with pytest.raises(PermissionDenied):
            confirmation_remind(company=company, older_than_days=0, actor=u)
    assert ConfirmationRequest.objects.count() == 0
    [r] = confirmation_request(company=company, as_of=AS_OF, actor=user("collector", "pooja"), customers=[books])
    with pytest.raises(PermissionDenied):
        confirmation_reply(request=r.request, status="confirmed", actor=user("auditor", "aud2"))
    assert ConfirmationRequest.objects.get().status == "requested"


def test_remind_after_n_days(company, books, home):
    from dues.reconciliation.models import ConfirmationRequest
    from dues.reconciliation.services import confirmation_remind, confirmation_reply, confirmation_request

    results = confirmation_request(company=company, as_of=AS_OF, actor="test", all_with_balance=True)
    now = clock.now()
    assert confirmation_remind(company=company, older_than_days=15, actor="test", now=now) == []
    confirmation_reply(request=results[1].request, status="confirmed", actor="test")  # C003 answered
    later = now + timedelta(days=16)
    sent = confirmation_remind(company=company, older_than_days=15, actor="test", now=later)
    assert [(s.customer, s.status) for s in sent] == [("C001", "sent")]
    req = ConfirmationRequest.objects.get(customer__code="C001")
    assert req.reminders == 1 and req.last_reminded_at == later
    subjects = sorted(str(email.message_from_bytes(p.read_bytes(), policy=email.policy.default)["Subject"]).strip() for p in (home / "outbox").glob("*.eml"))
    assert len(subjects) == 2 and subjects[1] == "Reminder: Balance confirmation as of 30-06-2025: C001 Shree Ganesh Traders"
    # counted from the last reminder: not again the next day
    assert confirmation_remind(company=company, older_than_days=15, actor="test", now=later + timedelta(days=1)) == []


def test_tracker_counts(company, books):
    from dues.reconciliation import confirmation as conf
    from dues.reconciliation.services import confirmation_reply, confirmation_request

    results = confirmation_request(company=company, as_of=AS_OF, actor="test", all_with_balance=True)
    confirmation_reply(request=results[0].request, status="disagreed", their_balance="31,000", actor="test")
    counts = conf.tracker_counts(company)
    assert (counts.requested, counts.confirmed, counts.disagreed, counts.no_reply) == (1, 0, 1, 0)
    assert conf.disagreed_total(company) == D("-1000")
    rows = conf.tracker_json(company, conf.confirmations(company))
    assert {(r["customer"], r["status"], r["their_balance"], r["difference"]) for r in rows} == {
        ("C001", "disagreed", "31000.00", "-1000.00"), ("C003", "requested", None, None)}
