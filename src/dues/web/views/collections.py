"""Collections at the desk: the worklist with one-click logging, the customer timeline, the promise and
dispute boards and the dunning preview ("what would go out on a date, and to whom")."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html_join

from dues import clock
from dues.attachments.selectors import DELIVERY_REASONS, proof_counts
from dues.collections import selectors as cs
from dues.collections.models import Activity, Dispute, PromiseToPay
from dues.collections.services.activities import activity_log
from dues.collections.services.disputes import dispute_open, dispute_resolve
from dues.collections.services.dunning import collect_run
from dues.collections.services.promises import promise_add, promises_refresh
from dues.companies.models import Company
from dues.core.dates import parse_date
from dues.core.errors import DuesError, ValidationFailed
from dues.customers.models import Customer
from dues.formats import format_money, label
from dues.users.permissions import can, customers_visible, person_name, require_customer, role_of

from .common import base_context, desk_view, is_htmx, paginate

ACT = "collections.act"
LOG_KINDS = ("call", "email", "sms", "whatsapp", "visit", "meeting")
LOG_OUTCOMES = ("reached", "no_answer", "promised", "disputed", "refused", "wrong_contact")


def _options(values, text) -> str:
    """The ``<option>``s of a row's select with nothing chosen, built once for the 50 rows of a page."""
    return format_html_join("", '<option value="{}">{}</option>', ((v, text(v)) for v in values))


class Blank(dict):
    """An empty form state for a row's inline form: any field reads as "" (a failed template lookup costs a
    ``dir()``; a worklist page makes thousands)."""

    def __missing__(self, key):
        return ""


def _date_param(request: HttpRequest, name: str, default: date | None, errors: dict) -> date | None:
    text = request.GET.get(name, "").strip()
    if not text:
        return default
    try:
        return parse_date(text)
    except ValueError:
        errors[name] = f"“{text}” is not a date (use YYYY-MM-DD)."
        return default


def _context(company: Company, section: str, on: date | None = None) -> dict:
    today = clock.today()
    return base_context(company, on or today, "", section) | {"today": today}


def _problems(exc: ValidationFailed) -> dict[str, str]:
    """Field -> message of a service's ValidationFailed (problems without a field under "all")."""
    found: dict[str, str] = {}
    for p in getattr(exc, "problems", []) or []:
        key = getattr(p, "field", "") or "all"
        found[key] = f"{found[key]}; {p.message}" if key in found else p.message
    return found or {"all": str(exc)}


# --- worklist -------------------------------------------------------------------------------------------------


def _collector_choice(request: HttpRequest) -> str:
    """The collector filter: ``?collector=`` ("*" for everyone); a collector's own name by default."""
    if "collector" in request.GET:
        value = request.GET["collector"].strip()
        return "" if value == "*" else value
    return person_name(request.user) if role_of(request.user) == "collector" else ""


def _rows(company: Company, entries, on: date) -> list[dict]:
    ids = [e.facts.customer_id for e in entries]
    promised = cs.next_promises(company, ids)
    return [{"entry": e, "f": e.facts, "promise": promised.get(e.facts.customer_id)} for e in entries]


@desk_view
def worklist(request: HttpRequest, company: Company) -> HttpResponse:
    errors: dict[str, str] = {}
    on = _date_param(request, "on", clock.today(), errors)
    collector = _collector_choice(request)
    customers = customers_visible(request.user, Customer.objects.filter(company=company))
    try:
        entries = cs.worklist(company, collector=collector or None, on=on,
                              customer_ids=None if can(request.user, "customers.view_all") else
                              customers.values_list("id", flat=True))
    except DuesError as exc:  # an unknown collector
        errors["collector"], entries = str(exc), []
    context = _context(company, "worklist", on)
    context.update(paginate(request, entries))
    collectors = sorted({c for c in Customer.objects.filter(company=company).exclude(collector="")
                        .values_list("collector", flat=True).distinct()}, key=str.lower)
    context.update({"rows": _rows(company, list(context["page"].object_list), on), "errors": errors,
                    "collector": collector, "collectors": collectors, "on": on,
                    "on_text": request.GET.get("on", "").strip() if errors.get("on") else on.isoformat(),
                    "total": len(entries), "kinds": LOG_KINDS, "outcomes": LOG_OUTCOMES,
                    "form_errors": Blank(), "values": Blank(), "done": "", "open_form": False,
                    "kind_options": _options(LOG_KINDS, str), "outcome_options": _options(LOG_OUTCOMES, label),
                    "all_chosen": request.GET.get("collector", None) == "*"})
    return render(request, "web/collections/worklist.html", context)


