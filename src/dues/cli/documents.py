"""Getting documents in and correcting them: import, allocate, unallocate, write off, cancel."""

from __future__ import annotations

import click

from dues import clock
from dues.core.dates import parse_date
from dues.core.money import parse_amount

from .main import cli
from .output import out

KIND_NAMES = {"invoice": "invoice", "receipt": "receipt", "credit-note": "credit_note", "debit-note": "debit_note",
              "write-off": "write_off", "opening": "opening"}


def _document(company, kind: str, number: str):
    from dues.ledger.selectors import document_get

    return document_get(company=company, kind=KIND_NAMES[kind], number=number)


def _item(company, kind: str, number: str, side: str):
    from dues.core.errors import DuesError
    from dues.ledger.selectors import open_item_get

    item = open_item_get(company=company, kind=KIND_NAMES[kind], number=number)
    if item.side != side:
        raise DuesError(f"{item.document} is a {'debit' if item.side == 'D' else 'credit'}; it cannot be used here")
    return item


@cli.command("import")
@click.argument("kind", type=click.Choice(["customers", "invoices", "receipts", "credit-notes", "bank", "tally", "items",
                                           "contracts", "recurring", "deliveries"]))
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True, help="check everything and report, write nothing")
@click.option("--account", help="bank: the bank account code (default: matched by number, or the only one)")
@click.option("--format", "fmt", type=click.Choice(["auto", "csv", "xlsx", "mt940", "camt053", "ofx"]), default="auto",
              show_default=True, help="bank: statement format (camt053 also reads camt.052/054)")
@click.option("--preset", type=click.Choice(["generic", "hdfc", "icici", "sbi", "axis"]), default="generic",
              show_default=True, help="bank: CSV/XLSX column layout")
@click.option("--map", "mapping", metavar="FIELD=COLUMN,...",
              help="CSV/XLSX: which column holds each field, e.g. amount=Bill Amount,number=Bill No "
                   "(bank: date=Txn Date,credit=CR)")
@click.option("--source", metavar="NAME", help="customers/invoices/receipts/credit-notes: apply the column mapping "
                                               "saved for NAME, or a preset (busy, marg, tally-excel)")
@click.option("--save-map", is_flag=True, help="remember --map for --source NAME (after a successful import)")
@click.pass_obj
def import_cmd(obj, kind, files, dry_run, account, fmt, preset, mapping, source, save_map):
    """Import customers, invoices, receipts, credit notes, items, rate contracts, recurring charges or deliveries
    from CSV/XLSX files, bank statements, or Tally XML (masters and Day Book) exports (each all-or-nothing)."""
    from dues.integrations.importers import import_file

    if (source or save_map) and kind not in ("customers", "invoices", "receipts", "credit-notes"):
        raise click.UsageError(f"--source and --save-map are for customers, invoices, receipts and credit-notes, "
                               f"not {kind}")
    if mapping and kind in ("tally", "items", "contracts", "deliveries"):
        raise click.UsageError(f"--map is not used by import {kind}")
    company = obj.company()
    if kind == "tally":
        from .tally import import_tally_cmd

        return import_tally_cmd(obj, company, files, dry_run=dry_run)
    if kind in ("items", "contracts", "recurring", "deliveries"):
        from dues.billing.imports import import_billing_file

        for path in files:
            result = import_billing_file(kind=kind, path=path, company=company, actor=obj.user, dry_run=dry_run)
            verb = "would import" if dry_run else "imported"
            what = {"deliveries": "delivery lines", "recurring": "recurring charges"}.get(kind, kind)
            out.print(f"{verb} {result.source}: {result.rows} rows, {result.created} new {what}"
                      + (f", {result.updated} updated" if result.updated else "") + f", {result.unchanged} already there")
        return None
    if kind == "bank":
        from .bank import import_bank

        return import_bank(obj, company, files, dry_run=dry_run, account=account, fmt=fmt, preset=preset,
                           mapping=mapping)
    from dues.integrations.mapping import parse_map

    columns = parse_map(mapping)
    for path in files:
        with out.status(f"importing {path}") as status:
            result = import_file(kind=kind, path=path, company=company, actor=obj.user, dry_run=dry_run,
                                 progress=lambda phase, p=path, s=status: s.update(f"importing {p}: {phase}"),
                                 mapping=columns, source=source or "", save_map=save_map)
        for warning in result.warnings:
            out.print(f"[yellow]warning[/yellow] {warning}")
        verb = "would import" if dry_run else "imported"
        extra = f", {result.updated} updated" if kind == "customers" else ""
        out.print(f"{verb} {result.source}: {result.rows} rows, {result.created} new{extra}, "
                  f"{result.unchanged} already there")


