"""Ledger clearance at the desk: upload a customer's ledger of us, see matched / differences / the tie-out,
download the statement, act on it (book their TDS, open disputes, ask them to book); and the
balance-confirmation tracker (send, record replies, remind).

The uploaded file is kept under ``$DUES_HOME/reconcile/<token>/`` so the result page, the downloads
and the follow-up buttons can reconcile it again without a second upload (the token is random; the
page's query string carries it with the customer, date and preset).
"""

from __future__ import annotations

import re
import secrets
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode

from dues import clock
from dues.companies.models import Company
from dues.core import reconcile as rc
from dues.core.dates import parse_date
from dues.core.errors import DuesError, PermissionDenied, ValidationFailed
from dues.customers.models import Customer
from dues.reconciliation import confirmation as conf
from dues.reconciliation.models import ConfirmationRequest
from dues.users.permissions import can, customers_visible, require, require_customer

from .common import base_context, desk_view, paginate

VIEW, ACT = "reports.view", "collections.act"
PRESETS = (("", "Recognise the columns"), ("tally", "Tally"), ("busy", "Busy"), ("sap", "SAP"))
TOKEN = re.compile(r"^[0-9a-f]{32}$")
MAX_UPLOAD = 10 * 1024 * 1024
ACTION_LABELS = {"book_tds": "Book their TDS", "disputes": "Open disputes", "activities": "Ask them to book"}


def _upload_root() -> Path:
    from dues.messaging.transports import dues_home

    return dues_home() / "reconcile"


def _saved(token: str) -> Path | None:
    if not TOKEN.match(token or ""):
        return None
    folder = _upload_root() / token
    files = sorted(folder.iterdir()) if folder.is_dir() else []
    return files[0] if files else None


def _save(upload) -> str:
    token = secrets.token_hex(16)
    folder = _upload_root() / token
    folder.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(upload.name).name)[-120:] or "ledger.csv"
    with open(folder / name, "wb") as fh:
        for chunk in upload.chunks():
            fh.write(chunk)
    return token


@dataclass
class _Form:
    customer: str = ""
    as_of: str = ""
    preset: str = ""
    mapping: str = ""
    token: str = ""

    def query(self) -> str:
        return urlencode({k: v for k, v in self.__dict__.items() if v})


def _form(data, today: date) -> _Form:
    return _Form(customer=data.get("customer", "").strip(), as_of=data.get("as_of", "").strip() or today.isoformat(),
                 preset=data.get("preset", "").strip() if data.get("preset", "") in dict(PRESETS) else "",
                 mapping=data.get("map", "").strip(), token=data.get("token", "").strip())


def _run(company: Company, user, form: _Form, errors: dict):
    """Reconcile the saved file for ``form``; None (with ``errors``) when it cannot."""
    from dues.reconciliation.selectors import reconcile_customer

    customer = customers_visible(user, Customer.objects.filter(company=company)).filter(code=form.customer).first()
    if not form.customer:
        errors["customer"] = "Which customer's ledger is it?"
    elif customer is None:
        errors["customer"] = f"No customer {form.customer!r}."
    try:
        as_of = parse_date(form.as_of)
    except ValueError:
        errors["as_of"] = f"“{form.as_of}” is not a date (use YYYY-MM-DD)."
        as_of = None
    path = _saved(form.token)
    if path is None:
        errors.setdefault("file", "Upload their ledger of our account (CSV, XLSX or a Tally XML export).")
    if errors:
        return None
    try:
        return reconcile_customer(company=company, code=customer.code, their_file=path, as_of=as_of,
                                  preset=form.preset or None, mapping=form.mapping or None)
    except ValidationFailed as exc:
        errors["file"] = "; ".join(p.message for p in exc.problems[:5])
    except DuesError as exc:
        errors["file"] = str(exc)
    return None


def _page(request: HttpRequest, company: Company, form: _Form, errors: dict, rec=None, status: int = 200):
    from dues.reconciliation.exports import statement_rows
    from dues.reconciliation.services import followup_plan

    context = base_context(company, clock.today(), "", "reconcile")
    plan = followup_plan(rec.result) if rec else {}
    diffs = rec.result.differences if rec else []
    context.update(paginate(request, diffs))
    context.update({
        "form": form, "errors": errors, "rec": rec, "presets": PRESETS, "query": form.query(),
        "statement": statement_rows(rec) if rec else [],
        "matched": rec.result.matched[:500] if rec else [], "diff_count": len(diffs),
        "ties": rc.ties(rec.result) if rec else False,
        "followups": [(key, ACTION_LABELS[key], len(plan.get(key, [])),
                       can(request.user, "receipts.post" if key == "book_tds" else ACT)) for key in ACTION_LABELS]
        if rec else [],
        "customers": customers_visible(request.user, Customer.objects.filter(company=company))
        .order_by("code").values_list("code", "name")[:2000],
    })
    return render(request, "web/reconcile/reconcile.html", context, status=status)


