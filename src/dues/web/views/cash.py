"""The cash-application workbench: bank lines, the engine's proposal for each unapplied credit with its
reasons, and one-click accept / change / ignore; bulk accept above a confidence; run the engine.

Every write goes through ``dues.banking`` services with ``actor=request.user`` (they check the role
again). The proposals come from ``cash_apply(auto=False)``, the same preview the CLI prints, so the
page shows what ``dues cash-apply --auto`` would do, line after line. Accept posts exactly the
proposal shown (customer, invoices, amounts, TDS, charges) through ``cash_apply_confirm``, which
refuses a line already applied and learns how the payer shows up. With HTMX the row is swapped in
place; without it every form is a plain POST that redirects back to the same filtered page.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from dues import clock
from dues.attachments.services import size_text
from dues.banking.models import BankAccount, BankLine
from dues.banking.returns import bank_line_ignore, bank_line_unignore, bank_returns_apply
from dues.banking.selectors import WORKBENCH_STATUSES, bank_accounts, workbench_counts, workbench_lines
from dues.banking.services import bank_statement_import, cash_apply, cash_apply_confirm
from dues.companies.models import Company
from dues.core.errors import DuesError, PermissionDenied, ValidationFailed
from dues.customers.models import Customer
from dues.formats import format_money
from dues.users.permissions import can, require, role_of
from dues.users.roles import ADMIN, AR_MANAGER

from ..fields import read_amount
from ..receipt_selectors import open_debits, visible_customer
from .common import base_context, desk_view, is_htmx, paginate
from .documents import _date_param

DEFAULT_BULK = Decimal("0.95")


def _filters(request: HttpRequest, company: Company) -> tuple[dict, dict, BankAccount | None]:
    errors: dict[str, str] = {}
    f = {k: request.GET.get(k, "").strip() for k in ("account", "status", "from", "to")}
    f["status"] = f["status"] or "unapplied"
    if f["status"] not in WORKBENCH_STATUSES:
        errors["status"] = f"“{f['status']}” is not a status here"
        f["status"] = "unapplied"
    account = None
    if f["account"]:
        account = BankAccount.objects.filter(company=company, code=f["account"]).first()
        if account is None:
            errors["account"] = f"no bank account {f['account']}"
    f["date_from"] = _date_param(request, "from", errors)
    f["date_to"] = _date_param(request, "to", errors)
    return f, errors, account


def _proposals(company: Company, user, account: BankAccount | None, threshold: float = float(DEFAULT_BULK)) -> dict:
    """line id -> the engine's row (``CashApplyLine``) for every unapplied credit: one preview run."""
    result = cash_apply(company, auto=False, threshold=threshold, actor=user, bank_account=account)
    rows = {}
    for x in result.lines:
        x.confidence_pct = round(x.confidence * 100)
        allocated = sum((Decimal(a["amount"]) for a in x.allocations), Decimal(0))
        x.discount = max(Decimal(0), allocated + Decimal(x.on_account) - Decimal(x.amount) - Decimal(x.tds)
                         - Decimal(x.charges))
        rows[x.line_id] = x
    return rows


def _back(request: HttpRequest) -> str:
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return nxt
    return reverse("web:cash")


