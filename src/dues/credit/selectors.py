"""Set-based readings for credit control: every customer's exposure in one pass, the holds in force,
and the credit review list (use of the limit, its trend over the last months, a suggested new limit)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal

from django.db.models import Max, Min, Q, Sum

from dues.core.money import ZERO

NEAR = Decimal("0.80")  # the review list shows customers using this share of their limit or more
TREND_MONTHS = 6
PEAK_MONTHS = 3
ROUND_TO = Decimal("10000")


@dataclass
class Exposure:
    outstanding: Decimal = ZERO  # open debits less unapplied credits, today
    drafts: Decimal = ZERO  # draft invoices awaiting approval
    overdue: Decimal = ZERO
    oldest_due: date | None = None

    @property
    def exposure(self) -> Decimal:
        return self.outstanding + self.drafts


def exposures(company, as_of: date, customer_ids=None) -> dict[int, Exposure]:
    """customer id -> Exposure for every customer with open items or drafts (two grouped queries).

    ``customer_ids``: a list of ids, or a query of them (kept a subquery).
    """
    from dues.billing.models import Bill
    from dues.ledger.models import Document, OpenItem

    out: dict[int, Exposure] = defaultdict(Exposure)
    items = OpenItem.objects.filter(company=company, residual__gt=0, document__status=Document.POSTED,
                                    reversal_of__isnull=True)
    bills = Bill.objects.filter(customer__company=company, status=Bill.DRAFT)
    if customer_ids is not None:
        items, bills = items.filter(customer_id__in=customer_ids), bills.filter(customer_id__in=customer_ids)
    for row in items.values("customer_id").annotate(
            debit=Sum("residual", filter=Q(side="D")), credit=Sum("residual", filter=Q(side="C")),
            overdue=Sum("residual", filter=Q(side="D", due_date__lt=as_of)),
            oldest=Min("due_date", filter=Q(side="D", due_date__lt=as_of))):
        e = out[row["customer_id"]]
        e.outstanding = (row["debit"] or ZERO) - (row["credit"] or ZERO)
        e.overdue, e.oldest_due = row["overdue"] or ZERO, row["oldest"]
    for cid, total in bills.values("customer_id").annotate(t=Sum("total")).values_list("customer_id", "t"):
        out[cid].drafts = total or ZERO
    return out


def open_holds(company):
    """The holds in force (not released), oldest first, with their customers."""
    from .models import CreditHold

    return (CreditHold.objects.filter(customer__company=company, released_at__isnull=True)
            .select_related("customer").order_by("placed_at", "id"))


def open_hold(customer):
    from .models import CreditHold

    return CreditHold.objects.filter(customer=customer, released_at__isnull=True).first()


def release_in_force(customer, on: date):
    """The latest release of the customer's hold still lasting on ``on`` (the rule leaves it alone), or None."""
    from .models import CreditHold

    return (CreditHold.objects.filter(customer=customer, released_at__isnull=False, release_until__gte=on)
            .order_by("-released_at").first())


def groups(company) -> dict[str, object]:
    from .models import CreditGroup

    return {g.segment.strip().lower(): g for g in CreditGroup.objects.filter(company=company)}


def group_of(customer):
    from .models import CreditGroup

    if not customer.segment.strip():
        return None
    return CreditGroup.objects.filter(company=customer.company, segment__iexact=customer.segment.strip()).first()


def month_ends(as_of: date, months: int) -> list[date]:
    """The last ``months`` month ends before ``as_of``, oldest first, then ``as_of`` itself."""
    ends, first = [], as_of.replace(day=1)
    for _ in range(months):
        first_prev = (first - timedelta(days=1)).replace(day=1)
        ends.append(first - timedelta(days=1))
        first = first_prev
    return [*reversed(ends), as_of]


def customer_balances_on(company, days: list[date], customer_ids) -> dict[int, list[Decimal]]:
    """customer id -> its ledger balance (receivable debits less credits) at the end of each day, one query."""
    from dues.ledger.models import JournalLine

    lines = JournalLine.objects.filter(entry__company=company, customer_id__in=customer_ids)
    aggs = {f"b{i}": Sum("debit", filter=Q(entry__date__lte=d), default=ZERO)
            - Sum("credit", filter=Q(entry__date__lte=d), default=ZERO) for i, d in enumerate(days)}
    return {row["customer_id"]: [row[f"b{i}"] or ZERO for i in range(len(days))]
            for row in lines.values("customer_id").annotate(**aggs)}


def days_late(company, as_of: date, customer_ids) -> dict[int, float]:
    """Mean days beyond the due date of the invoices paid in full in the last 90 days, per customer."""
    from dues.ledger.models import Document, OpenItem

    late: dict[int, list[int]] = defaultdict(list)
    for cid, due, paid_on in (OpenItem.objects.filter(company=company, customer_id__in=customer_ids, side="D",
                                                       residual=0, document__kind=Document.INVOICE,
                                                       document__status=Document.POSTED)
                              .annotate(paid_on=Max("debit_allocations__effective_date"))
                              .filter(paid_on__gt=as_of - timedelta(days=90), paid_on__lte=as_of)
                              .values_list("customer_id", "due_date", "paid_on")):
        late[cid].append(max(0, (paid_on - due).days))
    return {cid: sum(v) / len(v) for cid, v in late.items()}


