"""The dunning run and the collections settings: every write of the collections app.

``collect_run`` is idempotent. For a date D it

1. retries the actions left pending (a crash between creating and sending) or failed earlier;
2. evaluates every customer with open debit items (one query for all of them) against its policy
   (the customer's own, else its segment's, else the company default) with ``dues.core.dunning``;
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
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from dues.audit.services import AuditEntry, actor_name, audit_append, audit_append_many
from dues.core import dunning
from dues.core.ageing import bucket_for, bucket_labels
from dues.core.errors import DuesError
from dues.core.money import ZERO
from dues.users.permissions import require

from . import selectors
from .models import (
    Activity,
    CustomerCollections,
    Dispute,
    DunningAction,
    DunningActionItem,
    DunningPolicy,
    DunningStep,
    PromiseToPay,
)
from .transports import EmailTransport, Message, WebhookTransport, letters_dir

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates" / "collections" / "messages"

DEFAULT_POLICY_NAME = "Standard"
# key, offset days, channel, template, minimum overdue, copy to
DEFAULT_STEPS: list[tuple[str, int, str, str, str, str]] = [
    ("pre-due", -3, "email", "pre-due", "0", ""),
    ("reminder-1", 1, "email", "reminder-1", "0", ""),
    ("reminder-2", 7, "email", "reminder-2", "0", ""),
    ("statement", 15, "email", "statement", "0", ""),
    ("call", 15, "call_task", "call", "0", ""),
    ("escalation", 30, "email", "escalation", "0", "@ar_manager"),
    ("credit-hold", 45, "call_task", "credit-hold", "0", "@ar_manager"),
    ("final-notice", 60, "email", "final-notice", "0", "@ar_manager"),
    ("final-letter", 60, "letter", "final-notice", "0", "@ar_manager"),
]
ACTIVITY_KIND = {"email": "email", "sms": "sms", "whatsapp": "whatsapp", "letter": "letter", "call_task": "task",
                 "visit_task": "task"}
LETTER_KIND = {"escalation": "escalation", "final-notice": "final_notice"}  # template -> pdf.render_letter kind


# --- policies and settings -------------------------------------------------------------------------------


def policy_default(company, actor=None) -> DunningPolicy:
    """The company's default policy, created with the standard steps the first time it is asked for.

    Like the default chart of accounts it is seeded without an audit record of its own.
    """
    found = DunningPolicy.objects.filter(company=company, is_default=True).first()
    if found:
        return found
    try:
        with transaction.atomic():
            policy = DunningPolicy.objects.create(company=company, name=DEFAULT_POLICY_NAME, is_default=True)
            DunningStep.objects.bulk_create(
                DunningStep(policy=policy, order=i, key=key, offset_days=days, channel=channel, template=template,
                            min_overdue=Decimal(minimum), cc=cc)
                for i, (key, days, channel, template, minimum, cc) in enumerate(DEFAULT_STEPS, start=1))
    except IntegrityError:  # someone else created it at the same moment
        return DunningPolicy.objects.get(company=company, is_default=True)
    return policy


@transaction.atomic
def customer_collections_update(*, customer, actor, hold: bool | None = None, hold_reason: str | None = None,
                                policy: DunningPolicy | None | bool = False,
                                language: str | None = None) -> CustomerCollections:
    """Put a customer on (or off) hold from dunning, give them their own policy (None: back to default),
    or set the language of their messages ("en", "hi", "mr", ...)."""
    from dues.core.errors import Problem, ValidationFailed

    from .models import LANGUAGES

    require(actor, "collections.act", "change a customer's dunning settings")
    if language is not None and language not in dict(LANGUAGES):
        raise ValidationFailed([Problem(f"unknown language “{language}”", "language")])
    profile, _ = CustomerCollections.objects.select_for_update().get_or_create(customer=customer)
    before = {"hold": profile.dunning_hold, "hold_reason": profile.hold_reason, "policy": profile.policy_id,
              "language": profile.language}
    if language is not None:
        profile.language = language
    if hold is not None:
        profile.dunning_hold = hold
    if hold_reason is not None:
        profile.hold_reason = hold_reason.strip()
    if policy is not False:
        profile.policy = policy
    profile.save()
    audit_append(actor=actor, action="update", object_type="customer_collections", object_id=customer.code,
                 company_id=customer.company_id, before=before,
                 after={"hold": profile.dunning_hold, "hold_reason": profile.hold_reason, "policy": profile.policy_id,
                        "language": profile.language})
    return profile


# --- templates -------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def template_environment():
    from jinja2 import FileSystemLoader, StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    from dues.web.templatetags.dues_format import format_day, format_money

    env = SandboxedEnvironment(loader=FileSystemLoader(str(TEMPLATE_DIR)), undefined=StrictUndefined,
                               autoescape=False, keep_trailing_newline=False)
    env.filters["money"] = format_money
    env.filters["amount"] = lambda v: format_money(v, symbol=False)
    env.filters["day"] = format_day
    return env


def render_message(template: str, context: dict, *, language: str = "en",
                   overrides: dict | None = None) -> tuple[str, str]:
    """(subject, body) of a message template: its first line is ``Subject: ...``, then a blank line.

    The company's own wording (``MessageTemplate``) in ``language`` comes first, then its English one,
    then the file shipped with dues. ``overrides`` ((name, language) -> compiled template, see
    ``template_overrides``) saves a query per message in a run.
    """
    from dues.web.templatetags.dues_format import use_company

    if overrides is None:
        overrides = template_overrides(context["company"], names=[template])
    compiled = overrides.get((template, language or "en")) or overrides.get((template, "en"))
    with use_company(context["company"]):
        if compiled is None:
            compiled = template_environment().get_template(f"{template}.txt")
        text = compiled.render(**context)
    first, _, rest = text.partition("\n")
    if first.startswith("Subject:"):
        return first.removeprefix("Subject:").strip(), rest.lstrip("\n").rstrip() + "\n"
    return "", text.rstrip() + "\n"


def template_source(subject: str, body: str) -> str:
    """The one text a template is compiled from: ``Subject: ...``, a blank line, the body."""
    subject = (subject or "").strip()
    body = (body or "").replace("\r\n", "\n")
    return f"Subject: {subject}\n\n{body}" if subject else body


def template_overrides(company, names=None) -> dict:
    """(name, language) -> the compiled company override; one query."""
    from .models import MessageTemplate

    rows = MessageTemplate.objects.filter(company=company)
    if names is not None:
        rows = rows.filter(name__in=list(names))
    env = template_environment()
    return {(t.name, t.language): env.from_string(template_source(t.subject, t.body))
            for t in rows.only("name", "language", "subject", "body")}


def message_context(company, profile: selectors.Profile, contacts: list, rows: list[selectors.OpenRow],
                    numbers: list[str], on: date, step: DunningStep | dunning.Step) -> dict:
    """What a template sees: the customer, the contact, the items of this action, totals and ageing."""
    wanted = set(numbers)
    # "residual" is what this message asks for: the undisputed part ("disputed" is held back)
    items = [{"number": r.number, "kind": r.kind, "date": r.date, "due_date": r.due_date,
              "days_overdue": max((on - r.due_date).days, 0), "amount": r.amount,
              "residual": getattr(r, "due", r.residual), "disputed": min(getattr(r, "disputed", ZERO), r.residual)}
             for r in rows if r.number in wanted]
    labels = bucket_labels()
    ageing = dict.fromkeys(labels, ZERO)
    for r in rows:
        ageing[bucket_for((on - r.due_date).days)] += r.residual
    contact = next((c for c in contacts if c.email), contacts[0] if contacts else None)
    return {
        "company": company,
        "customer": {"code": profile.code, "name": profile.name, "email": profile.email, "phone": profile.phone},
        "contact": {"name": (contact.name if contact else "") or "Sir / Madam",
                    "email": (contact.email if contact else "") or profile.email,
                    "phone": (contact.phone if contact else "") or profile.phone},
        "items": items,
        "total": sum((i["residual"] for i in items), ZERO),
        "outstanding": sum((r.residual for r in rows), ZERO),
        "ageing": [(label.replace("_", " "), value) for label, value in ageing.items() if value],
        "days_overdue": max((i["days_overdue"] for i in items), default=0),
        "first_due": min((i["due_date"] for i in items), default=on),
        "on": on,
        "step": {"key": step.key, "offset_days": step.offset_days, "channel": step.channel},
        "attached": False,
        "upi_link": None,
    }


# --- the run ---------------------------------------------------------------------------------------------

_PG_RUN_LOCK = 0x64756e6e  # "dunn"


def run_lock_path(company) -> Path:
    """The lock file of a SQLite database's dunning run (beside the database; in-memory: the temp dir)."""
    import tempfile

    from django.db import connection

    name = str(connection.settings_dict["NAME"])
    base = Path(tempfile.gettempdir()) / "dues-memory-db" if name.startswith(":memory:") or "mode=memory" in name \
        else Path(name).resolve().parent
    base.mkdir(parents=True, exist_ok=True)
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

    with open(run_lock_path(company), "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise busy from None
        try:
            yield
        finally:
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
    webhook = WebhookTransport()
    return {"email": EmailTransport(), "sms": webhook, "whatsapp": webhook}


def _recipients(channel: str, profile: selectors.Profile, contacts: list) -> list[str]:
    if channel == "email":
        found = [profile.email] + [c.email for c in contacts]
    elif channel in ("sms", "whatsapp"):
        found = [profile.phone] + [c.phone for c in contacts]
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


def _pdf_module():
    try:
        from dues.collections import pdf
    except ImportError:
        return None
    return pdf


def _statement_prefetch(run, todo, profiles, rows_by_customer):
    """The run's statement e-mails, rendered ahead in worker processes (None: nothing worth a pool)."""
    from dues.collections import render_pool
    from dues.customers.models import Customer

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
        self.statements = None  # render_pool.StatementPrefetch for the run's statement e-mails
        self.overrides = template_overrides(company)
        self.languages = dict(CustomerCollections.objects.filter(customer__company=company).exclude(language="en")
                              .values_list("customer_id", "language"))

    def managers(self) -> list[str]:
        if self._managers is None:
            self._managers = selectors.manager_emails()
        return self._managers

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
            pdf = _pdf_module()
            if pdf is not None and hasattr(pdf, "upi_link") and action.channel in ("email", "sms", "whatsapp"):
                context["upi_link"] = pdf.upi_link(self.company, self.customer(profile.id), context["total"],
                                                   f"{profile.code} {', '.join(numbers)}"[:80])
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
            action.status, action.attempts, action.sent_at = DunningAction.SENT, action.attempts + 1, timezone.now()
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
        pdf = _pdf_module()
        if pdf is None:
            return []
        customer = self.customer(profile.id)
        if step.template == "statement" and hasattr(pdf, "render_statement"):
            start = min(r.date for r in rows)
            if self.statements is not None:  # rendered ahead in worker processes (render_pool)
                content = self.statements.get(customer, start)
            else:
                content = pdf.render_statement(self.company, customer, start, self.on)
            return [(f"statement-{profile.code}-{self.on.isoformat()}.pdf", content, "application/pdf")]
        if step.template in LETTER_KIND and hasattr(pdf, "render_letter"):
            content = pdf.render_letter(self.company, customer, LETTER_KIND[step.template], self.on,
                                        _outstanding_items(rows, numbers, self.on), cc=", ".join(_copies(step.cc, self.managers)),
                                        **self.interest(customer))
            return [(f"{step.template}-{profile.code}-{self.on.isoformat()}.pdf", content, "application/pdf")]
        return []

    def letter(self, step, profile, rows, numbers, action) -> str:
        pdf = _pdf_module()
        if pdf is None or not hasattr(pdf, "render_letter"):
            return "letter queued"
        content = pdf.render_letter(self.company, self.customer(profile.id), LETTER_KIND.get(step.template, "reminder"),
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
                "interest_note": f"{_rate_text(terms.annual_rate)}% a year, {interest_label(terms)}"}

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

    # 1. evaluate every customer with open items
    decisions: list[tuple[int, dunning.Decision, dict[str, DunningStep]]] = []
    for customer_id, rows in rows_by_customer.items():
        profile = profiles[customer_id]
        policy_id = profile.policy_id or segments.get(profile.segment.strip().lower()) or default_id
        models_by_key = {s.key: s for s in steps_by_policy.get(policy_id, [])}
        steps = [dunning.Step(s.key, s.offset_days, s.channel, s.template, s.min_overdue, s.cc)
                 for s in models_by_key.values()]
        covered = {(key, r.number) for r in rows for key in covered_keys.get(r.id, ())}
        items = [dunning.Item(r.number, r.due_date, r.residual, r.disputed, r.id in promised) for r in rows]
        for decision in dunning.evaluate(profile.code, steps, items, on, hold=profile.hold, covered=covered):
            decisions.append((customer_id, decision, models_by_key))

    due = [(cid, d, m) for cid, d, m in decisions if d.status == dunning.DUE]
    for _cid, d, _m in decisions:
        if d.status == dunning.SKIPPED:
            result.actions.append(ActionResult(d.customer, d.step.key, d.step.channel, d.numbers, d.amount,
                                               "skipped", d.reason))

    if dry_run:
        for action in retry:
            result.actions.append(ActionResult(profiles[action.customer_id].code, action.step_key, action.channel,
                                               list(action.items), action.amount, "pending",
                                               f"dry run: would retry ({action.status}, {action.attempts} attempt(s))"))
        for _cid, d, _m in due:
            result.actions.append(ActionResult(d.customer, d.step.key, d.step.channel, d.numbers, d.amount, "pending",
                                               "dry run: would send"))
        return result

    # 2. create the new actions with their keys before anything is sent
    created = _create_actions(company, on, actor, due, rows_by_customer)

    # 3. send: the retries first, then the new ones
    already = DunningAction.objects.filter(company=company, date=on, status__in=[DunningAction.SENT,
                                                                                 DunningAction.SKIPPED])
    already = list(already.exclude(id__in=[a.id for a in created]).select_related("customer").order_by("id"))
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


def _create_actions(company, on: date, actor, due, rows_by_customer) -> list[DunningAction]:
    if not due:
        return []
    who = actor_name(actor)
    with transaction.atomic():
        existing = set(DunningAction.objects.filter(company=company, idempotency_key__in=[d.key for _c, d, _m in due])
                       .values_list("idempotency_key", flat=True))
        fresh = [(cid, d, m) for cid, d, m in due if d.key not in existing]
        actions = DunningAction.objects.bulk_create([
            DunningAction(company=company, customer_id=cid, step=m[d.step.key], step_key=d.step.key, date=on,
                          items=d.numbers, amount=d.amount, channel=d.step.channel, idempotency_key=d.key,
                          created_by=who)
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
                                       "items": d.numbers, "amount": f"{d.amount:.2f}", "date": on.isoformat()})
                           for _cid, d, _m in fresh])
    step_of = {d.key: m[d.step.key] for _cid, d, m in fresh}
    for action in actions:
        action.step = step_of[action.idempotency_key]
    return sorted(actions, key=lambda a: a.id)


