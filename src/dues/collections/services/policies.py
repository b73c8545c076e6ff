"""The dunning policies and each customer's collections settings."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction

from dues.audit.services import audit_append
from dues.users.permissions import require

from ..models import (
    CustomerCollections,
    DunningPolicy,
    DunningStep,
    SegmentPolicy,
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


# --- editing the policies (AR manager, admin): validated, audited with before and after ----------------------

POLICY_CAPABILITY = "collections.policies"
_STEP_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
MAX_DAYS = 3650


def policy_snapshot(policy: DunningPolicy) -> dict:
    """The policy as data (what the audit log records before and after a change, and `--format json` prints)."""
    steps = [step_snapshot(s) for s in policy.steps.filter(active=True).order_by("order")]
    segments = sorted(policy.segments.values_list("segment", flat=True))
    return {"name": policy.name, "default": policy.is_default, "min_overdue": f"{policy.min_overdue:.2f}",
            "steps": steps, "segments": segments}


def step_snapshot(step: DunningStep) -> dict:
    return {"key": step.key, "days": step.offset_days, "channel": step.channel, "template": step.template,
            "min_overdue": f"{step.min_overdue:.2f}", "cc": step.cc}


def _amount(value, name: str, found: list) -> Decimal | None:
    from dues.core.errors import Problem
    from dues.core.money import MoneyError, parse_amount_input

    if value is None:
        return None
    try:
        amount = value if isinstance(value, Decimal) else parse_amount_input(str(value))
    except MoneyError as exc:
        found.append(Problem(str(exc), name))
        return None
    if not amount.is_finite() or amount < 0:
        found.append(Problem(f"“{value}” must be zero or more", name))
        return None
    if amount >= Decimal("1e15"):
        found.append(Problem(f"“{value}” is too large", name))
        return None
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _days(value, found: list) -> int | None:
    from dues.core.errors import Problem

    if value is None:
        return None
    try:
        days = int(str(value).strip())
    except ValueError:
        found.append(Problem(f"“{value}” is not a whole number of days", "days"))
        return None
    if abs(days) > MAX_DAYS:
        found.append(Problem(f"{days} is out of range (-{MAX_DAYS} to {MAX_DAYS} days from the due date)", "days"))
        return None
    return days


def _template(name, found: list) -> str | None:
    from dues.core.errors import Problem

    from .messages import TEMPLATE_DIR

    if name is None:
        return None
    name = str(name).strip()
    if not name or name.startswith("_") or "/" in name or not (TEMPLATE_DIR / f"{name}.txt").is_file():
        known = sorted(p.stem for p in TEMPLATE_DIR.glob("*.txt") if not p.stem.startswith("_"))
        found.append(Problem(f"no message template called “{name}”; one of {', '.join(known)}", "template"))
        return None
    return name


def _channel(value, found: list) -> str | None:
    from dues.core.dunning import CHANNELS
    from dues.core.errors import Problem

    if value is None:
        return None
    value = str(value).strip().lower().replace(" ", "_").replace("-", "_")
    if value not in CHANNELS:
        found.append(Problem(f"unknown channel “{value}”; one of {', '.join(CHANNELS)}", "channel"))
        return None
    return value


def _cc(value, found: list) -> str | None:
    """The copy-to list: e-mail addresses and ``@ar_manager`` (the AR managers), comma-separated."""
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    from dues.core.errors import Problem

    if value is None:
        return None
    tokens = [t.strip() for t in str(value).replace(";", ",").split(",") if t.strip()]
    for token in tokens:
        if token == "@ar_manager":
            continue
        try:
            validate_email(token)
        except ValidationError:
            found.append(Problem(f"“{token}” is not an e-mail address (or @ar_manager)", "cc"))
    text = ", ".join(dict.fromkeys(tokens))
    if len(text) > 500:
        found.append(Problem("the copy-to list is longer than 500 characters", "cc"))
    return text


def _name(value, company, found: list, exclude: int | None = None) -> str | None:
    from dues.core.errors import Problem

    if value is None:
        return None
    name = " ".join(str(value).split())
    if not name:
        found.append(Problem("give the policy a name", "name"))
    elif len(name) > 100:
        found.append(Problem("at most 100 characters", "name"))
    elif DunningPolicy.objects.filter(company=company, name__iexact=name).exclude(pk=exclude).exists():
        found.append(Problem(f"there is already a policy called “{name}”", "name"))
    else:
        return name
    return None


def _raise(found: list) -> None:
    from dues.core.errors import ValidationFailed

    if found:
        raise ValidationFailed(found)


def _audit(actor, action: str, policy: DunningPolicy, before: dict | None, after: dict | None) -> None:
    audit_append(actor=actor, action=action, object_type="dunning_policy", object_id=policy.name,
                 company_id=policy.company_id, before=before, after=after)


def _renumber(policy: DunningPolicy) -> None:
    """Order the steps by their days (a tie keeps its order: the later one is the stronger); retired last."""
    steps = list(DunningStep.objects.select_for_update().filter(policy=policy))
    ordered = sorted(steps, key=lambda s: (not s.active, s.offset_days, s.order))
    if [s.order for s in ordered] == list(range(1, len(ordered) + 1)):
        return
    for n, step in enumerate(ordered, start=1):  # two passes: (policy, order) is unique at every moment
        DunningStep.objects.filter(pk=step.pk).update(order=10000 + n)
    for n, step in enumerate(ordered, start=1):
        DunningStep.objects.filter(pk=step.pk).update(order=n)


def policy_get(company, name: str) -> DunningPolicy:
    """The company's policy called ``name`` (case-insensitive)."""
    from dues.core.errors import DuesError

    found = DunningPolicy.objects.filter(company=company, name__iexact=" ".join(str(name).split())).first()
    if found is None:
        names = ", ".join(DunningPolicy.objects.filter(company=company).order_by("name").values_list("name", flat=True))
        raise DuesError(f"no dunning policy called “{name}”{f' (there are: {names})' if names else ''}")
    return found


