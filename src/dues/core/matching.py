"""Cash application: which customer paid which invoices with a bank credit, and how sure we are.

Pure: value types in (``Payer`` customers with names and learned identities, ``OpenInvoice`` debit
items, ``BankCredit`` lines), ``Decision`` out (ranked ``Proposal`` s, each with a confidence in
[0, 1] and the reasons in words). Nothing here touches the database.

1. **Customer.** Learned bank account / UPI id / IFSC+account (near certain); the payer name (the
   counterparty, else the narration without its NEFT/UPI/bank noise) against every customer name
   and alias with rapidfuzz, legal suffixes (Pvt Ltd, Private Limited, Traders, & Co, Enterprises)
   and word order ignored; invoice numbers in the narration or reference (``INV-0012``, ``inv 12``,
   ``bill no 12``, ``/12/``) name their customer too.
2. **Invoices.** Numbers in the narration; an exact single invoice; oldest first; a bounded
   subset-sum preferring fewer and older invoices. A short payment is explained by TDS at 0.1/1/2/10%
   of the *taxable value*, bank charges up to a limit, TDS plus charges, or an early-payment
   discount. A payment larger than everything open settles it all and leaves the rest on account.
3. **Confidence.** Name evidence times how well the amount is explained; two different invoice sets
   (or customers) that fit equally well cap it below the auto threshold: a person decides.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from rapidfuzz import fuzz, process

from dues.core.money import indian_grouping

from .payer_names import (
    LEGAL_FORMS,
    abbreviation_score,
    is_legal,
    legal_agreement,
    name_keys,
    plain_words,
    token_keys,
)
from .short_payments import fee_shaped, tds_options, tds_text

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
AMBIGUOUS_CAP = 0.85

LEGAL_WORDS = frozenset(["pvt", "private", "ltd", "limited", "llp", "co", "company", "cos", "corp", "corporation", "inc", "traders", "trader", "trading", "enterprises", "enterprise", "and", "the", "ms", "m", "s", "opc", "industries", "industry",
                         "agencies", "agency"])
# the four letters an IFSC starts with, as banks print them alone in IMPS/UPI narrations
BANK_CODES = frozenset(["hdfc", "icic", "sbin", "utib", "kkbk", "punb", "barb", "ubin", "cnrb", "ioba", "idib", "mahb",
                        "yesb", "indb", "fdrl", "ratn", "scbl", "ucba", "bkid", "ibkl", "csbk", "kvbl", "tmbl", "sibl",
                        "jaka", "pytm", "airp", "aubl", "esfb", "idfb", "dbss", "kare", "cbin", "psib", "vijb", "orbc"])
NOISE_WORDS = frozenset(["neft", "rtgs", "imps", "upi", "nach", "ach", "ecs", "cr", "dr", "chq", "cheque", "clg", "clearing", "inw", "inward", "transfer", "trf", "tfr", "by", "from", "to", "ref", "utr", "no", "payment", "pymt", "pmt", "paid", "received", "recd", "credit", "deposit", "dep", "being", "towards", "against", "mob", "mobile", "ib", "net", "banking", "internet", "a", "c", "ac", "acct", "account", "bank", "hdfc", "icici", "sbi", "axis", "kotak", "yes", "pnb", "bob", "canara", "union", "idfc", "indusind", "federal", "rbl", "citi", "hsbc", "sc", "idbi", "boi", "iob", "uco", "fund", "funds", "invoice", "inv", "bill", "bills", "xx", "part", "agst", "adv", "advance", "full", "final", "settlement", "on"])
_IFSC = re.compile(r"^[A-Z]{4}0[A-Z0-9]{6}$")
_WORD = re.compile(r"[a-z]+")
# "INV-0012", "inv 12", "bill no 12", "invoice no: 12, 13 & 15", "INV/2024/0012"
_KEYWORD_NUMBERS = re.compile(
    r"\b(?:INV(?:OICE)?S?|BILLS?|SI|TAX\s*INV(?:OICE)?)\s*(?:NO|NOS|NUM|NUMBER)?\.?\s*[:#\-/.]?\s*"
    r"((?:[A-Z]{0,4}[-/]?\d{1,10})(?:\s*(?:[,&+/]|AND)\s*[A-Z]{0,4}[-/]?\d{1,10})*)")
_SLASH_NUMBER = re.compile(r"(?<=/)0*(\d{1,7})(?=/)")
_DIGITS = re.compile(r"\d+")


def money(x) -> Decimal:
    return Decimal(x).quantize(CENT, rounding=ROUND_HALF_UP)


def normalise_name(text: str) -> str:
    """Lower-case words without legal suffixes and noise, in their order: 'M/s Shree Ganesh Traders Pvt. Ltd.' -> 'shree ganesh'."""
    words = _WORD.findall(text.lower().replace("&", " and "))
    kept = [w for w in words if w not in LEGAL_WORDS and (len(w) > 1 or w in ("a",))]
    return " ".join(kept)


def payer_text(narration: str, counterparty: str = "") -> str:
    """The part of a narration that names the payer: words only, bank and transfer noise removed."""
    words = payer_words(narration, counterparty)
    # banks cut names at 20-odd characters: a last word that only starts a legal suffix ("PVT LTD" -> "PRI", "TRAD") goes
    if len(words) > 2 and 2 <= len(words[-1]) < 8 and any(x.startswith(words[-1]) and x != words[-1] for x in LEGAL_WORDS):
        words.pop()
    return normalise_name(" ".join(words))


def payer_words(narration: str, counterparty: str = "") -> list[str]:
    """The payer's words as the bank printed them, lower case, legal words and all: ['shree', 'ganesh', 'stl', 'trd']."""
    source = counterparty or narration
    words = []
    for raw in re.split(r"[\s/\-:,.()*]+", source.upper()):
        if not raw or _IFSC.match(raw) or any(c.isdigit() for c in raw) or "@" in raw:
            continue
        for w in _WORD.findall(raw.lower().replace("&", " and ")):
            if (w in NOISE_WORDS or w in BANK_CODES) and not counterparty:
                continue
            words.append(w)
    return words