@desk_view
def reconcile_page(request: HttpRequest, company: Company) -> HttpResponse:
    today = clock.today()
    if request.method == "POST":
        form = _form(request.POST, today)
        errors: dict[str, str] = {}
        upload = request.FILES.get("file")
        if upload is not None:
            if upload.size > MAX_UPLOAD:
                errors["file"] = f"{upload.name} is larger than 10 MB."
            elif not upload.size:
                errors["file"] = f"{upload.name} is empty."
            else:
                form.token = _save(upload)
        rec = None if errors else _run(company, request.user, form, errors)
        if rec is None:
            return _page(request, company, form, errors, status=400)
        return redirect(f"{reverse('web:reconcile')}?{form.query()}")
    form = _form(request.GET, today)
    errors = {}
    rec = _run(company, request.user, form, errors) if form.token else None
    if not form.token:
        errors = {}
    return _page(request, company, form, errors, rec, status=200 if rec or not form.token else 400)


@desk_view
def reconcile_export(request: HttpRequest, company: Company) -> HttpResponse:
    from dues.reconciliation import exports

    fmt = request.GET.get("format", "")
    if fmt not in ("xlsx", "pdf"):
        raise Http404("no such format")
    errors: dict[str, str] = {}
    rec = _run(company, request.user, _form(request.GET, clock.today()), errors)
    if rec is None:
        raise Http404("; ".join(errors.values()))
    with tempfile.NamedTemporaryFile(suffix=f".{fmt}", delete=False) as tmp:
        target = Path(tmp.name)
    (exports.write_xlsx if fmt == "xlsx" else exports.write_pdf)(rec, target)
    data = target.read_bytes()
    target.unlink(missing_ok=True)
    name = f"reconciliation-{re.sub(r'[^A-Za-z0-9_-]+', '_', rec.customer.code)}-{rec.result.as_of.isoformat()}.{fmt}"
    mime = "application/pdf" if fmt == "pdf" else \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = HttpResponse(data, content_type=mime)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@desk_view
def reconcile_followups(request: HttpRequest, company: Company) -> HttpResponse:
    from dues.reconciliation.services import reconciliation_followups

    if request.method != "POST":
        return redirect("web:reconcile")
    form = _form(request.POST, clock.today())
    action = request.POST.get("action", "")
    if action not in ACTION_LABELS:
        messages.error(request, "Choose a follow-up.")
        return redirect(f"{reverse('web:reconcile')}?{form.query()}")
    # refuse before reading anything: a role that may not act changes nothing
    require(request.user, "receipts.post" if action == "book_tds" else ACT, ACTION_LABELS[action].lower())
    errors: dict[str, str] = {}
    rec = _run(company, request.user, form, errors)
    if rec is None:
        return _page(request, company, form, errors, status=400)
    try:
        out = reconciliation_followups(company=company, customer=rec.customer, result=rec, actions=[action],
                                       actor=request.user)
    except ValidationFailed as exc:
        messages.error(request, "; ".join(p.message for p in exc.problems[:5]))
    except PermissionDenied:
        raise
    except DuesError as exc:
        messages.error(request, str(exc))
    else:
        done = ([f"TDS booked as {n}" for n in out.booked] + [f"dispute opened on {d}" for d in out.disputes]
                + [f"task: {a}" for a in out.activities])
        if done:
            messages.success(request, "; ".join(done) + ".")
        if out.skipped:
            messages.info(request, "Skipped: " + "; ".join(out.skipped) + ".")
        if not done and not out.skipped:
            messages.info(request, "Nothing to do for this follow-up.")
    return redirect(f"{reverse('web:reconcile')}?{form.query()}")


# --- balance confirmations -------------------------------------------------------------------------------------


def _tracker(request: HttpRequest, company: Company, send_values=None, send_errors=None, reply_errors=None,
             status_code: int = 200) -> HttpResponse:
    visible = customers_visible(request.user, Customer.objects.filter(company=company))
    status = request.GET.get("status", "")
    if status not in dict(ConfirmationRequest.STATUSES):
        status = ""
    counts = conf.tracker_counts(company, customers=visible)
    context = base_context(company, clock.today(), "", "reconcile")
    context.update(paginate(request, conf.confirmations(company, status=status or None, customers=visible)))
    page = context["page"]
    page.object_list = list(page.object_list)
    for r in page.object_list:
        r.error = (reply_errors or {}).get(r.pk, "")
    context.update({
        "status": status, "counts": counts,
        "tabs": [("", "All", counts.total), ("requested", "Awaiting reply", counts.requested),
                 ("confirmed", "Confirmed", counts.confirmed), ("disagreed", "Disagreed", counts.disagreed),
                 ("no_reply", "No reply", counts.no_reply)],
        "send_values": send_values or {"as_of": clock.today().isoformat()}, "send_errors": send_errors or {},
        "reply_errors": reply_errors or {}, "presets": PRESETS,
    })
    return render(request, "web/reconcile/confirmations.html", context, status=status_code)


@desk_view
def confirmations(request: HttpRequest, company: Company) -> HttpResponse:
    return _tracker(request, company)


