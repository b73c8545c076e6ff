"""The REST API's tokens and webhooks: ``dues token add|list|revoke``, ``dues webhook add|list|remove|deliver``."""

from __future__ import annotations

from datetime import date

import click

from .main import cli
from .output import out, print_json


@cli.group()
def token() -> None:
    """API tokens (``Authorization: Bearer <token>`` on /api/v1/): each acts as its user, with their role."""


@token.command("add")
@click.argument("username")
@click.option("--name", default="", help="a name to revoke it by (default token-N)")
@click.option("--expires", default=None, metavar="YYYY-MM-DD", help="the last day the token works")
@click.pass_obj
def token_add_cmd(obj, username, name, expires):
    """Issue a token for USERNAME; the token is printed once, alone on the last line."""
    from dues.api.tokens import token_add
    from dues.cli.books import migrate

    migrate()
    issued, text = token_add(username=username, name=name, expires_on=date.fromisoformat(expires) if expires else None,
                             actor=obj.user)
    until = f", expires after {issued.expires_on.isoformat()}" if issued.expires_on else ""
    out.print(f"token {issued.pk} [bold]{issued.name}[/bold] for {username}{until} (shown only now):")
    click.echo(text)


@token.command("revoke")
@click.argument("ref", metavar="ID|NAME")
@click.pass_obj
def token_revoke_cmd(obj, ref):
    """Revoke a token by its id, name or prefix: it stops working at once."""
    from dues.api.tokens import token_revoke

    revoked = token_revoke(ref=ref, actor=obj.user)
    out.print(f"revoked token {revoked.pk} {revoked.name} of {revoked.user.get_username()}")


@token.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def token_list_cmd(fmt):
    """Every token: its user, expiry, last use and whether it was revoked (never the secret)."""
    from rich.table import Table

    from dues.api.models import ApiToken

    rows = [{"id": t.pk, "name": t.name, "user": t.user.get_username(), "prefix": t.prefix,
             "expires_on": t.expires_on.isoformat() if t.expires_on else None,
             "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
             "revoked": t.revoked_at is not None}
            for t in ApiToken.objects.select_related("user").order_by("pk")]
    if fmt == "json":
        print_json(rows)
        return
    table = Table("id", "name", "user", "prefix", "expires", "last used", "revoked")
    for r in rows:
        table.add_row(str(r["id"]), r["name"], r["user"], r["prefix"], r["expires_on"] or "",
                      (r["last_used_at"] or "")[:16], "yes" if r["revoked"] else "")
    out.print(table)


@cli.group()
def webhook() -> None:
    """Webhook subscribers, and delivering the outbox (signed with HMAC-SHA256, retried with back-off)."""


@webhook.command("add")
@click.argument("url")
@click.option("--event", "events", multiple=True, help="an event to send (repeat; default: every event)")
@click.option("--secret", default="", help="the signing secret (default: a random one, printed)")
@click.pass_obj
def webhook_add_cmd(obj, url, events, secret):
    """Subscribe URL to events; prints the subscriber and its signing secret (last line)."""
    from dues.api.webhooks import subscriber_add
    from dues.cli.books import migrate

    migrate()
    events = [e.strip() for item in events for e in item.split(",") if e.strip()]
    sub = subscriber_add(url=url, events=events, secret=secret, actor=obj.user)
    out.print(f"webhook {sub.pk} → {sub.url} for {', '.join(sub.events) or 'every event'}; signing secret:")
    click.echo(sub.secret)


@webhook.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def webhook_list_cmd(fmt):
    """Subscribers with their outbox counts (pending, delivered, failed)."""
    from django.db.models import Count, Q
    from rich.table import Table

    from dues.api.models import WebhookSubscriber

    subs = WebhookSubscriber.objects.annotate(
        pending=Count("outbox", filter=Q(outbox__status="pending")),
        delivered=Count("outbox", filter=Q(outbox__status="delivered")),
        failed=Count("outbox", filter=Q(outbox__status="failed"))).order_by("pk")
    rows = [{"id": s.pk, "url": s.url, "events": s.events, "active": s.active, "pending": s.pending,
             "delivered": s.delivered, "failed": s.failed} for s in subs]
    if fmt == "json":
        print_json(rows)
        return
    table = Table("id", "url", "events", "active", "pending", "delivered", "failed")
    for r in rows:
        table.add_row(str(r["id"]), r["url"], ", ".join(r["events"]) or "(all)", "yes" if r["active"] else "no",
                      str(r["pending"]), str(r["delivered"]), str(r["failed"]))
    out.print(table)


@webhook.command("remove")
@click.argument("subscriber_id", type=int)
@click.pass_obj
def webhook_remove_cmd(obj, subscriber_id):
    """Stop sending to a subscriber (its pending deliveries are dropped; the log stays)."""
    from dues.api.webhooks import subscriber_remove

    sub = subscriber_remove(pk=subscriber_id, actor=obj.user)
    out.print(f"removed webhook {sub.pk} → {sub.url}")


@webhook.command("deliver")
@click.option("--limit", default=100, show_default=True, help="at most this many deliveries in one go")
def webhook_deliver_cmd(limit):
    """Send every delivery due now; failures are retried later with exponential back-off."""
    from dues.api.webhooks import deliver_due

    counts = deliver_due(limit=limit)
    out.print(f"delivered {counts['delivered']}, to retry {counts['retry']}, failed for good {counts['failed']}")
