"""Statements of account and dunning letters as PDF (ReportLab).

The figures come from the set-based reporting selectors (``statement_of_account``, ``ageing``,
``outstanding``): nothing here walks the ledger. Amounts go through the web app's ``format_money``
(₹ and lakh/crore grouping in en_IN), so the PDF embeds DejaVu Sans: the 14 standard PDF fonts have
no ₹ glyph.

    render_statement(company, customer, date_from, date_to) -> bytes
    render_letter(company, customer, "reminder" | "escalation" | "final_notice", on) -> bytes
"""

from __future__ import annotations

import io
import os
import zlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from itertools import groupby
from pathlib import Path
from urllib.parse import quote
from xml.sax.saxutils import escape

from reportlab import rl_config
from reportlab.graphics.barcode.qrencoder import QRCode, QRErrorCorrectLevel
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as rl_canvas
from reportlab.platypus import Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from dues.core.errors import DuesError
from dues.core.money import ZERO

FONT, FONT_BOLD, FONT_ITALIC, FONT_BOLD_ITALIC = "DejaVuSans", "DejaVuSans-Bold", "DejaVuSans-Oblique", \
    "DejaVuSans-BoldOblique"
FONT_FILES = {FONT: "DejaVuSans.ttf", FONT_BOLD: "DejaVuSans-Bold.ttf", FONT_ITALIC: "DejaVuSans-Oblique.ttf",
              FONT_BOLD_ITALIC: "DejaVuSans-BoldOblique.ttf"}
FONT_DIRS = (
    "/usr/share/fonts/truetype/dejavu",  # Debian/Ubuntu fonts-dejavu-core
    "/usr/share/fonts/dejavu",  # Fedora, Arch
    "/usr/share/fonts/TTF",
    "/usr/local/share/fonts",
    "/Library/Fonts",
)

LETTER_KINDS = ("reminder", "escalation", "final_notice")

ITEM_WIDTHS = [52 * mm, 20 * mm, 20 * mm, 28 * mm, 32 * mm, 28 * mm]  # open-item tables, 180 mm in all

rl_config.useA85 = 0  # binary (deflated) streams, not ASCII85: smaller files, less time per PDF


class _FastDeflate(pdfdoc.PDFStreamFilterZCompress):
    """Deflate at level 1, not zlib's default 6: ~15% less CPU per statement for ~4% more bytes."""

    def encode(self, text):
        return zlib.compress(text.encode("utf8") if isinstance(text, str) else text, 1)


pdfdoc.PDFZCompress.__class__ = _FastDeflate  # the one filter instance every ReportLab stream uses

INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#616e7c")
RULE = colors.HexColor("#cbd2d9")
SHADE = colors.HexColor("#eef1f4")


# ---------------------------------------------------------------------------------------------
# fonts


def font_dir() -> Path:
    """The folder holding DejaVuSans.ttf: $DUES_FONT_DIR, else the usual system places."""
    candidates = [os.environ.get("DUES_FONT_DIR", ""), *FONT_DIRS]
    for folder in filter(None, candidates):
        if (Path(folder) / FONT_FILES[FONT]).is_file():
            return Path(folder)
    raise DuesError("PDFs need the DejaVu Sans font (it has the ₹ sign): install it (Debian: apt-get install "
                    "fonts-dejavu-core) or set DUES_FONT_DIR to the folder holding DejaVuSans.ttf")


@cache
def register_fonts() -> None:
    """Embed DejaVu Sans once per process (ReportLab subsets it into each PDF).

    A missing bold or oblique file falls back to the regular face.
    """
    folder = font_dir()
    for name, filename in FONT_FILES.items():
        path = folder / filename
        pdfmetrics.registerFont(TTFont(name, str(path if path.is_file() else folder / FONT_FILES[FONT])))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT_ITALIC, boldItalic=FONT_BOLD_ITALIC)


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


# ---------------------------------------------------------------------------------------------
# formatting


