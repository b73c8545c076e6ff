"""Jobs and schedules: slots, claiming a slot once, effects recorded before they happen (a retry never
repeats an e-mail), failure alerts, schedule editing with audit, the management report packs, the jobs page."""

from __future__ import annotations

import email
import email.policy
import io
import os
import socket
import threading
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.date_sensitive,
              pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]

IST = ZoneInfo("Asia/Kolkata")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sink:
    """An aiosmtpd handler keeping every delivered message; refuses recipients listed in ``refuse``."""

    def __init__(self):
        self.messages = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's name
        if address in self.refuse:
            return "550 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        msg = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        self.messages.append(SimpleNamespace(rcpt=list(envelope.rcpt_tos), msg=msg))
        return "250 Message accepted for delivery"

    def to(self, address):
        return [m for m in self.messages if address in m.rcpt]


@pytest.fixture
def smtp(monkeypatch, tmp_path):
    from aiosmtpd.controller import Controller

    monkeypatch.setenv("DUES_HOME", str(tmp_path / "home"))
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("DUES_SMTP_URL", f"smtp://127.0.0.1:{port}")
    monkeypatch.setenv("DUES_MAIL_FROM", "dues <ar@testtraders.example>")
    yield sink
    controller.stop()


@pytest.fixture
def book(company, make_customer, post):
    """Two customers in two regions; today is the frozen clock's date (the far date too)."""
    from dues import clock

    today = clock.today()
    west = make_customer("C001", name="Shree Ganesh Traders", region="West", salesperson="Ravi")
    south = make_customer("C002", name="Kaveri Distributors", region="South", salesperson="Anita")
    post("invoice", "INV-1", west, today - timedelta(days=75), "118000.00")  # 45 days overdue
    post("invoice", "INV-2", south, today - timedelta(days=10), "5900.00")  # not due
    post("invoice", "INV-3", south, today - timedelta(days=40), "11800.00")  # 10 days overdue
    post("receipt", "RCT-1", south, today, "1800.00")
    return SimpleNamespace(west=west, south=south, today=today)


def test_slots_daily_weekly_monthly_hourly():
    from dues.jobs.slots import last_slot, next_slot, period_key

    at = datetime(2031, 2, 28, 23, 30, tzinfo=IST)  # a Friday, a month end, late at night
    assert last_slot("daily", 8, 0, 0, 1, at, IST) == datetime(2031, 2, 28, 8, 0, tzinfo=IST)
    assert next_slot("daily", 8, 0, 0, 1, at, IST) == datetime(2031, 3, 1, 8, 0, tzinfo=IST)
    early = datetime(2031, 2, 28, 7, 59, tzinfo=IST)
    assert last_slot("daily", 8, 0, 0, 1, early, IST) == datetime(2031, 2, 27, 8, 0, tzinfo=IST)
    assert last_slot("weekly", 8, 30, 0, 1, at, IST) == datetime(2031, 2, 24, 8, 30, tzinfo=IST)  # Monday
    assert next_slot("weekly", 8, 30, 0, 1, at, IST) == datetime(2031, 3, 3, 8, 30, tzinfo=IST)
    assert last_slot("monthly", 9, 0, 0, -1, at, IST) == datetime(2031, 2, 28, 9, 0, tzinfo=IST)
    assert next_slot("monthly", 9, 0, 0, -1, at, IST) == datetime(2031, 3, 31, 9, 0, tzinfo=IST)
    assert last_slot("monthly", 9, 0, 0, 2, datetime(2031, 1, 1, 10, tzinfo=IST), IST) == \
        datetime(2030, 12, 2, 9, 0, tzinfo=IST)
    assert last_slot("hourly", 0, 15, 0, 1, at, IST) == datetime(2031, 2, 28, 23, 15, tzinfo=IST)
    assert next_slot("hourly", 0, 45, 0, 1, at, IST) == datetime(2031, 2, 28, 23, 45, tzinfo=IST)
    assert period_key("weekly", datetime(2031, 2, 24, 8, 30, tzinfo=IST)) == "2031-W09"
    assert period_key("daily", at) == "2031-02-28"


