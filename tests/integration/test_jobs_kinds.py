"""Job kinds come from the code's registry (a new kind needs no migration) and the scheduler recomputes
the risk grades and the 13-week forecast into stored results."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from dues import clock

pytestmark = [pytest.mark.django_db, pytest.mark.date_sensitive]


@pytest.fixture
def extra_kind():
    """A kind registered at run time (as another app's ``ready()`` would), removed afterwards."""
    from dues.jobs import jobs, models

    calls = []
    jobs.register("test_sync", "a test sync", lambda ctx: calls.append(ctx.run.run_key) or "synced")
    yield calls
    models.JOBS[:] = [j for j in models.JOBS if j[0] != "test_sync"]
    jobs.JOB_FUNCTIONS.pop("test_sync", None)


def test_every_kind_has_a_function_and_the_field_choices_follow_the_registry(extra_kind):
    from dues.jobs.jobs import JOB_FUNCTIONS
    from dues.jobs.models import JOBS, JobRun, Schedule

    assert set(dict(JOBS)) == set(JOB_FUNCTIONS)
    for model in (Schedule, JobRun):
        field = model._meta.get_field("job")
        assert callable(field._choices) or "test_sync" in dict(field.choices)
        assert "test_sync" in dict(field.choices)
    # the migrations hold the callable's name, never the list: the state has nothing to change
    from django.apps import apps
    from django.db import connection
    from django.db.migrations.autodetector import MigrationAutodetector
    from django.db.migrations.executor import MigrationExecutor
    from django.db.migrations.state import ProjectState

    loader = MigrationExecutor(connection).loader
    changes = MigrationAutodetector(loader.project_state(), ProjectState.from_apps(apps)).changes(graph=loader.graph)
    assert "jobs" not in changes


def test_a_kind_registered_at_run_time_is_scheduled_run_and_validated(company, extra_kind):
    from django.core.exceptions import ValidationError

    from dues.core.errors import DuesError
    from dues.jobs.models import JobRun, Schedule
    from dues.jobs.services import execute, run_now, schedule_set

    s = schedule_set(name="sync", actor="test", job="test_sync", every="hourly", minute=5)
    assert s.job == "test_sync"
    run = run_now(schedule="sync", actor="test")
    assert execute(run.id) == "done"
    assert extra_kind == [run.run_key]
    with pytest.raises(DuesError, match="unknown job 'nope'"):
        schedule_set(name="bad", actor="test", job="nope")
    with pytest.raises(ValidationError, match="job"):
        Schedule(name="bad2", job="nope").full_clean(exclude=["created_at"])
    assert not Schedule.objects.filter(name__startswith="bad").exists()
    # a run of a kind whose code is gone fails with a clear error instead of a KeyError
    orphan = JobRun.objects.create(job="gone_kind", run_key="gone@now", queued_at=clock.now())
    assert execute(orphan.id) == "failed"
    orphan.refresh_from_db()
    assert "no function registered for job 'gone_kind'" in orphan.error


def test_the_jobs_page_and_cli_list_a_registered_kind(company, client, extra_kind):
    from click.testing import CliRunner
    from django.contrib.auth import get_user_model

    import dues.cli.jobs  # noqa: F401
    from dues.cli.main import cli, main  # noqa: F401 - main registers the commands
    from dues.jobs.services import schedule_set

    schedule_set(name="sync", actor="test", job="test_sync")
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", "x")
    client.force_login(user)
    assert "a test sync" in client.get("/jobs/").content.decode()
    made = CliRunner().invoke(cli, ["schedule", "set", "sync2", "--job", "test_sync", "--every", "daily"],
                              catch_exceptions=False)
    assert made.exit_code == 0 and "schedule sync2: test_sync daily" in made.output
    bad = CliRunner().invoke(cli, ["schedule", "set", "sync3", "--job", "nope"])
    assert bad.exit_code == 2 and "'nope' is not a job kind" in bad.output and "test_sync" in bad.output
    assert "test_sync" in CliRunner().invoke(cli, ["schedule", "set", "--help"]).output
    result = CliRunner().invoke(cli, ["schedule", "run-now", "test_sync", "--wait"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "test_sync@now" in result.output and "done" in result.output


@pytest.fixture
def book(company, make_customer, post):
    today = clock.today()
    fast, slow = make_customer("FAST"), make_customer("SLOW", credit_limit="100")
    n = 0
    for customer, days in ((fast, 10), (slow, 75)):
        for k in range(8):
            n += 1
            on = today - timedelta(days=300 - 20 * k)
            post("invoice", f"INV-{n}", customer, on, "1000.00")
            post("receipt", f"RCT-{n}", customer, on + timedelta(days=days), "1000.00",
                 allocations=[(f"INV-{n}", Decimal("1000.00"))])
    post("invoice", "OPEN-FAST", fast, today - timedelta(days=2), "500.00")
    post("invoice", "OPEN-SLOW", slow, today - timedelta(days=120), "700.00")
    return company


def test_the_scheduler_recomputes_risk_grades_and_the_forecast(book):
    from dues.jobs.models import JobRun
    from dues.jobs.services import DEFAULTS, execute, schedules_seed, tick
    from dues.risk.models import CustomerRisk, ForecastSnapshot

    assert {d[1] for d in DEFAULTS} >= {"risk", "forecast"}
    schedules_seed("test")
    zone = ZoneInfo("Asia/Kolkata")
    # the moment just after 06:15 in the desk's zone on the clock's day: both slots of today are due
    today = clock.today()
    moment = datetime(today.year, today.month, today.day, 6, 20, tzinfo=zone)
    runs = {r.job: r for r in tick(moment) if r.job in ("risk", "forecast")}
    assert set(runs) == {"risk", "forecast"}
    assert runs["risk"].run_key.startswith("risk-grades@")
    for run in runs.values():
        assert execute(run.id) == "done"
        run.refresh_from_db()
        assert run.status == "done", run.error
    assert "risk graded for 2 customer(s)" in JobRun.objects.get(id=runs["risk"].id).result
    grades = {r.customer.code: r for r in CustomerRisk.objects.select_related("customer")}
    assert grades["FAST"].grade < grades["SLOW"].grade and grades["SLOW"].grade in ("C", "D", "E")
    assert grades["SLOW"].reasons and grades["SLOW"].as_of == today
    snap = ForecastSnapshot.objects.get(company=book)
    assert snap.as_of == today and len(snap.weeks) == 13 and snap.open_total == Decimal("1200")
    assert snap.trained_on == 16
    # the same slot is not claimed again; a second risk run replaces the grades rather than adding
    assert [r for r in tick(moment) if r.job in ("risk", "forecast")] == []
