"""Credit holds and credit groups: writes (audited), and the Sales e-mail when a hold is placed or released.

- ``hold_place`` / ``hold_release``: a manual hold with a reason; a release with a reason and a date until
  which it lasts (after it the automatic rule may hold the customer again).
- ``holds_refresh``: the automatic rule for every customer at once; idempotent (a customer already on hold,
  or released until a date not yet passed, is left alone).
- ``group_set``: a credit group's limit and allowed overdue days.
- ``limit_review_decide``: approve (the limit changes) or reject a suggested limit from the review list.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Q

from dues import clock
from dues.audit.services import AuditEntry, actor_name, audit_append, audit_append_many
from dues.core.errors import DuesError
from dues.core.money import ZERO
from dues.users.permissions import require

from .models import CreditGroup, CreditHold
from .selectors import exposures, groups

log = logging.getLogger(__name__)


# --- Sales notification ---------------------------------------------------------------------------------

def salesperson_emails(customer) -> list[str]:
    """The e-mail of the desk user whose person name (or login) is the customer's salesperson."""
    from dues.users.models import UserRole

    name = customer.salesperson.strip()
    if not name:
        return []
    return sorted({e for e in UserRole.objects.filter(Q(person_name__iexact=name) | Q(user__username__iexact=name),
                                                       user__is_active=True).values_list("user__email", flat=True) if e})


def notify_sales(hold: CreditHold, event: str) -> list[str]:
    """E-mail the salesperson (through the outbox or DUES_SMTP_URL) that ``hold`` was placed or released.
    A failure to send is logged and never undoes the hold."""
    from dues.messaging.transports import EmailTransport, Message

    customer = hold.customer
    to = salesperson_emails(customer)
    if not to:
        return []
    if event == "placed":
        subject = f"Credit hold: {customer.code} {customer.name}"
        body = (f"{customer.code} {customer.name} is on credit hold ({hold.get_kind_display()}).\n\n"
                f"Reason: {hold.reason}\n\nNo new invoices or dispatches until the hold is released by an AR manager.\n")
    else:
        subject = f"Credit hold released: {customer.code} {customer.name}"
        body = (f"The credit hold on {customer.code} {customer.name} is released by {hold.released_by}"
                f" until {hold.release_until:%d %b %Y}.\n\nReason: {hold.release_reason}\n\n"
                "After that day the credit rule applies again.\n")
    transport = EmailTransport()
    try:
        transport.send(Message(channel="email", customer=customer.code, key=f"credit-hold:{hold.pk}:{event}",
                               subject=subject, body=body, to=to))
    except Exception as exc:  # noqa: BLE001 - the hold stands; the failure is logged
        log.warning("credit hold %s: e-mail to %s failed: %s", hold.pk, ", ".join(to), exc)
        return []
    finally:
        transport.close()
    return to


# --- holds ----------------------------------------------------------------------------------------------

def _reason(text: str, what: str) -> str:
    text = " ".join((text or "").split())
    if not text:
        raise DuesError(f"{what}: a reason is required")
    return text[:500]


def hold_place(*, customer, reason: str, actor) -> CreditHold:
    """Put ``customer`` on a manual credit hold."""
    require(actor, "credit.hold", "place a credit hold")
    reason = _reason(reason, "credit hold")
    with transaction.atomic():
        if CreditHold.objects.select_for_update().filter(customer=customer, released_at__isnull=True).exists():
            raise DuesError(f"customer {customer.code} is already on credit hold")
        hold = CreditHold.objects.create(customer=customer, kind=CreditHold.MANUAL, reason=reason,
                                         placed_at=clock.now(), placed_by=actor_name(actor))
        audit_append(actor=actor, action="credit.hold", object_type="customer", object_id=customer.code,
                     company_id=customer.company_id, after=hold.audit_state())
    notify_sales(hold, "placed")
    return hold


def hold_release(*, customer, reason: str, until: date, actor) -> CreditHold:
    """Release the customer's hold until ``until`` (an AR manager or admin)."""
    require(actor, "credit.override", "release a credit hold")
    reason = _reason(reason, "release")
    if until is None or until < clock.today():
        raise DuesError(f"release until: give a date from today on, got {until}")
    with transaction.atomic():
        hold = CreditHold.objects.select_for_update().filter(customer=customer, released_at__isnull=True).first()
        if hold is None:
            raise DuesError(f"customer {customer.code} is not on credit hold")
        before = hold.audit_state()
        hold.released_at, hold.released_by = clock.now(), actor_name(actor)
        hold.release_reason, hold.release_until = reason, until
        hold.save(update_fields=["released_at", "released_by", "release_reason", "release_until"])
        audit_append(actor=actor, action="credit.release", object_type="customer", object_id=customer.code,
                     company_id=customer.company_id, before=before, after=hold.audit_state())
    notify_sales(hold, "released")
    return hold


@dataclass(frozen=True, slots=True)
class Tripped:
    customer_id: int
    reasons: tuple[str, ...]


