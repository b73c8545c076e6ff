"""``dues bench``: benchmarks on a fresh database (``dues --db URL bench ...``); see bench/README.md."""

from __future__ import annotations

import json

import click

from .main import cli
from .output import print_json, table


def _fresh_company(obj):
    """Set up the (empty) database given with --db; refuse one that already has books in it."""
    from dues.bench.workload import require_fresh
    from dues.companies.services import company_init

    from .books import migrate

    migrate()
    require_fresh()
    company, _ = company_init(name="Benchmark Traders Pvt Ltd", state_code="27", actor=obj.user)
    return company


def _progress(quiet: bool):
    from .errors import err

    def say(message: str) -> None:
        if not quiet:
            err.print(f"[dim]bench: {message}[/dim]")

    return say


def _show(title: str, result: dict, fmt: str) -> None:
    if fmt == "json":
        print_json(result)
        return
    rows = []
    for key, value in result.items():
        if isinstance(value, list):
            value = "; ".join(str(v) for v in value) or "-"
        rows.append([key, value])
    table(title, ["figure", "value"], rows, right=[1])


@cli.group()
def bench():
    """Benchmarks. Each writes synthetic books, so give it a new, empty database with --db."""


@bench.command("ageing")
@click.option("--open-items", "open_items", type=click.IntRange(min=1), default=100_000, show_default=True,
              help="open items (plus about twice as many settled ones)")
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--quiet", is_flag=True, help="no progress messages on stderr")
@click.pass_obj
def bench_ageing(obj, open_items, seed, fmt, quiet):
    """Ageing by customer of N open items, timed against DuckDB computing it on the same rows.

    Exits 1 if the two disagree anywhere (any customer, any bucket, to the paisa).
    """
    from dues.bench import ageing

    company = _fresh_company(obj)
    result = ageing.run(company=company, open_items=open_items, seed=seed, progress=_progress(quiet))
    _show(f"Ageing benchmark: {open_items:,} open items on {result['database']}", result, fmt)
    if not result["totals_agree"]:
        from .errors import err

        err.print("[red]error[/red] the selector and DuckDB disagree: " + "; ".join(result["mismatches"][:5]))
        return 1
    return 0


@bench.command("posting")
@click.option("--documents", type=click.IntRange(min=10), default=20_000, show_default=True,
              help="documents to import (60% invoices, 40% receipts)")
@click.option("--singles", type=click.IntRange(min=1), default=200, show_default=True,
              help="single receipts to post one at a time, for the latency")
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--quiet", is_flag=True, help="no progress messages on stderr")
@click.pass_obj
def bench_posting(obj, documents, singles, seed, fmt, quiet):
    """Documents per second through the import path, and one receipt's posting latency."""
    from dues.bench import posting

    company = _fresh_company(obj)
    result = posting.run(company=company, documents=documents, seed=seed, singles=singles,
                         progress=_progress(quiet))
    _show(f"Posting benchmark: {documents:,} documents on {result['database']}", result, fmt)
    return 0


@bench.command("web")
@click.option("--customers", type=click.IntRange(min=1), default=100_000, show_default=True,
              help="customers in the generated book (about 4 documents each)")
@click.option("--runs", type=click.IntRange(min=1), default=20, show_default=True, help="timed fetches per page")
@click.option("--keep", is_flag=True,
              help="reuse the book a previous run left in this database (build it if the database is empty)")
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--quiet", is_flag=True, help="no progress messages on stderr")
@click.pass_obj
def bench_web(obj, customers, runs, keep, seed, fmt, quiet):
    """Server time of every main page (Django test client) on a book of N customers, against 200 ms.

    Pages not built yet are listed as skipped. Missed targets are reported, not failed on.
    """
    from dues.bench import web

    reuse = False
    if keep:
        from dues.companies.models import Company
        from dues.customers.models import Customer

        from .books import migrate

        migrate()
        company = Company.objects.order_by("id").first()
        reuse = company is not None and Customer.objects.filter(company=company).exists()
    if not reuse:
        company = _fresh_company(obj)
    result = web.run(company=company, customers=customers, seed=seed, runs=runs, reuse=reuse,
                     progress=_progress(quiet))
    if fmt == "json":
        print_json(result)
        return 0
    rows = [[p["page"], p["url"], p["status"], p["median_ms"], p["p95_ms"], p["queries"],
             "yes" if p["met"] else "NO"] for p in result["pages"]]
    table(f"Web benchmark: {result['customers']:,} customers, {result['documents']:,} documents on "
          f"{result['database']} (server time, {runs} runs per page, target {result['target_ms']} ms)",
          ["page", "url", "status", "median ms", "p95 ms", "queries", "met"], rows, right=[2, 3, 4, 5])
    from .errors import err

    if result["pages_skipped"]:
        err.print("not built yet, skipped: " + ", ".join(result["pages_skipped"]))
    return 0


