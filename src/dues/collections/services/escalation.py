"""Escalation of a customer's account to the AR manager or legal."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from dues import clock
from dues.audit.services import actor_name, audit_append
from dues.core.errors import DuesError
from dues.core.money import ZERO
from dues.users.permissions import require

from .. import selectors
from ..models import (
    Activity,
)
from .checks import raise_problems

ESCALATION_TARGETS = {"ar_manager": "ar_manager", "manager": "ar_manager", "legal": "legal"}


def escalate(*, customer, to: str, reason: str, actor, on: date | None = None):
    """Send a customer's account up to the AR manager or to legal (it then shows on the manager's dashboard)."""
    from dues.core.errors import Problem
    from dues.users.permissions import require_customer

    from ..models import Escalation

    require(actor, "collections.act", "escalate a customer")
    require_customer(actor, customer)
    found: list = []
    target = ESCALATION_TARGETS.get((to or "").strip().lower())
    if target is None:
        found.append(Problem("escalate to the AR manager (ar_manager) or to legal", "to"))
    if not (reason or "").strip():
        found.append(Problem("say why the account is escalated", "reason"))
    raise_problems(found)
    on = on or clock.today()
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
    from ..models import Escalation

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
