"""Demo web benchmark: every page of the demo, as each role, on the demo's own books.

Where ``bench web`` writes a synthetic book of 100,000 customers and times the pages as an administrator,
this one times what a person opening the demo (``dues demo``) gets: the demo company's 300 customers, a
year of documents, bank lines, promises and disputes, signed in as each demo login (admin, manager,
pooja, billing, rahul, auditor). Each page is fetched once to warm up, then ``runs`` times with the
Django test client (server time: routing, view, queries, template; no network, no browser), and its
median and 95th percentile are set against ``TARGET_MS`` (300 ms at the 95th percentile). The 95th percentile
of the process's CPU time is shown beside it: on a shared, busy machine the wall time includes waiting for
a core, the CPU time does not.

A page the role may not open (403) is listed as not allowed, a page the desk does not have (404, or a
URL that does not resolve) as skipped; neither counts against the target. ``PAGES`` is a plain list:
add a page with its name and a function of the ``Handles`` that gives its URL. Changes nothing in the
books (only GET requests; a signed-in session).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .web import _q, _resolves, percentile

TARGET_MS = 300
ROLE_USERS = ("admin", "manager", "pooja", "billing", "rahul", "auditor")


@dataclass
class Handles:
    """What the page URLs need from the books, picked per role (rahul sees only his customers)."""

    customer: str = ""
    invoice: str = ""
    receipt: str = ""
    on_account: str = ""


@dataclass(frozen=True)
class Page:
    name: str
    url: Callable[[Handles], str]


PAGES: list[Page] = [
    Page("dashboard", lambda h: "/?view=dashboard"),  # a collector's "/" is My day (timed below)
    Page("my day", lambda h: "/my-day/"),
    Page("search", lambda h: _q("/search/", q=h.invoice)),
    Page("customers", lambda h: "/customers/"),
    Page("customers by overdue", lambda h: _q("/customers/", sort="-overdue")),
    Page("customer page", lambda h: f"/customers/{h.customer}/"),
    Page("timeline", lambda h: f"/customers/{h.customer}/timeline/"),
    Page("worklist", lambda h: "/worklist/"),
    Page("promises", lambda h: "/promises/"),
    Page("disputes", lambda h: "/disputes/"),
    Page("dunning preview", lambda h: "/dunning/preview/"),
    Page("policies", lambda h: "/collections/policies/"),
    Page("message templates", lambda h: "/collections/templates/"),
    Page("cash workbench", lambda h: "/cash/"),
    Page("invoices", lambda h: "/invoices/"),
    Page("invoices overdue", lambda h: _q("/invoices/", status="overdue")),
    Page("receipts", lambda h: "/receipts/"),
    Page("credit notes", lambda h: "/credit-notes/"),
    Page("invoice page", lambda h: f"/documents/invoice/{h.invoice}/"),
    Page("receipt page", lambda h: f"/documents/receipt/{h.receipt}/"),
    Page("new receipt", lambda h: _q("/receipts/new/", customer=h.customer)),
    Page("allocate", lambda h: f"/allocate/receipt/{h.on_account}/"),
    Page("ageing", lambda h: "/ageing/"),
    Page("ageing by salesperson", lambda h: _q("/ageing/", by="salesperson")),
    Page("ageing drill-down", lambda h: _q("/ageing/items/", bucket="61-90")),
    Page("reconcile", lambda h: "/reconcile/"),
    Page("confirmations", lambda h: "/reconcile/confirmations/"),
    Page("imports", lambda h: "/imports/"),
    Page("audit log", lambda h: "/audit/"),
]


@dataclass
class Timing:
    role: str
    name: str
    url: str
    status: int = 0
    median_ms: float = 0.0
    p95_ms: float = 0.0
    queries: int = 0
    cpu_p95_ms: float = 0.0        # this process's CPU time: what the page costs, whatever else the machine runs
    runs: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        if self.status == 403:
            return "not allowed"
        if self.status == 404:
            return "skipped"
        if self.status != 200:
            return "FAIL"
        return "pass" if self.p95_ms <= TARGET_MS else "FAIL"


def handles_for(user) -> Handles:
    """The busiest customer the user may see, its latest open invoice, a receipt, a receipt with money on account."""
    from django.db.models import Count, Q

    from dues.customers.models import Customer
    from dues.ledger.models import Document, OpenItem
    from dues.users.permissions import customers_visible

    visible = customers_visible(user, Customer.objects.all())
    busiest = (visible.annotate(n=Count("open_items", filter=Q(open_items__residual__gt=0, open_items__side="D")))
               .order_by("-n", "code").first())
    h = Handles(customer=busiest.code if busiest else "")
    docs = Document.objects.filter(customer__in=visible, status=Document.POSTED)
    invoice = docs.filter(kind=Document.INVOICE, customer=busiest).order_by("-date", "-id").first() if busiest else None
    invoice = invoice or docs.filter(kind=Document.INVOICE).order_by("-date", "-id").first()
    receipt = docs.filter(kind=Document.RECEIPT).order_by("-date", "-id").first()
    on_account = (OpenItem.objects.filter(document__in=docs.filter(kind=Document.RECEIPT), side="C", residual__gt=0)
                  .select_related("document").order_by("-document__date").first())
    h.invoice = invoice.number if invoice else ""
    h.receipt = receipt.number if receipt else ""
    h.on_account = on_account.document.number if on_account else h.receipt
    return h


def time_role(client, role: str, handles: Handles, *, runs: int, pages: list[Page] | None = None,
              progress: Callable[[str], None] | None = None) -> list[Timing]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    progress = progress or (lambda message: None)
    out = []
    for page in pages if pages is not None else PAGES:
        url = page.url(handles)
        t = Timing(role, page.name, url)
        if not _resolves(url):
            t.status = 404
            out.append(t)
            continue
        progress(f"{role}: {page.name} {url}")
        response = client.get(url)  # warm-up
        t.status = response.status_code
        if t.status == 200:
            for _ in range(runs):
                start, cpu = time.perf_counter(), time.process_time()
                client.get(url)
                t.runs.append((time.perf_counter() - start) * 1000)
                t.cpu.append((time.process_time() - cpu) * 1000)
            with CaptureQueriesContext(connection) as queries:
                client.get(url)
            t.queries = len(queries.captured_queries)
            t.median_ms = round(statistics.median(t.runs), 1)
            t.p95_ms = round(percentile(t.runs, 95), 1)
            t.cpu_p95_ms = round(percentile(t.cpu, 95), 1)
        out.append(t)
    return out


def run(*, runs: int = 20, roles: tuple[str, ...] = ROLE_USERS, pages: list[Page] | None = None,
        progress: Callable[[str], None] | None = None) -> dict:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from dues.companies.models import Company

    if Company.objects.count() == 0:
        raise RuntimeError("no company in this database: build the demo first (dues demo --no-serve)")
    if "testserver" not in settings.ALLOWED_HOSTS and "*" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    users = get_user_model().objects.filter(username__in=roles)
    found = {u.username: u for u in users}
    missing = [r for r in roles if r not in found]
    timings: list[Timing] = []
    for role in roles:
        if role not in found:
            continue
        client = Client()
        client.force_login(found[role])
        timings += time_role(client, role, handles_for(found[role]), runs=runs, pages=pages, progress=progress)
    measured = [t for t in timings if t.status == 200]
    return {
        "database": connection.vendor,
        "target_ms": TARGET_MS,
        "runs": runs,
        "roles": [r for r in roles if r in found],
        "roles_missing": missing,
        "pages_measured": len(measured),
        "failed": [f"{t.role}: {t.name}" for t in timings if t.verdict == "FAIL"],
        "slowest_p95_ms": max((t.p95_ms for t in measured), default=0.0),
        "pages": [{"role": t.role, "page": t.name, "url": t.url, "status": t.status, "median_ms": t.median_ms,
                   "p95_ms": t.p95_ms, "cpu_p95_ms": t.cpu_p95_ms, "queries": t.queries, "verdict": t.verdict} for t in timings],
    }
