"""Promises to pay against random sequences of ledger events (a property-based test, issue 10 §2).

Receipts posted, allocated, unallocated and cancelled (a bounced cheque) in any order, on any day,
with refreshes on any day between: never an IntegrityError (there was one, promise_received_nonneg,
on the promises page after a cancellation), and the status as of every date agrees with a simple
model written here from the rules, in the SQL (``promises_as_of``), in the judgement
(``promise_judgements``) and, for today, in the stored status.

Dates are relative to ``clock.today()``: the events fall in the month before it, refreshes up to a
few days after it (a refresh for any day but today writes nothing).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dues import clock

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]

SPAN = 30  # the events fall on today - SPAN ... today


def base() -> date:
    return clock.today() - timedelta(days=SPAN)


# --- the model: what the rules say, as plainly as possible ------------------------------------------------------


@dataclass
class Receipt:
    day: date
    amount: Decimal
    residual: Decimal
    cancelled_on: date | None = None


@dataclass
class Alloc:
    receipt: int
    invoice: str
    amount: Decimal
    effective: date
    undone_on: date | None = None


@dataclass
class Model:
    amount: Decimal
    taken_on: date
    deadline: date
    named: bool  # names INV-1, else on account
    receipts: list[Receipt] = field(default_factory=list)
    allocs: list[Alloc] = field(default_factory=list)

    def payments(self, on: date) -> list[tuple[date, Decimal]]:
        if self.named:
            return [(a.effective, a.amount) for a in self.allocs if a.invoice == "INV-1" and a.effective <= on
                    and (a.undone_on is None or a.undone_on > on)]
        return [(r.day, r.amount) for r in self.receipts if r.day <= on
                and (r.cancelled_on is None or r.cancelled_on > on)]

    def status(self, on: date) -> tuple[str, Decimal, date | None]:
        counted = sorted((d, a) for d, a in self.payments(on) if self.taken_on <= d <= self.deadline)
        got = sum((a for _d, a in counted), Decimal(0))
        if got >= self.amount:
            running = Decimal(0)
            for d, a in counted:
                running += a
                if running >= self.amount:
                    return "kept", got, d
        if on > self.deadline:
            return ("partly_kept" if got else "broken"), got, self.deadline + timedelta(days=1)
        return "open", got, None


# --- the events ---------------------------------------------------------------------------------------------

days = st.integers(min_value=0, max_value=SPAN)
amounts = st.sampled_from([Decimal(x) for x in ("5000", "20000", "40000", "60000", "100000")])
events = st.lists(st.one_of(
    st.tuples(st.just("receipt"), days, amounts),
    st.tuples(st.just("allocate"), days, st.integers(0, 9), st.sampled_from(["INV-1", "INV-2"]), amounts),
    st.tuples(st.just("unallocate"), days, st.integers(0, 9)),
    st.tuples(st.just("cancel"), days, st.integers(0, 9)),
    st.tuples(st.just("refresh"), st.integers(min_value=0, max_value=SPAN + 4)),
), min_size=1, max_size=12)
promises = st.tuples(st.sampled_from([Decimal("50000"), Decimal("100000")]), st.integers(0, 10),
                     st.integers(0, 8), st.integers(0, 3), st.booleans())


class Rollback(Exception):
    pass


@pytest.fixture
def ledger(company, make_customer, post):
    acme = make_customer("C001", name="Acme Fasteners Pvt Ltd")
    post("invoice", "INV-1", acme, base() - timedelta(days=40), "150000", due_date=base() - timedelta(days=10))
    post("invoice", "INV-2", acme, base() - timedelta(days=40), "150000", due_date=base() - timedelta(days=10))
    return acme


@settings(max_examples=int(os.environ.get("DUES_PROMISE_EXAMPLES", "40")), deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(promise=promises, steps=events)
def test_promise_status_follows_any_sequence_of_receipts_allocations_and_cancellations(
        company, ledger, post, promise, steps):
    from django.db import transaction

    try:
        with transaction.atomic():
            play(company, ledger, post, promise, steps)
            raise Rollback
    except Rollback:
        pass


def play(company, acme, post, promise, steps):
    from dues.collections.models import PromiseToPay
    from dues.collections.selectors import promise_judgements, promises_as_of
    from dues.collections.services.promises import promise_add, promises_refresh
    from dues.ledger.models import Allocation, OpenItem
    from dues.ledger.services import allocation_create, allocation_reverse, document_cancel

    amount, taken, promised_in, grace, named = promise
    taken_on = base() + timedelta(days=taken)
    p = promise_add(customer=acme, amount=amount, promised_date=taken_on + timedelta(days=promised_in),
                    invoices=["INV-1"] if named else [], taken_on=taken_on, grace_days=grace, actor="test")
    model = Model(amount, taken_on, p.deadline, named)
    docs, items, allocations = [], [], []
    today = clock.today()

    def check(on: date):
        want = model.status(on)
        judged = promise_judgements([p], on)[p.pk]
        assert (judged.status, judged.received, judged.settled_on) == want, on
        if on >= taken_on:
            row = promises_as_of(company, on).get(pk=p.pk)
            assert (row.status_on, row.received_on) == want[:2], on

    for step in steps:
        kind, day = step[0], base() + timedelta(days=step[1])
        if kind == "receipt":
            n = len(docs)
            docs.append(post("receipt", f"RCT-{n}", acme, day, step[2], mode="cheque", reference=f"CHQ{n}"))
            items.append(OpenItem.objects.get(document=docs[-1], side="C", reversal_of__isnull=True))
            model.receipts.append(Receipt(day, step[2], step[2]))
        elif kind == "allocate" and docs:
            n = step[2] % len(docs)
            r = model.receipts[n]
            debit = OpenItem.objects.get(document__number=step[3], side="D")
            value = min(step[4], r.residual, debit.residual)
            if r.cancelled_on or value <= 0:
                continue
            a = allocation_create(credit_item=items[n], debit_item=debit, amount=value, on=day, actor="test")
            allocations.append(a)
            r.residual -= value
            model.allocs.append(Alloc(n, step[3], value, max(day, r.day, debit.date)))
            assert a.effective_date == model.allocs[-1].effective
        elif kind == "unallocate" and allocations:
            n = step[2] % len(allocations)
            a, m = allocations[n], model.allocs[n]
            if m.undone_on is not None:
                continue
            allocation_reverse(allocation=a, on=day, reason="wrong invoice", actor="test")
            m.undone_on = max(day, m.effective)
            model.receipts[m.receipt].residual += m.amount
        elif kind == "cancel" and docs:
            n = step[2] % len(docs)
            r = model.receipts[n]
            if r.cancelled_on is not None or day < r.day:
                continue
            document_cancel(document=docs[n], on=day, reason="cheque returned unpaid", actor="test")
            r.cancelled_on = day
            for m in model.allocs:
                if m.receipt == n and m.undone_on is None:
                    m.undone_on = max(day, m.effective)
        elif kind == "refresh":
            stored = PromiseToPay.objects.values_list("status", "received", "settled_on").get(pk=p.pk)
            promises_refresh(company, on=day, actor="test")
            after = PromiseToPay.objects.values_list("status", "received", "settled_on").get(pk=p.pk)
            if day == today:
                assert after == model.status(today)
            else:  # another day than today writes nothing, ahead or behind
                assert after == stored
            check(day)
        assert Allocation.objects.filter(amount__lt=0, reverses__isnull=True).count() == 0
    promises_refresh(company, actor="test")
    assert PromiseToPay.objects.values_list("status", "received", "settled_on").get(pk=p.pk) == model.status(today)
    for n in range(-1, SPAN + 5, 3):
        check(base() + timedelta(days=n))
