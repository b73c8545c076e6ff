"""The streaming Tally XML reader: encodings, sign conventions, masters, vouchers and refused input."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from dues.integrations.tally.xml import Ledger, TallyFormatError, Voucher, VoucherType, read_tally

from .tally_fixtures import MASTERS, daybook, envelope, utf16


def records(data: bytes):
    return list(read_tally("books.xml", data=data))


@pytest.mark.parametrize("encode", [
    lambda s: utf16(s),  # Tally's default: UTF-16LE with a BOM
    lambda s: s.encode("utf-16-le"),  # no BOM
    lambda s: b"\xef\xbb\xbf" + s.encode("utf-8"),
    lambda s: s.encode("utf-8"),
    lambda s: ('<?xml version="1.0" encoding="ASCII"?>' + s).encode("ascii"),
    lambda s: s.replace("\r\n", "\n").encode("utf-8"),
], ids=["utf16-bom", "utf16-nobom", "utf8-bom", "utf8", "ascii", "lf"])
def test_every_encoding_reads_the_same_records(encode):
    got = records(encode(envelope(MASTERS + daybook())))
    ledgers = {r.name: r for r in got if isinstance(r, Ledger)}
    vouchers = [r for r in got if isinstance(r, Voucher)]
    assert {r.name: r.parent for r in got if isinstance(r, VoucherType)} == {"GST Sale Invoice": "Sales",
                                                                              "Bank Receipt": "Receipt"}
    acme = ledgers["Acme Traders"]
    assert acme.parent == "Mumbai Dealers" and acme.gstin == "27AAPFU0939F1ZV" and acme.state == "Maharashtra"
    assert acme.address == ["12 Dock Road", "Mumbai 400001"] and acme.contact == "R. Shah"
    assert acme.credit_days == 45 and acme.credit_limit == Decimal("500000.00")
    assert acme.opening == Decimal("15000.00")  # a negative OPENINGBALANCE is a debit: owed to us
    assert [(b.name, b.amount, b.bill_date, b.due_date) for b in acme.bills] == [
        ("OB/1", Decimal("10000.00"), date(2024, 3, 10), date(2024, 4, 9)),
        ("OB/2", Decimal("5000.00"), date(2024, 3, 20), None)]
    assert ledgers["Bharat Stores"].gstin == "29AAGCB7383J1Z4" and ledgers["Bharat Stores"].bills == []
    assert ledgers["Sabu Suppliers"].opening == Decimal("-7000.00")
    assert len(vouchers) == 11
    s1 = vouchers[0]
    assert (s1.guid, s1.vchtype, s1.number, s1.date, s1.alterid) == ("g-s1", "GST Sale Invoice", "S/1",
                                                                     date(2024, 4, 1), 1)
    party = [e for e in s1.entries if e.is_party][0]
    assert party.amount == Decimal("11800.00") and party.bills[0].kind == "New Ref"
    assert party.bills[0].due_date == date(2024, 5, 1)  # 30 days from the voucher date
    r1 = vouchers[3]
    assert [(b.kind, b.amount) for b in r1.entries[0].bills] == [("Agst Ref", Decimal("-10800.00")),
                                                                  ("On Account", Decimal("-200.00"))]
    assert vouchers[9].cancelled and vouchers[10].optional


def test_control_characters_and_a_lost_rupee_sign_are_tolerated():
    body = MASTERS.replace("R. Shah", "R. Shah&#4;\x04") + '<TALLYMESSAGE><CURRENCY NAME="?"/></TALLYMESSAGE>'
    got = records(envelope(body).encode("utf-8"))
    assert [r.contact for r in got if isinstance(r, Ledger) and r.name == "Acme Traders"] == ["R. Shah"]


def test_a_large_file_is_read_in_chunks():
    many = "".join(daybook() for _ in range(300))
    n = sum(1 for r in read_tally("big.xml", data=utf16(envelope(many))) if isinstance(r, Voucher))
    assert n == 3300


@pytest.mark.parametrize(("data", "message"), [
    (utf16(envelope(MASTERS + daybook()))[:-4000], "truncated"),
    (b"<html><body>hello</body></html>", "not a Tally XML export"),
    (b"", "empty file"),
    (envelope(daybook()).replace("S/2", "S/2\xe9").encode("latin-1"), "unknown encoding"),
    (('<?xml version="1.0" encoding="Shift_JIS"?>' + envelope("")).encode("ascii"), "unknown encoding"),
    (b'<?xml version="1.0"?><!DOCTYPE ENVELOPE [<!ENTITY x "boom">]><ENVELOPE>&x;</ENVELOPE>', "refused"),
    (envelope(daybook().replace("<DATE>20240405</DATE>", "<DATE>2024-04-05</DATE>")).encode("utf-8"),
     "voucher Sales S/2"),
])
def test_bad_input_is_refused_with_a_clear_message(data, message):
    with pytest.raises(TallyFormatError, match=message):
        records(data)