@desk_view
def worklist_log(request: HttpRequest, company: Company, code: str) -> HttpResponse:
    """Log a contact from a worklist row (with a promise when the outcome is "promised"); the row comes back."""
    customer = get_object_or_404(Customer, company=company, code=code)
    require_customer(request.user, customer)
    if request.method != "POST":
        return redirect("web:worklist")
    data = request.POST
    on_text = data.get("on", "").strip()
    try:
        on = parse_date(on_text) if on_text else clock.today()
    except ValueError:
        on = clock.today()
    values = {k: data.get(k, "").strip() for k in ("kind", "outcome", "notes", "next_follow_up", "amount",
                                                   "promised_date", "invoices")}
    errors: dict[str, str] = {}
    follow = promised_date = None
    for name in ("next_follow_up", "promised_date"):
        if values[name]:
            try:
                parsed = parse_date(values[name])
            except ValueError:
                errors[name] = f"“{values[name]}” is not a date (use YYYY-MM-DD)."
                continue
            if name == "next_follow_up":
                follow = parsed
            else:
                promised_date = parsed
    if values["kind"] not in LOG_KINDS:
        errors["kind"] = "Choose how you contacted them."
    if values["outcome"] not in LOG_OUTCOMES:
        errors["outcome"] = "Choose the outcome."
    promised = values["outcome"] == "promised"
    if promised and not values["amount"]:
        errors["amount"] = "How much did they promise?"
    if promised and promised_date is None and "promised_date" not in errors:
        errors["promised_date"] = "By when?"
    done = ""
    if not errors:
        try:
            if promised:
                invoices = [n for n in values["invoices"].replace(";", ",").replace(" ", ",").split(",") if n]
                promise = promise_add(customer=customer, amount=values["amount"], promised_date=promised_date,
                                      actor=request.user, invoices=invoices, notes=values["notes"],
                                      kind=values["kind"])
                if follow and follow != promised_date:
                    activity = promise.activity
                    Activity.objects.filter(pk=activity.pk).update(next_follow_up=follow)
                done = f"Promise of {format_money(promise.amount)} by {promised_date:%d-%m-%Y} recorded."
            else:
                activity_log(customer=customer, kind=values["kind"], outcome=values["outcome"],
                             notes=values["notes"], next_follow_up=follow, actor=request.user)
                done = f"{values['kind'].capitalize()} logged: {values['outcome'].replace('_', ' ')}."
        except ValidationFailed as exc:
            errors = _problems(exc)
    if not is_htmx(request):
        if errors:
            messages.error(request, f"{customer.code}: " + "; ".join(errors.values()))
        else:
            messages.success(request, f"{customer.code}: {done}")
        back = data.get("next", "")
        return redirect(back if back.startswith("/") and not back.startswith("//") else reverse("web:worklist"))
    entries = cs.worklist(company, on=on, customer_ids=[customer.id])
    context = _context(company, "worklist", on) | {"kinds": LOG_KINDS, "outcomes": LOG_OUTCOMES, "on": on}
    context["row"] = _rows(company, entries, on)[0] if entries else {"f": customer, "gone": True}
    context.update({"customer": customer, "form_errors": Blank(errors), "values": Blank(values if errors else {}),
                    "done": done, "open_form": bool(errors)})
    return render(request, "web/collections/_worklist_row.html", context, status=400 if errors else 200)


# --- the customer timeline --------------------------------------------------------------------------------------


@desk_view
def timeline(request: HttpRequest, company: Company, code: str) -> HttpResponse:
    customer = get_object_or_404(Customer, company=company, code=code)
    require_customer(request.user, customer)
    context = _context(company, "customers")
    context.update(paginate(request, cs.timeline(company, customer)))
    context.update({"customer": customer, "events": cs.timeline_objects(context["page"].object_list),
                    "kinds": LOG_KINDS, "outcomes": LOG_OUTCOMES})
    return render(request, "web/collections/timeline.html", context)


