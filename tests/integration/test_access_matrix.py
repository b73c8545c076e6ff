"""The access table (dues.web.access.RULES) against every route the URL configuration resolves.

For every route × every role (and no login) × every method, the answer is what the table says: a method the
rule does not name is 405; a desk page refuses no login with a redirect to the login page and a role without
the capability with the 403 page; the API answers 401 without a token and 403 for a token whose user lacks
the capability; the portal answers only to a live link token. A route without a rule fails the first test,
so a new view cannot go out unguarded.

The routes are read from ``get_resolver()``, not listed here; one book serves the whole module (built once,
rolled back at the end), each request's writes are rolled back with its test.
"""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from dues.users.roles import CAPABILITIES, ROLES
from dues.web.access import (
    ADMIN_SITE,
    MARKERS,
    NAMESPACE_RULES,
    PORTAL_TOKEN,
    PUBLIC,
    RULES,
    holds,
    rule_for,
)

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]

ANONYMOUS = "anonymous"
WEB_METHODS = ("GET", "POST", "PUT")  # PUT: no desk page takes it, so it stands for every other verb
API_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
MISSING = 999_999  # an object id no fixture made: the view answers 404 *after* the gate let the request in
NOW = "2026-12-06T10:00:00+05:30"
# the project's routes with the Django admin switched on (it is off unless DUES_ADMIN_PATH is set)
ADMIN_URLCONF = "tests.integration.urls_admin"
NEEDS_QUERY = {"web:reconcile_export"}  # answers 404 without ?format= and a reconciliation to export


def _routes(patterns=None, prefix: str = "", namespace: str = "") -> list[tuple[str, str, dict]]:
    """(view name, regex of the full path, converters by name) of every route, admin included."""
    found = []
    for p in get_resolver(ADMIN_URLCONF).url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            found += _routes(p.url_patterns, prefix + p.pattern.regex.pattern.lstrip("^"), ns)
        elif isinstance(p, URLPattern):
            converters = getattr(p.pattern, "converters", {})
            found.append((f"{namespace}{p.name or ''}", prefix + p.pattern.regex.pattern.lstrip("^"), converters))
    return found


ROUTES = _routes()
BY_NAME = {name: (regex, conv) for name, regex, conv in ROUTES if not name.startswith("admin:")}
WEB = sorted(n for n in BY_NAME if n.startswith("web:"))
# django-ninja: one route per operation; the first of a path answers every method, by the rules of them all
API_PATHS: dict[str, list[str]] = {}
for _name, (_regex, _) in BY_NAME.items():
    if _name.startswith("api-v1:"):
        API_PATHS.setdefault(_regex, []).append(_name)
API = sorted(names[0] for names in API_PATHS.values())
API_RULES = {names[0]: {m: need for n in names for m, need in RULES[n].items()} for names in API_PATHS.values()}
PORTAL = sorted(n for n in BY_NAME if n.startswith("portal:"))
OTHER = sorted(n for n in BY_NAME if n.split(":")[0] not in ("web", "api-v1", "portal"))


