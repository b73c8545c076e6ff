"""dues import tally: customers from the debtor group tree, opening bills, vouchers bill-wise, incremental
by GUID/ALTERID, all-or-nothing on bad input, and the agreement report."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest

from dues.audit.models import AuditRecord
from dues.customers.models import Customer
from dues.integrations.models import TallyBill, TallyVoucher
from dues.integrations.tally.importer import TallyImportError, import_tally
from dues.ledger.models import Document, OpenItem

from .tally_fixtures import MASTERS, bills, daybook, entry, envelope, utf16, voucher

pytestmark = pytest.mark.django_db


def write(tmp_path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_bytes(utf16(envelope(body)))
    return str(path)


def bill_residual(ledger: str, name: str) -> D:
    tb = TallyBill.objects.select_related("document").get(ledger=ledger, name=name, document__status="posted")
    item = OpenItem.objects.get(document=tb.document, reversal_of__isnull=True)
    return item.residual if item.side == "D" else -item.residual


def balance(code: str) -> D:
    items = OpenItem.objects.filter(customer__code=code)
    return sum((i.residual if i.side == "D" else -i.residual for i in items), D(0))


@pytest.fixture
def files(tmp_path):
    return [write(tmp_path, "masters.xml", MASTERS), write(tmp_path, "daybook.xml", daybook())]


def test_masters_and_day_book_import_bill_wise_and_agree_with_tally(company, files):
    r = import_tally(paths=files, company=company, actor="test")
    # customers: ledgers under Sundry Debtors and groups beneath it; the creditor and the bank never
    assert sorted(Customer.objects.values_list("code", flat=True)) == ["Acme Traders", "Bharat Stores"]
    acme = Customer.objects.get(code="Acme Traders")
    assert (acme.gstin, acme.state_code, acme.credit_days, acme.credit_limit, acme.email, acme.phone) == (
        "27AAPFU0939F1ZV", "27", 45, D("500000.00"), "accounts@acme.example", "9820000000")
    assert Customer.objects.get(code="Bharat Stores").state_code == "29"
    assert (r.customers_created, r.openings, r.vouchers_posted, r.ignored) == (2, 3, 8, 2)
    # bills as Tally shows them
    assert bill_residual("Acme Traders", "S/1") == 0  # 10,800 received + 1,000 TDS by journal
    assert bill_residual("Acme Traders", "S/2") == D("5310.00")  # less the credit note of 590
    assert bill_residual("Acme Traders", "OB/1") == D("6000.00")
    assert bill_residual("Acme Traders", "OB/2") == D("5000.00")
    assert bill_residual("Bharat Stores", "S/3") == D("3000.00")
    assert bill_residual("Bharat Stores", "ADV/1") == D("-1500.00")  # an advance: a credit bill
    assert balance("Acme Traders") == D("16110.00") and balance("Bharat Stores") == D("3500.00")
    s1 = Document.objects.get(kind="invoice", number="S/1")
    assert (s1.amount, s1.due_date.isoformat(), s1.igst + s1.cgst + s1.sgst) == (D("11800.00"), "2024-05-01",
                                                                                  D("1800.00"))
    r1 = Document.objects.get(kind="receipt", number="R/1")
    assert (r1.amount, r1.tds) == (D("10000.00"), D("1000.00"))  # TDS debited in the receipt
    j1 = Document.objects.get(number="J/1")
    assert (j1.kind, j1.amount, j1.tds) == ("receipt", D("0.00"), D("1000.00"))  # TDS journal against the bill
    assert Document.objects.get(number="CN/1").kind == "credit_note"
    assert not Document.objects.filter(number__in=["S/9", "S/10", "P/1"]).exists()  # cancelled, optional, purchase
    assert r.check.agrees and {c.code: c.tally for c in r.check.customers} == {
        "Acme Traders": D("16110.00"), "Bharat Stores": D("3500.00")}


def test_importing_the_same_files_again_changes_nothing(company, files):
    import_tally(paths=files, company=company, actor="test")
    docs, audit = Document.objects.count(), AuditRecord.objects.count()
    r = import_tally(paths=files, company=company, actor="test")
    assert (r.vouchers_posted, r.vouchers_unchanged, r.documents, r.openings) == (0, 8, 0, 0)
    assert Document.objects.count() == docs
    assert AuditRecord.objects.count() == audit + 1  # only the import batch's own record
    assert r.check.agrees


def test_a_higher_alterid_replaces_the_voucher_by_reversal_and_keeps_the_receipts(company, files, tmp_path):
    import_tally(paths=files, company=company, actor="test")
    changed = voucher("g-s1", "GST Sale Invoice", "S/1", "20240401", "Acme Traders",
                      entry("Acme Traders", "-12800.00", True, bills(("New Ref", "S/1", "-12800.00")))
                      + entry("Sales", "11000.00") + entry("Output IGST", "1800.00"), alterid=7)
    r = import_tally(paths=[write(tmp_path, "again.xml", changed)], company=company, actor="test")
    assert r.vouchers_replaced == 1
    old, new = TallyVoucher.objects.filter(guid="g-s1").order_by("pk")
    assert old.superseded_by == new and new.alterid == 7
    first = Document.objects.get(pk=old.documents[0])
    assert first.status == "cancelled" and first.amount == D("11800.00")  # history kept
    assert Document.objects.get(pk=new.documents[0]).amount == D("12800.00")
    assert bill_residual("Acme Traders", "S/1") == D("1000.00")  # the receipt and the TDS journal re-attached
    assert balance("Acme Traders") == D("17110.00")
    assert AuditRecord.objects.filter(action="tally_replace", object_id="g-s1").exists()
    assert AuditRecord.objects.filter(action="cancel", object_id=first.number).exists()


def test_a_receipt_altered_in_tally_is_reposted_against_the_same_bill(company, files, tmp_path):
    import_tally(paths=files, company=company, actor="test")
    altered = voucher("g-r1", "Bank Receipt", "R/1", "20240410", "Acme Traders",
                      entry("Acme Traders", "10800.00", True, bills(("Agst Ref", "S/1", "10800.00")))
                      + entry("HDFC Bank", "-9800.00") + entry("TDS Receivable", "-1000.00"), alterid=9)
    later = voucher("g-r9", "Receipt", "R/9", "20240601", "Acme Traders",
                    entry("Acme Traders", "5310.00", True, bills(("Agst Ref", "S/2", "5310.00")))
                    + entry("HDFC Bank", "-5310.00"))
    r = import_tally(paths=[write(tmp_path, "again.xml", altered + later)], company=company, actor="test")
    assert (r.vouchers_replaced, r.vouchers_posted, r.warnings) == (1, 1, [])
    assert bill_residual("Acme Traders", "S/1") == 0 and bill_residual("Acme Traders", "S/2") == 0
    new = Document.objects.get(pk=TallyVoucher.objects.get(guid="g-r1", superseded_by__isnull=True).documents[0])
    assert (new.amount, new.tds, new.number != "R/1") == (D("9800.00"), D("1000.00"), True)
    assert Document.objects.get(kind="receipt", number="R/1").status == "cancelled"
    assert balance("Acme Traders") == D("16110.00") + D("200.00") - D("5310.00")


def test_a_voucher_cancelled_in_tally_is_reversed(company, files, tmp_path):
    import_tally(paths=files, company=company, actor="test")
    gone = voucher("g-s2", "Sales", "S/2", "20240405", "Acme Traders",
                   entry("Acme Traders", "-5900.00", True, bills(("New Ref", "S/2", "-5900.00"))) + entry("Sales", "5900.00"),
                   alterid=3, cancelled=True)
    r = import_tally(paths=[write(tmp_path, "cancel.xml", gone)], company=company, actor="test")
    assert r.vouchers_reversed == 1
    assert Document.objects.get(kind="invoice", number="S/2").status == "cancelled"
    assert balance("Acme Traders") == D("16110.00") - D("5900.00")  # S/2 gone: 5,310 left on it, 590 credit freed
    assert OpenItem.objects.get(document__number="CN/1").residual == D("590.00")  # the credit note now unapplied


def test_bills_that_do_not_add_up_name_the_voucher_and_nothing_is_written(company, tmp_path):
    bad = voucher("g-bad", "Receipt", "R/77", "20240502", "Acme Traders",
                  entry("Acme Traders", "5000.00", True, bills(("Agst Ref", "OB/1", "4000.00")))
                  + entry("HDFC Bank", "-5000.00"))
    path = write(tmp_path, "bad.xml", MASTERS + daybook() + bad)
    with pytest.raises(TallyImportError) as exc:
        import_tally(paths=[path], company=company, actor="test")
    message = str(exc.value)
    assert "R/77" in message and "2024-05-02" in message and "g-bad" in message and "nothing was imported" in message
    assert "4,000.00" in message and "5,000.00" in message
    assert not Customer.objects.exists() and not Document.objects.exists() and not TallyVoucher.objects.exists()


@pytest.mark.parametrize(("data", "message"), [
    (lambda: utf16(envelope(MASTERS + daybook()))[:-3000], "truncated"),
    (lambda: b"<?xml version='1.0'?><invoices><invoice/></invoices>", "not a Tally XML export"),
    (lambda: ("<?xml version='1.0' encoding='EBCDIC-CP-US'?>" + envelope(MASTERS)).encode("ascii"), "unknown encoding"),
])
def test_unreadable_files_write_nothing(company, tmp_path, data, message):
    path = tmp_path / "x.xml"
    path.write_bytes(data())
    good = write(tmp_path, "good.xml", MASTERS)
    with pytest.raises(TallyImportError, match=message):
        import_tally(paths=[good, str(path)], company=company, actor="test")
    assert not Customer.objects.exists() and not Document.objects.exists()


def test_dry_run_writes_nothing(company, files):
    r = import_tally(paths=files, company=company, actor="test", dry_run=True)
    assert r.vouchers_posted == 8 and r.check.agrees
    assert not Customer.objects.exists() and not Document.objects.exists()


def test_a_difference_is_listed_by_customer_and_bill(company, files):
    from dues.integrations.tally.check import check_files
    from dues.ledger.services import allocation_reverse

    import_tally(paths=files, company=company, actor="test")
    from dues.ledger.models import Allocation

    a = Allocation.objects.get(credit_item__document__number="CN/1", reverses__isnull=True)
    allocation_reverse(allocation=a, on=a.effective_date, reason="test", actor="test")
    report = check_files(paths=files, company=company)
    acme = next(c for c in report.customers if c.code == "Acme Traders")
    assert acme.difference == 0 and acme.bills == [("S/2", D("5310.00"), D("5900.00"))]
    assert not report.agrees


def test_customers_command_lists_what_the_import_made(company, files):
    from click.testing import CliRunner

    import dues.cli.documents  # noqa: F401
    import dues.cli.tally  # noqa: F401  (registers the commands)
    from dues.cli.main import cli

    result = CliRunner().invoke(cli, ["import", "tally", *files], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "vouchers 8 posted" in result.output and "every customer agrees with Tally to the paisa" in result.output
    result = CliRunner().invoke(cli, ["customers", "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert rows[0] == {"code": "Acme Traders", "name": "Acme Traders", "gstin": "27AAPFU0939F1ZV", "state_code": "27",
                       "credit_days": 45, "credit_limit": "500000.00", "collector": "", "salesperson": ""}
    assert [r["code"] for r in rows] == ["Acme Traders", "Bharat Stores"]
    result = CliRunner().invoke(cli, ["tally", "check", *files], catch_exceptions=False)
    assert result.exit_code == 0 and "every customer agrees" in result.output
