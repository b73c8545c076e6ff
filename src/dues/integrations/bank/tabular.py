"""Bank statements saved as CSV or XLSX: HDFC, ICICI, SBI and Axis layouts, or a generic mapping.

Indian bank exports put a preamble (name, account number, period, opening balance) above the header
row, write amounts with lakh grouping (``1,23,456.00``), dates as ``dd/mm/yy``, ``dd-mm-yyyy`` or
``21 Apr 2024``, and give either separate Withdrawal/Deposit columns or one amount with a Cr/Dr
column. The header row is found by looking for the preset's column names; a ``mapping`` (from
``--map date=Txn Date,credit=Deposit``) overrides them. Where the file prints a running balance,
every line is checked against it (the implied opening + credits - debits = the last balance).
Columns are matched ignoring case, spaces and punctuation (``Withdrawal Amount (INR )`` =
``withdrawalamountinr``).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal

from dues.core.errors import Problem, ValidationFailed
from dues.integrations.tabular import refuse_nul

from .model import CREDIT, DEBIT, Balance, BankTxn, StatementData, checked_amount, decimal_text, enrich_from_narration

FIELDS = ("date", "value_date", "narration", "reference", "debit", "credit", "amount", "drcr", "balance")

PRESETS: dict[str, dict[str, tuple[str, ...]]] = {
    "hdfc": {"date": ("Date",), "narration": ("Narration",), "reference": ("Chq./Ref.No.",),
             "value_date": ("Value Dt",), "debit": ("Withdrawal Amt.",), "credit": ("Deposit Amt.",),
             "balance": ("Closing Balance",)},
    "icici": {"date": ("Transaction Date", "Value Date"), "value_date": ("Value Date",), "reference": ("Cheque Number",
                                                                                          "Transaction ID"),
              "narration": ("Transaction Remarks", "Description"), "debit": ("Withdrawal Amount (INR )",),
              "credit": ("Deposit Amount (INR )",), "amount": ("Transaction Amount(INR)",), "drcr": ("Cr/Dr",),
              "balance": ("Balance (INR )", "Available Balance(INR)")},
    "sbi": {"date": ("Txn Date",), "value_date": ("Value Date",), "narration": ("Description",),
            "reference": ("Ref No./Cheque No.",), "debit": ("Debit",), "credit": ("Credit",), "balance": ("Balance",)},
    "axis": {"date": ("Tran Date",), "reference": ("CHQNO",), "narration": ("PARTICULARS",), "debit": ("DR",),
             "credit": ("CR",), "balance": ("BAL",)},
}
PRESETS["generic"] = {
    "date": ("Date", "Txn Date", "Tran Date", "Transaction Date", "Posting Date", "Booking Date"),
    "value_date": ("Value Date", "Value Dt"),
    "narration": ("Narration", "Description", "Particulars", "Transaction Remarks", "Remarks", "Details"),
    "reference": ("Reference", "Ref No.", "Chq./Ref.No.", "Ref No./Cheque No.", "Cheque Number", "CHQNO", "UTR",
                  "Transaction ID"),
    "debit": ("Debit", "Withdrawal", "Withdrawal Amt.", "Withdrawal Amount (INR )", "DR", "Debit Amount"),
    "credit": ("Credit", "Deposit", "Deposit Amt.", "Deposit Amount (INR )", "CR", "Credit Amount"),
    "amount": ("Amount", "Transaction Amount(INR)", "Transaction Amount"),
    "drcr": ("Cr/Dr", "Dr/Cr", "Type", "CR/DR"),
    "balance": ("Balance", "Closing Balance", "Running Balance", "BAL", "Available Balance(INR)", "Balance (INR )"),
}
MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                                      "dec"), start=1)}
_DMY = re.compile(r"^(\d{1,2})[-/.\s]([A-Za-z]{3,9}|\d{1,2})[-/.\s,]+(\d{2}|\d{4})(?:\s.*)?$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T\s].*)?$")
_PREAMBLE_ACCOUNT = re.compile(r"(?:account\s*(?:no|number)\.?|a/c\s*no\.?|statement of account no)\s*[:\-]*\s*"
                               r"([0-9X]{6,20})", re.I)
_PREAMBLE_IFSC = re.compile(r"\b([A-Z]{4}0[A-Z0-9]{6})\b")


def _key(name: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def parse_date(value: object) -> date:
    """Day-first dates as Indian banks write them; spreadsheet date cells pass through."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    s = str(value).strip()
    if m := _ISO.match(s):
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = _DMY.match(s)
    if not m:
        raise ValueError(f"not a date: {s!r} (expected dd/mm/yy, dd-mm-yyyy or 21 Apr 2024)")
    d, mo, y = m.groups()
    month = int(mo) if mo.isdigit() else MONTHS.get(mo[:3].lower())
    if month is None:
        raise ValueError(f"not a date: {s!r} (unknown month {mo!r})")
    year = int(y) + (2000 if len(y) == 2 else 0)
    try:
        return date(year, month, int(d))
    except ValueError:
        raise ValueError(f"no such date: {s!r}") from None


