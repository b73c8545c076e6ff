"""Column mapping for imports: --map, mappings saved per source, the Busy/Marg/Tally presets, and errors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dues.audit.models import AuditRecord
from dues.core.errors import ValidationFailed
from dues.integrations.importers import import_file
from dues.integrations.mapping import PRESETS, parse_map
from dues.integrations.models import ImportMapping
from dues.ledger.models import Document, OpenItem

pytestmark = pytest.mark.django_db

ERP = b"Bill No,Party,Bill Date,Bill Amount\nB-1,C001,2025-04-01,1000\nB-2,C001,2025-04-03,2500.50\n"
# A bill-wise outstanding report as Busy shows it (Display > Outstanding Analysis > Bills Receivable),
# written by us from the report's column names: party by name, pending amount after part payments
BUSY = (b"Date,Bill No.,Party Name,Bill Amount,Pending Amount,Due Date,Overdue Days\n"
        b"01-04-2025,GST/101,Acme Fasteners Pvt Ltd,11800.00,5900.00,01-05-2025,30\n"
        b"15-04-2025,GST/102,ACME FASTENERS PVT LTD,2360.00,2360.00,15-05-2025,16\n")
MARG = (b"Bill No,Date,Party Name,Bill Amt,Balance,Due Date\n"
        b"A/0001,2025-04-02,Acme Fasteners Pvt Ltd,5000,1200,2025-05-02\n")
BUSY_RECEIPTS = b"Date,Vch No.,Account,Amount,Cheque No.\n2025-05-01,R/1,Acme Fasteners Pvt Ltd,700,000123\n"


@pytest.fixture
def acme(make_customer):
    return make_customer("C001", name="Acme Fasteners Pvt Ltd")


def run(company, data, name="bills.csv", kind="invoices", **kw):
    return import_file(kind=kind, path=name, data=data, company=company, actor="test", **kw)


def test_a_mapping_renames_the_files_columns(company, acme):
    result = run(company, ERP, mapping=parse_map("number=bill no,customer=PARTY,date=Bill  Date,amount=Bill Amount"))
    assert result.created == 2
    assert Document.objects.get(number="B-2").amount == Decimal("2500.50")


def test_without_a_mapping_the_missing_columns_are_named(company, acme):
    with pytest.raises(ValidationFailed, match="missing column.*number.*found bill_no"):
        run(company, ERP)


def test_an_unknown_column_is_named_with_the_files_columns(company, acme):
    with pytest.raises(ValidationFailed) as exc:
        run(company, ERP, mapping={"number": "Invoice No", "customer": "Party", "date": "Bill Date",
                                   "amount": "Bill Amount"})
    msg = str(exc.value)
    assert "'Invoice No'" in msg and "bill_no, party, bill_date, bill_amount" in msg
    assert Document.objects.count() == 0


def test_a_mapped_field_the_file_also_has_is_an_error(company, acme):
    data = b"number,Bill No,customer,date,amount\nX,B-1,C001,2025-04-01,10\n"
    with pytest.raises(ValidationFailed, match="number is mapped to column 'bill_no' but the file also has"):
        run(company, data, mapping={"number": "Bill No"})


def test_an_unknown_field_is_an_error(company, acme):
    with pytest.raises(ValidationFailed, match="unknown field 'bill'"):
        run(company, ERP, mapping={"bill": "Bill No"})
    with pytest.raises(ValidationFailed, match="is not FIELD=COLUMN"):
        parse_map("number")


def test_a_saved_mapping_is_applied_again_by_its_source(company, acme):
    columns = parse_map("number=Bill No,customer=Party,date=Bill Date,amount=Bill Amount")
    run(company, ERP, mapping=columns, source="Sharma-Excel", save_map=True, dry_run=True)
    assert not ImportMapping.objects.exists()  # a dry run remembers nothing
    run(company, ERP, mapping=columns, source="sharma-excel", save_map=True)
    saved = ImportMapping.objects.get(company=company, source="sharma-excel", kind="invoices")
    assert saved.columns["amount"] == "Bill Amount"
    assert AuditRecord.objects.filter(action="import_mapping_save", object_id=str(saved.pk)).count() == 1
    again = ERP.replace(b"B-1", b"B-3").replace(b"B-2", b"B-4")
    assert run(company, again, source="sharma-excel").created == 2
    with pytest.raises(ValidationFailed, match="no mapping saved for source 'other'.*presets: busy, marg"):
        run(company, again, source="other")
    with pytest.raises(ValidationFailed, match="needs a source name"):
        run(company, again, mapping=columns, save_map=True)


def test_busy_bill_wise_outstanding_imports_as_open_bills(company, acme):
    result = run(company, BUSY, name="busy-outstanding.csv", source="busy")
    assert result.created == 2
    bill = Document.objects.get(number="GST/101")
    assert (bill.customer_id, bill.amount, bill.due_date.isoformat()) == (acme.pk, Decimal("5900.00"), "2025-05-01")
    assert OpenItem.objects.get(document=bill).residual == Decimal("5900.00")
    assert run(company, BUSY, name="busy-outstanding.csv", source="busy").unchanged == 2


def test_marg_outstanding_and_busy_receipts(company, acme):
    assert run(company, MARG, name="marg.csv", source="marg").created == 1
    assert Document.objects.get(number="A/0001").amount == Decimal("1200")
    assert run(company, BUSY_RECEIPTS, name="rct.csv", kind="receipts", source="busy").created == 1
    assert Document.objects.get(number="R/1").reference == "000123"


def test_a_preset_without_the_kind_and_an_explicit_map_on_top(company, acme):
    with pytest.raises(ValidationFailed, match="the busy preset has no customers layout"):
        run(company, b"code,name\nC9,X\n", kind="customers", source="busy")
    data = BUSY.replace(b"Pending Amount", b"Outstanding")
    run(company, data, source="busy", mapping={"amount": "Outstanding"})
    assert Document.objects.get(number="GST/101").amount == Decimal("5900.00")
    assert set(PRESETS) == {"busy", "marg", "tally-excel"}


def test_a_saved_mapping_replaces_the_preset_for_that_source(company, acme):
    from dues.integrations.mapping import mapping_save

    mapping_save(company=company, source="busy", kind="invoices", actor="test",
                 columns={"number": "Bill No.", "customer": "Party Name", "date": "Date", "amount": "Bill Amount"})
    run(company, BUSY, source="busy")
    assert Document.objects.get(number="GST/101").amount == Decimal("11800.00")


def test_cli_mapping_options_are_refused_where_they_do_nothing(company, acme, tmp_path):
    from click.testing import CliRunner

    from dues.cli import documents as _documents  # noqa: F401  (registers the commands)
    from dues.cli.main import cli

    path = tmp_path / "bills.csv"
    path.write_bytes(ERP)
    runner = CliRunner()
    r = runner.invoke(cli, ["--user", "test", "import", "items", str(path), "--source", "busy"])
    assert r.exit_code == 2 and "--source and --save-map are for customers" in r.output
    r = runner.invoke(cli, ["--user", "test", "import", "tally", str(path), "--map", "number=Bill No"])
    assert r.exit_code == 2 and "--map is not used by import tally" in r.output
    r = runner.invoke(cli, ["--user", "test", "import", "invoices", str(path), "--map", "number"])
    assert isinstance(r.exception, ValidationFailed) and str(r.exception) == "--map: 'number' is not FIELD=COLUMN"
    assert Document.objects.count() == 0
