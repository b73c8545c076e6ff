"""Overdue interest charged by a debit note (and seen in ageing), escalation and the case-history PDF."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]

ON = date(2026, 3, 2)


def user(role, name=None):
    from django.contrib.auth import get_user_model

    from dues.users.models import UserRole

    u = get_user_model().objects.create_user(username=name or role, password="x")
    UserRole.objects.create(user=u, role=role)
    return u


@pytest.fixture
def acme(company, make_customer, post):
    """1,00,000 due 31 Jan 2026, 40,000 of it paid on 15 Feb; 18 % simple on the reducing balance."""
    from dues.collections.services.interest import customer_interest_update

    acme = make_customer("C001", name="Acme Fasteners Pvt Ltd", email="accounts@acme.example")
    post("invoice", "INV-1", acme, "2026-01-01", "100000", due_date=date(2026, 1, 31))
    post("receipt", "RCPT-1", acme, "2026-02-15", "40000", allocations=[("INV-1", Decimal("40000"))])
    customer_interest_update(customer=acme, actor="test", mode="simple", rate="18")
    return acme


def test_interest_computed_on_the_reducing_balance(company, acme):
    from dues.collections.services.interest import interest_compute

    result = interest_compute(company, acme, ON)
    assert result.total == Decimal("1183.57")  # 739.73 on 1,00,000 for 15 days + 443.84 on 60,000 for 15 days
    [item] = result.items
    assert item.number == "INV-1" and item.residual == Decimal("60000") and item.result.days == 30
    assert result.as_json()["items"][0]["periods"][1] == {
        "from": "2026-02-16", "to": "2026-03-02", "days": 15, "balance": "60000.00", "rate": "18",
        "interest": "443.84", "rest": False}


def test_post_interest_as_a_debit_note_seen_in_ageing_and_not_charged_twice(company, acme):
    from dues.collections.models import InterestCharge
    from dues.collections.services.interest import interest_compute, interest_post
    from dues.core.errors import DuesError, PermissionDenied
    from dues.ledger.models import Document
    from dues.reporting.selectors import ageing

    with pytest.raises(PermissionDenied):
        interest_post(company=company, customer=acme, on=ON, actor=user("collector"))
    assert not Document.objects.filter(kind="debit_note").exists()

    document, _ = interest_post(company=company, customer=acme, on=ON, actor=user("billing"))
    assert (document.kind, document.number, document.amount) == ("debit_note", "INT-C001-20260302", Decimal("1183.57"))
    assert InterestCharge.objects.get().through == ON
    row = ageing(company=company, as_of=ON, customer=acme).rows[0]
    assert row.buckets["not_due"] == Decimal("1183.57")  # the debit note, due the day it is posted
    assert sum(row.buckets.values()) == Decimal("61183.57")
    from dues.audit.models import AuditRecord

    assert AuditRecord.objects.filter(object_type="debit_note", object_id="INT-C001-20260302", action="post",
                                      actor="billing").exists()

    # nothing more on the same day; later only the new days, and never interest on the interest note
    with pytest.raises(DuesError, match="no interest due"):
        interest_post(company=company, customer=acme, on=ON, actor="test")
    later = interest_compute(company, acme, date(2026, 3, 12))
    assert [i.number for i in later.items] == ["INV-1"]
    assert later.total == Decimal("295.89")  # 60,000 x 18 % x 10 / 365


def test_msmed_preset_uses_the_bank_rate_setting(company, acme, monkeypatch):
    from dues.collections.services.interest import customer_interest_update, interest_compute

    monkeypatch.setenv("DUES_RBI_BANK_RATE", "6.75")
    customer_interest_update(customer=acme, actor="test", mode="msmed")
    result = interest_compute(company, acme, ON)
    assert result.terms.annual_rate == Decimal("20.25") and result.terms.compounds
    # 1-15 Feb on 1,00,000: 832.19; 16-28 Feb on 60,000: 432.74; rest; 1-2 Mar on 61,264.93: 67.98
    assert [p.interest for p in result.items[0].result.periods] == [Decimal("832.19"), Decimal("432.74"),
                                                                    Decimal("67.98")]


def test_policy_terms_apply_when_the_customer_has_none(company, make_customer, post):
    from dues.collections.services.interest import interest_compute, policy_interest_update
    from dues.collections.services.policies import policy_default

    c = make_customer("C009")
    post("invoice", "INV-9", c, "2026-01-01", "100000", due_date=date(2026, 1, 31))
    assert interest_compute(company, c, ON).terms is None
    policy_interest_update(policy=policy_default(company), actor="test", mode="simple", rate="18")
    assert interest_compute(company, c, ON).total == Decimal("1479.45")


def test_letters_show_the_interest(company, acme):
    from pypdf import PdfReader

    from dues.documents.letters import render_letter

    pdf = render_letter(company, acme, "final_notice", ON, interest=Decimal("1183.57"), interest_note="18% a year")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "Interest on the overdue amount" in text and "1,183.57" in text


def test_escalation_is_listed_and_refused_to_sales(company, acme):
    from dues.collections.models import Escalation
    from dues.collections.selectors import escalated_customers
    from dues.collections.services.escalation import escalate, escalation_close
    from dues.core.errors import PermissionDenied, ValidationFailed

    with pytest.raises(PermissionDenied):
        escalate(customer=acme, to="legal", reason="no reply", actor=user("auditor"))
    with pytest.raises(ValidationFailed):
        escalate(customer=acme, to="ceo", reason="", actor="test")
    assert not Escalation.objects.exists()
    e = escalate(customer=acme, to="manager", reason="three broken promises", actor=user("collector"), on=ON)
    assert (e.to, e.overdue, e.activity.kind) == ("ar_manager", Decimal("60000"), "task")
    assert [(x.customer.code, x.to) for x in escalated_customers(company)] == [("C001", "ar_manager")]
    escalation_close(escalation=e, actor="test")
    assert list(escalated_customers(company)) == []


def test_case_history_pdf_has_the_history(company, acme):
    from pypdf import PdfReader

    from dues.collections.case_file import render_case_history
    from dues.collections.services.activities import activity_log
    from dues.collections.services.disputes import dispute_open
    from dues.collections.services.escalation import escalate
    from dues.collections.services.promises import promise_add

    activity_log(customer=acme, kind="call", outcome="no_answer", notes="rang twice", actor="test")
    promise_add(customer=acme, amount="25000", promised_date=date(2026, 3, 5), taken_on=ON, actor="test",
                invoices=["INV-1"])
    dispute_open(company=company, invoice="INV-1", amount="5000", reason="damaged", owner="dispatch", actor="test",
                 opened_on=ON)
    escalate(customer=acme, to="legal", reason="no payment after final notice", actor="test", on=ON)
    pdf = render_case_history(company, acme, ON)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    for needle in ("Case history", "Acme Fasteners Pvt Ltd", "Invoice INV-1", "60,000.00", "rang twice",
                   "25,000.00", "05-03-2026", "damaged", "5,000.00", "no payment after final notice", "legal",
                   "Escalations", "Promises to pay", "Disputes", "Activities"):
        assert needle in text, needle


def test_the_dunning_runs_escalation_letter_shows_the_interest(company, acme, monkeypatch, tmp_path):
    import email
    import email.policy

    from pypdf import PdfReader

    from dues.collections.services.dunning import collect_run

    monkeypatch.delenv("DUES_SMTP_URL", raising=False)
    monkeypatch.setenv("DUES_HOME", str(tmp_path / "home"))
    result = collect_run(company=company, on=ON, actor="test")  # 30 days overdue: the escalation e-mail
    assert [(a.step, a.status) for a in result.actions] == [("escalation", "sent")]
    [eml] = (tmp_path / "home" / "outbox").glob("*.eml")
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    [pdf] = [part.get_content() for part in msg.iter_attachments()]
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "Interest on the overdue amount up to 02-03-2026" in text and "1,183.57" in text
    assert "18% a year, simple" in text


def test_start_counts_no_day_before_it(company, acme):
    from dues.collections.services.interest import interest_compute

    # from 16 Feb only: 15 days on 60,000 at 18 % = 443.84
    assert interest_compute(company, acme, ON, start=date(2026, 2, 16)).total == Decimal("443.84")
