"""Ageing and outstanding as of any date, in set-based SQL.

The residual of an open item on date X is its amount less the allocations effective by X. Reading
every allocation for every item would cost as much as the whole history, so the query starts from
today's residual (kept on the item) and adds back only the allocations effective *after* X:

    residual(X) = residual(today) + sum(allocations effective after X)

Items with nothing left today and no later allocations cannot be open on X and are never read;
a partial index keeps "residual > 0" items apart. Money is summed as integers of 1/10,000 of a unit
so SQLite (which stores decimals as doubles) adds exactly, like PostgreSQL's numeric.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import connection

from dues.companies.models import Company
from dues.core.ageing import DEFAULT_CUTOFFS, DUE, bucket_labels, bucket_ranges
from dues.core.errors import DuesError
from dues.core.money import ZERO, quantize
from dues.customers.models import Customer

SCALE = 10_000  # the database keeps four decimal places
GROUPS = {"customer": "c.code", "salesperson": "c.salesperson", "region": "c.region", "segment": "c.segment"}


@dataclass
class AgeingRow:
    key: str
    name: str
    buckets: dict[str, Decimal]
    unapplied: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return sum(self.buckets.values(), ZERO) + self.unapplied


@dataclass
class AgeingReport:
    as_of: date
    basis: str
    currency: str
    by: str
    columns: list[str]
    rows: list[AgeingRow] = field(default_factory=list)

    @property
    def totals(self) -> AgeingRow:
        total = AgeingRow("", "Total", {c: ZERO for c in self.columns})
        for row in self.rows:
            for c in self.columns:
                total.buckets[c] += row.buckets[c]
            total.unapplied += row.unapplied
        return total

    def as_dict(self) -> dict:
        def money(value: Decimal) -> str:
            return str(quantize(value, self.currency))

        totals = self.totals
        return {
            "as_of": self.as_of.isoformat(), "basis": self.basis, "currency": self.currency, "columns": self.columns,
            "rows": [{"key": r.key, "name": r.name, "buckets": {c: money(r.buckets[c]) for c in self.columns},
                      "unapplied": money(r.unapplied), "total": money(r.total)} for r in self.rows],
            "totals": {"buckets": {c: money(totals.buckets[c]) for c in self.columns},
                       "unapplied": money(totals.unapplied), "total": money(totals.total)},
        }


def _residuals_cte(as_of: str, company_id: int, customer_ids: Sequence[int] | None) -> tuple[str, list]:
    """SQL of (item id, customer, side, date, due_date, residual on as_of scaled to integers).

    ``customer_ids`` restricts it to those customers (a page of a list, one customer page).
    """
    cust, cust_args = "", []
    if customer_ids is not None:
        ids = list(customer_ids) or [0]
        cust = f" AND customer_id IN ({', '.join(['%s'] * len(ids))})"
        cust_args = ids
    sql = f"""
    later AS (
        SELECT item_id, SUM(CAST(ROUND(amount * {SCALE}) AS BIGINT)) AS back FROM (
            SELECT debit_item_id AS item_id, amount FROM ledger_allocation
             WHERE company_id = %s AND effective_date > %s
            UNION ALL
            SELECT credit_item_id AS item_id, amount FROM ledger_allocation
             WHERE company_id = %s AND effective_date > %s
        ) moved GROUP BY item_id
    ),
    open_then AS (
        SELECT oi.id, oi.customer_id, oi.side, oi.date, oi.due_date,
               CAST(ROUND(oi.residual * {SCALE}) AS BIGINT) + COALESCE(l.back, 0) AS residual
          FROM ledger_openitem oi LEFT JOIN later l ON l.item_id = oi.id
         WHERE oi.company_id = %s AND oi.residual > 0 AND oi.date <= %s{cust.replace('customer_id', 'oi.customer_id')}
        UNION ALL
        SELECT oi.id, oi.customer_id, oi.side, oi.date, oi.due_date, l.back AS residual
          FROM later l JOIN ledger_openitem oi ON oi.id = l.item_id
         WHERE oi.residual = 0 AND oi.date <= %s{cust.replace('customer_id', 'oi.customer_id')}
    )"""
    args = [company_id, as_of, company_id, as_of, company_id, as_of, *cust_args, as_of, *cust_args]
    return sql, args


def _bucket_case(as_of: date, cutoffs: Sequence[int], basis: str) -> tuple[str, list]:
    ref = "o.due_date" if basis == DUE else "o.date"
    whens, args = [], []
    for rng in bucket_ranges(as_of, cutoffs, basis)[:-1]:
        whens.append(f"WHEN {ref} >= %s THEN %s")
        args += [rng.earliest.isoformat(), rng.label]
    last = bucket_ranges(as_of, cutoffs, basis)[-1].label
    return f"CASE WHEN o.side = 'C' THEN 'unapplied' {' '.join(whens)} ELSE %s END", [*args, last]


def ageing(*, company: Company, as_of: date, basis: str = DUE, cutoffs: Sequence[int] = DEFAULT_CUTOFFS,
           by: str = "customer", customer: Customer | None = None, customer_ids: Sequence[int] | None = None,
           salesperson: str | None = None) -> AgeingReport:
    """Outstanding on ``as_of`` by bucket, one row per customer (or salesperson, region, segment).

    Narrowed to one ``customer``, to ``customer_ids``, or to the customers of one ``salesperson``.
    """
    if by not in GROUPS:
        raise DuesError(f"cannot group ageing by {by!r} (one of {', '.join(GROUPS)})")
    ids = [customer.pk] if customer else customer_ids
    cte, cte_args = _residuals_cte(as_of.isoformat(), company.pk, ids)
    case, case_args = _bucket_case(as_of, cutoffs, basis)
    key = GROUPS[by]
    name = "MIN(c.name)" if by == "customer" else "''"
    who, who_args = ("", []) if salesperson is None else (" AND LOWER(c.salesperson) = LOWER(%s)", [salesperson])
    sql = f"""WITH {cte}
        SELECT {key} AS k, {name} AS n, {case} AS bucket, SUM(o.residual)
          FROM open_then o JOIN customers_customer c ON c.id = o.customer_id
         WHERE o.residual <> 0{who}
         GROUP BY {key}, bucket"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [*cte_args, *case_args, *who_args])
        result = cursor.fetchall()
    columns = bucket_labels(cutoffs, basis)
    rows: dict[str, AgeingRow] = {}
    for k, n, bucket, scaled in result:
        k = k or "(none)"
        row = rows.setdefault(k, AgeingRow(k, n or "", {c: ZERO for c in columns}))
        amount = Decimal(int(scaled)) / SCALE
        if bucket == "unapplied":
            row.unapplied -= amount
        else:
            row.buckets[bucket] += amount
    return AgeingReport(as_of, basis, company.currency, by, columns, [rows[k] for k in sorted(rows)])


