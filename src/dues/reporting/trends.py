"""The book over time, in set-based SQL: its balances on many dates at once (``balances_at``: the dashboard's
twelve-month trend, the KPIs' month-ends) and DSO by the countback method.

The same identity as the ageing of ``dues.reporting.selectors``: an item's residual on a date is today's
residual plus the allocations effective after that date, so one pass over today's open items and the later
allocations gives every date asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import connection

from dues.companies.models import Company
from dues.core.money import ZERO

from .selectors import SCALE, _iso, _scaled


def _day_before(d: date) -> date:
    return date.fromordinal(d.toordinal() - 1)


def _month_start(d: date, back: int = 0) -> date:
    month = d.year * 12 + d.month - 1 - back
    return date(month // 12, month % 12 + 1, 1)


@dataclass
class DsoPeriod:
    start: date
    end: date
    days: int
    sales: Decimal
    counted_days: Decimal
    absorbed: Decimal


@dataclass
class Dso:
    """Days sales outstanding by the countback method.

    The outstanding on the as-of date is counted back against each month's credit sales (invoices
    and debit notes, not cancelled by then), newest first: a month whose sales it covers counts
    all its days; the month where it runs out counts the share of its days that the remainder is of
    its sales. The days counted are the DSO.
    """

    as_of: date
    outstanding: Decimal
    days: Decimal
    periods: list[DsoPeriod]
    exhausted: bool  # the sales of every month looked at did not cover the outstanding


def dso_countback(*, company: Company, as_of: date, outstanding: Decimal, salesperson: str | None = None,
                  months: int = 24) -> Dso:
    """DSO on ``as_of`` by countback over at most ``months`` months of credit sales (one query)."""
    starts = [_month_start(as_of, k) for k in range(months)]
    whens, args = [], []
    for k, s in enumerate(starts):
        whens.append("WHEN d.date >= %s THEN %s")
        args += [_iso(s), k]
    who, who_args = ("", []) if salesperson is None else (
        " AND d.customer_id IN (SELECT id FROM customers_customer WHERE company_id = %s"
        " AND LOWER(salesperson) = LOWER(%s))", [company.pk, salesperson])
    sql = f"""SELECT CASE {' '.join(whens)} END AS m, SUM(CAST(ROUND(d.amount * {SCALE}) AS BIGINT))
                FROM ledger_document d
               WHERE d.company_id = %s AND d.kind IN ('invoice', 'debit_note') AND d.date >= %s AND d.date <= %s
                 AND (d.status = 'posted' OR d.cancelled_on > %s){who}
               GROUP BY m"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [*args, company.pk, _iso(starts[-1]), _iso(as_of), _iso(as_of), *who_args])
        sales = {int(m): _scaled(v) for m, v in cursor.fetchall()}
    remaining, total, periods = outstanding, ZERO, []
    for k, s in enumerate(starts):
        if remaining <= 0:
            break
        end = as_of if k == 0 else _day_before(_month_start(as_of, k - 1))
        days = (end - s).days + 1
        month_sales = sales.get(k, ZERO)
        if month_sales <= remaining:
            counted, absorbed = Decimal(days), month_sales
        else:
            counted, absorbed = Decimal(days) * remaining / month_sales, remaining
        remaining -= absorbed
        total += counted
        periods.append(DsoPeriod(s, end, days, month_sales, counted, absorbed))
    return Dso(as_of, outstanding, total.quantize(Decimal("0.1")) if total else ZERO, periods, remaining > 0)


@dataclass
class TrendPoint:
    on: date
    outstanding: Decimal
    overdue: Decimal


def trend_points(as_of: date, months: int = 12) -> list[date]:
    """The ``months - 1`` month-ends before ``as_of``, oldest first, then ``as_of`` itself."""
    ends = [_day_before(_month_start(as_of, k)) for k in range(months - 2, -1, -1)]
    return [*ends, as_of]


