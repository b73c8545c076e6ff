"""Ageing and outstanding as of any date, in set-based SQL.

The residual of an open item on date X is its amount less the allocations effective by X. Reading
every allocation for every item would cost as much as the whole history, so the query starts from
today's residual (kept on the item) and adds back only the allocations effective *after* X:

    residual(X) = residual(today) + sum(allocations effective after X)

Items with nothing left today and no later allocations cannot be open on X and are never read;
a partial index keeps "residual > 0" items apart (the SQL spells it ``residual > '0'``, as the index's predicate is written: SQLite
uses a partial index only for a query that repeats its predicate term for term). Money is summed as integers of 1/10,000 of a unit
so SQLite (which stores decimals as doubles) adds exactly, like PostgreSQL's numeric.

The ageing report itself never needs an item's residual, only sums by bucket, so it sums the two terms
apart (``_ageing_sums``): today's residuals straight from a covering index, grouped as it is read, plus the
later allocations; the item-by-item form (``_residuals_cte``) serves the lists of items.

**Disputed** (``AgeingRow.disputed``): of the outstanding, how much is under dispute on ``as_of``. It
is a breakdown, not a deduction: the buckets still add up to the total, and ``disputed`` says how
much of it a customer contests. Per open debit item it is the sum of the disputes on its document
that were opened on or before ``as_of`` and not closed by then (open or in progress, or resolved /
rejected only after ``as_of``), capped at the item's residual on ``as_of``. One extra aggregated
query, read from the collections app's table in raw SQL (no import of its models).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import connection

from dues.companies.models import Company
from dues.core.ageing import DEFAULT_CUTOFFS, DUE, NOT_DUE, bucket_labels, bucket_ranges
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
    disputed: Decimal = ZERO  # of which under dispute: part of the buckets, not added to the total

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
            total.disputed += row.disputed
        return total

    def as_dict(self) -> dict:
        def money(value: Decimal) -> str:
            return str(quantize(value, self.currency))

        totals = self.totals
        return {
            "as_of": self.as_of.isoformat(), "basis": self.basis, "currency": self.currency, "columns": self.columns,
            "rows": [{"key": r.key, "name": r.name, "buckets": {c: money(r.buckets[c]) for c in self.columns},
                      "unapplied": money(r.unapplied), "total": money(r.total), "disputed": money(r.disputed)}
                     for r in self.rows],
            "totals": {"buckets": {c: money(totals.buckets[c]) for c in self.columns},
                       "unapplied": money(totals.unapplied), "total": money(totals.total),
                       "disputed": money(totals.disputed)},
        }


def _customers_in(column: str, customer_ids: Sequence[int] | None) -> tuple[str, list]:
    """SQL (`` AND column IN (...)``) and arguments restricting a query to ``customer_ids``; nothing for None."""
    if customer_ids is None:
        return "", []
    ids = list(customer_ids) or [0]
    return f" AND {column} IN ({', '.join(['%s'] * len(ids))})", ids


def _open_items_index(customer_ids: Sequence[int] | None) -> str:
    """On SQLite, when every customer is read, the covering index of open items: its planner passes it over for
    the narrower search index on residual and then reads the table row by row."""
    return " INDEXED BY open_item_open_cover" if connection.vendor == "sqlite" and customer_ids is None else ""


def _residuals_cte(as_of: str, company_id: int, customer_ids: Sequence[int] | None) -> tuple[str, list]:
    """SQL of (item id, customer, side, date, due_date, document id, residual on as_of scaled to integers).

    ``customer_ids`` restricts it to those customers (a page of a list, one customer page).
    """
    cust, cust_args = _customers_in("oi.customer_id", customer_ids)
    items_index = _open_items_index(customer_ids)
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
        SELECT oi.id, oi.customer_id, oi.side, oi.date, oi.due_date, oi.document_id,
               CAST(ROUND(oi.residual * {SCALE}) AS BIGINT) + COALESCE(l.back, 0) AS residual
          FROM ledger_openitem oi{items_index} LEFT JOIN later l ON l.item_id = oi.id
         WHERE oi.company_id = %s AND oi.residual > '0' AND oi.date <= %s{cust}
        UNION ALL
        SELECT oi.id, oi.customer_id, oi.side, oi.date, oi.due_date, oi.document_id, l.back AS residual
          FROM later l JOIN ledger_openitem oi ON oi.id = l.item_id
         WHERE oi.residual = 0 AND oi.date <= %s{cust}
    )"""
    args = [company_id, as_of, company_id, as_of, company_id, as_of, *cust_args, as_of, *cust_args]
    return sql, args


