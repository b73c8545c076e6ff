"""Reading documents and open items."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import connection
from django.db.models import (
    BigIntegerField,
    Case,
    CharField,
    Count,
    DecimalField,
    Exists,
    F,
    FilteredRelation,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Round

from dues.companies.models import Company
from dues.core.errors import DuesError
from dues.core.money import ZERO

from .models import MONEY, Allocation, Document, JournalEntry, JournalLine, OpenItem


def document_get(*, company: Company, kind: str, number: str) -> Document:
    try:
        return Document.objects.select_related("customer").get(company=company, kind=kind, number=number)
    except Document.DoesNotExist:
        raise DuesError(f"no {kind.replace('_', ' ')} {number}") from None


def open_item_get(*, company: Company, kind: str, number: str) -> OpenItem:
    """The bill-wise item of a posted document (not the counter-item of its cancellation)."""
    document = document_get(company=company, kind=kind, number=number)
    item = document.open_items.filter(reversal_of__isnull=True).select_related("document", "customer").first()
    if item is None:
        raise DuesError(f"{document} has no open item")
    return item


# ---- document lists (invoices, receipts, credit notes) and one document's page --------------------

SCALE = 10_000  # money is summed as integers of 1/10,000 (the database keeps four places): exact on SQLite too

# list name -> the document kinds it shows (and, for opening balances, which side)
# (each spells out its side too: invoices and debit notes are always debits, receipts and credit notes
# credits; with it the database reads a list's open items from the partial index by side)
LISTS: dict[str, Q] = {
    "invoices": Q(Q(kind__in=(Document.INVOICE, Document.DEBIT_NOTE)) | Q(kind=Document.OPENING), side="D"),
    "receipts": Q(kind=Document.RECEIPT, side="C"),
    "credit_notes": Q(kind=Document.CREDIT_NOTE, side="C"),
}

# status codes derived in SQL from the document's own open item; words differ for debits and credits
OPEN, PARTIAL, SETTLED, CANCELLED = "open", "partial", "settled", "cancelled"
DEBIT_STATUSES = {"open": OPEN, "partly_paid": PARTIAL, "paid": SETTLED, "cancelled": CANCELLED}
CREDIT_STATUSES = {"unapplied": OPEN, "partly_applied": PARTIAL, "applied": SETTLED, "cancelled": CANCELLED}
STATUS_WORDS = {
    "D": {OPEN: "Open", PARTIAL: "Partly paid", SETTLED: "Paid", CANCELLED: "Cancelled"},
    "C": {OPEN: "Unapplied", PARTIAL: "Partly applied", SETTLED: "Applied", CANCELLED: "Cancelled"},
}
SORTS = {"date": ("date", "number"), "amount": ("amount", "number"), "due": ("due_date", "number")}


@dataclass
class DocumentFilter:
    """What a document list is narrowed to; every field optional."""

    customer: str = ""          # code (exact or part) or part of the name
    number: str = ""            # part of the document number or its reference (UTR, cheque)
    date_from: date | None = None
    date_to: date | None = None
    status: str = ""            # one of OPEN, PARTIAL, SETTLED, CANCELLED
    overdue: bool = False       # debits past due with something still owed
    sort: str = "-date"         # date / amount / due, "-" for descending


@dataclass
class DocumentTotals:
    count: int
    amount: Decimal             # of the documents not cancelled
    residual: Decimal


# the same conditions as ``status_code``, on the document's own item, spelled out for the database to use
# (a cancellation's counter-item is on the other side; "residual > 0" has a partial index)
_OWN = Q(open_items__side=F("side"))
STATUS_WHERE = {
    CANCELLED: Q(status=Document.CANCELLED),
    SETTLED: Q(_OWN, status=Document.POSTED, open_items__residual__lte=0),
    OPEN: Q(_OWN, status=Document.POSTED, open_items__residual__gt=0,
            open_items__residual__gte=F("open_items__amount")),
    PARTIAL: Q(_OWN, status=Document.POSTED, open_items__residual__gt=0,
               open_items__residual__lt=F("open_items__amount")),
}


def _scaled_sum(expr) -> Sum:
    """SUM in integers of 1/10,000 on SQLite (its decimals are doubles); PostgreSQL's numeric adds exactly."""
    if connection.vendor == "postgresql":
        return Sum(Cast(expr * Value(SCALE), DecimalField(max_digits=30, decimal_places=0)))
    return Sum(Cast(Round(expr * Value(SCALE)), BigIntegerField()))