# --- activities, promises to pay, disputes -------------------------------------------------------------------

CONTACT_KINDS = ("call", "email", "sms", "whatsapp", "visit", "meeting", "letter")
OUTCOMES = ("reached", "no_answer", "promised", "disputed", "refused", "wrong_contact")


def _problems(found: list) -> None:
    from dues.core.errors import ValidationFailed

    if found:
        raise ValidationFailed(found)


def _money(value, field: str, found: list) -> Decimal | None:
    from decimal import InvalidOperation

    from dues.core.errors import Problem

    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        found.append(Problem(f"not an amount: {value!r}", field))
        return None
    if not amount.is_finite() or amount <= 0:
        found.append(Problem("must be more than zero", field))
        return None
    return amount


@transaction.atomic
def activity_log(*, customer, kind: str, outcome: str = "", notes: str = "", next_follow_up: date | None = None,
                 actor, subject: str = "") -> Activity:
    """Log a contact with a customer and its outcome (a call reached, no answer, promised, ...)."""
    from dues.core.errors import Problem
    from dues.users.permissions import require_customer

    require(actor, "collections.act", "log a collections activity")
    require_customer(actor, customer)
    found = []
    if kind not in CONTACT_KINDS:
        found.append(Problem(f"unknown kind {kind!r}; one of {', '.join(CONTACT_KINDS)}", "kind"))
    if outcome and outcome not in OUTCOMES:
        found.append(Problem(f"unknown outcome {outcome!r}; one of {', '.join(OUTCOMES)}", "outcome"))
    _problems(found)
    activity = Activity.objects.create(company_id=customer.company_id, customer=customer, kind=kind, outcome=outcome,
                                       subject=subject[:300], notes=notes.strip(), next_follow_up=next_follow_up,
                                       created_by=actor_name(actor))
    audit_append(actor=actor, action="create", object_type="activity", object_id=str(activity.pk),
                 company_id=customer.company_id, before=None,
                 after={"customer": customer.code, "kind": kind, "outcome": outcome, "notes": activity.notes,
                        "next_follow_up": next_follow_up.isoformat() if next_follow_up else None})
    return activity


