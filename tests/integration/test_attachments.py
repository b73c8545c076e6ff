"""Proofs (PO, signed challan, proof of delivery): content-addressed storage, the hash in the audit log,
refusals that write nothing, an invoice's proofs through its billed deliveries, the invoice page's
upload and the scoped download, the dispute link, and the S3-compatible backend."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from dues.audit.models import AuditRecord
from dues.core.errors import DuesError, PermissionDenied

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 40
ITEMS = "code,name,hsn,unit,gst_rate,kind\nBOLT,Hex bolt M12,73181500,NOS,18,goods\n"
DELIVERIES = ("delivery,customer,date,item,hsn,qty,uom,rate,gst_rate,discount_pct,po\n"
              "DC-1,C001,2026-11-20,BOLT,,100,NOS,10,18,,PO-7\n"
              "DC-2,C002,2026-11-21,BOLT,,5,NOS,10,18,,\n")


@pytest.fixture
def store(settings, tmp_path):
    """Proofs on a local directory of this test's own."""
    settings.STORAGES = {**settings.STORAGES, "proofs": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path / "proofs")}}}
    return tmp_path / "proofs"


@pytest.fixture
def book(company, make_customer, post, tmp_path, store):
    """C001 (salesperson Ravi) with DC-1 billed and approved as an invoice; C002 (Sita) with DC-2 and INV-9."""
    from dues.billing.imports import import_billing_file
    from dues.billing.services import bill_run, bills_approve

    make_customer("C001", name="Patil Engineering", salesperson="Ravi", credit_limit="1000000")
    zen = make_customer("C002", name="Kaveri Pumps", salesperson="Sita")
    for kind, text in (("items", ITEMS), ("deliveries", DELIVERIES)):
        path = tmp_path / f"{kind}.csv"
        path.write_text(text)
        import_billing_file(kind=kind, path=path, company=company, actor="maker")
    run = bill_run(company=company, on=date(2026, 11, 30), customer=None, actor="maker")
    c001 = [b for b in run.bills if b.customer.code == "C001"]
    bills_approve(company=company, bills=c001, actor="checker", as_of=date(2026, 11, 30))
    c001[0].refresh_from_db()
    post("invoice", "INV-9", zen, "2026-11-01", "5900")
    return c001[0].document


def _attach(company, data, name="pod.pdf", kind="pod", actor="clerk", **target):
    from dues.attachments.services import attach, target_get

    return attach(company=company, target=target_get(company=company, **target), source=data, filename=name,
                  kind=kind, actor=actor)


def _stored(store: Path) -> list[Path]:
    return sorted(p for p in store.rglob("*") if p.is_file()) if store.exists() else []


def test_same_bytes_are_stored_once_and_every_attach_is_audited_with_the_hash(company, book, store):
    from dues.attachments.models import Attachment, StoredFile
    from dues.attachments.selectors import proof_counts, proofs_for_document

    digest = hashlib.sha256(PDF).hexdigest()
    first = _attach(company, PDF, "DC-1 signed.pdf", kind="challan", delivery="DC-1")
    second = _attach(company, PDF, "scan.pdf", invoice=book.number)
    _attach(company, PNG, "C:\\photos\\pod.png", invoice=book.number)
    assert StoredFile.objects.count() == 2 and Attachment.objects.count() == 3
    assert first.file_id == second.file_id and first.file.sha256 == digest
    assert first.file.media_type == "application/pdf" and first.customer.code == "C001"
    assert _stored(store) == sorted([store / "sha256" / digest[:2] / digest,
                                     store / "sha256" / hashlib.sha256(PNG).hexdigest()[:2]
                                     / hashlib.sha256(PNG).hexdigest()])
    assert (store / "sha256" / digest[:2] / digest).read_bytes() == PDF
    records = list(AuditRecord.objects.filter(action="attach").order_by("seq"))
    assert [(r.object_type, r.object_id) for r in records] == [("delivery", "DC-1"), ("invoice", book.number),
                                                               ("invoice", book.number)]
    after = json.loads(records[0].after_json)
    assert after == {"sha256": digest, "size": len(PDF), "media_type": "application/pdf", "kind": "challan",
                     "filename": "DC-1 signed.pdf", "customer": "C001", "delivery": "DC-1"}
    # the invoice's proofs: its own and those of the challan billed on it; the Windows path is cut to the name
    proofs = proofs_for_document(book)
    assert [a.filename for a in proofs] == ["DC-1 signed.pdf", "scan.pdf", "pod.png"]
    assert proof_counts([book]) == {book.pk: 3}
    with pytest.raises(DuesError, match=r"scan\.pdf: already attached"):
        _attach(company, PDF, "scan.pdf", invoice=book.number)


