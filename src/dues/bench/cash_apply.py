"""Cash-application benchmark: a seeded generator of Indian bank credits with ground truth, and the engine's scores.

Pure and in memory (the engine in ``dues.core.matching``, no database): customers with similar names,
open invoices with GST (TDS on the taxable value), and credits in NEFT / RTGS / IMPS / UPI / cheque
narrations with invoice numbers present, mangled or absent; single, combined and partial payments;
TDS and bank-charge shorts; group-company payers; duplicate payments; non-customer credits.
Figures: identification rate, invoice-level auto-apply rate, precision of auto-applied allocations,
suggestion top-1 accuracy, lines per second.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from dues.core.matching import BankCredit, Matcher, OpenInvoice, Payer

FIRST = ["Shree", "Sri", "Balaji", "Ganesh", "Laxmi", "Krishna", "Sai", "Om", "Jai", "Mahalaxmi", "Durga", "Hari",
         "Patil", "Shah", "Mehta", "Kaveri", "Ganga", "Narmada", "Vijay", "Annapurna", "Sundaram", "Amrit", "Royal"]
SECOND = ["Ganesh", "Steel", "Agro", "Textiles", "Polymers", "Pharma", "Foods", "Electricals", "Hardware", "Traders",
          "Motors", "Plastics", "Chemicals", "Paper", "Cement", "Fabrics", "Tools", "Spices", "Logistics", "Auto"]
SUFFIX = ["Traders", "Enterprises", "Pvt Ltd", "Private Limited", "& Co", "Industries", "Agencies", "LLP", ""]
BANKS = ["HDFC", "ICIC", "SBIN", "UTIB", "KKBK", "PUNB", "BARB"]
NOISE = ["INT.PD:01-03-2026 TO 31-03-2026", "CASH DEPOSIT", "REFUND FROM VENDOR GST", "NEFT CR-SBIN0001234-INCOME TAX "
         "REFUND-N998877", "DIVIDEND ITC LTD", "RTGS CR-HDFC0000001-SELF TRANSFER-R112233"]
TDS = [Decimal("0.001"), Decimal("0.01"), Decimal("0.02"), Decimal("0.10")]
CENT = Decimal("0.01")


def _name(rng: random.Random, i: int) -> str:
    base = f"{rng.choice(FIRST)} {rng.choice(SECOND)}"
    if rng.random() < 0.5:
        base += f" {rng.choice(SECOND)}"
    return f"{base} {rng.choice(SUFFIX)} {i:05d}".strip() if False else f"{base} {rng.choice(SUFFIX)}".strip()


def generate(*, lines: int, open_items: int, seed: int = 42):
    """(payers, invoices, credits, truth); truth[key] = (customer or None, {invoice: amount}, {dimension: case})."""
    rng = random.Random(seed)
    n_customers = max(10, open_items // 20)
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < n_customers:
        n = _name(rng, len(names))
        if n.lower() in seen:  # real books have similar names, but not two identical ones
            n = f"{n} {rng.choice(['Gujarat', 'Pune', 'Delhi', 'Chennai', 'Surat', 'Nagpur', 'Indore', 'Kochi'])}"
            if n.lower() in seen:
                n = f"{n} {len(names)}"
        seen.add(n.lower())
        names.append(n)
    payers = [Payer(f"C{i:06d}", n) for i, n in enumerate(names)]
    start = date(2025, 4, 1)
    invoices: list[OpenInvoice] = []
    by_customer: dict[str, list[OpenInvoice]] = {p.code: [] for p in payers}
    for i in range(open_items):
        cust = payers[rng.randrange(n_customers)].code
        taxable = Decimal(rng.randrange(50_000, 50_000_000)) / 100
        amount = (taxable * Decimal("1.18")).quantize(CENT)
        inv = OpenInvoice(i + 1, cust, f"INV-{i + 1:07d}", start + timedelta(days=rng.randrange(360)), amount, amount,
                          taxable)
        invoices.append(inv)
        by_customer[cust].append(inv)
    for items in by_customer.values():
        items.sort(key=lambda x: (x.date, x.id))
    used: set[int] = set()
    credits, truth = [], {}
    for k in range(lines):
        key = k + 1
        day = date(2026, 4, 1) + timedelta(days=rng.randrange(60))
        r = rng.random()
        if r < 0.05:  # not a customer at all
            credits.append(BankCredit(key, day, Decimal(rng.randrange(100, 5_000_000)) / 100, f"R{key}", rng.choice(NOISE)))
            truth[key] = (None, {}, {"kind": "noise"})
            continue
        payer = payers[rng.randrange(n_customers)]
        items = [i for i in by_customer[payer.code] if i.id not in used]
        if not items:
            credits.append(BankCredit(key, day, Decimal("1000.00"), f"R{key}", f"NEFT CR-HDFC0000001-{payer.name.upper()}-N{key}"))
            truth[key] = (payer.code, {}, {"kind": "nothing-open"})
            continue
        kind = rng.random()
        case = {"kind": "single" if kind < 0.55 else "oldest" if kind < 0.75 else "any-set"}
        if kind < 0.55:
            chosen = [rng.choice(items)]
        elif kind < 0.75:
            chosen = items[: rng.randint(2, 4)]  # oldest first
        else:
            chosen = rng.sample(items, min(len(items), rng.randint(2, 3)))
        total = sum((i.residual for i in chosen), Decimal(0))
        amount, alloc = total, {i.number: i.residual for i in chosen}
        short = rng.random()
        case["short"] = ("tds" if short < 0.2 else "charges" if short < 0.27
                         else "part" if short < 0.32 and len(chosen) == 1 else "none")
        if short < 0.2:
            rate = rng.choice(TDS)
            amount = total - sum(((i.taxable * rate).quantize(CENT) for i in chosen), Decimal(0))
        elif short < 0.27:
            amount = total - rng.choice([Decimal("5.90"), Decimal("11.80"), Decimal("17.70"), Decimal("25.00")])
        elif short < 0.32 and len(chosen) == 1:  # a part payment: a round sum
            amount = (total / 2).quantize(Decimal("1"))
            alloc = {chosen[0].number: amount}
        for i in chosen:
            used.add(i.id)
        # the payer as the bank prints it
        shown = payer.name.upper()
        g = rng.random()
        case["name"] = "group" if g < 0.04 else "shuffled" if g < 0.15 else "truncated" if g < 0.3 else "plain"
        if g < 0.04:
            shown = f"{rng.choice(FIRST).upper()} GROUP HOLDINGS"  # a group company pays
        elif g < 0.15:
            words = shown.split()
            rng.shuffle(words)
            shown = " ".join(words)
        elif g < 0.3:
            shown = shown.replace("PVT LTD", "PRIVATE LIMITED").replace("& CO", "AND COMPANY")[:22]
        numbers = [i.number for i in chosen]
        n = rng.random()
        case["ref"] = "numbers" if n < 0.35 else "mangled" if n < 0.55 else "none"
        if n < 0.35:
            ref = " ".join(numbers)
        elif n < 0.55:  # mangled
            ref = "BILL NO " + ",".join(str(int(x.split("-")[1])) for x in numbers)
        else:
            ref = ""
        fmt = rng.random()
        utr = f"{rng.randrange(10**11, 10**12)}"
        bank = rng.choice(BANKS)
        if fmt < 0.4:
            text = f"NEFT CR-{bank}0{rng.randrange(10**5, 10**6)}-{shown}-N{utr} {ref}"
        elif fmt < 0.55:
            text = f"RTGS CR-{bank}0{rng.randrange(10**5, 10**6)}-{shown}-R{utr} {ref}"
        elif fmt < 0.75:
            text = f"IMPS-{utr}-{shown}-{bank}-XXXX{rng.randrange(1000, 9999)} {ref}"
        elif fmt < 0.9:
            text = f"UPI/{utr}/{shown[:20]}/{shown.split()[0].lower()}@ok{bank.lower()}/{bank} {ref}"
        else:
            text = f"CHQ DEP {rng.randrange(100000, 999999)} {shown} {ref}"
        credits.append(BankCredit(key, day, amount.quantize(CENT), utr, text.strip()))
        truth[key] = (payer.code, alloc, case)
        if rng.random() < 0.02:  # the same payment sent twice: the second is on account
            key2 = lines + k + 1
            credits.append(BankCredit(key2, day + timedelta(days=1), amount.quantize(CENT), utr + "D", text.strip()))
            truth[key2] = (payer.code, {}, {"kind": "duplicate"})
    credits.sort(key=lambda c: (c.date, str(c.key)))
    return payers, invoices, credits, truth


# ------------------------------------------------------------------------------------------ the "india" mix
#
# Harder cases, each line labelled with one ``kind``, and a truth that says what a careful person applies
# without asking (an empty allocation = she would ask): part payments citing the invoice, bank-charge shorts,
# TDS shorts in their real variety, payer names as Indian banks abbreviate them, twin invoices.

GST_RATES = [Decimal("0.05"), Decimal("0.12"), Decimal("0.18"), Decimal("0.18"), Decimal("0.18"), Decimal("0.28")]
# (section, rate): 194Q goods, 194C contracts (individual / others), 194J technical / professional, GST-TDS (s.51)
TDS_SECTIONS = [("194Q", Decimal("0.001")), ("194C", Decimal("0.01")), ("194C", Decimal("0.02")),
                ("194J", Decimal("0.02")), ("194J", Decimal("0.10")), ("GST-TDS", Decimal("0.02"))]
# bank fees before GST: NEFT/IMPS 2.50-25, RTGS 25-50, foreign inward remittance 100-500
FEES = [Decimal(x) for x in ("2.50", "5", "10", "15", "20", "25", "30", "45", "50", "100", "150", "250", "300", "500")]
LEGAL_SHORT = {"TRADERS": ["TRD", "TRDS", "TRDG", "TRADE", "TRADERS"], "ENTERPRISES": ["ENT", "ENTP", "ENTPR", "ENTER"],
               "INDUSTRIES": ["IND", "INDS", "INDUS"], "AGENCIES": ["AGN", "AGCY", "AGENC"],
               "PRIVATE": ["P", "PVT", "PRIV"], "LIMITED": ["L", "LTD", "LIM"], "PVT": ["P", "PVT"], "LTD": ["L", "LTD"],
               "&": ["AND", "&"], "CO": ["CO", "COMPANY"], "LLP": ["LLP"]}
LEGAL_UPPER = frozenset(LEGAL_SHORT)
CITE = ["{n}", "INV {k}", "BILL NO {k}", "AGST INV {k}", "INV NO.{k}", "AGST BILL {n}"]
CITE_PART = ["PART PMT INV {k}", "{n} PART", "PART AGST {n}", "ON A/C INV {k}", "INV {k}", "{n}"]


def _devowel(word: str) -> str:
    return word[0] + "".join(c for c in word[1:] if c not in "AEIOU")


def _abbreviate(rng: random.Random, name: str) -> tuple[str, str]:
    """The payer's name as a bank prints it, shortened in one of the ways Indian banks do: (text, style)."""
    words = name.upper().replace("&", " & ").split()
    core = [k for k, w in enumerate(words) if w not in LEGAL_UPPER]
    style = rng.choice(["short-words", "initials", "joined", "devowel", "cut", "ms-cut"])
    if style in ("cut", "ms-cut"):  # cut at 20-35 characters, sometimes after M/S
        text = ("M/S " if style == "ms-cut" else "") + " ".join(words)
        return text[: rng.randint(20, 35)].strip(), style
    out = [rng.choice(LEGAL_SHORT[w]) if w in LEGAL_UPPER else w for w in words]
    if style == "short-words":  # SHREE GANESH STL TRD
        for k in core[1:]:
            w = words[k]
            if rng.random() < 0.6:
                out[k] = _devowel(w)[: rng.randint(3, 5)] if rng.random() < 0.5 else w[: rng.randint(4, max(4, len(w) - 1))]
    elif style == "initials":  # S G STEEL TRADERS, SG STEEL
        heads = core[:2] if len(core) > 2 else core[:1]
        for k in heads:
            out[k] = words[k][0]
        if len(heads) == 2 and heads[1] == heads[0] + 1 and rng.random() < 0.4:
            out[heads[0]], out[heads[1]] = out[heads[0]] + out[heads[1]], ""
    elif style == "joined":  # SHREEGANESH STEEL
        if len(core) >= 2 and core[1] == core[0] + 1:
            out[core[0]], out[core[1]] = out[core[0]] + out[core[1]], ""
    else:  # SHR GNSH STL TRDRS
        for k in core:
            out[k] = _devowel(words[k]) if len(words[k]) > 3 else words[k]
    return " ".join(x for x in out if x), style