def _customer_documents(customer, numbers, kinds, field: str, found: list) -> list:
    from dues.core.errors import Problem
    from dues.ledger.models import Document

    numbers = [n.strip() for n in numbers if n and n.strip()]
    docs = {d.number: d for d in Document.objects.filter(company_id=customer.company_id, customer=customer,
                                                          kind__in=kinds, number__in=numbers,
                                                          status=Document.POSTED)}
    for n in numbers:
        if n not in docs:
            found.append(Problem(f"{customer.code} has no posted invoice {n}", field))
    return [docs[n] for n in dict.fromkeys(numbers) if n in docs]


@transaction.atomic
def promise_add(*, customer, amount, promised_date: date, actor, invoices=(), taken_on: date | None = None,
                grace_days: int = 3, notes: str = "", kind: str = "call") -> PromiseToPay:
    """Record a promise to pay (and the contact it was taken in, as an activity with outcome "promised").

    ``invoices``: document numbers of the customer's invoices it covers; none means the account as a whole.
    """
    from dues.core.errors import Problem
    from dues.ledger.models import Document
    from dues.users.permissions import require_customer


    require(actor, "collections.act", "record a promise to pay")
    require_customer(actor, customer)
    taken_on = taken_on or timezone.localdate()
    found: list = []
    value = _money(amount, "amount", found)
    if promised_date < taken_on:
        found.append(Problem(f"the promised date is before the day it was taken ({taken_on.isoformat()})",
                             "promised_date"))
    if not 0 <= int(grace_days) <= 60:
        found.append(Problem("between 0 and 60 days", "grace_days"))
    docs = _customer_documents(customer, invoices, Document.DEBIT_KINDS, "invoices", found)
    _problems(found)
    from datetime import timedelta

    who = actor_name(actor)
    activity = Activity.objects.create(
        company_id=customer.company_id, customer=customer, kind=kind if kind in CONTACT_KINDS else "call",
        outcome="promised", subject=f"promised {value:.2f} by {promised_date.isoformat()}",
        notes=notes.strip(), next_follow_up=promised_date, created_by=who)
    promise = PromiseToPay.objects.create(
        company_id=customer.company_id, customer=customer, amount=value, promised_date=promised_date,
        grace_days=int(grace_days), deadline=promised_date + timedelta(days=int(grace_days)), taken_on=taken_on,
        taken_by=who, notes=notes.strip(), activity=activity)
    promise.invoices.set(docs)
    audit_append(actor=actor, action="create", object_type="promise_to_pay", object_id=str(promise.pk),
                 company_id=customer.company_id, before=None,
                 after={"customer": customer.code, "amount": f"{value:.2f}", "promised_date": promised_date.isoformat(),
                        "grace_days": promise.grace_days, "taken_on": taken_on.isoformat(),
                        "invoices": [d.number for d in docs]})
    return promise


