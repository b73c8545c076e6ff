"""Reads for the dunning run, each one query over all customers (never a query per customer)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from dues.companies.models import Company
from dues.customers.models import Contact, Customer
from dues.ledger.models import Document, OpenItem

from .models import Activity, CustomerCollections, DunningActionItem, DunningPolicy, DunningStep, SegmentPolicy


@dataclass(frozen=True, slots=True)
class OpenRow:
    """An open debit item as the run sees it (today's residual)."""

    id: int
    customer_id: int
    number: str
    kind: str
    date: date
    due_date: date
    amount: Decimal
    residual: Decimal


def open_debit_items(company: Company, customer_ids: list[int] | None = None) -> dict[int, list[OpenRow]]:
    """Every customer's open debit items (residual today > 0, document not cancelled), by customer id."""
    qs = (OpenItem.objects.filter(company=company, side="D", residual__gt=0)
          .exclude(document__status=Document.CANCELLED))
    if customer_ids is not None:
        qs = qs.filter(customer_id__in=customer_ids)
    rows: dict[int, list[OpenRow]] = defaultdict(list)
    for values in qs.order_by("customer_id", "due_date", "document__number").values_list(
            "id", "customer_id", "document__number", "document__kind", "date", "due_date", "amount", "residual"):
        rows[values[1]].append(OpenRow(*values))
    return rows


def item_flags(company: Company, item_ids) -> tuple[set[int], set[int]]:
    """(disputed, promised) open item ids: the hook where disputes and promises-to-pay feed the run.

    Disputes and promises are not modelled yet; every item is neither disputed nor promised.
    """
    return set(), set()


def covered_pairs(company: Company) -> set[tuple[int, str]]:
    """(open item id, step key) of every open debit item already put in an action at that step."""
    return set(DunningActionItem.objects.filter(open_item__company=company, open_item__side="D",
                                                open_item__residual__gt=0)
               .values_list("open_item_id", "step_key"))


@dataclass(frozen=True, slots=True)
class Profile:
    id: int
    code: str
    name: str
    email: str
    phone: str
    segment: str
    collector: str
    policy_id: int | None
    hold: bool


def customer_profiles(company: Company, customer_ids) -> dict[int, Profile]:
    rows = (Customer.objects.filter(company=company, id__in=list(customer_ids))
            .values_list("id", "code", "name", "email", "phone", "segment", "collector", "collections__policy_id",
                         "collections__dunning_hold"))
    return {r[0]: Profile(*r[:7], r[7], bool(r[8])) for r in rows}


def policy_steps(company: Company) -> dict[int, list[DunningStep]]:
    """Every policy's steps in order, by policy id."""
    steps: dict[int, list[DunningStep]] = defaultdict(list)
    for step in DunningStep.objects.filter(policy__company=company).order_by("policy_id", "order"):
        steps[step.policy_id].append(step)
    return steps


def segment_policies(company: Company) -> dict[str, int]:
    return {seg.strip().lower(): pid for seg, pid in
            SegmentPolicy.objects.filter(company=company).values_list("segment", "policy_id")}


def default_policy_id(company: Company) -> int | None:
    return DunningPolicy.objects.filter(company=company, is_default=True).values_list("id", flat=True).first()


def contacts_by_customer(customer_ids) -> dict[int, list[Contact]]:
    found: dict[int, list[Contact]] = defaultdict(list)
    for contact in Contact.objects.filter(customer_id__in=list(customer_ids)).order_by("customer_id", "id"):
        found[contact.customer_id].append(contact)
    return found


def manager_emails() -> list[str]:
    """E-mail addresses of the AR managers (what ``@ar_manager`` in a step's copy list means)."""
    from dues.users.models import UserRole

    return sorted({e for e in UserRole.objects.filter(role="ar_manager", user__is_active=True)
                   .values_list("user__email", flat=True) if e})


def customer_hold(customer: Customer) -> bool:
    return CustomerCollections.objects.filter(customer=customer, dunning_hold=True).exists()


def activities(company: Company, customer: Customer | None = None):
    """The activity log, newest first (a queryset: paginate it)."""
    qs = Activity.objects.filter(company=company).select_related("customer", "action")
    if customer is not None:
        qs = qs.filter(customer=customer)
    return qs.order_by("-at", "-id")
