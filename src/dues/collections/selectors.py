"""Reads for the dunning run, each one query over all customers (never a query per customer)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from dues import clock
from dues.companies.models import Company
from dues.customers.models import Contact, Customer
from dues.ledger.models import Document, OpenItem

from .models import (
    Activity,
    CustomerCollections,
    Dispute,
    DunningActionItem,
    DunningPolicy,
    DunningStep,
    PromiseToPay,
    SegmentPolicy,
)

# the message templates shipped with dues (a company overrides them in MessageTemplate)
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates" / "collections" / "messages"


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
    disputed: Decimal = Decimal(0)  # under active dispute (set by the run from ``disputed_amounts``)

    @property
    def due(self) -> Decimal:
        """The undisputed part of the residual: what dunning asks for."""
        return max(self.residual - self.disputed, Decimal(0))


# Up to this many ids go into the query as a list; a longer list (a whole book's customers or open items)
# costs seconds to send and plan, so the query reads the company's rows and the ids are kept in Python.
ID_LIST_LIMIT = 2000


def _narrowed(qs, field: str, wanted: set):
    """``qs`` limited to ``field`` in ``wanted`` when that list is short enough to send; otherwise ``qs`` as it
    is, and the caller keeps only the ids ``wanted`` as it reads the rows."""
    return qs.filter(**{f"{field}__in": wanted}) if len(wanted) <= ID_LIST_LIMIT else qs


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


def item_flags(company: Company, item_ids, on: date | None = None) -> tuple[set[int], set[int]]:
    """(disputed, promised) open item ids among ``item_ids``: what the dunning run leaves out.

    Disputed: the item's document has a dispute open or in progress. Promised: an open promise
    covers it (one naming the item's document, or one on the customer's account as a whole) whose
    deadline (promised date + grace days) is not before ``on``: a broken promise lets dunning move on.
    """
    wanted = set(item_ids)
    if not wanted:
        return set(), set()
    items = OpenItem.objects.filter(company=company, side="D", residual__gt=0)
    disputed = set(items.filter(document__disputes__status__in=Dispute.ACTIVE).values_list("id", flat=True))
    promises = PromiseToPay.objects.filter(company=company, status=PromiseToPay.OPEN)
    if on is not None:
        promises = promises.filter(deadline__gte=on)
    named = items.filter(document__promises__in=promises)
    on_account = items.filter(customer__promises__in=promises.filter(invoices__isnull=True))
    promised = set(named.values_list("id", flat=True)) | set(on_account.values_list("id", flat=True))
    return disputed & wanted, promised & wanted


def disputed_amounts(company: Company, item_ids) -> dict[int, Decimal]:
    """Open item id -> the amount under active dispute (open or in progress) on its document, one query.

    Only items among ``item_ids`` with an active dispute appear. The sum is not capped here: the
    dunning engine holds back at most the residual (``dunning.Item.due``).
    """
    from django.db.models import Sum

    wanted = set(item_ids)
    if not wanted:
        return {}
    rows = (_narrowed(Dispute.objects.filter(company=company, status__in=Dispute.ACTIVE), "document__open_items__id",
                      wanted).values("document__open_items__id").annotate(total=Sum("amount")))
    return {r["document__open_items__id"]: r["total"] for r in rows if r["document__open_items__id"] in wanted}


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
    wanted = set(customer_ids)
    rows = _narrowed(Customer.objects.filter(company=company), "id", wanted).values_list(
        "id", "code", "name", "email", "phone", "segment", "collector", "collections__policy_id",
        "collections__dunning_hold")
    return {r[0]: Profile(*r[:7], r[7], bool(r[8])) for r in rows if r[0] in wanted}


def policy_steps(company: Company) -> dict[int, list[DunningStep]]:
    """Every policy's steps in order, by policy id."""
    steps: dict[int, list[DunningStep]] = defaultdict(list)
    for step in DunningStep.objects.filter(policy__company=company, active=True).order_by("policy_id", "order"):
        steps[step.policy_id].append(step)
    return steps


def segment_policies(company: Company) -> dict[str, int]:
    return {seg.strip().lower(): pid for seg, pid in
            SegmentPolicy.objects.filter(company=company).values_list("segment", "policy_id")}


