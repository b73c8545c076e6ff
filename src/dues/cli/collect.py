"""Collections from the command line: the daily dunning run."""

from __future__ import annotations

from decimal import Decimal

import click

from dues import clock
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

    from dues.collections.services.dunning import collect_run

    company = obj.company()
    day = parse_date(on) if on else clock.today()
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
    from dues.collections.services.policies import customer_collections_update
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


# --- worklist, activities, promises, disputes ---------------------------------------------------------------


def _day(value: str | None):

    return parse_date(value) if value else clock.today()


def _customer(company, code: str):
    from dues.core.errors import DuesError
    from dues.customers.models import Customer

    customer = Customer.objects.filter(company=company, code=code.strip()).first()
    if customer is None:
        raise DuesError(f"no customer {code!r}")
    return customer


@cli.command("worklist")
@click.option("--collector", help="only this collector's customers: their login (pooja) or the name on the "
                                   "customer records; an unknown one is an error")
@click.option("--date", "on", help="the day to plan, YYYY-MM-DD (default today)")
@click.option("--limit", type=int, default=0, help="show the first N only (default all)")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def worklist_cmd(obj, collector, on, limit, fmt):
    """Who to contact first on --date: customers by priority score, each with the reasons for it.

    That day's follow-ups come first (and missed ones, until someone contacts the customer), then
    broken promises not yet followed up, promises due that day, overdue amounts weighted by age, and
    how long since the last contact. Promises are judged as of --date
    (today's stored statuses are refreshed first; another date writes nothing).
    """
    from dues.collections.selectors import worklist
    from dues.collections.services.promises import promises_refresh

    company = obj.company()
    day = _day(on)
    promises_refresh(company, actor=obj.user)
    entries = worklist(company, collector=collector, on=day)
    if limit:
        entries = entries[:limit]
    if fmt == "json":
        print_json([e.as_json() for e in entries])
        return 0
    title = f"Worklist for {day.strftime('%d-%m-%Y')}{f' ({collector})' if collector else ''}"
    if not entries:
        out.print(f"{title}: nobody to chase")
        return 0
    rows = [[n, e.facts.code, e.facts.name, e.facts.collector, e.score, money_text(e.facts.overdue, company.locale),
             "; ".join(e.reasons)] for n, e in enumerate(entries, start=1)]
    table(title, ["#", "customer", "name", "collector", "score", "overdue", "why"], rows, right=[0, 4, 5])
    return 0


@cli.command("activity")
@click.argument("customer_code")
@click.option("--kind", type=click.Choice(["call", "email", "sms", "whatsapp", "visit", "meeting", "letter"]),
              default="call", show_default=True)
@click.option("--outcome", type=click.Choice(["reached", "no_answer", "promised", "disputed", "refused",
                                              "wrong_contact"]), required=True)
@click.option("--notes", default="")
@click.option("--follow-up", "follow_up", help="next follow-up date, YYYY-MM-DD (brings the customer onto "
                                               "that day's worklist)")
@click.option("--date", "on", help="the day of the contact, YYYY-MM-DD (default today; not in the future)")
@click.pass_obj
def activity_cmd(obj, customer_code, kind, outcome, notes, follow_up, on):
    """Log a contact with a customer and its outcome (a call made yesterday: --date yesterday's date)."""
    from dues.collections.services.activities import activity_log

    customer = _customer(obj.company(), customer_code)
    a = activity_log(customer=customer, kind=kind, outcome=outcome, notes=notes,
                     next_follow_up=parse_date(follow_up) if follow_up else None,
                     on=parse_date(on) if on else None, actor=obj.user)
    follow = f", follow up on {a.next_follow_up.strftime('%d-%m-%Y')}" if a.next_follow_up else ""
    out.print(f"logged {a.kind} with {customer.code} on {a.on.strftime('%d-%m-%Y')}: "
              f"{a.get_outcome_display()}{follow}")


@cli.group()
def promise():
    """Promises to pay: record one (see `dues promises` for the list and the report)."""


@promise.command("add")
@click.argument("customer_code")
@click.option("--amount", required=True)
@click.option("--date", "promised", required=True, help="the date the customer promised to pay by")
@click.option("--invoice", "invoices", multiple=True, help="an invoice it covers (repeat; none: the whole account)")
@click.option("--grace", type=int, default=3, show_default=True, help="days after the date receipts still count")
@click.option("--taken-on", help="when the promise was taken (default today)")
@click.option("--kind", type=click.Choice(["call", "email", "sms", "whatsapp", "visit", "meeting", "letter"]),
              default="call", show_default=True, help="the contact it was taken in")
