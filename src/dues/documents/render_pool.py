"""Statement PDFs rendered in parallel: the figures are read in this process, the PDFs drawn in workers.

ReportLab is pure CPU and holds the GIL, so threads do not help; a ``ProcessPoolExecutor`` (fork on
Linux: the workers start in milliseconds, Django and the fonts already loaded) draws the PDFs. The
workers never touch the database: the parent reads each statement's figures
(``pdf.statement_data``: the set-based selectors) and sends plain data — the company's and the
customer's few printed fields, the statement lines, ageing and open items — and gets bytes back.
Sending, idempotency keys and the activity log stay in the parent.

    prefetch = StatementPrefetch(company, on, [(customer, date_from), ...])
    content = prefetch.get(customer, date_from)  # in plan order; renders ahead of the caller
    prefetch.close()

``DUES_RENDER_WORKERS`` (environment or Django setting): how many workers (default: the CPU count;
1 renders in this process, as before).
"""

from __future__ import annotations

import multiprocessing
import os
import warnings
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import date
from types import SimpleNamespace

COMPANY_FIELDS = ("name", "gstin", "address", "locale", "currency")
CUSTOMER_FIELDS = ("name", "code", "gstin", "state_code")


def render_workers() -> int:
    """``DUES_RENDER_WORKERS`` (environment, then Django setting), else ``os.cpu_count()``; at least 1."""
    from django.conf import settings

    raw = os.environ.get("DUES_RENDER_WORKERS") or getattr(settings, "DUES_RENDER_WORKERS", None)
    try:
        n = int(raw) if raw not in (None, "") else (os.cpu_count() or 1)
    except (TypeError, ValueError):
        n = os.cpu_count() or 1
    return max(1, n)


def plain(obj, fields: tuple[str, ...]) -> SimpleNamespace:
    """The printed fields of a model instance, as plain data (pickles small, needs no database)."""
    return SimpleNamespace(**{f: getattr(obj, f, "") for f in fields})


def _detach_database() -> None:
    """Worker initializer: forget the parent's database connections without closing them.

    Closing would end the parent's PostgreSQL session (the socket is shared after fork); a worker
    that touched the database by mistake now opens its own connection instead of corrupting the
    parent's. The old connection objects are kept referenced so they are never finalised here.
    """
    from django.db import connections

    kept = []
    for conn in connections.all(initialized_only=True):
        kept.append(conn.connection)
        conn.connection = None
    globals()["_KEPT"] = kept


def _render(company, customer, date_from: date, date_to: date, data) -> bytes:
    from dues.documents.statements import render_statement

    return render_statement(company, customer, date_from, date_to, data=data)


def _pool(workers: int) -> ProcessPoolExecutor:
    context = multiprocessing.get_context("fork") if "fork" in multiprocessing.get_all_start_methods() else None
    return ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_detach_database)


class StatementPrefetch:
    """Statements for ``plan`` (``(customer, date_from)`` pairs, to ``on``), rendered ahead in workers.

    Reading the figures for the next statements and drawing them overlaps with whatever the caller
    does between two ``get`` calls (sending mail, writing the activity log). ``get`` for a customer
    not in the plan (or with one worker) renders in this process.
    """

    def __init__(self, company, on: date, plan: list[tuple[object, date]], *, workers: int | None = None,
                 ahead: int | None = None):
        self.company, self.on = company, on
        self.plan = [(customer, start) for customer, start in plan]
        self.workers = workers or render_workers()
        self.ahead = ahead or 4 * self.workers
        self.next = 0
        self.futures: dict[tuple[int, date], Future] = {}
        self.executor: ProcessPoolExecutor | None = None
        if self.workers > 1 and len(self.plan) > 1:
            self.executor = _pool(self.workers)
            self.company_plain = plain(company, COMPANY_FIELDS)

    def _submit_until(self, position: int) -> None:
        from dues.documents.pdf import register_fonts
        from dues.documents.statements import statement_data

        register_fonts()  # once, before the first fork: every worker inherits the parsed fonts
        while self.next < len(self.plan) and self.next <= position:
            customer, start = self.plan[self.next]
            self.next += 1
            key = (customer.pk, start)
            try:
                data = statement_data(self.company, customer, start, self.on)
                data.company, data.customer = self.company_plain, plain(customer, CUSTOMER_FIELDS)
                with warnings.catch_warnings():  # fork with the SMTP thread running: the workers use no locks of it
                    warnings.simplefilter("ignore", DeprecationWarning)
                    self.futures[key] = self.executor.submit(_render, data.company, data.customer, start, self.on,
                                                             data)
            except Exception as exc:  # reported when this statement is asked for
                failed: Future = Future()
                failed.set_exception(exc)
                self.futures[key] = failed

    def get(self, customer, date_from: date) -> bytes:
        key = (customer.pk, date_from)
        if self.executor is not None:
            if key not in self.futures:
                position = next((i for i in range(self.next, len(self.plan))
                                 if (self.plan[i][0].pk, self.plan[i][1]) == key), None)
                if position is not None:
                    self._submit_until(position)
            future = self.futures.pop(key, None)
            if future is not None:
                # keep ``ahead`` statements in flight while this one finishes
                self._submit_until(self.next + self.ahead - len(self.futures) - 1)
                return future.result()
        from dues.documents.statements import render_statement

        return render_statement(self.company, customer, date_from, self.on)

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.executor = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def render_statements(company, on: date, plan: list[tuple[object, date]], *, workers: int | None = None):
    """Yield ``(customer, pdf bytes)`` for ``plan`` in order, rendered in parallel (``dues statement --all``)."""
    with StatementPrefetch(company, on, plan, workers=workers) as prefetch:
        for customer, start in plan:
            yield customer, prefetch.get(customer, start)
