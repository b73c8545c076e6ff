"""The REST API: its fixed points, tokens, scoping by role, every role against every endpoint, idempotent creates."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client

from dues import clock
from dues.users.roles import role_can

from . import api_fixtures
from .api_fixtures import ROLES, auth

api_book = api_fixtures.api_book  # the fixture

pytestmark = pytest.mark.date_sensitive  # "today" is the default as-of date and decides expiry and overdue


def call(client, method, path, token=None, body=None, **headers):
    extra = auth(token) if token else {}
    extra.update(headers)
    if body is None:
        return getattr(client, method)(path, **extra)
    return getattr(client, method)(path, data=json.dumps(body), content_type="application/json", **extra)


def test_open_items_fixed_point(api_book):
    c = Client()
    token = api_book["tokens"]["collector"]
    r = call(c, "get", "/api/v1/customers/C001/open-items?as_of=2026-12-01", token)
    assert r.status_code == 200
    assert r.json() == {"customer": "C001", "as_of": "2026-12-01", "total": "105900.00", "items": [
        {"number": "INV-1", "date": "2026-09-01", "due_date": "2026-10-01", "amount": "118000.00",
         "residual": "100000.00"},
        {"number": "INV-2", "date": "2026-11-01", "due_date": "2026-12-01", "amount": "5900.00", "residual": "5900.00"},
    ]}
    # as the ledger stood before the receipt (and before INV-2)
    r = call(c, "get", "/api/v1/customers/C001/open-items?as_of=2026-10-01", token)
    assert r.json()["items"] == [{"number": "INV-1", "date": "2026-09-01", "due_date": "2026-10-01",
                                  "amount": "118000.00", "residual": "118000.00"}]
    assert r.json()["total"] == "118000.00"
    r = call(c, "get", "/api/v1/customers/C001/open-items?as_of=2026-13-01", token)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "as_of"


def test_missing_bad_revoked_and_expired_tokens_get_401(api_book):
    from dues.api.models import ApiToken
    from dues.api.tokens import token_add, token_revoke

    c = Client()
    path = "/api/v1/customers/C001/open-items"
    assert call(c, "get", path).status_code == 401
    r = call(c, "get", path, "dues_deadbeef_nonsense")
    assert r.status_code == 401 and r.json()["detail"] and r.json()["errors"] == []
    good = api_book["tokens"]["admin"]
    assert call(c, "get", path, good[:-1] + ("A" if good[-1] != "A" else "B")).status_code == 401
    assert call(c, "get", path, good).status_code == 200
    token = ApiToken.objects.get(user__username="api-admin")
    assert token.last_used_at is not None and abs(token.last_used_at - clock.now()) < timedelta(minutes=1)
    assert good not in (token.digest, token.prefix) and len(token.digest) == 64
    token_revoke(ref=str(token.pk), actor="test")
    assert call(c, "get", path, good).status_code == 401
    issued, text = token_add(username="api-admin", name="short", expires_on=clock.today(), actor="test")
    assert call(c, "get", path, text).status_code == 200  # works through its last day
    ApiToken.objects.filter(pk=issued.pk).update(expires_on=clock.today() - timedelta(days=1))
    assert call(c, "get", path, text).status_code == 401


def test_a_sales_token_sees_only_its_salespersons_customers(api_book):
    c = Client()
    token = api_book["tokens"]["sales"]
    r = call(c, "get", "/api/v1/customers", token)
    assert [x["code"] for x in r.json()["items"]] == ["C001"] and r.json()["total"] == 1
    for path in ("/api/v1/customers/C002", "/api/v1/customers/C002/open-items", "/api/v1/customers/C002/statement",
                 "/api/v1/customers/C002/credit-check", "/api/v1/customers/NOPE/open-items"):
        r = call(c, "get", path, token)
        assert r.status_code == 404, path
    # the same answer for another's customer as for one that does not exist: no enumeration
    assert call(c, "get", "/api/v1/customers/C002", token).json()["detail"].replace("C002", "X") == \
        call(c, "get", "/api/v1/customers/NOPE", token).json()["detail"].replace("NOPE", "X")
    assert [x["number"] for x in call(c, "get", "/api/v1/invoices", token).json()["items"]] == ["INV-1", "INV-2"]
    ageing = call(c, "get", "/api/v1/ageing?as_of=2026-12-01", token).json()
    assert ageing["total"] == "105900.00" and ageing["customers"] == 1
    everyone = call(c, "get", "/api/v1/ageing?as_of=2026-12-01", api_book["tokens"]["auditor"]).json()
    assert everyone["total"] == "117700.00" and everyone["customers"] == 2


def test_pagination_filters_and_error_bodies(api_book, make_customer):
    for i in range(3, 8):
        make_customer(f"C00{i}", segment="retail" if i % 2 else "wholesale")
    c = Client()
    token = api_book["tokens"]["billing"]
    r = call(c, "get", "/api/v1/customers?limit=2&offset=2", token).json()
    assert (r["total"], r["limit"], r["offset"]) == (7, 2, 2) and [x["code"] for x in r["items"]] == ["C003", "C004"]
    r = call(c, "get", "/api/v1/customers?segment=retail", token).json()
    assert [x["code"] for x in r["items"]] == ["C003", "C005", "C007"]
    r = call(c, "get", "/api/v1/customers?q=kaveri", token).json()
    assert [x["code"] for x in r["items"]] == ["C002"]
    r = call(c, "post", "/api/v1/customers", token, {"code": "C010", "name": "Bad", "gstin": "27AAAAA0000A1Z0",
                                                      "email": "not-mail"})
    assert r.status_code == 422
    body = r.json()
    assert set(body) == {"detail", "errors"} and {"gstin", "email"} <= {e["field"] for e in body["errors"]}
    r = call(c, "post", "/api/v1/customers", token, {"code": "C010", "name": "Good", "credit_limit": "50000"})
    assert r.status_code == 201 and r.json()["credit_limit"] == "50000.00"
    r = call(c, "patch", "/api/v1/customers/C010", token, {"region": "West"})
    assert r.status_code == 200 and r.json()["region"] == "West" and r.json()["name"] == "Good"
    r = call(c, "post", "/api/v1/invoices", token, {"number": "INV-9", "customer": "C001", "date": "2026-12-01"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "amount"


def test_statement_credit_check_and_worklist(api_book):
    c = Client()
    token = api_book["tokens"]["ar_manager"]
    s = call(c, "get", "/api/v1/customers/C001/statement?as_of=2026-11-30&start=2026-10-01", token).json()
    assert (s["opening"], s["closing"]) == ("118000.00", "105900.00")
    assert [ln["number"] for ln in s["lines"]] == ["RCT-1", "INV-2"]
    ok = call(c, "get", "/api/v1/customers/C001/credit-check?amount=50000&allowed_overdue_days=3650", token).json()
    assert ok["ok"] is True and ok["exposure"] == "155900.00" and ok["available"] == "44100.00"
    over = call(c, "get", "/api/v1/customers/C001/credit-check?amount=100000&allowed_overdue_days=3650",
                token).json()
    assert over["ok"] is False and "credit limit" in over["reasons"][0]
    late = call(c, "get", "/api/v1/customers/C001/credit-check?amount=1&allowed_overdue_days=0", token).json()
    assert late["ok"] is False and late["oldest_overdue_days"] == (clock.today() - late_due()).days
    items = call(c, "get", "/api/v1/worklist", token).json()["items"]
    assert {i["customer"] for i in items} == {"C001", "C002"}
    items = call(c, "get", "/api/v1/worklist", api_book["tokens"]["sales"]).json()["items"]
    assert {i["customer"] for i in items} == {"C001"}


def late_due():
    from datetime import date

    return date(2026, 10, 1)


# --- every role against every endpoint --------------------------------------------------------------------

READS = ["/api/v1/customers", "/api/v1/customers/C001", "/api/v1/customers/C001/open-items",
         "/api/v1/customers/C001/statement", "/api/v1/customers/C001/credit-check?amount=10", "/api/v1/ageing",
         "/api/v1/invoices", "/api/v1/receipts", "/api/v1/allocations", "/api/v1/promises", "/api/v1/disputes",
         "/api/v1/worklist"]


def writes(role: str) -> list[tuple[str, str, str, dict]]:
    n = role.upper()
    return [
        ("customers.change", "post", "/api/v1/customers", {"code": f"N-{n}", "name": "New"}),
        ("customers.change", "patch", "/api/v1/customers/C001", {"region": f"R-{n}"}),
        ("invoices.post", "post", "/api/v1/invoices", {"number": f"I-{n}", "customer": "C001", "date": "2026-12-01",
                                                       "amount": "1180.00", "taxable_value": "1000.00"}),
        ("receipts.post", "post", "/api/v1/receipts", {"number": f"R-{n}", "customer": "C001", "date": "2026-12-01",
                                                       "amount": "100.00"}),
        ("allocations.change", "post", "/api/v1/allocations", {"credit": "ONACC", "invoice": "INV-2", "amount": "1.00"}),
        ("collections.act", "post", "/api/v1/promises", {"customer": "C001", "amount": "1000.00",
                                                          "promised_date": "2031-12-31"}),
        ("collections.act", "post", "/api/v1/disputes", {"invoice": "INV-2", "amount": "1.00", "reason": "price"}),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_every_role_against_every_endpoint(api_book, post, role):
    from decimal import Decimal

    post("receipt", "ONACC", api_book["customers"]["C001"], "2026-11-20", "500.00")
    c = Client()
    token = api_book["tokens"][role]
    for path in READS:
        r = call(c, "get", path, token)
        expected = 200
        assert r.status_code == expected, (role, path, r.content)
    for capability, method, path, body in writes(role):
        r = call(c, method, path, token, body)
        if role_can(role, capability):
            assert r.status_code in (200, 201), (role, path, r.content)
        else:
            assert r.status_code == 403, (role, path, r.content)
            assert r.json()["detail"] and r.json()["errors"] == []
    # resolving a dispute: collections.act, on a dispute of a customer the token may see
    from dues.collections.services.disputes import dispute_open

    dispute = dispute_open(company=api_book["customers"]["C002"].company, invoice="INV-3", amount=Decimal("10"),
                           reason="price", owner="sales", actor="test")
    r = call(c, "post", f"/api/v1/disputes/{dispute.pk}/resolve", token, {"rejected": True})
    if not role_can(role, "collections.act"):
        assert r.status_code == 403
    else:
        assert r.status_code == 200 and r.json()["status"] == "rejected"
    # and nothing without a token
    for path in READS:
        assert call(c, "get", path).status_code == 401
    for _, method, path, body in writes(role):
        assert call(c, method, path, None, body).status_code == 401


# --- idempotent creates -------------------------------------------------------------------------------------

RECEIPT = {"number": "RCT-9", "customer": "C001", "date": "2026-12-01", "amount": "5900.00",
           "allocations": [{"invoice": "INV-2", "amount": "5900.00"}]}


def test_a_retried_create_posts_once_and_a_reused_key_with_another_body_is_refused(api_book):
    from dues.ledger.models import Document

    c = Client()
    token = api_book["tokens"]["collector"]
    first = call(c, "post", "/api/v1/receipts", token, RECEIPT, HTTP_IDEMPOTENCY_KEY="k-1")
    again = call(c, "post", "/api/v1/receipts", token, RECEIPT, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert first.json()["residual"] == "0.00"
    assert Document.objects.filter(number="RCT-9").count() == 1
    other = call(c, "post", "/api/v1/receipts", token, {**RECEIPT, "amount": "1.00", "allocations": []},
                 HTTP_IDEMPOTENCY_KEY="k-1")
    assert other.status_code == 422 and other.json()["errors"][0]["field"] == "Idempotency-Key"
    # without a key the duplicate number is refused by the ledger, field named
    dup = call(c, "post", "/api/v1/receipts", token, RECEIPT)
    assert dup.status_code == 422 and dup.json()["errors"][0]["field"] == "number"


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("postgresql" not in __import__("os").environ.get("DUES_DATABASE_URL", ""),
                    reason="concurrent writers need PostgreSQL")
def test_the_same_create_sent_twice_at_once_posts_one_document(api_book):
    from dues.ledger.models import Document

    token = api_book["tokens"]["billing"]
    body = {"number": "INV-C", "customer": "C002", "date": "2026-12-01", "amount": "1180.00",
            "taxable_value": "1000.00"}
    barrier, answers = threading.Barrier(2), []

    def send():
        try:
            barrier.wait()
            r = call(Client(), "post", "/api/v1/invoices", token, body, HTTP_IDEMPOTENCY_KEY="order-77")
            answers.append((r.status_code, r.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [a[0] for a in answers] == [201, 201] and answers[0][1] == answers[1][1]
    assert Document.objects.filter(number="INV-C").count() == 1


def collection_creates():
    promised = (clock.today() + timedelta(days=10)).isoformat()
    return [("/api/v1/promises", {"customer": "C001", "amount": "5000.00", "promised_date": promised}, "amount"),
            ("/api/v1/disputes", {"invoice": "INV-2", "amount": "900.00", "reason": "price"}, "amount")]


def test_promises_disputes_and_allocations_are_idempotent_with_a_key(api_book):
    from dues.collections.models import Dispute, PromiseToPay
    from dues.ledger.models import Allocation

    c, token = Client(), api_book["tokens"]["collector"]
    for path, body, field in collection_creates():
        first = call(c, "post", path, token, body, HTTP_IDEMPOTENCY_KEY=f"k{path}")
        again = call(c, "post", path, token, body, HTTP_IDEMPOTENCY_KEY=f"k{path}")
        assert first.status_code == again.status_code == 201 and first.json() == again.json()
        other = call(c, "post", path, token, {**body, field: "1.00"}, HTTP_IDEMPOTENCY_KEY=f"k{path}")
        assert other.status_code == 422 and other.json()["errors"][0]["field"] == "Idempotency-Key"
    assert PromiseToPay.objects.count() == 1 and Dispute.objects.count() == 1
    # an on-account receipt, then its allocation sent twice with one key
    receipt = {"number": "RCT-OA", "customer": "C001", "date": "2026-12-01", "amount": "1000.00"}
    assert call(c, "post", "/api/v1/receipts", token, receipt).status_code == 201
    before = Allocation.objects.count()
    alloc = {"credit": "RCT-OA", "invoice": "INV-1", "amount": "400.00"}
    a1 = call(c, "post", "/api/v1/allocations", token, alloc, HTTP_IDEMPOTENCY_KEY="alloc-1")
    a2 = call(c, "post", "/api/v1/allocations", token, alloc, HTTP_IDEMPOTENCY_KEY="alloc-1")
    assert a1.status_code == a2.status_code == 201 and a1.json() == a2.json()
    assert Allocation.objects.count() == before + 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("postgresql" not in __import__("os").environ.get("DUES_DATABASE_URL", ""),
                    reason="concurrent writers need PostgreSQL")
def test_the_same_promise_and_dispute_sent_twice_at_once_are_created_once(api_book):
    from dues.collections.models import Dispute, PromiseToPay

    token = api_book["tokens"]["collector"]
    for path, body, _field in collection_creates():
        barrier, answers = threading.Barrier(2), []

        def send(path=path, body=body, barrier=barrier, answers=answers):
            try:
                barrier.wait()
                r = call(Client(), "post", path, token, body, HTTP_IDEMPOTENCY_KEY="same-" + path)
                answers.append((r.status_code, r.json()))
            finally:
                connection.close()

        threads = [threading.Thread(target=send) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert [a[0] for a in answers] == [201, 201] and answers[0][1] == answers[1][1]
    assert PromiseToPay.objects.count() == 1 and Dispute.objects.count() == 1


def test_a_wrong_method_answers_405_with_the_error_body(api_book):
    c, token = Client(), api_book["tokens"]["collector"]
    for method, path, allowed in [("delete", "/api/v1/customers", "GET, POST"), ("put", "/api/v1/promises", None),
                                  ("get", "/api/v1/disputes/1/resolve", "POST")]:
        r = call(c, method, path, token)
        assert r.status_code == 405 and r["Content-Type"] == "application/json"
        body = r.json()
        assert set(body) == {"detail", "errors"} and method.upper() in body["detail"]
        assert r["Allow"] == (allowed or r["Allow"]) and "POST" in r["Allow"]


def test_token_commands(api_book):
    from click.testing import CliRunner

    from dues.api.models import ApiToken
    from dues.cli import api as _api  # noqa: F401  (registers the commands)
    from dues.cli.main import cli

    runner = CliRunner()
    r = runner.invoke(cli, ["--user", "test", "token", "add", "api-auditor", "--name", "erp", "--expires", "2099-01-01"])
    assert r.exit_code == 0, r.output
    text = r.output.strip().splitlines()[-1]
    assert text.startswith("dues_") and " " not in text
    assert call(Client(), "get", "/api/v1/customers", text).status_code == 200
    r = runner.invoke(cli, ["token", "list", "--format", "json"])
    assert text not in r.output and '"erp"' in r.output
    r = runner.invoke(cli, ["--user", "test", "token", "revoke", "erp"])
    assert r.exit_code == 0, r.output
    assert ApiToken.objects.get(name="erp").revoked_at is not None
    assert call(Client(), "get", "/api/v1/customers", text).status_code == 401


def test_the_openapi_document_and_the_interactive_docs(db):
    c = Client()
    doc = c.get("/api/v1/openapi.json").json()
    assert "/api/v1/customers/{code}/open-items" in doc["paths"]
    assert doc["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"
    page = c.get("/api/v1/docs")
    assert page.status_code == 200 and b"/static/ninja/" in page.content  # served here, no CDN
    missing = c.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["errors"] == []
