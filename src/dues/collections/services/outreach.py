"""A collector's own messages and reminders: one customer's statement or reminder sent now from a
message template (e-mail, SMS, WhatsApp), with a preview first; and a follow-up date set by hand.

The dunning run sends what a policy says on a schedule; these are what a collector sends from the
desk in between. They use the same templates (the company's own wording in the customer's language
first), the same transports (``DUES_SMTP_URL`` or the outbox; the SMS webhook), the same statement
PDF, and log the message as an activity like the run does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from types import SimpleNamespace

from django.db import transaction

from dues import clock
from dues.audit.services import actor_name, audit_append
from dues.users.permissions import require

from .. import selectors
from ..models import Activity, CustomerCollections
from .checks import raise_problems

SEND_CHANNELS = ("email", "whatsapp", "sms")
# the templates a collector sends by hand (the call, visit and credit-hold ones are tasks, not messages)
SEND_TEMPLATES = ("statement", "reminder-1", "reminder-2", "sms-reminder", "pre-due", "escalation", "final-notice")


@dataclass
class Draft:
    """A message as it would go: where to, what it says, what is attached."""

    customer: str
    template: str
    channel: str
    to: list[str]
    subject: str
    body: str
    attachments: list[tuple[str, bytes, str]] = field(default_factory=list)

    @property
    def attachment_names(self) -> list[str]:
        return [name for name, _, _ in self.attachments]


def _check(template: str, channel: str, found: list) -> None:
    from dues.core.errors import Problem

    if template not in SEND_TEMPLATES:
        found.append(Problem(f"unknown template {template!r}; one of {', '.join(SEND_TEMPLATES)}", "template"))
    if channel not in SEND_CHANNELS:
        found.append(Problem(f"unknown channel {channel!r}; one of {', '.join(SEND_CHANNELS)}", "channel"))


def message_draft(*, company, customer, template: str, channel: str, actor, on: date | None = None,
                  with_attachments: bool = True, with_portal_link: bool = False) -> Draft:
    """The message ``template`` would make for ``customer`` on ``on`` (today) over ``channel``. Reads only.

    Its items: the customer's overdue items, else all its open ones. A statement by e-mail carries the
    statement of account as a PDF (from the earliest open item's date, else the start of the financial
    year, to ``on``). ``with_attachments=False`` leaves the PDF out (a preview only names it).
    ``with_portal_link`` (sending, with ``DUES_PORTAL_IN_MESSAGES=1``) issues a customer portal link for it:
    the one write a draft may make.
    """
    from dues.core.dates import fiscal_year
    from dues.documents.pdf import upi_link
    from dues.users.permissions import require_customer

    from .dunning import _recipients
    from .messages import message_context, render_message, template_overrides

    require(actor, "collections.act", "send a message to a customer")
    require_customer(actor, customer)
    found: list = []
    _check(template, channel, found)
    raise_problems(found)
    on = on or clock.today()
    profile = selectors.customer_profiles(company, [customer.id])[customer.id]
    rows = selectors.open_debit_items(company, [customer.id]).get(customer.id, [])
    numbers = [r.number for r in rows if r.due_date < on] or [r.number for r in rows]
    contacts = selectors.contacts_by_customer({customer.id}).get(customer.id, [])
    context = message_context(company, profile, contacts, rows, numbers, on,
                              SimpleNamespace(key=template, offset_days=0, channel=channel))
    if numbers:
        context["upi_link"] = upi_link(company, customer, context["total"], f"{profile.code} {', '.join(numbers)}"[:80])
    if with_portal_link:
        from dues.portal.links import message_portal_link

        context["portal_link"] = message_portal_link(customer, actor)
    attachments: list[tuple[str, bytes, str]] = []
    if channel == "email" and template == "statement":
        name = f"statement-{profile.code}-{on.isoformat()}.pdf"
        content = b""
        if with_attachments:
            from dues.documents.statements import render_statement

            start = min((r.date for r in rows), default=None) or fiscal_year(
                on, company.fy_start_month, company.fy_start_day).start
            content = render_statement(company, customer, min(start, on), on)
        attachments.append((name, content, "application/pdf"))
        context["attached"] = True
    language = (CustomerCollections.objects.filter(customer=customer).values_list("language", flat=True).first()
                or "en")
    subject, body = render_message(template, context, language=language,
                                   overrides=template_overrides(company, names=[template]))
    return Draft(customer=profile.code, template=template, channel=channel,
                 to=_recipients(channel, profile, contacts), subject=subject, body=body, attachments=attachments)


@transaction.atomic
def message_send(*, company, customer, template: str, channel: str, actor, transport=None) -> tuple[Draft, Activity]:
    """Send ``template`` to ``customer`` over ``channel`` now; log it as an activity (outcome "sent"), audited.

    ``transport``: the channel's transport (default: e-mail by SMTP or the outbox, SMS/WhatsApp by the
    webhook or the outbox). A customer without an address or phone number, or a transport that refuses,
    is a ``DuesError`` and nothing is recorded.
    """
    from dues.core.errors import DuesError
    from dues.messaging.transports import EmailTransport, Message, WebhookTransport

    draft = message_draft(company=company, customer=customer, template=template, channel=channel, actor=actor,
                          with_portal_link=True)
    if not draft.to:
        raise DuesError(f"{customer.code} has no {'e-mail address' if channel == 'email' else 'phone number'} "
                        "(customer or contacts)")
    today = clock.today()
    stamp = clock.now().strftime("%Y%m%dT%H%M%S%f")
    message = Message(channel=channel, customer=customer.code, key=f"desk:{customer.code}:{template}:{stamp}",
                      subject=draft.subject, body=draft.body, to=draft.to, attachments=draft.attachments)
    if transport is None:
        from dues.messaging.sms import sms_transport
        from dues.messaging.whatsapp import whatsapp_transport

        transport = (EmailTransport() if channel == "email" else
                     (channel == "whatsapp" and whatsapp_transport()) or (channel == "sms" and sms_transport())
                     or WebhookTransport())
    try:
        note = transport.send(message)
    except Exception as exc:  # noqa: BLE001 - whatever the transport says goes back to the collector
        raise DuesError(f"the {channel} to {customer.code} did not go: {exc or exc.__class__.__name__}") from exc
    finally:
        if hasattr(transport, "close"):
            transport.close()
    activity = Activity.objects.create(company_id=customer.company_id, customer=customer, kind=channel,
                                       outcome="sent", subject=(draft.subject or template)[:300], notes=draft.body,
                                       on=today, created_by=actor_name(actor))
    audit_append(actor=actor, action="create", object_type="activity", object_id=str(activity.pk),
                 company_id=customer.company_id, before=None,
                 after={"customer": customer.code, "kind": channel, "outcome": "sent", "template": template,
                        "to": draft.to, "subject": draft.subject, "attachments": draft.attachment_names,
                        "on": today.isoformat(), "note": note[:300]})
    return draft, activity


@transaction.atomic
def follow_up_set(*, customer, on: date, actor, notes: str = "") -> Activity:
    """Set the next follow-up with ``customer`` for ``on`` (today or later): a task activity with that
    follow-up date, audited. Not a contact: it does not mark an earlier follow-up done."""
    from dues.core.errors import Problem
    from dues.users.permissions import require_customer

    require(actor, "collections.act", "set a follow-up")
    require_customer(actor, customer)
    today = clock.today()
    found: list = []
    if on < today:
        found.append(Problem(f"{on.isoformat()} has passed (today is {today.isoformat()}): a follow-up is today "
                             "or later", "next_follow_up"))
    raise_problems(found)
    activity = Activity.objects.create(company_id=customer.company_id, customer=customer, kind="task", outcome="open",
                                       subject=f"follow up on {on.isoformat()}", notes=notes.strip(),
                                       next_follow_up=on, on=today, created_by=actor_name(actor))
    audit_append(actor=actor, action="create", object_type="activity", object_id=str(activity.pk),
                 company_id=customer.company_id, before=None,
                 after={"customer": customer.code, "kind": "task", "outcome": "open", "notes": activity.notes,
                        "on": today.isoformat(), "next_follow_up": on.isoformat()})
    return activity
