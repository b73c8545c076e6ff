"""Spreadsheet formula injection: every CSV and XLSX export escapes text a spreadsheet would run.

Customers named like formulas (``=HYPERLINK(...)``, ``@SUM(1)``, ``+1``, ``-2``, a leading tab or CR) are
exported through the CLI (``dues ageing``, ``dues outstanding``, ``dues report``) and the web (ageing export,
the customer list's bulk export); every file is read back with ``csv`` or openpyxl. The names come back with
a leading apostrophe and as text; the amounts (a negative unapplied credit among them) stay numbers.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from dues.core.exports import FORMULA_START, neutralise, neutralise_row
from dues.users.services import user_add

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]

# a leading tab or CR never reaches a customer's name (the service strips it): the rule's own test has them
NAMES = {
    "F1": '=HYPERLINK("http://x","y")',
    "F2": "@SUM(1)",
    "F3": "+1",
    "F4": "-2",
    "F7": "-5 days note",
}
ESCAPED = {code: "'" + name for code, name in NAMES.items()}


@pytest.fixture
def book(company, make_customer, post):
    for i, (code, name) in enumerate(NAMES.items(), start=1):
        customer = make_customer(code, name=name, salesperson="Ravi Kumar")
        post("invoice", f"INV-{i}", customer, "2025-04-01", f"{1000 * i}.00")
    # F4 paid more than it owed: its receipt leaves an unapplied credit, a negative amount in the ageing
    post("receipt", "RCT-1", make_customer("F8", name="Plain Traders"), "2025-05-01", "750.00")
    return company


def test_the_rule_escapes_text_only():
    for name in [*NAMES.values(), "\tTab", "\rCR", "\t=1"]:
        assert neutralise(name) == "'" + name
    assert neutralise("'=1") == "'=1"  # idempotent: an escaped cell stays as it is
    assert neutralise("Plain") == "Plain" and neutralise("") == ""
    assert neutralise(Decimal("-2.00")) == Decimal("-2.00") and neutralise(-2) == -2 and neutralise(-2.5) == -2.5
    assert neutralise_row(["=1", Decimal("-1"), None]) == ["'=1", Decimal("-1"), None]
    assert set(FORMULA_START) == {"=", "+", "-", "@", "\t", "\r"}


def _cli(*args):
    import dues.cli.jobs  # noqa: F401  (registers the commands)
    import dues.cli.reports  # noqa: F401
    from dues.cli.main import cli

    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _csv_names(text: str, code_col: int = 0, name_col: int = 1) -> dict[str, str]:
    return {r[code_col]: r[name_col] for r in csv.reader(io.StringIO(text.lstrip("\ufeff"))) if r and r[0] in NAMES}


def test_cli_ageing_csv_and_xlsx(book, tmp_path):
    text = _cli("ageing", "--format", "csv")
    rows = list(csv.reader(io.StringIO(text)))
    assert _csv_names(text) == ESCAPED
    header = rows[0]
    plain = next(r for r in rows if r[0] == "F8")
    assert plain[header.index("unapplied")] == "-750.00" and Decimal(plain[header.index("total")]) == Decimal("-750.00")

    target = tmp_path / "ageing.xlsx"
    _cli("ageing", "--format", "xlsx", "-o", str(target))
    sheet = load_workbook(target).worksheets[0]
    found = {r[0].value: r[1] for r in sheet.iter_rows(min_row=2) if r[0].value in NAMES}
    assert {k: c.value for k, c in found.items()} == ESCAPED
    assert {c.data_type for c in found.values()} == {"s"}
    plain = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == "F8")
    assert [c.value for c in plain if isinstance(c.value, (int, float)) and c.value < 0] == [-750, -750]
    assert all(c.data_type == "n" for c in plain[2:] if c.value not in (None, ""))


def test_cli_outstanding_csv_keeps_a_negative_residual_a_number(book):
    rows = list(csv.reader(io.StringIO(_cli("outstanding", "F8", "--format", "csv"))))
    assert rows[1][:2] == ["RCT-1", "receipt"] and rows[1][5] == "-750.00"


def test_cli_report_pack_xlsx(book, tmp_path):
    target = tmp_path / "pack.xlsx"
    _cli("report", "weekly", "-o", str(target))
    wb = load_workbook(target)
    names = {r[0].value: r[1].value for r in wb["Top overdue"].iter_rows(min_row=2) if r[0].value in NAMES}
    assert names and all(names[code] == ESCAPED[code] for code in names)
    assert all(isinstance(r[2].value, (int, float)) for r in wb["Top overdue"].iter_rows(min_row=2))


@pytest.fixture
def manager(client, db):
    user = user_add(username="anil", role="ar_manager", password="pw-123456789", actor="test")[0]
    client.force_login(user)
    return client


def test_web_ageing_and_items_exports(book, manager):
    response = manager.get("/ageing/?export=csv")
    assert response.status_code == 200
    assert _csv_names(response.content.decode("utf-8")) == ESCAPED

    response = manager.get("/ageing/?export=xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert {r[0].value: r[1].value for r in sheet.iter_rows(min_row=2) if r[0].value in NAMES} == ESCAPED
    assert min(c.value for r in sheet.iter_rows(min_row=2) for c in r[2:] if isinstance(c.value, (int, float))) == -750

    response = manager.get("/ageing/items/?export=csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8").lstrip("\ufeff"))))
    assert {r[2]: r[3] for r in rows[1:] if r[2] in NAMES} == ESCAPED
    assert next(r for r in rows if r[0] == "RCT-1")[7] == "-750.00"


def test_web_bulk_export(book, manager):
    codes = [*NAMES, "F8"]
    response = manager.post("/bulk/", {"action": "export_csv", "codes": codes})
    assert _csv_names(response.content.decode("utf-8-sig")) == ESCAPED
    response = manager.post("/bulk/", {"action": "export_xlsx", "codes": codes})
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert {r[0].value: r[1].value for r in sheet.iter_rows(min_row=2) if r[0].value in NAMES} == ESCAPED