def rule(company, as_of: date) -> list[Tripped]:
    """Customers over their credit limit (or their group's) or overdue beyond the allowed days, set-based.
    Exposure here is what is owed now plus drafts awaiting approval (no new invoice)."""
    from dues.billing.services import billing_settings
    from dues.customers.models import Customer

    allowed = billing_settings(company).overdue_days_allowed
    figures = exposures(company, as_of)
    if not figures:
        return []
    by_group = groups(company)
    customers = list(Customer.objects.filter(company=company).values_list("id", "credit_limit", "segment"))
    group_total: dict[str, Decimal] = {}
    for cid, _, segment in customers:
        key = segment.strip().lower()
        if key in by_group and cid in figures:
            group_total[key] = group_total.get(key, ZERO) + figures[cid].exposure
    out = []
    for cid, limit, segment in customers:
        e = figures.get(cid)
        if e is None:
            continue
        group = by_group.get(segment.strip().lower())
        reasons = []
        if limit is not None and e.exposure > limit:
            reasons.append(f"credit limit {limit:,.2f} exceeded: exposure {e.exposure:,.2f}")
        if group is not None and group.credit_limit is not None and group_total[segment.strip().lower()] > group.credit_limit:
            reasons.append(f"group {group.segment} credit limit {group.credit_limit:,.2f} exceeded: group exposure "
                           f"{group_total[segment.strip().lower()]:,.2f}")
        days = (as_of - e.oldest_due).days if e.oldest_due else 0
        if days > allowed:
            reasons.append(f"an invoice is {days} days overdue (allowed {allowed} days)")
        if group is not None and group.overdue_days_allowed is not None and allowed >= days > group.overdue_days_allowed:
            reasons.append(f"an invoice is {days} days overdue (group {group.segment} allows "
                           f"{group.overdue_days_allowed} days)")
        if reasons:
            out.append(Tripped(cid, tuple(reasons)))
    return out


def holds_refresh(company, *, on: date | None = None, actor="scheduler") -> list[CreditHold]:
    """Place automatic holds on every customer the rule trips, unless already on hold or released until a day
    not yet passed. Returns the holds placed (none on a second run the same day)."""
    on = on or clock.today()
    tripped = rule(company, on)
    if not tripped:
        return []
    ids = [t.customer_id for t in tripped]
    with transaction.atomic():
        skip = set(CreditHold.objects.filter(customer_id__in=ids)
                   .filter(Q(released_at__isnull=True) | Q(release_until__gte=on))
                   .values_list("customer_id", flat=True))
        now, who = clock.now(), actor_name(actor)
        new = [CreditHold(customer_id=t.customer_id, kind=CreditHold.AUTO, reason="; ".join(t.reasons)[:500],
                          placed_at=now, placed_by=who) for t in tripped if t.customer_id not in skip]
        if not new:
            return []
        CreditHold.objects.bulk_create(new)
        placed = list(CreditHold.objects.filter(customer_id__in=[h.customer_id for h in new], released_at__isnull=True)
                      .select_related("customer"))
        audit_append_many([AuditEntry(who, "credit.hold", "customer", str(h.customer_id), company.pk, None,
                                      h.audit_state()) for h in placed])
    for hold in placed:
        notify_sales(hold, "placed")
    return placed


# --- groups and limits ----------------------------------------------------------------------------------

def _amount(value, what: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        raise DuesError(f"{what}: not an amount: {value!r}") from None
    if amount < 0 or not amount.is_finite():
        raise DuesError(f"{what}: must be zero or more, got {value!r}")
    return amount.quantize(Decimal("0.01"))


def group_set(*, company, segment: str, credit_limit=None, overdue_days_allowed=None, actor) -> CreditGroup:
    """Create or change the credit group of ``segment`` (customers whose segment field matches it)."""
    require(actor, "credit.override", "set a credit group's limit")
    segment = " ".join((segment or "").split())
    if not segment:
        raise DuesError("credit group: the segment is required")
    limit = _amount(credit_limit, f"credit group {segment}: credit limit")
    if overdue_days_allowed not in (None, "") and (not str(overdue_days_allowed).isdigit()):
        raise DuesError(f"credit group {segment}: overdue days allowed must be a whole number, got {overdue_days_allowed!r}")
    days = None if overdue_days_allowed in (None, "") else int(overdue_days_allowed)
    with transaction.atomic():
        group = CreditGroup.objects.filter(company=company, segment__iexact=segment).first()
        before = group.audit_state() if group else None
        if group is None:
            group = CreditGroup(company=company, segment=segment)
        group.credit_limit, group.overdue_days_allowed = limit, days
        group.save()
        audit_append(actor=actor, action="credit.group", object_type="credit_group", object_id=group.pk,
                     company_id=company.pk, before=before, after=group.audit_state())
    return group


def limit_review_decide(*, customer, approve: bool, new_limit=None, actor, note: str = "") -> Decimal | None:
    """The review list's decision: approve sets the credit limit to ``new_limit``; reject changes nothing.
    Either way the decision is audited."""
    require(actor, "credit.override", "change a credit limit")
    limit = _amount(new_limit, f"customer {customer.code}: new credit limit") if approve else None
    if approve and limit is None:
        raise DuesError(f"customer {customer.code}: approving needs the new credit limit")
    with transaction.atomic():
        before = {"credit_limit": None if customer.credit_limit is None else f"{customer.credit_limit:.2f}"}
        if approve:
            customer.credit_limit = limit
            customer.save(update_fields=["credit_limit"])
        audit_append(actor=actor, action="credit.limit_review." + ("approve" if approve else "reject"),
                     object_type="customer", object_id=customer.code, company_id=customer.company_id, before=before,
                     after={"credit_limit": f"{limit:.2f}" if approve else before["credit_limit"],
                            "proposed": None if new_limit in (None, "") else str(new_limit), "note": note})
    return limit
