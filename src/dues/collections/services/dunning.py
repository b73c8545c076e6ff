"""The dunning run and the collections settings: every write of the collections app.

``collect_run`` is idempotent. For a date D it

1. retries the actions left pending (a crash between creating and sending) or failed earlier;
2. evaluates every customer with open debit items (one query for all of them) against its policy
   (the customer's own, else its segment's, else the company default) with ``dues.core.dunning``;
   (``dunning.plan``: the policy's minimum overdue amount, and one message a day per customer and
   channel: several e-mail steps due together go as one e-mail of the strongest step listing all
   their items, the weaker ones are recorded as skipped "merged into ..."; a channel that already
   had its message for the date, in an earlier run or as a retry in this one, gets no other);
3. creates the new actions, each with its idempotency key (customer + step + sorted item set)
   and the (item, step) pairs it covers, in one transaction, BEFORE anything is sent;
4. sends each one and marks it sent only after the transport accepted it (a failure marks it
   failed with the error; it is retried on the next run). Each outcome is an ``Activity`` in the
   customer's log.

So a second run on the same date sends nothing, and a run after a crash sends the rest, never a
message twice (the one window left is a crash after the SMTP server accepted a message and before
the ``sent`` mark is committed: that message goes again on the next run; at-least-once).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from dues import clock
from dues.audit.services import AuditEntry, actor_name, audit_append_many
from dues.core import dunning
from dues.core.errors import DuesError
from dues.documents.letters import render_letter
from dues.documents.pdf import upi_link
from dues.documents.statements import render_statement
from dues.messaging.transports import EmailTransport, Message, WebhookTransport, letters_dir
from dues.users.permissions import require

from .. import selectors
from ..models import (
    Activity,
    CustomerCollections,
    DunningAction,
    DunningActionItem,
    DunningStep,
)
from .interest import interest_compute, interest_label, rate_text
from .messages import message_context, render_message, template_overrides
from .policies import policy_default

# --- the run ---------------------------------------------------------------------------------------------

_PG_RUN_LOCK = 0x64756e6e  # "dunn"


ACTIVITY_KIND = {"email": "email", "sms": "sms", "whatsapp": "whatsapp", "letter": "letter", "call_task": "task",
                 "visit_task": "task"}
LETTER_KIND = {"escalation": "escalation", "final-notice": "final_notice"}  # template -> pdf.render_letter kind


def run_lock_path(company) -> Path:
    """The lock file of a SQLite database's dunning run (beside the database; in-memory: the temp dir, one
    per process, as an in-memory database is: test runs side by side must not refuse each other)."""
    import os
    import tempfile

    from django.db import connection

    name = str(connection.settings_dict["NAME"])
    memory = name.startswith(":memory:") or "mode=memory" in name
    base = Path(tempfile.gettempdir()) / "dues-memory-db" if memory else Path(name).resolve().parent
    base.mkdir(parents=True, exist_ok=True)
    if memory:
        return base / f"memory-{os.getpid()}.dunning-{company.pk}.lock"
    return base / f"{Path(name).name}.dunning-{company.pk}.lock"


@contextmanager
def run_lock(company) -> Iterator[None]:
    """One dunning run per company at a time (a second one is refused, never queued to send twice).

    PostgreSQL: a session advisory lock; SQLite: an exclusive ``flock`` on a file beside the database.
    Both are released when the process dies, so a crashed run never blocks the next one.
    """
    from django.db import connection

    busy = DuesError("another dunning run is in progress for this company; try again when it has finished")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_PG_RUN_LOCK, company.pk])
            if not cursor.fetchone()[0]:
                raise busy
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_PG_RUN_LOCK, company.pk])
        return
    import fcntl

    path = run_lock_path(company)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise busy from None
        try:
            yield
        finally:
            if path.name.startswith("memory-"):  # an in-memory database's own lock: no litter per process
                path.unlink(missing_ok=True)
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass
class ActionResult:
    customer: str
    step: str
    channel: str
    items: list[str]
    amount: Decimal
    status: str
    reason: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"customer": self.customer, "step": self.step, "channel": self.channel, "items": list(self.items),
                "amount": f"{self.amount:.2f}", "status": self.status, "reason": self.reason}


@dataclass
class RunResult:
    on: date
    dry_run: bool
    actions: list[ActionResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for a in self.actions if a.status == status)


def default_transports() -> dict[str, Any]:
    """E-mail by SMTP or the outbox; SMS by the DLT provider when configured (``DUES_DLT_TEMPLATES``), WhatsApp
    by the Cloud API when configured (``DUES_WHATSAPP_PHONE_NUMBER_ID``), each else by the webhook."""
    from dues.messaging.sms import sms_transport
    from dues.messaging.whatsapp import whatsapp_transport

    webhook = WebhookTransport()
    return {"email": EmailTransport(), "sms": sms_transport() or webhook, "whatsapp": whatsapp_transport() or webhook}


def _contact_order(contact) -> tuple:
    """The primary accounts-payable contact first, then the other accounts-payable ones, then the rest."""
    return (getattr(contact, "role", "") != "accounts_payable", not getattr(contact, "is_primary", False), contact.pk or 0)


def _recipients(channel: str, profile: selectors.Profile, contacts: list) -> list[str]:
    """Who a message goes to. E-mail: the customer's address and every contact's (the primary
    accounts-payable contact first among them). SMS and WhatsApp go to one number: the primary
    accounts-payable contact's (their WhatsApp number for WhatsApp), else the customer's phone,
    else another contact's."""
    ordered = sorted(contacts, key=_contact_order)
    if channel == "email":
        found = [profile.email] + [c.email for c in ordered]
    elif channel in ("sms", "whatsapp"):
        def number(c) -> str:
            return (getattr(c, "whatsapp", "") or c.phone) if channel == "whatsapp" else c.phone

        preferred = [number(c) for c in ordered[:1]
                     if getattr(c, "role", "") == "accounts_payable" and getattr(c, "is_primary", False)]
        found = preferred + [profile.phone] + [number(c) for c in ordered]
    else:
        return []
    seen: list[str] = []
    for value in (v.strip() for v in found if v and v.strip()):
        for part in (p.strip() for p in value.replace(";", ",").split(",")):
            if part and part.lower() not in (s.lower() for s in seen):
                seen.append(part)
    return seen if channel == "email" else seen[:1]


