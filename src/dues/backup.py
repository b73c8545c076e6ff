"""``dues backup`` and ``dues restore``: one archive with a consistent online snapshot of the books.

The archive (``.tar.gz``) holds

- ``database.sqlite3`` (SQLite: the sqlite3 online backup API, one consistent copy while the desk may be
  writing) or ``database.dump`` (PostgreSQL: ``pg_dump --format=custom`` inside an exported snapshot);
- ``proofs/...``: the attachments directory (``DUES_STORAGE_DIR``), when proofs are kept on disk;
- ``manifest.json``: dues version, migration heads, when (``dues.clock``), the engine, every table's row
  count and the balance totals, the audit head (seq and hash) — all read from the same snapshot as the
  database member — and the sha256 of every other member.

``restore`` checks every member against the manifest before it writes anything, loads the database into an
empty one (refusing one that holds tables unless ``force``), copies the proofs back, then verifies: the
audit chain (``audit_verify``), its head against the manifest's, and the row counts and totals recomputed
from the restored database against the manifest's.

What it does not do: restore across engines (a SQLite archive restores into SQLite, a PostgreSQL one into
PostgreSQL), and proofs kept in an S3 bucket are not in the archive (the bucket's own versioning keeps them).
The manifest's sha256 sums find a damaged or altered member; someone who rewrites the manifest too is caught
by the audit verification only as far as the audit chain reaches (keep the printed audit anchor elsewhere).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from dues import __version__, clock
from dues.core.errors import DuesError

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite3"
PG_MEMBER = "database.dump"
PROOFS = "proofs"
FOURPLACES = Decimal("0.0001")


# --- what a snapshot says about itself ----------------------------------------------------------------------

def _totals_sql() -> dict[str, tuple[str, str]]:
    """name -> (table, column expression): the balance figures compared after a restore."""
    from dues.ledger.models import Allocation, Document, JournalLine, OpenItem

    jl, oi, al, doc = (m._meta.db_table for m in (JournalLine, OpenItem, Allocation, Document))
    return {
        "journal_debit": (jl, "debit"),
        "journal_credit": (jl, "credit"),
        "open_items_amount": (oi, "amount"),
        "open_items_residual": (oi, "residual"),
        "allocations_amount": (al, "amount"),
        "documents_amount": (doc, "amount"),
    }


def _tables(cursor, vendor: str) -> list[str]:
    if vendor == "postgresql":
        cursor.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
                       "AND table_type = 'BASE TABLE' ORDER BY table_name")
    else:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    return [r[0] for r in cursor.fetchall()]


def _decimal(value) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def figures(cursor, vendor: str) -> dict[str, Any]:
    """Row counts of every table, the balance totals, the audit head and the migration heads, read through
    ``cursor`` (any DB-API cursor: the snapshot's, or Django's on the restored database)."""
    tables = _tables(cursor, vendor)
    counts = {}
    for table in tables:
        cursor.execute(f'SELECT COUNT(*) FROM "{table}"')
        counts[table] = int(cursor.fetchone()[0])
    totals = {}
    for name, (table, column) in _totals_sql().items():
        total = Decimal(0)
        if table in counts:
            # summed here in Decimal, row by row: SQLite's SUM over NUMERIC columns may go through floats
            cursor.execute(f'SELECT "{column}" FROM "{table}"')
            while rows := cursor.fetchmany(5000):
                total += sum((_decimal(r[0]) for r in rows if r[0] is not None), Decimal(0))
        totals[name] = str(total.quantize(FOURPLACES))
    head = {"seq": 0, "hash": ""}
    if "audit_head" in counts:
        cursor.execute("SELECT seq, hash FROM audit_head WHERE id = 1")
        row = cursor.fetchone()
        if row:
            head = {"seq": int(row[0]), "hash": row[1]}
    migrations = {}
    if "django_migrations" in counts:
        cursor.execute("SELECT app, MAX(name) FROM django_migrations GROUP BY app ORDER BY app")
        migrations = {app: name for app, name in cursor.fetchall()}
    return {"row_counts": counts, "totals": totals, "audit_head": head, "migrations": migrations}


# --- backup -------------------------------------------------------------------------------------------------

@dataclass
class BackupResult:
    path: Path
    manifest: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise DuesError(f"{name} is not on the PATH: install the PostgreSQL client tools (Debian: apt-get install "
                        "postgresql-client; scripts/setup does it) of the server's major version or newer")
    return found


def _pg_env(settings_dict: dict) -> dict[str, str]:
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if settings_dict.get(key):
            env[var] = str(settings_dict[key])
    env["PGDATABASE"] = str(settings_dict["NAME"])
    return env


def _pg_connect(settings_dict: dict, dbname: str | None = None):
    import psycopg

    params = {"dbname": dbname or settings_dict["NAME"]}
    for key, name in (("HOST", "host"), ("PORT", "port"), ("USER", "user"), ("PASSWORD", "password")):
        if settings_dict.get(key):
            params[name] = str(settings_dict[key])
    return psycopg.connect(**params)


def _snapshot_postgres(settings_dict: dict, folder: Path) -> dict[str, Any]:
    """pg_dump of one exported snapshot; the figures are read inside that same snapshot."""
    pg_dump = _pg_tool("pg_dump")
    with _pg_connect(settings_dict) as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        with conn.cursor() as cursor:
            facts = figures(cursor, "postgresql")
        facts["server_version"] = conn.execute("SHOW server_version").fetchone()[0]
        out = folder / PG_MEMBER
        done = subprocess.run([pg_dump, "--format=custom", f"--snapshot={snapshot}", "--no-owner", "--no-privileges",
                               "--file", str(out)], env=_pg_env(settings_dict), capture_output=True, text=True)
        conn.rollback()
    if done.returncode != 0:
        raise DuesError(f"pg_dump failed: {done.stderr.strip()}")
    return facts


def _snapshot_sqlite(settings_dict: dict, folder: Path) -> dict[str, Any]:
    """The sqlite3 online backup API: a consistent copy while other connections may be writing."""
    source_path = Path(settings_dict["NAME"])
    if not source_path.exists():
        raise DuesError(f"no database at {source_path}: nothing to back up")
    out = folder / SQLITE_MEMBER
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=30)
    target = sqlite3.connect(out)
    try:
        source.backup(target)  # all pages in one step: one read transaction, one point in time
        target.execute("PRAGMA journal_mode=DELETE")  # a self-contained file, no -wal beside it
        facts = figures(target.cursor(), "sqlite")
    finally:
        target.close()
        source.close()
    return facts


def proofs_location() -> tuple[Path | None, str]:
    """The proofs directory, or None with why (an S3 bucket is not copied into the archive)."""
    from django.conf import settings

    proofs = settings.STORAGES.get("proofs", {})
    if "s3" in proofs.get("BACKEND", "").lower():
        bucket = proofs.get("OPTIONS", {}).get("bucket_name", "")
        return None, (f"proofs are kept in the S3 bucket {bucket!r}: they are NOT in this archive; the bucket's "
                      "own versioning (or replication) backs them up")
    return Path(proofs.get("OPTIONS", {}).get("location", "")), ""


def backup_create(output: Path | str | None = None) -> BackupResult:
    """Write one archive of the database (consistent snapshot), the proofs and the manifest."""
    from django.conf import settings
    from django.db import connection

    settings_dict = connection.settings_dict
    vendor = connection.vendor
    now = clock.now()
    if output is None:
        output = Path(settings.DEFAULT_DB_PATH).parent / "backups" / f"dues-backup-{now:%Y%m%dT%H%M%S}.tar.gz"
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="dues-backup-") as tmp:
        folder = Path(tmp)
        if vendor == "postgresql":
            facts, member = _snapshot_postgres(settings_dict, folder), PG_MEMBER
        elif vendor == "sqlite":
            facts, member = _snapshot_sqlite(settings_dict, folder), SQLITE_MEMBER
        else:
            raise DuesError(f"backing up a {vendor} database is not supported")
        members = {member: _sha256(folder / member)}
        proofs, why = proofs_location()
        proof_files: list[tuple[Path, str]] = []
        if proofs is None:
            notes.append(why)
        elif proofs.is_dir():
            for path in sorted(p for p in proofs.rglob("*") if p.is_file()):
                name = f"{PROOFS}/{path.relative_to(proofs).as_posix()}"
                proof_files.append((path, name))
                members[name] = _sha256(path)
        manifest = {
            "format": FORMAT, "dues_version": __version__, "created_at": now.isoformat(), "engine": vendor,
            "database_member": member, "migrations": facts.pop("migrations"), "row_counts": facts["row_counts"],
            "totals": facts["totals"], "audit_head": facts["audit_head"],
            "proofs": "s3 (not included)" if proofs is None else f"{len(proof_files)} file(s)",
            "members": members,
        } | ({"server_version": facts["server_version"]} if "server_version" in facts else {})
        partial = output.with_name(output.name + ".partial")
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(folder / member, arcname=member)
            for path, name in proof_files:
                tar.add(path, arcname=name)
            data = json.dumps(manifest, indent=2, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(data), int(now.timestamp()), 0o644
            tar.addfile(info, io.BytesIO(data))
        os.replace(partial, output)
    return BackupResult(output, manifest, notes)


# --- restore ------------------------------------------------------------------------------------------------

@dataclass
class Check:
    name: str
    ok: bool
    message: str


@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)


def _unpack(archive: Path, folder: Path) -> dict[str, Any]:
    """Extract the archive and check every member against the manifest's sha256 (nothing written elsewhere)."""
    if not archive.is_file():
        raise DuesError(f"{archive}: no such file")
    try:
        with tarfile.open(archive, "r:*") as tar:
            tar.extractall(folder, filter="data")
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise DuesError(f"{archive} is not a dues backup archive or is damaged: {exc}") from None
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
        members = dict(manifest["members"])
    except (OSError, ValueError, KeyError, TypeError):
        raise DuesError(f"{archive} has no readable {MANIFEST}: not a dues backup archive") from None
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} - {MANIFEST}
    if present - set(members):
        raise DuesError(f"{archive} was changed: member(s) not in its manifest: {', '.join(sorted(present - set(members)))}")
    for name, digest in sorted(members.items()):
        path = folder / name
        if not path.is_file():
            raise DuesError(f"{archive} was changed or is incomplete: {name} is missing")
        if _sha256(path) != digest:
            raise DuesError(f"{archive} was changed or is damaged: {name} does not match its sha256 in the manifest; "
                            "nothing was restored")
    return manifest