def _bucket_sums(as_of: date, cutoffs: Sequence[int], basis: str, side: str | None = None) -> tuple[str, list]:
    """SQL of one sum per bucket (``b0``...) and the unapplied credits (``bu``) over rows of (``side``, reference
    date ``ref``, scaled residual ``r``): a debit counts in the bucket whose bounds hold its reference date.

    ``side`` "D" or "C" when the rows are all of that side (the side's test is left out, the other side's sums
    are 0). FILTER rather than CASE: a row is added to the one sum it belongs to, not to every sum as a 0.
    """
    ranges = bucket_ranges(as_of, cutoffs, basis)
    sums, args = [], []
    for i, rng in enumerate(ranges):
        bounds = [] if side == "D" else ["side = 'D'"]
        if rng.earliest is not None:
            bounds.append("ref >= %s")
            args.append(rng.earliest.isoformat())
        if i > 0:  # the bucket before begins where this one ends (each range's lower bound, newest first)
            bounds.append("ref < %s")
            args.append(ranges[i - 1].earliest.isoformat())
        sums.append("0" if side == "C" else f"SUM(r) FILTER (WHERE {' AND '.join(bounds)})")
    sums.append("0" if side == "D" else "SUM(r)" if side == "C" else "SUM(r) FILTER (WHERE side = 'C')")
    names = [*(f"b{i}" for i in range(len(ranges))), "bu"]
    return ", ".join(f"{expression} AS {name}" for expression, name in zip(sums, names, strict=True)), \
        ([] if side == "C" else args)


def _ageing_sums(as_of: date, company_id: int, customer_ids: Sequence[int] | None, cutoffs: Sequence[int],
                 basis: str, one_row: bool = True) -> tuple[str, list, int]:
    """SQL of (customer_id, b0..bn, bu), one row per customer: its residuals on ``as_of`` summed by bucket (scaled to
    integers; a row may be all 0: only allocations and their reversals after ``as_of``), and the number of bucket
    columns; from the ageing summary when it fits (``dues.reporting.summary``), else from the ledger
    (``_ledger_sums``). Not ``one_row``: a customer may come in several rows, for a caller that groups them anyway
    (the ledger's rows are then not summed twice)."""
    from .summary import summary_sums

    buckets = len(bucket_ranges(as_of, cutoffs, basis))

    def ledger(ids, changed_only: bool = False) -> tuple[str, list]:
        sql, args, _n = _ledger_sums(as_of, company_id, ids, cutoffs, basis, changed_only)
        return (_per_customer(sql, buckets) if one_row else sql), args

    if customer_ids is None:
        found = summary_sums(company_id, as_of, cutoffs, basis, buckets, lambda changed: ledger(None, changed))
        if found is not None:
            return *found, buckets
    return *ledger(customer_ids), buckets


def _per_customer(sql: str, buckets: int) -> str:
    """``_ledger_sums``'s rows (several per customer) summed to one per customer."""
    names = [*(f"b{i}" for i in range(buckets)), "bu"]
    return f"""SELECT customer_id, {", ".join(f"COALESCE(SUM({n}), 0) AS {n}" for n in names)}
          FROM ({sql}) per_part GROUP BY customer_id"""


