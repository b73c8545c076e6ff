"""The GST tax invoice — and the credit or debit note against one — as a PDF, on the shared PDF
module (fonts, styles, grid, UPI QR, page numbers).

The legal fields (CGST Rules, rule 46): supplier and buyer names, addresses, GSTINs, state and code,
place of supply, invoice number and date, HSN/SAC per line, quantity, unit, rate, discount, taxable
value, each tax's rate and amount, round-off, total, the total in words (Indian system), and the IRN
with the IRP's signed QR once one was obtained. A draft is printed as a draft, without a number.
A note (``dues.billing.models.Note``, the same figures and lines as a bill) is titled "Credit note"
or "Debit note" and names the original invoice's number and date (rule 53) and the reason.
"""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import KeepTogether, Spacer, Table, TableStyle

from dues.core.words import rupees_in_words

from .pdf import (
    FONT,
    FONT_BOLD,
    INK,
    Formatter,
    _Qr,
    _state_name,
    build_pdf,
    esc,
    grid,
    page_header,
    para,
    payment_block,
    styles,
)


def _rate(value) -> str:
    return f"{value.normalize():f}%"


def _cell(text: str, width: float, st):
    """A description cell: plain text when it fits on one line (the grid's font), a wrapping paragraph
    otherwise (a Paragraph's parse and layout cost more than the rest of a short line)."""
    if "\n" not in text and stringWidth(text, FONT, 8) <= width - 12:  # 6 pt padding each side
        return text
    return para(esc(text), st["cell"])


