"""Ageing and outstanding, as tables, JSON, CSV or Excel."""

from __future__ import annotations

import sys

import click

from dues import clock
from dues.core.dates import parse_date

from .main import cli
from .output import money_text, print_json, table, write_csv

FORMATS = ["table", "json", "csv", "xlsx"]


def _as_of(value: str | None):

    return parse_date(value) if value else clock.today()


@cli.command()
@click.option("--as-of", "as_of", help="date of the report, YYYY-MM-DD (default today)")
@click.option("--basis", type=click.Choice(["due", "invoice"]), default="due", show_default=True)
@click.option("--buckets", default="30,60,90,120", show_default=True, help="bucket upper bounds in days")
@click.option("--by", type=click.Choice(["customer", "salesperson", "region", "segment"]), default="customer",
              show_default=True)
@click.option("--customer", "customer_code", help="only this customer (code)")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("-o", "--output", "target", type=click.Path(dir_okay=False), help="write to this file")
@click.pass_obj
def ageing(obj, as_of, basis, buckets, by, customer_code, fmt, target):
    """Outstanding by age bucket, exactly as the ledger stood on --as-of."""
    from dues.core.ageing import parse_cutoffs
    from dues.core.errors import DuesError
    from dues.reporting.selectors import ageing as ageing_report

    company = obj.company()
    try:
        cutoffs = parse_cutoffs(buckets)
    except ValueError as exc:
        raise DuesError(str(exc)) from exc
    customer = _customer(company, customer_code) if customer_code else None
    report = ageing_report(company=company, as_of=_as_of(as_of), basis=basis, cutoffs=cutoffs, by=by,
                           customer=customer)
    data = report.as_dict()
    if fmt == "json":
        print_json(data, target)
        return
    # "disputed" is "of which under dispute": part of the total, not added to it
    header = [by, "name", *report.columns, "unapplied", "total", "disputed"]
    rows = [[r["key"], r["name"], *[r["buckets"][c] for c in report.columns], r["unapplied"], r["total"],
             r["disputed"]] for r in data["rows"]]
    totals = ["TOTAL", "", *[data["totals"]["buckets"][c] for c in report.columns], data["totals"]["unapplied"],
              data["totals"]["total"], data["totals"]["disputed"]]
    money_cols = list(range(2, len(header)))
    if fmt == "csv":
        from dues.reporting.exports import ageing_csv

        text = ageing_csv(report, target)
        if not target:
            sys.stdout.write(text)
    elif fmt == "xlsx":
        if not target:
            raise click.UsageError("--format xlsx needs -o FILE.xlsx")
        from dues.reporting.exports import ageing_xlsx

        ageing_xlsx(report, target, locale=company.locale, company=company.name, cutoffs=cutoffs)
    else:
        from decimal import Decimal

        fmt_row = [[*r[:2], *[money_text(Decimal(v), company.locale) for v in r[2:]]] for r in rows + [totals]]
        table(f"Ageing as of {report.as_of.strftime('%d-%m-%Y')} ({basis} date basis, {report.currency})",
              header, fmt_row, right=money_cols)


def _customer(company, code):
    from dues.core.errors import DuesError
    from dues.customers.models import Customer

    try:
        return Customer.objects.get(company=company, code=code)
    except Customer.DoesNotExist:
        raise DuesError(f"no customer {code}") from None


