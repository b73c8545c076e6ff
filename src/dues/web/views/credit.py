"""Credit control at the desk: hold / release a customer (from its page) and the credit review list."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from dues import clock
from dues.companies.models import Company
from dues.core.dates import parse_date
from dues.core.errors import DuesError
from dues.credit.holds import hold_place, hold_release, limit_review_decide
from dues.credit.selectors import NEAR, review_candidates, review_details
from dues.customers.models import Customer
from dues.users.permissions import customers_visible, require_customer

from .common import base_context, desk_view, paginate


@desk_view
def customer_credit_hold(request: HttpRequest, company: Company, code: str) -> HttpResponse:
    """POST action=hold (reason) or action=release (reason, until); back to the customer's page.
    The services check the role (credit.hold to place, credit.override to release)."""
    customer = get_object_or_404(Customer, company=company, code=code)
    require_customer(request.user, customer)
    back = reverse("web:customer", args=[customer.code])
    if request.method != "POST":
        return redirect(back)
    reason = request.POST.get("reason", "")
    try:
        if request.POST.get("action") == "release":
            text = request.POST.get("until", "").strip()
            if not text:
                raise DuesError("release until: a date is required")
            hold = hold_release(customer=customer, reason=reason, until=parse_date(text), actor=request.user)
            messages.success(request, f"Hold released until {hold.release_until:%d-%m-%Y}.")
        else:
            hold_place(customer=customer, reason=reason, actor=request.user)
            messages.success(request, "Customer put on credit hold; the salesperson is told.")
    except (DuesError, ValueError) as exc:
        messages.error(request, str(exc))
    return redirect(back)


@desk_view
def credit_review(request: HttpRequest, company: Company) -> HttpResponse:
    """Customers using 80 % or more of their limit; approve (the limit changes) or reject a suggestion."""
    if request.method == "POST":
        customer = get_object_or_404(Customer, company=company, code=request.POST.get("customer", ""))
        approve = request.POST.get("decision") == "approve"
        try:
            limit_review_decide(customer=customer, approve=approve, new_limit=request.POST.get("limit", ""),
                                actor=request.user, note=request.POST.get("note", ""))
            messages.success(request, f"{customer.code}: credit limit changed." if approve
                             else f"{customer.code}: suggestion rejected.")
        except DuesError as exc:
            messages.error(request, str(exc))
        return redirect("web:credit_review")
    today = clock.today()
    candidates = review_candidates(company, today,
                                   customers=customers_visible(request.user, Customer.objects.filter(company=company)))
    context = base_context(company, today, "", "customers")
    context.update(paginate(request, candidates))
    rows = review_details(company, today, list(context["page"].object_list))
    context.update({"rows": rows, "total": len(candidates), "near": int(NEAR * 100),
                    "months": [d for d, _ in rows[0].trend] if rows else [], "hundred": Decimal(100)})
    return render(request, "web/credit_review.html", context)
