"""Receipt entry and allocation at the desk: post with allocations, oldest first, allocate later, undo, roles."""

from __future__ import annotations

import os
import re
import threading
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model

from dues import clock
from dues.audit.models import AuditRecord
from dues.core.errors import ValidationFailed
from dues.ledger.models import Allocation, Document, OpenItem
from dues.reporting.selectors import ageing

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]

ON_POSTGRES = os.environ.get("DUES_DATABASE_URL", "").startswith("postgres")


def make_user(name: str, role: str, person: str = ""):
    from dues.users.models import UserRole

    user = get_user_model().objects.create_user(name, password="pass-2026-long")
    UserRole.objects.create(user=user, role=role, person_name=person)
    return user


@pytest.fixture
def ledger(company, make_customer, post):
    """C001 owes three invoices (1,00,000 + 50,000 + 30,000) oldest first; C002 owes one."""
    acme = make_customer("C001", name="Acme Fasteners Pvt Ltd", salesperson="Ravi")
    zen = make_customer("C002", name="Zenith Polymers")
    post("invoice", "INV-1", acme, "2026-06-01", "100000")
    post("invoice", "INV-2", acme, "2026-07-01", "50000")
    post("invoice", "INV-3", acme, "2026-08-01", "30000")
    post("invoice", "INV-9", zen, "2026-08-01", "70000")
    return SimpleNamespace(acme=acme, zen=zen)


@pytest.fixture
def collector(client):
    client.force_login(make_user("pooja", "collector"))
    return client


def item(kind: str, number: str) -> OpenItem:
    return OpenItem.objects.get(document__kind=kind, document__number=number, reversal_of__isnull=True)


def residual(kind: str, number: str) -> Decimal:
    return item(kind, number).residual


def alloc_name(number: str) -> str:
    return f"alloc-{item('invoice', number).pk}"


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def input_values(response) -> dict[str, str]:
    """Allocation inputs of a page or panel: {invoice number: typed value}."""
    names = {f"alloc-{i.pk}": i.document.number for i in OpenItem.objects.filter(side="D").select_related("document")}
    found = re.findall(r'name="(alloc-\d+)" value="([^"]*)"', text(response))
    return {names[n]: v for n, v in found}


def receipt_form(number="RCT-100", customer="C001", amount="90000", **extra) -> dict:
    data = {"customer": customer, "date": clock.today().isoformat(), "amount": amount, "mode": "neft",
            "reference": "UTR12345", "tds": "", "charges": "", "discount": "", "number": number}
    data.update(extra)
    return data


def counts() -> tuple[int, int, int]:
    return Document.objects.count(), Allocation.objects.count(), AuditRecord.objects.count()


# ---- posting a receipt ------------------------------------------------------------------------------

def test_new_receipt_page_prefills_customer_number_and_lists_open_invoices_oldest_first(collector, ledger, post):
    post("receipt", "RCT/2026-27/00041", ledger.zen, "2026-09-01", "1000")
    page = collector.get("/receipts/new/?customer=C001")
    assert page.status_code == 200
    body = text(page)
    assert 'value="RCT/2026-27/00042"' in body                       # next number, width kept
    assert 'value="C001"' in body and "Open invoices of Acme Fasteners Pvt Ltd" in body
    assert body.index("INV-1") < body.index("INV-2") < body.index("INV-3")
    assert "INV-9" not in body                                         # another customer's invoice
    assert "1,00,000.00" in body                                       # Indian grouping
    assert f'value="{clock.today():%d-%m-%Y}"' in body         # date defaults to today, dd-mm-yyyy


def test_post_receipt_with_two_allocations_and_tds(collector, ledger):
    before_audit = AuditRecord.objects.count()
    data = receipt_form(amount="90000", tds="10000", **{alloc_name("INV-1"): "60000", alloc_name("INV-2"): "40000"})
    response = collector.post("/receipts/new/", data)
    assert response.status_code == 302
    assert response["Location"] == "/allocate/receipt/RCT-100/"
    receipt = Document.objects.get(kind="receipt", number="RCT-100")
    assert (receipt.amount, receipt.tds, receipt.mode, receipt.reference) == (Decimal(90000), Decimal(10000), "neft",
                                                                             "UTR12345")
    assert receipt.created_by == "pooja"
    assert residual("invoice", "INV-1") == Decimal("40000")
    assert residual("invoice", "INV-2") == Decimal("10000")
    assert residual("invoice", "INV-3") == Decimal("30000")
    assert residual("receipt", "RCT-100") == Decimal("0")
    assert AuditRecord.objects.count() == before_audit + 3            # the receipt and its two allocations
    report = ageing(company=receipt.company, as_of=clock.today(), customer=ledger.acme)
    assert report.totals.total == Decimal("80000")                     # 1,80,000 owed less 1,00,000 settled
    page = collector.get(response["Location"])
    body = text(page)
    assert "Receipt RCT-100 posted: ₹1,00,000.00 allocated to 2 invoices, ₹0.00 on account." in body
    assert "INV-1" in body and "60,000.00" in body


