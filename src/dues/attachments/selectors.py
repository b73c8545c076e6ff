"""Reading proofs: an invoice's (its own, its deliveries' and its disputes'), counts for a page of
invoices, one attachment for download — each narrowed to the customers the reader may see."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet

from dues.billing.models import Delivery
from dues.core.errors import DuesError
from dues.customers.models import Customer
from dues.users.permissions import customers_visible, require_customer

from .models import Attachment

DELIVERY_REASONS = ("quantity", "damaged", "not_received")  # disputes that turn on what was delivered


def _rows(qs: QuerySet) -> QuerySet:
    return (qs.select_related("file", "delivery", "document", "customer")
            .order_by("created_at", "pk"))


def proofs_for_document(document) -> list[Attachment]:
    """Proofs of an invoice: attached to it, to the delivery challans billed on it, or to its disputes."""
    deliveries = Delivery.objects.filter(lines__bill_line__bill__document=document).values("pk")
    return list(_rows(Attachment.objects.filter(
        Q(document=document) | Q(delivery__in=deliveries) | Q(dispute__document=document),
        company_id=document.company_id)).distinct())


def proofs_for_delivery(delivery) -> list[Attachment]:
    return list(_rows(Attachment.objects.filter(delivery=delivery)))


def proof_counts(documents: Iterable) -> dict[int, int]:
    """How many proofs each of ``documents`` has (by document id), in three grouped reads."""
    ids = [d.pk for d in documents]
    if not ids:
        return {}
    pairs: set[tuple[int, int]] = set()
    pairs.update(Attachment.objects.filter(document_id__in=ids).values_list("document_id", "pk"))
    pairs.update(Attachment.objects.filter(dispute__document_id__in=ids).values_list("dispute__document_id", "pk"))
    pairs.update(Attachment.objects.filter(delivery__lines__bill_line__bill__document_id__in=ids)
                 .values_list("delivery__lines__bill_line__bill__document_id", "pk"))
    return dict(Counter(doc for doc, _ in pairs))


def attachment_get(*, company, pk: int, actor: Any) -> Attachment:
    """One attachment the actor may read (sales: of their own customers), or ``DuesError``."""
    row = Attachment.objects.select_related("file", "customer").filter(company=company, pk=pk).first()
    if row is None:
        raise DuesError(f"no attachment {pk}")
    require_customer(actor, row.customer)
    return row


def attachments_visible(actor: Any, company) -> QuerySet:
    return Attachment.objects.filter(
        company=company, customer__in=customers_visible(actor, Customer.objects.filter(company=company)))
