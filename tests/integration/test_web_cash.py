"""The cash-application workbench: proposals with reasons, accept / change / ignore, bulk accept, roles."""

from __future__ import annotations

import html
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from dues.audit.models import AuditRecord
from dues.banking.models import BankLine, CustomerBankIdentity
from dues.banking.services import bank_statement_import, cash_apply
from dues.ledger.models import Allocation, Document, OpenItem
from tests.integration.conftest import HEADER, NEXT

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]


def _login(client, django_user_model, role: str):
    from dues.users.models import UserRole

    user = django_user_model.objects.create_user(f"u-{role}", password="x")
    UserRole.objects.create(user=user, role=role)
    client.force_login(user)
    return user


@pytest.fixture
def collector(client, django_user_model):
    return _login(client, django_user_model, "collector")


def _line(ref: str) -> BankLine:
    return BankLine.objects.get(reference=ref)


def _text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.content.decode()))


def _accept_data(client, line: BankLine) -> dict:
    """The hidden fields of the row's Accept form, as the page renders them."""
    page = client.get(reverse("web:cash")).content.decode()
    row = re.search(rf'<tr id="line-{line.pk}".*?</tr>', page, re.S).group(0)
    form = re.search(r'<form method="post" action="[^"]*/accept/".*?</form>', row, re.S).group(0)
    data: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form):
        data.setdefault(name, []).append(html.unescape(value))
    data.pop("csrfmiddlewaretoken", None)
    return data


def test_list_shows_proposals_with_reasons(client, collector, bank_book):
    response = client.get(reverse("web:cash"))
    assert response.status_code == 200
    text = _text(response)
    assert "4 credits to apply (3 with a proposal, 2 at 95% or more)" in text
    assert "short by 2% TDS on taxable 1,00,000.00" in text  # the reason spelled out
    assert "1,16,000.00" in text and "2,000.00" in text  # amount and TDS, Indian grouping
    assert "ambiguous" in text
    assert "no customer found" in text
    assert '<a href="/cash/" aria-current="page">Cash</a>' in response.content.decode()  # the nav link
    # filters: applied shows nothing yet; an unknown status is an error next to the field
    assert "No bank lines match the filters" in _text(client.get(reverse("web:cash") + "?status=applied"))
    bad = client.get(reverse("web:cash") + "?status=nope&from=31-31-2025")
    assert bad.status_code == 400 and "is not a status here" in _text(bad) and "is not a date" in _text(bad)
    unmatched = _text(client.get(reverse("web:cash") + "?status=unmatched"))
    assert "INT.PD" in unmatched and "SHREE GANESH" not in unmatched