def test_receipt_left_on_account(collector, ledger):
    data = receipt_form(amount="25000", **{alloc_name("INV-1"): "5000"})
    assert collector.post("/receipts/new/", data).status_code == 302
    assert residual("receipt", "RCT-100") == Decimal("20000")
    assert residual("invoice", "INV-1") == Decimal("95000")
    report = ageing(company=ledger.acme.company, as_of=clock.today(), customer=ledger.acme)
    assert report.totals.unapplied == Decimal("-20000")                 # credits count against the total
    assert report.totals.total == Decimal("155000")


def test_receipt_typed_the_indian_way(collector, ledger):
    """"1,50,000" and a dd-mm-yyyy date are what an Indian accountant types; both save."""
    data = receipt_form(amount="1,50,000", tds="₹ 10,000.00", date=f"{clock.today():%d-%m-%Y}",
                        **{alloc_name("INV-1"): "1,00,000", alloc_name("INV-2"): "50,000"})
    assert collector.post("/receipts/new/", data).status_code == 302
    assert residual("invoice", "INV-1") == Decimal("0") and residual("receipt", "RCT-100") == Decimal("10000")


def test_receipt_with_more_decimals_than_paise_is_refused_by_the_field(collector, ledger):
    before = counts()
    response = collector.post("/receipts/new/", receipt_form(amount="1,50,000.505"))
    assert response.status_code == 400
    assert "has more than 2 decimal places" in text(response)
    assert counts() == before


@pytest.mark.parametrize(("amount", "tds", "expected", "on_account"), [
    ("160000", "10000", {"INV-1": "100000.00", "INV-2": "50000.00", "INV-3": "20000.00"}, "0"),   # partial last
    ("200000", "", {"INV-1": "100000.00", "INV-2": "50000.00", "INV-3": "30000.00"}, "20000"),    # rest on account
    ("70000", "", {"INV-1": "70000.00", "INV-2": "", "INV-3": ""}, "0"),
])
def test_oldest_first_fills_then_posts(collector, ledger, amount, tds, expected, on_account):
    data = receipt_form(amount=amount, tds=tds, _fill="oldest", _partial="panel")
    panel = collector.post("/receipts/new/", data, headers={"HX-Request": "true"})
    assert panel.status_code == 200
    assert "<html" not in panel.content.decode()                      # only the panel is swapped
    assert input_values(panel) == expected
    full = collector.post("/receipts/new/", receipt_form(amount=amount, tds=tds, _fill="oldest"))  # without HTMX
    assert input_values(full) == expected and Document.objects.filter(kind="receipt").count() == 0
    filled = {alloc_name(n): v for n, v in expected.items()}
    assert collector.post("/receipts/new/", receipt_form(amount=amount, tds=tds, **filled)).status_code == 302
    assert residual("receipt", "RCT-100") == Decimal(on_account)
    for number, value in expected.items():
        original = {"INV-1": 100000, "INV-2": 50000, "INV-3": 30000}[number]
        assert residual("invoice", number) == Decimal(original) - Decimal(value or 0)


def test_running_summary_and_customer_panel_partials(collector, ledger):
    summary = collector.post("/receipts/new/", receipt_form(amount="50000", tds="5000", _partial="summary",
                                                            **{alloc_name("INV-1"): "40000"}),
                             headers={"HX-Request": "true"})
    body = text(summary)
    assert "₹55,000.00" in body and "₹40,000.00" in body and "₹15,000.00" in body
    panel = collector.post("/receipts/new/", receipt_form(customer="C002", _partial="panel"), headers={"HX-Request": "true"})
    assert "INV-9" in text(panel) and "INV-1" not in text(panel)
    options = collector.get("/receipts/new/customers/?customer=zen")
    assert '<option value="C002">Zenith Polymers</option>' in options.content.decode()
    assert "C001" not in options.content.decode()


