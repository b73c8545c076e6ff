"""The REST API at ``/api/v1/`` (django-ninja), over the same services and selectors as the web app.

Every request carries ``Authorization: Bearer dues_...`` (``dues token add``); the token's user acts,
with their role's capabilities (``dues.users.permissions.can``) and, for sales, only their own
customers: a customer outside the token's scope answers 404, exactly like one that does not exist.
Errors always answer ``{"detail": ..., "errors": [{"field", "message"}]}``; dates are ISO; amounts
are strings with two decimals. Creates of invoices, receipts, allocations, promises and disputes honour an ``Idempotency-Key`` header;
a method an address does not take answers 405 with the same error body and an ``Allow`` header.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated

from django.db import transaction
from django.db.models import Q
from ninja import Field, Header, NinjaAPI, Path, Query, Schema, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer

from dues import clock
from dues.collections import selectors as cs
from dues.collections.services.disputes import dispute_open, dispute_resolve
from dues.collections.services.promises import promise_add
from dues.companies.selectors import company_get
from dues.core.errors import DuesError, PermissionDenied, ValidationFailed
from dues.customers.models import Customer
from dues.customers.services import customer_create, customer_update
from dues.ledger.models import Allocation, Document, OpenItem
from dues.ledger.services import DocumentDraft, LineDraft, allocation_create, document_post
from dues.reporting.selectors import DUE, ageing_summary, outstanding, statement_of_account
from dues.users.permissions import SALES, can, customers_visible, person_name, require, role_of

from .models import IdempotencyKey
from .tokens import token_user

NO_NUL = r"^[^\x00]*$"
Day = Annotated[date, Field(ge=date(1900, 1, 1), le=date(2199, 12, 31))]
Money = Annotated[Decimal, Field(gt=0, max_digits=15, decimal_places=2)]
MoneyOrZero = Annotated[Decimal, Field(ge=0, max_digits=15, decimal_places=2)]


def Text(n: int):  # noqa: N802 (a type factory)
    return Annotated[str, Field(max_length=n, pattern=NO_NUL)]


Code = Annotated[str, Path(max_length=40, pattern=NO_NUL)]


def money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


class TokenAuth(HttpBearer):
    def authenticate(self, request, token):
        return token_user(token)


api = NinjaAPI(title="dues", version="1", urls_namespace="api-v1", auth=TokenAuth(), docs_url="/docs",
               description=__doc__)


# --- errors -------------------------------------------------------------------------------------------------


class FieldError(Schema):
    field: str
    message: str


class Error(Schema):
    detail: str
    errors: list[FieldError] = []


class ApiError(Exception):
    def __init__(self, status: int, detail: str, errors: list[dict] | None = None):
        self.status, self.detail, self.errors = status, detail, errors or []


def _error(request, status: int, detail: str, errors=()):
    return api.create_response(request, {"detail": detail, "errors": list(errors)}, status=status)


@api.exception_handler(ApiError)
def _api_error(request, exc: ApiError):
    return _error(request, exc.status, exc.detail, exc.errors)


@api.exception_handler(AuthenticationError)
def _unauthorized(request, exc):
    response = _error(request, 401, "a valid API token is required: Authorization: Bearer <token>")
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(NinjaValidationError)
def _invalid(request, exc: NinjaValidationError):
    errors = []
    for e in exc.errors:
        loc = [str(x) for x in e.get("loc", ()) if x not in ("body", "query", "path", "header", "payload")]
        errors.append({"field": ".".join(loc) or "body", "message": str(e.get("msg", "is not valid"))})
    return _error(request, 422, "the request is not valid", errors)


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    return _error(request, exc.status_code, str(exc))


@api.exception_handler(ValidationFailed)
def _failed(request, exc: ValidationFailed):
    return _error(request, 422, "the request was refused; nothing was written",
                  [{"field": p.field or "body", "message": p.message} for p in exc.problems])


@api.exception_handler(PermissionDenied)
def _forbidden(request, exc):
    return _error(request, 403, str(exc))


@api.exception_handler(DuesError)
def _refused(request, exc):
    return _error(request, 422, str(exc))


ERRORS = {401: Error, 403: Error, 404: Error, 422: Error}
READ = {401: Error, 404: Error, 422: Error}


def _company():
    return company_get()


def _need(request, capability: str, what: str) -> None:
    require(request.auth, capability, what)


def _visible(request, company):
    return customers_visible(request.auth, Customer.objects.filter(company=company))


def _customer(request, company, code: str) -> Customer:
    found = _visible(request, company).filter(code=code).first()
    if found is None:
        raise ApiError(404, f"no customer {code}")
    return found


class Page(Schema):
    total: int
    limit: int
    offset: int


Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=10**9)]


def _page(qs, limit: int, offset: int):
    return qs.count(), list(qs[offset:offset + limit])


def _page_out(qs, limit: int, offset: int, out) -> dict:
    """One page of ``qs`` as a response body, each row through ``out``."""
    total, rows = _page(qs, limit, offset)
    return {"total": total, "limit": limit, "offset": offset, "items": [out(row) for row in rows]}


def _of_customers(request, company, qs, customer: str | None):
    """``qs`` narrowed to the customers the token may see, and to one of them when ``customer`` is given."""
    qs = qs.filter(customer__in=_visible(request, company))
    return qs.filter(customer__code=customer) if customer else qs


# --- customers ----------------------------------------------------------------------------------------------


class CustomerOut(Schema):
    code: str
    name: str
    gstin: str
    pan: str
    tan: str
    state_code: str
    email: str
    phone: str
    terms: str
    credit_limit: str | None
    credit_days: int | None
    salesperson: str
    collector: str
    segment: str
    region: str
    aliases: list[str]


def _customer_out(c: Customer) -> dict:
    state = c.audit_state()
    return {k: state[k] for k in CustomerOut.model_fields}


class CustomerPage(Page):
    items: list[CustomerOut]


class CustomerIn(Schema):
    code: Text(40) | None = None
    name: Text(200) | None = None
    gstin: Text(20) | None = None
    pan: Text(10) | None = None
    tan: Text(10) | None = None
    state: Text(40) | None = None
    email: Text(254) | None = None
    phone: Text(40) | None = None
    terms: Text(20) | None = Field(None, description="'net 30' or 'eom 15'")
    credit_limit: MoneyOrZero | None = None
    credit_days: Annotated[int, Field(ge=0, le=3650)] | None = None
    salesperson: Text(100) | None = None
    collector: Text(100) | None = None
    segment: Text(100) | None = None
    region: Text(100) | None = None
    aliases: list[Text(200)] | None = Field(None, max_length=50)


def _customer_data(body: CustomerIn) -> dict:
    data = body.model_dump(exclude_unset=True, exclude_none=True)
    for key in ("credit_limit", "credit_days"):
        if key in data:
            data[key] = str(data[key])
    return data


@api.get("/customers", response={200: CustomerPage, **READ}, tags=["customers"])
def customers_list(request, q: Text(100) | None = None, salesperson: Text(100) | None = None,
                   segment: Text(100) | None = None, region: Text(100) | None = None,
                   limit: Limit = 50, offset: Offset = 0):
    """Customers the token may see, by code; ``q`` finds a code or name containing it."""
    qs = _visible(request, _company())
    if q:
        qs = qs.filter(Q(code__icontains=q) | Q(name__icontains=q))
    for name, value in (("salesperson", salesperson), ("segment", segment), ("region", region)):
        if value:
            qs = qs.filter(**{f"{name}__iexact": value})
    return _page_out(qs.order_by("code"), limit, offset, _customer_out)


@api.get("/customers/{code}", response={200: CustomerOut, **READ}, tags=["customers"])
def customer_read(request, code: Code):
    return _customer_out(_customer(request, _company(), code))


@api.post("/customers", response={201: CustomerOut, **ERRORS}, tags=["customers"])
def customer_add(request, body: CustomerIn):
    """Create a customer (admin, AR manager, billing); every field checked as on the desk."""
    customer = customer_create(company=_company(), data=_customer_data(body), actor=request.auth)
    return Status(201, _customer_out(customer))


@api.patch("/customers/{code}", response={200: CustomerOut, **ERRORS}, tags=["customers"])
def customer_change(request, code: Code, body: CustomerIn):
    """Change the fields given; the others keep their values."""
    _need(request, "customers.change", "change customers")
    customer = _customer(request, _company(), code)
    data = _customer_data(body)
    if data.get("code", customer.code) != customer.code:
        raise ApiError(422, "a customer's code cannot change", [{"field": "code", "message": "cannot change"}])
    return _customer_out(customer_update(customer=customer, data=data, actor=request.auth))


# --- open items, statement, ageing, credit check ------------------------------------------------------------


class OpenItemOut(Schema):
    number: str
    date: date
    due_date: date
    amount: str
    residual: str


class OpenItems(Schema):
    customer: str
    as_of: date
    items: list[OpenItemOut]
    total: str


@api.get("/customers/{code}/open-items", response={200: OpenItems, **READ}, tags=["customers"])
def open_items(request, code: Code, as_of: Day | None = None):
    """The customer's open invoices and debit notes as the ledger stood on ``as_of`` (default today)."""
    company = _company()
    customer = _customer(request, company, code)
    on = as_of or clock.today()
    items = [i for i in outstanding(company=company, customer=customer, as_of=on) if i.side == "D"]
    return {"customer": customer.code, "as_of": on,
            "items": [{"number": i.number, "date": i.date, "due_date": i.due_date, "amount": money(i.amount),
                       "residual": money(i.residual)} for i in items],
            "total": money(sum((i.residual for i in items), Decimal(0)))}


