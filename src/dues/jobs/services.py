"""Claiming, running and retrying jobs; editing schedules (audited).

Exactly once, in three parts (docs/jobs.md):

1. **A slot is claimed once.** ``tick`` inserts a ``JobRun`` with the run key ``<schedule>@<period>``
   for each schedule's latest due slot; the key is unique, so of several workers ticking at once one
   insert wins and the others get an ``IntegrityError`` and move on.
2. **A run is executed by one worker at a time.** ``execute`` first takes the run's lock (PostgreSQL:
   a session advisory lock on the run id; SQLite: an exclusive ``flock`` on a file beside the database),
   then flips it ``queued -> running`` with a conditional UPDATE. Both locks die with the process, so
   ``recover`` (run by every tick) finds a ``running`` run whose lock it *can* take: its worker is dead,
   and the run goes back to ``queued`` for any worker to retry.
3. **Effects are idempotent per run key.** ``RunContext.once(key, fn)`` records a ``JobEffect`` (run, key)
   as ``sending`` and commits it *before* calling ``fn`` (the e-mail's hand-over to SMTP), then marks it
   ``sent``; an exception from ``fn`` marks it ``failed`` (retried on the next attempt). A retry skips
   every effect already recorded ``sent`` or ``sending``: at most once. A worker killed between
   recording and SMTP's reply leaves the effect ``sending``: shown as *unconfirmed* on the jobs page,
   never sent again on its own (a person can resend the pack with ``run-now``).
"""

from __future__ import annotations

import fcntl
import os
import socket
import tempfile
import traceback
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F

from dues import clock
from dues.audit.services import actor_name, audit_append
from dues.core.errors import DuesError
from dues.users.permissions import require

from . import slots
from .models import (
    DONE,
    EFFECT_FAILED,
    EVERY,
    FAILED,
    JOBS,
    QUEUED,
    RUNNING,
    SENDING,
    SENT,
    JobEffect,
    JobRun,
    Schedule,
)

_PG_LOCK_CLASS = 0x6A6F6273  # "jobs"


def job_names() -> dict[str, str]:
    """kind -> label of every registered job kind (read at call time: kinds may be registered late)."""
    return dict(JOBS)


def zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# ---------------------------------------------------------------- locks


def _lock_dir() -> Path:
    name = str(connection.settings_dict["NAME"])
    memory = name.startswith(":memory:") or "mode=memory" in name
    base = Path(tempfile.gettempdir()) / "dues-memory-db" if memory else Path(name).resolve().parent
    path = base / (f"memory-{os.getpid()}.jobs" if memory else f"{Path(name).name}.jobs")
    path.mkdir(parents=True, exist_ok=True)
    return path


class RunLock:
    """Held by the worker executing a run; released by the OS if that worker dies."""

    def __init__(self, run_id: int):
        self.run_id = run_id
        self.fd: int | None = None
        self.held = False

    def acquire(self) -> bool:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_PG_LOCK_CLASS, self.run_id])
                self.held = bool(cursor.fetchone()[0])
            return self.held
        fd = os.open(_lock_dir() / f"run-{self.run_id}.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self.fd, self.held = fd, True
        return True

    def release(self) -> None:
        if not self.held:
            return
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_PG_LOCK_CLASS, self.run_id])
        elif self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None
        self.held = False


@contextmanager
def run_lock(run_id: int):
    lock = RunLock(run_id)
    got = lock.acquire()
    try:
        yield got
    finally:
        lock.release()


# ---------------------------------------------------------------- schedules


def schedule_slots(schedule: Schedule, moment=None):
    """(latest slot at or before the moment, next slot after it)."""
    moment = moment or clock.now()
    args = (schedule.every, schedule.hour, schedule.minute, schedule.weekday, schedule.day, moment, zone())
    return slots.last_slot(*args), slots.next_slot(*args)


def _snapshot(s: Schedule) -> dict:
    return {"name": s.name, "job": s.job, "every": s.every, "hour": s.hour, "minute": s.minute, "weekday": s.weekday,
            "day": s.day, "enabled": s.enabled, "recipients": s.recipients, "params": s.params}


FIELDS = ("job", "every", "hour", "minute", "weekday", "day", "enabled", "recipients", "params")


def _clean(values: dict) -> dict:
    out = {}
    for key, value in values.items():
        if key not in FIELDS:
            raise DuesError(f"unknown schedule field {key!r} (one of {', '.join(FIELDS)})")
        if key == "job" and value not in job_names():
            raise DuesError(f"unknown job {value!r} (one of {', '.join(job_names())})")
        if key == "every" and value not in dict(EVERY):
            raise DuesError(f"every must be one of {', '.join(dict(EVERY))}")
        if key in ("hour", "minute", "weekday", "day"):
            try:
                value = int(value)
            except (TypeError, ValueError):
                raise DuesError(f"{key} must be a whole number") from None
            low, high = {"hour": (0, 23), "minute": (0, 59), "weekday": (0, 6), "day": (-1, 28)}[key]
            if not low <= value <= high or (key == "day" and value == 0):
                raise DuesError(f"{key} must be between {low} and {high}" + (" (not 0)" if key == "day" else ""))
        if key == "enabled" and isinstance(value, str):
            value = value.strip().lower() in ("1", "on", "true", "yes")
        if key == "params" and not isinstance(value, dict):
            raise DuesError("params must be a mapping")
        out[key] = value
    return out


