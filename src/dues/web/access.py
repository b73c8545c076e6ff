"""Who may call which address, and with which method: the one table, and the middleware that enforces it.

Every route of ``dues.urls`` has a rule here, keyed by its URL name (``web:receipt_new``, ``api-v1:…``,
``portal:…``): for each HTTP method it answers, the capability (``dues.users.roles``) a user must hold, or
one of the markers below. A method the rule does not name is refused with 405; a route without a rule is
refused with 403 and fails ``tests/integration/test_access_matrix.py``, so a new view cannot go out
unguarded. HEAD is answered as GET.

The table is the gate, not the whole story: services still check the finer rules (which kinds a role
may post, which customers a salesperson sees) and refuse with ``PermissionDenied``; a view keeps its
own reaction to that (the 403 page of ``web.views.common.desk_view``, the API's JSON error).
"""

from __future__ import annotations

import functools
from collections import defaultdict

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from dues.users.permissions import can, role_of
from dues.users.roles import IMPORT_CAPABILITY

#: anyone, signed in or not (the login page, the WhatsApp webhook that checks its own signature)
PUBLIC = "public"
#: the customer portal: no login; the view refuses unless the address carries a live link token
PORTAL_TOKEN = "portal-token"
#: Django's admin site: its own staff login and model permissions
ADMIN_SITE = "admin-site"

MARKERS = frozenset({PUBLIC, PORTAL_TOKEN, ADMIN_SITE})

Need = str | tuple[str, ...]  # one capability, or any one of several

DESK = "desk.view"
ACT = "collections.act"
REPORTS = "reports.view"
POLICIES = "collections.policies"  # admin and AR manager: dunning policies, jobs, collection targets
CANCEL_ANY = ("invoices.post", "receipts.post", "writeoffs.post")  # the service checks the document's kind
IMPORT_ANY = tuple(sorted(set(IMPORT_CAPABILITY.values())))  # the page offers only the kinds the role may import


def _read(need: Need) -> dict[str, Need]:
    return {"GET": need}


def _post(need: Need) -> dict[str, Need]:
    return {"POST": need}


def _both(get: Need, post: Need | None = None) -> dict[str, Need]:
    """A page that shows a form (GET) and takes it (POST); a POST-only action that answers a stray GET
    with a redirect back is listed this way too, its GET needing what reading the page needs."""
    return {"GET": get, "POST": get if post is None else post}


