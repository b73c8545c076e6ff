"""Customers: the searchable, sortable list and the one-screen customer page."""

from __future__ import annotations

from datetime import date

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, reverse

from dues.companies.models import Company
from dues.core.dates import parse_date
from dues.core.states import GST_STATES
from dues.customers.models import Customer
from dues.ledger.models import Document
from dues.users.permissions import customers_visible, require_customer

from ..selectors import (
    SORTS,
    audit_trail,
    balances_by_customer,
    customer_position,
    customer_statement,
    customers_ordered,
    fiscal_period,
    recent_documents,
)
from .common import as_of_param, base_context, desk_view, paginate

#: list columns a user may sort by, and whether a click sorts high-to-low first
SORTABLE = {"code": False, "name": False, "outstanding": True, "overdue": True, "credit_use": True, "collector": False}


def _sort_param(request: HttpRequest) -> tuple[str, bool]:
    """``?sort=overdue`` or ``?sort=-overdue``; code ascending by default or when unknown."""
    text = request.GET.get("sort", "").strip()
    descending = text.startswith("-")
    key = text.lstrip("-")
    if key not in SORTS:
        return "code", False
    return key, descending


@desk_view
def customer_list(request: HttpRequest, company: Company) -> HttpResponse:
    as_of, error = as_of_param(request)
    q = request.GET.get("q", "").strip()
    sort, descending = _sort_param(request)
    customers = customers_visible(request.user, Customer.objects.filter(company=company))
    if q:
        customers = customers.filter(Q(code__icontains=q) | Q(name__icontains=q) | Q(gstin__icontains=q))
    ordered = customers_ordered(company=company, as_of=as_of, customers=customers, sort=sort, descending=descending)
    context = base_context(company, as_of, error, "customers")
    context.update(paginate(request, ordered))
    page = list(context["page"].object_list)
    balances = balances_by_customer(company=company, as_of=as_of, customers=page)
    rows = []
    for c in page:
        b = balances.get(c.code)
        c.credit_use = (max(b.outstanding if b else 0, 0) * 100 / c.credit_limit) if c.credit_limit else None
        rows.append((c, b))
    context.update({
        "q": q, "sort": sort, "descending": descending, "rows": rows,
        "sort_links": {key: ("-" if (key == sort and not descending) or (key != sort and first_desc) else "") + key
                       for key, first_desc in SORTABLE.items()},
    })
    return render(request, "web/customers.html", context)


def _period(request: HttpRequest, company: Company, as_of: date) -> tuple[date, date, dict[str, str]]:
    """The statement period from ``?from=&to=``; the fiscal year to the as-of date by default."""
    start, end = fiscal_period(company, as_of)
    errors: dict[str, str] = {}
    for name in ("from", "to"):
        text = request.GET.get(name, "").strip()
        if not text:
            continue
        try:
            value = parse_date(text)
        except ValueError:
            errors[name] = f"“{text}” is not a date (use YYYY-MM-DD)."
            continue
        if name == "from":
            start = value
        else:
            end = value
    if start > end:
        errors["to"] = "The period ends before it starts."
        start, end = fiscal_period(company, as_of)
    return start, end, errors


def _receipt_new_url(code: str) -> str:
    try:
        return f"{reverse('web:receipt_new')}?customer={code}"
    except NoReverseMatch:
        return f"/receipts/new/?customer={code}"


@desk_view
def customer_detail(request: HttpRequest, company: Company, code: str) -> HttpResponse:
    as_of, error = as_of_param(request)
    customer = get_object_or_404(Customer, company=company, code=code)
    require_customer(request.user, customer)
    start, end, period_errors = _period(request, company, as_of)
    context = base_context(company, as_of, error, "customers")
    context.update({
        "customer": customer,
        "state_name": GST_STATES.get(customer.state_code, ""),
        "contacts": list(customer.contacts.order_by("name")),
        "position": customer_position(company=company, customer=customer, as_of=as_of),
        "statement": customer_statement(company=company, customer=customer, start=start, end=end),
        "period_errors": period_errors,
        "period_from": request.GET.get("from", "").strip() if period_errors.get("from") else start.isoformat(),
        "period_to": request.GET.get("to", "").strip() if period_errors.get("to") else end.isoformat(),
        "receipts": recent_documents(company=company, customer=customer, kinds=[Document.RECEIPT], as_of=as_of),
        "credit_notes": recent_documents(company=company, customer=customer, kinds=[Document.CREDIT_NOTE],
                                         as_of=as_of),
        "receipt_new_url": _receipt_new_url(customer.code),
        "audit": audit_trail(object_type="customer", object_id=customer.code, limit=20),
    })
    return render(request, "web/customer.html", context)
