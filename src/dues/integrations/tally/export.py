"""``dues export tally``: receipts, credit notes and interest debit notes made in dues, as a Tally
import XML (ENVELOPE / Import Data / Vouchers, TALLYMESSAGE / VOUCHER with bill-wise allocations).

Documents that came from Tally are never sent back; every other document is exported once (the
``TallyExport`` log) unless asked again. Ledger names: the customer's Tally ledger (from the masters
imported) or its name; the other side from ``TallyLedgerMap`` (bank, TDS, ...), set with
``--ledger ROLE=NAME`` and remembered.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

from django.db import transaction
from django.db.models import Sum

from dues.audit.services import actor_name, audit_append
from dues.core.errors import DuesError
from dues.integrations.models import TallyBill, TallyExport, TallyLedgerMap, TallyMaster
from dues.ledger.models import Allocation, Document, OpenItem
from dues.users.permissions import require

ZERO = Decimal(0)
ROLES = {
    "bank": "Bank", "tds": "TDS Receivable", "charges": "Bank Charges", "discount": "Discount Allowed",
    "sales_returns": "Sales Returns", "interest": "Interest Received", "cgst": "Output CGST", "sgst": "Output SGST",
    "igst": "Output IGST",
}
VCHTYPE = {Document.RECEIPT: "Receipt", Document.CREDIT_NOTE: "Credit Note", Document.DEBIT_NOTE: "Debit Note"}


@dataclass
class ExportResult:
    path: str
    documents: list[str] = field(default_factory=list)
    skipped_already: int = 0


def ledger_map(company, changes: dict[str, str] | None = None, actor=None) -> dict[str, str]:
    """The Tally ledger names by role, after applying ``changes`` (saved, audited)."""
    for role, name in (changes or {}).items():
        if role not in ROLES:
            raise DuesError(f"--ledger: unknown role {role!r} (one of {', '.join(ROLES)})")
        before = TallyLedgerMap.objects.filter(company=company, role=role).values_list("name", flat=True).first()
        TallyLedgerMap.objects.update_or_create(company=company, role=role, defaults={"name": name})
        if before != name:
            audit_append(actor=actor, action="update", object_type="tally_ledger_map", object_id=role,
                         company_id=company.pk, before={"name": before} if before else None, after={"name": name})
    return {**ROLES, **dict(TallyLedgerMap.objects.filter(company=company).values_list("role", "name"))}


def _amount(x: Decimal) -> str:
    return f"{x:.2f}"


def _entry(ledger: str, debit: Decimal, party: bool = False, bills: list[tuple[str, str, Decimal]] = ()) -> str:
    """A ledger entry; ``debit`` debit-positive, written Tally's way (a debit is a negative AMOUNT)."""
    out = [f"<ALLLEDGERENTRIES.LIST><LEDGERNAME>{escape(ledger)}</LEDGERNAME>",
           f"<ISDEEMEDPOSITIVE>{'Yes' if debit > 0 else 'No'}</ISDEEMEDPOSITIVE>",
           f"<ISPARTYLEDGER>{'Yes' if party else 'No'}</ISPARTYLEDGER><AMOUNT>{_amount(-debit)}</AMOUNT>"]
    for kind, name, amount in bills:
        out.append(f"<BILLALLOCATIONS.LIST><NAME>{escape(name)}</NAME><BILLTYPE>{kind}</BILLTYPE>"
                   f"<AMOUNT>{_amount(-amount)}</AMOUNT></BILLALLOCATIONS.LIST>")
    out.append("</ALLLEDGERENTRIES.LIST>")
    return "".join(out)


def documents_to_send(company, start: date | None = None, end: date | None = None):
    """Receipts, credit notes and interest debit notes made in dues (never one that came from Tally),
    posted, in the period when given, in date order."""
    from dues.collections.models import InterestCharge

    interest_ids = set(InterestCharge.objects.filter(company=company).values_list("document_id", flat=True))
    docs = Document.objects.filter(company=company, status=Document.POSTED,
                                   kind__in=[Document.RECEIPT, Document.CREDIT_NOTE, Document.DEBIT_NOTE])
    if start is not None:
        docs = docs.filter(date__gte=start)
    if end is not None:
        docs = docs.filter(date__lte=end)
    docs = docs.exclude(import_batch__kind="tally").select_related("customer").order_by("date", "pk")
    return [d for d in docs if d.kind != Document.DEBIT_NOTE or d.pk in interest_ids]


def exported_ids(company, docs) -> set[int]:
    return set(TallyExport.objects.filter(company=company, document__in=docs).values_list("document_id", flat=True))


def export_tally(*, company, start: date, end: date, path: str | Path, actor=None, again: bool = False,
                 ledgers: dict[str, str] | None = None) -> ExportResult:
    require(actor, "invoices.post", "export to Tally")
    path = Path(path)
    names = ledger_map(company, ledgers, actor)
    docs = documents_to_send(company, start, end)
    done = exported_ids(company, docs)
    result = ExportResult(str(path))
    if not again:
        result.skipped_already = sum(1 for d in docs if d.pk in done)
        docs = [d for d in docs if d.pk not in done]
    vouchers = voucher_messages(company, docs, names)
    result.documents = [f"{d.kind} {d.number}" for d in docs]
    text = envelope(company, vouchers)
    with transaction.atomic():
        path.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
        who = actor_name(actor)
        TallyExport.objects.bulk_create([TallyExport(company=company, document=d, filename=path.name[:500],
                                                     exported_by=who) for d in docs])
        audit_append(actor=actor, action="export", object_type="tally_export", object_id=path.name,
                     company_id=company.pk, after={"from": start.isoformat(), "to": end.isoformat(),
                                                   "documents": result.documents})
    return result


