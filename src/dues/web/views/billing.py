"""The billing queue: draft tax invoices awaiting approval, approve (or override a credit hold) and
reject with a reason, under the four-eyes rule; the tax invoice PDF of any bill."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from dues import clock
from dues.billing.models import Bill
from dues.billing.selectors import bills_list, irn_due, unbilled_old
from dues.billing.services import bill_reject, billing_settings, bills_approve
from dues.companies.models import Company
from dues.core.errors import DuesError, PermissionDenied
from dues.credit.services import check
from dues.customers.models import Customer
from dues.users.permissions import can, customers_visible

from .common import base_context, desk_view


def _visible(request: HttpRequest, company: Company):
    if can(request.user, "customers.view_all"):
        return None
    return customers_visible(request.user, Customer.objects.filter(company=company))


@desk_view(capability="billing.run")
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
    context = base_context(company, today, "", "billing")
    context.update({"irn_due": irn_due(company=company, today=today, settings=settings),
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


@desk_view(capability="billing.approve")
def billing_decide(request: HttpRequest, company: Company, pk: int) -> HttpResponse:
    """POST: approve (``action=approve``, with ``override`` and a ``reason`` on a credit hold) or reject."""
    if request.method != "POST":
        return redirect("web:billing")
    bill = _bill(company, pk)
    action = request.POST.get("action", "")
    reason = request.POST.get("reason", "").strip()
    try:
        if action == "reject":
            bill_reject(bill=bill, reason=reason, actor=request.user)
            messages.success(request, f"Draft {bill.reference} rejected: {reason}. Its deliveries are unbilled again.")
        elif action == "approve":
            override = request.POST.get("override") == "1"
            if override and not reason:
                raise DuesError("Say why the credit hold is overridden.")
            result = bills_approve(company=company, bills=[bill], actor=request.user,
                                   override_reason=reason if override else "")
            if result.refused:
                messages.error(request, f"Draft {bill.reference} held: " + "; ".join(result.refused[0].decision.reasons))
            else:
                done = result.approved[0]
                messages.success(request, f"Draft {bill.reference} approved as tax invoice {done.number}.")
        else:
            raise DuesError("approve or reject")
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    except DuesError as exc:
        messages.error(request, str(exc))
    return redirect("web:billing")


@desk_view(capability="billing.run")
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
