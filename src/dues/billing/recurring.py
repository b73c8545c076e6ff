"""Recurring contract billing: a fee per customer contract (monthly, quarterly, yearly) becomes one
unbilled delivery per period, which the bill run drafts like any delivery challan.

Periods: the charge's ``billing_day`` (clamped to the month's last day) in the month of ``start``
and every 1, 3 or 12 months after, from ``start`` to ``end`` (inclusive; open-ended when empty).
``generate_recurring(up_to=D)`` makes the delivery of every period dated on or before D that has none
yet. The key of a period is ``(recurring_charge, period)``, unique in the database, and everything is
written in one transaction under the company row's lock: running it twice, at once, or after a crash
never makes a period twice.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from django.db import transaction

from dues.audit.services import AuditEntry, actor_name, audit_append_many
from dues.companies.models import Company
from dues.users.permissions import require

from .models import Delivery, DeliveryLine, RecurringCharge


def _on_day(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def periods(charge: RecurringCharge, up_to: date) -> Iterator[date]:
    """The billing dates of a charge up to ``up_to`` (and its ``end``)."""
    step = RecurringCharge.MONTHS[charge.frequency]
    last = min(up_to, charge.end) if charge.end else up_to
    k = 0
    while True:
        months = charge.start.month - 1 + k * step
        on = _on_day(charge.start.year + months // 12, months % 12 + 1, charge.billing_day)
        if on > last:
            return
        if on >= charge.start:
            yield on
        k += 1


def delivery_number(charge: RecurringCharge, on: date) -> str:
    return f"RC-{charge.code}-{on:%Y%m%d}"


@dataclass
class RecurringResult:
    deliveries: list[Delivery]

    @property
    def count(self) -> int:
        return len(self.deliveries)


def generate_recurring(*, company: Company, up_to: date, customer=None, actor=None,
                       lock: bool = True) -> RecurringResult:
    """Make the unbilled delivery of every period of every recurring charge up to ``up_to`` that has
    none yet (idempotent). ``lock=False`` when the caller already holds the company row's lock."""
    require(actor, "billing.run", "run billing")
    who = actor_name(actor)
    with transaction.atomic():
        if lock:
            company = Company.objects.select_for_update(no_key=True).get(pk=company.pk)
        charges = RecurringCharge.objects.filter(company=company, start__lte=up_to).select_related("customer", "item")
        if customer is not None:
            charges = charges.filter(customer=customer)
        charges = list(charges)
        done = set(Delivery.objects.filter(recurring_charge__in=charges).values_list("recurring_charge_id", "period"))
        new: list[tuple[RecurringCharge, Delivery]] = []
        for charge in charges:
            for on in periods(charge, up_to):
                if (charge.pk, on) not in done:
                    new.append((charge, Delivery(company=company, number=delivery_number(charge, on),
                                                 customer=charge.customer, date=on, po=charge.po, created_by=who,
                                                 recurring_charge=charge, period=on)))
        deliveries = [d for _, d in new]
        for d in deliveries:
            d.save(force_insert=True)
        DeliveryLine.objects.bulk_create([
            DeliveryLine(delivery=d, position=1, item=c.item, hsn=c.item.hsn, quantity=c.quantity, uom=c.item.unit,
                         rate=c.rate, gst_rate=c.item.gst_rate, discount_pct=c.discount_pct) for c, d in new])
        audit_append_many([AuditEntry(who, "generate", "delivery", d.number, company.pk, None,
                                      {"recurring_charge": c.code, "period": d.period.isoformat(),
                                       "customer": c.customer.code, "item": c.item.code, "rate": f"{c.rate:.2f}",
                                       "quantity": f"{c.quantity.normalize():f}"}) for c, d in new])
    return RecurringResult(deliveries)
