"""Billing writes: settings, the bill run (deliveries -> draft tax invoices), approval and rejection.

- ``bill_run`` turns every unbilled delivery line up to a date into DRAFT bills, set-based: one query
  reads the lines, prices are computed in Decimal, and bills, lines and audit records go in with bulk
  inserts in one transaction. ``BillLine.delivery_line`` is unique, so a line is never billed twice,
  even by two runs at once (they queue on the company row; a race would hit the constraint).
- ``bills_approve`` checks each draft's credit (``dues.credit.services.check``), takes the next
  number of the fiscal year's series under a row lock (FOR UPDATE), and posts the invoice through
  ``dues.ledger.services.documents_post`` (Dr debtors; Cr sales, output GST, round-off), all in one
  transaction: the series has no gaps because a number is taken only by an invoice that is posted.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db import transaction

from dues import clock
from dues.audit.services import AuditEntry, actor_name, audit_append_many
from dues.companies.models import Company
from dues.core.billing import invoice_totals, parse_slabs, price_line, series_number
from dues.core.dates import fiscal_year
from dues.core.errors import DuesError, PermissionDenied
from dues.core.gst import is_intra_state
from dues.credit.services import CreditDecision, check
from dues.ledger.models import Document
from dues.ledger.services import DocumentDraft, LineDraft, documents_post
from dues.users.permissions import can, require

from .models import Bill, BillingSettings, BillLine, DeliveryLine, NumberSeries
from .recurring import generate_recurring


def billing_settings(company: Company) -> BillingSettings:
    found = BillingSettings.objects.filter(company=company).first()
    return found or BillingSettings(company=company)


def billing_settings_set(*, company: Company, values: dict[str, str], actor=None) -> BillingSettings:
    """Change billing settings (``prefix``, ``four_eyes``, ``overdue_days_allowed``, ``gst_slabs``,
    ``upi_vpa``, ``address``, ``bank_details``, ``pin``, ``city``, ``credit_note_prefix``,
    ``debit_note_prefix``, ``turnover`` (empty: not given), ``einvoice_window_threshold``,
    ``einvoice_window_days`` (0: none), ``einvoice_warn_days``); audited."""
    require(actor, "settings.change", "change billing settings")
    with transaction.atomic():
        s, _ = BillingSettings.objects.select_for_update().get_or_create(company=company)
        before = s.audit_state()
        for key, value in values.items():
            if key not in BillingSettings.FIELDS:
                raise DuesError(f"unknown billing setting {key!r} (one of {', '.join(BillingSettings.FIELDS)})")
            if key == "four_eyes":
                if value.lower() not in ("on", "off", "true", "false", "yes", "no", "1", "0"):
                    raise DuesError(f"four_eyes is on or off, got {value!r}")
                value = value.lower() in ("on", "true", "yes", "1")
            elif key in ("overdue_days_allowed", "einvoice_window_days", "einvoice_warn_days"):
                if not value.isdigit():
                    raise DuesError(f"{key} is a whole number of days, got {value!r}")
                value = int(value)
            elif key in ("turnover", "einvoice_window_threshold"):
                if key == "turnover" and not value.strip():
                    value = None
                else:
                    try:
                        value = Decimal(value.replace(",", "").strip())
                    except ArithmeticError:
                        value = None
                    if value is None or not value.is_finite() or value < 0:
                        raise DuesError(f"{key} is an amount of at least 0, got {values[key]!r}")
            elif key in ("prefix", "credit_note_prefix", "debit_note_prefix"):
                try:
                    series_number(value, 2026, 1)
                except ValueError as exc:
                    raise DuesError(f"prefix {value!r}: {exc}") from None
            elif key == "gst_slabs":
                try:
                    parse_slabs(value)
                except ArithmeticError:
                    raise DuesError(f"gst_slabs must be numbers separated by commas, got {value!r}") from None
            setattr(s, key, value)
        s.save()
        audit_append_many([AuditEntry(actor_name(actor), "update", "billing_settings", str(company.pk), company.pk,
                                      before, s.audit_state())])
    return s


def customer_bill_by_po(*, customer, on: bool, actor=None) -> None:
    """Bill this customer one invoice per purchase order (``on``) or per delivery."""
    require(actor, "customers.change", "change customers")
    before = customer.audit_state()
    customer.bill_by_po = on
    customer.save(update_fields=["bill_by_po"])
    audit_append_many([AuditEntry(actor_name(actor), "update", "customer", customer.code, customer.company_id,
                                  before, {**customer.audit_state(), "bill_by_po": on})])


@dataclass
class RunResult:
    bills: list[Bill]
    deliveries: dict[int, list[str]]  # bill pk -> delivery numbers


_LINE_COLUMNS = ("id", "delivery_id", "delivery__number", "delivery__po", "delivery__customer_id", "item_id",
                 "item__name", "item__kind", "hsn", "quantity", "uom", "rate", "gst_rate", "discount_pct")
_BILL_LINE_COLUMNS = ["id", "bill_id", "delivery_line_id", "delivery_number", "position", "item_id", "description",
                      "hsn", "is_service", "quantity", "uom", "rate", "discount_pct", "gross", "discount", "taxable",
                      "gst_rate", "cgst", "sgst", "igst"]


def bill_run(*, company: Company, on: date, customer=None, actor=None) -> RunResult:
    """Make DRAFT bills of every unbilled delivery line dated on or before ``on`` (after generating the
    periods of recurring charges up to ``on``, ``dues.billing.recurring.generate_recurring``).

    Set-based: one query reads the unbilled lines as tuples, bills and lines are written with
    multi-row inserts under reserved ids (no model instance per line), audit records in one append.
    """
    from dues import db as bulk
    from dues.customers.models import Customer

    require(actor, "billing.run", "run billing")
    who = actor_name(actor)
    cur = company.currency
    with transaction.atomic():
        company = Company.objects.select_for_update(no_key=True).get(pk=company.pk)
        # recurring charges first: their periods up to the run's date become unbilled deliveries
        generate_recurring(company=company, up_to=on, customer=customer, actor=actor, lock=False)
        qs = (DeliveryLine.objects.filter(delivery__company=company, delivery__date__lte=on,
                                          bill_line__isnull=True)
              .order_by("delivery__customer__code", "delivery__date", "delivery__number", "position"))
        if customer is not None:
            qs = qs.filter(delivery__customer=customer)
        rows = list(qs.values_list(*_LINE_COLUMNS))
        customers = {c.pk: c for c in Customer.objects.filter(pk__in={r[4] for r in rows})}
        groups: dict[tuple, list[tuple]] = defaultdict(list)
        for r in rows:
            cust = customers[r[4]]
            key = (r[4], "po", r[3]) if cust.bill_by_po and r[3] else (r[4], "d", r[2])
            groups[key].append(r)
        now = clock.now()
        bills: list[Bill] = []
        line_rows: list[list] = []
        deliveries: list[list[str]] = []
        for lines in groups.values():
            cust = customers[lines[0][4]]
            intra = is_intra_state(company.state_code, cust.state_code)
            priced = []
            start = len(line_rows)
            for pos, (lid, _, dnum, _, _, item_id, name, kind, hsn, qty, uom, rate, gst, disc) in enumerate(lines, 1):
                p = price_line(qty, rate, disc, gst, intra, cur)
                priced.append(p)
                line_rows.append([None, None, lid, dnum, pos, item_id, name, hsn, kind == "service", qty, uom, rate,
                                  disc, p.gross, p.discount, p.taxable, gst, p.tax.cgst, p.tax.sgst, p.tax.igst])
            t = invoice_totals(priced)
            bill = Bill(company=company, customer=cust, date=on, po=lines[0][3],
                        place_of_supply=cust.state_code or company.state_code, currency=cur, taxable=t.taxable,
                        cgst=t.cgst, sgst=t.sgst, igst=t.igst, round_off=t.round_off, total=t.total,
                        created_at=now, created_by=who)
            bill._line_span = (start, len(line_rows))
            bills.append(bill)
            deliveries.append(list(dict.fromkeys(r[2] for r in lines)))
        for bill, pk in zip(bills, bulk.reserve_ids(Bill._meta.db_table, len(bills)), strict=True):
            bill.pk = pk
            for row in line_rows[bill._line_span[0]:bill._line_span[1]]:
                row[1] = pk
        for row, pk in zip(line_rows, bulk.reserve_ids(BillLine._meta.db_table, len(line_rows)), strict=True):
            row[0] = pk
        bulk.insert_instances(Bill, bills)
        bulk.insert_rows(BillLine._meta.db_table, _BILL_LINE_COLUMNS, line_rows)
        by_bill = {b.pk: d for b, d in zip(bills, deliveries, strict=True)}
        audit_append_many([AuditEntry(who, "draft", "bill", b.reference, company.pk, None,
                                      {**b.audit_state(), "deliveries": by_bill[b.pk]}) for b in bills])
    return RunResult(bills, by_bill)


def take_numbers(company: Company, prefix: str, docs: list) -> None:
    """Give ``docs`` (bills or notes, in date order) the next numbers of ``prefix``'s series of their
    fiscal year, taken under the series row's lock (FOR UPDATE): call inside the posting transaction."""
    by_fy: dict[date, list] = defaultdict(list)
    for d in docs:
        by_fy[fiscal_year(d.date, company.fy_start_month, company.fy_start_day).start].append(d)
    for fy_start, fy_docs in sorted(by_fy.items()):
        series, _ = NumberSeries.objects.get_or_create(company=company, fy_start=fy_start, prefix=prefix)
        series = NumberSeries.objects.select_for_update().get(pk=series.pk)
        n = series.next_number
        for d in fy_docs:
            try:
                d.number = series_number(prefix, fy_start.year, n)
            except ValueError as exc:
                raise DuesError(str(exc)) from None
            n += 1
        series.next_number = n
        series.save(update_fields=["next_number"])