# --- promises ---------------------------------------------------------------------------------------------------

PROMISE_TABS = [(PromiseToPay.OPEN, "Open"), (PromiseToPay.KEPT, "Kept"), (PromiseToPay.PARTLY_KEPT, "Partly kept"),
                (PromiseToPay.BROKEN, "Broken")]


@desk_view
def promises(request: HttpRequest, company: Company) -> HttpResponse:
    from django.db.models import Count

    today = clock.today()
    promises_refresh(company, on=today, actor=request.user)
    errors: dict[str, str] = {}
    status = request.GET.get("status", PromiseToPay.OPEN)
    if status not in dict(PROMISE_TABS):
        status = PromiseToPay.OPEN
    visible = customers_visible(request.user, Customer.objects.filter(company=company))
    qs = cs.promises(company, status=status).filter(customer__in=visible)
    counts = dict(PromiseToPay.objects.filter(company=company, customer__in=visible).values("status")
                  .annotate(n=Count("id")).values_list("status", "n"))
    date_from = _date_param(request, "from", today - timedelta(days=30), errors)
    date_to = _date_param(request, "to", today + timedelta(days=30), errors)
    context = _context(company, "promises")
    context.update(paginate(request, qs))
    report = cs.promises_report(company, date_from, date_to) if can(request.user, "customers.view_all") else None
    totals = None
    if report is not None:
        from decimal import Decimal
        totals = {"promised": sum((r.promised for r in report), Decimal(0)),
                  "received": sum((r.received for r in report), Decimal(0)),
                  "count": sum(r.count for r in report)}
    context.update({"status": status, "tabs": [(k, w, counts.get(k, 0)) for k, w in PROMISE_TABS],
                    "report": report, "totals": totals, "errors": errors,
                    "date_from": date_from.isoformat(), "date_to": date_to.isoformat()})
    return render(request, "web/collections/promises.html", context)


# --- disputes ---------------------------------------------------------------------------------------------------

DISPUTE_TABS = [("active", "Active"), (Dispute.OPEN, "Open"), (Dispute.IN_PROGRESS, "In progress"),
                (Dispute.RESOLVED_CREDIT_NOTE, "Resolved"), (Dispute.REJECTED, "Rejected")]


def _disputes_page(request: HttpRequest, company: Company, open_values=None, open_errors=None,
                   resolve_errors=None, status_code: int = 200) -> HttpResponse:
    from django.db.models import Count, Prefetch

    from dues.portal.models import DisputeAttachment

    today = clock.today()
    status = request.GET.get("status", "active")
    if status not in dict(DISPUTE_TABS):
        status = "active"
    visible = customers_visible(request.user, Customer.objects.filter(company=company))
    qs = cs.disputes(company, status=status).filter(customer__in=visible).prefetch_related(
        Prefetch("portal_attachments", queryset=DisputeAttachment.objects.defer("data").order_by("pk")))
    counts = dict(Dispute.objects.filter(company=company, customer__in=visible).values("status")
                  .annotate(n=Count("id")).values_list("status", "n"))
    counts["active"] = counts.get(Dispute.OPEN, 0) + counts.get(Dispute.IN_PROGRESS, 0)
    context = _context(company, "disputes")
    context.update(paginate(request, qs))
    rows = []
    page = list(context["page"].object_list)
    # a dispute about the delivery opens its invoice's proofs (PO, challan, POD) in one click
    proofs = proof_counts(d.document for d in page if d.reason in DELIVERY_REASONS)
    for d in page:
        age = ((d.resolved_on or today) - d.opened_on).days
        rows.append({"d": d, "age": age, "over": age > d.sla_days, "active": d.status in Dispute.ACTIVE,
                     "error": (resolve_errors or {}).get(d.pk),
                     "proofs": proofs.get(d.document_id, 0) if d.reason in DELIVERY_REASONS else None})
    context.update({"status": status, "tabs": [(k, w, counts.get(k, 0)) for k, w in DISPUTE_TABS], "rows": rows,
                    "reasons": Dispute.REASONS, "owners": Dispute.OWNERS,
                    "open_values": open_values or {"sla_days": "7"}, "open_errors": open_errors or {}})
    return render(request, "web/collections/disputes.html", context, status=status_code)