@pytest.mark.parametrize("data, name, target, kind, message", [
    (b"PK\x03\x04zipped", "po.pdf", {"invoice": "INV-9"}, "po", r"po\.pdf: not accepted: its content is a ZIP"),
    (b"<html>hi</html>", "pod.pdf", {"invoice": "INV-9"}, "pod", r"pod\.pdf: not accepted: its content is text"),
    (b"GIF89a....", "pod.gif", {"delivery": "DC-2"}, "pod", r"a GIF image; a proof must be PDF, JPEG, PNG, WebP"),
    (b"", "empty.pdf", {"delivery": "DC-2"}, "pod", r"empty\.pdf: the file is empty"),
    (PDF + b"x" * 200, "big.pdf", {"delivery": "DC-2"}, "pod", r"big\.pdf: too large: more than 200 bytes"),
    (PDF, "pod.pdf", {"invoice": "NOPE"}, "pod", r"no invoice NOPE"),
    (PDF, "pod.pdf", {"delivery": "DC-99"}, "pod", r"no delivery challan DC-99"),
    (PDF, "pod.pdf", {"invoice": "INV-9", "delivery": "DC-1"}, "pod", r"not of one customer"),
    (PDF, "pod.pdf", {"invoice": "INV-9"}, "invoice", r"unknown kind 'invoice'"),
    (PDF, "pod.pdf", {}, "pod", r"say what the file proves"),
])
def test_a_bad_file_or_target_is_refused_by_name_and_nothing_is_written(company, book, store, settings, data, name,
                                                                          target, kind, message):
    from dues.attachments.models import Attachment, StoredFile

    settings.ATTACHMENT_MAX_BYTES = 200
    audited = AuditRecord.objects.count()
    with pytest.raises(DuesError, match=message):
        _attach(company, data, name, kind=kind, **target)
    assert (Attachment.objects.count(), StoredFile.objects.count(), AuditRecord.objects.count()) == (0, 0, audited)
    assert _stored(store) == []


def test_sniffing_knows_the_four_kinds():
    from dues.core.filetypes import sniff

    assert [sniff(x[:16]) for x in (PDF, PNG, JPEG, WEBP, b"RIFF\x00\x00\x00\x00WAVE")] == [
        "application/pdf", "image/png", "image/jpeg", "image/webp", None]


def test_an_auditor_may_not_attach(company, book, store):
    from dues.users.models import UserRole

    user = get_user_model().objects.create_user("aud", password="not-used-2025")
    UserRole.objects.create(user=user, role="auditor")
    with pytest.raises(PermissionDenied):
        _attach(company, PDF, actor=user, invoice="INV-9")
    assert _stored(store) == []


@pytest.fixture
def login(client, db):
    from dues.users.models import UserRole

    def _login(role: str, person: str = ""):
        user = get_user_model().objects.create_user(f"{role}-{person or 'x'}", password="not-used-2025")
        UserRole.objects.create(user=user, role=role, person_name=person)
        client.force_login(user)
        return client

    return _login


def _page(client, number: str):
    return client.get(f"/documents/invoice/{number}/")


