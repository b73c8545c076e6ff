"""The reconciliation pages: upload their ledger, the tie-out, downloads, follow-ups; the confirmation tracker."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]

D = Decimal
AS_OF = "2025-06-30"

THEIRS = """Date,Particulars,Vch Type,Vch No.,Debit,Credit
01-04-2025,Opening Balance,,,,"20,000.00"
05-04-2025,Purchase SGT/101/25-26,Purchase,SGT/101/25-26,,"59,000.00"
12-04-2025,Purchase bill 102,Purchase,PB-88,,"11,000.00"
02-05-2025,HDFC NEFT N250000101,Payment,P-17,"57,820.00",
02-05-2025,TDS 194Q on SGT/101,Journal,J-4,"1,180.00",
25-06-2025,TDS 194Q on bill 102,Journal,J-9,"110.00",
"""


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("DUES_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DUES_SMTP_URL", raising=False)
    return tmp_path / "home"


@pytest.fixture
def books(company, make_customer, post):
    c = make_customer("C001", name="Shree Ganesh Traders", email="accounts@ganesh.example", salesperson="Ravi")
    make_customer("C009", name="Other Sales Co", salesperson="Someone")
    post("opening", "OB-C001", c, "2025-03-31", "20000.00")
    post("invoice", "SGT/101/25-26", c, "2025-04-03", "59000.00")
    post("invoice", "SGT/102/25-26", c, "2025-04-10", "12000.00")
    post("invoice", "SGT/103/25-26", c, "2025-05-15", "8000.00")
    post("receipt", "RCPT-1", c, "2025-05-02", "57820.00", mode="neft", reference="N250000101", tds=D("1180.00"),
         allocations=[("SGT/101/25-26", D("59000.00"))])
    return c


def login(client, role, name=None, **kw):
    from dues.users.models import UserRole

    u = get_user_model().objects.create_user(name or role, password="x")
    UserRole.objects.create(user=u, role=role, **kw)
    client.force_login(u)
    return u


def upload(client, code="C001", text=THEIRS):
    f = SimpleUploadedFile("ganesh.csv", text.encode(), content_type="text/csv")
    return client.post("/reconcile/", {"customer": code, "as_of": AS_OF, "preset": "", "file": f})


def test_upload_shows_the_tie_out_and_differences(client, books):
    login(client, "collector")
    r = upload(client)
    assert r.status_code == 302
    url = r["Location"]
    assert "token=" in url and "customer=C001" in url
    page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200
    assert "₹40,000.00" in html and "₹30,890.00" in html  # ours, theirs
    assert "Ties: our balance plus the differences" in html
    assert "SGT/102/25-26" in html and "-₹1,000.00" in html and "-₹8,000.00" in html and "-₹110.00" in html
    assert 'value="book_tds"' in html and "Book their TDS (1)" in html
    assert html.count(" disabled") == 0  # a collector may do all three
    token = re.search(r"token=([0-9a-f]{32})", url).group(1)
    x = client.get(f"/reconcile/export/?customer=C001&as_of={AS_OF}&token={token}&format=xlsx")
    assert x.status_code == 200 and x.content[:2] == b"PK"
    p = client.get(f"/reconcile/export/?customer=C001&as_of={AS_OF}&token={token}&format=pdf")
    assert p.status_code == 200 and p.content.startswith(b"%PDF")
    assert client.get(f"/reconcile/export/?customer=C001&as_of={AS_OF}&token=../../etc&format=pdf").status_code == 404


def test_page_shows_a_duplicate_and_why_a_credit_note_matched_their_debit_note(client, books, post):
    post("credit_note", "CN-0042", books, "2025-05-20", "1200.00", allocations=[("SGT/102/25-26", D("1200.00"))])
    text = (THEIRS + '12-04-2025,Purchase bill 102,Purchase,PB-91,,"11,000.00"\n'
            "21-05-2025,Rate difference on SGT/102/25-26,Debit Note,DN/23,\"1,200.00\",\n")
    login(client, "collector")
    html = client.get(upload(client, text=text)["Location"]).content.decode()
    assert "recon-kind--duplicate" in html and "Booked twice in their books" in html
    assert "same bill SGT/102/25-26" in html and "DN/23" in html


def test_upload_errors_shown_next_to_the_fields(client, books):
    login(client, "collector")
    r = upload(client, code="NOPE")
    assert r.status_code == 400 and "No customer" in r.content.decode() and 'aria-invalid="true"' in r.content.decode()
    r = client.post("/reconcile/", {"customer": "C001", "as_of": AS_OF})
    assert r.status_code == 400 and "Upload their ledger" in r.content.decode()
    r = upload(client, text="a,b\n1,2\n")
    assert r.status_code == 400 and 'id="r-file-error"' in r.content.decode()


def test_followup_buttons(client, books):
    from dues.collections.models import Activity, Dispute
    from dues.ledger.models import Document

    login(client, "collector")
    url = upload(client)["Location"]
    token = re.search(r"token=([0-9a-f]{32})", url).group(1)
    data = {"customer": "C001", "as_of": AS_OF, "token": token}
    r = client.post("/reconcile/followups/", data | {"action": "book_tds"}, follow=True)
    assert "TDS booked as TDS/C001/250630/6" in r.content.decode()
    assert Document.objects.get(number="TDS/C001/250630/6").tds == D("110.00")
    client.post("/reconcile/followups/", data | {"action": "disputes"})
    client.post("/reconcile/followups/", data | {"action": "activities"})
    assert Dispute.objects.get().amount == D("1000.00")
    assert Activity.objects.filter(kind="task", outcome="open").count() == 1
    # after booking the TDS the page no longer offers it
    assert "Book their TDS (0)" in client.get(url).content.decode()


@pytest.mark.parametrize("role,action", [("auditor", "activities"), ("billing", "disputes"), ("billing", "book_tds"),
                                         ("auditor", "book_tds")])
def test_followups_refused_write_nothing(client, books, role, action):
    from dues.audit.models import AuditRecord
    from dues.collections.models import Activity, Dispute
    from dues.ledger.models import Document

    login(client, role)
    url = upload(client)["Location"]
    assert client.get(url).status_code == 200  # they may look
    token = re.search(r"token=([0-9a-f]{32})", url).group(1)
    before = (Document.objects.count(), Dispute.objects.count(), Activity.objects.count(), AuditRecord.objects.count())
    r = client.post("/reconcile/followups/", {"customer": "C001", "as_of": AS_OF, "token": token, "action": action})
    assert r.status_code == 403
    assert (Document.objects.count(), Dispute.objects.count(), Activity.objects.count(),
            AuditRecord.objects.count()) == before


def test_sales_sees_only_their_customers(client, books):
    login(client, "sales", person_name="Ravi")
    assert upload(client)["Location"].startswith("/reconcile/?")
    r = upload(client, code="C009")
    assert r.status_code == 400 and "No customer" in r.content.decode()


def test_nav_link_by_role(client, books):
    login(client, "auditor")
    assert 'href="/reconcile/"' in client.get("/customers/").content.decode()
    empty = client.get("/reconcile/")
    assert empty.status_code == 200 and "Upload a customer's ledger of our account." in empty.content.decode()
    assert "No balance confirmations." in client.get("/reconcile/confirmations/").content.decode()
    client.logout()
    assert client.get("/reconcile/").status_code == 302  # to the login page


def test_confirmation_tracker_send_reply_remind(client, books, home):
    from dues.reconciliation.models import ConfirmationRequest

    login(client, "collector")
    r = client.post("/reconcile/confirmations/send/", {"scope": "one", "customer": "C001", "as_of": AS_OF}, follow=True)
    assert "1 balance-confirmation letter sent" in r.content.decode()
    req = ConfirmationRequest.objects.get()
    assert req.our_balance == D("40000.00")
    [eml] = list((home / "outbox").glob("*.eml"))
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert [p.get_content_type() for p in msg.walk()].count("application/pdf") == 1
    page = client.get("/reconcile/confirmations/?status=requested").content.decode()
    assert "Shree Ganesh Traders" in page and "₹40,000.00" in page and 'name="their_balance"' in page
    assert client.get(f"/reconcile/confirmations/{req.pk}/letter/").status_code == 200
    # a bad reply: the error is shown on the row, nothing recorded
    bad = client.post(f"/reconcile/confirmations/{req.pk}/reply/", {"status": "disagreed"})
    assert bad.status_code == 400 and "give their balance" in bad.content.decode()
    f = SimpleUploadedFile("ganesh.csv", THEIRS.encode(), content_type="text/csv")
    r = client.post(f"/reconcile/confirmations/{req.pk}/reply/", {"status": "disagreed", "file": f}, follow=True)
    req.refresh_from_db()
    assert req.status == "disagreed" and req.their_balance == D("30890.00")
    assert req.reconciliation["unexplained"] == "0.00" and len(req.reconciliation["differences"]) == 3
    html = r.content.decode()
    assert "Their ledger reconciled" in html and "-₹9,110.00" in html
    assert client.post("/reconcile/confirmations/remind/", {"days": "0"}, follow=True).status_code == 200
    assert ConfirmationRequest.objects.get().reminders == 0  # answered: not reminded


@pytest.mark.parametrize("role", ["auditor", "billing", "sales"])
def test_confirmation_writes_refused(client, books, role):
    from dues.reconciliation.models import ConfirmationRequest
    from dues.reconciliation.services import confirmation_request

    [res] = confirmation_request(company=books.company, as_of=date(2025, 6, 30), actor="test", customers=[books])
    login(client, role, person_name="Ravi")
    page = client.get("/reconcile/confirmations/")
    assert page.status_code == 200 and "Send balance-confirmation letters" not in page.content.decode()
    assert client.post("/reconcile/confirmations/send/", {"scope": "all", "as_of": AS_OF}).status_code == 403
    assert client.post(f"/reconcile/confirmations/{res.request.pk}/reply/", {"status": "confirmed"}).status_code == 403
    assert client.post("/reconcile/confirmations/remind/", {"days": "0"}).status_code == 403
    req = ConfirmationRequest.objects.get()
    assert (ConfirmationRequest.objects.count(), req.status, req.reminders) == (1, "requested", 0)
