"""Proofs through the real `dues` command: attach a POD to an invoice, a refused file writes nothing, list."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import dues_env

pytestmark = pytest.mark.e2e

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


def test_attach_refuse_and_list(tmp_path, scratch_db):
    env = dues_env(tmp_path, scratch_db)
    script = Path(sys.executable).with_name("dues")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "dues.cli.main"]

    def dues(*args):
        return subprocess.run([*command, *map(str, args)], env=env, capture_output=True, text=True, timeout=300)

    (tmp_path / "customers.csv").write_text("code,name,state,credit_days\nC001,Patil Engineering,27,30\n")
    (tmp_path / "invoices.csv").write_text("number,customer,date,amount\nINV-1,C001,2026-11-01,11800\n")
    (tmp_path / "pod.pdf").write_bytes(PDF)
    (tmp_path / "notes.pdf").write_text("not a pdf at all\n")
    for args in (("init", "--company", "Sahyadri Supplies"), ("import", "customers", tmp_path / "customers.csv"),
                 ("import", "invoices", tmp_path / "invoices.csv")):
        assert dues(*args).returncode == 0
    digest = hashlib.sha256(PDF).hexdigest()
    done = dues("attach", tmp_path / "pod.pdf", "--invoice", "INV-1")
    assert done.returncode == 0, done.stderr
    assert f"sha256 {digest}" in done.stdout
    assert (tmp_path / "var" / "proofs" / "sha256" / digest[:2] / digest).read_bytes() == PDF
    refused = dues("attach", tmp_path / "notes.pdf", "--invoice", "INV-1", "--kind", "po")
    assert refused.returncode == 1 and "notes.pdf: not accepted: its content is text" in refused.stderr
    listed = json.loads(dues("attachments", "--invoice", "INV-1", "--format", "json").stdout)["attachments"]
    assert [(a["filename"], a["kind"], a["sha256"], a["invoice"]) for a in listed] == [
        ("pod.pdf", "pod", digest, "INV-1")]
    assert len(list((tmp_path / "var" / "proofs").rglob("*.*"))) == 0  # content-addressed names only
    assert len([p for p in (tmp_path / "var" / "proofs").rglob("*") if p.is_file()]) == 1
