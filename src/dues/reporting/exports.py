"""Ageing reports and their drill-down items as CSV and real Excel workbooks.

One writer for the CLI (``dues ageing --format csv|xlsx``) and the web (``?export=csv|xlsx``):

- CSV keeps machine-friendly headers (``not_due``, ``1-30``) and plain amounts (``1234.50``), ISO dates;
- XLSX has amounts as numbers with a number format (Indian lakh grouping for an Indian locale), dates
  as dates shown dd-mm-yyyy, a bold frozen header row and a bold totals row;
- both guard against spreadsheet formula injection (``dues.core.exports``): a text cell starting with
  ``= + - @``, tab or CR is prefixed with an apostrophe (XLSX: and stored as text); numbers stay numbers.

``target`` is a path or a binary stream (a web response, a ``BytesIO``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from dues.core.ageing import NOT_DUE
from dues.core.exports import FORMULA_START, neutralise  # noqa: F401 (FORMULA_START: re-exported for the CLI)
from dues.core.money import DOCUMENT_ROUNDING, quantum
from dues.formats import format_day

if TYPE_CHECKING:  # the CLI imports this module before Django is set up
    from .selectors import AgeingItems, AgeingReport, AgeingRow

# Excel has no lakh grouping flag; sections by size give 1,23,45,678.00 in Excel and LibreOffice alike
INDIAN_NUMBER_FORMAT = '[>=10000000]##\\,##\\,##\\,##0.00;[>=100000]##\\,##\\,##0.00;##,##0.00'
WESTERN_NUMBER_FORMAT = "#,##0.00"
GROUP_TITLES = {"customer": "Customer", "salesperson": "Salesperson", "region": "Region", "segment": "Segment"}

Target = str | Path | BinaryIO


def safe_cell(value: object) -> object:
    """The shared rule of ``dues.core.exports``: text a spreadsheet would run gets a leading apostrophe."""
    return neutralise(value)


def number_format(locale: str = "en_IN") -> str:
    return INDIAN_NUMBER_FORMAT if locale.endswith("_IN") else WESTERN_NUMBER_FORMAT


def date_format(locale: str = "en_IN") -> str:
    return "mm/dd/yyyy" if locale == "en_US" else "dd-mm-yyyy"


def bucket_heading(label: str) -> str:
    """``not_due`` -> ``Not yet due``, ``1-30`` -> ``1-30 days``, ``120+`` -> ``Over 120 days``."""
    if label == NOT_DUE:
        return "Not yet due"
    if label.endswith("+"):
        return f"Over {label[:-1]} days"
    return f"{label} days"


# ---- generic writers ---------------------------------------------------------------------------


def csv_text(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(v.isoformat() if isinstance(v, date) else v) for v in row])
    return buffer.getvalue()


def write_csv(header: Sequence[str], rows: Sequence[Sequence[object]], target: Target | None) -> str:
    """Write CSV to ``target`` (UTF-8) and return the text."""
    text = csv_text(header, rows)
    if isinstance(target, (str, Path)):
        Path(target).write_text(text, encoding="utf-8")
    elif target is not None:
        target.write(text.encode("utf-8"))
    return text


def write_xlsx(title: str, header: Sequence[str], rows: Sequence[Sequence[object]], target: Target, *,
               money_columns: Sequence[int] = (), date_columns: Sequence[int] = (),
               totals: Sequence[object] | None = None, locale: str = "en_IN",
               about: Sequence[tuple[str, object]] = ()) -> None:
    """A real workbook: bold frozen header, amounts as numbers with a number format, dates as dates,
    an optional bold totals row, and an optional second sheet ``About`` of (label, value) pairs.

    Streamed by ``dues.core.xlsx`` (100,000 rows in about a second); more rows than an Excel sheet holds
    is an error before anything is written.
    """
    from dues.core.xlsx import MAX_ROWS, Workbook, XlsxError

    if len(rows) + 2 > MAX_ROWS:
        raise XlsxError(f"{len(rows):,} rows: an Excel sheet holds at most {MAX_ROWS - 2:,} besides the header "
                        "and totals; export CSV instead")
    money, dates = set(money_columns), set(date_columns)
    widths = [max(10, len(str(h)) + 2) for h in header]
    for c in money:
        widths[c] = max(widths[c], 16)
    for c in dates:
        widths[c] = max(widths[c], 12)
    for row in rows[:1000]:  # wide enough for what is at the top
        for c, value in enumerate(row):
            if isinstance(value, str):
                widths[c] = min(max(widths[c], len(value) + 2), 60)
    with Workbook(target) as book:
        amount_format, day_format = number_format(locale), date_format(locale)
        plain = [book.style(number_format=amount_format) if c in money
                 else book.style(number_format=day_format) if c in dates else 0 for c in range(len(header))]
        strong = [book.style(bold=True, number_format=amount_format) if c in money
                  else book.style(bold=True, number_format=day_format) if c in dates
                  else book.style(bold=True) for c in range(len(header))]
        sheet = book.sheet(_sheet_title(title), widths=widths, freeze_rows=1)
        sheet.append(header, [book.style(bold=True)] * len(header))
        sheet.extend(rows, plain)  # text a spreadsheet would run gets its apostrophe there
        if totals is not None:
            sheet.append(totals, strong)
        if about:
            info = book.sheet("About", widths=[16, 40])
            label, day = book.style(bold=True), book.style(number_format=day_format)
            for name, value in about:
                info.append([name, value], [label, day if isinstance(value, date) else 0])


def _sheet_title(title: str) -> str:
    for ch in "[]:*?/\\":
        title = title.replace(ch, "-")
    return title[:31]


# ---- the ageing report -------------------------------------------------------------------------


def ageing_table(report: AgeingReport) -> tuple[list[str], list[list[object]], list[object]]:
    """(header, rows, totals) with Decimal amounts: ``key, name, bucket..., unapplied, total, disputed``.

    ``disputed`` is "of which under dispute": part of the total, not added to it.
    """
    header = [report.by, "name", *report.columns, "unapplied", "total", "disputed"]
    unit, columns = quantum(report.currency), report.columns

    def amounts(row: AgeingRow) -> list[object]:
        # quantize(..., currency) per amount, with the unit looked up once (100,000 rows x 10 amounts)
        return [v.quantize(unit, rounding=DOCUMENT_ROUNDING) for v in (
            *(row.buckets[c] for c in columns), row.unapplied, row.total, row.disputed)]

    rows = [[r.key, r.name, *amounts(r)] for r in report.rows]
    return header, rows, ["TOTAL", "", *amounts(report.totals)]


def _basis_text(basis: str) -> str:
    return "due date" if basis == "due" else "document date"


def ageing_csv(report: AgeingReport, target: Target | None = None) -> str:
    header, rows, totals = ageing_table(report)
    return write_csv(header, [*rows, totals], target)


def ageing_xlsx(report: AgeingReport, target: Target, *, locale: str = "en_IN", company: str = "",
                cutoffs: Sequence[int] = ()) -> None:
    header, rows, totals = ageing_table(report)
    pretty = [GROUP_TITLES.get(report.by, report.by), "Name", *[bucket_heading(c) for c in report.columns],
              "Unapplied", "Total", "Of which disputed"]
    about = [("Report", "Ageing"), ("Company", company), ("As of", report.as_of),
             ("Basis", _basis_text(report.basis)), ("Grouped by", report.by), ("Currency", report.currency)]
    if cutoffs:
        about.append(("Buckets", ",".join(str(c) for c in cutoffs)))
    write_xlsx(f"Ageing {format_day(report.as_of)}", pretty, rows, target, money_columns=range(2, len(header)),
               totals=totals, locale=locale, about=[a for a in about if a[1] != ""])


# ---- drill-down items --------------------------------------------------------------------------

ITEM_HEADER = ["number", "kind", "customer", "name", "date", "due_date", "bucket", "residual", "days_overdue"]


def items_table(items: AgeingItems) -> tuple[list[list[object]], list[object]]:
    rows = [[i.number, i.kind, i.customer_code, i.customer_name, i.date, i.due_date, i.bucket, i.residual,
             i.days_overdue] for i in items]
    return rows, ["TOTAL", "", "", "", "", "", "", items.total(), ""]


def items_csv(items: AgeingItems, target: Target | None = None) -> str:
    rows, totals = items_table(items)
    return write_csv(ITEM_HEADER, [*rows, totals], target)


def items_xlsx(items: AgeingItems, target: Target, *, locale: str = "en_IN", company: str = "",
               about: Sequence[tuple[str, object]] = ()) -> None:
    rows, totals = items_table(items)
    for row in rows:
        row[1] = str(row[1]).replace("_", " ")
        row[6] = "unapplied" if row[6] == "unapplied" else bucket_heading(str(row[6]))
    header = ["Number", "Kind", "Customer", "Name", "Date", "Due date", "Bucket", "Residual", "Days overdue"]
    write_xlsx(f"Items {format_day(items.as_of)}", header, rows, target, money_columns=[7], date_columns=[4, 5],
               totals=totals, locale=locale,
               about=[("Report", "Ageing items"), ("Company", company), ("As of", items.as_of), *about])
