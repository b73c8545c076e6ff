"""TDS vs Form 26AS for one fiscal year: our side read set-based, the follow-ups as collection activities.

Our TDS is the ``tds`` of posted receipts, summed per customer and Indian fiscal quarter in one
aggregate query (a cancelled receipt is reversed, so it is left out). Receipts are read one by one
only for the customers whose quarter does not match, to name the receipts to chase.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from django.db import transaction
from django.db.models import Count, Sum
from django.db.models.functions import ExtractQuarter

from dues import clock
from dues.companies.models import Company
from dues.core import tds26as as t
from dues.core.errors import DuesError
from dues.core.money import quantize
from dues.customers.models import Customer
from dues.integrations.form26as import Form26AS, fy_label, read_form26as
from dues.ledger.models import Document

FOLLOW_UP_DAYS = 7


def our_tds(*, company: Company, fy) -> list[t.OurQuarter]:
    """Our TDS per customer and fiscal quarter of ``fy`` (one aggregate query)."""
    rows = (Document.objects.filter(company=company, kind=Document.RECEIPT, status=Document.POSTED, tds__gt=0,
                                    date__gte=fy.start, date__lte=fy.end)
            .annotate(cq=ExtractQuarter("date"))
            .values("customer_id", "customer__code", "customer__name", "customer__tan", "cq")
            .annotate(total=Sum("tds"), n=Count("id"))
            .order_by("customer__code", "cq"))
    return [t.OurQuarter(r["customer__code"], r["customer__name"], r["customer__tan"],
                         t.calendar_to_fy_quarter(r["cq"]), Decimal(r["total"]), r["n"]) for r in rows]


def customers_by_tan(*, company: Company, tans) -> dict[str, list[tuple[str, str]]]:
    """TAN -> [(code, name)] of the customers carrying it, for the TANs asked about."""
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for tan, code, name in (Customer.objects.filter(company=company, tan__in=set(tans))
                            .order_by("code").values_list("tan", "code", "name")):
        out[tan].append((code, name))
    return dict(out)


@dataclass
class TdsReport:
    company: Company
    fy_label: str
    source: str
    result: t.TdsReconciliation
    warnings: list[str] = field(default_factory=list)
    follow_ups: dict | None = None
    booking: dict | None = None  # services.tds_book_unrecorded(...).as_json(), when asked to book

    def money(self, v: Decimal) -> str:
        return str(quantize(v, self.company.currency))

    def as_json(self) -> dict:
        r, m = self.result, self.money
        return {
            "fy": self.fy_label,
            "source": self.source,
            "tolerance": m(r.tolerance),
            "rows": [{"customer": ", ".join(x.customers), "name": x.name, "tan": x.tan or None,
                      "quarter": f"Q{x.quarter}", "status": x.status, "ours": m(x.ours), "theirs": m(x.theirs),
                      "difference": m(x.difference), "receipts": x.receipts, "lines_26as": [ln.row for ln in x.lines],
                      "sections": x.sections, "not_final": m(x.not_final), "unmatched_receipts": x.unmatched_receipts,
                      "explanation": x.explanation} for x in r.rows],
            "unknown_tans": [{"tan": u.tan, "deductor": u.deductor, "quarter": f"Q{u.quarter}", "amount": m(u.amount),
                              "tds": m(u.tds), "lines_26as": u.rows, "suggestion": u.suggestion or None}
                             for u in r.unknown_tans],
            "customers": [{k: (m(v) if isinstance(v, Decimal) else v) for k, v in c.items()} for c in r.by_customer()],
            "totals": {k: m(v) for k, v in r.totals().items()},
            "ties": r.ties(),
            "follow_ups": self.follow_ups,
            "booked": self.booking["booked"] if self.booking is not None else None,
            "booking_skipped": self.booking["skipped"] if self.booking is not None else None,
            "warnings": self.warnings,
        }


def _suggest(company: Company, unknown: list[t.UnknownTan]) -> None:
    """For a TAN on no customer: the customer without a TAN whose name is the deductor's, if exactly one."""
    from django.db.models import Q

    names = {u.deductor.strip() for u in unknown if u.deductor.strip()}
    if not names:
        return
    wanted = Q()
    for name in names:
        wanted |= Q(name__iexact=name)
    found: dict[str, list[str]] = defaultdict(list)
    for code, name in Customer.objects.filter(wanted, company=company, tan="").values_list("code", "name"):
        found[name.strip().casefold()].append(code)
    for u in unknown:
        codes = found.get(u.deductor.strip().casefold(), [])
        if len(codes) == 1:
            u.suggestion = codes[0]