def test_over_allocation_refused_next_to_the_field_and_nothing_written(collector, ledger):
    before = counts()
    data = receipt_form(amount="90000", **{alloc_name("INV-1"): "50000", alloc_name("INV-3"): "35000"})
    response = collector.post("/receipts/new/", data)
    assert response.status_code == 400
    body = text(response)
    error = f'<p class="field__error" id="{alloc_name("INV-3")}-error">More than the ₹30,000.00 outstanding on INV-3.</p>'
    assert error in body
    assert 'value="35000"' in body and 'value="50000"' in body       # what was typed is kept
    assert counts() == before
    # more allocated than the receipt brings: the message sits by the running figure
    response = collector.post("/receipts/new/", receipt_form(amount="10000", **{alloc_name("INV-1"): "20000"}))
    assert response.status_code == 400
    assert "₹20,000.00 allocated is more than the ₹10,000.00 available" in text(response)
    assert counts() == before


def test_header_errors_next_to_fields(collector, ledger, post):
    post("receipt", "RCT-7", ledger.acme, "2026-09-01", "100")
    before = counts()
    response = collector.post("/receipts/new/", receipt_form(number="RCT-7", customer="NOPE", amount="abc",
                                                             mode="barter"))
    assert response.status_code == 400
    body = text(response)
    assert 'id="id_number_error">Receipt RCT-7 already exists' in body
    assert 'id="id_customer_error">No customer you can see has this code' in body
    assert 'id="id_amount_error">' in body and 'id="id_mode_error">' in body
    assert counts() == before


def test_lock_date_problem_from_the_service_is_shown_by_the_date(collector, ledger):
    company = ledger.acme.company
    company.lock_date = date(2026, 9, 30)
    company.save()
    before = counts()
    response = collector.post("/receipts/new/", receipt_form(date="2026-09-15"))
    assert response.status_code == 400
    assert 'id="id_date_error">15-09-2026 is on or before the lock date 30-09-2026' in text(response)
    assert counts() == before


# ---- allocating on-account money later, and undoing ----------------------------------------------------

def test_allocate_on_account_money_later(collector, ledger, post):
    post("receipt", "RCT-50", ledger.acme, "2026-09-01", "60000")
    page = collector.get("/allocate/receipt/RCT-50/")
    assert page.status_code == 200
    assert "₹60,000.00" in text(page) and "Not applied to any invoice yet." in text(page)
    filled = collector.post("/allocate/receipt/RCT-50/", {"on": clock.today().isoformat(), "_fill": "oldest",
                                                           "_partial": "panel"}, headers={"HX-Request": "true"})
    assert input_values(filled) == {"INV-1": "60000.00", "INV-2": "", "INV-3": ""}
    response = collector.post("/allocate/receipt/RCT-50/", {
        "on": clock.today().isoformat(), "reason": "customer's remittance advice",
        alloc_name("INV-2"): "50000", alloc_name("INV-3"): "10000"})
    assert response.status_code == 302 and response["Location"] == "/allocate/receipt/RCT-50/"
    assert residual("receipt", "RCT-50") == Decimal("0")
    assert residual("invoice", "INV-2") == Decimal("0") and residual("invoice", "INV-3") == Decimal("20000")
    made = Allocation.objects.filter(credit_item=item("receipt", "RCT-50")).order_by("pk")
    assert [(a.debit_item.document.number, a.amount, a.reason, a.created_by) for a in made] == [
        ("INV-2", Decimal("50000"), "customer's remittance advice", "pooja"),
        ("INV-3", Decimal("10000"), "customer's remittance advice", "pooja")]
    body = text(collector.get("/allocate/receipt/RCT-50/"))
    assert "Allocated ₹60,000.00 from RCT-50 to 2 invoices; ₹0.00 left on account." in body
    assert "is fully applied" in body