def _sqlite_has_tables(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return False
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return bool(conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0])


def _restore_sqlite(settings_dict: dict, dump: Path, force: bool) -> None:
    target = Path(settings_dict["NAME"])
    if _sqlite_has_tables(target) and not force:
        raise DuesError(f"{target} is not empty: restore into a new database, or give --force to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".restoring")
    shutil.copyfile(dump, partial)
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    os.replace(partial, target)


def _ensure_pg_database(settings_dict: dict) -> None:
    import psycopg

    try:
        _pg_connect(settings_dict).close()
    except psycopg.OperationalError as exc:
        if "does not exist" not in str(exc):
            raise DuesError(f"cannot connect to the database: {exc}") from None
        with _pg_connect(settings_dict, dbname="postgres") as conn:
            conn.autocommit = True
            conn.execute(f'CREATE DATABASE "{settings_dict["NAME"]}"')


def _restore_postgres(settings_dict: dict, dump: Path, force: bool) -> None:
    pg_restore = _pg_tool("pg_restore")
    _ensure_pg_database(settings_dict)
    with _pg_connect(settings_dict) as conn:
        with conn.cursor() as cursor:
            tables = _tables(cursor, "postgresql")
        if tables:
            if not force:
                raise DuesError(f"database {settings_dict['NAME']} is not empty ({len(tables)} tables): restore into "
                                "a new database, or give --force to replace it")
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public")
        conn.commit()
    done = subprocess.run([pg_restore, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
                           "--dbname", str(settings_dict["NAME"]), str(dump)],
                          env=_pg_env(settings_dict), capture_output=True, text=True)
    if done.returncode != 0:
        raise DuesError(f"pg_restore failed: {done.stderr.strip()}")


def _restore_proofs(folder: Path, manifest: dict, notes: list[str]) -> int:
    names = [n for n in manifest["members"] if n.startswith(f"{PROOFS}/")]
    if not names:
        return 0
    proofs, why = proofs_location()
    if proofs is None:
        notes.append(f"{len(names)} proof file(s) in the archive were not restored: {why.split(':')[0]}; copy them "
                     "from the archive's proofs/ folder into the bucket")
        return 0
    for name in names:
        target = proofs / name[len(PROOFS) + 1:]
        target.parent.mkdir(parents=True, exist_ok=True)
        if not (target.is_file() and _sha256(target) == manifest["members"][name]):
            shutil.copyfile(folder / name, target)
    return len(names)


def restore_verify(manifest: dict) -> list[Check]:
    """The restored database against the manifest: audit chain, its head, row counts, totals."""
    from django.db import connection

    from dues.audit.services import audit_verify

    checks = []
    result = audit_verify()
    checks.append(Check("audit chain", result.ok, f"{result.records} record(s) verify" if result.ok
                        else f"broken at record {result.problem.seq}: {result.problem.reason}"))
    head = manifest["audit_head"]
    same_head = (result.head_seq, result.head_hash) == (head["seq"], head["hash"])
    checks.append(Check("audit head", same_head, f"anchor {result.head_seq}:{result.head_hash}" if same_head else
                        f"the restored head {result.head_seq}:{result.head_hash[:16]} is not the archive's "
                        f"{head['seq']}:{head['hash'][:16]}"))
    with connection.cursor() as cursor:
        now = figures(cursor, connection.vendor)
    wrong = [f"{t}: {now['row_counts'].get(t)} rows, archive says {n}" for t, n in manifest["row_counts"].items()
             if now["row_counts"].get(t) != n]
    wrong += [f"{t}: in the restored database, not in the archive" for t in now["row_counts"]
              if t not in manifest["row_counts"]]
    checks.append(Check("row counts", not wrong, f"{len(now['row_counts'])} tables, {sum(now['row_counts'].values())} "
                        "rows, as in the archive" if not wrong else "; ".join(wrong[:10])))
    wrong = [f"{k}: {now['totals'].get(k)}, archive says {v}" for k, v in manifest["totals"].items()
             if now["totals"].get(k) != v]
    checks.append(Check("totals", not wrong, ", ".join(f"{k} {v}" for k, v in now["totals"].items())
                        if not wrong else "; ".join(wrong)))
    return checks


def restore(archive: Path | str, *, force: bool = False) -> RestoreResult:
    """Restore ``archive`` into the configured database (empty unless ``force``), then verify it."""
    from django.db import connection

    archive = Path(archive)
    vendor = connection.vendor
    settings_dict = dict(connection.settings_dict)
    with tempfile.TemporaryDirectory(prefix="dues-restore-") as tmp:
        folder = Path(tmp)
        manifest = _unpack(archive, folder)
        if manifest.get("format") != FORMAT:
            raise DuesError(f"{archive} is a backup of format {manifest.get('format')}; this dues reads format {FORMAT}")
        if manifest["engine"] != vendor:
            raise DuesError(f"{archive} is a {manifest['engine']} backup and the target is {vendor}: restore across "
                            "engines is not supported (restore into the same kind of database)")
        result = RestoreResult(manifest)
        connection.close()
        dump = folder / manifest["database_member"]
        if vendor == "sqlite":
            _restore_sqlite(settings_dict, dump, force)
        else:
            _restore_postgres(settings_dict, dump, force)
        n = _restore_proofs(folder, manifest, result.notes)
        result.notes.append(f"restored {n} proof file(s)")
    if manifest.get("dues_version") != __version__:
        result.notes.append(f"the archive was made by dues {manifest.get('dues_version')}, this is {__version__}: "
                            "run `dues init` to upgrade the schema if it is older")
    result.checks = restore_verify(manifest)
    return result
