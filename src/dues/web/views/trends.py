"""The KPI trends page: DSO, best possible DSO, ADD, CEI and overdue % by month, as charts and a table
(the figures of ``dues kpi``, docs/kpi.md). Company-wide figures, so not for a salesperson's scoped view."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from dues.companies.models import Company
from dues.core.errors import DuesError
from dues.reporting.kpi import kpis
from dues.reporting.targets import collections_vs_target, target_set
from dues.users.permissions import can

from .common import as_of_param, base_context, desk_view


@desk_view
def trends(request: HttpRequest, company: Company) -> HttpResponse:
    editor = can(request.user, "collections.policies")  # admin and AR manager set collection targets
    if request.method == "POST":
        if not editor:
            messages.error(request, "Only an admin or an AR manager may set collection targets.")
        else:
            try:
                t = target_set(company=company, collector=request.POST.get("collector", ""),
                               month=request.POST.get("month", ""), amount=request.POST.get("amount", ""),
                               actor=request.user)
                messages.success(request, f"Target for {t.collector} in {t.month:%Y-%m} saved.")
            except DuesError as exc:
                messages.error(request, str(exc))
        return redirect("web:trends")
    as_of, as_of_error = as_of_param(request)
    start = (as_of.replace(day=1) - timedelta(days=320)).replace(day=1)
    months = [m.as_dict() for m in kpis(company=company, start=start, end=as_of)]
    context = base_context(company, as_of, as_of_error, "trends")
    charts = {"labels": [m["month"] for m in months],
              **{k: [m[k] for m in months] for k in ("dso_simple", "dso_count_back", "best_possible_dso", "add", "cei",
                                                     "overdue_pct")}}
    collectors = collections_vs_target(company=company, start=as_of.replace(day=1), end=as_of)
    context.update(months=months, charts=charts, start=start, collectors=collectors, editor=editor,
                   target_month=as_of.strftime("%Y-%m"))
    return render(request, "web/reports/trends.html", context)
