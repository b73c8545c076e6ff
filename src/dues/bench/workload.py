"""Seeded workloads for the benchmarks.

The ageing workload is a valid bill-wise ledger as the ageing query reads it: customers, documents,
open items and allocations, with every open item's residual equal to its amount less its
allocations and every allocation effective on its receipt's date (after the invoice). It is written
straight into the tables in large batches (``executemany`` on the raw SQLite connection, ``COPY`` on
PostgreSQL). Journal entries, document lines and audit records are not written: ageing never reads
them, and the posting benchmark measures the full posting path that writes them.

The posting workload is a set of CSV files (customers, invoices, receipts with allocations and TDS)
for the real importer, plus the invoices it leaves open, for single receipts to be posted against.

Both are drawn from ``random.Random(seed)`` only, so the same seed gives the same books.
"""

from __future__ import annotations

import csv
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from django.db import connection, transaction

from dues import clock
from dues.core.errors import DuesError

#: the last day of the ageing workload; its documents are dated over the two years before it
AS_OF = date(2026, 3, 31)
SPAN_DAYS = 730
PAST_DAYS = 182  # the "past" as-of: about six months earlier
TERMS = (0, 15, 30, 30, 45, 60)

CUSTOMER_COLUMNS = ["id", "company_id", "code", "name", "aliases", "gstin", "pan", "state_code", "email", "phone",
                    "terms_kind", "terms_days", "credit_limit", "credit_days", "salesperson", "collector", "segment",
                    "region", "created_at", "tan"]
DOCUMENT_COLUMNS = ["id", "company_id", "kind", "side", "number", "customer_id", "date", "due_date", "currency",
                    "amount", "taxable_value", "cgst", "sgst", "igst", "place_of_supply", "description", "mode",
                    "reference", "tds", "bank_charges", "discount", "status", "cancelled_on", "cancel_reason",
                    "import_batch_id", "created_at", "created_by"]
ITEM_COLUMNS = ["id", "company_id", "customer_id", "document_id", "side", "date", "due_date", "amount", "residual",
                "reversal_of_id"]
ALLOCATION_COLUMNS = ["id", "company_id", "credit_item_id", "debit_item_id", "amount", "effective_date",
                      "reverses_id", "reason", "created_at", "created_by"]
TABLES = {  # parents before children: each batch is written in this order
    "customers_customer": CUSTOMER_COLUMNS,
    "ledger_document": DOCUMENT_COLUMNS,
    "ledger_openitem": ITEM_COLUMNS,
    "ledger_allocation": ALLOCATION_COLUMNS,
}


def require_fresh() -> None:
    """Benchmarks write synthetic books: refuse a database that already holds documents or customers."""
    from dues.customers.models import Customer
    from dues.ledger.models import Document

    if Document.objects.exists() or Customer.objects.exists():
        raise DuesError("the benchmark needs a fresh database, and this one already has documents or customers; "
                        "pass a new one with `dues --db URL bench ...`")


def money(paisa: int) -> str:
    """Integer paisa as the decimal text the database stores (``123456`` -> ``"1234.56"``)."""
    return f"{paisa // 100}.{paisa % 100:02d}"