def name_words(name: str) -> tuple[str, ...]:
    """A customer's name as lower-case words, legal words kept, 'M/s', '&' and 'the' left out."""
    return plain_words(_WORD.findall(name.lower()))


def number_key(number: str) -> int | None:
    """The integer an invoice number ends in: 'INV-0012' -> 12, 'SI/2024/0012' -> 12."""
    runs = _DIGITS.findall(number)
    return int(runs[-1]) if runs else None


def invoice_numbers(text: str) -> tuple[set[int], set[int]]:
    """(strong, weak) integers that may be invoice numbers: after INV/BILL keywords, and between slashes."""
    upper = text.upper()
    strong: set[int] = set()
    for m in _KEYWORD_NUMBERS.finditer(upper):
        for part in re.split(r"\s*(?:[,&+]|AND)\s*", m.group(1)):
            runs = _DIGITS.findall(part)
            if runs and len(runs[-1]) <= 10:
                strong.add(int(runs[-1]))
    weak = {int(x) for x in _SLASH_NUMBER.findall(upper)} - strong
    return strong, weak


# ---------------------------------------------------------------------------------------------- types

@dataclass(frozen=True)
class Payer:
    """A customer as the matcher sees it; ``identities`` are learned (kind, value): account, upi, ifsc_account, alias."""

    code: str
    name: str
    aliases: tuple[str, ...] = ()
    identities: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class OpenInvoice:
    id: int
    customer: str
    number: str
    date: date
    residual: Decimal
    amount: Decimal
    taxable: Decimal | None = None  # the document's taxable value (TDS base); None = the amount

    @property
    def taxable_open(self) -> Decimal:
        base = self.amount if self.taxable is None else self.taxable
        if self.residual == self.amount:
            return base
        return base * self.residual / self.amount


@dataclass(frozen=True)
class BankCredit:
    key: object
    date: date
    amount: Decimal
    reference: str = ""
    narration: str = ""
    counterparty_name: str = ""
    counterparty_account: str = ""
    counterparty_ifsc: str = ""
    counterparty_upi: str = ""


@dataclass(frozen=True)
class Policy:
    # income-tax TDS: 194Q 0.1%, 194C 1% / 2%, 194J 2% / 10% (GST-TDS alone is 2% too)
    tds_rates: tuple[Decimal, ...] = (Decimal("0.001"), Decimal("0.01"), Decimal("0.02"), Decimal("0.10"))
    # GST-TDS (CGST s.51) deducted beside income-tax TDS, by government buyers: Decimal("0.02") to look for it
    gst_tds_rate: Decimal | None = None
    charges_limit: Decimal = Decimal("600.00")  # bank charges shaped like a fee (whole or half rupees, + 18% GST)
    loose_charges_limit: Decimal = Decimal("50.00")  # any other short up to this is taken as bank charges
    charges_gst: Decimal = Decimal("0.18")
    charges_share: Decimal = Decimal("0.02")  # a fee over ₹59 (RTGS with GST) is at most this share of the payment
    discount_rates: tuple[Decimal, ...] = ()  # allowed early-payment discounts, e.g. (Decimal("0.02"),)
    discount_days: int = 10  # paid within this many days of the invoice date
    max_items: int = 5  # largest invoice set the subset search tries
    pool: int = 24  # oldest open invoices of a customer the subset search looks at
    budget: int = 1_500  # k-sum search nodes per customer and line
    min_name: float = 0.72  # fuzzy name score below which a customer is not a candidate


@dataclass(frozen=True)
class Proposal:
    customer: str
    allocations: tuple[tuple[str, Decimal], ...]
    item_ids: tuple[int, ...]
    tds: Decimal = ZERO
    charges: Decimal = ZERO
    discount: Decimal = ZERO
    on_account: Decimal = ZERO
    confidence: float = 0.0
    reasons: tuple[str, ...] = ()
    fingerprint: tuple = ()  # the credit's amount and narration (digits aside): a repeat of it is for a person


@dataclass
class Decision:
    credit: BankCredit
    proposals: list[Proposal] = field(default_factory=list)

    @property
    def best(self) -> Proposal | None:
        return self.proposals[0] if self.proposals else None

    @property
    def confidence(self) -> float:
        return self.proposals[0].confidence if self.proposals else 0.0


@dataclass(frozen=True)
class _Fit:
    """An invoice set and how the amount is explained; ``quality`` in [0, 1], ``kind`` for ambiguity."""

    items: tuple[OpenInvoice, ...]
    amounts: tuple[Decimal, ...]
    tds: Decimal
    charges: Decimal
    discount: Decimal
    on_account: Decimal
    quality: float
    kind: str
    reasons: tuple[str, ...]


def _rate(r: Decimal) -> str:
    return f"{(r * 100).normalize():f}%"


# ---------------------------------------------------------------------------------------------- engine

