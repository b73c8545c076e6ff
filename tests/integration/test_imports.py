"""Imports: all-or-nothing, every bad row reported, re-import changes nothing."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import Workbook

from dues.audit.models import AuditRecord
from dues.companies.services import company_update
from dues.core.errors import ValidationFailed
from dues.customers.models import Customer
from dues.integrations.importers import import_file
from dues.ledger.models import Allocation, Document, JournalLine, OpenItem

pytestmark = pytest.mark.django_db

CUSTOMERS = """code,name,gstin,state,email,credit_limit,credit_days,salesperson,collector,segment,region
C001,Shree Ganesh Traders,27AAPFU0939F1ZV,Maharashtra,a@ganesh.example,"5,00,000",30,Ravi,Anita,Retail,West
C002,Kaveri Distributors,,29,k@kaveri.example,,45,Meena,Anita,Wholesale,South
"""
INVOICES = """number,customer,date,due_date,amount,taxable_value,tax,description
INV-1,C001,01-04-2025,,"1,18,000.00","1,00,000",18000,Steel
INV-2,C001,15/05/2025,2025-06-15,5900,5000,900,
INV-3,C002,2025-06-01,,11800,10000,1800,
"""
RECEIPTS = """number,customer,date,amount,mode,reference,tds,allocations
RCT-1,C001,2025-05-10,"1,17,900",neft,UTR123,100,INV-1:118000
RCT-2,C002,2025-06-20,5000,upi,,,
RCT-3,C002,2025-07-01,2000,cheque,000123,,INV-3:1500
"""
CREDIT_NOTES = """number,customer,date,amount,against,reason
CN-1,C001,2025-06-20,590,INV-2,rate difference
CN-2,C002,2025-06-25,100,,goodwill
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def snapshot():
    return (Customer.objects.count(), Document.objects.count(), OpenItem.objects.count(), Allocation.objects.count(),
            JournalLine.objects.count(), AuditRecord.objects.count())


@pytest.fixture
def books(company, tmp_path):
    for kind, name, text in [("customers", "customers.csv", CUSTOMERS), ("invoices", "invoices.csv", INVOICES),
                             ("receipts", "receipts.csv", RECEIPTS), ("credit-notes", "cn.csv", CREDIT_NOTES)]:
        import_file(kind=kind, path=write(tmp_path, name, text), company=company, actor="test")
    return company


def test_a_full_set_of_files_imports(books):
    c1 = Customer.objects.get(code="C001")
    assert (c1.state_code, c1.pan, c1.credit_limit, c1.terms_days) == ("27", "AAPFU0939F", Decimal("500000"), 30)
    inv1 = Document.objects.get(number="INV-1")
    assert (inv1.date, inv1.due_date, inv1.cgst, inv1.sgst) == (date(2025, 4, 1), date(2025, 5, 1), 9000, 9000)
    assert OpenItem.objects.get(document=inv1).residual == 0
    assert OpenItem.objects.get(document__number="INV-2").residual == Decimal("5310")
    assert OpenItem.objects.get(document__number="INV-3").residual == Decimal("10300")
    assert OpenItem.objects.get(document__number="RCT-3").residual == Decimal("500")
    assert OpenItem.objects.get(document__number="CN-2").residual == Decimal("100")
    assert Document.objects.get(number="RCT-1").tds == Decimal("100")


def test_importing_the_same_files_again_changes_nothing(books, tmp_path):
    before = snapshot()
    for kind, name, text in [("customers", "customers.csv", CUSTOMERS), ("invoices", "invoices.csv", INVOICES),
                             ("receipts", "receipts.csv", RECEIPTS), ("credit-notes", "cn.csv", CREDIT_NOTES)]:
        result = import_file(kind=kind, path=write(tmp_path, name, text), company=books, actor="test")
        assert result.created == 0 and result.updated == 0 and result.unchanged == result.rows
    after = snapshot()
    # only the import batches themselves are recorded in the audit log
    assert after[:5] == before[:5]
    assert after[5] == before[5] + 4


