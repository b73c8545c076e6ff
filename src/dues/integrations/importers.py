"""Importing customers, invoices, receipts and credit notes from CSV/XLSX.

Each import reads the whole file into plain records, validates every row (reporting all bad rows as
``FILE:ROW: field: reason``), and writes only when the whole file is good, in one transaction,
through the same services a person uses. Documents are keyed by number per company: a row whose
document is already posted with the same customer, date and amount is left alone, so importing the
same file twice changes nothing; a row that clashes with a posted document is an error.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from dues.audit.services import actor_name, audit_append
from dues.companies.models import Company
from dues.core.dates import parse_date
from dues.core.errors import Problem, ValidationFailed
from dues.core.money import MoneyError, parse_amount, quantize
from dues.customers.models import Customer
from dues.customers.services import customer_clean, customer_merge, customers_upsert
from dues.ledger.models import Document
from dues.ledger.services import DocumentDraft, documents_post
from dues.users.permissions import require_import

from .mapping import mapping_for, mapping_save
from .models import ImportBatch
from .tabular import Row, Table, read_import_table

KINDS = ("customers", "invoices", "receipts", "credit-notes")
REQUIRED = {
    "customers": ("code", "name"),
    "invoices": ("number", "customer", "date", "amount"),
    "receipts": ("number", "customer", "date", "amount"),
    "credit-notes": ("number", "customer", "date", "amount"),
}
#: Every column each import reads (what a column mapping may map to).
FIELDS = {
    "customers": ("code", "name", "gstin", "pan", "tan", "state", "email", "phone", "credit_limit", "credit_days",
                  "terms", "salesperson", "collector", "segment", "region", "address", "city", "pin", "aliases"),
    "invoices": ("number", "customer", "date", "due_date", "amount", "taxable_value", "tax", "currency",
                 "description"),
    "receipts": ("number", "customer", "date", "amount", "mode", "reference", "tds", "bank_charges", "discount",
                 "allocations"),
    "credit-notes": ("number", "customer", "date", "amount", "against", "reason", "taxable_value", "tax"),
}
DOCUMENT_KIND = {"invoices": Document.INVOICE, "receipts": Document.RECEIPT, "credit-notes": Document.CREDIT_NOTE}


@dataclass
class ImportResult:
    kind: str
    source: str
    rows: int
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    dry_run: bool = False
    warnings: list[str] = field(default_factory=list)
    batch_id: int | None = None


class _DryRun(Exception):
    pass


class _RowReader:
    """Typed access to one row's cells, collecting a ``Problem`` for every bad one."""

    def __init__(self, row: Row, source: str, problems: list[Problem], currency: str | None = None):
        self.row, self.source, self.problems = row, source, problems
        self.currency = currency  # amounts with more decimals than it has are refused, never rounded

    def bad(self, fld: str, message: str) -> None:
        self.problems.append(Problem(message, fld, self.row.number, self.source))

    def text(self, key: str) -> str:
        value = self.row.values.get(key, "")
        return value.isoformat() if isinstance(value, date) else str(value).strip()

    def required(self, key: str) -> str:
        value = self.text(key)
        if not value:
            self.bad(key, "is required")
        return value

    def date(self, key: str, required: bool = True) -> date | None:
        value = self.row.values.get(key, "")
        if value in ("", None):
            if required:
                self.bad(key, "is required")
            return None
        try:
            return parse_date(value)
        except ValueError as exc:
            self.bad(key, str(exc))
            return None

    def amount(self, key: str, required: bool = False, positive: bool = False) -> Decimal | None:
        value = self.text(key)
        if not value:
            if required:
                self.bad(key, "is required")
            return None
        try:
            amount = parse_amount(value, self.currency)
        except MoneyError as exc:
            self.bad(key, str(exc))
            return None
        if amount < 0 or (positive and amount == 0):
            self.bad(key, f"must be {'positive' if positive else 'zero or more'}, got {value}")
            return None
        return amount


def _parse_allocations(text: str, r: _RowReader) -> list[tuple[str, Decimal]]:
    """``INV-1:1000.00;INV-7:250.50`` -> [("INV-1", 1000.00), ("INV-7", 250.50)]."""
    out: list[tuple[str, Decimal]] = []
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        number, sep, amount = part.rpartition(":")
        if not sep or not number.strip():
            r.bad("allocations", f"{part!r} is not INVOICE:AMOUNT")
            continue
        try:
            value = parse_amount(amount, r.currency)
        except MoneyError as exc:
            malformed = str(exc).startswith("not an amount")
            r.bad("allocations", f"{amount!r} in {part!r} is not an amount" if malformed else
                  f"{amount!r} in {part!r}: {exc}")
            continue
        if value <= 0:
            r.bad("allocations", f"{part!r}: the amount must be positive")
            continue
        out.append((number.strip(), value))
    return out