def default_policy_id(company: Company) -> int | None:
    return DunningPolicy.objects.filter(company=company, is_default=True).values_list("id", flat=True).first()


def policy_minimums(company: Company) -> dict[int, Decimal]:
    """Each policy's minimum overdue amount (below it nothing is sent), by policy id."""
    return dict(DunningPolicy.objects.filter(company=company).values_list("id", "min_overdue"))


def policy_list(company: Company):
    """The company's dunning policies, the default first, each with ``step_count`` (active steps) and
    ``customer_count`` (customers given it as their own); segments and steps prefetched."""
    from django.db.models import Count, Prefetch, Q

    return (DunningPolicy.objects.filter(company=company)
            .annotate(step_count=Count("steps", filter=Q(steps__active=True), distinct=True),
                      customer_count=Count("customers", distinct=True))
            .prefetch_related(Prefetch("steps", queryset=DunningStep.objects.filter(active=True).order_by("order"),
                                       to_attr="active_steps"),
                              Prefetch("segments", queryset=SegmentPolicy.objects.order_by("segment")))
            .order_by("-is_default", "name"))


def unapplied_credits(company: Company, customer_ids=None) -> dict[int, Decimal]:
    """Each customer's unapplied credits (open credit items: receipts on account, credit notes not set
    off), by customer id; one query."""
    from django.db.models import Sum

    qs = (OpenItem.objects.filter(company=company, side="C", residual__gt=0)
          .exclude(document__status=Document.CANCELLED))
    wanted = None if customer_ids is None else set(customer_ids)
    if wanted is not None:
        qs = _narrowed(qs, "customer_id", wanted)
    return {cid: total for cid, total in qs.values("customer_id").annotate(total=Sum("residual"))
            .values_list("customer_id", "total") if total and (wanted is None or cid in wanted)}


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
    """The activity log, the latest contact date first, then the latest recorded (a queryset: paginate it)."""
    qs = Activity.objects.filter(company=company).select_related("customer", "action")
    if customer is not None:
        qs = qs.filter(customer=customer)
    return qs.order_by("-on", "-at", "-id")


# --- promises, disputes and the worklist -------------------------------------------------------------------


def promises(company: Company, status: str | None = None, customer: Customer | None = None,
             on: date | None = None):
    """Promises to pay, the latest promised date first (a queryset: paginate it).

    Without ``on``: their stored status (today's, see ``promises_refresh``). With ``on``: the
    promises taken by then, annotated with ``received_on`` and ``status_on`` as of that date
    (``promises_as_of``), and ``status`` filters on that.
    """
    if on is None:
        qs = PromiseToPay.objects.filter(company=company)
        if status:
            qs = qs.filter(status=status)
    else:
        qs = promises_as_of(company, on)
        if status:
            qs = qs.filter(status_on=status)
    qs = qs.select_related("customer").prefetch_related("invoices")
    if customer is not None:
        qs = qs.filter(customer=customer)
    return qs.order_by("-promised_date", "-id")


