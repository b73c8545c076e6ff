"""Contacts with customers and their outcomes."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from dues import clock
from dues.audit.services import actor_name, audit_append
from dues.formats import format_day
from dues.users.permissions import require

from ..models import (
    Activity,
)
from .checks import raise_problems

# --- activities, promises to pay, disputes -------------------------------------------------------------------

CONTACT_KINDS = ("call", "email", "sms", "whatsapp", "visit", "meeting", "letter")
OUTCOMES = ("reached", "no_answer", "promised", "disputed", "refused", "wrong_contact")


@transaction.atomic
def activity_log(*, customer, kind: str, outcome: str = "", notes: str = "", next_follow_up: date | None = None,
                 actor, subject: str = "", on: date | None = None) -> Activity:
    """Log a contact with a customer and its outcome (a call reached, no answer, promised, ...).

    ``on``: the day of the contact (default today; a call logged the day after is dated the day of
    the call): what "last contact" and the timeline go by. Never in the future.
    """
    from dues.core.errors import Problem
    from dues.users.permissions import require_customer

    require(actor, "collections.act", "log a collections activity")
    require_customer(actor, customer)
    found = []
    if kind not in CONTACT_KINDS:
        found.append(Problem(f"unknown kind {kind!r}; one of {', '.join(CONTACT_KINDS)}", "kind"))
    if outcome and outcome not in OUTCOMES:
        found.append(Problem(f"unknown outcome {outcome!r}; one of {', '.join(OUTCOMES)}", "outcome"))
    on = contact_date(on, found)
    raise_problems(found)
    activity = Activity.objects.create(company_id=customer.company_id, customer=customer, kind=kind, outcome=outcome,
                                       subject=subject[:300], notes=notes.strip(), next_follow_up=next_follow_up,
                                       on=on, created_by=actor_name(actor))
    audit_append(actor=actor, action="create", object_type="activity", object_id=str(activity.pk),
                 company_id=customer.company_id, before=None,
                 after={"customer": customer.code, "kind": kind, "outcome": outcome, "notes": activity.notes,
                        "on": on.isoformat(),
                        "next_follow_up": next_follow_up.isoformat() if next_follow_up else None})
    return activity


def contact_date(on: date | None, found: list, field: str = "on") -> date:
    """The day of a contact: ``on`` or today; a day after today is a problem (nothing is logged ahead)."""
    from dues.core.errors import Problem

    today = clock.today()
    if on is None:
        return today
    if on > today:
        found.append(Problem(f"{format_day(on)} is in the future (today is {format_day(today)}): "
                             "log a contact on or after the day it happened", field))
    return on
