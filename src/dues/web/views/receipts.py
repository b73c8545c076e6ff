"""Receipt entry and allocation: post a receipt with its allocations, allocate on-account money later,
undo an allocation (a reversing allocation, with a reason).

The pages work without JavaScript (every button is a real submit); with HTMX the customer's open
invoices, the "oldest first" fill and the running allocated / on-account figure are swapped in
place from the same views (``_partial=panel|summary``), so the figures are always exact Decimals
computed on the server.
"""

from __future__ import annotations

import re

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from dues import clock
from dues.companies.models import Company
from dues.core.errors import ClosedPeriodError, DuesError, PermissionDenied, ValidationFailed
from dues.core.money import ZERO
from dues.formats import format_money
from dues.ledger.models import Allocation, Document, OpenItem
from dues.ledger.services import DocumentDraft, allocation_reverse, allocations_create, document_post
from dues.users.permissions import require_customer

from ..receipt_forms import AllocateForm, AllocationRows, ReceiptForm, lenient_total
from ..receipt_selectors import (
    active_allocations,
    credit_item,
    customer_suggestions,
    next_receipt_number,
    open_debits,
    visible_customer,
)
from .common import base_context, desk_view, paginate

HEADER_FIELDS = {"number", "date", "amount", "mode", "reference", "tds", "charges", "discount", "customer"}


def _panel_context(company: Company, customer, rows: AllocationRows, total: int, post_url: str,
                   choose_customer: bool = False) -> dict:
    return {"customer": customer, "alloc": rows, "open_total": total, "post_url": post_url,
            "choose_customer": choose_customer, "company": company}


def _partial(request: HttpRequest, context: dict) -> HttpResponse | None:
    which = request.POST.get("_partial") or request.GET.get("_partial")
    if which == "panel":
        return render(request, "web/receipts/_allocation_panel.html", context)
    if which == "summary":
        return render(request, "web/receipts/_allocation_summary.html", context)
    return None


def _row_for_message(rows: AllocationRows, message: str) -> int | None:
    """The open item whose document number the service's message names (whole number, not a prefix)."""
    for r in rows.rows:
        if re.search(rf"(?<![\w/-]){re.escape(r.item.document.number)}(?![\w/-])", message):
            return r.item.pk
    return None


# ---- a new receipt -------------------------------------------------------------------------------

@desk_view
def receipt_new(request: HttpRequest, company: Company) -> HttpResponse:
    today = clock.today()
    post_url = reverse("web:receipt_new")
    if request.method == "POST":
        data = request.POST
        customer = visible_customer(user=request.user, company=company, code=data.get("customer", ""))
        form = ReceiptForm(data, company=company, customer=customer)
    else:
        data = None
        code = request.GET.get("customer", "")
        customer = visible_customer(user=request.user, company=company, code=code)
        form = ReceiptForm(initial={"customer": customer.code if customer else code, "date": today, "mode": "neft",
                                    "number": next_receipt_number(company=company)},
                           company=company, customer=customer)
    fill = data.get("_fill", "") if data is not None else ""
    items, open_total = open_debits(company=company, customer=customer) if customer else ([], 0)
    rows = AllocationRows(items, lenient_total(data or {}), company.currency, data=data, fill=fill)
    context = base_context(company, today, "", "receipts")
    context.update(_panel_context(company, customer, rows, open_total, post_url, choose_customer=True))
    context.update({"form": form, "top_errors": []})

    if data is not None and (response := _partial(request, context)):
        return response
    if data is not None and not fill:
        if form.is_valid() and rows.valid:
            d = form.cleaned_data
            draft = DocumentDraft(kind=Document.RECEIPT, number=d["number"], customer=customer, date=d["date"],
                                  amount=d["amount"], mode=d["mode"], reference=d["reference"].strip(),
                                  tds=d["tds"] or ZERO, charges=d["charges"] or ZERO, discount=d["discount"] or ZERO,
                                  allocations=[(r.item.document.number, r.amount) for r in rows.chosen])
            try:
                document = document_post(draft, company=company, actor=request.user)
            except ValidationFailed as exc:
                _show_problems(exc, form, rows, context)
            except PermissionDenied:
                raise
            except DuesError as exc:
                context["top_errors"].append(str(exc))
            else:
                allocated = rows.allocated
                left = document.total_credit - allocated
                n = len(rows.chosen)
                messages.success(request, f"Receipt {document.number} posted: {format_money(allocated)} allocated "
                                          f"to {n} invoice{'s' if n != 1 else ''}, {format_money(left)} on account.")
                return redirect(_credit_url(document))
        context["failed"] = True
        return render(request, "web/receipts/new.html", context, status=400)
    return render(request, "web/receipts/new.html", context)


