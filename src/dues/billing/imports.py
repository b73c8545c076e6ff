"""Importing the item master, rate contracts, recurring charges and delivery challans from CSV/XLSX.

The same contract as the other importers (``dues.integrations.importers``): read the whole file,
validate every row (every bad row reported as ``FILE:ROW: field: reason``), write only when the
whole file is good, in one transaction, audited; importing the same file twice changes nothing.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from dues.audit.services import AuditEntry, actor_name, audit_append_many
from dues.companies.models import Company
from dues.core.billing import hsn_problem, parse_slabs, slab_problem
from dues.core.errors import Problem, ValidationFailed
from dues.customers.models import Customer
from dues.integrations.importers import ImportResult, _RowReader
from dues.integrations.tabular import Table, read_import_table
from dues.users.permissions import require_import

from .models import Delivery, DeliveryLine, Item, RateContract, RecurringCharge

KINDS = ("items", "contracts", "recurring", "deliveries")
REQUIRED = {
    "items": ("code", "name", "hsn", "gst_rate"),
    "contracts": ("customer", "item", "rate", "valid_from"),
    "recurring": ("code", "customer", "item", "rate", "start"),
    "deliveries": ("delivery", "customer", "date", "item", "qty"),
}


def _decimal(r: _RowReader, key: str, *, required: bool = False, positive: bool = False) -> Decimal | None:
    return r.amount(key, required=required, positive=positive)


def _gst_rate(r: _RowReader, key: str, slabs, required: bool = True) -> Decimal | None:
    text = r.text(key)
    if not text:
        if required:
            r.bad(key, "is required")
        return None
    try:
        rate = Decimal(text.rstrip("%").strip())
    except ArithmeticError:
        r.bad(key, f"{text!r} is not a number")
        return None
    why = slab_problem(rate, slabs)
    if why:
        r.bad(key, why)
        return None
    return rate


def _hsn(r: _RowReader, key: str, required: bool = True) -> str:
    text = r.text(key).replace(".", "").replace(" ", "")
    if not text:
        if required:
            r.bad(key, "is required")
        return ""
    why = hsn_problem(text)
    if why:
        r.bad(key, why)
        return ""
    return text


def _items(table: Table, company: Company, slabs, problems: list[Problem]) -> list[dict]:
    rows, seen = [], {}
    for row in table.rows:
        r = _RowReader(row, table.source, problems)
        before = len(problems)
        code, name = r.required("code"), r.required("name")
        hsn = _hsn(r, "hsn")
        rate = _gst_rate(r, "gst_rate", slabs)
        kind = (r.text("kind") or r.text("type") or "goods").lower()
        kind = {"g": "goods", "s": "service", "services": "service"}.get(kind, kind)
        if kind not in (Item.GOODS, Item.SERVICE):
            r.bad("kind", f"{kind!r} is not goods or service")
        if code in seen:
            r.bad("code", f"item {code} appears twice (also at row {seen[code]})")
        seen[code] = row.number
        if len(problems) == before:
            rows.append({"code": code, "name": name, "hsn": hsn, "unit": (r.text("unit") or "NOS").upper()[:10],
                         "gst_rate": rate, "kind": kind})
    return rows


def _write_items(company, rows, who, result) -> list[AuditEntry]:
    existing = {i.code: i for i in Item.objects.filter(company=company, code__in=[r["code"] for r in rows])}
    new, changed, audit = [], [], []
    for data in rows:
        item = existing.get(data["code"])
        if item is None:
            new.append(Item(company=company, **data))
            continue
        before = item.audit_state()
        for k, v in data.items():
            setattr(item, k, v)
        if item.audit_state() != before:
            changed.append(item)
            audit.append(AuditEntry(who, "update", "item", item.code, company.pk, before, item.audit_state()))
        else:
            result.unchanged += 1
    Item.objects.bulk_create(new)
    Item.objects.bulk_update(changed, ["name", "hsn", "unit", "gst_rate", "kind"])
    audit += [AuditEntry(who, "create", "item", i.code, company.pk, None, i.audit_state()) for i in new]
    result.created, result.updated = len(new), len(changed)
    return audit


def _contracts(table: Table, company: Company, problems: list[Problem], result) -> list[RateContract]:
    customers = {c.code: c for c in Customer.objects.filter(company=company)}
    items = {i.code: i for i in Item.objects.filter(company=company)}
    out, seen = [], {}
    for row in table.rows:
        r = _RowReader(row, table.source, problems)
        before = len(problems)
        code, item_code = r.required("customer"), r.required("item")
        customer, item = customers.get(code), items.get(item_code)
        if code and customer is None:
            r.bad("customer", f"unknown customer {code!r} (import customers first)")
        if item_code and item is None:
            r.bad("item", f"unknown item {item_code!r} (import items first)")
        rate = _decimal(r, "rate", required=True)
        disc = _decimal(r, "discount_pct") or Decimal(0)
        if disc > 100:
            r.bad("discount_pct", f"must be at most 100, got {disc}")
        start, end = r.date("valid_from"), r.date("valid_to", required=False)
        if start and end and end < start:
            r.bad("valid_to", f"{end.isoformat()} is before valid_from {start.isoformat()}")
        key = (code, item_code, start)
        if key in seen:
            r.bad("valid_from", f"the same contract appears twice (also at row {seen[key]})")
        seen[key] = row.number
        if len(problems) == before:
            out.append(RateContract(company=company, customer=customer, item=item, rate=rate, valid_from=start,
                                    valid_to=end, discount_pct=disc))
    if problems:
        return out
    existing = {(c.customer_id, c.item_id, c.valid_from): c
                for c in RateContract.objects.filter(company=company, customer__in=[c.customer for c in out])}
    fresh = []
    for c in out:
        old = existing.get((c.customer.pk, c.item.pk, c.valid_from))
        if old is None:
            fresh.append(c)
        elif (old.rate, old.valid_to, old.discount_pct) == (c.rate, c.valid_to, c.discount_pct):
            result.unchanged += 1
        else:
            old.rate, old.valid_to, old.discount_pct = c.rate, c.valid_to, c.discount_pct
            old.save(update_fields=["rate", "valid_to", "discount_pct"])
            result.updated += 1
    return fresh


_RECURRING_FIELDS = ("customer", "item", "rate", "quantity", "discount_pct", "frequency", "billing_day", "start",
                     "end", "po")


def _recurring(table: Table, company: Company, problems: list[Problem], result, who: str) -> list[AuditEntry]:
    """Recurring charges, matched by ``code``: new ones created, changed ones updated (periods already
    generated stay as they were)."""
    customers = {c.code: c for c in Customer.objects.filter(company=company)}
    items = {i.code: i for i in Item.objects.filter(company=company)}
    frequencies = dict(RecurringCharge.FREQUENCIES)
    out, seen = [], {}
    for row in table.rows:
        r = _RowReader(row, table.source, problems)
        before = len(problems)
        code, cust_code, item_code = r.required("code"), r.required("customer"), r.required("item")
        customer, item = customers.get(cust_code), items.get(item_code)
        if len(code) > 20:
            r.bad("code", f"{code!r} is longer than 20 characters")
        if cust_code and customer is None:
            r.bad("customer", f"unknown customer {cust_code!r} (import customers first)")
        if item_code and item is None:
            r.bad("item", f"unknown item {item_code!r} (import items first)")
        rate = _decimal(r, "rate", required=True)
        qty = _decimal(r, "qty", positive=True) if r.text("qty") else Decimal(1)
        disc = _decimal(r, "discount_pct") or Decimal(0)
        if disc > 100:
            r.bad("discount_pct", f"must be at most 100, got {disc}")
        frequency = (r.text("frequency") or RecurringCharge.MONTHLY).lower()
        if frequency not in frequencies:
            r.bad("frequency", f"{frequency!r} is not monthly, quarterly or yearly")
        day_text = r.text("billing_day") or "1"
        day = int(day_text) if day_text.isdigit() else 0
        if not 1 <= day <= 31:
            r.bad("billing_day", f"must be a day of the month, 1 to 31, got {day_text!r}")
        start, end = r.date("start"), r.date("end", required=False)
        if start and end and end < start:
            r.bad("end", f"{end.isoformat()} is before start {start.isoformat()}")
        if code in seen:
            r.bad("code", f"charge {code} appears twice (also at row {seen[code]})")
        seen[code] = row.number
        if len(problems) == before:
            out.append(RecurringCharge(company=company, code=code, customer=customer, item=item, rate=rate,
                                       quantity=qty, discount_pct=disc, frequency=frequency, billing_day=day,
                                       start=start, end=end, po=r.text("po")[:60]))
    if problems:
        return []
    existing = {c.code: c for c in RecurringCharge.objects.filter(company=company, code__in=[c.code for c in out])
                .select_related("customer", "item")}
    new, changed, audit = [], [], []
    for c in out:
        old = existing.get(c.code)
        if old is None:
            new.append(c)
            continue
        before = old.audit_state()
        for f in _RECURRING_FIELDS:
            setattr(old, f, getattr(c, f))
        if old.audit_state() == before:
            result.unchanged += 1
        else:
            changed.append(old)
            audit.append(AuditEntry(who, "update", "recurring_charge", old.code, company.pk, before, old.audit_state()))
    RecurringCharge.objects.bulk_create(new)
    RecurringCharge.objects.bulk_update(changed, list(_RECURRING_FIELDS))
    audit += [AuditEntry(who, "create", "recurring_charge", c.code, company.pk, None, c.audit_state()) for c in new]
    result.created, result.updated = len(new), len(changed)
    return audit


def contract_for(contracts: list[RateContract], on: date) -> RateContract | None:
    """The contract valid on ``on`` (the latest-starting one if several overlap)."""
    valid = [c for c in contracts if c.valid_from <= on and (c.valid_to is None or on <= c.valid_to)]
    return max(valid, key=lambda c: c.valid_from) if valid else None


@dataclass
class _Challan:
    number: str
    customer: Customer
    date: date
    po: str
    row: int
    lines: list[DeliveryLine] = field(default_factory=list)


def _deliveries(table: Table, company: Company, slabs, problems: list[Problem], result) -> list[_Challan]:
    codes = {str(r.values.get("customer", "")).strip() for r in table.rows}
    customers = {c.code: c for c in Customer.objects.filter(company=company, code__in=codes)}
    item_codes = {str(r.values.get("item", "")).strip() for r in table.rows}
    items = {i.code: i for i in Item.objects.filter(company=company, code__in=item_codes)}
    contracts: dict[tuple[int, int], list[RateContract]] = defaultdict(list)
    for c in RateContract.objects.filter(company=company, item__in=items.values(),
                                         customer__in=customers.values()):
        contracts[(c.customer_id, c.item_id)].append(c)
    challans: dict[str, _Challan] = {}
    for row in table.rows:
        r = _RowReader(row, table.source, problems)
        before = len(problems)
        number, code, item_code = r.required("delivery"), r.required("customer"), r.required("item")
        customer, item = customers.get(code), items.get(item_code)
        if code and customer is None:
            r.bad("customer", f"unknown customer {code!r} (import customers first)")
        if item_code and item is None:
            r.bad("item", f"unknown item {item_code!r} (import items first)")
        on = r.date("date")
        qty_text = r.text("qty")
        qty = None
        if not qty_text:
            r.bad("qty", "is required")
        else:
            try:
                qty = Decimal(qty_text.replace(",", ""))
            except ArithmeticError:
                r.bad("qty", f"{qty_text!r} is not a number")
            else:
                if qty <= 0:
                    r.bad("qty", f"must be positive, got {qty_text}")
                    qty = None
        hsn = _hsn(r, "hsn", required=False) if r.text("hsn") else (item.hsn if item else "")
        gst_rate = _gst_rate(r, "gst_rate", slabs, required=False) if r.text("gst_rate") else (
            item.gst_rate if item else None)
        if item and not r.text("gst_rate") and slab_problem(item.gst_rate, slabs):
            r.bad("gst_rate", slab_problem(item.gst_rate, slabs))
        rate = _decimal(r, "rate")
        disc = _decimal(r, "discount_pct")
        if disc is not None and disc > 100:
            r.bad("discount_pct", f"must be at most 100, got {disc}")
        if customer and item and on and (rate is None or disc is None):
            contract = contract_for(contracts[(customer.pk, item.pk)], on)
            if rate is None and contract is None:
                r.bad("rate", f"is empty and no rate contract of {code} for {item_code} is valid on {on.isoformat()}")
            elif contract is not None:
                rate = contract.rate if rate is None else rate
                disc = contract.discount_pct if disc is None else disc
        po = r.text("po")
        challan = challans.get(number)
        if challan is not None and customer is not None and (challan.customer.pk, challan.date, challan.po) != (
                customer.pk, on, po):
            r.bad("delivery", f"{number} has another customer, date or PO at row {challan.row}")
        if len(problems) > before:
            continue
        if challan is None:
            challan = challans[number] = _Challan(number, customer, on, po, row.number)
        challan.lines.append(DeliveryLine(position=len(challan.lines) + 1, item=item, hsn=hsn, quantity=qty,
                                          uom=(r.text("uom") or item.unit).upper()[:10], rate=rate,
                                          gst_rate=gst_rate, discount_pct=disc or Decimal(0)))
    # a challan already imported is left alone when it is the same, refused when it differs
    existing = {d.number: d for d in Delivery.objects.filter(company=company, number__in=list(challans))
                .select_related("customer")}
    fresh = []
    for ch in challans.values():
        old = existing.get(ch.number)
        if old is None:
            fresh.append(ch)
        elif (old.customer_id, old.date, old.po) == (ch.customer.pk, ch.date, ch.po) and \
                old.lines.count() == len(ch.lines):
            result.unchanged += len(ch.lines)
        else:
            problems.append(Problem(f"delivery {ch.number} is already imported with other details", "delivery",
                                    ch.row, table.source))
    return fresh


def import_billing_file(*, kind: str, path: str | Path, company: Company, actor=None, dry_run: bool = False,
                        data: bytes | None = None) -> ImportResult:
    """Import items, rate contracts or deliveries from one file, all or nothing."""
    from .services import billing_settings

    require_import(actor, kind)
    if kind not in KINDS:
        raise ValidationFailed([Problem(f"unknown import kind {kind!r} (one of {', '.join(KINDS)})")])
    path = Path(path)
    table, raw = read_import_table(path, data, REQUIRED[kind])
    result = ImportResult(kind, table.source, len(table.rows), dry_run=dry_run)
    who = actor_name(actor)
    problems: list[Problem] = []
    with transaction.atomic():
        company = Company.objects.select_for_update(no_key=True).get(pk=company.pk)
        slabs = parse_slabs(billing_settings(company).gst_slabs)
        audit: list[AuditEntry] = []
        if kind == "items":
            rows = _items(table, company, slabs, problems)
            if problems:
                raise ValidationFailed(problems)
            audit = _write_items(company, rows, who, result)
        elif kind == "contracts":
            fresh = _contracts(table, company, problems, result)
            if problems:
                raise ValidationFailed(problems)
            RateContract.objects.bulk_create(fresh)
            result.created = len(fresh)
        elif kind == "recurring":
            audit = _recurring(table, company, problems, result, who)
            if problems:
                raise ValidationFailed(problems)
        else:
            challans = _deliveries(table, company, slabs, problems, result)
            if problems:
                raise ValidationFailed(sorted(problems, key=lambda p: (p.row or 0, p.field)))
            deliveries = Delivery.objects.bulk_create(
                [Delivery(company=company, number=ch.number, customer=ch.customer, date=ch.date, po=ch.po,
                          created_by=who) for ch in challans])
            if deliveries and deliveries[0].pk is None:  # a backend without RETURNING
                ids = dict(Delivery.objects.filter(company=company, number__in=[d.number for d in deliveries])
                           .values_list("number", "pk"))
                for d in deliveries:
                    d.pk = ids[d.number]
            lines = []
            for d, ch in zip(deliveries, challans, strict=True):
                for ln in ch.lines:
                    ln.delivery = d
                    lines.append(ln)
            DeliveryLine.objects.bulk_create(lines, batch_size=2000)
            result.created = len(lines)
        audit.append(AuditEntry(who, "import", "import_batch", f"{kind}:{table.source}", company.pk, None, {
            "kind": kind, "file": path.name, "sha256": hashlib.sha256(raw).hexdigest(), "rows": len(table.rows),
            "created": result.created, "updated": result.updated, "unchanged": result.unchanged}))
        if dry_run:
            transaction.set_rollback(True)
        else:
            audit_append_many(audit)
    return result