def _copies(cc: str, managers: Callable[[], list[str]] = selectors.manager_emails) -> list[str]:
    out: list[str] = []
    for token in (t.strip() for t in cc.replace(";", ",").split(",")):
        if token == "@ar_manager":
            out += managers()
        elif token:
            out.append(token)
    return list(dict.fromkeys(out))


def _statement_prefetch(run, todo, profiles, rows_by_customer):
    """The run's statement e-mails, rendered ahead in worker processes (None: nothing worth a pool)."""
    from dues.customers.models import Customer
    from dues.documents import render_pool

    missing = {a.customer_id for a in todo} - set(run._customers)
    run._customers.update(Customer.objects.in_bulk(missing))  # one query, not one per customer
    plan = []
    for action in todo:
        rows = rows_by_customer.get(action.customer_id, [])
        if (action.channel == "email" and action.step.template == "statement" and not profiles[action.customer_id].hold
                and any(r.number in set(action.items) for r in rows)):
            plan.append((run.customer(action.customer_id), min(r.date for r in rows)))
    if len(plan) < 2 or render_pool.render_workers() < 2:
        return None
    return render_pool.StatementPrefetch(run.company, run.on, plan)


def _outstanding_items(rows: list[selectors.OpenRow], numbers: list[str], on: date) -> list:
    from dues.reporting.selectors import OutstandingItem

    wanted = set(numbers)
    return [OutstandingItem(r.number, r.kind, "D", r.date, r.due_date, r.amount, r.residual,
                            max((on - r.due_date).days, 0)) for r in rows if r.number in wanted]


