"""A real Tally Day Book as *their* books of us: debit notes under their own numbers, bills of one amount
on one day, one number reused in another year (shared/data/tally, see SOURCES.md).

The TKM Company's Day Book (a TallyPrime export, UTF-16) holds the ledger of its supplier "Sabu":
purchases, and four debit notes (two on one day) under TKM's own numbers. Taking "Sabu" as us, our
side is that ledger mirrored: an invoice a day before each purchase (numbered by the bill reference
TKM booked, per fiscal year), and a credit note two days after each debit note under our own number
naming no bill. Ten purchases of one PO reference, five at 12.50 and five at 412.60 on one day, are
left out of both sides: whether they are one bill booked repeatedly cannot be told from the file.
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

import pytest

from dues.core import reconcile as rc

pytestmark = pytest.mark.interop

ROOT = Path(os.environ.get("DUES_SHARED_DATA") or Path(__file__).resolve().parents[2].parent / "shared" / "data")
DAYBOOK = ROOT / "tally" / "native" / "kesans_TKM_DayBook_utf16.xml"


@pytest.fixture(scope="module")
def theirs():
    if not DAYBOOK.is_file():
        reason = f"no shared Tally sample at {DAYBOOK} (set DUES_SHARED_DATA)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    from dues.integrations.their_ledger import read_tally_xml

    return [t for t in read_tally_xml(DAYBOOK, ledger="Sabu") if t.ref != "PO-00002"]


def fy(on: date) -> str:
    y = on.year if on.month >= 4 else on.year - 1
    return f"{y % 100:02d}-{(y + 1) % 100:02d}"


def mirror(theirs):
    ours = []
    for k, t in enumerate(theirs, start=1):
        if t.kind == rc.PURCHASE:
            ours.append(rc.OurEntry(f"SB/{t.ref}/{fy(t.date)}", rc.INVOICE, t.date - timedelta(days=1), t.amount))
        else:
            ours.append(rc.OurEntry(f"CN-{900 + k}", rc.CREDIT_NOTE, t.date + timedelta(days=2), t.amount))
    return ours


def test_their_debit_notes_match_our_credit_notes_and_repeated_amounts_are_not_duplicates(theirs):
    notes = [t for t in theirs if t.amount < 0]
    assert len(theirs) == 21 and len(notes) == 4 and {t.kind for t in notes} == {rc.THEIR_DEBIT_NOTE}
    assert sum(1 for t in theirs if t.date == date(2022, 9, 1) and t.amount == 168) == 5  # five bills of 168 that day
    ours = mirror(theirs)
    r = rc.reconcile(ours, theirs, as_of=date(2023, 3, 31))
    assert r.differences == [] and r.unexplained == 0
    pairs = [m for m in r.matched if m.how == "note"]
    assert len(pairs) == 4 and all("2 days apart" in m.note and "the only debit note" in m.note for m in pairs)
    # one of the five bills of 43,231.00 that day is not in our books: missing, not a second booking
    dropped = [o for o in ours if o.number != "SB/4/22-23"]
    r = rc.reconcile(dropped, theirs, as_of=date(2023, 3, 31))
    assert [(d.kind, d.theirs, d.amount) for d in r.differences] == [
        ("missing_in_ours", next(t.label for t in theirs if t.ref == "4"), 43231)]
