"""SWIFT MT940 (statement) and MT942 (interim report), tolerant of the common bank dialects.

Handled: SWIFT block headers ``{1:..}{2:..}{4:``, bank preambles before the first field, several
statements per file (each ``:20:``), ``:60F/M:`` / ``:62F/M:`` balances, ``:61:`` lines with or
without entry date (blank entry dates too), funds codes, ``CR``/``DR`` and reversal marks ``RC``/``RD``,
comma decimals, ``:86:`` details as free text, ING ``/EREF/../CNTP/../REMI/`` subfields and German
``?20..?33`` subfields. A day like 30 February (German month-end booking) is clamped to the month's
last day with a warning. Anything else unreadable is an error naming the line and field.
"""

from __future__ import annotations

import calendar
import re
from datetime import date
from decimal import Decimal

from dues.core.errors import Problem, ValidationFailed

from .model import CREDIT, DEBIT, Balance, BankTxn, StatementData, check_balances, checked_amount, enrich_from_narration

_TAG = re.compile(r"^:(\d{2}[A-Z]?|NS):(.*)$")  # NS: German non-SWIFT field
_TAGLIKE = re.compile(r"^:[0-9A-Z]{1,6}:")
_BALANCE = re.compile(r"^([CD])(\d{6})([A-Z]{3})(\d[\d,]*)\s*$")
_LINE = re.compile(
    r"^(?P<value>\d{6})(?P<entry>\d{4}|\s{4})?\s?(?P<mark>RC|RD|CR|DR|C|D)(?P<funds>[A-Z])?(?P<amount>\d[\d,]*)"
    r"(?P<type>[A-Z][A-Z0-9]{3})?(?P<custref>[^\n]*?)(?://(?P<bankref>[^\n]*))?(?:\n(?P<extra>.*))?$",
    re.S,
)
_FLOOR = re.compile(r"^([A-Z]{3})([CD]?)(\d[\d,]*)$")
_ING_KEYS = ("EREF", "CNTP", "REMI", "PREF", "RTRN", "MARF", "CSID", "ORDP", "BENM", "NAME", "ADDR", "ISDT", "PURP",
             "IREF", "ULTC", "ULTD", "BUSP", "TRCD")


def _amount(text: str) -> Decimal:
    if not re.fullmatch(r"\d[\d,]*", text, re.ASCII) or text.count(",") > 1:
        raise ValueError(f"not an MT940 amount: {text!r}")
    whole, _, frac = text.partition(",")
    return checked_amount(Decimal(f"{whole}.{frac or '0'}"), text)


def _date(yymmdd: str, warnings: list[str], where: str) -> date:
    y, m, d = 2000 + int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:6])
    if y > 2079:  # pragma: no cover - SWIFT years are 1980..2079
        y -= 100
    if not 1 <= m <= 12 or d < 1:
        raise ValueError(f"no such date: {yymmdd!r}")
    last = calendar.monthrange(y, m)[1]
    if d > last:
        if d > 31:
            raise ValueError(f"no such date: {yymmdd!r}")
        warnings.append(f"{where}: day {d} of month {m} read as {y}-{m:02d}-{last}")
        d = last
    return date(y, m, d)


def _join(text: str) -> str:
    """Undo the 65-character wrapping of :86: continuation lines (a full line continues mid-word)."""
    out, prev = "", ""
    for line in text.split("\n"):
        line = line.rstrip()
        if out and len(prev) < 64:
            out += " "
        out += line
        prev = line
    return " ".join(out.split())


