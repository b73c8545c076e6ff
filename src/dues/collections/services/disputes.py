"""Disputes: the disputed part held out of dunning until resolved."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction

from dues import clock
from dues.audit.services import actor_name, audit_append
from dues.users.permissions import require

from .. import selectors
from ..models import (
    Activity,
    Dispute,
)
from .activities import contact_date
from .checks import customer_documents, positive_amount, raise_problems

DISPUTE_CAP = "collections.act"


def _dispute_document(company, invoice, found: list):
    from dues.core.errors import Problem
    from dues.ledger.models import Document

    if isinstance(invoice, Document):
        return invoice
    doc = (Document.objects.filter(company=company, kind__in=Document.DEBIT_KINDS, number=str(invoice).strip())
           .select_related("customer").first())
    if doc is None:
        found.append(Problem(f"no invoice or debit note {invoice!r}", "document"))
    return doc


@transaction.atomic
def dispute_open(*, company, invoice, amount, reason: str, owner: str, actor, sla_days: int = 7,
                 opened_on: date | None = None, notes: str = ""):
    """Open a dispute on (part of) an invoice: while it is active its amount is held back from dunning
    (the rest of the invoice is still dunned) and shown apart in ageing ("of which disputed")."""
    from dues.core.errors import Problem
    from dues.ledger.models import Document, OpenItem
    from dues.users.permissions import require_customer


    require(actor, DISPUTE_CAP, "open a dispute")
    found: list = []
    opened_on = contact_date(opened_on, found, "opened_on")
    doc = _dispute_document(company, invoice, found)
    value = positive_amount(amount, "amount", found, company.currency or "INR")
    if reason not in dict(Dispute.REASONS):
        found.append(Problem(f"unknown reason {reason!r}; one of {', '.join(dict(Dispute.REASONS))}", "reason"))
    if owner not in dict(Dispute.OWNERS):
        found.append(Problem(f"unknown owner {owner!r}; one of {', '.join(dict(Dispute.OWNERS))}", "owner"))
    if not 0 < int(sla_days) <= 365:
        found.append(Problem("between 1 and 365 days", "sla_days"))
    if doc is not None:
        require_customer(actor, doc.customer)
        if doc.status != Document.POSTED:
            found.append(Problem(f"{doc.number} is cancelled", "document"))
        item = OpenItem.objects.select_for_update().filter(document=doc, side="D").first()
        residual = item.residual if item else Decimal(0)
        room = residual - selectors.disputed_amount(doc)
        if value is not None and value > room:
            found.append(Problem(f"more than what is left to dispute on {doc.number} ({room:.2f})", "amount"))
    raise_problems(found)
    dispute = Dispute.objects.create(company=company, customer=doc.customer, document=doc, amount=value,
                                     reason=reason, owner=owner, sla_days=int(sla_days), opened_on=opened_on,
                                     notes=notes.strip(), created_by=actor_name(actor))
    Activity.objects.create(company=company, customer=doc.customer, kind="task", outcome="disputed",
                            subject=f"dispute on {doc.number}: {reason.replace('_', ' ')} ({value:.2f})",
                            notes=notes.strip(), on=opened_on, created_by=actor_name(actor))
    audit_append(actor=actor, action="create", object_type="dispute", object_id=str(dispute.pk),
                 company_id=company.pk, before=None, after=_dispute_state(dispute))
    return dispute


def _dispute_state(dispute) -> dict:
    return {"document": dispute.document.number, "customer": dispute.customer.code,
            "amount": f"{dispute.amount:.2f}", "reason": dispute.reason, "owner": dispute.owner,
            "status": dispute.status, "sla_days": dispute.sla_days, "opened_on": dispute.opened_on.isoformat(),
            "resolved_on": dispute.resolved_on.isoformat() if dispute.resolved_on else None,
            "credit_note": dispute.credit_note.number if dispute.credit_note_id else None, "notes": dispute.notes}


def _locked_dispute(dispute, actor, what: str):
    from dues.core.errors import DuesError
    from dues.users.permissions import require_customer


    require(actor, DISPUTE_CAP, what)
    dispute = Dispute.objects.select_for_update(of=("self",)).select_related("document", "customer", "credit_note").get(
        pk=getattr(dispute, "pk", dispute))
    require_customer(actor, dispute.customer)
    if dispute.status not in Dispute.ACTIVE:
        raise DuesError(f"dispute {dispute.pk} is already closed ({dispute.get_status_display()})")
    return dispute


@transaction.atomic
def dispute_update(*, dispute, actor, status: str | None = None, owner: str | None = None,
                   notes: str | None = None, sla_days: int | None = None):
    """Move an active dispute along: in progress, another owner department, notes, SLA."""
    from dues.core.errors import Problem


    dispute = _locked_dispute(dispute, actor, "update a dispute")
    before = _dispute_state(dispute)
    found: list = []
    if status is not None and status not in Dispute.ACTIVE:
        found.append(Problem("open or in_progress (resolve or reject with dispute_resolve)", "status"))
    if owner is not None and owner not in dict(Dispute.OWNERS):
        found.append(Problem(f"unknown owner {owner!r}", "owner"))
    if sla_days is not None and not 0 < int(sla_days) <= 365:
        found.append(Problem("between 1 and 365 days", "sla_days"))
    raise_problems(found)
    if status is not None:
        dispute.status = status
    if owner is not None:
        dispute.owner = owner
    if sla_days is not None:
        dispute.sla_days = int(sla_days)
    if notes is not None:
        dispute.notes = notes.strip()
    dispute.save()
    audit_append(actor=actor, action="update", object_type="dispute", object_id=str(dispute.pk),
                 company_id=dispute.company_id, before=before, after=_dispute_state(dispute))
    return dispute


@transaction.atomic
def dispute_resolve(*, dispute, actor, credit_note=None, rejected: bool = False, on: date | None = None,
                    notes: str | None = None):
    """Close a dispute: resolved by a credit note (linked; it must be the customer's, posted) or rejected."""
    from dues.core.errors import Problem
    from dues.ledger.models import Document


    dispute = _locked_dispute(dispute, actor, "resolve a dispute")
    before = _dispute_state(dispute)
    found: list = []
    if (credit_note is None) == (not rejected):
        found.append(Problem("give either the credit note that resolves it, or reject it", "credit_note"))
    note = None
    if credit_note is not None:
        if isinstance(credit_note, Document):
            note = credit_note
        else:
            notes_found = customer_documents(dispute.customer, [str(credit_note)], (Document.CREDIT_NOTE,),
                                              "credit_note", [])
            note = notes_found[0] if notes_found else None
        if note is None or note.kind != Document.CREDIT_NOTE or note.customer_id != dispute.customer_id \
                or note.status != Document.POSTED:
            found.append(Problem(f"{dispute.customer.code} has no posted credit note {credit_note}", "credit_note"))
    raise_problems(found)
    dispute.status = Dispute.REJECTED if rejected else Dispute.RESOLVED_CREDIT_NOTE
    dispute.credit_note = note
    dispute.resolved_on = on or clock.today()
    if notes is not None:
        dispute.notes = notes.strip()
    dispute.save()
    audit_append(actor=actor, action="update", object_type="dispute", object_id=str(dispute.pk),
                 company_id=dispute.company_id, before=before, after=_dispute_state(dispute))
    return dispute
