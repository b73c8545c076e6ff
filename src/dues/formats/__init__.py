"""Amounts and dates the way the company writes them, for every interface: web pages, PDFs, e-mails,
the CLI and exports all call these (the web's template filters in ``web/templatetags/dues_format.py``
are thin wrappers).

The locale and currency are the company's (``Company.locale``, ``Company.currency``). Code that formats
many amounts runs inside ``use_company(company)`` so the company is read once; elsewhere (a shell, a
later e-mail) the company is looked up. en_IN groups in lakhs and crores: ``12345678`` ->
``₹1,23,45,678.00``; dates are dd-mm-yyyy where the locale is Indian.

(``dues/formats/en_IN/formats.py`` beside this file is Django's format module for en_IN.)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal, format_percent
from django.utils import timezone

DEFAULT_LOCALE, DEFAULT_CURRENCY = "en_IN", "INR"
LAKH_PATTERN = "¤#,##,##0.00"  # Indian grouping, in case a Babel/CLDR release ever loses it

_current: ContextVar[tuple[str, str] | None] = ContextVar("dues_company_format", default=None)


@contextmanager
def use_company(company) -> Iterator[None]:
    """Format amounts and dates in ``company``'s locale and currency while rendering."""
    token = _current.set((company.locale or DEFAULT_LOCALE, company.currency or DEFAULT_CURRENCY))
    try:
        yield
    finally:
        _current.reset(token)


def company_format() -> tuple[str, str]:
    """(locale, currency) for the company being shown."""
    current = _current.get()
    if current:
        return current
    from dues.companies.models import Company

    row = Company.objects.order_by("id").values_list("locale", "currency").first()
    return (row[0] or DEFAULT_LOCALE, row[1] or DEFAULT_CURRENCY) if row else (DEFAULT_LOCALE, DEFAULT_CURRENCY)


@lru_cache(maxsize=64)
def _locale(name: str) -> Locale:
    try:
        return Locale.parse(name)
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse(DEFAULT_LOCALE)


@lru_cache(maxsize=64)
def currency_pattern(locale: str, currency: str) -> str:
    """The locale's currency pattern; for an Indian locale, one that surely groups in lakhs."""
    loc = _locale(locale)
    pattern = loc.currency_formats["standard"].pattern
    if loc.territory == "IN" and "1,23,45,678" not in format_currency(Decimal(12345678), currency, locale=loc):
        pattern = LAKH_PATTERN
    return pattern


@lru_cache(maxsize=64)
def _plain_pattern(locale: str, currency: str) -> str:
    """The currency pattern without the symbol (for table cells under a header naming the currency)."""
    return currency_pattern(locale, currency).replace("¤", "").replace("\xa0", "").strip()


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def format_money(value, *, symbol: bool = True, locale: str | None = None, currency: str | None = None) -> str:
    """``Decimal("1234567.5")`` -> ``₹12,34,567.50`` (en_IN, INR); ``symbol=False`` -> ``12,34,567.50``."""
    amount = _decimal(value)
    if amount is None:
        return ""
    if locale is None or currency is None:
        default_locale, default_currency = company_format()
        locale, currency = locale or default_locale, currency or default_currency
    pattern = currency_pattern(locale, currency) if symbol else _plain_pattern(locale, currency)
    return format_currency(amount, currency, format=pattern, locale=_locale(locale))


def _as_date(value) -> date | None:
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if isinstance(value, date):
        return value
    return None


def format_day(value, *, locale: str | None = None) -> str:
    """dd-mm-yyyy in an Indian locale (the way invoices are dated there), else the locale's medium form."""
    day = _as_date(value)
    if day is None and isinstance(value, str) and value.strip():
        from dues.core.dates import parse_date

        try:  # an ISO date handed over as text (a view's form value, a JSON field)
            day = parse_date(value)
        except ValueError:
            day = None
    if day is None:
        return "" if value is None else str(value)
    loc = _locale(locale or company_format()[0])
    if loc.territory == "IN":
        return day.strftime("%d-%m-%Y")
    return format_date(day, "medium", locale=loc)


