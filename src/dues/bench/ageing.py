"""Ageing benchmark: the real selector on the configured database against DuckDB on the same rows.

1. ``load_ageing`` writes a seeded ledger of N open items (and ~2N settled) into a fresh database.
2. ``dues.reporting.selectors.ageing(by="customer")`` is timed as of the workload's last day and as of
   a date six months earlier (which has to add back the allocations made since): one warm-up run,
   then the best of three.
3. The open items, allocations and customers are exported flat to CSV, read into DuckDB tables
   (timed apart: ``load_seconds``), and DuckDB computes the ageing *by definition*: an item's
   residual on a date is its amount less every allocation effective by then, bucketed on the due
   date with the bounds of ``dues.core.ageing.bucket_ranges``. Best of three after a warm-up.
4. Both results must agree to the paisa, bucket by bucket, for every customer and for the totals,
   on both dates.
"""

from __future__ import annotations

import csv
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.db import connection

from dues.core.ageing import DEFAULT_CUTOFFS, DUE, bucket_labels, bucket_ranges

from .workload import AS_OF, load_ageing

PAISA = Decimal("0.01")
UNAPPLIED = "unapplied"


def best_of(fn: Callable[[], object], runs: int = 3) -> tuple[float, object]:
    """One warm-up call, then the fastest of ``runs`` timed calls (and the last result)."""
    result = fn()
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


# ---------------------------------------------------------------------------------------------
# export and DuckDB


def _export_sqlite(sql: str, args: list, target: Path, header: list[str]) -> int:
    connection.ensure_connection()
    raw = connection.connection.cursor()  # plain values: amounts as SQLite stores them (float or int)
    count = 0
    try:
        raw.execute(sql, args)
        with target.open("w", newline="", encoding="utf-8") as f:
            out = csv.writer(f)
            out.writerow(header)
            while rows := raw.fetchmany(100_000):
                out.writerows(rows)  # csv writes a float by repr(): the shortest text that reads back the same
                count += len(rows)
    finally:
        raw.close()
    return count


def _export_postgresql(sql: str, company_id: int, target: Path) -> None:
    query = sql.replace("%s", str(int(company_id)))
    with (connection.cursor() as cursor, target.open("wb") as f,
          cursor.cursor.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER)") as copy):
        for block in copy:
            f.write(block)


EXPORTS = {
    "customers": ("SELECT id, code FROM customers_customer WHERE company_id = %s ORDER BY id", ["id", "code"]),
    "open_items": ("SELECT id, customer_id, side, date, due_date, amount, residual FROM ledger_openitem "
                   "WHERE company_id = %s ORDER BY id",
                   ["id", "customer_id", "side", "date", "due_date", "amount", "residual"]),
    "allocations": ("SELECT id, credit_item_id, debit_item_id, amount, effective_date FROM ledger_allocation "
                    "WHERE company_id = %s ORDER BY id",
                    ["id", "credit_item_id", "debit_item_id", "amount", "effective_date"]),
}
DUCK_TYPES = {
    "customers": {"id": "BIGINT", "code": "VARCHAR"},
    "open_items": {"id": "BIGINT", "customer_id": "BIGINT", "side": "VARCHAR", "date": "DATE", "due_date": "DATE",
                   "amount": "DECIMAL(20,4)", "residual": "DECIMAL(20,4)"},
    "allocations": {"id": "BIGINT", "credit_item_id": "BIGINT", "debit_item_id": "BIGINT", "amount": "DECIMAL(20,4)",
                    "effective_date": "DATE"},
}


def export_csv(company_id: int, directory: Path) -> dict[str, Path]:
    """The rows the ageing reads, flat, one CSV per table."""
    paths = {}
    for name, (sql, header) in EXPORTS.items():
        path = directory / f"{name}.csv"
        if connection.vendor == "postgresql":
            _export_postgresql(sql, company_id, path)
        else:
            _export_sqlite(sql.replace("%s", "?"), [company_id], path, header)
        paths[name] = path
    return paths