class _Fmt:
    def __init__(self, company):
        self.locale = company.locale or "en_IN"
        self.currency = company.currency or "INR"

    def money(self, value: Decimal) -> str:
        from dues.web.templatetags.dues_format import format_money

        return format_money(value, locale=self.locale, currency=self.currency)

    def amount(self, value: Decimal) -> str:
        from dues.web.templatetags.dues_format import format_money

        return format_money(value, symbol=False, locale=self.locale, currency=self.currency)

    def day(self, value: date) -> str:
        from dues.web.templatetags.dues_format import format_day

        return format_day(value, locale=self.locale)


@cache
def _styles() -> dict[str, ParagraphStyle]:
    """The paragraph styles, built once per process (never changed after)."""
    register_fonts()  # before the first Paragraph: it resolves <b> through the registered family
    base = ParagraphStyle("base", fontName=FONT, fontSize=9, leading=12, textColor=INK)
    return {
        "base": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=10, textColor=MUTED),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8, leading=10),
        "company": ParagraphStyle("company", parent=base, fontName=FONT_BOLD, fontSize=15, leading=19),
        "title": ParagraphStyle("title", parent=base, fontName=FONT_BOLD, fontSize=13, leading=16, alignment=TA_RIGHT),
        "right": ParagraphStyle("right", parent=base, alignment=TA_RIGHT),
        "h2": ParagraphStyle("h2", parent=base, fontName=FONT_BOLD, fontSize=10.5, leading=14, spaceBefore=8,
                             spaceAfter=4),
        "body": ParagraphStyle("body", parent=base, fontSize=9.5, leading=14, spaceAfter=6),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(text, style)


def _e(value) -> str:
    return escape(str(value or ""))


def _company_address(company) -> str:
    return getattr(company, "address", "") or os.environ.get("DUES_COMPANY_ADDRESS", "")


def _state_name(code: str) -> str:
    from dues.core.states import GST_STATES

    return f"{code} {GST_STATES[code]}" if code in GST_STATES else code


def _upi_vpa() -> str:
    from django.conf import settings

    return (os.environ.get("DUES_UPI_VPA") or getattr(settings, "DUES_UPI_VPA", "") or "").strip()


def upi_link(company, customer, amount: Decimal, note: str) -> str | None:
    """``upi://pay?...`` for ``amount`` to the company's UPI address (DUES_UPI_VPA), or None without one."""
    vpa = _upi_vpa()
    if not vpa or amount <= 0 or (company.currency or "INR") != "INR":
        return None
    params = [("pa", vpa), ("pn", company.name), ("am", f"{amount:.2f}"), ("cu", "INR"), ("tn", note)]
    return "upi://pay?" + "&".join(f"{k}={quote(str(v), safe='')}" for k, v in params)


class _Qr(Flowable):
    """A QR code drawn straight onto the canvas, one rectangle per run of dark modules.

    (ReportLab's QrCodeWidget builds a shape object per module: several times slower per page.)
    """

    def __init__(self, data: str, size: float = 32 * mm, border: int = 2):
        super().__init__()
        code = QRCode(None, QRErrorCorrectLevel.M)
        code.addData(data)
        code.version = code.calculate_version()
        # any of the eight masks is a valid code; scoring all eight (make()) costs more than the rest of a page
        code.makeImpl(False, 0)
        self.modules = code.modules
        self.count = code.getModuleCount()
        self.link, self.size, self.border = data, size, border
        self.width = self.height = size

    def draw(self):
        box = self.size / (self.count + 2 * self.border)
        canvas = self.canv
        canvas.setFillColor(colors.black)
        path = canvas.beginPath()
        for r, row in enumerate(self.modules):
            c = 0
            for dark, run in groupby(bool(m) for m in row):
                n = sum(1 for _ in run)
                if dark:
                    path.rect((c + self.border) * box, self.size - (r + self.border + 1) * box, n * box, box)
                c += n
        canvas.drawPath(path, stroke=0, fill=1)
        # tapping the code in a PDF reader on a phone opens the UPI app too
        canvas.linkURL(self.link, (0, 0, self.size, self.size), relative=1, thickness=0)


# ---------------------------------------------------------------------------------------------
# page furniture


