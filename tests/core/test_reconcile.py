"""Ledger clearance engine (pure) and the reader of their ledger files."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dues.core import reconcile as rc
from dues.core.errors import ValidationFailed
from dues.core.reconcile import OurEntry, TheirEntry, core_number, reconcile, ties

D = Decimal
AS_OF = date(2025, 6, 30)


def ours_inv(n, on, amount, **kw):
    return OurEntry(f"SGT/{n}/25-26", rc.INVOICE, on, D(amount), **kw)


def test_core_number():
    assert core_number("SGT/123/24-25") == "123"
    assert core_number("INV-0042") == "42"
    assert core_number("2025/INV/7") == "7"
    assert core_number("INV 123") == "123"
    assert core_number("ABC") == ""


def test_invoice_numbers_in_their_reference_or_narration():
    ours = [ours_inv(1, date(2025, 4, 2), "1000.00"), ours_inv(2, date(2025, 4, 3), "2000.00"),
            ours_inv(3, date(2025, 4, 4), "3000.00")]
    theirs = [TheirEntry(1, date(2025, 4, 5), D("1000.00"), rc.PURCHASE, "SGT/1/25-26"),
              TheirEntry(2, date(2025, 4, 6), D("2000.00"), rc.PURCHASE, "", "Purchase against INV 2"),
              TheirEntry(3, date(2025, 4, 7), D("3000.00"), rc.PURCHASE, "3", "")]
    r = reconcile(ours, theirs, as_of=AS_OF)
    assert [(m.ours, m.theirs) for m in r.matched] == [(("SGT/1/25-26",), ("row 1",)), (("SGT/2/25-26",), ("row 2",)),
                                                        (("SGT/3/25-26",), ("row 3",))]
    assert r.differences == [] and r.our_balance == r.their_balance == D("6000.00") and r.unexplained == 0


def test_the_same_receipt_twice_in_our_books_is_a_duplicate():
    ours = [OurEntry("RCPT-1", rc.PAYMENT, date(2025, 5, 2), D("-500.00"), "UTR77"),
            OurEntry("RCPT-2", rc.PAYMENT, date(2025, 5, 2), D("-500.00"), "UTR77")]
    theirs = [TheirEntry(1, date(2025, 5, 2), D("-500.00"), rc.THEIR_PAYMENT, "", "NEFT UTR77")]
    r = reconcile(ours, theirs, as_of=AS_OF)
    assert [(d.kind, d.ours, d.amount) for d in r.differences] == [("duplicate", "RCPT-2", D("500.00"))]
    assert "booked twice in our books" in r.differences[0].explanation and ties(r)


# ---------------------------------------------------------------------------------------------
# a bill booked twice; our credit note against their debit note (issue 10)

INV12 = OurEntry("INV-0012", rc.INVOICE, date(2025, 5, 10), D("11800.00"))
INV11 = OurEntry("INV-0011", rc.INVOICE, date(2025, 5, 8), D("1180.00"))


@pytest.mark.parametrize("second", [
    TheirEntry(2, date(2025, 5, 9), D("1180.00"), rc.PURCHASE, "PB-102", "Purchase - INV-0011"),  # same day, new voucher
    TheirEntry(2, date(2025, 5, 16), D("1180.00"), rc.PURCHASE, "INV-0011", "Purchase"),  # a week later, bill in ref
    TheirEntry(2, date(2025, 5, 9), D("1180.00"), rc.PURCHASE, "PB-102", "Purchase bill 11"),  # the bare number
])
def test_a_bill_they_booked_twice_under_two_voucher_numbers_is_a_duplicate(second):
    theirs = [TheirEntry(1, date(2025, 5, 9), D("1180.00"), rc.PURCHASE, "PB-101", "Purchase - INV-0011"), second,
              TheirEntry(3, date(2025, 5, 12), D("11800.00"), rc.PURCHASE, "PB-103", "Purchase - INV-0012")]
    r = reconcile([INV11, INV12], theirs, as_of=AS_OF)
    assert [(m.ours, m.theirs) for m in r.matched] == [(("INV-0011",), ("row 1",)), (("INV-0012",), ("row 3",))]
    assert [(d.kind, d.ours, d.theirs, d.amount) for d in r.differences] == [("duplicate", None, "row 2", D("1180.00"))]
    words = r.differences[0].explanation
    assert "INV-0011" in words and "row 1" in words and "twice in their books" in words and ties(r)
    assert r.totals_by_kind()["duplicate"] == D("1180.00")
    assert ("duplicate", D("1180.00")) in rc.summary_lines(r)


def test_two_genuine_bills_of_one_amount_on_one_day_are_not_duplicates():
    inv13 = OurEntry("INV-0013", rc.INVOICE, date(2025, 5, 8), D("1180.00"))
    both = [TheirEntry(1, date(2025, 5, 9), D("1180.00"), rc.PURCHASE, "PB-101", "Purchase - INV-0011"),
            TheirEntry(2, date(2025, 5, 9), D("1180.00"), rc.PURCHASE, "PB-102", "Purchase - INV-0013")]
    assert reconcile([INV11, inv13], both, as_of=AS_OF).differences == []
    # their second bill is not one of ours: not ours twice, a bill we do not have
    r = reconcile([INV11], both, as_of=AS_OF)
    assert [(d.kind, d.theirs) for d in r.differences] == [("missing_in_ours", "row 2")]
    # two unreferenced purchases of the amount on one day under two voucher numbers: two bills, one of them ours
    anon = [TheirEntry(1, date(2025, 5, 9), D("1180.00"), rc.PURCHASE, "PB-101", "Purchase"),
            TheirEntry(2, date(2025, 5, 9), D("1180.00"), rc.PURCHASE, "PB-102", "Purchase")]
    r = reconcile([INV11], anon, as_of=AS_OF)
    assert [(d.kind, d.theirs) for d in r.differences] == [("missing_in_ours", "row 2")]
    # our two genuine bills of the amount on one day, they booked one
    r = reconcile([INV11, inv13], both[:1], as_of=AS_OF)
    assert [(d.kind, d.ours) for d in r.differences] == [("missing_in_theirs", "INV-0013")]


def test_our_invoice_keyed_twice_is_a_duplicate_in_our_books_but_a_repeat_order_is_not():
    first = OurEntry("INV-0011", rc.INVOICE, date(2025, 5, 8), D("1180.00"), "PO 4471")
    again = OurEntry("INV-0013", rc.INVOICE, date(2025, 5, 8), D("1180.00"), "PO 4471")
    theirs = [TheirEntry(1, date(2025, 5, 9), D("1180.00"), rc.PURCHASE, "PB-101", "Purchase - INV-0011")]
    r = reconcile([first, again], theirs, as_of=AS_OF)
    assert [(d.kind, d.ours, d.amount) for d in r.differences] == [("duplicate", "INV-0013", D("-1180.00"))]
    assert "twice in our books" in r.differences[0].explanation and "INV-0011" in r.differences[0].explanation
    # the same order billed again two months later, not yet booked by them: missing, not a duplicate
    later = OurEntry("INV-0031", rc.INVOICE, date(2025, 6, 10), D("1180.00"), "PO 4471")
    r = reconcile([first, later], theirs, as_of=AS_OF)
    assert [(d.kind, d.ours) for d in r.differences] == [("missing_in_theirs", "INV-0031")]


def cn(number, on, amount, bills=("INV-0012",)):
    return OurEntry(number, rc.CREDIT_NOTE, on, -D(amount), bills=bills)


def dn(row, on, amount, ref="DN/23", narration="Debit note"):
    return TheirEntry(row, on, -D(amount), rc.THEIR_DEBIT_NOTE, ref, narration)


PURCHASE12 = TheirEntry(1, date(2025, 5, 12), D("11800.00"), rc.PURCHASE, "PB-103", "Purchase - INV-0012")


@pytest.mark.parametrize(("their_note", "days", "because"), [
    (dn(2, date(2025, 5, 22), "1180.00", "DN/23", "Rate difference on INV-0012"), 2, "same bill INV-0012"),
    (dn(2, date(2025, 5, 19), "1180.00", "DN/23", "Debit note against bill 12"), 1, "same bill INV-0012"),
    (dn(2, date(2025, 5, 23), "1180.00", "DN/23", "Rate difference"), 3, "the only"),
    (dn(2, date(2025, 5, 21), "1180.00", "DN/23", "Rate difference dt 12-05-2025"), 1, "the only"),  # a date
])
def test_our_credit_note_matches_their_debit_note_under_another_number(their_note, days, because):
    ours = [INV12, cn("CN-0042", date(2025, 5, 20), "1180.00")]
    r = reconcile(ours, [PURCHASE12, their_note], as_of=AS_OF)
    assert r.differences == [] and ties(r)
    pair = next(m for m in r.matched if m.ours == ("CN-0042",))
    assert pair.theirs == ("row 2",) and pair.how == "note" and pair.amount == D("-1180.00")
    assert "credit note CN-0042" in pair.note and "debit note DN/23" in pair.note and because in pair.note
    assert f"{days} day{'s' if days > 1 else ''} apart" in pair.note and "1,180.00" in pair.note


def test_credit_note_and_debit_note_kept_apart_when_not_sure():
    inv99 = OurEntry("INV-0099", rc.INVOICE, date(2025, 5, 11), D("5000.00"))
    p99 = TheirEntry(3, date(2025, 5, 12), D("5000.00"), rc.PURCHASE, "PB-104", "Purchase - INV-0099")
    kinds = lambda r: sorted((d.kind, d.ours or d.theirs) for d in r.differences)  # noqa: E731
    # their note names another of our bills: their own claim, not our credit note
    r = reconcile([INV12, inv99, cn("CN-0042", date(2025, 5, 20), "1180.00")],
                  [PURCHASE12, dn(2, date(2025, 5, 21), "1180.00", narration="Short supply INV-0099"), p99], as_of=AS_OF)
    assert kinds(r) == [("missing_in_ours", "row 2"), ("missing_in_theirs", "CN-0042")]
    # two credit notes of the amount within days, their note names neither bill: which one cannot be told
    two = [INV12, inv99, cn("CN-0042", date(2025, 5, 20), "1180.00"),
           cn("CN-0043", date(2025, 5, 21), "1180.00", bills=("INV-0099",))]
    r = reconcile(two, [PURCHASE12, dn(2, date(2025, 5, 21), "1180.00", narration="Rate difference"), p99], as_of=AS_OF)
    assert kinds(r) == [("missing_in_ours", "row 2"), ("missing_in_theirs", "CN-0042"), ("missing_in_theirs", "CN-0043")]
    # ... but naming a bill settles it
    r = reconcile(two, [PURCHASE12, dn(2, date(2025, 5, 21), "1180.00", narration="Rate diff INV-0099"), p99],
                  as_of=AS_OF)
    assert kinds(r) == [("missing_in_theirs", "CN-0042")]
    assert next(m for m in r.matched if m.how == "note").ours == ("CN-0043",)
    # outside the window (a few days by default), unless the window is widened
    far = [PURCHASE12, dn(2, date(2025, 6, 15), "1180.00", narration="Rate difference INV-0012")]
    ours = [INV12, cn("CN-0042", date(2025, 5, 20), "1180.00")]
    assert kinds(reconcile(ours, far, as_of=AS_OF)) == [("missing_in_ours", "row 2"), ("missing_in_theirs", "CN-0042")]
    assert reconcile(ours, far, as_of=AS_OF, windows=rc.Windows(note=30)).differences == []
    # another amount: not a pair
    r = reconcile(ours, [PURCHASE12, dn(2, date(2025, 5, 21), "1100.00", narration="Rate diff INV-0012")], as_of=AS_OF)
    assert kinds(r) == [("missing_in_ours", "row 2"), ("missing_in_theirs", "CN-0042")]


def test_our_debit_note_matches_their_credit_note_for_it():
    ours = [INV12, OurEntry("DN-0007", rc.DEBIT_NOTE, date(2025, 5, 25), D("590.00"), bills=("INV-0012",))]
    theirs = [PURCHASE12, TheirEntry(2, date(2025, 5, 27), D("590.00"), rc.PURCHASE, "CN/5", "Credit note on INV-0012")]
    r = reconcile(ours, theirs, as_of=AS_OF)
    assert r.differences == []
    assert [(m.ours, m.theirs, m.how) for m in r.matched][-1] == (("DN-0007",), ("row 2",), "note")


def test_each_kind_explained_and_the_statement_ties():
    ours = [
        ours_inv(1, date(2025, 4, 2), "10000.00"),  # matched
        ours_inv(2, date(2025, 4, 10), "5000.00"),  # missing in theirs
        ours_inv(3, date(2025, 4, 12), "7000.00"),  # amount mismatch (they booked 6800)
        ours_inv(4, date(2025, 6, 28), "4000.00"),  # timing: they book it on 3 July
        OurEntry("RCPT-1", rc.PAYMENT, date(2025, 5, 2), D("-9800.00"), "UTR123456"),
        OurEntry("RCPT-1", rc.TDS, date(2025, 5, 2), D("-200.00"), "UTR123456"),  # they deducted 250
    ]
    theirs = [
        TheirEntry(1, date(2025, 4, 4), D("10000.00"), rc.PURCHASE, "SGT/1/25-26"),
        TheirEntry(2, date(2025, 4, 14), D("6800.00"), rc.PURCHASE, "SGT/3/25-26"),
        TheirEntry(3, date(2025, 5, 2), D("-9800.00"), rc.THEIR_PAYMENT, "", "NEFT UTR123456"),
        TheirEntry(4, date(2025, 5, 2), D("-250.00"), rc.THEIR_TDS, "RCPT-1", "TDS 194Q"),
        TheirEntry(5, date(2025, 5, 20), D("-1500.00"), rc.THEIR_DEBIT_NOTE, "DN-7", "Debit note: short supply"),
        TheirEntry(6, date(2025, 4, 4), D("10000.00"), rc.PURCHASE, "SGT/1/25-26"),  # booked twice
        TheirEntry(7, date(2025, 7, 3), D("4000.00"), rc.PURCHASE, "SGT/4/25-26"),
    ]
    r = reconcile(ours, theirs, as_of=AS_OF)
    got = {(d.kind, d.ours, d.theirs): d.amount for d in r.differences}
    assert got == {
        ("missing_in_theirs", "SGT/2/25-26", None): D("-5000.00"),
        ("amount_mismatch", "SGT/3/25-26", "row 2"): D("-200.00"),
        ("timing", "SGT/4/25-26", "row 7"): D("-4000.00"),
        ("tds_difference", "RCPT-1 TDS", "row 4"): D("-50.00"),
        ("missing_in_ours", None, "row 5"): D("-1500.00"),
        ("duplicate", None, "row 6"): D("10000.00"),
    }
    assert r.our_balance == D("16000.00")
    assert r.their_balance == D("10000") + D("6800") - D("9800") - D("250") - D("1500") + D("10000")
    assert r.unexplained == 0 and ties(r)
    assert all(d.explanation for d in r.differences)
    assert "debit note" in next(d for d in r.differences if d.kind == "missing_in_ours").explanation


def test_split_and_combined_payments_match():
    ours = [OurEntry("RCPT-1", rc.PAYMENT, date(2025, 5, 2), D("-9000.00")),
            OurEntry("RCPT-2", rc.PAYMENT, date(2025, 5, 9), D("-1000.00")),
            OurEntry("RCPT-3", rc.PAYMENT, date(2025, 5, 10), D("-2500.00"))]
    theirs = [TheirEntry(1, date(2025, 5, 2), D("-4000.00"), rc.THEIR_PAYMENT, "", "Payment"),
              TheirEntry(2, date(2025, 5, 3), D("-5000.00"), rc.THEIR_PAYMENT, "", "Payment"),
              TheirEntry(3, date(2025, 5, 10), D("-3500.00"), rc.THEIR_PAYMENT, "", "Payment")]
    r = reconcile(ours, theirs, as_of=AS_OF)
    assert r.differences == []
    assert {(m.ours, m.theirs, m.how) for m in r.matched} == {
        (("RCPT-1",), ("row 1", "row 2"), "split"), (("RCPT-2", "RCPT-3"), ("row 3",), "combined")}


def test_opening_balance_row_stands_for_our_earlier_entries():
    ours = [ours_inv(1, date(2025, 3, 1), "5000.00"), ours_inv(2, date(2025, 4, 5), "100.00")]
    theirs = [TheirEntry(1, date(2025, 4, 1), D("5000.00"), rc.THEIR_OPENING, "", "Opening Balance"),
              TheirEntry(2, date(2025, 4, 6), D("100.00"), rc.PURCHASE, "SGT/2/25-26")]
    r = reconcile(ours, theirs, as_of=AS_OF)
    assert r.differences == [] and r.unexplained == 0
    assert r.matched[0].ours == ("opening balance",)
    theirs[0] = TheirEntry(1, date(2025, 4, 1), D("4900.00"), rc.THEIR_OPENING, "", "Opening Balance")
    r = reconcile(ours, theirs, as_of=AS_OF)
    assert r.unexplained == D("-100.00") and ties(r)  # the opening balances differ: not attributable to an entry


# ---------------------------------------------------------------------------------------------
# property: derive their ledger from ours with known perturbations; every one is found and it ties

PERTURBATIONS = ("missing_in_theirs", "missing_in_ours", "amount_mismatch", "tds_difference", "timing_ours",
                 "timing_theirs", "duplicate", "split", "combined", "tds_extra", "duplicate_ours",
                 "duplicate_voucher", "cn_dn", "cn_dn_unreferenced")


@st.composite
def ledgers(draw):
    n = draw(st.integers(min_value=12, max_value=40))
    cents = draw(st.lists(st.integers(min_value=1_000_00, max_value=50_00_000_00), min_size=n, max_size=n, unique=True))
    amounts = [D(c) / 100 for c in cents]
    offsets = draw(st.lists(st.integers(min_value=0, max_value=45), min_size=n, max_size=n))
    chosen = draw(st.lists(st.sampled_from(PERTURBATIONS), min_size=1, max_size=6))
    formats = draw(st.lists(st.sampled_from(["full", "bare", "inv"]), min_size=n, max_size=n))
    return n, amounts, offsets, chosen, formats


def build(n, amounts, offsets, chosen, formats):
    start = date(2025, 4, 1)
    ours: list[OurEntry] = []
    theirs: list[tuple] = []  # (date, amount, kind, ref, narration)
    expected: list[tuple[str, str | None, object]] = []  # (kind, our label, their index or None)
    idx = list(range(n))
    plan = {i: chosen[i] for i in range(min(len(chosen), n))}  # entry i carries perturbation plan[i]
    for i in idx:
        inv_date = start + timedelta(days=offsets[i])
        number = f"SGT/{100 + i}/25-26"
        amount = amounts[i]
        p = plan.get(i)
        ref = {"full": number, "bare": str(100 + i), "inv": f"INV {100 + i}"}[formats[i]]
        ours.append(OurEntry(number, rc.INVOICE, inv_date, amount))
        their_inv_date = inv_date + timedelta(days=2)
        if p == "missing_in_theirs":
            expected.append(("missing_in_theirs", number, None))
        elif p == "amount_mismatch":
            theirs.append((their_inv_date, amount - D("123.45"), rc.PURCHASE, ref, "Purchase"))
            expected.append(("amount_mismatch", number, len(theirs)))
        elif p == "timing_ours":
            ours[-1] = OurEntry(number, rc.INVOICE, AS_OF - timedelta(days=1), amount)
            theirs.append((AS_OF + timedelta(days=4), amount, rc.PURCHASE, ref, "Purchase"))
            expected.append(("timing", number, len(theirs)))
        elif p == "duplicate":
            theirs.append((their_inv_date, amount, rc.PURCHASE, ref, "Purchase"))
            theirs.append((their_inv_date, amount, rc.PURCHASE, ref, "Purchase"))
            expected.append(("duplicate", None, len(theirs)))
        elif p == "duplicate_voucher":  # booked again days later under another voucher number of theirs
            theirs.append((their_inv_date, amount, rc.PURCHASE, f"PV-{i}", f"Purchase {ref}"))
            theirs.append((their_inv_date + timedelta(days=3), amount, rc.PURCHASE, f"PV-{i + 500}", f"Purchase {ref}"))
            expected.append(("duplicate", None, len(theirs)))
        else:
            theirs.append((their_inv_date, amount, rc.PURCHASE, ref, "Purchase"))
        if i % 2:  # every other invoice is paid, with 2% TDS on a 10% sample
            pay_date = inv_date + timedelta(days=20)
            tds = (amount * D("0.02")).quantize(D("0.01")) if i % 5 == 1 else D(0)
            cash = amount - tds
            rnum, utr = f"RCPT-{i}", f"N{250000000 + i}"
            if p == "timing_theirs":
                pay_date = AS_OF - timedelta(days=2)
                ours.append(OurEntry(rnum, rc.PAYMENT, AS_OF + timedelta(days=3), -cash, utr))
                theirs.append((pay_date, -cash, rc.THEIR_PAYMENT, "", f"NEFT {utr}"))
                expected.append(("timing", rnum, len(theirs)))
                continue
            ours.append(OurEntry(rnum, rc.PAYMENT, pay_date, -cash, utr))
            if p == "duplicate_ours":  # the same bank credit posted twice
                ours.append(OurEntry(f"{rnum}D", rc.PAYMENT, pay_date, -cash, utr))
                expected.append(("duplicate", f"{rnum}D", None))
            if p == "split":
                half = (cash / 3).quantize(D("0.01"))
                theirs.append((pay_date, -half, rc.THEIR_PAYMENT, "", "Payment part"))
                theirs.append((pay_date + timedelta(days=1), -(cash - half), rc.THEIR_PAYMENT, "", "Payment part"))
            else:
                theirs.append((pay_date, -cash, rc.THEIR_PAYMENT, "", f"NEFT {utr}"))
            if tds:
                ours.append(OurEntry(rnum, rc.TDS, pay_date, -tds, utr))
                if p == "tds_difference":
                    theirs.append((pay_date, -(tds + D("1.11")), rc.THEIR_TDS, rnum, "TDS"))
                    expected.append(("tds_difference", f"{rnum} TDS", len(theirs)))
                else:
                    theirs.append((pay_date, -tds, rc.THEIR_TDS, rnum, "TDS"))
            elif p == "tds_difference":  # they deducted TDS we do not show
                theirs.append((pay_date, -D("77.77"), rc.THEIR_TDS, rnum, "TDS"))
                expected.append(("tds_difference", None, len(theirs)))
        if p == "missing_in_ours":
            theirs.append((inv_date + timedelta(days=5), -D("4444.44") - D(i) / 100, rc.THEIR_PAYMENT, "",
                           f"Payment by cheque {900 + i}"))
            expected.append(("missing_in_ours", None, len(theirs)))
        if p == "combined":
            d1 = inv_date + timedelta(days=30)
            ours.append(OurEntry(f"RCPT-X{i}", rc.PAYMENT, d1, -D("1111.11")))
            ours.append(OurEntry(f"RCPT-Y{i}", rc.PAYMENT, d1 + timedelta(days=1), -D("2222.22") - D(i) / 100))
            theirs.append((d1, -D("3333.33") - D(i) / 100, rc.THEIR_PAYMENT, "", "Payment"))
        if p in ("cn_dn", "cn_dn_unreferenced"):  # our credit note, their debit note under their own number
            note = (amount / 10).quantize(D("0.01"))
            ours.append(OurEntry(f"CN-{i}", rc.CREDIT_NOTE, inv_date + timedelta(days=9), -note, bills=(number,)))
            text = f"Rate difference {ref}" if p == "cn_dn" else "Rate difference"
            theirs.append((inv_date + timedelta(days=11), -note, rc.THEIR_DEBIT_NOTE, f"DN/{600 + i}", text))
        if p == "tds_extra" and i % 2 == 0:  # a TDS row on an unpaid invoice: theirs only
            theirs.append((inv_date + timedelta(days=3), -D("55.55"), rc.THEIR_TDS, ref, "TDS 194Q"))
            expected.append(("tds_difference", None, len(theirs)))
    entries = [TheirEntry(k, on, amt, kind, ref, narr) for k, (on, amt, kind, ref, narr) in enumerate(theirs, start=1)]
    return ours, entries, expected


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ledgers())
def test_every_perturbation_found_and_the_statement_ties(data):
    ours, theirs, expected = build(*data)
    r = reconcile(ours, theirs, as_of=AS_OF)
    assert r.unexplained == 0
    assert r.our_balance + sum((d.amount for d in r.differences), D(0)) == r.their_balance
    want = {(kind, our_label, f"row {their_row}" if their_row else None) for kind, our_label, their_row in expected}
    got = {(d.kind, d.ours, d.theirs) for d in r.differences}
    assert got == want, (want - got, got - want)
    assert len(r.differences) == len(expected)


def test_reconcile_5000_entries_each_side_is_fast():
    import time

    ours, theirs = [], []
    for i in range(2500):
        on = date(2024, 4, 1) + timedelta(days=i % 360)
        amount = D(10_000 + i * 7) + D(i % 100) / 100
        ours.append(OurEntry(f"SGT/{i}/24-25", rc.INVOICE, on, amount))
        ours.append(OurEntry(f"RCPT-{i}", rc.PAYMENT, on + timedelta(days=15), -amount, f"UTR{900000 + i}"))
        theirs.append(TheirEntry(len(theirs) + 1, on + timedelta(days=1), amount, rc.PURCHASE, f"SGT/{i}/24-25"))
        theirs.append(TheirEntry(len(theirs) + 1, on + timedelta(days=15), -amount, rc.THEIR_PAYMENT, "",
                                 f"NEFT UTR{900000 + i}"))
    t0 = time.perf_counter()
    r = reconcile(ours, theirs, as_of=date(2025, 3, 31))
    elapsed = time.perf_counter() - t0
    assert r.unexplained == 0 and ties(r)
    assert elapsed < 5, elapsed


# ---------------------------------------------------------------------------------------------
# reading their file

TALLY = """Date,Particulars,Vch Type,Vch No.,Debit,Credit
01-04-2025,Opening Balance,,,,"1,25,000.00"
05-04-2025,Purchase - SGT/101/25-26,Purchase,SGT/101/25-26,,"59,000.00"
20-04-2025,HDFC Bank NEFT N250000101,Payment,P-17,"1,00,000.00",
20-04-2025,TDS Payable 194Q,Journal,J-4,"1,000.00",
,Closing Balance,,,,"83,000.00"
"""


def test_tally_preset_reads_opening_and_skips_closing(tmp_path):
    from dues.integrations.their_ledger import read_their_ledger

    f = tmp_path / "tally.csv"
    f.write_text(TALLY, encoding="utf-8")
    rows = read_their_ledger(f, preset="tally")
    assert [(r.row, r.kind, r.amount) for r in rows] == [
        (1, "opening", D("125000.00")), (2, "purchase", D("59000.00")), (3, "payment", D("-100000.00")),
        (4, "tds", D("-1000.00"))]
    assert rows[0].date == date(2025, 4, 1)
    assert read_their_ledger(f) == rows  # the same columns are recognised without a preset


def test_map_with_signed_amount_and_drcr(tmp_path):
    from dues.integrations.their_ledger import read_their_ledger

    f = tmp_path / "theirs.csv"
    f.write_text("Txn Date,Bill No,Remarks,Amt,Side\n2025-04-05,INV 7,Purchase,\"12,34,567.50\",Cr\n"
                 "2025-04-09,,Paid by cheque 4411,500,Dr\n", encoding="utf-8")
    rows = read_their_ledger(f, mapping="date=Txn Date,ref=Bill No,narration=Remarks,amount=Amt,drcr=Side")
    assert [(r.amount, r.kind, r.ref) for r in rows] == [(D("1234567.50"), "purchase", "INV 7"),
                                                          (D("-500"), "payment", "")]


def test_sap_signed_amount_negative_is_credit(tmp_path):
    from dues.integrations.their_ledger import read_their_ledger

    f = tmp_path / "fbl1n.csv"
    f.write_text("Posting Date,Document Number,Reference,Document Type,Amount in Local Currency,Text\n"
                 "05.04.2025,5100000012,SGT/101/25-26,KR,-59000.00,Invoice\n"
                 "20.04.2025,1500000044,N250000101,KZ,59000.00,Payment\n", encoding="utf-8")
    rows = read_their_ledger(f, preset="sap")
    assert [(r.amount, r.kind) for r in rows] == [(D("59000.00"), "purchase"), (D("-59000.00"), "payment")]


def test_bad_rows_named_by_file_row_and_field(tmp_path):
    from dues.core.errors import DuesError
    from dues.integrations.their_ledger import read_their_ledger

    f = tmp_path / "bad.csv"
    f.write_text("Date,Particulars,Debit,Credit\n05-04-2025,Purchase 1,,100\nyesterday,Payment,50,\n"
                 "06-04-2025,Payment,12.3.4,\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as exc:
        read_their_ledger(f)
    text = [str(p) for p in exc.value.problems]
    assert text[0].startswith("bad.csv:2: date:") and text[1].startswith("bad.csv:3: debit/credit:")
    f.write_text("When,What,How much\n05-04-2025,x,1\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as exc:
        read_their_ledger(f)
    assert {p.field for p in exc.value.problems} == {"date", "amount", "ref"}
    with pytest.raises(DuesError, match="--map"):
        read_their_ledger(f, mapping="when")


def test_payment_booked_gross_with_tds_inside():
    ours = [OurEntry("RCPT-1", rc.PAYMENT, date(2025, 5, 2), D("-9800.00"), "UTR9"),
            OurEntry("RCPT-1", rc.TDS, date(2025, 5, 2), D("-200.00"), "UTR9")]
    theirs = [TheirEntry(1, date(2025, 5, 3), D("-10000.00"), rc.THEIR_PAYMENT, "", "Payment less TDS")]
    r = reconcile(ours, theirs, as_of=AS_OF)
    assert r.differences == [] and [(m.ours, m.how) for m in r.matched] == [(("RCPT-1", "RCPT-1 TDS"), "gross")]


TALLY_XML = """<?xml version="1.0" encoding="utf-8"?>
<ENVELOPE><BODY><IMPORTDATA><REQUESTDATA><TALLYMESSAGE>
<VOUCHER VCHTYPE="Purchase"><DATE>20250405</DATE><VOUCHERTYPENAME>Purchase</VOUCHERTYPENAME>
 <VOUCHERNUMBER>PB-7</VOUCHERNUMBER><REFERENCE>SGT/101/25-26</REFERENCE><NARRATION>Steel&#4; coils</NARRATION>
 <PARTYLEDGERNAME>Test Traders Pvt Ltd</PARTYLEDGERNAME>
 <LEDGERENTRIES.LIST><LEDGERNAME>Test Traders Pvt Ltd</LEDGERNAME><ISDEEMEDPOSITIVE>No</ISDEEMEDPOSITIVE>
  <ISPARTYLEDGER>Yes</ISPARTYLEDGER><AMOUNT>59000.00</AMOUNT></LEDGERENTRIES.LIST>
 <LEDGERENTRIES.LIST><LEDGERNAME>Purchase 18%</LEDGERNAME><ISDEEMEDPOSITIVE>Yes</ISDEEMEDPOSITIVE>
  <AMOUNT>-59000.00</AMOUNT></LEDGERENTRIES.LIST></VOUCHER>
