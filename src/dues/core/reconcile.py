"""Customer ledger reconciliation ("ledger clearance"): our ledger of a customer against theirs of us.

Pure: value types in, a ``Reconciliation`` out; no Django, Decimal only.

Signs. Every amount is signed *in the receivable sense*: positive means the customer owes us more.
Our invoices and debit notes are positive, our receipts, TDS, credit notes and write-offs negative.
Their ledger is turned the same way round: a credit in their books (our invoice booked as a
purchase) is positive, a debit (their payment, TDS, debit note) negative. So ``their_balance`` is
their payable to us as a positive number, equal in meaning to ``our_balance``, our receivable.

Cut-off. Entries dated on or before ``as_of`` make the balances. Entries after it (either side) are
read only to explain *timing*: one side booked before the cut-off, the other after.

The statement ties: ``our_balance + Σ difference.amount + unexplained = their_balance``. Every
entry of either side dated by ``as_of`` is either matched (equal amounts) or in exactly one
difference, so ``unexplained`` is only what cannot be attributed to entries: a difference between
the two opening balances.

Matching, in order (each entry is used once):

1. documents (invoices, debit notes, credit notes) by number: our normalised number (``SGT/123/24-25``
   -> ``123``) found among the numbers in their reference or narration; the full number wins over
   the bare one, equal amount over unequal, nearer date over farther. A bare-number match with a
   different amount must also fall in the date window; the difference is an ``amount_mismatch``.
   A bare number shorter than three digits never pairs unequal amounts.
1b. our credit note and their debit note for it, each under its own number (and our debit note and
   their credit note): the same amount within ``Windows.note`` days, and their note names the bill
   ours is against (``OurEntry.bills``), or each is the other's only candidate and theirs names no
   other of our bills. The pair's ``Match.note`` says why.
2. receipts by UTR / cheque number found in their reference or narration, then by the receipt's own
   number, then by equal amount in the payment date window.
3. TDS by the receipt's number, else by equal amount in the window; then a payment booked gross in
   their books (our receipt plus its TDS against one of their payments); then unequal TDS on the
   same receipt (by number, else the nearest in the payment window) is one ``tds_difference``.
4. one-to-many: one of our receipts against two or three of their payments (split), or one of their
   payments against two or three of our receipts (combined), equal in total, inside the window.
5. documents by equal amount in the date window (a purchase entry with no usable reference); their
   debit notes pair with our credit notes only in 1 or 1b.

Matching by amount alone takes the nearest-dated pairs first over the whole book, and first only
their entries that name none of our documents or UTRs.

What is left becomes ``duplicate``, ``tds_difference`` (TDS on one side only), ``missing_in_theirs``
or ``missing_in_ours``. A duplicate in their books: a row naming one of our documents already matched
with another of their rows of the same kind and amount, whatever its voucher number (the later of the
two bookings is the duplicate), or a row with the same amount and reference, or date, amount and
text, as another. In ours: the same amount and UTR (receipts), or the same amount and customer
reference within ``Windows.keyed_twice`` days (documents).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import combinations

from dues.core.money import indian_grouping

ZERO = Decimal("0")
CENT = Decimal("0.01")

# our entry kinds
INVOICE, DEBIT_NOTE, CREDIT_NOTE = "invoice", "debit_note", "credit_note"
PAYMENT, TDS, DISCOUNT, WRITE_OFF, OPENING = "payment", "tds", "discount", "write_off", "opening"
DOCUMENT_KINDS = (INVOICE, DEBIT_NOTE, CREDIT_NOTE)

# their entry kinds (inferred by the reader when the file does not say)
PURCHASE, THEIR_PAYMENT, THEIR_TDS, THEIR_DEBIT_NOTE, THEIR_OPENING, OTHER = (
    "purchase", "payment", "tds", "debit_note", "opening", "other")

# difference kinds
MISSING_IN_THEIRS, MISSING_IN_OURS, AMOUNT_MISMATCH = "missing_in_theirs", "missing_in_ours", "amount_mismatch"
TDS_DIFFERENCE, TIMING, DUPLICATE = "tds_difference", "timing", "duplicate"
DIFFERENCE_KINDS = (MISSING_IN_THEIRS, MISSING_IN_OURS, AMOUNT_MISMATCH, TDS_DIFFERENCE, TIMING, DUPLICATE)


@dataclass(frozen=True, slots=True)
class OurEntry:
    """One line of our ledger of the customer (a receipt gives a payment line and a TDS line)."""

    number: str  # the document number ("INV-1"); a receipt's TDS line carries the receipt's number
    kind: str  # invoice / debit_note / credit_note / payment / tds / discount / write_off / opening
    date: date
    amount: Decimal  # signed: + the customer owes more
    reference: str = ""  # UTR, cheque number, the customer's reference
    bills: tuple[str, ...] = ()  # our documents it is against (a credit note's invoice)

    @property
    def label(self) -> str:
        return f"{self.number} TDS" if self.kind == TDS else (
            f"{self.number} discount" if self.kind == DISCOUNT else self.number)


@dataclass(frozen=True, slots=True)
class TheirEntry:
    """One data row of their ledger of us, signed the receivable way (their credit = +)."""

    row: int  # 1-based data row of their file
    date: date
    amount: Decimal
    kind: str = OTHER  # purchase / payment / tds / debit_note / opening / other
    ref: str = ""
    narration: str = ""

    @property
    def label(self) -> str:
        return f"row {self.row}"


@dataclass(frozen=True, slots=True)
class Match:
    ours: tuple[str, ...]
    theirs: tuple[str, ...]
    amount: Decimal  # the amount matched (signed)
    how: str  # "number", "utr", "amount+date", "split", "combined", "gross", "note", "opening"
    note: str = ""  # why two entries under different numbers are one (a credit note and their debit note)


@dataclass(frozen=True, slots=True)
class Difference:
    kind: str
    ours: str | None
    theirs: str | None
    amount: Decimal  # signed so that our balance + Σ amounts = their balance
    explanation: str


@dataclass
class Reconciliation:
    as_of: date
    our_balance: Decimal
    their_balance: Decimal
    matched: list[Match] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    unexplained: Decimal = ZERO
    their_opening: Decimal | None = None
    our_opening: Decimal | None = None

    @property
    def adjusted(self) -> Decimal:
        return self.our_balance + sum((d.amount for d in self.differences), ZERO)

    def totals_by_kind(self) -> dict[str, Decimal]:
        out = {k: ZERO for k in DIFFERENCE_KINDS}
        for d in self.differences:
            out[d.kind] += d.amount
        return out


@dataclass(frozen=True, slots=True)
class Windows:
    """How far apart (days) two bookings of the same thing may be dated."""

    document: int = 60  # an invoice reaches them and is booked within two months
    payment: int = 10  # a payment is value-dated within days on both sides
    note: int = 5  # our credit note and their debit note for it (each under its own number) within days
    keyed_twice: int = 7  # two of our documents, same amount and customer reference, this close: one keyed twice


# ---------------------------------------------------------------------------------------------
# normalising numbers

_FY_TAIL = re.compile(r"[/\-\s]*(?:FY)?\d{2,4}\s*[-/]\s*\d{2,4}\s*$", re.I)
_DIGITS = re.compile(r"\d+")
_TOKEN = re.compile(r"[A-Za-z0-9]+(?:[/\-][A-Za-z0-9]+)*")


def alnum(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", text or "").upper()


def core_number(number: str) -> str:
    """The bare serial of a document number: ``SGT/123/24-25`` -> ``123``, ``INV-0042`` -> ``42``."""
    s = (number or "").strip()
    stripped = _FY_TAIL.sub("", s)
    runs = _DIGITS.findall(stripped if _DIGITS.search(stripped) else s)
    if not runs:
        return ""
    return runs[-1].lstrip("0") or "0"


def their_keys(text: str) -> tuple[set[str], set[str]]:
    """(full tokens, bare numbers) found in their reference + narration."""
    tokens = _TOKEN.findall(text or "")
    full = {alnum(t) for t in tokens} | {alnum(p) for t in tokens if "/" in t or "-" in t for p in re.split(r"[/\-]", t)}
    full.discard("")
    bare = {d.lstrip("0") or "0" for d in _DIGITS.findall(text or "")}
    for t in _TOKEN.findall(text or ""):
        c = core_number(t)
        if c:
            bare.add(c)
    return full, bare


# ---------------------------------------------------------------------------------------------
# the engine


def _days(a: date, b: date) -> int:
    return abs((a - b).days)


def reconcile(ours: Sequence[OurEntry], theirs: Sequence[TheirEntry], *, as_of: date,
              windows: Windows = Windows()) -> Reconciliation:
    """Match ``ours`` against ``theirs`` as of ``as_of`` and explain every difference."""
    ours = list(ours)
    theirs = list(theirs)

    # opening: their opening row(s) stand for everything we booked before the first of their rows
    openings = [t for t in theirs if t.kind == THEIR_OPENING]
    rest = [t for t in theirs if t.kind != THEIR_OPENING]
    our_opening = their_opening = None
    start: date | None = None
    if openings:
        dated = [t.date for t in rest] + [t.date for t in openings]
        start = min(t.date for t in openings) if openings else min(dated)
        their_opening = sum((t.amount for t in openings), ZERO)
        before = [o for o in ours if o.date < start]
        our_opening = sum((o.amount for o in before), ZERO)
        ours = [o for o in ours if o.date >= start]

    in_ours = [o for o in ours if o.date <= as_of]
    in_theirs = [t for t in rest if t.date <= as_of]
    our_balance = sum((o.amount for o in in_ours), ZERO) + (our_opening or ZERO)
    their_balance = sum((t.amount for t in in_theirs), ZERO) + (their_opening or ZERO)

    result = Reconciliation(as_of, our_balance, their_balance, our_opening=our_opening, their_opening=their_opening)
    if openings:
        labels = tuple(t.label for t in openings)
        if our_opening == their_opening:
            result.matched.append(Match(("opening balance",), labels, our_opening, "opening"))

    pairs: list[tuple[list[OurEntry], list[TheirEntry], str, str]] = []
    o_used: set[int] = set()
    t_used: set[int] = set()
    oid = {id(o): i for i, o in enumerate(ours)}
    tid = {id(t): i for i, t in enumerate(rest)}

    def free_o(o: OurEntry) -> bool:
        return oid[id(o)] not in o_used

    def free_t(t: TheirEntry) -> bool:
        return tid[id(t)] not in t_used

    def take(os_: list[OurEntry], ts: list[TheirEntry], how: str, note: str = "") -> None:
        o_used.update(oid[id(o)] for o in os_)
        t_used.update(tid[id(t)] for t in ts)
        pairs.append((os_, ts, how, note))

    # index their rows by the numbers in their text
    t_full: dict[str, list[TheirEntry]] = defaultdict(list)
    t_bare: dict[str, list[TheirEntry]] = defaultdict(list)
    t_keys: dict[int, tuple[set[str], set[str]]] = {}
    for t in rest:
        full, bare = their_keys(f"{t.ref} {t.narration}")
        for k in full:
            t_full[k].append(t)
        for k in bare:
            t_bare[k].append(t)

    def keys_of(t: TheirEntry) -> tuple[set[str], set[str]]:
        """The numbers in their text that may name a bill ("dt 12-05-2025" names no bill 12); on demand."""
        if id(t) not in t_keys:
            t_keys[id(t)] = their_keys(_DATED.sub(" ", f"{t.ref} {t.narration}"))
        return t_keys[id(t)]

    def names(t: TheirEntry, number: str) -> bool:
        """Their text names our document ``number`` (the full number, or its bare serial)."""
        full, bare = keys_of(t)
        c = core_number(number)
        return alnum(number) in full or bool(c) and c in bare

    def by_number(o: OurEntry, window: int, want_kinds: tuple[str, ...] | None, key: str | None = None,
                  strict_amount: bool = False) -> TheirEntry | None:
        full = alnum(key or o.number)
        bare = core_number(key or o.number)
        best, best_rank = None, None
        seen: set[int] = set()
        for strong, cands in ((True, t_full.get(full, [])), (False, t_bare.get(bare, []) if bare else [])):
            for t in cands:
                if id(t) in seen or not free_t(t):
                    continue
                seen.add(id(t))
                if want_kinds and t.kind not in want_kinds:
                    continue
                if (t.amount > 0) != (o.amount > 0):
                    continue
                equal = t.amount == o.amount
                near = _days(t.date, o.date) <= window
                if strict_amount and not equal:
                    continue
                if not strong and not (equal or (near and len(bare) >= 3)):
                    continue  # a bare "7" in their text is too weak to pair unequal amounts
                if not strong and not near and _days(t.date, o.date) > 3 * window:
                    continue
                rank = (not equal, not strong, _days(t.date, o.date), t.row)
                if best_rank is None or rank < best_rank:
                    best, best_rank = t, rank
        return best

    doc_core = {o.number: core_number(o.number) for o in ours if o.kind in DOCUMENT_KINDS}
    our_by_full = {alnum(n): n for n in doc_core}
    our_by_core: dict[str, list[str]] = defaultdict(list)
    for n, c in doc_core.items():
        if len(c) >= 3:
            our_by_core[c].append(n)

    def our_docs_named(t: TheirEntry) -> set[str]:
        """Our documents their text names by full number, or by a bare serial of three digits or more."""
        full, bare = keys_of(t)
        return {our_by_full[k] for k in full if k in our_by_full} | {n for k in bare for n in our_by_core.get(k, ())}

    our_full = set(our_by_full)
    our_full |= {r for o in ours if o.kind == PAYMENT and len(r := alnum(o.reference)) >= 6}
    our_core = set(our_by_core)

    def names_ours(t: TheirEntry) -> bool:
        """Their entry names one of our documents (so it is not an unreferenced booking of another)."""
        full, bare = their_keys(f"{t.ref} {t.narration}")
        return bool(full & our_full or bare & our_core)

    doc_kinds_theirs = (PURCHASE, THEIR_DEBIT_NOTE, THEIR_PAYMENT, OTHER)
    # 1. documents by number (equal amounts first over the whole book, then unequal)
    docs = sorted((o for o in ours if o.kind in DOCUMENT_KINDS), key=lambda o: (o.date, o.number))
    for strict in (True, False):
        for o in docs:
            if not free_o(o):
                continue
            t = by_number(o, windows.document, doc_kinds_theirs, strict_amount=strict)
            if t is not None:
                take([o], [t], "number")

    # 1b. our credit (debit) note against their debit (credit) note for it, each under its own number
    _notes(ours, rest, windows.note, free_o, free_t, take, names, our_docs_named)

    # 2. receipts by UTR / cheque, then by receipt number
    pays = sorted((o for o in ours if o.kind == PAYMENT), key=lambda o: (o.date, o.number))
    pay_kinds = (THEIR_PAYMENT, OTHER)
    for o in pays:
        ref = alnum(o.reference)
        if len(ref) < 4:
            continue
        cands = [t for t in t_full.get(ref, []) if free_t(t) and t.kind in pay_kinds and t.amount < 0]
        if not cands:
            cands = [t for t in t_bare.get(ref.lstrip("0") or "0", []) if free_t(t) and t.kind in pay_kinds
                     and t.amount < 0 and ref.isdigit() and len(ref) >= 6]
        cands = [t for t in cands if t.amount == o.amount] or []
        if cands:
            take([o], [min(cands, key=lambda t: (_days(t.date, o.date), t.row))], "utr")
    for o in pays:
        if free_o(o):
            t = by_number(o, windows.payment, pay_kinds, strict_amount=True)
            if t is not None:
                take([o], [t], "number")

    # amount + date window, nearest first (payments, then TDS)
    def by_amount(our_kinds: tuple[str, ...], their_kinds: tuple[str, ...], window: int, how: str,
                  anonymous: bool = False) -> None:
        pool: dict[Decimal, list[TheirEntry]] = defaultdict(list)
        for t in rest:
            if free_t(t) and t.kind in their_kinds and not (anonymous and names_ours(t)):
                pool[t.amount].append(t)
        # nearest pairs first over the whole book, so one early pick cannot steal a later entry's twin
        candidates = []
        for o in ours:
            if o.kind in our_kinds and free_o(o):
                for t in pool.get(o.amount, ()):
                    if _days(t.date, o.date) <= window:
                        candidates.append((_days(t.date, o.date), o.date, o.number, t.row, oid[id(o)], tid[id(t)]))
        candidates.sort()
        for *_, i, j in candidates:
            if i not in o_used and j not in t_used:
                take([ours[i]], [rest[j]], how)

    by_amount((PAYMENT,), pay_kinds, windows.payment, "amount+date", anonymous=True)
    by_amount((PAYMENT,), pay_kinds, windows.payment, "amount+date")

    # 3. TDS: by the receipt's number with equal amount, then amount + date
    tds_ours = sorted((o for o in ours if o.kind == TDS), key=lambda o: (o.date, o.number))
    for o in tds_ours:
        if not free_o(o):
            continue
        t = by_number(o, windows.document, (THEIR_TDS,), strict_amount=True)
        if t is not None:
            take([o], [t], "number")
    by_amount((TDS,), (THEIR_TDS,), windows.payment, "amount+date")

    # a payment booked gross in their books (TDS inside the same voucher): our payment + its TDS
    tds_of = {(o.number, o.date): o for o in ours if o.kind == TDS}
    gross_pool: dict[Decimal, list[TheirEntry]] = defaultdict(list)
    for t in rest:
        if free_t(t) and t.kind in pay_kinds and t.amount < 0:
            gross_pool[t.amount].append(t)
    for o in pays:
        tds = tds_of.get((o.number, o.date))
        if tds is None or not free_o(o) or not free_o(tds):
            continue
        cands = [t for t in gross_pool.get(o.amount + tds.amount, []) if free_t(t)
                 and _days(t.date, o.date) <= windows.payment]
        if cands:
            take([o, tds], [min(cands, key=lambda t: (_days(t.date, o.date), t.row))], "gross")

    # same receipt number, unequal TDS: a pair with a tds_difference
    tds_pairs: list[tuple[OurEntry, TheirEntry]] = []
    for o in tds_ours:
        if free_o(o):
            t = by_number(o, windows.document, (THEIR_TDS,))
            if t is not None:
                o_used.add(oid[id(o)])
                t_used.add(tid[id(t)])
                tds_pairs.append((o, t))

    # TDS on both sides near the same date, unequal and unreferenced: one tds_difference, not two
    free_tds_t = [t for t in rest if free_t(t) and t.kind == THEIR_TDS]
    for o in tds_ours:
        if not free_o(o):
            continue
        cands = [t for t in free_tds_t if free_t(t) and _days(t.date, o.date) <= windows.payment]
        if cands:
            t = min(cands, key=lambda t: (_days(t.date, o.date), t.row))
            o_used.add(oid[id(o)])
            t_used.add(tid[id(t)])
            tds_pairs.append((o, t))

    # 4. one-to-many payments
    def subsets(target: Decimal, cands: list, sizes=(2, 3)):
        cands = cands[:14]
        for n in sizes:
            for combo in combinations(cands, n):
                if sum((c.amount for c in combo), ZERO) == target:
                    return list(combo)
        return None

    free_pay_t = sorted((t for t in rest if free_t(t) and t.kind in pay_kinds and t.amount < 0), key=lambda t: t.date)
    for o in pays:
        if not free_o(o):
            continue
        cands = [t for t in free_pay_t if free_t(t) and _days(t.date, o.date) <= windows.payment
                 and o.amount < t.amount < 0]
        cands.sort(key=lambda t: (_days(t.date, o.date), t.row))
        combo = subsets(o.amount, cands)
        if combo:
            take([o], sorted(combo, key=lambda t: t.row), "split")
    for t in free_pay_t:
        if not free_t(t):
            continue
        cands = [o for o in pays if free_o(o) and _days(t.date, o.date) <= windows.payment and t.amount < o.amount < 0]
        cands.sort(key=lambda o: (_days(t.date, o.date), o.number))
        combo = subsets(t.amount, cands)
        if combo:
            take(sorted(combo, key=lambda o: (o.date, o.number)), [t], "combined")

    # 5. documents by amount + date (no usable reference on their side)
    by_amount(DOCUMENT_KINDS, (PURCHASE, OTHER), windows.document, "amount+date", anonymous=True)
    by_amount((WRITE_OFF, DISCOUNT, OPENING), (OTHER, THEIR_PAYMENT, THEIR_DEBIT_NOTE, PURCHASE),
              windows.payment, "amount+date")

    # the row of theirs each of our documents was matched with: a free row of theirs naming the same
    # document for the same amount is that bill booked a second time (under another voucher number)
    booked_as: dict[str, tuple[OurEntry, TheirEntry]] = {}
    pair_of: dict[str, int] = {}
    for k, (os_, ts, _, _) in enumerate(pairs):
        if len(os_) == 1 and len(ts) == 1 and os_[0].kind in DOCUMENT_KINDS:
            booked_as[os_[0].number] = (os_[0], ts[0])
            pair_of[os_[0].number] = k
    booked_core: dict[str, list[str]] = defaultdict(list)
    for n in booked_as:
        if c := doc_core[n]:
            booked_core[c].append(n)

    def booked_again(t: TheirEntry) -> tuple[str, OurEntry, TheirEntry] | None:
        """(how it names the bill, our document, their first booking) when ``t`` books a matched bill again."""
        full, bare = keys_of(t)
        strong = {our_by_full[k] for k in full if k in our_by_full}
        weak = {n for k in bare for n in booked_core.get(k, ())} - strong
        for n in sorted(strong) + sorted(weak):
            if n not in booked_as:
                continue
            o, first = booked_as[n]
            if first.kind == t.kind and first.amount == t.amount and (
                    n in strong or _days(first.date, t.date) <= windows.document):
                return n, o, first
        return None

    # of two bookings of one bill the later is the one booked twice: match ours with the earlier
    for t in sorted((t for t in rest if free_t(t)), key=lambda t: (t.date, t.row)):
        again = booked_again(t) if t.kind != THEIR_TDS else None
        if again is not None and (t.date, t.row) < (again[2].date, again[2].row):
            n, o, first = again
            os_, _, how, note = pairs[pair_of[n]]
            pairs[pair_of[n]] = (os_, [t], how, note)
            booked_as[n] = (o, t)
            t_used.discard(tid[id(first)])
            t_used.add(tid[id(t)])

    diffs = result.differences

    # matched pairs and groups: matched, amount mismatch or timing
    for os_, ts, how, note in pairs:
        o_in = [o for o in os_ if o.date <= as_of]
        t_in = [t for t in ts if t.date <= as_of]
        o_sum = sum((o.amount for o in os_), ZERO)
        t_sum = sum((t.amount for t in ts), ZERO)
        ours_label = ", ".join(o.label for o in os_)
        theirs_label = ", ".join(t.label for t in ts)
        if not o_in and not t_in:
            continue  # both after the cut-off: neither balance has it
        if len(o_in) == len(os_) and len(t_in) == len(ts):
            if o_sum == t_sum:
                result.matched.append(Match(tuple(o.label for o in os_), tuple(t.label for t in ts), o_sum, how, note))
            else:
                o = os_[0]
                what = _what(o)
                diffs.append(Difference(
                    AMOUNT_MISMATCH, ours_label, theirs_label, t_sum - o_sum,
                    f"{what} {o.number} is {indian_grouping(o_sum)} in our books and {indian_grouping(t_sum)} in theirs "
                    f"({theirs_label}): a rate, quantity or tax difference to settle with a debit or credit note"))
            continue
        # timing: part of it on one side of the cut-off only
        for o in os_:
            if o.date <= as_of and not t_in:
                diffs.append(Difference(
                    TIMING, o.label, theirs_label, -o.amount,
                    f"{_what(o)} {o.number} dated {o.date.strftime("%d-%m-%Y")} is in our books by {as_of.strftime("%d-%m-%Y")}; "
                    f"they booked it on {ts[0].date.strftime("%d-%m-%Y")}, after the cut-off"))
        for t in ts:
            if t.date <= as_of and not o_in:
                diffs.append(Difference(
                    TIMING, ours_label, t.label, t.amount,
                    f"they booked {_their_what(t)} on {t.date.strftime("%d-%m-%Y")}; we booked it ({ours_label}) on "
                    f"{os_[0].date.strftime("%d-%m-%Y")}, after the cut-off"))
        if o_in and t_in:  # a group straddling the cut-off on both sides: explain the parts inside
            rest_o = sum((o.amount for o in o_in), ZERO)
            rest_t = sum((t.amount for t in t_in), ZERO)
            if rest_o != rest_t:
                diffs.append(Difference(
                    TIMING, ours_label, theirs_label, rest_t - rest_o,
                    f"part of {ours_label} / {theirs_label} falls after the cut-off on one side"))

    for o, t in tds_pairs:
        if o.date > as_of and t.date > as_of:
            continue
        amount = (t.amount if t.date <= as_of else ZERO) - (o.amount if o.date <= as_of else ZERO)
        if amount == 0:
            continue
        diffs.append(Difference(
            TDS_DIFFERENCE, o.label, t.label, amount,
            f"TDS on {o.number}: we show {indian_grouping(-o.amount)}, they deducted {indian_grouping(-t.amount)} "
            f"(another rate or base; ask for the TDS certificate)"))

    # what is left: duplicates, one-sided TDS, missing
    matched_o = [o for os_, _, _, _ in pairs for o in os_]
    matched_t = [t for _, ts, _, _ in pairs for t in ts]
    o_seen: dict[tuple, OurEntry] = {}
    for o in matched_o:
        for k in _our_dup_keys(o):
            o_seen.setdefault(k, o)
    t_seen: dict[tuple, TheirEntry] = {}
    for t in matched_t:
        for k in _their_dup_keys(t):
            t_seen.setdefault(k, t)

    for o in sorted((o for o in ours if free_o(o) and o.date <= as_of), key=lambda o: (o.date, o.number)):
        twin = next((o_seen[k] for k in _our_dup_keys(o) if k in o_seen), None)
        if twin is not None and o.kind in DOCUMENT_KINDS and _days(twin.date, o.date) > windows.keyed_twice:
            twin = None  # the same order billed again later, not one bill keyed twice
        if twin is not None and twin is not o:
            same = (f"same reference {o.reference}" if o.reference and o.reference == twin.reference
                    else "same date and amount")
            diffs.append(Difference(
                DUPLICATE, o.label, None, -o.amount,
                f"{_what(o)} {o.number} repeats {twin.label} ({indian_grouping(o.amount)}, {same}, dated "
                f"{o.date.strftime("%d-%m-%Y")} and {twin.date.strftime("%d-%m-%Y")}): booked twice in our books; "
                f"cancel one"))
            continue
        for k in _our_dup_keys(o):
            o_seen.setdefault(k, o)
        if o.kind == TDS:
            diffs.append(Difference(
                TDS_DIFFERENCE, o.label, None, -o.amount,
                f"we show TDS of {indian_grouping(-o.amount)} on {o.number}; they have not booked any TDS for it"))
        else:
            diffs.append(Difference(MISSING_IN_THEIRS, o.label, None, -o.amount, _missing_theirs(o)))

    for t in sorted((t for t in rest if free_t(t) and t.date <= as_of), key=lambda t: t.row):
        again = booked_again(t) if t.kind != THEIR_TDS else None
        if again is not None:
            n, o, first = again
            diffs.append(Difference(
                DUPLICATE, None, t.label, t.amount,
                f"{t.label} ({_voucher(t)}) books our {_what(o)} {n} ({indian_grouping(abs(t.amount))}) a second time: "
                f"{first.label} ({_voucher(first)}) already has it. Booked twice in their books: ask them to "
                f"cancel one"))
            continue
        twin = next((t_seen[k] for k in _their_dup_keys(t) if k in t_seen), None)
        if twin is not None and twin is not t:
            diffs.append(Difference(
                DUPLICATE, None, t.label, t.amount,
                f"{t.label} repeats {twin.label} ({_their_what(t)}): booked twice in their books"))
            continue
        for k in _their_dup_keys(t):
            t_seen.setdefault(k, t)
        if t.kind == THEIR_TDS:
            diffs.append(Difference(
                TDS_DIFFERENCE, None, t.label, t.amount,
                f"they deducted TDS of {indian_grouping(-t.amount)} on {t.date.strftime("%d-%m-%Y")} that we do not show: "
                f"book it against their TDS certificate (Form 16A) or ask them to reverse it"))
        else:
            diffs.append(Difference(MISSING_IN_OURS, None, t.label, t.amount, _missing_ours(t)))

    result.unexplained = their_balance - result.adjusted
    return result


_DATED = re.compile(r"\b\d{1,2}([-/.])\d{1,2}\1\d{4}\b")
_NOTE_TEXT = re.compile(r"credit\s*note|debit\s*note|\b[CD]/?N\b|purchase\s+return|rate\s+diff", re.I)


def _notes(ours, theirs, window, free_o, free_t, take, names, our_docs_named) -> None:
    """Our credit note against their debit note for it (and our debit note against their credit note),
    each side under its own number: the same amount within ``window`` days, and their note names the
    bill ours is against, or each is the other's only candidate (and theirs names no other bill)."""
    notes = [o for o in ours if o.kind in (CREDIT_NOTE, DEBIT_NOTE) and free_o(o)]
    if not notes:
        return

    def can_be(o: OurEntry, t: TheirEntry) -> bool:
        if t.amount != o.amount or _days(t.date, o.date) > window or not free_t(t):
            return False
        text = f"{t.ref} {t.narration}"
        if o.kind == CREDIT_NOTE:
            return t.kind == THEIR_DEBIT_NOTE or (t.kind == OTHER and bool(_NOTE_TEXT.search(text)))
        return t.kind in (PURCHASE, OTHER) and bool(_NOTE_TEXT.search(text))

    by_amount: dict[Decimal, list[TheirEntry]] = defaultdict(list)
    for t in theirs:
        by_amount[t.amount].append(t)
    cands: dict[int, list[TheirEntry]] = {}
    back: dict[int, list[OurEntry]] = defaultdict(list)
    same: dict[tuple[int, int], str] = {}
    for o in notes:
        mine = []
        for t in by_amount.get(o.amount, ()):
            if not can_be(o, t):
                continue
            bill = next((b for b in o.bills if names(t, b)), None)
            if bill is None and o.bills and our_docs_named(t) - {o.number}:
                continue  # theirs names another of our bills: their own claim, not our note
            if bill is not None:
                same[(id(o), id(t))] = bill
            mine.append(t)
            back[id(t)].append(o)
        cands[id(o)] = mine

    def pair(o: OurEntry, t: TheirEntry, why: str) -> None:
        n = _days(o.date, t.date)
        theirs_word = "debit note" if o.kind == CREDIT_NOTE else "credit note"
        apart = "the same day" if n == 0 else f"{n} day{'s' if n > 1 else ''} apart"
        take([o], [t], "note",
             f"{_what(o)} {o.number} and their {theirs_word} {(t.ref or t.label).strip()} ({t.label}): the same "
             f"amount {indian_grouping(abs(o.amount))}, {why}, {apart}")

    # the same bill first, nearest dates first; then each the other's only candidate
    ranked = sorted((_days(o.date, t.date), o.date, o.number, t.row, o, t)
                    for o in notes for t in cands[id(o)] if (id(o), id(t)) in same)
    for *_, o, t in ranked:
        if free_o(o) and free_t(t):
            pair(o, t, f"same bill {same[(id(o), id(t))]}")
    for o in notes:
        if not free_o(o):
            continue
        mine = [t for t in cands[id(o)] if free_t(t)]
        if len(mine) == 1 and [x for x in back[id(mine[0])] if free_o(x)] == [o]:
            what = "debit note" if o.kind == CREDIT_NOTE else "credit note"
            pair(o, mine[0], f"the only {what} of that amount in their books within {window} days, and ours "
                             f"the only {_what(o)} for it")


