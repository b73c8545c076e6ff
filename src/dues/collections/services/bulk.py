"""Bulk actions on a selection of customers (the customer list and the worklist): assign a collector, put on
or take off the dunning hold, e-mail statements, export the selection.

Who may do what (one place, also shown on the pages):

- assigning a collector changes the customer master: ``customers.change`` (admin, AR manager, billing), the
  capability the customer edit form and ``dues import customers`` need for the same field; a collector
  does not reassign customers, their manager does;
- hold / resume dunning and sending statements: ``collections.act`` (admin, AR manager, collector), as
  ``dues collect hold`` and the worklist's own actions;
- export: ``reports.view`` (every role reading the lists), of the customers the user may see.

Each action runs in one transaction and leaves audit records: one per customer changed (so a customer's
page shows it) and one ``bulk`` record of the whole action (who, what, how many, which customers).
Statements are the exception that proves it: e-mails cannot be rolled back, so they are drawn and sent
first and what went out is then recorded in one transaction.
Customers outside the actor's scope (a sales login's) are never touched: they count as skipped.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction

from dues import clock
from dues.audit.services import AuditEntry, actor_name, audit_append, audit_append_many
from dues.core.errors import Problem, ValidationFailed
from dues.customers.models import Customer
from dues.users.permissions import customers_visible, require

from .policies import customer_collections_update

MAX_SELECTION = 500
MAX_STATEMENTS = 100  # statements are drawn and sent while the person waits


@dataclass
class BulkResult:
    action: str
    done: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (code, why)

    def summary(self) -> str:
        verbs = {"assign": "assigned", "hold": "put on hold", "resume": "taken off hold",
                 "statements": "sent a statement", "export": "exported"}
        parts = [f"{len(self.done)} customer{'s' if len(self.done) != 1 else ''} {verbs.get(self.action, 'done')}"]
        if self.unchanged:
            parts.append(f"{len(self.unchanged)} already so")
        if self.skipped:
            reasons: dict[str, int] = {}
            for _, why in self.skipped:
                reasons[why] = reasons.get(why, 0) + 1
            parts.append("skipped " + ", ".join(f"{n} ({why})" for why, n in reasons.items()))
        return "; ".join(parts) + "."


def selection(*, company, actor, codes) -> tuple[list[Customer], list[tuple[str, str]]]:
    """The customers with these codes the actor may see (in code order), and the codes skipped with why."""
    wanted = list(dict.fromkeys(c.strip() for c in codes if c and c.strip()))
    if not wanted:
        raise ValidationFailed([Problem("select at least one customer", "codes")])
    if len(wanted) > MAX_SELECTION:
        raise ValidationFailed([Problem(f"select at most {MAX_SELECTION} customers at once", "codes")])
    visible = customers_visible(actor, Customer.objects.filter(company=company))
    found = {c.code: c for c in visible.filter(code__in=wanted).select_related("collections")}
    skipped = [(code, "not one of your customers" if Customer.objects.filter(company=company, code=code).exists()
                else "no such customer") for code in wanted if code not in found]
    return [found[c] for c in sorted(found)], skipped


def _bulk_record(actor, company, result: BulkResult, extra: dict) -> None:
    audit_append(actor=actor, action="bulk", object_type="customers", object_id=result.action, company_id=company.pk,
                 after={"action": result.action, "done": result.done, "unchanged": result.unchanged,
                        "skipped": [f"{c}: {why}" for c, why in result.skipped], **extra})


@transaction.atomic
def bulk_assign_collector(*, company, codes, collector: str, actor) -> BulkResult:
    require(actor, "customers.change", "assign a collector to customers")
    collector = " ".join(collector.split())
    if len(collector) > 100:
        raise ValidationFailed([Problem("a collector's name is at most 100 characters", "collector")])
    customers, skipped = selection(company=company, actor=actor, codes=codes)
    result = BulkResult("assign", skipped=skipped)
    entries = []
    changed = []
    for c in Customer.objects.select_for_update().filter(pk__in=[c.pk for c in customers]).order_by("code"):
        if c.collector == collector:
            result.unchanged.append(c.code)
            continue
        entries.append(AuditEntry(actor_name(actor), "update", "customer", c.code, company.pk,
                                  {"collector": c.collector}, {"collector": collector}))
        changed.append(c.pk)
        result.done.append(c.code)
    if changed:
        Customer.objects.filter(pk__in=changed).update(collector=collector)
        audit_append_many(entries)
    _bulk_record(actor, company, result, {"collector": collector})
    return result


@transaction.atomic
def bulk_dunning_hold(*, company, codes, hold: bool, actor, reason: str = "") -> BulkResult:
    require(actor, "collections.act", "hold or resume dunning")
    customers, skipped = selection(company=company, actor=actor, codes=codes)
    result = BulkResult("hold" if hold else "resume", skipped=skipped)
    for c in customers:
        profile = getattr(c, "collections", None)
        if profile is not None and profile.dunning_hold == hold and (not hold or not reason
                                                                     or profile.hold_reason == reason.strip()):
            result.unchanged.append(c.code)
            continue
        customer_collections_update(customer=c, actor=actor, hold=hold, hold_reason=reason if hold else "")
        result.done.append(c.code)
    _bulk_record(actor, company, result, {"reason": reason.strip()} if hold else {})
    return result


def bulk_send_statements(*, company, codes, actor, transport=None) -> BulkResult:
    """E-mail each selected customer its statement (the financial year to today) through the same path as
    ``dues statement --email``: the SMTP server of ``DUES_SMTP_URL``, else ``.eml`` files in the outbox.
    A customer without an e-mail address (its own or a contact's) is skipped and said so."""
    from dues.core.dates import fiscal_year
    from dues.documents.statements import render_statement, statement_data
    from dues.messaging.statements import statement_recipients, statement_send
    from dues.messaging.transports import EmailTransport

    require(actor, "collections.act", "send statements")
    customers, skipped = selection(company=company, actor=actor, codes=codes)
    if len(customers) > MAX_STATEMENTS:
        raise ValidationFailed([Problem(f"send at most {MAX_STATEMENTS} statements at once "
                                        "(dues statement --all --email sends them all)", "codes")])
    end = clock.today()
    start = fiscal_year(end, company.fy_start_month, company.fy_start_day).start
    result = BulkResult("statements", skipped=skipped)
    own = transport is None
    transport = transport or EmailTransport()
    sent: list[AuditEntry] = []
    try:
        # drawn and sent outside any transaction (an e-mail cannot be taken back, and a long write transaction
        # would hold SQLite's lock); what went out is then recorded in one
        for c in customers:
            to = statement_recipients(c)
            if not to:
                result.skipped.append((c.code, "no e-mail address"))
                continue
            data = statement_data(company, c, start, end)
            pdf = render_statement(company, c, start, end, data=data)
            try:
                note = statement_send(transport, company, c, start, end, data.total_due, pdf, actor=actor)
            except Exception as exc:  # noqa: BLE001 - one customer's failure must not stop the others
                result.skipped.append((c.code, f"not sent: {exc}"[:120]))
                continue
            result.done.append(c.code)
            sent.append(AuditEntry(actor_name(actor), "send", "statement", c.code, company.pk, None,
                                   {"to": to, "from": start.isoformat(), "to_date": end.isoformat(),
                                    "total_due": str(Decimal(data.total_due).quantize(Decimal("0.01"))),
                                    "via": str(note)[:200]}))
    finally:
        if own:
            transport.close()
        with transaction.atomic():
            audit_append_many(sent)
            _bulk_record(actor, company, result, {"from": start.isoformat(), "to_date": end.isoformat()})
    return result


EXPORT_HEADER = ["Code", "Name", "GSTIN", "Phone", "E-mail", "Collector", "Salesperson", "Segment", "Region",
                 "Outstanding", "Overdue", "Credit limit", "Dunning hold"]


def bulk_export(*, company, codes, actor, fmt: str) -> tuple[BulkResult, bytes, str]:
    """The selection as XLSX or CSV (balances today); text a spreadsheet would run as a formula is
    prefixed with an apostrophe. Returns the result, the file and its content type."""
    from dues.core.ageing import NOT_DUE
    from dues.reporting.exports import csv_text, safe_cell, write_xlsx
    from dues.reporting.selectors import ageing

    require(actor, "reports.view", "export customers")
    if fmt not in ("xlsx", "csv"):
        raise ValidationFailed([Problem("export as xlsx or csv", "format")])
    customers, skipped = selection(company=company, actor=actor, codes=codes)
    report = ageing(company=company, as_of=clock.today(), customer_ids=[c.pk for c in customers])
    balances = {r.key: (sum(r.buckets.values(), Decimal("0.00")),
                        sum((v for k, v in r.buckets.items() if k != NOT_DUE), Decimal("0.00")))
                for r in report.rows}
    rows = []
    for c in customers:
        outstanding, overdue = balances.get(c.code, (Decimal("0.00"), Decimal("0.00")))
        profile = getattr(c, "collections", None)
        text = [safe_cell(v) for v in (c.code, c.name, c.gstin, c.phone, c.email, c.collector, c.salesperson,
                                       c.segment, c.region)]
        rows.append([*text, outstanding, overdue,
                     c.credit_limit, "yes" if profile and profile.dunning_hold else "no"])
    result = BulkResult("export", done=[c.code for c in customers], skipped=skipped)
    with transaction.atomic():
        _bulk_record(actor, company, result, {"format": fmt})
    if fmt == "csv":
        return result, csv_text(EXPORT_HEADER, rows).encode("utf-8-sig"), "text/csv; charset=utf-8"
    buffer = io.BytesIO()
    write_xlsx("Customers", EXPORT_HEADER, rows, buffer, money_columns=(9, 10, 11), locale=company.locale,
               about=[("Company", company.name), ("As of", clock.today()), ("Customers", len(rows))])
    return result, buffer.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