def _ledger_sums(as_of: date, company_id: int, customer_ids: Sequence[int] | None, cutoffs: Sequence[int],
                 basis: str, changed_only: bool = False) -> tuple[str, list, int]:
    """SQL of (customer_id, b0..bn, bu) from the ledger: each customer's residuals on ``as_of`` summed by bucket
    (scaled to integers), and the number of bucket columns. ``changed_only``: only the customers with a change
    the ageing summary has not taken in yet (``reporting_ageingchange``).

    The same arithmetic as ``_residuals_cte`` (today's residual plus the allocations effective after ``as_of``),
    summed rather than item by item: an item's residual on ``as_of`` is the sum of its residual today and of its
    later allocations, so the two parts are summed apart and added, and no item is joined to its allocations.
    Today's part reads the covering index of open items in its own order (company, side, customer), one side at
    a time, so SQLite groups it as it scans, without sorting (the planner is told the index when every customer
    is aged: left to itself it takes the narrower search index on residual and reads the table row by row); the
    later allocations' part reads their covering index. A customer may come in several rows; sum them.
    """
    ref = "due_date" if basis == DUE else "date"
    debits, debit_args = _bucket_sums(as_of, cutoffs, basis, "D")
    credits, credit_args = _bucket_sums(as_of, cutoffs, basis, "C")
    both, both_args = _bucket_sums(as_of, cutoffs, basis)
    cust, cust_args = _customers_in("oi.customer_id", customer_ids)
    items_index = _open_items_index(customer_ids)
    if changed_only:
        cust = (" AND oi.customer_id IN (SELECT ch.customer_id FROM reporting_ageingchange ch"
                " WHERE ch.company_id = %s)")
        cust_args, items_index = [company_id], ""
    allocations_index = " INDEXED BY allocation_effective_cover" if connection.vendor == "sqlite" else ""
    iso = as_of.isoformat()
    today = f"""
            SELECT oi.customer_id, oi.{ref} AS ref, CAST(ROUND(oi.residual * {SCALE}) AS BIGINT) AS r
              FROM ledger_openitem oi{items_index}
             WHERE oi.company_id = %s AND oi.side = %s AND oi.residual > '0' AND oi.date <= %s{cust}"""
    # the allocations effective after as_of, each on both of its items (the debit's and the credit's)
    items = ("debit_item_id", "credit_item_id")
    later = f"""
            SELECT oi.side, oi.customer_id, oi.{ref} AS ref, CAST(ROUND(a.amount * {SCALE}) AS BIGINT) AS r
              FROM ledger_allocation a{allocations_index} JOIN ledger_openitem oi ON oi.id = a.ITEM
             WHERE a.company_id = %s AND a.effective_date > %s AND oi.date <= %s{cust}"""
    sql = f"""
        SELECT customer_id, {debits} FROM ({today}) debits GROUP BY customer_id
        UNION ALL
        SELECT customer_id, {credits} FROM ({today}) credits GROUP BY customer_id
        UNION ALL
        SELECT customer_id, {both} FROM ({" UNION ALL ".join(later.replace("a.ITEM", f"a.{item}") for item in items)}) later
         GROUP BY side, customer_id"""
    args = [*debit_args, company_id, "D", iso, *cust_args,
            *credit_args, company_id, "C", iso, *cust_args,
            *both_args, *([company_id, iso, iso, *cust_args] * len(items))]
    return sql, args, len(bucket_ranges(as_of, cutoffs, basis))


def _any_disputed(cursor, company_id: int, as_of: str) -> bool:
    """Whether any dispute counts on ``as_of`` (an indexed probe: a book without disputes pays nothing more)."""
    from django.apps import apps

    if not apps.is_installed("dues.collections"):
        return False
    cursor.execute("""SELECT 1 FROM collections_dispute WHERE company_id = %s AND opened_on <= %s
                         AND (status IN ('open', 'in_progress') OR resolved_on > %s) LIMIT 1""",
                   [company_id, as_of, as_of])
    return cursor.fetchone() is not None