def promises_as_of(company: Company, on: date, qs=None):
    """The promises taken on or before ``on``, each annotated with what it had received and its status
    as of ``on`` (``received_on``, ``status_on``): a pure function of the promise, the receipts and
    allocations effective by ``on``, and ``on`` (``dues.core.promises``), in SQL for any number.

    Received: for a promise naming invoices, the receipt allocations to those invoices effective from
    the day it was taken to its deadline and by ``on``, less the reversals of those allocations
    effective by ``on`` (an undone allocation, or a cancelled receipt, whose reversal is dated on its
    own day); for a promise on account, the customer's receipts dated in that window and by ``on``
    (cash + TDS + bank charges) not cancelled by ``on``. Never below zero: a reversal only ever nets
    an allocation counted with it.
    """
    from django.db.models import Case, DecimalField, Exists, F, OuterRef, Q, Subquery, Sum, Value, When
    from django.db.models.functions import Coalesce

    from dues.ledger.models import Allocation

    money = DecimalField(max_digits=24, decimal_places=4)
    window = Q(reverses__isnull=True, effective_date__gte=OuterRef("taken_on"),
               effective_date__lte=OuterRef("deadline"))
    undone = Q(reverses__isnull=False, reverses__effective_date__gte=OuterRef("taken_on"),
               reverses__effective_date__lte=OuterRef("deadline"))
    allocated = (Allocation.objects.filter(debit_item__document__promises=OuterRef("pk"),
                                           credit_item__document__kind=Document.RECEIPT, effective_date__lte=on)
                 .filter(window | undone)
                 .values("company_id").annotate(s=Sum("amount")).values("s"))
    paid = (Document.objects.filter(customer_id=OuterRef("customer_id"), kind=Document.RECEIPT,
                                    date__gte=OuterRef("taken_on"), date__lte=OuterRef("deadline"))
            .filter(date__lte=on)
            .exclude(status=Document.CANCELLED, cancelled_on__lte=on)
            .values("customer_id").annotate(s=Sum(F("amount") + F("tds") + F("bank_charges"))).values("s"))
    named = Exists(PromiseToPay.invoices.through.objects.filter(promisetopay_id=OuterRef("pk")))
    zero = Value(Decimal(0), output_field=money)
    received = Case(When(named, then=Coalesce(Subquery(allocated, output_field=money), zero)),
                    default=Coalesce(Subquery(paid, output_field=money), zero), output_field=money)
    status = Case(When(received_on__gte=F("amount"), then=Value(PromiseToPay.KEPT)),
                  When(deadline__lt=on, received_on__gt=0, then=Value(PromiseToPay.PARTLY_KEPT)),
                  When(deadline__lt=on, then=Value(PromiseToPay.BROKEN)),
                  default=Value(PromiseToPay.OPEN))
    base = PromiseToPay.objects.filter(company=company) if qs is None else qs
    return base.filter(taken_on__lte=on).annotate(received_on=received).annotate(status_on=status)


def promise_judgements(promises, on: date) -> dict:
    """Promise id -> ``dues.core.promises.Judged`` (status, received, the day it settled) as of ``on``.

    Two queries for any number of promises (their receipt allocations with the day each was undone;
    the receipts of the on-account ones with the day each was cancelled); the judging is the pure
    ``dues.core.promises.judge``. For lists and the stored refresh (the day a promise settled is a
    running total over its payments); counts and sums over many promises use ``promises_as_of``.
    """
    from django.db.models import F

    from dues.core.promises import judge
    from dues.ledger.models import Allocation

    promises = list(promises)
    ids = [p.pk for p in promises]
    invoices: dict[int, set[int]] = defaultdict(set)
    for pid, doc_id in PromiseToPay.invoices.through.objects.filter(promisetopay_id__in=ids).values_list(
            "promisetopay_id", "document_id"):
        invoices[pid].add(doc_id)
    docs = {d for found in invoices.values() for d in found}
    since = min((p.taken_on for p in promises), default=on)  # nothing before the first promise counts
    allocations: dict[int, list] = defaultdict(list)
    for doc_id, effective, amount, undone in (
            Allocation.objects.filter(debit_item__document_id__in=docs, reverses__isnull=True,
                                      credit_item__document__kind=Document.RECEIPT, effective_date__gte=since,
                                      effective_date__lte=on)
            .values_list("debit_item__document_id", "effective_date", "amount", "reversed_by__effective_date")):
        if undone is None or undone > on:
            allocations[doc_id].append((effective, amount))
    on_account = {p.customer_id for p in promises if not invoices.get(p.pk)}
    receipts: dict[int, list] = defaultdict(list)
    for customer_id, day, amount, cancelled in (
            Document.objects.filter(customer_id__in=on_account, kind=Document.RECEIPT, date__gte=since, date__lte=on)
            .annotate(total=F("amount") + F("tds") + F("bank_charges"))
            .values_list("customer_id", "date", "total", "cancelled_on")):
        if cancelled is None or cancelled > on:
            receipts[customer_id].append((day, amount))
    found = {}
    for p in promises:
        named = invoices.get(p.pk)
        payments = [x for d in named for x in allocations[d]] if named else receipts[p.customer_id]
        found[p.pk] = judge(p.amount, p.taken_on, p.deadline, payments, on)
    return found


