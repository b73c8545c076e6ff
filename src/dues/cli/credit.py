"""The credit check for Sales and Dispatch: may this customer take an order of this amount, before goods leave?"""

from __future__ import annotations

import click

from dues import clock
from dues.core.dates import parse_date

from .main import cli
from .output import money_text, out, print_json


@cli.group("credit")
def credit_group():
    """Credit control: the check billing approval, orders and dispatches make."""


@credit_group.command("check")
@click.argument("code")
@click.option("--amount", default="0", show_default=True, help='the order or dispatch value ("1,50,000" accepted)')
@click.option("--date", "on", help="check as of D (default today)")
@click.option("--overdue-days", type=click.IntRange(min=0), default=None,
              help="days past due an invoice may be (default: the billing setting overdue_days_allowed)")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def credit_check_cmd(obj, code, amount, on, overdue_days, fmt):
    """Allowed or blocked, with the reasons and the figures (exposure = outstanding + this amount, against the
    credit limit; the oldest overdue invoice against the allowed days). Exit 1 when blocked."""
    from dues.billing.selectors import customer_by_code
    from dues.core.money import parse_amount_input
    from dues.credit.services import check

    company = obj.company()
    customer = customer_by_code(company=company, code=code)
    value = parse_amount_input(amount, company.currency)
    decision = check(customer, value, parse_date(on) if on else clock.today(), overdue_days_allowed=overdue_days)
    if fmt == "json":
        print_json({"customer": customer.code, **decision.as_dict()})
    else:
        f = decision.figures
        out.print(f"{customer.code} {customer.name}: {'ALLOWED' if decision.allowed else 'BLOCKED'}")
        out.print(f"  outstanding {money_text(f.outstanding, company.locale)} + this {money_text(f.amount, company.locale)}"
                  f" = exposure {money_text(f.exposure, company.locale)}; credit limit "
                  + ("none" if f.limit is None else money_text(f.limit, company.locale)))
        out.print(f"  drafts awaiting approval {money_text(f.drafts, company.locale)}; overdue "
                  f"{money_text(f.overdue, company.locale)}, oldest {f.oldest_overdue_days} days "
                  f"(allowed {f.overdue_days_allowed})")
        for reason in decision.reasons:
            out.print(f"  - {reason}")
    return 0 if decision.allowed else 1
