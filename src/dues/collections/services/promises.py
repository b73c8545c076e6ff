"""Promises to pay: taken, and settled from receipts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction

from dues.audit.services import AuditEntry, actor_name, audit_append, audit_append_many
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
    value = positive_amount(amount, "amount", found)
    if promised_date < taken_on:
        found.append(Problem(f"the promised date is before the day it was taken ({taken_on.isoformat()})",
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


def promises_refresh(company, on: date, actor=None) -> int:
    """Set every open promise's received amount and status from the receipts; returns how many settled.

    Received: for a promise naming invoices, the receipt allocations to them effective from the day
    it was taken to its deadline (and not after ``on``), reversals netted; for a promise on the
    account, the customer's posted receipts dated in that window (cash + TDS + bank charges).
    Kept when received reaches the amount; after the deadline, partly kept when something came,
    else broken. Three UPDATE statements whatever the number of promises; settled promises stay settled.
    """
    from django.db.models import Case, DecimalField, Exists, F, OuterRef, Subquery, Sum, Value, When
    from django.db.models.functions import Coalesce

    from dues.ledger.models import Allocation, Document


    money = DecimalField(max_digits=24, decimal_places=4)
    allocated = (Allocation.objects.filter(debit_item__document__promises=OuterRef("pk"),
                                           credit_item__document__kind=Document.RECEIPT,
                                           effective_date__gte=OuterRef("taken_on"),
                                           effective_date__lte=OuterRef("deadline"))
                 .filter(effective_date__lte=on)
                 .values("company_id").annotate(s=Sum("amount")).values("s"))
    paid = (Document.objects.filter(customer_id=OuterRef("customer_id"), kind=Document.RECEIPT,
                                    status=Document.POSTED, date__gte=OuterRef("taken_on"),
                                    date__lte=OuterRef("deadline"))
            .filter(date__lte=on)
            .values("customer_id").annotate(s=Sum(F("amount") + F("tds") + F("bank_charges"))).values("s"))
    named = Exists(PromiseToPay.invoices.through.objects.filter(promisetopay_id=OuterRef("pk")))
    zero = Value(Decimal(0), output_field=money)
    with transaction.atomic():
        open_ones = PromiseToPay.objects.filter(company=company, status=PromiseToPay.OPEN)
        open_ones.update(received=Case(When(named, then=Coalesce(Subquery(allocated, output_field=money), zero)),
                                       default=Coalesce(Subquery(paid, output_field=money), zero), output_field=money))
        open_ones.filter(received__lt=0).update(received=0)
        status = Case(When(received__gte=F("amount"), then=Value(PromiseToPay.KEPT)),
                      When(deadline__lt=on, received__gt=0, then=Value(PromiseToPay.PARTLY_KEPT)),
                      When(deadline__lt=on, then=Value(PromiseToPay.BROKEN)),
                      default=Value(PromiseToPay.OPEN))
        settling = open_ones.filter(_settles(on))
        changed = list(settling.annotate(new=status).values_list("id", "customer__code", "amount", "received", "new"))
        if changed:
            PromiseToPay.objects.filter(id__in=[c[0] for c in changed]).update(status=status, settled_on=on)
            audit_append_many([AuditEntry(actor_name(actor), "update", "promise_to_pay", str(pid), company.pk,
                                          {"status": PromiseToPay.OPEN},
                                          {"status": new, "customer": code, "amount": f"{amount:.2f}",
                                           "received": f"{received:.2f}", "on": on.isoformat()})
                               for pid, code, amount, received, new in changed])
    return len(changed)


def _settles(on: date):
    from django.db.models import F, Q

    return Q(received__gte=F("amount")) | Q(deadline__lt=on)
