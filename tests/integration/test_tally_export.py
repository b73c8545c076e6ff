"""dues export tally: documents made in dues as a Tally import XML that the reader parses back."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from dues.integrations.models import TallyExport
from dues.integrations.tally.export import export_tally
from dues.integrations.tally.importer import import_tally
from dues.integrations.tally.xml import Voucher, read_tally

from .tally_fixtures import MASTERS, daybook, envelope, utf16

pytestmark = pytest.mark.django_db


def test_receipts_and_credit_notes_made_in_dues_export_bill_wise_and_once(company, tmp_path, post):
    from dues.customers.models import Customer

    for name, body in (("m.xml", MASTERS), ("d.xml", daybook())):
        (tmp_path / name).write_bytes(utf16(envelope(body)))
    import_tally(paths=[tmp_path / "m.xml", tmp_path / "d.xml"], company=company, actor="test")
    acme = Customer.objects.get(code="Acme Traders")
    post("receipt", "DR-1", acme, "2024-05-10", "5000", tds=D("310"), mode="neft", reference="UTR123",
         allocations=[("S/2", D("5310"))])
    post("credit_note", "DCN-1", acme, "2024-05-11", "1180", taxable_value=D("1000"), tax=D("180"))
    out = tmp_path / "to-tally.xml"
    r = export_tally(company=company, start=date(2024, 4, 1), end=date(2025, 3, 31), path=out, actor="test",
                     ledgers={"bank": "HDFC Bank"})
    assert r.documents == ["receipt DR-1", "credit_note DCN-1"]  # nothing that came from Tally goes back
    vouchers = [v for v in read_tally(out) if isinstance(v, Voucher)]
    receipt, note = vouchers
    assert (receipt.vchtype, receipt.number, receipt.date, receipt.party) == ("Receipt", "DR-1", date(2024, 5, 10),
                                                                               "Acme Traders")
    party = receipt.entries[0]
    assert party.ledger == "Acme Traders" and party.amount == D("-5310.00")  # credited (a positive AMOUNT)
    assert [(b.kind, b.name, b.amount) for b in party.bills] == [("Agst Ref", "S/2", D("-5310.00"))]
    assert {e.ledger: e.amount for e in receipt.entries[1:]} == {"HDFC Bank": D("5000.00"), "TDS Receivable": D("310.00")}
    for v in vouchers:
        assert sum(e.amount for e in v.entries) == 0  # balanced
        p = v.entries[0]
        assert sum(b.amount for b in p.bills) == p.amount  # bills add up to the party entry
    assert [(b.kind, b.amount) for b in note.entries[0].bills] == [("On Account", D("-1180.00"))]
    assert TallyExport.objects.count() == 2
    again = export_tally(company=company, start=date(2024, 4, 1), end=date(2025, 3, 31), path=tmp_path / "2.xml",
                         actor="test")
    assert again.documents == [] and again.skipped_already == 2
