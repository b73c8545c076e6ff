"""TDS on our receipts against Form 26AS, per customer (by TAN) and quarter of the Indian fiscal year.

Pure: the caller hands in our TDS already summed per customer and quarter, the 26AS transaction
lines, and which customer holds which TAN. Each (TAN, quarter) is one row:

- ``matched``: our TDS and the tax deducted in 26AS agree within the rounding tolerance (one rupee
  per deduction on the larger side, since TDS is often rounded to the rupee). Many receipts against
  one 26AS line, or the other way round, match by their quarter totals.
- ``deducted_not_in_26as``: the customer deducted more than 26AS shows (they have not filed or have
  filed under another PAN/quarter): follow up with the customer.
- ``in_26as_not_recorded``: 26AS shows more than we recorded: book the TDS against their receipts.
- 26AS lines whose TAN is on no customer are listed apart (``unknown_tans``): set the TAN on the
  customer, or it is a deductor we do not know.

The figures tie: ours - deducted_not_in_26as + in_26as_not_recorded + rounding = theirs matched to
customers, and that + unknown TAN = all of 26AS for the year.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from dues.core.dates import FiscalYear

MATCHED = "matched"
DEDUCTED_NOT_IN_26AS = "deducted_not_in_26as"
NOT_RECORDED = "in_26as_not_recorded"
STATUSES = (MATCHED, DEDUCTED_NOT_IN_26AS, NOT_RECORDED)
ROUNDING = Decimal("1.00")
ZERO = Decimal("0.00")


def fy_quarter(on: date) -> int:
    """1 for April-June, 2 July-September, 3 October-December, 4 January-March."""
    return (on.month - 4) % 12 // 3 + 1


def calendar_to_fy_quarter(q: int) -> int:
    """Calendar quarter (1 = Jan-Mar) to the Indian fiscal quarter (1 = Apr-Jun)."""
    return (q + 2) % 4 + 1


def fiscal_year_of(label: str) -> FiscalYear:
    """'2025-26' -> 1 Apr 2025 .. 31 Mar 2026."""
    head, _, tail = label.strip().partition("-")
    if not (head.isdigit() and len(head) == 4 and tail.isdigit() and int(tail) % 100 == (int(head) + 1) % 100):
        raise ValueError(f"not a fiscal year: {label!r} (like 2025-26)")
    start = int(head)
    return FiscalYear(date(start, 4, 1), date(start + 1, 3, 31))


@dataclass(frozen=True, slots=True)
class OurQuarter:
    """Our TDS on one customer's receipts in one quarter."""

    customer: str
    name: str
    tan: str
    quarter: int
    tds: Decimal
    receipts: int


@dataclass(frozen=True, slots=True)
class Line:
    """A Form 26AS transaction line, as far as the reconciliation needs it."""

    tan: str
    deductor: str
    section: str
    date: date
    status: str
    amount: Decimal
    tds: Decimal
    row: int


@dataclass
class Row:
    tan: str
    quarter: int
    customers: list[str]
    name: str
    ours: Decimal = ZERO
    theirs: Decimal = ZERO
    receipts: int = 0
    lines: list[Line] = field(default_factory=list)
    status: str = MATCHED
    explanation: str = ""
    unmatched_receipts: list[str] = field(default_factory=list)

    @property
    def difference(self) -> Decimal:
        """26AS less ours: positive when 26AS shows more."""
        return self.theirs - self.ours

    @property
    def not_final(self) -> Decimal:
        """Tax deducted on lines not yet final in 26AS (U: deposit not matched, O: overbooked)."""
        return sum((ln.tds for ln in self.lines if ln.status in ("U", "O")), ZERO)

    @property
    def sections(self) -> list[str]:
        return sorted({ln.section for ln in self.lines})


@dataclass
class UnknownTan:
    tan: str
    deductor: str
    quarter: int
    amount: Decimal
    tds: Decimal
    rows: list[int]
    suggestion: str = ""


@dataclass
class TdsReconciliation:
    fy: FiscalYear
    tolerance: Decimal
    rows: list[Row]
    unknown_tans: list[UnknownTan]
    outside_year: list[Line]

    def total(self, what: str) -> Decimal:
        if what == "ours":
            return sum((r.ours for r in self.rows), ZERO)
        if what == "theirs":
            return sum((r.theirs for r in self.rows), ZERO)
        if what == "rounding":
            return sum((r.difference for r in self.rows if r.status == MATCHED), ZERO)
        if what == MATCHED:
            return sum((r.ours for r in self.rows if r.status == MATCHED), ZERO)
        if what == DEDUCTED_NOT_IN_26AS:
            return sum((-r.difference for r in self.rows if r.status == DEDUCTED_NOT_IN_26AS), ZERO)
        if what == NOT_RECORDED:
            return sum((r.difference for r in self.rows if r.status == NOT_RECORDED), ZERO)
        if what == "unknown_tan":
            return sum((u.tds for u in self.unknown_tans), ZERO)
        raise KeyError(what)

    def totals(self) -> dict[str, Decimal]:
        names = ("ours", MATCHED, DEDUCTED_NOT_IN_26AS, NOT_RECORDED, "rounding", "theirs", "unknown_tan")
        out = {n: self.total(n) for n in names}
        out["26as"] = out["theirs"] + out["unknown_tan"]
        return out

    def ties(self) -> bool:
        t = self.totals()
        return t["ours"] - t[DEDUCTED_NOT_IN_26AS] + t[NOT_RECORDED] + t["rounding"] == t["theirs"]

    def by_customer(self) -> list[dict]:
        """Totals per customer (or group of customers sharing a TAN) over the year."""
        acc: dict[str, dict] = {}
        for r in self.rows:
            key = ", ".join(r.customers)
            a = acc.setdefault(key, {"customer": key, "name": r.name, "tan": r.tan, "ours": ZERO, "theirs": ZERO,
                                     MATCHED: ZERO, DEDUCTED_NOT_IN_26AS: ZERO, NOT_RECORDED: ZERO})
            a["ours"] += r.ours
            a["theirs"] += r.theirs
            if r.status == MATCHED:
                a[MATCHED] += r.ours
            elif r.status == DEDUCTED_NOT_IN_26AS:
                a[DEDUCTED_NOT_IN_26AS] -= r.difference
            else:
                a[NOT_RECORDED] += r.difference
        return sorted(acc.values(), key=lambda a: a["customer"])

    def to_follow_up(self) -> list[Row]:
        return [r for r in self.rows if r.status == DEDUCTED_NOT_IN_26AS]


