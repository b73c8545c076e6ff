"""Month-end close: the checks that say the month's books are complete, the close pack, and the lock.

Checks, each passing or failing with its figures:

1. ``ar_ledger``: the AR sub-ledger (Σ open items on the month end, residual-based: the ageing
   report's total) equals the AR control account in the GL (Σ journal lines up to the month end).
2. ``bank_lines``: every bank line booked in the month is applied, ignored with a reason, returned
   (or the reversal of a returned credit), matched to a book entry by the bank reconciliation, or a
   debit the bank reconciliation lists (charges, other debits: the AR desk books no payments).
   An unapplied credit nobody explained fails it.
3. ``unapplied_cash``: credits on account on the month end, listed per customer (always passes:
   it is a list for the collectors, not a fault).
4. ``bank_reconciliation``: the bank reconciliation of every bank account ties on the month end.
5. ``audit_chain``: the audit log's hash chain verifies.

``close_month_lock`` sets the period lock to the month end (audited, via ``company_lock_period``)
only when every check passes; otherwise it refuses and names the failing checks.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import BigIntegerField, Count, F, Q, Sum
from django.db.models.functions import Cast, Round

from dues.banking.models import BankLine
from dues.core import posting
from dues.core.errors import DuesError
from dues.ledger.models import JournalLine

from .bank import BankReconciliation, _m, bank_reconciliations


def month_bounds(month: str) -> tuple[date, date]:
    found = re.fullmatch(r"(\d{4})-(\d{1,2})", (month or "").strip())
    if not found or not 1 <= int(found.group(2)) <= 12:
        raise DuesError(f"month is YYYY-MM, e.g. 2026-10, got {month!r}")
    year, mon = int(found.group(1)), int(found.group(2))
    return date(year, mon, 1), date(year, mon, calendar.monthrange(year, mon)[1])


@dataclass
class Check:
    name: str
    title: str
    ok: bool
    figures: dict[str, str] = field(default_factory=dict)
    items: list[dict] = field(default_factory=list)
    message: str = ""

    def as_json(self) -> dict:
        return {"name": self.name, "title": self.title, "ok": self.ok, "message": self.message,
                "figures": dict(self.figures), "items": list(self.items)}


@dataclass
class MonthClose:
    month: str
    start: date
    end: date
    lock_date: date | None
    checks: list[Check]
    reconciliations: list[BankReconciliation]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def failing(self) -> list[str]:
        return [c.name for c in self.checks if not c.ok]

    def check(self, name: str) -> Check:
        return next(c for c in self.checks if c.name == name)

    def as_json(self) -> dict:
        return {"month": self.month, "start": self.start.isoformat(), "end": self.end.isoformat(),
                "lock_date": self.lock_date.isoformat() if self.lock_date else None,
                "ok": self.ok, "failing": self.failing, "checks": [c.as_json() for c in self.checks],
                "bank_reconciliations": [r.as_json() for r in self.reconciliations]}


def _ar_check(company, end: date):
    from dues.reporting.selectors import SCALE, ageing

    report = ageing(company=company, as_of=end)
    totals = report.totals
    sub = totals.total
    # summed in ten-thousandths as integers: SQLite sums decimals as floats
    scaled = {k: Sum(Cast(Round(F(k) * SCALE), BigIntegerField())) for k in ("debit", "credit")}
    gl = JournalLine.objects.filter(entry__company=company, account__company=company, account__role=posting.AR,
                                    entry__date__lte=end).aggregate(**scaled)
    control = Decimal(int(gl["debit"] or 0) - int(gl["credit"] or 0)) / SCALE
    check = Check("ar_ledger", "AR sub-ledger equals the AR control account", sub == control,
                  {"sub_ledger": _m(sub), "open_debits": _m(sub - totals.unapplied),
                   "unapplied_credits": _m(totals.unapplied), "control_account": _m(control),
                   "difference": _m(sub - control)})
    check.message = ("they agree" if check.ok else
                     f"the open items ({_m(sub)}) differ from the AR control account ({_m(control)}) "
                     f"by {_m(sub - control)}")
    unapplied = [{"customer": r.key, "name": r.name, "amount": _m(-r.unapplied)}
                 for r in report.rows if r.unapplied]
    cash = Check("unapplied_cash", "Unapplied cash (credits on account) listed", True,
                 {"customers": str(len(unapplied)), "total": _m(-totals.unapplied)}, unapplied)
    cash.message = (f"{len(unapplied)} customer(s) hold {_m(-totals.unapplied)} on account: apply it to invoices"
                    if unapplied else "no credits on account")
    return check, cash


def _bank_lines_check(company, start: date, end: date, recs: list[BankReconciliation]) -> Check:
    matched = {m.bank.line_id for r in recs for m in r.matched}
    listed = {b.line_id: b.kind for r in recs for b in r.bank_only}
    month = BankLine.objects.filter(company=company, booking_date__gte=start, booking_date__lte=end)
    counts = dict(month.order_by().values("status").annotate(n=Count("pk")).values_list("status", "n"))
    suspect = (month.filter(Q(direction=BankLine.CREDIT, status__in=[BankLine.UNAPPLIED, BankLine.PARTLY])
                            | Q(status=BankLine.IGNORED, note="")
                            | Q(direction=BankLine.DEBIT, status__in=[BankLine.UNAPPLIED, BankLine.PARTLY]))
               .select_related("bank_account").order_by("booking_date", "pk"))
    failing, explained_debits = [], 0
    for line in suspect:
        if line.pk in matched:
            continue
        if line.direction == BankLine.DEBIT and line.pk in listed:
            explained_debits += 1
            continue
        why = ("ignored without a reason" if line.status == BankLine.IGNORED else
               "credit not applied to a customer nor matched to a receipt")
        failing.append({"line": line.pk, "account": line.bank_account.code, "date": line.booking_date.isoformat(),
                        "reference": line.reference, "amount": _m(line.amount), "narration": line.narration,
                        "why": why})
    total = sum(counts.values())
    check = Check("bank_lines", "Every bank line of the month applied or explained", not failing,
                  {"lines": str(total), **{s: str(n) for s, n in sorted(counts.items())},
                   "debits_on_reconciliation": str(explained_debits), "unexplained": str(len(failing))}, failing)
    check.message = (f"all {total} line(s) applied or explained" if not failing else
                     f"{len(failing)} bank line(s) not applied or explained: apply them (dues cash-apply) "
                     "or ignore them with a reason")
    return check


def close_month(*, company, month: str) -> MonthClose:
    """Run the month-end checks for ``month`` (YYYY-MM); nothing is written."""
    from dues.audit.services import audit_verify

    start, end = month_bounds(month)
    recs = bank_reconciliations(company=company, as_of=end)
    ar, cash = _ar_check(company, end)
    lines = _bank_lines_check(company, start, end, recs)
    bad = [r for r in recs if not r.ties]
    rec_check = Check("bank_reconciliation", "Bank reconciliation ties for every bank account", not bad,
                      {"accounts": str(len(recs)), "not_tying": str(len(bad))},
                      [{"account": r.account.code, "book_balance": _m(r.book_balance), "bank_balance": _m(r.bank_balance),
                        "brought_forward": _m(r.brought_forward), "before_statements": _m(r.before_statements),
                        "not_cleared": _m(r.not_cleared), "not_booked": _m(r.not_booked),
                        "match_differences": _m(r.match_differences), "unexplained": _m(r.unexplained),
                        "ties": r.ties,
                        "uncleared": [f"{b.date:%d-%m-%Y} {b.number} {_m(b.amount)}" for b in r.in_transit],
                        "not_in_bank": [f"{b.date:%d-%m-%Y} {b.number} {_m(b.amount)}" for b in r.not_in_bank]}
                       for r in recs])

    def why(r) -> str:
        text = f"{r.account.code} by {_m(r.unexplained)}"
        if r.not_in_bank:
            text += (f" ({len(r.not_in_bank)} book item(s) the bank never booked, e.g. "
                     f"{r.not_in_bank[0].number} of {r.not_in_bank[0].date:%d-%m-%Y})")
        return text

    rec_check.message = ("no bank account yet" if not recs else
                         "every account ties: " + "; ".join(
                             f"{r.account.code}: book {_m(r.book_balance)}, bank {_m(r.bank_balance)}, "
                             f"{len(r.matched)} cleared, {len(r.in_transit)} not yet cleared" for r in recs)
                         if not bad else "does not tie: " + ", ".join(why(r) for r in bad))
    verified = audit_verify()
    audit = Check("audit_chain", "The audit chain verifies", verified.ok,
                  {"records": str(verified.records), "head_seq": str(verified.head_seq),
                   # the anchor to keep outside the database: `dues audit verify --anchor SEQ:HASH` checks it later
                   "anchor": f"{verified.head_seq}:{verified.head_hash}"})
    audit.message = ("intact" if verified.ok else
                     f"broken at record {verified.problem.seq}: {verified.problem.reason}")
    return MonthClose(f"{start:%Y-%m}", start, end, company.lock_date, [ar, lines, cash, rec_check, audit], recs)


def close_month_lock(*, company, result: MonthClose, actor=None):
    """Lock the period through the month end when every check passed; else refuse, naming the failures."""
    from dues.companies.services import company_lock_period

    if not result.ok:
        raise DuesError(f"not locking {result.month}: check(s) failed: " + ", ".join(
            f"{c.name} ({c.message})" for c in result.checks if not c.ok))
    from django.db import transaction

    from dues.companies.models import Company

    with transaction.atomic():  # the lock date as it is now: another close may have moved it since ``company`` was read
        current = Company.objects.select_for_update().get(pk=company.pk)
        if current.lock_date and current.lock_date >= result.end:
            return current, False  # never moved back: a close of an earlier month does not reopen a later one
        return company_lock_period(company=current, lock_date=result.end, actor=actor), True


# --- the close pack -------------------------------------------------------------------------------

def _money(text: str) -> Decimal:
    return Decimal(text)


def write_xlsx(result: MonthClose, target, *, company_name: str = "") -> None:
    """The close pack as a workbook: Checks, Unapplied cash, Bank lines to explain, one sheet per bank account."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from dues.reporting.exports import number_format, safe_cell

    wb = Workbook()
    bold, fmt = Font(bold=True), number_format()

    def sheet(title: str, header: list[str], rows: list[list], money_cols: tuple[int, ...] = ()):
        ws = wb.create_sheet(title[:31])
        ws.append(header)
        for cell in ws[1]:
            cell.font = bold
        for row in rows:
            ws.append([v if isinstance(v, Decimal | int | date) else safe_cell(v) for v in row])
        for col in money_cols:
            for (cell,) in ws.iter_rows(min_row=2, min_col=col + 1, max_col=col + 1):
                cell.number_format = fmt
        ws.freeze_panes = "A2"
        for i, _ in enumerate(header):
            ws.column_dimensions[chr(65 + i)].width = 22 if i else 28
        return ws

    wb.remove(wb.active)
    rows = [[f"Month-end close {result.month}", "PASS" if result.ok else "FAIL",
             "failing: " + ", ".join(result.failing) if result.failing else "every check passes",
             f"{company_name}, {result.start:%d-%m-%Y} to {result.end:%d-%m-%Y}"]]
    for c in result.checks:
        rows.append([c.title, "pass" if c.ok else "FAIL", c.message,
                     "; ".join(f"{k} {v}" for k, v in c.figures.items())])
    sheet("Checks", ["Check", "Result", "Message", "Figures"], rows)
    cash = result.check("unapplied_cash")
    sheet("Unapplied cash", ["Customer", "Name", "On account"],
          [[i["customer"], i["name"], _money(i["amount"])] for i in cash.items], (2,))
    lines = result.check("bank_lines")
    sheet("Bank lines to explain", ["Account", "Date", "Reference", "Amount", "Narration", "Why"],
          [[i["account"], date.fromisoformat(i["date"]), i["reference"], _money(i["amount"]), i["narration"], i["why"]]
           for i in lines.items], (3,))
    for r in result.reconciliations:
        rows = [[label, amount] for label, amount in r.statement_lines()]
        rows.append(["", None])
        rows.append(["In the book, not in the bank", None])
        rows += [[f"{b.date:%d-%m-%Y} {b.number} {b.reference} ({b.status.replace('_', ' ')})", b.amount]
                 for b in r.book_only]
        rows.append(["In the bank, not in the book", None])
        rows += [[f"{b.date:%d-%m-%Y} {b.kind} {b.reference} {b.narration}"[:120], b.amount] for b in r.bank_only]
        sheet(f"Bank {r.account.code}", [f"{r.account.code} as of {r.as_of:%d-%m-%Y}", "Amount"], rows, (1,))
    wb.save(target)


