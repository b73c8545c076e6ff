"""``dues worker``, ``dues schedule list|set|run-now``, ``dues jobs``, ``dues report daily|weekly``."""

from __future__ import annotations

import json

import click

from .main import cli
from .output import print_json, table


@cli.command()
@click.option("--once", is_flag=True, help="claim due slots, run every queued job here, and exit (cron-style)")
@click.option("--threads", default=2, show_default=True, help="worker threads of the Huey consumer")
@click.option("--parent", type=int, hidden=True, help="stop when this process is gone (the demo's web server)")
def worker(once, threads, parent):
    """Run jobs and schedules: the Huey consumer (SQLite queue by default, DUES_JOBS_QUEUE=redis://... to share
    one queue between machines). Each minute it claims every schedule's due slot (once, whatever the number of
    workers), retries runs whose worker died, and runs what is queued; see docs/jobs.md."""
    from dues.jobs import engine, services

    if once:
        n = services.run_pending()
        click.echo(f"ran {n} job(s)")
        return
    click.echo(f"dues worker {services.worker_name()}: {threads} thread(s), queue "
               f"{engine.queue_url() or 'SQLite (DUES_HOME/jobs-queue.sqlite3)'}")
    engine.consume(workers=threads, parent=parent)


@cli.group("schedule")
def schedule() -> None:
    """The schedules of automatic jobs (dunning run, promise refresh, reports, bank pick-up, month-end pack)."""


def _when(s, moment=None):
    from dues.jobs.services import schedule_slots

    last, nxt = schedule_slots(s, moment)
    return last, nxt


@schedule.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def schedule_list(fmt):
    """Every schedule with its next slot and its last run."""
    from dues.jobs.models import JobRun, Schedule

    rows = []
    for s in Schedule.objects.all():
        _, nxt = _when(s)
        last = JobRun.objects.filter(schedule=s).order_by("-queued_at", "-id").first()
        rows.append({"name": s.name, "job": s.job, "every": s.every, "at": f"{s.hour:02d}:{s.minute:02d}",
                     "weekday": s.weekday, "day": s.day, "enabled": s.enabled, "recipients": s.recipients,
                     "params": s.params, "next": nxt.isoformat() if s.enabled else "",
                     "last_run": last.run_key if last else "", "last_status": last.status if last else ""})
    if fmt == "json":
        print_json(rows)
        return
    table("Schedules", ["name", "job", "every", "at", "enabled", "next", "last run", "status", "recipients"],
          [[r["name"], r["job"], r["every"], r["at"], "yes" if r["enabled"] else "no", r["next"][:16], r["last_run"],
            r["last_status"], r["recipients"]] for r in rows])


class JobKind(click.ParamType):
    """A job kind from the registry as it is when the command runs (kinds registered by other apps too)."""

    name = "job"

    def convert(self, value, param, ctx):
        from dues.jobs.services import job_names

        kinds = job_names()
        if value not in kinds:
            self.fail(f"{value!r} is not a job kind (one of {', '.join(kinds)})", param, ctx)
        return value

    def get_metavar(self, param, ctx=None):
        from dues.jobs.services import job_names

        return "[" + "|".join(job_names()) + "]"


@schedule.command("set")
@click.argument("name")
@click.option("--job", type=JobKind(), help="the job kind (dues.jobs.models.JOBS, read when the command runs)")
@click.option("--every", type=click.Choice(["hourly", "daily", "weekly", "monthly"]))
@click.option("--at", "at", metavar="HH:MM", help="time of day in the desk's time zone (hourly: the minute)")
@click.option("--weekday", type=click.IntRange(0, 6), help="weekly: 0 = Monday")
@click.option("--day", type=int, help="monthly: 1-28, or -1 for the last day")
@click.option("--enable/--disable", "enabled", default=None)
@click.option("--recipients", help="comma-separated e-mail addresses; @ar_manager for the AR managers")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE",
              help="region=, salesperson=, target_daily=, target_weekly=, folder=, preset=, account= (empty: remove)")
