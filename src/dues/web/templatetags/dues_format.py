"""Template filters over ``dues.formats``: ``{{ amount|money }}``, ``{{ d|ddmmyyyy }}``, ``{{ t|stamp }}``.

Web views run inside ``dues.formats.use_company(company)`` (``dues.web.views.desk_view`` does it), so a
page with hundreds of amounts reads the company once.
"""

from __future__ import annotations

from functools import lru_cache

from django import template

from dues import formats

register = template.Library()


@register.filter(is_safe=False)
def money(value) -> str:
    """``{{ amount|money }}``: the amount with the currency symbol, e.g. ``₹1,23,45,678.00``."""
    return formats.format_money(value)


@register.filter(is_safe=False)
def amount(value) -> str:
    """``{{ amount|amount }}``: the amount without the symbol, e.g. ``1,23,45,678.00``."""
    return formats.format_money(value, symbol=False)


@register.filter(is_safe=False)
def ddmmyyyy(value) -> str:
    """``{{ d|ddmmyyyy }}``: ``01-04-2025`` for en_IN."""
    return formats.format_day(value)


@register.filter(is_safe=False)
def stamp(value) -> str:
    """``{{ datetime|stamp }}``: ``01-04-2025 14:05`` (local time) for en_IN."""
    return formats.format_stamp(value)


@register.filter(is_safe=False)
def percent(value, digits: int = 1) -> str:
    """``{{ ratio|percent }}`` for a percentage number: ``91.24`` -> ``91.2%``."""
    return formats.format_percentage(value, digits)


@register.filter(is_safe=False)
def label(value) -> str:
    """``{{ "debit_note"|label }}`` -> ``Debit note``."""
    return formats.label(value)


@register.filter(is_safe=False)
def count(value) -> str:
    """``{{ n|count }}``: a count grouped the company's way, ``6614`` -> ``6,614``."""
    return formats.format_count(value)


@register.filter(is_safe=False)
def short_money(value) -> str:
    """``{{ amount|short_money }}``: a headline figure, ``₹12.34 Cr`` / ``₹4.5 L`` (exact one beside it)."""
    return formats.short_money(value)


@register.filter(is_safe=False)
def dayinput(value) -> str:
    """``value="{{ d|dayinput }}"``: a date as typed into a date box (``31-03-2026`` in en_IN); text kept as is."""
    return formats.format_input_day(value)


@register.simple_tag
def day_attrs():
    """``<input type="text" name="on" {% day_attrs %}>``: the attributes of a date box in the company's format."""
    return _day_attrs_html(formats.input_day_format())


@lru_cache(maxsize=8)
def _day_attrs_html(fmt: str):  # the attributes depend only on the format; a worklist page asks 100 times
    from django.forms.utils import flatatt

    from dues.web.fields import day_attrs as attrs

    return flatatt(attrs(fmt))


@register.filter(is_safe=False)
def role_label(value) -> str:
    """``{{ desk.role|role_label }}``: ``ar_manager`` -> ``AR manager`` (the name in ``dues.users.roles.ROLES``)."""
    from dues.users.roles import ROLES

    text = ROLES.get(str(value or ""), "")
    return text.split(":", 1)[0] if text else formats.label(value)


@register.simple_tag
def headline_money(value):
    """``{% headline_money s.overdue %}``: a tile's figure in short form (``₹12.34 Cr``) that always fits, with the
    exact amount for everyone: in ``title`` and a tip shown on hover and on keyboard focus (the figure is
    focusable), in the ``<data value>`` and, for screen readers, as the element's accessible text."""
    from django.utils.html import format_html

    exact, short = formats.format_money(value), formats.short_money(value)
    if not exact:
        return ""
    if short == exact.replace(".00", ""):
        return format_html('<data class="figure" value="{}">{}</data>', value, exact)
    return format_html('<data class="figure" value="{}" title="{}" tabindex="0"><span aria-hidden="true">{}</span>'
                       '<span class="visually-hidden">{}</span><span class="figure__exact-tip" aria-hidden="true">{}'
                       '</span></data>', value, exact, short, exact, exact)


@register.filter(is_safe=False)
def audit_value(value):
    """A value as an audit record holds it, shown the company's way: an ISO date as ``31-03-2026``, an amount
    (``118000.00``) grouped ``1,18,000.00``; anything else (codes, numbers, text) as recorded."""
    import re

    if isinstance(value, str):
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return formats.format_day(value)
        if re.fullmatch(r"-?\d+\.\d{2}", value):
            return formats.format_money(value, symbol=False)
    return value
