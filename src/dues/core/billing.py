"""Pricing a tax-invoice line and a whole invoice: pure functions over Decimal, no Django.

A line's taxable value is quantity x rate less the discount, rounded half-up to the minor unit; each
tax on it (CGST and SGST halves within the state, IGST across states) is rounded half-up on its own
(``core.gst.tax_on``); the invoice total is rounded half-up to the whole rupee and the difference is
the round-off.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .gst import TaxSplit, tax_on
from .money import ZERO, quantize

# the GST rate slabs (percent) in force: a rate outside them (or the company's configured list) is refused
LEGAL_SLABS: tuple[Decimal, ...] = tuple(Decimal(x) for x in ("0", "0.25", "3", "5", "12", "18", "28"))
HSN_RE = re.compile(r"^(\d{4}|\d{6}|\d{8})$")
NUMBER_RE = re.compile(r"^[A-Za-z0-9/-]{1,16}$")  # a GST invoice serial: at most 16 letters, digits, - and /


def hsn_problem(hsn: str) -> str | None:
    """Why ``hsn`` is not an HSN/SAC code (4, 6 or 8 digits), or None."""
    if not HSN_RE.match(hsn or ""):
        return f"{hsn!r} is not an HSN/SAC code (4, 6 or 8 digits)"
    return None


def parse_slabs(text: str) -> tuple[Decimal, ...]:
    """``"0,5,12,18,28"`` -> the configured slabs; empty text -> the legal slabs."""
    parts = [p.strip() for p in (text or "").split(",") if p.strip()]
    return tuple(Decimal(p) for p in parts) if parts else LEGAL_SLABS


def slab_problem(rate: Decimal, slabs: Iterable[Decimal] = LEGAL_SLABS) -> str | None:
    slabs = tuple(slabs)
    if rate not in slabs:
        return f"{rate.normalize():f} is not a GST rate slab ({', '.join(f'{s.normalize():f}' for s in slabs)})"
    return None


@dataclass(frozen=True, slots=True)
class PricedLine:
    gross: Decimal  # quantity x rate
    discount: Decimal
    taxable: Decimal
    tax: TaxSplit


def price_line(quantity: Decimal, rate: Decimal, discount_pct: Decimal, gst_rate: Decimal, intra: bool,
               currency: str) -> PricedLine:
    gross = quantize(quantity * rate, currency, ROUND_HALF_UP)
    taxable = quantize(quantity * rate * (100 - discount_pct) / 100, currency, ROUND_HALF_UP) if discount_pct else gross
    return PricedLine(gross, gross - taxable, taxable, tax_on(taxable, gst_rate, intra, currency))


@dataclass(frozen=True, slots=True)
class InvoiceTotals:
    taxable: Decimal
    cgst: Decimal
    sgst: Decimal
    igst: Decimal
    round_off: Decimal
    total: Decimal


def invoice_totals(lines: Iterable[PricedLine]) -> InvoiceTotals:
    taxable = cgst = sgst = igst = ZERO
    for ln in lines:
        taxable += ln.taxable
        cgst, sgst, igst = cgst + ln.tax.cgst, sgst + ln.tax.sgst, igst + ln.tax.igst
    exact = taxable + cgst + sgst + igst
    total = exact.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return InvoiceTotals(taxable, cgst, sgst, igst, total - exact, total)


def fy_tag(start_year: int) -> str:
    """FY 2026-27 -> ``2627``: the part of an invoice number that names the fiscal year."""
    return f"{start_year % 100:02d}{(start_year + 1) % 100:02d}"


def series_number(prefix: str, start_year: int, n: int, width: int = 4) -> str:
    """``INV/{fy}/`` + 7 in FY 2026-27 -> ``INV/2627/0007``; raises ValueError past 16 characters."""
    number = prefix.replace("{fy}", fy_tag(start_year)) + str(n).zfill(width)
    if not NUMBER_RE.match(number):
        raise ValueError(f"invoice number {number!r} is not at most 16 letters, digits, '-' and '/'")
    return number