def policy_create(*, company, name: str, actor, copy_from: DunningPolicy | None = None,
                  min_overdue=None) -> DunningPolicy:
    """A new policy: a copy of ``copy_from``'s steps, or of the standard steps."""
    require(actor, POLICY_CAPABILITY, "change the dunning policies")
    found: list = []
    name = _name(name, company, found)
    minimum = _amount(min_overdue, "min_overdue", found)
    _raise(found)
    with transaction.atomic():
        policy = DunningPolicy(company=company, name=name)  # the model's default minimum unless given or copied
        if minimum is not None:
            policy.min_overdue = minimum
        elif copy_from is not None:
            policy.min_overdue = copy_from.min_overdue
        policy.save()
        if copy_from is not None:
            DunningStep.objects.bulk_create(
                DunningStep(policy=policy, order=n, key=s.key, offset_days=s.offset_days, channel=s.channel,
                            template=s.template, min_overdue=s.min_overdue, cc=s.cc)
                for n, s in enumerate(copy_from.steps.filter(active=True).order_by("order"), start=1))
        else:
            DunningStep.objects.bulk_create(
                DunningStep(policy=policy, order=i, key=key, offset_days=days, channel=channel, template=template,
                            min_overdue=Decimal(minimum_), cc=cc)
                for i, (key, days, channel, template, minimum_, cc) in enumerate(DEFAULT_STEPS, start=1))
        _audit(actor, "create", policy, None, policy_snapshot(policy))
    return policy


def policy_update(*, policy: DunningPolicy, actor, name: str | None = None, min_overdue=None,
                  make_default: bool = False) -> DunningPolicy:
    """Rename a policy, set its minimum overdue amount, or make it the company's default."""
    require(actor, POLICY_CAPABILITY, "change the dunning policies")
    found: list = []
    new_name = _name(name, policy.company, found, exclude=policy.pk)
    minimum = _amount(min_overdue, "min_overdue", found)
    _raise(found)
    with transaction.atomic():
        policy = DunningPolicy.objects.select_for_update().get(pk=policy.pk)
        before = policy_snapshot(policy)
        if new_name is not None:
            policy.name = new_name
        if minimum is not None:
            policy.min_overdue = minimum
        if make_default and not policy.is_default:
            old = DunningPolicy.objects.filter(company=policy.company, is_default=True).first()
            if old is not None:
                old_before = policy_snapshot(old)
                DunningPolicy.objects.filter(pk=old.pk).update(is_default=False)
                old.is_default = False
                _audit(actor, "update", old, old_before, policy_snapshot(old))
            policy.is_default = True
        policy.save()
        after = policy_snapshot(policy)
        if after != before:
            _audit(actor, "update", policy, before, after)
    return policy