def _fits(shown: str, name: str) -> bool:
    """Could a careful reader take ``shown`` for ``name``? Word by word in order, each shown word is the name's
    word, its start, its initial, its consonants, a legal word's short form (TRD, PVT, P, LTD), or several words
    run together (SHREEGANESH, SG); the bank may leave out legal words, and cut the end of a name that is 18
    characters or longer (UPI cuts at 20)."""
    forms = {f: w for w, fs in LEGAL_SHORT.items() for f in fs} | {"COMPANY": "CO"}
    toks = [t for t in shown.upper().replace("&", " & ").split() if t != "M/S"]
    words = name.upper().replace("&", " & ").split()
    equal = {"PRIVATE": "PVT", "LIMITED": "LTD", "&": "&", "AND": "&"}
    cut_ok = len(shown) >= 18

    def word_fits(t: str, w: str) -> bool:
        if w in LEGAL_UPPER and (forms.get(t, "?") in (w, equal.get(w)) or equal.get(t, "?") == equal.get(w, w)
                                 or any(f.startswith(t) for f in (w, *LEGAL_SHORT[w]))):
            return True
        if not t or t[0] != w[0]:
            return False
        it = iter(w)
        return all(c in it for c in t)  # t is w, its start, its initial, or w less some letters

    def walk(i: int, j: int) -> bool:
        if i == len(toks):
            return all(w in LEGAL_UPPER for w in words[j:]) or cut_ok
        if j == len(words):
            return False
        t = toks[i]
        if word_fits(t, words[j]) and walk(i + 1, j + 1):
            return True
        if words[j] in LEGAL_UPPER and walk(i, j + 1):  # a legal word the bank left out
            return True
        for span in range(2, len(words) - j + 1):  # words run together: SHREEGANESH, SG, SHREEGAN
            run = words[j: j + span]
            head = "".join(run[:-1])
            if (t == "".join(w[0] for w in run) or t.startswith(head) and len(t) > len(head)
                    and run[-1].startswith(t[len(head):])) and walk(i + 1, j + span):
                return True
        return False

    return bool(toks) and walk(0, 0)