def duckdb_load(paths: dict[str, Path]):
    import duckdb

    duck = duckdb.connect()
    for name, path in paths.items():
        columns = ", ".join(f"'{c}': '{t}'" for c, t in DUCK_TYPES[name].items())
        duck.execute(f"CREATE TABLE {name} AS SELECT * FROM read_csv('{path}', header = true, "
                     f"columns = {{{columns}}})")
    return duck


def _lit(d: date) -> str:
    return f"DATE '{d.isoformat()}'"


def _bucket_case(as_of: date, cutoffs) -> str:
    whens = []
    for r in bucket_ranges(as_of, cutoffs, DUE):
        bounds = ([f"due_date >= {_lit(r.earliest)}"] if r.earliest else []) + \
                 ([f"due_date <= {_lit(r.latest)}"] if r.latest else [])
        whens.append(f"WHEN {' AND '.join(bounds)} THEN '{r.label}'")
    return f"CASE WHEN r.side = 'C' THEN '{UNAPPLIED}' {' '.join(whens)} ELSE 'no bucket' END"


def _by_customer(residuals: str, as_of: date, cutoffs) -> str:
    return f"""
        SELECT c.code, {_bucket_case(as_of, cutoffs)} AS bucket,
               SUM(CASE WHEN r.side = 'C' THEN -r.residual ELSE r.residual END) AS amount
          FROM ({residuals}) r JOIN customers c ON c.id = r.customer_id
         WHERE r.residual <> 0
         GROUP BY ALL"""


def duckdb_ageing_sql(as_of: date, cutoffs=DEFAULT_CUTOFFS) -> str:
    """Ageing by definition: amount less allocations effective by ``as_of``, due-date buckets."""
    return f"""
        WITH applied AS (
            SELECT item_id, SUM(amount) AS amount FROM (
                SELECT debit_item_id AS item_id, amount, effective_date FROM allocations
                UNION ALL
                SELECT credit_item_id AS item_id, amount, effective_date FROM allocations
            ) WHERE effective_date <= {_lit(as_of)} GROUP BY item_id
        )""" + _by_customer(f"""
            SELECT i.customer_id, i.side, i.due_date, i.amount - COALESCE(a.amount, 0) AS residual
              FROM open_items i LEFT JOIN applied a ON a.item_id = i.id
             WHERE i.date <= {_lit(as_of)}""", as_of, cutoffs)


def duckdb_stored_sql(as_of: date, cutoffs=DEFAULT_CUTOFFS) -> str:
    """Ageing from the stored residuals (today's state): the fastest DuckDB can do when nothing is recomputed.

    Right as of a date on or after the last allocation's effective date (the benchmark's today).
    """
    return _by_customer(f"""
            SELECT customer_id, side, due_date, residual FROM open_items
             WHERE residual <> 0 AND date <= {_lit(as_of)}""", as_of, cutoffs)


def duckdb_stored_past_sql(as_of: date, cutoffs=DEFAULT_CUTOFFS) -> str:
    """A back-dated ageing from the stored residuals: add back only the allocations effective after ``as_of``
    (few, for a recent date) instead of subtracting every allocation up to it."""
    return f"""
        WITH later AS (
            SELECT item_id, SUM(amount) AS amount FROM (
                SELECT debit_item_id AS item_id, amount FROM allocations WHERE effective_date > {_lit(as_of)}
                UNION ALL
                SELECT credit_item_id AS item_id, amount FROM allocations WHERE effective_date > {_lit(as_of)}
            ) GROUP BY item_id
        )""" + _by_customer(f"""
            SELECT i.customer_id, i.side, i.due_date, i.residual + COALESCE(l.amount, 0) AS residual
              FROM open_items i LEFT JOIN later l ON l.item_id = i.id
             WHERE i.date <= {_lit(as_of)}""", as_of, cutoffs)


# ---------------------------------------------------------------------------------------------
# comparing


@dataclass
class Comparison:
    customers: int = 0
    cells: int = 0
    mismatches: list[str] = field(default_factory=list)

    @property
    def agree(self) -> bool:
        return not self.mismatches


