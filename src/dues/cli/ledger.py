"""``dues ledger``: the general ledger's own reports (the trial balance)."""

from __future__ import annotations

from decimal import Decimal

import click

from dues import clock
from dues.core.dates import parse_date

from .main import cli
from .output import money_text, out, print_json, table, write_csv


@cli.group("ledger")
def ledger() -> None:
    """The general ledger: trial balance."""


@ledger.command("trial-balance")
@click.option("--as-of", "as_of", help="entries dated up to and including this day, YYYY-MM-DD (default today)")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.option("-o", "--output", "output", metavar="FILE", help="write JSON or CSV to FILE")
@click.pass_obj
def trial_balance_cmd(obj, as_of, fmt, output):
    """Every GL account with its debit and credit totals as of --as-of, and whether debits equal credits
    (exit 1 when they do not).
    """
    from dues.cli.errors import err
    from dues.ledger.selectors import trial_balance

    company = obj.company()
    day = parse_date(as_of) if as_of else clock.today()
    tb = trial_balance(company=company, as_of=day)
    if fmt == "json":
        print_json(tb.as_json(), output)
    elif fmt == "csv":
        def two(x):  # a number with two decimals; text would be escaped as a formula when negative
            return Decimal(f"{x:.2f}")

        rows = [[r.code, r.name, two(r.debit), two(r.credit)] for r in tb.rows]
        rows.append(["", "Total", two(tb.debit), two(tb.credit)])
        write_csv(["code", "name", "debit", "credit"], rows, output)
    else:
        loc = company.locale

        def side(value):
            return "" if not value else f"{money_text(abs(value), loc)} {'Dr' if value > 0 else 'Cr'}"

        rows = [[r.code, r.name, money_text(r.debit, loc), money_text(r.credit, loc), side(r.balance)]
                for r in tb.rows]
        rows.append(["", "Total", money_text(tb.debit, loc), money_text(tb.credit, loc), side(tb.difference)])
        table(f"Trial balance of {company.name} as of {day:%d-%m-%Y}", ["code", "account", "debit", "credit",
                                                                          "balance"], rows, right=[2, 3, 4])
        if tb.balanced:
            out.print(f"debits equal credits: {money_text(tb.debit, loc)}")
    if not tb.balanced:
        err.print(f"[red]error[/red] the trial balance does not balance: debits {tb.debit:.2f}, credits "
                  f"{tb.credit:.2f}, difference {tb.difference:.2f}")
        return 1
    return 0