def _index_case(column: str, points: Sequence[date], op: str) -> tuple[str, list]:
    """``CASE WHEN column <op> p0 THEN 0 WHEN column <op> p1 THEN 1 ... ELSE 99 END``: the first point it meets."""
    whens, args = [], []
    for k, p in enumerate(points):
        whens.append(f"WHEN {column} {op} %s THEN {k}")
        args.append(_iso(p))
    return f"CASE {' '.join(whens)} ELSE 99 END", args


@dataclass(frozen=True, slots=True)
class Balances:
    """The book on one date: open debits (gross receivables), open credits, and the debits past their due date."""

    on: date
    debits: Decimal
    credits: Decimal
    overdue: Decimal

    @property
    def outstanding(self) -> Decimal:
        return self.debits - self.credits


def balances_at(*, company: Company, points: Sequence[date], salesperson: str | None = None) -> list[Balances]:
    """The book's balances on each of ``points`` (ascending), in one query whatever their number.

    The same identity as ``ageing``: an item's residual on X is today's residual plus the
    allocations effective after X. Today's open items and the allocations effective after the first
    point are grouped by which points their date, due date and allocation date fall before; each
    point then sums the groups that count on it (at most a few hundred rows come back). Equal, date by
    date, to the totals of ``ageing_summary`` (debits: the buckets; overdue: all but "not due").
    """
    if list(points) != sorted(points):
        raise ValueError("balances_at: the points must be in ascending order")
    first, last = _iso(points[0]), _iso(points[-1])
    di, di_args = _index_case("oi.date", points, "<=")
    ui, ui_args = _index_case("oi.due_date", points, "<")
    ei, ei_args = _index_case("a.effective_date", points, "<=")
    who, who_args = ("", []) if salesperson is None else (
        " AND oi.customer_id IN (SELECT id FROM customers_customer WHERE company_id = %s"
        " AND LOWER(salesperson) = LOWER(%s))", [company.pk, salesperson])
    sql = f"""
        SELECT oi.side, {di} AS di, {ui} AS ui, 99 AS ei, SUM(CAST(ROUND(oi.residual * {SCALE}) AS BIGINT))
          FROM ledger_openitem oi
         WHERE oi.company_id = %s AND oi.residual > '0' AND oi.date <= %s{who}
         GROUP BY oi.side, di, ui
        UNION ALL
        SELECT oi.side, {di} AS di, {ui} AS ui, {ei} AS ei, SUM(CAST(ROUND(a.amount * {SCALE}) AS BIGINT))
          FROM (SELECT debit_item_id AS item_id, amount, effective_date FROM ledger_allocation
                 WHERE company_id = %s AND effective_date > %s
                UNION ALL
                SELECT credit_item_id AS item_id, amount, effective_date FROM ledger_allocation
                 WHERE company_id = %s AND effective_date > %s) a
          JOIN ledger_openitem oi ON oi.id = a.item_id
         WHERE oi.date <= %s{who}
         GROUP BY oi.side, di, ui, ei"""
    args = [*di_args, *ui_args, company.pk, last, *who_args,
            *di_args, *ui_args, *ei_args, company.pk, first, company.pk, first, last, *who_args]
    with connection.cursor() as cursor:
        cursor.execute(sql, args)
        groups = cursor.fetchall()
    debits = [0] * len(points)
    credits = [0] * len(points)
    due = [0] * len(points)
    for side, d_idx, u_idx, e_idx, scaled in groups:
        for k in range(int(d_idx), min(int(e_idx), len(points))):
            if side == "D":
                debits[k] += int(scaled)
                if k >= int(u_idx):
                    due[k] += int(scaled)
            else:
                credits[k] += int(scaled)
    return [Balances(p, Decimal(d) / SCALE, Decimal(c) / SCALE, Decimal(v) / SCALE)
            for p, d, c, v in zip(points, debits, credits, due, strict=True)]


def outstanding_trend(*, company: Company, as_of: date, months: int = 12,
                      salesperson: str | None = None) -> list[TrendPoint]:
    """Outstanding (debits less credits) and overdue (due basis) on each of ``trend_points``, in one query."""
    return [TrendPoint(b.on, b.outstanding, b.overdue)
            for b in balances_at(company=company, points=trend_points(as_of, months), salesperson=salesperson)]
