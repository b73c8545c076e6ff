"""Reading documents and open items."""

from __future__ import annotations

from dues.companies.models import Company
from dues.core.errors import DuesError

from .models import Document, OpenItem


def document_get(*, company: Company, kind: str, number: str) -> Document:
    try:
        return Document.objects.select_related("customer").get(company=company, kind=kind, number=number)
    except Document.DoesNotExist:
        raise DuesError(f"no {kind.replace('_', ' ')} {number}") from None


def open_item_get(*, company: Company, kind: str, number: str) -> OpenItem:
    """The bill-wise item of a posted document (not the counter-item of its cancellation)."""
    document = document_get(company=company, kind=kind, number=number)
    item = document.open_items.filter(reversal_of__isnull=True).select_related("document", "customer").first()
    if item is None:
        raise DuesError(f"{document} has no open item")
    return item
