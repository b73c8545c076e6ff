"""``dues bench``: benchmarks on a fresh database (``dues --db URL bench ...``); see bench/README.md."""

from __future__ import annotations

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
