"""The ledger read for payment prediction: paid invoices with their payment date, open invoices with their
residual, and which are disputed. Set-based: three queries, whatever the size of the book."""

from __future__ import annotations

from datetime import date

from django.db.models import Exists, Max, OuterRef

from dues.collections.models import Dispute
from dues.companies.models import Company
from dues.ledger.models import Document, OpenItem
from dues.prediction.forecast import OpenInvoice, PaidInvoice


def prediction_inputs(*, company: Company, as_of: date) -> tuple[list[PaidInvoice], list[OpenInvoice]]:
    """Invoices settled in full by ``as_of`` (paid on their last allocation's date) and those still open."""
    invoices = OpenItem.objects.filter(company=company, side="D", document__kind=Document.INVOICE,
                                       document__status=Document.POSTED, date__lte=as_of)
    any_dispute = Exists(Dispute.objects.filter(document_id=OuterRef("document_id")))
    active_dispute = Exists(Dispute.objects.filter(document_id=OuterRef("document_id"), status__in=Dispute.ACTIVE))
    paid = []
    for code, inv, due, amount, paid_on, disputed in (
            invoices.filter(residual=0).annotate(paid_on=Max("debit_allocations__effective_date"), disputed=any_dispute)
            .filter(paid_on__isnull=False, paid_on__lte=as_of)
            .values_list("customer__code", "date", "due_date", "amount", "paid_on", "disputed").iterator()):
        paid.append(PaidInvoice(code, inv, due, paid_on, amount, bool(disputed)))
    open_items = [OpenInvoice(number, code, inv, due, residual, bool(disputed)) for number, code, inv, due, residual, disputed in (
        invoices.filter(residual__gt=0).annotate(disputed=active_dispute)
        .values_list("document__number", "customer__code", "date", "due_date", "residual", "disputed")
        .order_by("due_date", "document__number").iterator())]
    return paid, open_items