def test_every_bad_row_is_reported_and_nothing_is_written(books, tmp_path):
    bad = write(tmp_path, "bad.csv", """number,customer,date,amount,taxable_value,tax
INV-9,C999,2025-07-01,100,,
INV-10,C001,31-02-2025,100,,
INV-11,C001,2025-07-01,-5,,
INV-12,C001,2025-07-01,abc,,
INV-1,C001,2025-04-01,99,,
INV-13,C001,2025-07-01,100,,
INV-13,C001,2025-07-02,100,,
INV-14,C001,2025-07-01,100,50,10
,C001,2025-07-01,100,,
""")
    before = snapshot()
    with pytest.raises(ValidationFailed) as err:
        import_file(kind="invoices", path=bad, company=books, actor="test")
    messages = [str(p) for p in err.value.problems]
    expected = [
        "bad.csv:2: customer: unknown customer 'C999'",
        "bad.csv:3: date: no such date",
        "bad.csv:4: amount: must be positive",
        "bad.csv:5: amount: not an amount",
        "bad.csv:6: number: INV-1 is already posted with amount 118000",
        "bad.csv:8: number: INV-13 appears twice (also at row 7)",
        "bad.csv:9: amount: 100.00 is not taxable value 50.00 + tax 10.00",
        "bad.csv:10: number: is required",
    ]
    for want in expected:
        assert any(m.startswith(want) for m in messages), (want, messages)
    assert snapshot() == before


def test_over_allocation_in_a_receipts_file_names_the_row(books, tmp_path):
    bad = write(tmp_path, "r.csv", """number,customer,date,amount,tds,allocations
RCT-10,C001,2025-07-01,100,,INV-2:100
RCT-11,C001,2025-07-01,6000,,INV-2:6000
RCT-12,C001,2025-07-01,100,,INV-404:100;INV-2:x
""")
    before = snapshot()
    with pytest.raises(ValidationFailed) as err:
        import_file(kind="receipts", path=bad, company=books, actor="test")
    text = str(err.value)
    assert "r.csv:3: allocations: allocating 6000.00 to INV-2 exceeds what is outstanding on it (5210.00)" in text
    assert "r.csv:4: allocations: 'x' in 'INV-2:x' is not an amount" in text
    assert snapshot() == before


def test_tds_lets_allocations_exceed_the_cash(books, tmp_path):
    ok = write(tmp_path, "r.csv", "number,customer,date,amount,tds,allocations\nRCT-20,C002,2025-07-05,10290,10,INV-3:10300\n")
    import_file(kind="receipts", path=ok, company=books, actor="test")
    assert OpenItem.objects.get(document__number="INV-3").residual == 0


def test_bad_customers_are_all_reported(company, tmp_path):
    path = write(tmp_path, "c.csv", """code,name,gstin,pan,state,email,credit_days
C1,Good One,27AAPFU0939F1ZV,,,,30
C2,,,,,,
C3,Bad Gstin,27AAPFU0939F1ZA,,,,
C4,Bad Pan,,ABCDE1234,,,
C5,Bad State,,,Atlantis,,
C6,Bad Mail,,,,not-an-email,
C7,Bad Days,,,,,thirty
C1,Twice,,,,,
""")
    with pytest.raises(ValidationFailed) as err:
        import_file(kind="customers", path=path, company=company, actor="test")
    text = str(err.value)
    for want in ["c.csv:3: name: is required", "c.csv:4: gstin: GSTIN 27AAPFU0939F1ZA has a wrong check character",
                 "c.csv:5: pan: PAN ABCDE1234", "c.csv:6: state: unknown state 'Atlantis'",
                 "c.csv:7: email: 'not-an-email' is not an e-mail address", "c.csv:8: credit_days:",
                 "c.csv:9: code: customer C1 appears twice (also at row 2)"]:
        assert want in text, want
    assert Customer.objects.count() == 0


def test_gstin_checksum_can_be_a_warning(company, tmp_path):
    company_update(company=company, gstin_checksum="warn", actor="test")
    path = write(tmp_path, "c.csv", "code,name,gstin\nC3,Sandbox Co,27AAPFU0939F1ZA\n")
    result = import_file(kind="customers", path=path, company=company, actor="test")
    assert result.created == 1 and "wrong check character" in result.warnings[0]


def test_customer_reimport_with_changes_updates_and_audits(books, tmp_path):
    changed = CUSTOMERS.replace("Ravi", "Suresh")
    result = import_file(kind="customers", path=write(tmp_path, "customers.csv", changed), company=books, actor="t")
    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)
    assert Customer.objects.get(code="C001").salesperson == "Suresh"
    rec = AuditRecord.objects.filter(object_type="customer", object_id="C001").order_by("-seq").first()
    assert '"salesperson":"Ravi"' in rec.before_json and '"salesperson":"Suresh"' in rec.after_json