def _unscale(value) -> Decimal:
    return Decimal(int(value or 0)) / SCALE


def _annotate(documents: QuerySet) -> QuerySet:
    """Documents with their own open item's residual (``outstanding``), ``item_amount`` and a derived ``status_code``.

    ``item_amount`` is what the item can clear (a receipt's cash plus TDS, charges and discount);
    the status compares the residual with it: nothing cleared is open (unapplied), some is partly
    paid (partly applied), all is paid (applied); a cancelled document is cancelled whatever is left.
    """
    return (documents
            # the document's own item is the one on its side (a cancellation's counter-item is on the other);
            # joining on "reversal_of IS NULL" instead sends SQLite down the unique index of reversal_of, a
            # scan of every item per document
            .annotate(item=FilteredRelation("open_items", condition=Q(open_items__side=F("side"))))
            .annotate(outstanding=Coalesce(F("item__residual"), Value(ZERO), output_field=DecimalField(**MONEY)),
                      item_amount=Coalesce(F("item__amount"), F("amount"), output_field=DecimalField(**MONEY)))
            .annotate(status_code=Case(
                When(status=Document.CANCELLED, then=Value(CANCELLED)),
                When(outstanding__lte=0, then=Value(SETTLED)),
                When(outstanding__gte=F("item_amount"), then=Value(OPEN)),
                default=Value(PARTIAL), output_field=CharField())))


@dataclass
class DocumentSearch:
    """A filtered list: ``rows`` (annotated and sorted, to page) and ``matching`` (plain, to total).

    ``by_item``: narrowed by the documents' own items (status, overdue), so the database finds the
    rows from the open items and must sort all of them for any page: page by ``page_ids``.
    """

    rows: QuerySet
    matching: QuerySet
    by_item: bool = False
    order: list[str] = field(default_factory=list)


def page_ids(search: DocumentSearch, *, cache_key: str) -> list[int]:
    """The ids of a list's documents in its order (one narrow query: no item or customer columns), kept
    under the audit log's head with ``cache_key`` (the reader's scope and "today"): pages of a list
    found through its items are then read by id."""
    from django.core.cache import cache

    from dues.audit.selectors import audit_head_version

    ids = search.matching.order_by(*search.order).values_list("pk", flat=True)
    sql, params = ids.query.sql_with_params()
    digest = hashlib.sha256(repr((sql, params)).encode()).hexdigest()[:32]
    key = f"dues:docids:{cache_key}:{digest}:{audit_head_version()}"
    found = cache.get(key)
    if found is None:
        found = list(ids)
        cache.set(key, found, timeout=TOTALS_CACHE_SECONDS)
    return found


