"""Billing: the bill run (deliveries -> draft tax invoices), approval, the tax invoice PDF, e-invoice JSON."""

from __future__ import annotations

import json
from pathlib import Path

import click

from dues import clock
from dues.core.dates import parse_date

from .main import cli
from .output import money_text, out, print_json, table


def _draft_json(bill, deliveries: list[str]) -> dict:
    return {"number": bill.number, "draft": bill.reference, "customer": bill.customer.code,
            "date": bill.date.isoformat(), "status": bill.status, "taxable": f"{bill.taxable:.2f}",
            "cgst": f"{bill.cgst:.2f}", "sgst": f"{bill.sgst:.2f}", "igst": f"{bill.igst:.2f}",
            "round_off": f"{bill.round_off:.2f}", "total": f"{bill.total:.2f}", "deliveries": deliveries}


def _print_bills(title: str, rows: list[dict]) -> None:
    table(title, ["draft", "number", "customer", "taxable", "CGST", "SGST", "IGST", "round off", "total", "deliveries"],
          [[r["draft"], r["number"] or "", r["customer"], *(money_text(__import__("decimal").Decimal(r[k])) for k in (
              "taxable", "cgst", "sgst", "igst", "round_off", "total")), ", ".join(r["deliveries"])] for r in rows],
          right=range(3, 9))


@cli.group("bill")
def bill_group():
    """Bill runs: unbilled deliveries become draft tax invoices; approval posts them."""


@bill_group.command("run")
@click.option("--date", "on", help="bill deliveries dated up to D (default today); the drafts are dated D")
@click.option("--customer", "code", help="only this customer")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def bill_run_cmd(obj, on, code, fmt):
    """Turn every unbilled delivery up to D into DRAFT tax invoices (nothing is billed twice)."""
    from dues.billing.selectors import customer_by_code as customer_get
    from dues.billing.services import bill_run

    company = obj.company()
    customer = customer_get(company=company, code=code) if code else None
    result = bill_run(company=company, on=parse_date(on) if on else clock.today(), customer=customer, actor=obj.user)
    rows = [_draft_json(b, result.deliveries[b.pk]) for b in result.bills]
    if fmt == "json":
        print_json({"drafts": rows})
        return
    if not rows:
        out.print("nothing to bill: every delivery up to that date is billed")
        return
    _print_bills(f"{len(rows)} draft tax invoice(s), awaiting approval", rows)


@bill_group.command("recurring")
@click.option("--date", "on", help="generate the periods dated up to D (default today)")
@click.option("--customer", "code", help="only this customer")
@click.pass_obj
def bill_recurring_cmd(obj, on, code):
    """Make the unbilled delivery of every recurring-charge period up to D (once per period; the bill run
    does this itself before it drafts)."""
    from dues.billing.recurring import generate_recurring
    from dues.billing.selectors import customer_by_code as customer_get

    company = obj.company()
    customer = customer_get(company=company, code=code) if code else None
    result = generate_recurring(company=company, up_to=parse_date(on) if on else clock.today(), customer=customer,
                                actor=obj.user)
    if not result.deliveries:
        out.print("nothing to generate: every period up to that date has its delivery")
        return
    table(f"{result.count} recurring period(s), unbilled", ["delivery", "customer", "date"],
          [[d.number, d.customer.code, d.date.isoformat()] for d in result.deliveries])


