"""`dues backup` / `dues restore` through the real command, on the suite's engine (SQLite, or PostgreSQL with
DUES_DATABASE_URL): a book with a proof backs up and restores into a fresh database that verifies; a changed
archive is refused; a backup taken while another process writes restores to a consistent state; the
``backup`` job kind writes archives on a schedule and keeps the newest."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import dues_env

pytestmark = pytest.mark.e2e

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


@pytest.fixture
def fresh_db(tmp_path):
    """fresh() -> the URL of another empty database of the engine under test (PostgreSQL ones dropped after)."""
    main = os.environ.get("DUES_DATABASE_URL", "")
    made: list[str] = []

    def fresh() -> str:
        if not main.startswith("postgres"):
            return f"sqlite:///{tmp_path / f'restored-{uuid.uuid4().hex[:8]}.sqlite3'}"
        base, name = main.split("?")[0].rsplit("/", 1)
        made.append(f"{name}_restore_{uuid.uuid4().hex[:8]}")
        return f"{base}/{made[-1]}"  # `dues restore` creates it

    yield fresh
    if made:
        import psycopg

        base = main.split("?")[0].rsplit("/", 1)[0]
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            for name in made:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _runner(env):
    script = Path(sys.executable).with_name("dues")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "dues.cli.main"]

    def dues(*args, **extra):
        return subprocess.run([*command, *map(str, args)], env=env | extra, capture_output=True, text=True,
                              timeout=300)

    return dues, command


def _book(tmp_path, dues) -> None:
    (tmp_path / "customers.csv").write_text("code,name,state,credit_days\nC001,Patil Engineering,27,30\n"
                                            "C002,Kaveri Traders,29,45\n")
    (tmp_path / "invoices.csv").write_text("number,customer,date,amount\nINV-1,C001,2026-10-01,11800\n"
                                           "INV-2,C001,2026-11-01,23600.50\nINV-3,C002,2026-11-05,5900\n")
    (tmp_path / "receipts.csv").write_text("number,customer,date,amount,allocations\n"
                                           "RCT-1,C001,2026-11-20,15000,INV-1:11800;INV-2:3200\n")
    (tmp_path / "pod.pdf").write_bytes(PDF)
    for args in (("init", "--company", "Sahyadri Supplies"), ("import", "customers", tmp_path / "customers.csv"),
                 ("import", "invoices", tmp_path / "invoices.csv"), ("import", "receipts", tmp_path / "receipts.csv"),
                 ("attach", tmp_path / "pod.pdf", "--invoice", "INV-2")):
        done = dues(*args)
        assert done.returncode == 0, (args, done.stdout, done.stderr)


def _ageing(dues, url: str) -> dict:
    done = dues("--db", url, "ageing", "--format", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_backup_restores_into_a_fresh_database_and_verifies(tmp_path, scratch_db, fresh_db, frozen_clock):
    env = dues_env(tmp_path, scratch_db)
    dues, _ = _runner(env)
    _book(tmp_path, dues)
    archive = tmp_path / "books.tar.gz"
    made = dues("backup", "-o", archive)
    assert made.returncode == 0, made.stderr
    assert "proofs: 1 file(s)" in made.stdout
    anchor = next(line for line in made.stdout.splitlines() if line.startswith("anchor: ")).split()[1]
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))
    engine = "postgresql" if scratch_db.startswith("postgres") else "sqlite"
    assert manifest["engine"] == engine and manifest["dues_version"]
    # dues.clock's time, not the machine's (each reading of the frozen clock in a process is a microsecond on, so
    # the subprocess's first reading and this worker's differ by the worker's readings so far)
    assert abs(datetime.fromisoformat(manifest["created_at"]) - frozen_clock) < timedelta(seconds=1)
    assert manifest["database_member"] in names and len([n for n in names if n.startswith("proofs/")]) == 1
    assert manifest["row_counts"]["ledger_document"] == 4 and manifest["totals"]["open_items_residual"] == "26300.5000"
    assert f"{manifest['audit_head']['seq']}:{manifest['audit_head']['hash']}" == anchor
    assert set(manifest["members"]) == set(names) - {"manifest.json"}
    assert "ledger" in manifest["migrations"] and "audit" in manifest["migrations"]

    target, proofs = fresh_db(), tmp_path / "proofs-restored"
    restored = dues("restore", archive, "--db", target, DUES_STORAGE_DIR=str(proofs))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "verified: the restored books match the archive" in restored.stdout
    rows = {cells[0]: cells[1] for line in restored.stdout.splitlines()
            if len(cells := [c.strip() for c in line.split("│")[1:-1]]) == 3}
    assert {k: rows.get(k) for k in ("audit chain", "audit head", "row counts", "totals")} == dict.fromkeys(
        ("audit chain", "audit head", "row counts", "totals"), "pass")
    digest = manifest["members"][next(n for n in names if n.startswith("proofs/"))]
    assert (proofs / "sha256" / digest[:2] / digest).read_bytes() == PDF
    # the restored books are the same books: ageing, and the audit chain with the same head
    assert _ageing(dues, target) == _ageing(dues, scratch_db)
    verify = dues("--db", target, "audit", "verify", "--anchor", anchor)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    # the restored database is not empty any more: refused without --force, replaced with it
    again = dues("restore", archive, "--db", target, DUES_STORAGE_DIR=str(proofs))
    assert again.returncode == 1 and "is not empty" in again.stderr
    forced = dues("restore", archive, "--db", target, "--force", DUES_STORAGE_DIR=str(proofs))
    assert forced.returncode == 0 and "verified" in forced.stdout, forced.stderr


def _rewrite(archive: Path, out: Path, change, extra: tuple[str, bytes] | None = None) -> None:
    """Copy ``archive`` to ``out`` with ``change(name, data) -> data`` applied to every member (and one more)."""
    with tarfile.open(archive) as src, tarfile.open(out, "w:gz") as dst:
        for member in src.getmembers():
            data = change(member.name, src.extractfile(member).read())
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
        if extra:
            info = tarfile.TarInfo(extra[0])
            info.size = len(extra[1])
            dst.addfile(info, io.BytesIO(extra[1]))


def test_a_changed_archive_is_refused_and_nothing_restored(tmp_path, scratch_db, fresh_db):
    env = dues_env(tmp_path, scratch_db)
    dues, _ = _runner(env)
    _book(tmp_path, dues)
    archive = tmp_path / "books.tar.gz"
    assert dues("backup", "-o", archive).returncode == 0

    def proof_changed(name, data):
        return data.replace(b"Catalog", b"Katalog") if name.startswith("proofs/") else data

    def database_changed(name, data):
        if name.startswith("database"):
            data = bytearray(data)
            data[len(data) // 2] ^= 0xFF
        return bytes(data)

    for label, change in (("proof", proof_changed), ("database", database_changed)):
        bad = tmp_path / f"{label}.tar.gz"
        _rewrite(archive, bad, change)
        target = fresh_db()
        refused = dues("restore", bad, "--db", target, DUES_STORAGE_DIR=str(tmp_path / "p"))
        assert refused.returncode == 1, refused.stdout
        assert "does not match its sha256 in the manifest; nothing was restored" in refused.stderr
        assert not (tmp_path / "p").exists()
        # nothing was written: the target is still empty (a restore into it goes through)
        good = dues("restore", archive, "--db", target, DUES_STORAGE_DIR=str(tmp_path / f"p-{label}"))
        assert good.returncode == 0, good.stdout + good.stderr
    extra = tmp_path / "extra.tar.gz"
    _rewrite(archive, extra, lambda name, data: data, ("proofs/sha256/00/planted", b"%PDF-1.4 planted"))
    refused = dues("restore", extra, "--db", fresh_db())
    assert refused.returncode == 1 and "member(s) not in its manifest: proofs/sha256/00/planted" in refused.stderr
    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_bytes(b"not an archive at all")
    refused = dues("restore", garbage, "--db", fresh_db())
    assert refused.returncode == 1 and "is not a dues backup archive" in refused.stderr


WRITER = """
import subprocess, sys
command, folder, rounds = sys.argv[1:-2], sys.argv[-2], int(sys.argv[-1])
for i in range(rounds):
    path = f"{folder}/w{i}.csv"
    with open(path, "w") as f:
        f.write("number,customer,date,amount\\n" + "".join(f"W{i}-{k},C00{1 + k % 2},2026-11-{1 + k:02d},{100 + i * 10 + k}\\n"
                                                              for k in range(20)))
    subprocess.run([*command, "import", "invoices", path], check=True, capture_output=True)
