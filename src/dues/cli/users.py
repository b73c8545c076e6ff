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
