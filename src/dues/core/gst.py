"""GST on a supply: CGST + SGST within a state, IGST across states, rounded per tax line."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from .money import ZERO, allocate, quantize, quantum


@dataclass(frozen=True, slots=True)
class TaxSplit:
    cgst: Decimal = ZERO
    sgst: Decimal = ZERO
    igst: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.cgst + self.sgst + self.igst


def is_intra_state(supplier_state: str, place_of_supply: str) -> bool:
    """Same state (or no place of supply known): CGST+SGST; otherwise IGST."""
    return not place_of_supply or not supplier_state or supplier_state == place_of_supply


def tax_on(taxable: Decimal, rate_percent: Decimal, intra: bool, currency: str) -> TaxSplit:
    """Tax on one line: each tax rounded half-up to the minor unit on its own."""
    if intra:
        half = quantize(taxable * rate_percent / 200, currency)
        return TaxSplit(cgst=half, sgst=half)
    return TaxSplit(igst=quantize(taxable * rate_percent / 100, currency))


def split_total_tax(tax: Decimal, intra: bool, currency: str) -> TaxSplit:
    """Split a tax total known only as one figure (an import's ``tax`` column)."""
    if not intra:
        return TaxSplit(igst=tax)
    q = quantum(currency)
    if tax == tax.quantize(q):  # what ``allocate`` gives for two equal shares: the odd paisa to CGST
        sgst = (tax / 2 / q).to_integral_value(rounding=ROUND_FLOOR) * q
        return TaxSplit(cgst=tax - sgst, sgst=sgst)
    cgst, sgst = allocate(tax, [Decimal(1), Decimal(1)], currency)
    return TaxSplit(cgst=cgst, sgst=sgst)
