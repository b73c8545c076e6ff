"""The dashboard's DSO (countback) and month-end trend, and what a sales user's dashboard covers."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from dues.core.ageing import NOT_DUE
from dues.ledger.models import Allocation, Document, OpenItem
from dues.ledger.services import allocation_create, allocation_reverse, document_cancel
from dues.reporting.selectors import ageing
from dues.reporting.trends import balances_at, dso_countback, outstanding_trend, trend_points

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]


def login(client, role: str, name: str = "asha", person: str = ""):
    from dues.users.models import UserRole

    user = get_user_model().objects.create_user(name, password="pass-2025-desk")
    UserRole.objects.create(user=user, role=role, person_name=person)
    client.force_login(user)
    return client


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture
def sales_book(company, make_customer, post):
    """Outstanding 4,50,000 on 15-06-2025 against sales of 1,00,000 (June), 2,00,000 (May), 3,00,000 (April)."""
    acme = make_customer("C001", name="Acme", salesperson="Ravi")
    zen = make_customer("C002", name="Zenith", salesperson="Anita")
    post("invoice", "INV-A", acme, "2025-04-10", "300000")
    post("invoice", "INV-M", zen, "2025-05-10", "200000")
    post("invoice", "INV-J", acme, "2025-06-05", "100000")
    post("receipt", "RCT-1", acme, "2025-05-20", "150000", allocations=[("INV-A", Decimal("150000"))])
    wrong = post("invoice", "INV-X", zen, "2025-05-12", "50000")  # cancelled the next day: never a sale
    document_cancel(document=wrong, on=date(2025, 5, 13), reason="raised twice", actor="test")
    post("invoice", "INV-OLD", zen, "2024-12-01", "1000")  # paid off at once
    post("receipt", "RCT-0", zen, "2024-12-05", "1000", allocations=[("INV-OLD", Decimal("1000"))])
    return acme, zen


def test_dso_countback_counts_back_month_by_month(company, sales_book):
    dso = dso_countback(company=company, as_of=date(2025, 6, 15), outstanding=Decimal("450000"))
    # June 1-15 (15 days) absorbs 1,00,000; May (31 days) 2,00,000; April: 1,50,000 of 3,00,000 = 15 of 30 days
    assert [(p.start, p.days, p.sales, p.counted_days) for p in dso.periods] == [
        (date(2025, 6, 1), 15, Decimal("100000"), Decimal(15)),
        (date(2025, 5, 1), 31, Decimal("200000"), Decimal(31)),
        (date(2025, 4, 1), 30, Decimal("300000"), Decimal(15)),
    ]
    assert dso.days == Decimal("61.0") and not dso.exhausted
    assert dso_countback(company=company, as_of=date(2025, 6, 15), outstanding=Decimal("0")).days == 0
    # more outstanding than two years of sales: every month counted, and said so
    big = dso_countback(company=company, as_of=date(2025, 6, 15), outstanding=Decimal("10000000"))
    assert big.exhausted and big.days == Decimal(sum(p.days for p in big.periods))
    # the cancellation is not a sale until... it is cancelled: a day before, INV-X counts in May
    early = dso_countback(company=company, as_of=date(2025, 5, 12), outstanding=Decimal("600000"))
    assert early.periods[0].sales == Decimal("250000")


def test_dashboard_shows_dso_and_states_the_method(client, sales_book):
    login(client, "ar_manager")
    response = client.get("/?as_of=2025-06-15")
    s = response.context["summary"]
    assert s.outstanding == Decimal("450000") and s.dso.days == Decimal("61.0")
    html = text(response)
    assert "61.0 <span class=\"card__unit\">days</span>" in html
    assert "countback" in html and "counted back against each month’s credit sales" in html
    assert "The days counted are the DSO" in html


def test_trend_equals_ageing_at_each_month_end(company, make_customer, post):
    acme = make_customer("C001", salesperson="Ravi")
    zen = make_customer("C002", credit_days="0")
    post("invoice", "I1", acme, "2024-11-20", "118000")
    post("invoice", "I2", zen, "2025-01-15", "50000.50")
    post("invoice", "I3", acme, "2025-03-03", "77777.77")
    post("receipt", "R1", acme, "2025-02-10", "100000", allocations=[("I1", Decimal("100000"))])
    post("receipt", "R2", zen, "2025-04-01", "60000")  # on account, allocated later and partly undone
    credit = OpenItem.objects.get(document__number="R2")
    alloc = allocation_create(credit_item=credit, debit_item=OpenItem.objects.get(document__number="I2"),
                              amount=Decimal("50000.50"), on=date(2025, 5, 5), actor="test")
    allocation_reverse(allocation=alloc, on=date(2025, 7, 1), reason="wrong customer", actor="test")
    post("credit_note", "CN1", acme, "2025-06-12", "7777.77", allocations=[("I3", Decimal("7777.77"))])
    cancelled = post("invoice", "I4", zen, "2025-08-02", "25000")
    document_cancel(document=cancelled, on=date(2025, 9, 20), reason="returned", actor="test")
    post("invoice", "I5", acme, "2025-10-25", "12345.67")
    assert Allocation.objects.filter(amount__lt=0).exists() and Document.objects.filter(status="cancelled").exists()

    as_of = date(2025, 10, 18)
    assert trend_points(as_of)[0] == date(2024, 11, 30) and trend_points(as_of)[-2:] == [date(2025, 9, 30), as_of]
    trend = outstanding_trend(company=company, as_of=as_of)
    assert len(trend) == 12
    for point, book in zip(trend, balances_at(company=company, points=trend_points(as_of)), strict=True):
        totals = ageing(company=company, as_of=point.on).totals
        overdue = sum((v for k, v in totals.buckets.items() if k != NOT_DUE), Decimal(0))
        assert (point.on, point.outstanding, point.overdue) == (point.on, totals.total, overdue)
        assert (book.debits, book.credits) == (sum(totals.buckets.values(), Decimal(0)), -totals.unapplied)
    assert trend[0].outstanding == Decimal("118000") and trend[-1].outstanding != 0
    ravi = outstanding_trend(company=company, as_of=as_of, salesperson="ravi")
    for point in ravi:
        assert point.outstanding == ageing(company=company, as_of=point.on, salesperson="Ravi").totals.total


def test_dashboard_charts_get_strings_not_floats(client, sales_book):
    login(client, "collector")
    response = client.get("/?as_of=2025-06-15")
    html = response.content.decode()
    data = json.loads(re.search(r'<script id="chart-data" type="application/json">(.*?)</script>', html, re.S)[1])
    assert data["trend"]["outstanding"][-1] == "450000.00" and len(data["trend"]["labels"]) == 12
    assert all(isinstance(v, str) for v in data["trend"]["overdue"] + data["ageing"]["amounts"])
    assert "vendor/chart.umd.min.js" in html


def test_sales_user_sees_only_their_customers(client, sales_book):
    login(client, "sales", "rahul", person="Ravi")
    s = client.get("/?as_of=2025-06-15").context["summary"]
    assert s.outstanding == Decimal("250000")        # INV-A's 1,50,000 left + INV-J, not Zenith's INV-M
    assert s.trend[-1].outstanding == Decimal("250000")
    assert s.dso.periods[0].sales == Decimal("100000") and s.dso.periods[1].sales == Decimal("0")
    listing = client.get("/customers/?sort=-outstanding")
    assert [c.code for c, _ in listing.context["rows"]] == ["C001"]
    assert client.get("/customers/C001/").status_code == 200
    refused = client.get("/customers/C002/")
    assert refused.status_code == 403 and "Zenith" not in text(refused)