def _document_drafts(kind: str, table: Table, company: Company, problems: list[Problem]) -> list[DocumentDraft]:
    codes = {str(r.values.get("customer", "")).strip() for r in table.rows}
    customers = {c.code: c for c in Customer.objects.filter(company=company, code__in=codes)}
    customers.update(_customers_by_name(company, codes - set(customers)))
    drafts: list[DocumentDraft] = []
    for row in table.rows:
        currency = str(row.values.get("currency", "")).strip().upper() if kind == "invoices" else ""
        r = _RowReader(row, table.source, problems, currency or company.currency)
        before = len(problems)
        number = r.required("number")
        code = r.required("customer")
        customer = customers.get(code)
        if code and customer is None:
            r.bad("customer", f"unknown customer {code!r} (import customers first)")
        doc_date = r.date("date")
        amount = r.amount("amount", required=True, positive=kind != "receipts")
        draft_kwargs: dict = {}
        if kind == "invoices":
            draft_kwargs = {
                "due_date": r.date("due_date", required=False), "taxable_value": r.amount("taxable_value"),
                "tax": r.amount("tax"), "currency": r.text("currency").upper(), "description": r.text("description"),
            }
        elif kind == "receipts":
            mode = r.text("mode").lower() or "bank"
            if mode not in Document.MODES:
                r.bad("mode", f"unknown mode {mode!r} (one of {', '.join(Document.MODES)})")
            draft_kwargs = {"mode": mode, "reference": r.text("reference"), "tds": r.amount("tds") or Decimal(0),
                            "charges": r.amount("bank_charges") or Decimal(0),
                            "discount": r.amount("discount") or Decimal(0),
                            "allocations": _parse_allocations(r.text("allocations"), r)}
        elif kind == "credit-notes":
            against = r.text("against")
            draft_kwargs = {"description": r.text("reason"), "taxable_value": r.amount("taxable_value"),
                            "tax": r.amount("tax")}
            if against and amount is not None:
                draft_kwargs["allocations"] = [(against, amount)]
                draft_kwargs["allocation_field"] = "against"
        if len(problems) > before:
            continue
        drafts.append(DocumentDraft(kind=DOCUMENT_KIND[kind], number=number, customer=customer, date=doc_date,
                                    amount=amount, row=row.number, source=table.source, **draft_kwargs))
    return drafts


def _customers_by_name(company: Company, names: set[str]) -> dict[str, Customer]:
    """Customers named (case-insensitively) by what is not a code: ERP exports carry the party's name.
    A name two customers share is left out (reported as unknown)."""
    from django.db.models.functions import Lower

    lowered = {n.lower() for n in names if n}
    if not lowered:
        return {}
    found: dict[str, list[Customer]] = {}
    for c in Customer.objects.annotate(lname=Lower("name")).filter(company=company, lname__in=list(lowered)):
        found.setdefault(c.lname, []).append(c)
    return {n: found[n.lower()][0] for n in names if n and len(found.get(n.lower(), ())) == 1}


def _split_already_posted(company: Company, drafts: list[DocumentDraft], problems: list[Problem]
                          ) -> tuple[list[DocumentDraft], int]:
    """Drop drafts whose document is already posted identically; a clash is a problem."""
    if not drafts:
        return drafts, 0
    kind = drafts[0].kind
    posted = {d.number: d for d in Document.objects.filter(company=company, kind=kind,
                                                            number__in=[x.number for x in drafts])
              .select_related("customer")}
    fresh, same = [], 0
    for d in drafts:
        doc = posted.get(d.number)
        if doc is None:
            fresh.append(d)
            continue
        diffs = []
        if doc.customer.code != d.customer.code:
            diffs.append(f"customer {doc.customer.code}")
        if doc.date != d.date:
            diffs.append(f"date {doc.date.isoformat()}")
        cur = company.currency
        if doc.amount != quantize(d.amount, cur):
            diffs.append(f"amount {doc.amount.normalize():f}")
        compared = [("tds", d.tds), ("bank_charges", d.charges), ("discount", d.discount)]
        if d.taxable_value is not None:
            compared.append(("taxable_value", d.taxable_value))
        for name, value in compared:
            if getattr(doc, name) != quantize(value, cur):
                diffs.append(f"{name} {getattr(doc, name).normalize():f}")
        if d.due_date and doc.due_date != d.due_date:
            diffs.append(f"due date {doc.due_date.isoformat()}")
        if diffs:
            problems.append(Problem(f"{d.number} is already posted with {', '.join(diffs)}; cancel it before "
                                    "importing a different one", "number", d.row, d.source))
        else:
            same += 1
    return fresh, same


