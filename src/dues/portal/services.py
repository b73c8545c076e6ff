"""What a customer does through the portal, each through the domain's own service, audited as the link.

The actor is ``portal:<code>#link<id>`` (``PortalLink.actor``): a name, not a desk user. Every
document a request names is first looked up among the link's customer's own documents, so a
number or id of another customer's document is refused before any service sees it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction

from dues import clock
from dues.core.errors import DuesError, Problem, ValidationFailed
from dues.ledger.models import Document

from .selectors import customer_document


class NotYours(DuesError):
    """A document id that is not one of the link's customer's (or no document at all): the portal answers 404."""


def _own_invoices(link, ids) -> list[Document]:
    ids = list(ids)
    docs = [customer_document(link.customer, int(i), Document.DEBIT_KINDS) for i in ids if str(i).isdigit()]
    if len(docs) != len(ids) or any(d is None for d in docs):
        raise NotYours("no such invoice")
    return docs


@transaction.atomic
def confirm_balance(link, *, agree: bool, their_balance=None):
    """The customer confirms (or disputes) our balance as of today: their reply to the open confirmation
    request, or to a new one made for this reply (channel "portal")."""
    from dues.reconciliation.confirmation import balance_of, open_items
    from dues.reconciliation.models import ConfirmationRequest
    from dues.reconciliation.services import confirmation_reply

    customer, today = link.customer, clock.today()
    request = (ConfirmationRequest.objects.filter(customer=customer, status=ConfirmationRequest.REQUESTED)
               .order_by("-as_of", "-pk").first())
    if request is None:
        balance = balance_of(open_items(link.company, customer, today))
        request = ConfirmationRequest.objects.create(
            company=link.company, customer=customer, as_of=today, our_balance=balance,
            channel=ConfirmationRequest.PORTAL, requested_by=link.actor)
    status = ConfirmationRequest.CONFIRMED if agree else ConfirmationRequest.DISAGREED
    return confirmation_reply(request=request, status=status, actor=link.actor,
                              their_balance=None if agree else their_balance)


ATTACHMENT_TYPES = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}
ATTACHMENT_MAX = 5 * 1024 * 1024


def _attachment_problem(attachment) -> Problem | None:
    name, content_type, data = attachment
    if content_type not in ATTACHMENT_TYPES:
        return Problem(f"{name}: a PDF or a photo (JPEG, PNG, WebP), not {content_type or 'this kind of file'}",
                       "attachment")
    if len(data) > ATTACHMENT_MAX:
        return Problem(f"{name}: at most 5 MB", "attachment")
    if not data:
        return Problem(f"{name} is empty", "attachment")
    return None


@transaction.atomic
def dispute_invoice(link, *, doc_id, reason: str, amount=None, notes: str = "", attachment=None):
    """A dispute on one of the customer's invoices (the whole open part unless an amount is given), with an
    optional ``attachment`` ``(name, content type, bytes)``: a PDF or a photo up to 5 MB."""
    from dues.collections import selectors as coll
    from dues.collections.services.disputes import dispute_open
    from dues.ledger.models import OpenItem

    doc = _own_invoices(link, [doc_id])[0]
    problem = _attachment_problem(attachment) if attachment is not None else None
    if problem is not None:
        raise ValidationFailed([problem])
    if amount in (None, ""):
        item = OpenItem.objects.filter(document=doc, side="D").first()
        amount = (item.residual if item else Decimal(0)) - coll.disputed_amount(doc)
        if amount <= 0:
            raise ValidationFailed([Problem(f"{doc.number} has nothing left to dispute", "amount")])
    dispute = dispute_open(company=link.company, invoice=doc, amount=amount, reason=reason, owner="finance",
                           actor=link.actor, notes=f"via the customer portal: {notes}".strip().rstrip(":"))
    if attachment is not None:
        from dues.audit.services import audit_append

        from .models import DisputeAttachment

        name, content_type, data = attachment
        file = DisputeAttachment.objects.create(dispute=dispute, link=link, name=name[:255], content_type=content_type,
                                                size=len(data), data=data)
        audit_append(actor=link.actor, action="create", object_type="dispute_attachment", object_id=str(file.pk),
                     company_id=link.company_id, before=None,
                     after={"dispute": dispute.pk, "name": file.name, "size": file.size})
    return dispute


def promise_payment(link, *, amount, promised_date: date, invoice_ids=(), notes: str = ""):
    from dues.collections.services.promises import promise_add

    docs = _own_invoices(link, invoice_ids) if invoice_ids else []
    return promise_add(customer=link.customer, amount=amount, promised_date=promised_date, actor=link.actor,
                       invoices=[d.number for d in docs], kind="email",
                       notes=f"via the customer portal {notes}".strip())


def tell_payment(link, *, utr: str, amount, paid_on: date | None, invoice_ids=(), notes: str = ""):
    from dues.banking.advices import remittance_advice_add

    docs = _own_invoices(link, invoice_ids) if invoice_ids else []
    return remittance_advice_add(customer=link.customer, utr=utr, amount=amount, paid_on=paid_on, actor=link.actor,
                                 invoices=[d.number for d in docs], notes=notes)


def pay_selection(link, invoice_ids) -> tuple[list, Decimal, str, str | None]:
    """The invoices picked to pay, their open total, the payment note and the UPI deep link (None without a VPA)."""
    from dues.billing.services import billing_settings
    from dues.collections import selectors as coll
    from dues.documents.pdf import upi_link
    from dues.ledger.models import OpenItem

    docs = _own_invoices(link, invoice_ids)
    residual = dict(OpenItem.objects.filter(document__in=docs, side="D").values_list("document_id", "residual"))
    rows = [(d, residual.get(d.pk, Decimal(0)) - coll.disputed_amount(d)) for d in docs]
    rows = [(d, r) for d, r in rows if r > 0]
    total = sum((r for _, r in rows), Decimal(0))
    note = f"{link.customer.code} {', '.join(d.number for d, _ in rows)}"[:80]
    vpa = billing_settings(link.company).upi_vpa
    return rows, total, note, upi_link(link.company, link.customer, total, note, vpa) if total > 0 else None


def pay_by_gateway(link, invoice_ids, adapter):
    """Charge the picked invoices through the gateway; a confirmed payment becomes a confirmed remittance advice."""
    from dues.banking.advices import remittance_advice_add
    from dues.banking.models import RemittanceAdvice

    rows, total, note, _ = pay_selection(link, invoice_ids)
    if total <= 0:
        raise ValidationFailed([Problem("nothing to pay on these invoices", "invoices")])
    result = adapter.charge(amount=total, currency=link.company.currency or "INR", reference=note,
                            customer_code=link.customer.code)
    if not result.confirmed:
        return result, None
    advice = remittance_advice_add(customer=link.customer, utr=result.payment_id, amount=total, paid_on=clock.today(),
                                   actor=link.actor, invoices=[d.number for d, _ in rows],
                                   source=RemittanceAdvice.GATEWAY, confirmed=True, notes=f"{adapter.name}: {note}")
    return result, advice
