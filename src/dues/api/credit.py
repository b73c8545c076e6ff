"""The credit check for order and dispatch systems: may this customer take an order of this amount today?

``dues.credit`` does not exist on main yet, so the rule lives here, small and pure over the ledger:
exposure = what the customer owes today (open debits less unapplied credits) + the order's amount,
against the customer's credit limit (none: no limit), and no item overdue beyond the allowed days.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from dues.core.money import ZERO
from dues.reporting.selectors import outstanding

ALLOWED_OVERDUE_DAYS = 30


@dataclass
class CreditCheck:
    customer: str
    as_of: date
    amount: Decimal
    credit_limit: Decimal | None
    outstanding: Decimal
    exposure: Decimal
    available: Decimal | None
    overdue: Decimal
    oldest_overdue_days: int
    allowed_overdue_days: int
    reasons: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.reasons


def credit_check(*, company, customer, amount: Decimal, on: date,
                 allowed_overdue_days: int = ALLOWED_OVERDUE_DAYS) -> CreditCheck:
    items = outstanding(company=company, customer=customer, as_of=on)
    debits = [i for i in items if i.side == "D"]
    owed = sum((i.residual for i in debits), ZERO) - sum((i.residual for i in items if i.side == "C"), ZERO)
    overdue_items = [i for i in debits if i.days_overdue > 0]
    overdue = sum((i.residual for i in overdue_items), ZERO)
    oldest = max((i.days_overdue for i in overdue_items), default=0)
    exposure = owed + amount
    limit = customer.credit_limit
    check = CreditCheck(customer.code, on, amount, limit, owed, exposure,
                        None if limit is None else limit - exposure, overdue, oldest, allowed_overdue_days)
    if limit is not None and exposure > limit:
        check.reasons.append(f"exposure {exposure:.2f} is over the credit limit {limit:.2f}")
    if oldest > allowed_overdue_days:
        check.reasons.append(f"an item is {oldest} days overdue (allowed {allowed_overdue_days})")
    return check
