"""Payment terms: from a document date to its due date."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

NET = "net"
END_OF_MONTH = "eom"


@dataclass(frozen=True, slots=True)
class PaymentTerms:
    """``net`` N: due N days after the document date. ``eom`` N: N days after its month ends."""

    kind: str = NET
    days: int = 0

    def __post_init__(self) -> None:
        if self.kind not in (NET, END_OF_MONTH):
            raise ValueError(f"unknown payment terms {self.kind!r} (use net or eom)")
        if self.days < 0:
            raise ValueError("payment term days cannot be negative")

    def due_date(self, document_date: date) -> date:
        if self.kind == NET:
            return document_date + timedelta(days=self.days)
        last = calendar.monthrange(document_date.year, document_date.month)[1]
        return date(document_date.year, document_date.month, last) + timedelta(days=self.days)

    def __str__(self) -> str:
        return f"Net {self.days}" if self.kind == NET else f"End of month + {self.days}"
