"""The message template editor: the templates the dunning policies use, each customisable per language,
with a preview rendered for a real customer exactly as it would be sent."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from dues import clock
from dues.collections import selectors as cs
from dues.collections.models import LANGUAGES, MessageTemplate
from dues.collections.services.messages import (
    TEMPLATE_DIR,
    TEMPLATE_EDITORS,
    message_template_default,
    message_template_preview,
    message_template_reset,
    message_template_save,
)
from dues.companies.models import Company
from dues.core.errors import ValidationFailed
from dues.customers.models import Customer
from dues.users.permissions import customers_visible, role_of

from .common import base_context, desk_view, is_htmx

ACT = "collections.act"
LANGUAGE_NAMES = dict(LANGUAGES)


def _problems(exc: ValidationFailed) -> dict[str, str]:
    found: dict[str, str] = {}
    for p in getattr(exc, "problems", []) or []:
        key = getattr(p, "field", "") or "all"
        found[key] = f"{found[key]}; {p.message}" if key in found else p.message
    return found or {"all": str(exc)}


def _context(company: Company, section: str = "templates") -> dict:
    return base_context(company, clock.today(), "", section)


@desk_view
def templates(request: HttpRequest, company: Company) -> HttpResponse:
    rows = cs.message_templates_in_use(company)
    for row in rows:
        row["customised"] = {entry["code"] for entry in row["languages"]}
    context = _context(company)
    context.update({"rows": rows, "languages": LANGUAGES, "can_edit": role_of(request.user) in TEMPLATE_EDITORS})
    return render(request, "web/collections/templates.html", context)


def _known(name: str, lang: str) -> None:
    if name.startswith("_") or "/" in name or not (TEMPLATE_DIR / f"{name}.txt").is_file() or lang not in LANGUAGE_NAMES:
        raise Http404("no such message template")


def _channel(company: Company, name: str) -> str:
    from dues.collections.models import DunningStep

    found = (DunningStep.objects.filter(policy__company=company, template=name, active=True)
             .values_list("channel", flat=True).first())
    return found or "email"


@desk_view
def template_edit(request: HttpRequest, company: Company, name: str, lang: str) -> HttpResponse:
    _known(name, lang)
    override = MessageTemplate.objects.filter(company=company, name=name, language=lang).first()
    english = (None if lang == "en" or override
               else MessageTemplate.objects.filter(company=company, name=name, language="en").first())
    default_subject, default_body = message_template_default(name)
    channel = _channel(company, name)
    errors: dict[str, str] = {}
    preview: dict | None = None
    source = override or english
    values = {"subject": source.subject if source else default_subject, "body": source.body if source else default_body,
              "customer": request.GET.get("customer", "").strip()}
    if request.method == "POST":
        action = request.POST.get("action", "save")
        values = {"subject": request.POST.get("subject", ""), "body": request.POST.get("body", "").replace("\r\n", "\n"),
                  "customer": request.POST.get("customer", "").strip()}
        if action == "preview":
            preview = _preview(request, company, name, channel, values)
            if is_htmx(request):
                # 200 even with errors: htmx swaps only successful responses
                return render(request, "web/collections/_template_preview.html", preview)
        elif action == "reset":
            message_template_reset(company=company, name=name, language=lang, actor=request.user)
            messages.success(request, f"“{name}” ({LANGUAGE_NAMES[lang]}) is back to the default wording.")
            return redirect("web:template_edit", name=name, lang=lang)
        else:
            errors = _save(request, company, name, lang, channel, values)
            if not errors:
                messages.success(request, f"Saved “{name}” ({LANGUAGE_NAMES[lang]}): the next dunning run uses it.")
                return redirect("web:template_edit", name=name, lang=lang)
    context = _context(company)
    context.update({"name": name, "lang": lang, "language": LANGUAGE_NAMES[lang], "languages": LANGUAGES,
                    "channel": channel, "override": override, "english": english, "values": values, "errors": errors,
                    "can_edit": role_of(request.user) in TEMPLATE_EDITORS, "preview": preview})
    status = 400 if errors else 200
    return render(request, "web/collections/template_edit.html", context, status=status)


def _save(request: HttpRequest, company: Company, name: str, lang: str, channel: str, values: dict) -> dict:
    try:
        message_template_save(company=company, name=name, language=lang, subject=values["subject"],
                              body=values["body"], channel=channel, actor=request.user)
    except ValidationFailed as exc:
        return _problems(exc)
    return {}


def _preview(request: HttpRequest, company: Company, name: str, channel: str, values: dict) -> dict:
    """The preview's context: the draft rendered for the chosen (or first overdue) customer."""
    visible = customers_visible(request.user, Customer.objects.filter(company=company))
    customer = cs.preview_customer(company, values["customer"], visible)
    context: dict = {"values": values, "errors": {}, "customer": customer, "channel": channel, "company": company}
    if customer is None:
        context["errors"]["customer"] = (f"No customer “{values['customer']}” that you can see." if values["customer"]
                                         else "No customer has anything overdue: type a customer code.")
        return context
    try:
        subject, body = message_template_preview(company=company, customer=customer, name=name,
                                                 subject=values["subject"], body=values["body"], channel=channel)
    except ValidationFailed as exc:
        context["errors"] = _problems(exc)
    else:
        context.update({"subject": subject, "body": body})
    return context
