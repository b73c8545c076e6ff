"""Reading Form 26AS: the TDS the income-tax department holds against our PAN, deductor by deductor.

Two layouts are read:

- the TRACES / income-tax portal text export: "^"-delimited lines. A header block (file creation
  date, PAN, financial year, ...), then "PART A - Details of Tax Deducted at Source" with, per
  deductor, a summary line (sr no, name of deductor, TAN, total amount paid/credited, total tax
  deducted, total TDS deposited) followed by its transaction lines (blank first field, sr no, section,
  transaction date, status of booking F/U/P/O, date of booking, remarks, amount paid/credited, tax
  deducted, TDS deposited). Parts after A (A1, A2, B, ...) are not TDS credits of Part A and are not read.
  Each deductor's summary totals must equal the sum of its lines (a cut or edited file is refused).
- a CSV/XLSX with columns ``deductor_name, tan, section, transaction_date, amount, tds, deposited,
  booking_status``.

Every problem names the file, the row (line number; the header is row 1 of a CSV) and the field,
and the file is refused as a whole when any is found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from dues.core.dates import parse_date
from dues.core.errors import DuesError, Problem, ValidationFailed
from dues.core.money import MoneyError, parse_amount
from dues.core.taxids import TaxIdError, validate_tan

STATUSES = {"F": "final", "U": "unmatched", "P": "provisional", "O": "overbooked"}
CSV_COLUMNS = ("deductor_name", "tan", "section", "transaction_date", "amount", "tds", "deposited", "booking_status")
_SECTION = re.compile(r"^(19[0-9][A-Z0-9]*|206[A-Z0-9]*)$")


@dataclass(frozen=True, slots=True)
class Credit:
    """One transaction line of Part A: tax deducted by ``tan`` on an amount paid or credited to us."""

    tan: str
    deductor: str
    section: str
    date: date
    status: str
    amount: Decimal
    tds: Decimal
    deposited: Decimal
    row: int
    booked_on: date | None = None
    remarks: str = ""


@dataclass
class Form26AS:
    source: str
    credits: list[Credit]
    fy: str = ""
    pan: str = ""
    deductors: dict[str, str] = field(default_factory=dict)  # TAN -> name as the file gives it


_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                                       "dec"), start=1)}
_DMONY = re.compile(r"^(\d{1,2})[-/ ]([A-Za-z]{3,9})[-/ ](\d{4})$")


def _date(text: str) -> date:
    """'15-May-2025' (as TRACES writes dates), or what ``parse_date`` reads."""
    s = text.strip()
    m = _DMONY.match(s)
    if m and m.group(2)[:3].lower() in _MONTHS:
        return date(int(m.group(3)), _MONTHS[m.group(2)[:3].lower()], int(m.group(1)))
    return parse_date(s)


class _Cells:
    def __init__(self, source: str, row: int, problems: list[Problem]):
        self.source, self.row, self.problems = source, row, problems

    def bad(self, fld: str, message: str) -> None:
        self.problems.append(Problem(message, fld, self.row, self.source))

    def money(self, fld: str, text: object) -> Decimal:
        s = str(text or "").strip()
        if not s:
            self.bad(fld, "is required")
            return Decimal(0)
        try:
            value = parse_amount(s)
        except MoneyError as exc:
            self.bad(fld, str(exc))
            return Decimal(0)
        if value < 0:
            self.bad(fld, f"cannot be negative ({s})")
        return value

    def day(self, fld: str, text: object, required: bool = True) -> date | None:
        if isinstance(text, date):
            return text
        s = str(text or "").strip()
        if not s or s == "-":
            if required:
                self.bad(fld, "is required")
            return None
        try:
            return _date(s)
        except ValueError:
            self.bad(fld, f"not a date: {s!r} (like 15-May-2025 or 15-05-2025)")
            return None

    def tan(self, text: object) -> str:
        try:
            return validate_tan(str(text or ""))
        except TaxIdError as exc:
            self.bad("tan", str(exc))
            return str(text or "").strip().upper()

    def section(self, text: object) -> str:
        s = str(text or "").strip().upper()
        if not _SECTION.match(s):
            self.bad("section", f"not a TDS section: {s!r} (like 194Q or 194C)")
        return s

    def status(self, text: object) -> str:
        s = str(text or "").strip().upper()
        if s not in STATUSES:
            self.bad("booking_status", f"{s!r} is not a booking status (F, U, P or O)")
        return s


def _is_number(text: str) -> bool:
    return text.strip().isdigit()


def read_text(text: str, source: str) -> Form26AS:
    """Part A of a TRACES "^"-delimited 26AS text export."""
    problems: list[Problem] = []
    credits: list[Credit] = []
    result = Form26AS(source, credits)
    header: list[str] | None = None
    in_part_a = False
    seen_part_a = False
    deductor: tuple[str, str, Decimal, Decimal, Decimal, int] | None = None
    lines_of: dict[int, list[Credit]] = {}

    for number, line in enumerate(text.splitlines(), start=1):
        cells = [c.strip() for c in line.split("^")]
        first = cells[0].upper()
        if not any(cells):
            continue
        if first.startswith("PART "):
            in_part_a = bool(re.match(r"^PART\s*-?\s*A\b(?!\d)", first))
            seen_part_a = seen_part_a or in_part_a
            continue
        if not seen_part_a:  # the header block: a row of labels, then a row of values
            if "Financial Year" in cells:
                header = cells
            elif header is not None:
                values = dict(zip(header, cells, strict=False))
                result.fy = values.get("Financial Year", "")
                result.pan = values.get("Permanent Account Number (PAN)", "")
                header = None
            continue
        if not in_part_a:
            continue
        c = _Cells(source, number, problems)
        if _is_number(cells[0]):  # a deductor's summary line
            if len(cells) < 6:
                c.bad("line", f"a deductor line needs name, TAN and three totals; it has {len(cells)} fields")
                continue
            name, tan = cells[1], c.tan(cells[2])
            totals = [x for x in cells[3:] if x]
            if len(totals) != 3:
                c.bad("totals", "a deductor line needs total amount paid/credited, tax deducted and TDS deposited")
                continue
            deductor = (name, tan, c.money("total_amount", totals[0]), c.money("total_tds", totals[1]),
                        c.money("total_deposited", totals[2]), number)
            lines_of[number] = []
            result.deductors.setdefault(tan, name)
            continue
        if cells[0] == "" and len(cells) > 1 and _is_number(cells[1]):  # a transaction line
            if deductor is None:
                c.bad("line", "a transaction line before any deductor line")
                continue
            if len(cells) < 10:
                c.bad("line", f"a transaction line needs 10 fields (blank, sr no, section, date, status, booking date, "
                              f"remarks, amount, tax deducted, deposited); it has {len(cells)}")
                continue
            on = c.day("transaction_date", cells[3])
            credit = Credit(tan=deductor[1], deductor=deductor[0], section=c.section(cells[2]), date=on or date.min,
                            status=c.status(cells[4]), booked_on=c.day("date_of_booking", cells[5], required=False),
                            remarks="" if cells[6] == "-" else cells[6], amount=c.money("amount", cells[7]),
                            tds=c.money("tds", cells[8]), deposited=c.money("deposited", cells[9]), row=number)
            credits.append(credit)
            lines_of[deductor[5]].append(credit)
            continue
        # column headings ("Sr. No.^Name of Deductor^...") and anything else descriptive are skipped

    if not seen_part_a:
        raise DuesError(f"{source}: no 'PART A' section: is this a Form 26AS text export (the ^-delimited file)?")
    if problems:
        raise ValidationFailed(problems)
    _check_totals(text, source, lines_of, problems)
    if problems:
        raise ValidationFailed(problems)
    return result


def _check_totals(text: str, source: str, lines_of: dict[int, list[Credit]], problems: list[Problem]) -> None:
    all_lines = text.splitlines()
    for row, credits in lines_of.items():
        cells = [x.strip() for x in all_lines[row - 1].split("^")[3:] if x.strip()]
        totals = [parse_amount(x) for x in cells[:3]]
        sums = [sum((getattr(cr, f) for cr in credits), Decimal(0)) for f in ("amount", "tds", "deposited")]
        for fld, stated, found in zip(("total_amount", "total_tds", "total_deposited"), totals, sums, strict=True):
            if stated != found:
                problems.append(Problem(f"the deductor's total {stated} differs from the sum of its "
                                        f"{len(credits)} transaction line(s), {found}", fld, row, source))


def read_csv(path: Path, data: bytes | None = None) -> Form26AS:
    from .tabular import read_table

    table = read_table(path, data=data)
    missing = [col for col in CSV_COLUMNS if col not in table.columns]
    if missing:
        raise ValidationFailed([Problem(f"missing column(s): {', '.join(missing)} (expected {', '.join(CSV_COLUMNS)})",
                                        "header", 1, table.source)])
    problems: list[Problem] = []
    result = Form26AS(table.source, [])
    for r in table.rows:
        v = r.values
        c = _Cells(table.source, r.number, problems)
        tan = c.tan(v.get("tan"))
        name = str(v.get("deductor_name") or "").strip()
        on = c.day("transaction_date", v.get("transaction_date"))
        status = str(v.get("booking_status") or "").strip() or "F"
        result.credits.append(Credit(tan=tan, deductor=name, section=c.section(v.get("section")), date=on or date.min,
                                     status=c.status(status), amount=c.money("amount", v.get("amount")),
                                     tds=c.money("tds", v.get("tds")),
                                     deposited=c.money("deposited", v.get("deposited") or v.get("tds")), row=r.number))
        result.deductors.setdefault(tan, name)
    if problems:
        raise ValidationFailed(problems)
    return result


def read_form26as(path: str | Path, data: bytes | None = None) -> Form26AS:
    """Read a Form 26AS export: the ^-delimited text file, or the CSV/XLSX layout (by extension)."""
    path = Path(path)
    if path.suffix.lower() in (".csv", ".xlsx", ".xlsm"):
        return read_csv(path, data)
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise DuesError(f"{path}: cannot read the file ({exc.strerror})") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    if "^" not in text:
        raise DuesError(f"{path.name}: not a Form 26AS text export (no '^'-delimited lines); "
                        f"for a spreadsheet use .csv or .xlsx with columns {', '.join(CSV_COLUMNS)}")
    return read_text(text, path.name)


def fy_label(text: str) -> str:
    """'2025-26' or '2025-2026' -> '2025-26'."""
    s = text.strip()
    m = re.match(r"^(\d{4})-(\d{2}|\d{4})$", s)
    if not m:
        return s
    return f"{m.group(1)}-{m.group(2)[-2:]}"
