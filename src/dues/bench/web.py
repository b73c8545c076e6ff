"""Web benchmark: server time of every main page on a generated book of N customers.

1. ``load_book`` writes N customers with realistic, seeded activity into a fresh database: about a
   third of them have paid everything, the rest owe a few invoices (some part-paid, some overdue), and
   now and then money sits on account. Documents are dated over the two years to today, so the pages'
   default "as of today" shows a live book. Rows go straight into the tables through the ageing
   benchmark's ``BulkWriter``; an audit record is appended (through the real, hash-chained audit
   service) for every customer and document, so the audit log is as long as a real one.
2. An administrator signs in with the Django test client, and each page in ``PAGES`` is fetched once
   to warm up, then ``runs`` times, timed: the server time of a request (routing, view, queries,
   template), without a network or a browser. One more fetch counts the SQL queries.

``PAGES`` is a plain list: add a page with its name and a function of the ``Book`` that gives its
URL. A page whose URL does not resolve (not built yet) is reported as skipped, not failed.
"""

from __future__ import annotations

import math
import random
import secrets
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import urlsplit

from django.db import connection

from dues import clock

from .workload import BulkWriter, _invoice_amount, _timestamp, money

TARGET_MS = 200
TERMS = (0, 15, 30, 30, 45, 60)
SPAN_DAYS = 730

FIRST = ("Shree", "Sri", "New", "Om", "Jai", "Royal", "National", "Bharat", "Global", "Sai", "Maa", "Apex", "Vijay",
         "Hindustan", "Deccan", "Kaveri", "Ganga", "Modern", "Classic", "United")
MIDDLE = ("Balaji", "Ganesh", "Krishna", "Laxmi", "Durga", "Metro", "Star", "Sunrise", "Everest", "Shakti", "Tirupati",
          "Ambika", "Mahalaxmi", "Siddhi", "Vinayak", "Amrit", "Kisan", "Jyoti", "Navratna", "Surya")
TRADE = ("Steel", "Polymers", "Textiles", "Fasteners", "Pharma", "Electricals", "Auto Parts", "Chemicals", "Paper",
         "Foods", "Hardware", "Plastics", "Agro", "Engineering", "Packaging", "Tools", "Paints", "Cables")
SUFFIX = ("Traders", "Enterprises", "Pvt Ltd", "Industries", "& Co", "LLP", "Agencies", "Distributors", "Corporation")
SALES = ("Ravi Kumar", "Anita Desai", "Suresh Nair", "Priya Menon", "Arjun Mehta", "Kavita Rao", "Deepak Joshi",
         "Meera Iyer", "Rahul Verma", "Sneha Patil", "Vikram Singh", "Farah Khan", "Manoj Pillai")
COLLECTORS = ("Pooja Shah", "Imran Sheikh", "Lakshmi Reddy", "Ajay Gupta", "Neha Kulkarni", "Sanjay Das",
              "Ritu Malhotra")
STATES = ("27", "27", "27", "27", "29", "24", "33", "07", "09", "36")
MODES = ("neft", "neft", "rtgs", "upi", "cheque", "imps")


@dataclass
class Book:
    """What the generated book holds, and the handles the page URLs need."""

    customers: int = 0
    documents: int = 0
    open_items: int = 0
    allocations: int = 0
    audit_records: int = 0
    seconds: float = 0.0
    as_of: date | None = None
    busiest: str = ""             # the code of the customer with the most open items
    invoice: str = ""             # an open, part-paid invoice of the busiest customer
    receipt: str = ""             # a receipt with allocations
    on_account: str = ""          # a receipt with money left on account
    search: str = "balaji"        # a word in about one name in twenty
    reused: bool = False