def test_accept_posts_receipt_and_allocations_and_learns(client, collector, company, bank_book):
    line = _line("412345678901")
    data = _accept_data(client, line)
    assert data["customer"] == ["C003"] and data["amount"] == ["5900.00"]
    response = client.post(reverse("web:cash_accept", args=[line.pk]), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "applied" in _text(response) and f'id="line-{line.pk}"' in response.content.decode()
    line.refresh_from_db()
    receipt = line.receipt
    assert (line.status, receipt.customer.code, receipt.amount, receipt.created_by) == (
        "applied", "C003", Decimal("5900.00"), "u-collector")
    inv = OpenItem.objects.get(document__number=data["invoice"][0], side="D")
    assert inv.residual == 0 and Allocation.objects.get(debit_item=inv).amount == Decimal("5900.00")
    assert ("upi", "patil@okaxis") in set(CustomerBankIdentity.objects.filter(customer=bank_book["C003"])
                                          .values_list("kind", "value"))
    # the next line from the same UPI id is applied on its own
    bank_statement_import(company=company, path="next.csv", data=NEXT.encode(), preset="hdfc", actor="test")
    rows = {x.reference: x for x in cash_apply(company, auto=True, actor="test").lines}
    assert rows["412345678999"].status == "applied" and rows["412345678999"].customer == "C003"


def test_second_accept_of_the_same_line_is_refused(client, collector, bank_book):
    line = _line("N100000000001")
    data = _accept_data(client, line)
    assert data["tds"] == ["2000.00"]
    first = client.post(reverse("web:cash_accept", args=[line.pk]), data)
    assert first.status_code == 302
    second = client.post(reverse("web:cash_accept", args=[line.pk]), data, follow=True)
    assert "already applied" in _text(second)
    assert Document.objects.filter(kind="receipt").count() == 1
    assert Allocation.objects.count() == 1
    htmx = client.post(reverse("web:cash_accept", args=[line.pk]), data, HTTP_HX_REQUEST="true")
    assert "already applied" in _text(htmx) and Document.objects.filter(kind="receipt").count() == 1


def test_change_to_another_customer(client, collector, bank_book):
    line = _line("412345678901")
    url = reverse("web:cash_change", args=[line.pk])
    page = client.get(url + "?customer=C001")
    assert page.status_code == 200
    text = _text(page)
    table = text[text.index("Open invoices of Shree Ganesh Traders"):]
    assert "INV-1" in table and "INV-2" in table and "INV-4" not in table
    assert "The engine proposed C003" in text  # and why, above
    # oldest first, up to the credit: 5,900.00 against INV-1
    assert re.search(r'name="invoice" value="INV-1">.*?name="amount" value="5900.00"', page.content.decode(), re.S)
    bad = client.post(url, {"_confirm": "1", "customer": "C001", "invoice": ["INV-1"], "amount": ["abc"]})
    assert bad.status_code == 400 and "is not an amount" in _text(bad)
    assert not Document.objects.filter(kind="receipt").exists()
    response = client.post(url, {"_confirm": "1", "customer": "C001", "invoice": ["INV-1", "INV-2"],
                                 "amount": ["", "5900.00"], "tds": "0", "charges": "0", "next": "/cash/"})
    assert response.status_code == 302 and response["Location"] == "/cash/"
    line.refresh_from_db()
    assert line.status == "applied" and line.receipt.customer.code == "C001"
    assert OpenItem.objects.get(document__number="INV-2", side="D").residual == 0
    assert OpenItem.objects.get(document__number="INV-1", side="D").residual == Decimal("118000.00")
    assert CustomerBankIdentity.objects.filter(customer=bank_book["C001"], kind="upi", value="patil@okaxis").exists()


def test_reject_marks_ignored_with_a_reason(client, collector, bank_book):
    line = BankLine.objects.get(amount=Decimal("1234.00"))
    url = reverse("web:cash_ignore", args=[line.pk])
    empty = client.post(url, {"reason": " "}, follow=True)
    assert "say why" in _text(empty)
    assert _line(line.reference).status == "unapplied"
    response = client.post(url, {"reason": "interest from the bank"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "ignored" in _text(response)
    line.refresh_from_db()
    assert (line.status, line.note) == ("ignored", "interest from the bank")
    record = AuditRecord.objects.get(object_type="bank_line", action="ignore")
    assert record.actor == "u-collector"
    assert "interest from the bank" in _text(client.get(reverse("web:cash") + "?status=ignored"))
    assert "INT.PD" not in _text(client.get(reverse("web:cash")))
    back = client.post(reverse("web:cash_unignore", args=[line.pk]), HTTP_HX_REQUEST="true")
    assert back.status_code == 200 and "Not a customer: why" in _text(back)
    line.refresh_from_db()
    assert (line.status, line.note) == ("unapplied", "")
    assert AuditRecord.objects.filter(object_type="bank_line", action="unignore").count() == 1


def test_bulk_accept_only_at_or_above_the_threshold(client, collector, bank_book):
    response = client.post(reverse("web:cash_run"), {"action": "bulk", "threshold": "95"}, follow=True)
    assert "Accepted 2 matches at 95% or more" in _text(response)
    applied = set(BankLine.objects.filter(status="applied").values_list("reference", flat=True))
    assert applied == {"N100000000001", "512345678901"}
    assert _line("412345678901").status == "unapplied"  # ambiguous: below 95%
    assert Document.objects.filter(kind="receipt").count() == 2
    again = client.post(reverse("web:cash_run"), {"action": "bulk", "threshold": "95"}, follow=True)
    assert "Accepted 0 matches" in _text(again) and Document.objects.filter(kind="receipt").count() == 2
    bad = client.post(reverse("web:cash_run"), {"action": "bulk", "threshold": "7"}, follow=True)
    assert "is not a confidence" in _text(bad)


def test_preview_writes_nothing_and_auto_apply_is_for_managers(client, django_user_model, collector, bank_book):
    response = client.post(reverse("web:cash_run"), {"action": "preview"}, follow=True)
    assert "3 with a proposal, 1 without; nothing was posted" in _text(response)
    assert "Auto-apply" not in _text(response)  # a collector does not see the button
    refused = client.post(reverse("web:cash_run"), {"action": "auto"})
    assert refused.status_code == 403 and not Document.objects.filter(kind="receipt").exists()
    _login(client, django_user_model, "ar_manager")
    assert "Auto-apply" in _text(client.get(reverse("web:cash")))
    done = client.post(reverse("web:cash_run"), {"action": "auto"}, follow=True)
    assert "Auto-applied 2 of 4 credits" in _text(done)
    assert Document.objects.filter(kind="receipt").count() == 2


@pytest.mark.parametrize("role", ["billing", "sales", "auditor"])
def test_other_roles_are_refused_and_nothing_is_written(client, django_user_model, bank_book, role):
    _login(client, django_user_model, role)
    assert client.get(reverse("web:cash")).status_code == 403
    line = _line("N100000000001")
    data = {"customer": "C001", "invoice": ["INV-1"], "amount": ["118000.00"], "tds": "2000.00"}
    before = AuditRecord.objects.count()
    posts = [
        client.post(reverse("web:cash_accept", args=[line.pk]), data),
        client.post(reverse("web:cash_change", args=[line.pk]), {**data, "_confirm": "1"}),
        client.post(reverse("web:cash_ignore", args=[line.pk]), {"reason": "x"}),
        client.post(reverse("web:cash_unignore", args=[line.pk])),
        client.post(reverse("web:cash_run"), {"action": "bulk", "threshold": "50"}),
        client.post(reverse("web:cash_run"), {"action": "auto"}),
        client.post(reverse("web:cash_upload"), {"file": ""}),
    ]
    assert [r.status_code for r in posts] == [403] * len(posts)
    assert not Document.objects.filter(kind="receipt").exists()
    assert set(BankLine.objects.values_list("status", flat=True)) == {"unapplied"}
    assert AuditRecord.objects.count() == before
    assert 'href="/cash/"' not in client.get(reverse("web:dashboard")).content.decode()


def test_upload_a_statement(client, collector, company, bank_book):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("next.csv", NEXT.encode(), content_type="text/csv")
    response = client.post(reverse("web:cash_upload"), {"file": upload, "preset": "hdfc"}, follow=True)
    assert "next.csv: 1 new line in BANK1; 0 already there" in _text(response)
    assert BankLine.objects.filter(reference="412345678999").exists()
    again = client.post(reverse("web:cash_upload"), {"file": SimpleUploadedFile("next.csv", NEXT.encode()),
                                                     "preset": "hdfc"}, follow=True)
    assert "0 new lines in BANK1; 1 already there" in _text(again)


def test_auto_apply_undoes_a_bounced_cheque_and_lists_it_as_returned(client, django_user_model, company, bank_book):
    _login(client, django_user_model, "ar_manager")
    client.post(reverse("web:cash_run"), {"action": "auto"})
    credit = _line("N100000000001")
    assert credit.status == "applied" and credit.receipt.status == Document.POSTED
    bounce = ("Account No :50100123456789\n\n" + HEADER +
              '12/06/25,RETURN N100000000001 SHREE GANESH,N100000000001,12/06/25,"1,16,000.00",,"1,24,834.00"\n')
    bank_statement_import(company=company, path="b.csv", data=bounce.encode(), preset="hdfc", actor="test")
    response = client.post(reverse("web:cash_run"), {"action": "auto"}, follow=True)
    assert "1 returned by the bank undone" in _text(response)
    credit.refresh_from_db()
    assert credit.status == "returned" and credit.receipt.status == Document.CANCELLED
    assert OpenItem.objects.get(document__number="INV-1", side="D").residual == Decimal("118000.00")
    listed = _text(client.get(reverse("web:cash") + "?status=returned"))
    assert "returned by N100000000001 on 12-06-2025" in listed and "returns credit N100000000001" in listed
    assert "cancelled" in listed