def format_stamp(value) -> str:
    """A moment in local time: ``01-04-2025 14:05`` for en_IN, else the locale's short form."""
    if not isinstance(value, datetime):
        return format_day(value)
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    loc = _locale(company_format()[0])
    if loc.territory == "IN":
        return value.strftime("%d-%m-%Y %H:%M")
    return format_datetime(value, "short", locale=loc)


def format_percentage(value, digits: int = 1) -> str:
    """A percentage number in the company's locale: ``91.24`` -> ``91.2%``."""
    number = _decimal(value)
    if number is None:
        return ""
    fmt = "#,##0" + ("." + "0" * int(digits) if int(digits) else "") + "%"
    return format_percent(number / 100, format=fmt, locale=_locale(company_format()[0]))


def money_text(value: Decimal, locale: str = "en_IN") -> str:
    """An amount without a symbol for plain-text output: '12,34,567.50' in en_IN (lakh grouping), '1,234,567.50' in en_US."""
    return format_decimal(value, format="#,##,##0.00" if locale == "en_IN" else "#,##0.00", locale=locale)


def label(value) -> str:
    """``"debit_note"`` -> ``Debit note``."""
    text = str(value or "").replace("_", " ").strip()
    return text[:1].upper() + text[1:]


# -- short forms, counts and typed dates ---------------------------------------------------------------

_INDIAN_UNITS = ((Decimal(10) ** 7, "Cr"), (Decimal(10) ** 5, "L"))
_WESTERN_UNITS = ((Decimal(10) ** 9, "B"), (Decimal(10) ** 6, "M"), (Decimal(10) ** 3, "K"))


def short_money(value, *, locale: str | None = None, currency: str | None = None) -> str:
    """A headline figure short enough for a tile: ``123456789`` -> ``₹12.34 Cr``, ``450000`` -> ``₹4.5 L``
    in an Indian locale (below a lakh the whole rupees, ``₹99,999``); ``$123.45 M``, ``$4.5 K`` elsewhere.

    Cut down, never rounded up, to two decimals, so a short figure never claims more than the exact
    one (which pages show beside it on hover and focus).
    """
    from babel.numbers import get_currency_symbol

    amount = _decimal(value)
    if amount is None:
        return ""
    if locale is None or currency is None:
        default_locale, default_currency = company_format()
        locale, currency = locale or default_locale, currency or default_currency
    loc = _locale(locale)
    indian = loc.territory == "IN"
    sign, size = ("-" if amount < 0 else ""), abs(amount)
    for unit, suffix in _INDIAN_UNITS if indian else _WESTERN_UNITS:
        if size >= unit:
            scaled = (size / unit).quantize(Decimal("0.01"), rounding="ROUND_DOWN")
            number = format_decimal(scaled, format="#,##,##0.##" if indian else "#,##0.##", locale=loc)
            return f"{sign}{get_currency_symbol(currency, locale=loc)}{number} {suffix}"
    whole = size.quantize(Decimal(1), rounding="ROUND_DOWN")
    return sign + format_money(whole, locale=locale, currency=currency).replace(".00", "")


def format_count(value, *, locale: str | None = None) -> str:
    """A count grouped the company's way: ``6614`` -> ``6,614``; ``1234567`` -> ``12,34,567`` in en_IN."""
    if value is None or value == "":
        return ""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return str(value)
    loc = _locale(locale or company_format()[0])
    return format_decimal(number, format="#,##,##0" if loc.territory == "IN" else "#,##0", locale=loc)


def input_day_format(locale: str | None = None) -> str:
    """How dates are typed into the desk's date boxes: ``dd-mm-yyyy`` in an Indian locale, else ``yyyy-mm-dd``
    (both read back by ``dues.core.dates.parse_date``)."""
    return "dd-mm-yyyy" if _locale(locale or company_format()[0]).territory == "IN" else "yyyy-mm-dd"


def format_input_day(value, *, locale: str | None = None) -> str:
    """A date as it goes into a date box (``31-03-2026`` in en_IN); text that is not a date comes back as typed,
    so a form shown again with an error keeps what the user wrote."""
    from dues.core.dates import parse_date

    if value is None or value == "":
        return ""
    day = _as_date(value)
    if day is None:
        try:
            day = parse_date(str(value))
        except ValueError:
            return str(value)
    return day.strftime("%d-%m-%Y" if input_day_format(locale) == "dd-mm-yyyy" else "%Y-%m-%d")
