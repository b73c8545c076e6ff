"""Global search: one box, every kind of thing a desk person types (document, receipt, UTR and cheque
numbers, customer code, name, GSTIN, phone, an amount), results grouped by kind.

Every query is bounded and index-backed:

- document numbers and references (UTR, cheque) match exactly or by prefix as an index *range*
  (``number >= q AND number < q'`` where q' is q with its last character bumped), which a B-tree
  serves on SQLite and PostgreSQL alike, for the text as typed and in capitals (numbers are stored
  as issued, usually in capitals); the range's few candidates are then checked case-insensitively;
- amounts match ``Document.amount``, ``OpenItem.residual`` and ``BankLine.amount`` by equality, each on
  a ``(company, amount)`` index (migrations ledger 0004 and banking 0005);
- customers by code (exact or prefix), GSTIN, phone and name (partial, case-insensitive): the name and
  phone parts scan the company's customers in the database (a customer table, not the ledger).

An exact number (or code, GSTIN, amount) match ranks first in its group; the first group shown is the
one holding an exact match. A sales login only finds its own customers and their documents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Replace

from dues.banking.models import BankLine
from dues.companies.models import Company
from dues.customers.models import Customer
from dues.formats import format_money
from dues.ledger.models import Document, OpenItem
from dues.users.permissions import can, customers_visible, role_of

MIN_LENGTH = 2
PER_GROUP = 8
MAX_LENGTH = 100
CAP = 1000  # matches counted per part at most ("1,000+")

#: document kinds in the order their groups are shown, with their group titles
DOC_GROUPS = [
    (Document.INVOICE, "Invoices"),
    (Document.RECEIPT, "Receipts"),
    (Document.CREDIT_NOTE, "Credit notes"),
    (Document.DEBIT_NOTE, "Debit notes"),
    (Document.OPENING, "Opening balances"),
    (Document.WRITE_OFF, "Write-offs"),
]

_AMOUNT = re.compile(r"^(?:₹|rs\.?|inr)?\s*(\d{1,3}(?:,\d{2,3})+|\d+)(\.\d{1,2})?$", re.IGNORECASE)
_PHONE = re.compile(r"^\+?[\d\s()-]{6,}$")


@dataclass
class Hit:
    title: str
    url: str
    detail: str = ""
    exact: bool = False


@dataclass
class Group:
    key: str
    title: str
    hits: list[Hit] = field(default_factory=list)
    total: int = 0
    capped: bool = False  # there may be more than ``total``

    @property
    def more(self) -> int:
        return max(self.total - len(self.hits), 0)

    @property
    def has_exact(self) -> bool:
        return any(h.exact for h in self.hits)


@dataclass
class Results:
    query: str
    groups: list[Group]
    too_short: bool = False
    amount: Decimal | None = None

    @property
    def total(self) -> int:
        return sum(g.total for g in self.groups)


def parse_amount(text: str) -> Decimal | None:
    """ "1,50,000", "150000", "1,50,000.00", "₹1,50,000", "Rs. 1,50,000" -> Decimal("150000"); else None."""
    cleaned = text.strip().replace(" ", "").replace("\u00a0", "")
    match = _AMOUNT.match(cleaned)
    if not match:
        return None
    try:
        value = Decimal(match.group(1).replace(",", "") + (match.group(2) or ""))
    except InvalidOperation:
        return None
    return value if value > 0 else None


def _bump(text: str) -> str:
    """The smallest string greater than every string starting with ``text`` (for an index range)."""
    return text[:-1] + chr(ord(text[-1]) + 1)


def _prefix(name: str, text: str) -> Q:
    """``name`` starts with ``text`` as typed or in capitals, as B-tree ranges (checked again in Python)."""
    found = Q()
    for variant in {text, text.upper()}:
        found |= Q(**{f"{name}__gte": variant, f"{name}__lt": _bump(variant)})
    return found


def _exact(name: str, text: str) -> Q:
    return Q(**{f"{name}__in": sorted({text, text.upper(), text.lower()})})


def _doc_url(kind: str, number: str) -> str:
    from django.urls import reverse

    return reverse("web:document", kwargs={"kind": kind, "number": number})


def _customer_url(code: str) -> str:
    from django.urls import reverse

    return reverse("web:customer", kwargs={"code": code})


def _scoped_documents(user, company: Company) -> QuerySet:
    documents = Document.objects.filter(company=company)
    if not can(user, "customers.view_all"):
        documents = documents.filter(customer__in=customers_visible(user, Customer.objects.filter(company=company)))
    return documents


def _customers(user, company: Company, q: str, per_group: int) -> Group:
    group = Group("customers", "Customers")
    customers = customers_visible(user, Customer.objects.filter(company=company))
    wanted = _prefix("code", q) | Q(name__icontains=q) | Q(code__iexact=q)
    if len(q) == 15:
        wanted |= Q(gstin=q.upper())
    elif len(q) >= 4:
        wanted |= Q(gstin__istartswith=q)
    digits = re.sub(r"\D", "", q)
    if _PHONE.match(q) and len(digits) >= 6:
        bare = Replace(Replace(Replace(Replace("phone", Value(" "), Value("")), Value("-"), Value("")),
                               Value("+"), Value("")), Value("("), Value(""))
        customers = customers.annotate(phone_digits=bare)
        wanted |= Q(phone_digits__contains=digits)
        from dues.customers.models import Contact

        contact_ids = (Contact.objects.filter(customer__company=company)
                       .annotate(phone_digits=Replace(Replace(Replace("phone", Value(" "), Value("")), Value("-"),
                                                              Value("")), Value("+"), Value("")))
                       .filter(phone_digits__contains=digits).values("customer_id"))
        wanted |= Q(id__in=contact_ids)
    matched = customers.filter(wanted)
    group.total = matched.count()
    if not group.total:
        return group
    low = q.lower()
    rows = list(matched.order_by("code").values("code", "name", "gstin", "phone", "collector")[:200])

    def rank(r):
        exact = r["code"].lower() == low or r["gstin"].lower() == low
        return (0 if exact else 1 if r["code"].lower().startswith(low) else 2, r["name"].lower(), r["code"])

    for r in sorted(rows, key=rank)[:per_group]:
        exact = r["code"].lower() == low or r["gstin"].lower() == low
        bits = [r["code"]] + [b for b in (r["gstin"], r["phone"]) if b]
        group.hits.append(Hit(r["name"], _customer_url(r["code"]), " · ".join(bits), exact))
    return group


def _ids(parts: list[tuple[QuerySet, bool]], fields: tuple[str, ...]) -> tuple[list[tuple], set, bool]:
    """Run each (queryset, exact) part on its own (each one index range, never an OR the planner would
    turn into a scan), at most ``CAP`` rows each; the rows in part order without repeats, the ids that
    matched exactly, and whether a part was cut at the cap."""
    seen: dict[int, tuple] = {}
    exact: set[int] = set()
    capped = False
    for qs, is_exact in parts:
        rows = list(qs.values_list("id", *fields)[:CAP + 1])
        if len(rows) > CAP:
            capped, rows = True, rows[:CAP]
        for row in rows:
            seen.setdefault(row[0], row)
            if is_exact:
                exact.add(row[0])
    return list(seen.values()), exact, capped


def _text_parts(qs: QuerySet, name: str, q: str, order: str, each: list[dict] | None = None
                ) -> list[tuple[QuerySet, bool]]:
    """Exact (any case), then prefix ranges in index order. ``each``: the prefix ranges run once per
    filter (a document kind), so that the unique (company, kind, number) index gives them in number
    order and the LIMIT stops the scan (one range over every kind would be sorted in full)."""
    variants = sorted({q, q.upper(), q.lower()})
    parts = [(qs.filter(**{f"{name}__in": variants}), True)]
    for v in sorted({q, q.upper()}):
        for extra in each or [{}]:
            parts.append((qs.filter(**extra, **{f"{name}__gte": v, f"{name}__lt": _bump(v)}).order_by(order), False))
    return parts


def _documents(user, company: Company, q: str, amount: Decimal | None, per_group: int) -> list[Group]:
    documents = _scoped_documents(user, company)
    kinds = [k for k, _ in DOC_GROUPS]
    low = q.lower()
    parts = _text_parts(documents.filter(kind__in=kinds), "number", q, "number", [{"kind": k} for k in kinds])
    parts += _text_parts(documents.filter(kind=Document.RECEIPT), "reference", q, "reference")
    if amount is not None:
        # no ORDER BY: with one (date order + LIMIT) a planner may walk the date index instead
        parts.append((documents.filter(amount=amount, kind__in=kinds).order_by(), False))
        residual_docs = list(OpenItem.objects.filter(company=company, residual=amount)
                             .values_list("document_id", flat=True)[:CAP])
        parts.append((documents.filter(id__in=residual_docs, kind__in=kinds).order_by(), False))
    rows, exact, capped = _ids(parts, ("kind", "number", "reference", "date"))
    if amount is not None:  # amount matches: the latest first (after exact and number matches)
        by_number = {r[0] for r in rows if r[2].lower().startswith(low) or r[3].lower().startswith(low)}
        rows.sort(key=lambda r: (r[0] not in by_number, -r[4].toordinal() if r[0] not in by_number else 0))
    if amount is None:  # an index range under a linguistic collation may hold a few that do not start with q
        rows = [r for r in rows if r[0] in exact or r[2].lower().startswith(low) or r[3].lower().startswith(low)]
    by_kind: dict[str, list[int]] = {}
    for r in sorted(rows, key=lambda r: r[0] not in exact):  # stable: exact first, then part order
        by_kind.setdefault(r[1], []).append(r[0])
    shown = [i for ids in by_kind.values() for i in ids[:per_group]]
    found = Document.objects.select_related("customer").in_bulk(shown)
    groups = []
    for kind, title in DOC_GROUPS:
        ids = by_kind.get(kind)
        if not ids:
            continue
        group = Group(kind, title, total=len(ids), capped=capped)
        singular = title[:-1] if title.endswith("s") else title
        for i in ids[:per_group]:
            d = found[i]
            detail = [d.customer.name, d.date.strftime("%d-%m-%Y"), format_money(d.amount, currency=d.currency)]
            if d.reference and kind == Document.RECEIPT:
                detail.insert(1, d.reference)
            if d.status == Document.CANCELLED:
                detail.append("cancelled")
            group.hits.append(Hit(f"{singular} {d.number}", _doc_url(d.kind, d.number), " · ".join(detail),
                                  i in exact))
        groups.append(group)
    return groups


def _bank_lines(user, company: Company, q: str, amount: Decimal | None, per_group: int) -> Group:
    group = Group("bank_lines", "Bank lines")
    lines = BankLine.objects.filter(company=company)
    if not can(user, "customers.view_all"):  # sales: only lines that became their customers' receipts
        visible = customers_visible(user, Customer.objects.filter(company=company))
        lines = lines.filter(receipt__customer__in=visible)
    low = q.lower()
    parts = _text_parts(lines, "reference", q, "reference")
    parts.append((lines.filter(cheque_number__in=sorted({q, q.upper()})), True))
    if amount is not None:
        parts.append((lines.filter(amount=amount).order_by(), False))
    rows, exact, capped = _ids(parts, ("reference", "booking_date"))
    if amount is not None:
        rows.sort(key=lambda r: (not r[1].lower().startswith(low), -r[2].toordinal()))
    if amount is None:
        rows = [r for r in rows if r[0] in exact or r[1].lower().startswith(low)]
    if not rows:
        return group
    ordered = [r[0] for r in sorted(rows, key=lambda r: r[0] not in exact)]
    group.total, group.capped = len(ordered), capped
    found = BankLine.objects.select_related("receipt", "bank_account").in_bulk(ordered[:per_group])
    for i in ordered[:per_group]:
        b = found[i]
        if b.receipt_id:
            url = _doc_url(b.receipt.kind, b.receipt.number)
        elif can(user, "receipts.post"):
            from django.urls import reverse

            url = f"{reverse('web:cash')}?from={b.booking_date.isoformat()}&to={b.booking_date.isoformat()}"
        else:
            url = ""
        title = f"{b.bank_account.code} {b.booking_date.strftime('%d-%m-%Y')} {b.reference}"
        detail = [("credit " if b.direction == BankLine.CREDIT else "debit ")
                  + format_money(b.amount, currency=b.currency), b.get_status_display()]
        if b.cheque_number:
            detail.insert(0, f"cheque {b.cheque_number}")
        if b.counterparty_name:
            detail.append(b.counterparty_name)
        group.hits.append(Hit(title, url, " · ".join(detail), i in exact))
    return group


def search(*, company: Company, user, query: str, per_group: int = PER_GROUP) -> Results:
    """What ``query`` finds, grouped by kind; groups holding an exact match first."""
    q = " ".join(query.split())[:MAX_LENGTH]
    if len(q) < MIN_LENGTH or role_of(user) is None:
        return Results(q, [], too_short=len(q) < MIN_LENGTH)
    amount = parse_amount(q)
    groups = [_customers(user, company, q, per_group)]
    groups += _documents(user, company, q, amount, per_group)
    groups.append(_bank_lines(user, company, q, amount, per_group))
    groups = [g for g in groups if g.total]
    groups.sort(key=lambda g: not g.has_exact)  # stable: the kind order otherwise
    return Results(q, groups, amount=amount)
