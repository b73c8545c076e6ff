"""The KPI trends page: charts and table for the AR manager, refused to a salesperson (company-wide figures)."""

from __future__ import annotations

from datetime import timedelta

from dues import clock
from tests.integration.test_web_reports import login


def test_trends_page(client, company, make_customer, post):
    c = make_customer("T1")
    post("invoice", "T-1", c, clock.today() - timedelta(days=40), "1000.00")
    login(client, "ar_manager")
    page = client.get("/trends/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "KPI trends" in html and 'id="dso-chart"' in html and 'id="kpi-data"' in html
    assert clock.today().strftime("%Y-%m") in html


def test_trends_page_refused_to_sales(client, company):
    login(client, "sales", "rahul", person="Ravi")
    assert client.get("/trends/").status_code == 403


def test_trends_link_in_the_navigation_only_for_those_who_may_see_it(client, company):
    login(client, "ar_manager")
    assert 'href="/trends/"' in client.get("/").content.decode()
    client.logout()
    login(client, "sales", "rahul", person="Ravi")
    assert 'href="/trends/"' not in client.get("/").content.decode()


def test_trends_page_sets_a_collection_target(client, company, make_customer, post):
    from dues.reporting.models import CollectionTarget

    c = make_customer("T2", collector="Meena")
    post("receipt", "R-T2", c, clock.today(), "300.00")
    login(client, "ar_manager")
    month = clock.today().strftime("%Y-%m")
    page = client.post("/trends/", {"collector": "Meena", "month": month, "amount": "1,200"}, follow=True)
    assert CollectionTarget.objects.get(collector="Meena").amount == 1200
    html = page.content.decode()
    assert "Target for Meena" in html and "Meena" in html and "25.0" in html  # 300 of 1,200
    bad = client.post("/trends/", {"collector": "Meena", "month": "13/2026", "amount": "5"}, follow=True)
    assert "not YYYY-MM" in bad.content.decode()
    client.logout()
    login(client, "collector", "col1", person="Meena")
    refused = client.post("/trends/", {"collector": "Meena", "month": month, "amount": "1"}, follow=True)
    # refused by the access table (dues.web.access): POST needs collections.policies
    assert refused.status_code == 403 and "does not allow this page" in refused.content.decode()
    assert CollectionTarget.objects.get(collector="Meena").amount == 1200
    assert 'name="amount"' not in client.get("/trends/").content.decode()
