"""Message templates: rendering, the company's own wording, previews."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import lru_cache

from django.db import transaction

from dues import clock
from dues.audit.services import actor_name, audit_append
from dues.core import dunning
from dues.core.ageing import bucket_for, bucket_labels
from dues.core.money import ZERO

from .. import selectors
from ..models import (
    DunningStep,
)
from ..selectors import TEMPLATE_DIR

# --- templates -------------------------------------------------------------------------------------------


#: The most characters one rendered message may hold, and one value a template may build with * or +:
#: a message is read by a person; ``'a' * 50000000`` in a company's template is refused, not rendered.
MAX_MESSAGE_CHARS = 100_000
#: The most loop steps one rendering may take, all ``{% for %}`` loops together: two nested loops over
#: ``range(99999)`` print nothing yet would run ten billion steps; no message needs more than a row per character.
MAX_LOOP_STEPS = MAX_MESSAGE_CHARS


@lru_cache(maxsize=1)
def template_environment():
    from contextvars import ContextVar

    from jinja2 import FileSystemLoader, StrictUndefined, Template, nodes
    from jinja2.sandbox import SandboxedEnvironment, SecurityError

    from dues.formats import format_day, format_money

    steps_left: ContextVar[list[int] | None] = ContextVar("steps_left", default=None)

    class BoundedTemplate(Template):
        def render(self, *args, **kwargs):
            token = steps_left.set([MAX_LOOP_STEPS])  # one budget per rendering, shared by every loop in it
            try:
                return super().render(*args, **kwargs)
            finally:
                steps_left.reset(token)

    def loop_budget(iterable):
        budget = steps_left.get() or [MAX_LOOP_STEPS]
        for item in iterable:
            budget[0] -= 1
            if budget[0] < 0:
                raise SecurityError(f"a message template may not loop more than {MAX_LOOP_STEPS:,} times")
            yield item

    class BoundedSandbox(SandboxedEnvironment):
        """Jinja's sandbox (no attribute walks to internals, no unsafe calls) that also bounds the work a
        template does: no power operator, no * or + that builds a value beyond MAX_MESSAGE_CHARS, and no more
        than MAX_LOOP_STEPS loop steps in one rendering (every ``for`` iterates through ``loop_budget``)."""

        intercepted_binops = frozenset(["*", "**", "+"])
        template_class = BoundedTemplate

        def _parse(self, source, name, filename):
            tree = super()._parse(source, name, filename)
            for loop in tree.find_all(nodes.For):
                loop.iter = nodes.Filter(loop.iter, "loop_budget", [], [], None, None, lineno=loop.lineno)
            return tree

        def call_binop(self, context, operator, left, right):
            if operator == "**":
                raise SecurityError("the power operator is not allowed in message templates")
            if operator == "*":
                for seq, times in ((left, right), (right, left)):
                    if isinstance(seq, str | list | tuple) and isinstance(times, int) and \
                            len(seq) * times > MAX_MESSAGE_CHARS:
                        raise SecurityError(f"a message template may not build a value over {MAX_MESSAGE_CHARS:,} "
                                            "characters")
                if isinstance(left, int) and isinstance(right, int) and abs(left * right) > 10 ** 30:
                    raise SecurityError("a number too large for a message")
            result = super().call_binop(context, operator, left, right)
            if operator == "+" and isinstance(result, str | list | tuple) and len(result) > MAX_MESSAGE_CHARS:
                raise SecurityError(f"a message template may not build a value over {MAX_MESSAGE_CHARS:,} characters")
            return result

    env = BoundedSandbox(loader=FileSystemLoader(str(TEMPLATE_DIR)), undefined=StrictUndefined,
                         autoescape=False, keep_trailing_newline=False)
    env.filters["money"] = format_money
    env.filters["amount"] = lambda v: format_money(v, symbol=False)
    env.filters["day"] = format_day
    env.filters["loop_budget"] = loop_budget
    return env


def render_message(template: str, context: dict, *, language: str = "en",
                   overrides: dict | None = None) -> tuple[str, str]:
    """(subject, body) of a message template: its first line is ``Subject: ...``, then a blank line.

    The company's own wording (``MessageTemplate``) in ``language`` comes first, then its English one,
    then the file shipped with dues. ``overrides`` ((name, language) -> compiled template, see
    ``template_overrides``) saves a query per message in a run.
    """
    from dues.formats import use_company

    if overrides is None:
        overrides = template_overrides(context["company"], names=[template])
    compiled = overrides.get((template, language or "en")) or overrides.get((template, "en"))
    with use_company(context["company"]):
        if compiled is None:
            compiled = template_environment().get_template(f"{template}.txt")
        text = _bounded(compiled.render(**template_context(context)))
    first, _, rest = text.partition("\n")
    if first.startswith("Subject:"):
        return first.removeprefix("Subject:").strip(), rest.lstrip("\n").rstrip() + "\n"
    return "", text.rstrip() + "\n"


def template_context(context: dict) -> dict:
    """What a template may see: the context with the company as plain values (its name, GSTIN, state), never
    the model, through which a template could otherwise walk to every customer's data."""
    company = context["company"]
    visible = dict(context)
    visible["company"] = {"name": company.name, "gstin": company.gstin, "state_code": company.state_code,
                          "currency": company.currency}
    return visible