def test_upload_on_the_invoice_page_then_open_and_download(company, book, store, login):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from dues.attachments.models import Attachment

    client = login("billing")
    url = f"/documents/invoice/{book.number}/proofs/"
    response = client.post(url, {"file": SimpleUploadedFile("signed-pod.pdf", PDF, "application/pdf"),
                                 "kind": "pod"})
    assert response.status_code == 302 and response["Location"].endswith("#proofs")
    a = Attachment.objects.get()
    assert (a.document_id, a.kind, a.created_by, a.filename) == (book.pk, "pod", "billing-x", "signed-pod.pdf")
    page = _page(client, book.number)
    assert page.status_code == 200 and "signed-pod.pdf" in page.content.decode()
    assert f'href="/proofs/{a.pk}/"' in page.content.decode()
    opened = client.get(f"/proofs/{a.pk}/")
    assert opened.status_code == 200 and b"".join(opened.streaming_content) == PDF
    assert opened["Content-Type"] == "application/pdf" and opened["Content-Security-Policy"] == "sandbox"
    assert opened["Content-Disposition"].startswith("inline")
    saved = client.get(f"/proofs/{a.pk}/?download=1")
    assert saved["Content-Disposition"] == 'attachment; filename="signed-pod.pdf"'
    assert client.get("/proofs/999999/").status_code == 404
    (store / a.file.key).unlink()  # a storage that lost the file: a clear 404, not a server error
    assert client.get(f"/proofs/{a.pk}/").status_code == 404


def test_a_refused_upload_shows_why_and_writes_nothing(company, book, store, login):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from dues.attachments.models import Attachment

    client = login("collector")
    url = f"/documents/invoice/{book.number}/proofs/"
    response = client.post(url, {"file": SimpleUploadedFile("pod.pdf", b"MZ\x90\x00 an exe", "application/pdf"),
                                 "kind": "pod"})
    assert response.status_code == 400
    assert "pod.pdf: not accepted" in re.sub(r"\s+", " ", response.content.decode())
    assert client.post(url, {"kind": "pod"}).status_code == 400
    assert not Attachment.objects.exists() and _stored(store) == []


def test_sales_users_see_and_open_only_their_customers_proofs(company, book, store, login):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from dues.attachments.models import Attachment

    mine = _attach(company, PDF, "pod.pdf", delivery="DC-1")
    theirs = _attach(company, PNG, "po.png", kind="po", invoice="INV-9")
    client = login("sales", "Ravi")
    assert client.get(f"/proofs/{mine.pk}/").status_code == 200
    assert "pod.pdf" in _page(client, book.number).content.decode()
    assert client.get(f"/proofs/{theirs.pk}/").status_code == 403
    assert _page(client, "INV-9").status_code == 403
    # sales read; they do not attach
    refused = client.post(f"/documents/invoice/{book.number}/proofs/",
                          {"file": SimpleUploadedFile("x.pdf", PDF + b"1"), "kind": "po"})
    assert refused.status_code == 403 and Attachment.objects.count() == 2
    assert 'name="file"' not in _page(client, book.number).content.decode()


def test_a_dispute_about_the_delivery_opens_the_invoices_proofs(company, book, store, login):
    from dues.collections.services.disputes import dispute_open

    _attach(company, PDF, "pod.pdf", delivery="DC-1")
    dispute_open(company=company, invoice=book.number, amount=Decimal("100"), reason="not_received", owner="dispatch",
                 actor="test", opened_on=date(2026, 12, 1))
    dispute_open(company=company, invoice="INV-9", amount=Decimal("100"), reason="price", owner="sales",
                 actor="test", opened_on=date(2026, 12, 1))
    page = login("collector").get("/disputes/?status=all").content.decode()
    link = f'href="/documents/invoice/{book.number}/#proofs" class="proofs-link">Proofs (1)</a>'
    assert link in page and page.count("proofs-link") == 1  # the price dispute has no proofs link
    story = login("ar_manager").get("/customers/C001/").content.decode()  # the customer page's disputes too
    assert f'href="/documents/invoice/{book.number}/#proofs" class="proofs-link">proofs</a>' in story