class _Run:
    """One run's state: what was read once for all customers, and the transports."""

    def __init__(self, company, on: date, actor, transports: dict[str, Any] | None):
        self.company, self.on, self.actor = company, on, actor
        self.who = actor_name(actor)
        self.transports = transports if transports is not None else default_transports()
        self._customers: dict[int, Any] = {}
        self._managers: list[str] | None = None
        self._portal_links: dict[int, str | None] = {}  # one link per customer per run (DUES_PORTAL_IN_MESSAGES)
        self.statements = None  # render_pool.StatementPrefetch for the run's statement e-mails
        self.overrides = template_overrides(company)
        self.languages = dict(CustomerCollections.objects.filter(customer__company=company).exclude(language="en")
                              .values_list("customer_id", "language"))

    def managers(self) -> list[str]:
        if self._managers is None:
            self._managers = selectors.manager_emails()
        return self._managers

    def portal_link(self, customer_id: int) -> str | None:
        if customer_id not in self._portal_links:
            from dues.portal.links import message_portal_link

            self._portal_links[customer_id] = message_portal_link(self.customer(customer_id), self.actor)
        return self._portal_links[customer_id]

    def customer(self, customer_id: int):
        if customer_id not in self._customers:
            from dues.customers.models import Customer

            self._customers[customer_id] = Customer.objects.get(pk=customer_id)
        return self._customers[customer_id]

    def deliver(self, action: DunningAction, profile: selectors.Profile, contacts: list,
                rows: list[selectors.OpenRow], step: DunningStep) -> ActionResult:
        numbers = [r.number for r in rows if r.number in set(action.items)]
        context = message_context(self.company, profile, contacts, rows, numbers, self.on, step)
        kind = ACTIVITY_KIND[action.channel]
        subject = ""
        try:
            if action.channel in ("email", "sms", "whatsapp"):
                context["upi_link"] = upi_link(self.company, self.customer(profile.id), context["total"],
                                               f"{profile.code} {', '.join(numbers)}"[:80])
                context["portal_link"] = self.portal_link(profile.id)
            if action.channel in ("email", "sms", "whatsapp"):
                message = Message(channel=action.channel, customer=profile.code, key=action.idempotency_key,
                                  subject="", body="", to=_recipients(action.channel, profile, contacts),
                                  cc=_copies(step.cc, self.managers) if action.channel == "email" else [])
                if action.channel == "email":
                    message.attachments = self.attachments(step, profile, rows, numbers)
                    context["attached"] = bool(message.attachments)
                subject, body = self.render(step, profile, context)
                message.subject, message.body = subject, body
                note = self.transports[action.channel].send(message)
            elif action.channel == "letter":
                subject, body = self.render(step, profile, context)
                note = self.letter(step, profile, rows, numbers, action)
            else:
                subject, body = self.render(step, profile, context)
                note = f"task for {profile.collector or 'the collector'}"
        except Exception as exc:  # any failure: recorded, retried on the next run
            error = str(exc) or exc.__class__.__name__
            with transaction.atomic():
                action.status, action.attempts, action.last_error = DunningAction.FAILED, action.attempts + 1, error[:1000]
                action.save(update_fields=["status", "attempts", "last_error"])
                if action.attempts == 1:
                    Activity.objects.create(company=self.company, customer_id=action.customer_id, kind=kind,
                                            outcome="failed", subject=subject or f"{action.step_key} not sent",
                                            notes=error, action=action, created_by=self.who)
            return self.result(action, profile, DunningAction.FAILED, error)
        with transaction.atomic():
            action.status, action.attempts, action.sent_at = DunningAction.SENT, action.attempts + 1, clock.now()
            action.note, action.last_error = note[:300], ""
            action.save(update_fields=["status", "attempts", "sent_at", "note", "last_error"])
            task = kind == "task"
            Activity.objects.create(company=self.company, customer_id=action.customer_id, kind=kind,
                                    outcome="open" if task else "sent", subject=subject[:300], notes=body,
                                    next_follow_up=self.on if task else None, action=action, created_by=self.who)
        return self.result(action, profile, DunningAction.SENT, note)

    def render(self, step, profile, context) -> tuple[str, str]:
        return render_message(step.template, context, language=self.languages.get(profile.id, "en"),
                              overrides=self.overrides)

    def attachments(self, step, profile, rows, numbers) -> list[tuple[str, bytes, str]]:
        customer = self.customer(profile.id)
        if step.template == "statement":
            start = min(r.date for r in rows)
            if self.statements is not None:  # rendered ahead in worker processes (render_pool)
                content = self.statements.get(customer, start)
            else:
                content = render_statement(self.company, customer, start, self.on)
            return [(f"statement-{profile.code}-{self.on.isoformat()}.pdf", content, "application/pdf")]
        if step.template in LETTER_KIND:
            content = render_letter(self.company, customer, LETTER_KIND[step.template], self.on,
                                    _outstanding_items(rows, numbers, self.on), cc=", ".join(_copies(step.cc, self.managers)),
                                        **self.interest(customer))
            return [(f"{step.template}-{profile.code}-{self.on.isoformat()}.pdf", content, "application/pdf")]
        return []

    def letter(self, step, profile, rows, numbers, action) -> str:
        content = render_letter(self.company, self.customer(profile.id), LETTER_KIND.get(step.template, "reminder"),
                                self.on, _outstanding_items(rows, numbers, self.on),
                                cc=", ".join(_copies(step.cc, self.managers)), **self.interest(self.customer(profile.id)))
        path = letters_dir() / f"{profile.code}-{action.idempotency_key.replace(':', '-')}.pdf"
        path.write_bytes(content)
        return f"letter written to {path}"

    def interest(self, customer) -> dict:
        """The overdue interest to show in a letter (nothing when the customer has no interest terms)."""
        computed = interest_compute(self.company, customer, self.on)
        if computed.terms is None or not computed.total:
            return {}
        terms = computed.terms
        return {"interest": computed.total,
                "interest_note": f"{rate_text(terms.annual_rate)}% a year, {interest_label(terms)}"}

    def result(self, action: DunningAction, profile, status: str, reason: str) -> ActionResult:
        return ActionResult(profile.code, action.step_key, action.channel, list(action.items), action.amount, status,
                            reason)


