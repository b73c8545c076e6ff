"""Booking what Form 26AS shows and we do not record: TDS-only receipts per customer and quarter."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from dues.audit.models import AuditRecord
from dues.core.errors import PermissionDenied
from dues.ledger.models import Document, OpenItem
from dues.reconciliation.services import tds_book_unrecorded
from dues.reconciliation.tds import tds_reconciliation
from tests.core.test_tds26as import TEXT

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]
D = Decimal

# Kaveri also deducted 500 on 10-Jan-2026 (Q4) that we never recorded
Q4 = "^2^194C^10-Jan-2026^F^31-Jan-2026^-^25000.00^500.00^500.00\n"


@pytest.fixture
def form(tmp_path):
    f = tmp_path / "26AS.txt"
    marker = "^1^194C^15-Oct-2025^U^-^-^500000.00^10000.00^10000.00\n"
    assert marker in TEXT
    total = "2^KAVERI DISTRIBUTORS^BLRK54321C^^^^^500000.00^10000.00^10000.00\n"
    assert total in TEXT
    text = TEXT.replace(marker, marker + Q4).replace(total, total.replace("500000.00^10000.00^10000.00",
                                                                        "525000.00^10500.00^10500.00"))
    f.write_text(text, encoding="utf-8")
    return f


@pytest.fixture
def books(company, make_customer, post):
    ganesh = make_customer("C001", name="Shree Ganesh Traders", tan="PNES12345A")
    kaveri = make_customer("C002", name="Kaveri Distributors", tan="BLRK54321C")
    post("invoice", "INV-1", kaveri, "2025-09-01", "300000")
    post("receipt", "RCT-1", ganesh, "2025-05-10", "999000", tds=D("1000"))
    post("receipt", "RCT-2", ganesh, "2025-06-12", "249750.40", tds=D("249.60"))
    post("receipt", "RCT-3", ganesh, "2025-08-20", "799200", tds=D("800"))  # not in 26AS: not ours to book
    post("receipt", "RCT-4", kaveri, "2025-10-20", "294000", tds=D("6000"))  # 26AS shows 10,000
    return company


def user(username, role):
    from dues.users.services import user_add

    u, _ = user_add(username=username, role=role, password="x-pass-word-2026", actor="test")
    return u


def statuses(company, form):
    return [(", ".join(r.customers), r.quarter, r.status, r.difference)
            for r in tds_reconciliation(company=company, path=form, fy="2025-26").result.rows]


def test_booking_posts_one_tds_receipt_per_quarter_and_then_they_match(books, form):
    report = tds_reconciliation(company=books, path=form, fy="2025-26")
    assert [(r.quarter, r.status, r.difference) for r in report.result.rows if r.customers == ["C002"]] == [
        (3, "in_26as_not_recorded", D("4000.00")), (4, "in_26as_not_recorded", D("500.00"))]
    got = tds_book_unrecorded(books, report, actor=user("coll1", "collector"))
    assert got.booked == [
        {"customer": "C002", "quarter": "Q3", "number": "TDS26AS/C002/2025-26-Q3", "date": "2025-10-15",
         "tds": "4000.00"},
        {"customer": "C002", "quarter": "Q4", "number": "TDS26AS/C002/2025-26-Q4", "date": "2026-01-10",
         "tds": "500.00"}]
    assert got.skipped == []
    doc = Document.objects.get(number="TDS26AS/C002/2025-26-Q3")
    assert (doc.kind, doc.status, doc.amount, doc.tds, doc.customer.code, doc.created_by) == (
        "receipt", "posted", D("0.00"), D("4000.00"), "C002", "coll1")
    # left on account: a credit of 4,000 open, the invoice untouched
    item = OpenItem.objects.get(document=doc)
    assert (item.side, item.amount, item.residual) == ("C", D("4000.00"), D("4000.00"))
    assert OpenItem.objects.get(document__number="INV-1").residual == D("300000.00")
    assert AuditRecord.objects.filter(object_type="tds_26as_booking").count() == 1
    # the next run: both quarters match; C001's shortfall is still the customer's to fix
    assert statuses(books, form) == [("C001", 1, "matched", D("0.40")), ("C001", 2, "deducted_not_in_26as",
                                                                          D("-800.00")),
                                     ("C002", 3, "matched", D("0.00")), ("C002", 4, "matched", D("0.00"))]


def test_booking_twice_posts_nothing_twice(books, form):
    actor = user("mgr1", "ar_manager")
    report = tds_reconciliation(company=books, path=form, fy="2025-26")
    assert len(tds_book_unrecorded(books, report, actor=actor).booked) == 2
    # the same (stale) report again: every quarter is already booked
    again = tds_book_unrecorded(books, report, actor=actor)
    assert again.booked == [] and [(s["number"], s["reason"]) for s in again.skipped] == [
        ("TDS26AS/C002/2025-26-Q3", "already booked"), ("TDS26AS/C002/2025-26-Q4", "already booked")]
    # a fresh report has nothing left to book
    fresh = tds_book_unrecorded(books, tds_reconciliation(company=books, path=form, fy="2025-26"), actor=actor)
    assert fresh.booked == [] and fresh.skipped == []
    assert Document.objects.filter(number__startswith="TDS26AS/").count() == 2


def test_quarters_narrow_what_is_booked(books, form):
    report = tds_reconciliation(company=books, path=form, fy="2025-26")
    got = tds_book_unrecorded(books, report, actor=user("mgr1", "ar_manager"), quarters=["Q4"])
    assert [b["number"] for b in got.booked] == ["TDS26AS/C002/2025-26-Q4"]
    assert not Document.objects.filter(number="TDS26AS/C002/2025-26-Q3").exists()


def test_a_locked_period_is_skipped_and_said_so(books, form):
    from dues.companies.services import company_lock_period

    company_lock_period(company=books, lock_date=date(2025, 12, 31), actor="test")
    report = tds_reconciliation(company=books, path=form, fy="2025-26")
    got = tds_book_unrecorded(books, report, actor=user("mgr1", "ar_manager"))
    assert [b["number"] for b in got.booked] == ["TDS26AS/C002/2025-26-Q4"]
    assert len(got.skipped) == 1
    skipped = got.skipped[0]
    assert (skipped["number"], skipped["tds"]) == ("TDS26AS/C002/2025-26-Q3", "4000.00")
    assert "dated 15-10-2025, on or before the lock date 31-12-2025" in skipped["reason"]
    assert not Document.objects.filter(number="TDS26AS/C002/2025-26-Q3").exists()


@pytest.mark.parametrize("role", ["auditor", "billing", "sales"])
def test_roles_without_receipts_post_write_nothing(books, form, role):
    report = tds_reconciliation(company=books, path=form, fy="2025-26")
    docs, audits = Document.objects.count(), AuditRecord.objects.count()
    with pytest.raises(PermissionDenied):
        tds_book_unrecorded(books, report, actor=user(f"{role}1", role))
    assert (Document.objects.count(), AuditRecord.objects.count()) == (docs, audits + 1)  # + the user_add


def test_a_tan_on_two_customers_is_not_guessed(books, form, make_customer):
    make_customer("C009", name="Kaveri Distributors (Pune)", tan="BLRK54321C")
    report = tds_reconciliation(company=books, path=form, fy="2025-26")
    got = tds_book_unrecorded(books, report, actor=user("mgr1", "ar_manager"))
    assert got.booked == []
    assert {s["reason"] for s in got.skipped} == {
        "TAN BLRK54321C is on C002, C009: book it on the right customer by hand"}
    assert not Document.objects.filter(number__startswith="TDS26AS/").exists()


def test_a_booking_cancelled_since_is_not_booked_again(books, form):
    from dues.ledger.services import document_cancel

    actor = user("mgr1", "ar_manager")
    tds_book_unrecorded(books, tds_reconciliation(company=books, path=form, fy="2025-26"), actor=actor,
                        quarters=[3])
    document_cancel(document=Document.objects.get(number="TDS26AS/C002/2025-26-Q3"), on=date(2026, 11, 29),
                    reason="wrong customer", actor=actor)
    got = tds_book_unrecorded(books, tds_reconciliation(company=books, path=form, fy="2025-26"), actor=actor,
                              quarters=[3])
    assert got.booked == [] and [s["reason"] for s in got.skipped] == [
        "booked before and cancelled; book it by hand if it is still due"]