<VOUCHER VCHTYPE="Payment"><DATE>20250420</DATE><VOUCHERTYPENAME>Payment</VOUCHERTYPENAME>
 <VOUCHERNUMBER>P-3</VOUCHERNUMBER><NARRATION>NEFT N250000101</NARRATION>
 <ALLLEDGERENTRIES.LIST><LEDGERNAME>Test Traders Pvt Ltd</LEDGERNAME><ISDEEMEDPOSITIVE>Yes</ISDEEMEDPOSITIVE>
  <ISPARTYLEDGER>Yes</ISPARTYLEDGER><AMOUNT>-58410.00</AMOUNT></ALLLEDGERENTRIES.LIST>
 <ALLLEDGERENTRIES.LIST><LEDGERNAME>HDFC Bank</LEDGERNAME><ISDEEMEDPOSITIVE>No</ISDEEMEDPOSITIVE>
  <AMOUNT>58410.00</AMOUNT></ALLLEDGERENTRIES.LIST></VOUCHER>
<VOUCHER VCHTYPE="Payment"><DATE>20250421</DATE><ISCANCELLED>Yes</ISCANCELLED>
 <ALLLEDGERENTRIES.LIST><LEDGERNAME>Test Traders Pvt Ltd</LEDGERNAME><AMOUNT>-1.00</AMOUNT></ALLLEDGERENTRIES.LIST>
