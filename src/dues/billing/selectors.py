"""Billing reads: the queue of drafts, a bill with its lines, a customer by code."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import QuerySet

from dues.core.errors import DuesError
from dues.customers.models import Customer

from .models import Bill, BillLine


def customer_by_code(*, company, code: str) -> Customer:
    found = Customer.objects.filter(company=company, code=code.strip()).first()
    if found is None:
        raise DuesError(f"no customer {code!r}")
    return found


def bills_list(*, company, status: str | None = Bill.DRAFT, customers: QuerySet | None = None,
               limit: int | None = None) -> list[Bill]:
    """Bills (drafts by default), oldest first, each with ``delivery_numbers``."""
    qs = Bill.objects.filter(company=company).select_related("customer").order_by("date", "pk")
    if status:
        qs = qs.filter(status=status)
    if customers is not None:
        qs = qs.filter(customer__in=customers)
    bills = list(qs[:limit] if limit else qs)
    numbers: dict[int, list[str]] = defaultdict(list)
    for bill_id, number in (BillLine.objects.filter(bill__in=bills).order_by("bill_id", "position")
                            .values_list("bill_id", "delivery_number")):
        if number not in numbers[bill_id]:
            numbers[bill_id].append(number)
    for b in bills:
        b.delivery_numbers = numbers[b.pk]
    return bills


def bill_lines(bill: Bill) -> list[BillLine]:
    return list(bill.lines.order_by("position"))