class PayerIndex:
    """The customers as the engine searches them: by learned identity, by name word and by abbreviation key.

    Built once from the payers and only read after that, so one index serves many runs while the
    customers, their names and aliases and their learned identities stay the same (``matcher_for``
    keeps the last one per company: building it is most of the cost of a run at 100,000 customers).
    """

    def __init__(self, payers: Iterable[Payer]):
        self.payers: dict[str, Payer] = {}
        self.by_identity: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.names: list[str] = []  # normalised names and aliases ...
        self.name_owner: list[str] = []  # ... and whose they are
        self.token_index: dict[str, list[int]] = defaultdict(list)
        self.full_words: list[tuple[str, ...]] = []  # each name's words, legal words kept (abbreviations)
        self.abbr_index: dict[str, list[int]] = defaultdict(list)
        for p in payers:
            self.payers[p.code] = p
            names = [p.name, *p.aliases]
            for kind, value in p.identities:
                if kind == "alias":
                    names.append(value)
                else:
                    self.by_identity[(kind, identity_value(kind, value))].add(p.code)
            seen: set[str] = set()
            for raw in names:
                n = normalise_name(raw)
                if not n or n in seen:
                    continue
                seen.add(n)
                idx = len(self.names)
                self.names.append(n)
                self.name_owner.append(p.code)
                for tok in set(n.split()):
                    self.token_index[tok].append(idx)
                words = name_words(raw)
                self.full_words.append(words)
                for key in name_keys(list(words)):
                    self.abbr_index[key].append(idx)