def _details(txn: BankTxn, text: str) -> None:
    raw = text.replace("\r", "")
    joined = "".join(raw.split("\n")) if "?2" in raw or "/EREF/" in raw or "/REMI/" in raw else raw
    if re.match(r"^\d{3}\?", joined):  # German GVC: 166?00GUTSCHRIFT?10..?20text?21text?30BLZ?31ACCT?32NAME
        parts = dict.fromkeys(("00", "30", "31", "32", "33"), "")
        remittance = []
        for code, value in re.findall(r"\?(\d{2})([^?]*)", joined):
            if "20" <= code <= "29" or "60" <= code <= "63":
                remittance.append(value)
            elif code in parts:
                parts[code] += value
        txn.narration = " ".join(" ".join([parts["00"], "".join(remittance)]).split())
        txn.counterparty_ifsc = parts["30"].strip()
        txn.counterparty_account = parts["31"].strip()
        txn.counterparty_name = " ".join((parts["32"] + parts["33"]).split())
        m = re.search(r"EREF\+(\S+)", "".join(remittance))
        if m:
            txn.end_to_end_id = m.group(1)
        return
    if re.search(r"/(EREF|REMI|CNTP|ORDP|BENM)/", joined):  # ING / Rabobank structured
        keys = "|".join(_ING_KEYS)
        pieces = re.split(rf"/({keys})/", joined)
        fields: dict[str, str] = {}
        for i in range(1, len(pieces) - 1, 2):
            fields.setdefault(pieces[i], pieces[i + 1])
        if "EREF" in fields:
            txn.end_to_end_id = fields["EREF"].strip("/").strip()
        if "CNTP" in fields:  # IBAN/BIC/NAME/CITY
            bits = fields["CNTP"].split("/")
            txn.counterparty_account = bits[0].strip() if bits else ""
            txn.counterparty_ifsc = bits[1].strip() if len(bits) > 1 else ""
            txn.counterparty_name = bits[2].strip() if len(bits) > 2 else ""
        for key in ("ORDP", "BENM"):
            if key in fields and not txn.counterparty_name:
                m = re.search(r"/NAME/([^/]*)", "/" + key + "/" + fields[key] + "/" + fields.get("NAME", ""))
                txn.counterparty_name = (m.group(1) if m else fields.get("NAME", "")).strip()
        remi = fields.get("REMI", "")
        remi = re.sub(r"^USTD//|^STRD/[^/]*/[^/]*/", "", remi).strip("/ ")
        txn.narration = " ".join((remi or joined).split())
        return
    txn.narration = _join(raw)


