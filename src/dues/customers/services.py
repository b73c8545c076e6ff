"""Creating and changing customers. Identifiers are validated; every change is audited."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction

from dues.audit.services import AuditEntry, actor_name, audit_append, audit_append_many
from dues.companies.models import Company
from dues.core.errors import DuesError, Problem, ValidationFailed
from dues.core.money import MoneyError, parse_amount
from dues.core.states import state_code as to_state_code
from dues.core.taxids import TaxIdError, gstin_pan, gstin_state, validate_gstin, validate_pan, validate_tan
from dues.core.terms import END_OF_MONTH, NET
from dues.users.permissions import require

from .models import Contact, Customer

FIELDS = ("code", "name", "gstin", "pan", "tan", "state_code", "email", "phone", "credit_limit", "credit_days",
          "salesperson", "collector", "segment", "region", "terms_kind", "terms_days", "aliases", "address", "city", "pin")


@dataclass
class CustomerData:
    """A customer as validated input, before it touches the database."""

    code: str
    name: str
    gstin: str = ""
    pan: str = ""
    tan: str = ""
    state_code: str = ""
    email: str = ""
    phone: str = ""
    credit_limit: Decimal | None = None
    credit_days: int | None = None
    salesperson: str = ""
    collector: str = ""
    segment: str = ""
    region: str = ""
    terms_kind: str = NET
    terms_days: int = 30
    aliases: list[str] = field(default_factory=list)
    address: str = ""
    city: str = ""
    pin: str = ""
    warnings: list[str] = field(default_factory=list)


def customer_clean(raw: Mapping[str, object], *, company: Company, row: int | None = None,
                   source: str = "") -> tuple[CustomerData | None, list[Problem]]:
    """Validate one customer's fields; returns the clean data or every problem found."""
    problems: list[Problem] = []

    def bad(fld: str, message: str) -> None:
        problems.append(Problem(message, fld, row, source))

    def text(key: str) -> str:
        value = raw.get(key)
        return "" if value is None else str(value).strip()

    code, name = text("code"), text("name")
    if not code:
        bad("code", "is required")
    elif len(code) > 40:
        bad("code", "is longer than 40 characters")
    if not name:
        bad("name", "is required")
    data = CustomerData(code=code, name=name)
    for key in ("email", "phone", "salesperson", "collector", "segment", "region", "address", "city"):
        setattr(data, key, text(key))
    data.address, data.city = data.address[:300], data.city[:100]
    if text("pin"):
        if len(text("pin")) == 6 and text("pin").isdigit() and text("pin")[0] != "0":
            data.pin = text("pin")
        else:
            bad("pin", f"{text('pin')!r} is not a six-digit PIN code")
    if data.email:
        for address in data.email.replace(";", ",").split(","):
            try:
                validate_email(address.strip())
            except DjangoValidationError:
                bad("email", f"{address.strip()!r} is not an e-mail address")
    if text("gstin"):
        try:
            data.gstin = validate_gstin(text("gstin"))
        except TaxIdError as exc:
            if exc.checksum_only and company.gstin_checksum == Company.GSTIN_WARN:
                data.gstin = text("gstin").upper().replace(" ", "")
                data.warnings.append(str(exc))
            else:
                bad("gstin", str(exc))
    if text("pan"):
        try:
            data.pan = validate_pan(text("pan"))
        except TaxIdError as exc:
            bad("pan", str(exc))
    if text("tan"):
        try:
            data.tan = validate_tan(text("tan"))
        except TaxIdError as exc:
            bad("tan", str(exc))
    if data.gstin and data.pan and gstin_pan(data.gstin) != data.pan:
        bad("pan", f"{data.pan} is not the PAN inside GSTIN {data.gstin}")
    if data.gstin and not data.pan:
        data.pan = gstin_pan(data.gstin)
    state = text("state") or text("state_code")
    if state:
        try:
            data.state_code = to_state_code(state)
        except ValueError as exc:
            bad("state", str(exc))
    if data.gstin and len(data.gstin) == 15:
        if data.state_code and data.state_code != gstin_state(data.gstin):
            bad("state", f"state {data.state_code} differs from the GSTIN's state {gstin_state(data.gstin)}")
        data.state_code = data.state_code or gstin_state(data.gstin)
    if text("credit_limit"):
        try:
            data.credit_limit = parse_amount(text("credit_limit"))
            if data.credit_limit < 0:
                bad("credit_limit", "cannot be negative")
        except MoneyError as exc:
            bad("credit_limit", str(exc))
    if text("credit_days"):
        try:
            data.credit_days = int(text("credit_days"))
            if data.credit_days < 0:
                raise ValueError
            data.terms_days = data.credit_days
        except ValueError:
            bad("credit_days", f"must be a whole number of days, got {text('credit_days')!r}")
    terms = text("terms")
    if terms:
        kind, _, days = terms.partition(" ")
        if kind.lower() not in (NET, END_OF_MONTH) or not days.strip().isdigit():
            bad("terms", f"use 'net 30' or 'eom 15', got {terms!r}")
        else:
            data.terms_kind, data.terms_days = kind.lower(), int(days)
    aliases = raw.get("aliases")
    if isinstance(aliases, str):
        data.aliases = [a.strip() for a in aliases.split(";") if a.strip()]
    elif isinstance(aliases, list | tuple):
        data.aliases = [str(a).strip() for a in aliases if str(a).strip()]
    return (None if problems else data), problems


