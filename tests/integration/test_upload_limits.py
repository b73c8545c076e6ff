"""Uploads are streamed and size-limited: a file over its limit is refused by its size with a clear message,
before it is read, and nothing is written (imports, bank statements, proofs)."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import InMemoryUploadedFile, SimpleUploadedFile, TemporaryUploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler

from dues.attachments.models import Attachment
from dues.audit.models import AuditRecord
from dues.banking.models import BankLine
from dues.customers.models import Customer
from dues.users.services import user_add

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]

LIMIT = 1000
BIG = b"code,name,state,credit_days\n" + b"C9,Big Traders,27,30\n" * 300  # 6,000 bytes: over LIMIT


@pytest.fixture
def manager(client, company, settings, tmp_path):
    settings.IMPORT_MAX_BYTES = LIMIT
    settings.ATTACHMENT_MAX_BYTES = LIMIT
    settings.DUES_UPLOAD_DIR = str(tmp_path / "uploads")
    user = user_add(username="anil", role="ar_manager", password="pw-123456789", actor="test")[0]
    client.force_login(user)
    return client


@pytest.fixture
def never_read(monkeypatch):
    """Fail if a view reads an uploaded file's content: an oversized one must be refused by its size."""

    def read(self, *args):
        raise AssertionError(f"{self.name} was read")

    monkeypatch.setattr(InMemoryUploadedFile, "read", read)  # what the server side gets (the client sends a BytesIO)
    monkeypatch.setattr(TemporaryUploadedFile, "read", read)


def _file(name: str, data: bytes) -> io.BytesIO:
    f = io.BytesIO(data)
    f.name = name
    return f


def _nothing_written(before):
    return (Customer.objects.count(), BankLine.objects.count(), Attachment.objects.count(),
            AuditRecord.objects.count()) == before


def _counts():
    return (Customer.objects.count(), BankLine.objects.count(), Attachment.objects.count(),
            AuditRecord.objects.count())


def test_an_oversized_import_is_refused_unread(manager, never_read, tmp_path):
    before = _counts()
    response = manager.post("/imports/", {"kind": "customers",
                                          "file": _file("big.csv", BIG)})
    assert response.status_code == 400
    assert "“big.csv” is larger than 1000 bytes (DUES_IMPORT_MAX_BYTES); split it." in response.content.decode()
    assert _nothing_written(before)
    assert not list((tmp_path / "uploads").glob("*"))  # no preview kept


def test_an_oversized_bank_statement_is_refused_unread(manager, never_read):
    before = _counts()
    response = manager.post("/cash/upload/", {"file": _file("june.csv", BIG)},
                            follow=True)
    assert "june.csv was not imported: larger than 1000 bytes (DUES_IMPORT_MAX_BYTES)." in response.content.decode()
    assert _nothing_written(before)


def test_an_oversized_proof_is_refused_unread(manager, never_read, make_customer, post):
    post("invoice", "INV-1", make_customer("C001"), "2025-04-01", "1180.00")
    before = _counts()
    response = manager.post("/documents/invoice/INV-1/proofs/",
                            {"kind": "pod", "file": _file("pod.pdf", b"%PDF-1.4\n" + b"x" * 2000)})
    assert response.status_code == 400
    assert "pod.pdf: too large: more than 1000 bytes (the limit, DUES_ATTACHMENT_MAX_MB)" in response.content.decode()
    assert _nothing_written(before)


def test_a_large_upload_is_streamed_to_a_temporary_file(manager, monkeypatch, settings):
    """Over FILE_UPLOAD_MAX_MEMORY_SIZE the upload goes to disk as it arrives, not into memory."""
    seen = []
    complete = TemporaryFileUploadHandler.file_complete

    def spy(self, file_size):
        done = complete(self, file_size)
        seen.append((type(done).__name__, file_size))
        return done

    monkeypatch.setattr(TemporaryFileUploadHandler, "file_complete", spy)
    size = settings.FILE_UPLOAD_MAX_MEMORY_SIZE + 1
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE <= 1024 * 1024
    response = manager.post("/imports/", {"kind": "customers",
                                          "file": SimpleUploadedFile("big.csv", b"x" * size, "text/csv")})
    assert response.status_code == 400  # and refused: over the 1000-byte import limit of this test
    assert seen == [("TemporaryUploadedFile", size)]
