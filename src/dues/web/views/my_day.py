"""My day: the signed-in collector's page (their home page). Today's figures, follow-ups and promises,
then the worklist of their customers, each row with one-click actions (log a call, take a promise,
raise a dispute, send a statement or reminder with a preview, set the next follow-up) that save over
htmx (the row comes back, focused, offering the next useful action) or as plain forms without
JavaScript (back to the page with a message).

Every write goes through the collections services (rights, checks and audit are theirs)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from dues import clock
from dues.audit.services import actor_name
from dues.collections import selectors as cs
from dues.collections.models import Dispute
from dues.collections.services.activities import activity_log
from dues.collections.services.disputes import dispute_open
from dues.collections.services.outreach import (
    SEND_CHANNELS,
    SEND_TEMPLATES,
    follow_up_set,
    message_draft,
    message_send,
)
from dues.collections.services.promises import promise_add
from dues.companies.models import Company
from dues.core.dates import parse_date
from dues.core.errors import DuesError, ValidationFailed
from dues.core.money import MoneyError, parse_amount
from dues.customers.models import Customer
from dues.formats import format_day, format_money
from dues.users.permissions import customers_visible, require_customer

from .. import day_selectors as ds
from .common import base_context, desk_view, is_htmx, paginate

ACT = "collections.act"
ROWS_PER_PAGE = 25  # the top of the list is the day's work; the rest pages on
CALL_KINDS = ("call", "visit", "meeting", "email", "whatsapp", "sms")
OUTCOMES = ("reached", "no_answer", "promised", "disputed", "refused", "wrong_contact")
# after a call with this outcome, the action offered next
NEXT_AFTER_CALL = {"promised": "promise", "disputed": "dispute", "no_answer": "send", "reached": "follow_up",
                   "refused": "send", "wrong_contact": "follow_up"}
ACTION_NAMES = {"call": "Log a call", "promise": "Take a promise", "dispute": "Raise a dispute",
                "send": "Send statement / reminder", "follow_up": "Set next follow-up"}


def amount_input(text: str) -> Decimal:
    """An amount as typed at the desk: "150000", "1,50,000", "1,50,000.50", "₹1,50,000" (Indian or western
    grouping). The one place My day reads amounts, so a shared form field can replace it."""
    return parse_amount(text)


def _date_input(text: str, field: str, errors: dict) -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return parse_date(text)
    except ValueError:
        errors[field] = f"“{text}” is not a date (use DD-MM-YYYY or YYYY-MM-DD)."
        return None


def _problems(exc: ValidationFailed) -> dict[str, str]:
    found: dict[str, str] = {}
    for p in getattr(exc, "problems", []) or []:
        key = getattr(p, "field", "") or "all"
        found[key] = f"{found[key]}; {p.message}" if key in found else p.message
    return found or {"all": str(exc)}


def _context(company: Company) -> dict:
    today = clock.today()
    return base_context(company, today, "", "my_day") | {
        "today": today, "yesterday": today - timedelta(days=1), "kinds": CALL_KINDS, "outcomes": OUTCOMES,
        "reasons": Dispute.REASONS, "owners": Dispute.OWNERS, "templates": SEND_TEMPLATES, "channels": SEND_CHANNELS,
        "action_names": ACTION_NAMES}


def _rows(company: Company, entries, invoices: bool = False) -> list[dict]:
    """The rows of the worklist entries: the entry, its earliest open promise, and with ``invoices`` its open
    invoices (for the promise and dispute forms of a row on its own); one or two queries."""
    ids = [e.facts.customer_id for e in entries]
    promised = cs.next_promises(company, ids)
    found = ds.open_invoices(company, ids) if invoices else {}
    return [{"entry": e, "f": e.facts, "promise": promised.get(e.facts.customer_id),
             "invoices": found.get(e.facts.customer_id, [])} for e in entries]


@desk_view
def my_day(request: HttpRequest, company: Company) -> HttpResponse:
    today = clock.today()
    who = request.user.get_username()
    visible = customers_visible(request.user, Customer.objects.filter(company=company))
    customers = ds.collector_customers(company, who, visible)
    entries = cs.worklist(company, on=today, customer_ids=customers.values_list("id", flat=True))
    context = _context(company)
    context.update(paginate(request, entries, per_page=ROWS_PER_PAGE))
    due, broken = ds.day_promises(company, customers, today)
    context.update({
        "counts": ds.day_counts(company, actor_name(request.user), customers, today),
        "follow_ups": [e.facts for e in entries if e.facts.follow_up],
        "due_promises": due, "broken_promises": broken, "total": len(entries),
        "rows": _rows(company, list(context["page"].object_list)),
        "reply_suggestions": cs.reply_suggestions(company, customers=customers, limit=50),
        "reply_next": reverse("web:my_day") + "#replies", "show_customer": True,
    })
    context["page_codes"] = {r["f"].code for r in context["rows"]}  # the lists link to these rows in the page
    return render(request, "web/my_day/my_day.html", context)


# --- one row's actions ----------------------------------------------------------------------------------------


def _customer(request: HttpRequest, company: Company, code: str) -> Customer:
    customer = get_object_or_404(Customer, company=company, code=code)
    require_customer(request.user, customer)
    return customer


def _row_response(request: HttpRequest, company: Company, customer: Customer, *, done: str = "",
                  errors: dict | None = None, values: dict | None = None, open_action: str = "",
                  next_action: str = "", preview=None, page: bool = False) -> HttpResponse:
    """htmx: the customer's row again (focused, with the next action open); else back to the page."""
    errors = errors or {}
    if not is_htmx(request) and preview is None and not page:
        if errors:
            messages.error(request, f"{customer.code}: " + "; ".join(errors.values()))
        elif done:
            messages.success(request, f"{customer.code}: {done}")
        return redirect(reverse("web:my_day") + f"#day-{_slug(customer.code)}")
    entries = cs.worklist(company, on=clock.today(), customer_ids=[customer.id])
    context = _context(company)
    if entries:
        row = _rows(company, entries, invoices=True)[0]
    else:  # nothing left to chase today: the row stays, saying so, with its actions
        row = {"f": customer, "gone": True, "promise": None,
               "invoices": ds.open_invoices(company, [customer.id]).get(customer.id, [])}
    context.update({"row": row, "done": done, "form_errors": errors, "values": values or {},
                    "open_action": open_action, "next_action": next_action, "next_label": ACTION_NAMES.get(next_action, ""),
                    "preview": preview, "saved": not page or not open_action,
                    "focus_form": page and bool(open_action)})
    if not is_htmx(request):  # an action's form (or a preview) without JavaScript: a page of its own
        return render(request, "web/my_day/row.html", context)
    return render(request, "web/my_day/_row.html", context, status=400 if errors else 200)


