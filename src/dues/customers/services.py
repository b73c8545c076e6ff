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
from dues.users.permissions import can, require

from .models import Contact, Customer, CustomerNote, contact_role

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


PHONE_CHARS = set("0123456789+-() ")


def _phone_ok(text: str) -> bool:
    return set(text) <= PHONE_CHARS and sum(ch.isdigit() for ch in text) >= 6


@dataclass
class ContactData:
    """One contact as validated input; ``pk`` None for a new one."""

    pk: int | None
    name: str
    role: str
    email: str = ""
    phone: str = ""
    whatsapp: str = ""
    is_primary: bool = False
    delete: bool = False


def contacts_clean(rows: Sequence[Mapping[str, object]], *, customer: Customer | None = None
                   ) -> tuple[list[ContactData], list[Problem]]:
    """Validate a customer's contacts as edited on one form (blank new rows are skipped).

    Problems name the field as ``contact-<n>-<field>`` (n: the row's index on the form).
    """
    problems: list[Problem] = []
    known = set(customer.contacts.values_list("pk", flat=True)) if customer is not None and customer.pk else set()
    found: list[ContactData] = []

    for n, raw in enumerate(rows):
        def text(key: str, raw=raw) -> str:
            value = raw.get(key)
            return "" if value is None else str(value).strip()

        def bad(fld: str, message: str, n=n) -> None:
            problems.append(Problem(message, f"contact-{n}-{fld}", n + 1))

        pk_text = text("id")
        pk = None
        if pk_text:
            if not pk_text.isdigit() or int(pk_text) not in known:
                bad("name", "is not one of this customer's contacts")
                continue
            pk = int(pk_text)
        deleting = str(raw.get("delete") or "").lower() in ("1", "on", "true", "yes")
        values = {k: text(k) for k in ("name", "email", "phone", "whatsapp")}
        if pk is None and (deleting or not any(values.values())):
            continue  # an empty row of the form, or a new row removed before saving
        role_text = text("role")
        role = contact_role(role_text) if role_text else "accounts_payable"
        primary = str(raw.get("primary") or "").lower() in ("1", "on", "true", "yes")
        data = ContactData(pk, values["name"], role, values["email"], values["phone"], values["whatsapp"],
                           primary and not deleting, deleting)
        if not deleting:
            if not data.name:
                bad("name", "is required")
            elif len(data.name) > 200:
                bad("name", "is longer than 200 characters")
            if data.email:
                for address in data.email.replace(";", ",").split(","):
                    try:
                        validate_email(address.strip())
                    except DjangoValidationError:
                        bad("email", f"{address.strip()!r} is not an e-mail address")
            for fld in ("phone", "whatsapp"):
                number = getattr(data, fld)
                if number and (len(number) > 40 or not _phone_ok(number)):
                    bad(fld, f"{number!r} is not a phone number")
        found.append(data)
    if sum(c.is_primary for c in found) > 1:
        second = [i for i, c in enumerate(found) if c.is_primary][1]
        problems.append(Problem("only one contact can be the primary one", f"contact-{second}-primary", second + 1))
    return found, problems


def _contact_audit(actor, action: str, customer: Customer, contact: Contact, before: dict | None,
                   after: dict | None) -> None:
    if before != after:
        audit_append(actor=actor, action=action, object_type="contact", object_id=f"{customer.code}/{contact.pk}",
                     company_id=customer.company_id, before=before, after=after)


def _contacts_apply(customer: Customer, rows: list[ContactData], actor) -> None:
    """Create, change and remove the customer's contacts as validated, each audited."""
    existing = {c.pk: c for c in customer.contacts.all()}
    before = {pk: c.audit_state() for pk, c in existing.items()}
    submitted = {r.pk for r in rows if r.pk is not None}
    if any(r.is_primary for r in rows) or any(existing[pk].is_primary for pk in submitted):
        # one primary per customer (a unique constraint): free the slot, then set it again below
        customer.contacts.filter(is_primary=True).update(is_primary=False)
        for contact in existing.values():
            if contact.is_primary and contact.pk not in submitted:
                contact.is_primary = False
                _contact_audit(actor, "update", customer, contact, before[contact.pk], contact.audit_state())
    for row in rows:
        if row.pk is not None and row.delete:
            contact = existing[row.pk]
            contact.delete()
            contact.pk = row.pk
            _contact_audit(actor, "delete", customer, contact, before[row.pk], None)
            continue
        contact = existing[row.pk] if row.pk is not None else Contact(customer=customer)
        for key in ("name", "role", "email", "phone", "whatsapp", "is_primary"):
            setattr(contact, key, getattr(row, key))
        contact.save()
        _contact_audit(actor, "update" if row.pk is not None else "create", customer, contact, before.get(row.pk),
                       contact.audit_state())


def _web_fields(data: Mapping[str, object]) -> dict:
    """The form's fields as ``customer_clean`` reads them (terms as "net 30", the days as credit days)."""
    raw = {k: v for k, v in data.items() if k not in ("terms_kind", "terms_days")}
    kind = str(data.get("terms_kind") or NET).strip().lower()
    days = str(data.get("terms_days") or "").strip()
    if days:
        raw["terms"] = f"{kind} {days}"
        raw["credit_days"] = days
    return raw


