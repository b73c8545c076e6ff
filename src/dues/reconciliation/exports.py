"""The reconciliation statement as a workbook (statement, differences, matched) or a PDF."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from dues.core import reconcile as rc
from dues.core.exports import neutralise_row
from dues.reporting.exports import number_format, safe_cell

from .selectors import CustomerReconciliation


def _q(rec: CustomerReconciliation, value: Decimal) -> Decimal:
    return Decimal(rec.money(value))


def statement_rows(rec: CustomerReconciliation) -> list[tuple[str, Decimal]]:
    return [(label, _q(rec, v)) for label, v in rc.summary_lines(rec.result)]


def write_xlsx(rec: CustomerReconciliation, target: str | Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    r = rec.result
    fmt = number_format()
    bold = Font(bold=True)
    wb = Workbook()
    ws = wb.active
    ws.title = "Statement"
    ws.append(neutralise_row([f"Ledger reconciliation: {rec.customer.code} {rec.customer.name}"]))
    ws.append(["As of", r.as_of])
    ws.append(["Their file", safe_cell(rec.source)])
    ws.append([])
    for label, value in statement_rows(rec):
        ws.append([label, value])
        ws.cell(ws.max_row, 2).number_format = fmt
        if label.startswith("Balance"):
            ws.cell(ws.max_row, 1).font = bold
    ws["A1"].font = bold
    ws.cell(2, 2).number_format = "dd-mm-yyyy"
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 20

    d = wb.create_sheet("Differences")
    d.append(["kind", "ours", "theirs", "amount", "explanation"])
    for diff in r.differences:
        # their document numbers and narrations come from their file: text, never a formula
        d.append(neutralise_row([diff.kind, diff.ours or "", diff.theirs or "", _q(rec, diff.amount), diff.explanation]))
        d.cell(d.max_row, 4).number_format = fmt
    for col, width in zip("ABCDE", (18, 18, 18, 16, 100), strict=True):
        d.column_dimensions[col].width = width

    m = wb.create_sheet("Matched")
    m.append(["ours", "theirs", "amount", "how", "why"])
    for match in r.matched:
        m.append(neutralise_row([", ".join(match.ours), ", ".join(match.theirs), _q(rec, match.amount), match.how,
                                 match.note]))
        m.cell(m.max_row, 3).number_format = fmt
    m.column_dimensions["E"].width = 100
    for sheet in (d, m):
        for cell in sheet[1]:
            cell.font = bold
        sheet.freeze_panes = "A2"
    wb.save(target)


def write_pdf(rec: CustomerReconciliation, target: str | Path) -> None:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from dues.formats import money_text

    r = rec.result
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=8, leading=10)
    doc = SimpleDocTemplate(str(target), pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm,
                            topMargin=12 * mm, bottomMargin=12 * mm,
                            title=f"Ledger reconciliation {rec.customer.code} {r.as_of.isoformat()}")
    story = [Paragraph(f"Ledger reconciliation: {rec.customer.code} {_esc(rec.customer.name)}", styles["Title"]),
             Paragraph(f"As of {r.as_of.strftime('%d-%m-%Y')} · their file {_esc(rec.source)} · "
                       f"{len(r.matched)} matched, {len(r.differences)} differences", styles["Normal"]),
             Spacer(1, 4 * mm)]
    summary = Table([[label, money_text(v)] for label, v in statement_rows(rec)], colWidths=[70 * mm, 40 * mm])
    summary.setStyle(TableStyle([("ALIGN", (1, 0), (1, -1), "RIGHT"), ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                                 ("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold"),
                                 ("LINEABOVE", (0, -1), (-1, -1), 0.5, colors.black)]))
    story += [summary, Spacer(1, 6 * mm)]
    if r.differences:
        rows = [["Kind", "Ours", "Theirs", "Amount", "Explanation"]]
        for diff in r.differences:
            rows.append([diff.kind.replace("_", " "), diff.ours or "", diff.theirs or "", money_text(diff.amount),
                         Paragraph(_esc(diff.explanation), small)])
        t = Table(rows, colWidths=[30 * mm, 30 * mm, 22 * mm, 30 * mm, 160 * mm], repeatRows=1)
        t.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"), ("FONTSIZE", (0, 0), (-1, -1), 8),
                               ("ALIGN", (3, 0), (3, -1), "RIGHT"), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black)]))
        story.append(t)
    else:
        story.append(Paragraph("No differences: the two ledgers agree.", styles["Normal"]))
    paired = [m for m in r.matched if m.note]
    if paired:  # matched under different numbers: say why, so the pairing can be checked
        story += [Spacer(1, 6 * mm), Paragraph("Matched under different numbers", styles["Heading3"])]
        rows = [["Ours", "Theirs", "Amount", "Why"]]
        for m in paired:
            rows.append([", ".join(m.ours), ", ".join(m.theirs), money_text(m.amount), Paragraph(_esc(m.note), small)])
        t = Table(rows, colWidths=[30 * mm, 30 * mm, 30 * mm, 182 * mm], repeatRows=1)
        t.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"), ("FONTSIZE", (0, 0), (-1, -1), 8),
                               ("ALIGN", (2, 0), (2, -1), "RIGHT"), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black)]))
        story.append(t)
    doc.build(story)


def _esc(text: str) -> str:
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
