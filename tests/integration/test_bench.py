"""The benchmarks run end to end on tiny sizes and their cross-checks hold (no timing is asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from dues.bench.web import PAGES


def dues(tmp_path, *args):
    env = {k: v for k, v in os.environ.items() if k != "DUES_DATABASE_URL"}
    env["DUES_HOME"] = str(tmp_path)
    return subprocess.run([sys.executable, "-m", "dues.cli.main", "--db", f"sqlite:///{tmp_path}/b.sqlite3", *args],
                          env=env, capture_output=True, text=True, timeout=600)


def bench(tmp_path, *args):
    proc = dues(tmp_path, "bench", *args, "--format", "json", "--quiet")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    return json.loads(proc.stdout)


def test_ageing_bench_agrees_with_duckdb(tmp_path):
    result = bench(tmp_path, "ageing", "--open-items", "500")
    assert result["totals_agree"] is True and result["mismatches"] == []
    assert result["open_items"] == 500 and result["database"] == "sqlite"
    assert result["customers"] == 10 and result["customers_compared"] == 10
    assert result["settled_items"] == 1000 and result["allocations"] > 1000
    for key in ("seconds", "duckdb_seconds", "ratio", "past_as_of_seconds", "load_seconds", "duckdb_stored_seconds",
                "fastest_ratio", "past_as_of_duckdb_stored_seconds", "past_as_of_fastest_ratio"):
        assert result[key] > 0, key
    assert float(result["outstanding"]) > 0 and float(result["past_outstanding"]) > 0


def test_posting_bench_posts_through_the_import_path(tmp_path):
    result = bench(tmp_path, "posting", "--documents", "100", "--singles", "20")
    assert result["documents"] == 100 and result["invoices"] + result["receipts"] == 100
    for key in ("documents_per_second", "invoices_per_second", "receipts_per_second", "single_receipt_median_ms",
                "single_receipt_p95_ms"):
        assert result[key] > 0, key
    assert result["single_receipts"] == 20


def test_bench_refuses_a_database_with_books(tmp_path):
    bench(tmp_path, "posting", "--documents", "20", "--singles", "1")
    proc = dues(tmp_path, "bench", "ageing", "--open-items", "50", "--quiet")
    assert proc.returncode == 1
    assert "fresh database" in proc.stderr


def test_web_bench_times_every_page_and_reuses_its_book(tmp_path):
    result = bench(tmp_path, "web", "--customers", "60", "--runs", "2")
    assert result["customers"] == 60 and result["database"] == "sqlite" and result["reused"] is False
    assert result["documents"] > 60 and result["open_invoices"] > 0 and result["audit_records"] > result["documents"]
    pages = {p["page"]: p for p in result["pages"]}
    assert {"dashboard", "customers list (by code)", "customer page"} <= set(pages)
    assert len(pages) + len(result["pages_skipped"]) == len(PAGES)
    for page in result["pages"]:
        assert page["status"] == 200, page
        assert page["median_ms"] > 0 and page["p95_ms"] >= page["median_ms"] and page["queries"] > 0, page
    assert result["target_ms"] == 200
    again = bench(tmp_path, "web", "--customers", "60", "--runs", "1", "--keep")
    assert again["reused"] is True and again["documents"] == result["documents"]
    assert again["open_invoices"] == result["open_invoices"]


def test_collect_bench_sends_a_statement_pdf_to_every_customer(tmp_path):
    result = bench(tmp_path, "collect", "--customers", "12")
    assert result["customers"] == 12 and result["documents"] == 48 and result["database"] == "sqlite"
    assert result["failed"] == 0 and result["customers_reached"] == 12
    assert result["emails_received"] == 12 and result["statement_emails"] == 12 and result["pdfs_received"] == 12
    assert result["sent"] == 24  # a statement e-mail and a call task each
    for key in ("seconds", "customers_per_second", "pdfs_per_second", "pdf_render_only_per_second"):
        assert result[key] > 0, key
    assert result["target_pdfs_per_second"] == 50 and isinstance(result["target_met"], bool)


def test_bench_all_runs_every_benchmark_on_its_own_database_and_writes_one_json(tmp_path):
    results, table = tmp_path / "results.json", tmp_path / "figures.md"
    proc = dues(tmp_path, "bench", "all", "--only", "sqlite", "--quiet", "-o", results, "--markdown", table,
                "--open-items", "200", "--small-open-items", "50", "--documents", "40", "--customers", "15",
                "--web-runs", "1", "--cash-lines", "20", "--cash-open-items", "100")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    result = json.loads(results.read_text())
    assert result["databases"] == ["sqlite"] and result["failed"] == []
    ran = {(r["bench"], r["database"]) for r in result["results"]}
    assert ran == {("ageing", "sqlite"), ("ageing-small", "sqlite"), ("posting", "sqlite"), ("web", "sqlite"),
                   ("cash-apply", "sqlite")}
    by_bench = {r["bench"]: r for r in result["results"]}
    assert by_bench["ageing"]["figures"]["open_items"] == 200 and by_bench["ageing"]["figures"]["totals_agree"]
    assert by_bench["ageing-small"]["figures"]["open_items"] == 50
    assert by_bench["posting"]["figures"]["documents"] == 40 and by_bench["web"]["figures"]["customers"] == 15
    # every target is judged from the figure in the same file (whether met depends on the machine)
    ageing_targets = {t["figure"]: t for t in by_bench["ageing"]["targets"]}
    figures = by_bench["ageing"]["figures"]
    assert ageing_targets["fastest_ratio"]["value"] == figures["fastest_ratio"]
    assert ageing_targets["fastest_ratio"]["met"] == (figures["fastest_ratio"] <= 3)
    assert figures["duckdb_fastest_seconds"] == min(figures["duckdb_seconds"], figures["duckdb_stored_seconds"])
    markdown = table.read_text()
    assert "| ageing (`dues bench ageing --open-items 200`) | sqlite | `fastest_ratio` |" in markdown
    assert markdown in proc.stdout and f"figures written to {results}" in proc.stdout
    assert not list(tmp_path.glob("bench-*.sqlite3"))  # the scratch databases are gone


def test_bench_all_fails_when_a_benchmark_fails_and_skips_an_unreachable_postgresql(tmp_path, monkeypatch):
    from dues.bench import suite

    # a benchmark that exits non-zero (its command refuses the size) among one that works
    monkeypatch.setattr(suite, "plan", lambda sizes: [("ageing", ["ageing", "--open-items", "0"], True),
                                                      ("ageing-small", ["ageing", "--open-items", "50"], True)])
    monkeypatch.setenv("DUES_HOME", str(tmp_path))
    said = []
    result = suite.run(sizes=suite.Sizes(), databases=["sqlite", "postgresql"], quiet=True, say=said.append,
                       pg_server="postgresql://postgres@127.0.0.1:1")
    assert result["databases"] == ["sqlite"]
    assert result["skipped"] == ["postgresql: not reachable at postgresql://postgres@127.0.0.1:1"]
    assert result["failed"] == ["ageing on sqlite"]
    broken, small = result["results"]
    assert broken["exit_code"] == 2 and broken["figures"] == {} and not broken["targets"][0]["met"]
    assert small["exit_code"] == 0 and small["figures"]["totals_agree"] is True
    assert "| ageing (`dues bench ageing --open-items 0`) | sqlite | exit code 2 | failed | |" in suite.markdown(result)
    assert said == ["== ageing on sqlite: dues bench ageing --open-items 0",
                    "== ageing-small on sqlite: dues bench ageing --open-items 50"]
