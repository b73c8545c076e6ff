"""``dues backup`` and ``dues restore``: one archive of the database, the proofs and a manifest; see docs/backup.md."""

from __future__ import annotations

import contextlib

import click

from .main import cli
from .output import out, table


@cli.command("backup")
@click.option("-o", "--output", "output", metavar="FILE",
              help="the archive to write (default: var/backups/dues-backup-YYYYmmddTHHMMSS.tar.gz)")
def backup_cmd(output):
    """Write one .tar.gz: a consistent online snapshot of the database (SQLite backup API, or pg_dump in an
    exported snapshot), the proofs directory and a manifest (version, migrations, row counts, totals,
    audit head, sha256 of every member). The desk may keep working meanwhile."""
    from dues.backup import backup_create

    result = backup_create(output)
    m = result.manifest
    out.print(f"wrote {result.path} ({m['engine']}, {sum(m['row_counts'].values())} rows in {len(m['row_counts'])} "
              f"tables, proofs: {m['proofs']})")
    for note in result.notes:
        out.print(f"note: {note}")
    out.print(f"anchor: {m['audit_head']['seq']}:{m['audit_head']['hash']}")


def _point_at(url: str) -> None:
    """Make Django's default connection the database at ``url`` (it may be of another engine than --db's)."""
    from django.db import connections

    from dues.settings import database_from_url

    connections.close_all()
    with contextlib.suppress(AttributeError):  # not opened yet
        del connections["default"]
    config = connections.settings["default"]
    for key in ("ENGINE", "NAME", "USER", "PASSWORD", "HOST", "PORT", "OPTIONS"):
        config.pop(key, None)
    config.update(database_from_url(url))
    config.setdefault("OPTIONS", {})


@cli.command("restore")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--db", "db", metavar="URL", help="the database to restore into (default: --db before the command, "
                                                 "DUES_DATABASE_URL, or var/dues.sqlite3)")
@click.option("--force", is_flag=True, help="replace a database that is not empty (everything in it is dropped)")
def restore_cmd(file, db, force):
    """Restore FILE (made by `dues backup`) into an empty database of the same engine, put its proofs back,
    then verify: every member's sha256, the audit chain and head, row counts and totals against the
    manifest. Exit 1 when any check fails. Stop the web app and the worker first."""
    if db:
        _point_at(db)
    from dues.backup import restore

    result = restore(file, force=force)
    m = result.manifest
    out.print(f"restored {file} (dues {m['dues_version']}, {m['engine']}, made {m['created_at']})")
    for note in result.notes:
        out.print(f"note: {note}")
    table("Verification", ["check", "result", "detail"],
          [[c.name, "pass" if c.ok else "FAIL", c.message] for c in result.checks])
    if not result.ok:
        from .errors import err

        err.print("[red]error[/red] the restored database does not match the archive: "
                  + ", ".join(c.name for c in result.checks if not c.ok))
        return 1
    out.print("verified: the restored books match the archive")
    return 0
