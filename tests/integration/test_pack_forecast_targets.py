"""The weekly pack carries the stored 13-week cash forecast (PDF and XLSX); collection targets per
collector and the KPI "collections against target per collector" (service, CLI, packs)."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest

from dues import clock

pytestmark = [pytest.mark.django_db, pytest.mark.date_sensitive]


@pytest.fixture
def book(company, make_customer, post):
    today = clock.today()
    ravi = make_customer("C001", name="Shree Ganesh Traders", collector="Ravi")
    anita = make_customer("C002", name="Kaveri Distributors", collector="Anita")
    post("invoice", "INV-1", ravi, today - timedelta(days=50), "10000.00")
    post("invoice", "INV-2", anita, today - timedelta(days=20), "5000.00")
    post("receipt", "RCT-1", ravi, today.replace(day=1), "4000.00", allocations=[("INV-1", Decimal("4000.00"))])
    post("receipt", "RCT-2", anita, today, "1000.00", allocations=[("INV-2", Decimal("1000.00"))])
    # last month: not this month's collections
    post("receipt", "RCT-0", ravi, today.replace(day=1) - timedelta(days=1), "500.00")
    return today


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_weekly_pack_has_the_stored_forecast_in_pdf_and_xlsx(company, book):
    from openpyxl import load_workbook

    from dues.jobs.reports import build_pack, render_pdf, render_xlsx, summary_text
    from dues.risk.services import recompute_forecast

    empty = build_pack(company=company, kind="weekly", on=book)
    assert empty.forecast == [] and "No cash forecast computed yet" in empty.notes[0]
    assert "No cash forecast computed yet" in _pdf_text(render_pdf(empty))
    snap = recompute_forecast(book, company=company)[0]
    pack = build_pack(company=company, kind="weekly", on=book)
    assert len(pack.forecast) == 13 and pack.forecast_as_of == book
    assert pack.forecast_open_total == snap.open_total == Decimal("10000.00")
    assert pack.forecast[-1]["cumulative_expected"] + pack.forecast_after == Decimal("10000.00")
    wb = load_workbook(io.BytesIO(render_xlsx(pack)))
    ws = wb["Cash forecast"]
    assert ws["A1"].value == "Week" and ws["A2"].value == 1 and ws["A15"].value == "after 13 weeks"
    text = _pdf_text(render_pdf(pack))
    assert "Cash forecast, next 13 weeks" in text and "after 13 weeks" in text
    assert "Cash forecast" in summary_text(pack)
    daily = build_pack(company=company, kind="daily", on=book)
    assert daily.forecast == [] and "Cash forecast" not in load_workbook(io.BytesIO(render_xlsx(daily))).sheetnames
