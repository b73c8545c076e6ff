"""Customers: the searchable, sortable list and the one-screen customer page."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse

from dues import clock
from dues.collections.models import DunningAction
from dues.collections.selectors import reply_suggestions as cs_reply_suggestions
from dues.companies.models import Company
from dues.core.dates import parse_date
from dues.core.errors import DuesError, ValidationFailed
from dues.core.money import indian_grouping
from dues.core.states import GST_STATES
from dues.credit.selectors import open_hold, release_in_force
from dues.customers.models import CONTACT_ROLES, Customer, CustomerNote
from dues.customers.services import customer_save, note_add, note_pin
from dues.ledger.models import Document
from dues.users.permissions import can, customers_visible, require_customer

from ..customer_page import customer_story
from ..selectors import (
    SORTS,
    audit_trail,
    balances_by_customer,
    customer_position,
    customer_statement,
    customers_ordered,
    fiscal_period,
    recent_documents,
)
from .common import as_of_param, base_context, desk_view, paginate

#: list columns a user may sort by, and whether a click sorts high-to-low first
SORTABLE = {"code": False, "name": False, "outstanding": True, "overdue": True, "credit_use": True, "collector": False}


def _sort_param(request: HttpRequest) -> tuple[str, bool]:
    """``?sort=overdue`` or ``?sort=-overdue``; code ascending by default or when unknown."""
    text = request.GET.get("sort", "").strip()
    descending = text.startswith("-")
    key = text.lstrip("-")
    if key not in SORTS:
        return "code", False
    return key, descending


@desk_view
def customer_list(request: HttpRequest, company: Company) -> HttpResponse:
    as_of, error = as_of_param(request)
    q = request.GET.get("q", "").strip()
    sort, descending = _sort_param(request)
    customers = customers_visible(request.user, Customer.objects.filter(company=company))
    if q:
        customers = customers.filter(Q(code__icontains=q) | Q(name__icontains=q) | Q(gstin__icontains=q))
    ordered = customers_ordered(company=company, as_of=as_of, customers=customers, sort=sort, descending=descending)
    context = base_context(company, as_of, error, "customers")
    context.update(paginate(request, ordered))
    page = list(context["page"].object_list)
    balances = balances_by_customer(company=company, as_of=as_of, customers=page)
    rows = []
    for c in page:
        b = balances.get(c.code)
        c.credit_use = (max(b.outstanding if b else 0, 0) * 100 / c.credit_limit) if c.credit_limit else None
        rows.append((c, b))
    context.update({
        "q": q, "sort": sort, "descending": descending, "rows": rows,
        "sort_links": {key: ("-" if (key == sort and not descending) or (key != sort and first_desc) else "") + key
                       for key, first_desc in SORTABLE.items()},
    })
    return render(request, "web/customers.html", context)


def _period(request: HttpRequest, company: Company, as_of: date) -> tuple[date, date, dict[str, str]]:
    """The statement period from ``?from=&to=``; the fiscal year to the as-of date by default."""
    start, end = fiscal_period(company, as_of)
    errors: dict[str, str] = {}
    for name in ("from", "to"):
        text = request.GET.get(name, "").strip()
        if not text:
            continue
        try:
            value = parse_date(text)
        except ValueError:
            errors[name] = f"“{text}” is not a date (use YYYY-MM-DD)."
            continue
        if name == "from":
            start = value
        else:
            end = value
    if start > end:
        errors["to"] = "The period ends before it starts."
        start, end = fiscal_period(company, as_of)
    return start, end, errors


def _receipt_new_url(code: str) -> str:
    try:
        return f"{reverse('web:receipt_new')}?customer={code}"
    except NoReverseMatch:
        return f"/receipts/new/?customer={code}"


@desk_view
def customer_detail(request: HttpRequest, company: Company, code: str) -> HttpResponse:
    return _detail(request, company, code)


def _detail(request: HttpRequest, company: Company, code: str, note_error: str = "", note_text: str = "") -> HttpResponse:
    as_of, error = as_of_param(request)
    customer = get_object_or_404(Customer, company=company, code=code)
    require_customer(request.user, customer)
    start, end, period_errors = _period(request, company, as_of)
    context = base_context(company, as_of, error, "customers")
    context.update({
        "customer": customer,
        "state_name": GST_STATES.get(customer.state_code, ""),
        "position": customer_position(company=company, customer=customer, as_of=as_of),
        "statement": customer_statement(company=company, customer=customer, start=start, end=end),
        "period_errors": period_errors,
        "period_from": request.GET.get("from", "").strip() if period_errors.get("from") else start.isoformat(),
        "period_to": request.GET.get("to", "").strip() if period_errors.get("to") else end.isoformat(),
        "credit_notes": recent_documents(company=company, customer=customer, kinds=[Document.CREDIT_NOTE],
                                         as_of=as_of),
        "story": customer_story(company=company, customer=customer, as_of=as_of),
        "receipt_new_url": _receipt_new_url(customer.code),
        "audit": audit_trail(object_type="customer", object_id=customer.code, limit=20),
        "can_note": can(request.user, "collections.act") or can(request.user, "customers.change"),
        "note_error": note_error, "note_text": note_text,
        "credit_hold": open_hold(customer), "credit_release": release_in_force(customer, clock.today()),
        "can_credit_hold": can(request.user, "credit.hold"), "can_credit_release": can(request.user, "credit.override"),
        "reply_suggestions": cs_reply_suggestions(company, customer=customer, limit=50),
        "reply_next": request.get_full_path() + "#replies",
    })
    return render(request, "web/customer.html", context, status=400 if note_error else 200)


# --- creating and editing customers -----------------------------------------------------------------------------

CUSTOMER_FIELDS = ("code", "name", "gstin", "state", "terms_kind", "terms_days", "credit_limit", "collector",
                   "salesperson", "email", "phone")
CONTACT_FIELDS = ("id", "name", "role", "email", "phone", "whatsapp", "primary", "delete")
#: where a service's problem is shown on the form (customer_clean names some fields the way a file does)
FORM_FIELD = {"state_code": "state", "terms": "terms_days", "credit_days": "terms_days", "pan": "gstin"}
MAX_CONTACTS = 50


def _form_values(customer: Customer | None) -> tuple[dict, list[dict]]:
    if customer is None:
        return {"terms_kind": "net", "terms_days": "30"}, []
    values = {"code": customer.code, "name": customer.name, "gstin": customer.gstin, "state": customer.state_code,
              "terms_kind": customer.terms_kind, "terms_days": str(customer.terms_days),
              "credit_limit": "" if customer.credit_limit is None else indian_grouping(customer.credit_limit),
              "collector": customer.collector, "salesperson": customer.salesperson, "email": customer.email,
              "phone": customer.phone}
    contacts = [{"id": str(c.pk), "name": c.name, "role": c.role, "email": c.email, "phone": c.phone,
                 "whatsapp": c.whatsapp, "primary": c.is_primary}
                for c in customer.contacts.order_by("-is_primary", "id")]
    return values, contacts


def _posted_contacts(request: HttpRequest) -> list[dict]:
    try:
        count = min(int(request.POST.get("contact-count", "0")), MAX_CONTACTS)
    except ValueError:
        count = 0
    return [{f: request.POST.get(f"contact-{n}-{f}", "").strip() for f in CONTACT_FIELDS} for n in range(count)]


def _people(company: Company, field: str) -> list[str]:
    return sorted({v for v in Customer.objects.filter(company=company).exclude(**{field: ""})
                   .values_list(field, flat=True).distinct()}, key=str.lower)


def _customer_form(request: HttpRequest, company: Company, customer: Customer | None) -> HttpResponse:
    errors: dict[str, str] = {}
    top: list[str] = []
    if request.method == "POST":
        values = {f: request.POST.get(f, "").strip() for f in CUSTOMER_FIELDS}
        contacts = _posted_contacts(request)
        if "_more" not in request.POST:
            try:
                saved = customer_save(company=company, data=values, contacts=contacts, customer=customer,
                                      actor=request.user)
            except ValidationFailed as exc:
                for p in exc.problems:
                    name = FORM_FIELD.get(p.field, p.field)
                    if name in CUSTOMER_FIELDS or name.startswith("contact-"):
                        errors[name] = f"{errors[name]}; {p.message}" if name in errors else p.message
                    else:
                        top.append(p.message)
            except DuesError as exc:
                top.append(str(exc))
            else:
                messages.success(request, f"Customer {saved.code} {'saved' if customer else 'created'}.")
                return redirect("web:customer", saved.code)
        # rows keep their places (the problems name them by index); one empty row to add another
        if "_more" in request.POST or all(c.get("id") or c.get("name") for c in contacts):
            contacts.append({"role": "accounts_payable"})
    else:
        values, contacts = _form_values(customer)
        contacts += [{"role": "accounts_payable"}] * (2 if customer is None else 1)
    rows = [{"n": n, "v": c, "errors": {f: errors.get(f"contact-{n}-{f}") for f in CONTACT_FIELDS}}
            for n, c in enumerate(contacts)]
    context = base_context(company, clock.today(), "", "customers")
    context.update({"customer": customer, "values": values, "errors": errors, "top_errors": top,
                    "contact_rows": rows, "roles": CONTACT_ROLES, "states": sorted(GST_STATES.items()),
                    "collectors": _people(company, "collector"), "salespeople": _people(company, "salesperson")})
    failed = request.method == "POST" and "_more" not in request.POST
    return render(request, "web/customer_form.html", context, status=400 if failed else 200)


@desk_view
def customer_new(request: HttpRequest, company: Company) -> HttpResponse:
    return _customer_form(request, company, None)


@desk_view
def customer_edit(request: HttpRequest, company: Company, code: str) -> HttpResponse:
    customer = get_object_or_404(Customer, company=company, code=code)
    require_customer(request.user, customer)
    return _customer_form(request, company, customer)


# --- notes and the statements and letters sent -------------------------------------------------------------------


@desk_view
def customer_note(request: HttpRequest, company: Company, code: str) -> HttpResponse:
    """Add a note (POST text, pinned) or pin / unpin one (POST note, pin=1|0); back to the page's notes."""
    customer = get_object_or_404(Customer, company=company, code=code)
    require_customer(request.user, customer)
    if request.method != "POST":
        return redirect(reverse("web:customer", args=[customer.code]) + "#notes")
    if request.POST.get("note"):
        note = get_object_or_404(CustomerNote, customer=customer, pk=request.POST["note"])
        pin = request.POST.get("pin") == "1"
        note_pin(note=note, pinned=pin, actor=request.user)
        messages.success(request, "Note pinned on top." if pin else "Note unpinned.")
    else:
        try:
            note_add(customer=customer, text=request.POST.get("text", ""), pinned=bool(request.POST.get("pinned")),
                     actor=request.user)
        except ValidationFailed as exc:
            return _detail(request, company, customer.code, note_error=exc.problems[0].message,
                           note_text=request.POST.get("text", ""))
        messages.success(request, "Note added.")
    return redirect(reverse("web:customer", args=[customer.code]) + "#notes")


