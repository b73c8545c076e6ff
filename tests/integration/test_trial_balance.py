"""The trial balance (issue 10 §4): every GL account's debits and credits as of a date, reversals included."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

pytestmark = pytest.mark.django_db

CENT = Decimal("0.01")


def test_trial_balance_as_of_a_date_with_reversals(company, make_customer, post):
    """Failed before: there was no trial balance."""
    from dues.ledger.models import JournalEntry, JournalLine
    from dues.ledger.selectors import trial_balance
    from dues.ledger.services import document_cancel

    c = make_customer("C001")
    post("invoice", "INV-1", c, "2026-10-01", "11800", taxable_value=Decimal("10000"), tax=Decimal("1800"))
    wrong = post("invoice", "INV-2", c, "2026-10-02", "5900", taxable_value=Decimal("5000"), tax=Decimal("900"))
    post("receipt", "RCT-1", c, "2026-10-20", "11800", mode="neft", allocations=[("INV-1", Decimal("11800"))])
    document_cancel(document=wrong, on=date(2026, 11, 3), reason="duplicate", actor="test")

    october = trial_balance(company=company, as_of=date(2026, 10, 31))
    rows = {r.code: r for r in october.rows}
    assert len(october.rows) == 15 and october.balanced
    assert (rows["1100"].debit, rows["1100"].credit) == (Decimal("17700"), Decimal("11800"))
    assert (rows["1200"].debit, rows["4100"].credit, rows["2100"].credit, rows["2110"].credit) == (
        Decimal("11800"), Decimal("15000"), Decimal("1350"), Decimal("1350"))
    assert (rows["5120"].debit, rows["5120"].credit) == (0, 0)  # listed even when nothing was posted
    assert october.debit == october.credit == Decimal("29500")

    # the cancellation is dated 3 November: it counts from then on
    november = {r.code: r for r in trial_balance(company=company, as_of=date(2026, 11, 30)).rows}
    assert (november["4100"].debit, november["4100"].credit) == (Decimal("5000"), Decimal("15000"))
    assert (november["1100"].debit, november["1100"].credit) == (Decimal("17700"), Decimal("17700"))
    assert trial_balance(company=company, as_of=date(2026, 9, 30)).debit == 0

    # an unbalanced line slipped in behind the services' back is caught
    entry = JournalEntry.objects.filter(company=company).first()
    JournalLine.objects.create(entry=entry, account=entry.lines.first().account, debit=Decimal("0.01"))
    broken = trial_balance(company=company, as_of=date(2026, 11, 30))
    assert not broken.balanced and broken.difference == CENT
    assert broken.as_json()["difference"] == "0.01" and broken.as_json()["balanced"] is False