def collect_run(*, company, on: date, dry_run: bool = False, actor=None,
                transports: dict[str, Any] | None = None,
                progress: Callable[[int, int], None] | None = None) -> RunResult:
    """Evaluate every customer for ``on``, create the actions due and send them (see the module doc)."""
    require(actor, "collections.act", "run dunning")
    if dry_run:
        return _collect_run(company, on, True, actor, transports, progress)
    with run_lock(company):
        return _collect_run(company, on, False, actor, transports, progress)


def _collect_run(company, on: date, dry_run: bool, actor, transports, progress) -> RunResult:
    result = RunResult(on, dry_run)
    policy_default(company, actor)
    rows_by_customer = selectors.open_debit_items(company)
    steps_by_policy = selectors.policy_steps(company)
    default_id = selectors.default_policy_id(company)
    segments = selectors.segment_policies(company)
    retry = list(DunningAction.objects.filter(company=company, status__in=[DunningAction.PENDING, DunningAction.FAILED],
                                              date__lte=on).select_related("step").order_by("date", "id"))
    customer_ids = set(rows_by_customer) | {a.customer_id for a in retry}
    profiles = selectors.customer_profiles(company, customer_ids)
    all_ids = [r.id for rows in rows_by_customer.values() for r in rows]
    _disputed, promised = selectors.item_flags(company, all_ids, on=on)
    disputed = selectors.disputed_amounts(company, all_ids)
    if disputed:  # the rows carry what is under dispute, so a message asks only for the undisputed part
        rows_by_customer = {cid: [replace(r, disputed=disputed[r.id]) if r.id in disputed else r for r in rows]
                            for cid, rows in rows_by_customer.items()}
    covered_keys: dict[int, list[str]] = {}
    for item_id, key in selectors.covered_pairs(company):
        covered_keys.setdefault(item_id, []).append(key)
    minimums = selectors.policy_minimums(company)
    credits = selectors.unapplied_credits(company, list(rows_by_customer))
    # a retry that will go out (customer not on hold, something still open) uses its channel for the day
    open_numbers = {cid: {r.number for r in rows} for cid, rows in rows_by_customer.items()}
    busy = _busy_channels(company, on, [a for a in retry if not profiles[a.customer_id].hold
                                        and open_numbers.get(a.customer_id, set()) & set(a.items)])

    # 1. evaluate every customer with open items
    decisions: list[tuple[int, dunning.Decision, dict[str, DunningStep]]] = []
    policies: dict[int | None, tuple[dict[str, DunningStep], list[dunning.Step]]] = {}  # built once per policy
    for customer_id, rows in rows_by_customer.items():
        profile = profiles[customer_id]
        policy_id = profile.policy_id or segments.get(profile.segment.strip().lower()) or default_id
        if policy_id not in policies:
            by_key = {s.key: s for s in steps_by_policy.get(policy_id, [])}
            policies[policy_id] = (by_key, [dunning.Step(s.key, s.offset_days, s.channel, s.template, s.min_overdue,
                                                         s.cc) for s in by_key.values()])
        models_by_key, steps = policies[policy_id]
        covered = {(key, r.number) for r in rows for key in covered_keys.get(r.id, ())} if covered_keys else set()
        items = [dunning.Item(r.number, r.due_date, r.residual, r.disputed, r.id in promised) for r in rows]
        for decision in dunning.plan(profile.code, steps, items, on, hold=profile.hold, covered=covered,
                                     minimum=minimums.get(policy_id, Decimal(0)),
                                     credits=credits.get(customer_id, Decimal(0)), busy=busy.get(customer_id)):
            decisions.append((customer_id, decision, models_by_key))

    due = [(cid, d, m) for cid, d, m in decisions if d.status in (dunning.DUE, dunning.MERGED)]
    for _cid, d, _m in decisions:
        if d.status == dunning.SKIPPED or (dry_run and d.status == dunning.MERGED):
            result.actions.append(ActionResult(d.customer, d.step.key, d.step.channel, d.numbers, d.amount,
                                               "skipped", d.reason))

    if dry_run:
        for action in retry:
            result.actions.append(ActionResult(profiles[action.customer_id].code, action.step_key, action.channel,
                                               list(action.items), action.amount, "pending",
                                               f"dry run: would retry ({action.status}, {action.attempts} attempt(s))"))
        for _cid, d, _m in due:
            if d.status == dunning.DUE:
                result.actions.append(ActionResult(d.customer, d.step.key, d.step.channel, d.message_numbers,
                                                   d.message_amount, "pending", "dry run: would send"))
        return result

    # 2. create the new actions with their keys before anything is sent (merged ones recorded as skipped)
    created = _create_actions(company, on, actor, due, rows_by_customer)
    for action in created:
        if action.status == DunningAction.SKIPPED:
            result.actions.append(ActionResult(profiles[action.customer_id].code, action.step_key, action.channel,
                                               list(action.items), action.amount, "skipped", action.note))
    made = [a.id for a in created]
    created = [a for a in created if a.status == DunningAction.PENDING]

    # 3. send: the retries first, then the new ones
    already = DunningAction.objects.filter(company=company, date=on, status__in=[DunningAction.SENT,
                                                                                 DunningAction.SKIPPED])
    already = list(already.exclude(id__in=made).select_related("customer").order_by("id"))
    contacts = selectors.contacts_by_customer({a.customer_id for a in retry + created})
    run = _Run(company, on, actor, transports)
    todo = retry + created
    run.statements = _statement_prefetch(run, todo, profiles, rows_by_customer)
    try:
        for n, action in enumerate(todo, start=1):
            profile = profiles[action.customer_id]
            rows = rows_by_customer.get(action.customer_id, [])
            still_open = [r for r in rows if r.number in set(action.items)]
            if not still_open or profile.hold:
                reason = "customer on hold from dunning" if profile.hold else "paid meanwhile: nothing left to send"
                DunningAction.objects.filter(pk=action.pk).update(status=DunningAction.SKIPPED, note=reason[:300])
                result.actions.append(run.result(action, profile, DunningAction.SKIPPED, reason))
                continue
            result.actions.append(run.deliver(action, profile, contacts.get(action.customer_id, []), rows,
                                              action.step))
            if progress:
                progress(n, len(todo))
    finally:
        if run.statements is not None:
            run.statements.close()
        for transport in {id(t): t for t in run.transports.values()}.values():
            if hasattr(transport, "close"):
                transport.close()
    for action in already:
        when = timezone.localtime(action.sent_at).strftime("%H:%M") if action.sent_at else ""
        reason = f"already sent{' at ' + when if when else ''}" if action.status == DunningAction.SENT else (
            action.note or "skipped earlier")
        result.actions.append(ActionResult(action.customer.code, action.step_key, action.channel, list(action.items),
                                           action.amount, "skipped", reason))
    return result