class StatementLineOut(Schema):
    date: date
    kind: str
    number: str
    description: str
    debit: str
    credit: str
    balance: str


class StatementOut(Schema):
    customer: str
    start: date
    end: date
    opening: str
    lines: list[StatementLineOut]
    debits: str
    credits: str
    closing: str


@api.get("/customers/{code}/statement", response={200: StatementOut, **READ}, tags=["customers"])
def statement(request, code: Code, as_of: Day | None = None, start: Day | None = None):
    """Statement of account up to ``as_of`` (default today) from ``start`` (default a year before)."""
    company = _company()
    customer = _customer(request, company, code)
    end = as_of or clock.today()
    begin = start or end - timedelta(days=365)
    if begin > end:
        raise ApiError(422, "the start is after the end", [{"field": "start", "message": "is after as_of"}])
    s = statement_of_account(company=company, customer=customer, start=begin, end=end)
    return {"customer": customer.code, "start": begin, "end": end, "opening": money(s.opening),
            "lines": [{"date": ln.date, "kind": ln.kind, "number": ln.number, "description": ln.description,
                       "debit": money(ln.debit), "credit": money(ln.credit), "balance": money(ln.balance)}
                      for ln in s.lines],
            "debits": money(s.debits), "credits": money(s.credits), "closing": money(s.closing)}


