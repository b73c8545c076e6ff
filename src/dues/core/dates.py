"""Accounting dates: parsing what people type, fiscal years. Dates are ``datetime.date``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$", re.ASCII)
_DMY = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$", re.ASCII)


def parse_date(value: str | date | datetime) -> date:
    """Parse ``YYYY-MM-DD``, ``DD-MM-YYYY``, ``DD/MM/YYYY`` (or ``DD.MM.YYYY``).

    A ``datetime`` (as spreadsheets hand over date cells) gives its date. Raises ``ValueError``
    with the text that failed.
    """
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    s = str(value).strip()
    m = _ISO.match(s)
    if m:
        y, mo, d = (int(g) for g in m.groups())
    else:
        m = _DMY.match(s)
        if not m:
            raise ValueError(f"not a date (use YYYY-MM-DD or DD-MM-YYYY): {value!r}")
        d, mo, y = (int(g) for g in m.groups())
    try:
        return date(y, mo, d)
    except ValueError as exc:
        raise ValueError(f"no such date: {value!r}") from exc


@dataclass(frozen=True, slots=True)
class FiscalYear:
    """A fiscal year [start, end] inclusive; ``label`` like ``2025-26`` or ``2026``."""

    start: date
    end: date

    @property
    def label(self) -> str:
        if self.start.year == self.end.year:
            return str(self.start.year)
        return f"{self.start.year}-{self.end.year % 100:02d}"


def fiscal_year(on: date, start_month: int = 4, start_day: int = 1) -> FiscalYear:
    """The fiscal year containing ``on`` for a year that starts on ``start_month``/``start_day``.

    India: April 1 (FY 2025-26 = 2025-04-01 .. 2026-03-31); a calendar year: January 1.
    """
    begin = date(on.year, start_month, start_day)
    if on < begin:
        begin = date(on.year - 1, start_month, start_day)
    nxt = date(begin.year + 1, start_month, start_day)
    return FiscalYear(begin, nxt - timedelta(days=1))
