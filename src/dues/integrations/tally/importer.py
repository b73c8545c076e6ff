"""``dues import tally``: Tally masters and Day Book vouchers into dues, through the ledger services.

Two streaming passes over the files (nothing but the masters is held in memory):

1. masters: groups (the tree), voucher types (custom name -> parent type), ledgers. Customers are
   the ledgers under *Sundry Debtors* or any group beneath it; no other ledger becomes one. Their
   opening bills (the bill-wise opening balance in the ledger master) become opening documents.
2. vouchers, posted in batches through ``documents_post`` inside the one transaction of the import:

   - a debtor's debit with a *New Ref* / *Advance* bill -> an invoice (Sales) or a debit note (other
     types) numbered by the bill, due by its credit period;
   - a debtor's credit: *Agst Ref* -> allocated to that bill; *On Account* -> unapplied; *New Ref* /
     *Advance* -> an advance of its own (a credit bill that a later *Agst Ref* consumes). The document
     is a receipt (Receipt; a Journal against TDS: a receipt of TDS only), else a credit note;
   - a voucher type is known by its parent type (``GST Sale Invoice`` under ``Sales`` is a sale);
   - cancelled (ISCANCELLED) and optional (ISOPTIONAL) vouchers are ignored.

Incremental: a voucher is keyed by its GUID. The same GUID and ALTERID again changes nothing; a
higher ALTERID cancels what the earlier version posted (by reversal, audited) and posts the new one,
re-attaching receipts that had been allocated to its bills. Any problem -- a file that is not Tally
XML, cut short, in an unknown encoding, bills that do not add up to their ledger entry -- is raised
naming the voucher (type, number, date, GUID), and nothing is written.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from dues import clock
from dues import db as bulk
from dues.audit.services import actor_name, audit_append
from dues.companies.models import Company
from dues.core.dates import fiscal_year
from dues.core.errors import DuesError, ValidationFailed
from dues.core.money import quantize
from dues.customers.models import Customer
from dues.customers.services import customer_clean, customer_merge, customers_upsert
from dues.integrations.models import ImportBatch, TallyBill, TallyMaster, TallyVoucher
from dues.ledger.models import Allocation, Document, OpenItem
from dues.ledger.services import DocumentDraft, allocations_create, document_cancel, documents_post
from dues.users.permissions import require_import

from .xml import Bill, Group, Ledger, TallyFormatError, Voucher, VoucherType, read_tally

ZERO = Decimal(0)
DEBTORS = "Sundry Debtors"
BASE_TYPES = ("Sales", "Purchase", "Receipt", "Payment", "Journal", "Contra", "Credit Note", "Debit Note")
_BY_WORD = [("credit note", "Credit Note"), ("debit note", "Debit Note"), ("receipt", "Receipt"),
            ("payment", "Payment"), ("journal", "Journal"), ("contra", "Contra"), ("purchase", "Purchase"),
            ("sale", "Sales"), ("invoice", "Sales")]
_TDS = re.compile(r"\bTDS\b|tax\s+deducted", re.I)
_GST = re.compile(r"\b(?:[CSIU]GST|GST|cess)\b", re.I)
BATCH = 500


class TallyImportError(DuesError):
    """A problem with the input that names the voucher; nothing was written."""


@dataclass
class TallyFigures:
    """What the files say each debtor ledger owes (debit-positive), in total and bill by bill."""

    totals: dict[str, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    bills: dict[tuple[str, str], Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))

    def add(self, ledger: str, amount: Decimal, bills: Iterable[Bill] = ()) -> None:
        self.totals[ledger] += amount
        for b in bills:
            if b.name and b.kind != "On Account":
                self.bills[(ledger, b.name)] += b.amount


@dataclass
class TallyImportResult:
    files: list[str]
    dry_run: bool = False
    customers_created: int = 0
    customers_updated: int = 0
    customers_unchanged: int = 0
    openings: int = 0
    vouchers_posted: int = 0
    vouchers_unchanged: int = 0
    vouchers_replaced: int = 0
    vouchers_reversed: int = 0
    ignored: int = 0  # cancelled or optional
    own: int = 0  # vouchers dues itself sent to Tally (REMOTEID dues-<company>-<document>), not posted again
    not_debtors: int = 0  # vouchers touching no debtor ledger
    unknown_parties: dict[str, int] = field(default_factory=dict)  # ledgers not in any masters
    documents: int = 0
    warnings: list[str] = field(default_factory=list)
    figures: TallyFigures = field(default_factory=TallyFigures)
    ledgers: set[str] = field(default_factory=set)  # debtor ledgers the files name
    check: object = None
    batch_id: int | None = None


class _DryRun(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# masters


@dataclass
class Masters:
    groups: dict[str, str] = field(default_factory=dict)  # name -> parent
    ledgers: dict[str, Ledger] = field(default_factory=dict)  # from the files
    ledger_parent: dict[str, str] = field(default_factory=dict)  # name -> group, files over stored
    vtypes: dict[str, str] = field(default_factory=dict)  # name -> parent
    first_voucher: date | None = None

    def is_debtor_group(self, name: str) -> bool:
        seen = set()
        while name and name not in seen:
            if name.casefold() == DEBTORS.casefold():
                return True
            seen.add(name)
            name = self.groups.get(name, "")
        return False

    def is_debtor(self, ledger: str) -> bool:
        return ledger in self.ledger_parent and self.is_debtor_group(self.ledger_parent[ledger])

    def base_type(self, vchtype: str) -> str:
        name, seen = vchtype, set()
        while name and name not in seen:
            if name in BASE_TYPES:
                return name
            seen.add(name)
            name = self.vtypes.get(name, "")
        low = vchtype.lower()
        return next((base for word, base in _BY_WORD if word in low), "Journal")


def read_masters(paths: Iterable[Path], company: Company | None) -> Masters:
    m = Masters()
    if company is not None:
        for kind, name, parent in TallyMaster.objects.filter(company=company).values_list("kind", "name", "parent"):
            (m.groups if kind == TallyMaster.GROUP else m.ledger_parent)[name] = parent
    for path in paths:
        for r in read_tally(path, want=("GROUP", "LEDGER", "VOUCHERTYPE"), voucher_dates=True):
            if isinstance(r, date):
                m.first_voucher = r if m.first_voucher is None else min(m.first_voucher, r)
            elif isinstance(r, Group):
                if r.name:
                    m.groups[r.name] = r.parent
            elif isinstance(r, Ledger):
                if r.name:
                    m.ledgers[r.name] = r
                    m.ledger_parent[r.name] = r.parent
            elif isinstance(r, VoucherType) and r.name:
                m.vtypes[r.name] = r.parent
    return m


def customer_code(ledger: str) -> str:
    """A customer code from a ledger name: the name itself when it fits in 40 characters."""
    name = " ".join(ledger.split())
    if len(name) <= 40:
        return name
    return f"{name[:33]}~{hashlib.sha1(name.encode()).hexdigest()[:6]}"


def _customer_values(led: Ledger, code: str) -> dict:
    values = {"code": code, "name": (led.mailing_name or led.name)[:200], "gstin": led.gstin, "state": led.state,
              "email": led.email, "phone": led.phone[:40], "pan": led.pan if not led.gstin else ""}
    if led.credit_days is not None:
        values["credit_days"] = str(led.credit_days)
    if led.credit_limit is not None:
        values["credit_limit"] = str(led.credit_limit)
    return values


def _clean_customer(values: dict, company: Company, led: Ledger, warnings: list[str]):
    """Validate; a GSTIN, PAN, state or e-mail Tally holds that does not pass is dropped with a warning."""
    for _ in range(6):
        data, problems = customer_clean(values, company=company, source=led.name)
        if data is not None:
            warnings.extend(f"ledger {led.name!r}: {w}" for w in data.warnings)
            return data
        dropped = False
        for p in problems:
            key = {"state": "state", "gstin": "gstin", "pan": "pan", "email": "email", "credit_limit": "credit_limit",
                   "credit_days": "credit_days"}.get(p.field)
            if key and values.get(key):
                warnings.append(f"ledger {led.name!r}: {p.field} {values[key]!r} left out: {p.message}")
                values = {**values, key: ""}
                dropped = True
        if not dropped:
            raise TallyImportError(f"ledger {led.name!r}: " + "; ".join(f"{p.field}: {p.message}" for p in problems))
    raise TallyImportError(f"ledger {led.name!r}: cannot be made a customer")


def _import_customers(company, masters: Masters, actor, result: TallyImportResult) -> dict[str, Customer]:
    """Upsert the debtor ledgers of the files as customers; returns ledger name -> customer (all known)."""
    stored = {t.name: t for t in TallyMaster.objects.filter(company=company, kind=TallyMaster.LEDGER)
              .select_related("customer")}
    debtors = [led for led in masters.ledgers.values() if masters.is_debtor(led.name)]
    codes = {led.name: (stored[led.name].customer.code if led.name in stored and stored[led.name].customer
                        else customer_code(led.name)) for led in debtors}
    existing = {c.code: c for c in Customer.objects.filter(company=company, code__in=codes.values())}
    rows, seen = [], set()
    for led in debtors:
        code = codes[led.name]
        if code in seen:
            raise TallyImportError(f"ledgers {led.name!r} and another make the same customer code {code!r}")
        seen.add(code)
        values = _customer_values(led, code)
        if code in existing:
            supplied = {k: v for k, v in values.items() if v not in ("", None)}
            values = customer_merge(existing[code], supplied)
        rows.append(_clean_customer(values, company, led, result.warnings))
    if rows:
        result.customers_created, result.customers_updated, result.customers_unchanged = customers_upsert(
            company=company, rows=rows, actor=actor)
    customers = {c.code: c for c in Customer.objects.filter(company=company, code__in=[r.code for r in rows])}
    # masters as last seen: groups and every ledger (which group it sits in), debtors linked to customers
    TallyMaster.objects.filter(company=company, kind=TallyMaster.GROUP, name__in=list(masters.groups)).delete()
    TallyMaster.objects.bulk_create([TallyMaster(company=company, kind=TallyMaster.GROUP, name=n[:300], parent=p[:300])
                                     for n, p in masters.groups.items()])
    TallyMaster.objects.filter(company=company, kind=TallyMaster.LEDGER, name__in=list(masters.ledgers)).delete()
    TallyMaster.objects.bulk_create([
        TallyMaster(company=company, kind=TallyMaster.LEDGER, name=led.name[:300], parent=led.parent[:300],
                    guid=led.guid[:80], alterid=led.alterid,
                    customer=customers.get(codes[led.name]) if led.name in codes else None,
                    details={"address": led.address, "pincode": led.pincode, "contact": led.contact,
                             "opening": str(led.opening)} if led.name in codes else {})
        for led in masters.ledgers.values()])
    return {t.name: t.customer for t in TallyMaster.objects.filter(company=company, kind=TallyMaster.LEDGER,
                                                                     customer__isnull=False).select_related("customer")}


# ---------------------------------------------------------------------------------------------
# posting


@dataclass
class _Pending:
    voucher: Voucher | None
    base: str
    drafts: list[DocumentDraft]
    bills: list[tuple[str, str, int]]  # (ledger, bill name, index into drafts)
    links: list[tuple[str, str, int, Decimal]] = field(default_factory=list)  # credit bill -> draft index
    reattach: list[tuple[int, str, str, Decimal]] = field(default_factory=list)  # credit item id -> bill


class _Poster:
    def __init__(self, company: Company, actor, batch: ImportBatch, customers: dict[str, Customer],
                 result: TallyImportResult, opening_day: date):
        self.company, self.actor, self.batch, self.customers = company, actor, batch, customers
        self.result, self.opening_day = result, opening_day
        self.pending: list[_Pending] = []
        self.pending_drafts = 0
        self.active: dict[str, TallyVoucher | None] = {}  # guid -> the version in force
        self.bill_cache: dict[tuple[str, str], tuple[str, str, Decimal]] = {}  # -> (number, side, left)
        self.used: set[str] = set()
        self.checked: set[tuple[str, str]] = set()  # bill keys looked up in the database already
        self.taken: set[str] = set()  # numbers known to be in use (prefetched per chunk)
        self.free: set[str] = set()  # numbers known to be free (prefetched per chunk)
        self.cur = company.currency

    # -- bills and numbers ---------------------------------------------------------------------

    def _load_bills(self, keys: set[tuple[str, str]]) -> None:
        missing = {k for k in keys if k not in self.bill_cache and k not in self.checked}
        if not missing:
            return
        self.checked |= missing
        ledgers = {k[0] for k in missing}
        names = {k[1] for k in missing}
        rows = (TallyBill.objects.filter(company=self.company, ledger__in=ledgers, name__in=names,
                                         document__status=Document.POSTED)
                .values_list("ledger", "name", "document__number", "document__side", "document_id"))
        found = {(led, name): (number, side, doc_id) for led, name, number, side, doc_id in rows}
        residuals = dict(OpenItem.objects.filter(document_id__in=[v[2] for v in found.values()],
                                                 reversal_of__isnull=True).values_list("document_id", "residual"))
        for key, (number, side, doc_id) in found.items():
            if key in missing:
                self.bill_cache[key] = (number, side, quantize(residuals.get(doc_id, ZERO), self.cur))

    def number_for(self, base: str, salt: str) -> str:
        base = " ".join(base.split())[:40] or "TALLY"
        if base in self.free and base not in self.used:
            self.used.add(base)
            return base
        candidates = [base, f"{base[:33]}~{hashlib.sha1(salt.encode()).hexdigest()[:6]}"]
        for k in range(2, 50):
            candidates.append(f"{base[:30]}~{hashlib.sha1(f'{salt}/{k}'.encode()).hexdigest()[:8]}")
        taken = set(Document.objects.filter(company=self.company, number__in=candidates)
                    .values_list("number", flat=True)) | self.used
        number = next(c for c in candidates if c not in taken)
        self.used.add(number)
        return number

    def prefetch(self, vouchers: list[Voucher], customers_ledgers) -> None:
        """One query each for a chunk of vouchers: which numbers are taken, which bills exist."""
        bases, keys = set(), set()
        for v in vouchers:
            bases.add(" ".join((v.number or v.reference or "").split())[:40])
            for e in v.entries:
                if e.ledger in customers_ledgers:
                    for b in e.bills:
                        if b.name:
                            keys.add((e.ledger, b.name))
                            bases.add(" ".join(b.name.split())[:40])
        bases.discard("")
        taken = set(Document.objects.filter(company=self.company, number__in=bases).values_list("number", flat=True))
        self.free = bases - taken
        self._load_bills(keys)

    # -- openings --------------------------------------------------------------------------------

    def openings(self, masters: Masters) -> None:
        """Opening bills of the debtor ledgers in the files (those not posted before), then any
        opening balance not covered by bills as one opening on account."""
        drafts, bills = [], []
        for led in masters.ledgers.values():
            customer = self.customers.get(led.name)
            if customer is None:
                continue
            self.result.figures.add(led.name, led.opening, led.bills)
            self.result.ledgers.add(led.name)
            parts = [b for b in led.bills if b.amount] + (
                [Bill("(opening)", "On Account", led.opening - sum((b.amount for b in led.bills), ZERO))]
                if led.opening != sum((b.amount for b in led.bills), ZERO) else [])
            self._load_bills({(led.name, b.name) for b in parts})
            for b in parts:
                if (led.name, b.name) in self.bill_cache:
                    continue
                name = b.name if b.name != "(opening)" else f"OB {led.name}"
                on = b.bill_date or self.opening_day
                draft = DocumentDraft(kind=Document.OPENING, number=self.number_for(name, f"{led.name}/{b.name}"),
                                      customer=customer, date=on, amount=abs(b.amount), due_date=b.due_date,
                                      opening_side="D" if b.amount > 0 else "C",
                                      description=f"Tally opening bill {b.name} of {led.name}"[:500],
                                      source=f"ledger {led.name}")
                bills.append((led.name, b.name, len(drafts)))
                drafts.append(draft)
                self.bill_cache[(led.name, b.name)] = (draft.number, draft.opening_side, abs(b.amount))
        if drafts:
            self.pending.append(_Pending(None, "Opening", drafts, bills))
            self.result.openings += len(drafts)
            self.flush()

    # -- vouchers --------------------------------------------------------------------------------

    def voucher(self, v: Voucher, base: str, debtor_entries: list) -> _Pending:
        """Drafts for one voucher (not posted yet)."""
        p = _Pending(v, base, [], [])
        tds_total = sum((e.amount for e in v.entries if e.amount > 0 and _TDS.search(e.ledger)), ZERO)
        gst_total = sum((-e.amount for e in v.entries if e.amount < 0 and _GST.search(e.ledger)), ZERO)
        self._load_bills({(e.ledger, b.name) for e in debtor_entries for b in e.bills if b.name})
        many = len(debtor_entries) > 1
        for k, e in enumerate(debtor_entries, start=1):
            customer = self.customers[e.ledger]
            total = sum((b.amount for b in e.bills), ZERO)
            if e.bills and total != e.amount:
                raise TallyImportError(
                    f"{v.source}: voucher {v.label()}: the bill allocations of {e.ledger!r} add up to "
                    f"{_fmt(total)}, not the ledger entry's {_fmt(e.amount)} (the export is inconsistent)")
            parts = e.bills or [Bill("", "On Account", e.amount)]
            base_no = v.number or v.reference or f"TALLY {v.guid[-12:]}"
            main_no = f"{base_no}/{k}" if many else base_no
            salt = f"{v.guid}/{e.ledger}"
            main_debit = main_credit = ZERO
            credit_allocs: list[tuple[str, Decimal]] = []
            debit_links: list[tuple[str, Decimal]] = []
            for b in parts:
                if b.amount == 0:
                    continue
                key = (e.ledger, b.name)
                known = self.bill_cache.get(key) if b.name else None
                new_bill = b.kind in ("New Ref", "Advance") and b.name and known is None
                if b.kind == "Agst Ref" and b.name and known is None:
                    self.result.warnings.append(f"voucher {v.label()}: bill {b.name!r} of {e.ledger!r} is not "
                                                "among the bills imported; kept on account")
                if new_bill:
                    side = "D" if b.amount > 0 else "C"
                    draft = self._draft(v, base, customer, side, abs(b.amount), self.number_for(b.name, f"{salt}/{b.name}"),
                                        due=b.due_date, tds_total=tds_total if side == "C" else ZERO,
                                        gst_total=gst_total if side == "D" and len(parts) == 1 and not many else ZERO)
                    p.bills.append((e.ledger, b.name, len(p.drafts)))
                    p.drafts.append(draft)
                    self.bill_cache[key] = (draft.number, side, abs(b.amount))
                    if side == "C":
                        tds_total = max(ZERO, tds_total - draft.tds)
                    continue
                if b.amount > 0:
                    main_debit += b.amount
                    if known and known[1] == "C" and b.kind == "Agst Ref":  # a sale against an advance
                        use = min(b.amount, known[2])
                        if use > 0:
                            debit_links.append((b.name, use))
                            self.bill_cache[key] = (known[0], known[1], known[2] - use)
                else:
                    main_credit += -b.amount
                    if known and known[1] == "D" and b.kind == "Agst Ref":
                        use = min(-b.amount, known[2])
                        if use < -b.amount:
                            self.result.warnings.append(
                                f"voucher {v.label()}: settles {_fmt(-b.amount)} of bill {b.name!r} of {e.ledger!r}, "
                                f"which has {_fmt(known[2])} left; the rest stays on account")
                        if use > 0:
                            credit_allocs.append((known[0], use))
                            self.bill_cache[key] = (known[0], known[1], known[2] - use)
            if main_debit:
                idx = len(p.drafts)
                p.drafts.append(self._draft(v, base, customer, "D", main_debit, self.number_for(main_no, f"{salt}/D"),
                                            gst_total=gst_total if not many else ZERO))
                p.links.extend((e.ledger, name, idx, amount) for name, amount in debit_links)
            if main_credit:
                draft = self._draft(v, base, customer, "C", main_credit, self.number_for(main_no, f"{salt}/C"),
                                    tds_total=tds_total)
                merged: dict[str, Decimal] = defaultdict(lambda: ZERO)
                for number, amount in credit_allocs:
                    merged[number] += amount
                draft.allocations = list(merged.items())
                p.drafts.append(draft)
        return p

    def _draft(self, v: Voucher, base: str, customer: Customer, side: str, amount: Decimal, number: str, *,
               due: date | None = None, tds_total: Decimal = ZERO, gst_total: Decimal = ZERO) -> DocumentDraft:
        common = {"number": number, "customer": customer, "date": v.date, "row": None,
                  "source": f"{v.source}: voucher {v.label()}",
                  "description": f"Tally {v.vchtype} {v.number} {v.narration}".strip()[:500],
                  "reference": (v.reference or v.number)[:100]}
        if side == "D":
            kind = Document.INVOICE if base == "Sales" else Document.DEBIT_NOTE
            tax = min(gst_total, amount) if gst_total > 0 else None
            if due is not None and due < v.date:
                due = v.date
            return DocumentDraft(kind=kind, amount=amount, due_date=due, tax=tax, **common)
        if base == "Receipt" or (tds_total > 0 and base in ("Journal", "Receipt")):
            tds = min(tds_total, amount)
            return DocumentDraft(kind=Document.RECEIPT, amount=amount - tds, tds=tds, mode="bank", **common)
        return DocumentDraft(kind=Document.CREDIT_NOTE, amount=amount, **common)

    def add(self, p: _Pending) -> None:
        self.pending.append(p)
        self.pending_drafts += len(p.drafts)
        if self.pending_drafts >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        drafts = [d for p in self.pending for d in p.drafts]
        docs = documents_post(company=self.company, drafts=drafts, actor=self.actor, action="import",
                              batch=self.batch) if drafts else []
        self.result.documents += len(docs)
        at = 0
        bills, vouchers, links = [], [], []
        for p in self.pending:
            mine = docs[at:at + len(p.drafts)]
            at += len(p.drafts)
            bills += [(self.company.pk, led[:300], name[:300], mine[i].pk) for led, name, i in p.bills]
            if p.voucher is not None:
                v = p.voucher
                vouchers.append(TallyVoucher(company=self.company, guid=v.guid[:80], alterid=v.alterid,
                                             vchtype=v.vchtype[:100], base_type=p.base, number=v.number[:100],
                                             date=v.date, documents=[d.pk for d in mine], batch=self.batch))
            links += [(led, name, mine[i], amount) for led, name, i, amount in p.links]
            links += [(led, name, item_id, amount) for item_id, led, name, amount in p.reattach]
        bulk.insert_rows(TallyBill._meta.db_table, ["company_id", "ledger", "name", "document_id"], bills)
        now = clock.now()
        for tv, pk in zip(vouchers, bulk.reserve_ids(TallyVoucher._meta.db_table, len(vouchers)), strict=True):
            tv.pk, tv.created_at = pk, now
        bulk.insert_rows(TallyVoucher._meta.db_table,
                         ["id", "company_id", "guid", "alterid", "vchtype", "base_type", "number", "date", "documents",
                          "batch_id", "superseded_by_id", "created_at"],
                         [(tv.pk, self.company.pk, tv.guid, tv.alterid, tv.vchtype, tv.base_type, tv.number, tv.date,
                           json.dumps(tv.documents), self.batch.pk, None, now) for tv in vouchers])
        created = vouchers
        self.pending_drafts = 0
        for tv in created:
            self.active[tv.guid] = tv
        self.pending = []
        for led, name, target, amount in links:
            self._link(led, name, target, amount)
            self.bill_cache.pop((led, name), None)  # its residual changed: read it again when named
            self.checked.discard((led, name))
        self.last_created = created

    def _link(self, ledger: str, bill: str, target, amount: Decimal) -> None:
        """Allocate between a bill and a document: a credit bill to a new debit (a sale against an
        advance), or a credit item (id) back to a debit bill that was replaced."""
        tb = TallyBill.objects.filter(company=self.company, ledger=ledger, name=bill,
                                      document__status=Document.POSTED).select_related("document").first()
        if tb is None:
            return
        bill_item = OpenItem.objects.get(document=tb.document, reversal_of__isnull=True)
        if isinstance(target, Document):
            other = OpenItem.objects.get(document=target, reversal_of__isnull=True)
        else:
            other = OpenItem.objects.get(pk=target)
        credit, debit = (bill_item, other) if bill_item.side == "C" else (other, bill_item)
        use = min(amount, quantize(credit.residual, self.cur), quantize(debit.residual, self.cur))
        if use > 0:
            allocations_create(credit_item=credit, targets=[(debit, use)], on=max(credit.date, debit.date),
                               actor=self.actor, reason=f"Tally bill {bill}")

    def replace(self, old: TallyVoucher, v: Voucher | None, reason: str) -> list[tuple[int, str, str, Decimal]]:
        """Cancel by reversal what ``old`` posted; returns the credits that had been allocated to its
        bills from elsewhere (to re-attach to the new version's bills)."""
        self.flush()
        docs = list(Document.objects.filter(pk__in=old.documents, status=Document.POSTED).order_by("pk"))
        bill_names = {tb.document_id: (tb.ledger, tb.name) for tb in TallyBill.objects.filter(document__in=docs)}
        reattach = []
        own = {d.pk for d in docs}
        for d in docs:
            if d.pk not in bill_names or d.side != "D":
                continue
            for a in Allocation.objects.filter(debit_item__document=d, reverses__isnull=True,
                                               reversed_by__isnull=True).select_related("credit_item"):
                if a.credit_item.document_id not in own and a.credit_item.reversal_of_id is None:
                    led, name = bill_names[d.pk]
                    reattach.append((a.credit_item_id, led, name, a.amount))
        for d in docs:
            document_cancel(document=d, on=d.date, reason=reason, actor=self.actor)
        TallyBill.objects.filter(document__in=docs).delete()
        # allocations were undone: what is left on bills is read from the database again
        self.bill_cache.clear()
        self.checked.clear()
        return reattach


def _fmt(x: Decimal) -> str:
    return f"{x:,.2f}"


def import_tally(*, paths: Iterable[str | Path], company: Company, actor=None, dry_run: bool = False,
                 progress: Callable[[str], None] | None = None) -> TallyImportResult:
    """Import Tally XML files (masters and/or Day Books) all together or not at all."""
    progress = progress or (lambda phase: None)
    require_import(actor, "customers")
    require_import(actor, "invoices")
    paths = [Path(p) for p in paths]
    for p in paths:
        if not p.is_file():
            raise DuesError(f"{p}: no such file")
    result = TallyImportResult([p.name for p in paths], dry_run=dry_run)
    company = Company.objects.get(pk=company.pk)
    progress("reading masters")
    try:
        masters = read_masters(paths, company)
    except TallyFormatError as exc:
        raise TallyImportError(f"{exc}; nothing was imported") from None
    first = masters.first_voucher or clock.today()
    opening_day = fiscal_year(first, company.fy_start_month, company.fy_start_day).start
    try:
        with transaction.atomic():
            company = Company.objects.select_for_update(no_key=True).get(pk=company.pk)
            digest = hashlib.sha256()
            for p in paths:
                digest.update(p.name.encode())
            batch = ImportBatch.objects.create(company=company, kind="tally", filename=", ".join(result.files)[:500],
                                               sha256=digest.hexdigest(), created_by=actor_name(actor))
            customers = _import_customers(company, masters, actor, result)
            poster = _Poster(company, actor, batch, customers, result, opening_day)
            poster.openings(masters)
            _post_vouchers(paths, masters, poster, result, progress)
            batch.rows = result.vouchers_posted + result.vouchers_unchanged + result.vouchers_replaced
            batch.created, batch.unchanged = result.documents, result.vouchers_unchanged
            batch.save(update_fields=["rows", "created", "unchanged"])
            audit_append(actor=actor, action="import", object_type="import_batch", object_id=batch.pk,
                         company_id=company.pk, after={
                             "kind": "tally", "files": result.files, "customers_created": result.customers_created,
                             "customers_updated": result.customers_updated, "openings": result.openings,
                             "vouchers_posted": result.vouchers_posted, "vouchers_replaced": result.vouchers_replaced,
                             "vouchers_reversed": result.vouchers_reversed,
                             "vouchers_unchanged": result.vouchers_unchanged, "documents": result.documents})
            result.batch_id = batch.pk
            from .check import add_stored_openings, compare

            add_stored_openings(company, masters, result.figures, result.ledgers)
            result.check = compare(company, result.figures, result.ledgers)
            if dry_run:
                raise _DryRun
    except _DryRun:
        result.batch_id = None
    except TallyFormatError as exc:
        raise TallyImportError(f"{exc}; nothing was imported") from None
    except ValidationFailed as exc:
        # a problem names its voucher or ledger; the file(s) it came from lead, as every import error's do
        files = ", ".join(result.files)
        raise TallyImportError(f"{files}: " + "; ".join(f"{p.source}: {p.field}: {p.message}" if p.source else str(p)
                                                        for p in exc.problems) + "; nothing was imported") from None
    except TallyImportError as exc:
        raise TallyImportError(f"{exc}; nothing was imported") from None
    return result


def _post_vouchers(paths: list[Path], masters: Masters, poster: _Poster, result: TallyImportResult,
                   progress: Callable[[str], None]) -> None:
    company = poster.company
    active = poster.active  # guid -> TallyVoucher, fetched per chunk

    def current(guid: str) -> TallyVoucher | None:
        if guid not in active:
            active[guid] = (TallyVoucher.objects.filter(company=company, guid=guid, superseded_by__isnull=True)
                            .order_by("-pk").first())
        return active[guid]

    seen: dict[str, int] = {}
    for path in paths:
        progress(f"posting {path.name}")
        for chunk in _chunks(read_tally(path, want=("VOUCHER",)), BATCH):
            guids = [v.guid for v in chunk if v.guid and v.guid not in active]
            for guid in guids:
                active[guid] = None
            for tv in (TallyVoucher.objects.filter(company=company, guid__in=guids, superseded_by__isnull=True)
                       .order_by("pk")):
                active[tv.guid] = tv
            poster.prefetch(chunk, poster.customers)
            _post_chunk(chunk, masters, poster, result, active, current, seen)
    poster.flush()


def _chunks(items, size: int):
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _post_chunk(chunk, masters, poster, result, active, current, seen) -> None:
    company = poster.company
    for v in chunk:
        if not v.guid:
            raise TallyImportError(f"{v.source}: voucher {v.label()} has no GUID/REMOTEID: cannot be kept in step")
        if v.guid in seen and seen[v.guid] >= v.alterid:
            continue  # the same voucher in two files
        if v.guid.startswith(f"dues-{company.pk}-"):
            result.own += 1  # a document made in dues and sent to Tally: it is in our books already
            _figures(v, masters, poster, result)
            continue
        seen[v.guid] = v.alterid
        old = current(v.guid)
        if old is not None and old.alterid >= v.alterid:
            result.vouchers_unchanged += 1
            _figures(v, masters, poster, result)
            continue
        if v.cancelled or v.optional:
            result.ignored += 1
            if old is not None:  # cancelled (or made optional) in Tally since we imported it
                poster.replace(old, v, f"Tally voucher {v.guid} {'cancelled' if v.cancelled else 'made optional'}"
                                       f" (ALTERID {v.alterid})")
                marker = TallyVoucher.objects.create(company=company, guid=v.guid[:80], alterid=v.alterid,
                                                     vchtype=v.vchtype[:100], base_type="(cancelled)",
                                                     number=v.number[:100], date=v.date, documents=[],
                                                     batch=poster.batch)
                old.superseded_by = marker
                old.save(update_fields=["superseded_by"])
                active[v.guid] = marker
                result.vouchers_reversed += 1
            continue
        debtor_entries = _debtor_entries(v, masters, poster, result)
        base = masters.base_type(v.vchtype)
        if not debtor_entries and old is None:
            continue
        _figures(v, masters, poster, result)
        reattach = []
        if old is not None:
            reattach = poster.replace(old, v, f"replaced by Tally ALTERID {v.alterid} (was {old.alterid})")
        pending = poster.voucher(v, base, debtor_entries)
        pending.reattach = reattach
        if old is not None:
            poster.add(pending)
            poster.flush()
            new = poster.last_created[-1]
            old.superseded_by = new
            old.save(update_fields=["superseded_by"])
            audit_append(actor=poster.actor, action="tally_replace", object_type="tally_voucher",
                         object_id=v.guid, company_id=company.pk,
                         before={"alterid": old.alterid, "documents": old.documents},
                         after={"alterid": v.alterid, "documents": new.documents})
            active[v.guid] = new
            result.vouchers_replaced += 1
        else:
            poster.add(pending)
            result.vouchers_posted += 1


def _debtor_entries(v: Voucher, masters: Masters, poster: _Poster, result: TallyImportResult) -> list:
    entries = [e for e in v.entries if masters.is_debtor(e.ledger) and e.ledger in poster.customers and e.amount]
    if not entries:
        party = v.party or next((e.ledger for e in v.entries if e.is_party), "")
        if party and party not in masters.ledger_parent:
            result.unknown_parties[party] = result.unknown_parties.get(party, 0) + 1
        else:
            result.not_debtors += 1
    return entries


def _figures(v: Voucher, masters: Masters, poster: _Poster, result: TallyImportResult) -> None:
    if v.cancelled or v.optional:
        return
    for e in v.entries:
        if masters.is_debtor(e.ledger) and e.ledger in poster.customers:
            result.figures.add(e.ledger, e.amount, e.bills)
            result.ledgers.add(e.ledger)