def promises_refresh(company, on: date, actor=None) -> int:
    """Set every open promise's received amount and status from the receipts; returns how many settled.

    Received: for a promise naming invoices, the receipt allocations to them effective from the day
    it was taken to its deadline (and not after ``on``), reversals netted; for a promise on the
    account, the customer's posted receipts dated in that window (cash + TDS + bank charges).
    Kept when received reaches the amount; after the deadline, partly kept when something came,
    else broken. Three UPDATE statements whatever the number of promises; settled promises stay settled.
    """
    from django.db.models import Case, DecimalField, Exists, F, OuterRef, Subquery, Sum, Value, When
    from django.db.models.functions import Coalesce

    from dues.ledger.models import Allocation, Document


    money = DecimalField(max_digits=24, decimal_places=4)
    allocated = (Allocation.objects.filter(debit_item__document__promises=OuterRef("pk"),
                                           credit_item__document__kind=Document.RECEIPT,
                                           effective_date__gte=OuterRef("taken_on"),
                                           effective_date__lte=OuterRef("deadline"))
                 .filter(effective_date__lte=on)
                 .values("company_id").annotate(s=Sum("amount")).values("s"))
    paid = (Document.objects.filter(customer_id=OuterRef("customer_id"), kind=Document.RECEIPT,
                                    status=Document.POSTED, date__gte=OuterRef("taken_on"),
                                    date__lte=OuterRef("deadline"))
            .filter(date__lte=on)
            .values("customer_id").annotate(s=Sum(F("amount") + F("tds") + F("bank_charges"))).values("s"))
    named = Exists(PromiseToPay.invoices.through.objects.filter(promisetopay_id=OuterRef("pk")))
    zero = Value(Decimal(0), output_field=money)
    with transaction.atomic():
        open_ones = PromiseToPay.objects.filter(company=company, status=PromiseToPay.OPEN)
        open_ones.update(received=Case(When(named, then=Coalesce(Subquery(allocated, output_field=money), zero)),
                                       default=Coalesce(Subquery(paid, output_field=money), zero), output_field=money))
        open_ones.filter(received__lt=0).update(received=0)
        status = Case(When(received__gte=F("amount"), then=Value(PromiseToPay.KEPT)),
                      When(deadline__lt=on, received__gt=0, then=Value(PromiseToPay.PARTLY_KEPT)),
                      When(deadline__lt=on, then=Value(PromiseToPay.BROKEN)),
                      default=Value(PromiseToPay.OPEN))
        settling = open_ones.filter(_settles(on))
        changed = list(settling.annotate(new=status).values_list("id", "customer__code", "amount", "received", "new"))
        if changed:
            PromiseToPay.objects.filter(id__in=[c[0] for c in changed]).update(status=status, settled_on=on)
            audit_append_many([AuditEntry(actor_name(actor), "update", "promise_to_pay", str(pid), company.pk,
                                          {"status": PromiseToPay.OPEN},
                                          {"status": new, "customer": code, "amount": f"{amount:.2f}",
                                           "received": f"{received:.2f}", "on": on.isoformat()})
                               for pid, code, amount, received, new in changed])
    return len(changed)


def _settles(on: date):
    from django.db.models import F, Q

    return Q(received__gte=F("amount")) | Q(deadline__lt=on)


DISPUTE_CAP = "collections.act"


def _dispute_document(company, invoice, found: list):
    from dues.core.errors import Problem
    from dues.ledger.models import Document

    if isinstance(invoice, Document):
        return invoice
    doc = (Document.objects.filter(company=company, kind__in=Document.DEBIT_KINDS, number=str(invoice).strip())
           .select_related("customer").first())
    if doc is None:
        found.append(Problem(f"no invoice or debit note {invoice!r}", "document"))
    return doc


@transaction.atomic
def dispute_open(*, company, invoice, amount, reason: str, owner: str, actor, sla_days: int = 7,
                 opened_on: date | None = None, notes: str = ""):
    """Open a dispute on (part of) an invoice: while it is active its amount is held back from dunning
    (the rest of the invoice is still dunned) and shown apart in ageing ("of which disputed")."""
    from dues.core.errors import Problem
    from dues.ledger.models import Document, OpenItem
    from dues.users.permissions import require_customer


    require(actor, DISPUTE_CAP, "open a dispute")
    found: list = []
    doc = _dispute_document(company, invoice, found)
    value = _money(amount, "amount", found)
    if reason not in dict(Dispute.REASONS):
        found.append(Problem(f"unknown reason {reason!r}; one of {', '.join(dict(Dispute.REASONS))}", "reason"))
    if owner not in dict(Dispute.OWNERS):
        found.append(Problem(f"unknown owner {owner!r}; one of {', '.join(dict(Dispute.OWNERS))}", "owner"))
    if not 0 < int(sla_days) <= 365:
        found.append(Problem("between 1 and 365 days", "sla_days"))
    if doc is not None:
        require_customer(actor, doc.customer)
        if doc.status != Document.POSTED:
            found.append(Problem(f"{doc.number} is cancelled", "document"))
        item = OpenItem.objects.select_for_update().filter(document=doc, side="D").first()
        residual = item.residual if item else Decimal(0)
        room = residual - selectors.disputed_amount(doc)
        if value is not None and value > room:
            found.append(Problem(f"more than what is left to dispute on {doc.number} ({room:.2f})", "amount"))
    _problems(found)
    opened_on = opened_on or timezone.localdate()
    dispute = Dispute.objects.create(company=company, customer=doc.customer, document=doc, amount=value,
                                     reason=reason, owner=owner, sla_days=int(sla_days), opened_on=opened_on,
                                     notes=notes.strip(), created_by=actor_name(actor))
    Activity.objects.create(company=company, customer=doc.customer, kind="task", outcome="disputed",
                            subject=f"dispute on {doc.number}: {reason.replace('_', ' ')} ({value:.2f})",
                            notes=notes.strip(), created_by=actor_name(actor))
    audit_append(actor=actor, action="create", object_type="dispute", object_id=str(dispute.pk),
                 company_id=company.pk, before=None, after=_dispute_state(dispute))
    return dispute


