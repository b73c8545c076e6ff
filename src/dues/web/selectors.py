"""What the web pages show, read from the reporting selectors (set-based SQL) and shaped for templates.

Definitions used on every page:

- *open invoices*: the debit items' residuals on the as-of date (the sum of the ageing buckets);
- *unapplied*: money and credit the customers have with us not yet applied (shown positive);
- *outstanding*: open invoices less unapplied, i.e. the AR control balance (``AgeingRow.total``);
- *overdue*: every bucket except ``not_due``; % overdue is overdue over open invoices.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.core.cache import cache

from dues.audit.selectors import audit_head_version, audit_records
from dues.companies.models import Company
from dues.core.ageing import DUE, NOT_DUE
from dues.core.dates import fiscal_year
from dues.core.money import ZERO, quantize
from dues.customers.models import Customer
from dues.reporting.selectors import (
    BALANCE_SORTS,
    AgeingReport,
    AgeingRow,
    OutstandingItem,
    Statement,
    ageing,
    ageing_overview,
    customer_ids_by_balance,
    outstanding,
    statement_of_account,
)
from dues.reporting.trends import Dso, TrendPoint, dso_countback, outstanding_trend
from dues.users.permissions import person_name, role_of
from dues.users.roles import SALES

HUNDRED = Decimal(100)


def bucket_title(label: str) -> str:
    """``not_due`` -> ``Not yet due``, ``1-30`` -> ``1–30 days``, ``120+`` -> ``Over 120 days``."""
    if label == NOT_DUE:
        return "Not yet due"
    if label.endswith("+"):
        return f"Over {label[:-1]} days"
    return label.replace("-", "–") + " days"


def share(part: Decimal, whole: Decimal) -> Decimal | None:
    """``part`` as a percentage of ``whole`` (None when there is no whole)."""
    return (part * HUNDRED / whole) if whole > 0 else None


def css_width(pct: Decimal | None) -> str:
    """A CSS percentage with a dot whatever the locale: ``'37.50%'``; tiny non-zero shares stay visible."""
    if not pct or pct <= 0:
        return "0%"
    return f"{max(min(pct, HUNDRED), Decimal('0.6')):.2f}%"


@dataclass
class Balance:
    """One customer's position on the as-of date, from one ageing row."""

    code: str
    name: str
    open_invoices: Decimal = ZERO
    overdue: Decimal = ZERO
    unapplied: Decimal = ZERO
    oldest_bucket: str = ""

    @property
    def outstanding(self) -> Decimal:
        return self.open_invoices - self.unapplied

    @property
    def overdue_pct(self) -> Decimal | None:
        return share(self.overdue, self.open_invoices)


def balance_of(row: AgeingRow) -> Balance:
    overdue = sum((v for k, v in row.buckets.items() if k != NOT_DUE), ZERO)
    oldest = next((k for k in reversed(list(row.buckets)) if k != NOT_DUE and row.buckets[k] > 0), "")
    return Balance(row.key, row.name, sum(row.buckets.values(), ZERO), overdue, -row.unapplied,
                   bucket_title(oldest) if oldest else "")


@dataclass
class BucketBar:
    label: str
    title: str
    amount: Decimal
    pct: Decimal | None
    width: str
    tone: int  # 0 not due, 1.. older and redder

    @property
    def overdue(self) -> bool:
        return self.label != NOT_DUE


@dataclass
class DeskSummary:
    as_of: date
    open_invoices: Decimal
    overdue: Decimal
    unapplied: Decimal
    buckets: list[BucketBar]
    top_overdue: list[Balance]
    customers_owing: int
    customers_overdue: int
    dso: Dso | None = None
    trend: list[TrendPoint] = field(default_factory=list)

    @property
    def outstanding(self) -> Decimal:
        return self.open_invoices - self.unapplied

    @property
    def overdue_pct(self) -> Decimal | None:
        return share(self.overdue, self.open_invoices)

    @property
    def overdue_width(self) -> str:
        return css_width(self.overdue_pct)


def bucket_bars(report: AgeingReport, row: AgeingRow | None = None) -> list[BucketBar]:
    """One bar per bucket, its width the bucket's share of the open invoices."""
    source = row or report.totals
    gross = sum(source.buckets.values(), ZERO)
    bars = []
    for tone, label in enumerate(report.columns):
        pct = share(source.buckets[label], gross)
        bars.append(BucketBar(label, bucket_title(label), source.buckets[label], pct, css_width(pct), tone))
    return bars


def desk_summary(*, company: Company, as_of: date, top: int = 10, actor=None, version: str | None = None) -> DeskSummary:
    """The dashboard: totals, buckets and the customers most overdue, from one ageing query.

    A sales user's dashboard covers only their own customers. The figures are cached under the
    audit log's head: every change to the books appends an audit record in its own transaction, so
    a cached dashboard is never older than the books (a big book is aged once per change, not per view).
    """
    scope = salesperson_scope(actor)
    key = f"dues:desk:{company.pk}:{as_of.isoformat()}:{top}:{scope or ''}:{version or audit_head_version()}"
    summary = cache.get(key)
    if summary is None:
        summary = _desk_summary(company=company, as_of=as_of, top=top, scope=scope)
        cache.set(key, summary, timeout=DESK_CACHE_SECONDS)
    return summary