class AgeingOut(Schema):
    as_of: date
    basis: str
    currency: str
    columns: list[str]
    buckets: dict[str, str]
    unapplied: str
    disputed: str
    total: str
    customers: int


@api.get("/ageing", response={200: AgeingOut, **ERRORS}, tags=["reports"])
def ageing(request, as_of: Day | None = None, basis: Annotated[str, Query(pattern="^(due|invoice)$")] = DUE):
    """Ageing summary by bucket on ``as_of`` (default today): a sales token sees only their customers."""
    _need(request, "reports.view", "read the ageing")
    company = _company()
    on = as_of or clock.today()
    who = person_name(request.auth) if role_of(request.auth) == SALES else None
    s = ageing_summary(company=company, as_of=on, basis=basis, salesperson=who)
    t = s.totals
    return {"as_of": on, "basis": basis, "currency": company.currency, "columns": s.columns,
            "buckets": {c: money(t.buckets[c]) for c in s.columns}, "unapplied": money(t.unapplied),
            "disputed": money(t.disputed), "total": money(t.total), "customers": len(s.customer_ids)}


class CreditOut(Schema):
    customer: str
    as_of: date
    amount: str
    credit_limit: str | None
    outstanding: str
    exposure: str
    available: str | None
    overdue: str
    oldest_overdue_days: int
    allowed_overdue_days: int
    ok: bool
    reasons: list[str]


