"""The ageing summary (``dues.reporting.summary``) gives the ledger's ageing at every moment: before and after
each kind of change (posting, allocating, undoing an allocation, cancelling, a new date), refreshed or not,
and not at all when its triggers are gone. Transactional: a refresh commits its own transaction."""

from __future__ import annotations

import random
import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection, connections

from dues.ledger.models import OpenItem
from dues.ledger.services import allocation_create, allocation_reverse, document_cancel
from dues.reporting import summary
from dues.reporting.models import AgeingChange, AgeingSnapshot, AgeingSnapshotRow
from dues.reporting.selectors import ageing, ageing_overview, ageing_summary

from .test_ageing_exact import by_definition

pytestmark = pytest.mark.django_db(transaction=True)

AS_OF = date(2025, 9, 30)


@pytest.fixture(autouse=True)
def no_changes_left_by_the_last_flush(transactional_db):
    """Django empties the tables after a transactional test in an order of its own; on SQLite, when the ledger's
    come after the summary's changes, their delete triggers record changes again, under ids the next test reuses."""
    AgeingChange.objects.all().delete()
CUTOFFS = (30, 60, 90, 120)


def _expected(company, as_of=AS_OF, basis="due", cutoffs=CUTOFFS):
    ref = by_definition(company, as_of, basis, cutoffs)
    return {k: (r.buckets, r.unapplied) for k, r in ref.rows.items()
            if r.buckets and (any(r.buckets.values()) or r.unapplied)}


def _aged(company, as_of=AS_OF, basis="due", cutoffs=CUTOFFS):
    report = ageing(company=company, as_of=as_of, basis=basis, cutoffs=cutoffs)
    return {r.key: (r.buckets, r.unapplied) for r in report.rows}


def _uses_summary(company, as_of=AS_OF) -> bool:
    return summary.summary_sums(company.pk, as_of, CUTOFFS, "due", 6, lambda changed: ("SELECT 1", [])) is not None


def test_the_summary_ages_as_the_ledger_through_every_kind_of_change(company, make_customer, post):
    rng = random.Random(7)
    customers = [make_customer(f"C{n}", credit_days=str(rng.choice([0, 15, 30, 60]))) for n in range(6)]
    invoices = [post("invoice", f"INV-{n}", rng.choice(customers), date(2025, 4, 1) + timedelta(days=rng.randrange(170)),
                     Decimal(rng.randrange(100_00, 9_000_00)) / 100) for n in range(30)]
    post("receipt", "ADV-1", customers[0], date(2025, 6, 1), 1500)  # on account: unapplied credit
    built = summary.refresh(company, as_of=AS_OF)
    assert (built.outcome, built.as_of) == ("built", AS_OF)
    assert built.customers == AgeingSnapshotRow.objects.filter(company=company).count() > 0
    assert not AgeingChange.objects.exists()
    assert _uses_summary(company)
    assert _aged(company) == _expected(company)

    def check(step: str) -> None:
        assert AgeingChange.objects.filter(company=company).exists(), f"{step}: no change recorded"
        assert _aged(company) == _expected(company), f"{step}: before the refresh"
        done = summary.refresh(company, as_of=AS_OF)
        assert done.outcome == "refreshed" and done.changes > 0, step
        assert not AgeingChange.objects.filter(company=company).exists(), step
        assert _aged(company) == _expected(company), f"{step}: after the refresh"

    inv = invoices[0]
    receipt = post("receipt", "RCT-1", inv.customer, date(2025, 8, 1), 100, allocations=[(inv.number, Decimal(100))])
    check("a receipt allocated to an invoice")
    post("invoice", "INV-NEW", customers[5], date(2025, 9, 1), 4321)
    check("a new invoice")
    credit = OpenItem.objects.get(document__number="ADV-1")
    debit = OpenItem.objects.filter(customer=customers[0], side="D", residual__gt=0).order_by("date").first()
    allocation = allocation_create(credit_item=credit, debit_item=debit, amount=min(credit.residual, debit.residual),
                                   on=date(2025, 9, 10), actor="test")
    check("credit on account allocated")
    allocation_reverse(allocation=allocation, on=date(2025, 9, 12), reason="wrong invoice", actor="test")
    check("the allocation undone")
    document_cancel(document=invoices[1], on=date(2025, 9, 15), reason="duplicate", actor="test")
    check("an invoice cancelled")
    document_cancel(document=receipt, on=date(2025, 9, 20), reason="bounced", actor="test")
    check("a receipt cancelled")
    # several changes, then one refresh
    for n in range(5):
        post("invoice", f"INV-B{n}", rng.choice(customers), date(2025, 9, 1 + n), 100 + n)
    check("several postings")

    # the dashboard's overview and the ageing page's totals and customer list read the same sums
    post("invoice", "INV-LAST", customers[2], date(2025, 9, 29), 77)  # and one change not yet refreshed
    expected = _expected(company)
    sums = {c: sum((b[c] for b, _u in expected.values()), Decimal(0)) for c in next(iter(expected.values()))[0]}
    assert ageing_overview(company=company, as_of=AS_OF, cutoffs=CUTOFFS).totals.buckets == sums
    page = ageing_summary(company=company, as_of=AS_OF, cutoffs=CUTOFFS)
    assert page.totals.buckets == sums
    assert page.totals.unapplied == sum((u for _b, u in expected.values()), Decimal(0))
    assert len(page.customer_ids) == len(expected)