@dataclass(frozen=True, slots=True)
class PromiseReportRow:
    promised_date: date
    taken_by: str
    count: int
    promised: Decimal
    received: Decimal
    kept: int
    partly_kept: int
    broken: int
    open: int

    def as_json(self) -> dict:
        return {"promised_date": self.promised_date.isoformat(), "taken_by": self.taken_by, "count": self.count,
                "promised": f"{self.promised:.2f}", "received": f"{self.received:.2f}", "kept": self.kept,
                "partly_kept": self.partly_kept, "broken": self.broken, "open": self.open}


def promises_report(company: Company, date_from: date | None = None, date_to: date | None = None,
                    on: date | None = None) -> list[PromiseReportRow]:
    """Promised against received as of ``on`` (default today), by promised date and by who took the
    promise (one grouped query over ``promises_as_of``)."""
    from django.db.models import Count, Q, Sum

    qs = PromiseToPay.objects.filter(company=company)
    if date_from:
        qs = qs.filter(promised_date__gte=date_from)
    if date_to:
        qs = qs.filter(promised_date__lte=date_to)
    rows = (promises_as_of(company, on or clock.today(), qs).values("promised_date", "taken_by")
            .annotate(n=Count("id"), promised=Sum("amount"), got=Sum("received_on"),
                      kept=Count("id", filter=Q(status_on=PromiseToPay.KEPT)),
                      partly=Count("id", filter=Q(status_on=PromiseToPay.PARTLY_KEPT)),
                      broken=Count("id", filter=Q(status_on=PromiseToPay.BROKEN)),
                      still_open=Count("id", filter=Q(status_on=PromiseToPay.OPEN)))
            .order_by("promised_date", "taken_by"))
    return [PromiseReportRow(r["promised_date"], r["taken_by"], r["n"], r["promised"] or Decimal(0),
                             r["got"] or Decimal(0), r["kept"], r["partly"], r["broken"], r["still_open"])
            for r in rows]


def disputes(company: Company, status: str | None = None, customer: Customer | None = None):
    """Disputes, the oldest open first (a queryset: paginate it). ``status="active"``: open or in progress."""
    qs = Dispute.objects.filter(company=company).select_related("customer", "document", "credit_note")
    if status == "active":
        qs = qs.filter(status__in=Dispute.ACTIVE)
    elif status:
        qs = qs.filter(status=status)
    if customer is not None:
        qs = qs.filter(customer=customer)
    return qs.order_by("opened_on", "id")


def disputed_amount(document: Document) -> Decimal:
    """What is under active dispute on a document."""
    from django.db.models import Sum

    return Dispute.objects.filter(document=document, status__in=Dispute.ACTIVE).aggregate(
        s=Sum("amount"))["s"] or Decimal(0)


CONTACT_KINDS = ("call", "email", "sms", "whatsapp", "visit", "meeting", "letter")


def contacts(company: Company):
    """The activities that are contacts with the customer: calls, mails, messages, visits, meetings,
    letters, and a dispute opened (the customer told us); not tasks, nor messages that failed."""
    from django.db.models import Q

    return (Activity.objects.filter(company=company).filter(Q(kind__in=CONTACT_KINDS) | Q(outcome="disputed"))
            .exclude(outcome="failed"))