def _slug(code: str) -> str:
    from django.utils.text import slugify

    return slugify(code)


def _values(request: HttpRequest, *names: str) -> dict[str, str]:
    return {n: request.POST.get(n, "").strip() for n in names}


@desk_view
def day_row(request: HttpRequest, company: Company, code: str) -> HttpResponse:
    """The row with one action's form open (``?action=call``): in the row over htmx, else a page of its own.

    The page lists the rows with their action buttons only; a form is fetched when it is wanted."""
    customer = _customer(request, company, code)
    action = request.GET.get("action", "")
    return _row_response(request, company, customer, open_action=action if action in ACTION_NAMES else "", page=True)


@desk_view
def day_call(request: HttpRequest, company: Company, code: str) -> HttpResponse:
    """Log a call (or visit, meeting...) with its outcome, the day it happened (today or before) and a follow-up."""
    customer = _customer(request, company, code)
    if request.method != "POST":
        return redirect("web:my_day")
    values = _values(request, "kind", "outcome", "on", "notes", "next_follow_up")
    errors: dict[str, str] = {}
    on = _date_input(values["on"], "on", errors)
    follow = _date_input(values["next_follow_up"], "next_follow_up", errors)
    if values["outcome"] not in OUTCOMES:
        errors["outcome"] = "Choose the outcome."
    if not errors:
        try:
            activity_log(customer=customer, kind=values["kind"] or "call", outcome=values["outcome"],
                         notes=values["notes"], next_follow_up=follow, actor=request.user, on=on)
        except ValidationFailed as exc:
            errors = _problems(exc)
    if errors:
        return _row_response(request, company, customer, errors=errors, values=values, open_action="call")
    kind = values["kind"] or "call"
    day = on or clock.today()
    done = (f"{kind.capitalize()} on {format_day(day)} logged: {values['outcome'].replace('_', ' ')}"
            + (f"; follow up on {format_day(follow)}" if follow else "") + ".")
    return _row_response(request, company, customer, done=done, next_action=NEXT_AFTER_CALL.get(values["outcome"], ""),
                         values={"promise_kind": kind, "taken_on": day.isoformat()})


