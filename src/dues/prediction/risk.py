"""Risk grade A–E of a customer from its figures, with the reasons in words and the suggested action.

Pure: ``dues.risk.services.recompute_risk`` gathers the figures from the ledger. Each factor that trips
adds points and a reason; the grade is read from the total (see docs/risk.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

GRADES = ("A", "B", "C", "D", "E")
ACTIONS = {
    "A": "none: keep the usual terms",
    "B": "friendly reminder before the due date",
    "C": "call the customer and take a promise to pay; review the credit limit",
    "D": "stop further credit until the overdue is paid; escalate to the AR manager",
    "E": "put on credit hold, demand payment in full, consider legal notice",
}


@dataclass
class RiskFigures:
    outstanding: Decimal = Decimal(0)
    overdue: Decimal = Decimal(0)
    days_beyond_terms_recent: float | None = None  # mean over invoices paid in the last 90 days
    days_beyond_terms_before: float | None = None  # mean over those paid 91 to 365 days ago
    max_days_overdue: int = 0  # the oldest open invoice's days past due
    promises_kept: int = 0
    promises_broken: int = 0
    bounced: int = 0  # returned bank credits and cancelled cheque receipts, last 365 days
    disputes: int = 0  # raised in the last 365 days
    disputes_active: int = 0
    credit_limit: Decimal | None = None
    book_total: Decimal = Decimal(0)  # the company's whole outstanding, for concentration


@dataclass
class Grade:
    grade: str
    points: int
    reasons: list[str] = field(default_factory=list)

    @property
    def action(self) -> str:
        return ACTIONS[self.grade]


def _days(x: float) -> str:
    return f"{x:.0f} day{'s' if round(x) != 1 else ''}"


def grade(f: RiskFigures) -> Grade:
    points, reasons = 0, []

    def add(n: int, reason: str) -> None:
        nonlocal points
        points += n
        reasons.append(reason)

    recent, before = f.days_beyond_terms_recent, f.days_beyond_terms_before
    if recent is not None:
        if recent > 30:
            add(3, f"pays {_days(recent)} beyond terms on average (last 90 days)")
        elif recent > 10:
            add(1, f"pays {_days(recent)} beyond terms on average (last 90 days)")
        if before is not None and recent - before > 7:
            add(1, f"paying slower: {_days(recent)} beyond terms against {_days(before)} before")
    if f.max_days_overdue > 90:
        add(3, f"an invoice is {f.max_days_overdue} days overdue")
    elif f.max_days_overdue > 30:
        add(1, f"an invoice is {f.max_days_overdue} days overdue")
    if f.outstanding > 0 and f.overdue / f.outstanding > Decimal("0.5"):
        add(1, f"{f.overdue / f.outstanding:.0%} of what it owes is overdue")
    if f.promises_broken:
        add(min(3, f.promises_broken), f"broke {f.promises_broken} of {f.promises_broken + f.promises_kept} promises to pay")
    if f.bounced:
        add(min(4, 2 * f.bounced), f"{f.bounced} cheque{'s' if f.bounced > 1 else ''} or bank credit{'s' if f.bounced > 1 else ''} returned in the last year")
    if f.disputes_active:
        add(1, f"{f.disputes_active} dispute{'s' if f.disputes_active > 1 else ''} open")
    elif f.disputes >= 3:
        add(1, f"{f.disputes} disputes in the last year")
    if f.credit_limit and f.credit_limit > 0:
        use = f.outstanding / f.credit_limit
        if use > 1:
            add(2, f"over its credit limit: {use:.0%} used")
        elif use > Decimal("0.9"):
            add(1, f"near its credit limit: {use:.0%} used")
    if f.book_total > 0 and f.outstanding / f.book_total > Decimal("0.1"):
        add(1, f"concentration: {f.outstanding / f.book_total:.0%} of all receivables")
    level = 0 if points == 0 else 1 if points <= 2 else 2 if points <= 4 else 3 if points <= 6 else 4
    return Grade(GRADES[level], points, reasons or ["pays on time; nothing against it"])