# --- the book: one per module --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def book(django_db_setup, django_db_blocker):
    """A demo-like book: a customer (Ravi Kumar's), invoices, a receipt allocated to one, a dispute, a
    bank statement line, a dunning policy, a portal link; one user per role and an API token each."""
    from dues.api.tokens import token_add
    from dues.banking.models import BankLine
    from dues.banking.services import bank_statement_import
    from dues.collections.services.disputes import dispute_open
    from dues.collections.services.policies import policy_default
    from dues.companies.services import company_init
    from dues.customers.services import customer_create
    from dues.ledger.models import OpenItem
    from dues.ledger.services import DocumentDraft, allocation_create, document_post
    from dues.portal.links import link_create
    from dues.users.services import user_add

    from .conftest import STATEMENT

    with pytest.MonkeyPatch.context() as mp, django_db_blocker.unblock(), transaction.atomic():
        mp.setenv("DUES_NOW", NOW)
        mp.setattr("django.conf.settings.PASSWORD_HASHERS", ["django.contrib.auth.hashers.MD5PasswordHasher"])
        company, _ = company_init(name="Matrix Traders Pvt Ltd", state_code="27", actor="test")
        customer = customer_create(company=company, data={"code": "C001", "name": "Shree Ganesh Traders",
                                                          "state": "27", "credit_days": "30",
                                                          "salesperson": "Ravi Kumar", "collector": "Ravi Kumar"},
                                   actor="test")

        def post(kind, number, on, amount, **fields):
            return document_post(DocumentDraft(kind=kind, number=number, customer=customer, date=date.fromisoformat(on),
                                               amount=Decimal(amount), **fields), company=company, actor="test")

        invoice = post("invoice", "INV-1", "2025-04-01", "118000.00", taxable_value=Decimal("100000.00"))
        post("invoice", "INV-2", "2025-05-15", "5900.00", taxable_value=Decimal("5000.00"))
        receipt = post("receipt", "RCT-1", "2025-06-01", "1000.00")
        allocation = allocation_create(credit_item=OpenItem.objects.get(document=receipt),
                                       debit_item=OpenItem.objects.get(document=invoice), amount=Decimal("500.00"),
                                       on=date(2025, 6, 1), actor="test")
        dispute = dispute_open(company=company, invoice=invoice, amount=Decimal("100.00"), reason="price",
                               owner="sales", actor="test")
        bank_statement_import(company=company, path="june.csv", data=STATEMENT.encode(), preset="hdfc", actor="test")
        users, tokens = {}, {}
        for role in ROLES:
            users[role] = user_add(username=f"m_{role}", role=role, password="matrix-pass-2025",
                                   person_name="Ravi Kumar", actor="test")[0]
            tokens[role] = token_add(username=users[role].username, actor="test")[1]
        _, portal_token = link_create(customer=customer, actor="test")
        ids = {"web:allocation_undo": allocation.pk, "web:dispute_resolve": dispute.pk,
               "web:policy_edit": policy_default(company).pk, "api-v1:dispute_close": dispute.pk,
               **{f"web:cash_{a}": BankLine.objects.filter(company=company).order_by("pk").first().pk
                  for a in ("accept", "change", "ignore", "unignore")}}
        yield {"users": users, "tokens": tokens, "portal_token": portal_token, "ids": ids, "invoice": invoice,
               "receipt": receipt}
        transaction.set_rollback(True)


def _kwargs(name: str, book: dict, token: str | None = None) -> dict:
    """URL arguments for a route, from the book: a code is C001, a document INV-1 (a credit RCT-1 where one
    is allocated), an id the matching object where the book has one."""
    _, converters = BY_NAME[name]
    out = {}
    for arg in converters:
        if arg == "code":
            out[arg] = "C001"
        elif arg == "kind":
            out[arg] = "receipt" if name == "web:allocate" else "invoice"
        elif arg == "number":
            out[arg] = "RCT-1" if name == "web:allocate" else "INV-1"
        elif arg == "token":
            out[arg] = token if token is not None else book["portal_token"]
        elif arg == "doc_id":
            out[arg] = (book["receipt"] if name == "portal:receipt" else book["invoice"]).pk
        elif arg == "name":
            out[arg] = "reminder-1"
        elif arg == "lang":
            out[arg] = "en"
        else:  # pk, dispute_id
            out[arg] = book["ids"].get(name, MISSING)
    return out


def _url(name: str, book: dict, token: str | None = None) -> str:
    from django.urls import reverse

    return reverse(name, kwargs=_kwargs(name, book, token))


def _client(book: dict, role: str) -> Client:
    client = Client()
    if role != ANONYMOUS:
        client.force_login(book["users"][role])
    return client


def _refused_by_table(response) -> bool:
    body = response.content.decode("utf-8", "replace")
    return response.status_code == 403 and ("does not allow this page" in body or "has no access rule" in body)


# --- every route has a rule; every rule a route --------------------------------------------------------------


def test_every_route_has_a_rule_and_every_rule_a_route():
    names = {name for name, _, _ in ROUTES}
    without = sorted(n for n in names if rule_for(n) is None)
    assert not without, f"routes without an access rule in dues/web/access.py: {without}"
    stale = sorted(set(RULES) - names)
    assert not stale, f"rules for routes that no longer exist: {stale}"
    assert any(n.startswith("admin:") for n in names) and NAMESPACE_RULES["admin"] == ADMIN_SITE
    for name, rule in RULES.items():
        assert rule and set(rule) <= set(API_METHODS), name
        for need in rule.values():
            for capability in (need,) if isinstance(need, str) else need:
                assert capability in MARKERS or capability in CAPABILITIES, (name, capability)


def test_a_route_without_a_rule_is_closed(rf, monkeypatch):
    from dues.web import access

    monkeypatch.delitem(access.RULES, "web:dashboard")
    request = rf.get("/")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    response = access.check(request, "web:dashboard")
    assert response.status_code == 403 and b"has no access rule" in response.content


