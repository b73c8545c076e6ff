"""Billing reads: the queue of drafts, a bill with its lines, a customer by code."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from django.db.models import QuerySet

from dues.core.errors import DuesError
from dues.customers.models import Customer

from .models import Bill, BillingSettings, BillLine, Note


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


def irn_settings(company) -> BillingSettings:
    return BillingSettings.objects.filter(company=company).first() or BillingSettings(company=company)


def irn_due(*, company, today: date, settings=None) -> list[Bill]:
    """Approved invoices without an IRN whose e-invoice reporting window (``einvoice_window_days``
    after the invoice date) ends within ``einvoice_warn_days`` days or has passed, oldest first, each
    with ``days_left`` (negative: closed that many days ago). Empty when the window does not apply to
    the company (switched off, or a turnover below the threshold: billing settings)."""
    settings = settings or irn_settings(company)
    if not settings.einvoice_window_applies:
        return []
    window = settings.einvoice_window_days
    bills = list(Bill.objects.filter(company=company, status=Bill.APPROVED, irn="",
                                     date__lte=today - timedelta(days=max(window - settings.einvoice_warn_days, 0)))
                 .select_related("customer").order_by("date", "number"))
    for b in bills:
        b.days_left = window - (today - b.date).days
    return bills


def unbilled_old(*, company, today: date, settings=None) -> list[dict]:
    """Delivery challans with a line still unbilled when the reporting window of an invoice dated on the
    delivery day would end within ``einvoice_warn_days`` days: their invoice would be late for the IRN.
    Empty when the window does not apply."""
    from .models import Delivery

    settings = settings or irn_settings(company)
    if not settings.einvoice_window_applies:
        return []
    after = max(settings.einvoice_window_days - settings.einvoice_warn_days, 0)
    rows = (Delivery.objects.filter(company=company, date__lte=today - timedelta(days=after),
                                    lines__bill_line__isnull=True)
            .distinct().select_related("customer").order_by("date", "number"))
    return [{"number": d.number, "customer": d.customer, "date": d.date, "age": (today - d.date).days}
            for d in rows]