def suggested_limit(limit: Decimal, peak: Decimal, late: float | None) -> Decimal:
    """The rule (docs/credit.md): pays within 15 days of due (or no paid invoice to judge by) -> 1.25 x the
    peak exposure of the last 3 month ends and today; 16-30 days late -> the peak itself; later than that ->
    the smaller of the current limit and the peak. Rounded up to 10,000; never below zero."""
    if late is None or late <= 15:
        value = peak * Decimal("1.25")
    elif late <= 30:
        value = peak
    else:
        value = min(limit, peak)
    value = max(value, ZERO)
    return (value / ROUND_TO).to_integral_value(rounding=ROUND_CEILING) * ROUND_TO


@dataclass
class ReviewRow:
    customer_id: int
    code: str
    name: str
    salesperson: str
    limit: Decimal
    exposure: Decimal
    use: Decimal  # exposure / limit, 1.00 = 100 %
    trend: list[tuple[date, Decimal]] = field(default_factory=list)  # (month end, use of the current limit)
    peak: Decimal = ZERO
    days_late: float | None = None
    suggested: Decimal = ZERO
    on_hold: bool = False

    @property
    def use_percent(self) -> int:
        return int((self.use * 100).to_integral_value())

    def as_dict(self) -> dict:
        return {"customer": self.code, "name": self.name, "salesperson": self.salesperson,
                "limit": f"{self.limit:.2f}", "exposure": f"{self.exposure:.2f}", "use_percent": self.use_percent,
                "trend": [{"month_end": d.isoformat(), "use_percent": int((u * 100).to_integral_value())}
                          for d, u in self.trend],
                "peak_exposure": f"{self.peak:.2f}",
                "days_late": None if self.days_late is None else round(self.days_late, 1),
                "suggested_limit": f"{self.suggested:.2f}", "on_hold": self.on_hold}


def review(company, as_of: date, *, near: Decimal = NEAR, customers=None) -> list[ReviewRow]:
    """Customers with a credit limit using ``near`` (80 %) of it or more, the most used first, in full."""
    return review_details(company, as_of, review_candidates(company, as_of, near=near, customers=customers))


def review_candidates(company, as_of: date, *, near: Decimal = NEAR, customers=None) -> list[ReviewRow]:
    """The rows of ``review`` in its order, with their exposure and use only (two grouped queries). A page of
    them is completed by ``review_details``: a long list costs its month-end history only for the rows shown."""
    from dues.customers.models import Customer

    qs = Customer.objects.filter(company=company, credit_limit__gt=0)
    if customers is not None:
        qs = qs.filter(pk__in=customers.values("pk"))
    limits = dict(qs.values_list("id", "credit_limit"))  # plain values: 60,000 model objects take most of a second
    figures = exposures(company, as_of, qs.values("pk"))  # a subquery: a list of every id costs seconds
    picked = {cid: e for cid, e in figures.items() if (limit := limits.get(cid)) and e.exposure >= limit * near}
    rows = [ReviewRow(cid, code, name, salesperson, limits[cid], picked[cid].exposure,
                      (picked[cid].exposure / limits[cid]).quantize(Decimal("0.0001")))
            for cid, code, name, salesperson in Customer.objects.filter(id__in=list(picked))
            .values_list("id", "code", "name", "salesperson")]
    return sorted(rows, key=lambda r: (-r.use, r.code))


def review_details(company, as_of: date, rows: list[ReviewRow]) -> list[ReviewRow]:
    """``rows`` (of ``review_candidates``) completed in place: the use at each month end, the peak, days late,
    the suggested limit, whether on hold (three queries for all of them)."""
    from .models import CreditHold

    if not rows:
        return rows
    picked = [r.customer_id for r in rows]
    ends = month_ends(as_of, TREND_MONTHS)
    history = customer_balances_on(company, ends, picked)
    late = days_late(company, as_of, picked)
    held = set(CreditHold.objects.filter(customer_id__in=picked, released_at__isnull=True)
               .values_list("customer_id", flat=True))
    for r in rows:
        balances = history.get(r.customer_id, [ZERO] * len(ends))
        r.peak = max([*balances[-(PEAK_MONTHS + 1):], r.exposure])
        r.trend = [(d, (b / r.limit).quantize(Decimal("0.0001"))) for d, b in zip(ends, balances, strict=True)]
        r.days_late = late.get(r.customer_id)
        r.suggested = suggested_limit(r.limit, r.peak, r.days_late)
        r.on_hold = r.customer_id in held
    return rows