class _NumberedCanvas(rl_canvas.Canvas):
    """Holds the pages back until the end so each can say "Page n of m"."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pages: list[dict] = []

    def showPage(self):  # noqa: N802 (ReportLab's name)
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self.setFont(FONT, 7.5)
            self.setFillColor(MUTED)
            self.drawRightString(A4[0] - 15 * mm, 9 * mm, f"Page {self._pageNumber} of {total}")
            super().showPage()
        super().save()


def _fit(text: str, width: float, size: float = 7.5) -> str:
    """``text`` cut short with an ellipsis so it fits ``width`` points."""
    if pdfmetrics.stringWidth(text, FONT, size) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + "…", FONT, size) > width:
        text = text[:-1]
    return text + "…"


def _footer(left: str, running: str | None = None):
    def draw(canvas, doc):
        canvas.saveState()
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(MUTED)
        canvas.setStrokeColor(RULE)
        canvas.line(15 * mm, 13 * mm, A4[0] - 15 * mm, 13 * mm)
        canvas.drawString(15 * mm, 9 * mm, _fit(left, 150 * mm))
        if running and doc.page > 1:
            canvas.drawString(15 * mm, A4[1] - 10 * mm, _fit(running, 180 * mm))
        canvas.restoreState()

    return draw


def _build(story: list, *, title: str, author: str, subject: str, footer: str, running: str | None = None) -> bytes:
    register_fonts()
    buffer = io.BytesIO()
    # the frame pads 6 pt inside the margins: the content is 180 mm wide, starting 15 mm from the edge
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=15 * mm - 6, rightMargin=15 * mm - 6, topMargin=15 * mm,
                            bottomMargin=18 * mm, title=title, author=author, subject=subject, creator="dues")
    draw = _footer(footer, running)
    doc.build(story, onFirstPage=draw, onLaterPages=draw, canvasmaker=_NumberedCanvas)
    return buffer.getvalue()


def _header(company, title: str, subtitle: str, st) -> Table:
    left = [_p(_e(company.name), st["company"])]
    if company.gstin:
        left.append(_p(f"GSTIN {_e(company.gstin)}", st["small"]))
    address = _company_address(company)
    if address:
        left.append(_p(_e(address).replace("\n", "<br/>"), st["small"]))
    right = [_p(_e(title), st["title"]), _p(_e(subtitle), ParagraphStyle("sub", parent=st["small"], alignment=TA_RIGHT))]
    table = Table([[left, right]], colWidths=[110 * mm, 70 * mm])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                               ("LINEBELOW", (0, 0), (-1, 0), 0.8, INK), ("BOTTOMPADDING", (0, 0), (-1, -1), 6)]))
    return table


def _customer_lines(customer) -> list[str]:
    lines = [f"<b>{_e(customer.name)}</b>", f"Customer code {_e(customer.code)}"]
    if customer.gstin:
        lines.append(f"GSTIN {_e(customer.gstin)}")
    if customer.state_code:
        lines.append(f"State {_e(_state_name(customer.state_code))}")
    return lines


def _grid(rows: list[list], widths: list[float], *, right_from: int, header_rows: int = 1,
          total_rows: int = 0, repeat: bool = True) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=header_rows if repeat else 0)
    style = [
        ("FONTNAME", (0, 0), (-1, -1), FONT), ("FONTSIZE", (0, 0), (-1, -1), 8), ("LEADING", (0, 0), (-1, -1), 10),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK), ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("FONTNAME", (0, 0), (-1, header_rows - 1), FONT_BOLD), ("BACKGROUND", (0, 0), (-1, header_rows - 1), SHADE),
        ("LINEBELOW", (0, header_rows - 1), (-1, header_rows - 1), 0.6, INK),
        ("ALIGN", (right_from, 0), (-1, -1), "RIGHT"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ]
    if len(rows) > header_rows + total_rows:
        style.append(("LINEBELOW", (0, header_rows), (-1, -1 - total_rows), 0.25, RULE))
    if total_rows:
        style += [("FONTNAME", (0, -total_rows), (-1, -1), FONT_BOLD),
                  ("LINEABOVE", (0, -total_rows), (-1, -total_rows), 0.6, INK)]
    table.setStyle(TableStyle(style))
    return table


def _particulars(text: str, st) -> str | Paragraph:
    return _p(_e(text), st["cell"]) if len(text) > 40 else text


# ---------------------------------------------------------------------------------------------
# statement of account


def render_statement(company, customer, date_from: date, date_to: date, *, data: StatementData | None = None) -> bytes:
    """The customer's statement of account for [date_from, date_to] as a PDF."""
    data = data or statement_data(company, customer, date_from, date_to)
    fmt, st = _Fmt(company), _styles()
    s = data.statement
    period = f"{fmt.day(date_from)} to {fmt.day(date_to)}"
    story: list = [_header(company, "Statement of account", f"Period {period}", st), Spacer(1, 5 * mm)]

    summary = [["Opening balance", fmt.money(s.opening)], ["Debits (invoices, debit notes)", fmt.money(s.debits)],
               ["Credits (receipts, credit notes)", fmt.money(s.credits)], ["Closing balance", fmt.money(s.closing)]]
    summary_table = Table(summary, colWidths=[50 * mm, 35 * mm])
    summary_table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), FONT), ("FONTSIZE", (0, 0), (-1, -1), 8.5), ("ALIGN", (1, 0), (1, -1), "RIGHT"),
        ("FONTNAME", (0, -1), (-1, -1), FONT_BOLD), ("LINEABOVE", (0, -1), (-1, -1), 0.6, INK),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5)]))
    block = Table([[[_p("<br/>".join(_customer_lines(customer)), st["base"])], summary_table]],
                  colWidths=[92 * mm, 88 * mm])
    block.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (0, -1), 0),
                               ("ALIGN", (1, 0), (1, 0), "RIGHT"), ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    story += [block, Spacer(1, 4 * mm), _p("Transactions", st["h2"])]

    rows: list[list] = [["Date", "Particulars", "Debit", "Credit", "Balance"],
                        [fmt.day(date_from), "Opening balance", "", "", fmt.amount(s.opening)]]
    for line in s.lines:
        rows.append([fmt.day(line.date), _particulars(line.description, st),
                     fmt.amount(line.debit) if line.debit else "", fmt.amount(line.credit) if line.credit else "",
                     fmt.amount(line.balance)])
    rows.append([fmt.day(date_to), "Closing balance", fmt.amount(s.debits), fmt.amount(s.credits),
                 fmt.amount(s.closing)])
    story.append(_grid(rows, [20 * mm, 73 * mm, 29 * mm, 29 * mm, 29 * mm], right_from=2, total_rows=1))
    if not s.lines:
        story.append(_p("No transactions in this period.", st["small"]))

    # ageing summary
    labels = [*(c.replace("_", " ").capitalize() if c == "not_due" else f"{c} days" for c in data.ageing_columns)]
    ageing_rows = [[*labels, "Unapplied", "Total due"],
                   [*(fmt.amount(data.ageing_buckets[c]) for c in data.ageing_columns), fmt.amount(data.unapplied),
                    fmt.amount(data.total_due)]]
    width = 180 * mm / len(ageing_rows[0])
    story.append(KeepTogether([_p(f"Ageing on {fmt.day(date_to)} (days past due)", st["h2"]),
                               _grid(ageing_rows, [width] * len(ageing_rows[0]), right_from=0, repeat=False)]))

    # open items
    item_rows: list[list] = [["Document", "Date", "Due date", "Amount", "Outstanding", "Days overdue"]]
    for item in data.items:
        sign = 1 if item.side == "D" else -1
        item_rows.append([f"{item.kind.replace('_', ' ').capitalize()} {item.number}", fmt.day(item.date),
                          fmt.day(item.due_date) if item.side == "D" else "", fmt.amount(sign * item.amount),
                          fmt.amount(sign * item.residual), str(item.days_overdue) if item.days_overdue else ""])
    item_rows.append(["Total due", "", "", "", fmt.money(data.total_due), ""])
    story.append(_p(f"Open items on {fmt.day(date_to)}", st["h2"]))
    story.append(_grid(item_rows, ITEM_WIDTHS, right_from=3,
                       total_rows=1))

    story += _payment_block(company, customer, data.total_due, f"{customer.code} statement", fmt, st)
    return _build(story, title=f"Statement of account {customer.code} {period}", author=company.name,
                  subject=f"Statement of account of {customer.name}",
                  footer=f"{company.name} · statement of account of {customer.code} {customer.name} · {period}",
                  running=f"Statement of account · {customer.code} {customer.name} · {period}")