DESK_CACHE_SECONDS = 6 * 3600  # an as-of of "today" moves on at midnight; the key carries the date


def desk_escalations(*, company: Company, version: str, limit: int = 20) -> list[dict]:
    """The open escalations for the manager's dashboard (newest first, ``limit`` + 1 rows to tell "more").

    Cached under the audit head ``version`` like the summary: escalating and closing are audited, so
    the list is never older than the escalations.
    """
    from dues.collections.selectors import escalated_customers

    key = f"dues:desk-escalated:{company.pk}:{limit}:{version}"
    rows = cache.get(key)
    if rows is None:
        rows = [{"code": e.customer.code, "name": e.customer.name, "to": e.get_to_display(), "reason": e.reason,
                 "on": e.on, "by": e.created_by, "overdue": e.overdue}
                for e in escalated_customers(company)[:limit + 1]]
        cache.set(key, rows, timeout=DESK_CACHE_SECONDS)
    return rows


def desk_credit_holds(*, company: Company, version: str) -> list:
    """The holds in force with their customers (``dues.credit.selectors.open_holds``) for the dashboard, cached
    under the audit head ``version``: placing and releasing a hold are audited."""
    from dues.credit.selectors import open_holds

    key = f"dues:desk-holds:{company.pk}:{version}"
    found = cache.get(key)
    if found is None:
        found = list(open_holds(company))
        cache.set(key, found, timeout=DESK_CACHE_SECONDS)
    return found


def desk_irn_window(*, company: Company, today: date, version: str) -> dict:
    """The e-invoice reporting window warning (``dues.billing.selectors.irn_due``, ``unbilled_old``) for
    the dashboard, cached under the audit head ``version`` and the day: approvals, IRN imports, bill
    runs, delivery imports and billing settings are all audited."""
    from dues.billing.selectors import irn_due, irn_settings, unbilled_old

    key = f"dues:desk-irn:{company.pk}:{today.isoformat()}:{version}"
    found = cache.get(key)
    if found is None:
        settings = irn_settings(company)
        found = {"irn_due": irn_due(company=company, today=today, settings=settings),
                 "unbilled_old": unbilled_old(company=company, today=today, settings=settings),
                 "irn_settings": settings}
        cache.set(key, found, timeout=DESK_CACHE_SECONDS)
    return found


def _desk_summary(*, company: Company, as_of: date, top: int, scope: str | None) -> DeskSummary:
    """Totals, counts and the most overdue summed in the database (``ageing_overview``); only the ``top``
    customers are aged row by row, for their names and buckets."""
    overview = ageing_overview(company=company, as_of=as_of, salesperson=scope, top=top)
    totals = balance_of(overview.totals)
    report = AgeingReport(as_of, DUE, company.currency, "customer", overview.columns)
    ids = [pk for pk, _code in overview.most_overdue]
    rows = {r.key: r for r in ageing(company=company, as_of=as_of, customer_ids=ids, disputed=False).rows} if ids else {}
    worst = [balance_of(rows[code]) for _pk, code in overview.most_overdue if code in rows]
    return DeskSummary(
        as_of=as_of, open_invoices=totals.open_invoices, overdue=totals.overdue, unapplied=totals.unapplied,
        buckets=bucket_bars(report, overview.totals), top_overdue=worst,  # bars of the totals, not of report's rows
        customers_owing=overview.customers_owing, customers_overdue=overview.customers_overdue,
        dso=dso_countback(company=company, as_of=as_of, outstanding=totals.outstanding, salesperson=scope),
        trend=outstanding_trend(company=company, as_of=as_of, salesperson=scope),
    )


def chart_data(summary: DeskSummary, currency: str) -> dict:
    """What the dashboard's charts draw, as strings (amounts never pass through a float here)."""
    def money(value: Decimal) -> str:
        return str(quantize(value, currency))

    return {
        "ageing": {"labels": [b.title for b in summary.buckets], "amounts": [money(b.amount) for b in summary.buckets],
                   "overdue": [b.overdue for b in summary.buckets]},
        "trend": {"labels": [p.on.strftime("%b %Y") if p.on != summary.as_of else f"{p.on:%d %b} (as of)"
                             for p in summary.trend],
                  "outstanding": [money(p.outstanding) for p in summary.trend],
                  "overdue": [money(p.overdue) for p in summary.trend]},
    }


def balances_by_customer(*, company: Company, as_of: date, customers: Sequence[Customer]) -> dict[str, Balance]:
    """The balances on ``as_of`` of ``customers`` (a page of a list), keyed by code: one query on them only."""
    report = ageing(company=company, as_of=as_of, customer_ids=[c.pk for c in customers])
    return {r.key: balance_of(r) for r in report.rows}


