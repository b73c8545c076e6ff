"""Risk grades from the ledger: a prompt payer is A, a customer far overdue and over its limit is graded
low with its reasons in words; recompute_risk stores one grade per customer and can be re-run."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from dues import clock
from dues.prediction.risk import RiskFigures, grade
from dues.risk.models import CustomerRisk
from dues.risk.services import recompute_risk


def test_grade_reasons_in_words():
    g = grade(RiskFigures(outstanding=Decimal(1000), overdue=Decimal(900), max_days_overdue=120, promises_broken=2,
                          bounced=1, credit_limit=Decimal(500), book_total=Decimal(2000),
                          days_beyond_terms_recent=40, days_beyond_terms_before=10))
    assert g.grade == "E"
    text = " | ".join(g.reasons)
    for words in ("beyond terms", "paying slower", "120 days overdue", "broke 2 of 2 promises", "returned",
                  "over its credit limit: 200% used", "concentration: 50%"):
        assert words in text
    assert "hold" in g.action
    assert grade(RiskFigures()).grade == "A"


def test_recompute_risk(company, make_customer, post):
    today = clock.today()
    good = make_customer("GOOD", credit_limit="100000")
    bad = make_customer("BAD", credit_limit="1000")
    post("invoice", "G-1", good, today - timedelta(days=40), "1000.00")
    post("receipt", "GR-1", good, today - timedelta(days=15), "1000.00", allocations=[("G-1", Decimal("1000.00"))])
    post("invoice", "G-2", good, today - timedelta(days=5), "100.00")  # under 10 % of the book
    post("invoice", "B-1", bad, today - timedelta(days=200), "5000.00")
    assert recompute_risk(today, company=company) == 2
    grades = {r.customer.code: r for r in CustomerRisk.objects.select_related("customer")}
    assert grades["GOOD"].grade == "A"
    assert grades["BAD"].grade in ("D", "E") and grades["BAD"].points >= 5
    assert any("overdue" in r for r in grades["BAD"].reasons)
    assert any("credit limit" in r for r in grades["BAD"].reasons)
    assert recompute_risk(today, company=company) == 2 and CustomerRisk.objects.count() == 2