def _payment_block(company, customer, total: Decimal, note: str, fmt: _Fmt, st) -> list:
    if total < 0:
        return [Spacer(1, 4 * mm), _p(f"Your account is in credit by <b>{_e(fmt.money(-total))}</b>: nothing is due. "
                                      "It will be adjusted against your next invoices unless you ask for a refund.",
                                      st["body"])]
    if total == 0:
        return [Spacer(1, 4 * mm), _p("Nothing is due. Thank you.", st["body"])]
    link = upi_link(company, customer, total, note)
    if link is None:
        return [Spacer(1, 4 * mm),
                _p(f"<b>Total due {_e(fmt.money(total))}.</b> Please quote your customer code {_e(customer.code)} "
                   "with your payment.", st["body"])]
    text = _p(f"<b>Pay {_e(fmt.money(total))} by UPI</b><br/>Scan the code with any UPI app, or pay to "
              f"<b>{_e(_upi_vpa())}</b> quoting “{_e(note)}”.", st["body"])
    table = Table([[_Qr(link), text]], colWidths=[36 * mm, 144 * mm])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (0, -1), 0)]))
    return [Spacer(1, 4 * mm), KeepTogether([table])]


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
            f"Unless the overdue amount of <b>{total}</b> reaches us by <b>{pay_by}</b>, {_e(company_name)} will "
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
    fmt, st = _Fmt(company), _styles()
    total = sum((i.residual for i in items), ZERO)
    pay_by = pay_by or on + timedelta(days=LETTER_DAYS_TO_PAY[kind])
    title = LETTER_TITLES[kind]
    story: list = [_header(company, title, f"Date {fmt.day(on)}", st), Spacer(1, 6 * mm),
                   _p("To<br/>" + "<br/>".join(_customer_lines(customer)), st["base"]), Spacer(1, 3 * mm)]
    if cc:
        story.append(_p(f"Copy to: {_e(cc)}", st["small"]))
    story.append(_p(f"<b>Subject: {_e(title)}: {_e(fmt.money(total))} overdue on account {_e(customer.code)}</b>",
                    st["body"]))
    greeting, paragraphs = _letter_text(kind, company.name, _e(fmt.money(total)), _e(fmt.day(pay_by)))
    story.append(_p(greeting, st["body"]))
    story += [_p(text, st["body"]) for text in paragraphs]

    rows: list[list] = [["Invoice", "Date", "Due date", "Amount", "Outstanding", "Days overdue"]]
    for item in items:
        rows.append([f"{item.kind.replace('_', ' ').capitalize()} {item.number}", fmt.day(item.date),
                     fmt.day(item.due_date), fmt.amount(item.amount), fmt.amount(item.residual),
                     str(item.days_overdue)])
    rows.append(["Total overdue", "", "", "", fmt.money(total), ""])
    story += [Spacer(1, 2 * mm), _grid(rows, ITEM_WIDTHS, right_from=3,
                                       total_rows=1)]
    if interest:
        story.append(_p(f"Interest on the overdue amount up to {_e(fmt.day(on))}: <b>{_e(fmt.money(interest))}</b>"
                        f"{' (' + _e(interest_note) + ')' if interest_note else ''}. It is charged separately and "
                        "keeps accruing until the invoices are paid.", st["body"]))
    story += _payment_block(company, customer, total, f"{customer.code} {kind.replace('_', ' ')}", fmt, st)
    story.append(KeepTogether([
        _p("If you have any question about this account, please reply to this letter or call our accounts team.",
           st["body"]),
        Spacer(1, 4 * mm), _p("Yours faithfully,", st["body"]),
        _p(f"for <b>{_e(company.name)}</b>", st["body"]), Spacer(1, 12 * mm),
        _p(f"{_e(signatory) or 'Authorised signatory'}<br/>Accounts receivable", st["body"]),
    ]))
    return _build(story, title=f"{title} {customer.code} {on.isoformat()}", author=company.name,
                  subject=f"{title} to {customer.name}",
                  footer=f"{company.name} · {title.lower()} · {customer.code} {customer.name} · {fmt.day(on)}",
                  running=f"{title} · {customer.code} {customer.name}")