@cli.command()
@click.argument("credit")
@click.argument("debit")
@click.argument("amount", required=False)
@click.option("--credit-kind", type=click.Choice(["receipt", "credit-note", "opening"]), default="receipt",
              show_default=True)
@click.option("--debit-kind", type=click.Choice(["invoice", "debit-note", "opening"]), default="invoice",
              show_default=True)
@click.option("--date", "on", help="effective date (default today)")
@click.pass_obj
def allocate(obj, credit, debit, amount, credit_kind, debit_kind, on):
    """Apply on-account money (CREDIT, a receipt number) to an invoice (DEBIT); AMOUNT defaults to all it can."""
    from dues.ledger.services import allocation_create

    company = obj.company()
    c = _item(company, credit_kind, credit, "C")
    d = _item(company, debit_kind, debit, "D")
    value = parse_amount(amount) if amount else min(c.residual, d.residual)
    a = allocation_create(credit_item=c, debit_item=d, amount=value, on=parse_date(on) if on else clock.today(),
                          actor=obj.user)
    out.print(f"allocation {a.pk}: {a.amount} of {credit} to {debit}, effective {a.effective_date.isoformat()}")


@cli.command()
@click.argument("allocation_id", type=int)
@click.option("--reason", required=True)
@click.option("--date", "on", help="date of the reversal (default today)")
@click.pass_obj
def unallocate(obj, allocation_id, reason, on):
    """Undo an allocation by a reversing allocation."""
    from dues.core.errors import DuesError
    from dues.ledger.models import Allocation
    from dues.ledger.services import allocation_reverse

    company = obj.company()
    try:
        allocation = Allocation.objects.get(company=company, pk=allocation_id)
    except Allocation.DoesNotExist:
        raise DuesError(f"no allocation {allocation_id}") from None
    rev = allocation_reverse(allocation=allocation, on=parse_date(on) if on else clock.today(), reason=reason,
                             actor=obj.user)
    out.print(f"allocation {allocation_id} undone by {rev.pk}, effective {rev.effective_date.isoformat()}")


@cli.command("write-off")
@click.argument("invoice")
@click.option("--amount", help="how much to write off (default: all that is outstanding)")
@click.option("--number", help="write-off document number (default WO-<invoice>)")
@click.option("--reason", required=True)
@click.option("--date", "on", help="date of the write-off (default today)")
@click.pass_obj
def write_off(obj, invoice, amount, number, reason, on):
    """Write off what is left on an invoice to bad debts."""
    from dues.ledger.models import Document
    from dues.ledger.services import DocumentDraft, document_post

    company = obj.company()
    item = _item(company, "invoice", invoice, "D")
    doc = item.document
    value = parse_amount(amount) if amount else item.residual
    wo = document_post(DocumentDraft(kind=Document.WRITE_OFF, number=number or f"WO-{invoice}", customer=doc.customer,
                                     date=parse_date(on) if on else clock.today(), amount=value, description=reason,
                                     allocations=[(invoice, value)]), company=company, actor=obj.user)
    out.print(f"written off {wo.amount} of {invoice} ({wo.number})")


@cli.command()
@click.argument("kind", type=click.Choice(list(KIND_NAMES)))
@click.argument("number")
@click.option("--reason", required=True)
@click.option("--date", "on", help="date of the reversal (default today)")
@click.pass_obj
def cancel(obj, kind, number, reason, on):
    """Cancel a posted document: its allocations are undone and a reversal entry is posted."""
    from dues.ledger.services import document_cancel

    company = obj.company()
    doc = _document(company, kind, number)
    entry = document_cancel(document=doc, on=parse_date(on) if on else clock.today(), reason=reason, actor=obj.user)
    out.print(f"cancelled {doc}: reversal entry {entry.pk} dated {entry.date.isoformat()}")