def step_add(*, policy: DunningPolicy, actor, key: str, days, channel: str = "email", template: str | None = None,
             min_overdue="0", cc: str = "") -> DunningStep:
    """Add a step (``days`` from the due date, negative before it) to the policy. A key removed earlier
    whose step had sent messages is brought back with the new settings."""
    from dues.core.errors import Problem

    require(actor, POLICY_CAPABILITY, "change the dunning policies")
    found: list = []
    key = (key or "").strip().lower()
    if not _STEP_KEY.match(key):
        found.append(Problem(f"“{key}” is not a step key: lower-case letters, digits and dashes, at most 40", "key"))
    days_ = _days(days, found)
    if days is None:
        found.append(Problem("how many days from the due date? (negative: before it)", "days"))
    channel_ = _channel(channel, found)
    template_ = _template(template if template is not None else key, found)
    minimum = _amount(min_overdue if min_overdue is not None else "0", "min_overdue", found)
    cc_ = _cc(cc or "", found)
    retired = None
    if not found:
        existing = DunningStep.objects.filter(policy=policy, key=key).first()
        if existing is not None and existing.active:
            found.append(Problem(f"the policy already has a step “{key}”", "key"))
        retired = existing
    _raise(found)
    with transaction.atomic():
        before = policy_snapshot(policy)
        values = {"offset_days": days_, "channel": channel_, "template": template_, "min_overdue": minimum, "cc": cc_}
        if retired is not None:
            DunningStep.objects.filter(pk=retired.pk).update(active=True, **values)
        else:
            top = DunningStep.objects.select_for_update().filter(policy=policy).order_by("-order").first()
            DunningStep.objects.create(policy=policy, key=key, order=(top.order if top else 0) + 1, **values)
        _renumber(policy)
        _audit(actor, "update", policy, before, policy_snapshot(policy))
    return DunningStep.objects.get(policy=policy, key=key)


def step_update(*, step: DunningStep, actor, days=None, channel: str | None = None, template: str | None = None,
                min_overdue=None, cc: str | None = None) -> DunningStep:
    """Change a step's days, channel, template, minimum or copy-to list (what is not given stays)."""
    require(actor, POLICY_CAPABILITY, "change the dunning policies")
    found: list = []
    values = {"offset_days": _days(days, found), "channel": _channel(channel, found),
              "template": _template(template, found), "min_overdue": _amount(min_overdue, "min_overdue", found),
              "cc": _cc(cc, found)}
    _raise(found)
    changes = {k: v for k, v in values.items() if v is not None}
    with transaction.atomic():
        policy = DunningPolicy.objects.select_for_update().get(pk=step.policy_id)
        before = policy_snapshot(policy)
        DunningStep.objects.filter(pk=step.pk).update(**changes)
        _renumber(policy)
        after = policy_snapshot(policy)
        if after != before:
            _audit(actor, "update", policy, before, after)
    return DunningStep.objects.get(pk=step.pk)


def step_remove(*, step: DunningStep, actor) -> str:
    """Remove a step: deleted when it never made an action, else kept inactive for their history.
    Returns "deleted" or "retired"."""
    from dues.core.errors import DuesError

    from ..models import DunningAction

    require(actor, POLICY_CAPABILITY, "change the dunning policies")
    with transaction.atomic():
        policy = DunningPolicy.objects.select_for_update().get(pk=step.policy_id)
        if policy.steps.filter(active=True).count() <= 1:
            raise DuesError(f"“{step.key}” is the last step of “{policy.name}”: a policy keeps at least one step")
        before = policy_snapshot(policy)
        if DunningAction.objects.filter(step=step).exists():
            DunningStep.objects.filter(pk=step.pk).update(active=False)
            outcome = "retired"
        else:
            DunningStep.objects.filter(pk=step.pk).delete()
            outcome = "deleted"
        _renumber(policy)
        _audit(actor, "update", policy, before, policy_snapshot(policy))
    return outcome


def step_get(policy: DunningPolicy, key: str) -> DunningStep:
    from dues.core.errors import DuesError

    found = DunningStep.objects.filter(policy=policy, key=(key or "").strip().lower(), active=True).first()
    if found is None:
        keys = ", ".join(policy.steps.filter(active=True).order_by("order").values_list("key", flat=True))
        raise DuesError(f"“{policy.name}” has no step “{key}” (its steps: {keys})")
    return found


def segment_policy_set(*, company, segment: str, policy: DunningPolicy | None, actor) -> SegmentPolicy | None:
    """Give every customer of ``segment`` the policy (a customer's own policy still comes first); None:
    the segment goes back to the default policy."""
    from dues.core.errors import Problem

    require(actor, POLICY_CAPABILITY, "change the dunning policies")
    segment = " ".join((segment or "").split())
    if not segment or len(segment) > 100:
        _raise([Problem("name the segment (at most 100 characters), as on the customers", "segment")])
    with transaction.atomic():
        current = (SegmentPolicy.objects.select_for_update().select_related("policy")
                   .filter(company=company, segment__iexact=segment).first())
        before = {"segment": current.segment, "policy": current.policy.name} if current else None
        if policy is None:
            if current is not None:
                current.delete()
            result = None
        elif current is None:
            result = SegmentPolicy.objects.create(company=company, segment=segment, policy=policy)
        else:
            current.policy = policy
            current.save(update_fields=["policy"])
            result = current
        after = {"segment": segment, "policy": policy.name} if policy is not None else None
        if before != after:
            audit_append(actor=actor, action="delete" if after is None else "update" if before else "create",
                         object_type="segment_policy", object_id=segment, company_id=company.pk, before=before,
                         after=after)
    return result
