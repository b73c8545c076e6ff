"""Live payment prediction from the ledger: paid history read set-based, every open invoice dated, the
13-week forecast adds up, and a slow payer's open invoice is expected later than a prompt payer's."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from dues import clock
from dues.prediction.forecast import predict_open, weekly_forecast
from dues.reporting.forecast import prediction_inputs


@pytest.fixture
def book(company, make_customer, post):
    today = clock.today()
    fast, slow = make_customer("FAST"), make_customer("SLOW")
    start = today - timedelta(days=400)
    n = 0
    for customer, days in ((fast, 10), (slow, 75)):
        for k in range(24):
            n += 1
            on = start + timedelta(days=12 * k)
            if on + timedelta(days=days) >= today:
                break
            post("invoice", f"INV-{n}", customer, on, "1000.00")
            post("receipt", f"RCT-{n}", customer, on + timedelta(days=days), "1000.00",
                 allocations=[(f"INV-{n}", Decimal("1000.00"))])
    post("invoice", "OPEN-FAST", fast, today - timedelta(days=2), "500.00")
    post("invoice", "OPEN-SLOW", slow, today - timedelta(days=2), "700.00")
    return company


def test_forecast_from_the_ledger(book):
    today = clock.today()
    paid, open_items = prediction_inputs(company=book, as_of=today)
    assert len(paid) >= 30 and {o.number for o in open_items} == {"OPEN-FAST", "OPEN-SLOW"}
    assert all(p.paid_date > p.invoice_date for p in paid)
    predictions = {p.invoice.number: p for p in predict_open(paid, open_items, today)}
    fast, slow = predictions["OPEN-FAST"], predictions["OPEN-SLOW"]
    assert today <= fast.expected < slow.expected
    assert all(p.early <= p.expected <= p.late for p in predictions.values())
    report = weekly_forecast(list(predictions.values()), today)
    assert len(report["weeks"]) == 13
    last = report["weeks"][-1]
    assert last["cumulative_expected"] + report["after_13_weeks"] == report["open_total"] == Decimal("1200.00")
    assert all(w["cumulative_low"] <= w["cumulative_expected"] <= w["cumulative_high"] for w in report["weeks"])
    assert date.fromisoformat(report["weeks"][0]["start"]) == today


def test_stored_forecast_shows_on_the_dashboard(book, client):
    from dues.risk.models import ForecastSnapshot
    from dues.risk.services import recompute_forecast
    from tests.integration.test_web_reports import login

    login(client, "ar_manager")
    assert "No forecast yet" in client.get("/").content.decode()
    (snap,) = recompute_forecast(clock.today(), company=book)
    assert ForecastSnapshot.objects.count() == 1 and snap.open_total == Decimal("1200.00") and len(snap.weeks) == 13
    html = client.get("/").content.decode()
    assert "Expected collections" in html and "No forecast yet" not in html
    recompute_forecast(clock.today(), company=book)
    assert ForecastSnapshot.objects.count() == 1  # only the latest is kept