def _busy_channels(company, on: date, retry: list[DunningAction]) -> dict[int, dict[str, str]]:
    """customer id -> message channel -> what already went (or goes, as a retry) to them for ``on``."""
    busy: dict[int, dict[str, str]] = {}
    today = DunningAction.objects.filter(company=company, date=on, status=DunningAction.SENT,
                                         channel__in=dunning.MESSAGE_CHANNELS).order_by("id")
    for action in [*today, *retry]:
        if action.channel in dunning.MESSAGE_CHANNELS:
            what = f"the {action.step_key} {dunning.CHANNEL_NAMES[action.channel]}"
            if action.status != DunningAction.SENT:
                what += f" of {action.date.strftime('%d-%m-%Y')} ({action.status}, retried now)"
            busy.setdefault(action.customer_id, {}).setdefault(action.channel, what)
    return busy


def _create_actions(company, on: date, actor, due, rows_by_customer) -> list[DunningAction]:
    """Create the due actions (pending) and the merged ones (skipped, with why), keyed, in one transaction."""
    if not due:
        return []
    who = actor_name(actor)
    with transaction.atomic():
        existing = set(DunningAction.objects.filter(company=company, idempotency_key__in=[d.key for _c, d, _m in due])
                       .values_list("idempotency_key", flat=True))
        fresh = [(cid, d, m) for cid, d, m in due if d.key not in existing]
        actions = DunningAction.objects.bulk_create([
            DunningAction(company=company, customer_id=cid, step=m[d.step.key], step_key=d.step.key, date=on,
                          items=d.message_numbers, amount=d.message_amount, channel=d.step.channel,
                          idempotency_key=d.key, created_by=who)
            if d.status == dunning.DUE else
            DunningAction(company=company, customer_id=cid, step=m[d.step.key], step_key=d.step.key, date=on,
                          items=d.numbers, amount=d.amount, channel=d.step.channel, idempotency_key=d.key,
                          created_by=who, status=DunningAction.SKIPPED, note=d.reason[:300])
            for cid, d, m in fresh])
        if any(a.pk is None for a in actions):  # a database that cannot return ids from a bulk insert
            actions = list(DunningAction.objects.filter(company=company, idempotency_key__in=[d.key for _c, d, _m in fresh])
                           .order_by("id"))
        by_key = {a.idempotency_key: a for a in actions}
        links = []
        for cid, d, _m in fresh:
            id_of = {r.number: r.id for r in rows_by_customer[cid]}
            links += [DunningActionItem(action=by_key[d.key], open_item_id=id_of[n], step_key=d.step.key)
                      for n in d.numbers]
        DunningActionItem.objects.bulk_create(links)
        audit_append_many([AuditEntry(who, "create", "dunning_action", d.key, company.pk, None,
                                      {"customer": d.customer, "step": d.step.key, "channel": d.step.channel,
                                       "items": d.message_numbers, "amount": f"{d.message_amount:.2f}",
                                       "date": on.isoformat()}
                                      | ({"merged": [{"step": m.step.key, "items": m.numbers} for m in d.merged]}
                                         if d.merged else {})
                                      | ({"status": "skipped", "reason": d.reason} if d.status == dunning.MERGED else {}))
                           for _cid, d, _m in fresh])
    step_of = {d.key: m[d.step.key] for _cid, d, m in fresh}
    for action in actions:
        action.step = step_of[action.idempotency_key]
    return sorted(actions, key=lambda a: a.id)