def _show_problems(exc: ValidationFailed, form, rows: AllocationRows, context: dict) -> None:
    for problem in exc.problems:
        if problem.field in HEADER_FIELDS and problem.field in form.fields:
            form.add_error(problem.field, problem.message)
        elif problem.field == "allocations" and (pk := _row_for_message(rows, problem.message)):
            rows.error_for(pk, problem.message)
        else:
            context["top_errors"].append(problem.message)


def _credit_url(document: Document) -> str:
    return reverse("web:allocate", kwargs={"kind": document.kind, "number": document.number})


def _document_url(document: Document) -> str:
    try:
        return reverse("web:document", kwargs={"kind": document.kind, "number": document.number})
    except NoReverseMatch:
        return ""


@desk_view
def customer_options(request: HttpRequest, company: Company) -> HttpResponse:
    """``<option>``s for the customer field's datalist (HTMX, as the person types)."""
    text = request.GET.get("customer", "") or request.GET.get("q", "")
    found = customer_suggestions(user=request.user, company=company, text=text)
    return render(request, "web/receipts/_customer_options.html", {"customers": found})


# ---- allocating an existing credit -----------------------------------------------------------------

def _credit(company: Company, user, kind: str, number: str) -> tuple[Document, OpenItem | None]:
    document = Document.objects.select_related("customer").filter(company=company, kind=kind, number=number).first()
    if document is None or document.side != "C":
        raise Http404(f"no receipt or credit note {number}")
    require_customer(user, document.customer)
    return document, credit_item(document)


def _allocate_page(request: HttpRequest, company: Company, document: Document, item: OpenItem | None, *,
                   form: AllocateForm, rows: AllocationRows | None, open_total: int, top_errors: list[str],
                   undo_errors: dict[int, str] | None = None, status: int = 200) -> HttpResponse:
    today = clock.today()
    context = base_context(company, today, "", "receipts")
    post_url = _credit_url(document)
    can_allocate = bool(item and document.status == Document.POSTED and item.residual > 0)
    if rows is None:
        rows = AllocationRows([], item.residual if item else 0, company.currency)
    context.update(_panel_context(company, document.customer, rows, open_total, post_url))
    allocations = paginate(request, active_allocations(item)) if item else {"page": None, "page_range": []}
    context.update({"document": document, "item": item, "form": form, "top_errors": top_errors,
                    "top_title": "The allocation was not undone." if undo_errors else "Nothing was allocated.",
                    "can_allocate": can_allocate, "undo_errors": undo_errors or {},
                    "document_url": _document_url(document),
                    "new_receipt_url": f"{reverse('web:receipt_new')}?customer={document.customer.code}"})
    if allocations["page"] is not None:
        page = allocations["page"]
        page.object_list = list(page.object_list)
        for a in page.object_list:
            a.undo_error = (undo_errors or {}).get(a.pk, "")
        shown = {a.pk for a in page.object_list}
        top_errors += [m for pk, m in (undo_errors or {}).items() if pk not in shown]
    else:
        top_errors += list((undo_errors or {}).values())
    context.update(allocations)
    context["allocated_total"] = item.amount - item.residual if item else ZERO
    context["failed"] = status >= 400
    return render(request, "web/receipts/allocate.html", context, status=status)