@bench.command("cash-apply")
@click.option("--lines", type=click.IntRange(min=1), default=2_000, show_default=True, help="bank credits to match")
@click.option("--open-items", "open_items", type=click.IntRange(min=10), default=40_000, show_default=True,
              help="open invoices (about 20 per customer)")
@click.option("--threshold", type=click.FloatRange(0, 1), default=0.95, show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--mix", type=click.Choice(["classic", "india"]), default="classic", show_default=True,
              help="classic: the first generator; india: part payments citing the invoice, bank-charge and TDS "
                   "shorts in their real variety, abbreviated payer names, twin invoices, each reported by kind")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--quiet", is_flag=True, help="no progress messages on stderr")
@click.pass_obj
def bench_cash_apply(obj, lines, open_items, threshold, seed, mix, fmt, quiet):
    """The matching engine on generated Indian bank credits with ground truth (in memory, no database)."""
    from dues.bench import cash_apply

    result = cash_apply.run(lines=lines, open_items=open_items, seed=seed, threshold=threshold, mix=mix,
                            progress=_progress(quiet))
    _show(f"Cash-application benchmark: {lines:,} lines against {open_items:,} open items", result, fmt)
    return 0


@bench.command("collect")
@click.option("--customers", type=click.IntRange(min=1), default=500, show_default=True,
              help="customers with overdue invoices, each sent a statement of account as a PDF")
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--quiet", is_flag=True, help="no progress messages on stderr")
@click.pass_obj
def bench_collect(obj, customers, seed, fmt, quiet):
    """A dunning run over N customers, statements attached as PDF, e-mailed to an in-process SMTP sink.

    Reports customers per second and statement PDFs per second (target 50 a second); a missed target
    is reported, not failed on.
    """
    from dues.bench import collect

    company = _fresh_company(obj)
    result = collect.run(company=company, customers=customers, seed=seed, progress=_progress(quiet))
    _show(f"Collections benchmark: {customers:,} customers on {result['database']}", result, fmt)
    return 1 if result["failed"] else 0


@bench.command("billing")
@click.option("--lines", type=click.IntRange(min=10), default=10_000, show_default=True,
              help="delivery lines to bill (one to four a challan)")
@click.option("--pdfs", type=click.IntRange(min=1), default=200, show_default=True,
              help="drafts to approve and render as tax invoice PDFs")
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--quiet", is_flag=True, help="no progress messages on stderr")
@click.pass_obj
def bench_billing(obj, lines, pdfs, seed, fmt, quiet):
    """Bill-run throughput (draft invoices per second at N delivery lines) and tax invoice PDFs per second."""
    from dues.bench import billing

    company = _fresh_company(obj)
    result = billing.run(company=company, lines=lines, pdfs=pdfs, seed=seed, progress=_progress(quiet))
    _show(f"Billing benchmark: {lines:,} delivery lines on {result['database']}", result, fmt)
    return 0