RULES: dict[str, dict[str, Need]] = {
    # --- desk: sign-in and the pages everyone with a role reads
    "web:login": _both(PUBLIC),
    "web:login_code": _both(PUBLIC),  # the second step acts only on the session's pending sign-in
    "web:logout": _post(PUBLIC),
    "web:dashboard": _read(DESK),
    "web:search": _read(DESK),
    "web:saved_filter_save": _post(DESK),  # a user's own filters
    "web:saved_filter_delete": _post(DESK),
    "web:bulk": _post(REPORTS),  # export: reports.view; assign, hold, statements: the service asks collections.act
    # --- customers
    "web:customers": _read(DESK),
    "web:customer": _read(DESK),
    "web:timeline": _read(DESK),
    "web:customer_new": _both("customers.change"),
    "web:customer_edit": _both("customers.change"),
    "web:customer_note": _both(DESK, (ACT, "customers.change")),
    "web:customer_portal_link": _both(ACT),
    "web:customer_credit_hold": _both(DESK, ("credit.hold", "credit.override")),  # place / release
    "web:customer_sent_pdf": _read(DESK),
    "web:customer_statement_pdf": _read(DESK),
    "web:credit_review": _both("credit.override"),
    # --- collections
    "web:my_day": _read(ACT),
    "web:day_row": _read(ACT),
    "web:day_call": _both(ACT),
    "web:day_promise": _both(ACT),
    "web:day_dispute": _both(ACT),
    "web:day_send": _both(ACT),
    "web:day_follow_up": _both(ACT),
    "web:reply_accept": _both(ACT),
    "web:reply_dismiss": _both(ACT),
    "web:worklist": _read(ACT),
    "web:worklist_log": _both(ACT),
    "web:promises": _read(DESK),
    "web:disputes": _read(DESK),
    "web:dispute_new": _both(ACT),
    "web:dispute_resolve": _both(ACT),
    "web:dispute_attachment": _read(DESK),
    "web:dunning_preview": _read(ACT),
    "web:templates": _read(ACT),
    "web:template_edit": _both(ACT),
    "web:policies": _both(DESK, POLICIES),
    "web:policy_edit": _both(DESK, POLICIES),
    # --- documents, proofs, receipts and allocation
    "web:invoices": _read(DESK),
    "web:receipts": _read(DESK),
    "web:credit_notes": _read(DESK),
    "web:document": _read(DESK),
    "web:document_cancel": _both(DESK, CANCEL_ANY),
    "web:proof_upload": _both("attachments.add"),
    "web:proof_file": _read(DESK),
    "web:receipt_new": _both("receipts.post"),
    "web:receipt_customers": _read("receipts.post"),
    "web:allocate": _both("allocations.change"),
    "web:allocation_undo": _post("allocations.change"),
    # --- reports, imports, jobs, audit
    "web:ageing": _read(REPORTS),
    "web:ageing_items": _read(REPORTS),
    "web:trends": _both("customers.view_all", POLICIES),
    "web:imports": _both(IMPORT_ANY),
    "web:jobs": _both(REPORTS, POLICIES),
    "web:audit": _both("audit.view"),  # POST: "verify now" reads the chain, changes nothing
    # --- billing queue
    "web:billing": _read("billing.run"),
    "web:billing_decide": _both("billing.approve"),
    "web:billing_pdf": _read("billing.run"),
    "web:billing_note_raise": _both("billing.run"),
    "web:billing_note_decide": _both("billing.approve"),
    "web:billing_note_pdf": _read("billing.run"),
    # --- cash application workbench
    "web:cash": _read("receipts.post"),
    "web:cash_run": _post("receipts.post"),
    "web:cash_upload": _post("receipts.post"),
    "web:cash_accept": _post("allocations.change"),
    "web:cash_change": _both("allocations.change"),
    "web:cash_ignore": _post("receipts.post"),
    "web:cash_unignore": _post("receipts.post"),
    # --- ledger clearance and balance confirmations
    "web:reconcile": _both(REPORTS),  # POST uploads their ledger and compares; writes nothing
    "web:reconcile_export": _read(REPORTS),
    "web:reconcile_followups": _both(REPORTS, (ACT, "receipts.post")),  # book TDS needs receipts.post
    "web:confirmations": _read(REPORTS),
    "web:confirmation": _read(REPORTS),
    "web:confirmation_letter": _read(REPORTS),
    "web:confirmation_send": _both(ACT),
    "web:confirmation_remind": _both(ACT),
    "web:confirmation_reply": _both(ACT),
    # --- customer portal (token in the address, no login); GET and POST alike, as before the table: a POST
    # to a page that only shows answers as a GET would, so a link learns nothing from the method
    "portal:home": _both(PORTAL_TOKEN),
    "portal:statement_pdf": _both(PORTAL_TOKEN),
    "portal:invoice": _both(PORTAL_TOKEN),
    "portal:invoice_pdf": _both(PORTAL_TOKEN),
    "portal:invoice_proof": _both(PORTAL_TOKEN),
    "portal:invoice_dispute": _both(PORTAL_TOKEN),
    "portal:receipt": _both(PORTAL_TOKEN),
    "portal:confirm": _both(PORTAL_TOKEN),
    "portal:promise": _both(PORTAL_TOKEN),
    "portal:paid": _both(PORTAL_TOKEN),
    "portal:pay": _both(PORTAL_TOKEN),
    "portal:pay_qr": _both(PORTAL_TOKEN),
    "portal:pay_gateway": _both(PORTAL_TOKEN),
    # --- probes of the load balancer and the container (docs/deployment.md): no login, nothing private
    "healthz": _read(PUBLIC),
    "readyz": _read(PUBLIC),
    # --- webhooks and the API's catch-all
    "whatsapp_webhook": _both(PUBLIC),  # GET: Meta's verification handshake; POST: signed events
    "api_not_found": {m: PUBLIC for m in ("GET", "POST", "PUT", "PATCH", "DELETE")},
    # --- REST API (bearer token; the token's user must hold the capability)
    # one rule per operation: django-ninja makes one route per operation, and the first route of a path
    # answers every method of it, so the rules of the routes sharing a path are read together
    "api-v1:api-root": _read(PUBLIC),
    "api-v1:openapi-json": _read(PUBLIC),
    "api-v1:openapi-view": _read(PUBLIC),
    "api-v1:customers_list": _read(DESK),  # a salesperson reads their own customers only
    "api-v1:customer_add": _post("customers.change"),
    "api-v1:customer_read": _read(DESK),
    "api-v1:customer_change": {"PATCH": "customers.change"},
    "api-v1:open_items": _read(DESK),
    "api-v1:statement": _read(DESK),
    "api-v1:credit": _read(DESK),
    "api-v1:ageing": _read(REPORTS),
    "api-v1:invoices_list": _read(DESK),
    "api-v1:invoice_post": _post("invoices.post"),
    "api-v1:receipts_list": _read(DESK),
    "api-v1:receipt_post": _post("receipts.post"),
    "api-v1:allocations_list": _read(DESK),
    "api-v1:allocation_add": _post("allocations.change"),
    "api-v1:promises_list": _read(DESK),
    "api-v1:promise_post": _post(ACT),
    "api-v1:disputes_list": _read(DESK),
    "api-v1:dispute_post": _post(ACT),
    "api-v1:dispute_close": _post(ACT),
    "api-v1:worklist": _read(DESK),
}

