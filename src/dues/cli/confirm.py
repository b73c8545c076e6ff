"""``dues confirm``: balance-confirmation letters, the customers' replies, the tracker and reminders."""

from __future__ import annotations

from decimal import Decimal

import click

from dues.core.dates import parse_date

from .main import cli
from .output import money_text, out, print_json, table


@cli.group()
def confirm():
    """Balance confirmation: ask customers to confirm our balance of their account; record the replies."""


def _customer(company, code):
    from dues.core.errors import DuesError
    from dues.customers.models import Customer

    customer = Customer.objects.filter(company=company, code=code).first()
    if customer is None:
        raise DuesError(f"no customer {code!r}")
    return customer


def _show_results(title, results, fmt, locale):
    if fmt == "json":
        print_json([r.as_json() for r in results])
    elif results:
        table(title, ["customer", "id", "balance", "status", "note"],
              [[r.customer, r.request.pk if r.request else "-",
                money_text(r.request.our_balance, locale) if r.request else "-", r.status, r.note] for r in results],
              right=[2])
    else:
        out.print(f"{title}: nothing to send")
    return 1 if any(r.status == "failed" for r in results) else 0


@confirm.command("send")
@click.argument("code", required=False)
@click.option("--all", "all_", is_flag=True, help="every customer with a balance on the date")
@click.option("--as-of", "as_of", required=True, metavar="DATE", help="the balance date (YYYY-MM-DD or DD-MM-YYYY)")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def confirm_send(obj, code, all_, as_of, fmt):
    """Send the balance-confirmation letter (PDF, by e-mail) to customer CODE or to --all with a balance.

    E-mail goes through DUES_SMTP_URL, else to $DUES_HOME/outbox/ as .eml; the PDF is kept in
    $DUES_HOME/letters/. A customer without an e-mail address gets a letter to print.
    """
    from dues.core.errors import DuesError
    from dues.reconciliation.services import confirmation_request

    if bool(code) == all_:
        raise DuesError("give a customer CODE or --all")
    company = obj.company()
    day = parse_date(as_of)
    customers = None if all_ else [_customer(company, code)]
    results = confirmation_request(company=company, as_of=day, actor=obj.user, customers=customers,
                                   all_with_balance=all_)
    return _show_results(f"Balance confirmations as of {day.strftime('%d-%m-%Y')}", results, fmt, company.locale)


@confirm.command("reply")
@click.argument("request_id", type=int)
@click.option("--confirmed", "status", flag_value="confirmed", help="they confirm our balance")
@click.option("--disagreed", "status", flag_value="disagreed", help="their balance differs")
@click.option("--no-reply", "status", flag_value="no_reply", help="close it unanswered")
@click.option("--balance", metavar="AMOUNT", help="their balance (with --disagreed; default: their file's)")
@click.option("--file", "file", type=click.Path(exists=True, dir_okay=False),
              help="their ledger of our account: reconciled against ours as of the request's date")
@click.option("--preset", type=click.Choice(["tally", "busy", "sap"]), help="column layout of their file")
@click.option("--map", "mapping", metavar="FIELD=COLUMN,...", help="their columns (see dues reconcile customer)")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def confirm_reply(obj, request_id, status, balance, file, preset, mapping, fmt):
    """Record the reply to balance-confirmation REQUEST_ID (the id `dues confirm status` shows)."""
    from dues.core.errors import DuesError
    from dues.reconciliation.models import ConfirmationRequest
    from dues.reconciliation.services import confirmation_reply

    if not status:
        raise DuesError("say --confirmed, --disagreed or --no-reply")
    company = obj.company()
    request = ConfirmationRequest.objects.filter(company=company, pk=request_id).first()
    if request is None:
        raise DuesError(f"no balance-confirmation request {request_id}")
    request = confirmation_reply(request=request, status=status, their_balance=balance, file=file, actor=obj.user,
                                 preset=preset, mapping=mapping)
    if fmt == "json":
        print_json({"id": request.pk, "customer": request.customer.code, "status": request.status,
                    "our_balance": f"{request.our_balance:.2f}",
                    "their_balance": None if request.their_balance is None else f"{request.their_balance:.2f}",
                    "reconciliation": request.reconciliation})
        return 0
    loc = company.locale
    out.print(f"{request.customer.code}: {request.status.replace('_', ' ')}; ours {money_text(request.our_balance, loc)}"
              + (f", theirs {money_text(request.their_balance, loc)}" if request.their_balance is not None else ""))
    rec = request.reconciliation
    if rec:
        table(f"Their ledger ({request.reply_file_name}) reconciled", ["kind", "ours", "theirs", "amount", "explanation"],
              [[d["kind"], d["ours"] or "-", d["theirs"] or "-", d["amount"], d["explanation"]]
               for d in rec["differences"]], right=[3])
        out.print(f"{len(rec['matched'])} matched; unexplained {rec['unexplained']}")
    return 0


@confirm.command("status")
@click.option("--status", "status", type=click.Choice(["requested", "confirmed", "disagreed", "no_reply"]))
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def confirm_status(obj, status, fmt):
    """The tracker: every request with its status, both balances and the reminders sent."""
    from dues.customers.models import Customer
    from dues.reconciliation import confirmation as conf
    from dues.users.permissions import customers_visible, require

    require(obj.user, "reports.view", "see balance confirmations")
    company = obj.company()
    visible = customers_visible(obj.user, Customer.objects.filter(company=company))
    qs = conf.confirmations(company, status=status, customers=visible)
    rows = conf.tracker_json(company, qs)
    if fmt == "json":
        counts = conf.tracker_counts(company, customers=visible)
        print_json({"counts": {"requested": counts.requested, "confirmed": counts.confirmed,
                               "disagreed": counts.disagreed, "no_reply": counts.no_reply}, "requests": rows})
        return 0
    def m(value):
        return "-" if value is None else money_text(Decimal(value), company.locale)

    if not rows:
        out.print("No balance confirmations yet: send some with `dues confirm send CODE --as-of DATE`.")
        return 0
    table("Balance confirmations", ["id", "customer", "as of", "ours", "status", "theirs", "difference", "reminders"],
          [[r["id"], r["customer"], r["as_of"], m(r["our_balance"]), r["status"].replace("_", " "),
            m(r["their_balance"]), m(r["difference"]), r["reminders"]] for r in rows], right=[3, 5, 6, 7])
    return 0


@confirm.command("remind")
@click.option("--days", type=click.IntRange(min=0), default=15, show_default=True,
              help="remind requests unanswered for this many days (since sent or last reminded)")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def confirm_remind(obj, days, fmt):
    """Send the letter again to customers who have not replied for --days days."""
    from dues.reconciliation.services import confirmation_remind

    company = obj.company()
    results = confirmation_remind(company=company, older_than_days=days, actor=obj.user)
    return _show_results(f"Reminders (unanswered for {days}+ days)", results, fmt, company.locale)