def _disputed_sql(cte: str, group: str | None, as_of: str, company_id: int, who: str) -> tuple[str, list]:
    """SQL of (group, disputed on ``as_of`` scaled to integers): see the module doc. ``cte`` and ``who``
    are those of the ageing query; the caller appends their arguments. ``group`` None: one total row."""
    sql = f"""WITH {cte},
        disputed AS (
            SELECT document_id, SUM(CAST(ROUND(amount * {SCALE}) AS BIGINT)) AS amt FROM collections_dispute
             WHERE company_id = %s AND opened_on <= %s
               AND (status IN ('open', 'in_progress') OR resolved_on > %s)
             GROUP BY document_id
        )
        SELECT {group or "'all'"} AS k,
               SUM(CASE WHEN ds.amt < o.residual THEN ds.amt ELSE o.residual END)
          FROM open_then o JOIN disputed ds ON ds.document_id = o.document_id
          JOIN customers_customer c ON c.id = o.customer_id
         WHERE o.side = 'D' AND o.residual > 0{who}
         {f"GROUP BY {group}" if group else ""}"""
    return sql, [company_id, as_of, as_of]


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
           salesperson: str | None = None, disputed: bool = True) -> AgeingReport:
    """Outstanding on ``as_of`` by bucket, one row per customer (or salesperson, region, segment).

    Narrowed to one ``customer``, to ``customer_ids``, or to the customers of one ``salesperson``.
    With ``disputed`` (the default) each row also carries what of it is under dispute (module doc).
    """
    if by not in GROUPS:
        raise DuesError(f"cannot group ageing by {by!r} (one of {', '.join(GROUPS)})")
    ids = [customer.pk] if customer else customer_ids
    parts, parts_args, buckets = _ageing_sums(as_of, company.pk, ids, cutoffs, basis, one_row=False)
    key = GROUPS[by]
    name = "MIN(c.name)" if by == "customer" else "''"
    who, who_args = ("", []) if salesperson is None else (" WHERE LOWER(c.salesperson) = LOWER(%s)", [salesperson])
    totals = ", ".join([*(f"SUM(p.b{i})" for i in range(buckets)), "SUM(p.bu)"])
    sql = f"""SELECT {key} AS k, {name} AS n, {totals}
          FROM ({parts}) p JOIN customers_customer c ON c.id = p.customer_id{who}
         GROUP BY {key}"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [*parts_args, *who_args])
        result = cursor.fetchall()
    columns = bucket_labels(cutoffs, basis)
    rows: dict[str, AgeingRow] = {}
    for k, n, *scaled in result:
        if not any(scaled):  # only allocations and their reversals after as_of: nothing open then
            continue
        k = k or "(none)"
        amounts = [Decimal(int(a)) / SCALE if a else ZERO for a in scaled]
        row = rows.get(k)
        if row is None:  # grouped by key: each key once, but for the customers without a region, segment, ...
            rows[k] = AgeingRow(k, n or "", dict(zip(columns, amounts, strict=False)), -amounts[-1])
            continue
        for column, amount in zip(columns, amounts, strict=False):
            row.buckets[column] += amount
        row.unapplied -= amounts[-1]
    if disputed and rows:
        cte, cte_args = _residuals_cte(as_of.isoformat(), company.pk, ids)
        and_who = "" if salesperson is None else " AND LOWER(c.salesperson) = LOWER(%s)"
        with connection.cursor() as cursor:
            if _any_disputed(cursor, company.pk, as_of.isoformat()):
                dsql, dargs = _disputed_sql(cte, key, as_of.isoformat(), company.pk, and_who)
                cursor.execute(dsql, [*cte_args, *dargs, *who_args])
                for k, scaled in cursor.fetchall():
                    row = rows.get(k or "(none)")
                    if row is not None and scaled:
                        row.disputed += Decimal(int(scaled)) / SCALE
    return AgeingReport(as_of, basis, company.currency, by, columns, [rows[k] for k in sorted(rows)])


@dataclass
class AgeingSummary:
    """What a page of the ageing report by customer needs besides its rows: the customers with a
    balance (ids, in the report's order: by code) and the report's totals, both exactly as ``ageing``
    would give them, without building a row per customer."""

    as_of: date
    columns: list[str]
    customer_ids: list[int]
    totals: AgeingRow


def ageing_summary(*, company: Company, as_of: date, basis: str = DUE, cutoffs: Sequence[int] = DEFAULT_CUTOFFS,
                   salesperson: str | None = None) -> AgeingSummary:
    """The customers that ``ageing(by="customer")`` has a row for, in its order, and its totals, without building
    a row per customer: each customer's bucket sums (``_ageing_sums``: the ageing summary when there is one)
    totalled and listed in one statement. Page the ids and age only the page's customers with
    ``ageing(customer_ids=...)``.
    """
    columns = bucket_labels(cutoffs, basis)
    parts, parts_args, buckets = _ageing_sums(as_of, company.pk, None, cutoffs, basis)
    who, who_args = ("", []) if salesperson is None else (" WHERE LOWER(c.salesperson) = LOWER(%s)", [salesperson])
    names = [*(f"b{i}" for i in range(buckets)), "bu"]
    # one row of totals (kind 0), then every customer with something open (kind 1): as ``ageing`` keeps a row
    sql = f"""WITH per AS MATERIALIZED (
            SELECT p.*, c.code FROM ({parts}) p JOIN customers_customer c ON c.id = p.customer_id{who})
        SELECT 0, NULL, NULL, {", ".join(f"SUM({n})" for n in names)} FROM per
        UNION ALL
        SELECT 1, customer_id, code, {", ".join(["0"] * len(names))} FROM per
         WHERE {" OR ".join(f"{n} <> 0" for n in names)}"""
    totals = AgeingRow("", "Total", {c: ZERO for c in columns})
    found = []
    with connection.cursor() as cursor:
        cursor.execute(sql, [*parts_args, *who_args])
        for kind, customer_id, code, *scaled in cursor.fetchall():
            if kind == 1:
                found.append((customer_id, code))
                continue
            for column, amount in zip(columns, scaled, strict=False):
                totals.buckets[column] = Decimal(int(amount or 0)) / SCALE
            totals.unapplied = -Decimal(int(scaled[buckets] or 0)) / SCALE
        if _any_disputed(cursor, company.pk, as_of.isoformat()):
            cte, cte_args = _residuals_cte(as_of.isoformat(), company.pk, None)
            and_who = "" if salesperson is None else " AND LOWER(c.salesperson) = LOWER(%s)"
            dsql, dargs = _disputed_sql(cte, None, as_of.isoformat(), company.pk, and_who)
            cursor.execute(dsql, [*cte_args, *dargs, *who_args])
            totals.disputed = sum((Decimal(int(scaled)) / SCALE for _k, scaled in cursor.fetchall() if scaled), ZERO)
    found.sort(key=lambda row: row[1] or "(none)")  # the order of ``ageing``'s rows (Python's, not a collation's)
    return AgeingSummary(as_of, columns, [row[0] for row in found], totals)


@dataclass
class AgeingOverview:
    """The dashboard's view of the ageing by customer, summed in the database: the totals (no disputed part),
    how many customers owe and how many are overdue, and the ids of the ``top`` most overdue."""

    as_of: date
    columns: list[str]
    totals: AgeingRow
    customers_owing: int
    customers_overdue: int
    most_overdue: list[tuple[int, str]]  # (id, code)


def ageing_overview(*, company: Company, as_of: date, basis: str = DUE, cutoffs: Sequence[int] = DEFAULT_CUTOFFS,
                    salesperson: str | None = None, top: int = 10) -> AgeingOverview:
    """What ``ageing(by="customer")`` would give a dashboard, without a row per customer: one query sums each
    customer's buckets (``_ageing_sums``), then totals and counts them and picks the most overdue (overdue
    amount descending, then code) in the same statement. "Owing" is a positive sum of open invoices, "overdue"
    a positive sum of the buckets past due, as in ``dues.web.selectors.balance_of``.
    """
    columns = bucket_labels(cutoffs, basis)
    parts, parts_args, buckets = _ageing_sums(as_of, company.pk, None, cutoffs, basis)
    # the customers are read for the salesperson's only, and for the codes of the most overdue
    who, who_args = ("", []) if salesperson is None else (
        " JOIN customers_customer c ON c.id = p.customer_id WHERE LOWER(c.salesperson) = LOWER(%s)", [salesperson])
    late = [f"b{i}" for i, label in enumerate(columns) if label != NOT_DUE] or ["0"]
    owing, overdue = " + ".join(f"b{i}" for i in range(buckets)), " + ".join(late)
    # one row of totals and counts (kind 0), then the most overdue customers (kind 1) in their order: those whose
    # overdue reaches the ``top``-th largest (ties included), joined to their codes and cut to ``top``
    sql = f"""WITH per AS MATERIALIZED (
            SELECT p.*, {overdue} AS late FROM ({parts}) p{who})
        SELECT 0, NULL, NULL, {", ".join(f"SUM(b{i})" for i in range(buckets))}, SUM(bu),
               SUM(CASE WHEN {owing} > 0 THEN 1 ELSE 0 END), SUM(CASE WHEN late > 0 THEN 1 ELSE 0 END)
          FROM per
        UNION ALL
        SELECT * FROM (
            SELECT 1, per.customer_id, c.code, {", ".join(["0"] * buckets)}, 0, 0, 0
              FROM per JOIN customers_customer c ON c.id = per.customer_id
             WHERE per.late > 0 AND per.late >= (SELECT COALESCE(MIN(late), 0) FROM (
                   SELECT late FROM per WHERE late > 0 ORDER BY late DESC LIMIT %s) tenth)
             ORDER BY per.late DESC, c.code LIMIT %s) most"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [*parts_args, *who_args, top, top])
        result = cursor.fetchall()
    totals = AgeingRow("", "Total", {c: ZERO for c in columns})
    owing_count = overdue_count = 0
    most: list[tuple[int, str]] = []
    for kind, customer_id, code, *scaled in result:
        if kind == 1:
            most.append((customer_id, code))
            continue
        for column, amount in zip(columns, scaled, strict=False):
            totals.buckets[column] = Decimal(int(amount or 0)) / SCALE
        totals.unapplied = -Decimal(int(scaled[buckets] or 0)) / SCALE
        owing_count, overdue_count = int(scaled[-2] or 0), int(scaled[-1] or 0)
    return AgeingOverview(as_of, columns, totals, owing_count, overdue_count, most)


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