def schedule_set(*, name: str, actor, **values) -> Schedule:
    """Create or change a schedule (admin / AR manager); audited as ``schedule`` / ``create|update``."""
    require(actor, "collections.policies", "edit schedules")
    values = _clean(values)
    with transaction.atomic():
        schedule = Schedule.objects.select_for_update().filter(name=name).first()
        if schedule is None:
            if "job" not in values:
                raise DuesError(f"no schedule {name!r}; give --job to create it")
            schedule = Schedule(name=name)
            before = None
        else:
            before = _snapshot(schedule)
        for key, value in values.items():
            setattr(schedule, key, value)
        schedule.updated_at = clock.now()
        schedule.full_clean(exclude=["created_at"])
        schedule.save()
        after = _snapshot(schedule)
        if before != after:
            audit_append(actor=actor_name(actor), action="create" if before is None else "update",
                         object_type="schedule", object_id=schedule.name, before=before, after=after)
    return schedule


DEFAULTS = [
    # name, job, every, hour, minute, weekday, day, recipients
    ("dunning-run", "dunning", "daily", 9, 0, 0, 1, ""),
    ("promise-refresh", "promises", "daily", 6, 30, 0, 1, ""),
    ("daily-report", "daily_report", "daily", 8, 0, 0, 1, "@ar_manager"),
    ("weekly-pack", "weekly_report", "weekly", 8, 30, 0, 1, "@ar_manager"),
    ("bank-pickup", "bank_pickup", "hourly", 0, 15, 0, 1, ""),
    ("month-end-pack", "month_end", "monthly", 9, 0, 0, 2, "@ar_manager"),
    ("risk-grades", "risk", "daily", 6, 0, 0, 1, ""),
    ("cash-forecast", "forecast", "daily", 6, 15, 0, 1, ""),
]


def schedules_seed(actor, *, enabled: bool = True) -> list[Schedule]:
    """The standard schedules, created where missing (bank pick-up disabled until a folder is set)."""
    made = []
    for name, job, every, hour, minute, weekday, day, recipients in DEFAULTS:
        if not Schedule.objects.filter(name=name).exists():
            made.append(schedule_set(name=name, actor=actor, job=job, every=every, hour=hour, minute=minute,
                                     weekday=weekday, day=day, recipients=recipients,
                                     enabled=enabled and job != "bank_pickup"))
    return made


# ---------------------------------------------------------------- claiming and recovering


def tick(moment=None) -> list[JobRun]:
    """Claim each enabled schedule's latest due slot (once, whoever else ticks) and recover dead runs."""
    moment = moment or clock.now()
    claimed = []
    for schedule in Schedule.objects.filter(enabled=True):
        slot, _ = schedule_slots(schedule, moment)
        key = f"{schedule.name}@{slots.period_key(schedule.every, slot)}"
        if JobRun.objects.filter(run_key=key).exists():
            continue
        try:
            with transaction.atomic():
                claimed.append(JobRun.objects.create(schedule=schedule, job=schedule.job, run_key=key, slot=slot,
                                                     params=schedule.params, recipients=schedule.recipients,
                                                     queued_at=clock.now()))
        except IntegrityError:
            continue  # another worker claimed the slot first
    recover()
    return claimed


def recover() -> int:
    """Put back to ``queued`` every running run whose worker is gone (its lock is free)."""
    back = 0
    for run_id in JobRun.objects.filter(status=RUNNING).values_list("id", flat=True):
        with run_lock(run_id) as got:
            if got:
                back += JobRun.objects.filter(id=run_id, status=RUNNING).update(
                    status=QUEUED, error="the worker running it stopped; retried")
    return back


def queued_ids() -> list[int]:
    return list(JobRun.objects.filter(status=QUEUED).order_by("queued_at", "id").values_list("id", flat=True))


def run_now(*, job: str | None = None, schedule: str | None = None, actor, params: dict | None = None,
            recipients: str | None = None) -> JobRun:
    """Queue a run outside the schedule (a fresh run key); audited."""
    require(actor, "collections.policies", "run jobs")
    sched = None
    if schedule:
        sched = Schedule.objects.filter(name=schedule).first()
        if sched is None:
            raise DuesError(f"no schedule {schedule!r}")
        job = sched.job
    if job not in job_names():
        raise DuesError(f"unknown job {job!r} (one of {', '.join(job_names())})")
    at = clock.now()
    with transaction.atomic():
        run = JobRun.objects.create(schedule=sched, job=job, run_key=f"{schedule or job}@now-{at.isoformat()}",
                                    params=params if params is not None else (sched.params if sched else {}),
                                    recipients=recipients if recipients is not None else
                                    (sched.recipients if sched else ""),
                                    requested_by=actor_name(actor), queued_at=at)
        audit_append(actor=actor_name(actor), action="run_now", object_type="job_run", object_id=run.run_key,
                     after={"job": job, "schedule": schedule or ""})
    return run