@desk_view
def workbench(request: HttpRequest, company: Company) -> HttpResponse:
    f, errors, account = _filters(request, company)
    proposals = _proposals(company, request.user, account)
    only = None
    if f["status"] in ("suggested", "unmatched"):
        only = [k for k, x in proposals.items() if x.status == f["status"]]
    lines = workbench_lines(company=company, bank_account=account, status=f["status"], date_from=f["date_from"],
                            date_to=f["date_to"], only_ids=only)
    context = base_context(company, clock.today(), "", "cash")
    context.update(paginate(request, lines))
    page = context["page"]
    page.object_list = list(page.object_list)
    shown = {proposals[x.pk].customer for x in page.object_list if x.pk in proposals and proposals[x.pk].customer}
    names = dict(Customer.objects.filter(company=company, code__in=shown).values_list("code", "name"))
    for line in page.object_list:
        line.p = proposals.get(line.pk)
        if line.p is not None:
            line.p.customer_name = names.get(line.p.customer, "")
    counts = workbench_counts(company=company, bank_account=account)
    counts["suggested"] = sum(1 for x in proposals.values() if x.status == "suggested")
    counts["sure"] = sum(1 for x in proposals.values() if x.status == "suggested" and x.confidence >= DEFAULT_BULK)
    context.update({
        "f": f, "errors": errors, "statuses": WORKBENCH_STATUSES.items(), "accounts": bank_accounts(company=company),
        "counts": counts, "here": request.get_full_path(), "bulk_default": int(DEFAULT_BULK * 100),
        "can_accept": can(request.user, "allocations.change"),
        "can_auto": role_of(request.user) in (ADMIN, AR_MANAGER),
        "filtered": any(f[k] for k in ("account", "from", "to")) or f["status"] != "unapplied",
    })
    return render(request, "web/cash/workbench.html", context, status=400 if errors else 200)


def _row(request: HttpRequest, company: Company, line: BankLine, error: str = "", status: int = 200) -> HttpResponse:
    line.refresh_from_db()
    line.p = None
    if line.status == BankLine.UNAPPLIED and line.direction == BankLine.CREDIT:
        line.p = _proposals(company, request.user, line.bank_account).get(line.pk)
    return render(request, "web/cash/_row.html", {"line": line, "error": error, "here": _back(request),
                                                  "can_accept": can(request.user, "allocations.change"),
                                                  "company": company}, status=status)


def _done(request: HttpRequest, company: Company, line: BankLine, message: str = "", error: str = "") -> HttpResponse:
    if is_htmx(request):
        return _row(request, company, line, error=error)
    if error:
        return _refused(request, error)
    messages.success(request, message)
    return redirect(_back(request))


def _parse_allocations(data) -> tuple[list[tuple[str, Decimal]], list[str]]:
    out, problems = [], []
    for number, text in zip(data.getlist("invoice"), data.getlist("amount"), strict=False):
        amount, error = read_amount(text, required=False)
        if error:
            problems.append(f"against {number}: {error}")
        elif amount:
            out.append((number, amount))
    return out, problems


def _money_field(data, name: str, problems: list[str]) -> Decimal:
    value, error = read_amount(data.get(name) or "", required=False)
    if error:
        problems.append(f"{name.upper() if name == 'tds' else name}: {error}")
    return value or Decimal(0)


def _confirm(request: HttpRequest, company: Company, line: BankLine) -> tuple[str, str]:
    """(message, error) of posting the match in the POST for ``line``."""
    data = request.POST
    customer = visible_customer(user=request.user, company=company, code=data.get("customer", ""))
    problems: list[str] = []
    if customer is None:
        problems.append(f"no customer {data.get('customer', '').strip() or '(none chosen)'}")
    allocations, more = _parse_allocations(data)
    problems += more
    tds, charges = _money_field(data, "tds", problems), _money_field(data, "charges", problems)
    discount = _money_field(data, "discount", problems)
    if problems:
        return "", "; ".join(problems)
    try:
        doc = cash_apply_confirm(line, customer, allocations, tds=tds, charges=charges, discount=discount,
                                 actor=request.user)
    except PermissionDenied:
        raise
    except ValidationFailed as exc:
        return "", "; ".join(p.message for p in exc.problems)
    except DuesError as exc:
        return "", str(exc)
    allocated = sum((a for _, a in allocations), Decimal(0))
    return (f"Receipt {doc.number} posted for {customer.code}: {format_money(allocated)} allocated to "
            f"{len(allocations)} invoice{'s' if len(allocations) != 1 else ''}."), ""


@require_POST
@desk_view
def accept(request: HttpRequest, company: Company, pk: int) -> HttpResponse:
    line = get_object_or_404(BankLine, pk=pk, company=company, direction=BankLine.CREDIT)
    message, error = _confirm(request, company, line)
    if error and not is_htmx(request):
        return _refused(request, f"{line.reference}: not applied. {error}")
    return _done(request, company, line, message, error)


