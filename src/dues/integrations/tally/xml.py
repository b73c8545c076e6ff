"""A streaming, safe reader of native TallyPrime / Tally.ERP 9 XML exports.

``read_tally(path)`` yields ``Group``, ``Ledger``, ``VoucherType`` and ``Voucher`` records one at a
time, in file order, each as soon as its element closes; the element is then dropped, so a Day Book
of any size is read in bounded memory.

Safety: the bytes go through ``defusedxml``'s iterparse (a DTD, an entity declaration or an
external reference is refused; nothing is fetched). Encodings: UTF-16 (LE or BE, with or without
a BOM: Tally's default), UTF-8 (with or without a BOM) and ASCII, decoded incrementally; control
characters Tally writes (``&#4;``, raw) are dropped; CRLF is ordinary whitespace. Anything else is
"an unknown encoding".

Conventions of the native format: dates ``YYYYMMDD``; in ledger entries and bill allocations a
negative ``AMOUNT`` is a debit. Records here carry amounts **debit-positive** (what the party owes
us goes up), the way a receivable is read.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from dues.core.errors import DuesError

ZERO = Decimal(0)
OBJECTS = ("GROUP", "LEDGER", "VOUCHERTYPE", "VOUCHER")
_CHUNK = 1 << 16
_BAD_REF = re.compile(r"&#(?:0*(?:[0-8]|1[0-9]|2[0-9]|3[01])|x0*(?:[0-8bcefBCEF]|1[0-9a-fA-F]));")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
_DECL_ENCODING = re.compile(rb"<\?xml[^>]*encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_KNOWN_DECLARED = {"utf-8", "utf8", "utf-16", "utf16", "utf-16le", "utf-16be", "ascii", "us-ascii", "unicode"}


class TallyFormatError(DuesError):
    """The file is not a readable Tally XML export (message names the file and, when known, the voucher)."""


@dataclass
class Group:
    name: str
    parent: str


@dataclass
class Bill:
    """A bill allocation: in a ledger master an opening bill, in a voucher a reference to a bill."""

    name: str
    kind: str  # "New Ref", "Agst Ref", "Advance", "On Account"
    amount: Decimal  # debit-positive
    bill_date: date | None = None
    credit_days: int | None = None
    due_date: date | None = None


@dataclass
class Ledger:
    name: str
    parent: str
    guid: str = ""
    alterid: int = 0
    mailing_name: str = ""
    gstin: str = ""
    state: str = ""
    address: list[str] = field(default_factory=list)
    pincode: str = ""
    contact: str = ""
    email: str = ""
    phone: str = ""
    credit_days: int | None = None
    credit_limit: Decimal | None = None
    opening: Decimal = ZERO  # debit-positive
    bills: list[Bill] = field(default_factory=list)
    pan: str = ""


@dataclass
class VoucherType:
    name: str
    parent: str


@dataclass
class Entry:
    ledger: str
    amount: Decimal  # debit-positive
    is_party: bool = False
    bills: list[Bill] = field(default_factory=list)


@dataclass
class Voucher:
    guid: str
    alterid: int
    vchtype: str
    number: str
    date: date
    party: str = ""
    cancelled: bool = False
    optional: bool = False
    reference: str = ""
    narration: str = ""
    entries: list[Entry] = field(default_factory=list)
    source: str = ""

    def label(self) -> str:
        """How a message names the voucher: type, number, date and GUID."""
        number = self.number or "(no number)"
        return f"{self.vchtype} {number} of {self.date.isoformat()} (GUID {self.guid or '-'})"


class _CleanStream:
    """Raw bytes in any supported encoding -> clean UTF-8 bytes, read chunk by chunk (a file-like)."""

    def __init__(self, raw, source: str):
        self.raw, self.source = raw, source
        head = raw.read(4096)
        self._first = head
        self.encoding = _detect(head, source)
        self.decoder = codecs.getincrementaldecoder(self.encoding)(errors="strict")
        self.pending = ""
        self.started = False
        self.done = False
        self.consumed = 0

    def _text(self, data: bytes, final: bool) -> str:
        try:
            return self.decoder.decode(data, final)
        except UnicodeDecodeError as exc:
            raise TallyFormatError(f"{self.source}: an unknown encoding: bytes near offset {self.consumed + exc.start} "
                                   f"are not {self.encoding.upper()} (export from Tally as UTF-16 / Unicode, "
                                   "UTF-8 or ASCII)") from None

    def read(self, size: int = -1) -> bytes:
        if self.done:
            return b""
        if self._first is not None:
            data, self._first = self._first, None
        else:
            data = self.raw.read(_CHUNK)
        final = not data
        text = self.pending + self._text(data, final)
        self.consumed += len(data)
        if not self.started:
            if len(text) < 200 and not final:
                self.pending = text
                return self.read(size) if data else b""
            text = _DECL.sub("", text.lstrip("\ufeff"), count=1)
            self.started = True
        if not final:  # a character reference may be cut at the chunk's end: keep the tail back
            amp = text.rfind("&", max(0, len(text) - 12))
            if amp != -1 and ";" not in text[amp:]:
                text, self.pending = text[:amp], text[amp:]
            else:
                self.pending = ""
        else:
            self.pending = ""
            self.done = True
        text = _CONTROL.sub("", _BAD_REF.sub("", text))
        out = text.encode("utf-8")
        if not out and not self.done:
            return self.read(size)
        return out


def _detect(head: bytes, source: str) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16"
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    if len(head) >= 4 and head[1] == 0 and head[0] != 0:
        return "utf-16-le"
    if len(head) >= 4 and head[0] == 0 and head[1] != 0:
        return "utf-16-be"
    m = _DECL_ENCODING.search(head[:200])
    if m and m.group(1).decode("ascii").lower() not in _KNOWN_DECLARED:
        raise TallyFormatError(f"{source}: an unknown encoding {m.group(1).decode('ascii')!r} declared "
                               "(export from Tally as UTF-16 / Unicode, UTF-8 or ASCII)")
    return "utf-8"


# ---------------------------------------------------------------------------------------------
# values


class _Kids:
    """An element's children indexed by tag in one pass (a Tally voucher has a hundred children; each
    ``findtext`` would scan them all)."""

    __slots__ = ("el", "first", "every")

    def __init__(self, el):
        self.el, self.first, self.every = el, {}, {}
        for c in el:
            if c.tag not in self.first:
                self.first[c.tag] = c
                self.every[c.tag] = [c]
            else:
                self.every[c.tag].append(c)

    def findtext(self, tag: str):
        c = self.first.get(tag)
        return None if c is None else (c.text or "")

    def find(self, tag: str):
        return self.first.get(tag)

    def findall(self, tag: str):
        return self.every.get(tag, ())

    def get(self, key: str, default=None):
        return self.el.get(key, default)


def _t(el, tag: str) -> str:
    return (el.findtext(tag) or "").strip()


def _yes(el, tag: str) -> bool:
    return _t(el, tag).lower() in ("yes", "true", "1")


def tally_date(text: str) -> date:
    text = text.strip()
    if not re.fullmatch(r"\d{8}", text):
        raise ValueError(f"not a Tally date (YYYYMMDD): {text!r}")
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise ValueError(f"no such date: {text!r}") from None


def tally_amount(text: str) -> Decimal:
    """A native Tally amount as written (negative = debit); ``1,200.00``, a currency symbol or a lost
    rupee sign (``?``) and an exchange suffix (``@ 82/$``) are tolerated."""
    s = re.sub(r"[^\w.,+\-]", "", text.split("@")[0], flags=re.ASCII)  # spaces, ₹, $, a lost sign (?)
    s = re.sub(r"(?i)^([-+]?)(rs\.?|[a-z]{3})(?=[-+\d.])", r"\1", s)  # Rs, INR, USD before the digits
    s = re.sub(r"(?i)(dr|cr)$", "", s).replace(",", "")
    if s in ("", "-", "+", "."):
        return ZERO
    # anything else with letters in it (NaN, Infinity, 1e400, "lots") is not an amount, never read as zero
    if not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)", s, flags=re.ASCII):
        raise ValueError(f"not an amount: {text.strip()[:40]!r}")
    value = Decimal(s)
    if value and value.adjusted() + 1 > 16:
        raise ValueError(f"{text.strip()[:40]} is too large: an amount has at most 16 digits before the decimal point")
    return value


def _debit_positive(el) -> Decimal:
    node = el.find("AMOUNT")
    if node is None:
        node = el.find("OPENINGBALANCE")
    if node is None:
        return ZERO
    inner = node.find("AMOUNT")
    if inner is not None:  # TallyConnector layout: <AMOUNT><AMOUNT>1</AMOUNT><ISDEBIT>true</ISDEBIT></AMOUNT>
        value = abs(tally_amount(inner.text or "0"))
        return value if _yes(node, "ISDEBIT") else -value
    return -tally_amount(node.text or "0")


def _days(text: str) -> tuple[int | None, date | None]:
    """A BILLCREDITPERIOD: ``30 Days`` -> (30, None); a date (``20240115`` or ``15-Jan-2024``) -> (None, date)."""
    s = text.strip()
    if not s:
        return None, None
    m = re.match(r"^(\d+)\s*(day|days)?\b", s, re.I)
    if m and not re.fullmatch(r"\d{8}", s):
        return int(m.group(1)), None
    if re.fullmatch(r"\d{8}", s):
        return None, tally_date(s)
    from dues.core.dates import parse_date

    try:
        return None, parse_date(s)
    except (ValueError, DuesError):
        return None, None


def _bills(el, tag: str, *, opening: bool, base: date | None) -> list[Bill]:
    out = []
    for b in el.findall(tag):
        name = _t(b, "NAME")
        kind = _t(b, "BILLTYPE") or ("New Ref" if opening else "")
        amount_node = b.find("OPENINGBALANCE") if opening else b.find("AMOUNT")
        if not name and not _t(b, "BILLTYPE") and not (amount_node is not None and (amount_node.text or "").strip()):
            continue  # the empty <BILLALLOCATIONS.LIST> Tally writes for every entry
        amount = -tally_amount(amount_node.text or "0") if amount_node is not None and amount_node.find(
            "AMOUNT") is None else _debit_positive(b)
        bill_date = tally_date(_t(b, "BILLDATE")) if _t(b, "BILLDATE") else None
        days, due = _days(_t(b, "BILLCREDITPERIOD"))
        start = bill_date or base
        if due is None and days is not None and start is not None:
            due = start + timedelta(days=days)
        kind = {"agstref": "Agst Ref", "newref": "New Ref", "onaccount": "On Account", "advance": "Advance"}.get(
            kind.replace(" ", "").lower(), kind)
        out.append(Bill(name, kind, amount, bill_date, days, due))
    return out


def _group(el) -> Group:
    return Group(el.get("NAME", "").strip(), _t(el, "PARENT"))


def _ledger(el) -> Ledger:
    led = Ledger(el.get("NAME", "").strip(), _t(el, "PARENT"), guid=_t(el, "GUID"))
    try:
        led.alterid = int(_t(el, "ALTERID") or 0)
    except ValueError:
        led.alterid = 0
    led.mailing_name = _t(el, "MAILINGNAME.LIST/MAILINGNAME") or _t(el, "MAILINGNAME")
    gst = ""
    for reg in el.findall("LEDGSTREGDETAILS.LIST"):
        gst = _t(reg, "GSTIN") or gst
    led.gstin = gst or _t(el, "PARTYGSTIN")
    led.state = _t(el, "LEDSTATENAME") or _t(el, "STATENAME")
    led.address = [(a.text or "").strip() for a in el.findall("ADDRESS.LIST/ADDRESS") if (a.text or "").strip()]
    for md in el.findall("LEDMAILINGDETAILS.LIST"):
        led.address = led.address or [(a.text or "").strip() for a in md.findall("ADDRESS.LIST/ADDRESS")
                                      if (a.text or "").strip()]
        led.state = led.state or _t(md, "STATE")
        led.pincode = led.pincode or _t(md, "PINCODE")
        led.mailing_name = led.mailing_name or _t(md, "MAILINGNAME")
    led.pincode = led.pincode or _t(el, "PINCODE")
    led.contact = _t(el, "LEDGERCONTACT")
    led.email = _t(el, "EMAIL")
    led.phone = _t(el, "LEDGERMOBILE") or _t(el, "LEDGERPHONE")
    led.pan = _t(el, "INCOMETAXNUMBER")
    led.credit_days, _ = _days(_t(el, "BILLCREDITPERIOD"))
    if _t(el, "CREDITLIMIT"):
        led.credit_limit = abs(tally_amount(_t(el, "CREDITLIMIT")))
    if _t(el, "OPENINGBALANCE"):
        led.opening = -tally_amount(_t(el, "OPENINGBALANCE"))
    led.bills = _bills(el, "BILLALLOCATIONS.LIST", opening=True, base=None)
    return led


def _voucher(el, source: str) -> Voucher:
    el = _Kids(el)
    guid = _t(el, "GUID") or el.get("REMOTEID", "").strip()
    number = _t(el, "VOUCHERNUMBER")
    vchtype = _t(el, "VOUCHERTYPENAME") or el.get("VCHTYPE", "").strip()
    raw_date = _t(el, "DATE")
    where = f"{source}: voucher {vchtype} {number or '(no number)'} (GUID {guid or '-'})"
    try:
        on = tally_date(raw_date)
    except ValueError as exc:
        raise TallyFormatError(f"{where}: {exc}") from None
    try:
        alterid = int(_t(el, "ALTERID") or 0)
    except ValueError:
        raise TallyFormatError(f"{where}: ALTERID {_t(el, 'ALTERID')!r} is not a number") from None
    v = Voucher(guid, alterid, vchtype, number, on, party=_t(el, "PARTYLEDGERNAME") or _t(el, "PARTYNAME"),
                cancelled=_yes(el, "ISCANCELLED") or el.get("ACTION", "").lower() == "cancel",
                optional=_yes(el, "ISOPTIONAL"), reference=_t(el, "REFERENCE"), narration=_t(el, "NARRATION"),
                source=source)
    try:
        for tag in ("ALLLEDGERENTRIES.LIST", "LEDGERENTRIES.LIST"):
            for e in el.findall(tag):
                e = _Kids(e)
                name = _t(e, "LEDGERNAME")
                if not name:
                    continue
                v.entries.append(Entry(name, _debit_positive(e), _yes(e, "ISPARTYLEDGER"),
                                       _bills(e, "BILLALLOCATIONS.LIST", opening=False, base=on)))
    except ValueError as exc:
        raise TallyFormatError(f"{source}: voucher {v.label()}: {exc}") from None
    return v


def read_tally(path: str | Path, *, data: bytes | None = None,
               want: tuple[str, ...] = OBJECTS, voucher_dates: bool = False
               ) -> Iterator[Group | Ledger | VoucherType | Voucher | date]:
    """Stream the records of one Tally XML export; raises ``TallyFormatError`` naming the file (and the
    voucher) when it is not one, is cut short, or is in an unknown encoding.

    ``want`` names the records to build; with ``voucher_dates`` a voucher not wanted still yields its
    date (a cheap first pass over a Day Book)."""
    import io

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import iterparse

    path = Path(path)
    source = path.name
    try:
        raw = io.BytesIO(data) if data is not None else path.open("rb")
    except OSError as exc:
        raise TallyFormatError(f"{path}: cannot read the file ({exc.strerror})") from exc
    last = "the start of the file"
    try:
        stream = _CleanStream(raw, source)
        stack: list = []
        depth_in_object = 0
        root_seen = False
        try:
            for event, el in iterparse(stream, events=("start", "end"), forbid_dtd=True, forbid_entities=True,
                                       forbid_external=True):
                if event == "start":
                    if not root_seen:
                        root_seen = True
                        if el.tag != "ENVELOPE":
                            raise TallyFormatError(f"{source}: not a Tally XML export (the root element is "
                                                   f"<{el.tag}>, Tally's is <ENVELOPE>)")
                    if el.tag in OBJECTS:
                        depth_in_object += 1
                    stack.append(el)
                    continue
                stack.pop()
                if el.tag in OBJECTS:
                    depth_in_object -= 1
                    if depth_in_object == 0:
                        if el.tag in want:
                            if el.tag == "VOUCHER":
                                record = _voucher(el, source)
                                last = f"voucher {record.label()}"
                            elif el.tag == "LEDGER":
                                record = _ledger(el)
                                last = f"ledger {record.name!r}"
                            elif el.tag == "GROUP":
                                record = _group(el)
                            else:
                                record = VoucherType(el.get("NAME", "").strip(), _t(el, "PARENT"))
                            yield record
                        elif (el.tag == "VOUCHER" and voucher_dates and re.fullmatch(r"\d{8}", _t(el, "DATE"))
                              and not (_yes(el, "ISCANCELLED") or _yes(el, "ISOPTIONAL"))):
                            try:
                                yield tally_date(_t(el, "DATE"))
                            except ValueError:
                                yield _voucher(el, source).date  # raises TallyFormatError naming the voucher
                        if stack:
                            stack[-1].remove(el)
                        el.clear()
                elif depth_in_object == 0 and el.tag == "TALLYMESSAGE" and stack:
                    stack[-1].remove(el)
        except DefusedXmlException as exc:
            raise TallyFormatError(f"{source}: refused: {exc} (a Tally export declares no DTD or entities)") from None
        except SyntaxError as exc:  # xml.etree.ElementTree.ParseError
            if not root_seen:
                raise TallyFormatError(f"{source}: empty file or not XML, not a Tally XML export ({exc})") from None
            what = "cut short (truncated)" if "no element found" in str(exc) or "unclosed token" in str(exc) \
                else "not well-formed XML"
            raise TallyFormatError(f"{source}: {what}: {exc}; the last complete record read was {last}") from None
        if not root_seen:
            raise TallyFormatError(f"{source}: empty file, not a Tally XML export")
    finally:
        raw.close()
