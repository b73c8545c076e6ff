"""The ``dues`` command: every batch job of the desk, over the same services as the web app."""

from __future__ import annotations

import getpass
import os
import sys

import click
from django.core.exceptions import ImproperlyConfigured

from dues import __version__


def _setup_django(db: str | None) -> None:
    if db:
        os.environ["DUES_DATABASE_URL"] = db
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dues.settings")
    import django

    django.setup()


# The commands that make a database (init, the demo, the benchmarks' scratch books) write the secret-key file
# when there is no key yet (see dues.keyfile).
KEY_WRITERS = ("init", "demo", "bench")


def _ensure_secret_key() -> None:
    from dues import keyfile

    path, created = keyfile.ensure_key_file()
    if created:
        click.echo(f"wrote a new secret key to {path} (keep it private; DUES_SECRET_KEY overrides it)", err=True)


def _asks_for_help() -> bool:
    # click has taken the subcommand's arguments off the context by the time the group's callback runs
    return any(arg in ("--help", "-h") for arg in sys.argv[1:])


class Context:
    """What every command gets: who is acting, and the database chosen."""

    def __init__(self, user: str):
        self.user = user

    def company(self):
        from dues.companies.selectors import company_get

        return company_get()


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--db", metavar="URL", help="database URL (overrides DUES_DATABASE_URL), e.g. sqlite:///var/dues.sqlite3")
@click.option("--user", "user", metavar="NAME", help="who is acting, for the audit log (default: $DUES_USER or login)")
@click.version_option(__version__, prog_name="dues")
@click.pass_context
def cli(ctx: click.Context, db: str | None, user: str | None) -> None:
    """dues: an accounts-receivable desk (ledgers, receipts, ageing, audit trail)."""
    if ctx.invoked_subcommand == "demo" and not db and not os.environ.get("DUES_DATABASE_URL"):
        # the demo gets its own database, chosen before Django reads the settings
        from pathlib import Path

        db = f"sqlite:///{Path(os.environ.get('DUES_HOME', 'var')).resolve() / 'demo.sqlite3'}"
    if ctx.invoked_subcommand in KEY_WRITERS and not _asks_for_help():
        _ensure_secret_key()
    try:
        _setup_django(db)
    except ImproperlyConfigured:
        if not _asks_for_help():
            raise
        # `dues COMMAND --help` works on a fresh machine: the help needs no settings
    who = user or os.environ.get("DUES_USER") or f"cli:{getpass.getuser()}"
    ctx.obj = Context(who)


def main() -> None:
    from dues.cli import (  # noqa: F401  (register commands)
        api,
        attachments,
        backup,
        bench,
        billing,
        books,
        cash_apply,
        check,
        close,
        collect,
        confirm,
        credit,
        demo,
        documents,
        forecast,
        interest,
        jobs,
        kpi,
        ledger,
        policy,
        portal,
        predict,
        reconcile,
        replies,
        reports,
        risk,
        server,
        statements,
        tally,
        users,
    )
    from dues.cli.errors import run

    sys.exit(run(cli))


if __name__ == "__main__":
    # run as `python -m dues.cli.main`: use the importable module's group, where the commands live
    from dues.cli.main import main as _main

    _main()
