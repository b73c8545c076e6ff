"""Management reports: the daily outstanding report and the weekly ageing pack, as PDF and XLSX.

The figures come from the reporting selectors' set-based SQL (ageing as of any date, exactly) and a
few aggregate queries: collections (receipts) in the period against the target, promises due and
broken, open disputes by department and reason, customers on dunning hold. ``params`` narrow it:
``region``, ``salesperson``, ``target_daily`` / ``target_weekly`` (money), ``top`` (how many customers).

Customers on credit hold (``dues.credit``, docs/credit.md) are listed apart from those on dunning hold.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, Q, Sum

from dues.core.ageing import NOT_DUE
from dues.core.money import ZERO

DAILY, WEEKLY = "daily", "weekly"


@dataclass
class Pack:
    kind: str
    on: date
    previous: date
    company_name: str
    currency: str
    filters: dict
    columns: list[str]
    buckets: dict[str, Decimal]
    previous_buckets: dict[str, Decimal]
    unapplied: Decimal
    top_overdue: list[tuple[str, str, Decimal, Decimal]]  # code, name, overdue, total
    collections: Decimal
    collections_previous: Decimal
    target: Decimal | None
    period_start: date
    promises_due: list[tuple[str, str, date, Decimal]]  # code, name, promised date, amount
    broken: list[tuple[str, str, date, Decimal]]
    disputes: list[tuple[str, str, int, Decimal]]  # department, reason, count, amount
    holds: list[tuple[str, str, str]]  # code, name, reason
    notes: list[str] = field(default_factory=list)
    credit_holds: list[tuple[str, str, str]] = field(default_factory=list)  # code, name, kind: reason
    # the audit chain's head when the pack was built, SEQ:HASH: mailed outside the database, it is what
    # `dues audit verify --anchor` checks later (records cut from the end with the head rewound show)
    audit_anchor: str = ""

    @property
    def title(self) -> str:
        return "Daily outstanding report" if self.kind == DAILY else "Weekly ageing pack"

    @property
    def total(self) -> Decimal:
        return sum(self.buckets.values(), ZERO) + self.unapplied

    @property
    def previous_total(self) -> Decimal:
        return sum(self.previous_buckets.values(), ZERO) + self.unapplied_previous

    unapplied_previous: Decimal = ZERO
    week_start: date | None = None  # the daily report also shows the week so far (Monday to the day)
    collections_week: Decimal = ZERO
    target_week: Decimal | None = None
    # the weekly pack: the stored 13-week cash forecast (the ``forecast`` job's latest, whole book)
    forecast: list[dict] = field(default_factory=list)  # week, start, end, expected, cumulative_low/expected/high
    forecast_as_of: date | None = None
    forecast_open_total: Decimal = ZERO
    forecast_after: Decimal = ZERO
    # collections against target per collector, the month to date (docs/kpi.md)
    collectors: list = field(default_factory=list)  # reporting.targets.CollectorMonth

    @property
    def overdue(self) -> Decimal:
        return sum((v for k, v in self.buckets.items() if k != NOT_DUE), ZERO)

    @property
    def previous_overdue(self) -> Decimal:
        return sum((v for k, v in self.previous_buckets.items() if k != NOT_DUE), ZERO)


def _customer_ids(company, params: dict) -> list[int] | None:
    from dues.customers.models import Customer

    if not params.get("region") and not params.get("salesperson"):
        return None
    customers = Customer.objects.filter(company=company)
    if params.get("region"):
        customers = customers.filter(region__iexact=params["region"])
    if params.get("salesperson"):
        customers = customers.filter(salesperson__iexact=params["salesperson"])
    return list(customers.values_list("id", flat=True))


def _money(value) -> Decimal | None:
    if value in (None, ""):
        return None
    return Decimal(str(value))


def build_pack(*, company, kind: str, on: date, params: dict | None = None) -> Pack:
    from dues.collections.models import CustomerCollections, Dispute, PromiseToPay
    from dues.ledger.models import Document
    from dues.reporting.selectors import ageing

    params = params or {}
    days = 1 if kind == DAILY else 7
    previous = on - timedelta(days=days)
    ids = _customer_ids(company, params)
    now = ageing(company=company, as_of=on, customer_ids=ids, disputed=False)
    before = ageing(company=company, as_of=previous, customer_ids=ids, disputed=False)
    totals, previous_totals = now.totals, before.totals
    top_n = int(params.get("top", 10))
    overdue_rows = sorted(((r.key, r.name, sum((v for k, v in r.buckets.items() if k != NOT_DUE), ZERO),
                            r.total) for r in now.rows), key=lambda t: (-t[2], t[0]))
    top = [t for t in overdue_rows if t[2] > 0][:top_n]

    def narrowed(qs, field_name="customer_id"):
        return qs if ids is None else qs.filter(**{f"{field_name}__in": ids})

    start = on - timedelta(days=days - 1)
    receipts = narrowed(Document.objects.filter(company=company, kind="receipt")
                        .exclude(Q(status="cancelled") & Q(cancelled_on__lte=on)))
    collected = receipts.filter(date__gte=start, date__lte=on).aggregate(s=Sum("amount"))["s"] or ZERO
    collected_before = (receipts.filter(date__gte=start - timedelta(days=days), date__lt=start)
                        .aggregate(s=Sum("amount"))["s"] or ZERO)
    target = _money(params.get("target_daily" if kind == DAILY else "target_weekly"))

    promises = narrowed(PromiseToPay.objects.filter(company=company)).select_related("customer")
    due = [(p.customer.code, p.customer.name, p.promised_date, p.amount)
           for p in promises.filter(status="open", promised_date__gte=start, promised_date__lte=on + timedelta(days=days))
           .order_by("promised_date", "customer__code")]
    broken = [(p.customer.code, p.customer.name, p.promised_date, p.amount)
              for p in promises.filter(status="broken", settled_on__gte=start, settled_on__lte=on).order_by("settled_on", "customer__code")]

    open_disputes = narrowed(Dispute.objects.filter(company=company, opened_on__lte=on)
                             .filter(Q(resolved_on__isnull=True) | Q(resolved_on__gt=on))
                             .exclude(status__in=("resolved", "rejected"), resolved_on__isnull=True))
    disputes = [(row["owner"], row["reason"], row["n"], row["amount"] or ZERO)
                for row in open_disputes.values("owner", "reason").annotate(n=Count("id"), amount=Sum("amount"))
                .order_by("owner", "reason")]
    holds = [(h.customer.code, h.customer.name, h.hold_reason)
             for h in narrowed(CustomerCollections.objects.filter(dunning_hold=True, customer__company=company))
             .select_related("customer").order_by("customer__code")]
    from dues.credit.models import CreditHold

    credit_holds = [(h.customer.code, h.customer.name, f"{h.kind}: {h.reason}")
                    for h in narrowed(CreditHold.objects.filter(released_at__isnull=True, customer__company=company))
                    .select_related("customer").order_by("customer__code")]
    pack = Pack(kind=kind, on=on, previous=previous, company_name=company.name, currency=company.currency or "INR",
                filters={k: params[k] for k in ("region", "salesperson") if params.get(k)}, columns=now.columns,
                buckets=totals.buckets, previous_buckets=previous_totals.buckets, unapplied=totals.unapplied,
                top_overdue=top, collections=collected, collections_previous=collected_before, target=target,
                period_start=start, promises_due=due, broken=broken, disputes=disputes, holds=holds,
                credit_holds=credit_holds)
    pack.unapplied_previous = previous_totals.unapplied
    from dues.audit.selectors import audit_head_version

    pack.audit_anchor = audit_head_version()
    from dues.reporting.targets import collections_vs_target

    pack.collectors = collections_vs_target(company=company, start=on.replace(day=1), end=on, customer_ids=ids)
    if kind == DAILY:
        pack.week_start = on - timedelta(days=on.weekday())
        pack.collections_week = (receipts.filter(date__gte=pack.week_start, date__lte=on)
                                 .aggregate(s=Sum("amount"))["s"] or ZERO)
        pack.target_week = _money(params.get("target_weekly"))
    else:
        _add_forecast(pack, company)
    return pack


def _add_forecast(pack: Pack, company) -> None:
    """The latest stored forecast (never trained here: the ``forecast`` job stores it daily)."""
    from dues.risk.models import ForecastSnapshot

    snap = ForecastSnapshot.objects.filter(company=company).order_by("-computed_at").first()
    if snap is None:
        pack.notes.append("No cash forecast computed yet: the forecast schedule (or `dues forecast`) makes one.")
        return
    pack.forecast = [{**w, **{k: Decimal(str(w[k])) for k in ("expected", "cumulative_expected", "cumulative_low",
                                                              "cumulative_high")}} for w in snap.weeks]
    pack.forecast_as_of, pack.forecast_open_total, pack.forecast_after = snap.as_of, snap.open_total, snap.after_13_weeks
    if pack.filters:
        pack.notes.append("The cash forecast covers the whole book, not only the filtered customers.")


def _label(column: str) -> str:
    return column.replace("_", " ")


def _fmt(value: Decimal) -> str:
    return f"{value:,.2f}"


def summary_text(pack: Pack) -> str:
    change = pack.total - pack.previous_total
    lines = [f"{pack.title} for {pack.company_name}, {pack.on:%d %b %Y}"
             + (" (" + ", ".join(f"{k} {v}" for k, v in pack.filters.items()) + ")" if pack.filters else ""), "",
             f"Outstanding: {pack.currency} {_fmt(pack.total)} ({'+' if change >= 0 else ''}{_fmt(change)} since "
             f"{pack.previous:%d %b})",
             f"Overdue: {pack.currency} {_fmt(pack.overdue)}",
             f"Collected {pack.period_start:%d %b}-{pack.on:%d %b}: {pack.currency} {_fmt(pack.collections)}"
             + (f" against a target of {_fmt(pack.target)}" if pack.target is not None else ""),
             *([f"Collected this week ({pack.week_start:%d %b}-{pack.on:%d %b}): {pack.currency} "
                f"{_fmt(pack.collections_week)}" + (f" against a target of {_fmt(pack.target_week)}"
                                                   if pack.target_week is not None else "")]
               if pack.week_start else []),
             f"Promises due: {len(pack.promises_due)}; broken: {len(pack.broken)}; open disputes: "
             f"{sum(d[2] for d in pack.disputes)}; customers on dunning hold: {len(pack.holds)}; "
             f"on credit hold: {len(pack.credit_holds)}",
             *(["Collections against target this month: " + "; ".join(
                 f"{c.collector} {_fmt(c.collected)}" + (f" of {_fmt(c.target)} ({c.achieved_pct:.0f}%)"
                                                         if c.target else " (no target)") for c in pack.collectors)]
               if pack.collectors else []),
             *([f"Cash forecast (as of {pack.forecast_as_of:%d %b}): {pack.currency} "
                f"{_fmt(pack.forecast[-1]['cumulative_expected'])} expected in 13 weeks of {_fmt(pack.forecast_open_total)} open"]
               if pack.forecast else []),
             *pack.notes, "",
             "The full report is attached as PDF and XLSX.",
             f"Audit chain anchor (keep this e-mail; `dues audit verify --anchor` checks it): {pack.audit_anchor}"]
    return "\n".join(lines) + "\n"


def render_xlsx(pack: Pack) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from dues.core.exports import neutralise_row

    wb = Workbook()
    money = "#,##0.00"

    def sheet(ws, title, header, rows, money_cols=()):
        ws.title = title
        ws.append(header)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in rows:
            ws.append(neutralise_row(row))  # customer names and reasons are text the customer chose
            for col in money_cols:
                ws.cell(ws.max_row, col + 1).number_format = money
        for i, _ in enumerate(header):
            ws.column_dimensions[chr(65 + i)].width = 18 if i else 24

    summary = [("As of", pack.on.isoformat(), None), ("Compared with", pack.previous.isoformat(), None),
               ("Outstanding", pack.total, pack.previous_total), ("Overdue", pack.overdue, pack.previous_overdue),
               ("Unapplied credits", pack.unapplied, pack.unapplied_previous),
               ("Collections in period", pack.collections, pack.collections_previous),
               ("Collections target", pack.target if pack.target is not None else "not set", None)]
    if pack.week_start:
        summary += [("Collections this week", pack.collections_week, None),
                    ("Weekly target", pack.target_week if pack.target_week is not None else "not set", None)]
    summary += [(f"Filter: {k}", v, None) for k, v in pack.filters.items()]
    sheet(wb.active, "Summary", ["Figure", "This report", "Previous"], summary, (1, 2))
    sheet(wb.create_sheet(), "Ageing", ["Bucket", "Outstanding", "Previous", "Change"],
          [(_label(c), pack.buckets[c], pack.previous_buckets[c], pack.buckets[c] - pack.previous_buckets[c])
           for c in pack.columns], (1, 2, 3))
    sheet(wb.create_sheet(), "Top overdue", ["Customer", "Name", "Overdue", "Outstanding"], pack.top_overdue, (2, 3))
    sheet(wb.create_sheet(), "Promises due", ["Customer", "Name", "Promised for", "Amount"], pack.promises_due, (3,))
    sheet(wb.create_sheet(), "Broken promises", ["Customer", "Name", "Promised for", "Amount"], pack.broken, (3,))
    sheet(wb.create_sheet(), "Disputes", ["Department", "Reason", "Open", "Amount"], pack.disputes, (3,))
    sheet(wb.create_sheet(), "Dunning holds", ["Customer", "Name", "Reason"], pack.holds)
    sheet(wb.create_sheet(), "Credit holds", ["Customer", "Name", "Reason"], pack.credit_holds)
    sheet(wb.create_sheet(), "Collectors", ["Collector", f"Collected {pack.on:%b %Y} to date", "Month's target",
                                            "Achieved %"],
          [(c.collector, c.collected, c.target, None if c.achieved_pct is None else round(float(c.achieved_pct), 1))
           for c in pack.collectors], (1, 2))
    if pack.kind == WEEKLY:
        rows = [(w["week"], w["start"], w["end"], w["expected"], w["cumulative_low"], w["cumulative_expected"],
                 w["cumulative_high"]) for w in pack.forecast]
        if pack.forecast:
            rows.append(("after 13 weeks", "", "", pack.forecast_after, None, None, None))
        else:
            rows = [(note, "", "", None, None, None, None) for note in pack.notes[:1]]
        sheet(wb.create_sheet(), "Cash forecast", ["Week", "From", "To", "Expected", "Cumulative low",
                                                   "Cumulative expected", "Cumulative high"], rows, (3, 4, 5, 6))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _bar_chart(labels: list[str], series: list[list[float]], names: list[str], width: float, height: float):
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.charts.legends import Legend
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib import colors

    drawing = Drawing(width, height)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 45, 30, width - 160, height - 45
    chart.data = series or [[0]]
    chart.categoryAxis.categoryNames = labels
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labelTextFormat = lambda v: f"{v / 100000:,.1f}L" if v >= 100000 else f"{v:,.0f}"
    palette = [colors.HexColor("#2f5d8a"), colors.HexColor("#b0b8c4"), colors.HexColor("#c0504d")]
    for i in range(len(chart.data)):
        chart.bars[i].fillColor = palette[i % len(palette)]
        chart.bars[i].strokeColor = None
    drawing.add(chart)
    legend = Legend()
    legend.x, legend.y = width - 105, height - 20
    legend.fontSize = 7
    legend.colorNamePairs = [(palette[i % len(palette)], n) for i, n in enumerate(names)]
    drawing.add(legend)
    return drawing


def render_pdf(pack: Pack) -> bytes:
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer

    from dues.companies.selectors import company_get
    from dues.documents.pdf import Formatter, build_pdf, esc, grid, page_header, para, styles

    company = company_get()
    st, fmt = styles(), Formatter(company)
    subtitle = f"as of {fmt.day(pack.on)}" + ("".join(f" · {k} {v}" for k, v in pack.filters.items()))
    story = [page_header(company, pack.title, subtitle, st), Spacer(1, 4 * mm)]
    change = pack.total - pack.previous_total
    rows = [["", "This report", f"{fmt.day(pack.previous)}", "Change"],
            ["Outstanding", fmt.amount(pack.total), fmt.amount(pack.previous_total), fmt.amount(change)],
            ["Overdue", fmt.amount(pack.overdue), fmt.amount(pack.previous_overdue),
             fmt.amount(pack.overdue - pack.previous_overdue)],
            ["Unapplied credits", fmt.amount(pack.unapplied), fmt.amount(pack.unapplied_previous),
             fmt.amount(pack.unapplied - pack.unapplied_previous)],
            [f"Collected {fmt.day(pack.period_start)} to {fmt.day(pack.on)}", fmt.amount(pack.collections),
             fmt.amount(pack.collections_previous), fmt.amount(pack.collections - pack.collections_previous)]]
    if pack.target is not None:
        share = f"{(pack.collections / pack.target * 100):.0f}% of target" if pack.target else ""
        rows.append(["Collections target", fmt.amount(pack.target), "", share])
    if pack.week_start:
        rows.append([f"Collected this week, {fmt.day(pack.week_start)} to {fmt.day(pack.on)}",
                     fmt.amount(pack.collections_week), "",
                     f"{(pack.collections_week / pack.target_week * 100):.0f}% of {fmt.amount(pack.target_week)}"
                     if pack.target_week else ""])
    story += [para("Totals and change", st["h2"]), grid(rows, [70 * mm, 37 * mm, 37 * mm, 36 * mm], right_from=1)]
    story += [para("Ageing", st["h2"]),
              _bar_chart([_label(c) for c in pack.columns], [[float(pack.buckets[c]) for c in pack.columns],
                                        [float(pack.previous_buckets[c]) for c in pack.columns]],
                         ["this report", f"{pack.previous:%d %b}"], 180 * mm, 55 * mm),
              grid([["Bucket", "Outstanding", "Previous", "Change"]]
                   + [[_label(c), fmt.amount(pack.buckets[c]), fmt.amount(pack.previous_buckets[c]),
                       fmt.amount(pack.buckets[c] - pack.previous_buckets[c])] for c in pack.columns],
                   [70 * mm, 37 * mm, 37 * mm, 36 * mm], right_from=1)]
    if pack.target is not None:
        story += [para("Collections against target", st["h2"]),
                  _bar_chart(["collected", "target"], [[float(pack.collections), float(pack.target)]],
                             ["amount"], 180 * mm, 40 * mm)]

    def table(title, header, rows, widths, right_from, empty):
        if title:
            story.append(para(title, st["h2"]))
        if rows:
            story.append(grid([header] + rows, widths, right_from=right_from))
        else:
            story.append(para(esc(empty), st["small"]))

    table("Top overdue customers", ["Customer", "Name", "Overdue", "Outstanding"],
          [[c, n[:48], fmt.amount(o), fmt.amount(t)] for c, n, o, t in pack.top_overdue],
          [25 * mm, 85 * mm, 35 * mm, 35 * mm], 2, "Nothing overdue.")
    table("Promises due", ["Customer", "Name", "Promised for", "Amount"],
          [[c, n[:48], fmt.day(d), fmt.amount(a)] for c, n, d, a in pack.promises_due],
          [25 * mm, 85 * mm, 35 * mm, 35 * mm], 3, "No promise falls due.")
    table("Broken promises", ["Customer", "Name", "Promised for", "Amount"],
          [[c, n[:48], fmt.day(d), fmt.amount(a)] for c, n, d, a in pack.broken],
          [25 * mm, 85 * mm, 35 * mm, 35 * mm], 3, "No promise broken.")
    table("Open disputes by department and reason", ["Department", "Reason", "Open", "Amount"],
          [[o, r, str(n), fmt.amount(a)] for o, r, n, a in pack.disputes],
          [45 * mm, 65 * mm, 35 * mm, 35 * mm], 2, "No open dispute.")
    table("Customers on dunning hold", ["Customer", "Name", "Reason"],
          [[c, n[:48], r[:50]] for c, n, r in pack.holds],
          [25 * mm, 85 * mm, 70 * mm], 3, "No customer on hold.")
    table("Customers on credit hold", ["Customer", "Name", "Reason"],
          [[c, n[:48], r[:50]] for c, n, r in pack.credit_holds],
          [25 * mm, 85 * mm, 70 * mm], 3, "No customer on credit hold.")
    table(f"Collections against target per collector, {fmt.day(pack.on.replace(day=1))} to {fmt.day(pack.on)}",
          ["Collector", "Collected", "Month's target", "Achieved"],
          [[c.collector[:40], fmt.amount(c.collected), fmt.amount(c.target) if c.target is not None else "no target",
            f"{c.achieved_pct:.0f}%" if c.achieved_pct is not None else ""] for c in pack.collectors],
          [60 * mm, 40 * mm, 45 * mm, 35 * mm], 1, "No receipts and no targets this month.")
    if pack.kind == WEEKLY:
        title = "Cash forecast, next 13 weeks" + (f" (as of {fmt.day(pack.forecast_as_of)})" if pack.forecast else "")
        if pack.forecast:
            story += [para(title, st["h2"]),
                      _bar_chart([f"W{w['week']}" for w in pack.forecast],
                                 [[float(w["expected"]) for w in pack.forecast]], ["expected"], 180 * mm, 45 * mm)]
        table(title if not pack.forecast else "", ["Week", "From", "Expected", "Cumulative (low - high)"],
              [[str(w["week"]), fmt.day(date.fromisoformat(w["start"])), fmt.amount(w["expected"]),
                f"{fmt.amount(w['cumulative_expected'])} ({fmt.amount(w['cumulative_low'])} - "
                f"{fmt.amount(w['cumulative_high'])})"] for w in pack.forecast]
              + ([["after 13 weeks", "", fmt.amount(pack.forecast_after), ""]] if pack.forecast else []),
              [25 * mm, 35 * mm, 40 * mm, 80 * mm], 2, pack.notes[0] if pack.notes else "")
    story += [Spacer(1, 4 * mm), para(esc(f"Audit chain anchor: {pack.audit_anchor} (dues audit verify --anchor "
                                          "checks that the log still holds it)"), st["small"])]
    return build_pdf(story, title=f"{pack.title} {pack.on.isoformat()}", author=pack.company_name,
                     subject=pack.title, footer=f"{pack.company_name} · {pack.title} · {pack.on.isoformat()}")
