"""Accepting or dismissing what a customer's reply suggests (from the customer page or My day)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from dues.collections.models import ReplySuggestion
from dues.collections.services.replies import suggestion_accept, suggestion_dismiss
from dues.companies.models import Company
from dues.core.dates import parse_date
from dues.core.errors import ValidationFailed
from dues.core.money import MoneyError, parse_amount
from dues.users.permissions import require_customer

from .common import desk_view


def _back(request: HttpRequest, suggestion: ReplySuggestion) -> HttpResponse:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = reverse("web:customer", args=[suggestion.customer.code])
    return redirect(target)


def _suggestion(request: HttpRequest, company: Company, pk: int) -> ReplySuggestion:
    found = get_object_or_404(ReplySuggestion.objects.select_related("customer"), company=company, pk=pk)
    require_customer(request.user, found.customer)
    return found


@desk_view
def reply_accept(request: HttpRequest, company: Company, pk: int) -> HttpResponse:
    suggestion = _suggestion(request, company, pk)
    if request.method != "POST":
        return _back(request, suggestion)
    who = suggestion.customer.code
    try:
        amount = parse_amount(request.POST["amount"]) if request.POST.get("amount", "").strip() else None
        on = parse_date(request.POST["date"]) if request.POST.get("date", "").strip() else None
        row = suggestion_accept(suggestion=suggestion, actor=request.user, amount=amount, on=on,
                                invoice=request.POST.get("invoice", "").strip())
    except ValidationFailed as exc:
        messages.error(request, f"{who}: " + "; ".join(p.message for p in exc.problems))
    except (MoneyError, ValueError) as exc:
        messages.error(request, f"{who}: {exc}")
    else:
        messages.success(request, f"{who}: {row.result}")
    return _back(request, suggestion)


@desk_view
def reply_dismiss(request: HttpRequest, company: Company, pk: int) -> HttpResponse:
    suggestion = _suggestion(request, company, pk)
    if request.method == "POST":
        try:
            suggestion_dismiss(suggestion=suggestion, actor=request.user)
        except ValidationFailed as exc:
            messages.error(request, "; ".join(p.message for p in exc.problems))
        else:
            messages.success(request, f"{suggestion.customer.code}: suggestion dismissed")
    return _back(request, suggestion)