def _voucher(t: TheirEntry) -> str:
    text = " ".join(x for x in (t.ref, t.narration) if x).strip()
    return f"{text[:50]}, {t.date.strftime("%d-%m-%Y")}" if text else t.date.strftime("%d-%m-%Y")


def _our_dup_keys(o: OurEntry) -> list[tuple]:
    # two of our invoices of one amount on one day are usually two bills; two such receipts, one receipt twice
    if o.reference and len(alnum(o.reference)) >= 4:
        return [(o.kind, o.amount, "ref", alnum(o.reference))]
    return [] if o.kind in DOCUMENT_KINDS else [(o.kind, o.amount, o.date)]


def _their_dup_keys(t: TheirEntry) -> list[tuple]:
    keys = [(t.kind, t.amount, t.date, alnum(t.ref), alnum(t.narration))]
    if t.ref and len(alnum(t.ref)) >= 3:
        keys.append((t.kind, t.amount, "ref", alnum(t.ref)))
    return keys


_WHAT = {INVOICE: "invoice", DEBIT_NOTE: "debit note", CREDIT_NOTE: "credit note", PAYMENT: "receipt",
         TDS: "TDS", DISCOUNT: "discount", WRITE_OFF: "write-off", OPENING: "opening balance"}


def _what(o: OurEntry) -> str:
    return _WHAT.get(o.kind, o.kind)