@click.option("--notes", default="")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def promise_add_cmd(obj, customer_code, amount, promised, invoices, grace, taken_on, kind, notes, fmt):
    """Record CUSTOMER's promise to pay --amount by --date."""
    from dues.collections.services.promises import promise_add

    company = obj.company()
    p = promise_add(customer=_customer(company, customer_code), amount=amount, promised_date=parse_date(promised),
                    invoices=invoices, grace_days=grace, taken_on=parse_date(taken_on) if taken_on else None,
                    kind=kind, notes=notes, actor=obj.user)
    if fmt == "json":
        print_json(_promise_json(p))
        return
    out.print(f"promise {p.pk}: {p.customer.code} to pay {money_text(p.amount, company.locale)} by "
              f"{p.promised_date.strftime('%d-%m-%Y')} (grace {p.grace_days} days)")


def _promise_json(p, judged=None) -> dict:
    """A promise as JSON: its stored (today's) status, or ``judged`` (``dues.core.promises.Judged``) as of a date."""
    status, received, settled = (judged.status, judged.received, judged.settled_on) if judged else \
        (p.status, p.received, p.settled_on)
    return {"id": p.pk, "customer": p.customer.code, "amount": f"{p.amount:.2f}",
            "promised_date": p.promised_date.isoformat(), "grace_days": p.grace_days,
            "deadline": p.deadline.isoformat(), "taken_on": p.taken_on.isoformat(), "taken_by": p.taken_by,
            "invoices": sorted(d.number for d in p.invoices.all()), "status": status,
            "received": f"{received:.2f}", "settled_on": settled.isoformat() if settled else None}


@cli.command("promises")
@click.option("--status", type=click.Choice(["open", "kept", "partly_kept", "broken"]))
@click.option("--customer", "customer_code", help="one customer's promises")
@click.option("--date", "on", help="the statuses as of this date (default today)")
@click.option("--report", is_flag=True, help="promised against received, by promised date and collector")
@click.option("--from", "date_from", help="report: promised dates from")
@click.option("--to", "date_to", help="report: promised dates up to")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def promises_cmd(obj, status, customer_code, on, report, date_from, date_to, fmt):
    """Promises to pay with their status as of --date (kept / partly kept / broken from the receipts).

    Today's statuses are refreshed and stored first; for another date they are worked out as of that
    date and nothing is written.
    """
    from dues.collections.selectors import promise_judgements, promises, promises_report
    from dues.collections.services.promises import promises_refresh

    company = obj.company()
    day = _day(on)
    settled = promises_refresh(company, actor=obj.user) if day == clock.today() else 0
    if report:
        rows = promises_report(company, parse_date(date_from) if date_from else None,
                               parse_date(date_to) if date_to else None, on=day)
        if fmt == "json":
            print_json([r.as_json() for r in rows])
            return
        if not rows:
            out.print("No promises to pay yet: record one with `dues promise add`")
            return
        fmt_money = lambda v: money_text(v, company.locale)  # noqa: E731
        table("Promised against received", ["promised date", "taken by", "promises", "promised", "received", "kept",
                                            "partly", "broken", "open"],
              [[r.promised_date.strftime("%d-%m-%Y"), r.taken_by, r.count, fmt_money(r.promised),
                fmt_money(r.received), r.kept, r.partly_kept, r.broken, r.open] for r in rows],
              right=[2, 3, 4, 5, 6, 7, 8])
        return
    found = list(promises(company, status, _customer(company, customer_code) if customer_code else None, on=day))
    judged = promise_judgements(found, day)
    if fmt == "json":
        print_json([_promise_json(p, judged[p.pk]) for p in found])
        return
    if not found:
        out.print(f"No {status.replace('_', ' ') + ' ' if status else ''}promises to pay")
        return
    table(f"Promises to pay as of {day.strftime('%d-%m-%Y')}",
          ["id", "customer", "amount", "by", "grace", "invoices", "taken by", "status", "received"],
          [[p.pk, p.customer.code, money_text(p.amount, company.locale), p.promised_date.strftime("%d-%m-%Y"),
            p.grace_days, ", ".join(sorted(d.number for d in p.invoices.all())) or "(account)", p.taken_by,
            judged[p.pk].status.replace("_", " "), money_text(judged[p.pk].received, company.locale)]
           for p in found], right=[0, 2, 4, 8])
    if settled:
        out.print(f"{settled} promise(s) settled by this refresh")


def _dispute_json(d) -> dict:

    end = d.resolved_on or clock.today()
    age = (end - d.opened_on).days
    return {"id": d.pk, "document": d.document.number, "customer": d.customer.code, "amount": f"{d.amount:.2f}",
            "reason": d.reason, "owner": d.owner, "status": d.status, "sla_days": d.sla_days,
            "opened_on": d.opened_on.isoformat(), "resolved_on": d.resolved_on.isoformat() if d.resolved_on else None,
            "age_days": age, "overdue_sla": d.resolved_on is None and age > d.sla_days,
            "credit_note": d.credit_note.number if d.credit_note_id else None, "notes": d.notes}