def render_tax_invoice(company, bill, *, settings=None, lines=None) -> bytes:
    """The PDF of a bill (tax invoice) or of a note (credit or debit note against an invoice)."""
    from dues.billing.models import Note
    from dues.billing.services import billing_settings

    settings = settings or billing_settings(company)
    lines = lines if lines is not None else list(bill.lines.order_by("position").select_related("item"))
    customer = bill.customer
    fmt, st = Formatter(company), styles()
    company.address = ", ".join(x for x in (settings.address, settings.city, settings.pin) if x)
    approved = bill.status == "approved"
    note = bill if isinstance(bill, Note) else None
    kind = note.title if note else "Tax invoice"
    word = "Note" if note else "Invoice"
    title = kind if approved else f"Draft {kind.lower()} ({bill.status})"
    number = bill.number or f"draft {bill.reference}"
    story: list = [page_header(company, title, f"{word} No. {number} · Date {fmt.day(bill.date)}", st),
                   Spacer(1, 4 * mm)]
    if note:
        story += [para(f"<b>Against tax invoice No. {esc(note.bill.number)} dated {fmt.day(note.bill.date)}</b>"
                       f" · Reason: {esc(note.reason_text)}", st["base"]), Spacer(1, 3 * mm)]

    supplier = ["<b>Supplier</b>", f"<b>{esc(company.name)}</b>"]
    if company.address:
        supplier.append(esc(company.address))
    supplier.append(f"GSTIN {esc(company.gstin) or '—'}")
    supplier.append(f"State {esc(_state_name(company.state_code))} (code {esc(company.state_code)})")
    buyer = ["<b>Buyer (bill to)</b>", f"<b>{esc(customer.name)}</b>", f"Customer code {esc(customer.code)}"]
    address = ", ".join(x for x in (customer.address, customer.city, customer.pin) if x)
    if address:
        buyer.append(esc(address))
    buyer.append(f"GSTIN {esc(customer.gstin) or 'unregistered'}")
    buyer.append(f"State {esc(_state_name(customer.state_code))} (code {esc(customer.state_code)})")
    pos = bill.place_of_supply
    buyer.append(f"Place of supply: {esc(_state_name(pos))} (code {esc(pos)})")
    if getattr(bill, "po", ""):
        buyer.append(f"Buyer's order {esc(bill.po)}")
    parties = Table([[para("<br/>".join(supplier), st["base"]), para("<br/>".join(buyer), st["base"])]],
                    colWidths=[90 * mm, 90 * mm])
    parties.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (0, -1), 0)]))
    story += [parties, Spacer(1, 4 * mm)]

    intra = not bill.igst and (bill.cgst or bill.sgst or bill.place_of_supply == company.state_code)
    head = ["#", "Description", "HSN/SAC", "Qty", "Unit", "Rate", "Discount", "Taxable value", "GST"]
    head += ["CGST", "SGST"] if intra else ["IGST"]
    rows: list[list] = [head]
    for ln in lines:
        disc = fmt.amount(ln.discount) + (f" ({_rate(ln.discount_pct)})" if ln.discount_pct else "") if ln.discount else ""
        row = [str(ln.position), _cell(ln.description, 40 * mm, st), ln.hsn, f"{ln.quantity.normalize():f}", ln.uom,
               fmt.amount(ln.rate), disc, fmt.amount(ln.taxable), _rate(ln.gst_rate)]
        row += [fmt.amount(ln.cgst), fmt.amount(ln.sgst)] if intra else [fmt.amount(ln.igst)]
        rows.append(row)
    total_row = ["", "Total", "", "", "", "", "", fmt.amount(bill.taxable), ""]
    total_row += [fmt.amount(bill.cgst), fmt.amount(bill.sgst)] if intra else [fmt.amount(bill.igst)]
    rows.append(total_row)
    widths = [6, 40, 15, 14, 10, 16, 16, 20, 10] + ([16, 16] if intra else [32])
    story.append(grid(rows, [w * mm for w in widths], right_from=3, total_rows=1))

    # the tax summary: each tax at each rate
    summary = [["Taxable value", fmt.money(bill.taxable)]]
    rates = sorted({ln.gst_rate for ln in lines})
    for r in rates:
        at = [ln for ln in lines if ln.gst_rate == r]
        if intra:
            summary.append([f"CGST @ {_rate(r / 2)}", fmt.money(sum(ln.cgst for ln in at))])
            summary.append([f"SGST @ {_rate(r / 2)}", fmt.money(sum(ln.sgst for ln in at))])
        else:
            summary.append([f"IGST @ {_rate(r)}", fmt.money(sum(ln.igst for ln in at))])
    summary.append(["Round off", fmt.money(bill.round_off)])
    summary.append([f"{word} total", fmt.money(bill.total)])
    sum_table = Table(summary, colWidths=[45 * mm, 35 * mm])
    sum_table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), FONT), ("FONTSIZE", (0, 0), (-1, -1), 8.5), ("ALIGN", (1, 0), (1, -1), "RIGHT"),
        ("FONTNAME", (0, -1), (-1, -1), FONT_BOLD), ("LINEABOVE", (0, -1), (-1, -1), 0.6, INK),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5)]))
    words = para(f"<b>Amount in words</b><br/>{esc(rupees_in_words(bill.total))}", st["base"])
    block = Table([[words, sum_table]], colWidths=[100 * mm, 80 * mm])
    block.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (0, -1), 0),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    story += [Spacer(1, 4 * mm), KeepTogether([block])]

    if settings.bank_details:
        story += [Spacer(1, 3 * mm), para(f"<b>Bank details</b>: {esc(settings.bank_details)}", st["base"])]
    if bill.irn:
        ack = f"Ack No. {esc(bill.ack_no)}" + (f" · Ack date {bill.ack_date:%d-%m-%Y %H:%M}" if bill.ack_date else "")
        irn = Table([[_Qr(bill.signed_qr, size=38 * mm) if bill.signed_qr else "",
                      para(f"<b>e-Invoice</b><br/>IRN {esc(bill.irn)}<br/>{ack}", st["small"])]],
                    colWidths=[42 * mm, 138 * mm])
        irn.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (0, -1), 0)]))
        story += [Spacer(1, 3 * mm), KeepTogether([irn])]
    if approved and (note is None or note.kind == Note.DEBIT):  # a credit note is not paid
        story += payment_block(company, customer, bill.total, bill.number, fmt, st, vpa=settings.upi_vpa)
    story += [Spacer(1, 6 * mm), para(f"For {esc(company.name)}<br/><br/>Authorised signatory", st["base"])]
    return build_pdf(story, title=f"{kind} {number}", author=company.name,
                     subject=f"{kind} {number} to {customer.name}",
                     footer=f"{company.name} · {kind.lower()} {number} · {customer.code} {customer.name}",
                     running=f"{kind} {number} · {customer.code} {customer.name}")


def _render_one(company, bill, settings, lines) -> bytes:
    return render_tax_invoice(company, bill, settings=settings, lines=lines)


def render_tax_invoices(company, bills: list, *, workers: int | None = None) -> list[bytes]:
    """Tax invoice PDFs of ``bills`` (their customer and lines already read), in order.

    The figures are read here; the PDFs are drawn in worker processes (``DUES_RENDER_WORKERS``, default
    the CPU count; 1 draws them in this process), as statements are: ReportLab holds the GIL.
    """
    from dues.billing.services import billing_settings

    from .pdf import register_fonts
    from .render_pool import _pool, render_workers

    settings = billing_settings(company)
    jobs = [(b, sorted(b.lines.all(), key=lambda ln: ln.position)) for b in bills]
    workers = workers or render_workers()
    if workers <= 1 or len(jobs) < 2:
        return [render_tax_invoice(company, b, settings=settings, lines=lines) for b, lines in jobs]
    register_fonts()  # once, before the fork: every worker inherits the parsed fonts
    with _pool(workers) as pool:
        futures = [pool.submit(_render_one, company, b, settings, lines) for b, lines in jobs]
        return [f.result() for f in futures]
