"""The billing queue page: drafts with their credit state, approve / override / reject, four-eyes, PDF."""

from __future__ import annotations

from datetime import date

import pytest

from tests.integration.test_billing import _user, approved, book  # noqa: F401  (fixtures)


@pytest.fixture
def queue(book, post):  # noqa: F811
    from dues.billing.services import bill_run, billing_settings_set
    from dues.customers.models import Customer

    billing_settings_set(company=book, values={"four_eyes": "on"}, actor="admin")
    post("invoice", "OLD-1", Customer.objects.get(code="C001"), "2026-11-01", 40000)
    bill_run(company=book, on=date(2026, 11, 30), actor="maker")
    return book


def test_queue_lists_drafts_and_holds(client, queue):
    from dues.billing.models import Bill

    client.force_login(_user("manju", "ar_manager"))
    page = client.get("/billing/").content.decode()
    held = Bill.objects.get(total=17110)
    assert "Billing queue" in page and held.reference in page and "Held" in page
    assert "credit limit 50,000.00 exceeded" in page and "Override and approve" in page
    response = client.post(f"/billing/{held.pk}/decide/", {"action": "approve", "override": "1",
                                                           "reason": "MD approved"}, follow=True)
    assert "approved as tax invoice INV/2627/0001" in response.content.decode()
    assert Bill.objects.get(pk=held.pk).status == "approved"
    pdf = client.get(f"/billing/{held.pk}/pdf/")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_billing_user_cannot_override_and_maker_cannot_decide(client, queue):
    from dues.billing.models import Bill

    held = Bill.objects.get(total=17110)
    client.force_login(_user("billy", "billing"))
    page = client.get("/billing/").content.decode()
    assert "an AR manager may override" in page
    response = client.post(f"/billing/{held.pk}/decide/", {"action": "approve", "override": "1", "reason": "x"},
                           follow=True)
    assert "may not override a credit hold" in response.content.decode()
    assert Bill.objects.get(pk=held.pk).status == "draft"
    client.force_login(_user("maker", "billing"))
    assert "You made this draft" in client.get("/billing/").content.decode()
    client.post(f"/billing/{held.pk}/decide/", {"action": "reject", "reason": "wrong rate"})
    assert Bill.objects.get(pk=held.pk).status == "draft"  # four-eyes: refused
    client.force_login(_user("checker", "billing"))
    client.post(f"/billing/{held.pk}/decide/", {"action": "reject", "reason": "wrong rate"})
    assert Bill.objects.get(pk=held.pk).status == "rejected"


def test_sales_and_collectors_do_not_see_billing(client, queue):
    client.force_login(_user("pooja", "collector"))
    assert client.get("/billing/").status_code == 403


def test_irn_window_and_old_unbilled_deliveries_are_flagged(book):  # noqa: F811
    from dues.billing.selectors import irn_due, unbilled_old
    from dues.billing.services import bill_run, bills_approve

    today = date(2026, 12, 22)
    assert [d["number"] for d in unbilled_old(company=book, today=today)] == ["DC-1", "DC-2", "DC-3"]  # 25+ days
    run = bill_run(company=book, on=date(2026, 11, 26), actor="maker")
    bills_approve(company=book, bills=run.bills, actor="checker", as_of=today)
    late = irn_due(company=book, today=today)
    assert len(late) == 3 and {b.days_left for b in late} == {4} and unbilled_old(company=book, today=today) == []


def test_raise_credit_note_on_the_page_then_approve_under_four_eyes(client, approved, book):  # noqa: F811
    from dues.billing.models import Note
    from dues.billing.services import billing_settings_set

    billing_settings_set(company=book, values={"four_eyes": "on"}, actor="admin")
    bill = approved["C001"]
    client.force_login(_user("maker", "billing"))
    page = client.get(f"/billing/?invoice={bill.number}").content.decode()
    assert "Raise a credit or debit note" in page and f'value="{bill.number}"' in page and "Raise credit note" in page
    response = client.post("/billing/notes/raise/", {"invoice": bill.number, "kind": "credit", "reason": "return",
                                                      "lines": "BOLT:1001\n", "date": "2026-12-05"}, follow=True)
    assert "more than is left of the 1000 billed" in response.content.decode() and not Note.objects.exists()
    response = client.post("/billing/notes/raise/", {"invoice": bill.number, "kind": "credit", "reason": "return",
                                                      "lines": "BOLT:100\n", "date": "2026-12-05"}, follow=True)
    note = Note.objects.get()
    page = response.content.decode()
    assert f"Draft credit note {note.reference} against {bill.number}" in page and "You made this draft" in page
    client.post(f"/billing/notes/{note.pk}/decide/", {"action": "approve"})
    assert Note.objects.get().status == "draft"  # four-eyes
    client.force_login(_user("checker", "billing"))
    response = client.post(f"/billing/notes/{note.pk}/decide/", {"action": "approve"}, follow=True)
    assert f"approved as credit note CN/2627/0001 against {bill.number}" in response.content.decode()
    pdf = client.get(f"/billing/notes/{note.pk}/pdf/")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
