"""Interest on overdue items: pure arithmetic, no database.

Modes (``Terms.mode``):

- ``simple``: ``balance × rate ÷ 100 × days ÷ 365`` for each stretch of days the balance stood;
- ``compound``: the same within a month; at every calendar month end (a *monthly rest*) the interest
  accrued so far is added to the balance it runs on;
- ``msmed``: the MSMED Act, 2006, section 16: compound with monthly rests at **three times the bank
  rate notified by the Reserve Bank** (``bank_rate``, per cent per year; a setting to keep current);
- ``none``: nothing.

Bases (``Terms.basis``):

- ``reducing`` (default): interest runs from the day after the due date on the balance left, each
  payment (allocation) reducing it from the day after its effective date; so after a part payment
  it runs on the reduced balance from the last payment;
- ``due_date``: interest runs on the item's whole amount from the due date until the day it is
  settled in full (part payments do not reduce it).

Day count actual/365 (also in leap years, the Indian commercial practice). Rounding: each period's
interest is rounded to the paisa, ``ROUND_HALF_UP`` (``ROUNDING``), so the breakdown adds up to the
total exactly; a compound rest capitalises the rounded figures.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal(0)
PAISA = Decimal("0.01")
ROUNDING = ROUND_HALF_UP
DAYS_IN_YEAR = Decimal(365)
MODES = ("none", "simple", "compound", "msmed")
BASES = ("reducing", "due_date")
MSMED_MULTIPLE = Decimal(3)


class InterestError(ValueError):
    pass


@dataclass(frozen=True)
class Terms:
    mode: str = "none"
    rate: Decimal = ZERO  # per cent per year (ignored for msmed: 3 x bank_rate)
    basis: str = "reducing"
    bank_rate: Decimal | None = None  # per cent per year, for msmed

    def __post_init__(self):
        if self.mode not in MODES:
            raise InterestError(f"unknown interest mode {self.mode!r} (one of {', '.join(MODES)})")
        if self.basis not in BASES:
            raise InterestError(f"unknown interest basis {self.basis!r} (one of {', '.join(BASES)})")
        if self.mode == "msmed" and (self.bank_rate is None or Decimal(self.bank_rate) <= 0):
            raise InterestError("the MSMED preset needs the RBI bank rate")
        if self.mode in ("simple", "compound") and Decimal(self.rate) < 0:
            raise InterestError("the interest rate cannot be negative")

    @property
    def annual_rate(self) -> Decimal:
        if self.mode == "msmed":
            return MSMED_MULTIPLE * Decimal(self.bank_rate)
        return ZERO if self.mode == "none" else Decimal(self.rate)

    @property
    def compounds(self) -> bool:
        return self.mode in ("compound", "msmed")


def msmed(bank_rate: Decimal) -> Terms:
    """The MSMED Act preset: three times the RBI bank rate, compounded with monthly rests."""
    return Terms(mode="msmed", bank_rate=Decimal(bank_rate))


@dataclass(frozen=True)
class Period:
    start: date  # first day interest runs
    end: date  # last day (inclusive)
    days: int
    balance: Decimal  # what the interest ran on (principal + capitalised interest)
    rate: Decimal  # per cent per year
    interest: Decimal  # rounded to the paisa
    rest: bool = False  # a monthly rest: the interest so far was added to the balance after this period


@dataclass
class ItemInterest:
    amount: Decimal
    due_date: date
    through: date
    terms: Terms
    periods: list[Period] = field(default_factory=list)

    @property
    def interest(self) -> Decimal:
        return sum((p.interest for p in self.periods), ZERO)

    @property
    def days(self) -> int:
        return sum(p.days for p in self.periods if p.balance > 0)


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def compute(amount: Decimal, due_date: date, payments: Iterable[tuple[date, Decimal]], through: date,
            terms: Terms, since: date | None = None) -> ItemInterest:
    """Interest on one item of ``amount`` due on ``due_date``, up to and including ``through``.

    ``payments``: (effective date, amount) of what was applied to it (a reversal is a negative
    amount). ``since``: interest was already charged up to and including this day; start after it.
    """
    amount = Decimal(amount)
    result = ItemInterest(amount, due_date, through, terms)
    rate = terms.annual_rate
    if terms.mode == "none" or rate == 0 or amount <= 0:
        return result
    paid: dict[date, Decimal] = {}
    for on, value in payments:
        paid[on] = paid.get(on, ZERO) + Decimal(value)
    first = due_date + timedelta(days=1)
    if since is not None:
        first = max(first, since + timedelta(days=1))
    if first > through:
        return result

    def principal_after(day: date) -> Decimal:
        """The item's balance at the end of ``day`` on the chosen basis."""
        left = amount - sum((v for d, v in paid.items() if d <= day), ZERO)
        if terms.basis == "due_date":
            return amount if left > 0 else ZERO
        return max(left, ZERO)

    # the days where something changes: payments, and month ends when compounding
    cuts = {d for d in paid if first <= d < through and principal_after(d) != principal_after(d - timedelta(days=1))}
    if terms.compounds:
        end = _month_end(first)
        while end < through:
            cuts.add(end)
            end = _month_end(end + timedelta(days=1))
    cuts.add(through)

    capitalised = ZERO  # interest added to the balance at past rests
    accrued = ZERO  # interest since the last rest
    start = first
    balance_day = first - timedelta(days=1)
    for cut in sorted(cuts):
        principal = principal_after(balance_day)
        days = (cut - start).days + 1
        base = principal + capitalised if principal > 0 else ZERO
        interest = (base * rate / 100 * days / DAYS_IN_YEAR).quantize(PAISA, ROUNDING)
        rest = terms.compounds and cut == _month_end(cut) and cut < through and base > 0
        result.periods.append(Period(start, cut, days, base, rate, interest, rest))
        accrued += interest
        if rest:
            capitalised += accrued
            accrued = ZERO
        if principal <= 0 and principal_after(cut) <= 0:
            # settled: nothing more accrues (interest already earned stays)
            capitalised = ZERO
        start = cut + timedelta(days=1)
        balance_day = cut
    result.periods = [p for p in result.periods if p.interest or p.balance]
    return result


def total(results: Iterable[ItemInterest]) -> Decimal:
    return sum((r.interest for r in results), ZERO)
