"""Collections from the command line: the daily dunning run."""

from __future__ import annotations

import click

from dues.core.dates import parse_date

from .main import cli
from .output import money_text, out, print_json, table


@cli.group()
def collect():
    """Collections: the daily dunning run (reminders, statements, escalations, tasks)."""


@collect.command("run")
@click.option("--date", "on", help="run for this date, YYYY-MM-DD (default today)")
@click.option("--dry-run", is_flag=True, help="show what would go out; create and send nothing")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def collect_run_cmd(obj, on, dry_run, fmt):
    """Evaluate every customer's dunning policy for --date and send what is due, once.

    Idempotent: a second run for the same date (or a run after a crash) sends nothing twice; failed
    messages are retried. E-mail goes through DUES_SMTP_URL, or to $DUES_HOME/outbox/ as .eml files.
    """
    from django.utils import timezone

    from dues.collections.services import collect_run

    company = obj.company()
    day = parse_date(on) if on else timezone.localdate()
    result = collect_run(company=company, on=day, dry_run=dry_run, actor=obj.user)
    if fmt == "json":
        print_json([a.as_json() for a in result.actions])
        return 1 if result.count("failed") else 0
    rows = [[a.customer, a.step, a.channel.replace("_", " "), ", ".join(a.items), money_text(a.amount, company.locale),
             a.status, a.reason] for a in result.actions]
    title = f"Dunning run for {day.strftime('%d-%m-%Y')}{' (dry run: nothing sent)' if dry_run else ''}"
    if rows:
        table(title, ["customer", "step", "channel", "items", "amount", "status", "reason"], rows, right=[4])
    else:
        out.print(f"{title}: nothing due")
    counts = ", ".join(f"{result.count(s)} {s}" for s in ("sent", "pending", "failed", "skipped") if result.count(s))
    if counts:
        out.print(counts)
    return 1 if result.count("failed") else 0


@collect.command("hold")
@click.argument("customer_code")
@click.option("--off", is_flag=True, help="take the customer off hold (dunning resumes)")
@click.option("--reason", default="", help="why (shown in the customer's collections settings)")
@click.pass_obj
def collect_hold_cmd(obj, customer_code, off, reason):
    """Put a customer on hold from dunning (no automatic messages), or take them off it with --off."""
    from dues.collections.services import customer_collections_update
    from dues.core.errors import DuesError
    from dues.customers.models import Customer

    company = obj.company()
    customer = Customer.objects.filter(company=company, code=customer_code).first()
    if customer is None:
        raise DuesError(f"no customer {customer_code!r}")
    profile = customer_collections_update(customer=customer, actor=obj.user, hold=not off,
                                          hold_reason="" if off else reason)
    state = "on hold from dunning" if profile.dunning_hold else "no longer on hold: dunning resumes"
    out.print(f"{customer.code} {customer.name}: {state}{f' ({profile.hold_reason})' if profile.hold_reason else ''}")