@dataclass
class Refusal:
    bill: Bill
    decision: CreditDecision


@dataclass
class ApproveResult:
    approved: list[Bill] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)


def _same_person(actor, name: str) -> bool:
    return actor_name(actor).strip().lower() == (name or "").strip().lower()


def bills_approve(*, company: Company, bills: list[Bill], actor=None, override_reason: str = "",
                  as_of: date | None = None) -> ApproveResult:
    """Approve drafts: credit check, gapless number, ledger invoice — all in one transaction.

    A draft refused on credit stays a draft (its refusal is recorded on it) unless ``override_reason``
    is given by a user who may override credit (``credit.override``); the override is audited.
    """
    require(actor, "billing.approve", "approve draft invoices")
    if override_reason and not can(actor, "credit.override"):
        raise PermissionDenied(f"{actor_name(actor)} may not override a credit hold (AR manager or admin only)")
    who = actor_name(actor)
    as_of = as_of or clock.today()
    result = ApproveResult()
    with transaction.atomic():
        company = Company.objects.select_for_update(no_key=True).get(pk=company.pk)
        settings = billing_settings(company)
        locked = list(Bill.objects.select_for_update(of=("self",)).filter(pk__in=[b.pk for b in bills])
                      .select_related("customer").order_by("date", "pk"))
        pending: dict[int, Decimal] = defaultdict(Decimal)
        to_post: list[Bill] = []
        audit: list[AuditEntry] = []
        for b in locked:
            if b.status != Bill.DRAFT:
                raise DuesError(f"{b.label} is {b.status}, not a draft")
            if settings.four_eyes and _same_person(actor, b.created_by):
                raise PermissionDenied(f"{b.label}: four-eyes rule: {b.created_by} made this draft and may not "
                                       "approve it")
            decision = check(b.customer, b.total, as_of, pending=pending[b.customer_id], exclude_bill=b,
                             overdue_days_allowed=settings.overdue_days_allowed)
            if not decision.allowed and not override_reason:
                b.held_reason = "; ".join(decision.reasons)[:500]
                result.refused.append(Refusal(b, decision))
                continue
            if not decision.allowed:
                audit.append(AuditEntry(who, "credit_override", "bill", b.reference, company.pk, None,
                                        {"reason": override_reason, **decision.as_dict()}))
                b.reason = override_reason[:500]
            pending[b.customer_id] += b.total
            to_post.append(b)
        if result.refused:
            Bill.objects.bulk_update([r.bill for r in result.refused], ["held_reason"])
        if not to_post:
            audit_append_many(audit)
            return result
        take_numbers(company, settings.prefix, to_post)
        lines_of: dict[int, list[BillLine]] = defaultdict(list)
        for ln in BillLine.objects.filter(bill__in=to_post).order_by("bill_id", "position"):
            lines_of[ln.bill_id].append(ln)
        drafts = [DocumentDraft(kind=Document.INVOICE, number=b.number, customer=b.customer, date=b.date,
                                amount=b.total, description=f"Tax invoice {b.number}" + (f", PO {b.po}" if b.po else ""),
                                lines=[LineDraft(description=ln.description, rate=ln.rate, quantity=ln.quantity,
                                                 gst_rate=ln.gst_rate, hsn=ln.hsn, discount_pct=ln.discount_pct)
                                       for ln in lines_of[b.pk]])
                  for b in to_post]
        post_approved(company, to_post, drafts, actor=actor, who=who, audit=audit, what="invoice",
                      reason_field="reason")
        result.approved = to_post
    return result


