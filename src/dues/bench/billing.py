"""Bill-run and tax-invoice PDF throughput on synthetic deliveries (seeded).

``run`` writes customers, an item master and N delivery lines (one to four lines a challan), times
one bill run over all of them (draft invoices per second), approves a sample of the drafts and times
rendering their tax invoice PDFs (PDFs per second, wall clock and per CPU second of this process),
against a baseline in the same run: one-line PDFs with the same fonts.
"""

from __future__ import annotations

import random
import time
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection

from dues.billing.models import Bill, Delivery, DeliveryLine, Item
from dues.billing.services import bill_run, billing_settings_set, bills_approve
from dues.customers.models import Customer

SLABS = [Decimal(x) for x in ("5", "12", "18", "18", "28")]
STATES = ["27", "27", "27", "29", "24", "33", "07"]


def _book(company, lines: int, seed: int, on: date) -> int:
    rnd = random.Random(seed)
    customers = Customer.objects.bulk_create(
        Customer(company=company, code=f"B{i:05d}", name=f"Bench Customer {i}", state_code=rnd.choice(STATES),
                 terms_days=30, bill_by_po=i % 10 == 0) for i in range(max(10, lines // 20)))
    items = Item.objects.bulk_create(
        Item(company=company, code=f"IT{i:03d}", name=f"Item {i}", hsn=f"{7300 + i:04d}", unit="NOS",
             gst_rate=rnd.choice(SLABS), kind="goods") for i in range(50))
    challans, made = [], 0
    while made < lines:
        n = min(rnd.randint(1, 4), lines - made)
        cust = rnd.choice(customers)
        challans.append((Delivery(company=company, number=f"DC-{len(challans) + 1:06d}", customer=cust,
                                  date=on - timedelta(days=rnd.randint(0, 25)), po=f"PO-{rnd.randint(1, 3)}",
                                  created_by="bench"), n))
        made += n
    Delivery.objects.bulk_create([c for c, _ in challans], batch_size=2000)
    rows = []
    for d, n in challans:
        for pos in range(1, n + 1):
            item = rnd.choice(items)
            rows.append(DeliveryLine(delivery=d, position=pos, item=item, hsn=item.hsn,
                                     quantity=Decimal(rnd.randint(1, 500)), uom="NOS",
                                     rate=Decimal(rnd.randint(100, 99999)) / 100, gst_rate=item.gst_rate,
                                     discount_pct=Decimal(rnd.choice([0, 0, 2, 5]))))
    DeliveryLine.objects.bulk_create(rows, batch_size=2000)
    return len(challans)


def run(*, company, lines: int = 10_000, pdfs: int = 200, seed: int = 42, progress=lambda m: None) -> dict:
    on = date(2026, 11, 30)
    billing_settings_set(company=company, values={"upi_vpa": "bench@hdfcbank", "address": "Plot 7, MIDC",
                                                  "city": "Pune", "pin": "411026",
                                                  "overdue_days_allowed": "9999"}, actor="bench")
    progress(f"writing {lines:,} delivery lines")
    challans = _book(company, lines, seed, on)
    progress("bill run")
    start, cpu = time.perf_counter(), time.process_time()
    result = bill_run(company=company, on=on, actor="bench")
    run_s, run_cpu = time.perf_counter() - start, time.process_time() - cpu
    drafts = len(result.bills)
    progress(f"approving {pdfs} drafts")
    sample = list(Bill.objects.filter(company=company, status=Bill.DRAFT).order_by("pk")[:pdfs])
    start = time.perf_counter()
    bills_approve(company=company, bills=sample, actor="bench-checker")
    approve_s = time.perf_counter() - start
    approved = list(Bill.objects.filter(company=company, status=Bill.APPROVED).select_related("customer")
                    .prefetch_related("lines"))
    progress(f"rendering {len(approved)} tax invoice PDFs, one process")
    from dues.documents.render_pool import render_workers
    from dues.documents.tax_invoice import render_tax_invoices

    start, cpu = time.perf_counter(), time.process_time()
    size = sum(len(p) for p in render_tax_invoices(company, approved, workers=1))
    pdf_s, pdf_cpu = time.perf_counter() - start, time.process_time() - cpu
    # the baseline, in the same run and process: a one-page PDF with the same fonts and a line of text,
    # so a loaded machine shows in both figures (the invoice rate / the baseline rate is the page's cost)
    from dues.documents.pdf import build_pdf, para, styles

    progress(f"rendering {len(approved)} baseline one-line PDFs")
    st = styles()
    start, cpu = time.perf_counter(), time.process_time()
    for b in approved:
        build_pdf([para(f"Baseline {b.number}", st["base"])], title="baseline", author="bench", subject="baseline",
                  footer="baseline")
    base_s, base_cpu = time.perf_counter() - start, time.process_time() - cpu
    workers = render_workers()
    progress(f"rendering them again in {workers} worker processes")
    start = time.perf_counter()
    render_tax_invoices(company, approved, workers=workers)
    pool_s = time.perf_counter() - start
    return {
        "database": connection.vendor, "delivery_lines": lines, "challans": challans, "drafts": drafts,
        "bill_run_seconds": round(run_s, 3), "drafts_per_second": round(drafts / run_s, 1),
        "lines_per_second": round(lines / run_s, 1),
        # this process's CPU time: what the figure would be on an idle machine (the database's own time aside)
        "drafts_per_cpu_second": round(drafts / run_cpu, 1) if run_cpu else None, "approved": len(approved),
        "approvals_per_second": round(len(approved) / approve_s, 1) if approve_s else None,
        "pdfs": len(approved), "pdf_seconds": round(pdf_s, 3),
        "pdfs_per_second": round(len(approved) / pdf_s, 1) if pdf_s else None,
        "pdfs_per_cpu_second": round(len(approved) / pdf_cpu, 1) if pdf_cpu else None,
        "baseline_pdfs_per_second": round(len(approved) / base_s, 1) if base_s else None,
        "baseline_pdfs_per_cpu_second": round(len(approved) / base_cpu, 1) if base_cpu else None,
        "render_workers": workers, "pool_pdfs_per_second": round(len(approved) / pool_s, 1) if pool_s else None,
        "average_pdf_bytes": size // max(1, len(approved)),
        "targets": "≥ 1,000 drafts/s, ≥ 50 PDFs/s",
    }
