"""The credit check for Sales and Dispatch: may this customer take an order of this amount, before goods leave?"""

from __future__ import annotations

import click

from dues import clock
from dues.core.dates import parse_date

from .main import cli
from .output import money_text, out, print_json, table


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


def _customer(company, code):
    from dues.billing.selectors import customer_by_code

    return customer_by_code(company=company, code=code)


@credit_group.command("hold")
@click.argument("code")
@click.option("--reason", required=True, help="why the customer is held (told to the salesperson)")
@click.pass_obj
def credit_hold_cmd(obj, code, reason):
    """Put a customer on a manual credit hold: the credit check blocks it until released."""
    from dues.credit.holds import hold_place

    hold = hold_place(customer=_customer(obj.company(), code), reason=reason, actor=obj.user)
    out.print(f"{hold.customer.code} on credit hold: {hold.reason}")


@credit_group.command("release")
@click.argument("code")
@click.option("--reason", required=True, help="why the hold is lifted")
@click.option("--until", "until", required=True, help="the release lasts until this day; then the rule applies again")
@click.pass_obj
def credit_release_cmd(obj, code, reason, until):
    """Release a customer's credit hold until a date (an AR manager or admin)."""
    from dues.credit.holds import hold_release

    hold = hold_release(customer=_customer(obj.company(), code), reason=reason, until=parse_date(until), actor=obj.user)
    out.print(f"{hold.customer.code} released until {hold.release_until:%d %b %Y}: {hold.release_reason}")


@credit_group.command("holds")
@click.option("--refresh", is_flag=True, help="first run the automatic rule (what the daily job does)")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def credit_holds_cmd(obj, refresh, fmt):
    """The customers on credit hold, oldest hold first."""
    from dues.credit.holds import holds_refresh
    from dues.credit.selectors import open_holds

    company = obj.company()
    placed = holds_refresh(company, on=clock.today(), actor=obj.user) if refresh else []
    rows = [{"customer": h.customer.code, "name": h.customer.name, "kind": h.kind, "reason": h.reason,
             "placed_at": h.placed_at.isoformat(), "placed_by": h.placed_by, "salesperson": h.customer.salesperson}
            for h in open_holds(company)]
    if fmt == "json":
        print_json(rows)
        return
    if refresh:
        out.print(f"{len(placed)} automatic hold(s) placed")
    table("Credit holds", ["customer", "name", "kind", "placed", "by", "reason"],
          [(r["customer"], r["name"], r["kind"], r["placed_at"][:10], r["placed_by"], r["reason"]) for r in rows])


@credit_group.command("group")
@click.argument("segment")
@click.option("--limit", "limit", default="", help="the group's credit limit (empty: none)")
@click.option("--overdue-days", default="", help="days past due a member's invoice may be (empty: the billing setting)")
@click.pass_obj
def credit_group_cmd(obj, segment, limit, overdue_days):
    """Set the credit group of the customers whose segment is SEGMENT: a shared limit and allowed overdue days."""
    from dues.credit.holds import group_set

    g = group_set(company=obj.company(), segment=segment, credit_limit=limit, overdue_days_allowed=overdue_days,
                  actor=obj.user)
    out.print(f"credit group {g.segment}: limit {'none' if g.credit_limit is None else g.credit_limit}, "
              f"overdue days {'billing setting' if g.overdue_days_allowed is None else g.overdue_days_allowed}")


@credit_group.command("review")
@click.option("--date", "on", help="as of D (default today)")
@click.option("--approve", "approve", metavar="CODE", help="set CODE's credit limit to the suggested one (or --limit)")
@click.option("--reject", "reject", metavar="CODE", help="record that CODE's suggested limit is not taken")
@click.option("--limit", "limit", default="", help="with --approve: the new limit instead of the suggested one")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def credit_review_cmd(obj, on, approve, reject, limit, fmt):
    """Customers using 80 % or more of their credit limit: use now and at the last 6 month ends, peak exposure,
    days paid late, a suggested new limit (docs/credit.md)."""
    from dues.core.errors import DuesError
    from dues.credit.holds import limit_review_decide
    from dues.credit.selectors import review

    company = obj.company()
    day = parse_date(on) if on else clock.today()
    rows = review(company, day)
    if approve or reject:
        code = approve or reject
        row = next((r for r in rows if r.code.lower() == code.lower()), None)
        if approve and row is None and not limit:
            raise DuesError(f"customer {code} is not on the review list: give --limit")
        customer = _customer(company, code)
        new = limit or (row.suggested if row else "")
        limit_review_decide(customer=customer, approve=bool(approve), new_limit=new, actor=obj.user)
        out.print(f"{customer.code}: " + (f"credit limit set to {money_text(customer.credit_limit, company.locale)}"
                                          if approve else "suggestion rejected"))
        return
    if fmt == "json":
        print_json([r.as_dict() for r in rows])
        return
    table(f"Credit review as of {day:%d %b %Y}", ["customer", "name", "limit", "exposure", "use", "trend", "days late",
                                                  "suggested", "hold"],
          [(r.code, r.name, money_text(r.limit, company.locale), money_text(r.exposure, company.locale),
            f"{r.use_percent}%", " ".join(f"{int(u * 100)}" for _, u in r.trend),
            "-" if r.days_late is None else f"{r.days_late:.0f}", money_text(r.suggested, company.locale),
            "on hold" if r.on_hold else "") for r in rows], right=(2, 3, 4, 7))
