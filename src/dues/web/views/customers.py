"""Customers: the searchable list and the one-screen customer page."""

from __future__ import annotations

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from dues.companies.models import Company
from dues.core.states import GST_STATES
from dues.customers.models import Customer
from dues.users.permissions import customers_visible, require_customer

from ..selectors import audit_trail, balances_by_customer, customer_position
from .common import as_of_param, base_context, desk_view, paginate


@desk_view
def customer_list(request: HttpRequest, company: Company) -> HttpResponse:
    as_of, error = as_of_param(request)
    q = request.GET.get("q", "").strip()
    customers = customers_visible(request.user, Customer.objects.filter(company=company)).order_by("code")
    if q:
        customers = customers.filter(Q(code__icontains=q) | Q(name__icontains=q))
    context = base_context(company, as_of, error, "customers")
    context.update(paginate(request, customers))
    page = context["page"]
    balances = balances_by_customer(company=company, as_of=as_of, customers=list(page.object_list))
    context.update({"q": q, "rows": [(c, balances.get(c.code)) for c in page.object_list]})
    return render(request, "web/customers.html", context)


@desk_view
def customer_detail(request: HttpRequest, company: Company, code: str) -> HttpResponse:
    as_of, error = as_of_param(request)
    customer = get_object_or_404(Customer, company=company, code=code)
    require_customer(request.user, customer)
    context = base_context(company, as_of, error, "customers")
    context.update({
        "customer": customer,
        "state_name": GST_STATES.get(customer.state_code, ""),
        "contacts": list(customer.contacts.order_by("name")),
        "position": customer_position(company=company, customer=customer, as_of=as_of),
        "audit": audit_trail(object_type="customer", object_id=customer.code, limit=20),
    })
    return render(request, "web/customer.html", context)
