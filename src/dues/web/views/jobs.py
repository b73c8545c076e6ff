"""The jobs page: every schedule with its last and next run, the latest runs (status, duration, errors),
retry of a failed run, and editing a schedule (admin and AR manager)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from dues import clock
from dues.companies.models import Company
from dues.core.errors import DuesError
from dues.jobs.models import EVERY, JOBS, SENDING, JobEffect, JobRun, Schedule
from dues.jobs.services import retry, run_now, schedule_set, schedule_slots
from dues.users.permissions import can

from .common import base_context, desk_view

WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
BADGE = {"done": "settled", "failed": "partial", "queued": "open", "running": "open"}  # dues.css's badges
EDIT = "collections.policies"  # admin and AR manager


def _params_text(params: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted((params or {}).items()))


def _parse_params(text: str) -> dict:
    out = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise DuesError(f"“{part}” is not KEY=VALUE")
        out[key.strip()] = value.strip()
    return out


@desk_view
def jobs_page(request: HttpRequest, company: Company) -> HttpResponse:
    editor = can(request.user, EDIT)
    if request.method == "POST":
        if not editor:
            messages.error(request, "Only an admin or an AR manager may change jobs.")
            return redirect("web:jobs")
        try:
            action = request.POST.get("action")
            if action == "retry":
                run = retry(int(request.POST["run"]), actor=request.user)
                messages.success(request, f"{run.run_key} queued again; the worker picks it up within a minute.")
            elif action == "run-now":
                run = run_now(schedule=request.POST["schedule"], actor=request.user)
                messages.success(request, f"{run.run_key} queued; the worker picks it up within a minute.")
            elif action == "edit":
                hour, _, minute = request.POST.get("at", "").partition(":")
                schedule_set(name=request.POST["schedule"], actor=request.user, every=request.POST.get("every"),
                             hour=hour, minute=minute or 0, weekday=request.POST.get("weekday", 0),
                             day=request.POST.get("day", 1), enabled=request.POST.get("enabled") == "on",
                             recipients=request.POST.get("recipients", ""),
                             params=_parse_params(request.POST.get("params", "")))
                messages.success(request, f"Schedule {request.POST['schedule']} saved.")
        except (DuesError, ValueError, KeyError) as exc:
            messages.error(request, str(exc))
        return redirect("web:jobs")

    now = clock.now()
    schedules = []
    for s in Schedule.objects.all():
        _, nxt = schedule_slots(s, now)
        last = s.runs.order_by("-queued_at", "-id").first()
        schedules.append({"s": s, "next": nxt if s.enabled else None, "last": last, "params": _params_text(s.params),
                          "job_name": dict(JOBS).get(s.job, s.job), "weekday_name": WEEKDAYS[s.weekday % 7],
                          "badge": BADGE.get(last.status, "open") if last else ""})
    runs = list(JobRun.objects.select_related("schedule")[:30])
    unconfirmed: dict[int, list[str]] = {}
    for run_id, key in (JobEffect.objects.filter(run__in=runs, status=SENDING).exclude(run__status="running")
                        .values_list("run_id", "key")):
        unconfirmed.setdefault(run_id, []).append(key)
    for run in runs:
        run.unconfirmed = ", ".join(unconfirmed.get(run.id, []))
        run.badge = BADGE.get(run.status, "open")
    context = base_context(company, clock.today(), "", "jobs")
    context.update({"schedules": schedules, "runs": runs, "editor": editor, "jobs": dict(JOBS), "every": EVERY})
    return render(request, "web/jobs/jobs.html", context)
