"""An amount in words, Indian system (lakh, crore): "Rupees One Lakh Twenty-Three Thousand ... Only"."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

_ONES = ["Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten", "Eleven", "Twelve", "Thirteen", "Fourteen", "Fifteen", "Sixteen", "Seventeen", "Eighteen", "Nineteen"]
_TENS = ["_", "_", "Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety"]


def _below_hundred(n: int) -> str:
    if n < 20:
        return _ONES[n]
    tens, ones = divmod(n, 10)
    return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")


def _below_thousand(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    parts = []
    if hundreds:
        parts.append(f"{_ONES[hundreds]} Hundred")
    if rest:
        parts.append(_below_hundred(rest))
    return " ".join(parts)


def number_words(n: int) -> str:
    """A whole number in words in the Indian system: 12345678 -> One Crore Twenty-Three Lakh ..."""
    if n < 0:
        raise ValueError("a negative number has no words here")
    if n == 0:
        return "Zero"
    crore, n = divmod(n, 10_000_000)
    lakh, n = divmod(n, 100_000)
    thousand, n = divmod(n, 1000)
    parts = []
    if crore:
        parts.append(f"{number_words(crore)} Crore")
    if lakh:
        parts.append(f"{_below_hundred(lakh)} Lakh")
    if thousand:
        parts.append(f"{_below_hundred(thousand)} Thousand")
    if n:
        parts.append(_below_thousand(n))
    return " ".join(parts)


def rupees_in_words(amount: Decimal) -> str:
    """``Decimal("123456.50")`` -> "Rupees One Lakh Twenty-Three Thousand Four Hundred Fifty-Six and Fifty Paise Only"."""
    if not isinstance(amount, Decimal):
        raise TypeError("amount must be Decimal")
    paise_total = int((abs(amount) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    rupees, paise = divmod(paise_total, 100)
    text = f"Rupees {number_words(rupees)}"
    if paise:
        text += f" and {_below_hundred(paise)} Paise"
    return ("Minus " if amount < 0 else "") + text + " Only"
