"""What each job does. Every function takes the run's ``RunContext`` and returns a one-line summary;
every outside effect goes through ``ctx.once`` (recorded before it happens, never repeated by a retry)
or a service that is idempotent on its own (the dunning run's idempotency keys, bank import's
never-doubled lines, promise refresh's stored statuses)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from dues import clock
from dues.core.errors import DuesError

from .models import (
    BACKUP,
    BANK_PICKUP,
    CREDIT_HOLDS,
    DAILY_REPORT,
    DUNNING,
    FORECAST,
    MONTH_END,
    PROMISES,
    RECURRING_BILLING,
    RISK,
    TALLY_SYNC,
    WEEKLY_REPORT,
    register_job,
)

ACTOR = "scheduler"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _company():
    from dues.companies.selectors import company_get

    return company_get()


def _day(ctx) -> date:
    """The run's day: its slot's date in the desk's time zone (so a retry tomorrow still reports that day)."""
    from .services import zone

    return ctx.run.slot.astimezone(zone()).date() if ctx.run.slot else clock.today()


def recipients(text: str) -> list[str]:
    from dues.collections.selectors import manager_emails

    out: list[str] = []
    for token in (t.strip() for t in (text or "").replace(";", ",").split(",")):
        if token == "@ar_manager":
            out += manager_emails()
        elif token:
            out.append(token)
    return list(dict.fromkeys(out))


def send_email(ctx, key: str, to: str, subject: str, body: str, attachments=()) -> str | None:
    """One e-mail to one address, at most once per run key (``JobEffect`` ``email:<key>:<address>``)."""
    from dues.messaging.transports import EmailTransport, Message

    def deliver() -> str:
        transport = EmailTransport()
        try:
            return transport.send(Message(channel="email", customer="jobs", key=f"{ctx.run.run_key}:{key}:{to}",
                                          subject=subject, body=body, to=[to], attachments=list(attachments)))
        finally:
            transport.close()

    return ctx.once(f"email:{key}:{to}", deliver)


def _mail_all(ctx, key: str, subject: str, body: str, attachments) -> str:
    to = recipients(ctx.run.recipients)
    if not to:
        raise DuesError("no recipients: set the schedule's recipients (or give the AR managers an e-mail address)")
    sent = sum(1 for address in to if send_email(ctx, key, address, subject, body, attachments) is not None)
    return f"e-mailed {sent} of {len(to)} recipient(s)" + (f" ({len(to) - sent} already sent)" if sent < len(to) else "")


def dunning(ctx) -> str:
    from dues.collections.services.dunning import collect_run

    company = _company()
    result = collect_run(company=company, on=_day(ctx), actor=ACTOR)
    return (f"dunning run for {result.on}: {result.count('sent')} sent, {result.count('failed')} failed; "
            + credit_holds(ctx))


def credit_holds(ctx) -> str:
    """The automatic credit hold rule (idempotent: a retry or a second run the same day places nothing).
    The daily dunning run runs it too."""
    from dues.credit.holds import holds_refresh

    placed = holds_refresh(_company(), on=_day(ctx), actor=ACTOR)
    return f"{len(placed)} credit hold(s) placed"


def promises(ctx) -> str:
    from dues.collections.services.promises import promises_refresh

    changed = promises_refresh(_company(), on=clock.today(), actor=ACTOR)
    return f"{changed} promise(s) changed status"


def _report(ctx, kind: str) -> str:
    from . import reports

    company = _company()
    pack = reports.build_pack(company=company, kind=kind, on=_day(ctx), params=ctx.params)
    pdf, xlsx = reports.render_pdf(pack), reports.render_xlsx(pack)
    stem = f"{kind}-report-{pack.on.isoformat()}"
    subject = f"{company.name}: {pack.title} for {pack.on:%d %b %Y}"
    return _mail_all(ctx, kind, subject, reports.summary_text(pack),
                     [(f"{stem}.pdf", pdf, "application/pdf"), (f"{stem}.xlsx", xlsx, XLSX)])


def daily_report(ctx) -> str:
    return _report(ctx, "daily")


def weekly_report(ctx) -> str:
    return _report(ctx, "weekly")


def bank_pickup(ctx) -> str:
    """Import every statement file waiting in the schedule's folder, then move it to ``done/``."""
    from dues.banking.services import bank_statement_import

    folder = Path(ctx.params.get("folder") or "")
    if not str(folder) or not folder.is_dir():
        raise DuesError(f"bank pick-up folder {str(folder)!r} does not exist (set params folder=...)")
    done = folder / "done"
    done.mkdir(exist_ok=True)
    company = _company()
    count = 0
    for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
        data = path.read_bytes()
        # bank import never doubles a line of an overlapping statement, so a retry of this step is harmless
        bank_statement_import(company=company, path=path, data=data, account=ctx.params.get("account"),
                              preset=ctx.params.get("preset", "generic"), actor=ACTOR)
        path.rename(done / path.name)
        count += 1
    return f"imported {count} statement file(s)"