@desk_view
def day_promise(request: HttpRequest, company: Company, code: str) -> HttpResponse:
    """Take a promise to pay: amount (Indian grouping welcome), date, invoices (blank: on account)."""
    customer = _customer(request, company, code)
    if request.method != "POST":
        return redirect("web:my_day")
    values = _values(request, "amount", "promised_date", "invoices", "notes", "taken_on", "promise_kind")
    errors: dict[str, str] = {}
    amount = None
    try:
        amount = amount_input(values["amount"]) if values["amount"] else None
    except MoneyError:
        errors["amount"] = f"“{values['amount']}” is not an amount (e.g. 1,50,000 or 150000.50)."
    if not values["amount"]:
        errors["amount"] = "How much did they promise?"
    promised_date = _date_input(values["promised_date"], "promised_date", errors)
    if promised_date is None and "promised_date" not in errors:
        errors["promised_date"] = "By when?"
    taken_on = _date_input(values["taken_on"], "taken_on", errors)
    if not errors:
        invoices = [n for n in values["invoices"].replace(";", ",").replace(" ", ",").split(",") if n]
        try:
            promise = promise_add(customer=customer, amount=amount, promised_date=promised_date, actor=request.user,
                                  invoices=invoices, notes=values["notes"], taken_on=taken_on,
                                  kind=values["promise_kind"] or "call")
        except ValidationFailed as exc:
            errors = _problems(exc)
    if errors:
        return _row_response(request, company, customer, errors=errors, values=values, open_action="promise")
    done = f"Promise of {format_money(promise.amount)} by {format_day(promised_date)} taken."
    return _row_response(request, company, customer, done=done, next_action="send")


@desk_view
def day_dispute(request: HttpRequest, company: Company, code: str) -> HttpResponse:
    """Raise a dispute on one of the customer's open invoices (it leaves dunning until resolved)."""
    customer = _customer(request, company, code)
    if request.method != "POST":
        return redirect("web:my_day")
    values = _values(request, "invoice", "amount", "reason", "owner", "notes")
    errors: dict[str, str] = {}
    amount = None
    try:
        amount = amount_input(values["amount"]) if values["amount"] else None
    except MoneyError:
        errors["amount"] = f"“{values['amount']}” is not an amount (e.g. 1,50,000 or 150000.50)."
    if not values["amount"] and "amount" not in errors:
        errors["amount"] = "How much of it is disputed?"
    if not values["invoice"]:
        errors["document"] = "Which invoice?"
    elif not customer.documents.filter(number=values["invoice"]).exists():
        errors["document"] = f"{customer.code} has no invoice {values['invoice']}."
    if not errors:
        try:
            dispute = dispute_open(company=company, invoice=values["invoice"], amount=amount, reason=values["reason"],
                                   owner=values["owner"], actor=request.user, notes=values["notes"])
        except ValidationFailed as exc:
            errors = _problems(exc)
    if errors:
        return _row_response(request, company, customer, errors=errors, values=values, open_action="dispute")
    done = (f"Dispute on {dispute.document.number} ({format_money(dispute.amount)}, {values['reason'].replace('_', ' ')}) "
            "raised; the invoice is left out of dunning until it is resolved.")
    return _row_response(request, company, customer, done=done, next_action="follow_up")


@desk_view
def day_follow_up(request: HttpRequest, company: Company, code: str) -> HttpResponse:
    customer = _customer(request, company, code)
    if request.method != "POST":
        return redirect("web:my_day")
    values = _values(request, "next_follow_up", "notes")
    errors: dict[str, str] = {}
    on = _date_input(values["next_follow_up"], "next_follow_up", errors)
    if on is None and not errors:
        errors["next_follow_up"] = "When?"
    if not errors:
        try:
            follow_up_set(customer=customer, on=on, actor=request.user, notes=values["notes"])
        except ValidationFailed as exc:
            errors = _problems(exc)
    if errors:
        return _row_response(request, company, customer, errors=errors, values=values, open_action="follow_up")
    return _row_response(request, company, customer, done=f"Next follow-up set for {format_day(on)}.")


@desk_view
def day_send(request: HttpRequest, company: Company, code: str) -> HttpResponse:
    """GET: the preview of a template for the customer (in the row over htmx, else a page); POST: send it."""
    customer = _customer(request, company, code)
    data = request.POST if request.method == "POST" else request.GET
    values = {n: data.get(n, "").strip() for n in ("template", "channel")}
    values["template"] = values["template"] or "statement"
    values["channel"] = values["channel"] or "email"
    if request.method != "POST":
        try:
            draft = message_draft(company=company, customer=customer, template=values["template"],
                                  channel=values["channel"], actor=request.user, with_attachments=False)
        except ValidationFailed as exc:
            return _row_response(request, company, customer, errors=_problems(exc), values=values, open_action="send")
        return _row_response(request, company, customer, values=values, open_action="send", preview=draft)
    errors: dict[str, str] = {}
    try:
        draft, _ = message_send(company=company, customer=customer, template=values["template"],
                                channel=values["channel"], actor=request.user)
    except ValidationFailed as exc:
        errors = _problems(exc)
    except DuesError as exc:
        errors = {"all": str(exc)}
    if errors:
        return _row_response(request, company, customer, errors=errors, values=values, open_action="send")
    attached = f" ({', '.join(draft.attachment_names)} attached)" if draft.attachments else ""
    done = f"{values['template'].replace('-', ' ').capitalize()} sent by {values['channel']} to {', '.join(draft.to)}{attached}."
    return _row_response(request, company, customer, done=done, next_action="follow_up")
