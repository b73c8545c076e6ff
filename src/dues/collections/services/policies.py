"""The dunning policies and each customer's collections settings."""

from __future__ import annotations

from decimal import Decimal

from django.db import IntegrityError, transaction

from dues.audit.services import audit_append
from dues.users.permissions import require

from ..models import (
    CustomerCollections,
    DunningPolicy,
    DunningStep,
)

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

    from ..models import LANGUAGES

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
