"""Credit notes and debit notes raised in dues against an approved tax invoice: draft, approve, reject.

- ``note_draft`` prices the lines like an invoice (taxable value per line, each tax rounded to the
  paisa, CGST+SGST or IGST by the *invoice's* place of supply, the total rounded to the rupee with a
  round-off). A credit note may not take back more than was billed: per invoice line, the quantity
  returned or short (all credit notes not rejected, this one included) is at most the quantity
  billed, and the taxable value credited is at most the line's taxable value. The invoice row is
  locked while this is checked, so two notes written at once cannot both squeeze under the limit.
- ``notes_approve`` applies the billing four-eyes rule, runs a debit note through the credit check
  (as an invoice), takes the next number of the kind's series for the fiscal year (gapless: a number
  is taken only by a note that is posted) and posts through ``dues.ledger.services.documents_post``:
  a credit note allocated to what is left of its invoice (any excess stays unapplied on the
  customer's account), a debit note as a new receivable that names the invoice.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Sum

from dues import clock
from dues.audit.services import AuditEntry, actor_name, audit_append_many
from dues.companies.models import Company
from dues.core.billing import invoice_totals, price_line
from dues.core.errors import DuesError, PermissionDenied, Problem, ValidationFailed
from dues.core.gst import is_intra_state
from dues.core.money import ZERO
from dues.credit.services import CreditDecision, check
from dues.ledger.models import Document, OpenItem
from dues.ledger.services import DocumentDraft, LineDraft
from dues.users.permissions import can, require

from .models import Bill, BillLine, Note, NoteLine
from .services import _same_person, billing_settings, post_approved, take_numbers

QTY_REASONS = (Note.RETURN, Note.SHORTAGE)  # reasons that take goods back: the quantity is capped by the billed one


@dataclass(frozen=True)
class NoteLineInput:
    """One line as typed: the invoice line (item code, or its line number), quantity, and rate (per unit;
    for a return or shortage it defaults to the invoice's rate; for a rate difference it is the difference)."""

    item: str
    quantity: Decimal
    rate: Decimal | None = None


def parse_line(text: str) -> NoteLineInput:
    """``ITEM:QTY[:RATE]`` -> a ``NoteLineInput``; raises DuesError naming what is wrong."""
    parts = [p.strip() for p in text.split(":")]
    if len(parts) not in (2, 3) or not parts[0]:
        raise DuesError(f"line {text!r}: expected ITEM:QTY or ITEM:QTY:RATE")
    try:
        qty = Decimal(parts[1])
        rate = Decimal(parts[2]) if len(parts) == 3 and parts[2] else None
    except InvalidOperation:
        raise DuesError(f"line {text!r}: quantity and rate must be numbers") from None
    return NoteLineInput(parts[0], qty, rate)


def _credited(bill: Bill, exclude: Note | None = None) -> dict[int, tuple[Decimal, Decimal]]:
    """Per invoice line: (quantity returned or short, taxable value credited) by credit notes not rejected."""
    qs = NoteLine.objects.filter(note__bill=bill, note__kind=Note.CREDIT).exclude(note__status=Note.REJECTED)
    if exclude is not None:
        qs = qs.exclude(note=exclude)
    qty = dict(qs.filter(note__reason__in=QTY_REASONS).values("bill_line_id").annotate(q=Sum("quantity"))
               .values_list("bill_line_id", "q"))
    value = dict(qs.values("bill_line_id").annotate(v=Sum("taxable")).values_list("bill_line_id", "v"))
    return {k: (qty.get(k) or ZERO, value.get(k) or ZERO) for k in set(qty) | set(value)}


def _fmt(x: Decimal) -> str:
    return f"{x.normalize():f}" if x == x.to_integral_value() else f"{x:.2f}"


def note_draft(*, company: Company, bill: Bill, kind: str, reason: str, lines: list[NoteLineInput], text: str = "",
               on: date | None = None, actor=None) -> Note:
    """A DRAFT credit or debit note against the approved invoice ``bill``; raises ``ValidationFailed``
    naming every bad line (``row`` = the line's position as given), and writes nothing then."""
    require(actor, "billing.run", "raise credit and debit notes")
    who = actor_name(actor)
    on = on or clock.today()
    problems: list[Problem] = []
    if kind not in dict(Note.KINDS):
        raise DuesError(f"a note is a credit or a debit note, not {kind!r}")
    if reason not in dict(Note.REASONS):
        raise DuesError(f"unknown reason {reason!r} (one of {', '.join(dict(Note.REASONS))})")
    if kind == Note.DEBIT and reason in QTY_REASONS:
        raise DuesError(f"a debit note is for a rate difference or another reason, not a {reason}")
    if reason == Note.OTHER and not text.strip():
        raise DuesError("reason 'other' needs the reason in words (--text)")
    if not lines:
        raise DuesError("a note needs at least one line (ITEM:QTY[:RATE])")
    with transaction.atomic():
        bill = Bill.objects.select_for_update(of=("self",)).select_related("customer", "document").get(pk=bill.pk)
        if bill.company_id != company.pk:
            raise DuesError(f"{bill.label} is not an invoice of this company")
        if bill.status != Bill.APPROVED or bill.document is None:
            raise DuesError(f"{bill.label} is a {bill.status} bill: a note is raised against a posted invoice")
        if bill.document.status != Document.POSTED:
            raise DuesError(f"invoice {bill.number} is cancelled: no note can be raised against it")
        if on < bill.date:
            raise DuesError(f"the note's date {on.isoformat()} is before the invoice's {bill.date.isoformat()}")
        bill_lines = list(BillLine.objects.filter(bill=bill).select_related("item").order_by("position"))
        credited = _credited(bill) if kind == Note.CREDIT else {}
        intra = is_intra_state(company.state_code, bill.place_of_supply)
        cur = company.currency
        used: dict[int, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])  # this note's own lines, per bill line
        priced_lines: list[tuple[BillLine, NoteLineInput, Decimal, object]] = []
        for row, li in enumerate(lines, 1):
            def bad(fld: str, message: str, row=row) -> None:
                problems.append(Problem(message, fld, row, f"note against {bill.number}"))

            if li.item.isdigit():
                match = [bl for bl in bill_lines if bl.position == int(li.item)]
            else:
                match = [bl for bl in bill_lines if bl.item.code.lower() == li.item.lower()]
            if not match:
                bad("item", f"{li.item!r} is not on invoice {bill.number} (items: "
                            f"{', '.join(bl.item.code for bl in bill_lines)})")
                continue
            if len(match) > 1:
                bad("item", f"{li.item!r} is on lines {', '.join(str(bl.position) for bl in match)} of {bill.number}: "
                            "give the line number instead")
                continue
            bl = match[0]
            if li.quantity <= 0:
                bad("qty", f"must be positive, got {li.quantity}")
                continue
            rate = li.rate
            if rate is None:
                if reason not in QTY_REASONS:
                    bad("rate", f"is required for a {dict(Note.REASONS)[reason]} (the difference per unit)")
                    continue
                rate = bl.rate
            if rate <= 0:
                bad("rate", f"must be positive, got {rate}")
                continue
            if reason in QTY_REASONS and rate > bl.rate:
                bad("rate", f"{_fmt(rate)} is more than the invoice's rate {_fmt(bl.rate)} for {bl.item.code}")
                continue
            disc = bl.discount_pct if reason in QTY_REASONS else ZERO
            p = price_line(li.quantity, rate, disc, bl.gst_rate, intra, cur)
            if kind == Note.CREDIT:
                done_qty, done_value = credited.get(bl.pk, (ZERO, ZERO))
                own = used[bl.pk]
                if reason in QTY_REASONS and done_qty + own[0] + li.quantity > bl.quantity:
                    bad("qty", f"{_fmt(li.quantity)} {bl.uom} of {bl.item.code} is more than is left of the "
                               f"{_fmt(bl.quantity)} billed on {bill.number} ({_fmt(done_qty + own[0])} already "
                               "returned or short)")
                    continue
                if done_value + own[1] + p.taxable > bl.taxable:
                    bad("rate", f"crediting {p.taxable:.2f} on {bl.item.code} is more than is left of its taxable "
                                f"value {bl.taxable:.2f} on {bill.number} ({done_value + own[1]:.2f} already credited)")
                    continue
                if reason in QTY_REASONS:
                    own[0] += li.quantity
                own[1] += p.taxable
            priced_lines.append((bl, li, rate, p))
        if problems:
            raise ValidationFailed(problems)
        t = invoice_totals([p for *_, p in priced_lines])
        note = Note.objects.create(company=company, kind=kind, bill=bill, customer=bill.customer, date=on,
                                   reason=reason, text=text.strip()[:300], place_of_supply=bill.place_of_supply,
                                   currency=bill.currency, taxable=t.taxable, cgst=t.cgst, sgst=t.sgst, igst=t.igst,
                                   round_off=t.round_off, total=t.total, created_by=who)
        NoteLine.objects.bulk_create([
            NoteLine(note=note, bill_line=bl, position=pos, item=bl.item, description=bl.description, hsn=bl.hsn,
                     is_service=bl.is_service, quantity=li.quantity, uom=bl.uom, rate=rate,
                     discount_pct=bl.discount_pct if reason in QTY_REASONS else ZERO, gross=p.gross,
                     discount=p.discount, taxable=p.taxable, gst_rate=bl.gst_rate, cgst=p.tax.cgst, sgst=p.tax.sgst,
                     igst=p.tax.igst)
            for pos, (bl, li, rate, p) in enumerate(priced_lines, 1)])
        audit_append_many([AuditEntry(who, "draft", "note", note.reference, company.pk, None, note.audit_state())])
    return note