@dataclass
class OpenBill:
    customer_id: int
    code: str
    name: str
    number: str
    residual: Decimal  # signed: a debit's residual, or less an unapplied credit's


def open_bills(*, company: Company, as_of: date) -> list[OpenBill]:
    """Every customer's open items on ``as_of``, by document number (one query, the ageing's residuals):
    what a bill-wise outstanding report of another system should list."""
    cte, args = _residuals_cte(as_of.isoformat(), company.pk, None)
    sql = f"""WITH {cte}
        SELECT o.customer_id, c.code, c.name, d.number, o.side, o.residual
          FROM open_then o JOIN ledger_document d ON d.id = o.document_id
          JOIN customers_customer c ON c.id = o.customer_id
         WHERE o.residual <> 0
         ORDER BY c.code, d.number"""
    with connection.cursor() as cursor:
        cursor.execute(sql, args)
        rows = cursor.fetchall()
    return [OpenBill(cid, code, name, number,
                     quantize(Decimal(int(scaled)) / SCALE, company.currency) * (1 if side == "D" else -1))
            for cid, code, name, number, side, scaled in rows]


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


@dataclass
class AgeingItem:
    """One open item on ``as_of`` as the ageing drill-down shows it (credits with a negative residual)."""

    number: str
    kind: str
    side: str
    customer_code: str
    customer_name: str
    date: date
    due_date: date
    residual: Decimal
    bucket: str
    days_overdue: int
    age_days: int


