"""KPIs by month from the ledger, checked against hand-worked figures (docs/kpi.md)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from dues.core.ageing import NOT_DUE
from dues.ledger.models import OpenItem
from dues.ledger.services import allocation_create, allocation_reverse, document_cancel
from dues.reporting.kpi import count_back_dso, kpis
from dues.reporting.selectors import ageing_summary


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


def test_kpi_receivables_are_the_ageing_at_each_month_end(company, make_customer, post):
    """Each month's receivables and the part not yet due (one query over every month-end) equal the ageing
    summary run on that month-end: part payments, an allocation undone later, a cancelled invoice, a credit
    on account, and the last month cut short by the end date."""
    a = make_customer("K1", credit_days="30")
    b = make_customer("K2", credit_days="0")
    post("invoice", "K-1", a, date(2026, 3, 20), "11800.00")
    post("invoice", "K-2", b, date(2026, 4, 15), "5000.50")
    post("receipt", "KR-1", a, date(2026, 5, 10), "4000.00", allocations=[("K-1", Decimal("4000.00"))])
    post("receipt", "KR-2", b, date(2026, 6, 1), "6000.00")  # on account, applied later and the match undone
    alloc = allocation_create(credit_item=OpenItem.objects.get(document__number="KR-2"),
                              debit_item=OpenItem.objects.get(document__number="K-2"), amount=Decimal("5000.50"),
                              on=date(2026, 6, 5), actor="test")
    allocation_reverse(allocation=alloc, on=date(2026, 8, 1), reason="wrong customer", actor="test")
    document_cancel(document=post("invoice", "K-3", b, date(2026, 7, 2), "2500.00"), on=date(2026, 9, 20),
                    reason="returned", actor="test")
    post("invoice", "K-4", a, date(2026, 10, 25), "1234.56")
    months = kpis(company=company, start=date(2026, 4, 1), end=date(2026, 10, 27))
    ends = [date(2026, 4, 30), date(2026, 5, 31), date(2026, 6, 30), date(2026, 7, 31), date(2026, 8, 31),
            date(2026, 9, 30), date(2026, 10, 27)]
    assert [m.month for m in months] == ["2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
    for month, end in zip(months, ends, strict=True):
        buckets = ageing_summary(company=company, as_of=end).totals.buckets
        assert (month.receivables, month.current) == (sum(buckets.values(), Decimal(0)), buckets[NOT_DUE]), end
    # by hand: June, the part-paid K-1 (K-2 matched); August, K-2 open again and K-3 not yet cancelled
    assert [months[i].receivables for i in (2, 4, 6)] == [Decimal("7800"), Decimal("15300.50"), Decimal("14035.06")]
