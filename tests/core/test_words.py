from decimal import Decimal

import pytest

from dues.core.billing import invoice_totals, price_line, series_number
from dues.core.words import number_words, rupees_in_words


def test_rupees_in_words_indian_system():
    assert rupees_in_words(Decimal("123456.50")) == (
        "Rupees One Lakh Twenty-Three Thousand Four Hundred Fifty-Six and Fifty Paise Only")
    assert rupees_in_words(Decimal("120000")) == "Rupees One Lakh Twenty Thousand Only"
    assert number_words(12345678) == "One Crore Twenty-Three Lakh Forty-Five Thousand Six Hundred Seventy-Eight"
    assert number_words(1_000_000_000) == "One Hundred Crore"
    assert rupees_in_words(Decimal("0.05")) == "Rupees Zero and Five Paise Only"


def test_line_and_invoice_rounding():
    a = price_line(Decimal(10), Decimal("399.99"), Decimal(5), Decimal(12), True, "INR")
    assert (a.gross, a.discount, a.taxable, a.tax.cgst) == (Decimal("3999.90"), Decimal("199.99"), Decimal("3799.91"),
                                                           Decimal("227.99"))
    t = invoice_totals([a])
    assert (t.total, t.round_off) == (Decimal(4256), Decimal("0.11"))
    assert series_number("INV/{fy}/", 2026, 12) == "INV/2627/0012"
    with pytest.raises(ValueError):
        series_number("INVOICE/{fy}/", 2026, 12345)