def worklist(company: Company, collector: str | None = None, on: date | None = None,
             customer_ids=None) -> list:
    """The worklist for ``on`` (default today), highest priority first (``dues.core.worklist.Entry``).

    Five queries whatever the number of customers: overdue by customer with the age weighting in
    SQL, promises by customer as of ``on`` (broken lately, due that day), the follow-ups due, the last
    contact by customer, their names. ``collector`` narrows to the customers whose collector it is:
    the name on the customers or a collector's login (``collector_names``; unknown: ``DuesError``).
    """
    from datetime import timedelta

    from django.db.models import Case, Count, DecimalField, F, Max, Min, Q, QuerySet, Sum, Value, When

    from dues.core import worklist as core

    on = on or clock.today()
    money = DecimalField(max_digits=24, decimal_places=4)
    customers = Customer.objects.filter(company=company)
    if collector:
        wanted = Q()
        for name in collector_names(company, collector):
            wanted |= Q(collector__iexact=name)
        customers = customers.filter(wanted)
    if customer_ids is not None:  # a list, or a query of ids (kept a subquery: no list of 50,000 parameters)
        customers = customers.filter(id__in=customer_ids if isinstance(customer_ids, QuerySet) else list(customer_ids))

    # 1. overdue by customer, weighted by age (today's residuals of items due before ``on``)
    whens = [When(due_date__gte=on - timedelta(days=limit), then=F("residual") * Value(weight))
             for limit, weight in core.AGE_WEIGHTS]
    weighted = Sum(Case(*whens, default=F("residual") * Value(core.OLDEST_WEIGHT), output_field=money))
    overdue = (OpenItem.objects.filter(company=company, side="D", residual__gt=0, due_date__lt=on,
                                       customer__in=customers)
               .exclude(document__status=Document.CANCELLED)
               .values("customer_id")
               .annotate(total=Sum("residual"), weighted=weighted, oldest=Min("due_date")))
    facts: dict[int, dict] = {r["customer_id"]: {"overdue": r["total"], "weighted_overdue": r["weighted"],
                                                 "oldest_days": (on - r["oldest"]).days} for r in overdue}

    # 2. promises as of ``on`` (never their stored status: that is today's): broken in the window
    # (count, latest deadline) and the amount falling due that day
    since = on - timedelta(days=core.BROKEN_WINDOW_DAYS)
    broken_q = Q(status_on=PromiseToPay.BROKEN, deadline__gte=since, deadline__lt=on)
    today_q = Q(status_on=PromiseToPay.OPEN, promised_date=on)
    near = PromiseToPay.objects.filter(company=company, customer__in=customers).filter(
        Q(deadline__gte=since, deadline__lt=on) | Q(promised_date=on))
    promised = (promises_as_of(company, on, near).filter(broken_q | today_q)
                .values("customer_id")
                .annotate(broken=Count("id", filter=broken_q), last_broken=Max("deadline", filter=broken_q),
                          due_today=Sum("amount", filter=today_q)))
    for r in promised:
        found = facts.setdefault(r["customer_id"], {})
        found.update(broken_promises=r["broken"], last_broken=r["last_broken"], due_today=r["due_today"] or Decimal(0))

    # 3. follow-ups due: the earliest per customer
    for cid, (follow_up, note) in follow_ups_due(company, on, customers).items():
        facts.setdefault(cid, {}).update(follow_up=follow_up, follow_up_note=note)
    if not facts:
        return []

    # 4. the last contact on or before ``on``, by the day of the contact, and 5. the names: for the same
    # customers as above (a subquery), not for a list of the ids found, which can be most of the book
    last = (contacts(company).filter(customer__in=customers, on__lte=on)
            .values("customer_id").annotate(last=Max("on")))
    for r in last:
        if (found := facts.get(r["customer_id"])) is not None:
            found["last_contact"] = r["last"]
    names = {r[0]: r[1:] for r in customers.values_list("id", "code", "name", "collector")
             if r[0] in facts}
    return core.rank([core.Facts(cid, *names[cid], **values) for cid, values in facts.items()], on)


