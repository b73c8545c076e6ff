"""``dues reconcile customer``: a customer's ledger of us against ours, every difference explained."""

from __future__ import annotations

from decimal import Decimal

import click

from .main import cli
from .output import money_text, print_json, table


@cli.group("reconcile")
def reconcile() -> None:
    """Reconciliations: a customer's ledger of us against ours (ledger clearance); the bank book against the bank."""


@reconcile.command("customer")
@click.argument("code")
@click.argument("their_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--as-of", "as_of", required=True, metavar="DATE", help="cut-off date (YYYY-MM-DD or DD-MM-YYYY)")
@click.option("--preset", type=click.Choice(["tally", "busy", "sap"]), help="column layout of a common export")
@click.option("--map", "mapping", metavar="FIELD=COLUMN,...",
              help="their columns: date=,ref=,narration=,debit=,credit= (or amount=,drcr=; type=); "
                   "for Tally XML ledger=NAME")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "xlsx", "pdf"]), default="table",
              show_default=True)
@click.option("-o", "--output", "output", metavar="FILE", help="write to FILE (required for xlsx and pdf)")
@click.option("--note-days", "note_days", type=click.IntRange(0, 60), default=None, metavar="N",
              help="our credit note and their debit note for it may be dated up to N days apart [default: 5]")
@click.option("--book-tds", is_flag=True, help="post the TDS they deducted that we do not show (a TDS-only receipt)")
@click.option("--open-disputes", is_flag=True, help="open a dispute for each amount mismatch where they booked less")
@click.option("--log-activities", is_flag=True, help="a collections task for each entry they have not booked")
@click.pass_obj
def customer(obj, code, their_file, as_of, preset, mapping, fmt, output, note_days, book_tds, open_disputes,
             log_activities):
    """Reconcile customer CODE's ledger of us (THEIR_FILE: CSV/XLSX from Tally, Busy, SAP, Excel, or Tally XML).

    Prints our balance, their balance, what matched and each difference with its kind, signed amount and
    explanation: our balance + the differences = their balance, with "unexplained" the remainder.
    """
    from dues.core import reconcile as rc
    from dues.core.dates import parse_date
    from dues.core.errors import DuesError
    from dues.reconciliation.selectors import reconcile_customer

    windows = rc.Windows(note=note_days) if note_days is not None else None
    rec = reconcile_customer(company=obj.company(), code=code, their_file=their_file, as_of=parse_date(as_of),
                             preset=preset, mapping=mapping, windows=windows)
    actions = [a for a, on in (("book_tds", book_tds), ("disputes", open_disputes), ("activities", log_activities))
               if on]
    followups = None
    if actions:  # the one-click follow-ups (dues.reconciliation.services.reconciliation_followups)
        from dues.reconciliation.services import reconciliation_followups

        followups = reconciliation_followups(company=rec.customer.company, customer=rec.customer, result=rec,
                                             actions=actions, actor=obj.user)
        for line in ([f"booked TDS {n}" for n in followups.booked] + [f"dispute on {d}" for d in followups.disputes]
                     + [f"task: {a}" for a in followups.activities] + [f"skipped {s}" for s in followups.skipped]):
            click.echo(line, err=fmt == "json")
    if fmt == "json":
        print_json(rec.as_json() | ({"followups": followups.as_json()} if followups else {}), output)
        return 0
    if fmt in ("xlsx", "pdf"):
        if not output:
            raise DuesError(f"--format {fmt} needs -o FILE")
        from dues.reconciliation import exports

        (exports.write_xlsx if fmt == "xlsx" else exports.write_pdf)(rec, output)
        click.echo(f"wrote {output}")
        return 0
    from dues.core.reconcile import summary_lines

    r = rec.result
    table(f"Ledger reconciliation {code} as of {r.as_of.isoformat()} ({rec.source})", ["", "amount"],
          [[label, money_text(v)] for label, v in summary_lines(r)], right=[1])
    if r.differences:
        table(f"{len(r.differences)} difference(s)", ["kind", "ours", "theirs", "amount", "explanation"],
              [[d.kind, d.ours or "-", d.theirs or "-", money_text(d.amount), d.explanation] for d in r.differences],
              right=[3])
    paired = [m for m in r.matched if m.note]
    if paired:
        table(f"{len(paired)} matched under different numbers", ["ours", "theirs", "amount", "why"],
              [[", ".join(m.ours), ", ".join(m.theirs), money_text(m.amount), m.note] for m in paired], right=[2])
    click.echo(f"{len(r.matched)} matched; unexplained {money_text(r.unexplained)}")
    return 0


