"""Statement of account as PDF: the figures from the set-based reporting selectors (``statement_of_account``,
``ageing``, ``outstanding``; nothing here walks the ledger) laid out on the shared furniture.

    render_statement(company, customer, date_from, date_to) -> bytes
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, Spacer, Table, TableStyle

from dues.core.errors import DuesError
from dues.core.money import ZERO

from .pdf import (
    FONT,
    FONT_BOLD,
    INK,
    ITEM_WIDTHS,
    Formatter,
    build_pdf,
    customer_lines,
    esc,
    grid,
    page_header,
    para,
    payment_block,
    styles,
)

# ---------------------------------------------------------------------------------------------
# the figures


@dataclass
class StatementData:
    company: object
    customer: object
    date_from: date
    date_to: date
    statement: object  # dues.reporting.selectors.Statement
    ageing_columns: list[str]
    ageing_buckets: dict[str, Decimal]
    unapplied: Decimal  # unapplied credits, negative
    items: list  # OutstandingItem on date_to
    total_due: Decimal  # ageing total on date_to (= the statement's closing balance)


def statement_data(company, customer, date_from: date, date_to: date) -> StatementData:
    """Everything a statement shows, in three set-based queries."""
    from dues.reporting.selectors import ageing, outstanding, statement_of_account

    if date_from > date_to:
        raise DuesError(f"the statement period starts ({date_from.isoformat()}) after it ends ({date_to.isoformat()})")
    statement = statement_of_account(company=company, customer=customer, start=date_from, end=date_to)
    report = ageing(company=company, as_of=date_to, customer=customer)
    row = report.rows[0] if report.rows else None
    buckets = {c: (row.buckets[c] if row else ZERO) for c in report.columns}
    unapplied = row.unapplied if row else ZERO
    items = outstanding(company=company, customer=customer, as_of=date_to)
    total = sum(buckets.values(), ZERO) + unapplied
    return StatementData(company, customer, date_from, date_to, statement, list(report.columns), buckets, unapplied,
                         items, total)



def _particulars(text: str, st) -> str | Paragraph:
    return para(esc(text), st["cell"]) if len(text) > 40 else text



# ---------------------------------------------------------------------------------------------
# statement of account


def render_statement(company, customer, date_from: date, date_to: date, *, data: StatementData | None = None) -> bytes:
    """The customer's statement of account for [date_from, date_to] as a PDF."""
    data = data or statement_data(company, customer, date_from, date_to)
    fmt, st = Formatter(company), styles()
    s = data.statement
    period = f"{fmt.day(date_from)} to {fmt.day(date_to)}"
    story: list = [page_header(company, "Statement of account", f"Period {period}", st), Spacer(1, 5 * mm)]

    summary = [["Opening balance", fmt.money(s.opening)], ["Debits (invoices, debit notes)", fmt.money(s.debits)],
               ["Credits (receipts, credit notes)", fmt.money(s.credits)], ["Closing balance", fmt.money(s.closing)]]
    summary_table = Table(summary, colWidths=[50 * mm, 35 * mm])
    summary_table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), FONT), ("FONTSIZE", (0, 0), (-1, -1), 8.5), ("ALIGN", (1, 0), (1, -1), "RIGHT"),
        ("FONTNAME", (0, -1), (-1, -1), FONT_BOLD), ("LINEABOVE", (0, -1), (-1, -1), 0.6, INK),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5)]))
    block = Table([[[para("<br/>".join(customer_lines(customer)), st["base"])], summary_table]],
                  colWidths=[92 * mm, 88 * mm])
    block.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (0, -1), 0),
                               ("ALIGN", (1, 0), (1, 0), "RIGHT"), ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    story += [block, Spacer(1, 4 * mm), para("Transactions", st["h2"])]

    rows: list[list] = [["Date", "Particulars", "Debit", "Credit", "Balance"],
                        [fmt.day(date_from), "Opening balance", "", "", fmt.amount(s.opening)]]
    for line in s.lines:
        rows.append([fmt.day(line.date), _particulars(line.description, st),
                     fmt.amount(line.debit) if line.debit else "", fmt.amount(line.credit) if line.credit else "",
                     fmt.amount(line.balance)])
    rows.append([fmt.day(date_to), "Closing balance", fmt.amount(s.debits), fmt.amount(s.credits),
                 fmt.amount(s.closing)])
    story.append(grid(rows, [20 * mm, 73 * mm, 29 * mm, 29 * mm, 29 * mm], right_from=2, total_rows=1))
    if not s.lines:
        story.append(para("No transactions in this period.", st["small"]))

    # ageing summary
    labels = [*(c.replace("_", " ").capitalize() if c == "not_due" else f"{c} days" for c in data.ageing_columns)]
    ageing_rows = [[*labels, "Unapplied", "Total due"],
                   [*(fmt.amount(data.ageing_buckets[c]) for c in data.ageing_columns), fmt.amount(data.unapplied),
                    fmt.amount(data.total_due)]]
    width = 180 * mm / len(ageing_rows[0])
    story.append(KeepTogether([para(f"Ageing on {fmt.day(date_to)} (days past due)", st["h2"]),
                               grid(ageing_rows, [width] * len(ageing_rows[0]), right_from=0, repeat=False)]))

    # open items
    item_rows: list[list] = [["Document", "Date", "Due date", "Amount", "Outstanding", "Days overdue"]]
    for item in data.items:
        sign = 1 if item.side == "D" else -1
        item_rows.append([f"{item.kind.replace('_', ' ').capitalize()} {item.number}", fmt.day(item.date),
                          fmt.day(item.due_date) if item.side == "D" else "", fmt.amount(sign * item.amount),
                          fmt.amount(sign * item.residual), str(item.days_overdue) if item.days_overdue else ""])
    item_rows.append(["Total due", "", "", "", fmt.money(data.total_due), ""])
    story.append(para(f"Open items on {fmt.day(date_to)}", st["h2"]))
    story.append(grid(item_rows, ITEM_WIDTHS, right_from=3,
                       total_rows=1))

    story += payment_block(company, customer, data.total_due, f"{customer.code} statement", fmt, st)
    return build_pdf(story, title=f"Statement of account {customer.code} {period}", author=company.name,
                  subject=f"Statement of account of {customer.name}",
                  footer=f"{company.name} · statement of account of {customer.code} {customer.name} · {period}",
                  running=f"Statement of account · {customer.code} {customer.name} · {period}")