@desk_view
def customer_portal_link(request: HttpRequest, company: Company, code: str) -> HttpResponse:
    """Issue a 30-day customer portal link (POST); the link is shown once, in the page's message."""
    from dues.portal.links import link_create, portal_url

    customer = get_object_or_404(Customer, company=company, code=code)
    require_customer(request.user, customer)
    if request.method == "POST":
        link, token = link_create(customer=customer, actor=request.user, days=30)
        messages.success(request, f"Portal link for {customer.code} (works until {link.expires_at.date():%d-%m-%Y}; "
                                  f"shown only now): {portal_url(token)}")
    return redirect(reverse("web:customer", args=[customer.code]))


@desk_view
def customer_sent_pdf(request: HttpRequest, company: Company, code: str, pk: int) -> HttpResponse:
    """The PDF a statement or letter sent to the customer carried (made again for its date)."""
    from dues.collections.services.dunning import sent_pdf

    customer = get_object_or_404(Customer, company=company, code=code)
    require_customer(request.user, customer)
    action = get_object_or_404(DunningAction.objects.select_related("step", "customer", "company"), company=company,
                               customer=customer, pk=pk)
    try:
        name, content = sent_pdf(action)
    except DuesError as exc:
        raise Http404(str(exc)) from exc
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


@desk_view
def customer_statement_pdf(request: HttpRequest, company: Company, code: str) -> HttpResponse:
    """The statement of account for the page's period (``?from=&to=``) as the PDF a customer is sent."""
    from dues.documents.statements import render_statement

    customer = get_object_or_404(Customer, company=company, code=code)
    require_customer(request.user, customer)
    as_of, _error = as_of_param(request)
    start, end, _errors = _period(request, company, as_of)
    response = HttpResponse(render_statement(company, customer, start, end), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="statement-{customer.code.replace("/", "-")}-{end.isoformat()}.pdf"'
    return response
