"""Overdue interest and escalation from the command line."""

from __future__ import annotations

from datetime import timedelta

import click

from dues import clock
from dues.core.dates import parse_date

from .main import cli
from .output import money_text, out, print_json, table


def _customer(company, code: str):
    from dues.core.errors import DuesError
    from dues.customers.models import Customer

    customer = Customer.objects.filter(company=company, code=code.strip()).first()
    if customer is None:
        raise DuesError(f"no customer {code!r}")
    return customer


def _day(value: str | None):

    return parse_date(value) if value else clock.today()


@cli.command("interest")
@click.argument("customer_code")
@click.option("--date", "on", help="interest up to and including this day, YYYY-MM-DD (default today)")
@click.option("--terms", metavar="TERMS",
              help="first set the customer's own terms: none, msmed, simple:18, compound:12 (per cent a year; "
                   "add :due_date to charge the whole amount from the due date), or policy (back to the policy's)")
@click.option("--from", "start", help="count no day before this one, YYYY-MM-DD (default: the day after the last "
                                     "interest charged, else each item's due date)")
@click.option("--post", "do_post", is_flag=True, help="charge it: post a debit note for the interest")
@click.option("--number", help="the debit note's number (default INT-<code>-<yyyymmdd>)")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def interest_cmd(obj, customer_code, on, start, terms, do_post, number, fmt):
    """Overdue interest a customer owes up to --date, item by item (and post it with --post).

    Terms come from the customer's collections settings, else their dunning policy. The MSMED
    preset is three times the RBI bank rate (DUES_RBI_BANK_RATE), compounded monthly.
    """
    from dues.collections.services.interest import (
        customer_interest_update,
        interest_compute,
        interest_label,
        interest_post,
    )

    company = obj.company()
    customer = _customer(company, customer_code)
    day = _day(on)
    first = parse_date(start) if start else None
    if terms:
        mode, _, rest = terms.strip().lower().partition(":")
        rate, _, basis = rest.partition(":")
        if mode == "policy":
            mode = ""
        if rate in ("reducing", "due_date"):
            rate, basis = "", rate
        customer_interest_update(customer=customer, actor=obj.user, mode=mode, rate=rate or None, basis=basis)
    document = None
    if do_post:
        document, computed = interest_post(company=company, customer=customer, on=day, actor=obj.user, number=number,
                                           start=first)
    else:
        computed = interest_compute(company, customer, day, start=first)
    if fmt == "json":
        data = computed.as_json()
        data["posted"] = document.number if document else None
        if document:
            data["debit_note"] = {"number": document.number, "amount": f"{document.amount:.2f}",
                                  "interest": f"{document.taxable_value:.2f}", "cgst": f"{document.cgst:.2f}",
                                  "sgst": f"{document.sgst:.2f}", "igst": f"{document.igst:.2f}"}
        print_json(data)
        return 0
    if computed.terms is None:
        out.print(f"{customer.code} {customer.name}: no interest terms (set them with --terms, or on the policy)")
        return 0
    t = computed.terms
    title = (f"Interest of {customer.code} {customer.name} to {day.strftime('%d-%m-%Y')} at {t.annual_rate.normalize():f}% a year, "
             f"{interest_label(t)}" + (f"; from {(computed.since + timedelta(days=1)).strftime('%d-%m-%Y')}"
                                       if computed.since else ""))
    rows = [[i.number, i.due_date.strftime("%d-%m-%Y"), money_text(i.amount, company.locale),
             money_text(i.residual, company.locale), i.result.days, money_text(i.interest, company.locale)]
            for i in computed.items if i.interest]
    if rows:
        table(title, ["item", "due", "amount", "outstanding", "days", "interest"], rows, right=[2, 3, 4, 5])
    out.print(f"interest due: {money_text(computed.total, company.locale)}" if rows else f"{title}: nothing due")
    if document:
        tax = document.cgst + document.sgst + document.igst
        out.print(f"posted debit note {document.number} for {money_text(document.amount, company.locale)}"
                  + (f" (interest {money_text(document.taxable_value, company.locale)} + GST "
                     f"{money_text(tax, company.locale)})" if tax else ""))
    return 0


@cli.command("escalate")
@click.argument("customer_code")
@click.option("--to", "to", type=click.Choice(["manager", "ar_manager", "legal"]), required=True)
@click.option("--reason", required=True, help="why the account goes up")
@click.option("--date", "on", help="the day, YYYY-MM-DD (default today)")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False), help="write the case history PDF here")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def escalate_cmd(obj, customer_code, to, reason, on, output, fmt):
    """Escalate a customer to the AR manager or legal, with the case history as one PDF (-o)."""
    from pathlib import Path

    from dues.collections.case_file import render_case_history
    from dues.collections.services.escalation import escalate

    company = obj.company()
    customer = _customer(company, customer_code)
    day = _day(on)
    escalation = escalate(customer=customer, to=to, reason=reason, actor=obj.user, on=day)
    path = None
    if output:
        path = Path(output)
        path.write_bytes(render_case_history(company, customer, day))
    if fmt == "json":
        print_json({"customer": customer.code, "to": escalation.to, "reason": escalation.reason,
                    "overdue": f"{escalation.overdue:.2f}", "on": day.isoformat(), "id": escalation.pk,
                    "case_history": str(path) if path else None})
        return 0
    out.print(f"{customer.code} {customer.name} escalated to {escalation.get_to_display()} "
              f"({money_text(escalation.overdue, company.locale)} overdue)")
    if path:
        out.print(f"case history written to {path}")
    return 0
