"""Why a customer paid less than the invoices: TDS by the rules deductors follow, and bank charges shaped like fees.

Pure and in Decimal. A deductor takes TDS at a section's rate on the taxable value (GST excluded), on the
invoices' total or on each invoice, and rounds it to the paisa, to the rupee, or up to the rupee; a government
buyer deducts GST-TDS (CGST s.51) beside income-tax TDS, each rounded on its own. A bank's charge is its fee —
whole rupees (NEFT's ₹2.50) — with 18% GST on it (IGST, or CGST and SGST rounded apart), or a small fee without.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from functools import lru_cache

from dues.core.money import indian_grouping

CENT = Decimal("0.01")
RUPEE = Decimal("1")
HALF = Decimal("0.50")

# how a deductor rounds: (in words, quantum, rounding)
ROUNDINGS = (("", CENT, ROUND_HALF_UP), ("rounded to the rupee", RUPEE, ROUND_HALF_UP),
             ("rounded up to the rupee", RUPEE, ROUND_CEILING))


def rate_text(r: Decimal) -> str:
    return f"{(r * 100).normalize():f}%"


def tds_options(bases: Sequence[Decimal], rates: Sequence[Decimal], gst_tds: Decimal | None = None
                ) -> dict[Decimal, tuple]:
    """Every amount of TDS a deductor may have taken on invoices with these taxable ``bases``, and how (cached:
    the same invoices are weighed again for each credit that may pay them; the dict is shared, read it only)."""
    return _tds_options(tuple(bases), tuple(rates), gst_tds)


@lru_cache(maxsize=50_000)
def _tds_options(bases: tuple[Decimal, ...], rates: tuple[Decimal, ...], gst_tds: Decimal | None
                 ) -> dict[Decimal, tuple]:
    """Every amount of TDS a deductor may have taken on invoices with these taxable ``bases``, and how.

    Each rate alone and (with ``gst_tds``) each rate with GST-TDS beside it; on the total and on each invoice;
    rounded each of the ways in ``ROUNDINGS``. The first way found for an amount is kept (the plainest); the
    value is a key for ``tds_text``.
    """
    total = sum(bases, Decimal(0))
    combos: list[tuple[Decimal, ...]] = [(r,) for r in rates]
    if gst_tds:
        combos += ([(gst_tds,)] if gst_tds not in rates else []) + [(r, gst_tds) for r in rates]
    several = len(bases) > 1
    out: dict[Decimal, tuple] = {}
    for combo in combos:
        for k, (_, quantum, rounding) in enumerate(ROUNDINGS):
            tds = sum(((total * r).quantize(quantum, rounding=rounding) for r in combo), Decimal(0))
            if tds > 0 and tds not in out:
                out[tds] = (combo, k, False, total)
            if several:
                tds = sum(((b * r).quantize(quantum, rounding=rounding) for r in combo for b in bases), Decimal(0))
                if tds > 0 and tds not in out:
                    out[tds] = (combo, k, True, total)
    return {x.quantize(CENT): key for x, key in out.items()}


def tds_text(key: tuple) -> str:
    """'2% TDS + 2% GST-TDS on taxable 1,00,000.00 (on each invoice, rounded to the rupee)'."""
    combo, k, each, total = key
    what = " + ".join(f"{rate_text(r)} {'GST-TDS' if n else 'TDS'}" for n, r in enumerate(combo))
    tail = ", ".join(x for x in ("on each invoice" if each else "", ROUNDINGS[k][0]) if x)
    return f"{what} on taxable {indian_grouping(total)}" + (f" ({tail})" if tail else "")


@lru_cache(maxsize=50_000)
def fee_shaped(x: Decimal, gst: Decimal = Decimal("0.18"), plain_limit: Decimal = Decimal("50.00")) -> bool:
    """Whether ``x`` looks like a bank's charge: a fee in whole rupees (or NEFT's ₹2.50) with GST on it, or
    without GST up to ``plain_limit`` (a round ₹360 short is more likely a deduction than a bank's fee)."""
    if x <= 0:
        return False
    if (x % HALF) == 0 and x <= plain_limit:
        return True
    guess = (x / (1 + gst)).quantize(RUPEE, rounding=ROUND_HALF_UP)
    for fee in (guess - 1, guess, guess + 1, Decimal("2.50")):
        if fee <= 0:
            continue
        igst = (fee * gst).quantize(CENT, rounding=ROUND_HALF_UP)
        split = 2 * (fee * gst / 2).quantize(CENT, rounding=ROUND_HALF_UP)
        if x in (fee + igst, fee + split):
            return True
    return False


