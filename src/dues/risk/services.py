"""Recompute every customer's risk grade: a handful of set-based reads, one grade per customer, stored.

``recompute_risk(as_of)`` is what a scheduler calls (daily is plenty). Residuals are the ledger's
current ones; ``as_of`` sets the windows (payments of the last 90 / 365 days, promises, returns,
disputes) and what counts as overdue.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Max, Min, Q, Sum

from dues import clock
from dues.banking.models import BankLine
from dues.collections.models import Dispute, PromiseToPay
from dues.companies.models import Company
from dues.customers.models import Customer
from dues.ledger.models import Document, OpenItem
from dues.prediction.risk import RiskFigures, grade

from .models import CustomerRisk, ForecastSnapshot


def _figures(company: Company, as_of: date) -> dict[int, RiskFigures]:
    figures: dict[int, RiskFigures] = defaultdict(RiskFigures)
    for cid, limit in Customer.objects.filter(company=company).values_list("id", "credit_limit"):
        figures[cid].credit_limit = limit
    debits = OpenItem.objects.filter(company=company, side="D", document__status=Document.POSTED)
    total = Decimal(0)
    for cid, owed, overdue, oldest in (debits.filter(residual__gt=0).values("customer_id")
                                       .annotate(owed=Sum("residual"), overdue=Sum("residual", filter=Q(due_date__lt=as_of)),
                                                 oldest=Min("due_date", filter=Q(due_date__lt=as_of)))
                                       .values_list("customer_id", "owed", "overdue", "oldest")):
        f = figures[cid]
        f.outstanding, f.overdue = owed or Decimal(0), overdue or Decimal(0)
        f.max_days_overdue = (as_of - oldest).days if oldest else 0
        total += f.outstanding
    for f in figures.values():
        f.book_total = total
    # days beyond terms of invoices paid in full in the last year, by when they were paid
    late: dict[int, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    for cid, due, paid_on in (debits.filter(residual=0, document__kind=Document.INVOICE)
                              .annotate(paid_on=Max("debit_allocations__effective_date"))
                              .filter(paid_on__gt=as_of - timedelta(days=365), paid_on__lte=as_of)
                              .values_list("customer_id", "due_date", "paid_on").iterator()):
        late[cid][0 if paid_on > as_of - timedelta(days=90) else 1].append(max(0, (paid_on - due).days))
    for cid, (recent, before) in late.items():
        figures[cid].days_beyond_terms_recent = sum(recent) / len(recent) if recent else None
        figures[cid].days_beyond_terms_before = sum(before) / len(before) if before else None
    year = as_of - timedelta(days=365)
    for cid, kept, broken in (PromiseToPay.objects.filter(company=company, deadline__gt=year, deadline__lte=as_of)
                              .values("customer_id")
                              .annotate(kept=Count("id", filter=Q(status=PromiseToPay.KEPT)),
                                        broken=Count("id", filter=Q(status=PromiseToPay.BROKEN)))
                              .values_list("customer_id", "kept", "broken")):
        figures[cid].promises_kept, figures[cid].promises_broken = kept, broken
    for cid, n in (BankLine.objects.filter(company=company, status=BankLine.RETURNED, receipt__isnull=False,
                                           booking_date__gt=year, booking_date__lte=as_of)
                   .values("receipt__customer_id").annotate(n=Count("id")).values_list("receipt__customer_id", "n")):
        figures[cid].bounced += n
    for cid, n in (Document.objects.filter(company=company, kind=Document.RECEIPT, status=Document.CANCELLED,
                                           mode="cheque", cancelled_on__gt=year, cancelled_on__lte=as_of)
                   .values("customer_id").annotate(n=Count("id")).values_list("customer_id", "n")):
        figures[cid].bounced += n
    for cid, n, active in (Dispute.objects.filter(company=company).filter(Q(opened_on__gt=year) | Q(status__in=Dispute.ACTIVE))
                           .values("customer_id")
                           .annotate(n=Count("id", filter=Q(opened_on__gt=year)),
                                     active=Count("id", filter=Q(status__in=Dispute.ACTIVE)))
                           .values_list("customer_id", "n", "active")):
        figures[cid].disputes, figures[cid].disputes_active = n, active
    return figures


def _plain(f: RiskFigures) -> dict:
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in vars(f).items() if k != "book_total"}


def recompute_risk(as_of: date | None = None, *, company: Company | None = None) -> int:
    """Grade every customer of the company (or of every company) as of the date; returns how many."""
    as_of = as_of or clock.today()
    companies = [company] if company else list(Company.objects.all())
    n = 0
    for co in companies:
        rows = []
        for cid, f in _figures(co, as_of).items():
            g = grade(f)
            rows.append(CustomerRisk(company=co, customer_id=cid, grade=g.grade, points=g.points, reasons=g.reasons,
                                     action=g.action, figures=_plain(f), as_of=as_of, computed_at=clock.now()))
        with transaction.atomic():
            CustomerRisk.objects.filter(company=co).delete()
            CustomerRisk.objects.bulk_create(rows, batch_size=1000)
        n += len(rows)
    return n


def recompute_forecast(as_of: date | None = None, *, company: Company | None = None) -> list[ForecastSnapshot]:
    """Predict every open invoice's payment date and store the 13-week forecast (for the dashboard card);
    the scheduler calls it daily. Returns the snapshots written."""
    from dues.prediction.forecast import predict_open, weekly_forecast
    from dues.reporting.forecast import prediction_inputs

    as_of = as_of or clock.today()
    out = []
    for co in ([company] if company else list(Company.objects.all())):
        paid, open_items = prediction_inputs(company=co, as_of=as_of)
        report = weekly_forecast(predict_open(paid, open_items, as_of), as_of)
        out.append(save_forecast(co, report, len(paid)))
    return out


def save_forecast(company: Company, report: dict, trained_on: int) -> ForecastSnapshot:
    weeks = [{k: (str(v) if isinstance(v, Decimal) else v) for k, v in w.items()} for w in report["weeks"]]
    from django.core.cache import cache

    with transaction.atomic():
        ForecastSnapshot.objects.filter(company=company).delete()  # only the latest is kept
        snap = ForecastSnapshot.objects.create(company=company, as_of=date.fromisoformat(report["as_of"]), weeks=weeks,
                                               open_total=report["open_total"], after_13_weeks=report["after_13_weeks"],
                                               trained_on=trained_on, computed_at=clock.now())
    cache.delete(f"dues:forecast-card:{company.pk}")  # the dashboard card's cached snapshot
    return snap
