"""``dues forecast``, ``dues risk`` and ``dues kpi`` as a user runs them, on a small imported book."""

from __future__ import annotations

import json

import pytest

from tests.e2e.test_cli import dues, files  # noqa: F401 (fixtures)

pytestmark = pytest.mark.e2e


def test_forecast_risk_kpi_commands(dues, files):  # noqa: F811
    dues("init", "--company", "Acme Steel", "--state", "27")
    for kind in ("customers", "invoices", "receipts", "credit-notes"):
        dues("import", kind, files[kind])
    forecast = json.loads(dues("forecast", "--format", "json").stdout)
    assert len(forecast["weeks"]) == 13 and "open_total" in forecast
    assert all(set(i) >= {"invoice", "predicted_paid_date", "early", "late"} for i in forecast["invoices"])
    risk = json.loads(dues("risk", "--all", "--format", "json").stdout)
    assert sum(risk["grades"].values()) == len(risk["customers"]) > 0
    assert all(c["grade"] in "ABCDE" and c["reasons"] and c["action"] for c in risk["customers"])
    stored = json.loads(dues("risk", "--stored", "--all", "--format", "json").stdout)
    assert stored["grades"] == risk["grades"]
    assert "target for Ravi in 2025-06: 250000" in dues("target", "set", "Ravi", "--month", "2025-06",
                                                         "--amount", "2,50,000").stdout
    kpi = json.loads(dues("kpi", "--from", "2025-04-01", "--to", "2025-09-30", "--format", "json").stdout)
    assert [m["month"] for m in kpi["months"]] == ["2025-04", "2025-05", "2025-06", "2025-07", "2025-08", "2025-09"]
    ravi = [c for c in kpi["collectors"] if c["collector"] == "Ravi" and c["month"] == "2025-06"]
    assert ravi and ravi[0]["target"] == "250000.00"
    assert "DSO" in dues("kpi", "--from", "2025-04-01", "--to", "2025-09-30").stdout
