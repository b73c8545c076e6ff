"""Receivables KPIs by month (definitions in docs/kpi.md): DSO (simple and count-back), best possible DSO,
ADD, CEI, overdue %, promise-kept rate, dispute cycle time. Set-based: the receivables on every month-end in
one query (``balances_at``, the ledger's own exact as-of arithmetic) and grouped sums for sales, promises and
disputes over the whole range."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth

from dues.collections.models import Dispute, PromiseToPay
from dues.companies.models import Company
from dues.core.money import ZERO
from dues.ledger.models import Document

from .trends import balances_at

RESOLVED = (Dispute.RESOLVED_CREDIT_NOTE, Dispute.REJECTED)


def month_starts(start: date, end: date) -> list[date]:
    out, on = [], start.replace(day=1)
    while on <= end:
        out.append(on)
        on = (on.replace(day=28) + timedelta(days=4)).replace(day=1)
    return out


def month_end(first: date) -> date:
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def _days(first: date) -> int:
    return calendar.monthrange(first.year, first.month)[1]


def count_back_dso(ar: Decimal, sales_back: list[tuple[int, Decimal]]) -> Decimal | None:
    """Count-back DSO: take the receivables at month end and subtract each month's credit sales, going
    back from this month, until they are used up; the days of the months wholly used plus the used
    share of the last one. ``sales_back``: (days in month, sales), this month first."""
    if ar <= 0:
        return Decimal(0)
    left, days = ar, Decimal(0)
    for n_days, sales in sales_back:
        if sales <= 0:
            days += n_days
            continue
        if left <= sales:
            return days + left / sales * n_days
        left -= sales
        days += n_days
    return None  # more receivables than all the sales on record: not defined


@dataclass
class KpiMonth:
    month: str
    credit_sales: Decimal
    receivables: Decimal
    current: Decimal
    overdue: Decimal
    dso_simple: Decimal | None
    dso_count_back: Decimal | None
    best_possible_dso: Decimal | None
    add: Decimal | None
    cei: Decimal | None
    overdue_pct: Decimal | None
    promises_due: int
    promise_kept_rate: Decimal | None
    disputes_resolved: int
    dispute_cycle_days: Decimal | None

    def as_dict(self) -> dict:
        def r(x, places="0.01"):
            return None if x is None else str(x.quantize(Decimal(places)))
        return {"month": self.month, "credit_sales": r(self.credit_sales), "receivables": r(self.receivables),
                "current": r(self.current), "overdue": r(self.overdue), "dso_simple": r(self.dso_simple, "0.1"),
                "dso_count_back": r(self.dso_count_back, "0.1"), "best_possible_dso": r(self.best_possible_dso, "0.1"),
                "add": r(self.add, "0.1"), "cei": r(self.cei, "0.1"), "overdue_pct": r(self.overdue_pct, "0.1"),
                "promises_due": self.promises_due, "promise_kept_rate": r(self.promise_kept_rate, "0.1"),
                "disputes_resolved": self.disputes_resolved, "dispute_cycle_days": r(self.dispute_cycle_days, "0.1")}


def kpis(*, company: Company, start: date, end: date, history_months: int = 12) -> list[KpiMonth]:
    months = month_starts(start, end)
    first_sales = months[0]
    for _ in range(history_months):  # count-back DSO looks back at earlier months' sales
        first_sales = (first_sales - timedelta(days=1)).replace(day=1)
    sales = {m.date() if hasattr(m, "date") else m: total for m, total in (
        Document.objects.filter(company=company, kind__in=Document.DEBIT_KINDS, status=Document.POSTED,
                                date__gte=first_sales, date__lte=month_end(months[-1]))
        .annotate(m=TruncMonth("date")).values("m").annotate(total=Sum("amount")).values_list("m", "total"))}
    promises = {m.date() if hasattr(m, "date") else m: (kept, due) for m, kept, due in (
        PromiseToPay.objects.filter(company=company, deadline__gte=months[0], deadline__lte=month_end(months[-1]))
        .exclude(status=PromiseToPay.OPEN).annotate(m=TruncMonth("deadline")).values("m")
        .annotate(kept=Count("id", filter=Q(status=PromiseToPay.KEPT)), due=Count("id")).values_list("m", "kept", "due"))}
    cycles: dict[date, list[int]] = {}
    for opened, resolved in (Dispute.objects.filter(company=company, status__in=RESOLVED, resolved_on__isnull=False,
                                                    resolved_on__gte=months[0], resolved_on__lte=month_end(months[-1]))
                             .values_list("opened_on", "resolved_on")):
        cycles.setdefault(resolved.replace(day=1), []).append((resolved - opened).days)

    out = []
    ends = [months[0] - timedelta(days=1), *(month_end(m) for m in months[:-1]), min(month_end(months[-1]), end)]
    # gross receivables (open debits) and the part not yet due, exactly as the ledger stood on each month-end
    books = balances_at(company=company, points=ends)
    ar_begin = books[0].debits
    for m, last, book in zip(months, ends[1:], books[1:], strict=True):
        ar, current = book.debits, book.debits - book.overdue
        s = sales.get(m, ZERO) or ZERO
        n_days = Decimal((last - m).days + 1)  # a month cut short by --to counts the days it had
        back, on = [(int(n_days), s)], (m - timedelta(days=1)).replace(day=1)
        for _ in range(history_months):
            back.append((_days(on), sales.get(on, ZERO) or ZERO))
            on = (on - timedelta(days=1)).replace(day=1)
        overdue = ar - current
        denom = ar_begin + s - current
        kept, due = promises.get(m, (0, 0))
        cyc = cycles.get(m, [])
        out.append(KpiMonth(
            month=m.strftime("%Y-%m"), credit_sales=s, receivables=ar, current=current, overdue=overdue,
            dso_simple=(ar / s * n_days) if s > 0 else None,
            dso_count_back=count_back_dso(ar, back),
            best_possible_dso=(current / s * n_days) if s > 0 else None,
            add=((ar - current) / s * n_days) if s > 0 else None,
            cei=((ar_begin + s - ar) / denom * 100) if denom > 0 else None,
            overdue_pct=(overdue / ar * 100) if ar > 0 else None,
            promises_due=due, promise_kept_rate=(Decimal(kept) / due * 100) if due else None,
            disputes_resolved=len(cyc), dispute_cycle_days=(Decimal(sum(cyc)) / len(cyc)) if cyc else None))
        ar_begin = ar
    return out
