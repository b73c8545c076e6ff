"""The SQL ageing (today's residual plus later allocations) equals the ageing by definition.

By definition an item's residual on date X is its amount less every allocation effective by X.
A seeded random ledger with partial payments, later allocations, undone allocations and
cancellations is aged both ways on many dates, bucket by bucket, to the paisa.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest

from dues.core.ageing import AgeItem, age_items
from dues.ledger.models import Allocation, Document, OpenItem
from dues.ledger.services import allocation_create, allocation_reverse, document_cancel
from dues.reporting.selectors import ageing

pytestmark = pytest.mark.django_db

START = date(2025, 4, 1)


def by_definition(company, as_of, basis, cutoffs):
    moved = defaultdict(Decimal)
    for a in Allocation.objects.filter(company=company, effective_date__lte=as_of):
        moved[a.debit_item_id] += a.amount
        moved[a.credit_item_id] += a.amount
    items = [AgeItem(i.customer.code, i.side, i.date, i.due_date, i.amount - moved[i.pk])
             for i in OpenItem.objects.filter(company=company).select_related("customer")]
    return age_items(items, as_of, cutoffs, basis)


def build_random_ledger(rng, make_customer, post):
    customers = [make_customer(f"C{n}", credit_days=str(rng.choice([0, 15, 30, 60]))) for n in range(5)]
    invoices = []
    for n in range(40):
        c = rng.choice(customers)
        day = START + timedelta(days=rng.randrange(0, 300))
        amount = Decimal(rng.randrange(100_00, 5_000_00)) / 100
        invoices.append(post("invoice", f"INV-{n}", c, day, amount))
    receipts = []
    for n in range(30):
        inv = rng.choice(invoices)
        item = OpenItem.objects.get(document=inv, reversal_of__isnull=True)
        day = inv.date + timedelta(days=rng.randrange(0, 90))
        pay = (item.residual * Decimal(rng.choice([25, 50, 100, 120])) / 100).quantize(Decimal("0.01"))
        if pay <= 0:
            continue
        alloc = [(inv.number, min(pay, item.residual))] if rng.random() < 0.7 and item.residual > 0 else []
        receipts.append(post("receipt", f"RCT-{n}", inv.customer, day, pay, allocations=alloc))
    for rct in receipts:
        credit = OpenItem.objects.get(document=rct, reversal_of__isnull=True)
        if credit.residual == 0:
            continue
        debit = OpenItem.objects.filter(customer=rct.customer, side="D", residual__gt=0,
                                        reversal_of__isnull=True).order_by("date").first()
        if debit:
            on = max(rct.date, debit.date) + timedelta(days=rng.randrange(0, 40))
            a = allocation_create(credit_item=credit, debit_item=debit, amount=min(credit.residual, debit.residual),
                                  on=on, actor="test")
            if rng.random() < 0.3:
                allocation_reverse(allocation=a, on=a.effective_date + timedelta(days=10), reason="test", actor="t")
    for doc in rng.sample(list(Document.objects.filter(kind__in=["invoice", "receipt"])), 5):
        document_cancel(document=doc, on=doc.date + timedelta(days=rng.randrange(0, 60)), reason="test",
                        actor="test")


@pytest.mark.parametrize("seed", [1, 2])
def test_sql_ageing_equals_the_definition_on_every_date(company, make_customer, post, seed):
    rng = random.Random(seed)
    build_random_ledger(rng, make_customer, post)
    dates = [START + timedelta(days=d) for d in range(0, 420, 17)]
    for as_of in dates:
        for basis, cutoffs in (("due", (30, 60, 90, 120)), ("invoice", (15, 45))):
            sql = ageing(company=company, as_of=as_of, basis=basis, cutoffs=cutoffs)
            ref = by_definition(company, as_of, basis, cutoffs)
            expected = {k: (r.buckets, r.unapplied) for k, r in ref.rows.items() if r.buckets and
                        (any(r.buckets.values()) or r.unapplied)}
            got = {r.key: (r.buckets, r.unapplied) for r in sql.rows}
            assert got == expected, (as_of, basis)