class AgeingItems:
    """The open items behind one ageing cell, read lazily: ``count()``, ``total()`` and slices each run
    one set-based query (so a paginator reads only the page shown, and the figures match ``ageing``).

    ``key`` is the group (customer code, salesperson, region, segment; ``(none)`` for a blank one) or
    None for every group; ``bucket`` a column label, ``unapplied``, or None for the whole row.
    """

    def __init__(self, *, company: Company, as_of: date, basis: str = DUE, cutoffs: Sequence[int] = DEFAULT_CUTOFFS,
                 by: str = "customer", key: str | None = None, bucket: str | None = None,
                 salesperson: str | None = None):
        if by not in GROUPS:
            raise DuesError(f"cannot group ageing by {by!r} (one of {', '.join(GROUPS)})")
        columns = bucket_labels(cutoffs, basis)
        if bucket is not None and bucket not in (*columns, "unapplied"):
            raise DuesError(f"no bucket {bucket!r} (one of {', '.join([*columns, 'unapplied'])})")
        self.company, self.as_of, self.basis, self.bucket = company, as_of, basis, bucket
        ids = None
        if by == "customer" and key is not None:  # one customer: read only its items
            ids = list(Customer.objects.filter(company=company, code=key).values_list("pk", flat=True))
        cte, cte_args = _residuals_cte(as_of.isoformat(), company.pk, ids)
        case, case_args = _bucket_case(as_of, cutoffs, basis)
        where, where_args = ["o.residual <> 0"], []
        if key is not None:
            col = GROUPS[by]
            if key == "(none)":
                where.append(f"({col} IS NULL OR {col} = '' OR {col} = %s)")
            else:
                where.append(f"{col} = %s")
            where_args.append(key)
        if salesperson is not None:
            where.append("LOWER(c.salesperson) = LOWER(%s)")
            where_args.append(salesperson)
        filtered = key is not None or salesperson is not None  # the filters above read the customer (``c``)
        customers = " JOIN customers_customer c ON c.id = o.customer_id" if filtered else ""
        self._from = f"""WITH {cte}, aged AS (
            SELECT o.id, o.customer_id, o.side, o.date, o.due_date, o.document_id, o.residual, {case} AS bucket
              FROM open_then o{customers}
             WHERE {' AND '.join(where)}
        )"""
        self._args = [*cte_args, *case_args, *where_args]
        self._filter, self._filter_args = ("", []) if bucket is None else (" WHERE a.bucket = %s", [bucket])
        self._count: int | None = None
        self._total: Decimal | None = None

    def _run(self, select: str, tail: str = "", extra: Sequence = ()) -> list[tuple]:
        sql = f"{self._from} SELECT {select} FROM aged a{self._filter}{tail}"
        return _cached_rows(sql, [*self._args, *self._filter_args, *extra])

    def _summarise(self) -> None:
        ((count, debit, credit),) = self._run(
            "COUNT(*), COALESCE(SUM(CASE WHEN a.side = 'D' THEN a.residual ELSE 0 END), 0), "
            "COALESCE(SUM(CASE WHEN a.side = 'C' THEN a.residual ELSE 0 END), 0)")
        self._count = int(count)
        self._total = quantize((Decimal(int(debit)) - Decimal(int(credit))) / SCALE, self.company.currency)

    def count(self) -> int:
        if self._count is None:
            self._summarise()
        return self._count

    def total(self) -> Decimal:
        """Debits less credits: the figure in the ageing cell these items make up."""
        if self._total is None:
            self._summarise()
        return self._total

    def __len__(self) -> int:
        return self.count()

    def fetch(self, limit: int | None = None, offset: int = 0) -> list[AgeingItem]:
        tail = " ORDER BY a.side DESC, a.due_date, a.date, d.number, a.id"
        extra: list = []
        if limit is not None:
            tail += " LIMIT %s OFFSET %s"
            extra = [limit, offset]
        rows = self._fetch(tail, extra)
        items = []
        for number, kind, side, code, name, d, due, scaled, bucket in rows:
            d, due = _as_date(d), _as_date(due)
            residual = quantize(Decimal(int(scaled)) / SCALE, self.company.currency)
            items.append(AgeingItem(number, kind, side, code, name, d, due, residual if side == "D" else -residual,
                                    bucket, max((self.as_of - due).days, 0) if side == "D" else 0,
                                    (self.as_of - d).days))
        return items

    def _fetch(self, tail: str, extra: Sequence) -> list[tuple]:
        # the page is picked (sorted, cut) before the customers' names are joined: 50 lookups, not 178,000
        sql = f"""{self._from}
            SELECT p.number, p.kind, p.side, c.code, c.name, p.date, p.due_date, p.residual, p.bucket FROM (
                SELECT d.number, d.kind, a.side, a.customer_id, a.date, a.due_date, a.residual, a.bucket, a.id
                  FROM aged a JOIN ledger_document d ON d.id = a.document_id{self._filter}{tail}) p
              JOIN customers_customer c ON c.id = p.customer_id
             ORDER BY p.side DESC, p.due_date, p.date, p.number, p.id"""
        return _cached_rows(sql, [*self._args, *self._filter_args, *extra])

    def __getitem__(self, index):
        if isinstance(index, slice):
            start, stop = index.start or 0, index.stop
            if index.step not in (None, 1) or start < 0 or (stop is not None and stop < 0):
                raise ValueError("only forward slices")
            return self.fetch(None if stop is None else max(stop - start, 0), start)
        found = self.fetch(1, index)
        if not found:
            raise IndexError(index)
        return found[0]

    def __iter__(self):
        return iter(self.fetch())


