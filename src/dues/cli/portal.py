"""``dues portal link|revoke``: the customer portal's signed, expiring links."""

from __future__ import annotations

import click

from .main import cli
from .output import out


@cli.group()
def portal() -> None:
    """Customer portal links: a customer opens their account with the link alone (no password)."""


def _customer(company, code):
    from dues.core.errors import DuesError
    from dues.customers.models import Customer

    customer = Customer.objects.filter(company=company, code=code).first()
    if customer is None:
        raise DuesError(f"no customer {code!r}")
    return customer


@portal.command("link")
@click.argument("code")
@click.option("--days", default=30, show_default=True, help="how many days the link works")
@click.option("--base-url", default=None, help="the address customers reach the app at (default DUES_PUBLIC_URL)")
@click.pass_obj
def portal_link_cmd(obj, code, days, base_url):
    """Issue a portal link for customer CODE; the link is printed once, alone on the last line."""
    from dues.portal.links import link_create, portal_url

    customer = _customer(obj.company(), code)
    link, token = link_create(customer=customer, actor=obj.user, days=days)
    out.print(f"portal link {link.pk} for {customer.code} {customer.name}, works until "
              f"{link.expires_at.date().isoformat()} (shown only now):")
    click.echo(portal_url(token, base_url))


@portal.command("revoke")
@click.argument("code", required=False)
@click.option("--all", "all_", is_flag=True, help="every customer's links")
@click.pass_obj
def portal_revoke_cmd(obj, code, all_):
    """Revoke every live portal link of customer CODE (or of every customer with --all): they stop at once."""
    from dues.core.errors import DuesError
    from dues.portal.links import link_revoke

    if bool(code) == bool(all_):
        raise DuesError("give a customer code or --all (not both)")
    company = obj.company()
    customer = _customer(company, code) if code else None
    n = link_revoke(company=company, actor=obj.user, customer=customer, all_links=all_)
    out.print(f"revoked {n} portal link{'s' if n != 1 else ''}" + (f" of {customer.code}" if customer else ""))
