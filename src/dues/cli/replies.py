"""Customers' replies: `dues replies fetch|list|accept|dismiss`, and `dues replies bench` measuring the reading rules."""

from __future__ import annotations

from pathlib import Path

import click

from .main import cli
from .output import out, print_json, table


@cli.group()
def replies() -> None:
    """Customers' replies (e-mail, WhatsApp) read for promises, disputes, payments claimed, statement requests."""


@replies.command("bench")
@click.option("--file", "files", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="a labelled set (JSON Lines); default: the two shipped sets (tuning and held-out)")
@click.option("--misses", is_flag=True, help="list every message read wrongly")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
def replies_bench(files, misses, fmt):
    """Precision and recall per suggestion kind over labelled replies (a suggestion counts when its fields match)."""
    from dues.messaging.replies import evaluate, labelled_set_path, load_labelled

    shipped = labelled_set_path()
    files = files or (shipped, shipped.with_name("replies_heldout.jsonl"))
    report = []
    for path in files:
        if not path.is_file():
            raise click.ClickException(f"{path}: no such file")
        rows = load_labelled(path)
        scores, missed = evaluate(rows)
        report.append({"file": str(path), "messages": len(rows), "misses": missed,
                       "kinds": [{"kind": s.kind, "tp": s.tp, "fp": s.fp, "fn": s.fn,
                                  "precision": round(s.precision, 3), "recall": round(s.recall, 3)}
                                 for s in scores.values()]})
    if fmt == "json":
        print_json(report)
        return
    for r in report:
        table(f"{r['file']} ({r['messages']} messages)", ["kind", "right", "wrong", "missed", "precision", "recall"],
              [[k["kind"], k["tp"], k["fp"], k["fn"], f"{k['precision']:.2f}", f"{k['recall']:.2f}"]
               for k in r["kinds"]], right=(1, 2, 3, 4, 5))
        if misses:
            for line in r["misses"]:
                out.print(f"  {line}", markup=False)


def _inbox() -> Path:
    import os

    from dues.messaging.transports import dues_home

    return Path(os.environ.get("DUES_REPLIES_DIR", "").strip() or dues_home() / "inbox")


@replies.command("fetch")
@click.option("--folder", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="a folder of .eml files or a maildir (default: $DUES_REPLIES_DIR, else $DUES_HOME/inbox)")
@click.option("--imap", "use_imap", is_flag=True, help="read the unseen messages of the mailbox of DUES_IMAP_URL instead")
@click.pass_obj
def replies_fetch_cmd(obj, folder, use_imap):
    """Read customers' e-mailed replies (each once), match them to customers and write suggestions.

    Exit code 1 when a file could not be read (it is named; the others are read all the same).
    """
    import os

    from dues.cli.books import migrate
    from dues.collections.services.replies import replies_fetch_folder, replies_fetch_imap

    migrate()
    if use_imap:
        url = os.environ.get("DUES_IMAP_URL", "").strip()
        if not url:
            raise click.ClickException("--imap needs DUES_IMAP_URL (imaps://user:password@host/INBOX)")
        result = replies_fetch_imap(company=obj.company(), url=url, actor=obj.user)
    else:
        result = replies_fetch_folder(company=obj.company(), folder=folder or _inbox(), actor=obj.user)
    out.print(f"{result.read} read, {result.new} new, {result.unmatched} matched no customer, "
              f"{result.suggestions} suggestions")
    for problem in result.problems:
        out.print(f"  skipped {problem}", markup=False)
    if result.problems:
        raise SystemExit(1)


@replies.command("list")
@click.option("--all", "show_all", is_flag=True, help="decided ones too (default: open suggestions only)")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.pass_obj
def replies_list_cmd(obj, show_all, fmt):
    """Suggestions read from replies, newest first."""
    from dues.collections.selectors import reply_suggestions

    rows = reply_suggestions(obj.company(), status=None if show_all else "open")
    data = [{"id": s.pk, "customer": s.customer.code, "kind": s.kind,
             "amount": None if s.amount is None else f"{s.amount:.2f}",
             "date": s.date.isoformat() if s.date else None, "reason": s.reason, "utr": s.utr,
             "documents": s.documents, "status": s.status, "from": s.reply.sender, "evidence": s.evidence}
            for s in rows]
    if fmt == "json":
        print_json(data)
        return
    table("reply suggestions", ["id", "customer", "kind", "amount", "date", "reason/UTR", "status", "from"],
          [[d["id"], d["customer"], d["kind"], d["amount"] or "", d["date"] or "", d["reason"] or d["utr"],
            d["status"], d["from"]] for d in data], right=(0, 3))


def _suggestion(obj, ident: int):
    from dues.collections.models import ReplySuggestion

    found = ReplySuggestion.objects.filter(company=obj.company(), pk=ident).select_related("customer").first()
    if found is None:
        raise click.ClickException(f"no suggestion {ident}")
    return found


@replies.command("accept")
@click.argument("ident", type=int, metavar="ID")
@click.option("--amount", default=None, help="the amount, when the reply named none (or to correct it)")
@click.option("--date", "on", default=None, metavar="YYYY-MM-DD", help="the promised date, likewise")
@click.option("--invoice", default="", help="the invoice a dispute is about, when the reply named none")
@click.pass_obj
def replies_accept_cmd(obj, ident, amount, on, invoice):
    """Accept suggestion ID: record the promise, open the dispute, log the payment claimed or e-mail the statement."""
    from decimal import Decimal

    from dues.collections.services.replies import suggestion_accept
    from dues.core.dates import parse_date

    row = suggestion_accept(suggestion=_suggestion(obj, ident), actor=obj.user,
                            amount=Decimal(amount) if amount else None, on=parse_date(on) if on else None,
                            invoice=invoice)
    out.print(f"suggestion {row.pk} accepted: {row.result}", markup=False)


@replies.command("dismiss")
@click.argument("ident", type=int, metavar="ID")
@click.pass_obj
def replies_dismiss_cmd(obj, ident):
    """Dismiss suggestion ID (kept, marked dismissed, audited)."""
    from dues.collections.services.replies import suggestion_dismiss

    row = suggestion_dismiss(suggestion=_suggestion(obj, ident), actor=obj.user)
    out.print(f"suggestion {row.pk} dismissed")


@replies.command("opt-out")
@click.argument("channel", type=click.Choice(["whatsapp", "sms"]))
@click.argument("number")
@click.option("--reason", default="", help="why (asked on a call, a letter, ...)")
@click.pass_obj
def replies_opt_out_cmd(obj, channel, number, reason):
    """Mark NUMBER as not to be messaged on CHANNEL (as a STOP reply does); audited."""
    from dues.cli.books import migrate
    from dues.collections.services.whatsapp import opt_out_add

    migrate()
    if len("".join(ch for ch in number if ch.isdigit())) < 10:
        raise click.ClickException(f"{number!r} is not a phone number (10 digits or more)")
    row = opt_out_add(channel=channel, number=number, actor=obj.user, reason=reason or "marked")
    out.print(f"{channel} to …{row.address} will not be sent (opt-out {row.pk})")
