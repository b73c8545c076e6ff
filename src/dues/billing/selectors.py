"""Billing reads: the queue of drafts, a bill with its lines, a customer by code."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from django.db.models import QuerySet

from dues.core.errors import DuesError
from dues.customers.models import Customer

from .models import Bill, BillLine, Note


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


def notes_list(*, company, status: str | None = Note.DRAFT, invoice: str | None = None,
               customers: QuerySet | None = None, limit: int | None = None) -> list[Note]:
    """Credit and debit notes (drafts by default), oldest first, with their invoice and customer."""
    qs = Note.objects.filter(company=company).select_related("customer", "bill").order_by("date", "pk")
    if status:
        qs = qs.filter(status=status)
    if invoice:
        qs = qs.filter(bill__number=invoice)
    if customers is not None:
        qs = qs.filter(customer__in=customers)
    return list(qs[:limit] if limit else qs)


def bill_lines(bill: Bill) -> list[BillLine]:
    return list(bill.lines.order_by("position"))


IRN_WINDOW_DAYS = 30  # turnover of 10 crore or more: no IRN for a document older than 30 days (from 1 April 2025)
WARN_AFTER_DAYS = 25


def irn_due(*, company, today: date, warn_after: int = WARN_AFTER_DAYS) -> list[Bill]:
    """Approved invoices without an IRN that are ``warn_after`` days old or more, oldest first, each
    with ``days_left`` before the 30-day reporting window closes (negative: already closed)."""
    bills = list(Bill.objects.filter(company=company, status=Bill.APPROVED, irn="",
                                     date__lte=today - timedelta(days=warn_after))
                 .select_related("customer").order_by("date", "number"))
    for b in bills:
        b.days_left = IRN_WINDOW_DAYS - (today - b.date).days
    return bills


def unbilled_old(*, company, today: date, warn_after: int = WARN_AFTER_DAYS) -> list[dict]:
    """Delivery challans with a line still unbilled ``warn_after`` days or more after delivery: their
    invoice would be late for the IRN window."""
    from .models import Delivery

    rows = (Delivery.objects.filter(company=company, date__lte=today - timedelta(days=warn_after),
                                    lines__bill_line__isnull=True)
            .distinct().select_related("customer").order_by("date", "number"))
    return [{"number": d.number, "customer": d.customer, "date": d.date, "age": (today - d.date).days}
            for d in rows]
