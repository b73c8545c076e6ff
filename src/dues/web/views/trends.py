"""The KPI trends page: DSO, best possible DSO, ADD, CEI and overdue % by month, as charts and a table
(the figures of ``dues kpi``, docs/kpi.md). Company-wide figures, so not for a salesperson's scoped view."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dues.companies.models import Company
from dues.reporting.kpi import kpis

from .common import as_of_param, base_context, desk_view


@desk_view(capability="customers.view_all")
def trends(request: HttpRequest, company: Company) -> HttpResponse:
    as_of, as_of_error = as_of_param(request)
    start = (as_of.replace(day=1) - timedelta(days=320)).replace(day=1)
    months = [m.as_dict() for m in kpis(company=company, start=start, end=as_of)]
    context = base_context(company, as_of, as_of_error, "trends")
    charts = {"labels": [m["month"] for m in months],
              **{k: [m[k] for m in months] for k in ("dso_simple", "dso_count_back", "best_possible_dso", "add", "cei",
                                                     "overdue_pct")}}
    context.update(months=months, charts=charts, start=start)
    return render(request, "web/reports/trends.html", context)
