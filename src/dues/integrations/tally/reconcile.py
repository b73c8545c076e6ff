"""Tally XML (a Day Book / vouchers export) read as THEIR ledger of us: the entries of one ledger."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

from dues.core import reconcile as rc
from dues.core.dates import parse_date
from dues.core.errors import DuesError, Problem, ValidationFailed
from dues.core.money import MoneyError, parse_amount

_BAD_CHARS = re.compile(r"&#(?:[0-8]|1[0-9]|2[0-9]|3[01]|x[0-8bcefBCEF]|x1[0-9a-fA-F]);")


def _tally_text(data: bytes, source: str) -> str:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        text = data.decode("utf-16")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)  # the declared encoding no longer applies to a str
    text = _BAD_CHARS.sub("", text)  # Tally writes control characters (&#4;, or raw) XML forbids
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", text)


def _tally_date(text: str) -> date:
    text = text.strip()
    if re.fullmatch(r"\d{8}", text):
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    return parse_date(text)


def _tally_amount(entry) -> tuple[Decimal, bool | None]:
    """(absolute amount, is_debit or None when only the sign says)."""
    node = entry.find("AMOUNT")
    if node is None:
        return Decimal(0), None
    inner = node.find("AMOUNT")
    if inner is not None:  # TallyConnector layout: <AMOUNT><AMOUNT>1</AMOUNT><ISDEBIT>true</ISDEBIT></AMOUNT>
        value = parse_amount((inner.text or "0").strip())
        flag = (node.findtext("ISDEBIT") or "").strip().lower()
        return abs(value), (flag in ("true", "yes")) if flag else value < 0
    value = parse_amount((node.text or "0").strip())
    return abs(value), value < 0  # native Tally: a debit is negative


def read_tally_xml(path: str | Path, *, ledger: str | None = None, data: bytes | None = None) -> list[rc.TheirEntry]:
    """Entries of ``ledger`` (our account in their books) from a Tally XML vouchers export.

    Without ``ledger`` the party ledger that appears in most vouchers is taken. Cancelled and optional
    vouchers are skipped. ``row`` is the 1-based position of the voucher among those touching the ledger.
    """
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    from dues.integrations.their_ledger import kind_of as _kind_of

    path = Path(path)
    source = path.name
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise DuesError(f"{path}: cannot read the file ({exc.strerror})") from exc
    try:
        root = fromstring(_tally_text(data, source))
    except (DefusedXmlException, SyntaxError) as exc:
        raise DuesError(f"{source}: not a readable Tally XML export ({exc})") from exc
    vouchers = [v for v in root.iter("VOUCHER")
                if (v.findtext("ISCANCELLED") or "").strip().lower() not in ("yes", "true")
                and (v.findtext("ISOPTIONAL") or "").strip().lower() not in ("yes", "true")]

    def entries(v):
        return [e for tag in ("ALLLEDGERENTRIES.LIST", "LEDGERENTRIES.LIST") for e in v.findall(tag)]

    if not ledger:
        counts: dict[str, int] = {}
        for v in vouchers:
            names = {(v.findtext("PARTYLEDGERNAME") or "").strip()}
            names |= {(e.findtext("LEDGERNAME") or "").strip() for e in entries(v)
                      if (e.findtext("ISPARTYLEDGER") or "").strip().lower() in ("yes", "true")}
            for name in names - {""}:
                counts[name] = counts.get(name, 0) + 1
        if not counts:
            raise DuesError(f"{source}: no party ledger found; name ours with --map ledger=NAME")
        ledger = max(sorted(counts), key=lambda k: counts[k])
    want = ledger.strip().lower()
    out: list[rc.TheirEntry] = []
    problems: list[Problem] = []
    row = 0
    for v in vouchers:
        mine = [e for e in entries(v) if (e.findtext("LEDGERNAME") or "").strip().lower() == want]
        if not mine:
            continue
        row += 1
        try:
            on = _tally_date(v.findtext("DATE") or "")
        except (ValueError, DuesError) as exc:
            problems.append(Problem(f"not a date: {v.findtext('DATE')!r} ({exc})", field="DATE", row=row,
                                    source=source))
            continue
        signed = Decimal(0)
        try:
            for e in mine:
                value, debit = _tally_amount(e)
                if debit is None:
                    debit = (e.findtext("ISDEEMEDPOSITIVE") or "").strip().lower() in ("yes", "true")
                signed += -value if debit else value
        except MoneyError as exc:
            problems.append(Problem(str(exc), field="AMOUNT", row=row, source=source))
            continue
        if signed == 0:
            continue
        ref = (v.findtext("REFERENCE") or v.findtext("VOUCHERNUMBER") or "").strip()
        narration = (v.findtext("NARRATION") or "").strip()
        vtype = (v.findtext("VOUCHERTYPENAME") or v.get("VCHTYPE") or "").strip()
        number = (v.findtext("VOUCHERNUMBER") or "").strip()
        text = f"{ref} {number} {narration}"
        out.append(rc.TheirEntry(row, on, signed, _kind_of(text, signed, vtype), ref, f"{narration} {number}".strip()))
    if problems:
        raise ValidationFailed(problems)
    if not out:
        raise DuesError(f"{source}: no vouchers for ledger {ledger!r}")
    return out
