"""Journal entries of AR documents, built as values and checked before anything is stored.

Each builder returns the lines of one balanced entry by account *role* (the company's chart maps
roles to accounts). Lines on the AR control account carry the customer. A correction is never an
edit: ``reverse`` gives the mirror lines of an entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from .errors import UnbalancedEntryError
from .gst import TaxSplit
from .money import ZERO

# Account roles: the chart of accounts created at ``dues init`` has one account per role.
AR = "ar_control"
SALES = "sales"
SALES_RETURNS = "sales_returns"
INTEREST_INCOME = "interest_income"
CGST = "cgst_output"
SGST = "sgst_output"
IGST = "igst_output"
BANK = "bank"
CASH = "cash"
TDS = "tds_receivable"
DISCOUNT = "discount_allowed"
BANK_CHARGES = "bank_charges"
WRITE_OFF = "bad_debts"
ROUND_OFF = "round_off"
OPENING = "opening_balance"

CASH_MODES = frozenset({"cash"})


@dataclass(frozen=True, slots=True)
class Line:
    role: str
    debit: Decimal = ZERO
    credit: Decimal = ZERO

    def __post_init__(self) -> None:
        if self.debit < 0 or self.credit < 0 or (self.debit and self.credit):
            raise UnbalancedEntryError(f"a line is a debit or a credit, never both or negative: {self}")


def check_balanced(lines: Sequence[Line]) -> None:
    debit = sum((ln.debit for ln in lines), ZERO)
    credit = sum((ln.credit for ln in lines), ZERO)
    if debit != credit:
        raise UnbalancedEntryError(f"entry does not balance: debits {debit}, credits {credit}")
    if not lines or debit == 0:
        raise UnbalancedEntryError("an entry needs at least one non-zero line")


def _signed(role: str, amount: Decimal) -> Line | None:
    """A line that debits a positive ``amount`` and credits a negative one; None for zero."""
    if amount > 0:
        return Line(role, debit=amount)
    if amount < 0:
        return Line(role, credit=-amount)
    return None


def _entry(*lines: Line | None) -> tuple[Line, ...]:
    kept = tuple(ln for ln in lines if ln is not None)
    check_balanced(kept)
    return kept


def invoice_lines(amount: Decimal, taxable: Decimal, tax: TaxSplit, income_role: str = SALES) -> tuple[Line, ...]:
    """Dr customer the grand total; Cr sales the taxable value, Cr each GST; any rounding to round-off."""
    round_off = amount - taxable - tax.total
    return _entry(
        Line(AR, debit=amount),
        _signed(income_role, -taxable),
        _signed(CGST, -tax.cgst),
        _signed(SGST, -tax.sgst),
        _signed(IGST, -tax.igst),
        _signed(ROUND_OFF, -round_off),
    )


def credit_note_lines(amount: Decimal, taxable: Decimal, tax: TaxSplit) -> tuple[Line, ...]:
    """The mirror of an invoice: Dr sales returns and GST, Cr customer."""
    return reverse(invoice_lines(amount, taxable, tax, income_role=SALES_RETURNS))


def receipt_lines(amount: Decimal, mode: str, tds: Decimal = ZERO, charges: Decimal = ZERO,
                  discount: Decimal = ZERO) -> tuple[Line, ...]:
    """Dr bank/cash what arrived, Dr TDS receivable, bank charges and discount; Cr customer the sum.

    The customer is cleared of ``amount + tds + charges + discount``: that is what the receipt can
    allocate to invoices.
    """
    money_role = CASH if mode in CASH_MODES else BANK
    return _entry(
        _signed(money_role, amount),
        _signed(TDS, tds),
        _signed(BANK_CHARGES, charges),
        _signed(DISCOUNT, discount),
        Line(AR, credit=amount + tds + charges + discount),
    )


def write_off_lines(amount: Decimal) -> tuple[Line, ...]:
    return _entry(Line(WRITE_OFF, debit=amount), Line(AR, credit=amount))


def opening_lines(amount: Decimal) -> tuple[Line, ...]:
    """An opening balance: positive is owed to us (Dr customer), negative an advance we hold."""
    return _entry(_signed(AR, amount), _signed(OPENING, -amount))


def reverse(lines: Sequence[Line]) -> tuple[Line, ...]:
    """The entry that cancels ``lines``: every debit becomes a credit of the same amount."""
    return tuple(Line(ln.role, debit=ln.credit, credit=ln.debit) for ln in lines)


def ar_amount(lines: Sequence[Line]) -> Decimal:
    """Signed effect on the customer: positive when the entry makes them owe more."""
    return sum((ln.debit - ln.credit for ln in lines if ln.role == AR), ZERO)