def _cells_of_report(report) -> dict[str, dict[str, Decimal]]:
    return {row.key: {**row.buckets, UNAPPLIED: row.unapplied} for row in report.rows}


def _cells_of_duckdb(rows) -> dict[str, dict[str, Decimal]]:
    out: dict[str, dict[str, Decimal]] = {}
    for code, bucket, amount in rows:
        cells = out.setdefault(code, {})
        cells[bucket] = cells.get(bucket, Decimal(0)) + Decimal(amount)
    return out


def compare(report, duck_rows, label: str) -> Comparison:
    """Every customer and the totals, every bucket and the unapplied column, to the paisa."""
    ours, theirs = _cells_of_report(report), _cells_of_duckdb(duck_rows)
    columns = [*bucket_labels(DEFAULT_CUTOFFS, DUE), UNAPPLIED]
    result = Comparison(customers=len(set(ours) | set(theirs)))
    extra = {b for cells in theirs.values() for b in cells} - set(columns)
    if extra:
        result.mismatches.append(f"{label}: DuckDB put amounts in {sorted(extra)}")
    totals = {"ours": dict.fromkeys(columns, Decimal(0)), "duckdb": dict.fromkeys(columns, Decimal(0))}
    for key in sorted(set(ours) | set(theirs)):
        for column in columns:
            a = ours.get(key, {}).get(column, Decimal(0))
            b = theirs.get(key, {}).get(column, Decimal(0))
            totals["ours"][column] += a
            totals["duckdb"][column] += b
            result.cells += 1
            if a.quantize(PAISA) != b.quantize(PAISA):
                result.mismatches.append(f"{label}: {key} {column}: selector {a} DuckDB {b}")
    for column in columns:
        a, b = totals["ours"][column], totals["duckdb"][column]
        if a.quantize(PAISA) != b.quantize(PAISA):
            result.mismatches.append(f"{label}: TOTAL {column}: selector {a} DuckDB {b}")
    return result


# ---------------------------------------------------------------------------------------------


@dataclass
class SummaryTimes:
    build_seconds: float
    seconds: float
    report: object
    changed_seconds: float
    changed_report: object


def summary_time(company, as_of: date, read: Callable[[], object], runs: int) -> SummaryTimes:
    """Build the company's ageing summary on ``as_of``, time ``read`` through it, then again with 1% of the
    customers marked changed (aged from the ledger within the same read, as after a minute of postings)."""
    from dues.customers.models import Customer
    from dues.reporting import summary
    from dues.reporting.models import AgeingChange

    start = time.perf_counter()
    summary.refresh(company, as_of=as_of)
    build_seconds = time.perf_counter() - start
    seconds, report = best_of(read, runs)
    ids = list(Customer.objects.filter(company=company).order_by("id").values_list("id", flat=True))
    AgeingChange.objects.bulk_create([AgeingChange(company=company, customer_id=i) for i in ids[::100]])
    changed_seconds, changed_report = best_of(read, runs)
    summary.drop(company)
    return SummaryTimes(build_seconds, seconds, report, changed_seconds, changed_report)


