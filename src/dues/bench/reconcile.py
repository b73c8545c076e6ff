"""Ledger clearance benchmark: a seeded pair of ledgers with known perturbations, matched by the engine.

No database: our side and theirs are generated as the engine's value types, so the figure is the
matching itself (reading a file and our side add well under a second for 10,000 entries; see
docs/reconciliation.md). Accuracy is the share of planted differences found with the right kind on
the right entry, counting every difference reported that was not planted as a miss too; precision
and recall are also given per difference kind, and for the credit note / debit note pairs that
must be matched (a pair counts as found when the engine matched our credit note with their row).

Besides the plain perturbations (missing, amount mismatch, TDS, timing, a row repeated verbatim,
split and combined payments), the harder cases:

- ``dup_voucher``: they booked our invoice twice under two of their own voucher numbers, the bill
  number in the narration, the second 0-7 days after the first (a ``duplicate``);
- ``cn_dn``: our credit note against an invoice and their debit note for it under their own number
  (``DN/…``), the same amount, dated 3 days before to 3 days after ours, naming our bill (in one of
  several styles) or nothing (a pair to be matched, not two differences);
- ``dup_ours``: our invoice keyed twice (same amount, date and customer reference), booked once by
  them (a ``duplicate`` in our books);
- decoys that must *not* be reported as duplicates or paired: a second genuine invoice of the same
  amount on the same day under its own number (booked by them: nothing to report; not booked:
  ``missing_in_theirs``), a second invoice on the same purchase order of the same amount two months
  later that they have not booked (``missing_in_theirs``), and their debit note of the same amount as
  our credit note, dated within days, but naming another of our bills (our note
  ``missing_in_theirs``, theirs ``missing_in_ours``).
"""

from __future__ import annotations

import random
import time
from datetime import date, timedelta
from decimal import Decimal

from dues.core import reconcile as rc

KINDS = ("missing_in_theirs", "missing_in_ours", "amount_mismatch", "tds_difference", "timing", "duplicate",
         "split", "combined", "dup_voucher", "cn_dn", "dup_ours", "twin_booked", "twin_missing", "po_repeat",
         "dn_other_bill")
PAIR = "cn_dn pair"  # a planted match (credit note <-> their debit note), scored like a kind


def _bills(number: str) -> dict:
    # our credit note's bill as the engine takes it (the field exists once the engine reads it)
    return {"bills": (number,)} if "bills" in getattr(rc.OurEntry, "__dataclass_fields__", {}) else {}


