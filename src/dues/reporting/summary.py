"""The ageing summary: each customer's bucket sums on one date, kept exact as the ledger changes.

Ageing every customer reads every open item (a million of them at a large distributor) and sums them by
bucket on each request. The summary keeps the result per customer (``AgeingSnapshotRow``) for one date,
basis and set of buckets, so the whole-book ageing reads one row per customer instead:

- **Exact at every read.** Database triggers (migration ``reporting/0003``) write each customer whose open
  items or allocations change to ``AgeingChange``, in the changing transaction itself. A read takes the
  summary's rows of the customers with no change and ages the changed ones from the ledger in the same
  statement (``summary_sums``), so a posting is in the very next ageing, refreshed or not.
- **Refreshed in the background.** ``refresh`` recomputes the changed customers' rows (or all of them on a
  new date) and removes the changes its snapshot saw: a change committed while it ran stays, and is aged
  live until the next refresh. The job worker refreshes every summary each minute (``dues.jobs.engine``);
  ``dues ageing-summary`` builds, refreshes, shows and drops it by hand.
- **Used only when it fits.** A read uses the summary only for the whole book (no customer list), on the
  summary's own date, basis and buckets, and only while its triggers are in place; anything else is aged
  from the ledger as before. No summary, no cost: the triggers write nothing for a company without one.

The first build of a company's summary on PostgreSQL waits for the transactions that were already running
when the summary was created (their triggers could not yet see it), so no change slips between them.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.db import connection, transaction
from django.db.utils import OperationalError

from dues import clock
from dues.companies.models import Company
from dues.core.ageing import DEFAULT_CUTOFFS, DUE, bucket_ranges, parse_cutoffs
from dues.core.errors import DuesError

from .models import SNAPSHOT_BUCKETS, AgeingChange, AgeingSnapshot, AgeingSnapshotRow

TRIGGERS = tuple(f"dues_ageing_{table}_{operation}" for table in ("item", "allocation")
                 for operation in ("insert", "update", "delete"))
WAIT_SECONDS = 120  # the first build's wait for the transactions that began before the summary existed


def cutoffs_key(cutoffs: Sequence[int]) -> str:
    return ",".join(str(int(c)) for c in cutoffs)


def triggers_present() -> bool:
    """Whether every trigger that keeps the summary exact is in the database (a table that a later SQLite
    migration rebuilds loses its triggers; then no summary is trusted until they are back)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name IN "
                           f"({', '.join(['%s'] * len(TRIGGERS))})", list(TRIGGERS))
        else:
            cursor.execute(f"SELECT COUNT(*) FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D' AND tgname IN "
                           f"({', '.join(['%s'] * len(TRIGGERS))})", list(TRIGGERS))
        return cursor.fetchone()[0] == len(TRIGGERS)


def summary_sums(company_id: int, as_of: date, cutoffs: Sequence[int], basis: str, buckets: int,
                 live) -> tuple[str, list] | None:
    """SQL of (customer_id, b0..bn, bu) for the whole book from the summary, or None when it does not fit.

    ``live(changed_only)`` gives the ledger's SQL and arguments for the same columns (``_ageing_sums``); the
    summary's rows of the customers without a change are joined with the ledger's sums for the changed ones.
    """
    if buckets > SNAPSHOT_BUCKETS:
        return None
    fits = AgeingSnapshot.objects.filter(company_id=company_id, as_of=as_of, basis=basis,
                                         cutoffs=cutoffs_key(cutoffs)).exists()
    if not fits or not triggers_present():
        return None
    changed, changed_args = live(True)
    columns = ", ".join([*(f"r.b{i}" for i in range(buckets)), "r.bu"])
    sql = f"""
        SELECT r.customer_id, {columns} FROM reporting_ageingsnapshotrow r
         WHERE r.company_id = %s AND NOT EXISTS (
               SELECT 1 FROM reporting_ageingchange ch WHERE ch.company_id = r.company_id
                  AND ch.customer_id = r.customer_id)
        UNION ALL
        {changed}"""
    return sql, [company_id, *changed_args]


@dataclass
class Refresh:
    company: str
    outcome: str  # "built" (every customer), "refreshed" (the changed ones), "busy" (another refresh holds it)
    as_of: date | None
    customers: int = 0  # rows written
    changes: int = 0  # changes seen and removed
    seconds: float = 0.0