def sent_pdf(action: DunningAction) -> tuple[str, bytes]:
    """The PDF a sent statement or letter carried, as (file name, content).

    PDFs e-mailed are not kept; they are made again for the action's date from the same inputs: a
    statement from the customer's oldest item open on that date to that date; a letter listing the
    items the action covered with what was outstanding on them that day (and the interest accrued
    by then). A letter written to the letters folder is read back from there while it is kept.
    """
    from dues.reporting.selectors import outstanding

    company, customer, on, step = action.company, action.customer, action.date, action.step
    if action.status != DunningAction.SENT:
        raise DuesError(f"{action.step_key} of {on:%d-%m-%Y} was not sent")
    if action.channel == "letter":
        path = letters_dir() / f"{customer.code}-{action.idempotency_key.replace(':', '-')}.pdf"
        if path.is_file():
            return path.name, path.read_bytes()
    items = outstanding(company=company, customer=customer, as_of=on)
    if step.template == "statement" and action.channel == "email":
        debits = [i for i in items if i.side == "D"]
        start = min((i.date for i in debits), default=on)
        return f"statement-{customer.code}-{on.isoformat()}.pdf", render_statement(company, customer, start, on)
    kind = LETTER_KIND.get(step.template, "reminder" if action.channel == "letter" else "")
    if not kind:
        raise DuesError(f"{action.step_key} carried no statement or letter")
    wanted = set(action.items)
    covered = [i for i in items if i.side == "D" and i.number in wanted]
    computed = interest_compute(company, customer, on)
    extra = {}
    if computed.terms is not None and computed.total:
        extra = {"interest": computed.total,
                 "interest_note": f"{rate_text(computed.terms.annual_rate)}% a year, {interest_label(computed.terms)}"}
    content = render_letter(company, customer, kind, on, covered, cc=", ".join(_copies(step.cc)), **extra)
    return f"{step.template}-{customer.code}-{on.isoformat()}.pdf", content