def tds_reconciliation(*, company: Company, path: str | Path, fy: str, data: bytes | None = None,
                       tolerance: Decimal = t.ROUNDING) -> TdsReport:
    """Reconcile the 26AS file at ``path`` with our TDS for fiscal year ``fy`` ('2025-26')."""
    try:
        year = t.fiscal_year_of(fy)
    except ValueError as exc:
        raise DuesError(str(exc)) from exc
    form: Form26AS = read_form26as(path, data)
    warnings: list[str] = []
    if form.fy and fy_label(form.fy) != year.label:
        raise DuesError(f"{form.source} is Form 26AS for FY {fy_label(form.fy)}, not {year.label}")
    lines = [t.Line(c.tan, c.deductor, c.section, c.date, c.status, c.amount, c.tds, c.row) for c in form.credits]
    ours = our_tds(company=company, fy=year)
    tans = customers_by_tan(company=company, tans={ln.tan for ln in lines} | {o.tan for o in ours if o.tan})
    result = t.reconcile_tds(ours, lines, tans, year, tolerance)
    _suggest(company, result.unknown_tans)
    for ln in result.outside_year:
        warnings.append(f"{form.source}:{ln.row}: dated {ln.date:%d-%m-%Y}, outside FY {year.label}; left out")
    _name_receipts(company, result, year)
    return TdsReport(company, year.label, form.source, result, warnings)


def _name_receipts(company: Company, result: t.TdsReconciliation, year) -> None:
    """For rows that do not match: which receipts no 26AS line accounts for (one query)."""
    open_rows = [r for r in result.rows if r.status != t.MATCHED and r.receipts]
    if not open_rows:
        return
    codes = {c for r in open_rows for c in r.customers}
    receipts: dict[tuple[str, int], list] = defaultdict(list)
    for number, code, on, tds in (Document.objects.filter(company=company, kind=Document.RECEIPT,
                                                          status=Document.POSTED, tds__gt=0, date__gte=year.start,
                                                          date__lte=year.end, customer__code__in=codes)
                                  .values_list("number", "customer__code", "date", "tds")):
        receipts[(code, t.fy_quarter(on))].append((number, on, tds))
    for r in open_rows:
        mine = [x for c in r.customers for x in receipts.get((c, r.quarter), [])]
        r.unmatched_receipts = t.pair_receipts(r, mine, result.tolerance)


@transaction.atomic
def tds_follow_up(*, report: TdsReport, actor, on: date | None = None) -> dict:
    """One collection activity per customer and quarter whose TDS is not in 26AS (not twice for the same one)."""

    from dues.collections.models import Activity
    from dues.collections.services.activities import activity_log

    on = on or clock.today()
    created, existing = [], []
    rows = report.result.to_follow_up()
    codes = {c for r in rows for c in r.customers}
    customers = {c.code: c for c in Customer.objects.filter(company=report.company, code__in=codes)}
    for r in rows:
        customer = customers[r.customers[0]]
        subject = f"TDS not in Form 26AS: FY {report.fy_label} Q{r.quarter}"
        if Activity.objects.filter(customer=customer, subject=subject).exists():
            existing.append(customer.code)
            continue
        notes = [r.explanation]
        if r.unmatched_receipts:
            notes.append(f"Receipts: {', '.join(r.unmatched_receipts)}")
        if r.sections:
            notes.append(f"26AS sections this quarter: {', '.join(r.sections)}")
        notes.append(f"Short by {report.money(-r.difference)} (ours {report.money(r.ours)}, "
                     f"26AS {report.money(r.theirs)}); from {report.source}")
        activity_log(customer=customer, kind="call", subject=subject, notes="\n".join(notes),
                     next_follow_up=on + timedelta(days=FOLLOW_UP_DAYS), actor=actor)
        created.append(customer.code)
    report.follow_ups = {"created": len(created), "existing": len(existing), "customers": sorted(set(created))}
    return report.follow_ups


def write_xlsx(report: TdsReport, target) -> None:
    from dues.reporting.exports import write_xlsx as write

    r = report.result
    rows = [[", ".join(x.customers), x.name, x.tan, f"Q{x.quarter}", x.status, x.ours, x.theirs, x.difference,
             ", ".join(x.unmatched_receipts), x.explanation] for x in r.rows]
    rows += [["", u.deductor, u.tan, f"Q{u.quarter}", "tan_not_on_any_customer", Decimal(0), u.tds, u.tds,
              "", f"26AS rows {', '.join(map(str, u.rows))}" + (f"; perhaps {u.suggestion}" if u.suggestion else "")]
             for u in r.unknown_tans]
    totals = r.totals()
    write(f"TDS vs 26AS {report.fy_label}", ["Customer", "Name", "TAN", "Quarter", "Status", "Our TDS", "26AS TDS",
                                             "Difference", "Receipts to chase", "Explanation"], rows, target,
          money_columns=(5, 6, 7), totals=["Total", "", "", "", "", totals["ours"], totals["26as"],
                                           totals["26as"] - totals["ours"], "", ""],
          about=[("Fiscal year", report.fy_label), ("Form 26AS file", report.source)]
          + [(k.replace("_", " "), v) for k, v in totals.items()])