@desk_view
def disputes(request: HttpRequest, company: Company) -> HttpResponse:
    return _disputes_page(request, company)


@desk_view
def dispute_attachment(request: HttpRequest, company: Company, pk: int) -> HttpResponse:
    """A file the customer attached to a dispute through the portal, served as a download."""
    from dues.portal.models import DisputeAttachment

    file = get_object_or_404(DisputeAttachment.objects.select_related("dispute__customer"), pk=pk,
                             dispute__company=company)
    require_customer(request.user, file.dispute.customer)
    response = HttpResponse(bytes(file.data), content_type=file.content_type)
    response["Content-Disposition"] = f'attachment; filename="dispute-{file.dispute_id}-{file.pk}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@desk_view
def dispute_new(request: HttpRequest, company: Company) -> HttpResponse:
    if request.method != "POST":
        return redirect("web:disputes")
    values = {k: request.POST.get(k, "").strip() for k in ("invoice", "amount", "reason", "owner", "sla_days",
                                                            "notes")}
    errors: dict[str, str] = {}
    sla = values["sla_days"] or "7"
    if not sla.isdigit():
        errors["sla_days"] = "A number of days."
    if not values["invoice"]:
        errors["document"] = "Which invoice?"
    if not errors:
        try:
            dispute = dispute_open(company=company, invoice=values["invoice"], amount=values["amount"],
                                   reason=values["reason"], owner=values["owner"], actor=request.user,
                                   sla_days=int(sla), notes=values["notes"])
        except ValidationFailed as exc:
            errors = _problems(exc)
    if errors:
        return _disputes_page(request, company, open_values=values, open_errors=errors, status_code=400)
    messages.success(request, f"Dispute opened on {dispute.document.number} ({dispute.customer.code}); "
                              "it is left out of dunning until resolved.")
    return redirect("web:disputes")


@desk_view
def dispute_resolve_view(request: HttpRequest, company: Company, pk: int) -> HttpResponse:
    dispute = get_object_or_404(Dispute, company=company, pk=pk)
    if request.method != "POST":
        return redirect("web:disputes")
    rejected = request.POST.get("decision") == "reject"
    note = request.POST.get("credit_note", "").strip()
    if not rejected and not note:
        return _disputes_page(request, company, status_code=400, resolve_errors={
            dispute.pk: "Give the credit note number that resolves it, or reject the dispute."})
    try:
        dispute_resolve(dispute=dispute, actor=request.user, credit_note=None if rejected else note,
                        rejected=rejected, notes=request.POST.get("notes") or None)
    except ValidationFailed as exc:
        message = "; ".join(_problems(exc).values())
        return _disputes_page(request, company, resolve_errors={dispute.pk: message}, status_code=400)
    except DuesError as exc:
        messages.error(request, str(exc))
        return redirect("web:disputes")
    messages.success(request, f"Dispute on {dispute.document.number} "
                              f"{'rejected' if rejected else 'resolved by credit note ' + note}.")
    return redirect("web:disputes")


# --- dunning preview --------------------------------------------------------------------------------------------


@desk_view
def dunning_preview(request: HttpRequest, company: Company) -> HttpResponse:
    errors: dict[str, str] = {}
    on = _date_param(request, "on", clock.today() + timedelta(days=1), errors)
    result = collect_run(company=company, on=on, dry_run=True, actor=request.user)
    wanted = request.GET.get("status", "")
    actions = sorted(result.actions, key=lambda a: (a.status != "pending", a.customer, a.step))
    counts = {"pending": result.count("pending"), "skipped": result.count("skipped")}
    if wanted in counts:
        actions = [a for a in actions if a.status == wanted]
    context = _context(company, "dunning")
    context.update(paginate(request, actions))
    page = list(context["page"].object_list)
    names = dict(Customer.objects.filter(company=company, code__in={a.customer for a in page})
                 .values_list("code", "name"))
    context.update({"rows": [(a, names.get(a.customer, a.customer)) for a in page],"on": on, "on_text": request.GET.get("on", "").strip() if errors.get("on") else on.isoformat(),
                    "errors": errors, "counts": counts, "wanted": wanted})
    return render(request, "web/collections/dunning_preview.html", context)
