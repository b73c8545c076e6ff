"""Spreadsheet formula injection: the one rule every CSV and XLSX export applies to its cells.

A spreadsheet runs a cell as a formula (or a DDE command) when its text begins with ``=``, ``+``, ``-``
or ``@``, and some also after a leading tab or carriage return. A customer named
``=HYPERLINK("http://evil","click")`` must reach the reader as that text, never as a live link. As OWASP
advises, such *text* is prefixed with a single quote. Numbers are never touched: a negative amount passed
as a ``Decimal`` (or int, float) stays a number; only ``str`` values are text. So an exporter passes its
amounts as numbers, not as formatted strings.
"""

from __future__ import annotations

from collections.abc import Iterable

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """``value`` with a leading ``'`` when it is text a spreadsheet would run; anything else unchanged.

    Idempotent: an escaped cell starts with ``'`` and is left alone the second time.
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def neutralise_row(row: Iterable[object]) -> list[object]:
    return [neutralise(v) for v in row]
