"""The imports page: preview (dry run: row errors or what would change), commit, and who may import what."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from dues.customers.models import Customer
from dues.integrations.models import ImportBatch
from dues.ledger.models import Document

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]

INVOICES = b"number,customer,date,amount\nINV-1,C001,2025-04-01,118000\nINV-2,C001,2025-04-05,5000.50\n"
BAD_RECEIPTS = (b"number,customer,date,amount,allocations\n"
                b"R-1,C001,2025-05-01,1000,\n"
                b"R-2,C404,2025-05-01,1000,\n"
                b"R-3,C001,2025-13-01,1000,\n"
                b"R-4,C001,2025-05-01,1000,INV-1\n")
RECEIPTS = b"number,customer,date,amount,allocations\nR-1,C001,2025-05-01,1000,INV-1:1000\n"


@pytest.fixture(autouse=True)
def uploads(settings, tmp_path):
    settings.DUES_UPLOAD_DIR = str(tmp_path / "uploads")
    return tmp_path / "uploads"


@pytest.fixture
def acme(make_customer):
    return make_customer("C001", name="Acme Fasteners Pvt Ltd")


def login(client, role):
    from dues.users.models import UserRole

    user = get_user_model().objects.create_user(role, password="pw-2025-long-enough")
    UserRole.objects.create(user=user, role=role)
    client.force_login(user)
    return client


def upload(client, kind, name, data):
    return client.post("/imports/", {"action": "preview", "kind": kind, "file": SimpleUploadedFile(name, data)})


def text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def counts(response) -> dict[str, int]:
    html = response.content.decode()
    return {k: int(v) for k, v in re.findall(r"<dt>([^<]+)</dt><dd>(\d+)</dd>", html)}


def token(response) -> str:
    return re.search(r'name="token" value="([^"]+)"', response.content.decode()).group(1)


def snapshot():
    return (Document.objects.count(), Customer.objects.count(), ImportBatch.objects.count())


def test_preview_shows_every_row_error_and_writes_nothing(client, acme, uploads):
    login(client, "ar_manager")
    before = snapshot()
    page = upload(client, "receipts", "bad-receipts.csv", BAD_RECEIPTS)
    assert page.status_code == 422
    rows = re.findall(r'<tr><td class="code">([^<]*)</td><td class="num">([^<]*)</td><td class="mono">([^<]*)</td>'
                      r"<td>([^<]*)</td></tr>", page.content.decode())
    assert [(f, r, fld) for f, r, fld, _ in rows] == [
        ("bad-receipts.csv", "3", "customer"), ("bad-receipts.csv", "4", "date"),
        ("bad-receipts.csv", "5", "allocations")]
    assert "unknown customer" in rows[0][3]
    assert "3 problems in bad-receipts.csv: nothing was imported" in text(page)
    assert 'name="token"' not in page.content.decode()  # no commit of a bad file
    assert snapshot() == before
    assert not list(uploads.glob("*"))


def test_preview_then_commit(client, acme, uploads):
    login(client, "ar_manager")
    before = snapshot()
    page = upload(client, "invoices", "april.csv", INVOICES)
    assert page.status_code == 200
    assert counts(page) == {"Rows read": 2, "Create": 2, "Update": 0, "Skip (already there)": 0}
    assert "INV-2" in text(page)  # the first rows of the file
    assert snapshot() == before  # a preview writes nothing
    assert len(list(uploads.glob("*.upload"))) == 1
    done = client.post("/imports/", {"action": "commit", "token": token(page)})
    assert done.status_code == 302 and done["Location"] == "/imports/?kind=invoices"
    assert sorted(Document.objects.values_list("number", "amount")) == [("INV-1", 118000), ("INV-2", 5000.50)]
    batch = ImportBatch.objects.get()
    assert (batch.filename, batch.created, batch.created_by) == ("april.csv", 2, "ar_manager")
    assert not list(uploads.glob("*.upload"))
    after = client.get(done["Location"])
    assert "Imported april.csv: 2 invoices created, 0 updated, 0 already there (2 rows)." in text(after)
    assert "april.csv" in text(after)  # in recent imports
    # the same preview cannot be committed twice
    again = client.post("/imports/", {"action": "commit", "token": token(page)})
    assert again.status_code == 409 and "already committed" in text(again)
    assert Document.objects.count() == before[0] + 2
    # and the same file uploaded again would change nothing
    page = upload(client, "invoices", "april.csv", INVOICES)
    assert counts(page)["Create"] == 0 and counts(page)["Skip (already there)"] == 2
    client.post("/imports/", {"action": "commit", "token": token(page)})
    assert Document.objects.count() == before[0] + 2


def test_commit_is_all_or_nothing_when_the_ledger_changed(client, acme, post):
    login(client, "ar_manager")
    page = upload(client, "invoices", "april.csv", INVOICES)
    post("invoice", "INV-2", acme, "2025-04-09", "7")  # someone posts a clashing INV-2 meanwhile
    done = client.post("/imports/", {"action": "commit", "token": token(page)})
    assert done.status_code == 422 and "INV-2 is already posted" in text(done)
    assert list(Document.objects.values_list("number", flat=True)) == ["INV-2"]
    assert ImportBatch.objects.count() == 0


def test_xlsx_customers(client, company):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["Code", "Name", "Credit Days"])
    wb.active.append(["C9", "Nine Traders", 45])
    buffer = io.BytesIO()
    wb.save(buffer)
    login(client, "billing")
    page = upload(client, "customers", "people.xlsx", buffer.getvalue())
    assert counts(page)["Create"] == 1
    client.post("/imports/", {"action": "commit", "token": token(page)})
    assert Customer.objects.get(code="C9").name == "Nine Traders"


def test_field_errors(client, acme):
    login(client, "ar_manager")
    page = client.post("/imports/", {"action": "preview", "kind": "invoices"})
    assert page.status_code == 400 and 'id="i-file-error"' in page.content.decode()
    page = upload(client, "invoices", "notes.pdf", b"%PDF")
    assert page.status_code == 400 and "is not a .csv or .xlsx file" in text(page)
    page = upload(client, "invoices", "empty.csv", b"")
    assert page.status_code == 422 and "empty" in text(page)
    page = upload(client, "invoices", "x.csv", b"number,date\n1,2025-01-01\n")  # the mapping step
    assert "Required and not found yet: customer , amount" in text(page)


@pytest.mark.parametrize("role", ["auditor", "sales"])
def test_readers_cannot_import(client, acme, uploads, role):
    login(client, role)
    assert client.get("/imports/").status_code == 403
    before = snapshot()
    for kind, data in (("invoices", INVOICES), ("customers", b"code,name\nC7,Seven\n")):
        assert upload(client, kind, "f.csv", data).status_code == 403
    assert client.post("/imports/", {"action": "commit", "token": "x"}).status_code == 403
    assert snapshot() == before
    assert not uploads.exists() or not list(uploads.glob("*"))
    assert 'href="/imports/"' not in client.get("/").content.decode()


def test_collector_imports_receipts_but_not_invoices(client, acme, post, uploads):
    post("invoice", "INV-1", acme, "2025-04-01", "5000")
    login(client, "collector")
    page = client.get("/imports/")
    assert page.status_code == 200
    options = re.findall(r'<option value="([^"]+)"', page.content.decode())
    assert options == ["receipts"]
    before = snapshot()
    assert upload(client, "invoices", "april.csv", INVOICES).status_code == 403
    assert snapshot() == before and not list(uploads.glob("*"))
    page = upload(client, "receipts", "may.csv", RECEIPTS)
    assert counts(page)["Create"] == 1
    client.post("/imports/", {"action": "commit", "token": token(page)})
    assert Document.objects.get(number="INV-1").open_items.get().residual == 4000


def test_template_download_and_reference(client, company):
    login(client, "billing")
    page = client.get("/imports/?kind=credit-notes")
    html = page.content.decode()
    assert "<summary>Credit notes</summary>" in html and "<summary>Receipts</summary>" not in html
    assert "<code>against</code>" in html
    sample = client.get("/imports/?sample=invoices")
    assert sample.content.decode().startswith("number,customer,date,due_date,amount")


ERP = b"Bill No,Party,Bill Date,Bill Amount\nB-1,C001,2025-04-01,1000\n"


def test_the_mapping_step_remembers_the_columns_for_a_source(client, acme):
    from dues.integrations.models import ImportMapping

    login(client, "ar_manager")
    page = upload(client, "invoices", "erp.csv", ERP)
    assert page.status_code == 200 and 'name="map_amount"' in page.content.decode()
    assert "Required and not found yet: number , customer , date , amount" in text(page)
    tok = re.search(r'name="token" value="([^"]+)"', page.content.decode()).group(1)
    step = {"action": "map", "token": tok, "source": "", "remember": "on", "map_number": "bill_no",
            "map_customer": "party", "map_date": "bill_date", "map_amount": "bill_amount"}
    page = client.post("/imports/", step)  # remember needs a source name
    assert "Name the source to remember this mapping" in text(page)
    page = client.post("/imports/", {**step, "map_amount": "", "source": "erp-x"})
    assert "Required and not found yet: amount" in text(page)
    page = client.post("/imports/", {**step, "source": "erp-x"})
    assert page.status_code == 200 and counts(page)["Create"] == 1
    assert not ImportMapping.objects.exists()  # saved with the commit, not the preview
    client.post("/imports/", {"action": "commit", "token": token(page)})
    assert Document.objects.get(number="B-1").amount == 1000
    assert ImportMapping.objects.get(source="erp-x", kind="invoices").columns["amount"] == "bill_amount"
    # the next file from that source goes straight to the preview, the mapping applied
    page = client.post("/imports/", {"action": "preview", "kind": "invoices", "source": "erp-x",
                                     "file": SimpleUploadedFile("erp2.csv", ERP.replace(b"B-1", b"B-2"))})
    assert counts(page)["Create"] == 1


def test_a_preset_prefills_and_a_bad_choice_is_named(client, acme):
    login(client, "ar_manager")
    busy = b"Date,Bill No.,Party Name,Pending Amount\n2025-04-01,GST/1,Acme Fasteners Pvt Ltd,590\n"
    page = client.post("/imports/", {"action": "preview", "kind": "invoices", "source": "busy",
                                     "file": SimpleUploadedFile("busy.csv", busy)})
    assert counts(page)["Create"] == 1  # the preset maps every required column: straight to the preview
    page = client.post("/imports/", {"action": "preview", "kind": "invoices", "source": "busy",
                                     "file": SimpleUploadedFile("busy.csv", busy.replace(b"Pending Amount", b"Amt"))})
    html = page.content.decode()
    assert '<option value="bill_no." selected>' in html and '<option value="party_name" selected>' in html
    assert "Required and not found yet: amount" in text(page)
    tok = re.search(r'name="token" value="([^"]+)"', html).group(1)
    page = client.post("/imports/", {"action": "map", "token": tok, "source": "busy", "map_number": "bill_no.",
                                     "map_customer": "nope", "map_date": "date", "map_amount": "amt"})
    assert page.status_code == 422 and "customer=nope: the file has no column" in text(page)
