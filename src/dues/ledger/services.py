"""Posting documents, allocating credits to debits, cancelling by reversal.

One path posts everything: ``documents_post`` takes drafts (one from a person, thousands from an
import), checks them all, and writes documents, balanced journal entries, open items, allocations
and audit records in one transaction with bulk inserts. The single-document services are thin
wrappers over it, so a receipt typed in and a receipt imported are booked the same way.

Concurrency: every open item whose residual changes is read ``SELECT ... FOR UPDATE`` (PostgreSQL)
inside the transaction (SQLite lets one writer in at a time), its new residual is computed exactly
in Decimal and written back; the database's check constraints (0 <= residual <= amount) refuse
anything that would over-clear even if a code path forgot to look.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction

from dues import clock
from dues import db as bulk
from dues.audit.services import AuditEntry, actor_name, audit_append_many
from dues.companies.models import Company
from dues.companies.selectors import accounts_by_role
from dues.companies.services import ensure_open
from dues.core import posting
from dues.core.allocation import check_allocation
from dues.core.errors import AlreadyCancelledError, DuesError, OverAllocationError, Problem, ValidationFailed
from dues.core.gst import TaxSplit, is_intra_state, split_total_tax, tax_on
from dues.core.money import ZERO, quantize
from dues.customers.models import Customer
from dues.formats import format_day
from dues.users.permissions import require, require_post

from .models import Allocation, Document, DocumentLine, JournalEntry, JournalLine, OpenItem

#: A document dated outside these is a typo in the year (1-4-206, 2062 for 2026), refused rather than booked.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_AHEAD = timedelta(days=366)

D = Document
_KIND_LABEL = {kind: label.capitalize() for kind, label in D.KINDS}  # journal narrations: "Invoice INV-1"
INCOME_ROLES = (posting.SALES, posting.INTEREST_INCOME)


@dataclass
class LineDraft:
    """An invoice line as entered: quantity x rate, with its GST rate in percent."""

    description: str
    rate: Decimal
    quantity: Decimal = Decimal(1)
    gst_rate: Decimal = ZERO
    hsn: str = ""
    discount_pct: Decimal = ZERO  # a trade discount off quantity x rate, before tax


@dataclass
class DocumentDraft:
    """A document to post. ``allocations`` name debit documents by number: ``[("INV-1", 1000)]``.

    ``row`` and ``source`` say where the draft came from, so errors can name the file and row.
    """

    kind: str
    number: str
    customer: Customer
    date: date
    amount: Decimal
    due_date: date | None = None
    taxable_value: Decimal | None = None
    tax: Decimal | None = None
    lines: Sequence[LineDraft] = ()
    currency: str = ""
    description: str = ""
    mode: str = ""
    reference: str = ""
    tds: Decimal = ZERO
    charges: Decimal = ZERO
    discount: Decimal = ZERO
    opening_side: str = "D"
    allocations: Sequence[tuple[str, Decimal]] = ()
    allocation_field: str = "allocations"
    income_role: str = posting.SALES  # an invoice or debit note: what it earns (sales, interest income)
    place_of_supply: str = ""  # a state code; empty: the customer's state (a note keeps its invoice's)
    row: int | None = None
    source: str = ""


@dataclass
class _Prepared:
    draft: DocumentDraft
    document: Document
    lines: tuple[posting.Line, ...]
    doc_lines: list[DocumentLine] = field(default_factory=list)
    item: OpenItem | None = None
    allocations: list[tuple[OpenItem | _Debit, str, Decimal]] = field(default_factory=list)


def _side(draft: DocumentDraft) -> str:
    if draft.kind == D.OPENING:
        return draft.opening_side
    return "D" if draft.kind in D.DEBIT_KINDS else "C"


def _prepare(company: Company, draft: DocumentDraft, who: str, problems: list[Problem]) -> _Prepared | None:
    """Validate one draft and build its document and journal lines (nothing saved)."""
    start = len(problems)

    def bad(fld: str, message: str) -> None:
        problems.append(Problem(message, fld, draft.row, draft.source))

    cur = company.currency
    if draft.currency and draft.currency != cur:
        bad("currency", f"{draft.currency} documents are not supported yet: the company keeps its books in {cur}")
    if draft.kind not in dict(D.KINDS):
        bad("kind", f"unknown document kind {draft.kind!r}")
        return None
    if not draft.number or len(draft.number) > 40:
        bad("number", "is required (at most 40 characters)")
    if company.lock_date and draft.date <= company.lock_date:
        bad("date", f"{format_day(draft.date)} is on or before the lock date {format_day(company.lock_date)}")
    if draft.date < EARLIEST_DATE:
        bad("date", f"{draft.date.isoformat()} is before 1900: check the year")
    elif draft.date > clock.today() + LATEST_AHEAD:
        bad("date", f"{draft.date.isoformat()} is more than a year after today: check the year")
    amount = quantize(draft.amount, cur)
    tds, charges, discount = (quantize(x, cur) for x in (draft.tds, draft.charges, draft.discount))
    if amount < 0 or (amount == 0 and draft.kind != D.RECEIPT and not draft.lines):
        bad("amount", f"must be positive, got {draft.amount}")
    for name, value in (("tds", tds), ("charges", charges), ("discount", discount)):
        if value < 0:
            bad(name, f"cannot be negative, got {value}")
    if draft.kind == D.RECEIPT and amount + tds + charges + discount <= 0:
        bad("amount", "a receipt must settle something")
    if draft.kind == D.RECEIPT and draft.mode and draft.mode not in D.MODES:
        bad("mode", f"unknown mode {draft.mode!r} (one of {', '.join(D.MODES)})")
    # an opening balance brought forward keeps its bill's original due date, which may be earlier
    if draft.due_date and draft.due_date < draft.date and draft.kind != D.OPENING:
        bad("due_date", f"{format_day(draft.due_date)} is before the document date {format_day(draft.date)}")
    if draft.income_role not in INCOME_ROLES or (draft.income_role != posting.SALES
                                                 and draft.kind not in (D.INVOICE, D.DEBIT_NOTE)):
        bad("income_role", f"{draft.income_role!r} is not an income account an invoice or debit note can credit")
    if draft.kind == D.OPENING and draft.opening_side not in ("D", "C"):
        bad("amount", "an opening balance is a debit (owed to us) or a credit (advance)")
    if len(problems) > start:
        return None

    supply = draft.place_of_supply or draft.customer.state_code
    intra = is_intra_state(company.state_code, supply)
    doc_lines: list[DocumentLine] = []
    taxable, tax = amount, TaxSplit()
    if draft.lines:
        taxable = ZERO
        cgst = sgst = igst = ZERO
        for pos, ld in enumerate(draft.lines, start=1):
            value = quantize(ld.quantity * ld.rate, cur)
            if ld.discount_pct:
                value = quantize(ld.quantity * ld.rate * (100 - ld.discount_pct) / 100, cur)
            t = tax_on(value, ld.gst_rate, intra, cur)
            taxable += value
            cgst, sgst, igst = cgst + t.cgst, sgst + t.sgst, igst + t.igst
            doc_lines.append(bulk.build(DocumentLine, position=pos, description=ld.description, hsn=ld.hsn, quantity=ld.quantity,
                                          rate=ld.rate, taxable_value=value, gst_rate=ld.gst_rate,
                                          cgst=t.cgst, sgst=t.sgst, igst=t.igst))
        tax = TaxSplit(cgst, sgst, igst)
        if amount == 0:  # not given: the lines make the total
            amount = taxable + tax.total
        elif abs(amount - taxable - tax.total) >= 1:
            bad("amount", f"{amount} is not the lines' total {taxable + tax.total} (difference over one unit)")
        if amount <= 0:
            bad("amount", "the lines add up to nothing")
    elif draft.kind in (D.INVOICE, D.DEBIT_NOTE, D.CREDIT_NOTE):
        tax_total = quantize(draft.tax, cur) if draft.tax is not None else None
        if draft.taxable_value is not None:
            taxable = quantize(draft.taxable_value, cur)
            tax_total = amount - taxable if tax_total is None else tax_total
        elif tax_total is not None:
            taxable = amount - tax_total
        else:
            tax_total = ZERO
        if taxable < 0 or tax_total < 0:
            bad("taxable_value", f"taxable value {taxable} and tax {tax_total} must not be negative")
        elif abs(amount - taxable - tax_total) >= 1:
            bad("amount", f"{amount} is not taxable value {taxable} + tax {tax_total} (difference over one unit)")
        tax = split_total_tax(tax_total, intra, cur)
    if len(problems) > start:
        return None

    kind = draft.kind
    if kind in (D.INVOICE, D.DEBIT_NOTE):
        lines = posting.invoice_lines(amount, taxable, tax, income_role=draft.income_role)
    elif kind == D.CREDIT_NOTE:
        lines = posting.credit_note_lines(amount, taxable, tax)
    elif kind == D.RECEIPT:
        lines = posting.receipt_lines(amount, draft.mode or "bank", tds, charges, discount)
    elif kind == D.WRITE_OFF:
        lines = posting.write_off_lines(amount)
    else:
        lines = posting.opening_lines(amount if draft.opening_side == "D" else -amount)
    side = _side(draft)
    due = draft.due_date if side == "D" else None
    if side == "D" and due is None:
        due = draft.customer.terms.due_date(draft.date)
    document = bulk.build(
        Document, company=company, kind=kind, side=side, number=draft.number, customer=draft.customer, date=draft.date,
        due_date=due, currency=cur, amount=amount,
        taxable_value=taxable if kind in (D.INVOICE, D.DEBIT_NOTE, D.CREDIT_NOTE) else ZERO,
        cgst=tax.cgst, sgst=tax.sgst, igst=tax.igst, place_of_supply=supply,
        description=draft.description[:500], mode=(draft.mode or "bank") if kind == D.RECEIPT else "",
        reference=draft.reference[:100], tds=tds, bank_charges=charges, discount=discount, created_by=who,
    )
    return _Prepared(draft, document, lines, doc_lines)


def _company_locked(company_id: int) -> Company:
    """The company row, locked for the transaction (PostgreSQL FOR NO KEY UPDATE).

    Locking the period (FOR UPDATE on the same row) waits for postings in flight and they wait for
    it, so nothing lands in a period locked while it was being posted; imports of the same numbers
    queue instead of colliding.
    """
    return Company.objects.select_for_update(no_key=True).get(pk=company_id)


def _lock_items(ids: Sequence[int]) -> dict[int, OpenItem]:
    """Open items by id, locked for update in id order (a fixed order: no deadlocks between posters).

    Amounts come back at the currency's minor unit (the database keeps four places).
    """
    if not ids:
        return {}
    items = {i.pk: i for i in OpenItem.objects.select_for_update().filter(pk__in=sorted(set(ids))).order_by("pk")
             .select_related("document")}
    for i in items.values():
        i.amount, i.residual = quantize(i.amount, i.document.currency), quantize(i.residual, i.document.currency)
    return items


@dataclass
class _Debit:
    """An already-posted debit item as the bulk path needs it (locked, without a model instance)."""

    pk: int
    number: str
    date: date
    customer_id: int
    residual: Decimal


def _debit_items_by_number(company: Company, numbers: set[str]) -> dict[str, list[_Debit]]:
    """Posted debit items with these document numbers, locked for update in id order."""
    found: dict[str, list[_Debit]] = defaultdict(list)
    if not numbers:
        return found
    rows = (OpenItem.objects.select_for_update(of=("self",))
            .filter(company=company, side="D", reversal_of__isnull=True, document__number__in=numbers,
                    document__status=Document.POSTED)
            .order_by("pk").values_list("pk", "document__number", "date", "customer_id", "residual"))
    for pk, number, day, customer_id, residual in rows:
        found[number].append(_Debit(pk, number, day, customer_id, quantize(residual, company.currency)))
    return found


def documents_post(*, company: Company, drafts: Sequence[DocumentDraft], actor=None, action: str = "post",
                   batch=None, problems: list[Problem] | None = None) -> list[Document]:
    """Post ``drafts`` all together or not at all; raises ``ValidationFailed`` listing every problem.

    ``problems`` already found by the caller (an importer's unreadable rows) are reported together
    with these, so one run names every bad row of a file.
    """
    for kind in sorted({d.kind for d in drafts}):
        require_post(actor, kind)
    who = actor_name(actor)
    problems = list(problems or [])
    with transaction.atomic():
        company = _company_locked(company.pk)  # the lock date as it is now, not as the caller saw it
        prepared = [p for d in drafts if (p := _prepare(company, d, who, problems))]
        # numbers: unique per kind, in the file and against what is already posted
        seen: dict[tuple[str, str], DocumentDraft] = {}
        for p in prepared:
            key = (p.document.kind, p.document.number)
            if key in seen:
                first = seen[key]
                where = f"row {first.row}" if first.row else "an earlier draft"
                problems.append(Problem(f"{p.document.number} appears twice (also at {where})", "number",
                                        p.draft.row, p.draft.source))
            seen[key] = p.draft
        by_kind: dict[str, list[str]] = defaultdict(list)
        for kind, number in seen:
            by_kind[kind].append(number)
        for kind, numbers in by_kind.items():
            for number in Document.objects.filter(company=company, kind=kind, number__in=numbers).values_list(
                    "number", flat=True):
                d = seen[(kind, number)]
                problems.append(Problem(f"{kind.replace('_', ' ')} {number} already exists", "number", d.row, d.source))

        # open items of the new documents (residual set once allocations are known)
        for p in prepared:
            doc = p.document
            p.item = bulk.build(OpenItem, company=company, customer=doc.customer, side=doc.side, date=doc.date,
                              due_date=doc.due_date or doc.date, amount=-posting.ar_amount(p.lines)
                              if doc.side == "C" else posting.ar_amount(p.lines))
            p.item.residual = p.item.amount

        # allocations: to debits already posted (locked) or posted in this same batch
        wanted = {num for p in prepared for num, _ in p.draft.allocations}
        in_batch = {p.document.number: p.item for p in prepared if p.document.side == "D"}
        existing = _debit_items_by_number(company, wanted - set(in_batch))
        touched: dict[int, _Debit] = {}
        for p in prepared:
            if not p.draft.allocations:
                continue
            if p.document.side != "C":
                problems.append(Problem("only receipts, credit notes and write-offs can be allocated", p.draft.allocation_field,
                                        p.draft.row, p.draft.source))
                continue
            for number, amount in p.draft.allocations:
                amount = quantize(amount, company.currency)
                if number in in_batch:
                    target = in_batch[number]
                else:
                    candidates = [i for i in existing.get(number, []) if i.customer_id == p.document.customer.pk]
                    if len(candidates) != 1:
                        why = "is not an open invoice" if not existing.get(number) else "belongs to another customer"
                        if len(candidates) > 1:
                            why = "matches more than one document (give the exact number)"
                        problems.append(Problem(f"{number} {why} of {p.document.customer.code}", p.draft.allocation_field,
                                                p.draft.row, p.draft.source))
                        continue
                    target = candidates[0]
                    touched[target.pk] = target
                if target.customer_id != p.document.customer.pk:
                    problems.append(Problem(f"{number} belongs to another customer", p.draft.allocation_field, p.draft.row,
                                            p.draft.source))
                    continue
                try:
                    check_allocation(amount, p.item.residual, target.residual, p.document.number, number)
                except OverAllocationError as exc:
                    problems.append(Problem(str(exc), p.draft.allocation_field, p.draft.row, p.draft.source))
                    continue
                p.item.residual -= amount
                target.residual -= amount
                p.allocations.append((target, number, amount))
        if problems:
            raise ValidationFailed(problems)
        return _persist(company, prepared, list(touched.values()), who, action, batch)


def _persist(company, prepared: list[_Prepared], touched: list[_Debit], who: str, action: str,
             batch) -> list[Document]:
    accounts = accounts_by_role(company)
    missing = sorted({ln.role for p in prepared for ln in p.lines} - set(accounts))
    if missing:
        raise DuesError(f"the chart of accounts has no account for {', '.join(missing)}: run `dues init` to add "
                        "the accounts of the default chart")
    now = clock.now()
    docs = [p.document for p in prepared]
    for doc, pk in zip(docs, bulk.reserve_ids(Document._meta.db_table, len(docs)), strict=True):
        doc.pk, doc.created_at = pk, now
        bulk.link(doc, "import_batch", batch)
    bulk.insert_instances(Document, docs)
    doc_lines = [dl for p in prepared for dl in p.doc_lines]
    for p in prepared:
        for dl in p.doc_lines:
            bulk.link(dl, "document", p.document)
    for dl, pk in zip(doc_lines, bulk.reserve_ids(DocumentLine._meta.db_table, len(doc_lines)), strict=True):
        dl.pk = pk
    bulk.insert_instances(DocumentLine, doc_lines)
    entry_ids = bulk.reserve_ids(JournalEntry._meta.db_table, len(prepared))
    bulk.insert_rows(JournalEntry._meta.db_table,
                     ["id", "company_id", "document_id", "date", "narration", "reverses_id", "created_at"],
                     [(eid, company.pk, p.document.pk, p.document.date,
                       f"{_KIND_LABEL[p.document.kind]} {p.document.number}", None, now)
                      for p, eid in zip(prepared, entry_ids, strict=True)])
    bulk.insert_rows(JournalLine._meta.db_table, ["entry_id", "account_id", "customer_id", "debit", "credit"],
                     [(eid, accounts[ln.role].pk, p.document.customer.pk if ln.role == posting.AR else None,
                       ln.debit, ln.credit)
                      for p, eid in zip(prepared, entry_ids, strict=True) for ln in p.lines])
    items = [p.item for p in prepared]
    for p, pk in zip(prepared, bulk.reserve_ids(OpenItem._meta.db_table, len(items)), strict=True):
        p.item.pk = pk
        bulk.link(p.item, "document", p.document)
    bulk.insert_instances(OpenItem, items)
    rows = [(p.item.pk, target.pk, amount, max(p.document.date, target.date), p.document.number, number)
            for p in prepared for target, number, amount in p.allocations]
    alloc_ids = bulk.reserve_ids(Allocation._meta.db_table, len(rows))
    bulk.insert_rows(Allocation._meta.db_table,
                     ["id", "company_id", "credit_item_id", "debit_item_id", "amount", "effective_date", "reverses_id",
                      "reason", "created_at", "created_by"],
                     [(pk, company.pk, c, d, amount, eff, None, "", now, who)
                      for pk, (c, d, amount, eff, _, _) in zip(alloc_ids, rows, strict=True)])
    bulk.update_column(OpenItem._meta.db_table, "residual", [(i.residual, i.pk) for i in touched])
    audit = [AuditEntry(who, action, p.document.kind, p.document.number, company.pk, None, p.document.audit_state())
             for p in prepared]
    audit += [AuditEntry(who, "allocate", "allocation", str(pk), company.pk, None, {
        "credit": credit_no, "debit": debit_no, "amount": str(amount), "effective_date": eff.isoformat()})
        for pk, (_, _, amount, eff, credit_no, debit_no) in zip(alloc_ids, rows, strict=True)]
    audit_append_many(audit)
    return docs


def document_post(draft: DocumentDraft, *, company: Company, actor=None) -> Document:
    """Post one document (an invoice, receipt, credit note, ...) through the same path as imports."""
    return documents_post(company=company, drafts=[draft], actor=actor)[0]


@transaction.atomic
def allocation_create(*, credit_item: OpenItem, debit_item: OpenItem, amount: Decimal, on: date, actor=None,
                      reason: str = "") -> Allocation:
    """Apply ``amount`` of a credit (on-account receipt, credit note) to a debit, effective ``on``."""
    require(actor, "allocations.change", "allocate receipts and credit notes")
    company = _company_locked(credit_item.company_id)
    items = _lock_items([credit_item.pk, debit_item.pk])
    credit, debit = items[credit_item.pk], items[debit_item.pk]
    for item in (credit, debit):
        if item.document.status != Document.POSTED or item.reversal_of_id:
            raise DuesError(f"{item.document} is cancelled: nothing can be allocated to or from it")
    if credit.side != "C" or debit.side != "D":
        raise DuesError("an allocation takes a credit item (receipt, credit note) to a debit item (invoice)")
    if credit.customer_id != debit.customer_id:
        raise DuesError(f"{credit.document.number} and {debit.document.number} belong to different customers")
    ensure_open(company, on, "the allocation")
    amount = quantize(amount, company.currency)
    check_allocation(amount, credit.residual, debit.residual, credit.document.number, debit.document.number)
    effective = max(on, credit.date, debit.date)
    credit.residual -= amount
    debit.residual -= amount
    OpenItem.objects.bulk_update([credit, debit], ["residual"])
    allocation = Allocation.objects.create(company=company, credit_item=credit, debit_item=debit, amount=amount,
                                           effective_date=effective, reason=reason, created_by=actor_name(actor))
    audit_append_many([AuditEntry(actor_name(actor), "allocate", "allocation", str(allocation.pk), company.pk, None,
                                  allocation.audit_state())])
    return allocation


def _reverse_allocation(allocation: Allocation, on: date, reason: str, who: str,
                        items: dict[int, OpenItem]) -> tuple[Allocation, AuditEntry]:
    credit, debit = items[allocation.credit_item_id], items[allocation.debit_item_id]
    credit.residual += allocation.amount
    debit.residual += allocation.amount
    rev = Allocation(company_id=allocation.company_id, credit_item=credit, debit_item=debit, amount=-allocation.amount,
                     effective_date=max(on, allocation.effective_date), reverses=allocation, reason=reason,
                     created_by=who)
    return rev, AuditEntry(who, "unallocate", "allocation", str(allocation.pk), allocation.company_id,
                           allocation.audit_state(), {"reversed_on": rev.effective_date.isoformat(), "reason": reason})


def _active_allocations(item_ids: Sequence[int]):
    from django.db.models import Q

    return (Allocation.objects.filter(Q(credit_item_id__in=item_ids) | Q(debit_item_id__in=item_ids),
                                      reverses__isnull=True, reversed_by__isnull=True)
            .select_related("credit_item__document", "debit_item__document").order_by("pk"))


@transaction.atomic
def allocation_reverse(*, allocation: Allocation, on: date, reason: str, actor=None) -> Allocation:
    """Undo an allocation by appending its reversal, effective ``on``; both residuals come back."""
    require(actor, "allocations.change", "undo allocations")
    if not reason.strip():
        raise DuesError("say why the allocation is undone")
    allocation = Allocation.objects.select_for_update(of=("self",)).select_related(
        "credit_item__document", "debit_item__document").get(pk=allocation.pk)
    if allocation.reverses_id:
        raise DuesError("a reversing allocation cannot itself be reversed; allocate again instead")
    if Allocation.objects.filter(reverses=allocation).exists():
        raise AlreadyCancelledError(f"allocation {allocation.pk} was already undone")
    if allocation.credit_item.reversal_of_id or allocation.debit_item.reversal_of_id:
        raise DuesError(f"allocation {allocation.pk} is part of the cancellation of "
                        f"{allocation.debit_item.document}; a cancellation is not undone piecemeal")
    company = _company_locked(allocation.company_id)
    ensure_open(company, on, "the reversal")
    items = _lock_items([allocation.credit_item_id, allocation.debit_item_id])
    rev, entry = _reverse_allocation(allocation, on, reason, actor_name(actor), items)
    OpenItem.objects.bulk_update(list(items.values()), ["residual"])
    rev.save()
    audit_append_many([entry])
    return rev


@transaction.atomic
def document_cancel(*, document: Document, on: date, reason: str, actor=None) -> JournalEntry:
    """Cancel a posted document by reversal, dated ``on``; the original entry stays as it was.

    Its allocations are undone first (reversing allocations), then a mirror journal entry is
    posted and a counter-item clears the document's open item from ``on``, so ageing before ``on``
    still shows the document and ageing from ``on`` does not.
    """
    require_post(actor, document.kind)
    if not reason.strip():
        raise DuesError("say why the document is cancelled")
    company = _company_locked(document.company_id)
    document = Document.objects.select_for_update().get(pk=document.pk)
    if document.status == Document.CANCELLED:
        raise AlreadyCancelledError(f"{document} was already cancelled on {document.cancelled_on}")
    if on < document.date:
        raise DuesError(f"cannot cancel {document} before its own date {format_day(document.date)}")
    ensure_open(company, on, f"the cancellation of {document}")
    who = actor_name(actor)
    original_ids = list(document.open_items.filter(reversal_of__isnull=True).values_list("pk", flat=True))
    _lock_items(original_ids)  # from here on nothing else can allocate to or from them
    undo = list(_active_allocations(original_ids))
    items = _lock_items(original_ids + [x for a in undo for x in (a.credit_item_id, a.debit_item_id)])
    original_items = [items[pk] for pk in original_ids]
    audit: list[AuditEntry] = []
    reversals = []
    for allocation in undo:
        rev, entry = _reverse_allocation(allocation, on, f"cancellation of {document}: {reason}", who, items)
        reversals.append(rev)
        audit.append(entry)
    original_entry = document.entries.filter(reverses__isnull=True).order_by("pk").first()
    entry = JournalEntry.objects.create(company=company, document=document, date=on, reverses=original_entry,
                                        narration=f"Cancellation of {document}: {reason}"[:300])
    JournalLine.objects.bulk_create(
        [JournalLine(entry=entry, account_id=ln.account_id, customer_id=ln.customer_id, debit=ln.credit,
                     credit=ln.debit) for ln in original_entry.lines.all()])
    counters, clears = [], []
    for original in original_items:
        item = items[original.pk]
        counter = OpenItem(company=company, customer=document.customer, document=document,
                           side="C" if item.side == "D" else "D", date=on, due_date=on, amount=item.amount,
                           residual=ZERO, reversal_of=item)
        counters.append(counter)
        credit, debit = (counter, item) if item.side == "D" else (item, counter)
        if item.residual != item.amount:  # every allocation was undone above; anything else is a bug
            raise DuesError(f"{document} still has {item.amount - item.residual} allocated; nothing was changed")
        clears.append((credit, debit, item.residual))
        item.residual = ZERO
    OpenItem.objects.bulk_update(list(items.values()), ["residual"])
    OpenItem.objects.bulk_create(counters)
    Allocation.objects.bulk_create(reversals + [
        Allocation(company=company, credit_item=c, debit_item=d, amount=amt, effective_date=on,
                   reason=f"cancellation of {document}", created_by=who) for c, d, amt in clears])
    before = document.audit_state()
    document.status, document.cancelled_on, document.cancel_reason = Document.CANCELLED, on, reason[:500]
    document.save(update_fields=["status", "cancelled_on", "cancel_reason"])
    audit.append(AuditEntry(who, "cancel", document.kind, document.number, company.pk, before, document.audit_state()))
    audit_append_many(audit)
    return entry


@transaction.atomic
def allocations_create(*, credit_item: OpenItem, targets: Sequence[tuple[OpenItem, Decimal]], on: date, actor=None,
                       reason: str = "") -> list[Allocation]:
    """Apply one credit to several debits at once, all or nothing, effective ``on``.

    The credit and every debit are locked (in id order) before anything is read, so two people
    allocating the same receipt at the same time queue and the second sees what the first left:
    it cannot over-allocate. Raises ``ValidationFailed`` naming every refused target; a problem's
    ``row`` is the target's position in ``targets`` (1-based), its ``field`` is ``"allocations"``.
    """
    require(actor, "allocations.change", "allocate receipts and credit notes")
    if not targets:
        raise DuesError("nothing to allocate: give an amount for at least one invoice")
    company = _company_locked(credit_item.company_id)
    items = _lock_items([credit_item.pk] + [debit.pk for debit, _ in targets])
    credit = items[credit_item.pk]
    if credit.document.status != Document.POSTED or credit.reversal_of_id:
        raise DuesError(f"{credit.document} is cancelled: nothing can be allocated from it")
    if credit.side != "C":
        raise DuesError(f"{credit.document} is not a credit: only receipts and credit notes are allocated")
    ensure_open(company, on, "the allocation")
    who = actor_name(actor)
    problems: list[Problem] = []
    plan: list[tuple[OpenItem, Decimal]] = []
    for row, (target, amount) in enumerate(targets, start=1):
        debit = items[target.pk]
        number = debit.document.number
        if debit.document.status != Document.POSTED or debit.reversal_of_id:
            problems.append(Problem(f"{debit.document} is cancelled", "allocations", row))
            continue
        if debit.side != "D":
            problems.append(Problem(f"{number} is not an invoice or debit note", "allocations", row))
            continue
        if debit.customer_id != credit.customer_id:
            problems.append(Problem(f"{number} belongs to another customer", "allocations", row))
            continue
        amount = quantize(amount, company.currency)
        try:
            check_allocation(amount, credit.residual, debit.residual, credit.document.number, number)
        except OverAllocationError as exc:
            problems.append(Problem(str(exc), "allocations", row))
            continue
        credit.residual -= amount
        debit.residual -= amount
        plan.append((debit, amount))
    if problems:
        raise ValidationFailed(problems)
    OpenItem.objects.bulk_update(list(items.values()), ["residual"])
    created = [Allocation.objects.create(company=company, credit_item=credit, debit_item=debit, amount=amount,
                                         effective_date=max(on, credit.date, debit.date), reason=reason[:300],
                                         created_by=who)
               for debit, amount in plan]
    audit_append_many([AuditEntry(who, "allocate", "allocation", str(a.pk), company.pk, None, a.audit_state())
                       for a in created])
    return created
