"""History files for the back-test: ``customer,invoice,invoice_date,due_date,amount,paid_date[,disputed]``.

``read_history`` keeps ``paid_date`` as the raw text of the cell (``paid_raw``): it is parsed only for
rows the back-test is allowed to read (invoices dated before the split date), so a history may carry
anything in the others. ``read_ibm`` turns the IBM accounts-receivable sample into the same rows.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

COLUMNS = ("customer", "invoice", "invoice_date", "due_date", "amount", "paid_date")


class HistoryError(ValueError):
    """A history file that cannot be read: the message names the file, row and field."""


@dataclass(frozen=True)
class Invoice:
    customer: str
    invoice: str
    invoice_date: date
    due_date: date
    amount: Decimal
    paid_raw: str = ""  # the paid_date cell as written; read only through paid_date()
    disputed: bool = False

    def paid_date(self) -> date | None:
        text = self.paid_raw.strip()
        return parse_date(text) if text else None


def parse_date(text: str) -> date:
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%m/%d/%Y", "%d-%m-%Y"):
        try:
            return datetime.strptime(text, fmt).date()  # noqa: DTZ007 (a calendar date, no time)
        except ValueError:
            continue
    raise ValueError(f"not a date: {text!r}")


def _yes(text: str) -> bool:
    return text.strip().lower() in ("1", "y", "yes", "true", "t")


def read_history(path: str | Path) -> list[Invoice]:
    path = Path(path)
    rows: list[Invoice] = []
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise HistoryError(f"{path}: missing column(s) {', '.join(missing)}")
        for n, rec in enumerate(reader, start=2):
            try:
                field = "invoice_date"
                inv = parse_date(rec["invoice_date"])
                field = "due_date"
                due = parse_date(rec["due_date"])
                field = "amount"
                amount = Decimal(rec["amount"].strip().replace(",", ""))
            except (ValueError, InvalidOperation) as exc:
                raise HistoryError(f"{path}:{n}: {field}: {exc}") from None
            rows.append(Invoice(rec["customer"].strip(), rec["invoice"].strip(), inv, due, amount,
                                rec.get("paid_date") or "", _yes(rec.get("disputed") or "")))
    return rows


def read_ibm(path: str | Path) -> list[Invoice]:
    """The IBM sample (``WA_Fn-UseC_-Accounts-Receivable.csv``) as history rows."""
    rows = []
    with Path(path).open(newline="", encoding="utf-8-sig") as fh:
        for rec in csv.DictReader(fh):
            rows.append(Invoice(rec["customerID"], rec["invoiceNumber"], parse_date(rec["InvoiceDate"]),
                                parse_date(rec["DueDate"]), Decimal(rec["InvoiceAmount"]),
                                parse_date(rec["SettledDate"]).isoformat(), _yes(rec["Disputed"])))
    return rows


def write_history(rows: list[Invoice], path: str | Path) -> None:
    with Path(path).open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow([*COLUMNS, "disputed"])
        for r in rows:
            w.writerow([r.customer, r.invoice, r.invoice_date.isoformat(), r.due_date.isoformat(), r.amount,
                        r.paid_raw, "yes" if r.disputed else "no"])
