"""Approval under concurrency (PostgreSQL): two approvers on the same draft post it once; two drafts
approved at the same moment take distinct, gapless numbers."""

from __future__ import annotations

import os
import threading
from datetime import date

import pytest

from tests.integration.test_billing import TODAY, book  # noqa: F401  (fixture)

pytestmark = [
    pytest.mark.skipif(not os.environ.get("DUES_DATABASE_URL", "").startswith("postgres"),
                       reason="the row locks under test (SELECT ... FOR UPDATE) are PostgreSQL's: SQLite ignores "
                              "FOR UPDATE and a second writer fails with 'database is locked' instead of queueing"),
    pytest.mark.django_db(transaction=True),
]


def _at_once(*calls) -> list[str]:
    """Run the calls in threads released together; each one's outcome: "ok" or the error's text."""
    from django.db import connection

    barrier = threading.Barrier(len(calls))
    outcome: list[str] = [""] * len(calls)

    def run(i, call):
        try:
            barrier.wait()
            call()
            outcome[i] = "ok"
        except Exception as exc:  # noqa: BLE001 (the outcome is what is asserted)
            outcome[i] = f"{type(exc).__name__}: {exc}"
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcome


def _drafts(company):
    from dues.billing.services import bill_run

    run = bill_run(company=company, on=date(2026, 11, 30), actor="maker")
    return {run.deliveries[b.pk][0]: b for b in run.bills}


def test_two_approvers_on_the_same_draft_post_it_once(book):  # noqa: F811
    from dues.audit.models import AuditRecord
    from dues.billing.models import Bill, NumberSeries
    from dues.billing.services import bills_approve
    from dues.ledger.models import Document

    draft = _drafts(book)["DC-1"]
    outcome = _at_once(*(lambda who=who: bills_approve(company=book, bills=[draft], actor=who, as_of=TODAY)
                         for who in ("asha", "vikram")))
    assert sorted(outcome) == ["DuesError: INV/2627/0001 is approved, not a draft", "ok"]  # the loser waited
    bill = Bill.objects.get(pk=draft.pk)
    assert bill.status == "approved" and bill.number == "INV/2627/0001"
    assert Document.objects.filter(kind=Document.INVOICE, number=bill.number).count() == 1
    assert AuditRecord.objects.filter(action="approve", object_id=draft.reference).count() == 1
    assert NumberSeries.objects.get(company=book).next_number == 2


def test_two_drafts_approved_at_once_take_distinct_gapless_numbers(book):  # noqa: F811
    from dues.billing.models import Bill, NumberSeries
    from dues.billing.services import bills_approve
    from dues.ledger.models import Document

    drafts = _drafts(book)
    pair = [drafts["DC-1"], drafts["DC-3"]]
    outcome = _at_once(*(lambda b=b: bills_approve(company=book, bills=[b], actor="checker", as_of=TODAY)
                         for b in pair))
    assert outcome == ["ok", "ok"]
    numbers = sorted(Bill.objects.filter(pk__in=[b.pk for b in pair]).values_list("number", flat=True))
    assert numbers == ["INV/2627/0001", "INV/2627/0002"]
    assert sorted(Document.objects.filter(kind=Document.INVOICE).values_list("number", flat=True)) == numbers
    assert NumberSeries.objects.get(company=book).next_number == 3
