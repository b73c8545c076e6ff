"""dues check outstanding: a Busy-like bill-wise outstanding file against dues' open items as of a date."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal as D

import pytest

from dues.core.errors import ValidationFailed
from dues.integrations.importers import import_file
from dues.integrations.outstanding import check_outstanding

pytestmark = pytest.mark.django_db

# Busy's Bills Receivable as we write it from the report's columns: party by name, pending after part payments
BUSY = (b"Date,Bill No.,Party Name,Bill Amount,Pending Amount,Due Date\n"
        b"01-04-2025,GST/101,Acme Fasteners Pvt Ltd,11800.00,5900.00,01-05-2025\n"
        b"15-04-2025,GST/102,Acme Fasteners Pvt Ltd,2360.00,2360.00,15-05-2025\n"
        b"20-04-2025,GST/103,Bharat Stores,1000.00,999.99,20-05-2025\n")
JUNE = date(2025, 6, 30)


@pytest.fixture
def imported(company, make_customer, tmp_path):
    make_customer("C001", name="Acme Fasteners Pvt Ltd")
    make_customer("C002", name="Bharat Stores")
    path = tmp_path / "busy.csv"
    path.write_bytes(BUSY)
    assert import_file(kind="invoices", path=path, company=company, actor="test", source="busy").created == 3
    return path


def check(company, path, data=None, as_of=JUNE, **kw):
    return check_outstanding(path=path, company=company, as_of=as_of, source="busy", data=data, **kw)


def test_the_imported_file_agrees_to_the_paisa(company, imported):
    report = check(company, imported)
    assert report.agrees
    assert [(c.code, c.ledger, c.theirs, c.ours) for c in report.customers] == [
        ("C001", "Acme Fasteners Pvt Ltd", D("8260.00"), D("8260.00")),
        ("C002", "Bharat Stores", D("999.99"), D("999.99"))]


def test_a_receipt_in_dues_is_named_by_bill_with_both_figures(company, imported, post):
    from dues.customers.models import Customer

    acme = Customer.objects.get(code="C001")
    post("receipt", "R/1", acme, "2025-05-10", "1000.00", allocations=[("GST/101", D("1000.00"))])
    report = check(company, imported)
    assert not report.agrees
    (diff,) = report.differences()
    assert diff.code == "C001" and diff.bills == [("GST/101", D("5900.00"), D("4900.00"))]
    assert diff.difference == D("-1000.00")
    assert check(company, imported, as_of=date(2025, 5, 9)).agrees  # before the receipt: as the file says


def test_bills_missing_on_either_side_and_an_unknown_party(company, imported):
    other = (b"Bill No.,Party Name,Pending Amount\n"
             b"GST/101,Acme Fasteners Pvt Ltd,5900.00\n"
             b"gst/999 ,Acme Fasteners Pvt Ltd,10.00\n"
             b"GST/103,Bharat Stores,999.99\n"
             b"X/1,Nobody & Co,50.00\n")
    report = check(company, "other.csv", data=other)
    by = {c.code or c.ledger: c for c in report.differences()}
    assert set(by) == {"C001", "Nobody & Co"}
    assert by["C001"].bills == [("GST/102", None, D("2360.00")), ("gst/999", D("10.00"), None)]
    assert by["Nobody & Co"].bills == [("X/1", D("50.00"), None)] and by["Nobody & Co"].ours == 0
    assert by["C001"].as_dict()["bills"][0] == {"bill": "GST/102", "file": None, "dues": "2360.00",
                                                "status": "missing in the file"}


def test_bad_rows_are_named_and_nothing_compared(company, imported):
    bad = b"Bill No.,Party Name,Pending Amount,Date\nGST/101,,5900.00,01-04-2025\nGST/102,Acme,12.345,31-02-2025\n"
    with pytest.raises(ValidationFailed) as exc:
        check(company, "bad.csv", data=bad)
    msg = str(exc.value)
    assert "bad.csv:2: customer: is required" in msg and "bad.csv:3: amount" in msg and "bad.csv:3: date" in msg


def test_the_command_prints_json_and_exits_1_on_a_difference(company, imported, post, tmp_path):
    from click.testing import CliRunner

    import dues.cli.check  # noqa: F401  (registers the command)
    from dues.cli.main import cli
    from dues.customers.models import Customer

    args = ["check", "outstanding", str(imported), "--source", "busy", "--as-of", "2025-06-30"]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "every customer agrees with the file to the paisa" in result.output
    post("receipt", "R/1", Customer.objects.get(code="C002"), "2025-05-10", "0.01",
         allocations=[("GST/103", D("0.01"))])
    result = CliRunner().invoke(cli, [*args, "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 1, result.output
    doc = json.loads(result.output)
    assert doc["as_of"] == "2025-06-30" and doc["agrees"] is False
    assert doc["customers"][1] == {
        "ledger": "Bharat Stores", "code": "C002", "file": "999.99", "dues": "999.98", "difference": "-0.01",
        "agrees": False, "bills": [{"bill": "GST/103", "file": "999.99", "dues": "999.98", "status": "amounts differ"}]}
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 1 and "C002: bill GST/103: file 999.99, dues 999.98" in result.output
    assert "1 customer(s) differ from the file" in result.output