def _refused(request: HttpRequest, error: str) -> HttpResponse:
    messages.error(request, error)
    response = redirect(_back(request))
    response.status_code = 303
    response["X-Dues-Refused"] = "1"
    return response


@desk_view
def change(request: HttpRequest, company: Company, pk: int) -> HttpResponse:
    """Pick another customer and / or edit the invoice amounts, then confirm."""
    line = get_object_or_404(BankLine.objects.select_related("bank_account"), pk=pk, company=company,
                             direction=BankLine.CREDIT)
    error = ""
    if request.method == "POST" and request.POST.get("_confirm"):
        message, error = _confirm(request, company, line)
        if not error:
            messages.success(request, message)
            return redirect(_back(request))
    data = request.POST if request.method == "POST" else request.GET
    proposal = _proposals(company, request.user, line.bank_account).get(line.pk) \
        if line.status == BankLine.UNAPPLIED else None
    code = (data.get("customer") or (proposal.customer if proposal else "") or "").strip()
    customer = visible_customer(user=request.user, company=company, code=code)
    items, open_total = open_debits(company=company, customer=customer) if customer else ([], 0)
    proposed = {a["invoice"]: a["amount"] for a in proposal.allocations} if proposal and proposal.customer == code else {}
    typed = dict(zip(data.getlist("invoice"), data.getlist("amount"), strict=False)) if request.method == "POST" else {}
    left = line.amount - line.applied_amount
    rows = []
    for item in items:
        number = item.document.number
        if number in typed:
            value = typed[number]
        elif proposed:
            value = proposed.get(number, "")
        else:  # another customer: oldest first, up to the credit
            take = min(left, item.residual) if left > 0 else Decimal(0)
            left -= take
            value = f"{take:.2f}" if take > 0 else ""
        rows.append({"item": item, "value": value})
    context = base_context(company, clock.today(), "", "cash")
    context.update({
        "line": line, "proposal": proposal, "customer": customer, "code": code, "rows": rows,
        "open_total": open_total, "error": error, "next": _back(request),
        "tds": data.get("tds", proposal.tds if proposal and proposal.customer == code else "0.00"),
        "charges": data.get("charges", proposal.charges if proposal and proposal.customer == code else "0.00"),
        "discount": data.get("discount", "0.00"),
        "unknown_customer": bool(code) and customer is None,
    })
    return render(request, "web/cash/change.html", context, status=400 if error else 200)


@require_POST
@desk_view
def ignore(request: HttpRequest, company: Company, pk: int) -> HttpResponse:
    line = get_object_or_404(BankLine, pk=pk, company=company)
    try:
        bank_line_ignore(line, reason=request.POST.get("reason", ""), actor=request.user)
    except PermissionDenied:
        raise
    except DuesError as exc:
        if is_htmx(request):
            return _row(request, company, line, error=str(exc))
        return _refused(request, f"{line.reference}: {exc}")
    return _done(request, company, line, f"{line.reference} marked as not a customer's payment.")


@require_POST
@desk_view
def unignore(request: HttpRequest, company: Company, pk: int) -> HttpResponse:
    line = get_object_or_404(BankLine, pk=pk, company=company)
    try:
        bank_line_unignore(line, actor=request.user)
    except PermissionDenied:
        raise
    except DuesError as exc:
        if is_htmx(request):
            return _row(request, company, line, error=str(exc))
        return _refused(request, f"{line.reference}: {exc}")
    return _done(request, company, line, f"{line.reference} is back in the queue.")