def test_every_state_changing_desk_route_needs_more_than_a_login():
    """A POST that anyone with a role may send is a deliberate, short list (reading-only or the user's own)."""
    open_posts = sorted(n for n in WEB if RULES[n].get("POST") in ("desk.view", PUBLIC))
    assert open_posts == ["web:login", "web:login_code", "web:logout", "web:saved_filter_delete", "web:saved_filter_save"]


# --- the desk ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [ANONYMOUS, *ROLES])
@pytest.mark.parametrize("name", WEB)
def test_desk_route_answers_each_role_as_the_table_says(book, name, role):
    rule = RULES[name]
    client = _client(book, role)
    url = _url(name, book)
    for method in WEB_METHODS:
        response = getattr(client, method.lower())(url)
        need = rule.get(method)
        where = f"{method} {url} as {role}: {response.status_code}"
        if need is None:
            assert response.status_code == 405, where
            assert set(response["Allow"].split(", ")) == set(rule), where
        elif need == PUBLIC:
            assert response.status_code not in (403, 405), where
        elif role == ANONYMOUS:
            assert response.status_code == 302 and response["Location"].startswith("/login/?next="), where
        elif not holds(book["users"][role], need):
            assert _refused_by_table(response), where
        else:
            assert not _refused_by_table(response) and response.status_code != 405, where
            assert not (response.status_code == 302 and response["Location"].startswith("/login/")), where
            assert response.status_code < 500, where
            if method == "GET" and role == "admin" and MISSING not in _kwargs(name, book).values() \
                    and name not in NEEDS_QUERY:
                assert response.status_code in (200, 302), where  # the arguments name real things
        if name == "web:logout" and response.status_code == 302 and role != ANONYMOUS:
            client.force_login(book["users"][role])


# --- the API -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [ANONYMOUS, *ROLES])
@pytest.mark.parametrize("name", API)
def test_api_route_answers_each_token_as_the_table_says(book, name, role):
    rule = API_RULES[name]
    client = Client()
    headers = {} if role == ANONYMOUS else {"Authorization": f"Bearer {book['tokens'][role]}"}
    url = _url(name, book)
    for method in API_METHODS:
        body = {"data": json.dumps({}), "content_type": "application/json"} if method in ("POST", "PUT", "PATCH") else {}
        response = getattr(client, method.lower())(url, headers=headers, **body)
        need = rule.get(method)
        where = f"{method} {url} as {role}: {response.status_code} {response.content[:200]!r}"
        if need is None:
            assert response.status_code == 405, where
        elif need == PUBLIC:
            assert response.status_code not in (401, 403, 405), where
        elif role == ANONYMOUS:
            assert response.status_code == 401, where
        elif not holds(book["users"][role], need):
            assert response.status_code == 403, where
        else:
            assert response.status_code not in (401, 403, 405) and response.status_code < 500, where


# --- the portal and the rest ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PORTAL)
def test_portal_routes_answer_a_live_token_only(book, name):
    rule = RULES[name]
    assert set(rule.values()) == {PORTAL_TOKEN}
    client = Client()
    for method in WEB_METHODS:
        good = getattr(client, method.lower())(_url(name, book))
        bad = getattr(client, method.lower())(_url(name, book, token="x" * 43))
        where = f"{method} {name}: {good.status_code} / {bad.status_code}"
        if method not in rule:
            assert good.status_code == bad.status_code == 405, where
            continue
        assert good.status_code < 400 or good.status_code == 404 and b"not found" in good.content.lower(), where
        assert bad.status_code in (404, 410), where
        assert b"Shree Ganesh" not in bad.content, where


@pytest.mark.parametrize("name", OTHER)
def test_webhooks_and_catch_alls_are_public_by_rule(book, name):
    assert set(RULES[name].values()) == {PUBLIC}
    regex, _ = BY_NAME[name]
    path = "/" + re.sub(r"\(\?P<[^>]+>[^)]*\)|\$|\\Z", "", regex.replace("(?P<rest>.*)", "x"))
    response = Client().get(path)
    assert not _refused_by_table(response) and response.status_code != 405, (name, path, response.status_code)


@pytest.mark.parametrize("role", [ANONYMOUS, *ROLES])
def test_the_admin_site_keeps_its_own_staff_login(book, role, settings):
    from django.urls import reverse

    settings.ROOT_URLCONF = ADMIN_URLCONF
    response = _client(book, role).get(reverse("admin:index"))
    if role == "admin":  # a Django superuser? no: the admin *role*; the admin site still wants is_staff
        user = book["users"][role]
        assert response.status_code == (200 if user.is_staff else 302)
    else:
        assert response.status_code == 302 and "/login/" in response["Location"]
