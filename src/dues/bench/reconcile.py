"""Ledger clearance benchmark: a seeded pair of ledgers with known perturbations, matched by the engine.

No database: our side and theirs are generated as the engine's value types, so the figure is the
matching itself (reading a file and our side add well under a second for 10,000 entries; see
docs/reconciliation.md). Accuracy is the share of planted differences found with the right kind on
the right entry, counting every difference reported that was not planted as a miss too.
"""

from __future__ import annotations

import random
import time
from datetime import date, timedelta
from decimal import Decimal

from dues.core import reconcile as rc

KINDS = ("missing_in_theirs", "missing_in_ours", "amount_mismatch", "tds_difference", "timing", "duplicate",
         "split", "combined")


def pair(entries: int, seed: int = 42, rate: float = 0.05):
    """(ours, theirs, planted, as_of): about ``entries`` entries per side, ``rate`` of them perturbed."""
    rnd = random.Random(seed)
    as_of = date(2025, 3, 31)
    start = date(2024, 4, 1)
    span = (as_of - start).days
    ours: list[rc.OurEntry] = []
    theirs: list[tuple] = []
    planted: set[tuple] = set()
    seen: set[Decimal] = set()

    def amount(low: int = 1_000_00, high: int = 25_00_000_00) -> Decimal:
        if rnd.random() < 0.2:  # round figures repeat (monthly retainers, standard packs)
            return Decimal(rnd.choice((5_900, 11_800, 25_000, 50_000, 59_000, 1_00_000, 1_18_000)))
        while True:
            value = Decimal(rnd.randint(low, high)) / 100
            if value not in seen:
                seen.add(value)
                return value

    def their(on, value, kind, ref, narration):
        theirs.append((on, value, kind, ref, narration))
        return f"row {len(theirs)}"

    invoices = max(1, entries * 10 // 22)  # an invoice brings about 1.2 more entries: receipt, TDS
    for i in range(invoices):
        on = start + timedelta(days=rnd.randint(0, span - 25))
        number = f"SGT/{1000 + i}/24-25"
        value = amount()
        p = rnd.choice(KINDS) if rnd.random() < rate * 2 else None  # two entries per invoice on each side
        ref = rnd.choice([number, str(1000 + i), f"INV {1000 + i}", f"Bill no {number}"])
        if p == "timing":
            on = as_of - timedelta(days=rnd.randint(0, 3))
        ours.append(rc.OurEntry(number, rc.INVOICE, on, value))
        booked = on + timedelta(days=rnd.randint(0, 4))
        if p == "missing_in_theirs":
            planted.add(("missing_in_theirs", number, None))
        elif p == "amount_mismatch":
            row = their(booked, value - Decimal(rnd.randint(1, 50_000)) / 100, rc.PURCHASE, ref, "Purchase")
            planted.add(("amount_mismatch", number, row))
        elif p == "timing":
            row = their(as_of + timedelta(days=rnd.randint(1, 5)), value, rc.PURCHASE, ref, "Purchase")
            planted.add(("timing", number, row))
        elif p == "duplicate":
            their(booked, value, rc.PURCHASE, ref, "Purchase")
            planted.add(("duplicate", None, their(booked, value, rc.PURCHASE, ref, "Purchase")))
        else:
            their(booked, value, rc.PURCHASE, ref, "Purchase")
        if p == "timing" or rnd.random() < 0.15:
            continue  # unpaid
        paid = on + timedelta(days=rnd.randint(10, 20))
        if paid > as_of:
            continue
        tds = (value * Decimal("0.001")).quantize(Decimal("0.01")) if rnd.random() < 0.5 else Decimal(0)
        cash = value - tds
        rnum, utr = f"R-{i}", f"N{24000000 + i}"
        if p == "combined":
            part = (cash / 3).quantize(Decimal("0.01"))
            ours.append(rc.OurEntry(rnum, rc.PAYMENT, paid, -part, ""))
            ours.append(rc.OurEntry(f"{rnum}B", rc.PAYMENT, paid + timedelta(days=1), -(cash - part), ""))
            their(paid, -cash, rc.THEIR_PAYMENT, "", "Payment")
        else:
            ours.append(rc.OurEntry(rnum, rc.PAYMENT, paid, -cash, utr))
            if p == "split":
                part = (cash / 3).quantize(Decimal("0.01"))
                their(paid, -part, rc.THEIR_PAYMENT, "", "Payment")
                their(paid + timedelta(days=1), -(cash - part), rc.THEIR_PAYMENT, "", "Payment")
            else:
                their(paid, -cash, rc.THEIR_PAYMENT, "", rnd.choice([f"NEFT {utr}", f"RTGS/{utr}/HDFC", "Payment"]))
        if tds:
            ours.append(rc.OurEntry(rnum, rc.TDS, paid, -tds, utr))
            if p == "tds_difference":
                planted.add(("tds_difference", f"{rnum} TDS", their(paid, -(tds * 2), rc.THEIR_TDS, rnum, "TDS 194Q")))
            else:
                their(paid, -tds, rc.THEIR_TDS, rnum, "TDS 194Q")
        elif p == "tds_difference":
            planted.add(("tds_difference", None, their(paid, -amount(100_00, 5_000_00), rc.THEIR_TDS, rnum, "TDS")))
        if p == "missing_in_ours":
            planted.add(("missing_in_ours", None, their(paid + timedelta(days=2), -amount(), rc.THEIR_PAYMENT, "",
                                                          f"Cheque {700000 + i}")))
    rows = [rc.TheirEntry(k, on, value, kind, ref, narration)
            for k, (on, value, kind, ref, narration) in enumerate(theirs, start=1)]
    return ours, rows, planted, as_of


def run(entries: int = 10_000, seed: int = 42, rate: float = 0.05) -> dict:
    ours, theirs, planted, as_of = pair(entries, seed, rate)
    t0 = time.perf_counter()
    result = rc.reconcile(ours, theirs, as_of=as_of)
    seconds = time.perf_counter() - t0
    found = {(d.kind, d.ours, d.theirs) for d in result.differences}
    right = len(planted & found)
    wrong = len(found - planted)
    return {
        "entries_ours": len(ours), "entries_theirs": len(theirs), "planted": len(planted), "found_right": right,
        "reported_not_planted": wrong, "accuracy": f"{right / max(1, len(planted) + wrong):.4f}",
        "seconds": f"{seconds:.2f}", "unexplained": str(result.unexplained), "ties": rc.ties(result),
    }
