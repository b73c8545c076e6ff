"""The shared PDF furniture of every document dues prints: statements, letters, case files, balance
confirmations, close packs (and the tax invoices billing will add). ReportLab.

Amounts and dates go through ``dues.formats`` (₹ and lakh/crore grouping in en_IN), so the PDF embeds
DejaVu Sans: the 14 standard PDF fonts have no ₹ glyph. Here: fonts, paragraph styles, the company
header, open-item grids, numbered pages with a running footer, and the UPI payment block with its QR.
"""

from __future__ import annotations

import io
import os
import zlib
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
# formatting


class Formatter:
    def __init__(self, company):
        self.locale = company.locale or "en_IN"
        self.currency = company.currency or "INR"

    def money(self, value: Decimal) -> str:
        from dues.formats import format_money

        return format_money(value, locale=self.locale, currency=self.currency)

    def amount(self, value: Decimal) -> str:
        from dues.formats import format_money

        return format_money(value, symbol=False, locale=self.locale, currency=self.currency)

    def day(self, value: date) -> str:
        from dues.formats import format_day

        return format_day(value, locale=self.locale)


@cache
def styles() -> dict[str, ParagraphStyle]:
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


def para(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(text, style)


def esc(value) -> str:
    return escape(str(value or ""))


def _company_address(company) -> str:
    return getattr(company, "address", "") or os.environ.get("DUES_COMPANY_ADDRESS", "")


def _state_name(code: str) -> str:
    from dues.core.states import GST_STATES

    return f"{code} {GST_STATES[code]}" if code in GST_STATES else code


def _upi_vpa() -> str:
    from django.conf import settings

    return (os.environ.get("DUES_UPI_VPA") or getattr(settings, "DUES_UPI_VPA", "") or "").strip()


def upi_link(company, customer, amount: Decimal, note: str, vpa: str | None = None) -> str | None:
    """``upi://pay?...`` for ``amount`` to ``vpa`` or the company's UPI address (DUES_UPI_VPA), or None without one."""
    vpa = (vpa or "").strip() or _upi_vpa()
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
        # one module = one unit (scaled once), and every run of dark modules one integer "re" operator
        # written as literal PDF: formatting hundreds of float rectangles through the path API cost more
        # than the rest of the invoice page
        box = self.size / (self.count + 2 * self.border)
        top = self.count + self.border - 1
        ops = []
        for r, row in enumerate(self.modules):
            c = self.border
            for dark, run in groupby(bool(m) for m in row):
                n = sum(1 for _ in run)
                if dark:
                    ops.append(f"{c} {top - r} {n} 1 re")
                c += n
        canvas = self.canv
        canvas.saveState()
        canvas.setFillColor(colors.black)
        canvas.scale(box, box)
        if ops:
            canvas.addLiteral("\n".join(ops) + "\nf")
        canvas.restoreState()
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


def build_pdf(story: list, *, title: str, author: str, subject: str, footer: str, running: str | None = None) -> bytes:
    register_fonts()
    buffer = io.BytesIO()
    # the frame pads 6 pt inside the margins: the content is 180 mm wide, starting 15 mm from the edge
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=15 * mm - 6, rightMargin=15 * mm - 6, topMargin=15 * mm,
                            bottomMargin=18 * mm, title=title, author=author, subject=subject, creator="dues")
    draw = _footer(footer, running)
    doc.build(story, onFirstPage=draw, onLaterPages=draw, canvasmaker=_NumberedCanvas)
    return buffer.getvalue()


def page_header(company, title: str, subtitle: str, st) -> Table:
    left = [para(esc(company.name), st["company"])]
    if company.gstin:
        left.append(para(f"GSTIN {esc(company.gstin)}", st["small"]))
    address = _company_address(company)
    if address:
        left.append(para(esc(address).replace("\n", "<br/>"), st["small"]))
    right = [para(esc(title), st["title"]), para(esc(subtitle), ParagraphStyle("sub", parent=st["small"], alignment=TA_RIGHT))]
    table = Table([[left, right]], colWidths=[110 * mm, 70 * mm])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                               ("LINEBELOW", (0, 0), (-1, 0), 0.8, INK), ("BOTTOMPADDING", (0, 0), (-1, -1), 6)]))
    return table


def customer_lines(customer) -> list[str]:
    lines = [f"<b>{esc(customer.name)}</b>", f"Customer code {esc(customer.code)}"]
    if customer.gstin:
        lines.append(f"GSTIN {esc(customer.gstin)}")
    if customer.state_code:
        lines.append(f"State {esc(_state_name(customer.state_code))}")
    return lines


def grid(rows: list[list], widths: list[float], *, right_from: int, header_rows: int = 1,
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



def payment_block(company, customer, total: Decimal, note: str, fmt: Formatter, st, vpa: str | None = None) -> list:
    if total < 0:
        return [Spacer(1, 4 * mm), para(f"Your account is in credit by <b>{esc(fmt.money(-total))}</b>: nothing is due. "
                                      "It will be adjusted against your next invoices unless you ask for a refund.",
                                      st["body"])]
    if total == 0:
        return [Spacer(1, 4 * mm), para("Nothing is due. Thank you.", st["body"])]
    link = upi_link(company, customer, total, note, vpa)
    if link is None:
        return [Spacer(1, 4 * mm),
                para(f"<b>Total due {esc(fmt.money(total))}.</b> Please quote your customer code {esc(customer.code)} "
                   "with your payment.", st["body"])]
    text = para(f"<b>Pay {esc(fmt.money(total))} by UPI</b><br/>Scan the code with any UPI app, or pay to "
              f"<b>{esc((vpa or '').strip() or _upi_vpa())}</b> quoting “{esc(note)}”.", st["body"])
    table = Table([[_Qr(link), text]], colWidths=[36 * mm, 144 * mm])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (0, -1), 0)]))
    return [Spacer(1, 4 * mm), KeepTogether([table])]