@desk_view
def allocate(request: HttpRequest, company: Company, kind: str, number: str) -> HttpResponse:
    document, item = _credit(company, request.user, kind, number)
    live = bool(item and document.status == Document.POSTED and item.residual > 0)
    data = request.POST if request.method == "POST" else None
    fill = data.get("_fill", "") if data is not None else ""
    if live:
        items, open_total = open_debits(company=company, customer=document.customer)
        rows = AllocationRows(items, item.residual, company.currency, data=data, fill=fill)
    else:
        items, open_total, rows = [], 0, None
    form = AllocateForm(data) if data is not None else AllocateForm(initial={"on": clock.today()})
    top_errors: list[str] = []
    if data is not None and rows is not None:
        context = _panel_context(company, document.customer, rows, open_total, _credit_url(document))
        if response := _partial(request, context):
            return response
    if data is None or fill:
        return _allocate_page(request, company, document, item, form=form, rows=rows, open_total=open_total,
                              top_errors=top_errors)
    if not live:
        top_errors.append(f"{document} has nothing left to allocate.")
    elif form.is_valid() and rows.valid:
        if not rows.chosen:
            rows.summary_error = "Type an amount against at least one invoice, or use “Oldest first”."
        else:
            chosen = rows.chosen
            try:
                made = allocations_create(credit_item=item, targets=[(r.item, r.amount) for r in chosen],
                                          on=form.cleaned_data["on"], reason=form.cleaned_data["reason"].strip(),
                                          actor=request.user)
            except ValidationFailed as exc:
                for problem in exc.problems:
                    if problem.row and 0 < problem.row <= len(chosen):
                        rows.error_for(chosen[problem.row - 1].item.pk, problem.message)
                    else:
                        top_errors.append(problem.message)
            except PermissionDenied:
                raise
            except ClosedPeriodError as exc:
                form.add_error("on", str(exc))
            except DuesError as exc:
                top_errors.append(str(exc))
            else:
                total = sum((a.amount for a in made), ZERO)
                item.refresh_from_db(fields=["residual"])
                messages.success(request, f"Allocated {format_money(total)} from {document.number} to "
                                          f"{len(made)} invoice{'s' if len(made) != 1 else ''}; "
                                          f"{format_money(item.residual)} left on account.")
                return redirect(_credit_url(document))
    return _allocate_page(request, company, document, item, form=form, rows=rows, open_total=open_total,
                          top_errors=top_errors, status=400)


@require_POST
@desk_view
def allocation_undo(request: HttpRequest, company: Company, pk: int) -> HttpResponse:
    allocation = get_object_or_404(Allocation.objects.select_related("credit_item__document__customer"),
                                   pk=pk, company=company)
    document = allocation.credit_item.document
    require_customer(request.user, document.customer)
    reason = request.POST.get("reason", "").strip()
    try:
        if not reason:
            raise DuesError("Say why the allocation is undone.")
        allocation_reverse(allocation=allocation, on=clock.today(), reason=reason, actor=request.user)
    except PermissionDenied:
        raise
    except DuesError as exc:
        item = credit_item(document)
        live = bool(item and document.status == Document.POSTED and item.residual > 0)
        items, open_total = open_debits(company=company, customer=document.customer) if live else ([], 0)
        rows = AllocationRows(items, item.residual, company.currency) if live else None
        return _allocate_page(request, company, document, item, form=AllocateForm(initial={"on": clock.today()}),
                              rows=rows, open_total=open_total, top_errors=[], undo_errors={pk: str(exc)},
                              status=400)
    messages.success(request, f"Undid the allocation of {format_money(allocation.amount)} from {document.number} "
                              f"to {allocation.debit_item.document.number}.")
    return redirect(_credit_url(document))
