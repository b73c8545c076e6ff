"""``dues close month``: the month-end checks, the close pack, and the period lock."""

from __future__ import annotations

import click

from .main import cli
from .output import print_json, table


@cli.group("close")
def close() -> None:
    """Month-end close: check the books, print the close pack, lock the period."""


@close.command("month")
@click.argument("month", metavar="YYYY-MM")
@click.option("--lock", is_flag=True, help="lock the period through the month end when every check passes")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "xlsx", "pdf"]), default="table",
              show_default=True)
@click.option("-o", "--output", "output", metavar="FILE", help="write to FILE (required for xlsx and pdf)")
@click.pass_obj
def month(obj, month, lock, fmt, output):
    """Check MONTH: AR sub-ledger = AR control, bank lines applied or explained, unapplied cash,
    bank reconciliations tie, audit chain intact. Exits 1 naming the failing checks when one fails
    (with or without --lock), so a scheduled close can alert. With --lock, lock the period when all
    pass (refused when one fails).
    """
    from dues.core.errors import DuesError
    from dues.reconciliation import close as closing

    company = obj.company()
    result = closing.close_month(company=company, month=month)
    if fmt == "json":
        print_json(result.as_json(), output)
    elif fmt in ("xlsx", "pdf"):
        if not output:
            raise DuesError(f"--format {fmt} needs -o FILE")
        (closing.write_xlsx if fmt == "xlsx" else closing.write_pdf)(result, output, company_name=company.name)
        click.echo(f"wrote {output}")
    else:
        table(f"Month-end close {result.month} ({result.start:%d-%m-%Y} to {result.end:%d-%m-%Y})",
              ["check", "result", "message"],
              [[c.title, "pass" if c.ok else "FAIL", c.message] for c in result.checks])
        for c in result.checks:
            if c.items and c.name != "bank_reconciliation":
                keys = list(c.items[0])
                table(c.title, keys, [[i[k] for k in keys] for i in c.items[:50]])
                if len(c.items) > 50:
                    click.echo(f"... and {len(c.items) - 50} more (the full list: --format json, xlsx or pdf)")
    if lock:
        locked, moved = closing.close_month_lock(company=company, result=result, actor=obj.user)
        click.echo(f"locked through {result.end:%d-%m-%Y}" if moved else
                   f"already locked through {locked.lock_date:%d-%m-%Y}", err=fmt == "json" and not output)
    if not result.ok:  # exit 1 so that a scheduled close alerts
        from .errors import err

        err.print(f"[red]error[/red] {result.month} does not close: check(s) failed: " + ", ".join(
            f"{c.name} ({c.message})" for c in result.checks if not c.ok))
        return 1
    return 0
