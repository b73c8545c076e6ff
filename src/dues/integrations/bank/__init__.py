"""Bank statement parsers: bytes in, ``StatementData`` out. Pure Python, no Django.

``parse_statement(data, filename, fmt="auto")`` picks the parser by content (and extension for
CSV/XLSX) and returns balance-checked statements, or raises ``ValidationFailed``.
"""

from __future__ import annotations

import re
from pathlib import Path

from dues.core.errors import Problem, ValidationFailed

from .model import Balance, BankTxn, StatementData

FORMATS = ("auto", "csv", "xlsx", "mt940", "camt053", "ofx")

__all__ = ["FORMATS", "Balance", "BankTxn", "StatementData", "detect_format", "parse_statement"]


def detect_format(data: bytes, filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    if data[:4] == b"PK\x03\x04" or suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    head = data[:2048].lstrip(b"\xef\xbb\xbf \r\n\t").upper()
    if b"OFXHEADER" in head or b"<OFX>" in data[:4096].upper():
        return "ofx"
    if head.startswith(b"<?XML") or head.startswith(b"<DOCUMENT"):
        return "camt053"
    if suffix in (".sta", ".940", ".942", ".swi", ".mt940"):
        return "mt940"
    text = data[:4096].decode("latin-1")
    if suffix != ".csv" and re.search(r"(?m)^:(20|25|28C?|60[FM]|61|62[FM]|86):", text):
        return "mt940"
    return "csv"


def parse_statement(data: bytes, filename: str, fmt: str = "auto", preset: str = "generic",
                    mapping: dict[str, str] | None = None, check: bool = True) -> list[StatementData]:
    source = Path(filename).name
    if fmt not in FORMATS:
        raise ValidationFailed([Problem(f"unknown format {fmt!r} (use {', '.join(FORMATS)})", "format", None, source)])
    if not data.strip():
        raise ValidationFailed([Problem("the file is empty", "", None, source)])
    if fmt == "auto":
        fmt = detect_format(data, filename)
    if fmt == "mt940":
        from . import mt940

        return mt940.parse(data, source, check=check)
    if fmt == "camt053":
        from . import camt

        return camt.parse(data, source, check=check)
    if fmt == "ofx":
        from . import ofx

        return ofx.parse(data, source, check=check)
    from . import tabular

    return tabular.parse(data, source, kind=fmt, preset=preset or "generic", mapping=mapping, check=check)
