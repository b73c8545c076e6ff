"""Errors as values (``Problem``) and the named exceptions that carry them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input: where (file, row, field) and why."""

    message: str
    field: str = ""
    row: int | None = None
    source: str = ""

    def __str__(self) -> str:
        where = self.source
        if self.row is not None:
            where = f"{where}:{self.row}" if where else f"row {self.row}"
        head = f"{where}: " if where else ""
        fld = f"{self.field}: " if self.field else ""
        return f"{head}{fld}{self.message}"


class DuesError(Exception):
    """Base of every business-rule error; its message is meant for the person at the desk."""


class ValidationFailed(DuesError):
    """Input rejected as a whole; ``problems`` lists every reason found, not just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class OverAllocationError(DuesError):
    """An allocation larger than the residual of the credit or of the debit it links."""


class ClosedPeriodError(DuesError):
    """A posting dated on or before the period lock date."""


class AlreadyCancelledError(DuesError):
    """A document or allocation that was already reversed."""


class UnbalancedEntryError(DuesError):
    """A journal entry whose debits and credits differ."""


class PermissionDenied(DuesError):
    """The acting user's role does not allow the action (or the customer is not theirs to see)."""