def parse(data: bytes, source: str, check: bool = True) -> list[StatementData]:
    """All statements in an MT940/MT942 file, balance-checked unless ``check`` is False."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    problems: list[Problem] = []

    # fields: (tag, value, line number)
    fields: list[tuple[str, str, int]] = []
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = re.sub(r"\{\d:[^{}]*\}", "", line)
        stripped = re.sub(r"^\{4:", "", stripped).rstrip()
        if stripped in ("-}", "-"):
            fields.append(("END", "", number))  # end of one message
            continue
        if stripped == "}" or stripped.startswith("{"):
            continue
        m = _TAG.match(stripped)
        if m:
            fields.append((m.group(1), m.group(2), number))
        elif stripped in (":940:", ":942:"):  # Rabobank's message-type line
            continue
        elif _TAGLIKE.match(stripped):
            problems.append(Problem(f"unknown field {stripped.split(':')[1]!r} (not an MT940 tag)", "", number, source))
        elif fields and fields[-1][0] != "END":
            tag, value, start = fields[-1]
            fields[-1] = (tag, value + "\n" + stripped, start)
    if problems:
        raise ValidationFailed(problems)
    if not any(tag != "END" for tag, _, _ in fields):
        raise ValidationFailed([Problem("no MT940 fields (:20:, :25:, :60F:, :61:, ...) found", "", None, source)])

    statements: list[StatementData] = []
    current: StatementData | None = None
    last_txn: BankTxn | None = None
    ended = False
    for tag, value, number in fields:
        base = tag[:2]
        if tag == "END":
            ended = current is not None
            continue
        if ended and base != "20":
            current.warnings.append(f"{source}:{number}: field :{tag}: after the end of the message ignored")
            continue
        ended = False
        if base in ("20", "25", "28", "60", "62", "64", "65", "34"):
            # one-line fields: what follows is another bank's preamble (ABN AMRO) or a wrapped number
            value = value.split("\n")[0] if base != "28" else value.replace("\n", "")
        if base == "NS":
            continue
        if base == "20" or current is None:
            if base != "20":
                problems.append(Problem(f"field :{tag}: before the statement's :20: reference (a fragment, not a "
                                        "statement)", f":{tag}:", number, source))
                break
            current = StatementData(source=source, format="mt940", statement_id=value.strip(), row=number)
            statements.append(current)
            last_txn = None
            continue
        try:
            if base == "25":
                acct = " ".join(value.split())
                m = re.match(r"^(.*?\d)\s?([A-Z]{3})$", acct)
                if m and len(m.group(1)) > 8:
                    acct, current.currency = m.group(1), current.currency or m.group(2)
                if "/" in acct:
                    current.bank_id, _, acct = acct.partition("/")
                current.account_number = acct.strip()
            elif base == "28":
                current.statement_id = f"{current.statement_id}/{value.strip()}" if value.strip() else current.statement_id
            elif base in ("60", "62"):
                m = _BALANCE.match(value.strip())
                if not m:
                    raise ValueError(f"not a balance (C/D, YYMMDD, currency, amount): {value.strip()!r}")
                amount = _amount(m.group(4))
                bal = Balance(amount if m.group(1) == "C" else -amount,
                              _date(m.group(2), current.warnings, f"{source}:{number}"), m.group(3))
                current.currency = current.currency or bal.currency
                if base == "60":
                    current.opening = current.opening or bal
                else:
                    current.closing = bal
            elif base == "34":
                current.format = "mt942"
                if not _FLOOR.match(value.strip()):
                    raise ValueError(f"not a floor limit: {value.strip()!r}")
                current.currency = current.currency or value.strip()[:3]
            elif base == "61":
                last_txn = _statement_line(value, number, source, current)
                current.transactions.append(last_txn)
            elif base == "86":
                if last_txn is not None and not last_txn.narration:
                    _details(last_txn, value)
                    enrich_from_narration(last_txn)
                elif last_txn is None and value.strip():
                    current.warnings.append(f"{source}:{number}: statement information: {_join(value)}")
        except ValueError as exc:
            problems.append(Problem(str(exc), f":{tag}:", number, source))
    if problems:
        raise ValidationFailed(problems)
    if not statements:
        problems.append(Problem("no statement in the file (no :20: field)", ":20:", None, source))
    for s in statements:
        if not s.transactions and s.opening is None and s.closing is None:
            problems.append(Problem(f"{s.label} has no balances and no lines (a fragment, not a statement)", "",
                                    s.row, source))
        elif s.format == "mt940" and (s.opening is None or s.closing is None):
            missing = "opening (:60F:)" if s.opening is None else "closing (:62F:)"
            s.warnings.append(f"{source}:{s.row}: {s.label} has no {missing} balance; the balance was not checked")
        for t in s.transactions:
            t.currency = s.currency
        if s.transactions:
            s.period_start = min(t.booking_date for t in s.transactions)
            s.period_end = max(t.booking_date for t in s.transactions)
    if problems:
        raise ValidationFailed(problems)
    return check_balances(statements) if check else statements


def _statement_line(value: str, number: int, source: str, st: StatementData) -> BankTxn:
    m = _LINE.match(value.strip("\n"))
    if not m:
        raise ValueError(f"not a statement line (YYMMDD[MMDD] C/D amount type reference): {value.splitlines()[0]!r}")
    where = f"{source}:{number}"
    value_date = _date(m["value"], st.warnings, where)
    booking = value_date
    if m["entry"] and m["entry"].strip():
        mm, dd = int(m["entry"][:2]), int(m["entry"][2:])
        year = value_date.year
        if mm == 12 and value_date.month == 1:
            year -= 1
        elif mm == 1 and value_date.month == 12:
            year += 1
        booking = _date(f"{year % 100:02d}{mm:02d}{dd:02d}", st.warnings, where)
    mark = m["mark"]
    direction = CREDIT if mark in ("C", "CR", "RD") else DEBIT
    bankref = (m["bankref"] or "").strip()
    extra = (m["extra"] or "").strip()
    if bankref and extra and re.fullmatch(r"\d+", extra.split("\n")[0]) and len(bankref + extra.split("\n")[0]) <= 16:
        # the bank reference wrapped onto the next line (seen from ING and mBank)
        first, _, rest = extra.partition("\n")
        bankref, extra = bankref + first, rest.strip()
    custref = (m["custref"] or "").strip()
    txn = BankTxn(
        booking_date=booking, value_date=value_date, amount=_amount(m["amount"]), direction=direction,
        reference=bankref if bankref and bankref.upper() != "NONREF" else custref,
        end_to_end_id=custref if bankref and custref.upper() != "NONREF" else "",
        bank_code=(m["type"] or "").strip(), reversal=mark in ("RC", "RD"), row=number,
    )
    return _with_extra(txn, extra) if extra else txn


def _with_extra(txn: BankTxn, extra: str) -> BankTxn:
    # supplementary details (34x): often the counterparty account (Rabobank) or a short text
    first = extra.split("\n")[0].strip()
    if re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{8,30}|\d{6,18}", first):
        txn.counterparty_account = first
    return txn
