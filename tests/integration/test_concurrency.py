"""Nothing lost, nothing doubled when people and jobs act at the same moment, on a real database.

Each scenario releases two threads (two database connections) together through a barrier, several rounds:
two people allocating the same receipt, or to the same invoice, beyond what is left; two cash-application runs
over the same statement; two dunning runs for the same date (a real SMTP server on loopback); a posting dated
inside the period another transaction is locking. The books' invariants are checked after every round.

PostgreSQL is where the writers really run side by side (row locks, advisory locks). SQLite lets one writer in
at a time (IMMEDIATE transactions); the test database there is an in-memory shared cache, where a second writer
fails at once with "database table is locked" instead of waiting. The allocation, cash-application and lock
scenarios run on SQLite too and must keep the same invariants (a loser may fail for that reason instead); the
dunning scenario runs on both (its run lock is a file lock there).
"""

from __future__ import annotations

import os
import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest

from tests.integration.test_collect_run import D as DUNNING_DAY
from tests.integration.test_collect_run import books, smtp  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]

ROUNDS = 5
POSTGRES = os.environ.get("DUES_DATABASE_URL", "").startswith("postgres")


def _at_once(*calls) -> list[str]:
    """Run the calls in threads released together; each one's outcome: "ok" or the error's type and text."""
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


def _refused(outcome: str, *reasons: str) -> bool:
    """A loser refused for one of ``reasons``; on SQLite also one that could not get the write lock."""
    return any(r in outcome for r in reasons) or (not POSTGRES and "locked" in outcome)


def _books_balance():
    """Every open item's residual is its amount less its net allocations, within [0, amount]; the ledger balances."""
    from django.db.models import Sum

    from dues.ledger.models import Allocation, JournalLine, OpenItem

    for item in OpenItem.objects.all():
        allocated = (Allocation.objects.filter(credit_item=item).aggregate(s=Sum("amount"))["s"] or 0) + (
            Allocation.objects.filter(debit_item=item).aggregate(s=Sum("amount"))["s"] or 0)
        assert item.residual == item.amount - allocated, item
        assert 0 <= item.residual <= item.amount, item
    totals = JournalLine.objects.aggregate(d=Sum("debit"), c=Sum("credit"))
    assert totals["d"] == totals["c"]


def _item(doc):
    from dues.ledger.models import OpenItem

    return OpenItem.objects.get(document=doc, reversal_of__isnull=True)


# --- (a) two people allocating --------------------------------------------------------------------------------

def test_two_people_allocating_one_receipt_beyond_it_never_over_allocate(company, make_customer, post):
    from dues.ledger.services import allocations_create

    on = date(2026, 11, 20)
    for r in range(ROUNDS):
        customer = make_customer(f"A{r}")
        receipt = _item(post("receipt", f"RCT-A{r}", customer, on, "1000"))
        first = _item(post("invoice", f"INV-A{r}-1", customer, on, "800"))
        second = _item(post("invoice", f"INV-A{r}-2", customer, on, "800"))
        # 700 + 700 > 1000: exactly one goes through
        outcome = _at_once(*(lambda inv=inv, who=who, rct=receipt: allocations_create(
                                 credit_item=rct, targets=[(inv, Decimal("700"))], on=on, actor=who)
                             for inv, who in ((first, "asha"), (second, "vikram"))))
        assert outcome.count("ok") == 1, outcome
        loser = next(o for o in outcome if o != "ok")
        assert _refused(loser, f"from RCT-A{r} exceeds what is left on it (300.00)"), loser
        receipt.refresh_from_db()
        assert receipt.residual == Decimal("300")
        # 100 + 50 within what is left on the receipt (300) and on either invoice (100 or 800): both go through
        outcome = _at_once(*(lambda inv=inv, amount=amount, rct=receipt: allocations_create(
            credit_item=rct, targets=[(inv, Decimal(amount))], on=on, actor="asha")
            for inv, amount in ((first, "100"), (second, "50"))))
        if POSTGRES:
            assert outcome == ["ok", "ok"], outcome
        receipt.refresh_from_db()
        assert receipt.residual == Decimal("300") - sum(
            Decimal(a) for a, o in zip(("100", "50"), outcome, strict=True) if o == "ok")
        _books_balance()


def test_two_people_allocating_to_one_invoice_beyond_its_residual_never_over_clear_it(company, make_customer, post):
    from dues.ledger.services import allocation_create

    on = date(2026, 11, 21)
    for r in range(ROUNDS):
        customer = make_customer(f"B{r}")
        invoice = _item(post("invoice", f"INV-B{r}", customer, on, "1000"))
        receipts = [_item(post("receipt", f"RCT-B{r}-{k}", customer, on, "700")) for k in (1, 2)]
        outcome = _at_once(*(lambda rct=rct, inv=invoice: allocation_create(credit_item=rct, debit_item=inv,
                                                               amount=Decimal("700"), on=on, actor="asha")
                             for rct in receipts))
        assert outcome.count("ok") == 1, outcome
        loser = next(o for o in outcome if o != "ok")
        assert _refused(loser, f"to INV-B{r} exceeds what is outstanding on it (300.00)"), loser
        invoice.refresh_from_db()
        assert invoice.residual == Decimal("300")
        _books_balance()


# --- (b) two cash-application runs ----------------------------------------------------------------------------