@reconcile.command("bank")
@click.option("--account", "account", required=True, metavar="CODE", help="the bank account (dues bank accounts)")
@click.option("--as-of", "as_of", required=True, metavar="DATE", help="reconcile as of (YYYY-MM-DD or DD-MM-YYYY)")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "xlsx"]), default="table", show_default=True)
@click.option("-o", "--output", "output", metavar="FILE", help="write to FILE (required for xlsx)")
@click.pass_obj
def bank(obj, account, as_of, fmt, output):
    """The bank book against the bank's statement lines: matched, not yet cleared, not in the book,
    and the bank reconciliation statement tying book balance to bank balance (exit 1 when it does not tie).
    """
    from dues.core.dates import parse_date
    from dues.core.errors import DuesError
    from dues.reconciliation.bank import bank_reconciliation

    rec = bank_reconciliation(company=obj.company(), account=account, as_of=parse_date(as_of))
    if fmt == "json":
        print_json(rec.as_json(), output)
    elif fmt == "xlsx":
        if not output:
            raise DuesError("--format xlsx needs -o FILE")
        from dues.reconciliation.bank import write_xlsx

        write_xlsx(rec, output)
        click.echo(f"wrote {output}")
    else:
        table(f"Bank reconciliation {rec.account.code} as of {rec.as_of.isoformat()}", ["", "amount"],
              [[label, money_text(v)] for label, v in rec.statement_lines()], right=[1])
        if rec.book_only:
            table("In the book, not in the bank", ["date", "document", "reference", "amount", "status"],
                  [[b.date.isoformat(), b.number, b.reference, money_text(b.amount), b.status.replace("_", " ")]
                   for b in rec.book_only], right=[3])
        if rec.bank_only:
            table("In the bank, not in the book", ["date", "kind", "reference", "amount", "narration"],
                  [[b.date.isoformat(), b.kind, b.reference, money_text(b.amount), b.narration[:60]]
                   for b in rec.bank_only], right=[3])
        for warning in rec.warnings:
            click.echo(f"warning: {warning}", err=True)
        click.echo(f"{len(rec.matched)} matched; unexplained {money_text(rec.unexplained)}")
    return 0 if rec.ties else 1


@reconcile.command("tds")
@click.argument("form26as", type=click.Path(exists=True, dir_okay=False), metavar="FILE")
@click.option("--fy", "fy", required=True, metavar="YYYY-YY", help="fiscal year, e.g. 2025-26")
@click.option("--follow-up", "follow_up", is_flag=True,
              help="log a collections follow-up for each customer and quarter whose TDS is not in 26AS")
@click.option("--book", "book", is_flag=True,
              help="post the TDS 26AS shows and we do not: one TDS-only receipt per customer and quarter")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "xlsx"]), default="table", show_default=True)
