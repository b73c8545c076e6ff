"""What every bank-statement parser returns: plain dataclasses, Decimal amounts, no Django.

A file holds one or more ``StatementData`` (one per account and period); each holds ``BankTxn``
lines. Amounts are positive with a ``direction`` (``C`` money in, ``D`` money out); ``signed`` gives
the ledger view. Parsers raise ``ValidationFailed`` with a ``Problem`` naming the file, the row
(line number, or record number for XML) and the field when something cannot be read, and
``check_balances`` verifies opening + credits - debits = closing wherever the file states both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from dues.core.errors import Problem, ValidationFailed

CREDIT, DEBIT = "C", "D"

# references banks print when there is none: never use them to tell two lines apart
PLACEHOLDER_REFERENCES = frozenset({"", "-", "NONREF", "NOTPROVIDED", "NOT PROVIDED", "N/A", "NA", "NONE", "0"})


@dataclass(frozen=True, slots=True)
class Balance:
    amount: Decimal  # signed: negative = overdrawn (debit balance)
    on: date | None
    currency: str = ""


@dataclass(slots=True)
class BankTxn:
    booking_date: date
    amount: Decimal  # > 0 (or 0 for an information-only entry)
    direction: str  # C = money in, D = money out
    currency: str = ""
    value_date: date | None = None
    reference: str = ""  # bank reference / UTR / FITID as the file gives it ("" when none)
    narration: str = ""
    counterparty_name: str = ""
    counterparty_account: str = ""
    counterparty_ifsc: str = ""  # IFSC in India, BIC elsewhere
    counterparty_upi: str = ""
    end_to_end_id: str = ""
    bank_code: str = ""  # transaction type code (MT940 NTRF, camt BkTxCd, OFX TRNTYPE, NEFT/UPI from narration)
    cheque_number: str = ""
    reversal: bool = False
    booked: bool = True  # camt PDNG / INFO entries are not booked and do not move the balance
    balance_after: Decimal | None = None  # running balance printed on the line (CSV/XLSX)
    row: int | None = None  # where it is in the file (line / row / entry number)

    @property
    def signed(self) -> Decimal:
        return self.amount if self.direction == CREDIT else -self.amount

    @property
    def has_reference(self) -> bool:
        ref = self.reference.strip().upper()
        return ref not in PLACEHOLDER_REFERENCES and not set(ref) <= {"0"}


@dataclass(slots=True)
class StatementData:
    source: str
    format: str  # mt940, mt942, camt052, camt053, camt054, ofx, csv, xlsx
    statement_id: str = ""
    account_number: str = ""
    account_name: str = ""
    bank_id: str = ""  # IFSC / BIC / bank code of the account holder's bank
    currency: str = ""
    opening: Balance | None = None
    closing: Balance | None = None
    period_start: date | None = None
    period_end: date | None = None
    transactions: list[BankTxn] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    row: int | None = None  # where the statement starts in the file

    @property
    def label(self) -> str:
        bits = [f"statement {self.statement_id}" if self.statement_id else "statement"]
        if self.account_number:
            bits.append(f"account {self.account_number}")
        return " ".join(bits)

    @property
    def credits(self) -> Decimal:
        return sum((t.amount for t in self.transactions if t.booked and t.direction == CREDIT), Decimal(0))

    @property
    def debits(self) -> Decimal:
        return sum((t.amount for t in self.transactions if t.booked and t.direction == DEBIT), Decimal(0))

    def balance_problem(self) -> Problem | None:
        """opening + credits - debits = closing, where the file states both balances in one currency."""
        if self.opening is None or self.closing is None:
            return None
        if self.opening.currency and self.closing.currency and self.opening.currency != self.closing.currency:
            self.warnings.append(f"{self.label}: opening ({self.opening.currency}) and closing "
                                 f"({self.closing.currency}) balances are in different currencies; not checked")
            return None
        expected = self.opening.amount + self.credits - self.debits
        if expected != self.closing.amount:
            return Problem(
                f"{self.label} does not balance: opening {self.opening.amount} + credits {self.credits} "
                f"- debits {self.debits} = {expected}, but the closing balance is {self.closing.amount} "
                f"(difference {self.closing.amount - expected})", "balance", self.row, self.source)
        return None


def check_balances(statements: list[StatementData]) -> list[StatementData]:
    """Raise ``ValidationFailed`` listing every statement that does not balance; return them unchanged."""
    problems = [p for s in statements if (p := s.balance_problem()) is not None]
    if problems:
        raise ValidationFailed(problems)
    return statements


def fail(source: str, message: str, fld: str = "", row: int | None = None) -> ValidationFailed:
    return ValidationFailed([Problem(message, fld, row, source)])


_NUMBER = re.compile(r"^[+-]?(\d[\d,]*)?(\.\d+)?$", re.ASCII)


def decimal_text(text: str) -> Decimal:
    """'1,23,456.00' / '-12.5' / '120' -> Decimal; ValueError otherwise (never float)."""
    s = text.strip().replace(" ", "")
    if not s or not _NUMBER.match(s) or s in ("+", "-", "."):
        raise ValueError(f"not an amount: {text!r}")
    try:
        value = Decimal(s.replace(",", ""))
    except InvalidOperation as exc:  # pragma: no cover - the regex guards this
        raise ValueError(f"not an amount: {text!r}") from exc
    return checked_amount(value, text)


#: No bank line is larger than the ledger holds (``dues.core.money.MAX_WHOLE_DIGITS`` digits before the point).
MAX_WHOLE_DIGITS = 16


def checked_amount(value: Decimal, text: object) -> Decimal:
    """``value`` when it is a finite amount of at most MAX_WHOLE_DIGITS whole digits; ValueError otherwise."""
    if not value.is_finite():
        raise ValueError(f"not an amount: {str(text)[:40]!r}")
    if value and value.adjusted() + 1 > MAX_WHOLE_DIGITS:
        raise ValueError(f"{str(text)[:40]} is too large: an amount has at most {MAX_WHOLE_DIGITS} digits before "
                         "the decimal point")
    return value


# ---- Indian narrations: NEFT / RTGS / IMPS / UPI / cheque -------------------------------------------------

_IFSC = re.compile(r"\b([A-Z]{4}0[A-Z0-9]{6})\b")
_VPA = re.compile(r"\b([\w.\-]{2,256}@[a-zA-Z][a-zA-Z0-9]{1,64})\b")
_NEFT = re.compile(r"^(NEFT|RTGS)\s*(?:CR|DR)?[-/ ]+(?P<ifsc>[A-Z]{4}0[A-Z0-9]{6})[-/ ]+(?P<name>.+?)[-/ ]+(?P<utr>[A-Z0-9]{10,22})$",
                   re.I)
_UPI = re.compile(r"^UPI[-/](?:CR[-/]|DR[-/])?(?P<rrn>\d{9,16})[-/](?P<name>[^/]*)[-/](?P<vpa>[^/]*@[^/]*)(?:[-/](?P<bank>.*))?$",
                  re.I)
_IMPS = re.compile(r"^(?:MMT/)?IMPS[-/](?:P2A[-/])?(?P<rrn>\d{9,16})[-/](?P<name>[^-/]+)[-/](?P<bank>[^-/]*)(?:[-/](?P<acct>X*\d+))?", re.I)
_CHEQUE = re.compile(r"^(?:CHQ|CHEQUE|CLG)\b.*?(?:-|\s)(?P<name>[A-Z][A-Z .&]+)$", re.I)


@dataclass(frozen=True, slots=True)
class NarrationDetails:
    channel: str = ""
    reference: str = ""
    name: str = ""
    ifsc: str = ""
    upi: str = ""
    account: str = ""


def narration_details(text: str) -> NarrationDetails:
    """What an Indian bank narration says about the payment (UTR / RRN, payer, IFSC, UPI id)."""
    s = " ".join(text.split())
    if m := _NEFT.match(s):
        return NarrationDetails(m.group(1).upper(), m["utr"].upper(), m["name"].strip(" -"), m["ifsc"].upper())
    if m := _UPI.match(s):
        return NarrationDetails("UPI", m["rrn"], m["name"].strip(), upi=m["vpa"].strip())
    if m := _IMPS.match(s):
        return NarrationDetails("IMPS", m["rrn"], m["name"].strip(), account=(m["acct"] or ""))
    if m := _CHEQUE.match(s):
        return NarrationDetails("CHEQUE", name=m["name"].strip())
    ifsc = _IFSC.search(s)
    vpa = _VPA.search(s)
    return NarrationDetails(ifsc=ifsc.group(1) if ifsc else "", upi=vpa.group(1) if vpa else "")


def enrich_from_narration(txn: BankTxn) -> None:
    """Fill the reference and counterparty from the narration where the file gave no column for them."""
    d = narration_details(txn.narration)
    if d.reference and not txn.has_reference:
        txn.reference = d.reference
    txn.bank_code = txn.bank_code or d.channel
    txn.counterparty_name = txn.counterparty_name or d.name
    txn.counterparty_ifsc = txn.counterparty_ifsc or d.ifsc
    txn.counterparty_upi = txn.counterparty_upi or d.upi
    txn.counterparty_account = txn.counterparty_account or d.account