class BulkWriter:
    """Buffers rows per table and writes them in large batches, each batch in its own transaction.

    SQLite: one ``executemany`` per table on the raw ``sqlite3`` connection (decimals as text, which
    the column's numeric affinity stores exactly as Django does). PostgreSQL: ``COPY ... FROM STDIN``.
    """

    def __init__(self, batch_rows: int = 200_000):
        self.batch_rows = batch_rows
        self.rows: dict[str, list[tuple]] = {t: [] for t in TABLES}
        self.written: dict[str, int] = dict.fromkeys(TABLES, 0)
        self.pg = connection.vendor == "postgresql"

    def next_ids(self) -> dict[str, int]:
        """The first free id of each table (the tables are empty in a fresh database)."""
        with connection.cursor() as cursor:
            out = {}
            for table in TABLES:
                cursor.execute(f'SELECT COALESCE(MAX(id), 0) + 1 FROM "{table}"')  # noqa: S608 - our tables
                out[table] = cursor.fetchone()[0]
            return out

    def buffered(self) -> int:
        return sum(len(r) for r in self.rows.values())

    def flush(self) -> None:
        if not self.buffered():
            return
        with transaction.atomic():
            for table, columns in TABLES.items():
                rows = self.rows[table]
                if rows:
                    self._write(table, columns, rows)
                    self.written[table] += len(rows)
                    rows.clear()  # in place: the generator holds on to these lists

    def _write(self, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
        cols = ", ".join(f'"{c}"' for c in columns)
        if self.pg:
            with connection.cursor() as cursor, cursor.cursor.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join("?" * len(columns))
        raw = connection.connection.cursor()
        try:
            raw.executemany(f'INSERT INTO "{table}" ({cols}) VALUES ({marks})', rows)  # noqa: S608
        finally:
            raw.close()

    def finish(self) -> None:
        """Write what is left; on PostgreSQL move the id sequences past the ids written."""
        self.flush()
        if self.pg:
            with connection.cursor() as cursor:
                for table in TABLES:
                    cursor.execute(f"SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                                   f'(SELECT COALESCE(MAX(id), 1) FROM "{table}"))', [table])  # noqa: S608


@dataclass
class AgeingWorkload:
    as_of: date
    past_as_of: date
    customers: int = 0
    open_items: int = 0
    partly_paid: int = 0
    settled_items: int = 0
    receipts: int = 0
    on_account: int = 0
    documents: int = 0
    allocations: int = 0
    seconds: float = 0.0


def _timestamp() -> str:
    now = clock.now()
    if connection.vendor == "postgresql":
        return now.isoformat()
    return now.replace(tzinfo=None).isoformat(sep=" ")  # how Django stores an aware datetime in SQLite


def _invoice_amount(rng: random.Random) -> int:
    """An invoice total in paisa, log-uniform from 500.00 to 5,00,000.00."""
    return int(math.exp(rng.uniform(10.82, 17.73)))


def load_ageing(company, open_items: int, *, seed: int = 42, as_of: date = AS_OF,
                progress: Callable[[str], None] | None = None) -> AgeingWorkload:
    """Write N open invoices over N/50 customers, ~2N settled ones and their receipts, into the tables.

    Per customer: ``2n`` settled invoices dated over two years, paid in full one to four at a time by
    receipts (a fifth net of 1% TDS, a few overpaid, leaving unapplied credit) after the customer's
    terms give or take a few weeks; ``n`` open invoices, mostly recent (about 30% part-paid by a
    receipt of their own); and now and then an on-account receipt nothing is allocated to.
    Allocations are effective on the receipt's date, which is on or after the invoices' dates.
    """
    progress = progress or (lambda message: None)
    started = time.perf_counter()
    rng = random.Random(seed)
    w = AgeingWorkload(as_of=as_of, past_as_of=as_of - timedelta(days=PAST_DAYS))
    w.customers = n_customers = max(1, open_items // 50)
    first = as_of - timedelta(days=SPAN_DAYS)
    day = [(first + timedelta(days=d)).isoformat() for d in range(SPAN_DAYS + max(TERMS) + 1)]
    writer = BulkWriter()
    if connection.vendor == "sqlite":
        # a big page cache for this loading connection only (the timed queries run on a new one)
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -1048576")  # KiB: 1 GiB
    ids = writer.next_ids()
    next_doc, next_item, next_alloc = ids["ledger_document"], ids["ledger_openitem"], ids["ledger_allocation"]
    now, co = _timestamp(), company.pk
    docs, items, allocs = (writer.rows[t] for t in ("ledger_document", "ledger_openitem", "ledger_allocation"))
    n_invoice = n_receipt = 0
    zero = "0.00"

    def invoice(cust: int, d: int, due: int, amount: int, residual: int) -> int:
        nonlocal next_doc, next_item, n_invoice
        n_invoice += 1
        taxable = amount * 100 // 118
        tax = amount - taxable
        cgst = tax // 2
        docs.append((next_doc, co, "invoice", "D", f"INV{n_invoice:08d}", cust, day[d], day[due], "INR",
                     money(amount), money(taxable), money(cgst), money(tax - cgst), zero, "27", "", "", "", zero,
                     zero, zero, "posted", None, "", None, now, "bench"))
        items.append((next_item, co, cust, next_doc, "D", day[d], day[due], money(amount), money(residual), None))
        next_doc += 1
        next_item += 1
        return next_item - 1

    def receipt(cust: int, d: int, cash: int, tds: int, residual: int) -> int:
        nonlocal next_doc, next_item, n_receipt
        n_receipt += 1
        docs.append((next_doc, co, "receipt", "C", f"RCT{n_receipt:08d}", cust, day[d], None, "INR", money(cash),
                     zero, zero, zero, zero, "27", "", "neft", f"UTR{n_receipt:010d}", money(tds), zero, zero,
                     "posted", None, "", None, now, "bench"))
        items.append((next_item, co, cust, next_doc, "C", day[d], day[d], money(cash + tds), money(residual), None))
        next_doc += 1
        next_item += 1
        return next_item - 1

    def allocate(credit: int, debit: int, amount: int, d: int) -> None:
        nonlocal next_alloc
        allocs.append((next_alloc, co, credit, debit, money(amount), day[d], None, "", now, "bench"))
        next_alloc += 1

    customers = writer.rows["customers_customer"]
    cust_ids = range(ids["customers_customer"], ids["customers_customer"] + n_customers)
    terms_of = [rng.choice(TERMS) for _ in cust_ids]
    for n, cid in enumerate(cust_ids):
        customers.append((cid, co, f"BC{n:06d}", f"Bench Customer {n:06d}", "[]", "", "", "27", "", "", "net",
                          terms_of[n], None, terms_of[n], f"Sales {n % 13}", f"Collector {n % 7}",
                          ("Retail", "Wholesale", "Project", "OEM")[n % 4], ("West", "South", "North")[n % 3], now,
                          ""))
    base, extra = divmod(open_items, n_customers)
    last = SPAN_DAYS
    for n, cid in enumerate(cust_ids):
        terms = terms_of[n]
        n_open = base + (1 if n < extra else 0)
        # settled invoices, paid in full a few at a time
        dates = sorted(rng.randrange(0, last - 5) for _ in range(2 * n_open))
        i = 0
        while i < len(dates):
            group = dates[i:i + rng.choice((1, 1, 2, 2, 3, 4))]
            i += len(group)
            pay = min(last, group[-1] + max(0, terms + int(rng.gauss(5, 20))))
            amounts = [_invoice_amount(rng) for _ in group]
            debits = [invoice(cid, d, d + terms, a, 0) for d, a in zip(group, amounts, strict=True)]
            total = sum(amounts)
            tds = total // 100 // 100 * 100 if rng.random() < 0.2 else 0  # 1%, whole rupees
            over = rng.randrange(100_00, 50_000_00) if rng.random() < 0.03 else 0
            credit = receipt(cid, pay, total - tds + over, tds, over)
            for debit, a in zip(debits, amounts, strict=True):
                allocate(credit, debit, a, pay)
            w.settled_items += len(group)
            w.receipts += 1
        # open invoices, mostly recent; some part-paid
        for _ in range(n_open):
            d = last - min(last, int(rng.expovariate(1 / 75)))
            amount = _invoice_amount(rng)
            if rng.random() < 0.3:
                paid = max(1, amount * rng.randrange(10, 90) // 100)
                pay = rng.randrange(d, last + 1)
                debit = invoice(cid, d, d + terms, amount, amount - paid)
                allocate(receipt(cid, pay, paid, 0, 0), debit, paid, pay)
                w.partly_paid += 1
                w.receipts += 1
            else:
                invoice(cid, d, d + terms, amount, amount)
            w.open_items += 1
        if rng.random() < 0.5:  # money received on account, not yet applied
            cash = rng.randrange(1_000_00, 2_00_000_00)
            receipt(cid, rng.randrange(last - 120, last + 1), cash, 0, cash)
            w.on_account += 1
            w.receipts += 1
        if writer.buffered() >= writer.batch_rows:
            writer.flush()
            progress(f"loaded {writer.written['ledger_document']:,} documents")
    writer.finish()
    w.documents, w.allocations = writer.written["ledger_document"], writer.written["ledger_allocation"]
    if (w.documents, writer.written["ledger_openitem"], writer.written["customers_customer"]) != (
            n_invoice + n_receipt, n_invoice + n_receipt, n_customers) or n_invoice != w.open_items + w.settled_items:
        raise RuntimeError(f"workload: wrote {writer.written}, generated {n_invoice} invoices and {n_receipt} receipts")
    if connection.vendor == "postgresql":
        # what autovacuum does to a loaded table shortly after: statistics and the visibility map
        with connection.cursor() as cursor:
            for table in TABLES:
                cursor.execute(f'VACUUM ANALYZE "{table}"')
    w.seconds = time.perf_counter() - started
    return w


# ---------------------------------------------------------------------------------------------
# posting workload: CSV files for the importer


@dataclass
class OpenInvoice:
    number: str
    customer: str
    date: date
    residual: int  # paisa


@dataclass
class PostingFiles:
    customers: Path
    invoices: Path
    receipts: Path
    n_customers: int
    n_invoices: int
    n_receipts: int
    n_allocations: int
    open_invoices: list[OpenInvoice] = field(default_factory=list)
    last_day: date = AS_OF


def write_posting_files(directory: Path, documents: int, *, seed: int = 42,
                        start: date = date(2025, 4, 1)) -> PostingFiles:
    """CSV files of customers, invoices (60% of ``documents``) and receipts (40%).

    Receipts each pay one or two invoices of a customer, oldest first (a fifth of them leave the
    last invoice part-paid), a sixth net of 1% TDS, a twentieth net of bank charges; one in ten is
    money on account with nothing allocated.
    """
    rng = random.Random(seed)
    n_receipts = documents * 2 // 5
    n_invoices = documents - n_receipts
    n_customers = max(1, min(n_invoices, documents // 50))
    codes = [f"PB{n:05d}" for n in range(n_customers)]
    with (directory / "customers.csv").open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["code", "name", "state", "credit_days", "salesperson", "region"])
        for n, code in enumerate(codes):
            out.writerow([code, f"Posting Customer {n:05d}", rng.choice(("27", "27", "27", "29", "24")),
                          rng.choice((15, 30, 45, 60)), f"Sales {n % 5}", ("West", "South", "North")[n % 3]])
    days = sorted(rng.randrange(0, 300) for _ in range(n_invoices))
    unpaid: dict[str, list[OpenInvoice]] = {code: [] for code in codes}
    with (directory / "invoices.csv").open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["number", "customer", "date", "due_date", "amount", "taxable_value", "tax", "description"])
        for n, d in enumerate(days):
            code = codes[rng.randrange(n_customers)]
            taxable = rng.randrange(1_000_00, 5_00_000_00)
            tax = (taxable * 18 + 50) // 100
            on = start + timedelta(days=d)
            out.writerow([f"INV-{n:07d}", code, on.isoformat(), "", money(taxable + tax), money(taxable),
                          money(tax), "Industrial supplies"])
            unpaid[code].append(OpenInvoice(f"INV-{n:07d}", code, on, taxable + tax))
    last_day = start + timedelta(days=330)
    n_allocations = 0
    owing = [code for code in codes if unpaid[code]]
    with (directory / "receipts.csv").open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["number", "customer", "date", "amount", "mode", "reference", "tds", "bank_charges",
                      "allocations"])
        for n in range(n_receipts):
            mode = rng.choice(("neft", "neft", "rtgs", "upi", "cheque", "imps"))
            if rng.random() < 0.1 or not owing:
                code = codes[rng.randrange(n_customers)]
                on = start + timedelta(days=rng.randrange(0, 330))
                out.writerow([f"RCT-{n:07d}", code, on.isoformat(), money(rng.randrange(1_000_00, 1_00_000_00)),
                              mode, f"UTR{n:010d}", "", "", ""])
                continue
            k = rng.randrange(len(owing))
            code = owing[k]
            queue = unpaid[code]
            parts, total, latest = [], 0, start
            for _ in range(rng.choice((1, 1, 1, 2))):
                if not queue:
                    break
                inv = queue[0]
                pay = inv.residual
                if rng.random() < 0.2 and inv.residual > 200_00:
                    pay = inv.residual // 2
                inv.residual -= pay
                if not inv.residual:
                    queue.pop(0)
                parts.append(f"{inv.number}:{money(pay)}")
                total += pay
                latest = max(latest, inv.date)
                n_allocations += 1
            if not queue:
                owing[k] = owing[-1]
                owing.pop()
            tds = total // 100 // 100 * 100 if rng.random() < 1 / 6 else 0
            charges = rng.choice((1500, 2500, 5000)) if rng.random() < 0.05 else 0
            on = min(last_day, latest + timedelta(days=rng.randrange(0, 45)))
            out.writerow([f"RCT-{n:07d}", code, on.isoformat(), money(total - tds - charges), mode, f"UTR{n:010d}",
                          money(tds) if tds else "", money(charges) if charges else "", ";".join(parts)])
    still_open = [inv for code in codes for inv in unpaid[code]]
    return PostingFiles(directory / "customers.csv", directory / "invoices.csv", directory / "receipts.csv",
                        n_customers, n_invoices, n_receipts, n_allocations, still_open, last_day)
