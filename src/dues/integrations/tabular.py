"""Reading CSV and XLSX files into rows of text keyed by lower-case column name.

Row numbers are the file's own (the header is row 1 of its sheet or line 1 of the CSV, or later if
blank rows precede it), so an error report points where a person would look. Spreadsheet numbers
come back as text without float noise; dates as ``date``.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from dues.core.errors import DuesError, Problem, ValidationFailed

#: Limits on what an import reads, so a wrong or hostile file is refused at once instead of filling memory.
#: Settings (environment): DUES_IMPORT_MAX_ROWS, DUES_IMPORT_MAX_BYTES; see docs/imports.md.
XLSX_MAX_UNCOMPRESSED = 512 * 1024 * 1024  # all parts of a workbook together, unpacked
XLSX_MAX_RATIO = 100  # unpacked/packed of one part over 16 MiB: real sheets compress 5-30 times, bombs 1000
XLSX_RATIO_FLOOR = 16 * 1024 * 1024


def _limits() -> tuple[int, int]:
    from django.conf import settings

    return settings.IMPORT_MAX_ROWS, settings.IMPORT_MAX_BYTES


def _check_workbook(data: bytes, source: str) -> None:
    """Refuse a zip bomb before openpyxl unpacks it: a part that expands far beyond what sheets do, or a
    workbook larger unpacked than any import needs."""
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except zipfile.BadZipFile as exc:
        raise DuesError(f"{source}: not a readable .xlsx workbook ({exc})") from exc
    total = 0
    for m in members:
        total += m.file_size
        if m.file_size > XLSX_RATIO_FLOOR and m.file_size > XLSX_MAX_RATIO * max(m.compress_size, 1):
            raise DuesError(f"{source}: refused: part {m.filename} expands {m.file_size // max(m.compress_size, 1)} "
                            f"times ({m.compress_size:,} to {m.file_size:,} bytes), which no spreadsheet does")
    if total > XLSX_MAX_UNCOMPRESSED:
        raise DuesError(f"{source}: refused: the workbook unpacks to {total:,} bytes (the limit is "
                        f"{XLSX_MAX_UNCOMPRESSED:,}); save it as CSV or split it")


@dataclass(frozen=True, slots=True)
class Row:
    number: int
    values: dict[str, object]
    extra: tuple = ()  # non-empty cells to the right of the last header column (an unquoted comma, a shifted row)


@dataclass(frozen=True, slots=True)
class Table:
    source: str
    columns: list[str]
    rows: list[Row]
    header_row: int = 1


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date() if value.time() == datetime.min.time() else value
    if isinstance(value, date):
        return value
    if isinstance(value, float):
        # openpyxl gives floats for numeric cells; repr keeps the shortest exact decimal form
        d = Decimal(repr(value))
        return format(d.normalize(), "f") if d == d.to_integral_value() else repr(value)
    return str(value).strip()


def _table(source: str, raw_rows: Iterator[tuple[int, list[object]]]) -> Table:
    header: list[str] | None = None
    header_row = 1
    rows: list[Row] = []
    max_rows = _limits()[0]
    for number, cells in raw_rows:
        if len(rows) >= max_rows:
            raise DuesError(f"{source}: refused: more than {max_rows:,} rows (the import limit, "
                            "DUES_IMPORT_MAX_ROWS); split the file and import the parts")
        values = [_cell(c) for c in cells]
        if header is None:
            if not any(v not in ("", None) for v in values):
                continue
            header = [str(v).strip().lower().replace(" ", "_") for v in values]
            header_row = number
            continue
        if not any(v not in ("", None) for v in values):
            continue
        rows.append(Row(number, {col: (values[i] if i < len(values) else "") for i, col in enumerate(header) if col},
                        tuple(v for v in values[len(header):] if v not in ("", None))))
    if header is None:
        raise DuesError(f"{source}: the file is empty (no header row)")
    return Table(source, [c for c in header if c], rows, header_row)


def _decode(data: bytes, source: str) -> str:
    # UTF-16 only with its byte-order mark: without one nearly any even-length file "decodes" as UTF-16
    encoding = "utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise DuesError(f"{source}: cannot read the text encoding (save it as UTF-8 CSV)") from exc


def refuse_nul(text: str, source: str) -> None:
    """A NUL character is in no text file a person saves (it is binary, or UTF-16 without its byte-order mark),
    and PostgreSQL cannot store one: refused, naming the line."""
    at = text.find("\x00")
    if at >= 0:
        line = text.count("\n", 0, at) + 1
        raise ValidationFailed([Problem("contains a NUL byte: not a text file (a binary file, or UTF-16 saved "
                                        "without its byte-order mark?); save it as UTF-8 CSV", "", line, source)])


def _numbered(reader, source: str) -> Iterator[tuple[int, list[str]]]:
    """CSV records with the line each starts on (a quoted cell may span lines); a malformed record (a cell
    over the csv module's 128 KiB field limit, a NUL byte) is an error naming its line."""
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            reason = str(exc)
            if "field larger than field limit" in reason:
                reason = f"a cell is longer than {csv.field_size_limit():,} characters, which no field needs"
            raise DuesError(f"{source}:{start}: cannot read this line: {reason}") from exc
        yield start, row


def _refuse_size(size: int, source: str) -> None:
    limit = _limits()[1]
    if size > limit:
        raise DuesError(f"{source}: refused: {size:,} bytes is over the import limit of {limit:,} "
                        "(DUES_IMPORT_MAX_BYTES); split the file and import the parts")


def read_table(path: str | Path, data: bytes | None = None) -> Table:
    """Read ``path`` (or its ``data``) as CSV or XLSX, by extension."""
    path = Path(path)
    source = path.name
    if data is None:
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise DuesError(f"{path}: cannot read the file ({exc.strerror})") from exc
        _refuse_size(size, source)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise DuesError(f"{path}: cannot read the file ({exc.strerror})") from exc
    _refuse_size(len(data), source)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        _check_workbook(data, source)
        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a broken file
            raise DuesError(f"{source}: not a readable .xlsx workbook ({exc})") from exc
        ws = wb.worksheets[0]
        try:
            return _table(source, ((i, list(r)) for i, r in enumerate(ws.iter_rows(values_only=True), start=1)))
        finally:
            wb.close()
    if suffix in (".csv", ".txt", ""):
        text = _decode(data, source)
        refuse_nul(text, source)
        sample = text[:4096]
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        except csv.Error:
            dialect = csv.excel
        reader = csv.reader(io.StringIO(text, newline=""), dialect)
        return _table(source, _numbered(reader, source))
    raise DuesError(f"{source}: unsupported file type {suffix!r} (use .csv or .xlsx)")


def read_import_table(path: str | Path, data: bytes | None, required, mapping=None, fields=None
                      ) -> tuple[Table, bytes]:
    """An import's table: ``path`` (or its uploaded ``data``) read as CSV or XLSX, its columns renamed by
    ``mapping`` (see ``dues.integrations.mapping``), refused as a whole (one ``ValidationFailed`` naming
    the file) when the file is missing or lacks a ``required`` column; with the file's bytes (for its hash)."""
    path = Path(path)
    raw = data if data is not None else path.read_bytes() if path.exists() else None
    if raw is None:
        raise ValidationFailed([Problem("no such file", source=str(path))])
    table = read_table(path, raw)
    _check_shape(table)
    if mapping:
        from .mapping import apply_mapping

        table = apply_mapping(table, mapping, fields or required)
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise ValidationFailed([Problem(f"missing column(s) {', '.join(missing)}; found {', '.join(table.columns)}",
                                        source=table.source, row=1)])
    if not table.rows:
        raise ValidationFailed([Problem("no data rows under the header: nothing to import", source=table.source,
                                        row=table.header_row)])
    return table, raw


def _check_shape(table: Table) -> None:
    """An import's columns are named once, and no row has more cells than the header: a second ``amount``
    column, or ``1,00,000`` unquoted in a CSV (three cells, the first read as 1), is refused, never guessed at."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for name in table.columns:
        if name in seen:
            problems.append(Problem("the column appears twice in the header; keep one", name, table.header_row,
                                    table.source))
        seen.add(name)
    for row in table.rows:
        if row.extra:
            cells = ", ".join(repr(str(v)) for v in row.extra[:3])
            problems.append(Problem(f"this row has more cells than the header has columns ({cells} left over): "
                                    "is a comma in an amount or a name not quoted?", "", row.number, table.source))
    if problems:
        raise ValidationFailed(problems)
