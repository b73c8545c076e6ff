"""``dues worker`` processes on PostgreSQL: two workers firing the same slot run it once, and a worker
killed with SIGKILL half-way through a job is retried by another without a duplicate e-mail."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest

from .test_jobs import Sink, free_port

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.date_sensitive,
              pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]


@pytest.fixture
def pg_url():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("worker processes share the database: PostgreSQL (an in-memory SQLite test database is private)")
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgresql://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class SlowSink(Sink):
    """Tells the test when the first message arrives, then holds its reply so the worker is mid-send."""

    def __init__(self):
        super().__init__()
        self.first = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        reply = await super().handle_DATA(server, session, envelope)
        if not self.first.is_set():
            self.first.set()
            await asyncio.sleep(4)
        return reply


def _smtp(monkeypatch, tmp_path, sink):
    from aiosmtpd.controller import Controller

    monkeypatch.setenv("DUES_HOME", str(tmp_path / "home"))
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("DUES_SMTP_URL", f"smtp://127.0.0.1:{port}")
    return controller


def _worker(url: str) -> subprocess.Popen:
    env = dict(os.environ, DUES_DATABASE_URL=url)
    return subprocess.Popen([sys.executable, "-m", "dues.cli.main", "--db", url, "worker", "--once"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture
def report_book(company, make_customer, post):
    from dues import clock
    from dues.jobs.services import schedule_set

    customer = make_customer("C001", name="Shree Ganesh Traders")
    post("invoice", "INV-1", customer, clock.today() - timedelta(days=60), "118000.00")
    schedule_set(name="daily-report", actor="test", job="daily_report", hour=0, minute=0,
                 recipients="a@example.com, b@example.com, c@example.com")


def test_two_workers_firing_the_same_slot_run_it_once(pg_url, report_book, monkeypatch, tmp_path):
    from dues.jobs.models import DONE, JobRun

    sink = Sink()
    controller = _smtp(monkeypatch, tmp_path, sink)
    try:
        workers = [_worker(pg_url), _worker(pg_url)]
        outputs = [w.communicate(timeout=180) for w in workers]
        assert all(w.returncode == 0 for w in workers), outputs
    finally:
        controller.stop()
    (run,) = JobRun.objects.all()
    assert run.status == DONE and run.attempts == 1, (run.status, run.error)
    assert sorted(o[0].strip() for o in outputs) == ["ran 0 job(s)", "ran 1 job(s)"]  # the other found it taken
    assert [len(sink.to(a)) for a in ("a@example.com", "b@example.com", "c@example.com")] == [1, 1, 1]


def test_a_worker_killed_mid_job_is_retried_by_another_without_a_duplicate_email(pg_url, report_book, monkeypatch,
                                                                                  tmp_path):
    from dues.jobs.models import DONE, SENDING, JobEffect, JobRun

    sink = SlowSink()
    controller = _smtp(monkeypatch, tmp_path, sink)
    try:
        first = _worker(pg_url)
        assert sink.first.wait(180), first.communicate(timeout=5)
        os.kill(first.pid, signal.SIGKILL)  # while it waits for the SMTP server's reply to the first e-mail
        first.wait(timeout=30)
        run = JobRun.objects.get()
        assert run.status == "running" and run.attempts == 1
        for _ in range(20):  # the dead worker's session (and its lock) goes when PostgreSQL notices the closed socket
            second = _worker(pg_url)
            out, err = second.communicate(timeout=180)
            assert second.returncode == 0, err
            run.refresh_from_db()
            if run.status == DONE:
                break
            time.sleep(0.5)
    finally:
        controller.stop()
    assert run.status == DONE and run.attempts == 2, (run.status, run.error)
    received = {a: len(sink.to(a)) for a in ("a@example.com", "b@example.com", "c@example.com")}
    assert received == {"a@example.com": 1, "b@example.com": 1, "c@example.com": 1}
    effects = dict(JobEffect.objects.filter(run=run).values_list("key", "status"))
    assert effects["email:daily:a@example.com"] == SENDING  # unconfirmed: never sent again
    assert effects["email:daily:b@example.com"] == effects["email:daily:c@example.com"] == "sent"
