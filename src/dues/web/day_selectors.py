"""What the My day page reads: a collector's figures for today, their follow-ups and promises, and the
worklist of their customers. Every function is a fixed number of set-based queries, whatever the
number of customers (tests/integration/test_web_my_day.py counts them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, DecimalField, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from dues.collections import selectors as cs
from dues.collections.models import Activity, PromiseToPay
from dues.companies.models import Company
from dues.customers.models import Customer
from dues.ledger.models import Document

ZERO = Decimal(0)
MONEY = DecimalField(max_digits=24, decimal_places=4)


@dataclass(frozen=True, slots=True)
class DayCounts:
    """What a collector did today: calls logged, promises taken (and their amount), what their customers paid."""

    calls: int
    promises: int
    promised: Decimal
    collected: Decimal


def collector_customers(company: Company, login: str, visible: QuerySet | None = None) -> QuerySet:
    """The customers whose collector is ``login``'s desk name (or the login itself), as a queryset."""
    wanted = Q()
    for name in cs.collector_names(company, login):
        wanted |= Q(collector__iexact=name)
    customers = (visible if visible is not None else Customer.objects).filter(company=company).filter(wanted)
    return customers


def _day_window(on: date) -> tuple[datetime, datetime]:
    """The instants of ``on`` in the desk's time zone (what "logged today" means for a record's time)."""
    from django.utils import timezone

    zone = timezone.get_default_timezone()
    start = datetime.combine(on, time(0), tzinfo=zone)
    return start, datetime.combine(on + timedelta(days=1), time(0), tzinfo=zone)


def day_counts(company: Company, who: str, customers: QuerySet, on: date) -> DayCounts:
    """Three queries. ``who``: the login the records carry (``created_by``, ``taken_by``).

    - calls: call activities ``who`` recorded on ``on`` (a call dated yesterday and logged today counts
      today), not counting the activity a promise records for itself (that is a promise taken);
    - promises: the promises ``who`` recorded on ``on`` and their total;
    - collected: the receipts of ``customers`` dated ``on`` and not cancelled, cash + TDS + bank
      charges (what settles their invoices: what counts towards a promise).
    """
    start, end = _day_window(on)
    calls = (Activity.objects.filter(company=company, created_by=who, kind="call", at__gte=start, at__lt=end,
                                     promises__isnull=True).count())
    taken = PromiseToPay.objects.filter(company=company, taken_by=who, created_at__gte=start, created_at__lt=end)\
        .aggregate(n=Count("id"), total=Coalesce(Sum("amount"), ZERO, output_field=MONEY))
    collected = (Document.objects.filter(company=company, kind=Document.RECEIPT, date=on, customer__in=customers)
                 .exclude(status=Document.CANCELLED)
                 .aggregate(total=Coalesce(Sum(F("amount") + F("tds") + F("bank_charges")), ZERO,
                                           output_field=MONEY)))
    return DayCounts(calls=calls, promises=taken["n"], promised=taken["total"], collected=collected["total"])


def day_promises(company: Company, customers: QuerySet, on: date) -> tuple[list, list]:
    """(promises falling due on ``on`` and still open, promises whose deadline was the day before and
    that are broken as of ``on``), each judged as of ``on``; one query."""
    yesterday = on - timedelta(days=1)
    due_q = Q(status_on=PromiseToPay.OPEN, promised_date=on)
    broken_q = Q(status_on=PromiseToPay.BROKEN, deadline=yesterday)
    near = PromiseToPay.objects.filter(company=company, customer__in=customers).filter(
        Q(promised_date=on) | Q(deadline=yesterday))
    found = list(cs.promises_as_of(company, on, near).filter(due_q | broken_q).select_related("customer")
                 .order_by("customer__name", "id"))
    due = [p for p in found if p.status_on == PromiseToPay.OPEN]
    broken = [p for p in found if p.status_on == PromiseToPay.BROKEN]
    return due, broken


def open_invoices(company: Company, customer_ids) -> dict[int, list]:
    """Each customer's open debit items (number, due date, residual), by customer id; one query."""
    return cs.open_debit_items(company, list(customer_ids))
