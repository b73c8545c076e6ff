"""Tally: ``dues import tally`` (called from ``dues import``), ``dues tally check`` and ``dues customers``."""

from __future__ import annotations

import sys

import click

from .main import cli
from .output import out, print_json, table


def _money(x) -> str:
    from dues.core.money import indian_grouping

    return indian_grouping(x)


def print_check(report, fmt: str = "table") -> int:
    """The per-customer agreement report (with Tally, or with an outstanding file: ``report.source``);
    returns 0 when every customer agrees, else 1."""
    src = report.source
    if fmt == "json":
        doc = {"agrees": report.agrees, "customers": [c.as_dict() for c in report.customers]}
        if report.as_of is not None:
            doc = {"as_of": report.as_of.isoformat(), **doc}
        print_json(doc)
        return 0 if report.agrees else 1
    if not report.customers:
        out.print(f"agreement with {src}: no debtor ledgers in these files" if src == "Tally"
                  else f"agreement with {src}: nothing outstanding on either side")
        return 0
    rows = [(c.code or "(not in dues)", c.ledger if c.ledger != c.code else "", _money(c.theirs), _money(c.ours), _money(c.difference),
             "agrees" if c.agrees else "DIFFERS") for c in report.customers]
    table(report.title, ["customer", f"{src} ledger" if src == "Tally" else f"{src} party", src, "dues",
                         "difference", ""], rows, right=(2, 3, 4))
    for c in report.differences():
        who = c.code or c.ledger
        for bill, t, o in c.bills:
            if o is None:
                out.print(f"  {who}: bill {bill}: missing in dues ({src} {_money(t)})")
            elif t is None:
                out.print(f"  {who}: bill {bill}: missing in the file (dues {_money(o)})")
            else:
                out.print(f"  {who}: bill {bill}: {src} {_money(t)}, dues {_money(o)}")
    n = len(report.differences())
    them = src if src == "Tally" else f"the {src}"
    out.print(f"every customer agrees with {them} to the paisa" if n == 0
              else f"[red]{n} customer(s) differ from {them}[/red]")
    return 0 if n == 0 else 1


def import_tally_cmd(obj, company, files, *, dry_run: bool) -> None:
    from dues.integrations.tally.importer import import_tally

    with out.status("importing from Tally") as status:
        r = import_tally(paths=files, company=company, actor=obj.user, dry_run=dry_run,
                         progress=lambda phase: status.update(f"Tally: {phase}"))
    for w in r.warnings:
        out.print(f"[yellow]warning[/yellow] {w}")
    verb = "would import" if dry_run else "imported"
    out.print(f"{verb} {', '.join(r.files)}: customers {r.customers_created} new, {r.customers_updated} updated, "
              f"{r.customers_unchanged} unchanged; {r.openings} opening bills; vouchers {r.vouchers_posted} posted, "
              f"{r.vouchers_replaced} replaced (a higher ALTERID), {r.vouchers_reversed} reversed (cancelled in Tally), "
              f"{r.vouchers_unchanged} already there, {r.own} sent from dues, {r.ignored} cancelled/optional ignored, "
              f"{r.not_debtors} touching no debtor; {r.documents} documents")
    for ledger, n in sorted(r.unknown_parties.items()):
        out.print(f"[yellow]skipped[/yellow] {n} voucher(s) of ledger {ledger!r}: not in any masters imported "
                  "(import the masters export with the Day Book to know whether it is a debtor)")
    if r.check is not None:
        print_check(r.check)


@cli.group()
def tally() -> None:
    """TallyPrime / Tally.ERP 9: check dues against Tally exports."""


@tally.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, exists=True))
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def tally_check(obj, files, fmt):
    """Per customer: our residual against the bill-wise outstanding these Tally files imply (exit 1 on a difference)."""
    from dues.integrations.tally.check import check_files

    sys.exit(print_check(check_files(paths=files, company=obj.company()), fmt))


@cli.command("customers")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def customers_cmd(obj, fmt):
    """The customers: code, name, GSTIN, state code, credit days and limit, collector and salesperson."""
    from dues.customers.models import Customer
    from dues.users.permissions import customers_visible

    qs = customers_visible(obj.user, Customer.objects.filter(company=obj.company())).order_by("code")
    rows = [{"code": c.code, "name": c.name, "gstin": c.gstin, "state_code": c.state_code,
             "credit_days": c.credit_days, "credit_limit": None if c.credit_limit is None else f"{c.credit_limit:.2f}",
             "collector": c.collector, "salesperson": c.salesperson} for c in qs]
    if fmt == "json":
        print_json(rows)
        return
    table(f"Customers ({len(rows)})", ["code", "name", "GSTIN", "state", "credit days", "credit limit", "collector",
                                        "salesperson"],
          [(r["code"], r["name"], r["gstin"], r["state_code"], "" if r["credit_days"] is None else r["credit_days"],
            "" if r["credit_limit"] is None else _money(c_limit(r)), r["collector"], r["salesperson"]) for r in rows],
          right=(4, 5))


