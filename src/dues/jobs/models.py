"""Schedules (data an admin edits) and the runs they make.

A ``JobRun`` is one execution of a job for one slot; its ``run_key`` is unique, so a slot is claimed
by exactly one insert however many workers tick at once. A ``JobEffect`` is one outside effect of a
run (an e-mail to one recipient, a file imported), unique per run and key: recorded *before* the
effect happens, so a retried run never repeats it (see docs/jobs.md, "Exactly once").
"""

from __future__ import annotations

from django.db import models

from dues import clock

DUNNING, PROMISES, DAILY_REPORT, WEEKLY_REPORT, BANK_PICKUP, MONTH_END, TALLY_SYNC, CREDIT_HOLDS = (
    "dunning", "promises", "daily_report", "weekly_report", "bank_pickup", "month_end", "tally_sync", "credit_holds")
RISK, FORECAST, RECURRING_BILLING = "risk", "forecast", "recurring_billing"
BACKUP = "backup"
# The registry of job kinds: (kind, label). A new kind is one line here and its function in
# ``jobs.JOB_FUNCTIONS`` (or ``jobs.register`` from another app's ``ready()``) — no migration: the ``job``
# fields take their choices from ``job_choices`` at run time, not from a list frozen in a migration.
JOBS = [
    (DUNNING, "daily dunning run"),
    (PROMISES, "promise refresh"),
    (DAILY_REPORT, "daily outstanding report"),
    (WEEKLY_REPORT, "weekly ageing pack"),
    (BANK_PICKUP, "bank folder pick-up"),
    (MONTH_END, "month-end close pack"),
    (TALLY_SYNC, "sync with Tally (XML server)"),
    (CREDIT_HOLDS, "credit hold rule"),
    (RISK, "risk grades recomputed"),
    (FORECAST, "13-week cash forecast recomputed"),
    (RECURRING_BILLING, "recurring charges to unbilled deliveries"),
    (BACKUP, "backup of the database and proofs"),
]
JOB_MAX_LENGTH = 40


def job_choices() -> list[tuple[str, str]]:
    """The job kinds the code knows now (a callable, so migrations store its name, never the list)."""
    return list(JOBS)


def register_job(kind: str, label: str) -> None:
    """Add a job kind (idempotent); its function goes in ``jobs.JOB_FUNCTIONS`` (``jobs.register`` does both)."""
    if len(kind) > JOB_MAX_LENGTH:
        raise ValueError(f"job kind {kind!r} is longer than {JOB_MAX_LENGTH} characters")
    if kind not in dict(JOBS):
        JOBS.append((kind, label))
HOURLY, DAILY, WEEKLY, MONTHLY = "hourly", "daily", "weekly", "monthly"
EVERY = [(HOURLY, "every hour"), (DAILY, "every day"), (WEEKLY, "every week"), (MONTHLY, "every month")]

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
RUN_STATUSES = [(QUEUED, "queued"), (RUNNING, "running"), (DONE, "done"), (FAILED, "failed")]
SENDING, SENT, EFFECT_FAILED = "sending", "sent", "failed"
EFFECT_STATUSES = [(SENDING, "sending (unconfirmed if the run died)"), (SENT, "sent"), (EFFECT_FAILED, "failed")]


class Schedule(models.Model):
    name = models.SlugField(max_length=60, unique=True)
    job = models.CharField(max_length=JOB_MAX_LENGTH, choices=job_choices)
    every = models.CharField(max_length=8, choices=EVERY, default=DAILY)
    hour = models.PositiveSmallIntegerField(default=7, help_text="0-23, in the desk's time zone")
    minute = models.PositiveSmallIntegerField(default=0)
    weekday = models.PositiveSmallIntegerField(default=0, help_text="weekly: 0 = Monday ... 6 = Sunday")
    day = models.SmallIntegerField(default=1, help_text="monthly: day of the month 1-28, or -1 for the last day")
    enabled = models.BooleanField(default=True)
    recipients = models.CharField(max_length=1000, blank=True, help_text="e-mail addresses, comma-separated; "
                                  "@ar_manager means the AR managers")
    params = models.JSONField(default=dict, blank=True,
                              help_text="filters and options: region, salesperson, target, folder, account, preset")
    created_at = models.DateTimeField(default=clock.now, editable=False)
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class JobRun(models.Model):
    schedule = models.ForeignKey(Schedule, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs")
    job = models.CharField(max_length=JOB_MAX_LENGTH, choices=job_choices)
    run_key = models.CharField(max_length=160, unique=True)
    slot = models.DateTimeField(null=True, blank=True, help_text="the scheduled instant (empty: run now)")
    params = models.JSONField(default=dict, blank=True)
    recipients = models.CharField(max_length=1000, blank=True)
    status = models.CharField(max_length=8, choices=RUN_STATUSES, default=QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    worker = models.CharField(max_length=120, blank=True)
    requested_by = models.CharField(max_length=150, default="scheduler")
    queued_at = models.DateTimeField(default=clock.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    result = models.TextField(blank=True)

    class Meta:
        ordering = ["-queued_at", "-id"]
        indexes = [models.Index(fields=["status"], name="jobrun_status")]

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None


class JobEffect(models.Model):
    run = models.ForeignKey(JobRun, on_delete=models.CASCADE, related_name="effects")
    key = models.CharField(max_length=300)
    status = models.CharField(max_length=8, choices=EFFECT_STATUSES, default=SENDING)
    attempt = models.PositiveIntegerField(default=1)
    note = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(default=clock.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "key"], name="jobeffect_once")]
