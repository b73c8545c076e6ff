"""What people type into an amount box: Indian and western grouping, plain numbers, a currency sign;
refused with a clear message when it is not an amount or has more decimals than the currency."""

from __future__ import annotations

from decimal import Decimal

import pytest
from babel.numbers import format_currency, format_decimal
from hypothesis import given
from hypothesis import strategies as st

from dues.core.money import MoneyError, indian_grouping, parse_amount_input

paise = st.integers(min_value=0, max_value=10**15 - 1).map(lambda n: Decimal(n).scaleb(-2))


@given(paise)
def test_indian_grouping_round_trips(value):
    assert parse_amount_input(indian_grouping(value)) == value
    assert parse_amount_input("₹" + indian_grouping(value)) == value
    assert parse_amount_input("Rs. " + indian_grouping(value)) == value


@given(paise)
def test_western_and_plain_round_trip(value):
    assert parse_amount_input(f"{value:,.2f}") == value
    assert parse_amount_input(f"{value:f}") == value
    assert parse_amount_input(format_currency(value, "INR", locale="en_IN")) == value


@given(st.integers(min_value=0, max_value=10**12))
def test_whole_rupees_and_yen(n):
    assert parse_amount_input(format_decimal(n, format="#,##,##0", locale="en_IN")) == Decimal(n)
    assert parse_amount_input(format_currency(n, "JPY", locale="en_US"), "JPY") == Decimal(n)


@given(st.integers(min_value=0, max_value=10**12).map(lambda n: Decimal(n).scaleb(-3)))
def test_three_decimal_currency(value):
    assert parse_amount_input(f"{value:,.3f}", "KWD") == value


@given(st.integers(min_value=1, max_value=9), paise)
def test_more_decimals_than_the_currency_refused(digit, value):
    with pytest.raises(MoneyError, match="more than 2 decimal places"):
        parse_amount_input(f"{value:f}{digit}")


@pytest.mark.parametrize(("text", "value"), [
    ("1,50,000", "150000.00"), ("1,50,000.50", "150000.50"), ("150,000", "150000.00"), ("150000", "150000.00"),
    (" ₹ 1,50,000 ", "150000.00"), ("INR 12.5", "12.50"), ("1,23,45,678.9", "12345678.90"), ("12.500", "12.50"),
    ("-5", "-5.00"),
])
def test_examples(text, value):
    assert parse_amount_input(text) == Decimal(value)


@pytest.mark.parametrize(("text", "message"), [
    ("12,50", "not an amount"), ("1,5,0000", "not an amount"), ("abc", "not an amount"), ("1e5", "not an amount"),
    ("", "Enter an amount"), ("10.505", "more than 2 decimal places"), ("NaN", "not an amount"),
])
def test_refusals(text, message):
    with pytest.raises(MoneyError, match=message):
        parse_amount_input(text)


def test_yen_has_no_decimals():
    with pytest.raises(MoneyError, match="whole numbers"):
        parse_amount_input("10.5", "JPY")
