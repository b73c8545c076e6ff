from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dues.core.money import Money, MoneyError, allocate, minor_units, parse_amount, parse_amount_input, quantize


@pytest.mark.parametrize(("text", "expected"), [
    ("1,25,000.50", Decimal("125000.50")),
    ("125,000.50", Decimal("125000.50")),
    ("₹ 1,23,45,678.00", Decimal("12345678.00")),
    ("Rs. 500", Decimal("500")),
    ("(1,000.00)", Decimal("-1000.00")),
    ("-42.5", Decimal("-42.5")),
    (" 7 ", Decimal("7")),
])
def test_parse_amount_accepts_what_people_write(text, expected):
    assert parse_amount(text) == expected
    assert isinstance(parse_amount(text), Decimal)


@pytest.mark.parametrize("text", ["", "abc", "1,2,3", "12.34.56", "1e5", "--5"])
def test_parse_amount_rejects_non_amounts(text):
    with pytest.raises(MoneyError):
        parse_amount(text)


def test_floats_are_refused_everywhere():
    with pytest.raises(MoneyError):
        parse_amount(12.5)
    with pytest.raises(MoneyError):
        Money(12.5, "INR")
    with pytest.raises(MoneyError):
        quantize(12.5, "INR")


def test_minor_units_follow_the_currency():
    assert (minor_units("INR"), minor_units("JPY"), minor_units("KWD")) == (2, 0, 3)
    assert quantize(Decimal("10.005"), "INR") == Decimal("10.01")  # half up, named
    assert quantize(Decimal("10.5"), "JPY") == Decimal("11")


def test_money_does_not_mix_currencies():
    with pytest.raises(MoneyError):
        Money(Decimal(1), "INR") + Money(Decimal(1), "USD")
    assert Money(Decimal("1.10"), "INR") + Money(Decimal("2.20"), "INR") == Money(Decimal("3.30"), "INR")


@given(total=st.decimals(min_value=0, max_value=10**9, places=2),
       weights=st.lists(st.decimals(min_value=Decimal("0.01"), max_value=10**6, places=2), min_size=1, max_size=12))
def test_allocate_parts_always_sum_to_the_total(total, weights):
    parts = allocate(total, weights, "INR")
    assert sum(parts) == total
    assert all(p >= 0 and p == p.quantize(Decimal("0.01")) for p in parts)


@pytest.mark.parametrize("text", ["12,50", "1,234,56", "1,00,000,00", "1,2345"])
def test_misplaced_grouping_is_a_typo_not_an_amount(text):
    with pytest.raises(MoneyError):
        parse_amount(text)


@pytest.mark.parametrize(("text", "expected"), [("10,00,000", Decimal("1000000")), ("1,000,000", Decimal("1000000")),
                                                ("12,345", Decimal("12345")), ("1,23,45,678.90", Decimal("12345678.90"))])
def test_proper_grouping(text, expected):
    assert parse_amount(text) == expected


@pytest.mark.parametrize("text", ["9" * 17, "99999999999999999999999999999", "1" + "0" * 16 + ".5"])
def test_an_amount_beyond_what_the_ledger_holds_is_refused_by_name(text):
    with pytest.raises(MoneyError, match="is too large: an amount has at most 16 digits before the decimal point"):
        parse_amount(text)
    with pytest.raises(MoneyError, match="is too large"):
        parse_amount_input(text)


def test_sixteen_whole_digits_still_read():
    assert parse_amount("9" * 16 + ".99", "INR") == Decimal("9" * 16 + ".99")


@pytest.mark.parametrize(("text", "currency", "message"), [
    ("10.999", "INR", "10.999 has more than 2 decimal places (INR goes down to 0.01)"),
    ("5.5", "JPY", "5.5 has decimals; JPY amounts are whole numbers"),
    ("1.0005", "KWD", "1.0005 has more than 3 decimal places (KWD goes down to 0.001)"),
])
def test_more_decimals_than_the_currency_has_is_refused_not_rounded(text, currency, message):
    with pytest.raises(MoneyError) as exc:
        parse_amount(text, currency)
    assert str(exc.value) == message
    assert parse_amount(text) == Decimal(text)  # without a currency the caller decides


def test_decimals_the_currency_has_are_kept_even_with_trailing_zeros():
    assert parse_amount("10.990", "INR") == Decimal("10.990")
    assert parse_amount("1.005", "KWD") == Decimal("1.005")


@given(units=st.integers(min_value=0, max_value=10**12), currency=st.sampled_from(["INR", "JPY", "KWD"]))
def test_splitting_a_tax_total_in_two_gives_what_allocate_gives(units, currency):
    # split_total_tax has a fast path for the import's tax column; it must agree with allocate to the digit
    from dues.core.gst import split_total_tax

    tax = Decimal(units).scaleb(-minor_units(currency))
    split = split_total_tax(tax, True, currency)
    expected = allocate(tax, [Decimal(1), Decimal(1)], currency)
    assert (str(split.cgst), str(split.sgst)) == (str(expected[0]), str(expected[1]))
    assert split.cgst + split.sgst == tax