</VOUCHER>
</TALLYMESSAGE></REQUESTDATA></IMPORTDATA></BODY></ENVELOPE>
"""


def test_tally_xml_ledger_of_the_party(tmp_path):
    from dues.integrations.their_ledger import read_their_ledger

    f = tmp_path / "daybook.xml"
    f.write_bytes(TALLY_XML.encode("utf-16"))  # Tally writes UTF-16 with a byte-order mark
    rows = read_their_ledger(f)
    assert [(r.row, r.date, r.amount, r.kind, r.ref) for r in rows] == [
        (1, date(2025, 4, 5), D("59000.00"), "purchase", "SGT/101/25-26"),
        (2, date(2025, 4, 20), D("-58410.00"), "payment", "P-3")]
    assert rows[0].narration == "Steel coils PB-7"
    assert read_their_ledger(f, mapping="ledger=test traders pvt ltd") == rows
    with pytest.raises(Exception, match="no vouchers for ledger 'HDFC'"):
        read_their_ledger(f, mapping="ledger=HDFC")


def test_explanations_use_indian_grouping():
    r = reconcile([ours_inv(1, date(2025, 4, 2), "1234567.50")], [], as_of=AS_OF)
    assert "12,34,567.50" in r.differences[0].explanation


def test_an_unbalanced_file_is_refused(tmp_path):
    from dues.integrations.their_ledger import read_their_ledger

    f = tmp_path / "cut.csv"
    f.write_text(TALLY.replace('"83,000.00"', '"84,000.00"'), encoding="utf-8")
    with pytest.raises(ValidationFailed, match="cut.csv:5: closing balance: the closing balance 84000.00 does not agree"):
        read_their_ledger(f, preset="tally")