@transaction.atomic
def customer_save(*, company: Company, data: Mapping[str, object], contacts: Sequence[Mapping[str, object]] = (),
                  customer: Customer | None = None, actor=None) -> Customer:
    """Create a customer (``customer`` None) or change one, with its contacts, as a desk form sends them.

    ``data``: code (new customers only: a code is fixed once created), name, gstin, state, terms_kind,
    terms_days, credit_limit (Indian grouping accepted), collector, salesperson, email, phone.
    ``contacts``: rows of id (blank for a new one), name, role, email, phone, whatsapp, primary, delete.
    All-or-nothing: every problem found is raised at once (``ValidationFailed``, fields named); the
    customer and each contact changed are audited with before and after.
    """
    require(actor, "customers.change", "create customers" if customer is None else "change customers")
    raw = _web_fields(data)
    if customer is None:
        clean, problems = customer_clean(raw, company=company)
        code = str(raw.get("code") or "").strip()
        if code and Customer.objects.filter(company=company, code=code).exists():
            problems.append(Problem(f"customer {code} already exists", "code"))
    else:
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        raw.pop("code", None)
        if "gstin" in raw and "pan" not in raw and str(raw["gstin"] or "").strip().upper() != customer.gstin:
            raw["pan"] = ""  # a new GSTIN brings its own PAN
        clean, problems = customer_clean(customer_merge(customer, raw), company=company)
    contact_rows, contact_problems = contacts_clean(contacts, customer=customer)
    problems = problems + contact_problems
    if problems:
        raise ValidationFailed(problems)
    if customer is None:
        customer = Customer(company=company)
        _apply(customer, clean)
        customer.save()
        audit_append(actor=actor, action="create", object_type="customer", object_id=customer.code,
                     company_id=company.pk, after=customer.audit_state())
    else:
        before = customer.audit_state()
        _apply(customer, clean)
        customer.save()
        if customer.audit_state() != before:
            audit_append(actor=actor, action="update", object_type="customer", object_id=customer.code,
                         company_id=customer.company_id, before=before, after=customer.audit_state())
    _contacts_apply(customer, contact_rows, actor)
    return customer


@transaction.atomic
def contact_add(*, customer: Customer, name: str, role: str = "", email: str = "", phone: str = "",
                whatsapp: str = "", primary: bool | None = None, actor=None) -> Contact:
    """Add one contact (the role as people write it: "Accounts", "owner", ...). The customer's first
    contact is its primary one unless ``primary`` says otherwise."""
    require(actor, "customers.change", "change customers' contacts")
    if primary is None:
        primary = not customer.contacts.exists()
    rows, problems = contacts_clean([{"name": name, "role": role, "email": email, "phone": phone,
                                      "whatsapp": whatsapp, "primary": "1" if primary else ""}])
    if problems:
        raise DuesError("; ".join(f"{p.field.split('-')[-1]} {p.message}" for p in problems))
    if not rows:
        raise DuesError("a contact needs a name")
    if primary:
        customer.contacts.filter(is_primary=True).update(is_primary=False)
    row = rows[0]
    contact = Contact.objects.create(customer=customer, name=row.name, role=row.role, email=row.email,
                                     phone=row.phone, whatsapp=row.whatsapp, is_primary=row.is_primary)
    _contact_audit(actor, "create", customer, contact, None, contact.audit_state())
    return contact


def _note_actor(actor, what: str) -> None:
    if not (can(actor, "collections.act") or can(actor, "customers.change")):
        require(actor, "collections.act", what)


@transaction.atomic
def note_add(*, customer: Customer, text: str, pinned: bool = False, actor=None) -> CustomerNote:
    """A note on the customer's page (pinned: it replaces the pinned note on top); audited."""
    _note_actor(actor, "write notes on customers")
    text = (text or "").strip()
    if not text:
        raise ValidationFailed([Problem("write the note", "text")])
    if len(text) > 5000:
        raise ValidationFailed([Problem("is longer than 5,000 characters", "text")])
    if pinned:
        customer.notes.filter(pinned=True).update(pinned=False)
    note = CustomerNote.objects.create(customer=customer, text=text, pinned=pinned, created_by=actor_name(actor))
    audit_append(actor=actor, action="create", object_type="customer_note", object_id=f"{customer.code}/{note.pk}",
                 company_id=customer.company_id, after={"text": text, "pinned": pinned})
    return note


@transaction.atomic
def note_pin(*, note: CustomerNote, pinned: bool, actor=None) -> CustomerNote:
    """Pin a note on top of its customer's page (unpinning the one there), or unpin it; audited."""
    _note_actor(actor, "pin notes on customers")
    note = CustomerNote.objects.select_for_update().select_related("customer").get(pk=note.pk)
    if note.pinned == pinned:
        return note
    if pinned:
        CustomerNote.objects.filter(customer_id=note.customer_id, pinned=True).update(pinned=False)
    note.pinned = pinned
    note.save(update_fields=["pinned"])
    audit_append(actor=actor, action="update", object_type="customer_note",
                 object_id=f"{note.customer.code}/{note.pk}", company_id=note.customer.company_id,
                 before={"pinned": not pinned}, after={"pinned": pinned})
    return note


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
