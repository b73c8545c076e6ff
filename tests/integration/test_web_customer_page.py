"""The customer page as the whole story, and customers with their contacts created and edited at the desk."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dues import clock
from dues.audit.models import AuditRecord
from dues.banking.models import BankLine
from dues.banking.services import bank_statement_import
from dues.collections.models import Activity, DunningAction, DunningPolicy, DunningStep
from dues.collections.services.disputes import dispute_open
from dues.collections.services.promises import promise_add
from dues.core.errors import PermissionDenied, ValidationFailed
from dues.customers.models import Contact, Customer, CustomerNote, contact_role
from dues.customers.services import contact_add, customer_save, note_add, note_pin

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.date_sensitive,  # the story is dated back from today
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]


def ago(n: int):
    return clock.today() - timedelta(days=n)


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def login(client, role: str, person: str = ""):
    from dues.users.models import UserRole

    user = get_user_model().objects.create_user(f"u_{role}", password="x-pass-2026")
    UserRole.objects.create(user=user, role=role, person_name=person)
    client.force_login(user)
    return user


@pytest.fixture
def story(company, make_customer, post):
    """Acme with every section filled: an invoice half paid, money on account, a credit note, a promise,
    a dispute, notes (one pinned), a call, a statement and a letter sent, a bank line matched."""
    acme = make_customer("C001", name="Acme Fasteners Pvt Ltd", gstin="27AAPFU0939F1ZV", credit_limit="90000",
                         salesperson="Ravi", collector="Meena", email="accounts@acme.example")
    make_customer("C002", name="Zenith Polymers")
    post("invoice", "INV-1", acme, ago(90), "118000.00")
    post("invoice", "INV-2", acme, ago(45), "59000.00")
    rct1 = post("receipt", "RCT-1", acme, ago(40), "50000", mode="neft", reference="UTR1",
                allocations=[("INV-1", Decimal("50000"))])
    post("receipt", "RCT-2", acme, ago(20), "25000", mode="neft", reference="UTR2")  # on account
    post("credit_note", "CN-1", acme, ago(10), "5900")                                  # not set off
    promise_add(customer=acme, amount="30000", promised_date=ago(-5), actor="test", taken_on=ago(3))
    dispute_open(company=company, invoice="INV-2", amount="9000", reason="price", owner="sales", actor="test")
    note_add(customer=acme, text="Pays only after the 10th; ask for Mr Shah.", pinned=True, actor="test")
    note_add(customer=acme, text="Moved to a new office in Andheri.", actor="test")
    Activity.objects.create(company=company, customer=acme, kind="call", outcome="reached", subject="Spoke to Shah",
                            notes="Will pay next week", created_by="meena", on=ago(2))
    policy = DunningPolicy.objects.create(company=company, name="Standard")
    statement = DunningStep.objects.create(policy=policy, order=1, key="statement", offset_days=0, channel="email",
                                           template="statement")
    letter = DunningStep.objects.create(policy=policy, order=2, key="final", offset_days=60, channel="letter",
                                        template="final-notice")
    sent = {}
    for step, days in ((statement, 30), (letter, 15)):
        sent[step.key] = DunningAction.objects.create(
            company=company, customer=acme, step=step, step_key=step.key, date=ago(days), items=["INV-1"],
            amount=Decimal("68000"), channel=step.channel, idempotency_key=f"{step.key}:{days}", status="sent",
            created_by="run", sent_at=clock.now())
    contact_add(customer=acme, name="Rakesh Shah", role="Accounts", email="rakesh@acme.example",
                phone="+91 98200 11111", whatsapp="+91 98200 22222", actor="test")
    contact_add(customer=acme, name="Anil Mehta", role="Owner", phone="+91 98200 33333", actor="test")
    data = ("Account No :50100123456789\n\n"
            "Date,Narration,Chq./Ref.No.,Value Dt,Withdrawal Amt.,Deposit Amt.,Closing Balance\n"
            f'{ago(40):%d/%m/%y},NEFT CR-ICIC0000456-ACME FASTENERS PVT LTD-UTR1,UTR1,{ago(40):%d/%m/%y},,'
            '"50,000.00","1,50,000.00"\n')
    bank_statement_import(company=company, path="acme.csv", data=data.encode(), preset="hdfc", actor="test")
    BankLine.objects.filter(reference="UTR1").update(receipt=rct1, status="applied", applied_amount=Decimal("50000"))
    return SimpleNamespace(acme=acme, sent=sent)


def test_every_section_of_the_customer_page_has_its_data(client, story):
    login(client, "collector", "Meena")
    page = text(client.get("/customers/C001/"))
    # promises with their status as of today, disputes
    assert "Promises to pay" in page and "30,000.00" in page and "Open" in page
    assert "Disputes" in page and "INV-2" in page and "Price" in page and "9,000.00" in page
    # notes: the pinned one before the other
    assert page.index("Pays only after the 10th") < page.index("Moved to a new office")
    assert "pinned" in page
    # activities
    assert "Spoke to Shah" in page
    # statements and letters sent, each with its PDF
    for action in story.sent.values():
        assert f"/customers/C001/sent/{action.pk}/pdf/" in page
    assert "Statement of account" in page and "Final notice letter" in page
    # receipts with their allocations; the bank line matched to RCT-1
    receipts = page[page.index('id="receipts-title"'):page.index('id="bank-title"')]
    assert re.search(r"RCT-1.*INV-1</a> <span class=\"num\">50,000.00", receipts), receipts
    assert "ACME FASTENERS" in page
    # unapplied credits, each with Allocate linking to the allocate page
    assert 'href="/allocate/receipt/RCT-2/"' in page and 'href="/allocate/credit_note/CN-1/"' in page
    assert "30,900.00" in page  # 25,000 + 5,900 on account
    # credit limit use: 96,100 outstanding (1,27,000 less 30,900 on account) over a 90,000 limit is flagged
    assert "over limit" in page and "96,100.00" in page and "90,000.00 limit" in page
    # contacts: primary first, with roles and WhatsApp
    assert page.index("Rakesh Shah") < page.index("Anil Mehta")
    assert "accounts payable" in page and "primary" in page and "wa.me/919820022222" in page
    # what a collector does next
    for label in ("Log a call", "Take a promise", "Raise a dispute", "Statement (PDF)", "New receipt"):
        assert label in page
    assert "/receipts/new/?customer=C001" in page


def test_the_customer_page_queries_are_bounded(client, story, post, company):
    login(client, "ar_manager")
    client.get("/customers/C001/")  # warm: sessions, content types
    with CaptureQueriesContext(connection) as first:
        assert client.get("/customers/C001/").status_code == 200
    # ten more of everything: the number of queries stays the same
    acme = story.acme
    for n in range(10):
        post("receipt", f"RCT-X{n}", acme, ago(5), "1000", mode="upi")
        note_add(customer=acme, text=f"note {n}", actor="test")
        Activity.objects.create(company=company, customer=acme, kind="call", outcome="no_answer", created_by="m",
                                on=ago(1))
        promise_add(customer=acme, amount="100", promised_date=ago(-3), actor="test", taken_on=ago(1))
    contact_add(customer=acme, name="Third person", role="purchase", actor="test")
    with CaptureQueriesContext(connection) as second:
        assert client.get("/customers/C001/").status_code == 200
    assert len(second) == len(first), [q["sql"][:120] for q in second.captured_queries]
    assert len(first) < 45


def test_sent_statement_and_letter_pdfs_open(client, story):
    login(client, "collector")
    for action in story.sent.values():
        response = client.get(f"/customers/C001/sent/{action.pk}/pdf/")
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")
    # the same bytes for the same date: made again deterministically
    again = client.get(f"/customers/C001/sent/{story.sent['statement'].pk}/pdf/")
    assert again.status_code == 200
    assert client.get("/customers/C001/statement.pdf").content.startswith(b"%PDF")
    assert client.get(f"/customers/C002/sent/{story.sent['statement'].pk}/pdf/").status_code == 404


def test_notes_are_added_and_pinned_and_audited(client, story):
    login(client, "collector", "Meena")
    response = client.post("/customers/C001/notes/", {"text": "Cheque promised by courier", "pinned": "1"})
    assert response.status_code == 302 and response["Location"].endswith("#notes")
    pinned = CustomerNote.objects.get(customer=story.acme, pinned=True)
    assert pinned.text == "Cheque promised by courier" and pinned.created_by == "u_collector"
    older = CustomerNote.objects.get(text__startswith="Pays only")
    client.post("/customers/C001/notes/", {"note": older.pk, "pin": "1"})
    assert CustomerNote.objects.get(customer=story.acme, pinned=True).pk == older.pk
    empty = client.post("/customers/C001/notes/", {"text": "  "})
    assert empty.status_code == 400 and "Write the note" in text(empty)
    assert AuditRecord.objects.filter(object_type="customer_note").count() >= 4
    login(client, "auditor")
    assert client.post("/customers/C001/notes/", {"text": "x"}).status_code == 403


def test_manager_creates_a_customer_with_contacts(client, company):
    login(client, "ar_manager")
    assert "New customer" in text(client.get("/customers/"))
    form = client.get("/customers/new/")
    assert form.status_code == 200 and 'name="contact-0-name"' in text(form)
    response = client.post("/customers/new/", {
        "code": "C100", "name": "Kaveri Distributors", "gstin": "27AAPFU0939F1ZV", "state": "",
        "terms_kind": "net", "terms_days": "45", "credit_limit": "1,50,000", "collector": "Meena",
        "salesperson": "Ravi", "email": "", "phone": "",
        "contact-count": "3",
        "contact-0-name": "Sunita Rao", "contact-0-role": "accounts_payable", "contact-0-email": "sunita@kaveri.example",
        "contact-0-phone": "+91 98450 12345", "contact-0-whatsapp": "+91 98450 12345", "contact-0-primary": "1",
        "contact-1-name": "K. Rao", "contact-1-role": "owner", "contact-1-phone": "080-2345 6789",
        "contact-2-name": "", "contact-2-role": "accounts_payable",
    })
    assert response.status_code == 302 and response["Location"] == "/customers/C100/"
    c = Customer.objects.get(code="C100")
    assert c.credit_limit == Decimal("150000.00") and c.terms_days == 45 and c.credit_days == 45
    assert c.state_code == "27" and c.pan == "AAPFU0939F"
    contacts = {x.name: x for x in c.contacts.all()}
    assert set(contacts) == {"Sunita Rao", "K. Rao"}
    assert contacts["Sunita Rao"].is_primary and contacts["K. Rao"].role == "owner"
    created = AuditRecord.objects.get(object_type="customer", object_id="C100", action="create")
    assert json.loads(created.after_json)["credit_limit"] == "150000.00"
    assert AuditRecord.objects.filter(object_type="contact", object_id__startswith="C100/", action="create").count() == 2
    page = text(client.get("/customers/C100/"))
    assert "Sunita Rao" in page and "K. Rao" in page


def test_validation_errors_are_named_per_field(client, company, make_customer):
    make_customer("C001", name="Acme")
    login(client, "billing")
    response = client.post("/customers/new/", {
        "code": "C001", "name": "", "gstin": "27AAPFU0939F1ZX", "terms_kind": "net", "terms_days": "thirty",
        "credit_limit": "1,50,00x", "contact-count": "2",
        "contact-0-name": "", "contact-0-email": "not-an-address", "contact-0-primary": "1",
        "contact-1-name": "B", "contact-1-phone": "call me", "contact-1-primary": "1",
    })
    assert response.status_code == 400
    page = text(response)
    assert "The customer was not saved" in page
    assert 'id="f-code-error">Code customer C001 already exists' in page
    assert 'id="f-name-error">Name is required' in page
    assert 'id="f-gstin-error">GSTIN:' in page
    assert 'id="f-limit-error">Credit limit:' in page
    assert 'id="f-days-error">Credit days:' in page
    assert 'id="c0-name-error">Name is required' in page
    assert 'id="c0-email-error">E-mail:' in page
    assert 'id="c1-phone-error">Phone:' in page
    assert "only one contact can be the primary one" in page.lower()
    assert 'value="not-an-address"' in page  # what was typed comes back
    assert Customer.objects.count() == 1 and not Contact.objects.exists()


def test_edit_changes_fields_and_contacts_audited_before_and_after(client, story):
    login(client, "ar_manager")
    acme = story.acme
    rakesh, anil = acme.contacts.get(name="Rakesh Shah"), acme.contacts.get(name="Anil Mehta")
    form = text(client.get("/customers/C001/edit/"))
    assert 'value="Rakesh Shah"' in form and 'value="90,000.00"' in form  # grouped the Indian way
    response = client.post("/customers/C001/edit/", {
        "code": "IGNORED", "name": "Acme Fasteners Pvt Ltd", "gstin": "27AAPFU0939F1ZV", "state": "27",
        "terms_kind": "eom", "terms_days": "15", "credit_limit": "2,50,000.50", "collector": "Pooja",
        "salesperson": "Ravi", "email": "accounts@acme.example", "phone": "",
        "contact-count": "3",
        "contact-0-id": str(rakesh.pk), "contact-0-name": "Rakesh Shah", "contact-0-role": "accounts_payable",
        "contact-0-email": "rakesh.shah@acme.example", "contact-0-phone": "+91 98200 11111",
        "contact-1-id": str(anil.pk), "contact-1-name": "Anil Mehta", "contact-1-role": "owner",
        "contact-1-delete": "1",
        "contact-2-name": "Priya Nair", "contact-2-role": "purchase", "contact-2-primary": "1",
    })
    assert response.status_code == 302, text(response)[:3000]
    acme.refresh_from_db()
    assert acme.code == "C001" and acme.collector == "Pooja" and acme.credit_limit == Decimal("250000.50")
    assert (acme.terms_kind, acme.terms_days) == ("eom", 15)
    names = {c.name: c for c in acme.contacts.all()}
    assert set(names) == {"Rakesh Shah", "Priya Nair"}
    assert names["Priya Nair"].is_primary and not names["Rakesh Shah"].is_primary
    assert names["Rakesh Shah"].email == "rakesh.shah@acme.example"
    update = AuditRecord.objects.filter(object_type="customer", object_id="C001", action="update").latest("seq")
    before, after = json.loads(update.before_json), json.loads(update.after_json)
    assert before["collector"] == "Meena" and after["collector"] == "Pooja"
    assert before["credit_limit"] == "90000.00" and after["credit_limit"] == "250000.50"
    assert AuditRecord.objects.filter(object_type="contact", object_id=f"C001/{anil.pk}", action="delete").exists()
    changed = AuditRecord.objects.filter(object_type="contact", object_id=f"C001/{rakesh.pk}", action="update").latest("seq")
    assert json.loads(changed.before_json)["email"] == "rakesh@acme.example"
    assert json.loads(changed.after_json)["primary"] is False


@pytest.mark.parametrize("role", ["collector", "sales", "auditor"])
def test_roles_without_customers_change_cannot_create_or_edit(client, story, role):
    login(client, role, "Ravi" if role == "sales" else "")
    assert client.get("/customers/new/").status_code == 403
    assert client.post("/customers/new/", {"code": "X1", "name": "X"}).status_code == 403
    assert client.get("/customers/C001/edit/").status_code == 403
    assert client.post("/customers/C001/edit/", {"name": "Changed"}).status_code == 403
    assert not Customer.objects.filter(code="X1").exists()
    assert Customer.objects.get(code="C001").name == "Acme Fasteners Pvt Ltd"
    page = text(client.get("/customers/"))
    assert "New customer" not in page
    with pytest.raises(PermissionDenied):  # the service refuses too, whoever calls it
        customer_save(company=story.acme.company, data={"code": "X2", "name": "X"},
                      actor=get_user_model().objects.get(username=f"u_{role}"))


def test_service_refuses_two_primaries_and_keeps_one_primary(company, make_customer):
    acme = make_customer("C001")
    first = contact_add(customer=acme, name="A", role="Accounts", actor="test")
    second = contact_add(customer=acme, name="B", role="Finance", actor="test", primary=True)
    first.refresh_from_db()
    assert second.is_primary and not first.is_primary and second.role == "accounts_payable"
    with pytest.raises(ValidationFailed):
        customer_save(company=company, customer=acme, data={"name": "Acme"}, actor="test",
                      contacts=[{"id": first.pk, "name": "A", "primary": "1"},
                                {"id": second.pk, "name": "B", "primary": "1"}])
    note = note_add(customer=acme, text="one", actor="test")
    note_pin(note=note, pinned=True, actor="test")
    assert CustomerNote.objects.get(pinned=True).pk == note.pk
    assert [contact_role(x) for x in ("Accounts", "OWNER", "Purchase", "Finance", "driver")] == \
        ["accounts_payable", "owner", "purchase", "accounts_payable", "other"]


def test_admin_link_is_gone_from_the_desk_but_admin_stays(client, company, settings):
    settings.ROOT_URLCONF = "tests.integration.urls_admin"  # the admin is off unless DUES_ADMIN_PATH is set
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "root-pass-2026")
    client.force_login(admin)
    page = text(client.get("/customers/"))
    assert "/admin/" not in page
    assert client.get("/admin/").status_code == 200


def test_new_receipt_on_receipt_lists_and_back_to_the_customer_after_a_save(client, story):
    login(client, "collector", "Meena")
    assert 'href="/receipts/new/' in text(client.get("/receipts/"))
    assert 'href="/receipts/new/' in text(client.get("/cash/"))
    allocate = text(client.get("/allocate/receipt/RCT-2/"))
    assert "Back to C001" in allocate and 'href="/customers/C001/"' in allocate


def test_messages_prefer_the_primary_accounts_payable_contact(company, make_customer):
    from dues.collections import selectors as cs
    from dues.collections.services.dunning import _recipients

    shop = make_customer("C010", name="Corner Shop", phone="+91 98200 12345", email="shop@example.com")
    contact_add(customer=shop, name="Owner", role="owner", phone="+91 90000 00001", email="owner@example.com",
                actor="test")
    profile = cs.customer_profiles(company, [shop.pk])[shop.pk]

    def to(channel):
        return _recipients(channel, profile, cs.contacts_by_customer([shop.pk])[shop.pk])

    # no primary accounts-payable contact: the customer's own phone, as before
    assert to("sms") == ["+91 98200 12345"]
    contact_add(customer=shop, name="Accounts", role="accounts payable", phone="+91 90000 00002",
                whatsapp="+91 90000 00003", email="ap@example.com", primary=True, actor="test")
    assert to("sms") == ["+91 90000 00002"]
    assert to("whatsapp") == ["+91 90000 00003"]
    # e-mail goes to everyone: the customer's address first, then the primary accounts-payable contact
    assert to("email") == ["shop@example.com", "ap@example.com", "owner@example.com"]


def test_a_new_gstin_brings_its_own_pan_and_state_errors_are_named(client, story):
    login(client, "billing")
    form = {"name": "Acme Fasteners Pvt Ltd", "gstin": "27AAACB1234C1ZF", "state": "27", "terms_kind": "net",
            "terms_days": "30", "credit_limit": "90,000", "contact-count": "0"}
    assert client.post("/customers/C001/edit/", form).status_code == 302
    story.acme.refresh_from_db()
    assert (story.acme.gstin, story.acme.pan) == ("27AAACB1234C1ZF", "AAACB1234C")
    wrong_state = client.post("/customers/C001/edit/", {**form, "state": "29"})
    assert wrong_state.status_code == 400 and 'id="f-state-error">State:' in text(wrong_state)