def test_allocate_over_the_credit_is_refused_and_nothing_written(collector, ledger, post):
    post("receipt", "RCT-50", ledger.acme, "2026-09-01", "20000")
    before = counts()
    response = collector.post("/allocate/receipt/RCT-50/", {"on": clock.today().isoformat(),
                                                             alloc_name("INV-1"): "15000", alloc_name("INV-2"): "15000"})
    assert response.status_code == 400
    assert "₹30,000.00 allocated is more than the ₹20,000.00 available" in text(response)
    assert counts() == before
    empty = collector.post("/allocate/receipt/RCT-50/", {"on": clock.today().isoformat()})
    assert empty.status_code == 400 and "Type an amount against at least one invoice" in text(empty)


def test_second_allocation_exceeding_the_reduced_residual_is_refused(ledger, post):
    """The service re-reads the credit under lock: what an earlier allocation took is gone."""
    from dues.ledger.services import allocations_create

    post("receipt", "RCT-50", ledger.acme, "2026-09-01", "60000")
    credit = item("receipt", "RCT-50")
    stale = item("receipt", "RCT-50")  # as a second person's page read it: 60,000 left
    allocations_create(credit_item=credit, targets=[(item("invoice", "INV-1"), Decimal("50000"))],
                       on=clock.today(), actor="first")
    before = counts()
    with pytest.raises(ValidationFailed) as refused:
        allocations_create(credit_item=stale, targets=[(item("invoice", "INV-2"), Decimal("5000")),
                                                       (item("invoice", "INV-3"), Decimal("20000"))],
                           on=clock.today(), actor="second")
    assert [(p.row, p.field) for p in refused.value.problems] == [(2, "allocations")]
    assert "exceeds what is left on it (5000.00)" in refused.value.problems[0].message
    assert counts() == before                                             # the first target was not written either
    assert residual("receipt", "RCT-50") == Decimal("10000")
    assert residual("invoice", "INV-2") == Decimal("50000")


@pytest.mark.skipif(not ON_POSTGRES, reason="row locks are PostgreSQL's; SQLite lets one writer in at a time")
@pytest.mark.django_db(transaction=True)
def test_two_people_allocating_the_same_receipt_at_once_cannot_over_allocate(ledger, post):
    from django.db import connection

    from dues.ledger.services import allocations_create

    post("receipt", "RCT-50", ledger.acme, "2026-09-01", "60000")
    credit = item("receipt", "RCT-50")
    targets = {"a": item("invoice", "INV-1"), "b": item("invoice", "INV-2")}
    barrier = threading.Barrier(2)
    outcome: dict[str, str] = {}

    def allocate(who: str) -> None:
        try:
            barrier.wait()
            allocations_create(credit_item=credit, targets=[(targets[who], Decimal("40000"))],
                               on=clock.today(), actor=who)
            outcome[who] = "ok"
        except ValidationFailed as exc:
            outcome[who] = str(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=allocate, args=(w,)) for w in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(v == "ok" for v in outcome.values()) == [False, True]
    assert residual("receipt", "RCT-50") == Decimal("20000")
    assert Allocation.objects.filter(credit_item=credit).count() == 1


def test_undo_allocation_with_reason_restores_residuals(collector, ledger):
    collector.post("/receipts/new/", receipt_form(amount="30000", **{alloc_name("INV-1"): "30000"}))
    allocation = Allocation.objects.get(credit_item=item("receipt", "RCT-100"))
    page = text(collector.get("/allocate/receipt/RCT-100/"))
    assert f'action="/allocations/{allocation.pk}/undo/"' in page
    before = counts()
    refused = collector.post(f"/allocations/{allocation.pk}/undo/", {"reason": "  "})
    assert refused.status_code == 400
    assert f'id="undo-error-{allocation.pk}">Say why the allocation is undone.' in text(refused)
    assert counts() == before
    response = collector.post(f"/allocations/{allocation.pk}/undo/", {"reason": "wrong invoice"})
    assert response.status_code == 302 and response["Location"] == "/allocate/receipt/RCT-100/"
    assert residual("invoice", "INV-1") == Decimal("100000")
    assert residual("receipt", "RCT-100") == Decimal("30000")
    reversal = Allocation.objects.get(reverses=allocation)
    assert (reversal.amount, reversal.reason, reversal.created_by) == (Decimal("-30000"), "wrong invoice", "pooja")
    assert AuditRecord.objects.filter(action="unallocate", object_id=str(allocation.pk)).count() == 1
    again = collector.post(f"/allocations/{allocation.pk}/undo/", {"reason": "twice"})
    assert again.status_code == 404 or "already undone" in text(again)
    assert Allocation.objects.filter(reverses=allocation).count() == 1
    assert collector.get(f"/allocations/{allocation.pk}/undo/").status_code == 405


