"""The shared form fields (``dues.web.fields``) and the formatting filters pages use."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django import forms

from dues import formats
from dues.web.fields import AmountField, DayField, read_amount, read_day


class _Form(forms.Form):
    amount = AmountField()
    fee = AmountField(required=False, currency="JPY")
    on = DayField()


@pytest.fixture(autouse=True)
def _indian():
    with formats.use_company(type("C", (), {"locale": "en_IN", "currency": "INR"})()):
        yield


def test_amount_and_day_fields_read_what_people_type():
    form = _Form(data={"amount": "1,50,000.50", "fee": "1,200", "on": "31-03-2026"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"amount": Decimal("150000.50"), "fee": Decimal(1200), "on": date(2026, 3, 31)}


def test_fields_refuse_with_clear_messages():
    form = _Form(data={"amount": "10.505", "fee": "1.5", "on": "03/31/2026"})
    assert not form.is_valid()
    assert "more than 2 decimal places" in form.errors["amount"][0]
    assert "whole numbers" in form.errors["fee"][0]
    assert "dd-mm-yyyy" in form.errors["on"][0]
    assert "Cannot be negative" in _Form(data={"amount": "-1", "on": "2026-03-31"}).errors["amount"][0]


def test_day_input_shows_the_company_format():
    html = str(_Form(initial={"on": date(2026, 3, 31)})["on"])
    assert 'type="text"' in html and 'value="31-03-2026"' in html and 'placeholder="dd-mm-yyyy"' in html
    assert 'type="date"' not in html


def test_read_helpers():
    assert read_amount("₹1,50,000") == (Decimal("150000.00"), "")
    assert read_amount("", required=False) == (None, "")
    assert read_amount("0", allow_zero=False)[1] == "Must be more than zero."
    assert read_day("1-4-2026") == (date(2026, 4, 1), "")
    assert "not a date" in read_day("tomorrow")[1]


def test_short_money_and_counts():
    assert formats.short_money(Decimal("123456789.99")) == "₹12.34 Cr"
    assert formats.short_money(Decimal("450000")) == "₹4.5 L"
    assert formats.short_money(Decimal("99999.99")) == "₹99,999"
    assert formats.short_money(Decimal("123456789"), locale="en_US", currency="USD") == "$123.45 M"
    assert formats.format_count(6614) == "6,614"
    assert formats.format_count(1234567) == "12,34,567"
    assert formats.format_input_day("2026-03-31") == "31-03-2026"
    assert formats.format_input_day("not yet") == "not yet"


def test_role_label():
    from dues.web.templatetags.dues_format import role_label

    assert role_label("ar_manager") == "AR manager"
    assert role_label("collector") == "Collector"
