"""The audit log: every recorded change, filtered, newest first, with the hash chain's verify result."""

from __future__ import annotations

import time

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dues import clock
from dues.audit.selectors import audit_choices, audit_length, audit_records
from dues.audit.services import audit_verify
from dues.companies.models import Company
from dues.core.dates import parse_date

from ..selectors import audit_lines
from .common import PAGE_SIZE, base_context, desk_view, paginate

FILTERS = ("actor", "action", "object_type", "object_id", "from", "to")


def _filters(request: HttpRequest) -> tuple[dict[str, str], dict, dict[str, str]]:
    """(the filter texts as typed, the selector's keyword arguments, errors by field)."""
    raw = {name: request.GET.get(name, "").strip() for name in FILTERS}
    kwargs: dict = {"actor": raw["actor"], "action": raw["action"], "object_type": raw["object_type"],
                    "object_id": raw["object_id"]}
    errors: dict[str, str] = {}
    for name, key in (("from", "date_from"), ("to", "date_to")):
        if raw[name]:
            try:
                kwargs[key] = parse_date(raw[name])
            except ValueError:
                errors[name] = f"“{raw[name]}” is not a date (use YYYY-MM-DD)."
    if kwargs.get("date_from") and kwargs.get("date_to") and kwargs["date_from"] > kwargs["date_to"]:
        errors["to"] = "The range ends before it starts."
        kwargs.pop("date_to")
    return raw, kwargs, errors


@desk_view
def audit_log(request: HttpRequest, company: Company) -> HttpResponse:
    raw, kwargs, errors = _filters(request)
    context = base_context(company, clock.today(), "", "audit")
    records = audit_records(**kwargs)
    if any(raw[name] for name in FILTERS):
        context.update(paginate(request, records))
    else:  # the whole log: its length is the head's number, not a COUNT over every record
        paginator = Paginator(records, PAGE_SIZE)
        paginator.count = audit_length()  # a cached_property: set, it is not queried
        page = paginator.get_page(request.GET.get("page"))
        context.update({"page": page,
                        "page_range": paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)})
    context.update({
        "f": raw, "errors": errors, "filtered": any(raw.values()), "choices": audit_choices(),
        "lines": audit_lines(context["page"].object_list),
    })
    if request.method == "POST":  # "Verify now": reads the whole chain, changes nothing
        started = time.perf_counter()
        result = audit_verify()
        context["verify"] = {"result": result, "ms": round((time.perf_counter() - started) * 1000)}
    return render(request, "web/audit/log.html", context)
