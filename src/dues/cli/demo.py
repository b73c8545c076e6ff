"""The demo company and the web server."""

from __future__ import annotations

import os
from datetime import timedelta

import click

from dues import clock

from .main import cli
from .output import money_text, out


def is_loopback(host: str) -> bool:
    """Whether an address to bind to is reachable from this machine only."""
    import ipaddress

    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it resolves to whatever the network says
        return False


def plain_http_warning(host: str) -> str | None:
    """The one warning `dues serve` gives when other machines can reach it over plain HTTP (no DUES_HTTPS=1).

    Binding to loopback, or with DUES_HTTPS=1 (a TLS proxy in front), there is nothing to say. Otherwise the
    warning says the traffic is unencrypted, and names DUES_ALLOWED_HOSTS when the host names the app
    answers to would turn away the clients (Django answers 400 Bad Request to a Host it does not know).
    """
    from django.conf import settings

    if is_loopback(host) or settings.HTTPS:
        return None
    lines = [f"warning: serving plain HTTP on {host}, reachable from other machines: passwords and session "
             "cookies cross the network unencrypted. Serve it through a TLS proxy and set DUES_HTTPS=1 "
             "(docs/configuration.md, \"Security\")."]
    named = host not in ("0.0.0.0", "::", "[::]")
    if not os.environ.get("DUES_ALLOWED_HOSTS", "").strip():
        lines.append("  DUES_ALLOWED_HOSTS is not set: the app answers to 127.0.0.1 and localhost only; set it to "
                     "the names or addresses clients use" + (f" (e.g. DUES_ALLOWED_HOSTS={host})" if named else ""))
    elif named and not _host_allowed(host, settings.ALLOWED_HOSTS):
        lines.append(f"  {host} is not in DUES_ALLOWED_HOSTS: requests to http://{host}/ are refused (400)")
    return "\n".join(lines)


def _host_allowed(host: str, allowed: list[str]) -> bool:
    from django.utils.http import is_same_domain

    return any(pattern == "*" or is_same_domain(host.lower(), pattern.lower()) for pattern in allowed)


def run_server(host: str, port: int, threads: int = 8) -> None:
    """Collect the static files and serve the web app with waitress until Ctrl+C."""
    from django.contrib.staticfiles.management.commands.collectstatic import Command  # noqa: F401
    from django.core.management import call_command
    from waitress import serve as waitress_serve

    from dues.wsgi import application

    call_command("collectstatic", interactive=False, verbosity=0)
    warning = plain_http_warning(host)
    if warning:
        click.echo(warning, err=True)
    out.print(f"dues web app on http://{host}:{port}/  (Ctrl+C to stop)")
    waitress_serve(application, host=host, port=port, threads=threads)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--threads", default=8, show_default=True)
def serve(host, port, threads):
    """Run the web app (waitress WSGI server)."""
    run_server(host, port, threads)


@cli.command()
@click.option("--customers", default=300, show_default=True, type=click.IntRange(1, 100_000),
              help="how many customers")
@click.option("--seed", default=7, show_default=True, help="random seed (the same seed gives the same books)")
@click.option("--today", help="last day of the demo year, YYYY-MM-DD (default today)")
@click.option("--no-serve", is_flag=True, help="build the books and stop (do not start the web app)")
@click.option("--reset", is_flag=True,
              help="allow replacing a database that is not the demo's (SQLite: deleted; others must be empty)")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.pass_obj
def demo(obj, customers, seed, today, no_serve, reset, host, port):
    """Build a demo company (a fresh database each run: sqlite:///$DUES_HOME/demo.sqlite3 unless --db) and serve it.

    A year of an Indian industrial distributor's receivables: customers across states, GST
    invoices, receipts (late, partial, with TDS and bank charges), credit notes, write-offs,
    opening balances, cancellations, all posted through the same services as real work.
    """
    import time

    from django.conf import settings
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from dues.core.dates import parse_date
    from dues.core.errors import DuesError
    from dues.demo.generator import ADMIN_PASSWORD, ADMIN_USER, build_demo, demo_summary, plan_demo, prepare_database

    try:
        as_of = parse_date(today) if today else clock.today()
    except ValueError as exc:
        raise DuesError(f"--today: {exc}") from exc
    began = time.perf_counter()
    where = prepare_database(reset=reset)
    plan = plan_demo(customers=customers, seed=seed, today=as_of)
    out.print(f"building the demo books in {where}: {len(plan.customers)} customers, "
              f"{plan.start.strftime('%d-%m-%Y')} to {as_of.strftime('%d-%m-%Y')}, seed {seed}")
    columns = (TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=out, transient=False) as progress:
        task = progress.add_task("starting", total=plan.steps)
        company = build_demo(plan, actor=obj.user,
                             advance=lambda n, what: progress.update(task, advance=n, description=what))
        progress.update(task, description="done")
    from dues.reporting.summary import refresh

    refresh(company, as_of=as_of)  # the whole-book ageing's summary, kept by the worker from here on
    seconds = time.perf_counter() - began
    summary = demo_summary(company, as_of)
    # a SQLite URL is safe to print; another URL may carry a password
    url = settings.DATABASE_URL if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3") else None
    _print_summary(company, summary, as_of, seconds, url)
    out.print(f"\nweb login: [bold]{ADMIN_USER}[/bold] / [bold]{ADMIN_PASSWORD}[/bold]")
    link = _demo_portal_link(company, obj.user, f"http://{host}:{port}")
    if link:
        out.print(f"customer portal of {link[0]} (no login, 30 days): {link[1]}", soft_wrap=True)
    token = _demo_api_token(obj.user)
    out.print(f"API token for {ADMIN_USER} (Authorization: Bearer …): {token}", soft_wrap=True, markup=False)
    if link:
        from urllib.parse import quote

        out.print(f"  curl -H 'Authorization: Bearer {token}' "
                  f"http://{host}:{port}/api/v1/customers/{quote(link[0], safe='')}/open-items",
                  soft_wrap=True, markup=False)
    if not no_serve:
        from dues.cli.jobs import spawn_worker
        from dues.jobs.services import schedules_demo

        schedules_demo(obj.user)  # the worker runs beside the web app: the first daily report lands in the outbox
        worker = spawn_worker(settings.DATABASE_URL)
        try:
            run_server(host, port)
        finally:
            worker.terminate()


