"""The ageing page: figures, options, drill-down, Excel and CSV export, and who sees what."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model

from dues.reporting.exports import INDIAN_NUMBER_FORMAT
from dues.reporting.selectors import ageing, ageing_items

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]

AS_OF = date(2025, 6, 15)
OPTS = "as_of=2025-06-15&basis=due&buckets=30,60,90,120&by=customer"
D = Decimal


@pytest.fixture
def ledger(company, make_customer, post):
    """As of 15-06-2025 (due basis, net 30 days):

    C001 (Ravi, West): INV-1 12,34,567.50 less 2,00,000 paid, 45 days overdue -> 31-60: 10,34,567.50;
                       INV-3 3,00,000, 104 days overdue -> 91-120; RCT-2 50,000 on account.
    C002 (Priya, South): INV-2 1,00,000 not yet due; INV-4 25,000.75, 15 days overdue -> 1-30.
    C003 (Ravi, West, a name that looks like a formula): INV-5 10,000, 166 days overdue -> 120+.
    """
    acme = make_customer("C001", name="Acme Fasteners Pvt Ltd", salesperson="Ravi", region="West")
    zen = make_customer("C002", name="Zenith Polymers", salesperson="Priya", region="South")
    odd = make_customer("C003", name="=HYPERLINK(\"http://x\")", salesperson="Ravi", region="West")
    post("invoice", "INV-1", acme, "2025-04-01", "1234567.50")
    post("receipt", "RCT-1", acme, "2025-05-10", "200000", allocations=[("INV-1", D("200000"))])
    post("receipt", "RCT-2", acme, "2025-05-20", "50000")
    post("invoice", "INV-3", acme, "2025-02-01", "300000")
    post("invoice", "INV-2", zen, "2025-06-10", "100000")
    post("invoice", "INV-4", zen, "2025-05-01", "25000.75")
    post("invoice", "INV-5", odd, "2024-12-01", "10000")
    post("invoice", "INV-9", zen, "2025-07-01", "999")  # after the as-of date: in no figure
    return SimpleNamespace(acme=acme, zen=zen, odd=odd)


def login(client, role, username=None, person=""):
    from dues.users.models import UserRole

    user = get_user_model().objects.create_user(username or role, password="pw-2025-long-enough")
    UserRole.objects.create(user=user, role=role, person_name=person)
    client.force_login(user)
    return client


@pytest.fixture
def manager(client):
    return login(client, "ar_manager")


class _Tables(HTMLParser):
    """Rows of every table as lists of cell texts, and the links in each row."""

    def __init__(self):
        super().__init__()
        self.rows, self._row, self._cell, self._links = [], None, None, []

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self._row, self._links = [], []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "a" and self._row is not None:
            self._links.append(dict(attrs).get("href", ""))

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append((self._row, self._links))
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def table_rows(response):
    parser = _Tables()
    parser.feed(response.content.decode())
    return parser.rows


def row_of(response, first_cell_contains):
    found = [r for r in table_rows(response) if first_cell_contains in r[0][0]]
    assert len(found) == 1, (first_cell_contains, [r[0] for r in table_rows(response)])
    return found[0]


def test_page_figures_equal_the_ageing_selector(manager, company, ledger):
    page = manager.get(f"/ageing/?{OPTS}")
    assert page.status_code == 200
    head, _ = table_rows(page)[0]
    assert head == ["Customer", "Not yet due", "1–30 days", "31–60 days", "61–90 days", "91–120 days",
                    "Over 120 days", "Unapplied", "Total"]
    cells, _ = row_of(page, "Acme")
    assert cells[1:] == ["–", "–", "10,34,567.50", "–", "3,00,000.00", "–", "-50,000.00", "12,84,567.50"]
    cells, _ = row_of(page, "Zenith")
    assert cells[1:] == ["1,00,000.00", "25,000.75", "–", "–", "–", "–", "–", "1,25,000.75"]
    total, _ = row_of(page, "Total")
    assert total[1:] == ["1,00,000.00", "25,000.75", "10,34,567.50", "–", "3,00,000.00", "10,000.00",
                         "-50,000.00", "14,19,568.25"]
    report = ageing(company=company, as_of=AS_OF)
    assert report.totals.total == D("1419568.25")
    assert [r.key for r in report.rows] == ["C001", "C002", "C003"]
    # customers link to their page on the same date
    _, links = row_of(page, "Acme")
    assert links[0] == "/customers/C001/?as_of=2025-06-15"


def test_group_by_salesperson_and_document_basis(manager, ledger):
    page = manager.get("/ageing/?as_of=2025-06-15&by=salesperson")
    assert row_of(page, "Ravi")[0][-1] == "12,94,567.50"
    assert row_of(page, "Priya")[0][-1] == "1,25,000.75"
    page = manager.get("/ageing/?as_of=2025-06-15&basis=invoice&buckets=60,120")
    head, _ = table_rows(page)[0]
    assert head[1:] == ["0–60 days", "61–120 days", "Over 120 days", "Unapplied", "Total"]
    # by document date: INV-2 (5 days) and INV-4 (45) are 0-60; INV-1 (75) 61-120; INV-3 (134), INV-5 (196) 120+
    assert row_of(page, "Total")[0][1:] == ["1,25,000.75", "10,34,567.50", "3,10,000.00", "-50,000.00",
                                             "14,19,568.25"]


@pytest.mark.parametrize("buckets, message", [
    ("30,20", "increasing"), ("abc", "whole days"), ("0,30", "increasing"), (",".join(str(i) for i in range(1, 13)),
                                                                           "at most 10"),
])
def test_bad_buckets_error_next_to_the_field(manager, ledger, buckets, message):
    page = manager.get(f"/ageing/?as_of=2025-06-15&buckets={buckets}")
    assert page.status_code == 200
    html = page.content.decode()
    error = re.search(r'<p class="field__error" id="r-buckets-error">([^<]*)</p>', html)
    assert error and message in error.group(1).lower() and "Showing 30,60,90,120" in error.group(1)
    assert 'aria-invalid="true" aria-describedby' in html or 'aria-invalid="true"' in html
    assert row_of(page, "Total")[0][-1] == "14,19,568.25"  # the default buckets, still correct


def test_bad_group_and_date_are_reported(manager, ledger):
    page = manager.get("/ageing/?as_of=2025-02-30&by=colour")
    html = page.content.decode()
    assert 'id="r-by-error"' in html and "colour" in html
    assert 'id="r-as-of-error"' in html


def test_drill_down_lists_exactly_the_bucket_items(manager, ledger):
    page = manager.get(f"/ageing/?{OPTS}")
    _, links = row_of(page, "Acme")
    drill = [h for h in links if "bucket=31-60" in h]
    assert len(drill) == 1 and "key=C001" in drill[0]
    items = manager.get(drill[0])
    assert items.status_code == 200
    rows = [r for r, _ in table_rows(items)[1:]]
    assert rows[0][:2] == ["INV-1", "Invoice"]
    assert rows[0][2:] == ["01-04-2025", "01-05-2025", "10,34,567.50", "45"]
    assert rows[-1][-2] == "10,34,567.50"  # the total of the items = the cell
    assert len(rows) == 2
    _, links = table_rows(items)[1]
    assert links[0] in ("/documents/invoice/INV-1/",)
    unapplied = manager.get(f"/ageing/items/?{OPTS}&key=C001&bucket=unapplied")
    rows = [r for r, _ in table_rows(unapplied)[1:]]
    assert rows[0][0] == "RCT-2" and rows[0][-2] == "-50,000.00" and len(rows) == 2


def test_every_cell_is_the_sum_of_its_items(company, ledger):
    for by in ("customer", "salesperson", "region"):
        for basis, cutoffs in (("due", (30, 60, 90, 120)), ("invoice", (45, 90))):
            report = ageing(company=company, as_of=AS_OF, basis=basis, cutoffs=cutoffs, by=by)
            for row in [*report.rows, None]:
                key = row.key if row else None
                target = row or report.totals
                for label in [*report.columns, "unapplied"]:
                    items = ageing_items(company=company, as_of=AS_OF, basis=basis, cutoffs=cutoffs, by=by, key=key,
                                         bucket=label)
                    cell = target.unapplied if label == "unapplied" else target.buckets[label]
                    assert items.total() == cell, (by, basis, key, label)
                    assert sum((i.residual for i in items), D(0)) == cell
                    assert items.count() == len(items.fetch())
                whole = ageing_items(company=company, as_of=AS_OF, basis=basis, cutoffs=cutoffs, by=by, key=key)
                assert whole.total() == target.total


def test_drill_down_by_group_and_paging(manager, ledger):
    items = manager.get("/ageing/items/?as_of=2025-06-15&by=salesperson&key=Ravi&bucket=120%2B")
    rows = [r for r, _ in table_rows(items)[1:]]
    assert rows[0][0] == "INV-5" and "C003" in rows[0][2] and rows[-1][-2] == "10,000.00"
    everything = manager.get("/ageing/items/?as_of=2025-06-15")  # the totals cell: every open item
    assert "6 open items" in " ".join(everything.content.decode().split())
    assert row_of(everything, "Total of")[0][-2] == "14,19,568.25"


def test_excel_export(manager, ledger):
    from openpyxl import load_workbook

    response = manager.get(f"/ageing/?{OPTS}&export=xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "ageing-2025-06-15.xlsx" in response["Content-Disposition"]
    wb = load_workbook(io.BytesIO(response.content))
    ws = wb.worksheets[0]
    assert ws.freeze_panes == "A2"
    header = [c.value for c in ws[1]]
    assert header[:3] == ["Customer", "Name", "Not yet due"] and header[-3:] == ["Unapplied", "Total", "Of which disputed"]
    assert all(c.font.bold for c in ws[1])
    acme = [c for c in ws[2]]
    assert acme[0].value == "C001"
    assert acme[4].value == 1034567.5 and isinstance(acme[4].value, float)
    assert acme[4].number_format == INDIAN_NUMBER_FORMAT
    assert acme[-3].value == -50000 and acme[-2].value == 1284567.5 and acme[-1].value == 0
    odd = [c for c in ws[4]]
    assert odd[1].value == '\'=HYPERLINK("http://x")' and odd[1].data_type == "s"  # text, never a formula
    totals = [c for c in ws[ws.max_row]]
    assert totals[0].value == "TOTAL" and totals[0].font.bold
    assert totals[-2].value == 1419568.25
    for col in range(3, len(header) + 1):  # the totals row adds up its column
        column = [ws.cell(row=r, column=col).value or 0 for r in range(2, ws.max_row)]
        assert round(sum(column), 2) == round(ws.cell(row=ws.max_row, column=col).value or 0, 2)
    about = dict((r[0].value, r[1].value) for r in wb["About"].iter_rows())
    assert about["As of"] == datetime(2025, 6, 15) and about["Basis"] == "due date"


def test_csv_export(manager, ledger):
    response = manager.get(f"/ageing/?{OPTS}&export=csv")
    assert response["Content-Type"].startswith("text/csv")
    assert "ageing-2025-06-15.csv" in response["Content-Disposition"]
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["customer", "name", "not_due", "1-30", "31-60", "61-90", "91-120", "120+", "unapplied", "total", "disputed"]
    assert rows[1] == ["C001", "Acme Fasteners Pvt Ltd", "0.00", "0.00", "1034567.50", "0.00", "300000.00", "0.00",
                       "-50000.00", "1284567.50", "0.00"]
    assert rows[3][1] == "'=HYPERLINK(\"http://x\")"  # a formula is neutralised
    assert rows[-1][0] == "TOTAL" and rows[-1][-2] == "1419568.25"


def test_drill_down_exports(manager, ledger):
    from openpyxl import load_workbook

    response = manager.get(f"/ageing/items/?{OPTS}&key=C001&bucket=91-120&export=xlsx")
    assert "ageing-items-2025-06-15-C001-91-120.xlsx" in response["Content-Disposition"]
    ws = load_workbook(io.BytesIO(response.content)).worksheets[0]
    row = [c for c in ws[2]]
    assert row[0].value == "INV-3" and row[4].value == datetime(2025, 2, 1) and row[4].number_format == "dd-mm-yyyy"
    assert row[7].value == 300000 and row[7].number_format == INDIAN_NUMBER_FORMAT and row[8].value == 104
    assert ws.max_row == 3 and ws.cell(row=3, column=8).value == 300000
    text = manager.get(f"/ageing/items/?{OPTS}&key=C002&export=csv").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert [r[0] for r in rows[1:-1]] == ["INV-4", "INV-2"]
    assert rows[1][4:] == ["2025-05-01", "2025-05-31", "1-30", "25000.75", "15"]
    assert rows[-1][7] == "125000.75"


def test_sales_sees_only_their_customers(client, ledger):
    login(client, "sales", "rahul", person="Ravi")
    page = client.get(f"/ageing/?{OPTS}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Acme" in html and "Zenith" not in html
    assert row_of(page, "Total")[0][-1] == "12,94,567.50"
    # drilling into another's customer shows nothing; exports are narrowed too
    other = client.get(f"/ageing/items/?{OPTS}&key=C002")
    assert "INV-4" not in other.content.decode() and "No open items" in other.content.decode()
    everything = client.get("/ageing/items/?as_of=2025-06-15")
    assert "INV-2" not in everything.content.decode() and "INV-1" in everything.content.decode()
    text = client.get(f"/ageing/?{OPTS}&export=csv").content.decode("utf-8-sig")
    assert "C002" not in text and "C001" in text


@pytest.mark.parametrize("role", ["admin", "collector", "billing", "auditor"])
def test_every_reading_role_sees_the_whole_report(client, ledger, role):
    login(client, role)
    page = client.get(f"/ageing/?{OPTS}")
    assert page.status_code == 200 and row_of(page, "Total")[0][-1] == "14,19,568.25"
    assert 'href="/ageing/"' in page.content.decode()  # the nav link


def test_no_role_no_report(client, ledger):
    user = get_user_model().objects.create_user("nobody", password="pw-2025-long-enough")
    client.force_login(user)
    assert client.get(f"/ageing/?{OPTS}").status_code == 403
    assert client.get(f"/ageing/?{OPTS}&export=csv").status_code == 403
    assert client.get(f"/ageing/items/?{OPTS}&key=C001").status_code == 403


def test_paginated_by_customer_with_totals_over_all(manager, company, make_customer, post):
    for n in range(60):
        c = make_customer(f"P{n:03d}", name=f"Party {n:03d}")
        post("invoice", f"B-{n:03d}", c, "2025-06-01", "100")
    first = manager.get("/ageing/?as_of=2025-06-15")
    assert "P049" in first.content.decode() and "P050" not in first.content.decode()
    assert row_of(first, "Total")[0][-1] == "6,000.00"
    second = manager.get("/ageing/?as_of=2025-06-15&page=2")
    assert "P050" in second.content.decode() and row_of(second, "Total")[0][-1] == "6,000.00"
    items = manager.get("/ageing/items/?as_of=2025-06-15&bucket=not_due&page=2")  # 60 items, 50 a page
    rows = [r for r, _ in table_rows(items)[1:-1]]
    assert [r[0] for r in rows] == [f"B-{n:03d}" for n in range(50, 60)]
    assert row_of(items, "Total of 60 items")[0][-2] == "6,000.00"