#: the Django admin: every route under its namespace
NAMESPACE_RULES: dict[str, str] = {"admin": ADMIN_SITE}


@functools.cache
def same_path() -> dict[str, tuple[str, ...]]:
    """URL name → the names of every route with the same path (itself included)."""
    from django.urls import URLResolver, get_resolver

    paths: dict[str, list[str]] = defaultdict(list)

    def walk(patterns, prefix: str, namespace: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern), f"{namespace}{p.namespace}:" if p.namespace else namespace)
            elif p.name:
                paths[prefix + str(p.pattern)].append(namespace + p.name)

    walk(get_resolver().url_patterns, "", "")
    return {name: tuple(names) for names in paths.values() for name in names}


def rule_for(view_name: str) -> dict[str, Need] | str | None:
    """The methods → need of a URL name (merged with its namesakes on the same path), the marker of its
    namespace, or None (no rule: refused)."""
    if view_name in RULES:
        rules = [RULES.get(n) for n in same_path().get(view_name, (view_name,))]
        if len(rules) == 1 or any(r is None for r in rules):
            return RULES[view_name]
        return {method: need for r in rules for method, need in r.items()}
    namespace = view_name.split(":", 1)[0] if ":" in view_name else ""
    return NAMESPACE_RULES.get(namespace)


def holds(user, need: Need) -> bool:
    return any(can(user, capability) for capability in ((need,) if isinstance(need, str) else need))


def _is_api(view_name: str) -> bool:
    return view_name.startswith("api-v1:") or view_name == "api_not_found"


def refusal_text(user) -> str:
    role = role_of(user)
    if role is None:
        return "Your login has no role at the desk yet; ask an administrator to give you one."
    return f"Your role ({role.replace('_', ' ')}) does not allow this page."


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    from dues.companies.selectors import company_get
    from dues.core.errors import DuesError
    from dues.formats import use_company

    try:
        company = company_get()
    except DuesError:
        return render(request, "web/no_company.html", {"message": message}, status=403)
    with use_company(company):
        return render(request, "web/forbidden.html", {"company": company, "message": message}, status=403)


def _not_allowed(request: HttpRequest, allowed: list[str], api: bool) -> HttpResponse:
    text = ", ".join(allowed)
    if api:
        response = JsonResponse({"detail": f"{request.method} is not allowed here; allowed: {text}",
                                 "errors": [{"field": "method", "message": f"use one of {text}"}]}, status=405)
    else:
        response = HttpResponse(f"{request.method} is not allowed here; allowed: {text}", status=405,
                                content_type="text/plain; charset=utf-8")
    response["Allow"] = text
    return response


def _api_user(request: HttpRequest):
    from dues.api.tokens import token_user

    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token_user(token.strip()) if scheme.lower() == "bearer" and token.strip() else None


def check(request: HttpRequest, view_name: str) -> HttpResponse | None:
    """None when the request may go on to its view; otherwise the refusal (405, 302 to login, 403).
    A request to the API without a valid token goes on: the API answers it 401 with its own body."""
    rule = rule_for(view_name)
    if rule is None:
        return _forbidden(request, f"This address ({view_name or request.path}) has no access rule, so it is "
                                   "closed; tell the developers.")
    if isinstance(rule, str):  # a marker: the site or the view checks for itself
        return None
    api = _is_api(view_name)
    method = "GET" if request.method == "HEAD" else request.method
    if method not in rule:
        return _not_allowed(request, sorted(rule), api)
    need = rule[method]
    if need in MARKERS:
        return None
    if api:
        user = _api_user(request)
        if user is None:
            return None  # the API answers 401 itself (its TokenAuth), with its own error body
        if not holds(user, need):
            role = (role_of(user) or "no role").replace("_", " ")
            return JsonResponse({"detail": f"{user.get_username()} ({role}) may not {request.method} "
                                           f"{request.path}", "errors": []}, status=403)
        return None
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not holds(request.user, need):
        return _forbidden(request, refusal_text(request.user))
    return None


class AccessMiddleware:
    """Apply ``RULES`` before any view runs (after authentication, so ``request.user`` is known)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        match = request.resolver_match
        return check(request, match.view_name if match else "")