def test_the_storage_setting_chooses_local_disk_or_s3(tmp_path):
    from dues.settings import proof_storage

    local = proof_storage({"DUES_STORAGE_DIR": str(tmp_path / "p")})
    assert local["BACKEND"].endswith("FileSystemStorage") and local["OPTIONS"]["location"] == str(tmp_path / "p")
    s3 = proof_storage({"DUES_STORAGE_S3_BUCKET": "proofs", "DUES_STORAGE_S3_ENDPOINT": "http://127.0.0.1:9000",
                        "DUES_STORAGE_S3_REGION": "ap-south-1", "DUES_STORAGE_S3_ACCESS_KEY": "k",
                        "DUES_STORAGE_S3_SECRET_KEY": "s", "DUES_STORAGE_S3_PREFIX": "/dues/",
                        "DUES_STORAGE_S3_ADDRESSING": "path"})
    assert s3 == {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
        "bucket_name": "proofs", "file_overwrite": True, "default_acl": None, "querystring_auth": True,
        "location": "dues", "endpoint_url": "http://127.0.0.1:9000", "region_name": "ap-south-1",
        "access_key": "k", "secret_key": "s", "addressing_style": "path"}}


@pytest.fixture
def s3_endpoint():
    """moto's S3-compatible server on loopback (a thread of this process), with an empty bucket."""
    moto_server = pytest.importorskip("moto.server")
    import boto3

    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
                 aws_secret_access_key="test").create_bucket(Bucket="dues-proofs")
    yield endpoint
    server.stop()


def test_proofs_round_trip_through_s3_compatible_storage(company, book, settings, s3_endpoint):
    import boto3

    from dues.attachments.selectors import attachment_get
    from dues.attachments.services import attachment_open
    from dues.settings import proof_storage

    settings.STORAGES = {**settings.STORAGES, "proofs": proof_storage({
        "DUES_STORAGE_S3_BUCKET": "dues-proofs", "DUES_STORAGE_S3_ENDPOINT": s3_endpoint,
        "DUES_STORAGE_S3_REGION": "us-east-1", "DUES_STORAGE_S3_ACCESS_KEY": "test",
        "DUES_STORAGE_S3_SECRET_KEY": "test", "DUES_STORAGE_S3_PREFIX": "dues", "DUES_STORAGE_S3_ADDRESSING": "path"})}
    a = _attach(company, JPEG, "pod.jpg", invoice=book.number)
    _attach(company, JPEG, "same.jpg", delivery="DC-1")  # the same bytes: stored once
    digest = hashlib.sha256(JPEG).hexdigest()
    listed = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id="test",
                          aws_secret_access_key="test").list_objects_v2(Bucket="dues-proofs")
    assert [o["Key"] for o in listed["Contents"]] == [f"dues/sha256/{digest[:2]}/{digest}"]
    with attachment_open(attachment_get(company=company, pk=a.pk, actor="test")) as fh:
        assert fh.read() == JPEG


def test_the_cli_attaches_and_lists_in_process(company, book, store, tmp_path):
    from click.testing import CliRunner

    import dues.cli.attachments  # noqa: F401  (registers the commands)
    from dues.cli.main import cli

    (tmp_path / "challan.png").write_bytes(PNG)
    runner = CliRunner()
    done = runner.invoke(cli, ["--user", "dispatch", "attach", str(tmp_path / "challan.png"), "--delivery", "DC-1",
                               "--kind", "challan"], catch_exceptions=False)
    assert done.exit_code == 0 and f"sha256 {hashlib.sha256(PNG).hexdigest()}" in done.output
    listed = runner.invoke(cli, ["attachments", "--invoice", book.number], catch_exceptions=False)
    assert listed.exit_code == 0 and "challan.png" in listed.output and "delivery DC-1" in listed.output
    assert "no proofs attached" in runner.invoke(cli, ["attachments", "--invoice", "INV-9"]).output
    with pytest.raises(DuesError, match="no delivery challan DC-404"):
        runner.invoke(cli, ["attach", str(tmp_path / "challan.png"), "--delivery", "DC-404"], catch_exceptions=False)
