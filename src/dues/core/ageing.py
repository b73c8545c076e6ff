"""Ageing buckets and the pure ageing of open items.

Basis ``due``: days overdue = as-of minus due date; an item due on or after the as-of date is
``not_due``, then ``1-30``, ``31-60`` ... with inclusive upper bounds and a last open bucket
(``120+``). Basis ``invoice``: age = as-of minus document date, buckets ``0-30``, ``31-60`` ... and
no ``not_due``. Unapplied credits are never bucketed; they are reported apart (negative).

The SQL selectors bucket by comparing dates with the bounds from ``bucket_ranges`` (so the same
rule holds on every database); ``age_items`` is the same rule in Python, for tests and checks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from .money import ZERO

DUE = "due"
INVOICE = "invoice"
BASES = (DUE, INVOICE)
DEFAULT_CUTOFFS = (30, 60, 90, 120)
NOT_DUE = "not_due"


def parse_cutoffs(text: str) -> tuple[int, ...]:
    """``"30,60,90,120"`` -> (30, 60, 90, 120); strictly increasing positive integers."""
    try:
        cuts = tuple(int(p) for p in text.split(",") if p.strip())
    except ValueError as exc:
        raise ValueError(f"buckets must be whole days like 30,60,90: {text!r}") from exc
    if not cuts or cuts[0] <= 0 or any(b <= a for a, b in zip(cuts, cuts[1:], strict=False)):
        raise ValueError(f"buckets must be increasing positive days like 30,60,90: {text!r}")
    return cuts


def bucket_labels(cutoffs: Sequence[int] = DEFAULT_CUTOFFS, basis: str = DUE) -> list[str]:
    first = 1 if basis == DUE else 0
    labels = [NOT_DUE] if basis == DUE else []
    low = first
    for cut in cutoffs:
        labels.append(f"{low}-{cut}")
        low = cut + 1
    labels.append(f"{cutoffs[-1]}+")
    return labels


def bucket_for(age_days: int, cutoffs: Sequence[int] = DEFAULT_CUTOFFS, basis: str = DUE) -> str:
    """The bucket of an item ``age_days`` old (overdue days on the due basis)."""
    labels = bucket_labels(cutoffs, basis)
    if basis == DUE:
        if age_days <= 0:
            return NOT_DUE
        labels = labels[1:]
    for label, cut in zip(labels, cutoffs, strict=False):
        if age_days <= cut:
            return label
    return labels[-1]


@dataclass(frozen=True, slots=True)
class BucketRange:
    """Items whose reference date (due or document date) lies in [earliest, latest] fall here."""

    label: str
    earliest: date | None
    latest: date | None


def bucket_ranges(as_of: date, cutoffs: Sequence[int] = DEFAULT_CUTOFFS, basis: str = DUE) -> list[BucketRange]:
    """Date bounds of every bucket, newest first, for a database to compare reference dates with."""
    labels = bucket_labels(cutoffs, basis)
    ranges: list[BucketRange] = []
    if basis == DUE:
        ranges.append(BucketRange(NOT_DUE, as_of, None))
        labels = labels[1:]
        low = 1
    else:
        low = 0
    for label, cut in zip(labels, cutoffs, strict=False):
        ranges.append(BucketRange(label, as_of - timedelta(days=cut), as_of - timedelta(days=low)))
        low = cut + 1
    ranges.append(BucketRange(labels[-1], None, as_of - timedelta(days=low)))
    return ranges


@dataclass(frozen=True, slots=True)
class AgeItem:
    """An open item as ageing sees it. ``side`` is ``D`` (debit: owed to us) or ``C`` (credit)."""

    key: str
    side: str
    document_date: date
    due_date: date
    residual: Decimal


@dataclass
class AgeRow:
    key: str
    buckets: dict[str, Decimal]
    unapplied: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return sum(self.buckets.values(), ZERO) + self.unapplied


@dataclass
class AgeTotals:
    labels: list[str]
    rows: dict[str, AgeRow] = field(default_factory=dict)

    def row(self, key: str) -> AgeRow:
        if key not in self.rows:
            self.rows[key] = AgeRow(key, {label: ZERO for label in self.labels})
        return self.rows[key]


def age_items(
    items: Iterable[AgeItem],
    as_of: date,
    cutoffs: Sequence[int] = DEFAULT_CUTOFFS,
    basis: str = DUE,
) -> AgeTotals:
    """Bucket residuals of debit items by age; credit residuals go to ``unapplied`` (negative)."""
    totals = AgeTotals(bucket_labels(cutoffs, basis))
    for item in items:
        if item.document_date > as_of or item.residual == 0:
            continue
        row = totals.row(item.key)
        if item.side == "C":
            row.unapplied -= item.residual
            continue
        ref = item.due_date if basis == DUE else item.document_date
        row.buckets[bucket_for((as_of - ref).days, cutoffs, basis)] += item.residual
    return totals
