"""Collection targets per collector and month, and the KPI "collections against target per collector"
(docs/kpi.md): set-based, one grouped sum of receipts by month and the customer's collector.

A receipt counts for the collector its customer has *now* (customers' ``collector``); customers with
none are grouped under ``(none)``. Collected = receipts dated in the month (up to the end date), less
those cancelled by then; amounts as on the receipt (what the customer paid, TDS not included).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Q, Sum
from django.db.models.functions import TruncMonth

from dues import clock
from dues.audit.services import actor_name, audit_append
from dues.companies.models import Company
from dues.core.errors import DuesError
from dues.core.money import ZERO, parse_amount
from dues.ledger.models import Document
from dues.users.permissions import require

from .kpi import month_end, month_starts
from .models import CollectionTarget

NONE = "(none)"
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(text: str) -> date:
    m = _MONTH.match((text or "").strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise DuesError(f"month {text!r} is not YYYY-MM")
    return date(int(m.group(1)), int(m.group(2)), 1)


def target_set(*, company: Company, collector: str, month: str, amount, actor) -> CollectionTarget:
    """Set (or change) a collector's target for a month; audited as ``collection_target`` create/update.
    An amount of 0 keeps a target of nothing (shown as 0, not "no target")."""
    require(actor, "collections.policies", "set collection targets")
    collector = (collector or "").strip()
    if not collector or len(collector) > 100:
        raise DuesError("collector: give the collector's name (at most 100 characters)")
    first = parse_month(month)
    try:
        value = parse_amount(amount)
    except (InvalidOperation, ValueError, ArithmeticError) as exc:
        raise DuesError(f"amount {amount!r} is not an amount: {exc}") from None
    if value < 0:
        raise DuesError("amount must not be negative")
    with transaction.atomic():
        row = CollectionTarget.objects.select_for_update().filter(company=company, collector=collector,
                                                                  month=first).first()
        before = {"amount": str(row.amount.normalize())} if row else None
        if row is None:
            row = CollectionTarget(company=company, collector=collector, month=first)
        row.amount, row.updated_at, row.updated_by = value, clock.now(), actor_name(actor)
        row.save()
        after = {"amount": str(value.normalize())}
        if before != after:
            audit_append(actor=actor, action="create" if before is None else "update",
                         object_type="collection_target", object_id=f"{collector}@{first:%Y-%m}",
                         company_id=company.pk, before=before, after=after)
    return row


@dataclass
class CollectorMonth:
    month: str
    collector: str
    collected: Decimal
    target: Decimal | None

    @property
    def achieved_pct(self) -> Decimal | None:
        return self.collected / self.target * 100 if self.target else None

    def as_dict(self) -> dict:
        pct = self.achieved_pct
        return {"month": self.month, "collector": self.collector, "collected": str(self.collected.quantize(Decimal("0.01"))),
                "target": None if self.target is None else str(self.target.quantize(Decimal("0.01"))),
                "achieved_pct": None if pct is None else str(pct.quantize(Decimal("0.1")))}


def collections_vs_target(*, company: Company, start: date, end: date,
                          customer_ids: list[int] | None = None) -> list[CollectorMonth]:
    """Per month from ``start``'s month to ``end`` (the last month cut at ``end``) and collector: receipts
    collected and the target; a collector appears in a month when it has a target or collected something."""
    months = month_starts(start, end)
    first, last = months[0], min(month_end(months[-1]), end)
    receipts = (Document.objects.filter(company=company, kind=Document.RECEIPT, date__gte=first, date__lte=last)
                .exclude(Q(status=Document.CANCELLED) & (Q(cancelled_on__isnull=True) | Q(cancelled_on__lte=last))))
    if customer_ids is not None:
        receipts = receipts.filter(customer_id__in=customer_ids)
    collected: dict[tuple[date, str], Decimal] = {}
    for m, who, total in (receipts.annotate(m=TruncMonth("date")).values("m", "customer__collector")
                          .annotate(total=Sum("amount")).values_list("m", "customer__collector", "total")):
        key = (m.date() if hasattr(m, "date") else m, (who or "").strip() or NONE)
        collected[key] = collected.get(key, ZERO) + (total or ZERO)
    targets = {(t.month, t.collector): t.amount for t in
               CollectionTarget.objects.filter(company=company, month__gte=first, month__lte=last)}
    if customer_ids is not None:  # a filtered pack shows only the collectors of the customers it covers
        from dues.customers.models import Customer

        names = {(n or "").strip() or NONE for n in Customer.objects.filter(id__in=customer_ids)
                 .values_list("collector", flat=True)}
        targets = {k: v for k, v in targets.items() if k[1] in names}
    out = []
    for m in months:
        for who in sorted({c for (mm, c) in collected if mm == m} | {c for (mm, c) in targets if mm == m}):
            out.append(CollectorMonth(m.strftime("%Y-%m"), who, collected.get((m, who), ZERO), targets.get((m, who))))
    return out