def retry(run_id: int, *, actor) -> JobRun:
    """Queue a failed run again under the same run key (its effects already sent are not repeated)."""
    require(actor, "collections.policies", "retry jobs")
    with transaction.atomic():
        if not JobRun.objects.filter(id=run_id, status=FAILED).update(status=QUEUED, queued_at=clock.now()):
            raise DuesError("only a failed run can be retried")
        run = JobRun.objects.get(id=run_id)
        audit_append(actor=actor_name(actor), action="retry", object_type="job_run", object_id=run.run_key,
                     after={"attempts": run.attempts})
    return run


# ---------------------------------------------------------------- running


@dataclass
class RunContext:
    run: JobRun
    notes: list[str] = field(default_factory=list)

    @property
    def params(self) -> dict:
        return self.run.params or {}

    def once(self, key: str, effect: Callable[[], str | None]) -> str | None:
        """Do ``effect`` at most once per run key and ``key`` (module doc, part 3); its note, or None if skipped."""
        with transaction.atomic():
            row = JobEffect.objects.select_for_update().filter(run=self.run, key=key).first()
            if row is not None and row.status in (SENT, SENDING):
                return None
            if row is None:
                row = JobEffect.objects.create(run=self.run, key=key, status=SENDING, attempt=self.run.attempts,
                                               at=clock.now())
            else:
                JobEffect.objects.filter(pk=row.pk).update(status=SENDING, attempt=self.run.attempts, at=clock.now())
        try:
            note = effect() or ""
        except Exception as exc:
            JobEffect.objects.filter(pk=row.pk).update(status=EFFECT_FAILED, note=str(exc)[:500])
            raise
        JobEffect.objects.filter(pk=row.pk).update(status=SENT, note=str(note)[:500], at=clock.now())
        return note


def execute(run_id: int, *, worker: str | None = None) -> str | None:
    """Run a queued run if no one else is: the final status, or None when it was not ours to run."""
    from .jobs import JOB_FUNCTIONS, alert_failure

    with run_lock(run_id) as got:
        if not got:
            return None
        started = clock.now()
        if not JobRun.objects.filter(id=run_id, status=QUEUED).update(
                status=RUNNING, attempts=F("attempts") + 1, worker=worker or worker_name(), started_at=started,
                finished_at=None):
            return None
        run = JobRun.objects.get(id=run_id)
        ctx = RunContext(run)
        try:
            if run.job not in JOB_FUNCTIONS:
                raise DuesError(f"no function registered for job {run.job!r} (dues.jobs.jobs.JOB_FUNCTIONS)")
            result = JOB_FUNCTIONS[run.job](ctx)
        except Exception as exc:
            error = "".join(traceback.format_exception_only(exc)).strip()
            detail = traceback.format_exc(limit=6)
            JobRun.objects.filter(id=run_id).update(status=FAILED, finished_at=clock.now(),
                                                    error=f"{error}\n\n{detail}"[:8000])
            run.refresh_from_db()
            try:
                alert_failure(ctx, error)
            except Exception as alert_exc:  # the failure stays recorded even if no one could be told
                JobRun.objects.filter(id=run_id).update(error=f"{run.error}\n(alert not sent: {alert_exc})"[:8000])
            return FAILED
        JobRun.objects.filter(id=run_id).update(status=DONE, finished_at=clock.now(), error="",
                                                result=(result or "; ".join(ctx.notes))[:4000])
        return DONE


def run_pending(*, worker: str | None = None, limit: int | None = None) -> int:
    """Tick, then execute every queued run here (what ``dues worker --once`` does); how many ran."""
    tick()
    done = 0
    for run_id in queued_ids()[:limit]:
        if execute(run_id, worker=worker) is not None:
            done += 1
    return done


DEMO_RECIPIENTS = "@ar_manager, management@sahyadri.example"


def schedules_demo(actor) -> None:
    """The demo's schedules: the standard ones, reports to the management mailbox; the dunning run and
    the month-end pack left disabled (an admin turns them on on the jobs page), so starting the demo
    mails no customer. The daily report's latest slot is claimed at the worker's first tick: it lands
    in the outbox (or the SMTP server of ``DUES_SMTP_URL``) a few seconds after the demo starts."""
    schedules_seed(actor)
    for name in ("daily-report", "weekly-pack"):
        schedule_set(name=name, actor=actor, recipients=DEMO_RECIPIENTS)
    for name in ("dunning-run", "month-end-pack"):
        schedule_set(name=name, actor=actor, enabled=False)