def _money(v: Decimal) -> str:
    return f"{v:,.2f}"


def reconcile_tds(ours: Iterable[OurQuarter], lines: Iterable[Line], tans: Mapping[str, Sequence[tuple[str, str]]],
                  fy: FiscalYear, tolerance: Decimal = ROUNDING) -> TdsReconciliation:
    """Reconcile; ``tans`` maps each TAN to the (code, name) of the customers carrying it."""
    rows: dict[tuple[str, int], Row] = {}
    unknown: dict[tuple[str, int], UnknownTan] = {}
    outside: list[Line] = []

    def row_for(tan: str, quarter: int, customers: list[str], name: str) -> Row:
        key = (tan or f"no TAN: {customers[0]}", quarter)
        if key not in rows:
            rows[key] = Row(tan=tan, quarter=quarter, customers=customers, name=name)
        return rows[key]

    for o in ours:
        holders = tans.get(o.tan) if o.tan else None
        codes = [c for c, _ in holders] if holders else [o.customer]
        r = row_for(o.tan, o.quarter, codes, holders[0][1] if holders else o.name)
        r.ours += o.tds
        r.receipts += o.receipts
    for ln in lines:
        if not fy.start <= ln.date <= fy.end:
            outside.append(ln)
            continue
        q = fy_quarter(ln.date)
        holders = tans.get(ln.tan)
        if not holders:
            u = unknown.setdefault((ln.tan, q), UnknownTan(ln.tan, ln.deductor, q, ZERO, ZERO, []))
            u.amount += ln.amount
            u.tds += ln.tds
            u.rows.append(ln.row)
            continue
        r = row_for(ln.tan, q, [c for c, _ in holders], holders[0][1])
        r.theirs += ln.tds
        r.lines.append(ln)

    for r in rows.values():
        allowed = tolerance * max(1, r.receipts, len(r.lines))
        diff = r.difference
        quarter = f"Q{r.quarter}"
        if not r.tan:
            r.status = DEDUCTED_NOT_IN_26AS
            r.explanation = (f"{_money(r.ours)} deducted on {r.receipts} receipt(s) in {quarter}, but the customer has "
                             f"no TAN: add it to the customer to match Form 26AS")
        elif abs(diff) <= allowed:
            r.status = MATCHED
            r.explanation = (f"{r.receipts} receipt(s) and {len(r.lines)} 26AS line(s) agree"
                             + (f" (rounding {_money(diff)})" if diff else ""))
        elif diff < 0:
            r.status = DEDUCTED_NOT_IN_26AS
            r.explanation = (f"customer deducted {_money(r.ours)} in {quarter}, 26AS shows {_money(r.theirs)}: "
                             f"ask them to file or correct their TDS return for {_money(-diff)}")
        else:
            r.status = NOT_RECORDED
            r.explanation = (f"26AS shows {_money(r.theirs)} in {quarter}, we recorded {_money(r.ours)}: "
                             f"book TDS of {_money(diff)} against their receipts")
        if r.status != MATCHED and r.not_final:
            r.explanation += f"; {_money(r.not_final)} of it is not final in 26AS (status U/O)"

    # a shortfall in one quarter and an excess of the same size in a neighbouring one: the customer
    # deducted in another quarter than our receipt (e.g. on crediting the invoice, before paying)
    by_tan: dict[str, list[Row]] = defaultdict(list)
    for r in rows.values():
        if r.tan:
            by_tan[r.tan].append(r)
    for group in by_tan.values():
        for a in group:
            for b in group:
                if (a.status == DEDUCTED_NOT_IN_26AS and b.status == NOT_RECORDED and abs(a.quarter - b.quarter) == 1
                        and abs(-a.difference - b.difference) <= tolerance * 2):
                    a.explanation += f"; 26AS shows the same amount in Q{b.quarter}: likely a quarter timing difference"
                    b.explanation += f"; we recorded the same amount in Q{a.quarter}: likely a quarter timing difference"

    ordered = sorted(rows.values(), key=lambda r: (r.customers[0], r.quarter))
    unknowns = sorted(unknown.values(), key=lambda u: (u.tan, u.quarter))
    return TdsReconciliation(fy, tolerance, ordered, unknowns, outside)


def pair_receipts(row: Row, receipts: Sequence[tuple[str, date, Decimal]], tolerance: Decimal = ROUNDING) -> list[str]:
    """The receipts of ``row`` (number, date, tds) that no 26AS line of the row accounts for, one to one
    by amount within ``tolerance`` (earliest first). Names what to chase when the totals differ."""
    left = sorted(row.lines, key=lambda ln: (ln.date, ln.row))
    unmatched = []
    for number, _on, tds in sorted(receipts, key=lambda x: (x[1], x[0])):
        hit = next((ln for ln in left if abs(ln.tds - tds) <= tolerance), None)
        if hit is None:
            unmatched.append(number)
        else:
            left.remove(hit)
    return unmatched
