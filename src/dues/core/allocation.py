"""Allocation rules: a credit (receipt, credit note) clears debits (invoices, debit notes).

An allocation is never larger than what is left on either side. ``oldest_first`` is the plan a
person gets from the "oldest first" button and an import without explicit allocations would get.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from decimal import Decimal

from .errors import OverAllocationError
from .money import ZERO


def check_allocation(amount: Decimal, credit_residual: Decimal, debit_residual: Decimal,
                     credit_ref: str = "credit", debit_ref: str = "debit") -> None:
    """Raise unless ``0 < amount <= min(credit_residual, debit_residual)``."""
    if amount <= 0:
        raise OverAllocationError(f"allocation of {amount} to {debit_ref} must be positive")
    if amount > credit_residual:
        raise OverAllocationError(
            f"allocating {amount} from {credit_ref} exceeds what is left on it ({credit_residual})")
    if amount > debit_residual:
        raise OverAllocationError(
            f"allocating {amount} to {debit_ref} exceeds what is outstanding on it ({debit_residual})")


def oldest_first(available: Decimal, debits: Sequence[tuple[Hashable, Decimal]]) -> list[tuple[Hashable, Decimal]]:
    """Spend ``available`` on ``debits`` (already ordered oldest first) until it runs out."""
    plan: list[tuple[Hashable, Decimal]] = []
    left = available
    for key, residual in debits:
        if left <= ZERO:
            break
        take = min(left, residual)
        if take > ZERO:
            plan.append((key, take))
            left -= take
    return plan
