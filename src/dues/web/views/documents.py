"""Invoices, receipts and credit notes: the filtered lists, one document's page, and cancelling it."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from dues import clock
from dues.attachments.models import Attachment
from dues.attachments.selectors import proofs_for_document
from dues.companies.models import Company
from dues.core.dates import parse_date
from dues.core.errors import AlreadyCancelledError, ClosedPeriodError, DuesError, PermissionDenied
from dues.core.states import GST_STATES
from dues.customers.models import Customer
from dues.formats import format_day
from dues.ledger.models import Document
from dues.ledger.selectors import (
    CREDIT_STATUSES,
    DEBIT_STATUSES,
    STATUS_WORDS,
    DocumentFilter,
    document_list,
    document_page,
    document_totals,
    page_ids,
)
from dues.ledger.services import document_cancel
from dues.users.permissions import can, customers_visible, require_customer, require_post

from ..selectors import audit_trail
from .common import PAGE_SIZE, base_context, desk_view

LIST_TITLES = {"invoices": "Invoices", "receipts": "Receipts", "credit_notes": "Credit notes"}
KIND_LIST = {"invoice": "invoices", "debit_note": "invoices", "opening": "invoices", "receipt": "receipts",
             "credit_note": "credit_notes", "write_off": "receipts"}
SORT_KEYS = {"invoices": ("date", "due", "amount"), "receipts": ("date", "amount"), "credit_notes": ("date", "amount")}
TRUE = {"1", "on", "true", "yes"}


def _date_param(request: HttpRequest, name: str, errors: dict) -> date | None:
    text = request.GET.get(name, "").strip()
    if not text:
        return None
    try:
        return parse_date(text)
    except ValueError:
        errors[name] = f"“{text}” is not a date (use YYYY-MM-DD)"
        return None


def _visible_customers(request: HttpRequest, company: Company):
    """None when the user reads every customer; else the queryset of the customers they may read."""
    if can(request.user, "customers.view_all"):
        return None
    return customers_visible(request.user, Customer.objects.filter(company=company))


def _sort_links(which: str, current: str) -> dict:
    """For each sortable column: the ``sort`` value its header links to and its ``aria-sort`` now."""
    links = {}
    for key in SORT_KEYS[which]:
        if current == key:
            links[key] = {"next": f"-{key}", "aria": "ascending", "arrow": "▲"}
        elif current == f"-{key}":
            links[key] = {"next": key, "aria": "descending", "arrow": "▼"}
        else:
            links[key] = {"next": f"-{key}" if key != "due" else key, "aria": "", "arrow": ""}
    return links


def _paginate(request: HttpRequest, rows, count: int) -> dict:
    """``paginate`` with the count already known from the totals (one COUNT over a large book, not two)."""
    paginator = Paginator(rows, PAGE_SIZE)
    paginator.count = count  # a cached_property: set, it is not queried again
    page = paginator.get_page(request.GET.get("page"))
    return {"page": page,
            "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)}


def _list(request: HttpRequest, company: Company, which: str) -> HttpResponse:
    today = clock.today()
    errors: dict[str, str] = {}
    statuses = DEBIT_STATUSES if which == "invoices" else CREDIT_STATUSES
    status_param = request.GET.get("status", "").strip()
    overdue = which == "invoices" and request.GET.get("overdue", "").strip().lower() in TRUE
    if which == "invoices" and status_param == "overdue":  # ?status=overdue reads as "overdue only"
        status_param, overdue = "", True
    if status_param and status_param not in statuses:
        errors["status"] = f"unknown status “{status_param}”"
    sort = request.GET.get("sort", "").strip() or "-date"
    if sort.lstrip("-") not in SORT_KEYS[which]:
        sort = "-date"
    filters = DocumentFilter(
        customer=request.GET.get("customer", "").strip(), number=request.GET.get("q", "").strip(),
        date_from=_date_param(request, "from", errors), date_to=_date_param(request, "to", errors),
        status=statuses.get(status_param, ""),
        overdue=overdue, sort=sort)
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        errors["to"] = "is before the “from” date"
    search = document_list(company=company, which=which, filters=filters,
                           customers=_visible_customers(request, company), today=today)
    totals = document_totals(search.matching, company=company, cache_key=f"{company.pk}:{today.isoformat()}")
    context = base_context(company, today, "", which)
    if search.by_item:  # found through the open items: page their ids (kept), then read the page by id
        ids = page_ids(search, cache_key=f"{company.pk}:{today.isoformat()}")
        context.update(_paginate(request, ids, len(ids)))
        rows = list(search.rows.filter(pk__in=list(context["page"].object_list)))
    else:
        context.update(_paginate(request, search.rows, totals.count))
        rows = list(context["page"].object_list)
    side = "D" if which == "invoices" else "C"
    for d in rows:
        d.status_label = STATUS_WORDS[d.side].get(d.status_code, d.status_code)
        d.days_overdue = ((today - d.due_date).days if d.side == "D" and d.due_date and d.outstanding > 0
                          and d.status == Document.POSTED and d.due_date < today else 0)
    filtered = any([filters.customer, filters.number, filters.date_from, filters.date_to, status_param,
                    filters.overdue])
    context.update({
        "which": which, "title": LIST_TITLES[which], "rows": rows, "totals": totals,
        "errors": errors, "filtered": filtered, "status_choices": [(k, STATUS_WORDS[side][v]) for k, v in statuses.items()],
        "f": {"customer": filters.customer, "q": filters.number, "from": request.GET.get("from", "").strip(),
              "to": request.GET.get("to", "").strip(), "status": status_param, "overdue": filters.overdue},
        "sort": sort, "sorts": _sort_links(which, sort), "today": today,
    })
    return render(request, "web/documents/list.html", context)


@desk_view
def invoice_list(request: HttpRequest, company: Company) -> HttpResponse:
    return _list(request, company, "invoices")


@desk_view
def receipt_list(request: HttpRequest, company: Company) -> HttpResponse:
    return _list(request, company, "receipts")


@desk_view
def credit_note_list(request: HttpRequest, company: Company) -> HttpResponse:
    return _list(request, company, "credit_notes")


def _document(request: HttpRequest, company: Company, kind: str, number: str) -> Document:
    if kind not in dict(Document.KINDS):
        raise Http404(f"no kind of document called {kind}")
    document = (Document.objects.select_related("customer").filter(company=company, kind=kind, number=number)
                .first())
    if document is None:
        raise Http404(f"no {kind.replace('_', ' ')} {number}")
    require_customer(request.user, document.customer)
    return document


def _may_cancel(user, document: Document) -> bool:
    if document.status != Document.POSTED:
        return False
    try:
        require_post(user, document.kind)
    except PermissionDenied:
        return False
    return True


def _render_document(request: HttpRequest, company: Company, document: Document, *, form: dict | None = None,
                     errors: dict | None = None, proof_error: str = "", status: int = 200) -> HttpResponse:
    today = clock.today()
    context = base_context(company, today, "", KIND_LIST.get(document.kind, "invoices"))
    page = document_page(document=document)
    context.update({
        "d": document, "p": page, "list_url": f"web:{KIND_LIST.get(document.kind, 'invoices')}",
        "list_title": LIST_TITLES[KIND_LIST.get(document.kind, "invoices")],
        "state_name": GST_STATES.get(document.place_of_supply, ""),
        "days_overdue": ((today - document.due_date).days if page.item and page.item.side == "D"
                         and page.item.residual > 0 and document.due_date and document.due_date < today
                         and document.status == Document.POSTED else 0),
        "audit": audit_trail(object_type=document.kind, object_id=document.number, limit=20),
        "may_cancel": _may_cancel(request.user, document),
        "form": form or {"on": today.isoformat(), "reason": ""}, "errors": errors or {},
        "proofs": proofs_for_document(document) if document.side == "D" else [], "proof_error": proof_error,
        "proof_kinds": Attachment.KINDS, "may_attach": document.side == "D" and can(request.user, "attachments.add"),
    })
    return render(request, "web/documents/detail.html", context, status=status)


@desk_view
def document_detail(request: HttpRequest, company: Company, kind: str, number: str) -> HttpResponse:
    return _render_document(request, company, _document(request, company, kind, number))


@desk_view
def document_cancel_view(request: HttpRequest, company: Company, kind: str, number: str) -> HttpResponse:
    """POST: cancel by reversal. A GET here is a document whose number ends in /cancel, or a wrong turn."""
    if request.method != "POST":
        if Document.objects.filter(company=company, kind=kind, number=f"{number}/cancel").exists():
            return _render_document(request, company, _document(request, company, kind, f"{number}/cancel"))
        return redirect("web:document", kind=kind, number=number)
    document = _document(request, company, kind, number)
    require_post(request.user, document.kind)  # refused: the 403 page, nothing changed
    form = {"on": request.POST.get("on", "").strip(), "reason": request.POST.get("reason", "").strip()}
    errors: dict[str, str] = {}
    on = None
    if not form["on"]:
        errors["on"] = "Give the date of the cancellation."
    else:
        try:
            on = parse_date(form["on"])
        except ValueError:
            errors["on"] = f"“{form['on']}” is not a date (use YYYY-MM-DD)."
    if not form["reason"]:
        errors["reason"] = "Say why the document is cancelled."
    if not errors:
        try:
            document_cancel(document=document, on=on, reason=form["reason"], actor=request.user)
        except PermissionDenied:
            raise
        except AlreadyCancelledError as exc:
            errors["form"] = str(exc)
        except ClosedPeriodError as exc:
            errors["on"] = str(exc)
        except DuesError as exc:
            errors["on" if "date" in str(exc) else "form"] = str(exc)
        else:
            messages.success(request, f"{document.get_kind_display().capitalize()} {document.number} cancelled "
                                      f"on {format_day(on)}: the reversal is posted.")
            return redirect(reverse("web:document", kwargs={"kind": document.kind, "number": document.number}))
    document.refresh_from_db()
    return _render_document(request, company, document, form=form, errors=errors, status=400)
