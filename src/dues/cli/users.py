"""Desk users: ``dues user add|list``."""

from __future__ import annotations

import sys

import click

from .main import cli
from .output import out, print_json


@cli.group()
def user() -> None:
    """Desk users and their roles (admin, ar_manager, collector, billing, sales, auditor)."""


@user.command("add")
@click.argument("name")
@click.option("--role", required=True, help="admin, ar_manager, collector, billing, sales or auditor")
@click.option("--password-stdin", is_flag=True, help="read the password from the first line of standard input")
@click.option("--person", default="", help="the name customers carry for this user as salesperson/collector")
@click.option("--email", default="")
@click.pass_obj
def user_add_cmd(obj, name, role, password_stdin, person, email):
    """Create user NAME with ROLE (or change an existing user's role and password)."""
    from dues.cli.books import migrate
    from dues.core.errors import DuesError
    from dues.users.services import user_add

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise DuesError("--password-stdin: standard input had no password")
    else:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    migrate()
    user, created = user_add(username=name, role=role, password=password, person_name=person, email=email,
                             actor=obj.user)
    out.print(f"{'created' if created else 'updated'} user [bold]{user.get_username()}[/bold] with role {role}")


@user.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def user_list(fmt):
    """Every user with their role."""
    from django.contrib.auth import get_user_model
    from rich.table import Table

    from dues.users.permissions import role_of

    rows = []
    for u in get_user_model().objects.order_by("username"):
        person = getattr(getattr(u, "desk_role", None), "person_name", "")
        rows.append({"user": u.get_username(), "role": role_of(u) or "(none)", "person": person,
                     "active": u.is_active, "last_login": u.last_login.isoformat() if u.last_login else ""})
    if fmt == "json":
        print_json(rows)
        return
    table = Table("user", "role", "person", "active", "last login")
    for r in rows:
        table.add_row(r["user"], r["role"], r["person"], "yes" if r["active"] else "no", r["last_login"][:16])
    out.print(table)


@user.group("totp")
def user_totp() -> None:
    """The authenticator-app second factor (TOTP) of administrators and AR managers."""


@user_totp.command("enroll")
@click.argument("name")
@click.option("--replace", is_flag=True, help="issue a new secret to a user who already has one (the old one stops working)")
@click.pass_obj
def user_totp_enroll(obj, name, replace):
    """Give user NAME a TOTP secret: prints the otpauth:// address (and the secret) for their authenticator app.

    From then on signing in asks for the app's six-digit code after the password."""
    from dues.cli.books import migrate
    from dues.users.totp import totp_enroll

    migrate()
    _device, uri, secret = totp_enroll(username=name, replace=replace, actor=obj.user)
    out.print(f"authenticator enrolled for [bold]{name}[/bold]: add it to the app from this address (or type the "
              "secret); it is shown only now. Their next sign-in asks for the code.")
    out.print(f"secret: {secret}")
    click.echo(uri)


@user_totp.command("remove")
@click.argument("name")
@click.pass_obj
def user_totp_remove(obj, name):
    """Remove user NAME's authenticator (a lost phone): they sign in with the password alone until enrolled again."""
    from dues.cli.books import migrate
    from dues.users.totp import totp_remove

    migrate()
    removed = totp_remove(username=name, actor=obj.user)
    out.print(f"removed the authenticator of {name}" if removed else f"{name} had no authenticator")


@user.command("unlock")
@click.argument("name", required=False)
@click.option("--address", default="", help="clear the failed sign-ins counted for this IP address instead")
def user_unlock(name, address):
    """Clear the failed sign-ins counted against user NAME (or an --address), ending a lock-out before its time."""
    from axes.utils import reset

    from dues.cli.books import migrate
    from dues.core.errors import DuesError

    if bool(name) == bool(address):
        raise DuesError("give a user NAME or --address IP (one of them)")
    migrate()
    cleared = reset(username=name) if name else reset(ip=address)
    out.print(f"cleared {cleared} failed sign-in record(s) for {name or address}")
