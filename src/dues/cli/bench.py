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
