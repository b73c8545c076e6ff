"""What keeps the desk fast on a large book, and exact: the ageing report paged from a summary, list
totals and page ids kept under the audit log's head (a change to the books shows at once), the audit
log's filter menus read by skip scans."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from dues.audit.models import AuditRecord
from dues.audit.selectors import audit_choices
from dues.reporting.selectors import ageing, ageing_overview, ageing_summary
from dues.web.selectors import balance_of

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]

D = Decimal
AS_OF = date(2025, 6, 15)
N = 55  # more than a page (50)


def login(client, role="ar_manager"):
    from dues.users.models import UserRole

    user = get_user_model().objects.create_user(role, password="pw-2025-long-enough")
    UserRole.objects.create(user=user, role=role)
    client.force_login(user)
    return client


@pytest.fixture
def book(company, make_customer, post):
    """N customers in reverse code order of creation; customer k owes an invoice of 1,000 x k dated
    k days before 15-06-2025 (30 days' credit), half of the even ones part-paid; C010 has 500 on account."""
    customers = {}
    for k in range(N, 0, -1):
        c = make_customer(f"C{k:03d}", name=f"Customer {k}", salesperson="Ravi" if k % 2 else "Priya")
        customers[k] = c
        post("invoice", f"INV-{k:03d}", c, date.fromordinal(AS_OF.toordinal() - k), D(1000 * k))
        if k % 4 == 0:
            post("receipt", f"RCT-{k:03d}", c, date.fromordinal(AS_OF.toordinal() - k + 1), D(100 * k),
                 allocations=[(f"INV-{k:03d}", D(100 * k))])
    post("receipt", "RCT-OA", customers[10], "2025-06-01", D(500))
    return customers


def test_ageing_summary_is_the_full_reports_order_and_totals(company, book):
    full = ageing(company=company, as_of=AS_OF)
    summary = ageing_summary(company=company, as_of=AS_OF)
    codes = {c.pk: c.code for c in book.values()}
    assert [codes[i] for i in summary.customer_ids] == [r.key for r in full.rows]
    assert summary.totals.buckets == full.totals.buckets
    assert summary.totals.unapplied == full.totals.unapplied == D("-500")
    assert summary.totals.total == full.totals.total == D(1000 * N * (N + 1) // 2) - D(
        sum(100 * k for k in range(4, N + 1, 4))) - D(500)
    ravi = ageing_summary(company=company, as_of=AS_OF, salesperson="Ravi")
    assert len(ravi.customer_ids) == (N + 1) // 2
    assert ravi.totals.total == ageing(company=company, as_of=AS_OF, salesperson="Ravi").totals.total


@pytest.mark.parametrize("as_of", [AS_OF, date(2025, 6, 1), date(2025, 6, 10)])
@pytest.mark.parametrize("salesperson", [None, "Ravi"])
def test_ageing_overview_is_the_full_reports_totals_counts_and_most_overdue(company, book, as_of, salesperson):
    # today, and back-dated past some receipts (the later allocations add back to the invoices)
    full = ageing(company=company, as_of=as_of, salesperson=salesperson)
    overview = ageing_overview(company=company, as_of=as_of, salesperson=salesperson, top=7)
    balances = [balance_of(r) for r in full.rows]
    worst = sorted((b for b in balances if b.overdue > 0), key=lambda b: (-b.overdue, b.code))
    assert overview.columns == full.columns
    assert overview.totals.buckets == full.totals.buckets and overview.totals.unapplied == full.totals.unapplied
    assert overview.customers_owing == sum(1 for b in balances if b.open_invoices > 0) > 0
    assert overview.customers_overdue == len(worst) > 5
    assert [code for _pk, code in overview.most_overdue] == [b.code for b in worst[:7]]
    codes = {c.pk: c.code for c in book.values()}
    assert all(codes[pk] == code for pk, code in overview.most_overdue)


def test_dashboard_shows_the_overview(client, company, book):
    login(client)
    summary = client.get("/").context["summary"]
    full = ageing(company=company, as_of=summary.as_of)
    balances = [balance_of(r) for r in full.rows]
    assert summary.customers_overdue == sum(1 for b in balances if b.overdue > 0)
    assert [b.code for b in summary.top_overdue] == [b.code for b in sorted(
        (b for b in balances if b.overdue > 0), key=lambda b: (-b.overdue, b.code))[:10]]
    assert summary.top_overdue[0].overdue == max(b.overdue for b in balances)
    assert sum(b.amount for b in summary.buckets) == full.totals.total - full.totals.unapplied


def test_ageing_page_two_has_the_rest_and_the_grand_total(client, company, book):
    login(client)
    full = ageing(company=company, as_of=AS_OF)
    first = client.get("/ageing/?as_of=2025-06-15")
    second = client.get("/ageing/?as_of=2025-06-15&page=2")
    assert first.context["count"] == second.context["count"] == N
    assert [r.key for r, _ in first.context["rows"]] == [r.key for r in full.rows[:50]]
    assert [r.key for r, _ in second.context["rows"]] == [f"C{k:03d}" for k in range(51, N + 1)]
    shown = {r.key: r for r, _ in second.context["rows"]}
    assert shown["C052"].buckets == full.rows[51].buckets and shown["C052"].total == D("46800")
    total_cell = second.context["totals"][-1]
    assert total_cell.label == "total" and total_cell.amount == full.totals.total


def test_ageing_page_follows_a_change_to_the_books(client, company, book, post):
    login(client)
    before = client.get("/ageing/?as_of=2025-06-15").context["totals"][-1].amount
    post("receipt", "RCT-NEW", book[1], "2025-06-14", D("1000"), allocations=[("INV-001", D("1000"))])
    after = client.get("/ageing/?as_of=2025-06-15")
    assert after.context["totals"][-1].amount == before - D("1000")
    assert "C001" not in [r.key for r, _ in after.context["rows"]]  # paid in full: no row
    assert after.context["count"] == N - 1


def test_list_totals_and_pages_follow_the_books(client, company, book, post):
    from dues.ledger.models import Document
    from dues.ledger.services import document_cancel

    login(client)
    url = "/invoices/?status=overdue&to=2025-06-15"
    first = client.get(url)
    # due 30 days after the date: overdue on the 29-11-2026 "today" of the desk, every one of them
    assert first.context["totals"].count == N
    assert len(first.context["rows"]) == 50
    assert [d.number for d in first.context["rows"]][:3] == ["INV-001", "INV-002", "INV-003"]  # newest first
    assert [d.number for d in client.get(url + "&page=2").context["rows"]] == [f"INV-{k:03d}" for k in range(51, N + 1)]
    amount = first.context["totals"].amount
    post("invoice", "INV-NEW", book[3], "2025-06-15", D("7777.25"))
    again = client.get(url)
    assert again.context["totals"].count == N + 1
    assert again.context["totals"].amount == amount + D("7777.25")
    assert again.context["rows"][0].number == "INV-NEW"
    document_cancel(document=Document.objects.get(number="INV-NEW"), on=date(2025, 6, 15), reason="typo",
                    actor="test")
    third = client.get(url)
    assert third.context["totals"].count == N  # no longer owed, so no longer overdue
    assert "INV-NEW" not in [d.number for d in third.context["rows"]]
    partly = client.get("/invoices/?status=partly_paid")
    assert sorted(d.number for d in partly.context["rows"]) == [f"INV-{k:03d}" for k in range(4, N + 1, 4)]
    assert partly.context["totals"].residual == D(sum(900 * k for k in range(4, N + 1, 4)))


def test_customers_by_outstanding_follow_the_books(client, company, book, post):
    login(client)
    url = "/customers/?sort=-outstanding&as_of=2025-06-15"
    assert [c.code for c, _ in client.get(url).context["rows"]][:2] == ["C055", "C054"]
    post("receipt", "RCT-BIG", book[55], "2025-06-14", D("55000"), allocations=[("INV-055", D("55000"))])
    assert [c.code for c, _ in client.get(url).context["rows"]][:2] == ["C054", "C053"]


def test_audit_filter_menus_are_the_distinct_values(company, book):
    expected = {col: sorted(set(AuditRecord.objects.values_list(col, flat=True)))
                for col in ("actor", "action", "object_type")}
    choices = audit_choices()
    # "test" wrote this book; a browser test run earlier in the same process may have left its own actors, because
    # the append-only audit log survives the flush between transactional tests
    assert choices["actors"] == expected["actor"] and "test" in expected["actor"]
    assert choices["actions"] == expected["action"]
    assert set(choices["object_types"]) >= {"customer", "invoice", "receipt"}
    assert choices["object_types"] == expected["object_type"]


def test_audit_log_pages_count_the_whole_log(client, company, book):
    from dues.audit.selectors import audit_length

    login(client, "auditor")
    assert audit_length() == AuditRecord.objects.count()
    response = client.get("/audit/")
    assert response.context["page"].paginator.count == AuditRecord.objects.count()
    last = client.get(f"/audit/?page={response.context['page'].paginator.num_pages}")
    assert [r.seq for r in last.context["page"].object_list][-1] == 1  # the oldest record ends the last page
    filtered = client.get("/audit/?object_type=receipt")
    assert filtered.context["page"].paginator.count == AuditRecord.objects.filter(object_type="receipt").count()


def test_the_most_overdue_cut_through_equal_amounts_goes_by_code(company, make_customer, post):
    """Five customers overdue by the same amount and one by more: the top three are the larger one, then the two
    first codes of the equal ones (the cut falls inside the tie)."""
    for code in ("E5", "E3", "E1", "E4", "E2"):
        post("invoice", f"INV-{code}", make_customer(code), "2025-04-01", D(700))
    post("invoice", "INV-BIG", make_customer("Z9"), "2025-04-01", D(900))
    post("invoice", "INV-NOT-DUE", make_customer("A0"), "2025-06-14", D(5000))
    overview = ageing_overview(company=company, as_of=AS_OF, top=3)
    assert [code for _pk, code in overview.most_overdue] == ["Z9", "E1", "E2"]
    assert overview.customers_overdue == 6 and overview.customers_owing == 7