@dataclass
class OutstandingItem:
    number: str
    kind: str
    side: str
    date: date
    due_date: date
    amount: Decimal
    residual: Decimal
    days_overdue: int


def outstanding(*, company: Company, customer: Customer, as_of: date) -> list[OutstandingItem]:
    """A customer's open items on ``as_of``: debits oldest due first, then unapplied credits."""
    cte, args = _residuals_cte(as_of.isoformat(), company.pk, [customer.pk])
    sql = f"""WITH {cte}
        SELECT d.number, d.kind, o.side, o.date, o.due_date, oi.amount, o.residual
          FROM open_then o JOIN ledger_openitem oi ON oi.id = o.id JOIN ledger_document d ON d.id = oi.document_id
         WHERE o.residual <> 0
         ORDER BY o.side DESC, o.due_date, o.date, d.number"""
    with connection.cursor() as cursor:
        cursor.execute(sql, args)
        result = cursor.fetchall()
    items = []
    for number, kind, side, d, due, amount, scaled in result:
        d, due = _as_date(d), _as_date(due)
        items.append(OutstandingItem(number, kind, side, d, due, quantize(Decimal(str(amount)), company.currency),
                                     quantize(Decimal(int(scaled)) / SCALE, company.currency),
                                     max((as_of - due).days, 0) if side == "D" else 0))
    return items


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))