@click.option("--seed", is_flag=True, help="first create the standard schedules that are missing")
@click.pass_obj
def schedule_set_cmd(obj, name, job, every, at, weekday, day, enabled, recipients, params, seed):
    """Create or change schedule NAME (audited)."""
    from dues.core.errors import DuesError
    from dues.jobs.models import Schedule
    from dues.jobs.services import schedule_set, schedules_seed

    if seed:
        schedules_seed(obj.user)
    values = {}
    for key, value in (("job", job), ("every", every), ("weekday", weekday), ("day", day), ("enabled", enabled),
                       ("recipients", recipients)):
        if value is not None:
            values[key] = value
    if at:
        hh, _, mm = at.partition(":")
        if not mm:
            hh, mm = "0", hh
        values["hour"], values["minute"] = hh, mm
    if params:
        current = dict(Schedule.objects.filter(name=name).values_list("params", flat=True).first() or {})
        for item in params:
            key, sep, value = item.partition("=")
            if not sep:
                raise DuesError(f"--param {item!r}: expected KEY=VALUE")
            if value:
                current[key.strip()] = value.strip()
            else:
                current.pop(key.strip(), None)
        values["params"] = current
    if name == "-" and seed:
        click.echo("standard schedules in place")
        return
    s = schedule_set(name=name, actor=obj.user, **values)
    _, nxt = _when(s)
    click.echo(f"schedule {s.name}: {s.job} {s.every} at {s.hour:02d}:{s.minute:02d}"
               f"{'' if s.enabled else ' (disabled)'}; next {nxt.isoformat(timespec='minutes')}")


@schedule.command("run-now")
@click.argument("name")
@click.option("--wait", is_flag=True, help="run it here at once instead of leaving it to the worker")
@click.pass_obj
def schedule_run_now(obj, name, wait):
    """Queue schedule NAME (or a job name) to run now, outside its slots (audited)."""
    from dues.jobs.models import JOBS, Schedule
    from dues.jobs.services import execute, run_now

    if Schedule.objects.filter(name=name).exists():
        run = run_now(schedule=name, actor=obj.user)
    elif name in dict(JOBS):
        run = run_now(job=name, actor=obj.user)
    else:
        from dues.core.errors import DuesError

        raise DuesError(f"no schedule or job {name!r}")
    if not wait:
        click.echo(f"queued {run.run_key}")
        return
    status = execute(run.id)
    run.refresh_from_db()
    click.echo(f"{run.run_key}: {status}; {run.error.splitlines()[0] if run.error else run.result}")
    if status != "done":
        raise SystemExit(1)


@cli.command("jobs")
@click.option("--limit", default=20, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def jobs_list(limit, fmt):
    """The latest job runs: status, attempts, duration, error."""
    from dues.jobs.models import JobRun

    runs = list(JobRun.objects.all()[:limit])
    rows = [{"run_key": r.run_key, "job": r.job, "status": r.status, "attempts": r.attempts, "worker": r.worker,
             "started": r.started_at.isoformat() if r.started_at else "",
             "seconds": round(r.duration.total_seconds(), 2) if r.duration else None, "result": r.result,
             "error": r.error.splitlines()[0] if r.error else ""} for r in runs]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    table("Job runs", ["run key", "status", "attempts", "seconds", "result / error"],
          [[r["run_key"], r["status"], r["attempts"], r["seconds"] or "", r["error"] or r["result"]] for r in rows])


@cli.command("report")
@click.argument("kind", type=click.Choice(["daily", "weekly"]))
@click.option("--date", "on", metavar="D", help="the report's day (default today)")
@click.option("--region")
@click.option("--salesperson")
@click.option("--target", help="collections target for the period (money)")
@click.option("-o", "--output", "output", required=True, metavar="FILE.pdf|FILE.xlsx")
@click.pass_obj
def report(obj, kind, on, region, salesperson, target, output):
    """The daily outstanding report or the weekly ageing pack, as PDF or XLSX."""
    from pathlib import Path

    from dues import clock
    from dues.core.dates import parse_date
    from dues.core.errors import DuesError
    from dues.jobs import reports
    from dues.users.permissions import require

    require(obj.user, "reports.view", "read reports")
    suffix = Path(output).suffix.lower()
    if suffix not in (".pdf", ".xlsx"):
        raise DuesError("-o must name a .pdf or .xlsx file")
    params = {k: v for k, v in (("region", region), ("salesperson", salesperson)) if v}
    if target:
        params["target_daily" if kind == "daily" else "target_weekly"] = target
    pack = reports.build_pack(company=obj.company(), kind=kind, on=parse_date(on) if on else clock.today(),
                              params=params)
    Path(output).write_bytes(reports.render_pdf(pack) if suffix == ".pdf" else reports.render_xlsx(pack))
    click.echo(f"wrote {output}")


def spawn_worker(db_url: str | None):
    """Start ``dues worker`` as a child process on the same database (the demo runs it beside the web app)."""
    import os
    import subprocess
    import sys

    args = [sys.executable, "-m", "dues.cli.main"] + (["--db", db_url] if db_url else []) + ["worker", "--parent", str(os.getpid())]
    return subprocess.Popen(args, env=dict(os.environ))