def _round_tds(x: Decimal, how: str) -> Decimal:
    if how == "paise":
        return x.quantize(CENT, rounding=ROUND_HALF_UP)
    if how == "ceil":
        return x.quantize(Decimal("1"), rounding=ROUND_CEILING).quantize(CENT)
    return x.quantize(Decimal("1"), rounding=ROUND_HALF_UP).quantize(CENT)


def _explains(i: OpenInvoice, amount: Decimal) -> bool:
    """Whether ``amount`` pays invoice ``i``: its balance, or that less TDS at a section's rate by a rounding rule."""
    short = i.residual - amount
    if short == 0:
        return True
    base = i.taxable * i.residual / i.amount
    return 0 < short <= i.residual * Decimal("0.13") and any(
        short == _round_tds(base * r, how) for _, r in TDS_SECTIONS for how in ("paise", "rupee", "ceil"))


def generate_india(*, lines: int, open_items: int, seed: int = 7):
    """(payers, invoices, credits, truth) for the hard mix; truth[key] = (customer, {invoice: amount}, case) with
    ``case['kind']`` and, where a short payment is explained, the expected ``tds`` and ``charges``."""
    rng = random.Random(seed)
    n_customers = max(10, open_items // 20)
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < n_customers:
        n = _name(rng, len(names))
        if n.lower() in seen:
            continue
        seen.add(n.lower())
        names.append(n)
        if rng.random() < 0.08 and len(names) < n_customers:  # a namesake by initials: Sai Ganga Steel for Shree Ganesh Steel
            words = n.split()
            alt = [x for x in FIRST if x[0] == words[0][0] and x != words[0]]
            if alt:
                twin = " ".join([rng.choice(alt), *words[1:]])
                if twin.lower() not in seen:
                    seen.add(twin.lower())
                    names.append(twin)
    payers = [Payer(f"C{i:06d}", n) for i, n in enumerate(names)]
    start = date(2025, 4, 1)
    invoices: list[OpenInvoice] = []
    by_customer: dict[str, list[OpenInvoice]] = {p.code: [] for p in payers}

    def new_invoice(cust: str, taxable: Decimal, gst: Decimal, residual_share: Decimal = Decimal(1)) -> OpenInvoice:
        k = len(invoices) + 1
        amount = (taxable * (1 + gst)).quantize(CENT, rounding=ROUND_HALF_UP)
        residual = amount if residual_share == 1 else (amount * residual_share).quantize(Decimal("1"))
        inv = OpenInvoice(k, cust, f"INV-{k:07d}", start + timedelta(days=rng.randrange(360)), residual, amount,
                          taxable)
        invoices.append(inv)
        by_customer[cust].append(inv)
        return inv

    for _ in range(open_items):
        taxable = Decimal(rng.randrange(50_000, 50_000_000)) / 100
        share = Decimal(1) if rng.random() < 0.9 else Decimal(rng.randrange(30, 90)) / 100  # partly paid before
        new_invoice(payers[rng.randrange(n_customers)].code, taxable, rng.choice(GST_RATES), share)
    for items in by_customer.values():
        items.sort(key=lambda x: (x.date, x.id))
    core_names: dict[str, str] = {p.code: p.name for p in payers}
    used: set[int] = set()
    credits, truth = [], {}
    kinds = [("noise", 3), ("exact", 6), ("combined", 5), ("cheque", 3), ("part-cited", 12), ("part-uncited", 3),
             ("charges", 12), ("tds", 16), ("tds+charges", 5), ("abbreviated", 20), ("twin", 5), ("twin-cited", 2),
             ("abbreviated-twin", 3), ("duplicate", 2), ("nothing-open", 1)]
    population, weights = zip(*kinds, strict=True)
    for k in range(lines):
        key = k + 1
        day = date(2026, 4, 1) + timedelta(days=rng.randrange(60))
        kind = rng.choices(population, weights)[0]
        utr = f"{rng.randrange(10**11, 10**12)}"
        if kind == "noise":
            credits.append(BankCredit(key, day, Decimal(rng.randrange(100, 5_000_000)) / 100, utr, rng.choice(NOISE)))
            truth[key] = (None, {}, {"kind": kind})
            continue
        payer = payers[rng.randrange(n_customers)]
        items = [i for i in by_customer[payer.code] if i.id not in used]
        if kind == "abbreviated-twin":  # a payer whose abbreviation fits a namesake too
            pairs = [(p, q) for p, q in zip(payers, payers[1:], strict=False)
                     if p.name.split()[0][0] == q.name.split()[0][0] and p.name.split()[1:] == q.name.split()[1:]]
            if pairs:
                payer = rng.choice(pairs)[rng.randrange(2)]
                items = [i for i in by_customer[payer.code] if i.id not in used]
        if kind == "nothing-open" or not items:
            credits.append(BankCredit(key, day, Decimal("1000.00"), utr, f"NEFT CR-HDFC0000001-{payer.name.upper()}-N{utr}"))
            truth[key] = (payer.code, {}, {"kind": "nothing-open"})
            continue
        case: dict = {"kind": kind}
        tds = charges = Decimal("0.00")
        cite: list[OpenInvoice] = []
        shown = payer.name.upper()
        if kind in ("twin", "twin-cited"):
            first = rng.choice(items)
            second = new_invoice(payer.code, first.taxable, (first.amount / first.taxable - 1).quantize(CENT))
            second = replace(second, residual=first.residual, amount=first.amount)
            invoices[-1] = second
            by_customer[payer.code][-1] = second
            chosen = [rng.choice([first, second])]
            used.update((first.id, second.id))
            amount = chosen[0].residual
            alloc = {chosen[0].number: amount} if kind == "twin-cited" else {}
            if kind == "twin-cited":
                cite = chosen
        elif kind in ("part-cited", "part-uncited"):
            chosen = [rng.choice(items)]
            res = chosen[0].residual
            frac = Decimal(rng.randrange(20, 90)) / 100
            step = rng.choice([Decimal("1000"), Decimal("100"), Decimal("1"), CENT])
            amount = (res * frac / step).quantize(Decimal("1")) * step
            if amount <= 0 or amount >= res - 600:
                amount = (res / 2).quantize(CENT)
            alloc = {chosen[0].number: amount} if kind == "part-cited" else {}
            cite = chosen if kind == "part-cited" else []
        else:
            if kind == "combined" or kind in ("tds", "tds+charges", "charges", "abbreviated", "abbreviated-twin") \
                    and rng.random() < 0.25:
                chosen = (items[: rng.randint(2, 4)] if rng.random() < 0.5
                          else rng.sample(items, min(len(items), rng.randint(2, 3))))
            else:
                chosen = [rng.choice(items)]
            total = sum((i.residual for i in chosen), Decimal(0))
            alloc = {i.number: i.residual for i in chosen}
            short = kind
            if kind in ("abbreviated", "abbreviated-twin"):
                short = rng.choice(["exact", "exact", "charges", "tds"])
            if short in ("tds", "tds+charges"):
                section, rate = rng.choice(TDS_SECTIONS)
                rates = [rate]
                if rng.random() < 0.08:  # a government buyer: income-tax TDS and GST-TDS, each apart
                    section, rates = f"{section}+GST-TDS", [rate, Decimal("0.02")]
                how = rng.choices(["paise", "rupee", "ceil"], [4, 5, 1])[0]
                per_invoice = rng.random() < 0.5
                bases = [i.taxable * i.residual / i.amount for i in chosen]
                tds = sum(((sum((_round_tds(b * r, how) for b in bases), Decimal(0)) if per_invoice
                            else _round_tds(sum(bases, Decimal(0)) * r, how)) for r in rates), Decimal(0))
                case["tds"] = (f"{section} {'+'.join(_pct(r) for r in rates)} {how}"
                               f"{' each' if per_invoice and len(chosen) > 1 else ''}")
            if short in ("charges", "tds+charges"):
                fee = rng.choice(FEES)
                # GST on the fee; small NEFT/IMPS fees sometimes without it
                charges = (fee * Decimal("1.18")).quantize(CENT) if fee > 50 or rng.random() < 0.7 else fee.quantize(CENT)
            amount = total - tds - charges
            if short == "exact" and kind != "cheque":
                case.setdefault("short", "none")
        if kind not in ("twin", "part-cited", "part-uncited") and rng.random() < 0.35:
            cite = cite or chosen
        fmt = rng.random() if kind != "cheque" else -1.0
        bank = rng.choice(BANKS)
        if kind in ("abbreviated", "abbreviated-twin") or rng.random() < 0.1:
            shown, style = _abbreviate(rng, payer.name)
            if fmt >= 0.8:
                shown = shown[:20].strip()
            case["name"] = style
            others = [c for c, n in core_names.items() if c != payer.code and _fits(shown, n)]
            if not _fits(shown, payer.name):
                case["name"] = style + " (unreadable)"
                others = others or ["?"]
            elif shown.upper().removeprefix("M/S ") == payer.name.upper():
                others = []  # the name in full: namesakes with more words are not it
            # the name fits two customers: a person asks, unless the invoice is cited or the amount decides: it is
            # what is open with this customer, or that less TDS by a rule, and no open invoice of another it fits
            elsewhere = any(_explains(i, amount) for c in others for i in by_customer.get(c, ()) if i.id not in used)
            if others and not cite and (charges or elsewhere or others == ["?"]):
                alloc, tds, charges = {}, Decimal("0.00"), Decimal("0.00")
                case["name"] += " fits another customer"
        for i in chosen:
            used.add(i.id)
        ref = " ".join(rng.choice(CITE_PART if kind == "part-cited" else CITE).format(n=i.number, k=int(i.number.split("-")[1])) for i in cite)
        if kind == "cheque":
            text = f"CHQ DEP {rng.randrange(100000, 999999)} MICR CTS {shown} {ref}"
        else:
            if fmt < 0.4:
                text = f"NEFT CR-{bank}0{rng.randrange(10**5, 10**6)}-{shown}-N{utr} {ref}"
            elif fmt < 0.55:
                text = f"RTGS CR-{bank}0{rng.randrange(10**5, 10**6)}-{shown}-R{utr} {ref}"
            elif fmt < 0.8:
                text = f"IMPS-{utr}-{shown}-{bank}-XXXX{rng.randrange(1000, 9999)} {ref}"
            else:
                text = f"UPI/{utr}/{shown[:20]}/{shown.split()[0].lower()}@ok{bank.lower()}/{bank} {ref}"
        case["tds_amount"], case["charges_amount"] = tds, charges
        credits.append(BankCredit(key, day, amount.quantize(CENT), utr, text.strip()))
        truth[key] = (payer.code, alloc, case)
        if kind == "duplicate":  # the same payment sent twice: the second goes on account, a person looks
            key2 = lines + key
            credits.append(BankCredit(key2, day + timedelta(days=1), amount.quantize(CENT), utr + "D", text.strip()))
            truth[key2] = (payer.code, {}, {"kind": "duplicate"})
            truth[key] = (payer.code, alloc, {**case, "kind": "exact"})
    credits.sort(key=lambda c: (c.date, str(c.key)))
    return payers, invoices, credits, truth


def _pct(r: Decimal) -> str:
    return f"{(r * 100).normalize():f}%"


def run(*, lines: int, open_items: int, seed: int = 42, threshold: float = 0.95, mix: str = "classic",
        progress: Callable[[str], None] = lambda _m: None) -> dict:
    t0 = time.perf_counter()
    make = generate_india if mix == "india" else generate
    payers, invoices, credits, truth = make(lines=lines, open_items=open_items, seed=seed)
    progress(f"generated {len(credits):,} credits ({mix} mix), {len(invoices):,} open items, {len(payers):,} customers "
             f"in {time.perf_counter() - t0:.1f} s")
    t1 = time.perf_counter()
    matcher = Matcher(payers, invoices)
    t2 = time.perf_counter()
    decisions = matcher.match_all(credits, threshold=threshold)
    t3 = time.perf_counter()
    identified = with_customer = 0
    truth_allocs = auto_allocs = auto_correct = 0
    suggested = suggested_top1 = auto_lines = auto_wrong_lines = 0
    missed: Counter = Counter()  # truth allocations not auto-applied, by generator case
    # per kind: lines, allocations to apply, applied right, applied in all, lines to hold, held
    per_kind: dict[str, list[int]] = {}
    for d in decisions:
        cust, alloc, case = truth[d.credit.key]
        truth_allocs += len(alloc)
        best = d.best
        if cust is not None:
            with_customer += 1
            identified += best is not None and best.customer == cust
        got = dict(best.allocations) if best is not None else {}
        auto = best is not None and d.confidence >= threshold
        split_ok = best is not None and ("tds_amount" not in case or (
            best.tds == case["tds_amount"] and best.charges == case["charges_amount"]))
        right = [n for n, a in got.items() if best.customer == cust and alloc.get(n) == a and split_ok] if auto else []
        lost = len(alloc) - len(right)
        for dim, value in case.items():
            if dim not in ("tds_amount", "charges_amount"):
                missed[f"{dim}={value}"] += lost
        row = per_kind.setdefault(case["kind"], [0, 0, 0, 0, 0, 0])
        row[0] += 1
        row[1] += len(alloc)
        row[2] += len(right)
        row[3] += len(got) if auto else 0
        if not alloc:
            row[4] += 1
            row[5] += not (auto and got)
        if best is None:
            continue
        if auto:
            auto_lines += 1
            auto_allocs += len(got)
            auto_correct += len(right)
            auto_wrong_lines += best.customer != cust or got != alloc or not split_ok
        else:
            suggested += 1
            suggested_top1 += best.customer == cust and got == alloc
    pct = lambda a, b: round(100 * a / b, 2) if b else None  # noqa: E731
    by_kind = []
    for kind, (n, want, ok, applied, hold, held) in sorted(per_kind.items()):
        text = f"{kind}: {n} lines"
        if want:
            text += f", auto-applied {pct(ok, want)}% of {want} at {pct(ok, applied) if applied else '-'}% precision"
        if hold:
            text += f", {held} of {hold} left to a person as they should be"
        by_kind.append(text)
    return {
        "mix": mix, "seed": seed,
        "lines": len(credits), "open_items": len(invoices), "customers": len(payers), "threshold": threshold,
        "identification_rate_pct": pct(identified, with_customer),
        "invoice_auto_apply_rate_pct": pct(auto_correct, truth_allocs),
        "auto_applied_precision_pct": pct(auto_correct, auto_allocs),
        "auto_applied_lines": auto_lines, "auto_applied_wrong_lines": auto_wrong_lines,
        "suggestion_top1_accuracy_pct": pct(suggested_top1, suggested), "suggested_lines": suggested,
        "index_seconds": round(t2 - t1, 2), "match_seconds": round(t3 - t2, 2),
        "lines_per_second": round(len(credits) / (t3 - t2), 1) if t3 > t2 else None,
        "by_kind": by_kind,
        "missed_allocations_by_case": ", ".join(f"{k} {v}" for k, v in sorted(missed.items(), key=lambda kv: -kv[1])
                                                if v),
    }
