"""Setting up and closing the books: init, settings, period lock, audit."""

from __future__ import annotations

import click

from dues.core.dates import parse_date

from .main import cli
from .output import out, print_json


def migrate(verbose: bool = False) -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=1 if verbose else 0)


@cli.command()
@click.option("--company", "name", required=True, help="company name")
@click.option("--gstin", default="", help="the company's GSTIN (sets the state)")
@click.option("--state", default="", help="GST state code or name, e.g. 27 or Maharashtra")
@click.option("--currency", default="INR", show_default=True)
@click.option("--fy-start", default="04-01", show_default=True, help="fiscal year start, MM-DD")
@click.option("--locale", default="en_IN", show_default=True, help="number and date formats, e.g. en_IN, en_US")
@click.pass_obj
def init(obj, name, gstin, state, currency, fy_start, locale):
    """Create (or upgrade) the database and the company with its chart of accounts."""
    from dues.collections.services.policies import policy_default
    from dues.companies.services import company_init
    from dues.core.errors import DuesError
    from dues.core.states import state_code

    try:
        month, day = (int(p) for p in fy_start.split("-"))
    except ValueError as exc:
        raise DuesError(f"--fy-start must be MM-DD, got {fy_start!r}") from exc
    try:
        state = state_code(state) if state else ""
    except ValueError as exc:
        raise DuesError(str(exc)) from exc
    migrate()
    from dues.companies.models import Account

    chart = set(Account.objects.values_list("pk", flat=True))
    company, created = company_init(name=name, gstin=gstin, state_code=state, currency=currency.upper(),
                                    fy_start=(month, day), locale=locale, actor=obj.user)
    policy_default(company, obj.user)  # the default dunning policy
    if created:
        out.print(f"created company [bold]{company.name}[/bold] ({company.currency}, fiscal year from "
                  f"{company.fy_start_day:02d}-{company.fy_start_month:02d}) with its chart of accounts")
    else:
        added = Account.objects.filter(company=company).exclude(pk__in=chart).order_by("code")
        out.print(f"database is up to date; company [bold]{company.name}[/bold] already exists (left unchanged"
                  + ("; added to its chart: " + ", ".join(f"{a.code} {a.name}" for a in added) if added else "")
                  + ")")


@cli.command()
@click.argument("date", required=False)
@click.option("--clear", is_flag=True, help="remove the lock (reopen every period)")
@click.pass_obj
def lock(obj, date, clear):
    """Lock the books up to DATE: postings on or before it are refused."""
    from dues.companies.services import company_lock_period

    company = obj.company()
    if not date and not clear:
        out.print(f"lock date: {company.lock_date.isoformat() if company.lock_date else 'none'}")
        return
    company = company_lock_period(company=company, lock_date=None if clear else parse_date(date), actor=obj.user)
    out.print(f"lock date is now {company.lock_date.isoformat() if company.lock_date else 'none'}")


@cli.command("settings")
@click.option("--set", "pairs", multiple=True, metavar="KEY=VALUE",
              help="change a setting: name, locale, gstin, state_code, gstin_checksum (error|warn), "
                   "interest_gst (on|off: GST on overdue interest, at the original supply's rate)")
@click.pass_obj
def settings_cmd(obj, pairs):
    """Show the company's settings, or change them (each change is audited)."""
    from dues.companies.services import company_update

    company = obj.company()
    if pairs:
        bad = [p for p in pairs if "=" not in p]
        if bad:
            raise click.UsageError(f"--set needs KEY=VALUE, got {bad[0]!r}")
        changes = dict(p.split("=", 1) for p in pairs)
        company = company_update(company=company, actor=obj.user, **changes)
    print_json(company.audit_state())


@cli.group()
def audit():
    """The tamper-evident audit log."""


def _anchor(ctx, param, values):
    anchors = []
    for value in values:
        seq, sep, digest = value.strip().partition(":")
        if not sep or not seq.isdigit() or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise click.BadParameter(f"{value!r}: write it as SEQ:HASH, e.g. 1234:9f86d0…(64 hex digits), as the "
                                     "close pack or the daily report prints it", ctx=ctx, param=param)
        anchors.append((int(seq), digest))
    return anchors


@audit.command("verify")
@click.option("--anchor", "anchors", multiple=True, callback=_anchor, metavar="SEQ:HASH",
              help="a head kept outside the database (close pack, daily report): that record must still be there "
                   "with that hash; repeatable")
@click.pass_obj
def audit_verify_cmd(obj, anchors):
    """Recompute the hash chain; exit 1 naming the first bad record."""
    from dues.audit.services import audit_verify

    result = audit_verify(anchors)
    if result.ok:
        out.print(f"audit log OK: {result.records} records, chain head {result.head_seq} {result.head_hash}"
                  + (f"; {len(anchors)} anchor(s) match" if anchors else ""))
        out.print(f"anchor: {result.head_seq}:{result.head_hash}")
        return 0
    out.print(f"[red]audit log BROKEN[/red] at record {result.problem.seq}: {result.problem.reason}")
    return 1


@audit.command("log")
@click.option("--object", "object_type", default="", help="object type, e.g. invoice, receipt, customer")
@click.option("--id", "object_id", default="", help="object id or number")
@click.option("--actor", default="")
@click.option("--limit", default=50, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.pass_obj
def audit_log_cmd(obj, object_type, object_id, actor, limit, fmt):
    """Show the latest audit records, newest first."""
    import json

    from dues.audit.selectors import audit_records

    records = list(audit_records(object_type=object_type, object_id=object_id, actor=actor, limit=limit))
    if fmt == "json":
        print_json([{"seq": r.seq, "at": r.at.isoformat(), "actor": r.actor, "action": r.action,
                     "object_type": r.object_type, "object_id": r.object_id,
                     "before": json.loads(r.before_json) if r.before_json else None,
                     "after": json.loads(r.after_json) if r.after_json else None, "hash": r.hash} for r in records])
        return
    from django.utils import timezone

    from .output import table

    table(f"Audit log (times in {timezone.get_current_timezone_name()})", ["#", "when", "who", "action", "object", "hash"],
          [[r.seq, timezone.localtime(r.at).strftime("%d-%m-%Y %H:%M:%S"), r.actor, r.action, f"{r.object_type} {r.object_id}",
            r.hash[:12]] for r in records], right=[0])