def _customer_rows(table: Table, company: Company, problems: list[Problem], warnings: list[str]):
    """Clean customer rows; for customers we have, columns the file does not carry keep their values."""
    codes = {str(r.values.get("code", "")).strip() for r in table.rows}
    existing = {c.code: c for c in Customer.objects.filter(company=company, code__in=codes)}
    clean_rows, seen = [], {}
    for row in table.rows:
        values = row.values
        customer = existing.get(str(values.get("code", "")).strip())
        if customer is not None:
            values = customer_merge(customer, values)
        data, row_problems = customer_clean(values, company=company, row=row.number, source=table.source)
        problems.extend(row_problems)
        if data is None:
            continue
        if data.code in seen:
            problems.append(Problem(f"customer {data.code} appears twice (also at row {seen[data.code]})", "code",
                                    row.number, table.source))
            continue
        seen[data.code] = row.number
        warnings.extend(f"{table.source}:{row.number}: {w}" for w in data.warnings)
        clean_rows.append(data)
    return clean_rows


def import_file(*, kind: str, path: str | Path, company: Company, actor=None, dry_run: bool = False,
                data: bytes | None = None, progress: Callable[[str], None] | None = None,
                mapping: dict[str, str] | None = None, source: str = "", save_map: bool = False) -> ImportResult:
    """Import one file all-or-nothing; raises ``ValidationFailed`` with every problem found.

    ``progress`` is told each phase ("reading", "checking N rows", "posting N documents"). ``mapping``
    ({dues field: the file's column}) renames columns first, on top of what ``source`` stands for (a
    mapping saved for it, or a preset: ``dues.integrations.mapping``); ``save_map`` remembers the
    explicit ``mapping`` for ``source`` once the file has imported (not on a dry run).
    """
    progress = progress or (lambda phase: None)
    require_import(actor, kind)
    progress("reading")
    if kind not in KINDS:
        raise ValidationFailed([Problem(f"unknown import kind {kind!r} (one of {', '.join(KINDS)})")])
    company = Company.objects.get(pk=company.pk)  # settings as they are now
    path = Path(path)
    if save_map and not source:
        raise ValidationFailed([Problem("saving a column mapping needs a source name (--source NAME)", "source")])
    columns: dict = mapping_for(company, source, kind, optional=bool(mapping)) if source else {}
    if mapping:
        columns.update({k.lower(): v for k, v in mapping.items()})
    table, raw = read_import_table(path, data, REQUIRED[kind], columns, FIELDS[kind])
    result = ImportResult(kind, table.source, len(table.rows), dry_run=dry_run)
    problems: list[Problem] = []
    try:
        with transaction.atomic():
            # imports of one company queue here, so two runs of the same file never collide
            company = Company.objects.select_for_update(no_key=True).get(pk=company.pk)
            batch = ImportBatch.objects.create(company=company, kind=kind, filename=str(path.name),
                                               sha256=hashlib.sha256(raw).hexdigest(), rows=len(table.rows),
                                               created_by=actor_name(actor))
            progress(f"checking {len(table.rows):,} rows")
            if kind == "customers":
                rows = _customer_rows(table, company, problems, result.warnings)
                if problems:
                    raise ValidationFailed(problems)
                result.created, result.updated, result.unchanged = customers_upsert(company=company, rows=rows,
                                                                                     actor=actor)
            else:
                drafts = _document_drafts(kind, table, company, problems)
                drafts, result.unchanged = _split_already_posted(company, drafts, problems)
                progress(f"posting {len(drafts):,} documents")
                docs = documents_post(company=company, drafts=drafts, actor=actor, action="import", batch=batch,
                                      problems=problems)
                result.created = len(docs)
            batch.created, batch.updated, batch.unchanged = result.created, result.updated, result.unchanged
            batch.save(update_fields=["created", "updated", "unchanged"])
            audit_append(actor=actor, action="import", object_type="import_batch", object_id=batch.pk,
                         company_id=company.pk, after={"kind": kind, "file": batch.filename, "sha256": batch.sha256,
                                                       "rows": batch.rows, "created": result.created,
                                                       "updated": result.updated, "unchanged": result.unchanged})
            result.batch_id = batch.pk
            if save_map and mapping and not dry_run:
                mapping_save(company=company, source=source, kind=kind, columns=mapping, actor=actor)
            if dry_run:
                raise _DryRun
    except _DryRun:
        result.batch_id = None
    except ValidationFailed as exc:
        raise ValidationFailed(sorted(exc.problems, key=lambda p: (p.row or 0, p.field))) from None
    return result