def test_a_slot_is_claimed_once_and_an_edit_does_not_run_the_period_again(company):
    from dues.jobs.models import JobRun
    from dues.jobs.services import schedule_set, tick

    schedule_set(name="daily-report", actor="test", job="daily_report", every="daily", hour=0, minute=0,
                 recipients="md@example.com")
    first = tick()
    assert [r.run_key.split("@")[0] for r in first] == ["daily-report"]
    assert tick() == []
    schedule_set(name="daily-report", actor="test", hour=0, minute=1)  # same day's period: not run again
    assert tick() == []
    assert JobRun.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_workers_ticking_at_once_claim_each_slot_once(company):
    """Eight threads (each its own database connection) tick the same moment: one run per schedule."""
    from django.db import connection

    from dues.jobs.models import JobRun
    from dues.jobs.services import schedules_seed, tick

    if connection.vendor == "sqlite" and "memory" in str(connection.settings_dict["NAME"]):
        pytest.skip("an in-memory SQLite database is not shared between connections")
    schedules_seed("test")
    barrier = threading.Barrier(8)
    errors = []

    def worker():
        try:
            barrier.wait()
            tick()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert JobRun.objects.count() == 7  # the eight standard schedules, bank pick-up disabled
    assert len(set(JobRun.objects.values_list("run_key", flat=True))) == 7


def test_report_run_mails_each_recipient_once_and_a_second_execute_does_nothing(company, book, smtp):
    from pypdf import PdfReader

    from dues.jobs.models import DONE, JobEffect, JobRun
    from dues.jobs.services import execute, schedule_set, tick

    schedule_set(name="daily-report", actor="test", job="daily_report", hour=0, minute=0,
                 recipients="md@example.com, cfo@example.com", params={"target_daily": "1000"})
    (run,) = tick()
    assert execute(run.id) == DONE
    assert execute(run.id) is None  # no longer queued: nothing happens
    run.refresh_from_db()
    assert run.status == DONE and run.attempts == 1 and "e-mailed 2 of 2" in run.result
    assert [len(smtp.to(a)) for a in ("md@example.com", "cfo@example.com")] == [1, 1]
    msg = smtp.to("md@example.com")[0].msg
    assert "Daily outstanding report" in msg["Subject"]
    assert msg["X-Dues-Key"].startswith(run.run_key)
    names = {part.get_filename() for part in msg.iter_attachments()}
    assert names == {f"daily-report-{book.today.isoformat()}.pdf", f"daily-report-{book.today.isoformat()}.xlsx"}
    pdf = next(p for p in msg.iter_attachments() if p.get_filename().endswith(".pdf")).get_content()
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Top overdue customers" in text and "Shree Ganesh Traders" in text
    assert set(JobEffect.objects.values_list("status", flat=True)) == {"sent"}
    assert JobRun.objects.get().status == DONE


def test_a_failed_run_alerts_the_managers_and_its_retry_sends_only_what_was_not_sent(company, book, smtp):
    from dues.audit.models import AuditRecord
    from dues.jobs.models import DONE, FAILED, JobEffect
    from dues.jobs.services import execute, retry, schedule_set, tick
    from dues.users.services import user_add

    user_add(username="manager", role="ar_manager", password="x-pass-word-2026", email="manager@example.com", actor="test")
    smtp.refuse = {"gone@example.com"}
    schedule_set(name="weekly-pack", actor="test", job="weekly_report", every="weekly", weekday=0, hour=0, minute=0,
                 recipients="md@example.com, gone@example.com, @ar_manager")
    (run,) = tick()
    assert execute(run.id) == FAILED
    run.refresh_from_db()
    assert "gone@example.com" in run.error or "refused" in run.error.lower() or "550" in run.error
    alert = [m for m in smtp.to("manager@example.com") if "failed" in m.msg["Subject"]]
    assert len(alert) == 1 and run.run_key in alert[0].msg["Subject"]
    assert dict(JobEffect.objects.values_list("key", "status"))["email:weekly:gone@example.com"] == "failed"

    smtp.refuse = set()
    retry(run.id, actor="test")
    assert AuditRecord.objects.filter(object_type="job_run", action="retry").exists()
    assert execute(run.id) == DONE
    run.refresh_from_db()
    assert run.attempts == 2
    assert len(smtp.to("md@example.com")) == 1  # sent on the first attempt, not again
    assert len(smtp.to("gone@example.com")) == 1
    packs = [m for m in smtp.to("manager@example.com") if "Weekly ageing pack" in m.msg["Subject"]]
    assert len(packs) == 1