def month_end(ctx) -> str:
    from dues.reconciliation.close import close_month, write_pdf, write_xlsx

    company = _company()
    day = _day(ctx)
    last = day.replace(day=1) - timedelta(days=1)
    month = ctx.params.get("month") or f"{last:%Y-%m}"
    result = close_month(company=company, month=month)
    with tempfile.TemporaryDirectory(prefix="dues-close-") as folder:  # the close pack writers take file paths
        write_pdf(result, Path(folder) / "close.pdf", company_name=company.name)
        write_xlsx(result, Path(folder) / "close.xlsx", company_name=company.name)
        pdf, xlsx = (Path(folder) / "close.pdf").read_bytes(), (Path(folder) / "close.xlsx").read_bytes()
    verdict = "ready to lock" if result.ok else "not ready: " + ", ".join(result.failing)
    return _mail_all(ctx, "month-end", f"{company.name}: month-end close pack for {month} ({verdict})",
                     f"The month-end close checks for {month}: {verdict}.\n\nThe pack is attached (PDF and XLSX).\n",
                     [(f"close-{month}.pdf", pdf, "application/pdf"), (f"close-{month}.xlsx", xlsx, XLSX)])


def tally_sync(ctx) -> str:
    """``dues sync tally`` on a schedule: params ``url`` (default http://localhost:9000) and ``company``
    (the Tally company's name, when several are open). Pulling is idempotent (ALTERIDs, GUIDs) and a
    document is logged as exported only once Tally accepted it, so a retry is harmless."""
    from dues.integrations.tally.live import DEFAULT_URL, sync_tally

    r = sync_tally(company=_company(), url=ctx.params.get("url") or DEFAULT_URL,
                   tally_company=ctx.params.get("company", ""), actor=ACTOR)
    refused = f"; {len(r.refused)} refused by Tally" if r.refused else ""
    return (f"Tally sync: pulled {r.pulled_masters} master(s), {r.pulled_vouchers} voucher(s); "
            f"pushed {len(r.pushed)}{refused}")


def risk(ctx) -> str:
    """Every customer's risk grade as of the run's day, stored (``CustomerRisk``) for the pages to read."""
    from dues.risk.services import recompute_risk

    n = recompute_risk(_day(ctx), company=_company())
    return f"risk graded for {n} customer(s) as of {_day(ctx).isoformat()}"


def forecast(ctx) -> str:
    """The 13-week cash forecast as of the run's day, stored (``ForecastSnapshot``) for the dashboard and packs."""
    from dues.risk.services import recompute_forecast

    snap = recompute_forecast(_day(ctx), company=_company())[0]
    expected = snap.weeks[-1]["cumulative_expected"] if snap.weeks else "0"
    return (f"13-week forecast as of {snap.as_of.isoformat()}: {expected} expected of {snap.open_total} open "
            f"(trained on {snap.trained_on} paid invoices)")


def recurring_billing(ctx) -> str:
    """The recurring charges' periods up to the run's day become unbilled deliveries (idempotent on its
    own: one delivery per charge and period, unique in the database)."""
    from dues.billing.recurring import generate_recurring

    result = generate_recurring(company=_company(), up_to=_day(ctx), actor=ACTOR)
    return f"{result.count} recurring period(s) made unbilled deliveries"


def backup(ctx) -> str:
    """``dues backup`` on a schedule: params ``folder`` (default var/backups) and ``keep`` (how many of the
    newest archives stay there, default 14; older ``dues-backup-*.tar.gz`` are removed). A retry writes a
    new archive: harmless, and the older ones are pruned."""
    from dues.backup import backup_create

    folder = Path(ctx.params.get("folder") or Path(_default_backup_folder()))
    keep = int(ctx.params.get("keep") or 14)
    if keep < 1:
        raise DuesError("keep must be at least 1")
    stamp = clock.now().strftime("%Y%m%dT%H%M%S")
    result = backup_create(folder / f"dues-backup-{stamp}.tar.gz")
    archives = sorted(folder.glob("dues-backup-*.tar.gz"))
    for old in archives[:-keep]:
        old.unlink()
    m = result.manifest
    return (f"wrote {result.path.name} ({result.path.stat().st_size} bytes, {sum(m['row_counts'].values())} rows, "
            f"proofs: {m['proofs']}, anchor {m['audit_head']['seq']}:{m['audit_head']['hash'][:16]}); "
            f"{min(len(archives), keep)} archive(s) kept" + "".join(f"; {n}" for n in result.notes))


def _default_backup_folder() -> Path:
    from django.conf import settings

    return Path(settings.DEFAULT_DB_PATH).parent / "backups"


JOB_FUNCTIONS: dict[str, Callable] = {
    DUNNING: dunning, PROMISES: promises, DAILY_REPORT: daily_report, WEEKLY_REPORT: weekly_report,
    BANK_PICKUP: bank_pickup, MONTH_END: month_end, TALLY_SYNC: tally_sync, CREDIT_HOLDS: credit_holds,
    RISK: risk, FORECAST: forecast,
    RECURRING_BILLING: recurring_billing, BACKUP: backup,
}


def register(kind: str, label: str, function: Callable) -> None:
    """Add a job kind and its function at run time (e.g. from another app's ``AppConfig.ready``): no migration."""
    register_job(kind, label)
    JOB_FUNCTIONS[kind] = function


def alert_failure(ctx, error: str) -> None:
    """E-mail the AR managers that a run failed (once per attempt)."""
    from dues.collections.selectors import manager_emails

    run = ctx.run
    body = (f"The job {run.job} ({run.run_key}) failed on attempt {run.attempts}:\n\n{error}\n\n"
            "Open the jobs page (/jobs/) to see the details and retry it.\n")
    for address in manager_emails():
        send_email(ctx, f"alert-{run.attempts}", address, f"dues: job {run.run_key} failed", body)
