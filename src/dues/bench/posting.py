"""Posting benchmark: documents per second through the real import path, and the latency of one
receipt posted through the service a person uses.

Customers, invoices and receipts (with allocations, some net of TDS or bank charges) are written
as CSV files and imported with ``dues.integrations.importers.import_file``, which validates every
row and posts documents, journal entries, open items, allocations and audit records in one
transaction per file. Then single receipts, each allocated to one open invoice, are posted one at a
time with ``dues.ledger.services.document_post``.
"""

from __future__ import annotations

import math
import statistics
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from django.db import connection

from .workload import write_posting_files

SINGLE_AMOUNT = 100_00  # paisa


def _percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def run(*, company, documents: int, seed: int = 42, singles: int = 200, warmup: int = 5,
        progress: Callable[[str], None] | None = None) -> dict:
    from dues.customers.models import Customer
    from dues.integrations.importers import import_file
    from dues.ledger.services import DocumentDraft, document_post

    progress = progress or (lambda message: None)
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="dues-bench-") as tmp:
        files = write_posting_files(Path(tmp), documents, seed=seed)
        for kind, path in (("customers", files.customers), ("invoices", files.invoices),
                           ("receipts", files.receipts)):
            progress(f"importing {path.name}")
            start = time.perf_counter()
            result = import_file(kind=kind, path=path, company=company, actor="bench")
            timings[kind] = time.perf_counter() - start
            expected = {"customers": files.n_customers, "invoices": files.n_invoices, "receipts": files.n_receipts}
            if result.created != expected[kind]:
                raise RuntimeError(f"{path.name}: created {result.created}, expected {expected[kind]}")

    progress(f"posting {warmup + singles} single receipts")
    customers = {c.code: c for c in Customer.objects.filter(company=company)}
    targets = [inv for inv in files.open_invoices if inv.residual >= SINGLE_AMOUNT]
    latencies: list[float] = []
    for n in range(warmup + singles):
        if not targets:
            break
        inv = targets[n % len(targets)]
        draft = DocumentDraft(kind="receipt", number=f"ONE-{n:06d}", customer=customers[inv.customer],
                              date=files.last_day, amount=Decimal(SINGLE_AMOUNT) / 100, mode="upi",
                              reference=f"UPI{n:012d}",
                              allocations=[(inv.number, Decimal(SINGLE_AMOUNT) / 100)])
        start = time.perf_counter()
        document_post(draft, company=company, actor="bench")
        elapsed = (time.perf_counter() - start) * 1000
        inv.residual -= SINGLE_AMOUNT
        if inv.residual < SINGLE_AMOUNT:
            targets.remove(inv)
        if n >= warmup:
            latencies.append(elapsed)

    posted = files.n_invoices + files.n_receipts
    seconds = timings["invoices"] + timings["receipts"]
    return {
        "documents": posted,
        "database": connection.vendor,
        "documents_per_second": round(posted / seconds, 1),
        "invoices_per_second": round(files.n_invoices / timings["invoices"], 1),
        "receipts_per_second": round(files.n_receipts / timings["receipts"], 1),
        "single_receipt_median_ms": round(statistics.median(latencies), 2) if latencies else None,
        "single_receipt_p95_ms": round(_percentile(latencies, 95), 2) if latencies else None,
        # the details
        "invoices": files.n_invoices,
        "receipts": files.n_receipts,
        "allocations": files.n_allocations,
        "customers": files.n_customers,
        "invoices_seconds": round(timings["invoices"], 3),
        "receipts_seconds": round(timings["receipts"], 3),
        "customers_seconds": round(timings["customers"], 3),
        "single_receipts": len(latencies),
    }
