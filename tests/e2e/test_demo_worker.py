"""The demo as ``scripts/demo`` starts it: the web app and ``dues worker`` beside it, so the first daily
report lands in the outbox on schedule (the worker's first tick claims the daily report's latest slot)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.e2e


def test_the_demo_runs_its_worker_and_the_daily_report_lands_in_the_outbox(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, DUES_HOME=str(tmp_path), DUES_USER="e2e")
    env.pop("DUES_DATABASE_URL", None)
    env.pop("DUES_SMTP_URL", None)
    env.pop("DUES_JOBS_QUEUE", None)
    demo = subprocess.Popen([sys.executable, "-m", "dues.cli.main", "demo", "--customers", "5", "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    outbox = tmp_path / "outbox"
    try:
        deadline = time.monotonic() + 240
        reports = []
        while time.monotonic() < deadline and not reports:
            assert demo.poll() is None, "the demo stopped"
            reports = sorted(outbox.glob("jobs-daily-report_*.eml")) if outbox.exists() else []
            time.sleep(0.5)
        assert reports, "no daily report in the outbox"
        time.sleep(1)  # written whole (one write), but let the worker record the run
        text = reports[0].read_text(errors="replace")
        assert "management@sahyadri.example" in text and "Daily outstanding report" in text
        assert "application/pdf" in text
    finally:
        os.killpg(demo.pid, signal.SIGTERM)  # the demo and the worker it started (its own session)
        demo.wait(timeout=30)
    # the worker stops with the demo: nothing left in the session (Huey finishes its current task first)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            os.killpg(demo.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.5)
    else:
        os.killpg(demo.pid, signal.SIGKILL)
        pytest.fail("the worker outlived the demo by a minute")