def post_approved(company: Company, records: list, drafts: list, *, actor, who: str, audit: list, what: str,
                  reason_field: str) -> None:
    """Post approved drafts (bills or notes, numbered) through the ledger as one batch, check each posted
    document carries the draft's figures to the paisa, mark them approved and write the audit: the common
    end of every approval."""
    docs = documents_post(company=company, drafts=drafts, actor=actor, action="post")
    now = clock.now()
    model = type(records[0])
    for r, doc in zip(records, docs, strict=True):
        if (doc.taxable_value, doc.cgst, doc.sgst, doc.igst, doc.amount) != (r.taxable, r.cgst, r.sgst, r.igst, r.total):
            raise DuesError(f"{r.label}: the posted {what} does not match the draft's figures")
        r.status, r.document, r.decided_at, r.decided_by, r.held_reason = model.APPROVED, doc, now, who, ""
        audit.append(AuditEntry(who, "approve", model.__name__.lower(), r.reference, company.pk, None,
                                {**r.audit_state(), "invoice" if what == "invoice" else "document": doc.number}))
    model.objects.bulk_update(records, ["status", "number", "document", "decided_at", "decided_by", "held_reason",
                                        reason_field])
    audit_append_many(audit)


def bill_reject(*, bill: Bill, reason: str, actor=None) -> Bill:
    """Reject a draft: it stays on record as rejected and its delivery lines are unbilled again."""
    require(actor, "billing.approve", "reject draft invoices")
    if not reason.strip():
        raise DuesError("a rejection needs a reason")
    with transaction.atomic():
        bill = Bill.objects.select_for_update().get(pk=bill.pk)
        if bill.status != Bill.DRAFT:
            raise DuesError(f"{bill.label} is {bill.status}, not a draft")
        settings = billing_settings(bill.company)
        if settings.four_eyes and _same_person(actor, bill.created_by):
            raise PermissionDenied(f"{bill.label}: four-eyes rule: {bill.created_by} made this draft and may not "
                                   "decide on it")
        before = bill.audit_state()
        BillLine.objects.filter(bill=bill).update(delivery_line=None)
        bill.status, bill.reason = Bill.REJECTED, reason[:500]
        bill.decided_at, bill.decided_by = clock.now(), actor_name(actor)
        bill.save(update_fields=["status", "reason", "decided_at", "decided_by"])
        audit_append_many([AuditEntry(actor_name(actor), "reject", "bill", bill.reference, bill.company_id, before,
                                      {**bill.audit_state(), "reason": bill.reason})])
    return bill


