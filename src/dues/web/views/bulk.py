"""Saved filters and bulk actions of the customer list and the worklist (POST only; back to the list with a
message saying what was done, what was skipped and why)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from dues import clock
from dues.collections.services.bulk import (
    bulk_assign_collector,
    bulk_dunning_hold,
    bulk_export,
    bulk_send_statements,
)
from dues.companies.models import Company
from dues.core.errors import ValidationFailed

from ..models import SavedFilter
from ..saved_filters import saved_filter_delete, saved_filter_save
from .common import desk_view

LISTS = {SavedFilter.CUSTOMERS: "web:customers", SavedFilter.WORKLIST: "web:worklist"}


def _back(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return redirect(target)
    return redirect(LISTS.get(request.POST.get("list", ""), "web:customers"))


def _problem_text(exc: ValidationFailed) -> str:
    return "; ".join(p.message for p in exc.problems) or str(exc)


@desk_view
def saved_filter_save_view(request: HttpRequest, company: Company) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        saved = saved_filter_save(company=company, user=request.user, list_name=request.POST.get("list", ""),
                                  name=request.POST.get("name", ""), query=request.POST.get("query", ""),
                                  shared=request.POST.get("shared") == "1")
    except ValidationFailed as exc:
        messages.error(request, f"Filter not saved: {_problem_text(exc)}.")
        return _back(request)
    messages.success(request, f"Saved the filter “{saved.name}”{' for the team' if saved.shared else ''}.")
    return redirect(f"{reverse(LISTS[saved.list_name])}{'?' + saved.query if saved.query else ''}")


@desk_view
def saved_filter_delete_view(request: HttpRequest, company: Company, pk: int) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        name = saved_filter_delete(company=company, user=request.user, pk=pk)
    except ValidationFailed as exc:
        messages.error(request, f"Filter not deleted: {_problem_text(exc)}.")
        return _back(request)
    messages.success(request, f"Deleted the filter “{name}”.")
    return _back(request)


@desk_view
def bulk_view(request: HttpRequest, company: Company) -> HttpResponse:
    """Run one bulk action on the ticked customers (``codes``); a refusal by role is the 403 page."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    action = request.POST.get("action", "")
    codes = request.POST.getlist("codes")
    user = request.user
    try:
        if action == "assign":
            collector = request.POST.get("collector", "").strip()
            if not collector:
                raise ValidationFailed([])  # said below
            result = bulk_assign_collector(company=company, codes=codes, collector=collector, actor=user)
        elif action in ("hold", "resume"):
            result = bulk_dunning_hold(company=company, codes=codes, hold=action == "hold", actor=user,
                                       reason=request.POST.get("reason", ""))
        elif action == "statements":
            result = bulk_send_statements(company=company, codes=codes, actor=user)
        elif action in ("export_xlsx", "export_csv"):
            fmt = action.removeprefix("export_")
            result, data, content_type = bulk_export(company=company, codes=codes, actor=user, fmt=fmt)
            response = HttpResponse(data, content_type=content_type)
            name = f"customers-{clock.today().isoformat()}.{fmt}"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
        else:
            messages.error(request, "Choose what to do with the selected customers.")
            return _back(request)
    except ValidationFailed as exc:
        text = _problem_text(exc) if exc.problems else "type the collector to assign"
        messages.error(request, f"Nothing done: {text}.")
        return _back(request)
    said = result.summary()
    (messages.success if result.done or not result.skipped else messages.warning)(request, said)
    return _back(request)