def c_limit(row):
    from decimal import Decimal

    return Decimal(row["credit_limit"])


@cli.group("export")
def export_group() -> None:
    """Export to other systems."""


@export_group.command("tally")
@click.option("--from", "start", required=True, help="first date (documents dated from it)")
@click.option("--to", "end", required=True, help="last date")
@click.option("-o", "--output", "target", required=True, type=click.Path(dir_okay=False), help="the XML file to write")
@click.option("--again", is_flag=True, help="include documents exported before")
@click.option("--ledger", "ledgers", multiple=True, metavar="ROLE=NAME",
              help="the Tally ledger for bank, tds, charges, discount, sales_returns, interest, cgst, sgst, igst "
                   "(remembered)")
@click.pass_obj
def export_tally_cmd(obj, start, end, target, again, ledgers):
    """Receipts, credit notes and interest debit notes made in dues as a Tally import XML (each exported once)."""
    from dues.core.dates import parse_date
    from dues.core.errors import DuesError
    from dues.integrations.tally.export import export_tally

    changes = {}
    for item in ledgers:
        role, sep, name = item.partition("=")
        if not sep or not name.strip():
            raise DuesError(f"--ledger: {item!r} is not ROLE=NAME")
        changes[role.strip()] = name.strip()
    r = export_tally(company=obj.company(), start=parse_date(start), end=parse_date(end), path=target,
                     actor=obj.user, again=again, ledgers=changes)
    out.print(f"wrote {len(r.documents)} voucher(s) to {r.path}"
              + (f"; {r.skipped_already} exported before (--again to include them)" if r.skipped_already else ""))


@cli.group("sync")
def sync_group() -> None:
    """Keep dues in step with another system, live."""


@sync_group.command("tally")
@click.option("--url", default="http://localhost:9000", show_default=True, help="TallyPrime's XML server")
@click.option("--company", "tally_company", default="", help="the Tally company (when several are open)")
@click.option("--from", "start", help="with --to: a full re-export (Day Book) of the period instead of what changed")
@click.option("--to", "end", help="last date of the period")
@click.option("--confirm-deletions", is_flag=True,
              help="reverse the vouchers of the period that Tally no longer has (else they are only listed)")
@click.option("--no-push", is_flag=True, help="only pull from Tally")
@click.option("--timeout", type=float, default=30.0, show_default=True, help="seconds to wait for Tally")
@click.pass_obj
def sync_tally_cmd(obj, url, tally_company, start, end, confirm_deletions, no_push, timeout):
    """Pull masters and vouchers changed in Tally since the last sync; push receipts and notes not yet exported."""
    from dues.core.dates import parse_date
    from dues.integrations.tally.live import reverse_deleted, sync_tally

    start_d, end_d = (parse_date(start) if start else None), (parse_date(end) if end else None)
    interactive = start_d is not None and not confirm_deletions and sys.stdin.isatty()
    company = obj.company()
    with out.status(f"syncing with Tally at {url}"):
        r = sync_tally(company=company, url=url, tally_company=tally_company, actor=obj.user, start=start_d,
                       end=end_d, confirm_deletions=confirm_deletions, push=not no_push, timeout=timeout)
    i = r.imported
    out.print(f"pulled {r.pulled_masters} master(s) and {r.pulled_vouchers} voucher(s) from {r.url}"
              + (f": vouchers {i.vouchers_posted} posted, {i.vouchers_replaced} replaced, {i.vouchers_reversed} "
                 f"reversed, {i.vouchers_unchanged} already there; {i.documents} documents" if i else ""))
    if i is not None:
        for w in i.warnings:
            out.print(f"[yellow]warning[/yellow] {w}")
    if r.deleted:
        verb = "reversed" if r.deletions_reversed else "no longer in Tally"
        out.print(f"{len(r.deleted)} voucher(s) imported for {start} to {end} {verb}:")
        for tv in r.deleted:
            out.print(f"  {tv.vchtype} {tv.number or '(no number)'} of {tv.date} (GUID {tv.guid})")
        if not r.deletions_reversed:
            if interactive and click.confirm("reverse them in dues?", default=False):
                reverse_deleted(company, r.deleted, actor=obj.user, reason=f"deleted in Tally ({r.url})")
                out.print(f"reversed {len(r.deleted)} voucher(s)")
            else:
                out.print("run again with --confirm-deletions to reverse them")
    out.print(f"pushed {len(r.pushed)} document(s) to Tally" + (": " + ", ".join(r.pushed) if r.pushed else ""))
    for label, error in r.refused.items():
        out.print(f"[red]refused by Tally[/red] {label}: {error} (not marked exported; sent again next time)")
    if r.refused:
        sys.exit(1)
