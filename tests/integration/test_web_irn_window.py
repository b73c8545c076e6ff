"""The e-invoice reporting window warning: approved invoices without an IRN near or past the window's
end, on the dashboard and the billing page, only when the window applies to the company."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dues.core.errors import DuesError
from tests.integration.test_billing import _user, book  # noqa: F401  (fixture)

pytestmark = pytest.mark.date_sensitive


@pytest.fixture
def late(book, tmp_path):  # noqa: F811
    """One invoice 27 days old and one 33 days old (relative to today), approved, without an IRN."""
    from dues import clock
    from dues.billing.imports import import_billing_file
    from dues.billing.services import bill_run, bills_approve

    today = clock.today()
    path = tmp_path / "dc.csv"
    path.write_text("delivery,customer,date,item,qty\n"
                    f"W-1,C002,{today - timedelta(days=33)},PIPE,1\nW-2,C002,{today - timedelta(days=27)},PIPE,1\n")
    import_billing_file(kind="deliveries", path=path, company=book, actor="maker")
    for days in (33, 27):
        run = bill_run(company=book, on=today - timedelta(days=days), customer=None, actor="maker")
        mine = [b for b in run.bills if run.deliveries[b.pk] == [f"W-{1 if days == 33 else 2}"]]
        bills_approve(company=book, bills=mine, actor="checker", as_of=today)
    return book


def test_the_selector_follows_the_settings(late):
    from dues import clock
    from dues.billing.selectors import irn_due
    from dues.billing.services import billing_settings_set

    today = clock.today()
    assert sorted(b.days_left for b in irn_due(company=late, today=today)) == [-3, 3]
    billing_settings_set(company=late, values={"einvoice_warn_days": "2"}, actor="admin")
    assert [b.days_left for b in irn_due(company=late, today=today)] == [-3]
    billing_settings_set(company=late, values={"turnover": "9,00,00,000"}, actor="admin")  # below 10 crore
    assert irn_due(company=late, today=today) == []
    billing_settings_set(company=late, values={"einvoice_window_threshold": "50000000"}, actor="admin")
    assert len(irn_due(company=late, today=today)) == 1
    billing_settings_set(company=late, values={"einvoice_window_days": "0"}, actor="admin")
    assert irn_due(company=late, today=today) == []
    with pytest.raises(DuesError, match="turnover is an amount of at least 0, got 'lots'"):
        billing_settings_set(company=late, values={"turnover": "lots"}, actor="admin")


def test_dashboard_and_billing_page_warn(client, late):
    from dues.billing.models import Bill
    from dues.billing.services import billing_settings_set

    client.force_login(_user("manju", "ar_manager"))
    numbers = sorted(Bill.objects.filter(status="approved").values_list("number", flat=True))
    for url in ("/", "/billing/"):
        page = client.get(url).content.decode()
        assert "E-invoice reporting window" in page, url
        assert "2 approved invoices without an IRN" in page
        assert f"Invoice {numbers[0]}" in page and "the window closed 3 day(s) ago" in page
        assert f"Invoice {numbers[1]}" in page and "3 days left" in page
    billing_settings_set(company=late, values={"turnover": "20000000"}, actor="admin")  # 2 crore: no window
    assert "E-invoice reporting window" not in client.get("/").content.decode()
    assert "E-invoice reporting window" not in client.get("/billing/").content.decode()
