"""The billing queue: draft tax invoices — and draft credit/debit notes — awaiting approval, approve (or
override a credit hold) and reject with a reason, under the four-eyes rule; raise a note against an
approved invoice; the PDF of any bill or note."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from dues import clock
from dues.billing.models import Bill, Note
from dues.billing.notes import note_draft, note_reject, notes_approve, parse_line
from dues.billing.selectors import bills_list, irn_due, notes_list, unbilled_old
from dues.billing.services import bill_get, bill_reject, billing_settings, bills_approve
from dues.companies.models import Company
from dues.core.dates import parse_date
from dues.core.errors import DuesError, ValidationFailed
from dues.credit.services import check
from dues.customers.models import Customer
from dues.users.permissions import can, customers_visible

from .common import base_context, desk_view


def _visible(request: HttpRequest, company: Company):
    if can(request.user, "customers.view_all"):
        return None
    return customers_visible(request.user, Customer.objects.filter(company=company))


@desk_view
def billing_queue(request: HttpRequest, company: Company) -> HttpResponse:
    today = clock.today()
    settings = billing_settings(company)
    drafts = bills_list(company=company, status=Bill.DRAFT, customers=_visible(request, company))
    me = request.user.get_username()
    for b in drafts:
        b.credit = check(b.customer, b.total, today, exclude_bill=b,
                         overdue_days_allowed=settings.overdue_days_allowed)
        b.gst = b.cgst + b.sgst + b.igst
        b.own = settings.four_eyes and b.created_by.strip().lower() == me.strip().lower()
    recent = bills_list(company=company, status=None, customers=_visible(request, company))
    recent = [b for b in reversed(recent) if b.status != Bill.DRAFT][:20]
    draft_notes = notes_list(company=company, status=Note.DRAFT, customers=_visible(request, company))
    for n in draft_notes:
        n.credit = check(n.customer, n.total, today, overdue_days_allowed=settings.overdue_days_allowed) \
            if n.kind == Note.DEBIT else None
        n.gst = n.cgst + n.sgst + n.igst
        n.own = settings.four_eyes and n.created_by.strip().lower() == me.strip().lower()
    recent_notes = [n for n in reversed(notes_list(company=company, status=None, customers=_visible(request, company)))
                    if n.status != Note.DRAFT][:20]
    context = base_context(company, today, "", "billing")
    context.update({"draft_notes": draft_notes, "recent_notes": recent_notes, "note_reasons": Note.REASONS,
                    "note_invoice": request.GET.get("invoice", ""),
                    "irn_due": irn_due(company=company, today=today, settings=settings),
                    "unbilled_old": unbilled_old(company=company, today=today, settings=settings),
                    "irn_settings": settings, "irn_limit": ":", "drafts": drafts, "recent": recent, "settings": settings,
                    "may_approve": can(request.user, "billing.approve"),
                    "may_override": can(request.user, "credit.override")})
    return render(request, "web/billing/queue.html", context)


def _bill(company: Company, pk: int) -> Bill:
    bill = Bill.objects.filter(company=company, pk=pk).select_related("customer").first()
    if bill is None:
        raise Http404("no such bill")
    return bill


def _decide(request: HttpRequest, label: str, *, reject, approve, rejected: str, approved) -> HttpResponse:
    """The approve/reject POST both queues share: ``reject(reason)``; ``approve(override_reason)`` returns the
    approval result, whose first approved draft ``approved(done)`` words; a credit refusal is shown held."""
    action = request.POST.get("action", "")
    reason = request.POST.get("reason", "").strip()
    try:
        if action == "reject":
            reject(reason)
            messages.success(request, f"{label} rejected: {reason}.{rejected}")
        elif action == "approve":
            override = request.POST.get("override") == "1"
            if override and not reason:
                raise DuesError("Say why the credit hold is overridden.")
            result = approve(reason if override else "")
            if result.refused:
                messages.error(request, f"{label} held: " + "; ".join(result.refused[0].decision.reasons))
            else:
                messages.success(request, f"{label} approved as {approved(result.approved[0])}.")
        else:
            raise DuesError("approve or reject")
    except DuesError as exc:  # PermissionDenied (four-eyes) included: shown on the queue, nothing changed
        messages.error(request, _problems_text(exc))
    return redirect("web:billing")


@desk_view
def billing_decide(request: HttpRequest, company: Company, pk: int) -> HttpResponse:
    """POST: approve (``action=approve``, with ``override`` and a ``reason`` on a credit hold) or reject."""
    if request.method != "POST":
        return redirect("web:billing")
    bill = _bill(company, pk)
    return _decide(request, f"Draft {bill.reference}",
                   reject=lambda reason: bill_reject(bill=bill, reason=reason, actor=request.user),
                   approve=lambda why: bills_approve(company=company, bills=[bill], actor=request.user,
                                                     override_reason=why),
                   rejected=" Its deliveries are unbilled again.",
                   approved=lambda done: f"tax invoice {done.number}")


@desk_view
def billing_pdf(request: HttpRequest, company: Company, pk: int) -> HttpResponse:
    from dues.documents.tax_invoice import render_tax_invoice

    bill = _bill(company, pk)
    visible = _visible(request, company)
    if visible is not None and not visible.filter(pk=bill.customer_id).exists():
        raise Http404("no such bill")
    name = (bill.number or bill.reference).replace("/", "-")
    response = HttpResponse(render_tax_invoice(company, bill), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="tax-invoice-{name}.pdf"'
    return response


def _problems_text(exc: DuesError) -> str:
    if isinstance(exc, ValidationFailed):
        return "; ".join(str(p) for p in exc.problems)
    return str(exc)


@desk_view
def billing_note_raise(request: HttpRequest, company: Company) -> HttpResponse:
    """POST: a draft credit or debit note against an approved invoice; lines ``ITEM:QTY[:RATE]``, one a line."""
    if request.method != "POST":
        return redirect("web:billing")
    p = request.POST
    try:
        bill = bill_get(company, p.get("invoice", "").strip())
        visible = _visible(request, company)
        if visible is not None and not visible.filter(pk=bill.customer_id).exists():
            raise DuesError(f"no bill {bill.label!r}")
        lines = [parse_line(x) for x in p.get("lines", "").splitlines() if x.strip()]
        note = note_draft(company=company, bill=bill, kind=p.get("kind", ""), reason=p.get("reason", ""),
                          text=p.get("text", ""), lines=lines,
                          on=parse_date(p["date"]) if p.get("date", "").strip() else None, actor=request.user)
        messages.success(request, f"Draft {note.title.lower()} {note.reference} against {bill.number} "
                                  f"({note.total:,.2f}) is awaiting approval.")
    except DuesError as exc:  # PermissionDenied (four-eyes) included: shown on the queue, nothing changed
        messages.error(request, _problems_text(exc))
    return redirect("web:billing")


def _note(company: Company, pk: int) -> Note:
    note = Note.objects.filter(company=company, pk=pk).select_related("customer", "bill").first()
    if note is None:
        raise Http404("no such note")
    return note


@desk_view
def billing_note_decide(request: HttpRequest, company: Company, pk: int) -> HttpResponse:
    """POST: approve a draft note (``override`` + ``reason`` for a debit note held on credit) or reject it."""
    if request.method != "POST":
        return redirect("web:billing")
    note = _note(company, pk)
    return _decide(request, f"Draft note {note.reference}",
                   reject=lambda reason: note_reject(note=note, reason=reason, actor=request.user),
                   approve=lambda why: notes_approve(company=company, notes=[note], actor=request.user,
                                                     override_reason=why),
                   rejected="",
                   approved=lambda done: f"{done.title.lower()} {done.number} against {done.bill.number}")


@desk_view
def billing_note_pdf(request: HttpRequest, company: Company, pk: int) -> HttpResponse:
    from dues.documents.tax_invoice import render_tax_invoice

    note = _note(company, pk)
    visible = _visible(request, company)
    if visible is not None and not visible.filter(pk=note.customer_id).exists():
        raise Http404("no such note")
    name = (note.number or note.reference).replace("/", "-")
    response = HttpResponse(render_tax_invoice(company, note), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{note.kind}-note-{name}.pdf"'
    return response