def _demo_portal_link(company, actor, base: str) -> tuple[str, str] | None:
    """A working portal link for the customer owing the most (or None when nobody owes anything)."""
    from django.db.models import Sum

    from dues.customers.models import Customer
    from dues.portal.links import link_create, portal_url

    customer = (Customer.objects.filter(company=company, open_items__side="D", open_items__residual__gt=0)
                .annotate(owed=Sum("open_items__residual")).order_by("-owed", "code").first())
    if customer is None:
        return None
    _link, token = link_create(customer=customer, actor=actor, days=30)
    return customer.code, portal_url(token, base)


def _demo_api_token(actor) -> str:
    """A fresh API token for the demo admin (the database is new each run, so the name is free)."""
    from dues.api.tokens import token_add
    from dues.demo.generator import ADMIN_USER

    _token, text = token_add(username=ADMIN_USER, name="demo", actor=actor)
    return text


def _print_summary(company, summary, as_of, seconds: float, db_url: str | None) -> None:
    from rich.table import Table

    def money(value) -> str:
        return money_text(value, company.locale)

    out.print(f"\n[bold]{company.name}[/bold]  GSTIN {company.gstin}  (built in {seconds:.1f} s)")
    docs = Table(title="Books", title_justify="left", header_style="bold")
    docs.add_column("what")
    docs.add_column("count", justify="right")
    docs.add_column(f"amount ({company.currency})", justify="right")
    docs.add_row("customers", str(summary.customers), "")
    docs.add_row("contacts", str(summary.contacts), "")
    for kind, n, amount in summary.documents:
        docs.add_row(kind.replace("_", " ") + "s", str(n), money(amount))
    docs.add_row("cancelled documents", str(summary.cancelled), "")
    docs.add_row("allocations", str(summary.allocations), "")
    docs.add_row("audit records", str(summary.audit_records), "")
    out.print(docs)

    report = summary.ageing
    totals = report.totals
    age = Table(title=f"Ageing as of {as_of.strftime('%d-%m-%Y')} (due date basis, {report.currency})",
                title_justify="left", header_style="bold")
    for label in [*report.columns, "unapplied", "total"]:
        age.add_column(label, justify="right")
    age.add_row(*[money(totals.buckets[c]) for c in report.columns], money(totals.unapplied), money(totals.total))
    out.print(age)

    owed = summary.outstanding - summary.unapplied
    share = summary.overdue / owed * 100 if owed else 0
    out.print(f"outstanding [bold]{money(summary.outstanding)}[/bold] (net of unapplied credits "
              f"{money(summary.unapplied)}); overdue {money(summary.overdue)} ({share:.0f}% of what is owed)")
    for rec in summary.banks:
        cheques = sum(1 for b in rec.in_transit if b.amount > 0)
        out.print(f"bank {rec.account.code}: {len(rec.matched)} receipts cleared by the bank, {cheques} deposited "
                  f"and not yet cleared, {len(rec.bank_only)} bank line(s) not in the book (for the cash "
                  f"workbench); the reconciliation {'ties' if rec.ties else 'does NOT tie'} "
                  f"(book {money(rec.book_balance)}, bank {money(rec.bank_balance)})")
    prefix = f"dues --db {db_url}" if db_url else "dues"
    out.print("\ntry next:" if db_url else "\ntry next (with the same --db or DUES_DATABASE_URL):")
    month = as_of.replace(day=1) - timedelta(days=1)
    for command in ("ageing", "ageing --by salesperson", "outstanding C0001", "audit verify",
                    f"reconcile bank --account BANK1 --as-of {as_of.isoformat()}", f"close month {month:%Y-%m}",
                    "ledger trial-balance"):
        out.print(f"  {prefix} {command}")