def document_list(*, company: Company, which: str, filters: DocumentFilter, customers=None,
                  today: date) -> DocumentSearch:
    """The documents of one list (``invoices``, ``receipts``, ``credit_notes``) matching ``filters``, sorted.

    ``customers`` (a queryset) narrows them to what the reader may see (a salesperson's customers).
    Page ``rows``; total ``matching`` with ``document_totals``.
    """
    if which not in LISTS:
        raise DuesError(f"no document list {which!r}")
    qs = Document.objects.filter(LISTS[which], company=company)
    if customers is not None:
        qs = qs.filter(customer__in=customers)
    f = filters
    if f.customer:
        qs = qs.filter(Q(customer__code__iexact=f.customer) | Q(customer__code__icontains=f.customer)
                       | Q(customer__name__icontains=f.customer))
    if f.number:
        qs = qs.filter(Q(number__icontains=f.number) | Q(reference__icontains=f.number))
    if f.date_from:
        qs = qs.filter(date__gte=f.date_from)
    if f.date_to:
        qs = qs.filter(date__lte=f.date_to)
    on_item = []  # in one filter() call, so that they all read the same (own) item
    if f.status:
        on_item.append(STATUS_WHERE.get(f.status, Q(pk__in=[])))
    if f.overdue:
        on_item.append(Q(_OWN, side="D", status=Document.POSTED, due_date__lt=today, open_items__residual__gt=0))
    if on_item:
        qs = qs.filter(*on_item)
    key = f.sort.lstrip("-")
    fields = SORTS.get(key, SORTS["date"])
    descending = f.sort.startswith("-") if key in SORTS else True
    order = [f"-{x}" if descending else x for x in fields]
    order = [*order, "-pk" if descending else "pk"]
    rows = _annotate(qs).select_related("customer").order_by(*order)
    # the sparse conditions (something left on the item) come from the partial index of open items
    return DocumentSearch(rows, qs, by_item=f.overdue or f.status in (OPEN, PARTIAL), order=order)


def document_totals(matching: QuerySet, *, company: Company | None = None, cache_key: str = "") -> DocumentTotals:
    """Count, amount (cancelled documents left out) and what is left open of the documents ``matching``.

    Two aggregates in SQL: the documents alone (an index holds kind, side, status and amount), and the
    open items with something left, read from their partial covering index, each checked against
    ``matching`` by primary key (a cancellation's counter-item never has anything left). With a
    ``cache_key`` (what the reader may see and "today"), the totals are kept under the audit log's
    head: any change to the books moves it, so cached totals are never older than the books.
    """
    key = ""
    if cache_key:
        from django.core.cache import cache

        from dues.audit.selectors import audit_head_version

        sql, params = matching.order_by().values("pk").query.sql_with_params()
        digest = hashlib.sha256(repr((sql, params)).encode()).hexdigest()[:32]
        key = f"dues:doctotals:{cache_key}:{digest}:{audit_head_version()}"
        found = cache.get(key)
        if found is not None:
            return found
    row = matching.order_by().aggregate(
        n=Count("pk"),
        amount=_scaled_sum(Case(When(status=Document.POSTED, then=F("amount")), default=Value(ZERO),
                                output_field=DecimalField(**MONEY))))
    items = OpenItem.objects.filter(company=company) if company is not None else OpenItem.objects.all()
    left = (items.filter(residual__gt=0)
            .filter(Exists(matching.order_by().filter(pk=OuterRef("document_id"))))
            .aggregate(residual=_scaled_sum(F("residual"))))
    totals = DocumentTotals(row["n"], _unscale(row["amount"]), _unscale(left["residual"]))
    if key:
        from django.core.cache import cache

        cache.set(key, totals, timeout=TOTALS_CACHE_SECONDS)
    return totals


TOTALS_CACHE_SECONDS = 6 * 3600


@dataclass
class EntryView:
    entry: JournalEntry
    lines: list[JournalLine]
    debit: Decimal
    credit: Decimal


@dataclass
class AllocationView:
    allocation: Allocation
    other: Document | None      # the document on the other side; None for a cancellation's clearing
    direction: str             # "to" (this credit applied to other) or "from" (other applied to this debit)
    is_reversal: bool
    reversed: bool


@dataclass
class DocumentPage:
    document: Document
    item: OpenItem | None
    status_code: str
    entries: list[EntryView]
    allocations: list[AllocationView]
    lines: list = field(default_factory=list)

    @property
    def status_label(self) -> str:
        return STATUS_WORDS[self.document.side].get(self.status_code, self.status_code)


def document_status(document: Document, item: OpenItem | None) -> str:
    if document.status == Document.CANCELLED:
        return CANCELLED
    if item is None or item.residual <= 0:
        return SETTLED
    return OPEN if item.residual >= item.amount else PARTIAL