@pytest.mark.parametrize("round_", range(ROUNDS))
def test_two_cash_application_runs_apply_each_bank_line_once(company, bank_book, round_):
    from django.db.models import Count, Sum

    from dues.banking.models import BankLine
    from dues.banking.services import cash_apply
    from dues.ledger.models import Document

    outcome = _at_once(*(lambda who=who: cash_apply(company, auto=True, actor=who) for who in ("run-1", "run-2")))
    assert "ok" in outcome and all(o == "ok" or _refused(o) for o in outcome), outcome
    applied = BankLine.objects.filter(status=BankLine.APPLIED)
    assert applied.count() >= 2  # INV-1 net of TDS and INV-3 by its number are sure matches
    receipts = Document.objects.filter(kind=Document.RECEIPT)
    assert receipts.count() == applied.count()  # one receipt per applied line, none for a line twice
    assert not applied.values("receipt").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert receipts.aggregate(s=Sum("amount"))["s"] == applied.aggregate(s=Sum("amount"))["s"]
    _books_balance()


# --- (c) two dunning runs for the same date -------------------------------------------------------------------

@pytest.mark.parametrize("round_", range(ROUNDS))
def test_two_dunning_runs_for_the_same_date_send_each_customer_one_message(company, books, smtp, round_):  # noqa: F811
    from dues.collections.models import DunningAction
    from dues.collections.services.dunning import collect_run

    outcome = _at_once(*(lambda: collect_run(company=company, on=DUNNING_DAY, actor="scheduler") for _ in range(2)))
    assert "ok" in outcome, outcome
    assert all(o == "ok" or "another dunning run is in progress" in o for o in outcome), outcome
    to = sorted(address for m in smtp.messages for address in m.rcpt if not address.startswith("ravi@"))
    assert to == ["accounts@acme.example", "ap@zenith.example", "pay@orbit.example"]  # one each, none twice
    assert DunningAction.objects.filter(status="sent").count() == 3
    # and a third run afterwards sends nothing more
    collect_run(company=company, on=DUNNING_DAY, actor="scheduler")
    assert len(smtp.messages) == 3


# --- (d) posting while the period is being locked -------------------------------------------------------------

def test_a_posting_never_lands_in_a_period_locked_at_the_same_moment(company, make_customer):
    from dues.audit.models import AuditRecord
    from dues.companies.services import company_lock_period
    from dues.ledger.models import Document
    from dues.ledger.services import DocumentDraft, document_post

    customer = make_customer("L001")
    posted = refused = 0
    for r in range(ROUNDS):
        day = date(2026, 10, 1) + timedelta(days=r)

        def post(r=r, day=day):
            document_post(DocumentDraft(kind="invoice", number=f"INV-L{r}", customer=customer, date=day,
                                        amount=Decimal("1180")), company=company, actor="asha")

        def lock(day=day):
            company_lock_period(company=company, lock_date=day, actor="manager")

        outcome = _at_once(post, lock)
        if outcome[1] != "ok" and _refused(outcome[1]):  # SQLite: the lock lost the write lock; it is done again
            lock()
        else:
            assert outcome[1] == "ok", outcome  # the lock always goes through
        doc = Document.objects.filter(number=f"INV-L{r}").first()
        if outcome[0] == "ok":
            posted += 1
            # it landed before the lock committed: its audit record comes before the lock's
            post_seq = AuditRecord.objects.get(action="post", object_id=doc.number).seq
            lock_seq = AuditRecord.objects.filter(action="lock_period").order_by("-seq").first().seq
            assert post_seq < lock_seq
        else:
            refused += 1
            assert doc is None
            assert _refused(outcome[0], "on or before the lock date"), outcome
        # after the lock, a posting in the period is refused whatever came first
        late = _at_once(lambda r=r, day=day: document_post(
            DocumentDraft(kind="invoice", number=f"INV-L{r}-late", customer=customer, date=day,
                          amount=Decimal("1180")), company=company, actor="asha"))
        assert "on or before the lock date" in late[0]
    assert posted + refused == ROUNDS
    assert not Document.objects.filter(date__lte=date(2026, 10, 1) + timedelta(days=ROUNDS - 1),
                                       number__endswith="-late").exists()
    _books_balance()


def test_two_month_closes_at_once_never_move_the_lock_back(company):
    """Closing October and November at the same moment (or October from a page read before November was
    locked) leaves the lock at the end of November: an earlier month's close never reopens a later one."""
    from dues.companies.models import Company
    from dues.companies.services import company_lock_period
    from dues.reconciliation.close import close_month, close_month_lock

    stale = Company.objects.get(pk=company.pk)
    results = {m: close_month(company=stale, month=m) for m in ("2026-08", "2026-09", "2026-10", "2026-11")}
    assert all(r.ok for r in results.values()), [c.message for r in results.values() for c in r.checks if not c.ok]
    # read before November was locked, acted on after it
    close_month_lock(company=Company.objects.get(pk=company.pk), result=results["2026-11"], actor="manager")
    locked, moved = close_month_lock(company=stale, result=results["2026-10"], actor="manager")
    assert not moved and locked.lock_date == date(2026, 11, 30)
    assert Company.objects.get(pk=company.pk).lock_date == date(2026, 11, 30)
    for r in range(ROUNDS):
        company_lock_period(company=company, lock_date=None, actor="manager")  # reopened for the round
        stale = Company.objects.get(pk=company.pk)
        months = ("2026-08", "2026-09") if r % 2 else ("2026-09", "2026-08")
        outcome = _at_once(*(lambda m=m, c=stale: close_month_lock(company=c, result=results[m], actor="manager")
                             for m in months))
        if not POSTGRES:  # one may have lost SQLite's write lock: it is done again, as a person would
            for m, o in zip(months, outcome, strict=True):
                if o != "ok":
                    assert _refused(o), o
                    close_month_lock(company=stale, result=results[m], actor="manager")
        else:
            assert outcome == ["ok", "ok"], outcome
        assert Company.objects.get(pk=company.pk).lock_date == date(2026, 9, 30), (r, outcome)
