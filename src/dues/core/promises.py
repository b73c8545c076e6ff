"""A promise to pay judged on a date: pure, no database.

A promise (amount, taken on, deadline = promised date + grace days) is judged on day D from the
payments that count for it as known on D: each dated, none cancelled or undone on or before D.
Payments count when dated from the day it was taken to its deadline, and not after D:

- **kept** when they reach the amount; it was kept on the day they first reached it;
- once D is past the deadline, **partly kept** when something came, else **broken** (judged on the
  day after the deadline);
- else still **open**.

A payment cancelled later (a bounced cheque) simply no longer counts from the day of the
cancellation: the promise is open again, or broken when its deadline has passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

OPEN, KEPT, PARTLY_KEPT, BROKEN = "open", "kept", "partly_kept", "broken"


@dataclass(frozen=True, slots=True)
class Judged:
    status: str
    received: Decimal
    settled_on: date | None


def judge(amount: Decimal, taken_on: date, deadline: date, payments, on: date) -> Judged:
    """The promise's status on ``on`` from ``payments`` ((date, amount) that count as known on ``on``)."""
    counted = sorted((d, a) for d, a in payments if taken_on <= d <= min(deadline, on))
    received = sum((a for _d, a in counted), Decimal(0))
    if received >= amount:
        running = Decimal(0)
        for d, a in counted:
            running += a
            if running >= amount:
                return Judged(KEPT, received, d)
    if on > deadline:
        return Judged(PARTLY_KEPT if received > 0 else BROKEN, received, deadline + timedelta(days=1))
    return Judged(OPEN, received, None)
