"""Overdue interest, against figures worked by hand (actual/365, each period rounded to the paisa)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from dues.core.interest import InterestError, Terms, compute, msmed

D = Decimal
LAKH = D("100000")


def test_simple_18_percent_on_one_lakh_for_30_days():
    # 1,00,000 x 18 / 100 x 30 / 365 = 1,479.452... -> 1,479.45
    result = compute(LAKH, date(2026, 1, 31), [], date(2026, 3, 2), Terms("simple", D("18")))
    assert result.interest == D("1479.45")
    assert result.days == 30
    [period] = result.periods
    assert (period.start, period.end, period.balance) == (date(2026, 2, 1), date(2026, 3, 2), LAKH)


def test_nothing_before_the_due_date_or_in_mode_none():
    assert compute(LAKH, date(2026, 3, 31), [], date(2026, 3, 31), Terms("simple", D("18"))).interest == 0
    assert compute(LAKH, date(2026, 1, 31), [], date(2026, 3, 2), Terms()).interest == 0


def test_compound_with_monthly_rests():
    # Feb: 1,00,000 x 12% x 28/365 = 920.547... -> 920.55; rest on 28 Feb: balance 1,00,920.55
    # Mar: 1,00,920.55 x 12% x 31/365 = 1,028.5601... -> 1,028.56
    result = compute(LAKH, date(2026, 1, 31), [], date(2026, 3, 31), Terms("compound", D("12")))
    assert [(p.days, p.balance, p.interest, p.rest) for p in result.periods] == [
        (28, LAKH, D("920.55"), True), (31, D("100920.55"), D("1028.56"), False)]
    assert result.interest == D("1949.11")
    simple = compute(LAKH, date(2026, 1, 31), [], date(2026, 3, 31), Terms("simple", D("12")))
    assert simple.interest == D("1939.73")  # 1,00,000 x 12% x 59/365 = 1,939.726...: compounding adds 9.38


def test_reducing_balance_after_a_part_payment():
    # 40,000 paid on 15 Feb: 1-15 Feb on 1,00,000 (15 days) = 739.73; 16 Feb-2 Mar on 60,000 (15 days) = 443.84
    payments = [(date(2026, 2, 15), D("40000"))]
    result = compute(LAKH, date(2026, 1, 31), payments, date(2026, 3, 2), Terms("simple", D("18")))
    assert [(p.start, p.end, p.balance, p.interest) for p in result.periods] == [
        (date(2026, 2, 1), date(2026, 2, 15), LAKH, D("739.73")),
        (date(2026, 2, 16), date(2026, 3, 2), D("60000"), D("443.84"))]
    assert result.interest == D("1183.57")
    # from the due date on the whole amount: the part payment does not reduce it
    whole = compute(LAKH, date(2026, 1, 31), payments, date(2026, 3, 2), Terms("simple", D("18"), basis="due_date"))
    assert whole.interest == D("1479.45")


def test_paid_in_full_stops_interest_and_a_reversal_restarts_it():
    paid = [(date(2026, 2, 10), LAKH)]
    # 10 days on 1,00,000 at 18% = 493.15
    assert compute(LAKH, date(2026, 1, 31), paid, date(2026, 3, 31), Terms("simple", D("18"))).interest == D("493.15")
    reversed_ = [*paid, (date(2026, 2, 20), -LAKH)]
    # 10 days, then 39 days again (21 Feb - 31 Mar) = 493.15 + 1,923.29
    result = compute(LAKH, date(2026, 1, 31), reversed_, date(2026, 3, 31), Terms("simple", D("18")))
    assert result.interest == D("2416.44")


def test_msmed_preset_is_three_times_the_bank_rate_compounded_monthly():
    terms = msmed(D("6.75"))
    assert terms.annual_rate == D("20.25") and terms.compounds
    # Feb: 1,00,000 x 20.25% x 28/365 = 1,553.42; Mar: 1,01,553.42 x 20.25% x 31/365 = 1,746.5797... -> 1,746.58
    result = compute(LAKH, date(2026, 1, 31), [], date(2026, 3, 31), terms)
    assert [p.interest for p in result.periods] == [D("1553.42"), D("1746.58")]
    assert result.interest == D("3300.00")


def test_since_skips_what_was_already_charged():
    result = compute(LAKH, date(2026, 1, 31), [], date(2026, 3, 2), Terms("simple", D("18")), since=date(2026, 2, 15))
    assert result.periods[0].start == date(2026, 2, 16) and result.days == 15
    assert result.interest == D("739.73")


def test_bad_terms_are_refused():
    with pytest.raises(InterestError):
        Terms("weekly", D("1"))
    with pytest.raises(InterestError):
        Terms("msmed")
