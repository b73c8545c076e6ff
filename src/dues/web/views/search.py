"""Global search (the top bar's box): ``/search/?q=...``, a whole page, or the typeahead's list under htmx."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dues import clock
from dues.companies.models import Company

from ..search import MIN_LENGTH, search
from .common import base_context, desk_view, is_htmx


@desk_view
def search_view(request: HttpRequest, company: Company) -> HttpResponse:
    query = request.GET.get("q", "")
    results = search(company=company, user=request.user, query=query,
                     per_group=5 if is_htmx(request) else 8)
    context = base_context(company, clock.today(), "", "search")
    context.update({"results": results, "q": results.query, "min_length": MIN_LENGTH})
    if is_htmx(request):
        return render(request, "web/_search_results.html", context | {"compact": True})
    return render(request, "web/search.html", context)
