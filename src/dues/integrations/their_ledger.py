"""Reading THEIR ledger of us (the customer's books) from a CSV / XLSX export.

Columns come from a preset (``tally``, ``busy``, ``sap``), from ``--map`` (``date=...,ref=...,
narration=...,debit=...,credit=...`` or ``amount=...,drcr=...``, optional ``type=...``), or are
recognised from common header names. Each data row becomes a ``TheirEntry`` signed the receivable
way: a credit in their books (our invoice booked as a purchase) is positive, a debit (their
payment, TDS, debit note) negative. Rows numbered 1-based over the data rows, as ``theirs`` names
them ("row 7"). Opening-balance rows are recognised by their text; closing / total rows skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from dues.core import reconcile as rc
from dues.core.dates import parse_date
from dues.core.errors import DuesError, Problem, ValidationFailed
from dues.core.money import MoneyError, parse_amount
from dues.integrations.tabular import read_table

FIELDS = ("date", "ref", "narration", "debit", "credit", "amount", "drcr", "type", "ledger")


@dataclass(frozen=True)
class Preset:
    name: str
    columns: dict[str, tuple[str, ...]]  # field -> header names tried in order (lower case, _ for spaces)
    credit_negative: bool = False  # a signed amount column: negative means credit (SAP vendor line items)


PRESETS = {
    "tally": Preset("tally", {
        "date": ("date",), "ref": ("vch_no.", "vch_no", "voucher_no", "voucher_no."),
        "narration": ("particulars", "narration"), "type": ("vch_type", "voucher_type"),
        "debit": ("debit", "debit_amount", "dr"), "credit": ("credit", "credit_amount", "cr")}),
    "busy": Preset("busy", {
        "date": ("date",), "ref": ("vch/bill_no", "vch_no", "bill_no", "vch/bill_no."),
        "narration": ("account", "particulars", "narration", "short_narration"), "type": ("type", "vch_type"),
        "debit": ("debit(rs.)", "debit", "dr_amount", "debit_(rs.)"),
        "credit": ("credit(rs.)", "credit", "cr_amount", "credit_(rs.)")}),
    "sap": Preset("sap", {
        "date": ("posting_date", "document_date", "pstng_date"), "ref": ("reference", "document_number", "doc._no."),
        "narration": ("text", "item_text", "assignment"), "type": ("document_type", "type"),
        "amount": ("amount_in_local_currency", "amount_in_lc", "amount")}, credit_negative=True),
}
# used when neither a preset nor a map is given: first header found for each field
GENERIC = Preset("auto", {
    "date": ("date", "posting_date", "voucher_date", "txn_date", "document_date"),
    "ref": ("ref", "reference", "vch_no.", "vch_no", "voucher_no", "invoice_no", "bill_no", "document_number",
            "vch/bill_no"),
    "narration": ("narration", "particulars", "description", "text", "remarks"),
    "type": ("vch_type", "voucher_type", "type", "document_type"),
    "debit": ("debit", "dr", "debit_amount", "debit(rs.)", "withdrawal"),
    "credit": ("credit", "cr", "credit_amount", "credit(rs.)"),
    "amount": ("amount",), "drcr": ("dr/cr", "drcr", "dr_cr", "type_dr/cr")})

_OPENING = re.compile(r"\bopening\b|\bb/?f\b|brought\s+forward|balance\s+b/d", re.I)
_CLOSING = re.compile(r"\bclosing\s+balance\b|\bc/?f\b|carried\s+forward|^\s*total\b|balance\s+c/d", re.I)
_TDS = re.compile(r"\bTDS\b|tax\s+deducted|\b194[A-Z]{1,2}\b|(?:u/s|sec\.?|section)\s*194", re.I)
_DEBIT_NOTE = re.compile(r"debit\s*note|\bDN\b|purchase\s+return", re.I)
_PAYMENT = re.compile(r"payment|\bpymt\b|\bNEFT\b|\bRTGS\b|\bIMPS\b|\bUPI\b|cheque|\bchq\b|bank|\bKZ\b|\bZP\b", re.I)


def parse_map(text: str | None) -> dict[str, str]:
    """``date=Txn Date,ref=Bill No`` -> {"date": "txn_date", "ref": "bill_no"} (header names normalised)."""
    out: dict[str, str] = {}
    if not text:
        return out
    for part in text.split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        key = key.strip().lower()
        if not sep or key not in FIELDS or not value.strip():
            raise DuesError(f"--map: {part.strip()!r} is not FIELD=COLUMN with FIELD one of {', '.join(FIELDS)}")
        out[key] = value.strip().lower().replace(" ", "_")
    return out


def _pick(columns: list[str], preset: Preset, mapping: dict[str, str], source: str) -> dict[str, str]:
    chosen: dict[str, str] = {}
    for fld in FIELDS:
        if fld in mapping:
            if mapping[fld] not in columns:
                raise ValidationFailed([Problem(f"no column {mapping[fld]!r} (columns: {', '.join(columns)})",
                                                field=fld, source=source)])
            chosen[fld] = mapping[fld]
            continue
        for name in preset.columns.get(fld, ()):
            if name in columns:
                chosen[fld] = name
                break
    problems = []
    if "date" not in chosen:
        problems.append(Problem(f"no date column (columns: {', '.join(columns)}); use --map date=COLUMN",
                                field="date", source=source))
    if not ({"debit", "credit"} <= chosen.keys() or "amount" in chosen):
        problems.append(Problem(f"need debit and credit columns, or an amount column (columns: {', '.join(columns)}); "
                                "use --map debit=...,credit=... or --map amount=...,drcr=...", field="amount",
                                source=source))
    if "ref" not in chosen and "narration" not in chosen:
        problems.append(Problem("need a reference or narration column to find invoice numbers; use --map ref=COLUMN",
                                field="ref", source=source))
    if problems:
        raise ValidationFailed(problems)
    if "amount" in chosen and {"debit", "credit"} <= chosen.keys() and "amount" not in mapping:
        del chosen["amount"]
    return chosen


def _date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return parse_date(str(value))


def _money(value: object) -> Decimal:
    text = str(value).strip()
    if not text or text in ("-", "—"):
        return Decimal(0)
    m = re.match(r"^(.*?)\s*(Dr|Cr)\.?$", text, re.I)  # Tally prints "1,200.00 Dr" in a balance column
    if m:
        text = m.group(1)
    return parse_amount(text)


def kind_of(text: str, amount: Decimal, type_text: str = "") -> str:
    """Infer what a row of their ledger is from its voucher type and text."""
    both = f"{type_text} {text}"
    if _TDS.search(both):
        return rc.THEIR_TDS
    if _DEBIT_NOTE.search(both) and amount < 0:
        return rc.THEIR_DEBIT_NOTE
    if amount > 0:
        return rc.PURCHASE
    if _PAYMENT.search(both) or re.search(r"receipt|journal", type_text, re.I) is None:
        return rc.THEIR_PAYMENT
    return rc.OTHER


def read_their_ledger(path: str | Path, *, preset: str | None = None, mapping: str | dict | None = None,
                      data: bytes | None = None) -> list[rc.TheirEntry]:
    """Read their ledger file into ``TheirEntry`` rows; every bad row is reported (file, row, field)."""
    if preset and preset not in PRESETS:
        raise DuesError(f"unknown preset {preset!r} (one of {', '.join(PRESETS)})")
    if Path(path).suffix.lower() == ".xml":
        ledger = mapping.get("ledger") if isinstance(mapping, dict) else None
        if isinstance(mapping, str):
            ledger = next((p.partition("=")[2].strip() for p in mapping.split(",")
                           if p.partition("=")[0].strip().lower() == "ledger"), None)
        return read_tally_xml(path, ledger=ledger, data=data)
    table = read_table(path, data)
    source = table.source
    chosen_preset = PRESETS[preset] if preset else GENERIC
    cols = _pick(table.columns, chosen_preset, parse_map(mapping) if isinstance(mapping, str) else (mapping or {}),
                 source)
    entries: list[rc.TheirEntry] = []
    problems: list[Problem] = []
    closing: list[tuple[int, dict]] = []
    for n, row in enumerate(table.rows, start=1):
        v = row.values
        ref = str(v.get(cols.get("ref", ""), "") or "").strip()
        narration = str(v.get(cols.get("narration", ""), "") or "").strip()
        type_text = str(v.get(cols.get("type", ""), "") or "").strip()
        text = f"{ref} {narration} {type_text}"
        raw_date = v.get(cols["date"], "")
        where = {"row": n, "source": source}
        if _CLOSING.search(text) and not _OPENING.search(text):
            if re.search(r"closing\s+balance|c/f|carried|c/d", text, re.I):
                closing.append((n, v))
            continue  # closing balance / totals lines of the export
        try:
            on = _date(raw_date) if raw_date not in ("", None) else None
        except (ValueError, DuesError) as exc:
            problems.append(Problem(f"not a date: {raw_date!r} ({exc})", field=cols["date"], **where))
            continue
        try:
            if "amount" in cols:
                amount = _money(v.get(cols["amount"], ""))
                if "drcr" in cols:
                    side = str(v.get(cols["drcr"], "")).strip().lower().rstrip(".")
                    if side not in ("dr", "cr", "debit", "credit", "d", "c"):
                        problems.append(Problem(f"Dr/Cr column says {side!r}; expected Dr or Cr", field=cols["drcr"],
                                                **where))
                        continue
                    signed = abs(amount) if side.startswith("c") else -abs(amount)
                else:
                    signed = -amount if chosen_preset.credit_negative else amount
            else:
                debit = _money(v.get(cols["debit"], ""))
                credit = _money(v.get(cols["credit"], ""))
                signed = credit - debit
        except MoneyError as exc:
            problems.append(Problem(str(exc), field=cols.get("amount") or f"{cols['debit']}/{cols['credit']}", **where))
            continue
        if _OPENING.search(text):
            entries.append(rc.TheirEntry(n, on or date.min, signed, rc.THEIR_OPENING, ref, narration))
            continue
        if on is None:
            problems.append(Problem("date is empty", field=cols["date"], **where))
            continue
        if signed == 0:
            continue
        entries.append(rc.TheirEntry(n, on, signed, kind_of(f"{ref} {narration}", signed, type_text), ref, narration))
    if not problems and closing and entries:
        n, v = closing[-1]
        try:
            if "amount" in cols:
                stated = abs(_money(v.get(cols["amount"], "")))
            else:
                stated = abs(_money(v.get(cols["credit"], "")) - _money(v.get(cols["debit"], "")))
        except MoneyError:
            stated = None
        total = sum((e.amount for e in entries), Decimal(0))
        if stated is not None and stated != abs(total):  # either side: exports differ on where they print it
            problems.append(Problem(f"the closing balance {stated} does not agree with the entries, which add up to "
                                    f"{total}: rows are missing or the export is cut", field="closing balance",
                                    row=n, source=source))
    if problems:
        raise ValidationFailed(problems)
    if not entries:
        raise DuesError(f"{source}: no ledger entries found")
    # an opening row without a date stands before the first entry
    first = min((e.date for e in entries if e.kind != rc.THEIR_OPENING), default=None)
    if first is not None:
        entries = [rc.TheirEntry(e.row, first, e.amount, e.kind, e.ref, e.narration)
                   if e.kind == rc.THEIR_OPENING and e.date == date.min else e for e in entries]
    return entries


from dues.integrations.tally.reconcile import read_tally_xml  # noqa: E402  (moved; kept importable here)