@dataclass
class NoteRefusal:
    note: Note
    decision: CreditDecision


@dataclass
class NotesApproveResult:
    approved: list[Note] = field(default_factory=list)
    refused: list[NoteRefusal] = field(default_factory=list)


def notes_approve(*, company: Company, notes: list[Note], actor=None, override_reason: str = "",
                  as_of: date | None = None) -> NotesApproveResult:
    """Approve draft notes in one transaction: four-eyes, the credit check for debit notes, the next
    number of the kind's series, posted through the ledger (a credit note allocated to its invoice)."""
    require(actor, "billing.approve", "approve credit and debit notes")
    if override_reason and not can(actor, "credit.override"):
        raise PermissionDenied(f"{actor_name(actor)} may not override a credit hold (AR manager or admin only)")
    who = actor_name(actor)
    as_of = as_of or clock.today()
    result = NotesApproveResult()
    with transaction.atomic():
        company = Company.objects.select_for_update(no_key=True).get(pk=company.pk)
        settings = billing_settings(company)
        locked = list(Note.objects.select_for_update(of=("self",)).filter(company=company, pk__in=[n.pk for n in notes])
                      .select_related("customer", "bill", "bill__document").order_by("date", "pk"))
        pending: dict[int, Decimal] = defaultdict(Decimal)
        to_post: list[Note] = []
        audit: list[AuditEntry] = []
        for n in locked:
            if n.status != Note.DRAFT:
                raise DuesError(f"{n.label} is {n.status}, not a draft")
            if settings.four_eyes and _same_person(actor, n.created_by):
                raise PermissionDenied(f"{n.label}: four-eyes rule: {n.created_by} made this draft and may not "
                                       "approve it")
            if n.bill.document is None or n.bill.document.status != Document.POSTED:
                raise DuesError(f"{n.label}: its invoice {n.bill.label} is not a posted invoice any more")
            if n.kind == Note.DEBIT:
                decision = check(n.customer, n.total, as_of, pending=pending[n.customer_id],
                                 overdue_days_allowed=settings.overdue_days_allowed)
                if not decision.allowed and not override_reason:
                    n.held_reason = "; ".join(decision.reasons)[:500]
                    result.refused.append(NoteRefusal(n, decision))
                    continue
                if not decision.allowed:
                    audit.append(AuditEntry(who, "credit_override", "note", n.reference, company.pk, None,
                                            {"reason": override_reason, **decision.as_dict()}))
                    n.decision_reason = override_reason[:500]
                pending[n.customer_id] += n.total
            to_post.append(n)
        if result.refused:
            Note.objects.bulk_update([r.note for r in result.refused], ["held_reason"])
        if not to_post:
            audit_append_many(audit)
            return result
        for kind, prefix in ((Note.CREDIT, settings.credit_note_prefix), (Note.DEBIT, settings.debit_note_prefix)):
            take_numbers(company, prefix, [n for n in to_post if n.kind == kind])
        # what is left of each invoice: a credit note is allocated up to it, in date order
        left = dict(OpenItem.objects.filter(document_id__in={n.bill.document_id for n in to_post}, side="D",
                                            reversal_of__isnull=True).values_list("document_id", "residual"))
        lines_of: dict[int, list[NoteLine]] = defaultdict(list)
        for ln in NoteLine.objects.filter(note__in=to_post).order_by("note_id", "position"):
            lines_of[ln.note_id].append(ln)
        drafts = []
        for n in to_post:
            allocations, n.applied = (), ZERO
            if n.kind == Note.CREDIT:
                applied = min(n.total, left.get(n.bill.document_id, ZERO))
                if applied > 0:
                    allocations, n.applied = ((n.bill.number, applied),), applied
                    left[n.bill.document_id] -= applied
            drafts.append(DocumentDraft(
                kind=Document.CREDIT_NOTE if n.kind == Note.CREDIT else Document.DEBIT_NOTE, number=n.number,
                customer=n.customer, date=n.date, amount=n.total, place_of_supply=n.place_of_supply,
                reference=n.bill.number, allocations=allocations,
                description=f"{n.title} {n.number} against invoice {n.bill.number}: {n.reason_text}",
                lines=[LineDraft(description=ln.description, rate=ln.rate, quantity=ln.quantity, gst_rate=ln.gst_rate,
                                 hsn=ln.hsn, discount_pct=ln.discount_pct) for ln in lines_of[n.pk]]))
        post_approved(company, to_post, drafts, actor=actor, who=who, audit=audit, what="note",
                      reason_field="decision_reason")
        result.approved = to_post
    return result