def parse_money(value: object) -> tuple[Decimal | None, str]:
    """'1,23,456.00' -> (123456.00, ''); '5,000.00 Cr' -> (5000.00, 'C'); '' / '-' -> (None, '')."""
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return checked_amount(Decimal(value), value), ""
    if isinstance(value, float):  # openpyxl numbers: repr is the shortest exact decimal text
        return checked_amount(Decimal(repr(value)), value), ""
    s = str(value).strip().replace("\u00a0", " ")
    flag = ""
    if m := re.search(r"\s*\(?(cr|dr)\)?\.?$", s, re.I):
        flag, s = m.group(1)[0].upper(), s[: m.start()].strip()
    for prefix in ("₹", "Rs.", "Rs", "INR"):
        if s.startswith(prefix):
            s = s[len(prefix):].strip()
    if s in ("", "-", "--"):
        return None, flag
    negative = s.startswith("(") and s.endswith(")")
    amount = decimal_text(s.strip("()"))
    return (-amount if negative else amount), flag


def _rows(data: bytes, source: str, kind: str) -> list[tuple[int, list[object]]]:
    if kind == "xlsx":
        from openpyxl import load_workbook

        from dues.core.errors import DuesError
        from dues.integrations.tabular import _check_workbook

        try:
            _check_workbook(data, source)  # a zip bomb is refused before openpyxl unpacks it
        except DuesError as exc:
            raise ValidationFailed([Problem(str(exc).removeprefix(f"{source}: "), "", None, source)]) from None
        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a broken file
            raise ValidationFailed([Problem(f"not a readable .xlsx workbook ({exc})", "", None, source)]) from exc
        try:
            return [(i, ["" if c is None else c for c in r])
                    for i, r in enumerate(wb.worksheets[0].iter_rows(values_only=True), start=1)]
        finally:
            wb.close()
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise ValidationFailed([Problem("cannot read the text encoding (save it as UTF-8 CSV)", "", None,
                                            source)]) from None
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
    refuse_nul(text, source)
    lines = text.splitlines()
    delimiter = max((",", "\t", ";", "|"), key=lambda d: sum(line.count(d) for line in lines[:60]))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    out = []
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return out
        except csv.Error as exc:
            raise ValidationFailed([Problem(f"cannot read this line: {exc}", "", start, source)]) from None
        out.append((start, row))


def _find_header(rows, aliases: dict[str, tuple[str, ...]]) -> tuple[int, dict[str, int]]:
    wanted = {f: [_key(a) for a in names] for f, names in aliases.items()}  # in order of preference
    best: tuple[int, int, dict[str, int]] = (0, -1, {})
    for idx, (_, cells) in enumerate(rows[:80]):
        keys = [_key(c) for c in cells]
        found: dict[str, int] = {}
        for f, names in wanted.items():
            col = next((keys.index(n) for n in names if n in keys and keys.index(n) not in found.values()), None)
            if col is not None:
                found[f] = col
        has_money = "credit" in found or "debit" in found or "amount" in found
        if "date" in found and has_money and len(found) > best[0]:
            best = (len(found), idx, found)
    if best[1] < 0:
        raise LookupError
    return best[1], best[2]