def test_dry_run_writes_nothing(company, tmp_path):
    before = snapshot()
    result = import_file(kind="customers", path=write(tmp_path, "c.csv", CUSTOMERS), company=company, actor="t",
                         dry_run=True)
    assert result.created == 2 and result.dry_run
    assert snapshot() == before


def test_missing_columns_and_unknown_files(company, tmp_path):
    with pytest.raises(ValidationFailed, match="missing column"):
        import_file(kind="invoices", path=write(tmp_path, "i.csv", "number,date\nX,2025-01-01\n"), company=company)
    with pytest.raises(ValidationFailed, match="no such file"):
        import_file(kind="invoices", path=tmp_path / "nope.csv", company=company)


def test_xlsx_with_real_date_and_number_cells(books, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["Number", "Customer", "Date", "Amount", "Taxable Value", "Tax"])
    ws.append(["INV-X1", "C002", datetime(2025, 8, 1), 1180.5, 1000.5, 180])
    ws.append(["INV-X2", "C002", "02-08-2025", "2,360", None, None])
    path = tmp_path / "inv.xlsx"
    wb.save(path)
    result = import_file(kind="invoices", path=path, company=books, actor="test")
    assert result.created == 2
    x1 = Document.objects.get(number="INV-X1")
    assert (x1.date, x1.amount, x1.taxable_value) == (date(2025, 8, 1), Decimal("1180.50"), Decimal("1000.50"))
    assert Document.objects.get(number="INV-X2").amount == Decimal("2360")


def test_bank_charges_and_discount_settle_with_the_cash(books, tmp_path):
    from django.db.models import Sum

    path = write(tmp_path, "r.csv", "number,customer,date,amount,bank_charges,discount,allocations\n"
                                    "RCT-30,C002,2025-07-05,10000,50,250,INV-3:10300\n")
    import_file(kind="receipts", path=path, company=books, actor="test")
    assert OpenItem.objects.get(document__number="INV-3").residual == 0
    lines = JournalLine.objects.filter(entry__document__number="RCT-30").values("account__role").annotate(
        d=Sum("debit"), c=Sum("credit"))
    assert {r["account__role"]: r["d"] - r["c"] for r in lines} == {
        "bank": Decimal("10000"), "bank_charges": Decimal("50"), "discount_allowed": Decimal("250"),
        "ar_control": Decimal("-10300")}


def test_a_customers_file_with_some_columns_keeps_the_others(books, tmp_path):
    before = Customer.objects.get(code="C001")
    result = import_file(kind="customers", path=write(tmp_path, "names.csv", "code,name\nC001,Shree Ganesh Traders LLP\n"),
                         company=books, actor="t")
    assert result.updated == 1
    after = Customer.objects.get(code="C001")
    assert after.name == "Shree Ganesh Traders LLP"
    for name in ("gstin", "pan", "state_code", "email", "credit_limit", "salesperson", "terms_kind", "terms_days"):
        assert getattr(after, name) == getattr(before, name), name


def test_windows_1252_csv(company, tmp_path):
    path = tmp_path / "cust.csv"
    path.write_bytes("code,name,state\nC1,Café Coffee Day,Karnataka\n".encode("cp1252"))
    import_file(kind="customers", path=path, company=company, actor="t")
    assert Customer.objects.get(code="C1").name == "Café Coffee Day"


def test_a_corrected_receipt_is_a_clash_not_silently_ignored(books, tmp_path):
    changed = RECEIPTS.replace("RCT-1,C001,2025-05-10,\"1,17,900\",neft,UTR123,100,", "RCT-1,C001,2025-05-10,\"1,17,900\",neft,UTR123,1000,")
    with pytest.raises(ValidationFailed, match="RCT-1 is already posted with tds 100"):
        import_file(kind="receipts", path=write(tmp_path, "receipts.csv", changed), company=books, actor="t")


def test_rows_are_numbered_where_they_start_and_against_is_named(books, tmp_path):
    path = write(tmp_path, "cn.csv", 'number,customer,date,amount,against,reason\n'
                                     'CN-7,C001,2025-07-01,10,INV-404,"two\nlines"\nCN-8,C404,2025-07-01,10,,\n')
    with pytest.raises(ValidationFailed) as err:
        import_file(kind="credit-notes", path=path, company=books, actor="t")
    text = str(err.value)
    assert "cn.csv:2: against: INV-404 is not an open invoice of C001" in text
    assert "cn.csv:4: customer: unknown customer 'C404'" in text