def bill_get(company: Company, ref: str) -> Bill:
    """A bill by its invoice number or draft reference (``D-42``)."""
    qs = Bill.objects.filter(company=company).select_related("customer", "document")
    found = qs.filter(number=ref).first()
    if found is None and ref.upper().startswith("D-") and ref[2:].isdigit():
        found = qs.filter(pk=int(ref[2:])).first()
    if found is None:
        raise DuesError(f"no bill {ref!r} (an invoice number, or a draft reference like D-12)")
    return found


def irp_response_import(*, company: Company, response: dict, actor=None):
    """Store the IRP's answer (IRN, acknowledgement number and date, signed QR) on the invoice it names."""
    require(actor, "invoices.post", "record e-invoice responses")
    data = response
    if isinstance(data.get("result"), dict):
        data = data["result"]
    elif isinstance(data.get("Data"), dict):
        data = data["Data"]
    irn, ack, ack_dt, qr = data.get("Irn"), data.get("AckNo"), data.get("AckDt"), data.get("SignedQRCode")
    if not irn or not ack or not qr:
        raise DuesError("not an IRP success response: Irn, AckNo and SignedQRCode are required")
    number = data.get("DocNo") or _doc_no_from_jwt(data.get("SignedInvoice", "")) or _doc_no_from_jwt(qr)
    if not number:
        raise DuesError("the response does not name the invoice (no DocNo)")
    with transaction.atomic():
        bill = Bill.objects.select_for_update().filter(company=company, number=number).first()
        entity = "bill"
        if bill is None:  # a credit or debit note's IRN
            from .models import Note

            bill, entity = Note.objects.select_for_update().filter(company=company, number=number).first(), "note"
        if bill is None:
            raise DuesError(f"no approved invoice or note {number} for this e-invoice response")
        before = bill.audit_state()
        bill.irn, bill.ack_no, bill.signed_qr = str(irn), str(ack), str(qr)
        bill.ack_date = _ack_date(str(ack_dt)) if ack_dt else None
        bill.save(update_fields=["irn", "ack_no", "ack_date", "signed_qr"])
        audit_append_many([AuditEntry(actor_name(actor), "einvoice", entity, bill.reference, company.pk, before,
                                      {**bill.audit_state(), "irn": bill.irn, "ack_no": bill.ack_no})])
    return bill


def _ack_date(text: str) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime.strptime(text[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=ZoneInfo("Asia/Kolkata"))


def _doc_no_from_jwt(token: str) -> str | None:
    """The DocNo inside a signed IRP token (its payload is base64url JSON; the signature is not checked here)."""
    import base64
    import json

    parts = (token or "").split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        data = payload.get("data", payload)
        if isinstance(data, str):
            data = json.loads(data)
        return (data.get("DocDtls") or {}).get("No") or data.get("DocNo")
    except (ValueError, AttributeError):
        return None