@api.get("/customers/{code}/credit-check", response={200: CreditOut, **READ}, tags=["customers"])
def credit(request, code: Code, amount: MoneyOrZero = Decimal(0),
           allowed_overdue_days: Annotated[int | None, Query(ge=0, le=3650)] = None):
    """May the customer take an order of ``amount`` today? The same check billing approval makes
    (``dues.credit``): exposure against the credit limit, and the oldest overdue invoice against the allowed
    days (the company's billing setting unless ``allowed_overdue_days`` is given)."""
    from dues.credit.services import check

    company = _company()
    customer = _customer(request, company, code)
    today = clock.today()
    decision = check(customer, amount, today, overdue_days_allowed=allowed_overdue_days)
    f = decision.figures
    return {"customer": customer.code, "as_of": today, "amount": money(amount), "credit_limit": money(f.limit),
            "outstanding": money(f.outstanding), "exposure": money(f.exposure),
            "available": None if f.limit is None else money(f.limit - f.exposure), "overdue": money(f.overdue),
            "oldest_overdue_days": f.oldest_overdue_days, "allowed_overdue_days": f.overdue_days_allowed,
            "ok": decision.allowed, "reasons": list(decision.reasons)}


# --- invoices and receipts (idempotent creates) --------------------------------------------------------------


class DocumentOut(Schema):
    kind: str
    number: str
    customer: str
    date: date
    due_date: date | None
    amount: str
    residual: str | None
    status: str


class DocumentPage(Page):
    items: list[DocumentOut]


def _document_out(doc: Document, residual: Decimal | None) -> dict:
    return {"kind": doc.kind, "number": doc.number, "customer": doc.customer.code, "date": doc.date,
            "due_date": doc.due_date, "amount": money(doc.amount), "residual": money(residual), "status": doc.status}


def _documents(request, kind: str, customer: str | None, date_from, date_to, limit: int, offset: int):
    company = _company()
    qs = Document.objects.filter(company=company, kind=kind, customer__in=_visible(request, company))
    if customer:
        qs = qs.filter(customer__code=customer)
    if date_from:
        qs = qs.filter(date__gte=date_from)
    if date_to:
        qs = qs.filter(date__lte=date_to)
    total, docs = _page(qs.select_related("customer").order_by("date", "number"), limit, offset)
    residuals = dict(OpenItem.objects.filter(document__in=docs, reversal_of__isnull=True).values_list(
        "document_id", "residual"))
    return {"total": total, "limit": limit, "offset": offset,
            "items": [_document_out(d, residuals.get(d.pk)) for d in docs]}


def _idempotent(request, key: str | None, operation: str, body: Schema, create):
    """Run ``create`` once per (user, key): a retry gets the stored answer; the same key with another body 422."""
    if not key:
        return create()
    digest = hashlib.sha256(json.dumps({"op": operation, "body": body.model_dump(mode="json")},
                                       sort_keys=True).encode()).hexdigest()
    with transaction.atomic():
        row, created = IdempotencyKey.objects.select_for_update().get_or_create(
            user=request.auth, key=key, defaults={"operation": operation, "request_hash": digest})
        if not created:
            if row.operation != operation or row.request_hash != digest:
                raise ApiError(422, "this Idempotency-Key was used with another request",
                               [{"field": "Idempotency-Key", "message": "already used with a different body"}])
            return row.status_code, row.response
        status, answer = create()
        row.status_code, row.response = status, json.loads(json.dumps(answer, default=str))
        row.save(update_fields=["status_code", "response"])
        return status, answer


IdemKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200, pattern=NO_NUL)]


class LineIn(Schema):
    description: Text(300)
    rate: Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=4)]
    quantity: Annotated[Decimal, Field(gt=0, le=1000000, max_digits=12, decimal_places=4)] = Decimal(1)
    gst_rate: Annotated[Decimal, Field(ge=0, le=100, max_digits=6, decimal_places=3)] = Decimal(0)
    hsn: Text(8) = ""


class InvoiceIn(Schema):
    number: Text(40)
    customer: Text(40)
    date: Day
    due_date: Day | None = None
    amount: MoneyOrZero = Field(Decimal(0), description="the grand total; 0 or left out: the lines' total")
    taxable_value: MoneyOrZero | None = None
    tax: MoneyOrZero | None = None
    lines: list[LineIn] = Field([], max_length=200)
    description: Text(500) = ""


@api.get("/invoices", response={200: DocumentPage, **READ}, tags=["documents"])
def invoices_list(request, customer: Text(40) | None = None, date_from: Day | None = None,
                  date_to: Day | None = None, limit: Limit = 50, offset: Offset = 0):
    return _documents(request, Document.INVOICE, customer, date_from, date_to, limit, offset)


