"""The engine under ``dues worker``: Huey (https://huey.readthedocs.io), a small, well-kept task queue
with a consumer (worker threads, a periodic scheduler) and storages for SQLite and Redis.

- ``DUES_JOBS_QUEUE`` unset: ``SqliteHuey`` in ``$DUES_HOME/jobs-queue.sqlite3`` — no server at all.
- ``DUES_JOBS_QUEUE=redis://host:6379/0``: ``RedisHuey``, shared by the workers of several machines.

The queue carries only run ids; the database (``JobRun``) is the truth, so workers on several
machines pointed at one PostgreSQL database never run a slot twice even each with its own SQLite
queue (services module doc). Every minute each consumer's periodic task ``tick`` claims due slots
and recovers runs whose worker died, enqueues ``run`` for every queued run and refreshes the ageing
summaries; ``run`` takes the run's lock and flips it to running, so a run enqueued twice still runs once.
"""

from __future__ import annotations

import logging
import os
from functools import cache
from pathlib import Path

from huey import RedisHuey, SqliteHuey, crontab

logger = logging.getLogger(__name__)


def queue_url() -> str:
    return os.environ.get("DUES_JOBS_QUEUE", "").strip()


@cache
def huey():
    url = queue_url()
    if url.startswith(("redis://", "rediss://", "unix://")):
        instance = RedisHuey("dues-jobs", url=url, utc=True)
    elif url.startswith("sqlite:///") or not url:
        path = url[len("sqlite:///"):] if url else str(Path(os.environ.get("DUES_HOME", "var")).resolve()
                                                       / "jobs-queue.sqlite3")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        instance = SqliteHuey("dues-jobs", filename=path, utc=True)
    else:
        raise ValueError(f"DUES_JOBS_QUEUE must be redis://... or sqlite:///path, got {url!r}")
    _register(instance)
    return instance


def _register(h) -> None:
    from django.db import close_old_connections, connection

    def tidy():  # a worker thread's broken or stale connection is replaced (never one inside a transaction)
        if not connection.in_atomic_block:
            close_old_connections()

    @h.pre_execute()
    def _fresh_connection(task):
        tidy()

    @h.post_execute()
    def _release_connection(task, task_value, exc):
        tidy()

    @h.task(name="dues.jobs.run")
    def run(run_id: int):
        from .services import execute

        return execute(run_id)

    @h.periodic_task(crontab(minute="*"), name="dues.jobs.tick")
    def tick():
        dispatch()
        refresh_summaries()

    h.dues_run = run


def dispatch() -> int:
    """Claim due slots, recover dead runs and enqueue every queued run; how many were enqueued."""
    from .services import queued_ids
    from .services import tick as claim

    claim()
    task = huey().dues_run
    ids = queued_ids()
    for run_id in ids:
        task(run_id)
    return len(ids)


def refresh_summaries() -> None:
    """Bring every company's ageing summary up to date (``dues.reporting.summary``): a failure is logged and
    left for the next minute, as the ageing reads the ledger for whatever the summary has not taken in."""
    from dues.reporting.summary import refresh_all

    try:
        refresh_all()
    except Exception:
        logger.exception("ageing summary refresh failed")


def _stop_with(parent: int) -> None:
    """Stop this worker when the process that started it is gone (the demo killed without Ctrl+C)."""
    import signal
    import threading
    import time

    def watch():
        while os.getppid() == parent:
            time.sleep(2)
        os.kill(os.getpid(), signal.SIGINT)  # Huey's consumer stops gracefully on SIGINT

    threading.Thread(target=watch, name="dues-parent-watch", daemon=True).start()


def consume(workers: int = 2, parent: int | None = None) -> None:
    """Run the Huey consumer (worker threads plus the periodic scheduler) until stopped."""
    if parent:
        _stop_with(parent)
    dispatch()  # at start: no need to wait a minute for the first tick
    consumer = huey().create_consumer(workers=workers, worker_type="thread", periodic=True, check_worker_health=True,
                                      initial_delay=0.2, max_delay=2.0)
    consumer.run()