def _apply(customer: Customer, data: CustomerData) -> None:
    for key in FIELDS:
        setattr(customer, key, getattr(data, key))


@transaction.atomic
def customer_create(*, company: Company, data: Mapping[str, object], actor=None) -> Customer:
    require(actor, "customers.change", "create customers")
    clean, problems = customer_clean(data, company=company)
    if problems:
        raise ValidationFailed(problems)
    if Customer.objects.filter(company=company, code=clean.code).exists():
        raise DuesError(f"customer {clean.code} already exists")
    customer = Customer(company=company)
    _apply(customer, clean)
    customer.save()
    audit_append(actor=actor, action="create", object_type="customer", object_id=customer.code,
                 company_id=company.pk, after=customer.audit_state())
    return customer


def customer_merge(customer: Customer, supplied: Mapping[str, object]) -> dict:
    """The customer's current fields overlaid with ``supplied`` (a file may carry only some columns)."""
    merged = {**customer.audit_state(), "state": customer.state_code, **supplied}
    if "terms" not in supplied:  # keep the kind of terms; new credit days move the due days with them
        days = supplied.get("credit_days") or supplied.get("terms_days") or customer.terms_days
        merged["terms"] = f"{supplied.get('terms_kind', customer.terms_kind)} {days}"
    return merged


@transaction.atomic
def customer_update(*, customer: Customer, data: Mapping[str, object], actor=None) -> Customer:
    require(actor, "customers.change", "change customers")
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    clean, problems = customer_clean(customer_merge(customer, data), company=customer.company)
    if problems:
        raise ValidationFailed(problems)
    before = customer.audit_state()
    _apply(customer, clean)
    customer.save()
    if customer.audit_state() != before:
        audit_append(actor=actor, action="update", object_type="customer", object_id=customer.code,
                     company_id=customer.company_id, before=before, after=customer.audit_state())
    return customer


@transaction.atomic
def contact_add(*, customer: Customer, name: str, role: str = "", email: str = "", phone: str = "",
                actor=None) -> Contact:
    require(actor, "customers.change", "change customers' contacts")
    if not name.strip():
        raise DuesError("a contact needs a name")
    if email:
        try:
            validate_email(email)
        except DjangoValidationError as exc:
            raise DuesError(f"{email!r} is not an e-mail address") from exc
    contact = Contact.objects.create(customer=customer, name=name.strip(), role=role, email=email, phone=phone)
    audit_append(actor=actor, action="create", object_type="contact", object_id=f"{customer.code}/{contact.pk}",
                 company_id=customer.company_id, after={"name": name, "role": role, "email": email, "phone": phone})
    return contact


def customers_upsert(*, company: Company, rows: Sequence[CustomerData], actor=None) -> tuple[int, int, int]:
    """Create new customers and update changed ones in bulk; returns (created, updated, unchanged).

    The caller holds the transaction (an import is all-or-nothing).
    """
    require(actor, "customers.change", "create or change customers")
    existing = {c.code: c for c in Customer.objects.filter(company=company, code__in=[r.code for r in rows])}
    new, changed, audit = [], [], []
    who = actor_name(actor)
    for data in rows:
        customer = existing.get(data.code)
        if customer is None:
            customer = Customer(company=company)
            _apply(customer, data)
            new.append(customer)
            audit.append(AuditEntry(who, "import", "customer", data.code, company.pk, None, customer.audit_state()))
            continue
        before = customer.audit_state()
        _apply(customer, data)
        if customer.audit_state() != before:
            changed.append(customer)
            audit.append(AuditEntry(who, "import", "customer", data.code, company.pk, before, customer.audit_state()))
    Customer.objects.bulk_create(new, batch_size=1000)
    if changed:
        Customer.objects.bulk_update(changed, list(FIELDS), batch_size=500)
    audit_append_many(audit)
    return len(new), len(changed), len(rows) - len(new) - len(changed)