def _dispute_state(dispute) -> dict:
    return {"document": dispute.document.number, "customer": dispute.customer.code,
            "amount": f"{dispute.amount:.2f}", "reason": dispute.reason, "owner": dispute.owner,
            "status": dispute.status, "sla_days": dispute.sla_days, "opened_on": dispute.opened_on.isoformat(),
            "resolved_on": dispute.resolved_on.isoformat() if dispute.resolved_on else None,
            "credit_note": dispute.credit_note.number if dispute.credit_note_id else None, "notes": dispute.notes}


def _locked_dispute(dispute, actor, what: str):
    from dues.core.errors import DuesError
    from dues.users.permissions import require_customer


    require(actor, DISPUTE_CAP, what)
    dispute = Dispute.objects.select_for_update(of=("self",)).select_related("document", "customer", "credit_note").get(
        pk=getattr(dispute, "pk", dispute))
    require_customer(actor, dispute.customer)
    if dispute.status not in Dispute.ACTIVE:
        raise DuesError(f"dispute {dispute.pk} is already closed ({dispute.get_status_display()})")
    return dispute


@transaction.atomic
def dispute_update(*, dispute, actor, status: str | None = None, owner: str | None = None,
                   notes: str | None = None, sla_days: int | None = None):
    """Move an active dispute along: in progress, another owner department, notes, SLA."""
    from dues.core.errors import Problem


    dispute = _locked_dispute(dispute, actor, "update a dispute")
    before = _dispute_state(dispute)
    found: list = []
    if status is not None and status not in Dispute.ACTIVE:
        found.append(Problem("open or in_progress (resolve or reject with dispute_resolve)", "status"))
    if owner is not None and owner not in dict(Dispute.OWNERS):
        found.append(Problem(f"unknown owner {owner!r}", "owner"))
    if sla_days is not None and not 0 < int(sla_days) <= 365:
        found.append(Problem("between 1 and 365 days", "sla_days"))
    _problems(found)
    if status is not None:
        dispute.status = status
    if owner is not None:
        dispute.owner = owner
    if sla_days is not None:
        dispute.sla_days = int(sla_days)
    if notes is not None:
        dispute.notes = notes.strip()
    dispute.save()
    audit_append(actor=actor, action="update", object_type="dispute", object_id=str(dispute.pk),
                 company_id=dispute.company_id, before=before, after=_dispute_state(dispute))
    return dispute


@transaction.atomic
def dispute_resolve(*, dispute, actor, credit_note=None, rejected: bool = False, on: date | None = None,
                    notes: str | None = None):
    """Close a dispute: resolved by a credit note (linked; it must be the customer's, posted) or rejected."""
    from dues.core.errors import Problem
    from dues.ledger.models import Document


    dispute = _locked_dispute(dispute, actor, "resolve a dispute")
    before = _dispute_state(dispute)
    found: list = []
    if (credit_note is None) == (not rejected):
        found.append(Problem("give either the credit note that resolves it, or reject it", "credit_note"))
    note = None
    if credit_note is not None:
        if isinstance(credit_note, Document):
            note = credit_note
        else:
            notes_found = _customer_documents(dispute.customer, [str(credit_note)], (Document.CREDIT_NOTE,),
                                              "credit_note", [])
            note = notes_found[0] if notes_found else None
        if note is None or note.kind != Document.CREDIT_NOTE or note.customer_id != dispute.customer_id \
                or note.status != Document.POSTED:
            found.append(Problem(f"{dispute.customer.code} has no posted credit note {credit_note}", "credit_note"))
    _problems(found)
    dispute.status = Dispute.REJECTED if rejected else Dispute.RESOLVED_CREDIT_NOTE
    dispute.credit_note = note
    dispute.resolved_on = on or timezone.localdate()
    if notes is not None:
        dispute.notes = notes.strip()
    dispute.save()
    audit_append(actor=actor, action="update", object_type="dispute", object_id=str(dispute.pk),
                 company_id=dispute.company_id, before=before, after=_dispute_state(dispute))
    return dispute


# --- overdue interest and escalation ----------------------------------------------------------------------

# The RBI bank rate (per cent per year) for the MSMED Act preset. A setting to keep current:
# DUES_RBI_BANK_RATE overrides it (see docs/collections.md, "Overdue interest").
RBI_BANK_RATE_DEFAULT = Decimal("5.50")


def rbi_bank_rate() -> Decimal:
    import os
    from decimal import InvalidOperation

    raw = os.environ.get("DUES_RBI_BANK_RATE", "").strip().rstrip("%")
    if not raw:
        return RBI_BANK_RATE_DEFAULT
    try:
        rate = Decimal(raw)
    except InvalidOperation:
        raise DuesError(f"DUES_RBI_BANK_RATE is not a rate: {raw!r} (per cent per year, e.g. 6.75)") from None
    if not rate.is_finite() or not 0 < rate < 50:
        raise DuesError(f"DUES_RBI_BANK_RATE out of range: {raw!r}")
    return rate