def test_another_date_basis_or_buckets_is_aged_from_the_ledger_and_a_new_date_rebuilds(company, make_customer, post):
    customer = make_customer("C1")
    post("invoice", "INV-1", customer, date(2025, 6, 1), 1000)
    summary.refresh(company, as_of=AS_OF)
    later = AS_OF + timedelta(days=1)
    assert not _uses_summary(company, later)
    assert _aged(company, later) == _expected(company, later)
    assert _aged(company, AS_OF, "invoice", (15, 45)) == _expected(company, AS_OF, "invoice", (15, 45))
    rebuilt = summary.refresh(company, as_of=later)
    assert rebuilt.outcome == "built" and AgeingSnapshot.objects.get(company=company).as_of == later
    assert _uses_summary(company, later) and not _uses_summary(company, AS_OF)
    assert _aged(company, later) == _expected(company, later)


def test_without_its_triggers_the_summary_is_not_trusted(company, make_customer, post):
    customer = make_customer("C1")
    post("invoice", "INV-1", customer, date(2025, 6, 1), 1000)
    summary.refresh(company, as_of=AS_OF)
    assert summary.triggers_present()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER dues_ageing_item_update")
        else:
            cursor.execute("ALTER TABLE ledger_openitem DISABLE TRIGGER dues_ageing_item_update")
    try:
        assert not summary.triggers_present()
        assert not _uses_summary(company)
        post("receipt", "RCT-1", customer, date(2025, 7, 1), 400, allocations=[("INV-1", Decimal(400))])
        assert _aged(company) == _expected(company)  # from the ledger: right although no change was recorded
        with pytest.raises(Exception, match="triggers are missing"):
            summary.refresh(company, as_of=AS_OF)
    finally:
        import importlib

        triggers = importlib.import_module("dues.reporting.migrations.0003_ageing_change_triggers")
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute(next(sql for sql in triggers.SQLITE if "dues_ageing_item_update" in sql))
            else:
                cursor.execute("ALTER TABLE ledger_openitem ENABLE TRIGGER dues_ageing_item_update")


def test_no_summary_no_changes_and_drop_removes_it(company, make_customer, post):
    customer = make_customer("C1")
    post("invoice", "INV-1", customer, date(2025, 6, 1), 1000)
    assert not AgeingChange.objects.exists()  # the triggers write nothing for a company without a summary
    summary.refresh(company, as_of=AS_OF)
    post("invoice", "INV-2", customer, date(2025, 6, 2), 1000)
    assert AgeingChange.objects.count() >= 1
    assert summary.drop(company)
    assert not (AgeingSnapshot.objects.exists() or AgeingSnapshotRow.objects.exists() or AgeingChange.objects.exists())
    post("invoice", "INV-3", customer, date(2025, 6, 3), 1000)
    assert not AgeingChange.objects.exists()


def test_a_change_committed_while_a_refresh_runs_stays_for_the_next(company, make_customer, post):
    """PostgreSQL: a posting whose transaction is open while the refresh reads is not in the refresh's snapshot,
    and its change is not removed by it. (SQLite runs one writer at a time: the refresh waits for the posting.)"""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers: a refresh cannot run while a posting's transaction is open")
    from django.db import transaction

    customer = make_customer("C1")
    post("invoice", "INV-1", customer, date(2025, 6, 1), 1000)
    summary.refresh(company, as_of=AS_OF)
    post("invoice", "INV-3", customer, date(2025, 6, 3), 50)  # committed before the refresh: taken in by it
    posted, release = threading.Event(), threading.Event()

    def posting():
        try:
            with transaction.atomic():
                post("invoice", "INV-2", customer, date(2025, 6, 2), 250)
                posted.set()
                release.wait(30)
        finally:
            connections.close_all()

    worker = threading.Thread(target=posting)
    worker.start()
    assert posted.wait(30)
    during = summary.refresh(company, as_of=AS_OF)
    release.set()
    worker.join(30)
    assert (during.outcome, during.changes) == ("refreshed", 1)
    assert AgeingChange.objects.filter(company=company, customer=customer).exists()  # INV-2's change stayed
    assert _aged(company) == _expected(company)
    summary.refresh(company, as_of=AS_OF)
    assert _aged(company) == _expected(company)
    row = AgeingSnapshotRow.objects.get(customer=customer)
    assert sum(getattr(row, f"b{i}") for i in range(6)) == 1300 * 10_000


def test_the_worker_tick_refreshes_every_summary_and_a_failure_waits_for_the_next(company, make_customer, post,
                                                                                   caplog, monkeypatch):
    from dues.jobs import engine
    from dues.reporting.models import AgeingSnapshot

    customer = make_customer("C1")
    post("invoice", "INV-1", customer, date(2025, 6, 1), 1000)
    summary.refresh(company)  # today (the frozen clock)
    post("invoice", "INV-2", customer, date(2025, 6, 2), 500)
    assert AgeingChange.objects.exists()
    engine.refresh_summaries()
    assert not AgeingChange.objects.exists()
    assert AgeingSnapshot.objects.get(company=company).refreshed_at is not None

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(summary, "refresh", broken)
    post("invoice", "INV-3", customer, date(2025, 6, 3), 250)
    engine.refresh_summaries()  # logged, not raised: the tick goes on
    assert "ageing summary refresh failed" in caplog.text
    assert AgeingChange.objects.exists()
