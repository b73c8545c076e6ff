"""Saved filters (per user, shared with the team) and bulk actions on the customer list and the worklist."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from dues.audit.models import AuditRecord
from dues.audit.services import audit_verify
from dues.collections.models import CustomerCollections
from dues.customers.models import Contact, Customer
from dues.web.models import SavedFilter

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]


def _user(username, role, person=""):
    from dues.users.models import UserRole

    user = get_user_model().objects.create_user(username, password="pw-2026-bulk")
    UserRole.objects.create(user=user, role=role, person_name=person)
    return user


@pytest.fixture
def book(company, make_customer, post):
    acme = make_customer("C001", name="Acme Fasteners Pvt Ltd", email="accounts@acme.example",
                         salesperson="Ravi", collector="Meena")
    zen = make_customer("C002", name="=HYPERLINK(\"http://x\")", salesperson="Kiran", collector="Meena")
    bharat = make_customer("C003", name="Bharat Steel Traders", salesperson="Ravi")
    Contact.objects.create(customer=bharat, name="Anil", role="accounts", email="anil@bharat.example")
    post("invoice", "INV-1", acme, "2025-04-01", "118000.00")
    post("invoice", "INV-2", zen, "2025-04-01", "59000.00")
    post("invoice", "INV-3", bharat, "2025-04-01", "236000.00")
    return {"acme": acme, "zen": zen, "bharat": bharat}


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def as_role(client, role, username=None, person=""):
    user = _user(username or role, role, person)
    client.force_login(user)
    return user


# --- saved filters ---------------------------------------------------------------------------------------------


def test_saved_filters_are_per_user_unless_shared(client, book):
    asha = as_role(client, "ar_manager", "asha")
    response = client.post("/filters/save/", {"list": "customers", "name": "Big ones", "query": "q=acme&sort=-overdue&page=3"})
    assert response.status_code == 302 and response["Location"] == "/customers/?q=acme&sort=-overdue"
    client.post("/filters/save/", {"list": "worklist", "name": "Meena today", "query": "collector=Meena",
                                   "shared": "1"})
    mine = text(client.get("/customers/"))
    assert "Big ones" in mine and 'href="/customers/?q=acme&amp;sort=-overdue"' in mine
    assert "Meena today" in text(client.get("/worklist/"))

    pooja = as_role(client, "collector", "pooja", "Meena")
    assert "Big ones" not in text(client.get("/customers/"))          # asha's own
    worklist = text(client.get("/worklist/"))
    assert "Meena today" in worklist and "(team)" in worklist         # shared with the team
    shared = SavedFilter.objects.get(name="Meena today")
    assert client.post(f"/filters/{shared.pk}/delete/", {"next": "/worklist/"}).status_code == 302
    assert SavedFilter.objects.filter(pk=shared.pk).exists()          # only its owner deletes it
    client.post("/filters/save/", {"list": "customers", "name": "Big ones", "query": "q=zen"})
    assert SavedFilter.objects.filter(name="Big ones").count() == 2   # same name, another user
    assert SavedFilter.objects.get(name="Big ones", owner=pooja).query == "q=zen"

    client.force_login(asha)
    client.post(f"/filters/{shared.pk}/delete/", {"next": "/worklist/"})
    assert not SavedFilter.objects.filter(pk=shared.pk).exists()
    saved = SavedFilter.objects.get(name="Big ones", owner=asha)
    client.post("/filters/save/", {"list": "customers", "name": "Big ones", "query": "q=bharat"})
    saved.refresh_from_db()
    assert saved.query == "q=bharat"                                  # saved again under its name: replaced


def test_saving_needs_a_name(client, book):
    as_role(client, "ar_manager")
    response = client.post("/filters/save/", {"list": "customers", "name": " ", "query": "q=a", "next": "/customers/"},
                           follow=True)
    assert "Filter not saved: give the filter a name." in text(response)
    assert not SavedFilter.objects.exists()


# --- bulk actions -----------------------------------------------------------------------------------------------


def test_lists_have_checkboxes_and_the_bulk_bar(client, book):
    as_role(client, "ar_manager")
    page = text(client.get("/customers/"))
    assert 'id="bulk-all"' in page and 'name="codes" value="C001" form="bulk-form"' in page
    assert 'value="assign"' in page and 'value="statements"' in page and 'value="export_csv"' in page
    worklist = text(client.get("/worklist/?collector=*"))
    assert 'name="codes" value="C001" form="bulk-form"' in worklist


def test_assign_collector_in_one_go_audited(client, book):
    as_role(client, "ar_manager", "asha")
    before = AuditRecord.objects.count()
    response = client.post("/bulk/", {"action": "assign", "collector": "Pooja", "codes": ["C001", "C003", "C999"],
                                      "list": "customers", "next": "/customers/"}, follow=True)
    assert "2 customers assigned" in text(response) and "skipped 1 (no such customer)" in text(response)
    assert set(Customer.objects.filter(collector="Pooja").values_list("code", flat=True)) == {"C001", "C003"}
    records = list(AuditRecord.objects.filter(seq__gt=before).order_by("seq"))
    assert [(r.action, r.object_type, r.object_id) for r in records] == [
        ("update", "customer", "C001"), ("update", "customer", "C003"), ("bulk", "customers", "assign")]
    assert '"collector":"Pooja"' in records[0].after_json.replace(" ", "") and records[0].actor == "asha"
    assert audit_verify().ok


def test_assigning_needs_customers_change(client, book):
    as_role(client, "collector", "pooja")
    before = AuditRecord.objects.count()
    response = client.post("/bulk/", {"action": "assign", "collector": "Pooja", "codes": ["C001"]})
    assert response.status_code == 403
    assert Customer.objects.get(code="C001").collector == "Meena" and AuditRecord.objects.count() == before


def test_hold_and_resume_dunning(client, book):
    as_role(client, "collector", "pooja")
    response = client.post("/bulk/", {"action": "hold", "reason": "disputed rates", "codes": ["C001", "C002"],
                                      "next": "/worklist/"}, follow=True)
    assert "2 customers put on hold" in text(response)
    held = CustomerCollections.objects.filter(dunning_hold=True)
    assert {p.customer.code for p in held} == {"C001", "C002"} and {p.hold_reason for p in held} == {"disputed rates"}
    again = client.post("/bulk/", {"action": "hold", "reason": "disputed rates", "codes": ["C001"]}, follow=True)
    assert "0 customers put on hold; 1 already so" in text(again)
    client.post("/bulk/", {"action": "resume", "codes": ["C001", "C002"]})
    assert not CustomerCollections.objects.filter(dunning_hold=True).exists()
    assert AuditRecord.objects.filter(action="update", object_type="customer_collections").count() == 4
    assert AuditRecord.objects.filter(action="bulk", object_id__in=["hold", "resume"]).count() == 3


@pytest.mark.parametrize("role", ["billing", "auditor", "sales"])
def test_hold_and_statements_refused_without_collections_act(client, book, role):
    as_role(client, role, person="Ravi")
    for action in ("hold", "resume", "statements"):
        assert client.post("/bulk/", {"action": action, "codes": ["C001"]}).status_code == 403
    assert not CustomerCollections.objects.filter(dunning_hold=True).exists()
    assert not AuditRecord.objects.filter(action__in=["bulk", "send"]).exists()


def test_send_statements_reports_sent_and_skipped(client, book, tmp_path, monkeypatch):
    monkeypatch.setenv("DUES_HOME", str(tmp_path))
    monkeypatch.delenv("DUES_SMTP_URL", raising=False)
    as_role(client, "collector", "pooja")
    response = client.post("/bulk/", {"action": "statements", "codes": ["C001", "C002", "C003"],
                                      "next": "/customers/"}, follow=True)
    page = text(response)
    assert "2 customers sent a statement" in page and "skipped 1 (no e-mail address)" in page
    sent = sorted(p.name for p in (tmp_path / "outbox").glob("*.eml"))
    assert len(sent) == 2 and sent[0].startswith("C001-statement") and sent[1].startswith("C003-statement")
    assert "anil@bharat.example" in (tmp_path / "outbox" / sent[1]).read_text()
    assert sorted(AuditRecord.objects.filter(action="send", object_type="statement")
                  .values_list("object_id", flat=True)) == ["C001", "C003"]
    bulk = AuditRecord.objects.get(action="bulk", object_id="statements")
    assert "C002: no e-mail address" in bulk.after_json


def test_export_csv_and_xlsx_neutralise_formulas(client, book):
    from openpyxl import load_workbook

    as_role(client, "ar_manager")
    response = client.post("/bulk/", {"action": "export_csv", "codes": ["C001", "C002"]})
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment; filename=")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["Code", "Name"] and [r[0] for r in rows[1:]] == ["C001", "C002"]
    assert rows[2][1] == "'=HYPERLINK(\"http://x\")" and Decimal(rows[1][9]) == Decimal("118000.00")

    xlsx = client.post("/bulk/", {"action": "export_xlsx", "codes": ["C002"]})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet["B2"].value == "'=HYPERLINK(\"http://x\")" and sheet["B2"].data_type == "s"
    assert AuditRecord.objects.filter(action="bulk", object_id="export").count() == 2


def test_sales_exports_only_their_customers(client, book):
    as_role(client, "sales", "rahul", person="Ravi")
    response = client.post("/bulk/", {"action": "export_csv", "codes": ["C001", "C002", "C003"]})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["C001", "C003"]
    record = AuditRecord.objects.get(action="bulk", object_id="export")
    assert "C002: not one of your customers" in record.after_json


def test_nothing_selected_or_no_action(client, book):
    as_role(client, "ar_manager")
    assert "select at least one customer" in text(client.post("/bulk/", {"action": "hold", "next": "/customers/"},
                                                              follow=True))
    assert "Choose what to do" in text(client.post("/bulk/", {"codes": ["C001"], "next": "/customers/"}, follow=True))
    assert client.get("/bulk/").status_code == 405
    assert not AuditRecord.objects.filter(action="bulk").exists()