@cli.command()
@click.argument("customer_code", metavar="CUSTOMER")
@click.option("--as-of", "as_of", help="date, YYYY-MM-DD (default today)")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.pass_obj
def outstanding(obj, customer_code, as_of, fmt):
    """A customer's open invoices (with days overdue) and unapplied credits on a date."""
    from dues.reporting.selectors import outstanding as outstanding_items

    company = obj.company()
    customer = _customer(company, customer_code)
    when = _as_of(as_of)
    items = outstanding_items(company=company, customer=customer, as_of=when)
    rows = [{"number": i.number, "kind": i.kind, "date": i.date.isoformat(), "due_date": i.due_date.isoformat(),
             "amount": str(i.amount), "residual": str(i.residual if i.side == "D" else -i.residual),
             "days_overdue": i.days_overdue} for i in items]
    total = sum((i.residual if i.side == "D" else -i.residual for i in items), start=0)
    if fmt == "json":
        print_json({"customer": customer.code, "name": customer.name, "as_of": when.isoformat(),
                    "currency": company.currency, "items": rows, "total": f"{total:.2f}"})
        return
    header = ["number", "kind", "date", "due date", "amount", "residual", "days overdue"]
    if fmt == "csv":
        # amounts as numbers (Decimal), so a negative residual stays a number and only text is escaped
        write_csv(header, [[i.number, i.kind, i.date.isoformat(), i.due_date.isoformat(), i.amount,
                            i.residual if i.side == "D" else -i.residual, i.days_overdue] for i in items], None)
        return
    from decimal import Decimal

    table(f"{customer.code} {customer.name}: outstanding on {when.strftime('%d-%m-%Y')} "
          f"(total {money_text(Decimal(total), company.locale)})", header,
          [[r["number"], r["kind"].replace("_", " "), parse_date(r["date"]).strftime("%d-%m-%Y"),
            parse_date(r["due_date"]).strftime("%d-%m-%Y"), money_text(Decimal(r["amount"]), company.locale),
            money_text(Decimal(r["residual"]), company.locale), r["days_overdue"]] for r in rows], right=[4, 5, 6])


@cli.group("ageing-summary")
def ageing_summary():
    """The ageing summary: each customer's buckets kept for the whole-book ageing (docs/performance.md)."""


@ageing_summary.command("build")
@click.option("--as-of", "as_of", help="date, YYYY-MM-DD (default today)")
@click.option("--basis", type=click.Choice(["due", "invoice"]), default="due", show_default=True)
@click.option("--buckets", default="30,60,90,120", show_default=True, help="bucket upper bounds in days")
@click.pass_obj
def ageing_summary_build(obj, as_of, basis, buckets):
    """Create the summary, or bring it up to date (the job worker does this every minute)."""
    from dues.core.ageing import parse_cutoffs
    from dues.core.errors import DuesError
    from dues.reporting import summary

    try:
        cutoffs = parse_cutoffs(buckets)
    except ValueError as exc:
        raise DuesError(str(exc)) from exc
    done = summary.refresh(obj.company(), as_of=_as_of(as_of), basis=basis, cutoffs=cutoffs)
    click.echo(f"{done.outcome}: {done.customers:,} customer rows written, {done.changes:,} changes taken in, "
               f"as of {done.as_of.isoformat()}, {done.seconds:.2f} s")


@ageing_summary.command("status")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def ageing_summary_status(obj, fmt):
    """The summary's date, basis and buckets, its customer rows and the changes waiting for a refresh."""
    from dues.reporting import summary

    state = summary.status(obj.company())
    if fmt == "json":
        print_json(state)
        return
    if not state["exists"]:
        click.echo("no ageing summary: the whole-book ageing reads the ledger (`dues ageing-summary build`)")
        return
    table("Ageing summary", ["as of", "basis", "buckets", "customer rows", "changes waiting", "built", "refreshed", "triggers"],
          [[state["as_of"] or "-", state["basis"] or "-", state["buckets"] or "-", f"{state['rows']:,}",
            f"{state['changes']:,}", state["built_at"] or "-", state["refreshed_at"] or "-",
            "in place" if state["triggers"] else "MISSING"]], right=(3, 4))


@ageing_summary.command("drop")
@click.pass_obj
def ageing_summary_drop(obj):
    """Remove the summary: the ageing reads the ledger again, and the triggers stop recording changes."""
    from dues.reporting import summary

    click.echo("dropped" if summary.drop(obj.company()) else "there was no ageing summary")