def remote_id(company, document) -> str:
    """The REMOTEID a document is sent to Tally with: Tally keeps it as the voucher's GUID, so when the
    voucher comes back in a Day Book or a live pull dues knows it as its own and does not post it again."""
    return f"dues-{company.pk}-{document.pk}"


def envelope(company, vouchers: list[str], tally_company: str = "") -> str:
    """Tally's import request: ENVELOPE / Import Data / Vouchers around the TALLYMESSAGEs."""
    return ("<ENVELOPE>\r\n<HEADER><TALLYREQUEST>Import Data</TALLYREQUEST></HEADER>\r\n<BODY><IMPORTDATA>"
            "<REQUESTDESC><REPORTNAME>Vouchers</REPORTNAME><STATICVARIABLES><SVCURRENTCOMPANY>"
            f"{escape(tally_company or company.name)}</SVCURRENTCOMPANY></STATICVARIABLES></REQUESTDESC><REQUESTDATA>\r\n"
            + "\r\n".join(vouchers) + "\r\n</REQUESTDATA></IMPORTDATA></BODY>\r\n</ENVELOPE>\r\n")


def voucher_messages(company, docs, names: dict[str, str]) -> list[str]:
    """One TALLYMESSAGE / VOUCHER per document, in the order of ``docs``."""
    party = {c: n for n, c in TallyMaster.objects.filter(company=company, kind=TallyMaster.LEDGER,
                                                         customer__isnull=False).values_list("name", "customer_id")}
    bill_name = dict(TallyBill.objects.filter(company=company, document__status=Document.POSTED)
                     .values_list("document_id", "name"))
    items = {i.document_id: i for i in OpenItem.objects.filter(document__in=docs, reversal_of__isnull=True)}
    applied: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
    for credit_id, debit_doc, amount in (Allocation.objects.filter(credit_item__in=list(items.values()),
                                                                   debit_item__reversal_of__isnull=True)
                                         .values_list("credit_item_id", "debit_item__document_id")
                                         .annotate(total=Sum("amount")).values_list("credit_item_id",
                                                                                     "debit_item__document_id", "total")):
        if amount:
            applied[credit_id].append((debit_doc, amount))
    numbers = dict(Document.objects.filter(pk__in=[d for v in applied.values() for d, _ in v])
                   .values_list("pk", "number"))
    vouchers = []
    for d in docs:
        ledger = party.get(d.customer_id, d.customer.name)
        item = items.get(d.pk)
        tax = d.cgst + d.sgst + d.igst
        entries = []
        if d.side == "C":
            total = d.total_credit
            bills = [("Agst Ref", bill_name.get(doc_id, numbers[doc_id]), -amount)
                     for doc_id, amount in (applied.get(item.pk, []) if item else [])]
            rest = total - sum((-b[2] for b in bills), ZERO)
            if rest:
                bills.append(("On Account", "", -rest))
            entries.append(_entry(ledger, -total, True, bills))
            if d.kind == Document.RECEIPT:
                for role, value in (("bank", d.amount), ("tds", d.tds), ("charges", d.bank_charges),
                                    ("discount", d.discount)):
                    if value:
                        entries.append(_entry(names[role], value))
            else:
                entries.append(_entry(names["sales_returns"], d.taxable_value or d.amount - tax))
                for role in ("cgst", "sgst", "igst"):
                    if getattr(d, role):
                        entries.append(_entry(names[role], getattr(d, role)))
        else:  # an interest debit note: a new bill
            entries.append(_entry(ledger, d.amount, True, [("New Ref", d.number, d.amount)]))
            entries.append(_entry(names["interest"], -(d.taxable_value or d.amount - tax)))
            for role in ("cgst", "sgst", "igst"):
                if getattr(d, role):
                    entries.append(_entry(names[role], -getattr(d, role)))
        vchtype = VCHTYPE[d.kind]
        narration = escape(f"dues {d.get_kind_display()} {d.number}" + (f", ref {d.reference}" if d.reference else ""))
        vouchers.append(
            f'<TALLYMESSAGE xmlns:UDF="TallyUDF"><VOUCHER REMOTEID="{remote_id(company, d)}" VCHTYPE="{vchtype}" '
            'ACTION="Create">'
            f"<DATE>{d.date:%Y%m%d}</DATE><VOUCHERTYPENAME>{vchtype}</VOUCHERTYPENAME>"
            f"<VOUCHERNUMBER>{escape(d.number)}</VOUCHERNUMBER><REFERENCE>{escape(d.reference)}</REFERENCE>"
            f"<PARTYLEDGERNAME>{escape(ledger)}</PARTYLEDGERNAME><NARRATION>{narration}</NARRATION>"
            f"<ISOPTIONAL>No</ISOPTIONAL><ISCANCELLED>No</ISCANCELLED>{''.join(entries)}</VOUCHER></TALLYMESSAGE>")
    return vouchers