def interest_terms(customer):
    """The customer's interest terms: their own (collections profile), else their policy's; ``None`` if none."""
    from dues.core.interest import Terms

    profile = CustomerCollections.objects.filter(customer=customer).select_related("policy").first()
    policy = profile.policy if profile and profile.policy_id else None
    if policy is None:
        segment = (customer.segment or "").strip().lower() if hasattr(customer, "segment") else ""
        policy_id = selectors.segment_policies(customer.company).get(segment) if segment else None
        policy = (DunningPolicy.objects.filter(pk=policy_id).first() if policy_id
                  else DunningPolicy.objects.filter(company_id=customer.company_id, is_default=True).first())
    if profile and profile.interest_mode:
        mode, rate = profile.interest_mode, profile.interest_rate
        basis = profile.interest_basis or (policy.interest_basis if policy else "reducing")
    elif policy is not None:
        mode, rate, basis = policy.interest_mode, policy.interest_rate, policy.interest_basis
    else:
        return None
    if mode == "none":
        return None
    if mode == "msmed":
        return Terms("msmed", basis=basis, bank_rate=rbi_bank_rate())
    return Terms(mode, Decimal(rate or 0), basis=basis)


def _rate_text(rate: Decimal) -> str:
    return f"{Decimal(rate).normalize():f}"


@dataclass
class ItemCharge:
    number: str
    kind: str
    due_date: date
    amount: Decimal
    residual: Decimal
    result: Any  # dues.core.interest.ItemInterest

    @property
    def interest(self) -> Decimal:
        return self.result.interest

    def as_json(self) -> dict:
        return {"number": self.number, "kind": self.kind, "due_date": self.due_date.isoformat(),
                "amount": f"{self.amount:.2f}", "residual": f"{self.residual:.2f}", "days": self.result.days,
                "interest": f"{self.interest:.2f}",
                "periods": [{"from": p.start.isoformat(), "to": p.end.isoformat(), "days": p.days,
                             "balance": f"{p.balance:.2f}", "rate": _rate_text(p.rate), "interest": f"{p.interest:.2f}",
                             "rest": p.rest} for p in self.result.periods]}


@dataclass
class CustomerInterest:
    customer: Any
    on: date
    terms: Any  # dues.core.interest.Terms or None
    since: date | None  # interest already charged up to and including this day
    items: list[ItemCharge] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((i.interest for i in self.items), ZERO)

    def as_json(self) -> dict:
        terms = self.terms
        return {"customer": self.customer.code, "on": self.on.isoformat(),
                "mode": terms.mode if terms else "none", "rate": _rate_text(terms.annual_rate) if terms else "0",
                "basis": terms.basis if terms else "", "since": self.since.isoformat() if self.since else None,
                "total": f"{self.total:.2f}", "items": [i.as_json() for i in self.items if i.interest]}


def interest_compute(company, customer, on: date, terms=None, start: date | None = None) -> CustomerInterest:
    """The overdue interest a customer owes up to ``on`` (after what earlier debit notes charged).

    ``start``: count no day before it (e.g. the day interest terms were agreed).

    Two queries: the customer's overdue debit items (not the interest debit notes themselves), and
    every allocation to them up to ``on``; then ``dues.core.interest.compute`` per item.
    """
    from django.db.models import Max, Q

    from dues.core.interest import compute
    from dues.ledger.models import Allocation, Document, OpenItem

    from .models import InterestCharge

    terms = terms if terms is not None else interest_terms(customer)
    since = (InterestCharge.objects.filter(company=company, customer=customer, document__status=Document.POSTED)
             .aggregate(m=Max("through"))["m"])
    if start is not None:
        from datetime import timedelta

        since = max(since or date.min, start - timedelta(days=1))
    result = CustomerInterest(customer, on, terms, since)
    if terms is None:
        return result
    start = since or date.min
    items = list(OpenItem.objects.filter(company=company, customer=customer, side="D", reversal_of__isnull=True,
                                         document__status=Document.POSTED, due_date__lt=on, date__lte=on,
                                         document__interest_charge__isnull=True)
                 .filter(Q(residual__gt=0) | Q(debit_allocations__effective_date__gt=start))
                 .distinct().select_related("document").order_by("due_date", "id"))
    paid: dict[int, list[tuple[date, Decimal]]] = {}
    for item_id, effective, amount in (Allocation.objects.filter(debit_item__in=[i.id for i in items],
                                                                 effective_date__lte=on)
                                       .values_list("debit_item_id", "effective_date", "amount")):
        paid.setdefault(item_id, []).append((effective, amount))
    for item in items:
        outcome = compute(item.amount, item.due_date, paid.get(item.id, []), on, terms, since=since)
        if outcome.interest:
            residual = item.amount - sum((a for d, a in paid.get(item.id, [])), ZERO)
            result.items.append(ItemCharge(item.document.number, item.document.kind, item.due_date, item.amount,
                                           residual, outcome))
    return result


def interest_label(terms) -> str:
    how = {"simple": "simple", "compound": "compounded monthly",
           "msmed": "MSMED Act: three times the RBI bank rate, compounded monthly"}[terms.mode]
    return how + (", on the whole amount from the due date" if terms.basis == "due_date" else "")


def interest_post(*, company, customer, on: date, actor, number: str | None = None, start: date | None = None):
    """Charge the customer's overdue interest up to ``on`` by a debit note (due on ``on``).

    The debit note goes through ``document_post`` (audited by the ledger); an ``InterestCharge``
    records up to which day interest is charged, so the next computation starts after it.
    """
    from dues.ledger.services import DocumentDraft, document_post

    from .models import InterestCharge

    require(actor, "invoices.post", "post an interest debit note")
    with transaction.atomic():
        computed = interest_compute(company, customer, on, start=start)
        if computed.terms is None:
            raise DuesError(f"{customer.code} has no interest terms (set them on the customer or the policy)")
        total = computed.total
        if total <= 0:
            raise DuesError(f"no interest due from {customer.code} up to {on.isoformat()}")
        terms = computed.terms
        lines = ", ".join(f"{i.number} {i.result.days} d" for i in computed.items)
        description = (f"Interest on overdue invoices at {_rate_text(terms.annual_rate)}% p.a. ({terms.mode}) "
                       f"to {on.strftime('%d-%m-%Y')}: {lines}")[:500]
        draft = DocumentDraft(kind="debit_note", number=number or f"INT-{customer.code}-{on:%Y%m%d}",
                              customer=customer, date=on, due_date=on, amount=total, taxable_value=total,
                              tax=ZERO, description=description)
        document = document_post(draft, company=company, actor=actor)
        InterestCharge.objects.create(company=company, customer=customer, document=document, through=on,
                                      amount=total, mode=terms.mode, rate=terms.annual_rate,
                                      detail=[{"number": i.number, "days": i.result.days,
                                               "interest": f"{i.interest:.2f}"} for i in computed.items],
                                      created_by=actor_name(actor))
    return document, computed