@api.post("/invoices", response={201: DocumentOut, **ERRORS}, tags=["documents"])
def invoice_post(request, body: InvoiceIn, idempotency_key: IdemKey = None):
    """Post an invoice. With an ``Idempotency-Key`` header a retried request posts once and gets the same answer."""
    _need(request, "invoices.post", "post invoices")

    def create():
        company = _company()
        customer = _customer(request, company, body.customer)
        draft = DocumentDraft(kind=Document.INVOICE, number=body.number, customer=customer, date=body.date,
                              due_date=body.due_date, amount=body.amount, taxable_value=body.taxable_value,
                              tax=body.tax, description=body.description,
                              lines=[LineDraft(ln.description, ln.rate, ln.quantity, ln.gst_rate, ln.hsn)
                                     for ln in body.lines])
        doc = document_post(draft, company=company, actor=request.auth)
        return 201, _document_out(doc, OpenItem.objects.get(document=doc).residual)

    return Status(*_idempotent(request, idempotency_key, "invoice.post", body, create))


class AllocationIn(Schema):
    invoice: Text(40)
    amount: Money


class ReceiptIn(Schema):
    number: Text(40)
    customer: Text(40)
    date: Day
    amount: MoneyOrZero
    mode: Annotated[str, Field(pattern="^(" + "|".join(Document.MODES) + ")$")] = "bank"
    reference: Text(100) = ""
    tds: MoneyOrZero = Decimal(0)
    charges: MoneyOrZero = Decimal(0)
    discount: MoneyOrZero = Decimal(0)
    description: Text(500) = ""
    allocations: list[AllocationIn] = Field([], max_length=200)


@api.get("/receipts", response={200: DocumentPage, **READ}, tags=["documents"])
def receipts_list(request, customer: Text(40) | None = None, date_from: Day | None = None,
                  date_to: Day | None = None, limit: Limit = 50, offset: Offset = 0):
    return _documents(request, Document.RECEIPT, customer, date_from, date_to, limit, offset)


@api.post("/receipts", response={201: DocumentOut, **ERRORS}, tags=["documents"])
def receipt_post(request, body: ReceiptIn, idempotency_key: IdemKey = None):
    """Post a receipt (TDS, bank charges, discount), applied to the invoices listed; idempotent with a key."""
    _need(request, "receipts.post", "post receipts")

    def create():
        company = _company()
        customer = _customer(request, company, body.customer)
        draft = DocumentDraft(kind=Document.RECEIPT, number=body.number, customer=customer, date=body.date,
                              amount=body.amount, mode=body.mode, reference=body.reference, tds=body.tds,
                              charges=body.charges, discount=body.discount, description=body.description,
                              allocations=[(a.invoice, a.amount) for a in body.allocations])
        doc = document_post(draft, company=company, actor=request.auth)
        return 201, _document_out(doc, OpenItem.objects.get(document=doc).residual)

    return Status(*_idempotent(request, idempotency_key, "receipt.post", body, create))


# --- allocations --------------------------------------------------------------------------------------------


class AllocationOut(Schema):
    id: int
    customer: str
    credit: str
    credit_kind: str
    invoice: str
    amount: str
    effective_date: date
    reverses: int | None


class AllocationPage(Page):
    items: list[AllocationOut]


def _allocation_out(a: Allocation) -> dict:
    return {"id": a.pk, "customer": a.credit_item.customer.code, "credit": a.credit_item.document.number,
            "credit_kind": a.credit_item.document.kind, "invoice": a.debit_item.document.number,
            "amount": money(a.amount), "effective_date": a.effective_date, "reverses": a.reverses_id}


class AllocateIn(Schema):
    credit: Text(40) = Field(description="the receipt's (or credit note's) number")
    credit_kind: Annotated[str, Field(pattern="^(receipt|credit_note)$")] = "receipt"
    invoice: Text(40)
    amount: Money
    date: Day | None = None


@api.get("/allocations", response={200: AllocationPage, **READ}, tags=["documents"])
def allocations_list(request, customer: Text(40) | None = None, limit: Limit = 50, offset: Offset = 0):
    company = _company()
    qs = Allocation.objects.filter(company=company, credit_item__customer__in=_visible(request, company))
    if customer:
        qs = qs.filter(credit_item__customer__code=customer)
    return _page_out(qs.select_related("credit_item__customer", "credit_item__document", "debit_item__document")
                     .order_by("pk"), limit, offset, _allocation_out)