def _their_what(t: TheirEntry) -> str:
    text = (t.narration or t.ref or "").strip()
    head = {PURCHASE: "a purchase", THEIR_PAYMENT: "a payment", THEIR_TDS: "TDS", THEIR_DEBIT_NOTE: "a debit note"}.get(
        t.kind, "an entry")
    return f"{head} of {indian_grouping(abs(t.amount))}" + (f" ({text[:60]})" if text else "")


def _missing_theirs(o: OurEntry) -> str:
    if o.kind in (INVOICE, DEBIT_NOTE):
        return (f"{_what(o)} {o.number} of {o.date.strftime("%d-%m-%Y")} ({indian_grouping(o.amount)}) is not in their books: "
                f"goods in transit, not yet booked, or disputed; send a copy with the proof of delivery")
    if o.kind == PAYMENT:
        return (f"receipt {o.number} of {o.date.strftime("%d-%m-%Y")} ({indian_grouping(-o.amount)}"
                + (f", ref {o.reference}" if o.reference else "") + ") is not in their books: ask them to check")
    if o.kind == CREDIT_NOTE:
        return (f"credit note {o.number} of {o.date.strftime("%d-%m-%Y")} ({indian_grouping(-o.amount)}) is not in their books: "
                f"send it to them")
    return f"{_what(o)} {o.number} of {o.date.strftime("%d-%m-%Y")} ({indian_grouping(o.amount)}) is in our books only"