def run(*, company, open_items: int, seed: int = 42, runs: int = 3,
        progress: Callable[[str], None] | None = None) -> dict:
    from dues.reporting.selectors import ageing

    progress = progress or (lambda message: None)
    progress(f"writing the workload: {open_items:,} open items")
    w = load_ageing(company, open_items, seed=seed, as_of=AS_OF, progress=progress)
    # time the query on a connection opened with the settings every dues process uses
    connection.close()

    def selector(on: date):
        return lambda: ageing(company=company, as_of=on, by="customer")

    progress(f"timing the selector on {connection.vendor}")
    seconds, report = best_of(selector(w.as_of), runs)
    past_seconds, past_report = best_of(selector(w.past_as_of), runs)
    progress("building the ageing summary and timing the selector through it")
    built = summary_time(company, w.as_of, selector(w.as_of), runs)

    with tempfile.TemporaryDirectory(prefix="dues-bench-") as tmp:
        progress("exporting CSV for DuckDB")
        start = time.perf_counter()
        paths = export_csv(company.pk, Path(tmp))
        export_seconds = time.perf_counter() - start
        start = time.perf_counter()
        duck = duckdb_load(paths)
        load_seconds = time.perf_counter() - start
        progress("timing DuckDB")
        try:
            def timed(sql: str):
                return best_of(lambda: duck.execute(sql).fetchall(), runs)

            duck_seconds, duck_rows = timed(duckdb_ageing_sql(w.as_of))
            duck_past_seconds, duck_past = timed(duckdb_ageing_sql(w.past_as_of))
            stored_seconds, stored_rows = timed(duckdb_stored_sql(w.as_of))
            stored_past_seconds, stored_past = timed(duckdb_stored_past_sql(w.past_as_of))
        finally:
            duck.close()

    # every DuckDB query must give the selector's figures, or its time is no baseline
    checks = [compare(report, duck_rows, w.as_of.isoformat()),
              compare(past_report, duck_past, w.past_as_of.isoformat()),
              compare(report, stored_rows, f"{w.as_of.isoformat()} stored residuals"),
              compare(past_report, stored_past, f"{w.past_as_of.isoformat()} stored residuals")]
    checks += [compare(built.report, duck_rows, f"{w.as_of.isoformat()} from the summary"),
               compare(built.changed_report, duck_rows, f"{w.as_of.isoformat()} from the summary, 1% changed")]
    now = checks[0]
    fastest, fastest_past = min(duck_seconds, stored_seconds), min(duck_past_seconds, stored_past_seconds)
    totals, past_totals = report.totals, past_report.totals
    return {
        "open_items": open_items,
        "database": connection.vendor,
        "seconds": round(seconds, 4),
        "duckdb_seconds": round(duck_seconds, 4),
        "ratio": round(seconds / duck_seconds, 2),
        # against DuckDB's fastest query on the same rows (stored residuals, or the definition if faster)
        "duckdb_fastest_seconds": round(fastest, 4),
        "fastest_ratio": round(seconds / fastest, 2),
        "past_as_of_duckdb_fastest_seconds": round(fastest_past, 4),
        "past_as_of_fastest_ratio": round(past_seconds / fastest_past, 2),
        # the whole-book ageing read through the ageing summary (dues.reporting.summary), as the desk reads it
        # when the job worker keeps one: fresh, and with 1% of the customers changed since the last refresh
        "summary_seconds": round(built.seconds, 4),
        "summary_fastest_ratio": round(built.seconds / fastest, 2),
        "summary_changed_seconds": round(built.changed_seconds, 4),
        "summary_changed_fastest_ratio": round(built.changed_seconds / fastest, 2),
        "summary_build_seconds": round(built.build_seconds, 3),
        "duckdb_stored_seconds": round(stored_seconds, 4),
        "past_as_of_duckdb_stored_seconds": round(stored_past_seconds, 4),
        "totals_agree": all(c.agree for c in checks),
        "past_as_of_seconds": round(past_seconds, 4),
        "load_seconds": round(load_seconds, 3),
        # the details
        "as_of": w.as_of.isoformat(),
        "past_as_of": w.past_as_of.isoformat(),
        "past_as_of_duckdb_seconds": round(duck_past_seconds, 4),
        "past_as_of_ratio": round(past_seconds / duck_past_seconds, 2),
        "customers": w.customers,
        "customers_compared": now.customers,
        "cells_compared": sum(c.cells for c in checks),
        "mismatches": [m for c in checks for m in c.mismatches][:20],
        "partly_paid": w.partly_paid,
        "settled_items": w.settled_items,
        "receipts": w.receipts,
        "on_account_receipts": w.on_account,
        "documents": w.documents,
        "allocations": w.allocations,
        "outstanding": str(totals.total.quantize(PAISA)),
        "past_outstanding": str(past_totals.total.quantize(PAISA)),
        "workload_seconds": round(w.seconds, 1),
        "export_seconds": round(export_seconds, 1),
    }