@require_POST
@desk_view
def run(request: HttpRequest, company: Company) -> HttpResponse:
    """``preview``: the engine's proposals, nothing written; ``bulk``: accept every proposal at or above N%;
    ``auto``: returns undone and ``cash_apply(auto=True)`` (AR manager and admin)."""
    action = request.POST.get("action", "preview")
    code = request.POST.get("account", "").strip()
    account = BankAccount.objects.filter(company=company, code=code).first() if code else None
    if action == "auto":
        if role_of(request.user) not in (ADMIN, AR_MANAGER):
            raise PermissionDenied("Only an AR manager or an administrator may auto-apply bank credits.")
        returned = [p for p in bank_returns_apply(company, actor=request.user, bank_account=account) if not p.error]
        result = cash_apply(company, auto=True, actor=request.user, bank_account=account)
        s = result.summary
        messages.success(request, f"Auto-applied {s['applied']} of {s['lines']} credit{'s' if s['lines'] != 1 else ''}"
                                  f" at 95% or more; {s['suggested']} wait for a person, {s['unmatched']} unmatched"
                                  f"{f'; {len(returned)} returned by the bank undone' if returned else ''}.")
    elif action == "bulk":
        require(request.user, "allocations.change", "accept bank matches")
        text = request.POST.get("threshold", "").strip().rstrip("%")
        try:
            pct = Decimal(text or "95")
            if not 50 <= pct <= 100:
                raise InvalidOperation
        except InvalidOperation:
            messages.error(request, f"“{text}” is not a confidence between 50 and 100 (per cent).")
            return _refused(request, "Nothing was accepted.")
        threshold = pct / 100
        accepted, failed = 0, []
        for line_id, x in _proposals(company, request.user, account, threshold=float(threshold)).items():
            if x.status != "suggested" or Decimal(str(x.confidence)) < threshold:
                continue
            line = BankLine.objects.get(pk=line_id)
            customer = visible_customer(user=request.user, company=company, code=x.customer or "")
            try:
                cash_apply_confirm(line, customer, [(a["invoice"], Decimal(a["amount"])) for a in x.allocations],
                                   tds=Decimal(x.tds), charges=Decimal(x.charges), discount=x.discount,
                                   actor=request.user)
                accepted += 1
            except PermissionDenied:
                raise
            except (DuesError, AttributeError) as exc:
                failed.append(f"{x.reference}: {exc}")
        messages.success(request, f"Accepted {accepted} match{'es' if accepted != 1 else ''} at {pct:g}% or more.")
        for e in failed[:10]:
            messages.error(request, e)
    else:
        result = cash_apply(company, auto=False, actor=request.user, bank_account=account)
        s = result.summary
        returned = bank_returns_apply(company, actor=request.user, bank_account=account, dry_run=True)
        messages.info(request, f"Matching run on {s['lines']} credit{'s' if s['lines'] != 1 else ''}: "
                               f"{s['suggested']} with a proposal, {s['unmatched']} without; nothing was posted."
                               f"{f' {len(returned)} look returned by the bank (auto-apply undoes them).' if returned else ''}")
    return redirect(_back(request))


@require_POST
@desk_view
def upload(request: HttpRequest, company: Company) -> HttpResponse:
    """A bank statement file into a bank account (the import the CLI runs), then back to the workbench."""
    upload = request.FILES.get("file")
    if upload is None:
        return _refused(request, "Choose a statement file to import.")
    if upload.size > settings.IMPORT_MAX_BYTES:  # refused by its size: not read, nothing written
        return _refused(request, f"{upload.name} was not imported: larger than "
                                 f"{size_text(settings.IMPORT_MAX_BYTES)} (DUES_IMPORT_MAX_BYTES).")
    try:
        result = bank_statement_import(company=company, path=upload.name, data=upload.read(),
                                       account=request.POST.get("account", "").strip() or None,
                                       preset=request.POST.get("preset", "generic") or "generic", actor=request.user)
    except PermissionDenied:
        raise
    except ValidationFailed as exc:
        return _refused(request, f"{upload.name} was not imported: " + "; ".join(p.message for p in exc.problems[:5]))
    except DuesError as exc:
        return _refused(request, f"{upload.name} was not imported: {exc}")
    messages.success(request, f"{upload.name}: {result.created} new line{'s' if result.created != 1 else ''} in "
                              f"{', '.join(result.accounts)}; {result.duplicates} already there.")
    return redirect(_back(request))
