"""``dues cash-apply``: match unapplied bank credits to customers and invoices; ``--auto`` posts the sure ones."""

from __future__ import annotations

import click

from .main import cli
from .output import print_json, table


@cli.command("cash-apply")
@click.option("--auto", is_flag=True, help="post and allocate receipts for matches at or above the threshold")
@click.option("--threshold", type=click.FloatRange(0, 1), default=0.95, show_default=True,
              help="confidence at or above which a match is applied automatically")
@click.option("--account", "account", metavar="CODE", help="only this bank account's lines")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def cash_apply(obj, auto, threshold, account, fmt):
    """Run the matching engine over unapplied bank credits (without --auto nothing is written)."""
    from dues.banking.models import BankAccount
    from dues.banking.services import cash_apply as run
    from dues.core.errors import DuesError

    company = obj.company()
    bank_account = None
    if account:
        bank_account = BankAccount.objects.filter(company=company, code=account).first()
        if bank_account is None:
            raise DuesError(f"no bank account {account!r}")
    from dues.banking.returns import bank_returns_apply

    # returned credits (cheque bounces) first, so a bounced credit is never applied; a preview only counts them
    returned = [p for p in bank_returns_apply(company, actor=obj.user, bank_account=bank_account, dry_run=not auto)
                if not p.error]
    result = run(company, auto=auto, threshold=threshold, actor=obj.user, bank_account=bank_account)
    if fmt == "json":
        data = result.as_json()
        if returned:  # an extra key only when there is something to say: the summary keys stay as they are
            data["summary"]["returned"] = len(returned)
        print_json(data)
        return 0
    rows = []
    for x in result.lines:
        allocs = ", ".join(f"{a['invoice']} {a['amount']}" for a in x.allocations) or "-"
        extra = []
        if x.tds != "0.00":
            extra.append(f"TDS {x.tds}")
        if x.charges != "0.00":
            extra.append(f"charges {x.charges}")
        if x.on_account != "0.00":
            extra.append(f"on account {x.on_account}")
        rows.append([x.date, x.reference, x.amount, x.status, x.customer or "-", allocs, "; ".join(extra) or "-",
                     f"{x.confidence:.2f}", "; ".join(x.reasons)])
    s = result.summary
    table(f"Cash application: {s['lines']} line(s), {s['applied']} applied, {s['suggested']} suggested, "
          f"{s['unmatched']} unmatched, {len(returned)} returned by the bank"
          + ("" if auto else " (preview: --auto to post)"),
          ["date", "reference", "amount", "status", "customer", "allocations", "short by", "confidence", "reasons"],
          rows, right=[2, 7])
    return 0