def follow_ups_due(company: Company, on: date, customers=None) -> dict[int, tuple[date, str]]:
    """Customer id -> (date, what set it) of their earliest follow-up due on ``on`` (one query).

    A follow-up is due from its date (``Activity.next_follow_up``) for ``FOLLOW_UP_WINDOW_DAYS`` days
    until someone contacts the customer after the activity that set it (a contact on a later day, or
    recorded later the same day). The follow-up a promise sets on its promised date is left to the
    promise ("due today", then "broken").
    """
    from datetime import timedelta

    from django.db.models import Exists, OuterRef, Q

    from dues.core.worklist import FOLLOW_UP_WINDOW_DAYS

    later = contacts(company).filter(customer_id=OuterRef("customer_id"), on__lte=on).filter(
        Q(on__gt=OuterRef("on")) | Q(on=OuterRef("on"), id__gt=OuterRef("id")))
    promise_day = PromiseToPay.objects.filter(activity_id=OuterRef("id"), promised_date=OuterRef("next_follow_up"))
    due = (Activity.objects.filter(company=company, on__lte=on, next_follow_up__lte=on,
                                   next_follow_up__gte=on - timedelta(days=FOLLOW_UP_WINDOW_DAYS))
           .exclude(outcome="failed").filter(~Exists(later), ~Exists(promise_day)))
    if customers is not None:
        due = due.filter(customer__in=customers)
    found: dict[int, tuple[date, str]] = {}
    for cid, follow_up, kind, day, subject, notes in due.order_by("customer_id", "next_follow_up", "id").values_list(
            "customer_id", "next_follow_up", "kind", "on", "subject", "notes"):
        if cid not in found:
            what = " ".join((notes or subject).split())
            what = what if len(what) <= 60 else what[:59] + "…"
            found[cid] = (follow_up, f"{kind} on {day.isoformat()}{': ' + what if what else ''}")
    return found


def collector_names(company: Company, text: str) -> list[str]:
    """The collector names (as on the customers, lower case) a ``--collector`` filter means.

    ``text`` itself, and when it is a login, that user's desk name (``UserRole.person_name``, else
    their full name): ``pooja`` means the customers whose collector is "Pooja Shah". A text that is
    neither a login, nor a desk user's name, nor the collector of any customer is a ``DuesError``
    (not an empty list).
    """
    from django.contrib.auth import get_user_model

    from dues.core.errors import DuesError
    from dues.users.models import UserRole

    text = text.strip()
    names = {text.lower()}
    user = get_user_model().objects.filter(username__iexact=text).first()
    if user is not None:
        role = UserRole.objects.filter(user=user).first()
        names.add(((role.person_name if role else "") or user.get_full_name() or user.get_username()).lower())
        return sorted(names)
    if UserRole.objects.filter(person_name__iexact=text).exists() or \
            Customer.objects.filter(company=company, collector__iexact=text).exists():
        return sorted(names)
    known = sorted({c for c in Customer.objects.filter(company=company).exclude(collector="")
                   .values_list("collector", flat=True)}, key=str.lower)
    raise DuesError(f"no collector {text!r}: not a login, nor the collector of any customer"
                    f"{' (collectors: ' + ', '.join(known) + ')' if known else ''}")


# --- web: the worklist's promise column and the customer timeline ---------------------------------------------


def next_promises(company: Company, customer_ids) -> dict[int, tuple[date, Decimal]]:
    """Each customer's earliest open promise: (promised date, amount promised on that date), by customer id."""
    from django.db.models import OuterRef, Subquery, Sum

    open_ones = PromiseToPay.objects.filter(company=company, status=PromiseToPay.OPEN, customer_id__in=list(customer_ids))
    first = (PromiseToPay.objects.filter(company=company, status=PromiseToPay.OPEN, customer_id=OuterRef("customer_id"))
             .order_by("promised_date").values("promised_date")[:1])
    rows = (open_ones.filter(promised_date=Subquery(first)).values("customer_id", "promised_date")
            .annotate(total=Sum("amount")))
    return {r["customer_id"]: (r["promised_date"], r["total"]) for r in rows}


def timeline(company: Company, customer: Customer):
    """One stream of the customer's activities, dunning messages, promises and disputes, newest first.

    Each is placed on its own day (an activity on the day of the contact, a message on its run date,
    a promise on the day it was taken, a dispute on the day it was opened), then by when it was
    recorded: a call logged the day after sits on the day of the call.
    A union queryset of (``type``, ``id``, ``day``, ``stamp``) rows: paginate it, then load the page's
    objects with ``timeline_objects``.
    """
    from django.db.models import CharField, F, Value

    from .models import DunningAction

    def part(model, label: str, day: str, stamp: str):
        return (model.objects.filter(company=company, customer=customer)
                .annotate(type=Value(label, output_field=CharField()), day=F(day), stamp=F(stamp))
                .values_list("type", "id", "day", "stamp"))

    return (part(Activity, "activity", "on", "at")
            .union(part(DunningAction, "message", "date", "created_at"),
                   part(PromiseToPay, "promise", "taken_on", "created_at"),
                   part(Dispute, "dispute", "opened_on", "created_at"), all=True)
            .order_by("-day", "-stamp", "-id"))


