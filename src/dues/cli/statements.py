"""Statements of account as PDF: one customer, or every customer with a balance."""

from __future__ import annotations

from pathlib import Path

import click

from dues import clock
from dues.core.dates import parse_date
from dues.messaging.statements import statement_filename, statement_send

from .main import cli
from .output import money_text, out


def _period(company, date_from: str | None, date_to: str | None):

    from dues.core.dates import fiscal_year
    from dues.core.errors import DuesError

    end = parse_date(date_to) if date_to else clock.today()
    start = parse_date(date_from) if date_from else fiscal_year(end, company.fy_start_month,
                                                                 company.fy_start_day).start
    if start > end:
        raise DuesError(f"--from {start.isoformat()} is after --to {end.isoformat()}")
    return start, end


@cli.command()
@click.argument("customer_code", metavar="[CUSTOMER]", required=False)
@click.option("--all", "every", is_flag=True, help="every customer with a balance on --to (one PDF each)")
@click.option("--from", "date_from", metavar="DATE", help="period start (default: start of the financial year of --to)")
@click.option("--to", "date_to", metavar="DATE", help="period end and the date of the ageing (default today)")
@click.option("-o", "--output", "target", type=click.Path(),
              help="the PDF file (one customer; default statement-CODE-DATE.pdf) or the folder (--all; "
                   "default statements-DATE)")
@click.option("--email", is_flag=True,
              help="e-mail each statement to the customer (DUES_SMTP_URL; without it .eml files go to the outbox); "
                   "files are then written only with -o")
@click.option("--quiet", is_flag=True, help="no progress bar")
@click.pass_obj
def statement(obj, customer_code, every, date_from, date_to, target, email, quiet):
    """Statement of account as PDF: opening balance, every transaction with running balance,
    closing balance, ageing, open items and a UPI QR code for the total due (set DUES_UPI_VPA).

    \b
      dues statement C001 --from 2026-04-01 --to 2026-11-30 -o C001.pdf
      dues statement --all --to 2026-11-30 -o statements/
      dues statement --all --to 2026-11-30 --email
    """
    from dues.core.errors import DuesError
    from dues.documents.statements import render_statement, statement_data

    if every == bool(customer_code):
        raise click.UsageError("give a CUSTOMER code or --all (not both)")
    company = obj.company()
    start, end = _period(company, date_from, date_to)
    if not every:
        from .reports import _customer

        customer = _customer(company, customer_code)
        data = statement_data(company, customer, start, end)
        pdf = render_statement(company, customer, start, end, data=data)
        said = (f"{customer.code} {customer.name}, {start.strftime('%d-%m-%Y')} to {end.strftime('%d-%m-%Y')}, "
                f"closing balance {money_text(data.statement.closing, company.locale)}")
        if target or not email:
            path = Path(target or statement_filename(customer, end))
            if path.is_dir():
                path = path / statement_filename(customer, end)
            path.write_bytes(pdf)
            out.print(f"wrote {path}: {said}", markup=False)
        if email:
            from dues.messaging.transports import EmailTransport

            transport = EmailTransport()
            try:
                note = statement_send(transport, company, customer, start, end, data.total_due, pdf,
                                      actor=obj.user)
            finally:
                transport.close()
            out.print(f"e-mailed the statement of {said}: {note}", markup=False)
        return

    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from dues.customers.models import Customer
    from dues.documents.render_pool import render_statements
    from dues.reporting.selectors import ageing

    folder = Path(target or f"statements-{end.isoformat()}") if target or not email else None
    if folder:
        if folder.exists() and not folder.is_dir():
            raise DuesError(f"{folder} is a file: --all writes one PDF per customer into a folder")
        folder.mkdir(parents=True, exist_ok=True)
    balances = {r.key: r.total for r in ageing(company=company, as_of=end).rows if r.total != 0}
    customers = list(Customer.objects.filter(company=company, code__in=list(balances))
                     .prefetch_related("contacts").order_by("code"))
    total = sum(balances.values(), start=0)
    from .errors import err

    transport, sent, failed = None, 0, []
    if email:
        from dues.messaging.transports import EmailTransport

        transport = EmailTransport()
    with Progress(TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), console=err, disable=quiet, transient=True) as progress:
        task = progress.add_task("statements", total=len(customers))
        # the figures are read here, the PDFs drawn ahead in worker processes (DUES_RENDER_WORKERS)
        for customer, pdf in render_statements(company, end, [(c, start) for c in customers]):
            progress.update(task, description=f"statement {escape(customer.code)}")
            if folder:
                (folder / statement_filename(customer, end)).write_bytes(pdf)
            if transport:
                try:
                    statement_send(transport, company, customer, start, end, balances[customer.code], pdf,
                                   actor=obj.user)
                    sent += 1
                except Exception as exc:  # noqa: BLE001 - one customer's failure must not stop the others
                    failed.append(f"{customer.code}: {exc}")
            progress.advance(task)
    if transport:
        transport.close()
    period = f"{start.strftime('%d-%m-%Y')} to {end.strftime('%d-%m-%Y')}"
    summary = f"{len(customers)} customer(s) with a balance on {end.strftime('%d-%m-%Y')}, total " \
              f"{money_text(total, company.locale)}"
    if folder:
        out.print(f"wrote {len(customers)} statement(s) for {period} to {folder}/: {summary}", markup=False)
    if transport:
        out.print(f"e-mailed {sent} statement(s) for {period}: {summary}", markup=False)
        for problem in failed:
            err.print(f"not sent: {problem}", markup=False)
        if failed:
            return 1
