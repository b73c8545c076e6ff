"""Money: a Decimal amount with an ISO-4217 currency, never a float.

Amounts are quantised to the currency's minor unit only at document boundaries (a line, a tax, a
total) with a rounding mode named at the call; in between they stay exact. Minor units come from
Babel's CLDR data, so INR, USD, JPY and KWD each get their own number of decimal places.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache

from babel.numbers import get_currency_precision

ZERO = Decimal("0")

#: Rounding used for document lines, taxes and totals unless a caller names another.
DOCUMENT_ROUNDING = ROUND_HALF_UP


class MoneyError(ValueError):
    """An amount that is not money: a float, a malformed string, mixed currencies."""


@cache
def minor_units(currency: str) -> int:
    """Number of decimal places of ``currency`` (INR 2, JPY 0, KWD 3)."""
    return get_currency_precision(currency)


@cache
def quantum(currency: str) -> Decimal:
    """The currency's smallest unit (0.01 for INR); cached, as every amount posted is rounded to it."""
    return Decimal(1).scaleb(-minor_units(currency))


def quantize(amount: Decimal, currency: str, rounding: str = DOCUMENT_ROUNDING) -> Decimal:
    """Round ``amount`` to the minor unit of ``currency`` with the named rounding mode."""
    if not isinstance(amount, Decimal):
        raise MoneyError(f"amount must be Decimal, got {type(amount).__name__}")
    return amount.quantize(quantum(currency), rounding=rounding)


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount in one currency. Arithmetic across currencies raises."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise MoneyError(f"Money needs a Decimal, got {type(self.amount).__name__}")
        if not (isinstance(self.currency, str) and len(self.currency) == 3 and self.currency.isupper()):
            raise MoneyError(f"bad currency code {self.currency!r}")

    def _check(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise MoneyError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise MoneyError(f"currency mismatch: {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def quantized(self, rounding: str = DOCUMENT_ROUNDING) -> Money:
        return Money(quantize(self.amount, self.currency, rounding), self.currency)

    def __str__(self) -> str:
        return f"{self.currency} {self.amount}"


# western (1,234,567) or Indian (12,34,567) grouping, or none; "12,50" or "1,234,56" are typos, not amounts
#: Digits an amount may have before the decimal point: what the ledger's columns hold (20 digits, 4 decimals).
MAX_WHOLE_DIGITS = 16

# ASCII digits only: Python's \d and Decimal would also read "١٠٠" or "１００" as 100
_AMOUNT = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d{1,2}(,\d{2})+,\d{3}|\d+)(\.\d+)?$", re.ASCII)


def _check_size(value: Decimal, text: object, currency: str | None) -> Decimal:
    """Refuse what no ledger column holds (more than MAX_WHOLE_DIGITS whole digits) and, when the
    ``currency`` is known, more decimals than it has: "10.999" in INR is a typo, never 11.00."""
    whole = value.adjusted() + 1 if value else 0
    if whole > MAX_WHOLE_DIGITS:
        raise MoneyError(f"{text!s:.40} is too large: an amount has at most {MAX_WHOLE_DIGITS} digits before the "
                         "decimal point")
    if currency is not None:
        try:
            places = minor_units(currency)
        except Exception:  # an unknown currency code is the caller's to report; no decimals check then
            return value
        if value != value.quantize(quantum(currency)):
            raise MoneyError(f"{text} has more than {places} decimal places ({currency} goes down to "
                             f"{Decimal(1).scaleb(-places)})" if places else f"{text} has decimals; {currency} "
                             "amounts are whole numbers")
    return value


def parse_amount(text: str | int | Decimal, currency: str | None = None) -> Decimal:
    """Parse an amount as written by people and spreadsheets.

    Accepts Indian (``1,25,000.50``) and western (``125,000.50``) digit grouping, a leading
    currency sign (``₹``, ``Rs.``, ``INR``), surrounding spaces, a trailing ``Cr``/``Dr`` is *not*
    accepted here (the column decides the side). Floats are refused: a spreadsheet cell that holds
    a float must be converted by the reader through ``str`` first. Refused too: more than
    ``MAX_WHOLE_DIGITS`` whole digits, and, with a ``currency``, more decimals than that currency has.
    """
    if isinstance(text, bool | float):
        raise MoneyError("amounts must not be floats")
    if isinstance(text, Decimal):
        if not text.is_finite():
            raise MoneyError(f"not an amount: {text!r}")
        return _check_size(text, text, currency)
    if isinstance(text, int):
        return _check_size(Decimal(text), text, currency)
    s = str(text).strip()
    for prefix in ("₹", "Rs.", "Rs", "INR"):
        if s.startswith(prefix):
            s = s[len(prefix):].strip()
    negative = s.startswith("(") and s.endswith(")")
    if negative:
        s = s[1:-1].strip()
    if not s or not _AMOUNT.match(s):
        raise MoneyError(f"not an amount: {text!r}")
    try:
        value = Decimal(s.replace(",", ""))
    except InvalidOperation as exc:  # pragma: no cover - the regex already guards this
        raise MoneyError(f"not an amount: {text!r}") from exc
    _check_size(value, str(text).strip(), currency)
    return -value if negative else value


def allocate(total: Decimal, weights: list[Decimal], currency: str) -> list[Decimal]:
    """Split ``total`` in proportion to ``weights`` so the parts add up to it exactly.

    Largest-remainder method at the currency's minor unit: every part is quantised down, then
    the left-over minor units go to the parts with the largest remainders (earliest first on ties).
    """
    if not weights:
        raise MoneyError("allocate needs at least one weight")
    q = quantum(currency)
    wsum = sum(weights, ZERO)
    if wsum == 0:
        raise MoneyError("allocate needs a non-zero weight")
    exact = [total * w / wsum for w in weights]
    parts = [(e / q).to_integral_value(rounding="ROUND_FLOOR") * q for e in exact]
    left = int(((total - sum(parts, ZERO)) / q).to_integral_value())
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[:left]:
        parts[i] += q
    return parts


def indian_grouping(value: Decimal) -> str:
    """``1234567.5`` -> ``'12,34,567.50'``: two decimals (half up), grouped in lakhs and crores, no symbol.

    For the pure core's reasons in words and the demo's bank lines; pages and documents format through
    ``dues.formats`` (the company's locale). By hand, not Babel: it runs per match reason and per line.
    """
    whole, _, frac = f"{abs(value).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}".partition(".")
    head, tail = whole[:-3], whole[-3:]
    groups = []
    while len(head) > 2:
        groups.insert(0, head[-2:])
        head = head[:-2]
    if head:
        groups.insert(0, head)
    return ("-" if value < 0 else "") + ",".join([*groups, tail]) + "." + frac


# what may stand before an amount in an input box: the rupee sign and its spellings, common signs, a code
_SIGNS = re.compile(r"^(₹|rs\.?|inr|\$|us\$|€|£|¥|[a-z]{3}(?=[\s\d.]))\s*", re.IGNORECASE)


def parse_amount_input(text: str, currency: str = "INR") -> Decimal:
    """An amount as a person types it into a box, in ``currency``: ``"1,50,000"``, ``"1,50,000.50"``,
    ``"150,000.50"``, ``"150000"``, ``"₹ 1,50,000"``, ``"Rs. 1,50,000.5"`` all read as they look.

    Refused with a message a desk user understands (``MoneyError``): anything that is not a number
    grouped the Indian or the western way ("12,50" is a typo), and more decimals than the currency has
    ("10.505" in INR; any decimals in JPY). A leading minus sign is kept, for the caller to refuse.
    """
    s = str(text if text is not None else "").replace("\u00a0", " ").replace("\u202f", " ").strip()
    s = _SIGNS.sub("", s, count=1).strip()
    negative = s.startswith("-")
    if negative or s.startswith("+"):
        s = s[1:].strip()
    if not s:
        raise MoneyError("Enter an amount, e.g. 1,50,000 or 150000.50.")
    if not _AMOUNT.match(s):
        raise MoneyError(f"“{text}” is not an amount: write it like 1,50,000 or 150000.50.")
    value = Decimal(s.replace(",", ""))
    if value and value.adjusted() + 1 > MAX_WHOLE_DIGITS:
        raise MoneyError(f"“{text:.40}” is too large: an amount has at most {MAX_WHOLE_DIGITS} digits before the "
                         "decimal point.")
    places = minor_units(currency)
    if value != value.quantize(quantum(currency)):
        if places:
            unit = "paise" if currency == "INR" else "the smallest coin"
            raise MoneyError(f"“{text}” has more than {places} decimal places; {currency} goes down to "
                             f"{quantum(currency)} ({unit}).")
        raise MoneyError(f"“{text}” has decimals; {currency} amounts are whole numbers.")
    value = value.quantize(quantum(currency))
    return -value if negative else value
