"""Reads for receipt entry and allocation: open invoices to allocate to, suggestions, next number.

Residuals here are today's (``OpenItem.residual``, kept in step under row locks): an allocation
made now takes what is left now, whatever the as-of date of the page the person came from.
"""

from __future__ import annotations

import re
from datetime import date

from django.db.models import Q, QuerySet

from dues.companies.models import Company
from dues.customers.models import Customer
from dues.ledger.models import Allocation, Document, OpenItem
from dues.users.permissions import customers_visible

OPEN_LIMIT = 200  # open invoices shown for allocation (oldest first); the rest after these are cleared
SUGGESTIONS = 12


def open_debits(*, company: Company, customer: Customer, limit: int = OPEN_LIMIT) -> tuple[list[OpenItem], int]:
    """The customer's open invoices and debit notes, oldest due first, and how many there are in all."""
    items = (OpenItem.objects.filter(company=company, customer=customer, side="D", residual__gt=0,
                                     reversal_of__isnull=True, document__status=Document.POSTED)
             .select_related("document").order_by("due_date", "date", "pk"))
    shown = list(items[:limit])
    total = len(shown) if len(shown) < limit else items.count()
    return shown, total


def credit_item(document: Document) -> OpenItem | None:
    """The bill-wise item of a credit document (not the counter-item of its cancellation)."""
    return (document.open_items.filter(reversal_of__isnull=True).select_related("document", "customer")
            .order_by("pk").first())


def active_allocations(item: OpenItem) -> QuerySet[Allocation]:
    """What a credit is applied to now: allocations not reversed and not part of a cancellation."""
    return (Allocation.objects.filter(credit_item=item, reverses__isnull=True, reversed_by__isnull=True,
                                      debit_item__reversal_of__isnull=True)
            .select_related("debit_item__document").order_by("effective_date", "pk"))


def customer_suggestions(*, user, company: Company, text: str, limit: int = SUGGESTIONS) -> list[Customer]:
    """Customers the user may see whose code starts with, or name contains, ``text``."""
    text = text.strip()
    if not text:
        return []
    found = customers_visible(user, Customer.objects.filter(company=company))
    found = found.filter(Q(code__istartswith=text) | Q(name__icontains=text)).order_by("code")
    return list(found.only("code", "name")[:limit])


def visible_customer(*, user, company: Company, code: str) -> Customer | None:
    code = code.strip()
    if not code:
        return None
    return customers_visible(user, Customer.objects.filter(company=company, code=code)).first()


_TRAILING = re.compile(r"^(.*?)(\d+)(\D*)$")


def next_receipt_number(*, company: Company, on: date | None = None) -> str:
    """The last receipt's number with its trailing figure one up (width kept); ``RCT-1`` for the first.

    ``RCT/2026-27/00041`` gives ``RCT/2026-27/00042``; numbers already taken are skipped.
    """
    receipts = Document.objects.filter(company=company, kind=Document.RECEIPT)
    last = receipts.order_by("-pk").values_list("number", flat=True).first()
    match = _TRAILING.match(last or "")
    if not match:
        head, n, width, tail = "RCT-", 0, 1, ""
    else:
        head, digits, tail = match.groups()
        n, width = int(digits), len(digits)
    candidates = [f"{head}{n + step:0{width}d}{tail}" for step in range(1, 21)]
    taken = set(receipts.filter(number__in=candidates).values_list("number", flat=True))
    return next((c for c in candidates if c not in taken), candidates[-1])