def pair(entries: int, seed: int = 42, rate: float = 0.05):
    """(ours, theirs, planted, pairs, as_of): about ``entries`` entries per side, ``rate`` of them perturbed.

    ``planted`` is the set of differences (kind, ours, theirs) to find; ``pairs`` the set of
    (our credit note, their row) to match.
    """
    rnd = random.Random(seed)
    as_of = date(2025, 3, 31)
    start = date(2024, 4, 1)
    span = (as_of - start).days
    ours: list[rc.OurEntry] = []
    theirs: list[tuple] = []
    planted: set[tuple] = set()
    pairs: set[tuple] = set()
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

    def bill_ref(number: str, serial: int) -> str:
        return rnd.choice([number, str(serial), f"INV {serial}", f"Bill no {number}"])

    invoices = max(1, entries * 10 // 22)  # an invoice brings about 1.2 more entries: receipt, TDS
    voucher = 0
    for i in range(invoices):
        on = start + timedelta(days=rnd.randint(0, span - 25))
        number = f"SGT/{1000 + i}/24-25"
        value = amount()
        p = rnd.choice(KINDS) if rnd.random() < rate * 2 else None  # two entries per invoice on each side
        ref = bill_ref(number, 1000 + i)
        if p == "timing":
            on = as_of - timedelta(days=rnd.randint(0, 3))
        if p in ("cn_dn", "dn_other_bill"):
            on = min(on, as_of - timedelta(days=60))  # room for the note before the cut-off
        if p == "po_repeat":
            on = min(on, as_of - timedelta(days=90))
        po = f"PO/{4000 + i}" if p in ("dup_ours", "po_repeat") else ""
        ours.append(rc.OurEntry(number, rc.INVOICE, on, value, po))
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
        elif p == "dup_voucher":  # their own voucher numbers in the ref column, our bill in the narration
            voucher += 2
            their(booked, value, rc.PURCHASE, f"PV/{voucher - 1}", f"Purchase - {ref}")
            again = booked + timedelta(days=rnd.choice((0, 0, 1, 3, 7)))
            planted.add(("duplicate", None, their(again, value, rc.PURCHASE, f"PV/{voucher}",
                                                  f"Purchase - {bill_ref(number, 1000 + i)}")))
        else:
            their(booked, value, rc.PURCHASE, ref, "Purchase")
        if p == "dup_ours":  # keyed twice in our books under the next number of another series
            twin = f"SGT/{20000 + i}/24-25"
            ours.append(rc.OurEntry(twin, rc.INVOICE, on, value, po))
            planted.add(("duplicate", twin, None))
        elif p in ("twin_booked", "twin_missing"):  # a second genuine bill: same amount, same day
            twin = f"SGT/{20000 + i}/24-25"
            ours.append(rc.OurEntry(twin, rc.INVOICE, on, value))
            if p == "twin_booked":
                their(booked, value, rc.PURCHASE, bill_ref(twin, 20000 + i), "Purchase")
            else:
                planted.add(("missing_in_theirs", twin, None))
        elif p == "po_repeat":  # the same order billed again two months later; they have not booked it yet
            again = f"SGT/{20000 + i}/24-25"
            ours.append(rc.OurEntry(again, rc.INVOICE, on + timedelta(days=60), value, po))
            planted.add(("missing_in_theirs", again, None))
        elif p in ("cn_dn", "dn_other_bill"):
            cn_on = on + timedelta(days=rnd.randint(10, 40))
            note = (value * Decimal(rnd.choice(("0.02", "0.05", "0.1", "0.18")))).quantize(Decimal("0.01"))
            cn = f"CN/{90000 + i}/24-25"
            ours.append(rc.OurEntry(cn, rc.CREDIT_NOTE, cn_on, -note, "", **_bills(number)))
            dn_on = cn_on + timedelta(days=rnd.randint(-3, 3))
            dn = f"DN/{rnd.randint(1, 99)}"
            if p == "cn_dn":
                text = rnd.choice([f"Rate difference on {ref}", f"Debit note against {ref}", "Rate difference",
                                   "Short supply", f"DN against bill {ref}"])
                pairs.add((PAIR, cn, their(dn_on, -note, rc.THEIR_DEBIT_NOTE, dn, text)))
            else:  # their own claim on another of our bills, not our credit note
                other = f"SGT/{1000 + max(0, i - 1)}/24-25" if i else f"SGT/{1001}/24-25"
                row = their(dn_on, -note, rc.THEIR_DEBIT_NOTE, dn, f"Debit note against {other} short supply")
                planted.add(("missing_in_theirs", cn, None))
                planted.add(("missing_in_ours", None, row))
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
    return ours, rows, planted, pairs, as_of


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.4f}" if b else "-"


def run(entries: int = 10_000, seed: int = 42, rate: float = 0.05) -> dict:
    ours, theirs, planted, pairs, as_of = pair(entries, seed, rate)
    t0 = time.perf_counter()
    result = rc.reconcile(ours, theirs, as_of=as_of)
    seconds = time.perf_counter() - t0
    found = {(d.kind, d.ours, d.theirs) for d in result.differences}
    credit_notes = {o.number for o in ours if o.kind == rc.CREDIT_NOTE}
    paired = {(PAIR, m.ours[0], m.theirs[0]) for m in result.matched
              if len(m.ours) == 1 and len(m.theirs) == 1 and m.ours[0] in credit_notes}
    right = len(planted & found)
    wrong = len(found - planted)
    by_kind = []
    for kind in (*rc.DIFFERENCE_KINDS, PAIR):
        want = {p for p in planted | pairs if p[0] == kind}
        got = {f for f in (paired if kind == PAIR else found) if f[0] == kind}
        hit = len(want & got)
        by_kind.append({"kind": kind, "planted": len(want), "reported": len(got), "right": hit,
                        "precision": _ratio(hit, len(got)), "recall": _ratio(hit, len(want))})
    return {
        "entries_ours": len(ours), "entries_theirs": len(theirs), "planted": len(planted), "found_right": right,
        "reported_not_planted": wrong, "accuracy": f"{right / max(1, len(planted) + wrong):.4f}",
        "pairs_planted": len(pairs), "pairs_matched": len(pairs & paired),
        "seconds": f"{seconds:.2f}", "unexplained": str(result.unexplained), "ties": rc.ties(result),
        "by_kind": by_kind,
    }
