"""``dues reconcile customer``: a customer's ledger of us against ours, every difference explained."""

from __future__ import annotations

import click

from .main import cli
from .output import money_text, print_json, table


@cli.group("reconcile")
def reconcile() -> None:
    """Reconciliations: a customer's ledger of us against ours (ledger clearance); the bank book against the bank."""


@reconcile.command("customer")
@click.argument("code")
@click.argument("their_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--as-of", "as_of", required=True, metavar="DATE", help="cut-off date (YYYY-MM-DD or DD-MM-YYYY)")
@click.option("--preset", type=click.Choice(["tally", "busy", "sap"]), help="column layout of a common export")
@click.option("--map", "mapping", metavar="FIELD=COLUMN,...",
              help="their columns: date=,ref=,narration=,debit=,credit= (or amount=,drcr=; type=); "
                   "for Tally XML ledger=NAME")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "xlsx", "pdf"]), default="table",
              show_default=True)
@click.option("-o", "--output", "output", metavar="FILE", help="write to FILE (required for xlsx and pdf)")
@click.pass_obj
def customer(obj, code, their_file, as_of, preset, mapping, fmt, output):
    """Reconcile customer CODE's ledger of us (THEIR_FILE: CSV/XLSX from Tally, Busy, SAP, Excel, or Tally XML).

    Prints our balance, their balance, what matched and each difference with its kind, signed amount and
    explanation: our balance + the differences = their balance, with "unexplained" the remainder.
    """
    from dues.core.dates import parse_date
    from dues.core.errors import DuesError
    from dues.reconciliation.selectors import reconcile_customer

    rec = reconcile_customer(company=obj.company(), code=code, their_file=their_file, as_of=parse_date(as_of),
                             preset=preset, mapping=mapping)
    if fmt == "json":
        print_json(rec.as_json(), output)
        return 0
    if fmt in ("xlsx", "pdf"):
        if not output:
            raise DuesError(f"--format {fmt} needs -o FILE")
        from dues.reconciliation import exports

        (exports.write_xlsx if fmt == "xlsx" else exports.write_pdf)(rec, output)
        click.echo(f"wrote {output}")
        return 0
    from dues.core.reconcile import summary_lines

    r = rec.result
    table(f"Ledger reconciliation {code} as of {r.as_of.isoformat()} ({rec.source})", ["", "amount"],
          [[label, money_text(v)] for label, v in summary_lines(r)], right=[1])
    if r.differences:
        table(f"{len(r.differences)} difference(s)", ["kind", "ours", "theirs", "amount", "explanation"],
              [[d.kind, d.ours or "-", d.theirs or "-", money_text(d.amount), d.explanation] for d in r.differences],
              right=[3])
    click.echo(f"{len(r.matched)} matched; unexplained {money_text(r.unexplained)}")
    return 0


@reconcile.command("bank")
@click.option("--account", "account", required=True, metavar="CODE", help="the bank account (dues bank accounts)")
@click.option("--as-of", "as_of", required=True, metavar="DATE", help="reconcile as of (YYYY-MM-DD or DD-MM-YYYY)")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "xlsx"]), default="table", show_default=True)
@click.option("-o", "--output", "output", metavar="FILE", help="write to FILE (required for xlsx)")
@click.pass_obj
def bank(obj, account, as_of, fmt, output):
    """The bank book against the bank's statement lines: matched, not yet cleared, not in the book,
    and the bank reconciliation statement tying book balance to bank balance (exit 1 when it does not tie).
    """
    from dues.core.dates import parse_date
    from dues.core.errors import DuesError
    from dues.reconciliation.bank import bank_reconciliation

    rec = bank_reconciliation(company=obj.company(), account=account, as_of=parse_date(as_of))
    if fmt == "json":
        print_json(rec.as_json(), output)
    elif fmt == "xlsx":
        if not output:
            raise DuesError("--format xlsx needs -o FILE")
        from dues.reconciliation.bank import write_xlsx

        write_xlsx(rec, output)
        click.echo(f"wrote {output}")
    else:
        table(f"Bank reconciliation {rec.account.code} as of {rec.as_of.isoformat()}", ["", "amount"],
              [[label, money_text(v)] for label, v in rec.statement_lines()], right=[1])
        if rec.book_only:
            table("In the book, not in the bank", ["date", "document", "reference", "amount"],
                  [[b.date.isoformat(), b.number, b.reference, money_text(b.amount)] for b in rec.book_only],
                  right=[3])
        if rec.bank_only:
            table("In the bank, not in the book", ["date", "kind", "reference", "amount", "narration"],
                  [[b.date.isoformat(), b.kind, b.reference, money_text(b.amount), b.narration[:60]]
                   for b in rec.bank_only], right=[3])
        for warning in rec.warnings:
            click.echo(f"warning: {warning}", err=True)
        click.echo(f"{len(rec.matched)} matched; unexplained {money_text(rec.unexplained)}")
    return 0 if rec.ties else 1


# `dues bench reconcile` joins the bench group from here (the engine's benchmark needs no database)
from .bench import _show, bench  # noqa: E402


@bench.command("reconcile")
@click.option("--entries", type=click.IntRange(min=10), default=10_000, show_default=True,
              help="entries per side (invoices, receipts, TDS)")
@click.option("--rate", type=click.FloatRange(0, 0.5), default=0.05, show_default=True,
              help="share of entries perturbed (missing, mismatched, TDS, timing, duplicate, split, combined)")
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def bench_reconcile(entries, rate, seed, fmt):
    """Ledger clearance on a seeded pair of ledgers with planted differences: accuracy and seconds.

    Runs the matching engine in memory (nothing is written; --db is not needed).
    """
    from dues.bench.reconcile import run

    _show(f"Ledger reconciliation, {entries:,} entries per side", run(entries, seed, rate), fmt)
    return 0