def load_book(company, customers: int, *, seed: int = 42, as_of: date | None = None,
              progress: Callable[[str], None] | None = None) -> Book:
    """Write ``customers`` customers and their seeded invoices, receipts and allocations (see the module doc)."""

    progress = progress or (lambda message: None)
    started = time.perf_counter()
    rng = random.Random(seed)
    as_of = as_of or clock.today()
    book = Book(customers=customers, as_of=as_of)
    first = as_of - timedelta(days=SPAN_DAYS)
    day = [(first + timedelta(days=d)).isoformat() for d in range(SPAN_DAYS + max(TERMS) + 1)]
    writer = BulkWriter()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -524288")  # KiB: 512 MiB for this loading connection only
    ids = writer.next_ids()
    next_doc, next_item, next_alloc = ids["ledger_document"], ids["ledger_openitem"], ids["ledger_allocation"]
    now, co, zero = _timestamp(), company.pk, "0.00"
    docs, items, allocs = (writer.rows[t] for t in ("ledger_document", "ledger_openitem", "ledger_allocation"))
    audit: list[tuple[str, str, str, dict]] = []  # (action, object type, object id, after)
    counts = {"invoice": 0, "receipt": 0}
    state = "27"

    def document(kind: str, side: str, cust: int, d: int, due: int | None, cash: int, tds: int, residual: int) -> int:
        nonlocal next_doc, next_item
        counts[kind] += 1
        number = f"{'INV' if kind == 'invoice' else 'RCT'}-{counts[kind]:07d}"
        if kind == "invoice":
            taxable = cash * 100 // 118
            gst = cash - taxable
            if state == company_state:
                cgst = gst // 2
                split = (money(cgst), money(gst - cgst), zero)
            else:
                split = (zero, zero, money(gst))
            tax = (money(taxable), *split, state, "Industrial supplies", "", "", zero)
        else:
            tax = (zero, zero, zero, zero, state, "", rng.choice(MODES), f"UTR{counts[kind]:012d}", money(tds))
        docs.append((next_doc, co, kind, side, number, cust, day[d], day[due] if due is not None else None, "INR",
                     money(cash), *tax, zero, zero, "posted", None, "", None, now, "bench"))
        items.append((next_item, co, cust, next_doc, side, day[d], day[due if due is not None else d],
                      money(cash + tds), money(residual), None))
        audit.append(("post", kind, number, {"kind": kind, "number": number, "date": day[d], "amount": money(cash)}))
        next_doc += 1
        next_item += 1
        return next_item - 1

    def allocate(credit: int, debit: int, amount: int, d: int) -> None:
        nonlocal next_alloc
        allocs.append((next_alloc, co, credit, debit, money(amount), day[d], None, "", now, "bench"))
        next_alloc += 1

    last = SPAN_DAYS
    company_state = company.state_code
    rows = writer.rows["customers_customer"]
    for n, cid in enumerate(range(ids["customers_customer"], ids["customers_customer"] + customers)):
        code = f"C{n + 1:06d}"
        terms = rng.choice(TERMS)
        state = rng.choice(STATES)
        name = (f"{rng.choice(FIRST)} {rng.choice(MIDDLE)} {rng.choice(TRADE)} {rng.choice(SUFFIX)}"
                + (f" ({n % 997})" if n >= 997 else ""))
        limit = money(rng.choice((5, 10, 25, 50, 100)) * 100_000_00) if rng.random() < 0.6 else None
        rows.append((cid, co, code, name, "[]", "", "", state, "", "", "net", terms, limit, terms,
                     rng.choice(SALES), rng.choice(COLLECTORS), ("Retail", "Wholesale", "Project", "OEM")[n % 4],
                     ("West", "South", "North", "East")[n % 4], now, ""))
        audit.append(("create", "customer", code, {"code": code, "name": name}))
        # settled history: one to six invoices, paid a few at a time after the terms, give or take
        dates = sorted(rng.randrange(0, last - 30) for _ in range(rng.randint(1, 6)))
        i = 0
        while i < len(dates):
            group = dates[i:i + rng.choice((1, 1, 2, 3))]
            i += len(group)
            pay = min(last, group[-1] + max(0, terms + int(rng.gauss(5, 20))))
            amounts = [_invoice_amount(rng) for _ in group]
            debits = [document("invoice", "D", cid, d, d + terms, a, 0, 0) for d, a in zip(group, amounts, strict=True)]
            total = sum(amounts)
            tds = total // 100 // 100 * 100 if rng.random() < 0.2 else 0
            credit = document("receipt", "C", cid, pay, None, total - tds, tds, 0)
            for debit, a in zip(debits, amounts, strict=True):
                allocate(credit, debit, a, pay)
        # what is still open: a third owe nothing; the rest one to eight invoices, mostly recent
        n_open = 0 if rng.random() < 0.33 else min(8, 1 + int(rng.expovariate(1 / 2)))
        for _ in range(n_open):
            d = last - min(last, int(rng.expovariate(1 / 60)))
            amount = _invoice_amount(rng)
            if rng.random() < 0.25:
                paid = max(1, amount * rng.randrange(10, 90) // 100)
                pay = rng.randrange(d, last + 1)
                debit = document("invoice", "D", cid, d, d + terms, amount, 0, amount - paid)
                allocate(document("receipt", "C", cid, pay, None, paid, 0, 0), debit, paid, pay)
            else:
                document("invoice", "D", cid, d, d + terms, amount, 0, amount)
        if rng.random() < 0.1:
            cash = rng.randrange(1_000_00, 2_00_000_00)
            document("receipt", "C", cid, rng.randrange(last - 90, last + 1), None, cash, 0, cash)
        book.open_items += n_open
        if writer.buffered() >= writer.batch_rows:
            writer.flush()
            _audit(audit, co)
            progress(f"loaded {writer.written['customers_customer']:,} customers, "
                     f"{writer.written['ledger_document']:,} documents")
    writer.finish()
    _audit(audit, co)
    book.documents = writer.written["ledger_document"]
    book.allocations = writer.written["ledger_allocation"]
    from dues.audit.models import AuditRecord

    book.audit_records = AuditRecord.objects.count()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in writer.rows:
                cursor.execute(f'VACUUM ANALYZE "{table}"')
    else:  # the planner's statistics after a bulk load, as after any big import (a few seconds)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    book.seconds = time.perf_counter() - started
    return book


def _audit(entries: list[tuple[str, str, str, dict]], company_id: int) -> None:
    from dues.audit.services import AuditEntry, audit_append_many

    for start in range(0, len(entries), 20_000):
        audit_append_many([AuditEntry("bench", action, kind, key, company_id, None, after)
                           for action, kind, key, after in entries[start:start + 20_000]])
    entries.clear()


def find_book(company, book: Book | None = None) -> Book:
    """Fill in the handles the page URLs need (and, for a book loaded earlier with ``--keep``, its counts)."""
    from django.db.models import Count, F

    from dues.audit.models import AuditRecord
    from dues.customers.models import Customer
    from dues.ledger.models import Allocation, Document, OpenItem

    open_items = OpenItem.objects.filter(company=company, side="D").exclude(residual=0)
    if book is None:
        book = Book(as_of=clock.today(), reused=True)
        book.customers = Customer.objects.filter(company=company).count()
        book.documents = Document.objects.filter(company=company).count()
        book.allocations = Allocation.objects.filter(company=company).count()
        book.open_items = open_items.count()
        book.audit_records = AuditRecord.objects.count()
    top = open_items.values("customer__code").annotate(n=Count("id")).order_by("-n", "customer__code").first()
    book.busiest = top["customer__code"] if top else ""
    theirs = open_items.filter(customer__code=book.busiest).order_by("date")
    book.invoice = (theirs.filter(residual__lt=F("amount")).values_list("document__number", flat=True).first()
                    or theirs.values_list("document__number", flat=True).first() or "")
    book.receipt = (Document.objects.filter(company=company, kind="receipt").order_by("id")
                    .values_list("number", flat=True).first() or "")
    book.on_account = (OpenItem.objects.filter(company=company, side="C", document__kind="receipt")
                       .exclude(residual=0).order_by("id").values_list("document__number", flat=True).first() or "")
    return book


# ---------------------------------------------------------------------------------------------
# the pages


@dataclass(frozen=True)
class Page:
    name: str
    url: Callable[[Book], str]


def _q(path: str, **params) -> str:
    from urllib.parse import urlencode

    return f"{path}?{urlencode(params)}" if params else path


#: every main page, as a person opens it. Add pages here.
PAGES: list[Page] = [
    Page("dashboard", lambda b: "/"),
    Page("customers list (by code)", lambda b: "/customers/"),
    Page("customers list, page 1,000", lambda b: _q("/customers/", page=min(1000, max(1, b.customers // 50)))),
    Page("customers by outstanding", lambda b: _q("/customers/", sort="-outstanding")),
    Page("customers search", lambda b: _q("/customers/", q=b.search)),
    Page("global search: an invoice number", lambda b: _q("/search/", q=b.invoice)),
    Page("global search: a name", lambda b: _q("/search/", q=b.search)),
    Page("global search: an amount", lambda b: _q("/search/", q="1,50,000")),
    Page("customer page", lambda b: f"/customers/{b.busiest}/"),
    Page("ageing report", lambda b: "/ageing/"),
    Page("ageing by salesperson", lambda b: _q("/ageing/", by="salesperson")),
    Page("ageing drill-down", lambda b: _q("/ageing/items/", bucket="91-120")),
    Page("ageing Excel export", lambda b: _q("/ageing/", export="xlsx")),
    Page("invoices list", lambda b: "/invoices/"),
    Page("invoices overdue", lambda b: _q("/invoices/", status="overdue")),
    Page("receipts list", lambda b: "/receipts/"),
    Page("invoice page", lambda b: f"/documents/invoice/{b.invoice}/"),
    Page("receipt page", lambda b: f"/documents/receipt/{b.receipt}/"),
    Page("receipt entry", lambda b: _q("/receipts/new/", customer=b.busiest)),
    Page("allocation", lambda b: f"/allocate/receipt/{b.on_account}/"),
    Page("audit log", lambda b: "/audit/"),
]


def _resolves(url: str) -> bool:
    from django.urls import Resolver404, resolve

    try:
        resolve(urlsplit(url).path)
    except Resolver404:
        return False
    return True


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (p95 of 20 runs is the 19th fastest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


@dataclass
class Timing:
    name: str
    url: str
    status: int = 0
    median_ms: float = 0.0
    p95_ms: float = 0.0
    queries: int = 0
    kib: float = 0.0
    runs: list[float] = field(default_factory=list)

    @property
    def met(self) -> bool:
        return self.status == 200 and self.p95_ms <= TARGET_MS


def time_pages(client, book: Book, *, runs: int = 20, pages: list[Page] | None = None, budget_seconds: float = 30.0,
               progress: Callable[[str], None] | None = None) -> tuple[list[Timing], list[str]]:
    """Warm up, then time ``runs`` fetches of each page (fewer, but at least three, once a page has used up
    ``budget_seconds``: a page taking seconds has made its point); returns the timings and the pages skipped."""
    from django.db import connection as conn
    from django.test.utils import CaptureQueriesContext

    progress = progress or (lambda message: None)
    timings, skipped = [], []
    for page in pages if pages is not None else PAGES:
        url = page.url(book)
        if not _resolves(url):
            skipped.append(page.name)
            continue
        progress(f"timing {page.name}: {url}")
        response = client.get(url)  # warm-up: the database's page cache, the template loader's cache
        t = Timing(page.name, url, status=response.status_code, kib=round(len(response.content) / 1024, 1))
        if response.status_code != 200:
            timings.append(t)
            continue
        for n in range(runs):
            start = time.perf_counter()
            client.get(url)
            t.runs.append((time.perf_counter() - start) * 1000)
            if n >= 2 and sum(t.runs) > budget_seconds * 1000:
                break
        with CaptureQueriesContext(conn) as queries:
            client.get(url)
        t.queries = len(queries.captured_queries)
        t.median_ms = round(statistics.median(t.runs), 1)
        t.p95_ms = round(percentile(t.runs, 95), 1)
        timings.append(t)
    return timings, skipped


def bench_client(username: str = "bench-admin"):
    """A test client signed in as an administrator (created with a random password if missing)."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from dues.users.services import user_add

    if "testserver" not in settings.ALLOWED_HOSTS and "*" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        user, _ = user_add(username=username, role="admin", password=secrets.token_urlsafe(18), actor="bench")
    client = Client()
    client.force_login(user)
    return client


def run(*, company, customers: int, seed: int = 42, runs: int = 20, reuse: bool = False,
        progress: Callable[[str], None] | None = None) -> dict:
    progress = progress or (lambda message: None)
    if reuse:
        progress("reusing the book already in this database")
        book = find_book(company)
    else:
        progress(f"writing the book: {customers:,} customers")
        book = find_book(company, load_book(company, customers, seed=seed, progress=progress))
    connection.close()  # time on a connection opened with the settings every dues process uses
    client = bench_client()
    timings, skipped = time_pages(client, book, runs=runs, progress=progress)
    return {
        "customers": book.customers,
        "database": connection.vendor,
        "target_ms": TARGET_MS,
        "runs": runs,
        "pages_measured": len(timings),
        "pages_over_target": [t.name for t in timings if not t.met],
        "pages_skipped": skipped,
        "slowest_p95_ms": max((t.p95_ms for t in timings), default=0.0),
        "pages": [{"page": t.name, "url": t.url, "status": t.status, "median_ms": t.median_ms, "p95_ms": t.p95_ms,
                   "runs": len(t.runs), "queries": t.queries, "kib": t.kib, "met": t.met} for t in timings],
        "documents": book.documents,
        "open_invoices": book.open_items,
        "allocations": book.allocations,
        "audit_records": book.audit_records,
        "as_of": book.as_of.isoformat() if book.as_of else "",
        "reused": book.reused,
        "workload_seconds": round(book.seconds, 1),
    }
