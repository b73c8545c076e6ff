"""Promises to pay: taken, and settled from receipts."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from dues import clock
from dues.audit.services import AuditEntry, actor_name, audit_append, audit_append_many
from dues.formats import format_day
from dues.users.permissions import require

from ..models import (
    Activity,
    PromiseToPay,
)
from .activities import CONTACT_KINDS, contact_date
from .checks import customer_documents, positive_amount, raise_problems


@transaction.atomic
def promise_add(*, customer, amount, promised_date: date, actor, invoices=(), taken_on: date | None = None,
                grace_days: int = 3, notes: str = "", kind: str = "call") -> PromiseToPay:
    """Record a promise to pay (and the contact it was taken in, as an activity with outcome "promised").

    ``invoices``: document numbers of the customer's invoices it covers; none means the account as a whole.
    """
    from dues.core.errors import Problem
    from dues.ledger.models import Document
    from dues.users.permissions import require_customer


    require(actor, "collections.act", "record a promise to pay")
    require_customer(actor, customer)
    found: list = []
    taken_on = contact_date(taken_on, found, "taken_on")
    value = positive_amount(amount, "amount", found, customer.company.currency or "INR")
    if promised_date < taken_on:
        found.append(Problem(f"the promised date is before the day it was taken ({format_day(taken_on)})",
                             "promised_date"))
    if not 0 <= int(grace_days) <= 60:
        found.append(Problem("between 0 and 60 days", "grace_days"))
    docs = customer_documents(customer, invoices, Document.DEBIT_KINDS, "invoices", found)
    raise_problems(found)
    from datetime import timedelta

    who = actor_name(actor)
    activity = Activity.objects.create(
        company_id=customer.company_id, customer=customer, kind=kind if kind in CONTACT_KINDS else "call",
        outcome="promised", subject=f"promised {value:.2f} by {promised_date.isoformat()}",
        notes=notes.strip(), next_follow_up=promised_date, on=taken_on, created_by=who)
    promise = PromiseToPay.objects.create(
        company_id=customer.company_id, customer=customer, amount=value, promised_date=promised_date,
        grace_days=int(grace_days), deadline=promised_date + timedelta(days=int(grace_days)), taken_on=taken_on,
        taken_by=who, notes=notes.strip(), activity=activity)
    promise.invoices.set(docs)
    audit_append(actor=actor, action="create", object_type="promise_to_pay", object_id=str(promise.pk),
                 company_id=customer.company_id, before=None,
                 after={"customer": customer.code, "amount": f"{value:.2f}", "promised_date": promised_date.isoformat(),
                        "grace_days": promise.grace_days, "taken_on": taken_on.isoformat(),
                        "invoices": [d.number for d in docs]})
    return promise


def promises_refresh(company, on: date | None = None, actor=None) -> int:
    """Store every promise's status as of today; returns how many changed status.

    The stored ``status``, ``received`` and ``settled_on`` are only ever today's (what the promise
    board's tabs and the dunning run read): the status as of any date is computed, never stored
    (``selectors.promises_as_of``, ``selectors.promise_judgements``). So a refresh for any other day
    than today, later or earlier, writes nothing and returns 0: looking ahead at a future worklist
    does not mark promises broken, and looking back does not undo today's statuses.

    Every promise is judged again, settled ones too: a receipt that kept a promise and is cancelled
    (a bounced cheque), or an allocation undone, reopens it, or breaks it when its deadline has
    passed. One query finds the promises whose status or received amount changed (in SQL); the day
    a newly kept one was kept is judged in Python (``promise_judgements``, two queries); the changes
    are written one UPDATE per distinct (status, received, settled on), so a day when many promises
    break costs one statement per deadline, not one per promise. Each status change is audited.
    """
    from collections import defaultdict
    from datetime import timedelta

    from django.db.models import F, Q

    from .. import selectors

    today = clock.today()
    if on is not None and on != today:
        return 0
    with transaction.atomic():
        locked = PromiseToPay.objects.select_for_update(of=("self",)).filter(company=company)
        changed = list(selectors.promises_as_of(company, today, locked)
                       .filter(~Q(status=F("status_on")) | ~Q(received=F("received_on")))
                       .select_related("customer"))
        if not changed:
            return 0
        kept = selectors.promise_judgements([p for p in changed if p.status_on == PromiseToPay.KEPT], today)
        writes: dict[tuple, list[int]] = defaultdict(list)
        entries = []
        for promise in changed:
            status, received = promise.status_on, promise.received_on
            if status == PromiseToPay.KEPT:
                settled = kept[promise.pk].settled_on
            else:
                settled = promise.deadline + timedelta(days=1) if status != PromiseToPay.OPEN else None
            writes[(status, received, settled)].append(promise.pk)
            if promise.status != status:
                entries.append(AuditEntry(actor_name(actor), "update", "promise_to_pay", str(promise.pk), company.pk,
                                          {"status": promise.status, "received": f"{promise.received:.2f}",
                                           "settled_on": promise.settled_on.isoformat() if promise.settled_on
                                           else None},
                                          {"status": status, "customer": promise.customer.code,
                                           "amount": f"{promise.amount:.2f}", "received": f"{received:.2f}",
                                           "settled_on": settled.isoformat() if settled else None,
                                           "on": today.isoformat()}))
        for (status, received, settled), ids in writes.items():
            for start in range(0, len(ids), 500):
                PromiseToPay.objects.filter(pk__in=ids[start:start + 500]).update(
                    status=status, received=received, settled_on=settled)
        audit_append_many(entries)
    return len(entries)
