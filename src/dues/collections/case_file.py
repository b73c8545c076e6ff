"""The case history of a customer as one PDF: what goes up to the AR manager or to legal.

Open items and ageing, escalations, promises to pay, disputes, the messages and letters of the
dunning run, and every activity, newest first; built with the same ReportLab pieces (DejaVu Sans,
₹ and Indian digits) as the statements and letters of ``pdf.py``.
"""

from __future__ import annotations

from datetime import date

from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Spacer

from dues import clock
from dues.core.money import ZERO
from dues.documents.pdf import ITEM_WIDTHS, Formatter, build_pdf, customer_lines, esc, grid, page_header, para, styles

MAX_ROWS = 500  # per section: a case history is read by a person


def _cell(text: str, st, limit: int = 40):
    text = str(text or "")
    return para(esc(text), st["cell"]) if len(text) > limit else text


def _summary(activity) -> str:
    """An activity's subject, with its notes when they add something (a message's body does not)."""
    notes = "" if activity.kind in ("email", "sms", "whatsapp") else activity.notes.strip()
    if notes and notes in activity.subject:
        notes = ""
    return " — ".join(x for x in (activity.subject, notes) if x)


def render_case_history(company, customer, on: date | None = None) -> bytes:
    """The customer's case history on ``on`` (default today) as a PDF."""
    from django.utils import timezone

    from dues.reporting.selectors import ageing, outstanding

    from .models import Activity, Dispute, DunningAction, Escalation, PromiseToPay

    on = on or clock.today()
    fmt, st = Formatter(company), styles()
    story: list = [page_header(company, "Case history", f"Date {fmt.day(on)}", st), Spacer(1, 5 * mm),
                   para("<br/>".join(customer_lines(customer)), st["base"]), Spacer(1, 3 * mm)]

    # ageing and open items
    report = ageing(company=company, as_of=on, customer=customer)
    row = report.rows[0] if report.rows else None
    buckets = {c: (row.buckets[c] if row else ZERO) for c in report.columns}
    unapplied = row.unapplied if row else ZERO
    total = sum(buckets.values(), ZERO) + unapplied
    labels = [c.replace("_", " ").capitalize() if c == "not_due" else f"{c} days" for c in report.columns]
    ageing_rows = [[*labels, "Unapplied", "Total due"],
                   [*(fmt.amount(buckets[c]) for c in report.columns), fmt.amount(unapplied), fmt.amount(total)]]
    width = 180 * mm / len(ageing_rows[0])
    story.append(KeepTogether([para(f"Ageing on {fmt.day(on)} (days past due)", st["h2"]),
                               grid(ageing_rows, [width] * len(ageing_rows[0]), right_from=0, repeat=False)]))
    items = outstanding(company=company, customer=customer, as_of=on)
    item_rows: list[list] = [["Document", "Date", "Due date", "Amount", "Outstanding", "Days overdue"]]
    for item in items:
        sign = 1 if item.side == "D" else -1
        item_rows.append([f"{item.kind.replace('_', ' ').capitalize()} {item.number}", fmt.day(item.date),
                          fmt.day(item.due_date) if item.side == "D" else "", fmt.amount(sign * item.amount),
                          fmt.amount(sign * item.residual), str(item.days_overdue) if item.days_overdue else ""])
    item_rows.append(["Total due", "", "", "", fmt.money(total), ""])
    story += [para(f"Open items on {fmt.day(on)}", st["h2"]), grid(item_rows, ITEM_WIDTHS, right_from=3, total_rows=1)]

    def section(title: str, header: list[str], rows: list[list], widths: list[float], right_from: int,
                empty: str) -> None:
        story.append(para(title, st["h2"]))
        if rows:
            story.append(grid([header, *rows], [w * mm for w in widths], right_from=right_from))
        else:
            story.append(para(empty, st["small"]))

    escalations = Escalation.objects.filter(company=company, customer=customer).order_by("-on", "-id")[:MAX_ROWS]
    section("Escalations", ["Date", "To", "Reason", "Overdue then", "Status", "By"],
            [[fmt.day(e.on), e.get_to_display(), _cell(e.reason, st, 30), fmt.amount(e.overdue), e.status,
              _cell(e.created_by, st, 18)] for e in escalations],
            [20, 22, 70, 28, 16, 24], 3, "Not escalated before.")

    promises = PromiseToPay.objects.filter(company=company, customer=customer).prefetch_related("invoices") \
        .order_by("-taken_on", "-id")[:MAX_ROWS]
    section("Promises to pay", ["Taken", "Promised by", "Invoices", "Amount", "Received", "Status"],
            [[fmt.day(p.taken_on), fmt.day(p.promised_date),
              _cell(", ".join(d.number for d in p.invoices.all()) or "on account", st, 28), fmt.amount(p.amount),
              fmt.amount(p.received), p.get_status_display()] for p in promises],
            [22, 24, 52, 30, 30, 22], 3, "No promises to pay.")

    disputes = Dispute.objects.filter(company=company, customer=customer).select_related("document", "credit_note") \
        .order_by("-opened_on", "-id")[:MAX_ROWS]
    section("Disputes", ["Opened", "Invoice", "Reason", "Owner", "Amount", "Status"],
            [[fmt.day(d.opened_on), d.document.number, d.get_reason_display(), d.owner, fmt.amount(d.amount),
              d.get_status_display() + (f" ({d.credit_note.number})" if d.credit_note_id else "")]
             for d in disputes],
            [22, 30, 28, 20, 30, 50], 4, "No disputes.")

    actions = DunningAction.objects.filter(company=company, customer=customer).order_by("-date", "-id")[:MAX_ROWS]
    section("Reminders, statements and letters", ["Date", "Step", "Channel", "Items", "Amount", "Status"],
            [[fmt.day(a.date), a.step_key, a.channel.replace("_", " "), _cell(", ".join(a.items), st, 30),
              fmt.amount(a.amount), a.status] for a in actions],
            [22, 28, 22, 58, 30, 20], 4, "No messages sent by the dunning run.")

    activities = Activity.objects.filter(company=company, customer=customer).order_by("-on", "-at", "-id")[:MAX_ROWS]
    section("Activities", ["When", "Kind", "Outcome", "Subject / notes", "By"],
            [[fmt.day(a.on) if a.recorded_later else timezone.localtime(a.at).strftime("%d-%m-%Y %H:%M"), a.kind, a.outcome.replace("_", " "),
              _cell(_summary(a)[:600], st, 30),
              _cell(a.created_by, st, 16)] for a in activities],
            [28, 16, 22, 90, 24], 4, "No activities logged.")

    return build_pdf(story, title=f"Case history {customer.code} {on.isoformat()}", author=company.name,
                  subject=f"Case history of {customer.name}",
                  footer=f"{company.name} · case history · {customer.code} {customer.name} · {fmt.day(on)}",
                  running=f"Case history · {customer.code} {customer.name}")