@bench.command("demo-web")
@click.option("--runs", type=click.IntRange(min=1), default=20, show_default=True, help="timed fetches per page")
@click.option("--role", "roles", multiple=True, help="demo login(s) to time as (default: every demo login)")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--quiet", is_flag=True, help="no progress messages on stderr")
@click.pass_obj
def bench_demo_web(obj, runs, roles, fmt, quiet):
    """Every page of the demo as each demo login, on the demo's books: p50 and p95 against 300 ms.

    Run it on the demo's database (dues --db sqlite:///var/demo.sqlite3 bench demo-web); it only reads.
    Exits 1 if a page misses the target.
    """
    import os

    from dues.bench import demo_web

    from .books import migrate

    migrate()
    if hasattr(os, "getloadavg"):
        from .errors import err

        err.print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (wall times include waiting for one)")
    result = demo_web.run(runs=runs, roles=tuple(roles) or demo_web.ROLE_USERS, progress=_progress(quiet))
    if fmt == "json":
        print_json(result)
    else:
        rows = [[p["role"], p["page"], p["url"], p["status"], p["median_ms"], p["p95_ms"], p["cpu_p95_ms"], p["queries"],
                 p["verdict"]]
                for p in result["pages"] if p["verdict"] not in ("skipped", "not allowed")]
        table(f"Demo web benchmark on {result['database']}: {result['pages_measured']} page views, {runs} runs each "
              f"(server time; target p95 <= {result['target_ms']} ms)",
              ["role", "page", "url", "status", "p50 ms", "p95 ms", "cpu p95 ms", "queries", "p95 target"], rows,
              right=[3, 4, 5, 6, 7])
        from .errors import err

        skipped = sorted({p["page"] for p in result["pages"] if p["verdict"] == "skipped"})
        if skipped:
            err.print("not in this desk, skipped: " + ", ".join(skipped))
        if result["roles_missing"]:
            err.print("no such login here: " + ", ".join(result["roles_missing"]))
        err.print(f"slowest p95 {result['slowest_p95_ms']} ms; "
                  + (f"over target: {', '.join(result['failed'])}" if result["failed"] else "every page within target"))
    return 1 if result["failed"] else 0


@bench.command("all")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default="bench-results.json",
              show_default=True, help="the JSON file every figure is written to")
@click.option("--markdown", "markdown_path", type=click.Path(dir_okay=False, writable=True),
              help="also write the figures as a Markdown table (what docs/performance.md shows)")
@click.option("--only", type=click.Choice(["sqlite", "postgresql"]), help="run on one kind of database only")
@click.option("--pg", "pg_server", default="postgresql://postgres@127.0.0.1:5432", show_default=True,
              help="PostgreSQL server (no database name): a scratch database is made and dropped for each benchmark")
@click.option("--open-items", "open_items", type=click.IntRange(min=1), default=1_000_000, show_default=True)
@click.option("--small-open-items", "small_open_items", type=click.IntRange(min=1), default=2_500,
              show_default=True, help="the small book's open items (it has twice as many settled invoices)")
@click.option("--documents", type=click.IntRange(min=10), default=20_000, show_default=True)
@click.option("--customers", type=click.IntRange(min=1), default=100_000, show_default=True)
@click.option("--web-runs", "web_runs", type=click.IntRange(min=1), default=20, show_default=True,
              help="timed fetches per page in the web benchmark")
@click.option("--cash-lines", "cash_lines", type=click.IntRange(min=1), default=10_000, show_default=True)
@click.option("--cash-open-items", "cash_open_items", type=click.IntRange(min=10), default=1_000_000,
              show_default=True)
@click.option("--quiet", is_flag=True, help="no progress messages on stderr")
def bench_all(output, markdown_path, only, pg_server, open_items, small_open_items, documents, customers, cash_lines,
              cash_open_items, web_runs, quiet):
    """Every benchmark, each on a new scratch database, on SQLite and PostgreSQL; one JSON file of the figures.

    Prints each figure beside its baseline (DuckDB on the same rows, measured in the same run) and its target.
    Exits 1 if a benchmark failed or a cross-check disagreed; a missed speed target is reported, not failed on.
    """
    from pathlib import Path

    from dues.bench import suite

    from .errors import err
    from .output import out

    sizes = suite.Sizes(open_items=open_items, small_open_items=small_open_items, documents=documents,
                        customers=customers, cash_lines=cash_lines, cash_open_items=cash_open_items, web_runs=web_runs)
    databases = [only] if only else ["sqlite", "postgresql"]
    result = suite.run(sizes=sizes, databases=databases, pg_server=pg_server, quiet=quiet,
                       say=lambda message: None if quiet else err.print(f"[bold]{message}[/bold]"))
    Path(output).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    table_text = suite.markdown(result)
    if markdown_path:
        Path(markdown_path).write_text(table_text, encoding="utf-8")
    out.print(table_text, markup=False, highlight=False)
    for note in result["skipped"]:
        err.print(f"[yellow]skipped[/yellow] {note}")
    out.print(f"figures written to {output} ({result['seconds']:,.0f} s in all)", markup=False, highlight=False)
    if result["failed"]:
        err.print("[red]error[/red] failed: " + "; ".join(result["failed"]))
        return 1
    return 0
