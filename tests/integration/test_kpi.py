"""KPIs by month from the ledger, checked against hand-worked figures (docs/kpi.md)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from dues.reporting.kpi import count_back_dso, kpis


def test_count_back_dso():
    # 150 owed; this month's sales 100 (30 days), last month's 100 (31 days): 30 + 50/100 * 31 days
    assert count_back_dso(Decimal(150), [(30, Decimal(100)), (31, Decimal(100))]) == Decimal("45.5")
    assert count_back_dso(Decimal(50), [(30, Decimal(100))]) == Decimal(15)
    assert count_back_dso(Decimal(500), [(30, Decimal(100))]) is None


def test_kpis_by_month(company, make_customer, post):
    c = make_customer("K1", credit_days="30")
    post("invoice", "K-1", c, date(2026, 9, 5), "3000.00")  # due 5 Oct
    post("invoice", "K-2", c, date(2026, 10, 10), "6000.00")  # due 9 Nov
    post("receipt", "KR-1", c, date(2026, 10, 20), "3000.00", allocations=[("K-1", Decimal("3000.00"))])
    sep, octo = kpis(company=company, start=date(2026, 9, 1), end=date(2026, 10, 31))
    assert sep.credit_sales == Decimal(3000) and sep.receivables == Decimal(3000) and sep.overdue == 0
    assert sep.dso_simple == Decimal(30)  # 3000 / 3000 * 30 days
    assert sep.cei is None  # nothing was collectable: (0 + 3000 - 3000) / (0 + 3000 - 3000 current) is undefined
    assert octo.credit_sales == Decimal(6000) and octo.receivables == Decimal(6000) and octo.current == Decimal(6000)
    assert octo.dso_simple == Decimal(31)
    assert octo.dso_count_back == Decimal(31)
    assert octo.best_possible_dso == Decimal(31) and octo.add == 0 and octo.overdue_pct == 0
    # CEI: (3000 begin + 6000 sales - 6000 end) / (3000 + 6000 - 6000 current) = 100 %
    assert octo.cei == Decimal(100)