def test_a_run_whose_worker_died_is_recovered_and_an_unconfirmed_email_is_not_sent_again(company, book, smtp):
    from dues.jobs.models import DONE, QUEUED, RUNNING, SENDING, JobEffect, JobRun
    from dues.jobs.services import execute, recover, schedule_set, tick

    schedule_set(name="daily-report", actor="test", job="daily_report", hour=0, minute=0,
                 recipients="a@example.com, b@example.com")
    (run,) = tick()
    # what a worker killed while handing a@ to SMTP leaves behind: running, its effect recorded as sending
    JobRun.objects.filter(id=run.id).update(status=RUNNING, attempts=1, worker="gone:1")
    JobEffect.objects.create(run=run, key="email:daily:a@example.com", status=SENDING)
    assert recover() == 1  # nobody holds its lock
    assert JobRun.objects.get(id=run.id).status == QUEUED
    assert execute(run.id) == DONE
    assert smtp.to("a@example.com") == [] and len(smtp.to("b@example.com")) == 1
    assert JobEffect.objects.get(key="email:daily:a@example.com").status == SENDING  # shown as unconfirmed


def test_schedule_edits_are_audited_and_need_an_admin_or_ar_manager(company):
    from dues.audit.models import AuditRecord
    from dues.core.errors import DuesError, PermissionDenied
    from dues.jobs.services import schedule_set, schedules_seed
    from dues.users.services import user_add

    schedules_seed("test")
    schedule_set(name="daily-report", actor="test", hour=7, minute=45, params={"region": "West"})
    record = AuditRecord.objects.filter(object_type="schedule", object_id="daily-report").order_by("-seq").first()
    assert record.action == "update" and '"hour":7' in record.after_json.replace(" ", "")
    collector = user_add(username="pooja", role="collector", password="x-pass-word-2026", actor="test")[0]
    with pytest.raises(PermissionDenied):
        schedule_set(name="daily-report", actor=collector, hour=6)
    with pytest.raises(DuesError, match="hour must be between"):
        schedule_set(name="daily-report", actor="test", hour=24)
    with pytest.raises(DuesError, match="give --job"):
        schedule_set(name="nothing", actor="test", hour=6)


def test_daily_pack_figures_change_and_filters(company, book):
    from dues.jobs.reports import build_pack, render_xlsx

    pack = build_pack(company=company, kind="daily", on=book.today,
                      params={"target_daily": "5000", "target_weekly": "20000"})
    assert pack.total == Decimal("118000.00") + Decimal("5900.00") + Decimal("11800.00") - Decimal("1800.00")
    assert pack.previous_total == Decimal("135700.00")  # yesterday, before the receipt
    assert pack.collections == Decimal("1800.00") and pack.target == Decimal("5000")
    assert pack.collections_week == Decimal("1800.00") and pack.target_week == Decimal("20000")
    assert pack.week_start.weekday() == 0 and pack.week_start <= book.today
    assert [t[0] for t in pack.top_overdue] == ["C001", "C002"]
    west = build_pack(company=company, kind="weekly", on=book.today, params={"region": "west"})
    assert west.total == Decimal("118000.00") and [t[0] for t in west.top_overdue] == ["C001"]
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(render_xlsx(pack)))
    assert wb.sheetnames == ["Summary", "Ageing", "Top overdue", "Promises due", "Broken promises", "Disputes",
                             "Dunning holds", "Credit holds", "Collectors"]
    assert wb["Top overdue"]["A2"].value == "C001"


