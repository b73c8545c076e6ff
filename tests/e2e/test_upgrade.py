"""Upgrade from the previous release's database: that release's own code (taken from git) builds a demo company's
books; this release's `dues init` (the container entry point's first step) applies the pending migrations; the
books are unchanged (ageing, customers) and the audit chain still verifies.

The previous release is PREVIOUS_RELEASE (the repository has no version tags: it is main as it stood at the start
of the previous batch of work). Move it forward at each release. The database is the kind under test (a SQLite
file, or a new PostgreSQL database).
"""

from __future__ import annotations

import io
import json
import os
import secrets
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
PREVIOUS_RELEASE = "9831d929016167ea7f250a4740d8cc181f945fc8"
AS_OF = "2026-11-30"


def previous_release_source(tmp_path: Path) -> Path:
    """The previous release's src/ tree, extracted from git (a CI clone has the history)."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        if os.environ.get("CI") == "true":
            pytest.fail("the upgrade test needs git and the repository's history")
        pytest.skip("not a git checkout: the previous release's code cannot be read")
    known = subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", f"{PREVIOUS_RELEASE}^{{commit}}"],
                           capture_output=True)
    if known.returncode != 0:  # a shallow clone: the release is not in it (git fetch --unshallow brings it)
        pytest.skip(f"the previous release {PREVIOUS_RELEASE[:7]} is not in this clone's history (shallow clone?)")
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", PREVIOUS_RELEASE, "src"],
                             capture_output=True, check=True).stdout
    target = tmp_path / "previous"
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target / "src"


def runner(tmp_path: Path, db_url: str, pythonpath: Path | None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUES_") or k == "DUES_NOW"}
    env.update(DUES_HOME=str(tmp_path / "home"), DUES_DATABASE_URL=db_url, DUES_USER="upgrade-test")
    if pythonpath:
        env["PYTHONPATH"] = str(pythonpath)
    else:
        env.pop("PYTHONPATH", None)

    def run(*args: str, module: str = "dues.cli.main", **extra_env: str) -> str:
        proc = subprocess.run([sys.executable, "-m", module, *args],
                              env={**env, "DJANGO_SETTINGS_MODULE": "dues.settings", **extra_env},
                              capture_output=True, text=True, cwd=tmp_path, timeout=600)
        assert proc.returncode == 0, f"{args}: {proc.stdout}\n{proc.stderr}"
        return proc.stdout

    return run


def unapplied(run) -> int:
    # a throwaway key: before `dues init` the previous release's home has no key file (that release had a
    # built-in fallback key), and listing migrations signs nothing
    listing = run("showmigrations", "--plan", module="django", DUES_SECRET_KEY=secrets.token_urlsafe(50))
    return sum(1 for line in listing.splitlines() if line.startswith("[ ]"))


def test_dues_init_upgrades_the_previous_releases_database(tmp_path, scratch_db):
    old_src = previous_release_source(tmp_path)
    old = runner(tmp_path, scratch_db, old_src)
    new = runner(tmp_path, scratch_db, None)
    loaded = subprocess.run([sys.executable, "-c", "import dues; print(dues.__file__)"], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(old_src)}, check=True).stdout
    assert loaded.startswith(str(old_src))  # the previous release's code runs, not this one

    # the previous release writes a year of books
    # --reset: the demo may write into the (empty) PostgreSQL database given
    old("demo", "--customers", "12", "--seed", "5", "--today", AS_OF, "--no-serve", "--reset")
    before_ageing = json.loads(old("ageing", "--as-of", AS_OF, "--format", "json"))
    before_by_sales = json.loads(old("ageing", "--as-of", AS_OF, "--by", "salesperson", "--format", "json"))
    assert "audit log OK" in old("audit", "verify")
    assert unapplied(new) > 0  # this release has migrations the previous one did not

    key_file = tmp_path / "home" / "secret.key"
    assert not key_file.exists()  # the previous release ran on its built-in key
    out = new("init", "--company", "Ignored On Upgrade")  # no key in the environment: init writes the file
    assert "database is up to date" in out and "already exists" in out
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert unapplied(new) == 0

    assert json.loads(new("ageing", "--as-of", AS_OF, "--format", "json")) == before_ageing
    assert json.loads(new("ageing", "--as-of", AS_OF, "--by", "salesperson", "--format", "json")) == before_by_sales
    assert "audit log OK" in new("audit", "verify")
    # and init again is a no-op
    assert "database is up to date" in new("init", "--company", "Ignored On Upgrade")
    assert "audit log OK" in new("audit", "verify")
