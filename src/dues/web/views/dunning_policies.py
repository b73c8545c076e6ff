"""The dunning policies at the desk: every policy with its steps, minimum and segments; an AR manager or
an admin edits them (the steps' days, channels, templates, minimums and copy-to lists, the policy's
minimum overdue amount) and assigns them to segments. Everyone else reads them."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from dues import clock
from dues.collections import selectors as cs
from dues.collections.models import DunningPolicy, SegmentPolicy
from dues.collections.services import policies as ps
from dues.collections.services.messages import TEMPLATE_DIR
from dues.companies.models import Company
from dues.core.dunning import CHANNELS
from dues.core.errors import DuesError, PermissionDenied, ValidationFailed
from dues.customers.models import Customer
from dues.users.permissions import can

from .common import base_context, desk_view

EDIT = ps.POLICY_CAPABILITY
STEP_FIELDS = ("days", "channel", "template", "min_overdue", "cc")


def _problems(exc: ValidationFailed) -> dict[str, str]:
    found: dict[str, str] = {}
    for p in getattr(exc, "problems", []) or []:
        key = getattr(p, "field", "") or "all"
        found[key] = f"{found[key]}; {p.message}" if key in found else p.message
    return found or {"all": str(exc)}


def _templates() -> list[str]:
    return sorted(p.stem for p in TEMPLATE_DIR.glob("*.txt") if not p.stem.startswith("_"))


def _context(company: Company, request: HttpRequest) -> dict:
    return base_context(company, clock.today(), "", "policies") | {
        "can_edit": can(request.user, EDIT), "channels": CHANNELS, "templates": _templates()}


# --- the list: policies, segments ---------------------------------------------------------------------------


def _list_page(request: HttpRequest, company: Company, errors: dict | None = None, values: dict | None = None,
               status: int = 200) -> HttpResponse:
    found = list(cs.policy_list(company))
    assigned = {s.segment.strip().lower(): s for s in SegmentPolicy.objects.filter(company=company)
                .select_related("policy")}
    segments = sorted({s.strip() for s in Customer.objects.filter(company=company).exclude(segment="")
                       .values_list("segment", flat=True)} | {s.segment for s in assigned.values()}, key=str.lower)
    default = next((p for p in found if p.is_default), None)
    rows = [{"segment": seg, "policy": assigned[seg.lower()].policy if seg.lower() in assigned else None}
            for seg in dict.fromkeys(segments)]
    context = _context(company, request)
    context.update({"policies": found, "segments": rows, "default": default, "errors": errors or {},
                    "values": values or {"min_overdue": "500.00"}})
    return render(request, "web/collections/policies.html", context, status=status)


@desk_view
def policies(request: HttpRequest, company: Company) -> HttpResponse:
    ps.policy_default(company)
    if request.method != "POST":
        return _list_page(request, company)
    action = request.POST.get("action", "")
    values = {k: request.POST.get(k, "").strip() for k in ("name", "copy_from", "min_overdue", "segment", "policy")}
    try:
        if action == "create":
            source = (DunningPolicy.objects.filter(company=company, pk=values["copy_from"]).first()
                      if values["copy_from"].isdigit() else None)
            created = ps.policy_create(company=company, name=values["name"], actor=request.user, copy_from=source,
                                       min_overdue=values["min_overdue"] or None)
            messages.success(request, f"Policy “{created.name}” created: assign it to a segment or a customer.")
            return redirect("web:policy_edit", pk=created.pk)
        if action == "segment":
            chosen = (get_object_or_404(DunningPolicy, company=company, pk=values["policy"])
                      if values["policy"].isdigit() else None)
            ps.segment_policy_set(company=company, segment=values["segment"], policy=chosen, actor=request.user)
            messages.success(request, f"Segment {values['segment']}: "
                                      f"{'policy ' + chosen.name if chosen else 'the default policy'}.")
            return redirect("web:policies")
    except ValidationFailed as exc:
        return _list_page(request, company, errors={"form": action, **_problems(exc)}, values=values, status=400)
    return redirect("web:policies")


# --- one policy: its settings and its steps ------------------------------------------------------------------


def _edit_page(request: HttpRequest, company: Company, policy: DunningPolicy, errors: dict | None = None,
               values: dict | None = None, status: int = 200) -> HttpResponse:
    policy.refresh_from_db()
    steps = list(policy.steps.filter(active=True).order_by("order"))
    errors, values = errors or {}, values or {}
    form = errors.get("form", "")
    rows = [{"step": s, "errors": errors if form == f"step:{s.key}" else {},
             "values": values if form == f"step:{s.key}" else
             {"days": s.offset_days, "channel": s.channel, "template": s.template,
              "min_overdue": f"{s.min_overdue:.2f}", "cc": s.cc}} for s in steps]
    context = _context(company, request)
    context.update({"policy": policy, "rows": rows, "errors": errors, "form": form,
                    "policy_values": values if form == "policy" else {"name": policy.name,
                                                                      "min_overdue": f"{policy.min_overdue:.2f}"},
                    "add_values": values if form == "add" else {"channel": "email", "min_overdue": "0.00"},
                    "segments": list(policy.segments.order_by("segment").values_list("segment", flat=True)),
                    "customers": policy.customers.count()})
    return render(request, "web/collections/policy_edit.html", context, status=status)


@desk_view
def policy_edit(request: HttpRequest, company: Company, pk: int) -> HttpResponse:
    policy = get_object_or_404(DunningPolicy, company=company, pk=pk)
    if request.method != "POST":
        return _edit_page(request, company, policy)
    action = request.POST.get("action", "")
    data = {k: request.POST.get(k, "").strip() for k in ("name", "min_overdue", "key", *STEP_FIELDS)}
    form = action
    try:
        if action == "policy":
            ps.policy_update(policy=policy, actor=request.user, name=data["name"], min_overdue=data["min_overdue"],
                             make_default=request.POST.get("default") == "on")
            done = "Policy saved: the next dunning run uses it."
        elif action == "add":
            ps.step_add(policy=policy, actor=request.user, key=data["key"], days=data["days"] or None,
                        channel=data["channel"] or "email", template=data["template"] or None,
                        min_overdue=data["min_overdue"] or "0", cc=data["cc"])
            done = f"Step {data['key']} added."
        elif action in ("step", "remove"):
            step = ps.step_get(policy, data["key"])
            form = f"step:{step.key}"
            if action == "remove":
                outcome = ps.step_remove(step=step, actor=request.user)
                done = f"Step {step.key} removed" + ("." if outcome == "deleted" else
                                                     " (kept inactive for the messages it sent).")
            else:
                ps.step_update(step=step, actor=request.user, days=data["days"], channel=data["channel"],
                               template=data["template"], min_overdue=data["min_overdue"], cc=data["cc"])
                done = f"Step {step.key} saved."
        else:
            return redirect("web:policy_edit", pk=policy.pk)
    except ValidationFailed as exc:
        return _edit_page(request, company, policy, errors={"form": form, **_problems(exc)}, values=data, status=400)
    except PermissionDenied:
        raise
    except DuesError as exc:
        messages.error(request, str(exc))
        return redirect("web:policy_edit", pk=policy.pk)
    messages.success(request, done)
    return redirect("web:policy_edit", pk=policy.pk)