ESCALATION_TARGETS = {"ar_manager": "ar_manager", "manager": "ar_manager", "legal": "legal"}


def escalate(*, customer, to: str, reason: str, actor, on: date | None = None):
    """Send a customer's account up to the AR manager or to legal (it then shows on the manager's dashboard)."""
    from dues.core.errors import Problem
    from dues.users.permissions import require_customer

    from .models import Escalation

    require(actor, "collections.act", "escalate a customer")
    require_customer(actor, customer)
    found: list = []
    target = ESCALATION_TARGETS.get((to or "").strip().lower())
    if target is None:
        found.append(Problem("escalate to the AR manager (ar_manager) or to legal", "to"))
    if not (reason or "").strip():
        found.append(Problem("say why the account is escalated", "reason"))
    _problems(found)
    on = on or timezone.localdate()
    overdue = sum((r.residual for r in selectors.open_debit_items(customer.company, [customer.id]).get(customer.id, [])
                   if r.due_date < on), ZERO)
    label = dict(Escalation.TARGETS)[target]
    who = actor_name(actor)
    with transaction.atomic():
        activity = Activity.objects.create(company_id=customer.company_id, customer=customer, kind="task",
                                           outcome="open", subject=f"escalated to {label}: {reason.strip()}"[:300],
                                           notes=reason.strip(), next_follow_up=on, created_by=who)
        escalation = Escalation.objects.create(company_id=customer.company_id, customer=customer, to=target,
                                               reason=reason.strip(), overdue=overdue, on=on, activity=activity,
                                               created_by=who)
        audit_append(actor=actor, action="create", object_type="escalation", object_id=str(escalation.pk),
                     company_id=customer.company_id, before=None,
                     after={"customer": customer.code, "to": target, "reason": escalation.reason,
                            "overdue": f"{overdue:.2f}", "on": on.isoformat()})
    return escalation


def escalation_close(*, escalation, actor, note: str = ""):
    """Close an open escalation (the manager or legal has dealt with it)."""
    from .models import Escalation

    require(actor, "collections.act", "close an escalation")
    with transaction.atomic():
        escalation = Escalation.objects.select_for_update().select_related("customer").get(pk=escalation.pk)
        if escalation.status != Escalation.OPEN:
            raise DuesError(f"escalation {escalation.pk} is already closed")
        escalation.status = Escalation.CLOSED
        escalation.save(update_fields=["status"])
        audit_append(actor=actor, action="update", object_type="escalation", object_id=str(escalation.pk),
                     company_id=escalation.company_id, before={"status": Escalation.OPEN},
                     after={"status": Escalation.CLOSED, "note": note.strip()})
    return escalation


def _interest_values(mode: str, rate, basis: str, found: list, allow_blank: bool) -> tuple[str, Decimal | None, str]:
    from decimal import InvalidOperation

    from dues.core.errors import Problem
    from dues.core.interest import BASES, MODES

    mode = (mode or "").strip().lower()
    if not (mode in MODES or (allow_blank and mode == "")):
        found.append(Problem(f"one of {', '.join(MODES)}{' (or blank: the policy' + chr(39) + 's)' if allow_blank else ''}",
                             "interest_mode"))
    value = None
    if mode in ("simple", "compound"):
        try:
            value = Decimal(str(rate).strip().rstrip("%"))
        except (InvalidOperation, ValueError):
            value = None
        if value is None or not value.is_finite() or not 0 < value <= 100:
            found.append(Problem("a rate in per cent per year, more than 0 and at most 100", "interest_rate"))
    basis = (basis or "").strip().lower()
    if basis and basis not in BASES:
        found.append(Problem(f"one of {', '.join(BASES)}", "interest_basis"))
    return mode, value, basis


@transaction.atomic
def customer_interest_update(*, customer, actor, mode: str, rate=None, basis: str = "") -> CustomerCollections:
    """A customer's own overdue-interest terms (mode blank: back to the policy's)."""
    require(actor, "settings.change", "change a customer's interest terms")
    found: list = []
    mode, value, basis = _interest_values(mode, rate, basis, found, allow_blank=True)
    _problems(found)
    profile, _ = CustomerCollections.objects.select_for_update().get_or_create(customer=customer)
    before = {"interest_mode": profile.interest_mode, "interest_rate": str(profile.interest_rate or ""),
              "interest_basis": profile.interest_basis}
    profile.interest_mode, profile.interest_rate, profile.interest_basis = mode, value, basis
    profile.save()
    audit_append(actor=actor, action="update", object_type="customer_collections", object_id=customer.code,
                 company_id=customer.company_id, before=before,
                 after={"interest_mode": mode, "interest_rate": str(value or ""), "interest_basis": basis})
    return profile


@transaction.atomic
def policy_interest_update(*, policy, actor, mode: str, rate=None, basis: str = "reducing") -> DunningPolicy:
    """The overdue-interest terms of every customer on a dunning policy."""
    require(actor, "settings.change", "change a policy's interest terms")
    found: list = []
    mode, value, basis = _interest_values(mode, rate, basis, found, allow_blank=False)
    _problems(found)
    policy = DunningPolicy.objects.select_for_update().get(pk=policy.pk)
    before = {"interest_mode": policy.interest_mode, "interest_rate": str(policy.interest_rate),
              "interest_basis": policy.interest_basis}
    policy.interest_mode, policy.interest_rate, policy.interest_basis = mode, value or Decimal(0), basis or "reducing"
    policy.save(update_fields=["interest_mode", "interest_rate", "interest_basis"])
    audit_append(actor=actor, action="update", object_type="dunning_policy", object_id=str(policy.pk),
                 company_id=policy.company_id, before=before,
                 after={"interest_mode": mode, "interest_rate": str(policy.interest_rate),
                        "interest_basis": policy.interest_basis})
    return policy


# --- message templates: the company's own wording ---------------------------------------------------------

TEMPLATE_EDITORS = ("admin", "ar_manager")


def require_template_editor(actor) -> None:
    """Only an admin or an AR manager changes what goes out to every customer."""
    from dues.core.errors import PermissionDenied
    from dues.users.permissions import role_of

    if role_of(actor) not in TEMPLATE_EDITORS:
        raise PermissionDenied(f"{actor_name(actor)} may not change the message templates (admin or AR manager only)")