print("wrote", rounds)
"""


def test_a_backup_taken_while_another_process_writes_restores_consistent(tmp_path, scratch_db, fresh_db):
    env = dues_env(tmp_path, scratch_db)
    dues, command = _runner(env)
    _book(tmp_path, dues)
    writer = subprocess.Popen([sys.executable, "-c", WRITER, *command, str(tmp_path), "10"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    archives = []
    try:
        for n in range(2):
            archive = tmp_path / f"during-{n}.tar.gz"
            made = dues("backup", "-o", archive)
            assert made.returncode == 0, made.stderr
            archives.append(archive)
    finally:
        out, err = writer.communicate(timeout=600)
    assert writer.returncode == 0, err
    counts = []
    for archive in archives:
        with tarfile.open(archive) as tar:
            manifest = json.load(tar.extractfile("manifest.json"))
        documents = manifest["row_counts"]["ledger_document"]
        assert (documents - 4) % 20 == 0, "a snapshot holds whole imports only (each one is one transaction)"
        counts.append(documents)
        target = fresh_db()
        restored = dues("restore", archive, "--db", target, DUES_STORAGE_DIR=str(tmp_path / archive.stem))
        assert restored.returncode == 0, restored.stdout + restored.stderr
        assert "verified" in restored.stdout
    assert counts == sorted(counts)
    print("documents in the snapshots taken while writing:", counts)


def test_the_backup_job_writes_archives_on_a_schedule_and_keeps_the_newest(tmp_path, scratch_db):
    env = dues_env(tmp_path, scratch_db)
    dues, _ = _runner(env)
    _book(tmp_path, dues)
    folder = tmp_path / "nightly"
    made = dues("schedule", "set", "nightly-backup", "--job", "backup", "--every", "daily", "--at", "02:00",
                "--param", f"folder={folder}", "--param", "keep=2", "--enable")
    assert made.returncode == 0, made.stderr
    for day in ("07", "08", "09"):
        done = dues("schedule", "run-now", "nightly-backup", "--wait", DUES_NOW=f"2026-12-{day}T02:00:00+05:30")
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"wrote dues-backup-202612{day}T020000.tar.gz" in done.stdout and "proofs: 1 file(s)" in done.stdout
    assert sorted(p.name for p in folder.iterdir()) == ["dues-backup-20261208T020000.tar.gz",
                                                        "dues-backup-20261209T020000.tar.gz"]