@bill_group.command("list")
@click.option("--status", type=click.Choice(["draft", "approved", "rejected", "all"]), default="draft",
              show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def bill_list_cmd(obj, status, fmt):
    """The bills: drafts awaiting approval (default), approved or rejected."""
    from dues.billing.selectors import bills_list

    bills = bills_list(company=obj.company(), status=None if status == "all" else status)
    rows = [_draft_json(b, b.delivery_numbers) for b in bills]
    if fmt == "json":
        print_json({"bills": rows})
        return
    _print_bills(f"{len(rows)} bill(s)", rows)


def _to_approve(model, company, refs, every, on, override, reason, *, get, example) -> list:
    """The drafts an approve command names (``refs``) or all of them (``--all``, dated up to ``--date``)."""
    if bool(refs) == every:
        raise click.UsageError(f"give draft references ({example} ...) or --all")
    if override and not reason.strip():
        raise click.UsageError("--override needs --reason")
    if refs:
        return [get(company, r) for r in refs]
    qs = model.objects.filter(company=company, status=model.DRAFT)
    if on:
        qs = qs.filter(date__lte=parse_date(on))
    return list(qs.order_by("date", "pk"))


@bill_group.command("approve")
@click.argument("refs", nargs=-1)
@click.option("--all", "every", is_flag=True, help="every draft (dated up to --date when given)")
@click.option("--date", "on", help="with --all: only drafts dated up to D")
@click.option("--override", is_flag=True, help="approve even when the credit check refuses (AR manager, admin)")
@click.option("--reason", default="", help="why the credit hold is overridden (required with --override)")
@click.pass_obj
def bill_approve_cmd(obj, refs, every, on, override, reason):
    """Approve drafts (D-12, ...): credit check, the next invoice number, posted as a ledger invoice."""
    from dues.billing.models import Bill
    from dues.billing.services import bill_get, bills_approve
    from dues.core.errors import DuesError

    company = obj.company()
    bills = _to_approve(Bill, company, refs, every, on, override, reason, get=bill_get, example="D-12")
    if not bills:
        out.print("no drafts to approve")
        return
    result = bills_approve(company=company, bills=bills, actor=obj.user, override_reason=reason if override else "")
    for b in result.approved:
        out.print(f"approved {b.reference} as invoice {b.number}: {b.customer.code} {money_text(b.total)}"
                  + (f" (credit hold overridden: {b.reason})" if b.reason else ""))
    for r in result.refused:
        f = r.decision.figures
        limit = "none" if f.limit is None else money_text(f.limit)
        out.print(f"[red]held[/red] {r.bill.reference} {r.bill.customer.code} {money_text(r.bill.total)}: "
                  + "; ".join(r.decision.reasons)
                  + f" (credit limit {limit}, outstanding {money_text(f.outstanding)}, other drafts "
                    f"{money_text(f.drafts)}, this invoice {money_text(f.amount)}, exposure {money_text(f.exposure)})",
                  markup=True)
    if result.refused:
        raise DuesError(f"{len(result.refused)} draft(s) held on credit; approve them with --override --reason R "
                        "(AR manager or admin)")


@bill_group.command("reject")
@click.argument("ref")
@click.option("--reason", required=True)
@click.pass_obj
def bill_reject_cmd(obj, ref, reason):
    """Reject a draft: it is kept as rejected and its deliveries are unbilled again."""
    from dues.billing.services import bill_get, bill_reject

    bill = bill_reject(bill=bill_get(obj.company(), ref), reason=reason, actor=obj.user)
    out.print(f"rejected {bill.reference}: {bill.reason}")


@bill_group.command("settings")
@click.option("--set", "pairs", multiple=True, metavar="KEY=VALUE",
              help="prefix (e.g. INV/{fy}/), credit_note_prefix (CN/{fy}/), debit_note_prefix (DN/{fy}/), "
                   "four_eyes (on|off), overdue_days_allowed, gst_slabs (0,5,12,18,28), upi_vpa, address, city, pin, "
                   "bank_details, turnover (empty: not given), einvoice_window_threshold, einvoice_window_days "
                   "(0: none), einvoice_warn_days")
@click.pass_obj
def bill_settings_cmd(obj, pairs):
    """Show or change the billing settings; audited."""
    from dues.billing.services import billing_settings, billing_settings_set

    company = obj.company()
    if pairs:
        values = {}
        for pair in pairs:
            key, sep, value = pair.partition("=")
            if not sep:
                raise click.UsageError(f"--set takes KEY=VALUE, got {pair!r}")
            values[key.strip()] = value.strip()
        billing_settings_set(company=company, values=values, actor=obj.user)
    s = billing_settings(company)
    for key, value in s.audit_state().items():
        out.print(f"{key}: {value}")


@bill_group.command("consolidate")
@click.argument("code")
@click.option("--off", is_flag=True, help="back to one invoice per delivery")
@click.pass_obj
def bill_consolidate_cmd(obj, code, off):
    """Bill a customer one invoice per purchase order (instead of one per delivery)."""
    from dues.billing.selectors import customer_by_code as customer_get
    from dues.billing.services import customer_bill_by_po

    customer = customer_get(company=obj.company(), code=code)
    customer_bill_by_po(customer=customer, on=not off, actor=obj.user)
    out.print(f"{code}: {'one invoice per delivery' if off else 'one invoice per purchase order'}")


@cli.group("invoice")
def invoice_group():
    """Tax invoices raised in dues."""


@invoice_group.command("pdf")
@click.argument("number")
@click.option("-o", "--output", "target", required=True, type=click.Path(dir_okay=False))
@click.pass_obj
def invoice_pdf_cmd(obj, number, target):
    """Write the GST tax invoice NUMBER — or a credit/debit note (its number or N-7) — as a PDF."""
    from dues.billing.notes import gst_document_get
    from dues.documents.tax_invoice import render_tax_invoice

    company = obj.company()
    bill = gst_document_get(company, number)
    Path(target).write_bytes(render_tax_invoice(company, bill))
    out.print(f"wrote {target} ({bill.label}, {bill.customer.code}, {money_text(bill.total)})")


@invoice_group.command("pdfs")
@click.option("--date", "on", required=True, help="the approved tax invoices dated D (or from D with --to)")
@click.option("--to", "until", default=None, help="the last day of the range (default: --date)")
@click.option("-o", "--output", "target", required=True, type=click.Path(file_okay=False),
              help="a folder: one PDF per invoice, named by its number")
@click.pass_obj
def invoice_pdfs_cmd(obj, on, until, target):
    """Write every approved tax invoice of a day (or a range) as PDFs into a folder, for printing or e-mailing:
    drawn in worker processes (DUES_RENDER_WORKERS, default one per core)."""
    import time

    from dues.billing.models import Bill
    from dues.documents.tax_invoice import render_tax_invoices

    company = obj.company()
    start_day = parse_date(on)
    end_day = parse_date(until) if until else start_day
    if end_day < start_day:
        raise click.UsageError("--to is before --date")
    bills = list(Bill.objects.filter(company=company, status=Bill.APPROVED, date__gte=start_day, date__lte=end_day)
                 .select_related("customer").prefetch_related("lines").order_by("number"))
    if not bills:
        out.print(f"no approved tax invoice dated {start_day:%d-%m-%Y}" + (f" to {end_day:%d-%m-%Y}" if until else ""))
        return
    folder = Path(target)
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    for bill, pdf in zip(bills, render_tax_invoices(company, bills), strict=True):
        (folder / f"{bill.number.replace('/', '-')}.pdf").write_bytes(pdf)
    seconds = time.perf_counter() - started
    out.print(f"wrote {len(bills)} tax invoice PDF(s) to {folder} in {seconds:.1f} s")


@cli.command("einvoice", context_settings={"ignore_unknown_options": False})
@click.argument("args", nargs=-1, required=True)
@click.option("-o", "--output", "target", type=click.Path(dir_okay=False), help="where to write the JSON")
@click.pass_obj
def einvoice_cmd(obj, args, target):
    """`dues einvoice NUMBER -o FILE.json`: the IRP payload (schema 1.1) of an invoice or a credit/debit note,
    validated before it is written.
    `dues einvoice import-response FILE`: store the IRP's IRN, acknowledgement and signed QR on the invoice."""
    from dues.billing.einvoice import einvoice_payload
    from dues.billing.notes import gst_document_get
    from dues.billing.services import irp_response_import
    from dues.core.errors import DuesError

    company = obj.company()
    if args[0] == "import-response":
        if len(args) != 2:
            raise click.UsageError("dues einvoice import-response FILE")
        try:
            data = json.loads(Path(args[1]).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DuesError(f"{args[1]}: not a readable JSON file ({exc})") from None
        bill = irp_response_import(company=company, response=data, actor=obj.user)
        out.print(f"{bill.number}: IRN {bill.irn}, ack {bill.ack_no}"
                  + (f" of {bill.ack_date:%d-%m-%Y %H:%M}" if bill.ack_date else ""))
        return
    if len(args) != 1:
        raise click.UsageError("dues einvoice NUMBER -o FILE.json")
    payload = einvoice_payload(company, gst_document_get(company, args[0]))
    print_json(payload, target)
    if target:
        out.print(f"wrote {target} (IRP schema {payload['Version']}, validated)")


def _note_json(note) -> dict:
    return {"number": note.number, "draft": note.reference, "kind": note.kind, "invoice": note.bill.number,
            "customer": note.customer.code, "date": note.date.isoformat(), "reason": note.reason, "text": note.text,
            "status": note.status, "taxable": f"{note.taxable:.2f}", "cgst": f"{note.cgst:.2f}",
            "sgst": f"{note.sgst:.2f}", "igst": f"{note.igst:.2f}", "round_off": f"{note.round_off:.2f}",
            "total": f"{note.total:.2f}"}


def _print_notes(title: str, rows: list[dict]) -> None:
    from decimal import Decimal

    table(title, ["draft", "number", "kind", "invoice", "customer", "reason", "taxable", "CGST", "SGST", "IGST",
                  "round off", "total", "status"],
          [[r["draft"], r["number"] or "", r["kind"], r["invoice"], r["customer"], r["reason"],
            *(money_text(Decimal(r[k])) for k in ("taxable", "cgst", "sgst", "igst", "round_off", "total")),
            r["status"]] for r in rows], right=range(6, 12))


@bill_group.group("note")
def note_group():
    """Credit and debit notes against an approved invoice: raise (draft), list, approve, reject."""


def _raise_command(kind: str):
    reasons = ["return", "rate", "shortage", "other"] if kind == "credit" else ["rate", "other"]

    @note_group.command(kind)
    @click.option("--invoice", required=True, help="the approved invoice's number")
    @click.option("--reason", type=click.Choice(reasons), required=True,
                  help="return (goods back), rate (rate difference), shortage, other (say it with --text)")
    @click.option("--text", default="", help="the reason in words (required with --reason other)")
    @click.option("--line", "lines", multiple=True, required=True, metavar="ITEM:QTY[:RATE]",
                  help="an invoice line by item code or line number, the quantity, and the rate per unit (a "
                       "return or shortage defaults to the invoice's rate; a rate difference gives the difference)")
    @click.option("--date", "on", help="the note's date (default today)")
    @click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
    @click.pass_obj
    def raise_cmd(obj, invoice, reason, text, lines, on, fmt):
        from dues.billing.notes import note_draft, parse_line
        from dues.billing.services import bill_get

        company = obj.company()
        note = note_draft(company=company, bill=bill_get(company, invoice), kind=kind, reason=reason, text=text,
                          lines=[parse_line(x) for x in lines], on=parse_date(on) if on else None, actor=obj.user)
        if fmt == "json":
            print_json({"note": _note_json(note)})
            return
        _print_notes(f"draft {kind} note {note.reference} against {note.bill.number}, awaiting approval",
                     [_note_json(note)])

    raise_cmd.__doc__ = (f"Raise a DRAFT {kind} note against an approved invoice (same customer, place of supply "
                         "and tax split)." + (" A credit note takes back at most what was billed, per line."
                                              if kind == "credit" else ""))
    return raise_cmd


note_credit_cmd = _raise_command("credit")
note_debit_cmd = _raise_command("debit")


@note_group.command("list")
@click.option("--status", type=click.Choice(["draft", "approved", "rejected", "all"]), default="draft",
              show_default=True)
@click.option("--invoice", help="only the notes against this invoice")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def note_list_cmd(obj, status, invoice, fmt):
    """Credit and debit notes: drafts awaiting approval (default), approved or rejected."""
    from dues.billing.selectors import notes_list

    notes = notes_list(company=obj.company(), status=None if status == "all" else status, invoice=invoice)
    rows = [_note_json(n) for n in notes]
    if fmt == "json":
        print_json({"notes": rows})
        return
    _print_notes(f"{len(rows)} note(s)", rows)


@note_group.command("approve")
@click.argument("refs", nargs=-1)
@click.option("--all", "every", is_flag=True, help="every draft note (dated up to --date when given)")
@click.option("--date", "on", help="with --all: only notes dated up to D")
@click.option("--override", is_flag=True, help="approve a debit note even when the credit check refuses")
@click.option("--reason", default="", help="why the credit hold is overridden (required with --override)")
@click.pass_obj
def note_approve_cmd(obj, refs, every, on, override, reason):
    """Approve draft notes (N-7, ...): the next CN/DN number, posted; a credit note is allocated to its invoice."""
    from dues.billing.models import Note
    from dues.billing.notes import note_get, notes_approve
    from dues.core.errors import DuesError

    company = obj.company()
    notes = _to_approve(Note, company, refs, every, on, override, reason, get=note_get, example="N-7")
    if not notes:
        out.print("no draft notes to approve")
        return
    result = notes_approve(company=company, notes=notes, actor=obj.user, override_reason=reason if override else "")
    for n in result.approved:
        applied = ""
        if n.kind == Note.CREDIT:
            applied = f", {money_text(n.applied)} applied to {n.bill.number}"
            if n.applied < n.total:
                applied += f", {money_text(n.total - n.applied)} unapplied"
        out.print(f"approved {n.reference} as {n.title.lower()} {n.number} against {n.bill.number}: "
                  f"{n.customer.code} {money_text(n.total)}{applied}")
    for r in result.refused:
        f = r.decision.figures
        limit = "none" if f.limit is None else money_text(f.limit)
        out.print(f"[red]held[/red] {r.note.reference} {r.note.customer.code} {money_text(r.note.total)}: "
                  + "; ".join(r.decision.reasons)
                  + f" (credit limit {limit}, outstanding {money_text(f.outstanding)}, this note "
                    f"{money_text(f.amount)}, exposure {money_text(f.exposure)})", markup=True)
    if result.refused:
        raise DuesError(f"{len(result.refused)} debit note(s) held on credit; approve them with --override --reason R "
                        "(AR manager or admin)")


@note_group.command("reject")
@click.argument("ref")
@click.option("--reason", required=True)
@click.pass_obj
def note_reject_cmd(obj, ref, reason):
    """Reject a draft note: it is kept as rejected and credits nothing."""
    from dues.billing.notes import note_get, note_reject

    note = note_reject(note=note_get(obj.company(), ref), reason=reason, actor=obj.user)
    out.print(f"rejected {note.reference}: {note.decision_reason}")