def test_jobs_page_lists_schedules_and_retries_a_failed_run(company, client):
    from dues.jobs.models import FAILED, QUEUED, JobRun
    from dues.jobs.services import schedules_seed
    from dues.users.services import user_add

    schedules_seed("test")
    run = JobRun.objects.create(job="daily_report", run_key="daily-report@2026-01-01", status=FAILED,
                                error="boom: the SMTP server refused")
    manager = user_add(username="manager", role="ar_manager", password="x-pass-word-2026", actor="test")[0]
    client.force_login(manager)
    page = client.get("/jobs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "daily-report" in html and "month-end-pack" in html and "boom: the SMTP server refused" in html
    assert client.post("/jobs/", {"action": "retry", "run": run.id}).status_code == 302
    assert JobRun.objects.get(id=run.id).status == QUEUED
    client.post("/jobs/", {"action": "edit", "schedule": "daily-report", "every": "daily", "at": "06:05",
                           "weekday": "0", "day": "1", "enabled": "on", "recipients": "md@example.com",
                           "params": "region=West, target_daily=250000"})
    from dues.jobs.models import Schedule

    s = Schedule.objects.get(name="daily-report")
    assert (s.hour, s.minute, s.params) == (6, 5, {"region": "West", "target_daily": "250000"})
    collector = user_add(username="pooja", role="collector", password="x-pass-word-2026", actor="test")[0]
    client.force_login(collector)
    client.post("/jobs/", {"action": "run-now", "schedule": "daily-report"})
    assert not JobRun.objects.filter(run_key__contains="@now-").exists()


def test_report_command_writes_pdf_and_xlsx(company, book, tmp_path):
    from click.testing import CliRunner

    import dues.cli.jobs  # noqa: F401
    from dues.cli.main import cli, main  # noqa: F401 - main registers the commands

    runner = CliRunner()
    for name in ("d.pdf", "w.xlsx"):
        kind = "daily" if name.startswith("d") else "weekly"
        result = runner.invoke(cli, ["report", kind, "--date", book.today.isoformat(), "-o", str(tmp_path / name)],
                               catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert (tmp_path / name).stat().st_size > 1000
    assert date.fromisoformat(book.today.isoformat())


@pytest.fixture
def redis_queue(monkeypatch):
    """The Huey queue on Redis (database 5), emptied before and after."""
    import redis

    from dues.jobs import engine

    url = "redis://127.0.0.1:6379/5"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI", "").lower() == "true":  # CI has Redis: its absence is a failure there
            pytest.fail("Redis is not reachable at 127.0.0.1:6379 (CI=true)")
        pytest.skip("Redis is not reachable at 127.0.0.1:6379")
    monkeypatch.setenv("DUES_JOBS_QUEUE", url)
    engine.huey.cache_clear()
    h = engine.huey()
    h.flush()
    yield h
    h.flush()
    engine.huey.cache_clear()


def test_the_redis_queue_carries_run_ids_and_a_run_enqueued_twice_runs_once(company, book, smtp, redis_queue):
    from dues.jobs import engine
    from dues.jobs.models import DONE, JobRun
    from dues.jobs.services import schedule_set

    schedule_set(name="daily-report", actor="test", job="daily_report", hour=0, minute=0, recipients="md@example.com")
    assert engine.dispatch() == 1
    assert engine.dispatch() == 1  # still queued: enqueued again, as a second worker's tick would
    assert len(redis_queue) == 2
    results = []
    while (task := redis_queue.dequeue()) is not None:
        results.append(redis_queue.execute(task))
    assert results == [DONE, None]
    assert JobRun.objects.get().status == DONE and len(smtp.to("md@example.com")) == 1


def test_bank_pickup_imports_the_folder_once_and_month_end_mails_the_close_pack(company, book, smtp, tmp_path):
    from dues.banking.models import BankLine
    from dues.jobs.models import DONE, FAILED
    from dues.jobs.services import execute, run_now, schedule_set

    from .conftest import STATEMENT

    folder = tmp_path / "bank-in"
    schedule_set(name="bank-pickup", actor="test", job="bank_pickup", every="hourly", minute=15,
                 params={"folder": str(folder), "preset": "hdfc"})
    assert execute(run_now(schedule="bank-pickup", actor="test").id) == FAILED  # no folder yet
    folder.mkdir()
    (folder / "june.csv").write_text(STATEMENT)
    run = run_now(schedule="bank-pickup", actor="test")
    assert execute(run.id) == DONE
    run.refresh_from_db()
    assert run.result == "imported 1 statement file(s)" and (folder / "done" / "june.csv").exists()
    lines = BankLine.objects.count()
    assert lines == 4
    assert execute(run_now(schedule="bank-pickup", actor="test").id) == DONE  # nothing waiting: nothing imported
    assert BankLine.objects.count() == lines

    schedule_set(name="month-end-pack", actor="test", job="month_end", every="monthly", day=2, hour=9,
                 recipients="cfo@example.com")
    month_run = run_now(schedule="month-end-pack", actor="test")
    assert execute(month_run.id) == DONE
    (mail,) = smtp.to("cfo@example.com")
    assert "month-end close pack" in mail.msg["Subject"]
    assert {p.get_filename().rsplit(".", 1)[1] for p in mail.msg.iter_attachments()} == {"pdf", "xlsx"}
    pdf = next(p for p in mail.msg.iter_attachments() if p.get_filename().endswith(".pdf")).get_content()
    assert pdf.startswith(b"%PDF") and len(pdf) > 1000