def _bounded(text: str) -> str:
    if len(text) > MAX_MESSAGE_CHARS:
        from jinja2.sandbox import SecurityError

        raise SecurityError(f"the message is over {MAX_MESSAGE_CHARS:,} characters")
    return text


def template_source(subject: str, body: str) -> str:
    """The one text a template is compiled from: ``Subject: ...``, a blank line, the body."""
    subject = (subject or "").strip()
    body = (body or "").replace("\r\n", "\n")
    return f"Subject: {subject}\n\n{body}" if subject else body


def template_overrides(company, names=None) -> dict:
    """(name, language) -> the compiled company override; one query."""
    from ..models import MessageTemplate

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
        # what is past due among them (a message carrying a merged pre-due step also lists items not yet due)
        "overdue_total": sum((i["residual"] for i in items if i["due_date"] < on), ZERO),
        "outstanding": sum((r.residual for r in rows), ZERO),
        "ageing": [(label.replace("_", " "), value) for label, value in ageing.items() if value],
        "days_overdue": max((i["days_overdue"] for i in items), default=0),
        "first_due": min((i["due_date"] for i in items), default=on),
        "on": on,
        "step": {"key": step.key, "offset_days": step.offset_days, "channel": step.channel},
        "attached": False,
        "upi_link": None,
        "portal_link": None,  # the customer portal's URL, a plain string, with DUES_PORTAL_IN_MESSAGES=1
    }


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

    on = clock.today()
    profile = selectors.Profile(0, "SAMPLE", "Sample Customer Pvt Ltd", "accounts@example.com", "+91 98200 00000",
                                "", "", None, False)
    rows = [selectors.OpenRow(0, 0, "INV-1001", "invoice", on - timedelta(days=45), on - timedelta(days=15),
                              Decimal("125000.00"), Decimal("125000.00")),
            selectors.OpenRow(1, 0, "INV-1002", "invoice", on - timedelta(days=40), on - timedelta(days=10),
                              Decimal("2345678.50"), Decimal("1345678.50"))]
    step = SimpleNamespace(key=name, offset_days=15, channel=channel)
    context = message_context(company, profile, [], rows, [r.number for r in rows], on, step)
    context["upi_link"] = "upi://pay?pa=sample@upi&am=1470678.50"
    context["portal_link"] = "https://dues.example.in/portal/SAMPLE-TOKEN/"
    return context




def message_template_check(company, name: str, subject: str, body: str, channel: str = "email") -> list:
    """Every problem of a template: syntax (per field, with the line) and a trial render."""
    from jinja2 import TemplateError

    from dues.core.errors import Problem
    from dues.formats import use_company

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
                _bounded(env.from_string(text).render(**template_context(context)))
            except Exception as exc:  # noqa: BLE001 - any render failure is the author's to fix
                found.append(Problem(f"it does not render: {exc}", field_name))
                break
    return found


def message_template_save(*, company, name: str, language: str, subject: str, body: str, actor, channel: str = ""):
    """Create or change the company's wording of template ``name`` in ``language`` (validated, audited)."""
    from dues.core.errors import Problem, ValidationFailed

    from ..models import LANGUAGES, MessageTemplate

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
    from ..models import MessageTemplate

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
    from dues.formats import use_company

    found = message_template_check(company, name, subject, body, channel)
    if found:
        raise ValidationFailed(found)
    on = on or clock.today()
    profile = selectors.customer_profiles(company, [customer.id])[customer.id]
    rows = selectors.open_debit_items(company, [customer.id]).get(customer.id, [])
    numbers = [r.number for r in rows if r.due_date < on] or [r.number for r in rows]
    contacts = selectors.contacts_by_customer({customer.id}).get(customer.id, [])
    context = message_context(company, profile, contacts, rows, numbers, on,
                              SimpleNamespace(key=name, offset_days=0, channel=channel))
    if channel in ("email", "sms", "whatsapp") and numbers:
        from dues.documents.pdf import upi_link

        context["upi_link"] = upi_link(company, customer, context["total"], f"{profile.code} {', '.join(numbers)}"[:80])
    compiled = template_environment().from_string(template_source(subject, body))
    with use_company(company):
        text = compiled.render(**context)
    first, _, rest = text.partition("\n")
    if first.startswith("Subject:"):
        return first.removeprefix("Subject:").strip(), rest.lstrip("\n").rstrip() + "\n"
    return "", text.rstrip() + "\n"