@api.post("/allocations", response={201: AllocationOut, **ERRORS}, tags=["documents"])
def allocation_add(request, body: AllocateIn, idempotency_key: IdemKey = None):
    """Apply on-account money (a receipt or credit note) to an invoice of the same customer; idempotent with a key."""
    _need(request, "allocations.change", "allocate receipts and credit notes")
    return Status(*_idempotent(request, idempotency_key, "allocation.add", body, lambda: _allocate(request, body)))


def _allocate(request, body: AllocateIn):
    company = _company()
    visible = _visible(request, company)

    def item(kind: str, number: str, fld: str) -> OpenItem:
        found = (OpenItem.objects.filter(company=company, document__kind=kind, document__number=number,
                                         reversal_of__isnull=True, customer__in=visible)
                 .select_related("document").first())
        if found is None:
            raise ApiError(404, f"no {kind.replace('_', ' ')} {number}", [{"field": fld, "message": "not found"}])
        return found

    credit_item = item(body.credit_kind, body.credit, "credit")
    debit_item = item(Document.INVOICE, body.invoice, "invoice")
    allocation = allocation_create(credit_item=credit_item, debit_item=debit_item, amount=body.amount,
                                   on=body.date or clock.today(), actor=request.auth)
    return 201, _allocation_out(Allocation.objects.select_related(
        "credit_item__customer", "credit_item__document", "debit_item__document").get(pk=allocation.pk))


# --- promises, disputes, worklist ---------------------------------------------------------------------------


class PromiseOut(Schema):
    id: int
    customer: str
    amount: str
    promised_date: date
    deadline: date
    taken_on: date
    status: str
    received: str
    invoices: list[str]
    notes: str


class PromisePage(Page):
    items: list[PromiseOut]


def _promise_out(p) -> dict:
    return {"id": p.pk, "customer": p.customer.code, "amount": money(p.amount), "promised_date": p.promised_date,
            "deadline": p.deadline, "taken_on": p.taken_on, "status": p.status, "received": money(p.received),
            "invoices": sorted(d.number for d in p.invoices.all()), "notes": p.notes}


class PromiseIn(Schema):
    customer: Text(40)
    amount: Money
    promised_date: Day
    invoices: list[Text(40)] = Field([], max_length=200)
    grace_days: Annotated[int, Field(ge=0, le=60)] = 3
    notes: Text(2000) = ""


@api.get("/promises", response={200: PromisePage, **READ}, tags=["collections"])
def promises_list(request, customer: Text(40) | None = None,
                  status: Annotated[str | None, Query(pattern="^(open|kept|partly_kept|broken)$")] = None,
                  limit: Limit = 50, offset: Offset = 0):
    company = _company()
    return _page_out(_of_customers(request, company, cs.promises(company, status=status), customer), limit, offset,
                     _promise_out)


@api.post("/promises", response={201: PromiseOut, **ERRORS}, tags=["collections"])
def promise_post(request, body: PromiseIn, idempotency_key: IdemKey = None):
    """Record a promise to pay; idempotent with an ``Idempotency-Key``."""
    _need(request, "collections.act", "record a promise to pay")
    company = _company()
    customer = _customer(request, company, body.customer)

    def create():
        promise = promise_add(customer=customer, amount=body.amount, promised_date=body.promised_date,
                              invoices=body.invoices, grace_days=body.grace_days, notes=body.notes,
                              actor=request.auth)
        return 201, _promise_out(promise)

    return Status(*_idempotent(request, idempotency_key, "promise.add", body, create))


class DisputeOut(Schema):
    id: int
    customer: str
    invoice: str
    amount: str
    reason: str
    owner: str
    status: str
    opened_on: date
    resolved_on: date | None
    credit_note: str | None
    notes: str


class DisputePage(Page):
    items: list[DisputeOut]


def _dispute_out(d) -> dict:
    return {"id": d.pk, "customer": d.customer.code, "invoice": d.document.number, "amount": money(d.amount),
            "reason": d.reason, "owner": d.owner, "status": d.status, "opened_on": d.opened_on,
            "resolved_on": d.resolved_on, "credit_note": d.credit_note.number if d.credit_note_id else None,
            "notes": d.notes}


class DisputeIn(Schema):
    invoice: Text(40)
    amount: Money
    reason: Annotated[str, Field(pattern="^(price|quantity|damaged|not_received|tax|duplicate)$")]
    owner: Annotated[str, Field(pattern="^(sales|dispatch|finance)$")] = "sales"
    sla_days: Annotated[int, Field(ge=1, le=365)] = 7
    notes: Text(2000) = ""


