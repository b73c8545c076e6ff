"""Dunning letters as PDF: a reminder, an escalation or a final notice with the overdue items and the
UPI payment block.

    render_letter(company, customer, "reminder" | "escalation" | "final_notice", on) -> bytes
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Spacer

from dues.core.errors import DuesError
from dues.core.money import ZERO

from .pdf import ITEM_WIDTHS, Formatter, build_pdf, customer_lines, esc, grid, page_header, para, payment_block, styles

LETTER_KINDS = ("reminder", "escalation", "final_notice")


# ---------------------------------------------------------------------------------------------
# letters

LETTER_TITLES = {"reminder": "Payment reminder", "escalation": "Overdue account: escalation",
                 "final_notice": "Final notice before legal action"}


def _letter_text(kind: str, company_name: str, total: str, pay_by: str) -> tuple[str, list[str]]:
    if kind == "reminder":
        return "Dear Sir / Madam,", [
            "We hope this finds you well. According to our books the invoices below are now past their due date. "
            "It may simply have been overlooked; if you have already paid, please accept our thanks and ignore "
            "this letter.",
            f"We would be grateful if the overdue amount of <b>{total}</b> could be paid by <b>{pay_by}</b>. "
            "If anything in the list is not in order, please tell us so we can put it right.",
        ]
    if kind == "escalation":
        return "Dear Sir / Madam,", [
            "Despite our earlier reminders the invoices below remain unpaid well past their due dates, and your "
            "account has now been referred to our accounts receivable manager.",
            f"We ask you to pay the overdue amount of <b>{total}</b> by <b>{pay_by}</b>, or to contact us before "
            "then with a firm payment date. Until the account is brought up to date, further credit may be "
            "withheld.",
        ]
    if kind == "final_notice":
        return "Dear Sir / Madam,", [
            "This is our final notice. The invoices below remain unpaid despite our reminders and escalation, and "
            "we have received neither payment nor a reason for the delay.",
            f"Unless the overdue amount of <b>{total}</b> reaches us by <b>{pay_by}</b>, {esc(company_name)} will "
            "proceed to recover it without further notice, including legal proceedings and, where applicable, "
            "a reference under the MSMED Act, 2006, with interest and costs at your charge.",
        ]
    raise DuesError(f"no letter of kind {kind!r} (one of {', '.join(LETTER_KINDS)})")


LETTER_DAYS_TO_PAY = {"reminder": 7, "escalation": 7, "final_notice": 7}


def render_letter(company, customer, kind: str, on: date, items: list | None = None, *, pay_by: date | None = None,
                  signatory: str = "", cc: str = "", interest: Decimal | None = None, interest_note: str = "") -> bytes:
    """A reminder, escalation or final-notice letter dated ``on``, listing ``items`` as a PDF.

    ``items`` are ``OutstandingItem``s (default: the customer's overdue debits on ``on``).
    ``interest``: overdue interest accrued to ``on`` (``collections.services.interest.interest_compute``), shown
    under the items with ``interest_note`` (the terms); not part of the total unless posted.
    """
    from datetime import timedelta

    from dues.reporting.selectors import outstanding

    if kind not in LETTER_KINDS:
        raise DuesError(f"no letter of kind {kind!r} (one of {', '.join(LETTER_KINDS)})")
    if items is None:
        items = [i for i in outstanding(company=company, customer=customer, as_of=on)
                 if i.side == "D" and i.days_overdue > 0]
    fmt, st = Formatter(company), styles()
    total = sum((i.residual for i in items), ZERO)
    pay_by = pay_by or on + timedelta(days=LETTER_DAYS_TO_PAY[kind])
    title = LETTER_TITLES[kind]
    story: list = [page_header(company, title, f"Date {fmt.day(on)}", st), Spacer(1, 6 * mm),
                   para("To<br/>" + "<br/>".join(customer_lines(customer)), st["base"]), Spacer(1, 3 * mm)]
    if cc:
        story.append(para(f"Copy to: {esc(cc)}", st["small"]))
    story.append(para(f"<b>Subject: {esc(title)}: {esc(fmt.money(total))} overdue on account {esc(customer.code)}</b>",
                    st["body"]))
    greeting, paragraphs = _letter_text(kind, company.name, esc(fmt.money(total)), esc(fmt.day(pay_by)))
    story.append(para(greeting, st["body"]))
    story += [para(text, st["body"]) for text in paragraphs]

    rows: list[list] = [["Invoice", "Date", "Due date", "Amount", "Outstanding", "Days overdue"]]
    for item in items:
        rows.append([f"{item.kind.replace('_', ' ').capitalize()} {item.number}", fmt.day(item.date),
                     fmt.day(item.due_date), fmt.amount(item.amount), fmt.amount(item.residual),
                     str(item.days_overdue)])
    rows.append(["Total overdue", "", "", "", fmt.money(total), ""])
    story += [Spacer(1, 2 * mm), grid(rows, ITEM_WIDTHS, right_from=3,
                                       total_rows=1)]
    if interest:
        story.append(para(f"Interest on the overdue amount up to {esc(fmt.day(on))}: <b>{esc(fmt.money(interest))}</b>"
                        f"{' (' + esc(interest_note) + ')' if interest_note else ''}. It is charged separately and "
                        "keeps accruing until the invoices are paid.", st["body"]))
    story += payment_block(company, customer, total, f"{customer.code} {kind.replace('_', ' ')}", fmt, st)
    story.append(KeepTogether([
        para("If you have any question about this account, please reply to this letter or call our accounts team.",
           st["body"]),
        Spacer(1, 4 * mm), para("Yours faithfully,", st["body"]),
        para(f"for <b>{esc(company.name)}</b>", st["body"]), Spacer(1, 12 * mm),
        para(f"{esc(signatory) or 'Authorised signatory'}<br/>Accounts receivable", st["body"]),
    ]))
    return build_pdf(story, title=f"{title} {customer.code} {on.isoformat()}", author=company.name,
                  subject=f"{title} to {customer.name}",
                  footer=f"{company.name} · {title.lower()} · {customer.code} {customer.name} · {fmt.day(on)}",
                  running=f"{title} · {customer.code} {customer.name}")