def sample_message_context(company, name: str, channel: str = "email") -> dict:
    """A plausible context to trial-render a template against (two overdue invoices)."""
    from datetime import timedelta
    from types import SimpleNamespace

    on = timezone.localdate()
    profile = selectors.Profile(0, "SAMPLE", "Sample Customer Pvt Ltd", "accounts@example.com", "+91 98200 00000",
                                "", "", None, False)
    rows = [selectors.OpenRow(0, 0, "INV-1001", "invoice", on - timedelta(days=45), on - timedelta(days=15),
                              Decimal("125000.00"), Decimal("125000.00")),
            selectors.OpenRow(1, 0, "INV-1002", "invoice", on - timedelta(days=40), on - timedelta(days=10),
                              Decimal("2345678.50"), Decimal("1345678.50"))]
    step = SimpleNamespace(key=name, offset_days=15, channel=channel)
    context = message_context(company, profile, [], rows, [r.number for r in rows], on, step)
    context["upi_link"] = "upi://pay?pa=sample@upi&am=1470678.50"
    return context




def message_template_check(company, name: str, subject: str, body: str, channel: str = "email") -> list:
    """Every problem of a template: syntax (per field, with the line) and a trial render."""
    from jinja2 import TemplateError

    from dues.core.errors import Problem
    from dues.web.templatetags.dues_format import use_company

    found: list = []
    env = template_environment()
    if "\n" in (subject or "").strip():
        found.append(Problem("the subject is one line", "subject"))
    if not (body or "").strip():
        found.append(Problem("write the message body", "body"))
    for field_name, text in (("subject", subject or ""), ("body", body or "")):
        try:
            env.parse(text)
        except TemplateError as exc:
            line = f" (line {exc.lineno})" if getattr(exc, "lineno", None) and field_name == "body" else ""
            found.append(Problem(f"{exc.message or exc}{line}", field_name))
    if found:
        return found
    context = sample_message_context(company, name, channel)
    with use_company(company):
        for field_name, text in (("subject", subject or ""), ("body", template_source(subject, body))):
            try:
                env.from_string(text).render(**context)
            except Exception as exc:  # noqa: BLE001 - any render failure is the author's to fix
                found.append(Problem(f"it does not render: {exc}", field_name))
                break
    return found


def message_template_save(*, company, name: str, language: str, subject: str, body: str, actor, channel: str = ""):
    """Create or change the company's wording of template ``name`` in ``language`` (validated, audited)."""
    from dues.core.errors import Problem, ValidationFailed

    from .models import LANGUAGES, MessageTemplate

    require_template_editor(actor)
    language = (language or "").strip().lower()
    found: list = []
    if language not in dict(LANGUAGES):
        found.append(Problem(f"unknown language “{language}”", "language"))
    if not name or not (TEMPLATE_DIR / f"{name}.txt").is_file() or name.startswith("_"):
        found.append(Problem(f"no message template called “{name}”", "name"))
    if found:
        raise ValidationFailed(found)
    subject, body = (subject or "").strip(), (body or "").replace("\r\n", "\n")
    found = message_template_check(company, name, subject, body, channel or "email")
    if found:
        raise ValidationFailed(found)
    with transaction.atomic():
        current = (MessageTemplate.objects.select_for_update()
                   .filter(company=company, name=name, language=language).first())
        before = {"subject": current.subject, "body": current.body} if current else None
        if current is None:
            current = MessageTemplate(company=company, name=name, language=language)
        current.channel, current.subject, current.body = channel or current.channel, subject, body
        current.updated_by = actor_name(actor)
        current.save()
        audit_append(actor=actor, action="update" if before else "create", object_type="message_template",
                     object_id=f"{name}/{language}", company_id=company.pk, before=before,
                     after={"subject": subject, "body": body})
    return current


def message_template_reset(*, company, name: str, language: str, actor) -> bool:
    """Delete the company's wording (back to the default); False when there was none."""
    from .models import MessageTemplate

    require_template_editor(actor)
    with transaction.atomic():
        current = (MessageTemplate.objects.select_for_update()
                   .filter(company=company, name=name, language=language).first())
        if current is None:
            return False
        before = {"subject": current.subject, "body": current.body}
        current.delete()
        audit_append(actor=actor, action="delete", object_type="message_template", object_id=f"{name}/{language}",
                     company_id=company.pk, before=before, after=None)
    return True


def message_template_default(name: str) -> tuple[str, str]:
    """(subject, body) source of the file shipped with dues."""
    text = (TEMPLATE_DIR / f"{name}.txt").read_text(encoding="utf-8")
    first, _, rest = text.partition("\n")
    if first.startswith("Subject:"):
        return first.removeprefix("Subject:").strip(), rest.lstrip("\n")
    return "", text


def message_template_preview(*, company, customer, name: str, subject: str, body: str, channel: str = "email",
                             on: date | None = None) -> tuple[str, str]:
    """(subject, body) of draft wording for a real customer: their overdue items (else all open ones) on ``on``.

    Raises ``ValidationFailed`` with the template's problems. Reads only.
    """
    from types import SimpleNamespace

    from dues.core.errors import ValidationFailed
    from dues.web.templatetags.dues_format import use_company

    found = message_template_check(company, name, subject, body, channel)
    if found:
        raise ValidationFailed(found)
    on = on or timezone.localdate()
    profile = selectors.customer_profiles(company, [customer.id])[customer.id]
    rows = selectors.open_debit_items(company, [customer.id]).get(customer.id, [])
    numbers = [r.number for r in rows if r.due_date < on] or [r.number for r in rows]
    contacts = selectors.contacts_by_customer({customer.id}).get(customer.id, [])
    context = message_context(company, profile, contacts, rows, numbers, on,
                              SimpleNamespace(key=name, offset_days=0, channel=channel))
    pdf = _pdf_module()
    if pdf is not None and hasattr(pdf, "upi_link") and channel in ("email", "sms", "whatsapp") and numbers:
        context["upi_link"] = pdf.upi_link(company, customer, context["total"], f"{profile.code} {', '.join(numbers)}"[:80])
    compiled = template_environment().from_string(template_source(subject, body))
    with use_company(company):
        text = compiled.render(**context)
    first, _, rest = text.partition("\n")
    if first.startswith("Subject:"):
        return first.removeprefix("Subject:").strip(), rest.lstrip("\n").rstrip() + "\n"
    return "", text.rstrip() + "\n"
