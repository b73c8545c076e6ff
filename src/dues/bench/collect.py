"""Collections benchmark: one dunning run over N customers, statements attached as PDF, to an SMTP sink.

1. N customers, each with three invoices 15 to 25 days overdue and a part payment (so each
   statement has transactions, a running balance, ageing and open items), are posted through the
   real services (``customer_create``, ``documents_post``); the company's default policy (the
   standard steps) puts every customer at the "statement" step (an e-mail with the statement of
   account as a PDF) and the "call" step (a task).
2. An aiosmtpd server runs on loopback in a spawned process of its own, as a real mail server would
   (``DUES_SMTP_URL`` points at it for the run); it counts the messages and the PDF attachments it
   receives. The statements are rendered in ``DUES_RENDER_WORKERS`` processes (``render_pool``);
   their CPU time is reported apart.
3. ``collect_run`` is timed end to end (evaluation, idempotency keys, PDF rendering, SMTP, activity
   log): customers per second and statement PDFs per second. The PDF rendering alone
   (``render_statement`` on a sample of customers) is timed apart, to show where the time goes.
"""

from __future__ import annotations

import os
import random
import socket
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection

from dues import clock

TARGET_PDFS_PER_SECOND = 50


class Sink:
    """An aiosmtpd handler that counts what it receives (the bytes are dropped)."""

    def __init__(self) -> None:
        self.messages = 0
        self.pdfs = 0
        self.bytes = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        content = envelope.original_content or envelope.content or b""
        self.messages += 1
        self.bytes += len(content)
        self.pdfs += content.count(b"Content-Type: application/pdf")
        return "250 accepted"


def _serve_sink(port: int, counts, ready, stop) -> None:
    """The SMTP sink in a process of its own (as a real mail server would be): counts into ``counts``."""
    from aiosmtpd.controller import Controller

    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    try:
        stop.wait()
    finally:
        controller.stop()
        counts[0], counts[1], counts[2] = sink.messages, sink.pdfs, sink.bytes


class SinkProcess:
    """Starts ``_serve_sink`` in a spawned process; ``stop()`` returns the counted ``Sink`` figures."""

    def __init__(self, port: int):
        import multiprocessing

        context = multiprocessing.get_context("spawn")  # a clean interpreter: no Django, no database
        self.counts = context.Array("q", 3)
        self.ready, self.done = context.Event(), context.Event()
        self.process = context.Process(target=_serve_sink, args=(port, self.counts, self.ready, self.done),
                                       daemon=True)

    def start(self) -> None:
        self.process.start()
        if not self.ready.wait(30):
            self.process.kill()
            raise RuntimeError("the SMTP sink did not start")

    def stop(self) -> Sink:
        self.done.set()
        self.process.join(30)
        sink = Sink()
        sink.messages, sink.pdfs, sink.bytes = self.counts[0], self.counts[1], self.counts[2]
        return sink


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children_cpu() -> float:
    times = os.times()
    return times.children_user + times.children_system


def load_book(company, customers: int, on: date, *, seed: int = 42, actor: str = "bench") -> int:
    """Write the customers and their documents through the real services; returns the documents posted."""
    from dues.customers.services import customer_create
    from dues.ledger.services import DocumentDraft, documents_post

    rng = random.Random(seed)
    people = []
    for n in range(customers):
        people.append(customer_create(company=company, actor=actor, data={
            "code": f"C{n + 1:05d}", "name": f"Bench Customer {n + 1} Pvt Ltd", "state": "27", "credit_days": "30",
            "email": f"ap{n + 1}@customer{n + 1}.example"}))
    drafts: list[DocumentDraft] = []
    for n, customer in enumerate(people):
        amounts = []
        for k in range(3):
            overdue = rng.randint(15, 25)
            due = on - timedelta(days=overdue)
            amount = Decimal(rng.randint(5_000_00, 5_00_000_00)) / 100
            amounts.append(amount)
            drafts.append(DocumentDraft(kind="invoice", number=f"INV-{n + 1:05d}-{k + 1}", customer=customer,
                                        date=due - timedelta(days=30), due_date=due, amount=amount))
        part = (amounts[0] / 2).quantize(Decimal("0.01"))
        drafts.append(DocumentDraft(kind="receipt", number=f"RCT-{n + 1:05d}", customer=customer,
                                    date=on - timedelta(days=10), amount=part, mode="neft",
                                    reference=f"UTR{n + 1:010d}", allocations=[(f"INV-{n + 1:05d}-1", part)]))
    for start in range(0, len(drafts), 2000):
        documents_post(company=company, drafts=drafts[start:start + 2000], actor=actor)
    return len(drafts)