def _missing_ours(t: TheirEntry) -> str:
    if t.kind == THEIR_DEBIT_NOTE:
        return (f"their debit note on {t.date.strftime("%d-%m-%Y")} ({indian_grouping(-t.amount)}) is not in our books: "
                f"accept it with a credit note or dispute it")
    if t.amount < 0:
        return (f"they show {_their_what(t)} on {t.date.strftime("%d-%m-%Y")} that we have not recorded: "
                f"trace it in the bank statement and post the receipt")
    return (f"they show {_their_what(t)} on {t.date.strftime("%d-%m-%Y")} that is not in our books: "
            f"check whether we billed it (or it is another supplier's bill)")


def summary_lines(r: Reconciliation) -> list[tuple[str, Decimal]]:
    """The reconciliation statement, top to bottom: our balance, each kind's total, their balance."""
    lines = [("Balance in our books", r.our_balance)]
    for kind, total in r.totals_by_kind().items():
        if total:
            lines.append((kind.replace("_", " "), total))
    if r.unexplained:
        lines.append(("unexplained", r.unexplained))
    lines.append(("Balance in their books", r.their_balance))
    return lines


def ties(r: Reconciliation) -> bool:
    return r.our_balance + sum((d.amount for d in r.differences), ZERO) + r.unexplained == r.their_balance


def group_ours(entries: Iterable[OurEntry]) -> dict[str, list[OurEntry]]:
    out: dict[str, list[OurEntry]] = defaultdict(list)
    for e in entries:
        out[e.kind].append(e)
    return out