def note_reject(*, note: Note, reason: str, actor=None) -> Note:
    """Reject a draft note: kept on record as rejected; what it would have credited is free again."""
    require(actor, "billing.approve", "reject credit and debit notes")
    if not reason.strip():
        raise DuesError("a rejection needs a reason")
    with transaction.atomic():
        note = Note.objects.select_for_update(of=("self",)).select_related("customer", "bill").get(pk=note.pk)
        if note.status != Note.DRAFT:
            raise DuesError(f"{note.label} is {note.status}, not a draft")
        if billing_settings(note.company).four_eyes and _same_person(actor, note.created_by):
            raise PermissionDenied(f"{note.label}: four-eyes rule: {note.created_by} made this draft and may not "
                                   "decide on it")
        before = note.audit_state()
        note.status, note.decision_reason = Note.REJECTED, reason.strip()[:500]
        note.decided_at, note.decided_by = clock.now(), actor_name(actor)
        note.save(update_fields=["status", "decision_reason", "decided_at", "decided_by"])
        audit_append_many([AuditEntry(actor_name(actor), "reject", "note", note.reference, note.company_id, before,
                                      {**note.audit_state(), "reason": note.decision_reason})])
    return note


def note_get(company: Company, ref: str) -> Note:
    """A note by its number (``CN/2627/0001``) or draft reference (``N-7``)."""
    qs = Note.objects.filter(company=company).select_related("customer", "bill", "document")
    found = qs.filter(number=ref).first()
    if found is None and ref.upper().startswith("N-") and ref[2:].isdigit():
        found = qs.filter(pk=int(ref[2:])).first()
    if found is None:
        raise DuesError(f"no credit or debit note {ref!r} (a note number, or a draft reference like N-7)")
    return found


def gst_document_get(company: Company, ref: str) -> Bill | Note:
    """A tax invoice (number or ``D-12``) or a credit/debit note (number or ``N-7``)."""
    from .services import bill_get

    try:
        return bill_get(company, ref)
    except DuesError:
        try:
            return note_get(company, ref)
        except DuesError:
            raise DuesError(f"no invoice or note {ref!r} (an invoice or note number, or a draft reference like "
                            "D-12 or N-7)") from None
