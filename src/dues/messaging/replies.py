"""Reading a customer's reply (an e-mail or a WhatsApp message) for what the collector should do next.

``suggest(text, today)`` answers a list of ``Suggestion``: a promise (a date, and an amount when one is
said), a dispute with its reason, a payment claimed (with its UTR or reference when one is given), or a
request for a statement or an invoice copy. English and Hinglish phrasings are read
("will pay 1.5 lakh by 15th", "payment done UTR HDFC...", "kal tak 50k bhej denge"): dates through
``dateparser`` (relative to ``today``, preferring the future), amounts by our own rules for Indian
digit grouping, ``k``/``thousand``, ``lakh``/``lac`` and ``crore``/``cr``.

The rules are written for precision: a suggestion only proposes, a person accepts or dismisses it.
``evaluate`` measures them against a labelled set (``dues replies bench``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

PROMISE, DISPUTE, PAYMENT, STATEMENT = "promise", "dispute", "payment_claimed", "statement_request"
KINDS = (PROMISE, DISPUTE, PAYMENT, STATEMENT)


@dataclass
class Suggestion:
    kind: str
    amount: Decimal | None = None
    date: date | None = None
    reason: str = ""
    utr: str = ""
    documents: list[str] = field(default_factory=list)
    evidence: str = ""

    def as_dict(self) -> dict:
        return {"kind": self.kind, "amount": None if self.amount is None else f"{self.amount:.2f}",
                "date": self.date.isoformat() if self.date else None, "reason": self.reason, "utr": self.utr,
                "documents": self.documents, "evidence": self.evidence}


# --- amounts ------------------------------------------------------------------------------------------------

_MULTIPLIERS = {"k": 1000, "thousand": 1000, "hazar": 1000, "hazaar": 1000, "lakh": 100000, "lakhs": 100000,
                "lac": 100000, "lacs": 100000, "l": 100000, "crore": 10000000, "crores": 10000000, "cr": 10000000}
_AMOUNT = re.compile(
    r"(?<![\w/.-])(?P<cur>₹|rs\.?|inr|rupees?)?\s*"
    r"(?P<num>\d{1,3}(?:,\d{2,3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?)"
    r"(?:\s*(?P<mult>k|thousand|hazaa?r|lakhs?|lacs?|l|crores?|cr)\b)?"
    r"(?:\s*(?:/-|rs\b|rupees?\b|inr\b))?(?P<after>[\w/-]?)", re.IGNORECASE)
_AMOUNT_BEFORE_BLOCK = re.compile(r"(utr|ref|reference|txn|transaction|inv|invoice|bill|no|number|po|order|"
                                  r"#|cheque|chq)\W{0,3}$", re.IGNORECASE)


def amounts(text: str) -> list[Decimal]:
    """The money amounts said in ``text``: with a currency, a multiplier, Indian commas or at least 1,000."""
    found = []
    for m in _AMOUNT.finditer(text):
        if m.group("after"):
            continue  # part of a word or an identifier: 15th, INV-102, 2nd
        cur, mult = m.group("cur"), (m.group("mult") or "").lower()
        raw = m.group("num").replace(",", "")
        if _AMOUNT_BEFORE_BLOCK.search(text[: m.start("num") if not cur else m.start()]):
            continue
        try:
            value = Decimal(raw)
        except InvalidOperation:  # pragma: no cover - the pattern only matches digits
            continue
        tail = text[m.end():m.end() + 12].lower()
        if not (cur or mult or "," in m.group("num") or re.match(r"\s*(/-|rs\b|rupees?\b|inr\b)", tail)
                or (value >= 1000 and "." not in raw and not re.match(r"\s*(st|nd|rd|th)\b", tail))):
            continue
        if not cur and not mult and len(raw) >= 9:
            continue  # a phone number or a reference, not an amount
        if not cur and not mult and re.search(rf"(?:{_MONTHS})\W{{0,3}}(?:\d{{1,2}}\W{{0,3}})?$",
                                              text[:m.start()], re.IGNORECASE) and 1900 <= value <= 2199:
            continue  # the year of a date
        if mult:
            value *= _MULTIPLIERS[mult]
        if mult == "l" and not cur and value > Decimal(10**9):
            continue
        strength = 0 if (cur or mult) else 1 if "," in m.group("num") else 2
        found.append((strength, value.quantize(Decimal("0.01"))))
    return [v for _strength, v in sorted(found, key=lambda x: x[0])]


# --- dates --------------------------------------------------------------------------------------------------

_HINGLISH = [(r"\bparso(n)?\b", "in 2 days"), (r"\bkal\b", "tomorrow"), (r"\baaj\b", "today"),
             (r"\bagle hafte\b", "next week"), (r"\bagle mahine\b", "next month"),
             (r"\b(\d{1,2})\s*tarikh\b", r"\1th"), (r"\bsomvar\b", "monday"), (r"\bmangalvar\b", "tuesday"),
             (r"\bbudhvar\b", "wednesday"), (r"\bguruvar\b", "thursday"), (r"\bshukravar\b", "friday"),
             (r"\bshanivar\b", "saturday")]
_MONTHS = r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|" \
          r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
_DAYS = r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|wed|thu|fri|sat"
_DATE_PHRASES = re.compile(
    rf"\b(?:\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTHS})\b(?:\s+\d{{4}})?"
    rf"|(?:{_MONTHS})\s+\d{{1,2}}(?:st|nd|rd|th)?\b"
    rf"|\d{{1,2}}[/-]\d{{1,2}}(?:[/-]\d{{2,4}})?"
    rf"|\d{{1,2}}(?:st|nd|rd|th)\b"
    rf"|(?:next|this|coming)\s+(?:{_DAYS}|week)\b"
    rf"|(?:{_DAYS})\b"
    rf"|tomorrow|today|day after tomorrow|in \d+ days|end of (?:the )?month|month[- ]end|next week|next month)",
    re.IGNORECASE)
_DATE_CUE = re.compile(r"\b(by|on|before|till|until|tak|latest|within|se pehle|pehle|ko)\b", re.IGNORECASE)


def _month_end(today: date) -> date:
    return (today.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def dates(text: str, today: date) -> list[date]:
    """The dates said in ``text``, read on ``today`` and preferring the future (``dateparser``)."""
    import dateparser

    lowered = text.lower()
    for pattern, replacement in _HINGLISH:
        lowered = re.sub(pattern, replacement, lowered)
    base = datetime(today.year, today.month, today.day, 12, 0)  # noqa: DTZ001 - a naive base for dateparser
    settings = {"PREFER_DATES_FROM": "future", "RELATIVE_BASE": base, "DATE_ORDER": "DMY",
                "PREFER_DAY_OF_MONTH": "first", "RETURN_AS_TIMEZONE_AWARE": False}
    found, vague = [], []
    for m in _DATE_PHRASES.finditer(lowered):
        phrase = m.group(0).strip()
        if re.fullmatch(r"\d{1,2}[/-]\d{1,2}", phrase) and not _DATE_CUE.search(lowered[max(0, m.start() - 12):m.start()]):
            continue  # "2/3" without "by" is more likely a count than a date
        if phrase in ("end of month", "end of the month", "month end", "month-end"):
            found.append(_month_end(today))
            continue
        if phrase == "next week":
            vague.append(today + timedelta(days=7 - today.weekday()))
            continue
        if phrase == "next month":
            vague.append(_month_end(today) + timedelta(days=1))
            continue
        if re.fullmatch(r"\d{1,2}(st|nd|rd|th)", phrase):
            day = int(re.match(r"\d+", phrase).group())
            if not 1 <= day <= 31:
                continue
            year, month = today.year, today.month
            if day < today.day or "next month" in lowered:
                year, month = (year + 1, 1) if month == 12 else (year, month + 1)
            try:
                found.append(date(year, month, day))
            except ValueError:
                continue
            continue
        parsed = dateparser.parse(phrase, languages=["en"], settings=settings)
        if parsed is not None:
            d = parsed.date()
            if d < today - timedelta(days=400) or d > today + timedelta(days=400):
                continue
            found.append(d)
    return found + vague  # a day said outright before "next week" / "next month"


# --- the kinds ----------------------------------------------------------------------------------------------

def _words(*phrases: str) -> re.Pattern:
    return re.compile(r"\b(?:" + "|".join(phrases) + r")\b", re.IGNORECASE)


_FUTURE_PAY = _words(
    r"will (?:\w+ )?(?:pay|transfer|clear|release|send|remit|process|make (?:the )?payment|arrange)",
    r"shall (?:pay|transfer|clear|release|send|remit|process)", r"going to (?:pay|transfer|clear|release)",
    r"(?:can|could) (?:pay|transfer|clear|release)", r"i'?ll (?:pay|transfer|clear|release|send|process)",
    r"we'?ll (?:pay|transfer|clear|release|send|process)", r"pay(?:ment)? (?:by|on|before|next)",
    r"payment (?:will|shall) be (?:made|done|released|cleared|processed|transferred)",
    r"(?:bhej|de|kar|daal|transfer kar|clear kar|release kar|process kar|dal)\s?(?:denge|dunga|dungi|doonga|"
    r"dengey|deta hoon|dete hain)", r"ho jayega", r"ho jaega", r"ho jaayega", r"karwa denge", r"kara denge",
    r"bhejenge", r"karenge", r"denge", r"dunga", r"expect(?:ed)? to (?:pay|release|clear)",
    r"(?:cheque|check|payment) (?:will|shall) (?:be|reach)", r"promise to pay", r"planned for",
    r"scheduled (?:for|on)", r"release (?:it|the payment|payment) (?:by|on)")
_PAST_PAY = _words(
    r"(?:have|has|had|already|just) (?:\w+ )?(?:paid|transferred|remitted|cleared|released|sent (?:the )?payment)",
    r"payment (?:has been |was |is )?(?:done|made|sent|transferred|released|processed|credited|completed)",
    r"paid", r"(?:neft|rtgs|imps|upi) (?:done|sent|made|kiya|kar diya)", r"transferred",
    r"(?:bhej|kar|de|daal|dal|transfer kar|clear kar)\s?(?:diya|diye|diya hai|di hai|chuke|chuka)",
    r"ho gaya", r"ho gya", r"ho chuka", r"cheque (?:has been |was )?(?:sent|dispatched|deposited|handed|couriered)",
    r"remitted", r"amount credited", r"funds (?:sent|transferred)", r"released (?:the |your )?payment")
_NOT_PAID = _words(r"not (?:yet )?paid", r"unpaid", r"nahi (?:hua|kiya|diya|bheja)", r"not (?:yet )?(?:been )?"
                   r"(?:transferred|released|made|done)", r"haven'?t (?:paid|transferred)", r"no payment",
                   r"will (?:pay|transfer)", r"before (?:it is|being) paid", r"paid (?:by|on) (?:next|monday|tuesday|"
                   r"wednesday|thursday|friday|saturday|tomorrow)")
_UTR = re.compile(r"\b(?:utr|ref(?:erence)?|txn|transaction(?: id)?|rrn|neft|rtgs|imps|upi)\s*(?:no\.?|number|id|#|ref)?"
                  r"\s*(?:is|:|-|=)?\s*([A-Z0-9]{10,22})\b", re.IGNORECASE)
_BARE_UTR = re.compile(r"\b([A-Z]{4}[0R][A-Z0-9]{8,17})\b")

_DISPUTE_REASONS = [
    ("damaged", _words(r"damaged?", r"broken", r"defective", r"kharab", r"toot(?:a|e|i)", r"leak(?:ing|ed)?",
                       r"torn", r"faulty")),
    ("quantity", _words(r"short(?:age)? (?:of |by |supply|received|delivery|quantity|qty)?", r"short",
                        r"quantity (?:mismatch|difference|issue|is wrong)", r"qty (?:mismatch|difference|issue|kam)",
                        r"less (?:quantity|qty|material|boxes|pieces|pcs)", r"kam (?:aaya|aya|aaye|maal|mila)",
                        r"received only \d+", r"only \d+ (?:boxes|pcs|pieces|bags|cartons|units) (?:received|came)")),
    ("not_received", _words(r"not (?:yet )?(?:been )?received", r"never received", r"nahi (?:mila|aaya|aya|pahuncha)",
                            r"not (?:been )?delivered", r"no delivery", r"did not (?:receive|get)",
                            r"didn'?t (?:receive|get)", r"haven'?t received (?:the )?(?:goods|material|delivery|"
                            r"consignment|order)", r"maal nahi")),
    ("price", _words(r"rate (?:difference|mismatch|issue|is wrong|galat)", r"wrong (?:rate|price)",
                     r"price (?:difference|mismatch|issue|is wrong|galat)", r"overcharged", r"over-?billed",
                     r"excess (?:charged|billing|amount)", r"agreed (?:rate|price) (?:was|is)", r"discount not given",
                     r"discount (?:missing|not applied|nahi)", r"galat rate", r"higher rate")),
    ("tax", _words(r"gst (?:is )?(?:wrong|galat|incorrect|mismatch|not reflecting|not showing)",
                   r"wrong gst", r"tax (?:is )?(?:wrong|incorrect)", r"gstin (?:is )?(?:wrong|incorrect)",
                   r"not (?:reflecting|showing) in (?:our |the )?(?:gstr|2b|2a)", r"igst instead of cgst", r"cgst instead of igst")),
    ("duplicate", _words(r"duplicate (?:invoice|bill|billing|entry)", r"billed twice", r"charged twice",
                         r"same invoice (?:twice|again)", r"double (?:billing|billed|entry)", r"do baar")),
]
_DISPUTE_NEGATION = re.compile(r"\b(?:no|not any|without any|koi)\s+(?:issue|issues|problem|dispute|complaint)",
                               re.IGNORECASE)
_STATEMENT = _words(
    r"(?:send|share|need|want|require|provide|mail|forward|give|bhej(?:o|do|dijiye|en)?)\s+(?:\w+\s+){0,3}"
    r"(?:statement|ledger|soa|invoice copy|copy of (?:the )?(?:invoice|bill)|bill copy|invoice copies|"
    r"copies of (?:the )?invoices?|account copy)",
    r"(?:statement|ledger|soa|ledger copy|invoice copy|bill copy|account statement|statement of account)"
    r"\s+(?:\w+\s+){0,2}(?:bhej(?:o|do|dijiye|iye|en)|chahiye|please|pls|plz|required|needed|share karo|send karo|"
    r"send kijiye|share kijiye)",
    r"resend (?:the )?(?:invoice|bill|statement)", r"(?:invoice|bill|ledger) copy\b.{0,30}?\b(?:please|pls|plz|"
    r"chahiye|bhej\w*|send|share)", r"re-send (?:the )?(?:invoice|bill)",
    r"(?:invoice|bill) (?:copy|copies) (?:not received|missing|chahiye)", r"reconcile (?:the|our) (?:account|ledger)",
    r"ledger (?:reconciliation|confirm)", r"statement of account")
_DOCUMENT = re.compile(r"\b((?:INV|BILL|SI|TI|GST)[-/ ]?\d[\w/-]*)", re.IGNORECASE)


def _evidence(m: re.Match | None) -> str:
    return m.group(0) if m else ""


def suggest(text: str, today: date) -> list[Suggestion]:
    """What ``text`` (a customer's reply, quoted history already removed) suggests, at most one per kind."""
    text = strip_quoted(text)
    lowered = " ".join(text.split())
    out: list[Suggestion] = []
    docs = sorted({m.group(1).upper().replace(" ", "-") for m in _DOCUMENT.finditer(lowered)})
    money = amounts(lowered)

    paid = _PAST_PAY.search(lowered)
    utr = _UTR.search(lowered) or _BARE_UTR.search(text)
    future = _FUTURE_PAY.search(lowered)
    if (paid and not _NOT_PAID.search(lowered) and not (future and future.start() < paid.start())) or (
            utr and not future):
        out.append(Suggestion(PAYMENT, amount=money[0] if money else None, utr=utr.group(1).upper() if utr else "",
                              documents=docs, evidence=_evidence(paid or utr)))
    elif future:
        when = dates(lowered, today)
        when = [d for d in when if d >= today]
        if when:
            out.append(Suggestion(PROMISE, amount=money[0] if money else None, date=when[0], documents=docs,
                                  evidence=_evidence(future)))

    if not _DISPUTE_NEGATION.search(lowered):
        for reason, pattern in _DISPUTE_REASONS:
            m = pattern.search(lowered)
            if m:
                out.append(Suggestion(DISPUTE, amount=money[0] if money and not future else None, reason=reason,
                                      documents=docs, evidence=m.group(0)))
                break

    m = _STATEMENT.search(lowered)
    if m:
        out.append(Suggestion(STATEMENT, documents=docs, evidence=m.group(0)))
    return out


_QUOTE_MARKERS = re.compile(r"^(?:>|On .{5,120} wrote:|-----Original Message-----|From: .+|Sent from my )",
                            re.IGNORECASE | re.MULTILINE)


def strip_quoted(text: str) -> str:
    """The reply itself: everything before the first quoted line, ``On ... wrote:`` or ``Original Message``."""
    m = _QUOTE_MARKERS.search(text)
    return text[: m.start()] if m and m.start() > 0 else text


# --- the labelled set ---------------------------------------------------------------------------------------


@dataclass
class Score:
    kind: str
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def _matches(s: Suggestion, want: dict) -> bool:
    if "amount" in want and (s.amount is None if want["amount"] else False):
        return False
    if want.get("amount") is not None and s.amount != Decimal(str(want["amount"])):
        return False
    if want.get("date") and (s.date is None or s.date.isoformat() != want["date"]):
        return False
    if want.get("reason") and s.reason != want["reason"]:
        return False
    return not (want.get("utr") and s.utr != want["utr"])


def load_labelled(path: Path) -> list[dict]:
    """The labelled replies: JSON Lines of ``{"text", "today", "expect": {kind: {fields}}}``; bad lines named."""
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        try:
            row = json.loads(line)
            row["today"] = date.fromisoformat(row["today"])
            if not isinstance(row["text"], str) or not isinstance(row.get("expect", {}), dict):
                raise ValueError("text must be a string and expect an object")
            unknown = set(row.get("expect", {})) - set(KINDS)
            if unknown:
                raise ValueError(f"unknown kind {sorted(unknown)[0]}")
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}: line {n}: {exc}") from exc
        rows.append(row)
    return rows


def evaluate(rows: list[dict]) -> tuple[dict[str, Score], list[str]]:
    """Precision and recall per kind over labelled rows; a suggestion counts only when its fields match too."""
    scores = {k: Score(k) for k in KINDS}
    misses = []
    for n, row in enumerate(rows, start=1):
        got = {s.kind: s for s in suggest(row["text"], row["today"])}
        want = row.get("expect", {})
        for kind in KINDS:
            if kind in got and kind in want and _matches(got[kind], want[kind]):
                scores[kind].tp += 1
            else:
                if kind in got:
                    scores[kind].fp += 1
                if kind in want:
                    scores[kind].fn += 1
                if kind in got or kind in want:
                    misses.append(f"{n}: {kind}: wanted {want.get(kind)} got "
                                  f"{got[kind].as_dict() if kind in got else None}: {row['text'][:80]}")
    return scores, misses


def labelled_set_path() -> Path:
    return Path(__file__).with_name("data") / "replies_labelled.jsonl"
