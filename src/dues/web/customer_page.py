"""What the customer page shows besides the balance: the whole story of one customer, set-based.

Each section is one query (two for promises, whose invoices are prefetched) on this customer only,
whatever the number of rows: promises with their status as of the page's date, disputes, notes (the
pinned one first), activities, the statements and letters the dunning run sent, bank lines and
receipts with their allocations, unapplied credits, and contacts (the primary one first).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from dues.banking.models import BankLine
from dues.collections import selectors as cs
from dues.collections.models import DunningAction
from dues.companies.models import Company
from dues.customers.models import Contact, Customer, CustomerNote
from dues.ledger.models import Allocation, Document, OpenItem

LIMIT = 20  # rows per section; the timeline and the document lists have the rest

#: dunning step templates whose message carried a PDF (statement, letters), and the letter kind of each
STATEMENT_TEMPLATE = "statement"
LETTER_TEMPLATES = {"escalation": "escalation", "final-notice": "final_notice"}


@dataclass
class SentDocument:
    """A statement or letter the dunning run sent: the action, and what its PDF is."""

    action: DunningAction
    what: str  # "statement" or a letter kind

    @property
    def title(self) -> str:
        return "Statement of account" if self.what == STATEMENT_TEMPLATE else \
            f"{self.what.replace('_', ' ').capitalize()} letter"


@dataclass
class ReceiptRow:
    document: Document
    allocations: list[Allocation] = field(default_factory=list)
    unapplied: object = None  # the receipt's residual on account now (Decimal) or None


@dataclass
class CustomerStory:
    promises: list
    disputes: list
    pinned: CustomerNote | None
    notes: list[CustomerNote]
    activities: list
    sent: list[SentDocument]
    bank_lines: list[BankLine]
    receipts: list[ReceiptRow]
    credits: list[OpenItem]
    contacts: list[Contact]

    @property
    def unapplied_total(self):
        return sum((c.residual for c in self.credits), 0)


def sent_kind(template: str, channel: str) -> str | None:
    """"statement", a letter kind, or None when the action carried no PDF of ours."""
    if template == STATEMENT_TEMPLATE and channel == "email":
        return STATEMENT_TEMPLATE
    if template in LETTER_TEMPLATES:
        return LETTER_TEMPLATES[template]
    if channel == "letter":
        return "reminder"
    return None


def sent_documents(company: Company, customer: Customer, limit: int = LIMIT) -> list[SentDocument]:
    from django.db.models import Q

    actions = (DunningAction.objects.filter(company=company, customer=customer, status=DunningAction.SENT)
               .filter(Q(channel="letter") | Q(step__template__in=[STATEMENT_TEMPLATE, *LETTER_TEMPLATES]))
               .select_related("step").order_by("-date", "-id")[:limit])
    found = []
    for a in actions:
        what = sent_kind(a.step.template, a.channel)
        if what:
            found.append(SentDocument(a, what))
    return found


def customer_story(*, company: Company, customer: Customer, as_of: date, limit: int = LIMIT) -> CustomerStory:
    promises = list(cs.promises(company, customer=customer, on=as_of)[:limit])
    disputes = list(cs.disputes(company, customer=customer).order_by("-opened_on", "-id")[:limit])
    notes = list(CustomerNote.objects.filter(customer=customer).order_by("-pinned", "-created_at", "-id")[:limit + 1])
    pinned = notes.pop(0) if notes and notes[0].pinned else None
    activities = list(cs.activities(company, customer)[:limit])
    bank_lines = list(BankLine.objects.filter(company=company, receipt__customer=customer)
                      .select_related("receipt", "bank_account").order_by("-booking_date", "-id")[:limit])
    receipts = [ReceiptRow(d) for d in Document.objects.filter(company=company, customer=customer,
                                                               kind=Document.RECEIPT, date__lte=as_of)
                .order_by("-date", "-id")[:limit]]
    by_receipt: dict[int, list[Allocation]] = defaultdict(list)
    if receipts:
        for a in (Allocation.objects.filter(credit_item__document__in=[r.document for r in receipts],
                                            reverses__isnull=True, reversed_by__isnull=True,
                                            debit_item__reversal_of__isnull=True)
                  .select_related("debit_item__document", "credit_item").order_by("effective_date", "pk")):
            by_receipt[a.credit_item.document_id].append(a)
    credits = list(OpenItem.objects.filter(company=company, customer=customer, side="C", residual__gt=0,
                                           reversal_of__isnull=True, document__status=Document.POSTED)
                   .select_related("document").order_by("date", "pk"))
    on_account = {c.document_id: c.residual for c in credits}
    for r in receipts:
        r.allocations = by_receipt.get(r.document.pk, [])
        r.unapplied = on_account.get(r.document.pk)
    contacts = list(Contact.objects.filter(customer=customer).order_by("-is_primary", "role", "name", "id"))
    return CustomerStory(promises, disputes, pinned, notes[:limit], activities, sent_documents(company, customer, limit),
                         bank_lines, receipts, credits, contacts)