def parse(data: bytes, source: str, kind: str = "csv", preset: str = "generic",
          mapping: dict[str, str] | None = None, check: bool = True) -> list[StatementData]:
    if preset not in PRESETS:
        raise ValidationFailed([Problem(f"unknown preset {preset!r} (use {', '.join(PRESETS)})", "preset", None,
                                        source)])
    aliases = dict(PRESETS[preset])
    for fld, column in (mapping or {}).items():
        if fld not in FIELDS:
            raise ValidationFailed([Problem(f"unknown field {fld!r} in --map (fields: {', '.join(FIELDS)})", "map",
                                            None, source)])
        aliases[fld] = (column,)
    rows = _rows(data, source, kind)
    try:
        header_idx, cols = _find_header(rows, aliases)
    except LookupError:
        names = ", ".join(f"{f}={'/'.join(v[:2])}" for f, v in aliases.items() if f in ("date", "credit", "debit",
                                                                                       "amount"))
        raise ValidationFailed([Problem(f"no header row found for preset {preset!r} (looked for {names}); "
                                        "pass --map date=...,credit=...", "", None, source)]) from None
    if "amount" in cols and "credit" not in cols and "debit" not in cols and "drcr" not in cols:
        pass  # a signed amount column: negative = money out
    st = StatementData(source=source, format=kind, row=rows[header_idx][0])
    preamble = " ".join(str(c) for _, cells in rows[:header_idx] for c in cells if c not in ("", None))
    if m := _PREAMBLE_ACCOUNT.search(preamble):
        st.account_number = m.group(1)
    if m := _PREAMBLE_IFSC.search(preamble):
        st.bank_id = m.group(1)
    problems: list[Problem] = []
    balances: list[tuple[BankTxn, Decimal]] = []
    for number, cells in rows[header_idx + 1:]:
        def cell(f: str, cells=cells) -> object:
            i = cols.get(f)
            v = cells[i] if i is not None and i < len(cells) else ""
            return v.strip() if isinstance(v, str) else v

        if all(str(c).strip() in ("", "-") for c in cells):
            continue
        raw_date = cell("date")
        if (raw_date in ("", None) or (isinstance(raw_date, str) and not re.match(r"^\d", raw_date))) and not any(
                str(cell(f)).strip() not in ("", "-") for f in ("debit", "credit", "amount") if f in cols):
            # footer lines ("Statement Summary", "Opening Balance ...", "** end of statement **"); a line with
            # an amount but no date is reported, never skipped
            continue
        try:
            txn = _line(cell, cols, number, source)
        except ValueError as exc:
            fld, _, msg = str(exc).partition("|")
            problems.append(Problem(msg, fld, number, source))
            continue
        if txn is None:
            continue
        st.transactions.append(txn)
        if txn.balance_after is not None:
            balances.append((txn, txn.balance_after))
    if problems:
        raise ValidationFailed(problems)
    if not st.transactions:
        raise ValidationFailed([Problem("no transaction rows under the header", "", st.row, source)])
    for t in st.transactions:
        enrich_from_narration(t)
    st.period_start = min(t.booking_date for t in st.transactions)
    st.period_end = max(t.booking_date for t in st.transactions)
    if check and len(balances) == len(st.transactions):
        _check_running(st, source)
    return [st]


def _line(cell, cols, number: int, source: str) -> BankTxn | None:
    def money(f: str) -> tuple[Decimal | None, str]:
        try:
            return parse_money(cell(f)) if f in cols else (None, "")
        except ValueError as exc:
            raise ValueError(f"{f}|{exc}") from None

    try:
        booking = parse_date(cell("date"))
    except ValueError as exc:
        raise ValueError(f"date|{exc}") from None
    value_date = None
    if "value_date" in cols and cell("value_date") not in ("", None, "-"):
        try:
            value_date = parse_date(cell("value_date"))
        except ValueError as exc:
            raise ValueError(f"value_date|{exc}") from None
    debit, _ = money("debit")
    credit, _ = money("credit")
    amount, flag = money("amount")
    if "drcr" in cols:
        flag = str(cell("drcr")).strip()[:1].upper() or flag
    if debit and credit:
        raise ValueError(f"debit|both a debit ({debit}) and a credit ({credit}) on one line")
    if debit or credit:
        value, direction = (debit, DEBIT) if debit else (credit, CREDIT)
    elif amount is not None:
        if flag in ("C", "D"):
            value, direction = abs(amount), flag
        else:
            value, direction = abs(amount), (CREDIT if amount >= 0 else DEBIT)
    else:
        if debit == 0 or credit == 0 or amount == 0:
            return None  # a zero line (information only)
        raise ValueError("amount|no amount (neither debit nor credit)")
    if value < 0:
        raise ValueError(f"{'debit' if direction == DEBIT else 'credit'}|negative amount {value}")
    balance, bflag = money("balance")
    if balance is not None and bflag == "D":
        balance = -balance
    ref = str(cell("reference")).strip() if "reference" in cols else ""
    return BankTxn(booking_date=booking, value_date=value_date, amount=value, direction=direction,
                   reference=ref if ref != "-" else "", narration=" ".join(str(cell("narration")).split()),
                   cheque_number=ref if ref.isdigit() and len(ref) <= 8 and set(ref) != {"0"} else "",
                   balance_after=balance, row=number)


def _check_running(st: StatementData, source: str) -> None:
    """Each printed balance = the previous one +/- the line; files listed newest first are read backwards."""
    lines = st.transactions
    forward = all(lines[i].balance_after == lines[i - 1].balance_after + lines[i].signed for i in range(1, len(lines)))
    if not forward:
        backward = all(lines[i - 1].balance_after == lines[i].balance_after + lines[i - 1].signed
                       for i in range(1, len(lines)))
        if backward:
            lines = list(reversed(lines))
            st.transactions = lines
        else:
            for i in range(1, len(lines)):
                expected = lines[i - 1].balance_after + lines[i].signed
                if lines[i].balance_after != expected:
                    raise ValidationFailed([Problem(
                        f"the running balance breaks: {lines[i - 1].balance_after} "
                        f"{'+' if lines[i].direction == CREDIT else '-'} {lines[i].amount} = {expected}, but the "
                        f"file says {lines[i].balance_after}", "balance", lines[i].row, source)])
    first, last = lines[0], lines[-1]
    st.opening = Balance(first.balance_after - first.signed, first.booking_date, st.currency)
    st.closing = Balance(last.balance_after, last.booking_date, st.currency)