def document_page(*, document: Document) -> DocumentPage:
    """One document with its journal entries (the reversal too), allocations both ways, and lines."""
    items = list(document.open_items.all())
    own = next((i for i in items if i.reversal_of_id is None), None)
    item_ids = [i.pk for i in items]
    entries = []
    for entry in document.entries.order_by("date", "pk").prefetch_related(
            Prefetch("lines", queryset=JournalLine.objects.select_related("account", "customer").order_by("pk"))):
        lines = list(entry.lines.all())
        entries.append(EntryView(entry, lines, sum((ln.debit for ln in lines), ZERO),
                                 sum((ln.credit for ln in lines), ZERO)))
    reversed_ids = set(Allocation.objects.filter(reverses__credit_item_id__in=item_ids).values_list("reverses_id", flat=True))
    reversed_ids |= set(Allocation.objects.filter(reverses__debit_item_id__in=item_ids).values_list("reverses_id", flat=True))
    allocations = []
    for a in (Allocation.objects.filter(Q(credit_item_id__in=item_ids) | Q(debit_item_id__in=item_ids))
              .select_related("credit_item__document__customer", "debit_item__document__customer")
              .order_by("effective_date", "pk")):
        mine_is_credit = a.credit_item_id in item_ids
        other_item = a.debit_item if mine_is_credit else a.credit_item
        clearing = a.credit_item_id in item_ids and a.debit_item_id in item_ids
        allocations.append(AllocationView(a, None if clearing else other_item.document,
                                          "to" if mine_is_credit else "from", a.reverses_id is not None,
                                          a.pk in reversed_ids))
    lines = list(document.lines.order_by("position"))
    for ln in lines:
        ln.tax = ln.cgst + ln.sgst + ln.igst
    return DocumentPage(document, own, document_status(document, own), entries, allocations, lines)


# ---- the trial balance -----------------------------------------------------------------------------

@dataclass
class TrialBalanceRow:
    code: str
    name: str
    kind: str
    debit: Decimal   # Σ debits posted to the account up to the date
    credit: Decimal  # Σ credits

    @property
    def balance(self) -> Decimal:
        """Debit balance positive, credit balance negative."""
        return self.debit - self.credit

    def as_json(self) -> dict:
        return {"code": self.code, "name": self.name, "debit": f"{self.debit:.2f}", "credit": f"{self.credit:.2f}"}


@dataclass
class TrialBalance:
    as_of: date
    rows: list[TrialBalanceRow]

    @property
    def debit(self) -> Decimal:
        return sum((r.debit for r in self.rows), ZERO)

    @property
    def credit(self) -> Decimal:
        return sum((r.credit for r in self.rows), ZERO)

    @property
    def balanced(self) -> bool:
        return self.debit == self.credit

    @property
    def difference(self) -> Decimal:
        return self.debit - self.credit

    def as_json(self) -> dict:
        return {"as_of": self.as_of.isoformat(), "accounts": [r.as_json() for r in self.rows],
                "total": {"debit": f"{self.debit:.2f}", "credit": f"{self.credit:.2f}"},
                "balanced": self.balanced, "difference": f"{self.difference:.2f}"}


def trial_balance(*, company: Company, as_of: date) -> TrialBalance:
    """Every account of the chart with the debits and credits posted to it by entries dated up to ``as_of``.

    One grouped query over the journal lines (by the entry's date: a cancellation counts from the day
    of its reversal entry, the original from its own day), summed exactly (integers of 1/10,000 on
    SQLite); accounts nothing was posted to are listed with zeros, in code order.
    """
    from dues.companies.models import Account

    sums = {account_id: (_unscale(d), _unscale(c)) for account_id, d, c in (
        JournalLine.objects.filter(entry__company=company, entry__date__lte=as_of)
        .order_by().values("account_id")
        .annotate(d=_scaled_sum(F("debit")), c=_scaled_sum(F("credit")))
        .values_list("account_id", "d", "c"))}
    rows = [TrialBalanceRow(code, name, kind, *sums.get(pk, (ZERO, ZERO)))
            for pk, code, name, kind in Account.objects.filter(company=company).order_by("code")
            .values_list("pk", "code", "name", "kind")]
    return TrialBalance(as_of, rows)