SORTS = {"code": "code", "name": "name", "collector": "collector", "outstanding": "outstanding",
         "overdue": "overdue", "credit_use": "credit_use"}


class CustomersByBalance:
    """A Customer queryset ordered by balance on ``as_of``, sliced lazily for a paginator.

    ``count()`` counts the customers; a slice asks the database for that page's ids only (the
    balances of all of them are summed and ordered in SQL), then reads those customers.
    """

    def __init__(self, *, company: Company, as_of: date, within, sort: str, descending: bool):
        self.company, self.as_of, self.within, self.sort, self.descending = company, as_of, within, sort, descending

    def count(self) -> int:
        return self.within.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index:index + 1][0]
        start, stop = index.start or 0, index.stop
        ids = customer_ids_by_balance(company=self.company, as_of=self.as_of, within=self.within, sort=self.sort,
                                      descending=self.descending, limit=stop - start, offset=start)
        found = Customer.objects.in_bulk(ids)
        return [found[i] for i in ids]


def customers_ordered(*, company: Company, as_of: date, customers, sort: str, descending: bool):
    """``customers`` (a visible, searched queryset) in the order a list asked for.

    Code, name and collector order in the database without balances; outstanding, overdue and
    credit-limit use order by balances summed for every customer in one query.
    """
    if sort in BALANCE_SORTS:
        return CustomersByBalance(company=company, as_of=as_of, within=customers, sort=sort, descending=descending)
    fields = {"code": ["code"], "name": ["name", "code"], "collector": ["collector", "code"]}[sort]
    return customers.order_by(*[f"-{f}" if descending else f for f in fields])


def fiscal_period(company: Company, on: date) -> tuple[date, date]:
    """The company's fiscal year containing ``on``, from its start to ``on``."""
    fy = fiscal_year(on, company.fy_start_month, company.fy_start_day)
    return fy.start, on


def customer_statement(*, company: Company, customer: Customer, start: date, end: date) -> Statement:
    return statement_of_account(company=company, customer=customer, start=start, end=end)


def salesperson_scope(actor) -> str | None:
    """The salesperson name a sales user's figures are narrowed to; None for every other role."""
    if role_of(actor) == SALES:
        return person_name(actor)
    return None


@dataclass
class Change:
    field: str
    before: object
    after: object


@dataclass
class AuditLine:
    seq: int
    at: object
    actor: str
    action: str
    changes: list[Change] = field(default_factory=list)
    object_type: str = ""
    object_id: str = ""
    created: dict = field(default_factory=dict)


def _load(text: str) -> dict:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {"value": value}


def audit_trail(*, object_type: str, object_id: str, limit: int = 20) -> list[AuditLine]:
    """The latest audit records of one object, each with the fields it changed."""
    return audit_lines(audit_records(object_type=object_type, object_id=object_id, limit=limit))


def audit_lines(records) -> list[AuditLine]:
    """Audit records with the fields each changed: before and after for an update, the new state for a
    creation (every field, before empty), the old state for a removal."""
    lines = []
    for rec in records:
        before, after = _load(rec.before_json), _load(rec.after_json)
        keys = [k for k in after if before.get(k) != after.get(k)] if before else []
        keys += [k for k in before if k not in after]
        line = AuditLine(rec.seq, rec.at, rec.actor, rec.action,
                         [Change(k, before.get(k), after.get(k)) for k in keys])
        line.object_type, line.object_id = rec.object_type, rec.object_id
        line.created = after if not before else {}
        lines.append(line)
    return lines


@dataclass
class CustomerPosition:
    items: list[OutstandingItem]
    balance: Balance
    bars: list[BucketBar]
    credit_used_pct: Decimal | None

    @property
    def credit_width(self) -> str:
        return css_width(self.credit_used_pct)

    @property
    def invoices(self) -> list[OutstandingItem]:
        return [i for i in self.items if i.side == "D"]

    @property
    def credits(self) -> list[OutstandingItem]:
        return [i for i in self.items if i.side == "C"]


def customer_position(*, company: Company, customer: Customer, as_of: date) -> CustomerPosition:
    """A customer's open items and ageing on ``as_of`` (two set-based queries on this customer only)."""
    items = outstanding(company=company, customer=customer, as_of=as_of)
    report = ageing(company=company, as_of=as_of, customer=customer)
    row = report.rows[0] if report.rows else AgeingRow(customer.code, customer.name, {c: ZERO for c in report.columns})
    balance = balance_of(row)
    used = None
    if customer.credit_limit:
        used = max(balance.outstanding, ZERO) * HUNDRED / customer.credit_limit
    return CustomerPosition(items, balance, bucket_bars(report, row), used)


def recent_documents(*, company: Company, customer: Customer, kinds: Sequence[str], as_of: date, limit: int = 10):
    """A customer's latest documents of ``kinds`` dated by ``as_of``, newest first."""
    from dues.ledger.models import Document

    return list(Document.objects.filter(company=company, customer=customer, kind__in=kinds, date__lte=as_of)
                .order_by("-date", "-id")[:limit])
