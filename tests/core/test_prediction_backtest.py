"""The payment-date back-test: no leak of what is not known at invoice time, the JSON it prints."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from dues.prediction.backtest import predict_split
from dues.prediction.features import CustomerHistory, Paid, invoice_features
from dues.prediction.history import Invoice, read_history, write_history

SPLIT = date(2024, 7, 1)


def synthetic(seed: int = 3, customers: int = 12, per_customer: int = 30) -> list[Invoice]:
    """Customers who each pay in their own way (some slowing down), invoices over 2024."""
    rng = random.Random(seed)
    rows = []
    for c in range(customers):
        usual, drift = rng.randint(10, 60), rng.choice([0, 0, 0.1, 0.3])
        for k in range(per_customer):
            inv = date(2024, 1, 1) + timedelta(days=rng.randint(0, 330))
            days = max(0, int(rng.gauss(usual + drift * (inv - date(2024, 1, 1)).days / 10, 4)))
            rows.append(Invoice(f"C{c:02d}", f"INV-{c:02d}-{k:03d}", inv, inv + timedelta(days=30),
                                Decimal(rng.randint(100, 10_000)), (inv + timedelta(days=days)).isoformat()))
    return rows


def test_features_use_only_invoices_paid_before_the_invoice_date():
    paid = [Paid(date(2024, 1, 1), date(2024, 1, 31), date(2024, 2, 10), 100.0),
            Paid(date(2024, 2, 1), date(2024, 3, 2), date(2024, 3, 1), 100.0),
            Paid(date(2024, 1, 15), date(2024, 2, 14), date(2024, 5, 1), 100.0)]
    history = CustomerHistory(paid)
    before = history.before(date(2024, 3, 1))  # paid *before* 1 March: only the first
    assert [p.paid_date for p in before] == [date(2024, 2, 10)]
    row = invoice_features(date(2024, 3, 1), date(2024, 3, 31), 100.0, before)
    assert row[1] == 1.0 and row[2] == 40.0  # one paid invoice, 40 days to pay


def test_paid_dates_on_or_after_the_split_are_never_read():
    rows = synthetic()
    honest = predict_split(rows, SPLIT)
    assert honest.test_rows > 100 and honest.mae_days is not None
    garbage = [r if r.invoice_date < SPLIT else replace(r, paid_raw=txt)
               for r, txt in zip(rows, ["not a date", "1900-01-01", "2099-12-31", ""] * len(rows), strict=False)]
    spoiled = predict_split(garbage, SPLIT)
    assert spoiled.predictions == honest.predictions
    # and a test row that would tell the future: every later invoice "paid" the day it was raised
    future = [r if r.invoice_date < SPLIT else replace(r, paid_raw=r.invoice_date.isoformat()) for r in rows]
    assert predict_split(future, SPLIT).predictions == honest.predictions


def test_history_file_round_trip_and_json_shape(tmp_path):
    rows = synthetic(customers=6, per_customer=20)
    path = tmp_path / "history.csv"
    write_history(rows, path)
    again = read_history(path)
    assert [(r.invoice, r.paid_date()) for r in again] == [(r.invoice, r.paid_date()) for r in rows]
    out = predict_split(again, SPLIT).as_dict()
    json.dumps(out)
    assert set(out) >= {"predictions", "mae_days", "baseline_mae_days"}
    assert set(out["predictions"][0]) == {"invoice", "predicted_paid_date"}
    assert len(out["predictions"]) == sum(1 for r in rows if r.invoice_date >= SPLIT)


def test_a_bad_history_row_is_named(tmp_path):
    from dues.prediction.history import HistoryError

    path = tmp_path / "h.csv"
    path.write_text("customer,invoice,invoice_date,due_date,amount,paid_date\nC1,I1,2024-13-01,2024-02-01,10,\n")
    with pytest.raises(HistoryError, match=r"h.csv:2: invoice_date"):
        read_history(path)


def test_dues_starts_without_loading_scikit_learn():
    import subprocess
    import sys

    code = ("import sys; import dues.cli.main as m; m.cli.name; "
            "from dues.cli import predict, forecast, risk, kpi; "
            "print('sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "False", out.stderr


def test_a_training_row_whose_paid_date_is_not_a_date_is_named():
    from dues.prediction.history import HistoryError

    rows = synthetic(customers=2, per_customer=5)
    bad = [replace(rows[0], invoice_date=date(2024, 1, 2), paid_raw="soon"), *rows[1:]]
    with pytest.raises(HistoryError, match=r"invoice INV-00-000 .*paid_date"):
        predict_split(bad, SPLIT)