def run(*, company, customers: int, seed: int = 42, progress: Callable[[str], None] | None = None) -> dict:

    from dues.collections.services.dunning import collect_run
    from dues.customers.models import Customer
    from dues.documents.render_pool import render_workers
    from dues.documents.statements import render_statement

    say = progress or (lambda message: None)
    on = clock.today()
    started = time.perf_counter()
    say(f"writing {customers:,} customers and {customers * 4:,} documents")
    documents = load_book(company, customers, on, seed=seed)
    load_seconds = time.perf_counter() - started

    port = _free_port()
    controller = SinkProcess(port)
    controller.start()
    sink = Sink()
    saved = {k: os.environ.get(k) for k in ("DUES_SMTP_URL", "DUES_MAIL_FROM")}
    os.environ["DUES_SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    os.environ["DUES_MAIL_FROM"] = "Benchmark Traders <ar@bench.example>"
    try:
        say(f"dunning run on {on.isoformat()} to the SMTP sink on port {port}")
        t0, c0, w0 = time.perf_counter(), time.process_time(), _children_cpu()
        result = collect_run(company=company, on=on, actor="bench")
        # the render workers are joined (so counted in the children's times) when collect_run returns
        seconds, cpu, workers_cpu = time.perf_counter() - t0, time.process_time() - c0, _children_cpu() - w0
    finally:
        sink = controller.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    sent = [a for a in result.actions if a.status == "sent"]
    statements = [a for a in sent if a.step == "statement"]
    reached = len({a.customer for a in sent})

    # the PDF alone, on a sample of customers (already warm: fonts registered by the run)
    sample = list(Customer.objects.filter(company=company).order_by("code")[:min(customers, 50)])
    t1 = time.perf_counter()
    for customer in sample:
        render_statement(company, customer, on - timedelta(days=90), on)
    pdf_only = time.perf_counter() - t1

    pdfs_per_second = round(sink.pdfs / seconds, 1) if seconds else 0.0
    return {
        "database": connection.vendor,
        "customers": customers,
        "documents": documents,
        "load_seconds": round(load_seconds, 2),
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),  # this process (reading, mail, activity log); the SMTP sink has its own
        "render_workers": render_workers(),
        "render_workers_cpu_seconds": round(workers_cpu, 3),
        "actions": len(result.actions),
        "sent": len(sent),
        "failed": result.count("failed"),
        "customers_reached": reached,
        "emails_received": sink.messages,
        "statement_emails": len(statements),
        "pdfs_received": sink.pdfs,
        "megabytes_received": round(sink.bytes / 1_000_000, 2),
        "customers_per_second": round(reached / seconds, 1) if seconds else 0.0,
        "pdfs_per_second": pdfs_per_second,
        "pdfs_per_cpu_second": round(sink.pdfs / (cpu + workers_cpu), 1) if cpu + workers_cpu else 0.0,
        "pdf_render_only_per_second": round(len(sample) / pdf_only, 1) if pdf_only else 0.0,
        "target_pdfs_per_second": TARGET_PDFS_PER_SECOND,
        "target_met": pdfs_per_second >= TARGET_PDFS_PER_SECOND,
    }
