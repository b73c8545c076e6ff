"""What a portal link shows: always one customer's documents, never looked up by number or id alone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Prefetch

from dues.core.money import ZERO


@dataclass
class OpenInvoice:
    id: int
    number: str
    kind: str
    date: date
    due_date: date | None
    amount: Decimal
    residual: Decimal
    days_overdue: int
    has_pdf: bool


@dataclass
class Account:
    as_of: date
    balance: Decimal
    invoices: list[OpenInvoice]
    credits: list
    receipts: list
    tds_total: Decimal


def customer_document(customer, doc_id: int, kinds=None):
    """The customer's own posted document ``doc_id`` or None: another customer's id finds nothing."""
    from dues.ledger.models import Document

    qs = Document.objects.filter(company_id=customer.company_id, customer=customer, pk=doc_id, status=Document.POSTED)
    if kinds:
        qs = qs.filter(kind__in=kinds)
    return qs.first()


def account(customer, as_of: date, receipts_limit: int = 50) -> Account:
    """Balance and open items on ``as_of``, the latest receipts (with how each was applied, and their TDS)."""
    from dues.billing.models import Bill
    from dues.ledger.models import Allocation, Document
    from dues.reconciliation.confirmation import balance_of, open_items

    company = customer.company
    items = open_items(company, customer, as_of)
    numbers = [i.number for i in items]
    docs = {(d.kind, d.number): d.pk for d in Document.objects.filter(company=company, customer=customer,
                                                                     number__in=numbers).only("pk", "kind", "number")}
    with_pdf = set(Bill.objects.filter(document_id__in=docs.values()).values_list("document_id", flat=True))
    invoices, credits = [], []
    for i in items:
        pk = docs.get((i.kind, i.number))
        if i.side == "D":
            invoices.append(OpenInvoice(pk, i.number, i.kind, i.date, i.due_date, i.amount, i.residual,
                                        i.days_overdue, pk in with_pdf))
        else:
            credits.append(i)
    live = Allocation.objects.filter(reverses__isnull=True, reversed_by__isnull=True, effective_date__lte=as_of) \
        .select_related("debit_item__document").order_by("effective_date", "pk")
    receipts = list(Document.objects.filter(company=company, customer=customer, kind=Document.RECEIPT,
                                            status=Document.POSTED, date__lte=as_of)
                    .prefetch_related(Prefetch("open_items__credit_allocations", queryset=live, to_attr="applied"))
                    .order_by("-date", "-pk")[:receipts_limit])
    for r in receipts:
        r.applications = [a for item in r.open_items.all() for a in item.applied]
    tds_total = sum((r.tds for r in receipts), ZERO)
    return Account(as_of, balance_of(items), invoices, credits, receipts, tds_total)


def tds_rows(customer, as_of: date) -> list:
    """Every posted receipt of the customer up to ``as_of`` with TDS on it (to match their Form 26AS)."""
    from dues.ledger.models import Document

    return list(Document.objects.filter(company_id=customer.company_id, customer=customer, kind=Document.RECEIPT,
                                        status=Document.POSTED, date__lte=as_of, tds__gt=0)
                .order_by("-date", "-pk").only("pk", "number", "date", "amount", "tds", "reference"))