def write_pdf(result: MonthClose, target, *, company_name: str = "") -> None:
    """The close pack as a PDF: the checks with their figures, the lists, each bank reconciliation statement."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from dues.formats import money_text

    st = getSampleStyleSheet()
    small = st["BodyText"].clone("small", fontSize=8, leading=10)

    def esc(text) -> str:
        return str(text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def grid(rows, widths, right=()):
        t = Table(rows, colWidths=widths, repeatRows=1)
        style = [("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"), ("FONTSIZE", (0, 0), (-1, -1), 8),
                 ("VALIGN", (0, 0), (-1, -1), "TOP"), ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black)]
        style += [("ALIGN", (c, 0), (c, -1), "RIGHT") for c in right]
        t.setStyle(TableStyle(style))
        return t

    doc = SimpleDocTemplate(str(target), pagesize=A4, leftMargin=14 * mm, rightMargin=14 * mm, topMargin=14 * mm,
                            bottomMargin=14 * mm, title=f"Month-end close {result.month}", author=company_name)
    story = [Paragraph(esc(f"Month-end close {result.month}: {company_name}"), st["Title"]),
             Paragraph(esc(f"{result.start:%d-%m-%Y} to {result.end:%d-%m-%Y} · "
                           + ("all checks pass" if result.ok else "failing: " + ", ".join(result.failing))),
                       st["Normal"]), Spacer(1, 4 * mm)]
    rows = [["Check", "Result", "Figures"]]
    for c in result.checks:
        figures = "<br/>".join(esc(f"{k.replace('_', ' ')}: {money_text(Decimal(v)) if '.' in v else v}")
                               for k, v in c.figures.items())
        rows.append([Paragraph(esc(c.title) + "<br/><i>" + esc(c.message) + "</i>", small),
                     "pass" if c.ok else "FAIL", Paragraph(figures, small)])
    story += [grid(rows, [95 * mm, 15 * mm, 70 * mm]), Spacer(1, 6 * mm)]
    cash = result.check("unapplied_cash")
    if cash.items:
        story.append(Paragraph("Unapplied cash (credits on account)", st["Heading3"]))
        story.append(grid([["Customer", "Name", "On account"]] +
                          [[i["customer"], Paragraph(esc(i["name"]), small), money_text(_money(i["amount"]))]
                           for i in cash.items], [30 * mm, 110 * mm, 40 * mm], right=(2,)))
    lines = result.check("bank_lines")
    if lines.items:
        story.append(Paragraph("Bank lines to apply or explain", st["Heading3"]))
        story.append(grid([["Account", "Date", "Reference", "Amount", "Narration"]] +
                          [[i["account"], i["date"], i["reference"][:24], money_text(_money(i["amount"])),
                            Paragraph(esc(i["narration"]), small)] for i in lines.items],
                          [22 * mm, 22 * mm, 38 * mm, 30 * mm, 68 * mm], right=(3,)))
    for r in result.reconciliations:
        story.append(Paragraph(esc(f"Bank reconciliation {r.account.code} {r.account.name} as of {r.as_of:%d-%m-%Y}"),
                               st["Heading3"]))
        story.append(grid([["", "Amount"]] + [[label, money_text(v)] for label, v in r.statement_lines()],
                          [130 * mm, 50 * mm], right=(1,)))
        extra = [["Date", "Item", "Amount"]]
        extra += [[f"{b.date:%d-%m-%Y}", Paragraph(esc(f"{b.status.replace('_', ' ')}: {b.number} {b.reference}"),
                                                   small),
                   money_text(b.amount)] for b in r.book_only]
        extra += [[f"{b.date:%d-%m-%Y}", Paragraph(esc(f"{b.kind.replace('_', ' ')}: {b.reference} {b.narration}"),
                                                   small), money_text(b.amount)] for b in r.bank_only]
        if len(extra) > 1:
            story += [Spacer(1, 2 * mm), grid(extra, [25 * mm, 115 * mm, 40 * mm], right=(2,))]
    doc.build(story)
