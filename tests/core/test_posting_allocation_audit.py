from collections import defaultdict
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dues.core import posting
from dues.core.allocation import check_allocation, oldest_first
from dues.core.auditchain import GENESIS, ChainRecord, chain_hash, verify
from dues.core.errors import OverAllocationError, UnbalancedEntryError
from dues.core.gst import TaxSplit, split_total_tax, tax_on

money = st.decimals(min_value=Decimal("0.01"), max_value=10**8, places=2)


def balances(*entries):
    out = defaultdict(Decimal)
    for lines in entries:
        for ln in lines:
            out[ln.role] += ln.debit - ln.credit
    return {k: v for k, v in out.items() if v}


def test_invoice_entry_with_gst_and_round_off():
    tax = tax_on(Decimal("1000.00"), Decimal(18), intra=True, currency="INR")
    assert tax == TaxSplit(cgst=Decimal("90.00"), sgst=Decimal("90.00"))
    lines = posting.invoice_lines(Decimal("1180.00"), Decimal("1000.00"), tax)
    assert balances(lines) == {"ar_control": Decimal("1180.00"), "sales": Decimal("-1000.00"),
                               "cgst_output": Decimal("-90.00"), "sgst_output": Decimal("-90.00")}
    rounded = posting.invoice_lines(Decimal("1181"), Decimal("1000.40"), tax_on(Decimal("1000.40"), Decimal(18),
                                                                                 False, "INR"))
    assert balances(rounded)["igst_output"] == Decimal("-180.07")
    assert balances(rounded)["round_off"] == Decimal("-0.53")


def test_receipt_entry_books_tds_and_charges():
    lines = posting.receipt_lines(Decimal("9850"), "neft", tds=Decimal("100"), charges=Decimal("50"))
    assert balances(lines) == {"bank": Decimal("9850"), "tds_receivable": Decimal("100"),
                               "bank_charges": Decimal("50"), "ar_control": Decimal("-10000")}
    assert posting.ar_amount(lines) == Decimal("-10000")
    assert balances(posting.receipt_lines(Decimal("10"), "cash"))["cash"] == Decimal("10")


def test_unbalanced_and_bad_lines_are_refused():
    with pytest.raises(UnbalancedEntryError):
        posting.check_balanced([posting.Line("bank", debit=Decimal(1))])
    with pytest.raises(UnbalancedEntryError):
        posting.Line("bank", debit=Decimal(1), credit=Decimal(1))
    with pytest.raises(UnbalancedEntryError):
        posting.Line("bank", debit=Decimal(-1))


@given(amount=money, taxable_share=st.integers(50, 100), rate=st.sampled_from([0, 5, 12, 18, 28]),
       intra=st.booleans(), tds=money, charges=money)
def test_every_entry_balances_and_reversal_restores_every_balance(amount, taxable_share, rate, intra, tds, charges):
    taxable = (amount * taxable_share / 100).quantize(Decimal("0.01"))
    tax = split_total_tax((taxable * rate / 100).quantize(Decimal("0.01")), intra, "INR")
    entries = [
        posting.invoice_lines(amount, taxable, tax),
        posting.credit_note_lines(amount, taxable, tax),
        posting.receipt_lines(amount, "upi", tds=tds, charges=charges),
        posting.write_off_lines(amount),
        posting.opening_lines(amount),
        posting.opening_lines(-amount),
    ]
    for lines in entries:
        posting.check_balanced(lines)
        assert balances(lines, posting.reverse(lines)) == {}


def test_check_allocation():
    check_allocation(Decimal(5), Decimal(5), Decimal(10))
    for amount, credit, debit in [(Decimal(6), Decimal(5), Decimal(10)), (Decimal(11), Decimal(20), Decimal(10)),
                                  (Decimal(0), Decimal(5), Decimal(5)), (Decimal(-1), Decimal(5), Decimal(5))]:
        with pytest.raises(OverAllocationError):
            check_allocation(amount, credit, debit)


@given(available=st.decimals(min_value=0, max_value=10**6, places=2),
       debits=st.lists(st.decimals(min_value=Decimal("0.01"), max_value=10**5, places=2), max_size=20))
def test_oldest_first_never_over_clears(available, debits):
    plan = oldest_first(available, list(enumerate(debits)))
    assert sum((a for _, a in plan), Decimal(0)) == min(available, sum(debits, Decimal(0)))
    for key, amount in plan:
        assert 0 < amount <= debits[key]
    assert [k for k, _ in plan] == list(range(len(plan)))  # oldest first, no skipping


def _chain(n):
    prev, out = GENESIS, []
    for seq in range(1, n + 1):
        payload = {"seq": seq, "action": "post", "after": f"doc {seq}"}
        h = chain_hash(prev, payload)
        out.append(ChainRecord(seq, payload, prev, h))
        prev = h
    return out


def test_audit_chain_detects_change_removal_and_truncation():
    records = _chain(5)
    assert verify(records, head=(5, records[-1].hash)) is None
    changed = list(records)
    changed[2] = ChainRecord(3, {**records[2].payload, "after": "doc 999"}, records[2].prev_hash, records[2].hash)
    assert verify(changed).seq == 3
    removed = records[:2] + records[3:]
    assert verify(removed).seq == 3
    assert verify(records[:4], head=(5, records[-1].hash)).seq == 5
