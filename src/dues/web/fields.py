"""The desk's two input fields, for every form that takes an amount or a date.

``AmountField`` reads an amount the way Indian accountants write it ("1,50,000", "1,50,000.50"), the
western way ("150,000.50"), plain ("150000") or with a currency sign ("₹ 1,50,000"), and refuses more
decimals than the currency has, all through the pure ``dues.core.money.parse_amount_input``.

``DayField`` is a text box (never ``<input type="date">``, which shows mm/dd/yyyy in many browsers)
that shows and accepts the company's date format (dd-mm-yyyy in an Indian locale; yyyy-mm-dd and
dd/mm/yyyy are read too), through ``dues.core.dates.parse_date``.

The currency and locale are the company's (``dues.formats.company_format``; desk views run inside
``use_company``); pass ``currency=`` to pin one. Views that read ``request.POST`` by hand use
``read_amount`` / ``read_day``, which return ``(value, error message)``; templates that write the
inputs by hand use ``{% day_attrs %}`` and ``{{ value|dayinput }}`` (``dues_format`` tags).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django import forms

from dues.core.dates import parse_date
from dues.core.money import MoneyError, parse_amount_input
from dues.formats import company_format, format_input_day, input_day_format

#: the HTML pattern of a typed date: d-m-yyyy (with -, / or .) or yyyy-mm-dd
DAY_PATTERN = r"\d{1,2}[\-/.]\d{1,2}[\-/.]\d{4}|\d{4}-\d{1,2}-\d{1,2}"
AMOUNT_PATTERN = r"\s*[^\d\-+]{0,4}\s*[\-+]?[\d,]+(\.\d+)?\s*"


def day_attrs(fmt: str | None = None) -> dict[str, str]:
    """The attributes of a date text box (placeholder in the company's format, pattern, numeric keyboard)."""
    fmt = fmt or input_day_format()
    return {"placeholder": fmt, "pattern": DAY_PATTERN, "inputmode": "numeric", "autocomplete": "off",
            "spellcheck": "false", "data-day": fmt, "title": f"Date as {fmt}", "size": "11"}


def read_amount(text, *, currency: str | None = None, required: bool = True, allow_negative: bool = False,
                allow_zero: bool = True) -> tuple[Decimal | None, str]:
    """``(amount, "")`` or ``(None, message)`` for what a person typed; blank and not required -> ``(None, "")``."""
    text = "" if text is None else str(text)
    if not text.strip():
        return None, ("Enter an amount." if required else "")
    try:
        value = parse_amount_input(text, currency or company_format()[1])
    except MoneyError as exc:
        return None, str(exc)
    if value < 0 and not allow_negative:
        return None, "Cannot be negative."
    if value == 0 and not allow_zero:
        return None, "Must be more than zero."
    return value, ""


def read_day(text, *, required: bool = True) -> tuple[date | None, str]:
    """``(date, "")`` or ``(None, message)`` for a typed date."""
    text = "" if text is None else str(text).strip()
    if not text:
        return None, ("Enter a date." if required else "")
    try:
        return parse_date(text), ""
    except ValueError:
        return None, f"“{text}” is not a date: type it as {input_day_format()}, e.g. {format_input_day(date(2026, 3, 31))}."


class AmountInput(forms.TextInput):
    def __init__(self, attrs=None):
        base = {"inputmode": "decimal", "autocomplete": "off", "spellcheck": "false", "class": "amount-input"}
        super().__init__({**base, **(attrs or {})})


class AmountField(forms.Field):
    """An amount in the company's currency, as people type it. ``min_value`` defaults to zero."""

    widget = AmountInput

    def __init__(self, *, currency: str | None = None, min_value: Decimal | None = Decimal(0),
                 allow_zero: bool = True, max_value: Decimal | None = Decimal("1e15"), **kwargs):
        self.currency, self.min_value, self.allow_zero, self.max_value = currency, min_value, allow_zero, max_value
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in self.empty_values or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, Decimal):
            return value
        amount, error = read_amount(value, currency=self.currency, allow_negative=True)
        if error:
            raise forms.ValidationError(error, code="invalid")
        return amount

    def validate(self, value):
        super().validate(value)
        if value is None:
            return
        if self.min_value is not None and value < self.min_value:
            raise forms.ValidationError("Cannot be negative." if self.min_value == 0 else
                                        f"Must be at least {self.min_value}.", code="min_value")
        if not self.allow_zero and value == 0:
            raise forms.ValidationError("Must be more than zero.", code="min_value")
        if self.max_value is not None and value >= self.max_value:
            raise forms.ValidationError("Too large for an amount.", code="max_value")

    def prepare_value(self, value):
        if isinstance(value, Decimal):
            return f"{value:f}"
        return value


class DayInput(forms.TextInput):
    """A text box for a date in the company's format (see the module note)."""

    def get_context(self, name, value, attrs):
        attrs = {**day_attrs(), **(attrs or {})}
        return super().get_context(name, value, attrs)

    def format_value(self, value):
        return format_input_day(value) or None


class DayField(forms.DateField):
    """A date typed as dd-mm-yyyy (or the company's format), read by ``parse_date``."""

    widget = DayInput

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, date):
            return value
        day, error = read_day(value)
        if error:
            raise forms.ValidationError(error, code="invalid")
        return day
