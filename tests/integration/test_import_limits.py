"""Hostile or mistaken import files: each refused with a message naming the file (and row and field where
there is one), quickly and in bounded memory, with nothing written."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook

from dues.core.errors import DuesError, ValidationFailed
from dues.integrations.importers import import_file
from dues.ledger.models import Document

from .test_imports import CUSTOMERS, snapshot, write

pytestmark = pytest.mark.django_db


@pytest.fixture
def customers(company, tmp_path):
    import_file(kind="customers", path=write(tmp_path, "customers.csv", CUSTOMERS), company=company, actor="test")
    return company


def problems_of(exc) -> list[str]:
    return [str(p) for p in exc.value.problems]


def test_a_29_digit_amount_is_a_row_error_not_a_traceback(customers, tmp_path):
    path = write(tmp_path, "inv.csv", "number,customer,date,amount\nINV-1,C001,2025-04-01,1000\n"
                                      f"INV-2,C001,2025-04-01,{'9' * 29}\n")
    before = snapshot()
    with pytest.raises(ValidationFailed) as exc:
        import_file(kind="invoices", path=path, company=customers, actor="test")
    assert problems_of(exc) == [f"inv.csv:3: amount: {'9' * 29} is too large: an amount has at most 16 digits "
                                "before the decimal point"]
    assert snapshot() == before


def test_more_decimals_than_the_currency_has_is_an_error_never_rounded(customers, tmp_path):
    path = write(tmp_path, "rct.csv", "number,customer,date,amount,tds,allocations\n"
                                      "RCT-1,C001,2025-04-01,10.999,,\nRCT-2,C001,2025-04-01,10,0.5,\n"
                                      "RCT-3,C001,2025-04-01,100,,INV-9:10.005\n")
    before = snapshot()
    with pytest.raises(ValidationFailed) as exc:
        import_file(kind="receipts", path=path, company=customers, actor="test")
    found = problems_of(exc)
    assert found[0] == "rct.csv:2: amount: 10.999 has more than 2 decimal places (INR goes down to 0.01)"
    assert found[1] == ("rct.csv:4: allocations: '10.005' in 'INV-9:10.005': 10.005 has more than 2 decimal "
                        "places (INR goes down to 0.01)")
    assert len(found) == 2 and snapshot() == before
    assert not Document.objects.exists()


def test_a_cell_over_the_csv_field_limit_names_its_line(customers, tmp_path):
    path = write(tmp_path, "big.csv", "number,customer,date,amount,description\n"
                                      "INV-1,C001,2025-04-01,100,ok\n"
                                      f'INV-2,C001,2025-04-01,100,"{"x" * 200_000}"\n')
    before = snapshot()
    with pytest.raises(DuesError, match=r"^big\.csv:3: cannot read this line: a cell is longer than 131,072 "):
        import_file(kind="invoices", path=path, company=customers, actor="test")
    assert snapshot() == before


def test_too_many_rows_are_refused_at_once(customers, tmp_path, settings):
    settings.IMPORT_MAX_ROWS = 3
    rows = "".join(f"INV-{i},C001,2025-04-01,100\n" for i in range(10))
    path = write(tmp_path, "many.csv", "number,customer,date,amount\n" + rows)
    before = snapshot()
    with pytest.raises(DuesError, match=r"^many\.csv: refused: more than 3 rows \(the import limit, "
                                        r"DUES_IMPORT_MAX_ROWS\); split the file"):
        import_file(kind="invoices", path=path, company=customers, actor="test")
    assert snapshot() == before
    settings.IMPORT_MAX_ROWS = 10
    assert import_file(kind="invoices", path=path, company=customers, actor="test") is not None
    assert Document.objects.filter(kind=Document.INVOICE).count() == 10


def test_a_file_over_the_byte_limit_is_refused_before_it_is_read(customers, tmp_path, settings):
    settings.IMPORT_MAX_BYTES = 100
    path = write(tmp_path, "wide.csv", "number,customer,date,amount\n" + "INV-1,C001,2025-04-01,100\n" * 10)
    with pytest.raises(DuesError, match=r"^wide\.csv: refused: 288 bytes is over the import limit of 100 "):
        import_file(kind="invoices", path=path, company=customers, actor="test")


def _xlsx_with_part(name: str, payload: bytes) -> bytes:
    """A real workbook with one more part inside (zip members are what openpyxl would unpack)."""
    wb = Workbook()
    wb.active.append(["number", "customer", "date", "amount"])
    buf = io.BytesIO()
    wb.save(buf)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        dst.writestr(name, payload)
    return out.getvalue()


def test_an_xlsx_zip_bomb_is_refused_without_unpacking_it(customers, tmp_path):
    bomb = _xlsx_with_part("xl/worksheets/sheet2.xml", b"<row/>" * 4_000_000)  # 24 MB of XML in about 30 KB
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(bomb)
    before = snapshot()
    with pytest.raises(DuesError, match=r"^bomb\.xlsx: refused: part xl/worksheets/sheet2\.xml expands \d+ times"):
        import_file(kind="invoices", path=path, company=customers, actor="test")
    assert snapshot() == before


def test_a_large_but_honest_xlsx_part_is_read(customers, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["number", "customer", "date", "amount"])
    for i in range(200):
        ws.append([f"INV-{i}", "C001", "2025-04-01", 100])
    path = tmp_path / "ok.xlsx"
    wb.save(path)
    import_file(kind="invoices", path=path, company=customers, actor="test")
    assert Document.objects.filter(kind=Document.INVOICE).count() == 200


def test_the_web_import_shows_an_oversized_amount_as_a_row_error(customers, client, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from .test_web_imports import login

    settings.DUES_UPLOAD_DIR = str(tmp_path / "uploads")
    login(client, "admin")
    upload = SimpleUploadedFile("inv.csv", f"number,customer,date,amount\nINV-1,C001,2025-04-01,{'9' * 29}\n".encode())
    response = client.post("/imports/", {"action": "preview", "kind": "invoices", "file": upload})
    assert response.status_code == 422
    assert "too large: an amount has at most 16 digits" in response.content.decode()