@cli.group()
def dispute():
    """Disputes on invoices: open, move along, resolve by credit note or reject (`dues disputes` lists them)."""


@dispute.command("open")
@click.argument("invoice")
@click.option("--amount", required=True, help="the disputed part (at most what is left on the invoice)")
@click.option("--reason", required=True, type=click.Choice(["price", "quantity", "damaged", "not_received", "tax",
                                                            "duplicate"]))
@click.option("--owner", required=True, type=click.Choice(["sales", "dispatch", "finance"]),
              help="the department that must resolve it")
@click.option("--sla", "sla_days", type=int, default=7, show_default=True, help="days to resolve it in")
@click.option("--date", "on", help="opened on (default today)")
@click.option("--notes", default="")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def dispute_open_cmd(obj, invoice, amount, reason, owner, sla_days, on, notes, fmt):
    """Open a dispute on INVOICE: it is left out of dunning while open."""
    from dues.collections.services.disputes import dispute_open

    company = obj.company()
    d = dispute_open(company=company, invoice=invoice, amount=amount, reason=reason, owner=owner, sla_days=sla_days,
                     opened_on=parse_date(on) if on else None, notes=notes, actor=obj.user)
    if fmt == "json":
        print_json(_dispute_json(d))
        return
    out.print(f"dispute {d.pk} on {d.document.number} ({d.customer.code}): {money_text(d.amount, company.locale)}, "
              f"{d.get_reason_display()}, owner {d.owner}, SLA {d.sla_days} days")


@dispute.command("update")
@click.argument("dispute_id", type=int)
@click.option("--status", type=click.Choice(["open", "in_progress"]))
@click.option("--owner", type=click.Choice(["sales", "dispatch", "finance"]))
@click.option("--sla", "sla_days", type=int)
@click.option("--notes")
@click.pass_obj
def dispute_update_cmd(obj, dispute_id, status, owner, sla_days, notes):
    """Move dispute DISPUTE_ID along (in progress, another owner, SLA, notes)."""
    from dues.collections.services.disputes import dispute_update

    d = dispute_update(dispute=_dispute(obj.company(), dispute_id), status=status, owner=owner, sla_days=sla_days,
                       notes=notes, actor=obj.user)
    out.print(f"dispute {d.pk} on {d.document.number}: {d.get_status_display()}, owner {d.owner}")


def _dispute(company, dispute_id: int):
    from dues.collections.models import Dispute
    from dues.core.errors import DuesError

    found = Dispute.objects.filter(company=company, pk=dispute_id).first()
    if found is None:
        raise DuesError(f"no dispute {dispute_id}")
    return found


@dispute.command("resolve")
@click.argument("dispute_id", type=int)
@click.option("--credit-note", help="the credit note that resolves it (posted, the customer's)")
@click.option("--reject", is_flag=True, help="reject the dispute: the invoice is owed in full")
@click.option("--date", "on", help="resolved on (default today)")
@click.option("--notes")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def dispute_resolve_cmd(obj, dispute_id, credit_note, reject, on, notes, fmt):
    """Close dispute DISPUTE_ID: resolved by --credit-note, or --reject."""
    from dues.collections.services.disputes import dispute_resolve

    d = dispute_resolve(dispute=_dispute(obj.company(), dispute_id), credit_note=credit_note, rejected=reject,
                        on=parse_date(on) if on else None, notes=notes, actor=obj.user)
    if fmt == "json":
        print_json(_dispute_json(d))
        return
    out.print(f"dispute {d.pk} on {d.document.number}: {d.get_status_display()}"
              f"{f' by {d.credit_note.number}' if d.credit_note_id else ''}")


@cli.command("disputes")
@click.option("--status", type=click.Choice(["active", "open", "in_progress", "resolved_credit_note", "rejected"]))
@click.option("--customer", "customer_code")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def disputes_cmd(obj, status, customer_code, fmt):
    """Disputes, the oldest first, with their age against the SLA."""
    from dues.collections.selectors import disputes

    company = obj.company()
    found = [_dispute_json(d) for d in disputes(company, status,
                                                 _customer(company, customer_code) if customer_code else None)]
    if fmt == "json":
        print_json(found)
        return
    if not found:
        out.print(f"No {status.replace('_', ' ') + ' ' if status else ''}disputes")
        return
    table("Disputes", ["id", "invoice", "customer", "amount", "reason", "owner", "status", "age", "SLA", "credit note"],
          [[d["id"], d["document"], d["customer"], money_text(Decimal(d["amount"]), company.locale),
            d["reason"].replace("_", " "), d["owner"], d["status"].replace("_", " "),
            f"{d['age_days']} days{' (late)' if d['overdue_sla'] else ''}", d["sla_days"], d["credit_note"] or ""]
           for d in found], right=[0, 3, 8])
