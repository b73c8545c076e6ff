"""Balance confirmation: the letter (PDF) and the tracker (reads).

The letter lists the customer's open items on the as-of date (``reporting.selectors.outstanding``)
and our balance, and ends with a reply slip: "we confirm" / "we disagree, our balance is ___".
It reuses the statement/letter furniture of ``dues.documents.pdf`` (DejaVu Sans for the ₹ sign).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, Q, Sum

from dues.core.money import ZERO

from .models import ConfirmationRequest


def open_items(company, customer, as_of: date) -> list:
    from dues.reporting.selectors import outstanding

    return outstanding(company=company, customer=customer, as_of=as_of)


def balance_of(items) -> Decimal:
    return sum((i.residual if i.side == "D" else -i.residual for i in items), ZERO)


def render_confirmation(company, customer, as_of: date, items: list, balance: Decimal, *, on: date,
                        reference: str = "", signatory: str = "") -> bytes:
    """The balance-confirmation letter as a PDF."""
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, Spacer, Table, TableStyle

    from dues.documents import pdf

    fmt, st = pdf.Formatter(company), pdf.styles()
    title = "Balance confirmation"
    sub = f"Date {fmt.day(on)}" + (f" · ref {reference}" if reference else "")
    story: list = [pdf.page_header(company, title, sub, st), Spacer(1, 6 * mm),
                   pdf.para("To<br/>" + "<br/>".join(pdf.customer_lines(customer)), st["base"]), Spacer(1, 3 * mm)]
    side = "due to us" if balance >= 0 else "in your favour (an advance)"
    story += [
        pdf.para(f"<b>Subject: confirmation of your account balance as of {pdf.esc(fmt.day(as_of))}</b>", st["body"]),
        pdf.para("Dear Sir / Madam,", st["body"]),
        pdf.para(f"For our audit and to keep our books in agreement, please confirm the balance of your account "
               f"{pdf.esc(customer.code)} in our books as of <b>{pdf.esc(fmt.day(as_of))}</b>: "
               f"<b>{pdf.esc(fmt.money(abs(balance)))}</b> {side}. It is made of the open items below.", st["body"]),
        pdf.para("If your books show another figure, please tick “we disagree”, write your balance and send us your "
               "ledger of our account for the period (Excel, CSV or a Tally export): we will reconcile it entry by "
               "entry and come back to you.", st["body"]),
    ]
    rows: list[list] = [["Document", "Date", "Due date", "Amount", "Outstanding", "Dr / Cr"]]
    for item in items:
        rows.append([f"{item.kind.replace('_', ' ').capitalize()} {item.number}", fmt.day(item.date),
                     fmt.day(item.due_date) if item.due_date else "", fmt.amount(item.amount),
                     fmt.amount(item.residual), "Dr" if item.side == "D" else "Cr"])
    rows.append(["Balance", "", "", "", fmt.money(abs(balance)), "Dr" if balance >= 0 else "Cr"])
    story += [Spacer(1, 2 * mm), pdf.grid(rows, pdf.ITEM_WIDTHS, right_from=3, total_rows=1)]
    if not items:
        story.append(pdf.para("No open items: the account is settled on this date.", st["small"]))
    story.append(KeepTogether([
        Spacer(1, 4 * mm), pdf.para("Yours faithfully,", st["body"]),
        pdf.para(f"for <b>{pdf.esc(company.name)}</b>", st["body"]), Spacer(1, 10 * mm),
        pdf.para(f"{pdf.esc(signatory) or 'Authorised signatory'}<br/>Accounts receivable", st["body"]),
    ]))
    slip = [
        [pdf.para(f"<b>Reply slip</b> · {pdf.esc(customer.code)} {pdf.esc(customer.name)} · balance as of "
                f"{pdf.esc(fmt.day(as_of))}" + (f" · ref {pdf.esc(reference)}" if reference else ""), st["base"])],
        [pdf.para(f"☐ We confirm the balance of <b>{pdf.esc(fmt.money(abs(balance)))}</b> "
                f"{'payable by us' if balance >= 0 else 'receivable by us'}.", st["body"])],
        [pdf.para("☐ We disagree: our books show a balance of ₹ ____________________ (Dr / Cr); "
                "our ledger of your account is attached.", st["body"])],
        [pdf.para("Signature and seal ______________________   Name ______________________   Date ___________",
                st["body"])],
    ]
    table = Table(slip, colWidths=[180 * mm])
    table.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 0.8, pdf.INK), ("BACKGROUND", (0, 0), (-1, 0), pdf.SHADE),
                               ("TOPPADDING", (0, 0), (-1, -1), 4), ("BOTTOMPADDING", (0, 0), (-1, -1), 4)]))
    story += [Spacer(1, 6 * mm), pdf.para("✂ - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - -",
                                         st["small"]), KeepTogether([table])]
    return pdf.build_pdf(story, title=f"{title} {customer.code} {as_of.isoformat()}", author=company.name,
                      subject=f"{title} to {customer.name}",
                      footer=f"{company.name} · balance confirmation · {customer.code} {customer.name} · "
                             f"as of {fmt.day(as_of)}",
                      running=f"{title} · {customer.code} {customer.name}")


# ---------------------------------------------------------------------------------------------
# the tracker


@dataclass
class TrackerCounts:
    requested: int
    confirmed: int
    disagreed: int
    no_reply: int

    @property
    def total(self) -> int:
        return self.requested + self.confirmed + self.disagreed + self.no_reply


def confirmations(company, *, status: str | None = None, customer=None, customers=None):
    """The confirmation requests, newest first (a queryset: paginate it)."""
    qs = ConfirmationRequest.objects.filter(company=company).select_related("customer").defer("reply_file")
    if status:
        qs = qs.filter(status=status)
    if customer is not None:
        qs = qs.filter(customer=customer)
    if customers is not None:
        qs = qs.filter(customer__in=customers)
    return qs.order_by("-requested_at", "-id")


def tracker_counts(company, customers=None) -> TrackerCounts:
    qs = ConfirmationRequest.objects.filter(company=company)
    if customers is not None:
        qs = qs.filter(customer__in=customers)
    c = qs.aggregate(**{s: Count("id", filter=Q(status=s)) for s, _ in ConfirmationRequest.STATUSES})
    return TrackerCounts(c["requested"], c["confirmed"], c["disagreed"], c["no_reply"])


def disagreed_total(company) -> Decimal:
    """Σ (their balance − ours) over the disagreed replies."""
    from django.db.models import F

    s = ConfirmationRequest.objects.filter(company=company, status=ConfirmationRequest.DISAGREED).aggregate(
        d=Sum(F("their_balance") - F("our_balance")))["d"]
    return s or ZERO


def tracker_json(company, qs) -> list[dict]:
    cur = company.currency

    def money(v):
        from dues.core.money import quantize

        return None if v is None else str(quantize(v, cur))

    return [{"id": r.pk, "customer": r.customer.code, "name": r.customer.name, "as_of": r.as_of.isoformat(),
             "our_balance": money(r.our_balance), "status": r.status, "their_balance": money(r.their_balance),
             "difference": money(r.difference), "channel": r.channel, "sent_to": r.sent_to,
             "requested_at": r.requested_at.isoformat(), "replied_at": r.replied_at.isoformat() if r.replied_at else None,
             "reminders": r.reminders,
             "unexplained": (r.reconciliation or {}).get("unexplained")} for r in qs]
