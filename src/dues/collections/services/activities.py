"""Contacts with customers and their outcomes."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from dues.audit.services import actor_name, audit_append
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
    raise_problems(found)
    activity = Activity.objects.create(company_id=customer.company_id, customer=customer, kind=kind, outcome=outcome,
                                       subject=subject[:300], notes=notes.strip(), next_follow_up=next_follow_up,
                                       created_by=actor_name(actor))
    audit_append(actor=actor, action="create", object_type="activity", object_id=str(activity.pk),
                 company_id=customer.company_id, before=None,
                 after={"customer": customer.code, "kind": kind, "outcome": outcome, "notes": activity.notes,
                        "next_follow_up": next_follow_up.isoformat() if next_follow_up else None})
    return activity
