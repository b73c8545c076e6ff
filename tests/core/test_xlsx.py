"""The streaming XLSX writer (dues.core.xlsx): every part well-formed XML, every value read back by openpyxl
as the type and text it was written with, styles and frozen panes kept, and bad tables refused with the row
and column named."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from decimal import Decimal
from enum import IntEnum, StrEnum

import pytest
from defusedxml.ElementTree import fromstring
from openpyxl import load_workbook

from dues.core import xlsx
from dues.core.xlsx import Workbook, XlsxError, column_letter


class Kind(StrEnum):
    INVOICE = "invoice"


class Level(IntEnum):
    HIGH = 3


def _write(rows, styles=(), **sheet) -> bytes:
    buffer = io.BytesIO()
    with Workbook(buffer) as book:
        book.sheet("Data", **sheet).extend(rows, styles)
    return buffer.getvalue()


def _read(content: bytes):
    return load_workbook(io.BytesIO(content)).worksheets[0]


def test_column_letters():
    assert [column_letter(i) for i in (0, 25, 26, 51, 701, 702, 16383)] == ["A", "Z", "AA", "AZ", "ZZ", "AAA", "XFD"]


def test_every_part_is_well_formed_xml_and_declared():
    buffer = io.BytesIO()
    with Workbook(buffer) as book:
        money = book.style(number_format='[>=100000]##\\,##\\,##0.00;##,##0.00')
        book.sheet("Ageing 01-04-2025", widths=[12, 30], freeze_rows=1).append(["A & B <c>", Decimal("1.50")],
                                                                                [0, money])
        book.sheet("About").append(["x"])
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as z:
        names = set(z.namelist())
        assert names == {"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
                         "xl/styles.xml", "xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml"}
        for name in names:
            fromstring(z.read(name))
        types = z.read("[Content_Types].xml").decode()
        assert "/xl/worksheets/sheet2.xml" in types and "/xl/styles.xml" in types


def test_values_come_back_as_written():
    rows = [
        ["text", 42, Decimal("1234.50"), 2.25, date(2025, 4, 1), datetime(2025, 4, 1, 13, 30), True],
        ["Hindi हिंदी ₹", -7, Decimal("-0.01"), -1e-3, date(1900, 3, 1), datetime(2031, 12, 31), False],
        [Kind.INVOICE, Level.HIGH, Decimal("1E+3"), Decimal("0E-2"), None, "", None],
    ]
    sheet = _read(_write(rows))
    got = [[c.value for c in r] for r in sheet.iter_rows()]  # dates left unstyled get an ISO date format
    assert got[0] == ["text", 42, 1234.5, 2.25, datetime(2025, 4, 1), datetime(2025, 4, 1, 13, 30), True]
    assert got[1] == ["Hindi हिंदी ₹", -7, -0.01, -0.001, datetime(1900, 3, 1), datetime(2031, 12, 31), False]
    assert got[2][:4] == ["invoice", 3, 1000, 0] and got[2][4] is None and got[2][6] is None


def test_dates_are_excel_serials():
    content = _write([[date(2025, 4, 1), datetime(2025, 4, 1, 12)]])
    sheet = zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml").decode()
    assert "<v>45748</v>" in sheet and "<v>45748.5</v>" in sheet  # 2025-04-01 is 45748 in Excel


def test_text_is_never_a_formula_and_keeps_its_characters():
    tricky = ['=HYPERLINK("http://x","y")', "@SUM(1)", "+1", "-2", "\t=1", "'=already escaped",
              "  padded  ", "<b>&amp;</b>", 'quote " here']
    content = _write([[t] for t in tricky])
    cells = [r[0] for r in _read(content).iter_rows()]
    assert {c.data_type for c in cells} == {"s"}
    assert [c.value for c in cells] == [
        '\'=HYPERLINK("http://x","y")', "'@SUM(1)", "'+1", "'-2", "'\t=1", "'=already escaped",
        "  padded  ", "<b>&amp;</b>", 'quote " here']


def test_control_characters_take_excels_own_escape():
    # XML 1.0 cannot hold them; ECMA-376 writes them _xHHHH_ (Excel reads them back as the characters) and a
    # literal "_xHHHH_" with its underscore escaped, so it is not read as one
    content = _write([["a\x01b\x1fc"], ["literal _x0041_ stays"]])
    sheet = zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml").decode()
    assert "<t>a_x0001_b_x001F_c</t>" in sheet and "<t>literal _x005F_x0041_ stays</t>" in sheet
    fromstring(sheet)


def test_styles_widths_and_frozen_header():
    buffer = io.BytesIO()
    with Workbook(buffer) as book:
        bold = book.style(bold=True)
        money = book.style(number_format="#,##0.00")
        day = book.style(number_format="dd-mm-yyyy")
        assert book.style(number_format="#,##0.00") == money  # one style, one id
        sheet = book.sheet("Report", widths=[14, 40, 12], freeze_rows=1)
        sheet.append(["Code", "Amount", "Date"], [bold, bold, bold])
        sheet.append(["C1", Decimal("10.00"), date(2025, 1, 2)], [0, money, day])
    ws = _read(buffer.getvalue())
    assert ws.freeze_panes == "A2"
    assert all(c.font.bold for c in ws[1]) and not ws["A2"].font.bold
    assert ws["B2"].number_format == "#,##0.00" and ws["C2"].number_format == "dd-mm-yyyy"
    assert ws.column_dimensions["A"].width == 14 and ws.column_dimensions["B"].width == 40


def test_rows_are_streamed_in_chunks_and_counted(monkeypatch):
    monkeypatch.setattr(xlsx, "_CHUNK", 7)
    ws = _read(_write([[n, f"row {n}"] for n in range(1, 51)]))
    assert ws.max_row == 50 and [ws.cell(r, 1).value for r in (1, 7, 8, 50)] == [1, 7, 8, 50]


@pytest.mark.parametrize(("row", "message"), [
    ([Decimal("NaN")], "row 1, column A: NaN is not a number"),
    ([1, float("inf")], "row 1, column B: inf is not a number"),
    (["x" * 32_768], "row 1, column A: text of 32,768 characters"),
    ([object()], "row 1, column A: no cell type for object"),
])
def test_bad_cells_are_refused_naming_row_and_column(row, message):
    with pytest.raises(XlsxError, match=message):
        _write([row])


def test_too_many_rows_and_duplicate_sheets(monkeypatch):
    monkeypatch.setattr(xlsx, "MAX_ROWS", 3)
    with pytest.raises(XlsxError, match="more than 3 rows"):
        _write([[n] for n in range(4)])
    with pytest.raises(XlsxError, match="two sheets named 'data'"), Workbook(io.BytesIO()) as book:
        book.sheet("Data")
        book.sheet("data")


def test_report_writer_refuses_more_rows_than_excel_before_writing(monkeypatch, tmp_path):
    from dues.reporting.exports import write_xlsx

    monkeypatch.setattr(xlsx, "MAX_ROWS", 5)
    target = tmp_path / "big.xlsx"
    with pytest.raises(XlsxError, match="export CSV instead"):
        write_xlsx("Items", ["n"], [[n] for n in range(4)], target, totals=["TOTAL"])
    assert not target.exists()
