"""``dues statement`` as a user runs it: a subprocess on its own database, PDFs read back with pypdf."""

from __future__ import annotations

import email
import io
import re
import subprocess
import sys
from email import policy

import pytest
from pypdf import PdfReader

from tests.conftest import dues_env
from tests.integration.test_imports import CREDIT_NOTES, CUSTOMERS, INVOICES, RECEIPTS

pytestmark = pytest.mark.e2e

ZERO_CUSTOMER = "C003,Nil Balance Stores,,27,,,30,,,,\n"


@pytest.fixture
def dues(tmp_path, scratch_db):
    env = dues_env(tmp_path, scratch_db)
    env.pop("DUES_SMTP_URL", None)  # e-mails go to the outbox folder
    env.pop("DUES_UPI_VPA", None)

    def run(*args, ok=True):
        proc = subprocess.run([sys.executable, "-m", "dues.cli.main", *map(str, args)], env=env, capture_output=True,
                              text=True, timeout=300, cwd=tmp_path)
        if ok and proc.returncode != 0:
            raise AssertionError(f"dues {' '.join(map(str, args))} exited {proc.returncode}:\n{proc.stderr}{proc.stdout}")
        return proc

    run.env = env
    return run


@pytest.fixture
def books(dues, tmp_path):
    dues("init", "--company", "Acme Steel", "--state", "27")
    for kind, text in [("customers", CUSTOMERS + ZERO_CUSTOMER), ("invoices", INVOICES), ("receipts", RECEIPTS),
                       ("credit-notes", CREDIT_NOTES)]:
        path = tmp_path / f"{kind}.csv"
        path.write_text(text, encoding="utf-8")
        dues("import", kind, path)


def pdf_text(data: bytes) -> tuple[int, str]:
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    return len(reader.pages), re.sub(r"\s+", " ", " ".join(p.extract_text() for p in reader.pages))


def test_one_customer(dues, books, tmp_path):
    proc = dues("statement", "C001", "--from", "2025-04-01", "--to", "2025-07-31", "-o", tmp_path / "c001.pdf")
    assert "closing balance 5,310.00" in proc.stdout
    pages, text = pdf_text((tmp_path / "c001.pdf").read_bytes())
    assert pages == 1 and "Page 1 of 1" in text
    assert "Acme Steel" in text and "Shree Ganesh Traders" in text and "Period 01-04-2025 to 31-07-2025" in text
    assert "Opening balance ₹0.00" in text
    assert "01-04-2025 Invoice INV-1 1,18,000.00 1,18,000.00" in text
    # the same figure as `dues ageing` for C001 on 31-07-2025 (INV-2 5,900 less CN-1 590, 46 days overdue)
    assert "Closing balance ₹5,310.00" in text and "Total due ₹5,310.00" in text
    assert "Invoice INV-2 15-05-2025 15-06-2025 5,900.00 5,310.00 46" in text
    # DD-MM-YYYY dates work too, and the default file name carries the code and the date
    dues("statement", "C002", "--from", "01-04-2025", "--to", "31-07-2025")
    _, text = pdf_text((tmp_path / "statement-C002-2025-07-31.pdf").read_bytes())
    assert "Closing balance ₹4,700.00" in text and "Unapplied" in text and "-5,600.00" in text


def test_all_customers_with_a_balance(dues, books, tmp_path):
    out = tmp_path / "statements"
    proc = dues("statement", "--all", "--from", "2025-04-01", "--to", "2025-07-31", "-o", out)
    assert "wrote 2 statement(s)" in proc.stdout and "total 10,010.00" in proc.stdout
    assert sorted(p.name for p in out.iterdir()) == ["statement-C001-2025-07-31.pdf", "statement-C002-2025-07-31.pdf"]
    _, text = pdf_text((out / "statement-C002-2025-07-31.pdf").read_bytes())
    assert "Kaveri Distributors" in text and "Closing balance ₹4,700.00" in text
    # the period defaults to the financial year of --to
    proc = dues("statement", "--all", "--to", "2025-07-31", "-o", tmp_path / "fy")
    _, text = pdf_text((tmp_path / "fy" / "statement-C001-2025-07-31.pdf").read_bytes())
    assert "Period 01-04-2025 to 31-07-2025" in text


def test_email_statements_to_the_outbox(dues, books, tmp_path):
    proc = dues("statement", "--all", "--from", "2025-04-01", "--to", "2025-07-31", "--email")
    assert "e-mailed 2 statement(s)" in proc.stdout
    assert not list(tmp_path.glob("statements-*"))  # with --email, files only with -o
    outbox = tmp_path / "var" / "outbox"
    messages = {}
    for path in sorted(outbox.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        messages[message["To"]] = message
    assert sorted(messages) == ["a@ganesh.example", "k@kaveri.example"]
    message = messages["k@kaveri.example"]
    assert message["Subject"] == "Statement of account 01-04-2025 to 31-07-2025: Acme Steel"
    assert "INR 4,700.00" in message.get_body(("plain",)).get_content()
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "statement-C002-2025-07-31.pdf"
    _, text = pdf_text(attachment.get_content())
    assert "Closing balance ₹4,700.00" in text
    # a customer without an address: a clear error, nothing sent
    proc = dues("statement", "C003", "--to", "2025-07-31", "--email", ok=False)
    assert proc.returncode == 1 and "C003 has no e-mail address" in proc.stderr
    assert len(list(outbox.glob("*.eml"))) == 2


def test_errors(dues, books, tmp_path):
    proc = dues("statement", "C404", "--from", "2025-04-01", "--to", "2025-07-31", ok=False)
    assert proc.returncode == 1 and "no customer C404" in proc.stderr
    proc = dues("statement", "C001", "--from", "2025-08-01", "--to", "2025-07-31", ok=False)
    assert proc.returncode == 1 and "is after --to" in proc.stderr
    proc = dues("statement", "--to", "2025-07-31", ok=False)
    assert proc.returncode == 2 and "give a CUSTOMER code or --all" in proc.stderr
    proc = dues("statement", "C001", "--all", ok=False)
    assert proc.returncode == 2
    (tmp_path / "afile").write_text("x")
    proc = dues("statement", "--all", "--to", "2025-07-31", "-o", tmp_path / "afile", ok=False)
    assert proc.returncode == 1 and "is a file" in proc.stderr
    assert not list(tmp_path.glob("*.pdf"))
