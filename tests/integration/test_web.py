"""The web pages: login, dashboard, customers, one customer, and the admin's read-only ledger."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model

from dues import clock
from dues.audit.models import AuditRecord
from dues.ledger.models import Allocation, Document, JournalEntry, OpenItem

pytestmark = [
    pytest.mark.django_db,
    # whitenoise warns that STATIC_ROOT does not exist until `collectstatic` has run (`dues serve` runs it)
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]

AS_OF = "2025-06-15"
PAGES = ["/", f"/?as_of={AS_OF}", "/customers/", "/customers/?q=acme&page=2", "/customers/C001/"]


@pytest.fixture
def user(db):
    from dues.users.models import UserRole

    user = get_user_model().objects.create_user("asha", password="collect-it-2025")
    UserRole.objects.create(user=user, role="ar_manager")
    return user


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_superuser("admin", "admin@example.com", "admin-pass-2025")


@pytest.fixture
def admin_on(settings):
    """The Django admin at /admin/ (DUES_ADMIN_PATH=admin/; it is off unless set)."""
    settings.ROOT_URLCONF = "tests.integration.urls_admin"


@pytest.fixture
def desk(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def ledger(company, make_customer, post):
    """C001 owes 12,34,567.50 less a part receipt, with money on account; C002 owes a bill not yet due."""
    acme = make_customer("C001", name="Acme Fasteners Pvt Ltd", gstin="27AAPFU0939F1ZV", credit_limit="1500000",
                         salesperson="Ravi", collector="Meena")
    zen = make_customer("C002", name="Zenith Polymers")
    post("invoice", "INV-1", acme, "2025-04-01", "1234567.50")                 # due 01-05-2025
    post("receipt", "RCT-1", acme, "2025-05-10", "200000", allocations=[("INV-1", Decimal("200000"))])
    post("receipt", "RCT-2", acme, "2025-05-20", "50000")                       # on account
    post("invoice", "INV-2", zen, "2025-06-10", "100000")                       # due 10-07-2025
    return SimpleNamespace(acme=acme, zen=zen)


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_is_sent_to_login_from_every_page(client, ledger, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_login_and_logout(client, user, ledger):
    page = client.get("/login/")
    assert page.status_code == 200 and "Test Traders Pvt Ltd" in text(page)
    bad = client.post("/login/", {"username": "asha", "password": "wrong"})
    assert bad.status_code == 200 and "alert" in text(bad)
    good = client.post("/login/", {"username": "asha", "password": "collect-it-2025"})
    assert good.status_code == 302 and good["Location"] == "/"
    assert client.get("/").status_code == 200
    assert client.get("/logout/").status_code == 405  # logging out is a POST (a link cannot log you out)
    out = client.post("/logout/")
    assert out.status_code == 302 and out["Location"] == "/login/"
    assert client.get("/").status_code == 302


def test_dashboard_totals_in_indian_grouping(desk, ledger):
    response = desk.get(f"/?as_of={AS_OF}")
    assert response.status_code == 200
    s = response.context["summary"]
    assert s.open_invoices == Decimal("1134567.50")          # 10,34,567.50 left on INV-1 + 1,00,000 on INV-2
    assert s.overdue == Decimal("1034567.50")                # INV-1 only: 45 days past due
    assert s.unapplied == Decimal("50000")
    assert s.outstanding == Decimal("1084567.50")
    assert {b.label: b.amount for b in s.buckets if b.amount} == {"not_due": Decimal("100000"),
                                                                  "31-60": Decimal("1034567.50")}
    assert [b.code for b in s.top_overdue] == ["C001"]
    html = text(response)
    assert "₹10,84,567.50" in html and "₹10,34,567.50" in html and "₹50,000.00" in html
    assert "91.2%" in html                                   # 10,34,567.50 / 11,34,567.50
    assert "15-06-2025" in html
    assert 'href="/customers/C001/?as_of=2025-06-15"' in html
    assert "Zenith" not in html                               # nothing of C002's is overdue
    assert re.search(r'class="bar__fill tone-2" data-width="91\.\d\d%"', html)


def test_dashboard_defaults_to_today_and_reports_a_bad_date(desk, ledger):
    today = desk.get("/")
    assert today.context["as_of"] == clock.today()
    assert today.context["summary"].overdue == Decimal("1134567.50")  # by now both invoices are past due
    bad = desk.get("/?as_of=31-02-2025")
    assert bad.status_code == 200 and "is not a date" in text(bad)
    assert bad.context["as_of"] == clock.today()


def test_dashboard_of_an_empty_book(desk, company):
    response = desk.get("/")
    assert response.status_code == 200
    assert "Nothing is overdue" in text(response) and "₹0.00" in text(response)


def test_no_company_yet(desk):
    response = desk.get("/")
    assert response.status_code == 503 and "dues init" in text(response)


def test_customers_list_paginates_and_searches(desk, company, make_customer, post):
    for n in range(1, 61):
        make_customer(f"C{n:03d}", name=f"Trader {n:03d}")
    make_customer("Z001", name="Zenith Polymers")
    post("invoice", "INV-9", company.customers.get(code="C052"), "2025-04-01", "250000")

    first = desk.get("/customers/")
    assert first.status_code == 200
    codes = [c.code for c, _ in first.context["rows"]]
    assert len(codes) == 50 and codes[0] == "C001" and codes[-1] == "C050"
    assert "1–50 of 61" in text(first)
    assert 'href="?page=2"' in text(first)

    second = desk.get(f"/customers/?page=2&as_of={AS_OF}")
    rows = dict((c.code, b) for c, b in second.context["rows"])
    assert list(rows)[:3] == ["C051", "C052", "C053"] and len(rows) == 11
    assert rows["C052"].outstanding == Decimal("250000") and rows["C052"].overdue == Decimal("250000")
    assert rows["C051"] is None
    assert "2,50,000.00" in text(second)
    assert 'href="?page=1&amp;as_of=2025-06-15"' in text(second)  # the page links keep the date

    by_code = desk.get("/customers/?q=c05")
    assert [c.code for c, _ in by_code.context["rows"]] == [f"C{n:03d}" for n in range(50, 60)]
    by_name = desk.get("/customers/?q=zenith")
    assert [c.code for c, _ in by_name.context["rows"]] == ["Z001"]
    none = desk.get("/customers/?q=nobody")
    assert none.context["rows"] == [] and "No customer" in text(none)
    assert desk.get("/customers/?page=99").context["page"].number == 2  # past the end: the last page


def test_customer_page_shows_open_items_with_days_overdue(desk, ledger):
    response = desk.get(f"/customers/C001/?as_of={AS_OF}")
    assert response.status_code == 200
    items = response.context["position"].items
    assert [(i.number, i.side, i.residual, i.days_overdue) for i in items] == [
        ("INV-1", "D", Decimal("1034567.50"), 45), ("RCT-2", "C", Decimal("50000.00"), 0)]
    html = text(response)
    assert "12,34,567.50" in html and "10,34,567.50" in html and "−50,000.00" in html
    assert re.search(r'<td class="num is-overdue">45</td>', html)
    assert "01-04-2025" in html and "01-05-2025" in html
    assert "27AAPFU0939F1ZV" in html and "AAPFU0939F" in html and "Maharashtra" in html
    assert "Ravi" in html and "Meena" in html and "Net 30 days" in html
    assert "₹9,84,567.50" in html                              # outstanding: 10,34,567.50 less 50,000
    assert "65.6%" in html                                     # of the 15,00,000 credit limit
    assert "Create" in html and "test" in html                 # the audit trail


def test_customer_page_history_lists_changes(desk, ledger):
    from dues.customers.services import customer_update

    customer_update(customer=ledger.zen, data={"collector": "Farhan"}, actor="lead")
    html = text(desk.get("/customers/C002/"))
    assert "lead" in html and "collector" in html and "Farhan" in html


def test_customer_before_its_first_invoice_and_unknown_customer(desk, ledger):
    early = desk.get("/customers/C002/?as_of=2025-05-01")
    assert early.status_code == 200 and early.context["position"].items == []
    assert "Nothing open on 01-05-2025" in text(early)
    assert desk.get("/customers/NOPE/").status_code == 404


def test_nav_has_no_admin_link_but_the_admin_stays_for_superusers(client, user, staff, company, admin_on):
    """The Django admin is not part of the product for desk users: no link to it, even for staff."""
    client.force_login(user)
    assert 'href="/admin/"' not in text(client.get("/"))
    assert client.get("/admin/").status_code == 302  # to the admin's login
    client.force_login(staff)
    assert 'href="/admin/"' not in text(client.get("/"))
    assert client.get("/admin/").status_code == 200


def test_admin_refuses_to_change_a_posted_document(client, staff, ledger, admin_on):
    client.force_login(staff)
    doc = Document.objects.get(number="INV-1")
    listing = client.get("/admin/ledger/document/")
    assert listing.status_code == 200
    assert "Posted entries are never edited" in text(listing)
    assert "/admin/ledger/document/add/" not in text(listing)
    view = client.get(f"/admin/ledger/document/{doc.pk}/change/")
    assert view.status_code == 200 and 'name="amount"' not in text(view)  # shown, not as a form field
    assert client.post(f"/admin/ledger/document/{doc.pk}/change/", {"amount": "1"}).status_code == 403
    assert client.get("/admin/ledger/document/add/").status_code == 403
    assert client.post(f"/admin/ledger/document/{doc.pk}/delete/", {"post": "yes"}).status_code == 403
    assert "12,34,567.50" in text(view) and "01-04-2025" in text(view)
    for model, objects in (("journalentry", JournalEntry.objects), ("openitem", OpenItem.objects),
                           ("allocation", Allocation.objects)):
        assert client.get(f"/admin/ledger/{model}/").status_code == 200
        assert client.get(f"/admin/ledger/{model}/{objects.first().pk}/change/").status_code == 200
        assert client.get(f"/admin/ledger/{model}/add/").status_code == 403
    doc.refresh_from_db()
    assert doc.amount == Decimal("1234567.50")


def _customer_form(customer, **changes) -> dict:
    data = {"name": customer.name, "aliases": "; ".join(customer.aliases), "gstin": customer.gstin, "pan": customer.pan,
            "state_code": customer.state_code, "email": "", "phone": "", "terms_kind": customer.terms_kind,
            "terms_days": str(customer.terms_days), "credit_limit": str(customer.credit_limit or ""),
            "credit_days": str(customer.credit_days or ""), "salesperson": customer.salesperson,
            "collector": customer.collector, "segment": "", "region": "",
            "contacts-TOTAL_FORMS": "1", "contacts-INITIAL_FORMS": "0", "contacts-MIN_NUM_FORMS": "0",
            "contacts-MAX_NUM_FORMS": "1000", "contacts-0-name": "", "contacts-0-role": "",
            "contacts-0-email": "", "contacts-0-phone": ""}
    data.update(changes)
    return data


def test_admin_edits_customers_validated_and_audited(client, staff, ledger, admin_on):
    client.force_login(staff)
    url = f"/admin/customers/customer/{ledger.acme.pk}/change/"
    bad = client.post(url, _customer_form(ledger.acme, gstin="27AAPFU0939F1ZX"))
    assert bad.status_code == 200 and "errorlist" in text(bad)
    ok = client.post(url, _customer_form(ledger.acme, collector="Farhan", aliases="Acme; AFPL", **{
        "contacts-0-name": "K. Iyer", "contacts-0-role": "accounts_payable", "contacts-0-email": "accounts@acme.example"}))
    assert ok.status_code == 302
    ledger.acme.refresh_from_db()
    assert ledger.acme.collector == "Farhan" and ledger.acme.aliases == ["Acme", "AFPL"]
    assert ledger.acme.contacts.get().name == "K. Iyer"
    update = AuditRecord.objects.filter(object_type="customer", object_id="C001", action="update").get()
    assert update.actor == "admin" and '"collector":"Farhan"' in update.after_json.replace(" ", "")
    assert AuditRecord.objects.filter(object_type="contact", action="create", actor="admin").exists()
    assert "K. Iyer" in text(client.get("/customers/C001/"))


def test_money_and_date_formats():
    from dues.formats import use_company
    from dues.web.templatetags.dues_format import amount, ddmmyyyy, money

    with use_company(SimpleNamespace(locale="en_IN", currency="INR")):
        assert money(Decimal("12345678")) == "₹1,23,45,678.00"
        assert money(Decimal("1234567.5")) == "₹12,34,567.50"
        assert amount(Decimal("-1234567.5")) == "-12,34,567.50"
        assert ddmmyyyy(date(2025, 4, 1)) == "01-04-2025"
        assert money(None) == ""
    with use_company(SimpleNamespace(locale="en_US", currency="USD")):
        assert money(Decimal("1234567.5")) == "$1,234,567.50"


def test_pages_render_with_debug_off_and_collectstatic_works(desk, ledger, settings, tmp_path):
    from django.core.management import call_command

    assert settings.DEBUG is False
    for url in PAGES[1:]:
        assert desk.get(url).status_code == 200
    assert desk.get("/login/").status_code == 302  # signed in already: on to the dashboard
    settings.STATIC_ROOT = tmp_path / "static"
    call_command("collectstatic", interactive=False, verbosity=0)
    assert (tmp_path / "static" / "web" / "dues.css").stat().st_size > 1000
    assert (tmp_path / "static" / "admin" / "css" / "base.css").exists()


# ---- customers list: sorting by balances in SQL, GSTIN search; the statement of account ----------


@pytest.fixture
def owing(company, make_customer, post):
    """Five customers owing different amounts on 15-06-2025; one with nothing at all."""
    specs = [("A01", "Alpha", "27AAACA1111A1ZS", "100000", "Meena", "50000"),
             ("B02", "Bravo", "", None, "Farhan", "250000"),
             ("C03", "Charlie", "29AAACC3333C1Z6", "400000", "Meena", "120000"),
             ("D04", "Delta", "", "1000000", "", "900000"),
             ("E05", "Echo", "", None, "Anil", None)]
    for code, name, gstin, limit, collector, amount in specs:
        c = make_customer(code, name=name, gstin=gstin, state=gstin[:2] or "27", credit_limit=limit or "",
                          collector=collector)
        if amount:
            post("invoice", f"INV-{code}", c, "2025-04-20", amount)       # due 20-05-2025: overdue by 15-06
    post("invoice", "INV-B02-2", company.customers.get(code="B02"), "2025-06-10", "10000")  # not yet due
    post("receipt", "RCT-D04", company.customers.get(code="D04"), "2025-06-01", "850000",
         allocations=[("INV-D04", Decimal("850000"))])
    return company


def test_customers_sorted_by_outstanding_match_ageing(desk, owing):
    from dues.reporting.selectors import ageing

    report = ageing(company=owing, as_of=date(2025, 6, 15))
    expected = [r.key for r in sorted(report.rows, key=lambda r: (-r.total, r.key))] + ["E05"]
    page = desk.get(f"/customers/?sort=-outstanding&as_of={AS_OF}")
    assert [c.code for c, _ in page.context["rows"]] == expected == ["B02", "C03", "A01", "D04", "E05"]
    rows = dict((c.code, b) for c, b in page.context["rows"])
    assert rows["B02"].outstanding == Decimal("260000") and rows["B02"].overdue == Decimal("250000")
    up = desk.get(f"/customers/?sort=outstanding&as_of={AS_OF}")
    assert [c.code for c, _ in up.context["rows"]] == ["E05", "A01", "D04", "C03", "B02"]
    overdue = desk.get(f"/customers/?sort=-overdue&as_of={AS_OF}")
    assert [c.code for c, _ in overdue.context["rows"]][:2] == ["B02", "C03"]
    # credit use: 50% (A01), 30% (C03), 5% (D04); customers without a limit last either way
    use = desk.get(f"/customers/?sort=-credit_use&as_of={AS_OF}")
    assert [c.code for c, _ in use.context["rows"]] == ["A01", "C03", "D04", "B02", "E05"]
    assert "50.0%" in text(use) and "no limit" in text(use)
    use_up = desk.get(f"/customers/?sort=credit_use&as_of={AS_OF}")
    assert [c.code for c, _ in use_up.context["rows"]] == ["D04", "C03", "A01", "B02", "E05"]
    by_collector = desk.get("/customers/?sort=collector")
    assert [c.code for c, _ in by_collector.context["rows"]] == ["D04", "E05", "B02", "A01", "C03"]
    html = text(page)
    assert 'aria-sort="descending"' in html and 'href="?sort=outstanding&amp;as_of=2025-06-15"' in html
    assert desk.get("/customers/?sort=nonsense").context["sort"] == "code"


def test_customers_sorted_by_balance_paginate_in_the_database(desk, company, make_customer, post):
    for n in range(1, 56):
        c = make_customer(f"K{n:03d}", name=f"Trader {n:03d}")
        post("invoice", f"INV-{n}", c, "2025-04-01", str(1000 * n))
    first = desk.get(f"/customers/?sort=-outstanding&as_of={AS_OF}")
    codes = [c.code for c, _ in first.context["rows"]]
    assert len(codes) == 50 and codes[:2] == ["K055", "K054"] and "1–50 of 55" in text(first)
    second = desk.get(f"/customers/?sort=-outstanding&as_of={AS_OF}&page=2")
    assert [c.code for c, _ in second.context["rows"]] == ["K005", "K004", "K003", "K002", "K001"]
    searched = desk.get("/customers/?sort=-outstanding&q=K00")
    assert [c.code for c, _ in searched.context["rows"]] == [f"K00{n}" for n in range(9, 0, -1)]


def test_customers_search_by_gstin(desk, owing):
    found = desk.get("/customers/?q=29aaacc3333")
    assert [c.code for c, _ in found.context["rows"]] == ["C03"]
    assert "29AAACC3333C1Z6" in text(found)


def test_statement_opening_running_closing(desk, ledger, post):
    from dues.ledger.services import document_cancel

    wrong = post("invoice", "INV-3", ledger.acme, "2025-06-02", "5000")
    document_cancel(document=wrong, on=date(2025, 6, 3), reason="duplicate", actor="test")
    response = desk.get("/customers/C001/?from=2025-05-01&to=2025-06-30")
    st = response.context["statement"]
    assert st.opening == Decimal("1234567.50")                     # INV-1 before May
    assert [(ln.date, ln.number, ln.debit, ln.credit, ln.balance, ln.reversal) for ln in st.lines] == [
        (date(2025, 5, 10), "RCT-1", 0, Decimal("200000"), Decimal("1034567.50"), False),
        (date(2025, 5, 20), "RCT-2", 0, Decimal("50000"), Decimal("984567.50"), False),
        (date(2025, 6, 2), "INV-3", Decimal("5000"), 0, Decimal("989567.50"), False),
        (date(2025, 6, 3), "INV-3", 0, Decimal("5000"), Decimal("984567.50"), True),
    ]
    assert st.closing == Decimal("984567.50") and st.debits == Decimal("5000") and st.credits == Decimal("255000")
    html = text(response)
    assert "Opening balance" in html and "12,34,567.50" in html and "9,84,567.50" in html
    assert "Cancellation of invoice INV-3: duplicate" in html
    assert 'href="/documents/invoice/INV-3/"' in html and 'href="/documents/invoice/INV-1/"' in html


def test_statement_closing_equals_ageing_on_any_date(desk, ledger, post):
    from dues.reporting.selectors import ageing

    post("credit_note", "CN-1", ledger.acme, "2025-07-05", "4567.50", allocations=[("INV-1", Decimal("4567.50"))])
    for to in ("2025-03-31", "2025-04-01", "2025-05-10", "2025-05-19", "2025-06-15", "2025-07-05", "2025-12-31"):
        st = desk.get(f"/customers/C001/?from=2025-01-01&to={to}").context["statement"]
        report = ageing(company=ledger.acme.company, as_of=date.fromisoformat(to), customer=ledger.acme)
        assert st.closing == (report.rows[0].total if report.rows else 0), to


def test_statement_defaults_to_the_fiscal_year_and_reports_bad_dates(desk, ledger):
    page = desk.get(f"/customers/C001/?as_of={AS_OF}")
    st = page.context["statement"]
    assert (st.start, st.end) == (date(2025, 4, 1), date(2025, 6, 15)) and st.opening == 0
    assert st.closing == Decimal("984567.50")
    bad = desk.get("/customers/C001/?from=yesterday&to=2025-05-01")
    assert "“yesterday” is not a date" in text(bad) and 'aria-invalid="true"' in text(bad)
    backwards = desk.get("/customers/C001/?from=2025-06-01&to=2025-05-01")
    assert "ends before it starts" in text(backwards)


def test_customer_page_lists_receipts_and_the_new_receipt_button(client, desk, ledger, post):
    from dues.users.models import UserRole

    post("credit_note", "CN-9", ledger.acme, "2025-06-01", "1000")
    html = text(desk.get("/customers/C001/"))
    assert "Receipts and their allocations" in html and "RCT-1" in html and "RCT-2" in html and "CN-9" in html
    assert 'href="/receipts/new/?customer=C001"' in html                    # an AR manager posts receipts
    billing = get_user_model().objects.create_user("bill", password="bill-pass-2025")
    UserRole.objects.create(user=billing, role="billing")
    client.force_login(billing)
    assert "/receipts/new/" not in text(client.get("/customers/C001/"))      # billing does not


def test_dashboard_figures_are_cached_until_the_books_change(desk, ledger, post, django_assert_max_num_queries):
    first = desk.get(f"/?as_of={AS_OF}").context["summary"]
    with django_assert_max_num_queries(5):  # session, user, role, company, audit head: no ageing query (8 uncached)
        again = desk.get(f"/?as_of={AS_OF}").context["summary"]
    assert again.outstanding == first.outstanding == Decimal("1084567.50")
    post("receipt", "RCT-3", ledger.zen, "2025-06-12", "40000", allocations=[("INV-2", Decimal("40000"))])
    after = desk.get(f"/?as_of={AS_OF}").context["summary"]
    assert after.outstanding == Decimal("1044567.50")  # the posting moved the audit head: recomputed
