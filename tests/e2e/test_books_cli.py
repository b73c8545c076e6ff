"""The books stay right, from the command line (issue 10 §4): interest income with GST as a setting,
the trial balance in every format, and its exit code. Subprocesses on their own database."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest

from tests.conftest import dues_env

pytestmark = pytest.mark.e2e

CUSTOMERS = """code,name,credit_days,state
C001,Acme Fasteners Pvt Ltd,30,27
C002,Kaveri Engineering Pvt Ltd,30,29
"""
INVOICES = """number,customer,date,amount,taxable_value,tax,due_date
INV-1,C001,2026-01-01,118000,100000,18000,2026-01-31
INV-2,C002,2026-01-01,59000,50000,9000,2026-01-31
"""


@pytest.fixture
def dues(tmp_path, scratch_db):
    env = dues_env(tmp_path, scratch_db)

    def run(*args, ok=True):
        proc = subprocess.run([sys.executable, "-m", "dues.cli.main", *map(str, args)], env=env, capture_output=True,
                              text=True, timeout=300)
        if ok and proc.returncode != 0:
            raise AssertionError(f"dues {' '.join(map(str, args))} exited {proc.returncode}:\n{proc.stderr}{proc.stdout}")
        return proc

    run("init", "--company", "Test Traders Pvt Ltd", "--state", "27")
    for name, text in (("customers", CUSTOMERS), ("invoices", INVOICES)):
        (tmp_path / f"{name}.csv").write_text(text, encoding="utf-8")
        run("import", name, tmp_path / f"{name}.csv")
    run.env = env
    return run


def test_interest_with_gst_and_the_trial_balance(dues, tmp_path):
    """Failed before: interest credited 4100 Sales, no interest_gst setting, no `dues ledger trial-balance`."""
    plain = json.loads(dues("interest", "C001", "--date", "2026-03-02", "--terms", "simple:18", "--post",
                            "--format", "json").stdout)
    assert plain["debit_note"] == {"number": "INT-C001-20260302", "amount": plain["total"], "interest": plain["total"],
                                   "cgst": "0.00", "sgst": "0.00", "igst": "0.00"}
    settings = json.loads(dues("settings", "--set", "interest_gst=on").stdout)
    assert settings["interest_gst"] == "on"
    bad = dues("settings", "--set", "interest_gst=sometimes", ok=False)
    assert bad.returncode == 1 and "'on' or 'off'" in bad.stderr
    taxed = json.loads(dues("interest", "C002", "--date", "2026-03-02", "--terms", "simple:18", "--post",
                            "--format", "json").stdout)
    note = taxed["debit_note"]
    igst = f"{float(taxed['total']) * 0.18:.2f}"
    assert (note["interest"], note["igst"], note["cgst"]) == (taxed["total"], igst, "0.00")

    tb = json.loads(dues("ledger", "trial-balance", "--as-of", "2026-03-31", "--format", "json").stdout)
    assert tb["as_of"] == "2026-03-31" and tb["balanced"] is True
    accounts = {a["code"]: a for a in tb["accounts"]}
    assert set(accounts["4200"]) == {"code", "name", "debit", "credit"}
    assert accounts["4200"] == {"code": "4200", "name": "Interest on overdue receivables", "debit": "0.00",
                                "credit": f"{float(plain['total']) + float(taxed['total']):.2f}"}
    assert accounts["4100"]["credit"] == "150000.00"  # sales: the two invoices, nothing else
    assert accounts["2120"]["credit"] == f"{9000 + float(igst):.2f}"
    assert tb["total"]["debit"] == tb["total"]["credit"] == accounts["1100"]["debit"]
    before = json.loads(dues("ledger", "trial-balance", "--as-of", "2026-01-15", "--format", "json").stdout)
    assert {a["code"]: a["credit"] for a in before["accounts"]}["4200"] == "0.00"

    rows = list(csv.reader(io.StringIO(dues("ledger", "trial-balance", "--as-of", "2026-03-31", "--format",
                                            "csv").stdout)))
    assert rows[0] == ["code", "name", "debit", "credit"] and rows[-1][:2] == ["", "Total"]
    assert rows[-1][2] == rows[-1][3] == tb["total"]["debit"]
    table = dues("ledger", "trial-balance", "--as-of", "2026-03-31").stdout
    assert "Interest on overdue receivables" in table and "debits equal credits" in table and "Total" in table

    # an entry that does not balance (written behind the services' back) fails it, exit 1
    execute(dues.env["DUES_DATABASE_URL"],
            "INSERT INTO ledger_journalline (entry_id, account_id, customer_id, debit, credit) "
            "SELECT entry_id, account_id, NULL, 10, 0 FROM ledger_journalline ORDER BY id LIMIT 1")
    broken = dues("ledger", "trial-balance", "--as-of", "2026-03-31", ok=False)
    assert broken.returncode == 1 and "does not balance" in broken.stderr and "difference 10.00" in broken.stderr


def execute(url: str, sql: str) -> None:
    """Run one SQL statement on the CLI's database, behind the services' back."""
    if url.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            db.execute(sql)
    else:
        import psycopg

        with psycopg.connect(url) as db:
            db.execute(sql)


def test_init_again_adds_the_interest_account_to_an_older_chart(dues):
    """Failed before: `dues init` on an existing company changed nothing, so an older chart lacked 4200."""
    execute(dues.env["DUES_DATABASE_URL"], "DELETE FROM companies_account WHERE role = 'interest_income'")
    again = dues("init", "--company", "Test Traders Pvt Ltd").stdout
    assert "already exists" in again and "added to its chart: 4200 Interest on overdue receivables" in again
    assert "added" not in dues("init", "--company", "Test Traders Pvt Ltd").stdout
    tb = json.loads(dues("ledger", "trial-balance", "--as-of", "2026-03-31", "--format", "json").stdout)
    assert "4200" in {a["code"] for a in tb["accounts"]}
