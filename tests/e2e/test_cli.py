"""The ``dues`` command as a user runs it: a subprocess on its own database (SQLite or PostgreSQL)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from tests.conftest import dues_env
from tests.integration.test_imports import CREDIT_NOTES, CUSTOMERS, INVOICES, RECEIPTS

pytestmark = pytest.mark.e2e


@pytest.fixture
def dues(tmp_path, scratch_db):
    env = dues_env(tmp_path, scratch_db)

    def run(*args, ok=True, stdin=None):
        proc = subprocess.run([sys.executable, "-m", "dues.cli.main", *map(str, args)], env=env, capture_output=True,
                              text=True, input=stdin, timeout=300)
        if ok and proc.returncode != 0:
            raise AssertionError(f"dues {' '.join(map(str, args))} exited {proc.returncode}:\n{proc.stderr}{proc.stdout}")
        return proc

    run.url = scratch_db
    return run


@pytest.fixture
def files(tmp_path):
    out = {}
    for name, text in [("customers", CUSTOMERS), ("invoices", INVOICES), ("receipts", RECEIPTS),
                       ("credit-notes", CREDIT_NOTES)]:
        out[name] = tmp_path / f"{name}.csv"
        out[name].write_text(text, encoding="utf-8")
    return out


def ageing_json(dues, *args):
    return json.loads(dues("ageing", "--format", "json", *args).stdout)


def test_init_import_ageing(dues, files):
    assert "created company" in dues("init", "--company", "Acme Steel", "--state", "27").stdout
    assert "already exists" in dues("init", "--company", "Acme Steel").stdout  # idempotent
    if dues.url.startswith("sqlite"):
        conn = sqlite3.connect(dues.url.removeprefix("sqlite:///"))
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        conn.close()
    for kind in ("customers", "invoices", "receipts", "credit-notes"):
        dues("import", kind, files[kind])
    report = ageing_json(dues, "--as-of", "2025-07-31")
    assert report["columns"] == ["not_due", "1-30", "31-60", "61-90", "91-120", "120+"]
    rows = {r["key"]: r for r in report["rows"]}
    # C001: INV-2 5,900 less CN-1 590, due 15-06 -> 46 days overdue
    assert rows["C001"]["buckets"]["31-60"] == "5310.00" and rows["C001"]["total"] == "5310.00"
    # C002: INV-3 11,800 less 1,500 (RCT-3), due 16-07 -> 15 days; RCT-2 5,000 + RCT-3 500 + CN-2 100 unapplied
    assert rows["C002"]["buckets"]["1-30"] == "10300.00"
    assert rows["C002"]["unapplied"] == "-5600.00" and rows["C002"]["total"] == "4700.00"
    assert report["totals"]["total"] == "10010.00"
    for row in report["rows"]:
        assert sum(Decimal(v) for v in row["buckets"].values()) + Decimal(row["unapplied"]) == Decimal(row["total"])
    # a past date is what the ledger said then: before RCT-1, INV-1 was open and 8 days overdue
    past = ageing_json(dues, "--as-of", "2025-05-09")
    assert past["rows"][0]["buckets"]["1-30"] == "118000.00" and len(past["rows"]) == 1
    by_region = ageing_json(dues, "--as-of", "2025-07-31", "--by", "region")
    assert [r["key"] for r in by_region["rows"]] == ["South", "West"]
    invoice_basis = ageing_json(dues, "--as-of", "2025-07-31", "--basis", "invoice", "--buckets", "30,60")
    assert invoice_basis["columns"] == ["0-30", "31-60", "60+"]
    out = json.loads(dues("outstanding", "C002", "--as-of", "2025-07-31", "--format", "json").stdout)
    assert [(i["number"], i["residual"], i["days_overdue"]) for i in out["items"]] == [
        ("INV-3", "10300.00", 15), ("RCT-2", "-5000.00", 0), ("CN-2", "-100.00", 0), ("RCT-3", "-500.00", 0)]
    # importing everything again changes nothing
    for kind in ("customers", "invoices", "receipts", "credit-notes"):
        assert "0 new" in dues("import", kind, files[kind]).stdout
    assert ageing_json(dues, "--as-of", "2025-07-31") == report
    assert "audit log OK" in dues("audit", "verify").stdout
    table = dues("ageing", "--as-of", "2025-07-31").stdout
    assert "10,300.00" in table and "TOTAL" in table


def test_rejected_file_leaves_the_database_untouched(dues, files, tmp_path):
    dues("init", "--company", "Acme Steel", "--state", "27")
    dues("import", "customers", files["customers"])
    dues("import", "invoices", files["invoices"])
    before = ageing_json(dues, "--as-of", "2025-12-31")
    log_before = dues("audit", "log", "--format", "json", "--limit", "1000").stdout
    bad = tmp_path / "bad-receipts.csv"
    bad.write_text("number,customer,date,amount,allocations\nR-1,C001,2025-07-01,100,INV-2:100\n"
                   "R-2,C404,2025-07-01,100,\nR-3,C001,2025-13-01,100,\nR-4,C001,2025-07-01,9999,INV-2:9999\n")
    proc = dues("import", "receipts", bad, ok=False)
    assert proc.returncode == 1
    assert "bad-receipts.csv:3: customer: unknown customer 'C404'" in proc.stderr
    assert "bad-receipts.csv:4: date:" in proc.stderr
    assert "bad-receipts.csv:5: allocations:" in proc.stderr
    assert "nothing was written" in proc.stderr
    assert ageing_json(dues, "--as-of", "2025-12-31") == before
    assert dues("audit", "log", "--format", "json", "--limit", "1000").stdout == log_before
    missing = dues("import", "invoices", tmp_path / "nope.csv", ok=False)
    assert missing.returncode != 0


def test_corrections_by_reversal(dues, files):
    dues("init", "--company", "Acme Steel", "--state", "27")
    for kind in ("customers", "invoices", "receipts"):
        dues("import", kind, files[kind])
    out = dues("allocate", "RCT-2", "INV-3", "1000", "--date", "2025-07-02").stdout
    allocation_id = out.split()[1].rstrip(":")
    assert ageing_json(dues, "--as-of", "2025-07-31", "--customer", "C002")["rows"][0]["unapplied"] == "-4500.00"
    dues("unallocate", allocation_id, "--reason", "wrong invoice", "--date", "2025-07-03")
    assert ageing_json(dues, "--as-of", "2025-07-31", "--customer", "C002")["rows"][0]["unapplied"] == "-5500.00"
    assert ageing_json(dues, "--as-of", "2025-07-02", "--customer", "C002")["rows"][0]["unapplied"] == "-4500.00"
    dues("write-off", "INV-2", "--amount", "100", "--reason", "short payment, not worth chasing", "--date",
         "2025-08-01")
    dues("cancel", "invoice", "INV-3", "--reason", "duplicate billing", "--date", "2025-08-02")
    aug = ageing_json(dues, "--as-of", "2025-08-31")
    rows = {r["key"]: r for r in aug["rows"]}
    assert rows["C001"]["total"] == "5800.00"
    assert rows["C002"]["total"] == "-7000.00"  # all C002's money is back on account
    for typo in (("ageing", "--as-of", "2025-02-30"), ("write-off", "INV-2", "--amount", "1O0", "--reason", "x"),
                 ("settings", "--set", "name")):
        proc = dues(*typo, ok=False)
        assert proc.returncode in (1, 2) and "Traceback" not in proc.stderr, proc.stderr
    dues("lock", "2025-08-31")
    late = dues("cancel", "invoice", "INV-2", "--reason", "x", "--date", "2025-08-15", ok=False)
    assert late.returncode == 1 and "lock date" in late.stderr
    assert "audit log OK" in dues("audit", "verify").stdout


def test_two_people_cannot_over_allocate_one_receipt(dues, tmp_path):
    """Six processes race to spend one 3,000 receipt on six 1,000 invoices: exactly three win."""
    dues("init", "--company", "Acme Steel", "--state", "27")
    (tmp_path / "c.csv").write_text("code,name\nC1,Race Co\n")
    (tmp_path / "i.csv").write_text("number,customer,date,amount\n" +
                                    "".join(f"I{n},C1,2025-04-01,1000\n" for n in range(6)))
    (tmp_path / "r.csv").write_text("number,customer,date,amount\nR1,C1,2025-04-02,3000\n")
    for kind, name in (("customers", "c.csv"), ("invoices", "i.csv"), ("receipts", "r.csv")):
        dues("import", kind, tmp_path / name)
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda n: dues("allocate", "R1", f"I{n}", "1000", "--date", "2025-04-03", ok=False),
                                range(6)))
    wins = [r for r in results if r.returncode == 0]
    losses = [r for r in results if r.returncode != 0]
    assert len(wins) == 3, [r.stderr for r in results]
    assert all("exceeds what is left" in r.stderr for r in losses), [r.stderr for r in losses]
    report = ageing_json(dues, "--as-of", "2025-04-30")
    assert report["totals"]["total"] == "3000.00" and report["totals"]["unapplied"] == "0.00"
    assert "audit log OK" in dues("audit", "verify").stdout


def test_audit_verify_names_the_first_tampered_record(dues, files):
    dues("init", "--company", "Acme Steel", "--state", "27")
    dues("import", "customers", files["customers"])
    dues("import", "invoices", files["invoices"])
    assert dues("audit", "verify").returncode == 0
    # someone with database access drops the guard and rewrites history
    if dues.url.startswith("sqlite"):
        conn = sqlite3.connect(dues.url.removeprefix("sqlite:///"))
        conn.execute("DROP TRIGGER audit_record_no_update")
        conn.execute("UPDATE audit_record SET after_json = replace(after_json, '118000', '18000') WHERE seq = 5")
        conn.commit()
        conn.close()
    else:
        import psycopg

        with psycopg.connect(dues.url, autocommit=True) as conn:
            conn.execute("ALTER TABLE audit_record DISABLE TRIGGER audit_record_append_only")
            conn.execute("UPDATE audit_record SET after_json = replace(after_json, '118000', '18000') WHERE seq = 5")
    proc = dues("audit", "verify", ok=False)
    assert proc.returncode == 1
    assert "record 5" in proc.stdout and "changed" in proc.stdout


def test_audit_verify_checks_an_anchor_kept_outside(dues, files):
    dues("init", "--company", "Acme Steel", "--state", "27")
    dues("import", "customers", files["customers"])
    anchor = dues("audit", "verify").stdout.strip().splitlines()[-1].removeprefix("anchor: ")
    seq, digest = anchor.split(":")
    assert seq.isdigit() and len(digest) == 64
    assert "1 anchor(s) match" in dues("audit", "verify", "--anchor", anchor).stdout
    proc = dues("audit", "verify", "--anchor", f"{int(seq) + 5}:{digest}", ok=False)
    assert proc.returncode == 1 and "records were removed from the end and the head rewound" in proc.stdout
    bad = dues("audit", "verify", "--anchor", "12:nothex", ok=False)
    assert bad.returncode == 2 and "write it as SEQ:HASH" in bad.stderr


def test_user_add_and_list(dues):
    dues("init", "--company", "Acme Steel", "--state", "27")
    created = dues("--user", "ops", "user", "add", "meena", "--role", "collector", "--person", "Meena Rao",
                   "--password-stdin", stdin="collect-2025-pass\n")
    assert "created user meena with role collector" in created.stdout
    bad = dues("user", "add", "x", "--role", "boss", "--password-stdin", stdin="long-enough-pass\n", ok=False)
    assert bad.returncode == 1 and "unknown role 'boss'" in bad.stderr
    empty = dues("user", "add", "y", "--role", "auditor", "--password-stdin", stdin="", ok=False)
    assert empty.returncode == 1 and "no password" in empty.stderr
    listed = json.loads(dues("user", "list", "--format", "json").stdout)
    assert [(u["user"], u["role"], u["person"]) for u in listed] == [("meena", "collector", "Meena Rao")]
    (record,) = json.loads(dues("audit", "log", "--object", "user", "--format", "json").stdout)
    assert (record["actor"], record["action"], record["object_id"]) == ("ops", "create", "meena")
    assert record["after"]["role"] == "collector" and "collect-2025-pass" not in json.dumps(record)


def test_serve_answers_with_the_login_page_and_built_assets(dues, tmp_path):
    import socket
    import time
    import urllib.request

    dues("init", "--company", "Acme Steel", "--state", "27")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dues_env(tmp_path, dues.url)
    server = subprocess.Popen([sys.executable, "-m", "dues.cli.main", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(100):
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2).read().decode()
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise AssertionError(f"dues serve did not answer: {server.stderr.read() if server.poll() else ''}")
        assert "Sign in" in page and "Acme Steel" in page
        assert "/static/vendor/htmx.min.js" in page and "/static/web/dues.css" in page
        for asset in ("vendor/htmx.min.js", "vendor/chart.umd.min.js", "vendor/open-props.min.css", "web/dues.css"):
            body = urllib.request.urlopen(f"http://127.0.0.1:{port}/static/{asset}", timeout=5).read()
            assert len(body) > 1000, asset
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_command_takes_today_from_dues_now(dues, files, tmp_path):
    """A subprocess asks dues.clock for today: DUES_NOW (set for every test) is its today, in the desk's zone."""
    from dues import clock

    dues("init", "--company", "Acme Steel", "--state", "27")
    dues("import", "customers", files["customers"])
    assert ageing_json(dues)["as_of"] == clock.today().isoformat()
    env = dues_env(tmp_path, dues.url) | {"DUES_NOW": "2031-02-28T20:00:00+00:00"}  # 01:30 on 1 March in Kolkata
    proc = subprocess.run([sys.executable, "-m", "dues.cli.main", "ageing", "--format", "json"], env=env,
                          capture_output=True, text=True, timeout=300, check=True)
    assert json.loads(proc.stdout)["as_of"] == "2031-03-01"
    env["DUES_NOW"] = "1-3-2031"
    bad = subprocess.run([sys.executable, "-m", "dues.cli.main", "ageing"], env=env, capture_output=True, text=True,
                         timeout=300)
    assert bad.returncode != 0 and "DUES_NOW='1-3-2031' is not an ISO date" in bad.stderr and "Traceback" not in bad.stderr
