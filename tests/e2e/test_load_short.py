"""The load test in its short form: a small seeded book (bench/load/seed.py), `dues server` with two worker
processes, and Locust (bench/load/locustfile.py, headless) with 5 desk users walking the main pages for 20 s.
Every request must succeed; the latency targets are the full bench's (bench/load/run), not asserted here.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from .test_deploy_smoke import free_port

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
LOAD = ROOT / "bench" / "load"


def test_five_users_walk_the_desk_for_20_seconds_without_an_error(tmp_path, scratch_db):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUES_") or k == "DUES_NOW"}
    env.update(DUES_HOME=str(tmp_path / "home"), DUES_DATABASE_URL=scratch_db,
               DUES_SECRET_KEY="load-test-secret-key-0123456789-abcdefghijklmnopqrstuv")
    (tmp_path / "password").write_text("load-pass-2026\n")
    seeded = subprocess.run([sys.executable, str(LOAD / "seed.py"), "--customers", "300", "--users", "5",
                             "--password-file", str(tmp_path / "password")], env=env, capture_output=True, text=True,
                            timeout=300, cwd=tmp_path)
    assert seeded.returncode == 0, seeded.stderr
    book = json.loads(seeded.stdout)
    assert book["customers"] == 300 and book["open_items"] > 100 and len(book["users"]) == 5

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    with log.open("w") as out:
        server = subprocess.Popen([sys.executable, "-m", "dues.cli.main", "server", "--bind", f"127.0.0.1:{port}",
                                   "--workers", "2", "--no-access-log"], env=env, stdout=out, stderr=subprocess.STDOUT,
                                  cwd=tmp_path, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, log.read_text()[-3000:]
            try:
                if urllib.request.urlopen(f"{base}/readyz", timeout=5).status == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.3)
        stats = tmp_path / "locust"
        load = subprocess.run(
            [sys.executable, "-m", "locust", "-f", str(LOAD / "locustfile.py"), "--headless", "-u", "5", "-r", "5",
             "-t", "20s", "--host", base, "--csv", str(stats), "--only-summary", "--stop-timeout", "30"],
            env={**env, "DUES_LOAD_USERS": ",".join(book["users"]), "DUES_LOAD_PASSWORD": "load-pass-2026",
                 "DUES_LOAD_WAIT": "0.2,0.8"}, capture_output=True, text=True, timeout=180, cwd=tmp_path)
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=45) == 0, log.read_text()[-3000:]
    with open(f"{stats}_stats.csv", newline="") as f:
        rows = {row["Name"]: row for row in csv.DictReader(f)}
    total = rows.pop("Aggregated")
    failures = Path(f"{stats}_failures.csv").read_text()
    assert int(total["Failure Count"]) == 0, failures
    assert load.returncode == 0, load.stdout[-3000:] + load.stderr[-3000:]
    assert int(rows["login"]["Request Count"]) == 5  # every user signed in
    pages = {name: int(row["Request Count"]) for name, row in rows.items() if name not in ("login", "login form")}
    # the pages walked (how many depends on the machine's speed: CI's is shared, so no more than one per user)
    assert sum(pages.values()) >= 5, pages