class Matcher:
    def __init__(self, payers: Iterable[Payer] | PayerIndex, invoices: Iterable[OpenInvoice],
                 policy: Policy | None = None):
        self.policy = policy or Policy()
        index = payers if isinstance(payers, PayerIndex) else PayerIndex(payers)
        self.payers, self.by_identity = index.payers, index.by_identity
        self.names, self.name_owner, self.token_index = index.names, index.name_owner, index.token_index
        self.full_words, self.abbr_index = index.full_words, index.abbr_index
        self.open: dict[str, list[OpenInvoice]] = defaultdict(list)
        self.by_number: dict[int, list[OpenInvoice]] = defaultdict(list)
        self.residual: dict[int, Decimal] = {}
        self.keys: dict[int, int | None] = {}
        for inv in invoices:
            if inv.residual <= 0:
                continue
            self.open[inv.customer].append(inv)
            self.residual[inv.id] = inv.residual
            key = number_key(inv.number)
            self.keys[inv.id] = key
            if key is not None:
                self.by_number[key].append(inv)
        for items in self.open.values():
            items.sort(key=lambda i: (i.date, i.id))
        self.applied: set[tuple] = set()  # fingerprints of credits applied in this run
        pol = self.policy
        self._most_tds = max(pol.tds_rates, default=Decimal(0)) + (pol.gst_tds_rate or 0)

    # -- public

    def match_all(self, credits: Sequence[BankCredit], *, threshold: float | None = None) -> list[Decision]:
        """Decide every credit in turn; with ``threshold``, what a decision at or above it takes is gone for the next."""
        out = []
        for credit in credits:
            decision = self.match(credit)
            if threshold is not None and decision.best and decision.confidence >= threshold:
                self.consume(decision.best)
            out.append(decision)
        return out

    def consume(self, proposal: Proposal) -> None:
        for item_id, (_, amount) in zip(proposal.item_ids, proposal.allocations, strict=True):
            self.residual[item_id] = self.residual.get(item_id, ZERO) - amount
        if proposal.fingerprint:
            self.applied.add(proposal.fingerprint)

    def match(self, credit: BankCredit) -> Decision:
        amount = money(credit.amount)
        text = f"{credit.narration} {credit.reference}"
        strong, weak = invoice_numbers(text)
        candidates = self._customers(credit)
        # invoice numbers after INV/BILL name their customers even when the name does not (a group company paying)
        for n in strong:
            for inv in self.by_number.get(n, ()):
                if self._open(inv) > 0 and inv.customer not in candidates:
                    candidates[inv.customer] = (0.0, [])
        proposals: list[Proposal] = []
        ranked = sorted(candidates.items(), key=lambda kv: -kv[1][0])
        top_name = ranked[0][1][0] if ranked else 0.0
        keep = ({code for k, (code, (score, _)) in enumerate(ranked) if k < 4 or score >= top_name - 0.005}
                | {i.customer for n in strong for i in self.by_number.get(n, ())})
        searched = 0
        for code, (name_score, why) in ranked:
            if code not in keep:
                continue
            searched += 1
            items = [i for i in self.open.get(code, ()) if self._open(i) > 0]
            keys = self.keys
            named = [i for i in items if keys[i.id] in strong] if strong else []
            if weak:
                named += [i for i in items if keys[i.id] in weak and i not in named and keys[i.id] >= 10]
            cust = name_score
            reasons = list(why)
            if named:
                reasons.append("invoice " + ", ".join(i.number for i in named) + " in narration")
                cust = max(cust, 0.97 if name_score >= 0.6 else 0.93)
            if cust < self.policy.min_name and not named:
                continue
            # a customer that cannot come within reach of the best so far gets no subset search (the costly part)
            reach = cust + (1 - cust) * 0.75
            deep = not proposals or reach >= max(p.confidence for p in proposals) - 0.05
            # past the first four, namesakes get a short subset search: enough for a small set to the paisa
            cited = bool(strong) and all(keys[i.id] in strong for i in named)
            fits = self._fits(items, named, amount, credit.date, deep=deep,
                              budget=self.policy.budget if searched <= 4 or named else self.policy.budget // 5,
                              cited=cited)
            if not fits:
                if items and cust >= 0.85:
                    proposals.append(self._partial(code, items, named, amount, cust, reasons))
                elif cust >= 0.85:
                    proposals.append(Proposal(code, (), (), on_account=amount, confidence=round(cust * 0.5, 4),
                                              reasons=(*reasons, "nothing open: all on account")))
                continue
            best = fits[0]
            rivals = [f for f in fits[1:] if {i.id for i in f.items} != {i.id for i in best.items} and (
                f.kind == best.kind and f.quality >= best.quality - 1e-9
                or "tds+charges" in f.kind + best.kind and f.quality >= best.quality - 0.02)]
            boost = {"exact": 0.75, "named": 0.6, "explained": 0.4, "all": 0.3}.get(best.kind.split(":")[0], 0.0)
            conf = best.quality * (cust + (1 - cust) * boost)
            fit_reasons = list(best.reasons)
            namesakes = sum(1 for other, (score, _) in ranked if other != code and score >= name_score - 0.005
                            and any(self._open(i) > 0 for i in self.open.get(other, ())))
            if namesakes and not named and not best.kind.startswith(("exact", "named")) \
                    and not (best.kind == "explained:tds" and self._tds_by_rule(best)):
                # several customers answer to this name: only an exact amount singles one out, not a tolerance
                conf = min(conf, AMBIGUOUS_CAP)
                fit_reasons.append(f"{namesakes} other customer(s) with as good a name match")
            if strong and not best.kind.startswith("named"):
                # the narration names invoices the amount does not pay (or no longer open): a person looks
                conf = min(conf, AMBIGUOUS_CAP)
                fit_reasons.append("but the narration cites " + (", ".join(i.number for i in named) if named
                                                                 else "invoice numbers not open for this customer"))
            if best.kind == "named:part" and name_score < 0.85:
                # a part payment settles nothing by its amount: only a customer known by name or account posts it
                conf = min(conf, AMBIGUOUS_CAP)
                fit_reasons.append("the payer's name does not confirm the customer")
            if rivals:
                conf = min(conf, AMBIGUOUS_CAP)
                fit_reasons.append("ambiguous: " + " or ".join(
                    "+".join(i.number for i in f.items) for f in [best, *rivals[:2]]) + " fit equally well")
            proposals.append(self._proposal(code, best, conf, reasons + fit_reasons))
            for f in rivals[:2]:
                proposals.append(self._proposal(code, f, min(conf, AMBIGUOUS_CAP) - 0.01, reasons + list(f.reasons)))
        proposals.sort(key=lambda p: -p.confidence)
        if len(proposals) > 1 and proposals[1].customer != proposals[0].customer \
                and proposals[1].confidence >= proposals[0].confidence - 0.03:
            top = proposals[0]
            proposals[0] = Proposal(top.customer, top.allocations, top.item_ids, top.tds, top.charges, top.discount,
                                    top.on_account, min(top.confidence, AMBIGUOUS_CAP),
                                    (*top.reasons, f"customer {proposals[1].customer} fits almost as well"))
        fingerprint = (amount, _DIGITS.sub("", credit.narration).strip().upper())
        proposals = [replace(p, fingerprint=fingerprint) for p in proposals[:5]]
        if proposals and fingerprint in self.applied:
            top = proposals[0]
            proposals[0] = replace(top, confidence=min(top.confidence, AMBIGUOUS_CAP), reasons=(
                *top.reasons, "the same amount and narration as a credit already applied: paid twice?"))
        return Decision(credit, proposals)

    # -- customers

    def _customers(self, credit: BankCredit) -> dict[str, tuple[float, list[str]]]:
        found: dict[str, tuple[float, list[str]]] = {}
        acct = identity_value("account", credit.counterparty_account)
        checks = [("upi", credit.counterparty_upi, "UPI id"), ("account", credit.counterparty_account, "bank account"),
                  ("ifsc_account", f"{credit.counterparty_ifsc}:{acct}" if credit.counterparty_ifsc and acct else "",
                   "IFSC and account")]
        for kind, value, label in checks:
            if not value:
                continue
            codes = self.by_identity.get((kind, identity_value(kind, value)), set())
            for code in codes:
                score = 0.99 if len(codes) == 1 else 0.8
                found[code] = (score, [f"{label} {value} known for {code}"])
        raw = payer_words(credit.narration, credit.counterparty_name)
        query = normalise_name(" ".join(raw))
        if not query and credit.counterparty_name:
            raw = payer_words(credit.narration)
            query = normalise_name(" ".join(raw))
        if not query:
            return found
        tokens = sorted(set(query.split()), key=lambda t: len(self.token_index.get(t, ())))
        pool: set[int] = set()
        postings = [p for tok in tokens if (p := self.token_index.get(tok))]
        for posting in postings:
            pool.update(posting)
            if len(pool) >= 300:
                break
        if len(pool) > 600 and len(postings) >= 2:
            # common words in a large book: the names with both of the two rarest words (or the rarest alone)
            both = set(postings[0]).intersection(postings[1])
            if both:
                pool = both
        scores: dict[int, tuple[float, str]] = {}  # name index -> (score, why)
        if pool:
            self._fuzzy(query, list(pool), scores)
        self._abbreviations(raw, scores)
        self._legal_words(raw, scores)
        for i, (score, why) in scores.items():
            code = self.name_owner[i]
            if code in found and found[code][0] >= score:
                continue
            found[code] = (min(score, 0.99), [why])
        return found

    def _fuzzy(self, query: str, idx: list[int], scores: dict[int, tuple[float, str]]) -> None:
        """Names like the payer's, legal words and word order aside (rapidfuzz)."""
        choices = [self.names[i] for i in idx]
        cutoff = self.policy.min_name * 100
        # the best by word set (a name inside a longer one) and by sorted words (the whole name, namesakes): both
        hits = {pos: score for _, score, pos in process.extract(query, choices, scorer=fuzz.token_set_ratio, limit=40,
                                                                  score_cutoff=cutoff)}
        for _, _, pos in process.extract(query, choices, scorer=fuzz.token_sort_ratio, limit=40, score_cutoff=cutoff):
            if pos not in hits:
                hits[pos] = fuzz.token_set_ratio(query, choices[pos])
        qwords = query.split()
        last = qwords[-1] if len(qwords) > 1 and len(qwords[-1]) >= 2 else ""
        scored = []
        for pos, set_score in hits.items():
            name = choices[pos]
            q = query
            if last and not name.endswith(last) and f"{last} " not in name:
                # a name cut short by the bank: "KRISHNA AUTO CHEMICA" for Krishna Auto Chemicals
                full = next((w for w in name.split() if w.startswith(last) and w != last), None)
                if full:
                    q = " ".join([*qwords[:-1], full])
                    set_score = max(set_score, fuzz.token_set_ratio(q, name))
            scored.append(((set_score + fuzz.token_sort_ratio(q, name)) / 200, pos))
        scored.sort(reverse=True)
        # the best eight, and every name as good as the best (customers that share a name: the amount decides)
        keep = [x for k, x in enumerate(scored) if k < 8 or (k < 40 and x[0] >= scored[0][0] - 0.005)]
        for score, pos in keep:
            i = idx[pos]
            scores[i] = (score, f"name {score:.0%} match ({self.payers[self.name_owner[i]].name})")

    def _abbreviations(self, raw: list[str], scores: dict[int, tuple[float, str]]) -> None:
        """Names the payer's words shorten ('S G STEEL TRD', 'SHREEGANESH', 'SHR GNSH STL'): sure when only one
        customer's name reads so, a namesake's score when several do (then the amount or a person decides)."""
        tokens = plain_words(raw)
        if not tokens:
            return
        cut = len(" ".join(raw)) >= 18  # a name at the length of the bank's field may have lost its end
        if scores and not cut:
            top, best = max((v[0], i) for i, v in scores.items())
            if top >= 0.995 and all(t in self.full_words[best] for t in tokens):
                return  # read whole, and not cut: no other name to read it as
        postings = []
        for t in tokens:
            if is_legal(t):
                continue
            keys = token_keys(t)
            if keys:
                postings.append(set().union(*(self.abbr_index.get(k, ()) for k in keys)))
        if not postings:
            return
        candidates = set.intersection(*postings)
        if not candidates or len(candidates) > 600:
            return
        fits = {i: sc for i in candidates if (sc := abbreviation_score(tokens, self.full_words[i], cut)) >= 0.5}
        owners = {self.name_owner[i] for i in fits}
        shown = " ".join(tokens).upper()
        if len(owners) > 1:
            # several customers' names read so: as good a match each, whatever a fuzzy score said (the amount,
            # or the legal words and a name printed whole, decide)
            top = max((scores[i][0] for i in fits if i in scores), default=0.0)
            for i in fits:
                if i in scores and scores[i][0] < top:
                    scores[i] = (top, scores[i][1] + f", as {len(owners) - 1} other customer(s)' names")
        for i, sc in fits.items():
            name = self.payers[self.name_owner[i]].name
            if len(owners) == 1:  # as sure as a name read whole when the words are clear, less on initials
                score = 0.985 if sc >= 0.9 else 0.97 if sc >= 0.8 else 0.92
                why = f"'{shown}' reads as {name} shortened, and as no other customer"
            else:
                score = 0.6 + 0.35 * sc
                why = f"'{shown}' reads as {name} shortened ({sc:.0%}), and as {len(owners) - 1} other customer(s)"
            if score > scores.get(i, (0.0, ""))[0]:
                scores[i] = (score, why)

    def _legal_words(self, raw: list[str], scores: dict[int, tuple[float, str]]) -> None:
        """Names alike but for their legal words: the one whose legal words the bank printed ('ENT', 'PVT LTD') wins,
        and a name printed whole wins over names with legal words more."""
        if len(scores) < 2:
            return
        top = max(v[0] for v in scores.values())
        near = [i for i, v in scores.items() if v[0] >= top - 0.03]
        if len(near) < 2:
            return
        tokens = plain_words(raw)
        agree = {i: legal_agreement(raw, frozenset(w for w in self.full_words[i] if w in LEGAL_FORMS))
                 + (tokens == self.full_words[i]) for i in near}
        most = max(agree.values())
        if most <= 0 or all(a == most for a in agree.values()):
            return
        for i in near:
            score, why = scores[i]
            if agree[i] < most:
                scores[i] = (score - 0.03, why + "; legal words differ from the payer's")
            else:
                scores[i] = (score, why + "; legal words as the payer's")

    # -- invoices

    def _open(self, inv: OpenInvoice) -> Decimal:
        return self.residual.get(inv.id, ZERO)

    def _explain(self, items: Sequence[OpenInvoice], amount: Decimal, on: date, exact_only: bool = False):
        """How ``amount`` settles ``items`` in full: (tds, charges, discount, quality, kind, reasons) or None.

        In order of trust: the exact balance; TDS by a deductor's rule (rate, base, rounding) to the paisa; a
        fee-shaped bank charge; both; any small short as charges; TDS near a rule but not on it (a person checks).
        """
        total = sum((self._open(i) for i in items), ZERO)
        diff = total - amount
        if diff == 0:
            return ZERO, ZERO, ZERO, 1.0, "exact", ("amount equals the invoices' balance",)
        if diff < 0 or exact_only:
            return None
        pol = self.policy
        options = tds_options([i.taxable_open for i in items], pol.tds_rates, pol.gst_tds_rate)
        how = options.get(diff)
        if how and len(how[0]) == 1:
            return diff, ZERO, ZERO, 0.985, "explained:tds", (f"short by {tds_text(how)}",)
        tol = Decimal("1.00") * len(items)
        if pol.discount_rates and all((on - i.date).days <= pol.discount_days for i in items):
            for r in pol.discount_rates:  # an allowed discount before GST-TDS (3% could be 1% TDS + 2% GST-TDS)
                disc = money(total * r)
                if abs(diff - disc) <= tol:
                    return ZERO, ZERO, diff, 0.97, "explained:discount", (f"{_rate(r)} early-payment discount",)
        if how:
            return diff, ZERO, ZERO, 0.985, "explained:tds", (f"short by {tds_text(how)}",)
        if self._fee(diff, amount):
            return ZERO, diff, ZERO, 0.98, "explained:charges", (f"short by {indian_grouping(diff)} bank charges",)
        for tds, how in options.items():
            rest = diff - tds
            if self._fee(rest, amount):
                return tds, rest, ZERO, 0.975, "explained:tds+charges", (
                    f"short by {tds_text(how)} and {indian_grouping(rest)} bank charges",)
        if diff <= pol.loose_charges_limit:
            return ZERO, diff, ZERO, 0.965, "explained:charges", (f"short by {indian_grouping(diff)}, taken as bank charges",)
        # near a rate but on no rounding rule (a rupee an invoice either way): likely TDS, for a person to confirm
        taxable = sum((i.taxable_open for i in items), Decimal(0))
        for r in pol.tds_rates:
            tds = money(taxable * r)
            if tds > 0 and abs(diff - tds) <= tol:
                return diff, ZERO, ZERO, 0.94, "explained:tds", (
                    f"short by {indian_grouping(diff)}, near {_rate(r)} TDS on taxable {indian_grouping(money(taxable))} ({indian_grouping(tds)})",)
            rest = diff - tds
            if tds > 0 and 0 < rest <= pol.loose_charges_limit:
                return tds, rest, ZERO, 0.93, "explained:tds+charges", (
                    f"short by {_rate(r)} TDS on taxable {indian_grouping(money(taxable))} and {indian_grouping(rest)} bank charges",)
        return None

    def _fee(self, x: Decimal, amount: Decimal) -> bool:
        """Whether ``x`` short of ``amount`` is a bank's fee: shaped like one, within the limit, and not a large
        share of a small payment (₹207.68 off ₹1,792 is not a bank's charge)."""
        pol = self.policy
        return (0 < x <= pol.charges_limit and fee_shaped(x, pol.charges_gst, pol.loose_charges_limit)
                and (x <= Decimal("59.00") or x <= amount * pol.charges_share))

    def _fit(self, items, amount, on, quality_scale, kind_prefix, extra=()) -> _Fit | None:
        got = self._explain(items, amount, on)
        if got is None:
            return None
        tds, charges, discount, quality, kind, reasons = got
        amounts = tuple(self._open(i) for i in items)
        kind = "exact" if kind == "exact" else kind
        if kind_prefix:
            kind = f"{kind_prefix}:{kind}"
        return _Fit(tuple(items), amounts, tds, charges, discount, ZERO, quality * quality_scale, kind,
                    (*extra, *reasons))

    def _fits(self, items: list[OpenInvoice], named: list[OpenInvoice], amount: Decimal, on: date,
              deep: bool = True, budget: int | None = None, cited: bool = False) -> list[_Fit]:
        pol = self.policy
        if named:
            fit = self._fit(named, amount, on, 1.0, "named")
            if fit:
                return [fit]
            total = sum((self._open(i) for i in named), ZERO)
            if amount > total and total > 0:  # the named invoices and something more
                rest = amount - total
                return [_Fit(tuple(named), tuple(self._open(i) for i in named), ZERO, ZERO, ZERO, rest, 0.97,
                             "named:over", (f"pays the named invoices in full, {indian_grouping(rest)} on account",))]
            if len(named) == 1 and cited and 0 < amount < total:
                return [self._part(named[0], amount, items, on)]
        if not items:
            return []
        total_open = sum((self._open(i) for i in items), ZERO)
        if amount > total_open:
            rest = amount - total_open
            return [_Fit(tuple(items), tuple(self._open(i) for i in items), ZERO, ZERO, ZERO, rest, 0.97, "all",
                         (f"more than everything open ({indian_grouping(total_open)}): all settled, {indian_grouping(rest)} on account",))]
        # exact single (and single explained), all of them: two of the same amount are ambiguous
        single_top = (amount + pol.charges_limit) / (1 - self._most_tds) + 1
        singles = [f for i in items if amount <= self._open(i) <= single_top
                   and (f := self._fit([i], amount, on, 0.99, "")) is not None]
        if singles:
            singles.sort(key=lambda f: (-f.quality, f.items[0].date))
            if singles[0].kind == "explained:tds+charges" and deep:
                # TDS and a fee fit many an invoice: a set of invoices that is the amount to the paisa is likelier,
                # and one short by TDS on a rule as likely (then a person decides)
                sets = [f for f in self._subsets(items, amount, on, 2, pol.max_items, budget)
                        if f.kind == "exact" or f.kind == "explained:tds" and self._tds_by_rule(f)]
                singles = sorted(sets + singles, key=lambda f: -f.quality)
            return singles
        # oldest first
        run = ZERO
        upper = (amount + pol.charges_limit) / (1 - self._most_tds) + 1
        for k, inv in enumerate(items, start=1):
            run += self._open(inv)
            if run > upper or k > 12:
                break
            if k >= 2 and run >= amount and (fit := self._fit(items[:k], amount, on, 0.98, "", ("oldest first",))):
                if fit.kind == "exact":
                    fit = replace(fit, quality=0.995)
                elif fit.kind == "explained:tds+charges":  # a rule, a fee and a run: too easily a coincidence
                    fit = replace(fit, quality=fit.quality * 0.965 / 0.98)
                # an equal-sized other combination that fits better wins; one that fits as well makes it ambiguous
                fits = [fit, *(f for f in self._subsets(items, amount, on, k, k) if f.items != fit.items)]
                fits.sort(key=lambda f: -f.quality)
                return fits
        return self._subsets(items, amount, on, 2, pol.max_items, budget) if deep else []

    def _subsets(self, items, amount, on, k_min, k_max, budget: int | None = None) -> list[_Fit]:
        """Invoice sets of k_min..k_max items that explain ``amount``: the fewest items first, older before newer.

        Integer paise throughout: each way of explaining a payment (exact, each TDS rate, charges, discount)
        is a narrow window on a per-invoice weight (the residual, or the residual net of its TDS), and a
        k-sum search over the weights sorted largest first prunes every branch that can no longer land in
        the window. Only the sets it finds are checked (in Decimal) by ``_explain``.
        """
        pol = self.policy
        upper = (amount + pol.charges_limit) / (1 - self._most_tds) + 1
        pool = [i for i in items if self._open(i) <= upper][: pol.pool]
        if len(pool) < k_min:
            return []
        a = int(amount * 100)
        lim = int(pol.loose_charges_limit * 100)
        fee_lim = int(pol.charges_limit * 100)
        res = [int(self._open(i) * 100) for i in pool]
        tax = [int(i.taxable_open * 100) for i in pool]
        # (weights, kind) per explanation; the window on their sum depends on k (a rupee of rounding per invoice)
        vectors: list[tuple[list[int], str]] = [(res, "gross")]
        rates = list(pol.tds_rates) + ([r + pol.gst_tds_rate for r in pol.tds_rates] if pol.gst_tds_rate else [])
        for r in rates:
            num, den = r.as_integer_ratio()
            vectors.append(([x - (t * num + den // 2) // den for x, t in zip(res, tax, strict=True)], "net"))
        for r in pol.discount_rates:
            num, den = r.as_integer_ratio()
            vectors.append(([x - (x * num + den // 2) // den for x in res], "discount"))
        prepared = [_ksum_prepare(weights) for weights, _ in vectors]  # sorted once, searched for each k
        nodes = [pol.budget if budget is None else budget]
        for k in range(k_min, min(k_max, len(pool)) + 1):
            tol = 100 * k + k
            sets: dict[tuple[int, ...], None] = {}
            for (weights, kind), prep in zip(vectors, prepared, strict=True):
                # a fee of up to the full limit on sets of two or three; larger sets, small shorts only
                lo, hi = {"gross": (a, a + (fee_lim if k <= 3 else lim)), "net": (a - tol, a + max(lim, tol) + k),
                          "discount": (a - tol, a + tol)}[kind]
                for combo in _ksum(weights, k, lo, hi, nodes, 6, prep):
                    sets[tuple(sorted(combo))] = None
            found = []
            for combo in sets:
                fit = self._fit([pool[j] for j in combo], amount, on, 0.96 - 0.01 * (k - 2), "", (f"{k} invoices add up",))
                if fit and fit.kind == "exact":
                    # to the paisa: a coincidence is far less likely than with a tolerance (TDS, charges)
                    fit = replace(fit, quality=0.99 - 0.005 * (k - 2))
                elif fit and fit.kind == "explained:tds" and self._tds_by_rule(fit):
                    # a few dozen values to the paisa: nearly as telling as the exact balance
                    fit = replace(fit, quality=0.975 - 0.005 * (k - 2))
                elif fit and fit.kind == "explained:charges" and k <= 3 and self._fee(fit.charges, amount):
                    # a bank's fee is a few hundred values in the window, TDS by a rule a few dozen: two or three only
                    fit = replace(fit, quality=0.97 - 0.01 * (k - 2))
                if fit:
                    found.append(fit)
            if found:
                found.sort(key=lambda f: (-f.quality, [i.date for i in f.items]))
                return found
            if nodes[0] <= 0:
                break
        return []

    def _part(self, inv: OpenInvoice, amount: Decimal, items: list[OpenInvoice], on: date) -> _Fit:
        """A part payment of the one invoice the narration cites: the part applied, the rest left open.

        Less sure when the short is small enough to be a deduction (TDS at the highest rate with GST-TDS, and bank
        charges: it may be one that no rule explains), or when another open invoice of the customer is exactly
        the amount (the citation may be wrong).
        """
        pol = self.policy
        rest = self._open(inv) - amount
        why = [f"part payment of cited {inv.number}: {indian_grouping(amount)} applied, {indian_grouping(rest)} stays open"]
        quality = 0.97
        deduction = money(inv.taxable_open * (self._most_tds + (pol.gst_tds_rate or Decimal("0.02")))) \
            + pol.charges_limit
        if rest <= deduction:
            why.append(f"but the {indian_grouping(rest)} short could be a deduction (TDS or charges)")
            quality = 0.8
        twin = next((i for i in items if i.id != inv.id and self._open(i) == amount), None)
        if twin is not None:
            why.append(f"but {twin.number} is open for exactly this amount")
            quality = 0.8
        return _Fit((inv,), (amount,), ZERO, ZERO, ZERO, ZERO, quality, "named:part", tuple(why))

    def _tds_by_rule(self, fit: _Fit) -> bool:
        """The short payment is TDS exactly as a deductor computes it (a rate, on the total or each invoice, rounded).

        A tolerance lets sets of several invoices fit by coincidence; a rule to the paisa does not.
        """
        pol = self.policy
        return fit.tds > 0 and fit.tds in tds_options([i.taxable_open for i in fit.items], pol.tds_rates,
                                                      pol.gst_tds_rate)

    # -- proposals

    def _proposal(self, code: str, fit: _Fit, conf: float, reasons: list[str]) -> Proposal:
        if fit.on_account:
            pass
        return Proposal(code, tuple((i.number, a) for i, a in zip(fit.items, fit.amounts, strict=True)),
                        tuple(i.id for i in fit.items), fit.tds, fit.charges, fit.discount, fit.on_account,
                        round(max(0.0, min(1.0, conf)), 4), tuple(reasons))

    def _partial(self, code, items, named, amount, cust, reasons) -> Proposal:
        """No set explains the amount: a part payment, oldest (or named) first, for a person to confirm."""
        left, allocs, ids = amount, [], []
        for inv in (named or items):
            if left <= 0:
                break
            part = min(left, self._open(inv))
            allocs.append((inv.number, part))
            ids.append(inv.id)
            left -= part
        why = "part payment: " + ("named invoices" if named else "oldest first") + ", amount does not settle them"
        return Proposal(code, tuple(allocs), tuple(ids), on_account=max(left, ZERO),
                        confidence=round(cust * 0.6, 4), reasons=(*reasons, why))


def _ksum(weights: list[int], k: int, lo: int, hi: int, budget: list[int], cap: int,
          prepared: tuple | None = None) -> list[tuple[int, ...]]:
    """Up to ``cap`` sets of ``k`` indexes whose weights sum into [lo, hi]; ``budget[0]`` search nodes, shared.

    ``prepared`` is ``_ksum_prepare(weights)``, computed once when the same weights are searched for several k.
    The weights are searched largest first; bisection skips the ones too large for the window and, for the last
    item of a set, finds the whole run that lands in it at once.
    """
    order, v, nv, pre = prepared or _ksum_prepare(weights)
    n = len(v)
    out: list[tuple[int, ...]] = []
    chosen: list[int] = []

    def dfs(j: int, m: int, s: int) -> None:
        if budget[0] <= 0 or len(out) >= cap:
            return
        budget[0] -= 1
        if m == 1:  # every weight in [lo - s, hi - s] from j on: a run of the descending list
            head = tuple(order[p] for p in chosen)
            for p in range(bisect_left(nv, s - hi, j, n), bisect_right(nv, s - lo, j, n)):
                out.append((*head, order[p]))
            return
        tail_min = pre[n] - pre[n - m + 1]  # the smallest m-1 weights
        stop = n - m + 1
        # weights so large that even the smallest m-1 after them overshoot: skipped by bisection
        start = bisect_left(nv, s + tail_min - hi, j, stop)
        if m == 2:  # the last level inline (a node each, as if called: the budget is spent alike)
            head = tuple(order[p] for p in chosen)
            for p in range(start, stop):
                if s + pre[p + 2] - pre[p] < lo:
                    break
                if budget[0] <= 0 or len(out) >= cap:
                    return
                budget[0] -= 1
                t = s + v[p]
                first = order[p]
                for q in range(bisect_left(nv, t - hi, p + 1, n), bisect_right(nv, t - lo, p + 1, n)):
                    out.append((*head, first, order[q]))
            return
        for p in range(start, stop):
            if s + pre[p + m] - pre[p] < lo:  # the largest m from here fall short; later ones are smaller
                break
            chosen.append(p)
            dfs(p + 1, m - 1, s + v[p])
            chosen.pop()

    dfs(0, k, 0)
    return out


def _ksum_prepare(weights: list[int]) -> tuple[list[int], list[int], list[int], list[int]]:
    """The weights' order largest first, the sorted weights, their negatives (ascending, to bisect) and prefix sums."""
    order = sorted(range(len(weights)), key=lambda j: -weights[j])
    v = [weights[j] for j in order]
    pre = [0]
    for x in v:
        pre.append(pre[-1] + x)
    return order, v, [-x for x in v], pre


def identity_value(kind: str, value: str) -> str:
    """How a learned identity is compared: account numbers by their digits, UPI ids lower-case, aliases normalised."""
    value = (value or "").strip()
    if kind == "upi":
        return value.lower()
    if kind == "account":
        return re.sub(r"[^0-9A-Z]", "", value.upper()).lstrip("0")
    if kind == "ifsc_account":
        ifsc, _, acct = value.partition(":")
        return f"{ifsc.upper().strip()}:{re.sub(r'[^0-9A-Z]', '', acct.upper()).lstrip('0')}"
    return normalise_name(value)
