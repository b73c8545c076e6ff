from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dues.core.ageing import AgeItem, age_items, bucket_for, bucket_labels, bucket_ranges, parse_cutoffs


def test_labels():
    assert bucket_labels() == ["not_due", "1-30", "31-60", "61-90", "91-120", "120+"]
    assert bucket_labels((15, 45), "invoice") == ["0-15", "16-45", "45+"]


@pytest.mark.parametrize(("days", "label"), [
    (-5, "not_due"), (0, "not_due"), (1, "1-30"), (30, "1-30"), (31, "31-60"), (120, "91-120"), (121, "120+"),
])
def test_due_basis_bounds_are_inclusive(days, label):
    assert bucket_for(days) == label


def test_invoice_basis_has_no_not_due():
    assert bucket_for(0, basis="invoice") == "0-30"
    assert bucket_for(31, basis="invoice") == "31-60"


def test_bad_cutoffs():
    for text in ("", "30,20", "0,30", "a,b"):
        with pytest.raises(ValueError):
            parse_cutoffs(text)


@given(days=st.integers(min_value=-400, max_value=4000), basis=st.sampled_from(["due", "invoice"]),
       cutoffs=st.lists(st.integers(1, 400), min_size=1, max_size=6, unique=True).map(sorted))
def test_date_ranges_agree_with_day_counts(days, basis, cutoffs):
    """The SQL buckets by date ranges; they must put every item where the day count says."""
    if basis == "invoice" and days < 0:
        days = -days
    as_of = date(2026, 3, 31)
    ref = as_of - timedelta(days=days)
    matches = [r.label for r in bucket_ranges(as_of, cutoffs, basis)
               if (r.earliest is None or ref >= r.earliest) and (r.latest is None or ref <= r.latest)]
    assert matches[:1] == [bucket_for(days, cutoffs, basis)]


items_strategy = st.lists(st.builds(
    AgeItem,
    key=st.sampled_from(["C1", "C2", "C3"]),
    side=st.sampled_from(["D", "D", "C"]),
    document_date=st.dates(date(2024, 1, 1), date(2026, 6, 30)),
    due_date=st.dates(date(2024, 1, 1), date(2026, 9, 30)),
    residual=st.decimals(min_value=0, max_value=10**7, places=2),
), max_size=40)


@given(items=items_strategy)
def test_buckets_sum_to_the_outstanding(items):
    as_of = date(2026, 3, 31)
    report = age_items(items, as_of)
    for key, row in report.rows.items():
        owed = sum((i.residual for i in items if i.key == key and i.side == "D" and i.document_date <= as_of),
                   Decimal(0))
        credit = sum((i.residual for i in items if i.key == key and i.side == "C" and i.document_date <= as_of),
                     Decimal(0))
        assert sum(row.buckets.values()) == owed
        assert row.unapplied == -credit
        assert row.total == owed - credit