ITEMS_CACHE_SECONDS = 6 * 3600


def _cached_rows(sql: str, args: Sequence) -> list[tuple]:
    """The rows of a drill-down query (its count and total, or one page), kept under the audit log's
    head: a change to the books moves it, so a repeat view (the same cell, the same page) reads nothing
    again and is never older than the books."""
    from django.core.cache import cache

    from dues.audit.selectors import audit_head_version

    digest = hashlib.sha256(repr((sql, list(args))).encode()).hexdigest()[:40]
    key = f"dues:ageing-items:{digest}:{audit_head_version()}"
    rows = cache.get(key)
    if rows is None:
        with connection.cursor() as cursor:
            cursor.execute(sql, list(args))
            rows = cursor.fetchall()
        cache.set(key, rows, timeout=ITEMS_CACHE_SECONDS)
    return rows


def ageing_items(*, company: Company, as_of: date, basis: str = DUE, cutoffs: Sequence[int] = DEFAULT_CUTOFFS,
                 by: str = "customer", key: str | None = None, bucket: str | None = None,
                 salesperson: str | None = None) -> AgeingItems:
    """The open items behind an ageing cell (``key`` x ``bucket``), in the same SQL as ``ageing``."""
    return AgeingItems(company=company, as_of=as_of, basis=basis, cutoffs=cutoffs, by=by, key=key, bucket=bucket,
                       salesperson=salesperson)


# ---------------------------------------------------------------------------------------------
# statement of account, DSO (countback), the month-end trend, customers ordered by balance
# (the dashboard and customer pages; each is one set-based query)


def _scaled(value) -> Decimal:
    return Decimal(int(value or 0)) / SCALE


def _iso(d: date) -> str:
    return d.isoformat()


@dataclass
class StatementLine:
    date: date
    kind: str
    number: str
    description: str
    debit: Decimal
    credit: Decimal
    balance: Decimal
    reversal: bool = False


@dataclass
class Statement:
    """A customer's statement of account for [start, end]: every open item (document or reversal)."""

    start: date
    end: date
    opening: Decimal
    lines: list[StatementLine]

    @property
    def debits(self) -> Decimal:
        return sum((ln.debit for ln in self.lines), ZERO)

    @property
    def credits(self) -> Decimal:
        return sum((ln.credit for ln in self.lines), ZERO)

    @property
    def closing(self) -> Decimal:
        return self.opening + self.debits - self.credits