def timeline_objects(rows) -> list[tuple[str, object]]:
    """The (type, object) of each (type, id, when) timeline row, in the rows' order (one query per type)."""
    from .models import DunningAction

    rows = list(rows)
    models = {"activity": Activity.objects.select_related("action"), "message": DunningAction.objects.all(),
              "promise": PromiseToPay.objects.prefetch_related("invoices"),
              "dispute": Dispute.objects.select_related("document", "credit_note")}
    found = {t: qs.in_bulk([r[1] for r in rows if r[0] == t]) for t, qs in models.items()}
    return [(t, found[t][pk]) for t, pk, *_when in rows if pk in found[t]]


def escalated_customers(company: Company):
    """Open escalations, the latest per customer first (the manager's dashboard list).

    Each row is an ``Escalation`` with its customer; one query.
    """
    from .models import Escalation

    return (Escalation.objects.filter(company=company, status=Escalation.OPEN).select_related("customer")
            .order_by("-on", "-id"))


def message_templates_in_use(company: Company) -> list[dict]:
    """The templates the company's policies use: name, channels, steps, and the languages customised.

    Two small queries (the steps, the overrides); the files shipped with dues are the defaults.
    """
    from .models import MessageTemplate

    found: dict[str, dict] = {}
    for template, channel, key in (DunningStep.objects.filter(policy__company=company, active=True)
                                           .order_by("offset_days", "order")
                                           .values_list("template", "channel", "key")):
        row = found.setdefault(template, {"name": template, "channels": [], "steps": [], "languages": []})
        if channel not in row["channels"]:
            row["channels"].append(channel)
        if key not in row["steps"]:
            row["steps"].append(key)
    if not found:  # no policy yet: the default one the first run creates
        from .services.policies import DEFAULT_STEPS

        for key, _days, channel, template, _minimum, _cc in sorted(DEFAULT_STEPS, key=lambda s: s[1]):
            row = found.setdefault(template, {"name": template, "channels": [], "steps": [], "languages": []})
            row["channels"] += [channel] if channel not in row["channels"] else []
            row["steps"] += [key]

    for path in sorted(TEMPLATE_DIR.glob("*.txt")):  # the other shipped templates, for policies to come
        if not path.stem.startswith("_"):
            found.setdefault(path.stem, {"name": path.stem, "channels": [], "steps": [], "languages": []})
    for name, language, at, by in (MessageTemplate.objects.filter(company=company).order_by("name", "language")
                                   .values_list("name", "language", "updated_at", "updated_by")):
        row = found.setdefault(name, {"name": name, "channels": [], "steps": [], "languages": []})
        row["languages"].append({"code": language, "at": at, "by": by})
    return list(found.values())


def preview_customer(company: Company, code: str = "", customers=None):
    """The customer a template preview uses: ``code``, else the first (by code) with an overdue item.

    ``customers`` narrows the choice (what the viewer may see). One query.
    """

    qs = customers if customers is not None else Customer.objects.filter(company=company)
    if code:
        return qs.filter(company=company, code=code).first()
    overdue = (OpenItem.objects.filter(company=company, side="D", residual__gt=0, due_date__lt=clock.today())
               .exclude(document__status=Document.CANCELLED).values("customer_id"))
    return qs.filter(company=company, id__in=overdue).order_by("code").first()


def reply_suggestions(company, *, status: str | None = "open", customer=None, collector: str | None = None,
                      customers=None, limit: int = 200) -> list:
    """Suggestions read from customers' replies (newest first), with their reply and customer."""
    from .models import ReplySuggestion

    qs = ReplySuggestion.objects.filter(company=company).select_related("customer", "reply")
    if status:
        qs = qs.filter(status=status)
    if customer is not None:
        qs = qs.filter(customer=customer)
    if collector is not None:
        qs = qs.filter(customer__collector=collector)
    if customers is not None:
        qs = qs.filter(customer__in=customers)
    return list(qs.order_by("-reply__received_at", "-pk")[:limit])
