"""Printing results: rich tables for people, JSON/CSV/XLSX for programs and spreadsheets."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from babel.numbers import format_decimal
from rich.console import Console
from rich.table import Table

out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 200)

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def money_text(value: Decimal, locale: str = "en_IN") -> str:
    """1234567.5 -> '12,34,567.50' in en_IN (lakh grouping), '1,234,567.50' in en_US."""
    return format_decimal(value, format="#,##,##0.00" if locale == "en_IN" else "#,##0.00", locale=locale)


def safe_cell(value: object) -> object:
    """Neutralise text a spreadsheet would run as a formula (=, +, -, @ at the start)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        try:
            Decimal(value)
            return value
        except Exception:
            return "'" + value
    return value


def print_json(data: object, target: str | None = None) -> None:
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    if target:
        Path(target).write_text(text + "\n", encoding="utf-8")
    else:
        sys.stdout.write(text + "\n")


def write_csv(header: Sequence[str], rows: Sequence[Sequence[object]], target: str | None) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    if target:
        Path(target).write_text(buffer.getvalue(), encoding="utf-8")
    else:
        sys.stdout.write(buffer.getvalue())


def write_xlsx(title: str, header: Sequence[str], rows: Sequence[Sequence[object]], target: str,
               money_columns: Sequence[int] = ()) -> None:
    """A real workbook: bold header, frozen panes, amounts as numbers with a number format."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    ws.append(list(header))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([safe_cell(v) for v in row])
    for col in money_columns:
        for (cell,) in ws.iter_rows(min_row=2, min_col=col + 1, max_col=col + 1):
            cell.number_format = "#,##0.00"
    ws.freeze_panes = "A2"
    for i, name in enumerate(header, start=1):
        ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = max(12, len(str(name)) + 2)
    wb.save(target)


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]], right: Sequence[int] = ()) -> None:
    t = Table(title=title, title_justify="left", header_style="bold")
    for i, name in enumerate(header):
        t.add_column(str(name), justify="right" if i in right else "left")
    for row in rows:
        t.add_row(*[str(v) for v in row])
    out.print(t)