# ---- who may do what -----------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["billing", "sales", "auditor"])
def test_roles_that_may_not_post_receipts_or_allocate(client, ledger, post, role):
    post("receipt", "RCT-50", ledger.acme, "2026-09-01", "60000",
         allocations=[("INV-1", Decimal("10000"))])
    allocation = Allocation.objects.get()
    client.force_login(make_user("someone", role, person="Ravi"))
    before = counts()
    assert client.get("/receipts/new/").status_code == 403
    assert client.get("/receipts/new/customers/?customer=C0").status_code == 403
    assert client.post("/receipts/new/", receipt_form(**{alloc_name("INV-2"): "1000"})).status_code == 403
    assert client.get("/allocate/receipt/RCT-50/").status_code == 403
    assert client.post("/allocate/receipt/RCT-50/", {"on": clock.today().isoformat(),
                                                      alloc_name("INV-2"): "1000"}).status_code == 403
    assert client.post(f"/allocations/{allocation.pk}/undo/", {"reason": "not mine"}).status_code == 403
    assert counts() == before
    assert residual("receipt", "RCT-50") == Decimal("50000")


@pytest.mark.parametrize("role", ["collector", "ar_manager", "admin"])
def test_roles_that_may(client, ledger, role):
    client.force_login(make_user("someone", role))
    assert client.get("/receipts/new/").status_code == 200
    assert client.post("/receipts/new/", receipt_form(amount="1000", **{alloc_name("INV-1"): "1000"})).status_code == 302
    assert residual("invoice", "INV-1") == Decimal("99000")


def test_anonymous_is_sent_to_login(client, ledger):
    for url in ("/receipts/new/", "/allocate/receipt/RCT-1/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_allocate_page_of_a_debit_or_unknown_document_is_not_found(collector, ledger):
    assert collector.get("/allocate/invoice/INV-1/").status_code == 404
    assert collector.get("/allocate/receipt/NOPE/").status_code == 404


def test_someone_else_allocated_first_the_service_refusal_lands_next_to_the_invoice(collector, ledger, post, monkeypatch):
    """The page was read before another person took 20,000 of INV-3; posting re-checks under lock."""
    from dues.web.views import receipts as views

    real = views.open_debits

    def as_read_earlier(**kwargs):
        items, total = real(**kwargs)
        for i in items:
            i.residual = i.amount
        return items, total

    post("receipt", "RCT-0", ledger.acme, "2026-09-01", "20000", allocations=[("INV-3", Decimal("20000"))])
    monkeypatch.setattr(views, "open_debits", as_read_earlier)
    before = counts()
    response = collector.post("/receipts/new/", receipt_form(amount="40000", **{alloc_name("INV-1"): "15000",
                                                                               alloc_name("INV-3"): "25000"}))
    assert response.status_code == 400
    body = text(response)
    assert f'id="{alloc_name("INV-3")}-error">allocating 25000.00 to INV-3 exceeds what is outstanding on it (10000.00)' in body
    assert "The receipt was not posted." in body
    assert counts() == before
    assert residual("invoice", "INV-1") == Decimal("100000")
    # the same on the allocate page, where the refusal comes from allocations_create
    post("receipt", "RCT-50", ledger.acme, "2026-09-01", "60000")
    before = counts()
    response = collector.post("/allocate/receipt/RCT-50/", {"on": clock.today().isoformat(),
                                                             alloc_name("INV-3"): "25000"})
    assert response.status_code == 400
    assert f'id="{alloc_name("INV-3")}-error">allocating 25000.00 to INV-3 exceeds what is outstanding' in text(response)
    assert counts() == before


def test_allocation_on_a_locked_date_is_refused_by_the_date_field(collector, ledger, post):
    post("receipt", "RCT-50", ledger.acme, "2026-10-15", "60000")
    company = ledger.acme.company
    company.lock_date = date(2026, 10, 31)
    company.save()
    before = counts()
    response = collector.post("/allocate/receipt/RCT-50/", {"on": "2026-10-20", alloc_name("INV-1"): "1000"})
    assert response.status_code == 400
    assert 'id="id_on_error">the allocation is dated 20-10-2026, on or before the lock date 31-10-2026' in text(response)
    assert counts() == before
