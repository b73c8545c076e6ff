"""The dashboard: what is owed, how old, how fast it comes in, and who to chase first."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dues.companies.models import Company

from ..selectors import chart_data, desk_summary
from .common import as_of_param, base_context, desk_view


@desk_view
def dashboard(request: HttpRequest, company: Company) -> HttpResponse:
    as_of, error = as_of_param(request)
    context = base_context(company, as_of, error, "dashboard")
    summary = desk_summary(company=company, as_of=as_of, actor=request.user)
    context.update({"summary": summary, "charts": chart_data(summary, company.currency)})
    return render(request, "web/dashboard.html", context)
