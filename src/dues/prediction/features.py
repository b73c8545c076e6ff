"""Features of an invoice, known on the day it is raised.

An invoice's features come from its own terms, amount and dates, and from its customer's invoices
*paid before its invoice date* (``Paid``): never from its own outcome or from anything later. Missing
figures (a new customer) are NaN, which the model handles natively.
"""

from __future__ import annotations

import statistics
from bisect import bisect_left
from dataclasses import dataclass
from datetime import date

NAN = float("nan")

FEATURES = (
    "terms_days", "paid_count", "mean_days", "median_days", "recent_median_days", "recent_mean_days", "last_days",
    "spread_days", "trend_days", "share_late", "mean_days_late", "recent_days_late",
)
DISPUTED_FEATURE = "disputed"
RECENT = 5


@dataclass(frozen=True)
class Paid:
    """One paid invoice of the customer: what the history of a later invoice may use."""

    invoice_date: date
    due_date: date
    paid_date: date
    amount: float

    @property
    def days(self) -> int:
        return (self.paid_date - self.invoice_date).days

    @property
    def late(self) -> int:
        return max(0, (self.paid_date - self.due_date).days)


class CustomerHistory:
    """A customer's paid invoices in order of payment, asked for those paid before a date."""

    def __init__(self, paid: list[Paid]):
        self.paid = sorted(paid, key=lambda p: (p.paid_date, p.invoice_date))
        self._dates = [p.paid_date for p in self.paid]

    def before(self, on: date) -> list[Paid]:
        return self.paid[: bisect_left(self._dates, on)]


def _median(xs):
    return float(statistics.median(xs)) if xs else NAN


def _mean(xs):
    return float(sum(xs) / len(xs)) if xs else NAN


def invoice_features(invoice_date: date, due_date: date, amount: float, paid: list[Paid],
                     disputed: bool | None = None) -> list[float]:
    """The feature row of one invoice; ``paid`` must be its customer's invoices paid before ``invoice_date``."""
    days = [p.days for p in paid]
    recent = days[-RECENT:]
    late = [p.late for p in paid]
    # The invoice's amount, calendar and the time since the last payment were tried too: on the IBM sample
    # they only added noise (docs/prediction.md).
    row = [
        float((due_date - invoice_date).days),
        float(len(paid)),
        _mean(days),
        _median(days),
        _median(recent),
        _mean(days[-3:]),
        float(days[-1]) if days else NAN,
        float(statistics.pstdev(days)) if len(days) > 1 else NAN,
        _median(recent) - _median(days) if days else NAN,
        _mean([1.0 if x > 0 else 0.0 for x in late]),
        _mean(late),
        _mean(late[-RECENT:]),
    ]
    if disputed is not None:
        row.append(1.0 if disputed else 0.0)
    return row
