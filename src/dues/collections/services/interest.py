"""Overdue interest (simple, compound, the MSMED Act preset), charged as debit notes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction

from dues.audit.services import actor_name, audit_append
from dues.core.errors import DuesError
from dues.core.money import ZERO
from dues.users.permissions import require

from .. import selectors
from ..models import (
    CustomerCollections,
    DunningPolicy,
)
from .checks import raise_problems

# --- overdue interest and escalation ----------------------------------------------------------------------

# The RBI bank rate (per cent per year) for the MSMED Act preset. A setting to keep current:
# DUES_RBI_BANK_RATE overrides it (see docs/collections.md, "Overdue interest").
RBI_BANK_RATE_DEFAULT = Decimal("5.50")


def rbi_bank_rate() -> Decimal:
    import os
    from decimal import InvalidOperation

    raw = os.environ.get("DUES_RBI_BANK_RATE", "").strip().rstrip("%")
    if not raw:
        return RBI_BANK_RATE_DEFAULT
    try:
        rate = Decimal(raw)
    except InvalidOperation:
        raise DuesError(f"DUES_RBI_BANK_RATE is not a rate: {raw!r} (per cent per year, e.g. 6.75)") from None
    if not rate.is_finite() or not 0 < rate < 50:
        raise DuesError(f"DUES_RBI_BANK_RATE out of range: {raw!r}")
    return rate


def interest_terms(customer):
    """The customer's interest terms: their own (collections profile), else their policy's; ``None`` if none."""
    from dues.core.interest import Terms

    profile = CustomerCollections.objects.filter(customer=customer).select_related("policy").first()
    policy = profile.policy if profile and profile.policy_id else None
    if policy is None:
        segment = (customer.segment or "").strip().lower() if hasattr(customer, "segment") else ""
        policy_id = selectors.segment_policies(customer.company).get(segment) if segment else None
        policy = (DunningPolicy.objects.filter(pk=policy_id).first() if policy_id
                  else DunningPolicy.objects.filter(company_id=customer.company_id, is_default=True).first())
    if profile and profile.interest_mode:
        mode, rate = profile.interest_mode, profile.interest_rate
        basis = profile.interest_basis or (policy.interest_basis if policy else "reducing")
    elif policy is not None:
        mode, rate, basis = policy.interest_mode, policy.interest_rate, policy.interest_basis
    else:
        return None
    if mode == "none":
        return None
    if mode == "msmed":
        return Terms("msmed", basis=basis, bank_rate=rbi_bank_rate())
    return Terms(mode, Decimal(rate or 0), basis=basis)


def rate_text(rate: Decimal) -> str:
    return f"{Decimal(rate).normalize():f}"


@dataclass
class ItemCharge:
    number: str
    kind: str
    due_date: date
    amount: Decimal
    residual: Decimal
    result: Any  # dues.core.interest.ItemInterest
    document: Any = None  # the overdue invoice / debit note (its GST is the interest's, when GST is charged)

    @property
    def interest(self) -> Decimal:
        return self.result.interest

    def as_json(self) -> dict:
        return {"number": self.number, "kind": self.kind, "due_date": self.due_date.isoformat(),
                "amount": f"{self.amount:.2f}", "residual": f"{self.residual:.2f}", "days": self.result.days,
                "interest": f"{self.interest:.2f}",
                "periods": [{"from": p.start.isoformat(), "to": p.end.isoformat(), "days": p.days,
                             "balance": f"{p.balance:.2f}", "rate": rate_text(p.rate), "interest": f"{p.interest:.2f}",
                             "rest": p.rest} for p in self.result.periods]}


@dataclass
class CustomerInterest:
    customer: Any
    on: date
    terms: Any  # dues.core.interest.Terms or None
    since: date | None  # interest already charged up to and including this day
    items: list[ItemCharge] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((i.interest for i in self.items), ZERO)

    def as_json(self) -> dict:
        terms = self.terms
        return {"customer": self.customer.code, "on": self.on.isoformat(),
                "mode": terms.mode if terms else "none", "rate": rate_text(terms.annual_rate) if terms else "0",
                "basis": terms.basis if terms else "", "since": self.since.isoformat() if self.since else None,
                "total": f"{self.total:.2f}", "items": [i.as_json() for i in self.items if i.interest]}


def interest_compute(company, customer, on: date, terms=None, start: date | None = None) -> CustomerInterest:
    """The overdue interest a customer owes up to ``on`` (after what earlier debit notes charged).

    ``start``: count no day before it (e.g. the day interest terms were agreed).

    Two queries: the customer's overdue debit items (not the interest debit notes themselves), and
    every allocation to them up to ``on``; then ``dues.core.interest.compute`` per item.
    """
    from django.db.models import Max, Q

    from dues.core.interest import compute
    from dues.ledger.models import Allocation, Document, OpenItem

    from ..models import InterestCharge

    terms = terms if terms is not None else interest_terms(customer)
    since = (InterestCharge.objects.filter(company=company, customer=customer, document__status=Document.POSTED)
             .aggregate(m=Max("through"))["m"])
    if start is not None:
        from datetime import timedelta

        since = max(since or date.min, start - timedelta(days=1))
    result = CustomerInterest(customer, on, terms, since)
    if terms is None:
        return result
    start = since or date.min
    items = list(OpenItem.objects.filter(company=company, customer=customer, side="D", reversal_of__isnull=True,
                                         document__status=Document.POSTED, due_date__lt=on, date__lte=on,
                                         document__interest_charge__isnull=True)
                 .filter(Q(residual__gt=0) | Q(debit_allocations__effective_date__gt=start))
                 .distinct().select_related("document").order_by("due_date", "id"))
    paid: dict[int, list[tuple[date, Decimal]]] = {}
    for item_id, effective, amount in (Allocation.objects.filter(debit_item__in=[i.id for i in items],
                                                                 effective_date__lte=on)
                                       .values_list("debit_item_id", "effective_date", "amount")):
        paid.setdefault(item_id, []).append((effective, amount))
    for item in items:
        outcome = compute(item.amount, item.due_date, paid.get(item.id, []), on, terms, since=since)
        if outcome.interest:
            residual = item.amount - sum((a for d, a in paid.get(item.id, [])), ZERO)
            result.items.append(ItemCharge(item.document.number, item.document.kind, item.due_date, item.amount,
                                           residual, outcome, item.document))
    return result


def interest_label(terms) -> str:
    how = {"simple": "simple", "compound": "compounded monthly",
           "msmed": "MSMED Act: three times the RBI bank rate, compounded monthly"}[terms.mode]
    return how + (", on the whole amount from the due date" if terms.basis == "due_date" else "")


# GST rates in force (per cent); a rate derived from an invoice's totals within 0.05 of one is taken as it
GST_SLABS = tuple(Decimal(r) for r in ("0", "0.1", "0.25", "1", "1.5", "3", "5", "6", "7.5", "12", "18", "28", "40"))


def supply_rates(documents) -> dict[int, list[tuple[Decimal, Decimal]]]:
    """The GST of each original supply, as ``[(rate %, taxable value at that rate), ...]`` by document id.

    An itemised invoice: its lines' rates, weighted by their taxable values. An invoice known by its
    totals only (an import's taxable value and tax): the rate those imply, snapped to the GST slab
    within 0.05 (per-line rounding moves it a little); a blend of rates without lines stays the
    blended rate, which charges the same tax as apportioning the interest to each rate. An opening
    balance carries no tax detail: ``[]`` (interest on it is charged without GST).
    """
    from collections import defaultdict

    from dues.ledger.models import DocumentLine

    ids = [d.pk for d in documents]
    by_line: dict[int, dict[Decimal, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for doc_id, rate, value in DocumentLine.objects.filter(document_id__in=ids).values_list(
            "document_id", "gst_rate", "taxable_value"):
        by_line[doc_id][Decimal(rate).normalize()] += Decimal(value)
    out: dict[int, list[tuple[Decimal, Decimal]]] = {}
    for d in documents:
        if d.pk in by_line:
            out[d.pk] = sorted((r, v) for r, v in by_line[d.pk].items() if v > 0)
            continue
        taxable, tax = Decimal(d.taxable_value), Decimal(d.cgst + d.sgst + d.igst)
        if taxable <= 0:
            out[d.pk] = []
            continue
        rate = tax * 100 / taxable
        slab = min(GST_SLABS, key=lambda s: abs(s - rate))
        out[d.pk] = [(slab if abs(slab - rate) <= Decimal("0.05") else rate.quantize(Decimal("0.001")), taxable)]
    return out


def _interest_lines(company, computed: CustomerInterest) -> list:
    """The debit note's lines: each item's interest at its supply's GST rate(s), split pro rata by taxable value."""
    from dues.core.money import allocate
    from dues.ledger.services import LineDraft

    rates = supply_rates([i.document for i in computed.items])
    lines = []
    for i in computed.items:
        parts = rates.get(i.document.pk) or [(ZERO, Decimal(1))]
        amounts = allocate(i.interest, [w for _, w in parts], company.currency) if len(parts) > 1 else [i.interest]
        for (rate, _), amount in zip(parts, amounts, strict=True):
            if amount:
                lines.append(LineDraft(f"Interest on {i.number}, {i.result.days} days overdue"
                                       + (f" (GST {rate_text(rate)}%)" if len(parts) > 1 else ""), amount,
                                       Decimal(1), rate))
    return lines


def interest_post(*, company, customer, on: date, actor, number: str | None = None, start: date | None = None):
    """Charge the customer's overdue interest up to ``on`` by a debit note (due on ``on``).

    The interest is income of its own (the chart's "Interest on overdue receivables"), not sales. With
    the company setting ``interest_gst`` on, GST is charged on it at the rate of each original supply
    (interest on a delayed payment is part of the value of that supply), CGST + SGST or IGST like any
    invoice, line by line.

    The debit note goes through ``document_post`` (audited by the ledger); an ``InterestCharge``
    records up to which day interest is charged, so the next computation starts after it.
    """
    from dues.companies.models import Account
    from dues.companies.services import chart_complete
    from dues.core.posting import INTEREST_INCOME
    from dues.ledger.services import DocumentDraft, document_post

    from ..models import InterestCharge

    require(actor, "invoices.post", "post an interest debit note")
    with transaction.atomic():
        if not Account.objects.filter(company=company, role=INTEREST_INCOME).exists():
            chart_complete(company, actor=actor)  # a database from before the account existed
        computed = interest_compute(company, customer, on, start=start)
        if computed.terms is None:
            raise DuesError(f"{customer.code} has no interest terms (set them on the customer or the policy)")
        total = computed.total
        if total <= 0:
            raise DuesError(f"no interest due from {customer.code} up to {on.isoformat()}")
        terms = computed.terms
        lines = ", ".join(f"{i.number} {i.result.days} d" for i in computed.items)
        description = (f"Interest on overdue invoices at {rate_text(terms.annual_rate)}% p.a. ({terms.mode}) "
                       f"to {on.strftime('%d-%m-%Y')}: {lines}")[:500]
        draft = DocumentDraft(kind="debit_note", number=number or f"INT-{customer.code}-{on:%Y%m%d}",
                              customer=customer, date=on, due_date=on, amount=total, taxable_value=total,
                              tax=ZERO, description=description, income_role=INTEREST_INCOME)
        if company.interest_gst:
            draft.amount, draft.taxable_value, draft.tax = ZERO, None, None
            draft.lines = _interest_lines(company, computed)
        document = document_post(draft, company=company, actor=actor)
        InterestCharge.objects.create(company=company, customer=customer, document=document, through=on,
                                      amount=total, mode=terms.mode, rate=terms.annual_rate,
                                      detail=[{"number": i.number, "days": i.result.days,
                                               "interest": f"{i.interest:.2f}"} for i in computed.items],
                                      created_by=actor_name(actor))
    return document, computed


def _interest_values(mode: str, rate, basis: str, found: list, allow_blank: bool) -> tuple[str, Decimal | None, str]:
    from decimal import InvalidOperation

    from dues.core.errors import Problem
    from dues.core.interest import BASES, MODES

    mode = (mode or "").strip().lower()
    if not (mode in MODES or (allow_blank and mode == "")):
        found.append(Problem(f"one of {', '.join(MODES)}{' (or blank: the policy' + chr(39) + 's)' if allow_blank else ''}",
                             "interest_mode"))
    value = None
    if mode in ("simple", "compound"):
        try:
            value = Decimal(str(rate).strip().rstrip("%"))
        except (InvalidOperation, ValueError):
            value = None
        if value is None or not value.is_finite() or not 0 < value <= 100:
            found.append(Problem("a rate in per cent per year, more than 0 and at most 100", "interest_rate"))
    basis = (basis or "").strip().lower()
    if basis and basis not in BASES:
        found.append(Problem(f"one of {', '.join(BASES)}", "interest_basis"))
    return mode, value, basis


@transaction.atomic
def customer_interest_update(*, customer, actor, mode: str, rate=None, basis: str = "") -> CustomerCollections:
    """A customer's own overdue-interest terms (mode blank: back to the policy's)."""
    require(actor, "settings.change", "change a customer's interest terms")
    found: list = []
    mode, value, basis = _interest_values(mode, rate, basis, found, allow_blank=True)
    raise_problems(found)
    profile, _ = CustomerCollections.objects.select_for_update().get_or_create(customer=customer)
    before = {"interest_mode": profile.interest_mode, "interest_rate": str(profile.interest_rate or ""),
              "interest_basis": profile.interest_basis}
    profile.interest_mode, profile.interest_rate, profile.interest_basis = mode, value, basis
    profile.save()
    audit_append(actor=actor, action="update", object_type="customer_collections", object_id=customer.code,
                 company_id=customer.company_id, before=before,
                 after={"interest_mode": mode, "interest_rate": str(value or ""), "interest_basis": basis})
    return profile


@transaction.atomic
def policy_interest_update(*, policy, actor, mode: str, rate=None, basis: str = "reducing") -> DunningPolicy:
    """The overdue-interest terms of every customer on a dunning policy."""
    require(actor, "settings.change", "change a policy's interest terms")
    found: list = []
    mode, value, basis = _interest_values(mode, rate, basis, found, allow_blank=False)
    raise_problems(found)
    policy = DunningPolicy.objects.select_for_update().get(pk=policy.pk)
    before = {"interest_mode": policy.interest_mode, "interest_rate": str(policy.interest_rate),
              "interest_basis": policy.interest_basis}
    policy.interest_mode, policy.interest_rate, policy.interest_basis = mode, value or Decimal(0), basis or "reducing"
    policy.save(update_fields=["interest_mode", "interest_rate", "interest_basis"])
    audit_append(actor=actor, action="update", object_type="dunning_policy", object_id=str(policy.pk),
                 company_id=policy.company_id, before=before,
                 after={"interest_mode": mode, "interest_rate": str(policy.interest_rate),
                        "interest_basis": policy.interest_basis})
    return policy