def _problems(exc: ValidationFailed) -> dict[str, str]:
    found: dict[str, str] = {}
    for p in exc.problems:
        key = p.field or "all"
        found[key] = f"{found[key]}; {p.message}" if key in found else p.message
    return found


@desk_view
def confirmation_send(request: HttpRequest, company: Company) -> HttpResponse:
    from dues.reconciliation.services import confirmation_request

    if request.method != "POST":
        return redirect("web:confirmations")
    values = {k: request.POST.get(k, "").strip() for k in ("customer", "as_of", "scope")}
    errors: dict[str, str] = {}
    try:
        as_of = parse_date(values["as_of"])
    except ValueError:
        errors["as_of"] = f"“{values['as_of']}” is not a date (use YYYY-MM-DD)."
    everyone = values["scope"] == "all"
    customer = None
    if not everyone:
        customer = customers_visible(request.user, Customer.objects.filter(company=company)).filter(
            code=values["customer"]).first()
        if customer is None:
            errors["customer"] = "Which customer? (or choose all with a balance)" if not values["customer"] else \
                f"No customer {values['customer']!r}."
    if not errors:
        try:
            results = confirmation_request(company=company, as_of=as_of, actor=request.user,
                                           customers=None if everyone else [customer], all_with_balance=everyone)
        except ValidationFailed as exc:
            errors = _problems(exc)
    if errors:
        return _tracker(request, company, send_values=values, send_errors=errors, status_code=400)
    sent = sum(r.status in ("sent", "letter") for r in results)
    messages.success(request, f"{sent} balance-confirmation letter{'s' if sent != 1 else ''} sent"
                              + "".join(f"; {r.customer}: {r.status} ({r.note})" for r in results
                                        if r.status in ("skipped", "failed", "letter"))[:900] + ".")
    return redirect("web:confirmations")


@desk_view
def confirmation_reply_view(request: HttpRequest, company: Company, pk: int) -> HttpResponse:
    from dues.reconciliation.services import confirmation_reply

    req = get_object_or_404(ConfirmationRequest.objects.select_related("customer"), company=company, pk=pk)
    require_customer(request.user, req.customer)
    if request.method != "POST":
        return redirect("web:confirmations")
    upload = request.FILES.get("file")
    file = None
    if upload is not None:
        if upload.size > MAX_UPLOAD:
            return _tracker(request, company, reply_errors={pk: f"{upload.name} is larger than 10 MB."},
                            status_code=400)
        file = (upload.name, upload.read())
    try:
        confirmation_reply(request=req, status=request.POST.get("status", ""), actor=request.user,
                           their_balance=request.POST.get("their_balance", "").strip() or None, file=file,
                           preset=request.POST.get("preset") or None)
    except ValidationFailed as exc:
        return _tracker(request, company, reply_errors={pk: "; ".join(_problems(exc).values())}, status_code=400)
    except PermissionDenied:
        raise
    except DuesError as exc:
        return _tracker(request, company, reply_errors={pk: str(exc)}, status_code=400)
    messages.success(request, f"Reply of {req.customer.code} recorded.")
    return redirect(f"{reverse('web:confirmation', args=[pk])}")


@desk_view
def confirmation_detail(request: HttpRequest, company: Company, pk: int) -> HttpResponse:
    req = get_object_or_404(ConfirmationRequest.objects.select_related("customer").defer("reply_file"),
                            company=company, pk=pk)
    require_customer(request.user, req.customer)
    context = base_context(company, clock.today(), "", "reconcile")
    context.update({"r": req, "rec": req.reconciliation, "presets": PRESETS})
    return render(request, "web/reconcile/confirmation.html", context)


@desk_view
def confirmation_letter(request: HttpRequest, company: Company, pk: int) -> HttpResponse:
    req = get_object_or_404(ConfirmationRequest.objects.select_related("customer").defer("reply_file"),
                            company=company, pk=pk)
    require_customer(request.user, req.customer)
    path = Path(req.letter_path) if req.letter_path else None
    if path is None or not path.is_file():
        raise Http404("the letter file is no longer there")
    return FileResponse(path.open("rb"), as_attachment=True, filename=path.name, content_type="application/pdf")


@desk_view
def confirmation_remind_view(request: HttpRequest, company: Company) -> HttpResponse:
    from dues.reconciliation.services import confirmation_remind

    if request.method != "POST":
        return redirect("web:confirmations")
    days = request.POST.get("days", "15").strip()
    if not days.isdigit():
        messages.error(request, "Reminders: a number of days.")
        return redirect("web:confirmations")
    results = confirmation_remind(company=company, older_than_days=int(days), actor=request.user)
    sent = sum(r.status in ("sent", "letter") for r in results)
    failed = [r for r in results if r.status == "failed"]
    messages.success(request, f"{sent} reminder{'s' if sent != 1 else ''} sent to requests unanswered for "
                              f"{days}+ days." + (f" {len(failed)} failed." if failed else ""))
    return redirect("web:confirmations")
