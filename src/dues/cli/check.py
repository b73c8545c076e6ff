"""``dues check outstanding``: another system's bill-wise outstanding file against dues, to the paisa."""

from __future__ import annotations

import sys

import click

from .main import cli
from .tally import print_check


@cli.group("check")
def check() -> None:
    """Check dues against another system's reports (for Tally XML see dues tally check)."""


@check.command("outstanding")
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@click.option("--source", default="", metavar="NAME",
              help="a preset (busy, marg, tally-excel) or a mapping saved with dues import ... --save-map")
@click.option("--map", "mapping", metavar="FIELD=COLUMN,...",
              help="the file's columns for customer, number, date, amount (on top of --source)")
@click.option("--as-of", "as_of", metavar="DATE", help="dues' open items on this date (default today)")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def check_outstanding_cmd(obj, file, source, mapping, as_of, fmt):
    """Per customer and per bill: the file's pending amounts against dues' open items (exit 1 on a difference)."""
    from dues import clock
    from dues.core.dates import parse_date
    from dues.integrations.mapping import parse_map
    from dues.integrations.outstanding import check_outstanding

    report = check_outstanding(path=file, company=obj.company(), source=source, mapping=parse_map(mapping) or None,
                               as_of=parse_date(as_of) if as_of else clock.today())
    sys.exit(print_check(report, fmt))
