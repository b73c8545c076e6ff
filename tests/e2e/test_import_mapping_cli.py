"""`dues import invoices FILE --map ... --source NAME --save-map` through the real command, then the
saved mapping reused by `--source NAME` alone (the errors are tested in-process)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import dues_env

pytestmark = pytest.mark.e2e


def test_map_save_and_reuse(tmp_path, scratch_db):
    env = dues_env(tmp_path, scratch_db)
    script = Path(sys.executable).with_name("dues")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "dues.cli.main"]

    def dues(*args):
        return subprocess.run([*command, *map(str, args)], env=env, capture_output=True, text=True, timeout=300)

    assert dues("init", "--company", "Sahyadri Supplies").returncode == 0
    (tmp_path / "c.csv").write_text("code,name\nC001,Acme Fasteners Pvt Ltd\n")
    (tmp_path / "a.csv").write_text("Bill No,Party,Bill Date,Bill Amount\nB-1,C001,2025-04-01,1000\n")
    (tmp_path / "b.csv").write_text("Bill No,Party,Bill Date,Bill Amount\nB-2,Acme Fasteners Pvt Ltd,2025-04-02,250\n")
    assert dues("import", "customers", tmp_path / "c.csv").returncode == 0
    first = dues("import", "invoices", tmp_path / "a.csv", "--map",
                 "number=Bill No,customer=Party,date=Bill Date,amount=Bill Amount", "--source", "sharma", "--save-map")
    assert first.returncode == 0, first.stderr
    second = dues("import", "invoices", tmp_path / "b.csv", "--source", "sharma")
    assert second.returncode == 0 and "1 new" in second.stdout, second.stderr
