"""The dashboard: what is owed, how old, how fast it comes in, and who to chase first."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from dues import clock
from dues.audit.selectors import audit_head_version
from dues.companies.models import Company
from dues.users.permissions import can, customer_visible, role_of

from ..selectors import chart_data, desk_credit_holds, desk_escalations, desk_irn_window, desk_summary
from .common import as_of_param, base_context, desk_view

ESCALATION_VIEWERS = ("admin", "ar_manager")
ESCALATED_SHOWN = 20
CREDIT_HOLDS_SHOWN = 10
IRN_SHOWN = 5


@desk_view
def dashboard(request: HttpRequest, company: Company) -> HttpResponse:
    if role_of(request.user) == "collector" and not request.GET:  # a collector's home is My day
        return redirect("web:my_day")
    as_of, error = as_of_param(request)
    context = base_context(company, as_of, error, "dashboard")
    version = audit_head_version()  # one read versions both cached parts
    summary = desk_summary(company=company, as_of=as_of, actor=request.user, version=version)
    context.update({"summary": summary, "charts": chart_data(summary, company.currency)})
    held = [h for h in desk_credit_holds(company=company, version=version)
            if customer_visible(request.user, h.customer)]
    context.update({"credit_holds": held[:CREDIT_HOLDS_SHOWN], "credit_holds_count": len(held),
                    "can_credit_review": can(request.user, "credit.override")})
    if role_of(request.user) in ESCALATION_VIEWERS:
        rows = desk_escalations(company=company, version=version, limit=ESCALATED_SHOWN)
        context.update({"escalated": rows[:ESCALATED_SHOWN], "escalated_more": len(rows) > ESCALATED_SHOWN,
                        "show_escalated": True})
    if can(request.user, "billing.run"):  # the e-invoice reporting window: those who bill act on it
        context.update(desk_irn_window(company=company, today=clock.today(), version=version))
        context.update({"irn_limit": f":{IRN_SHOWN}", "irn_link": True})
    return render(request, "web/dashboard.html", context)
