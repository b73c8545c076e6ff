"""Printing results: rich tables for people, JSON/CSV/XLSX for programs and spreadsheets."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from dues.formats import money_text  # noqa: F401 (the CLI prints amounts through it)
from dues.reporting.exports import FORMULA_START, csv_text, safe_cell, write_xlsx  # noqa: F401 (one writer)

out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 200)


def print_json(data: object, target: str | None = None) -> None:
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    if target:
        Path(target).write_text(text + "\n", encoding="utf-8")
    else:
        sys.stdout.write(text + "\n")


def write_csv(header: Sequence[str], rows: Sequence[Sequence[object]], target: str | None) -> None:
    text = csv_text(header, rows)
    if target:
        Path(target).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]], right: Sequence[int] = ()) -> None:
    t = Table(title=title, title_justify="left", header_style="bold")
    for i, name in enumerate(header):
        t.add_column(str(name), justify="right" if i in right else "left")
    for row in rows:
        t.add_row(*[str(v) for v in row])
    out.print(t)