def statement_of_account(*, company: Company, customer: Customer, start: date, end: date) -> Statement:
    """Opening balance before ``start``, each document or reversal dated in [start, end], closing balance.

    Read from the bill-wise items (every posted document and every cancellation's counter-item),
    whose debits less credits dated by X equal the ageing total on X: allocations move money
    between a customer's own items and never change the balance.
    """
    amount = f"CAST(ROUND(oi.amount * {SCALE}) AS BIGINT)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT SUM(CASE WHEN oi.side = 'D' THEN {amount} ELSE -{amount} END) FROM ledger_openitem oi
                 WHERE oi.company_id = %s AND oi.customer_id = %s AND oi.date < %s""",
            [company.pk, customer.pk, _iso(start)])
        opening = _scaled(cursor.fetchone()[0])
        cursor.execute(
            f"""SELECT oi.date, d.kind, d.number, oi.side, {amount}, oi.reversal_of_id, d.reference, d.cancel_reason
                  FROM ledger_openitem oi JOIN ledger_document d ON d.id = oi.document_id
                 WHERE oi.company_id = %s AND oi.customer_id = %s AND oi.date >= %s AND oi.date <= %s
                 ORDER BY oi.date, oi.id""",
            [company.pk, customer.pk, _iso(start), _iso(end)])
        result = cursor.fetchall()
    lines, balance = [], opening
    for on, kind, number, side, scaled, reversal_of, reference, reason in result:
        value = _scaled(scaled)
        debit, credit = (value, ZERO) if side == "D" else (ZERO, value)
        balance += debit - credit
        title = kind.replace("_", " ").capitalize()
        if reversal_of:
            description = f"Cancellation of {kind.replace('_', ' ')} {number}" + (f": {reason}" if reason else "")
        else:
            description = f"{title} {number}" + (f" · {reference}" if reference else "")
        lines.append(StatementLine(_as_date(on), kind, number, description, debit, credit, balance,
                                   reversal_of is not None))
    return Statement(start, end, opening, lines)


BALANCE_SORTS = ("outstanding", "overdue", "credit_use")
NARROW_SORT = 10_000  # up to this many customers found by a search are aged by id, not the whole book


def customer_ids_by_balance(*, company: Company, as_of: date, within, sort: str, descending: bool,
                            limit: int, offset: int = 0) -> list[int]:
    """Ids of the customers in ``within`` (a Customer queryset) ordered by their balance on ``as_of``.

    ``sort``: ``outstanding``, ``overdue`` (due basis) or ``credit_use`` (outstanding over the
    credit limit; customers without a limit last). Every customer's balance is summed in the
    database, ties in code order. The whole order (ids only) is kept under the audit log's head,
    which every change to the books moves: paging or re-sorting the same list reads no balances again.
    """
    if sort not in BALANCE_SORTS:
        raise DuesError(f"cannot order customers by {sort!r} (one of {', '.join(BALANCE_SORTS)})")
    from django.core.cache import cache

    from dues.audit.selectors import audit_head_version

    inner, inner_args = within.values("id").query.sql_with_params()
    digest = hashlib.sha256(repr((inner, inner_args)).encode()).hexdigest()[:32]
    key = (f"dues:balance-order:{company.pk}:{_iso(as_of)}:{sort}:{int(descending)}:{digest}:"
           f"{audit_head_version()}")
    ordered = cache.get(key)
    if ordered is None:
        ordered = _ids_by_balance(company=company, as_of=as_of, within=within, sort=sort, descending=descending)
        cache.set(key, ordered, timeout=BALANCE_CACHE_SECONDS)
    return ordered[offset:offset + limit]


BALANCE_CACHE_SECONDS = 6 * 3600


def _ids_by_balance(*, company: Company, as_of: date, within, sort: str, descending: bool) -> list[int]:
    ids = None
    if within.query.where:  # a search: age only the customers it found, if they are not too many
        ids = list(within.values_list("id", flat=True)[:NARROW_SORT + 1])
        ids = ids if len(ids) <= NARROW_SORT else None
    cte, cte_args = _residuals_cte(_iso(as_of), company.pk, ids)
    inner, inner_args = within.values("id").query.sql_with_params()
    key = {
        "outstanding": "COALESCE(b.outstanding, 0)",
        "overdue": "COALESCE(b.overdue, 0)",
        "credit_use": "CASE WHEN c.credit_limit > 0 THEN COALESCE(b.outstanding, 0) * 1.0 / c.credit_limit END",
    }[sort]
    direction = "DESC" if descending else "ASC"
    sql = f"""WITH {cte},
        bal AS (
            SELECT o.customer_id,
                   SUM(CASE WHEN o.side = 'D' THEN o.residual ELSE -o.residual END) AS outstanding,
                   SUM(CASE WHEN o.side = 'D' AND o.due_date < %s THEN o.residual ELSE 0 END) AS overdue
              FROM open_then o GROUP BY o.customer_id
        )
        SELECT c.id FROM customers_customer c LEFT JOIN bal b ON b.customer_id = c.id
         WHERE c.company_id = %s AND c.id IN ({inner})
         ORDER BY ({key}) IS NULL, {key} {direction}, c.code"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [*cte_args, _iso(as_of), company.pk, *inner_args])
        return [row[0] for row in cursor.fetchall()]
