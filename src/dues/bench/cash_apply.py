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
from datetime import date, timedelta
from decimal import Decimal

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


def run(*, lines: int, open_items: int, seed: int = 42, threshold: float = 0.95,
        progress: Callable[[str], None] = lambda _m: None) -> dict:
    t0 = time.perf_counter()
    payers, invoices, credits, truth = generate(lines=lines, open_items=open_items, seed=seed)
    progress(f"generated {len(credits):,} credits, {len(invoices):,} open items, {len(payers):,} customers "
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
    for d in decisions:
        cust, alloc, case = truth[d.credit.key]
        truth_allocs += len(alloc)
        best = d.best
        if cust is not None:
            with_customer += 1
            identified += best is not None and best.customer == cust
        got = dict(best.allocations) if best is not None else {}
        auto = best is not None and d.confidence >= threshold
        lost = len(alloc) - (sum(1 for n, a in got.items() if best.customer == cust and alloc.get(n) == a) if auto else 0)
        for dim, value in case.items():
            missed[f"{dim}={value}"] += lost
        if best is None:
            continue
        if d.confidence >= threshold:
            auto_lines += 1
            auto_allocs += len(got)
            ok = [n for n, a in got.items() if best.customer == cust and alloc.get(n) == a]
            auto_correct += len(ok)
            auto_wrong_lines += best.customer != cust or got != alloc
        else:
            suggested += 1
            suggested_top1 += best.customer == cust and got == alloc
    pct = lambda a, b: round(100 * a / b, 2) if b else None  # noqa: E731
    return {
        "lines": len(credits), "open_items": len(invoices), "customers": len(payers), "threshold": threshold,
        "identification_rate_pct": pct(identified, with_customer),
        "invoice_auto_apply_rate_pct": pct(auto_correct, truth_allocs),
        "auto_applied_precision_pct": pct(auto_correct, auto_allocs),
        "auto_applied_lines": auto_lines, "auto_applied_wrong_lines": auto_wrong_lines,
        "suggestion_top1_accuracy_pct": pct(suggested_top1, suggested), "suggested_lines": suggested,
        "index_seconds": round(t2 - t1, 2), "match_seconds": round(t3 - t2, 2),
        "lines_per_second": round(len(credits) / (t3 - t2), 1) if t3 > t2 else None,
        "missed_allocations_by_case": ", ".join(f"{k} {v}" for k, v in sorted(missed.items(), key=lambda kv: -kv[1])
                                                if v),
    }