def _wait_for_running_transactions() -> None:
    """PostgreSQL: wait until every transaction running now has ended (their triggers may have run before the
    summary existed). SQLite runs one writer at a time, so none can be in flight."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(array_agg(x::text), '{}') FROM pg_snapshot_xip(pg_current_snapshot()) x")
        running = list(cursor.fetchone()[0])
        deadline = time.monotonic() + WAIT_SECONDS
        while running:
            cursor.execute("SELECT COALESCE(array_agg(x), '{}') FROM unnest(%s::text[]) x "
                           "WHERE pg_xact_status(x::xid8) = 'in progress'", [running])
            running = list(cursor.fetchone()[0])
            if not running:
                return
            if time.monotonic() > deadline:
                raise DuesError(f"the ageing summary waits for {len(running)} transaction(s) begun before it: "
                                f"still running after {WAIT_SECONDS} s; try again")
            time.sleep(0.2)


def refresh(company: Company, *, as_of: date | None = None, basis: str = DUE,
            cutoffs: Sequence[int] = DEFAULT_CUTOFFS) -> Refresh:
    """Create (if need be) and bring up to date ``company``'s summary on ``as_of`` (today by default):
    every customer when the date, basis or buckets differ from the summary's, else the changed customers.
    Outside any transaction: it commits its own."""
    from .selectors import _ledger_sums, _per_customer

    if connection.in_atomic_block:
        raise DuesError("refresh the ageing summary outside a transaction")
    as_of = as_of or clock.today()
    key = cutoffs_key(cutoffs)
    buckets = len(bucket_ranges(as_of, cutoffs, basis))
    if buckets > SNAPSHOT_BUCKETS:
        raise DuesError(f"the ageing summary holds at most {SNAPSHOT_BUCKETS} buckets, these bounds make {buckets}")
    if not triggers_present():
        raise DuesError("the ageing summary's triggers are missing from the database: run `dues init`")
    started = time.perf_counter()
    _header, created = AgeingSnapshot.objects.get_or_create(company=company)
    if created:
        _wait_for_running_transactions()
    columns = [*(f"b{i}" for i in range(buckets)), "bu"]
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":  # every statement below sees one snapshot of the ledger
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            # the header locked first: refreshes of one company queue here (SQLite takes its write lock at
            # BEGIN, so there nothing commits while this transaction runs)
            header = AgeingSnapshot.objects.select_for_update().get(company=company)
            full = (header.as_of, header.basis, header.cutoffs) != (as_of, basis, key)
            seen = AgeingChange.objects.filter(company=company).count()
            if not full and not seen:
                return Refresh(company.name, "refreshed", as_of, seconds=time.perf_counter() - started)
            rows = AgeingSnapshotRow.objects.filter(company=company)
            if not full:
                rows = rows.filter(customer_id__in=AgeingChange.objects.filter(company=company).values("customer_id"))
            rows._raw_delete(rows.db)
            parts, args, _n = _ledger_sums(as_of, company.pk, None, cutoffs, basis, changed_only=not full)
            cursor.execute(f"""
                INSERT INTO reporting_ageingsnapshotrow (company_id, customer_id, {", ".join(columns)})
                SELECT %s, p.customer_id, {", ".join(f"p.{c}" for c in columns)} FROM ({_per_customer(parts, buckets)}) p
                 WHERE {" OR ".join(f"p.{c} <> 0" for c in columns)}""", [company.pk, *args])
            written = cursor.rowcount
            # the changes this transaction saw: one committed since is not in its snapshot and stays
            cursor.execute("DELETE FROM reporting_ageingchange WHERE company_id = %s", [company.pk])
            now = clock.now()
            if full:
                header.as_of, header.basis, header.cutoffs, header.built_at = as_of, basis, key, now
            header.refreshed_at = now
            header.save()
    except OperationalError as exc:
        if not _busy(exc):
            raise
        return Refresh(company.name, "busy", as_of, seconds=time.perf_counter() - started)
    if full and connection.vendor == "postgresql":  # the planner's row counts, now: it took 352 rows for 70,434
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE reporting_ageingsnapshotrow")
    return Refresh(company.name, "built" if full else "refreshed", as_of, written, seen,
                   time.perf_counter() - started)


def _busy(exc: OperationalError) -> bool:
    """Another refresh of the same summary got there first (PostgreSQL: it changed the header after this
    transaction's snapshot; SQLite: it holds the write lock past the busy timeout)."""
    text = str(exc).lower()
    return "could not serialize" in text or "locked" in text


def drop(company: Company) -> bool:
    """Remove ``company``'s summary (the triggers stop writing changes for it); whether there was one."""
    with transaction.atomic():
        found = AgeingSnapshot.objects.filter(company=company).delete()[0] > 0
        AgeingSnapshotRow.objects.filter(company=company)._raw_delete(connection.alias)
        AgeingChange.objects.filter(company=company)._raw_delete(connection.alias)
    return found


def status(company: Company) -> dict:
    header = AgeingSnapshot.objects.filter(company=company).first()

    def stamp(value):
        return value.isoformat(timespec="seconds") if value else None

    return {
        "exists": header is not None,
        "as_of": header.as_of.isoformat() if header and header.as_of else None,
        "basis": header.basis if header else None,
        "buckets": header.cutoffs if header else None,
        "rows": AgeingSnapshotRow.objects.filter(company=company).count(),
        "changes": AgeingChange.objects.filter(company=company).count(),
        "built_at": stamp(header.built_at) if header else None,
        "refreshed_at": stamp(header.refreshed_at) if header else None,
        "triggers": triggers_present(),
    }


def refresh_all() -> list[Refresh]:
    """Refresh every company's summary (the job worker's tick): today, on the basis and buckets it has."""
    done = []
    for header in AgeingSnapshot.objects.select_related("company").order_by("company_id"):
        cutoffs = parse_cutoffs(header.cutoffs) if header.cutoffs else DEFAULT_CUTOFFS
        done.append(refresh(header.company, basis=header.basis or DUE, cutoffs=cutoffs))
    return done
