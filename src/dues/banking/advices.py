"""Remittance advices: a customer's word that they paid (UTR, amount, date), kept for cash application.

An advice posts nothing. Cash application reads the new advices (``advices_open``) and, for a bank
line, the advice carrying its UTR (``advice_for_reference``) to know who paid and for which invoices.
"""

from __future__ import annotations

from datetime import date

from django.db import transaction

from dues import clock
from dues.audit.services import actor_name, audit_append
from dues.core.errors import Problem, ValidationFailed

from .models import RemittanceAdvice


@transaction.atomic
def remittance_advice_add(*, customer, utr: str, amount, paid_on: date | None, actor, invoices=(),
                          source: str = RemittanceAdvice.PORTAL, confirmed: bool = False,
                          notes: str = "") -> RemittanceAdvice:
    """Record a payment the customer tells us about; every problem (UTR, amount, date, invoices) at once."""
    from dues.collections.services.checks import customer_documents, positive_amount
    from dues.ledger.models import Document

    found: list[Problem] = []
    utr = (utr or "").strip()
    if not utr:
        found.append(Problem("give the UTR / bank reference of the payment", "utr"))
    elif len(utr) > 100:
        found.append(Problem("at most 100 characters", "utr"))
    value = positive_amount(amount, "amount", found, customer.company.currency or "INR")
    if paid_on is None:
        found.append(Problem("give the date of the payment", "paid_on"))
    elif paid_on > clock.today():
        found.append(Problem("the payment date is in the future", "paid_on"))
    docs = customer_documents(customer, invoices, Document.DEBIT_KINDS, "invoices", found)
    if source not in dict(RemittanceAdvice.SOURCES):
        found.append(Problem(f"unknown source {source!r}", "source"))
    if found:
        raise ValidationFailed(found)
    advice = RemittanceAdvice.objects.create(
        company_id=customer.company_id, customer=customer, utr=utr, amount=value, paid_on=paid_on,
        invoices=[d.number for d in docs], source=source, confirmed=confirmed, notes=(notes or "").strip()[:500],
        created_by=actor_name(actor))
    audit_append(actor=actor, action="create", object_type="remittance_advice", object_id=str(advice.pk),
                 company_id=customer.company_id, before=None,
                 after={"customer": customer.code, "utr": utr, "amount": f"{value:.2f}", "paid_on": paid_on.isoformat(),
                        "invoices": advice.invoices, "source": source, "confirmed": confirmed})
    return advice


def advices_open(company, customer=None):
    """The advices cash application has not matched or dismissed yet, oldest first (``company``: one or its id)."""
    qs = RemittanceAdvice.objects.filter(company=company, status=RemittanceAdvice.NEW).select_related("customer")
    if customer is not None:
        qs = qs.filter(customer=customer)
    return qs.order_by("paid_on", "pk")


def advice_for_reference(company, reference: str) -> RemittanceAdvice | None:
    """The new advice whose UTR a bank line's reference or narration carries (case-insensitive), if any."""
    reference = (reference or "").strip()
    if not reference:
        return None
    return advices_open(company).filter(utr__iexact=reference).first()


def advices_matched(line, customer, actor) -> int:
    """The customer's new advices carrying the reference of ``line`` (just posted as their receipt) are matched to it."""
    reference = (line.reference or "").strip()
    if not reference or line.reference_generated:
        return 0
    ids = list(advices_open(line.company_id, customer).filter(utr__iexact=reference).values_list("pk", flat=True))
    if ids:
        RemittanceAdvice.objects.filter(pk__in=ids).update(status=RemittanceAdvice.MATCHED, bank_line=line)
        audit_append(actor=actor, action="update", object_type="remittance_advice", object_id=",".join(map(str, ids)),
                     company_id=line.company_id, before={"status": RemittanceAdvice.NEW},
                     after={"status": RemittanceAdvice.MATCHED, "bank_line": line.pk})
    return len(ids)
