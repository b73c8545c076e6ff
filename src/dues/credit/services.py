"""The credit check a draft invoice passes before approval posts it.

``check(customer, amount, as_of)`` reads the customer's open items (today's residuals: what is
outstanding now), the other drafts awaiting approval, the credit limit and the oldest overdue
invoice, and answers with a ``CreditDecision``: allowed or not, the reasons, and the figures the
reasons quote. A customer on credit hold (``dues.credit.holds``) is blocked whatever the figures; a
customer in a credit group (``CreditGroup``, by its segment) must also keep the group's exposure (the sum
over its members) within the group's limit and its oldest overdue within the group's allowed days.
It writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Min, Q, Sum

from dues.core.money import ZERO


@dataclass(frozen=True, slots=True)
class CreditFigures:
    outstanding: Decimal  # open debits less unapplied credits, today
    drafts: Decimal  # other drafts of the customer awaiting approval
    amount: Decimal  # this invoice
    limit: Decimal | None
    exposure: Decimal  # outstanding + amount: what the limit is compared with
    oldest_overdue_days: int = 0
    overdue: Decimal = ZERO  # open debits past their due date
    overdue_days_allowed: int = 0
    on_hold: bool = False
    group: str = ""  # the customer's credit group (its segment), when it has one
    group_limit: Decimal | None = None
    group_exposure: Decimal = ZERO  # every member's outstanding and drafts + this invoice
    group_overdue_days_allowed: int | None = None


@dataclass(frozen=True, slots=True)
class CreditDecision:
    allowed: bool
    reasons: tuple[str, ...] = ()
    figures: CreditFigures | None = field(default=None)

    def as_dict(self) -> dict:
        f = self.figures
        return {"allowed": self.allowed, "reasons": list(self.reasons), "figures": None if f is None else {
            "outstanding": f"{f.outstanding:.2f}", "drafts": f"{f.drafts:.2f}", "amount": f"{f.amount:.2f}",
            "limit": None if f.limit is None else f"{f.limit:.2f}", "exposure": f"{f.exposure:.2f}",
            "oldest_overdue_days": f.oldest_overdue_days, "overdue": f"{f.overdue:.2f}",
            "overdue_days_allowed": f.overdue_days_allowed, "on_hold": f.on_hold, "group": f.group or None,
            "group_limit": None if f.group_limit is None else f"{f.group_limit:.2f}",
            "group_exposure": f"{f.group_exposure:.2f}", "group_overdue_days_allowed": f.group_overdue_days_allowed}}


def _money(value: Decimal) -> str:
    from dues.core.money import indian_grouping

    return indian_grouping(value)


def check(customer, amount: Decimal, as_of: date, *, pending: Decimal = ZERO, exclude_bill=None,
          overdue_days_allowed: int | None = None) -> CreditDecision:
    """May ``customer`` be invoiced ``amount`` on ``as_of``?

    ``pending``: invoices approved earlier in the same batch, not yet visible as open items.
    ``overdue_days_allowed``: days past due an invoice may be before new invoices are held (default:
    the company's billing setting).
    """
    from dues.billing.models import Bill
    from dues.ledger.models import Document, OpenItem

    items = OpenItem.objects.filter(customer=customer, residual__gt=0, document__status=Document.POSTED,
                                    reversal_of__isnull=True)
    agg = items.aggregate(debit=Sum("residual", filter=Q(side="D")), credit=Sum("residual", filter=Q(side="C")),
                          oldest_due=Min("due_date", filter=Q(side="D")),
                          overdue=Sum("residual", filter=Q(side="D", due_date__lt=as_of)))
    outstanding = (agg["debit"] or ZERO) - (agg["credit"] or ZERO) + pending
    drafts_qs = Bill.objects.filter(customer=customer, status=Bill.DRAFT)
    if exclude_bill is not None:
        drafts_qs = drafts_qs.exclude(pk=exclude_bill.pk)
    drafts = drafts_qs.aggregate(t=Sum("total"))["t"] or ZERO
    if overdue_days_allowed is None:
        from dues.billing.services import billing_settings

        overdue_days_allowed = billing_settings(customer.company).overdue_days_allowed
    oldest = agg["oldest_due"]
    overdue_days = max(0, (as_of - oldest).days) if oldest else 0
    limit = customer.credit_limit
    from .selectors import group_of, open_hold

    hold = open_hold(customer)
    group = group_of(customer)
    group_exposure = ZERO
    if group is not None:
        members = OpenItem.objects.filter(customer__company=customer.company, customer__segment__iexact=group.segment,
                                          residual__gt=0, document__status=Document.POSTED, reversal_of__isnull=True)
        g = members.aggregate(debit=Sum("residual", filter=Q(side="D")), credit=Sum("residual", filter=Q(side="C")))
        group_drafts = Bill.objects.filter(customer__company=customer.company, customer__segment__iexact=group.segment,
                                           status=Bill.DRAFT)
        if exclude_bill is not None:
            group_drafts = group_drafts.exclude(pk=exclude_bill.pk)
        group_exposure = ((g["debit"] or ZERO) - (g["credit"] or ZERO) + pending + amount
                          + (group_drafts.aggregate(t=Sum("total"))["t"] or ZERO))
    figures = CreditFigures(outstanding.quantize(Decimal("0.01")), drafts.quantize(Decimal("0.01")),
                            amount, limit, (outstanding + amount).quantize(Decimal("0.01")), overdue_days,
                            (agg["overdue"] or ZERO).quantize(Decimal("0.01")), overdue_days_allowed,
                            hold is not None, group.segment if group else "", group.credit_limit if group else None,
                            group_exposure.quantize(Decimal("0.01")), group.overdue_days_allowed if group else None)
    reasons = []
    if hold is not None:
        reasons.append(f"on hold: {hold.reason} (placed {hold.placed_at:%d %b %Y} by {hold.placed_by})")
    if limit is not None and figures.exposure > limit:
        reasons.append(f"credit limit {_money(limit)} exceeded: outstanding {_money(figures.outstanding)} + this invoice "
                       f"{_money(amount)} = {_money(figures.exposure)} (over by {_money(figures.exposure - limit)})")
    if overdue_days > overdue_days_allowed:
        reasons.append(f"an invoice is {overdue_days} days overdue (allowed {overdue_days_allowed} days)")
    if group is not None and group.credit_limit is not None and figures.group_exposure > group.credit_limit:
        reasons.append(f"group {group.segment} credit limit {_money(group.credit_limit)} exceeded: group exposure "
                       f"{_money(figures.group_exposure)} (over by {_money(figures.group_exposure - group.credit_limit)})")
    if (group is not None and group.overdue_days_allowed is not None
            and overdue_days_allowed >= overdue_days > group.overdue_days_allowed):
        reasons.append(f"an invoice is {overdue_days} days overdue (group {group.segment} allows "
                       f"{group.overdue_days_allowed} days)")
    return CreditDecision(not reasons, tuple(reasons), figures)