@click.option("-o", "--output", "output", metavar="FILE", help="write to FILE (required for xlsx)")
@click.pass_obj
def tds(obj, form26as, fy, follow_up, book, fmt, output):
    """TDS on our receipts against Form 26AS (FILE: the TRACES ^-delimited text export, or CSV/XLSX with
    deductor_name, tan, section, transaction_date, amount, tds, deposited, booking_status), per customer (by TAN)
    and quarter: matched, deducted but not in 26AS (chase the customer), in 26AS but not recorded (book it), and
    TANs on no customer. With --follow-up, a collections activity per customer and quarter not in 26AS
    (once: running it again adds none). With --book, a TDS-only receipt TDS26AS/<code>/<FY>-Q<n> for each
    customer and quarter in 26AS but not recorded, dated the quarter's latest 26AS date and left on account
    (once; quarters in a locked period are skipped and said so).
    """
    from dues.core.errors import DuesError
    from dues.reconciliation.tds import tds_follow_up, tds_reconciliation, write_xlsx

    report = tds_reconciliation(company=obj.company(), path=form26as, fy=fy)
    if follow_up:
        tds_follow_up(report=report, actor=obj.user)
    if book:
        from dues.reconciliation.services import tds_book_unrecorded

        report.booking = tds_book_unrecorded(report.company, report, actor=obj.user).as_json()
        for b in report.booking["booked"]:
            click.echo(f"booked TDS {b['number']}: {b['customer']} {b['quarter']} {money_text(Decimal(b['tds']))} "
                       f"on {b['date']}", err=fmt == "json")
        for b in report.booking["skipped"]:
            click.echo(f"skipped {b['number']}: {b['reason']}", err=fmt == "json")
    r = report.result
    if fmt == "json":
        print_json(report.as_json(), output)
    elif fmt == "xlsx":
        if not output:
            raise DuesError("--format xlsx needs -o FILE")
        write_xlsx(report, output)
        click.echo(f"wrote {output}")
    else:
        table(f"TDS vs Form 26AS, FY {report.fy_label} ({report.source})",
              ["customer", "TAN", "quarter", "status", "ours", "26AS", "difference", "explanation"],
              [[", ".join(x.customers), x.tan or "-", f"Q{x.quarter}", x.status, money_text(x.ours),
                money_text(x.theirs), money_text(x.difference), x.explanation] for x in r.rows], right=[4, 5, 6])
        if r.unknown_tans:
            table("TAN on no customer", ["TAN", "deductor", "quarter", "TDS", "26AS rows", "perhaps"],
                  [[u.tan, u.deductor, f"Q{u.quarter}", money_text(u.tds), ", ".join(map(str, u.rows)),
                    u.suggestion or "-"] for u in r.unknown_tans], right=[3])
        labels = {"ours": "our TDS", "rounding": "rounding (in matched)", "theirs": "26AS, TANs of our customers",
                  "unknown_tan": "26AS, TAN on no customer", "26as": "26AS, Part A in the year"}
        table("Totals", ["", "amount"],
              [[labels.get(k, k.replace("_", " ")), money_text(v)] for k, v in r.totals().items()], right=[1])
        if report.follow_ups is not None:
            click.echo(f"follow-ups: {report.follow_ups['created']} created, {report.follow_ups['existing']} "
                       f"already open")
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    return 0


# `dues bench reconcile` joins the bench group from here (the engine's benchmark needs no database)
from .bench import _show, bench  # noqa: E402


@bench.command("reconcile")
@click.option("--entries", type=click.IntRange(min=10), default=10_000, show_default=True,
              help="entries per side (invoices, receipts, TDS)")
@click.option("--rate", type=click.FloatRange(0, 0.5), default=0.05, show_default=True,
              help="share of entries perturbed (missing, mismatched, TDS, timing, duplicate, split, combined)")
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def bench_reconcile(entries, rate, seed, fmt):
    """Ledger clearance on a seeded pair of ledgers with planted differences: accuracy and seconds.

    Runs the matching engine in memory (nothing is written; --db is not needed).
    """
    from dues.bench.reconcile import run

    result = run(entries, seed, rate)
    if fmt == "json":
        print_json(result)
        return 0
    by_kind = result.pop("by_kind")
    _show(f"Ledger reconciliation, {entries:,} entries per side (seed {seed})", result, fmt)
    table("Per kind (a pair: our credit note matched with their debit note)",
          ["kind", "planted", "reported", "right", "precision", "recall"],
          [[k["kind"], k["planted"], k["reported"], k["right"], k["precision"], k["recall"]] for k in by_kind],
          right=[1, 2, 3, 4, 5])
    return 0