class ResolveIn(Schema):
    credit_note: Text(40) | None = None
    rejected: bool = False
    notes: Text(2000) | None = None


@api.get("/disputes", response={200: DisputePage, **READ}, tags=["collections"])
def disputes_list(request, customer: Text(40) | None = None,
                  status: Annotated[str | None, Query(pattern="^(active|open|in_progress|resolved_credit_note|rejected)$")] = None,
                  limit: Limit = 50, offset: Offset = 0):
    company = _company()
    return _page_out(_of_customers(request, company, cs.disputes(company, status=status), customer), limit, offset,
                     _dispute_out)


@api.post("/disputes", response={201: DisputeOut, **ERRORS}, tags=["collections"])
def dispute_post(request, body: DisputeIn, idempotency_key: IdemKey = None):
    """Open a dispute on (part of) an invoice: held out of dunning until resolved; idempotent with a key."""
    _need(request, "collections.act", "open a dispute")
    company = _company()
    doc = Document.objects.filter(company=company, kind__in=Document.DEBIT_KINDS, number=body.invoice,
                                  customer__in=_visible(request, company)).first()
    if doc is None:
        raise ApiError(404, f"no invoice {body.invoice}", [{"field": "invoice", "message": "not found"}])

    def create():
        dispute = dispute_open(company=company, invoice=doc, amount=body.amount, reason=body.reason,
                               owner=body.owner, sla_days=body.sla_days, notes=body.notes, actor=request.auth)
        return 201, _dispute_out(dispute)

    return Status(*_idempotent(request, idempotency_key, "dispute.open", body, create))


@api.post("/disputes/{dispute_id}/resolve", response={200: DisputeOut, **ERRORS}, tags=["collections"])
def dispute_close(request, dispute_id: Annotated[int, Path(ge=1, le=2**62)], body: ResolveIn):
    """Resolve a dispute by a posted credit note of the customer's, or reject it."""
    _need(request, "collections.act", "resolve a dispute")
    company = _company()
    dispute = cs.disputes(company).filter(pk=dispute_id, customer__in=_visible(request, company)).first()
    if dispute is None:
        raise ApiError(404, f"no dispute {dispute_id}")
    resolved = dispute_resolve(dispute=dispute, actor=request.auth, credit_note=body.credit_note,
                               rejected=body.rejected, notes=body.notes)
    return _dispute_out(resolved)


class WorkItem(Schema):
    customer: str
    name: str
    collector: str
    score: int
    reasons: list[str]
    overdue: str
    oldest_days: int | None
    broken_promises: int
    due_today: str
    last_contact: date | None
    follow_up: date | None


class Worklist(Schema):
    on: date
    items: list[WorkItem]


@api.get("/worklist", response={200: Worklist, **READ}, tags=["collections"])
def worklist(request, on: Day | None = None, collector: Text(100) | None = None):
    """The collectors' worklist for ``on`` (default today), highest priority first."""
    company = _company()
    day = on or clock.today()
    ids = None if can(request.auth, "customers.view_all") else list(
        _visible(request, company).values_list("pk", flat=True))
    entries = cs.worklist(company, collector=collector or None, on=day, customer_ids=ids)
    return {"on": day, "items": [e.as_json() for e in entries]}


def json_405(view):
    """Wrap one of the API's views: ninja's plain-text 405 becomes the API's error body (the Allow header kept)."""
    import functools

    from django.http import JsonResponse

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and not response.get("Content-Type", "").startswith("application/json"):
            allowed = ", ".join(sorted(m.strip() for m in response.get("Allow", "").split(",") if m.strip()))
            answer = JsonResponse({"detail": f"{request.method} is not allowed here; allowed: {allowed}",
                                   "errors": [{"field": "method", "message": f"use one of {allowed}"}]},
                                  status=405)
            answer["Allow"] = allowed
            return answer
        return response

    return wrapped


def api_urls():
    """``api.urls`` with every view wrapped by ``json_405``."""
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        pattern.callback = json_405(pattern.callback)
    return patterns, app_name, namespace


def not_found(request, rest: str = ""):
    """Any other address under /api/: the API's error body, not the web app's page."""
    from django.http import JsonResponse

    return JsonResponse({"detail": f"no such address: {request.path}", "errors": []}, status=404)
