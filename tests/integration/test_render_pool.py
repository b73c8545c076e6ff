"""Statements rendered in worker processes: the same text as in-process, in order, no database in workers."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader

from dues.documents import render_pool
from dues.documents.statements import render_statement

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]

START, END = date(2026, 4, 1), date(2026, 6, 30)


def text(pdf: bytes) -> str:
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))


@pytest.fixture
def customers(company, make_customer, post):
    out = []
    for n in range(1, 5):
        c = make_customer(f"C00{n}", name=f"Customer {n} Traders", gstin="27AAPFU0939F1ZV" if n == 1 else "")
        post("invoice", f"INV-{n}", c, "2026-04-15", f"{n * 12345}.50")
        post("receipt", f"RCT-{n}", c, "2026-05-10", "1000.00", allocations=[(f"INV-{n}", Decimal("1000.00"))])
        out.append(c)
    return out


def test_workers_render_the_same_statements_in_order(company, customers):
    inline = [text(render_statement(company, c, START, END)) for c in customers]
    got = list(render_pool.render_statements(company, END, [(c, START) for c in customers], workers=2))
    assert [c.code for c, _ in got] == ["C001", "C002", "C003", "C004"]
    assert [text(pdf) for _, pdf in got] == inline
    assert "Total due ₹11,345.50" in inline[0] and "Total due ₹48,380.50" in inline[3]  # less 1,000.00 received


def test_prefetch_out_of_plan_and_one_worker_render_inline(company, customers):
    with render_pool.StatementPrefetch(company, END, [(c, START) for c in customers[:2]], workers=2) as prefetch:
        assert prefetch.executor is not None
        other = prefetch.get(customers[3], START)  # not in the plan: drawn here
        first = prefetch.get(customers[0], START)
    assert "C004" in text(other) and "C001" in text(first)
    single = render_pool.StatementPrefetch(company, END, [(c, START) for c in customers], workers=1)
    assert single.executor is None and "C002" in text(single.get(customers[1], START))


def test_render_workers_setting(monkeypatch, settings):
    monkeypatch.setenv("DUES_RENDER_WORKERS", "1")
    assert render_pool.render_workers() == 1
    monkeypatch.delenv("DUES_RENDER_WORKERS")
    settings.DUES_RENDER_WORKERS = 3
    assert render_pool.render_workers() == 3
    settings.DUES_RENDER_WORKERS = None
    assert render_pool.render_workers() >= 1
