"""Which dunning messages are due on a date: pure policy evaluation, no database.

A policy is an ordered list of steps, each ``offset_days`` relative to an item's due date (negative
= before it falls due). On date D an open debit item is *at* the steps with the largest offset not
after its days overdue (``D - due_date``); several steps may share that offset (a statement and a
call task on day +15). An item that was already covered at a step (``covered`` holds
``(step_key, item_number)`` pairs from earlier actions, whatever became of them) is never put in a
new action for that step again, so a daily run sends nothing twice and a missed day catches up with
the latest step only (never a burst of the old ones).

For each customer and step the uncovered items at that step make **one** action listing all of
them (never one message per invoice). Its idempotency key is derived from the customer, the step
and the sorted item numbers, so evaluating the same date twice yields the same keys.

Only the undisputed part of an item is dunned: an item with residual R and ``disputed_amount`` D
(its active disputes) goes into an action for ``R - D`` (``Item.due``); an item with nothing left
undisputed (``R - D <= 0``) or covered by an active promise-to-pay is left out (reported as a
skipped decision); a customer on hold gets nothing (one skipped decision per step); an action
whose amount is below the step's minimum overdue amount is skipped and not recorded, so it goes
out once the amount grows.

``plan`` adds the two rules that keep the collections polite (``evaluate`` alone is per step):

- **the policy's minimum** (``policy_minimum``): nothing is asked of a customer whose overdue
  total, net of what is under dispute and of their unapplied credits (receipts on account, credit
  notes not yet set off), is below it; a reminder *before* the due date is sent only when the
  amount falling due (net of the credits the overdue total did not use up) reaches it. Skipped,
  not recorded: it goes out once the amount grows.
- **one message a day** (``one_message_a_day``): per customer and message channel (e-mail, SMS,
  WhatsApp) at most one message a day. When several steps fall due together the strongest one
  (``strength``: the largest offset, then the later step in the policy) carries all their items;
  the others become ``merged`` decisions (recorded, their items covered at their own steps, never
  sent). A channel that already had a message for the day (``busy``: an earlier run, or a retry
  going out) gets nothing more: the new decisions are deferred to the next run, unrecorded. Tasks
  (call, visit) and letters are not messages: they still come alongside.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from .money import ZERO

CHANNELS = ("email", "sms", "whatsapp", "letter", "call_task", "visit_task")
MESSAGE_CHANNELS = ("email", "sms", "whatsapp")  # at most one a day per customer and channel
DUE, SKIPPED, MERGED = "due", "skipped", "merged"
CHANNEL_NAMES = {"email": "e-mail", "sms": "SMS", "whatsapp": "WhatsApp message", "letter": "letter",
                 "call_task": "call task", "visit_task": "visit task"}


@dataclass(frozen=True, slots=True)
class Step:
    key: str
    offset_days: int
    channel: str = "email"
    template: str = ""
    min_overdue: Decimal = ZERO
    cc: str = ""

    def __post_init__(self) -> None:
        if self.channel not in CHANNELS:
            raise ValueError(f"unknown channel {self.channel!r}; one of {', '.join(CHANNELS)}")


@dataclass(frozen=True, slots=True)
class Item:
    number: str
    due_date: date
    residual: Decimal
    disputed_amount: Decimal = ZERO
    promised: bool = False

    @property
    def disputed(self) -> bool:
        """Nothing is left to dun once the active disputes cover the whole residual."""
        return self.disputed_amount > 0 and self.due <= 0

    @property
    def due(self) -> Decimal:
        """What may be asked for: the residual less what is under active dispute (never below zero)."""
        return max(self.residual - self.disputed_amount, ZERO)


@dataclass(frozen=True, slots=True)
class Decision:
    """An action due (``status == "due"``) or one that was skipped, with the reason."""

    customer: str
    step: Step
    items: tuple[Item, ...]
    status: str = DUE
    reason: str = ""
    key: str = field(default="")
    merged: tuple[Decision, ...] = ()  # the weaker steps of the same day whose items this message carries

    @property
    def amount(self) -> Decimal:
        """The undisputed part of the items (what the message asks for)."""
        return sum((i.due for i in self.items), ZERO)

    @property
    def numbers(self) -> list[str]:
        return [i.number for i in self.items]

    @property
    def message_items(self) -> tuple[Item, ...]:
        """The items the message lists: its own and those of the steps merged into it, earliest due first."""
        if not self.merged:
            return self.items
        found = {i.number: i for d in (self, *self.merged) for i in d.items}
        return tuple(sorted(found.values(), key=lambda i: (i.due_date, i.number)))

    @property
    def message_numbers(self) -> list[str]:
        return [i.number for i in self.message_items]

    @property
    def message_amount(self) -> Decimal:
        return sum((i.due for i in self.message_items), ZERO)


def idempotency_key(customer: str, step_key: str, numbers: Iterable[str]) -> str:
    """A stable key for (customer, step, item set): the same set in any order gives the same key."""
    text = "\x1f".join([customer, step_key, *sorted(numbers)])
    return f"{step_key}:{hashlib.sha256(text.encode()).hexdigest()[:40]}"


def steps_at(steps: Sequence[Step], days_overdue: int) -> list[Step]:
    """The steps an item ``days_overdue`` days past due is at (those with the largest offset reached).

    A step before the due date (negative offset) is for items not yet overdue only: an overdue item
    never gets a "falls due shortly" reminder, even when the policy has no step for it yet.
    """
    reached = [s.offset_days for s in steps if s.offset_days <= days_overdue
               and (s.offset_days >= 0 or days_overdue <= 0)]
    if not reached:
        return []
    top = max(reached)
    return [s for s in steps if s.offset_days == top]


def evaluate(customer: str, steps: Sequence[Step], items: Iterable[Item], on: date, *, hold: bool = False,
             covered: frozenset[tuple[str, str]] | set[tuple[str, str]] = frozenset()) -> list[Decision]:
    """The decisions for one customer on ``on``, in the policy's step order."""
    order = {s.key: i for i, s in enumerate(steps)}
    by_step: dict[str, list[Item]] = {}
    held_out: dict[str, list[Item]] = {}
    step_of = {s.key: s for s in steps}
    for item in items:
        if item.residual <= 0:
            continue
        for step in steps_at(steps, (on - item.due_date).days):
            if (step.key, item.number) in covered:
                continue
            if item.disputed or item.promised:
                held_out.setdefault(step.key, []).append(item)
            else:
                by_step.setdefault(step.key, []).append(item)
    decisions: list[Decision] = []
    for key in sorted(set(by_step) | set(held_out), key=order.__getitem__):
        step = step_of[key]
        chosen = tuple(sorted(by_step.get(key, []), key=lambda i: (i.due_date, i.number)))
        if held_out.get(key):
            out = tuple(sorted(held_out[key], key=lambda i: (i.due_date, i.number)))
            kinds = sorted({"disputed" if i.disputed else "promised" for i in out})
            decisions.append(Decision(customer, step, out, SKIPPED, f"{' and '.join(kinds)} item(s) left out"))
        if not chosen:
            continue
        decision = Decision(customer, step, chosen, key=idempotency_key(customer, key, (i.number for i in chosen)))
        if hold:
            decision = Decision(customer, step, chosen, SKIPPED, "customer on hold from dunning", decision.key)
        elif decision.amount < step.min_overdue:
            decision = Decision(customer, step, chosen, SKIPPED, f"amount below the step's minimum {step.min_overdue}",
                                decision.key)
        decisions.append(decision)
    return decisions


def policy_minimum(decisions: Sequence[Decision], items: Iterable[Item], on: date, minimum: Decimal,
                   credits: Decimal = ZERO) -> list[Decision]:
    """Skip the due decisions below the policy's ``minimum`` (see the module doc); the rest unchanged.

    After the due date (offset > 0) the customer's overdue total counts: the undisputed part of the
    items past due, less ``credits`` (their unapplied credits). Up to the due date (offset <= 0) the
    amount falling due counts, less what the overdue total left of the credits.
    """
    if minimum <= 0:
        return list(decisions)
    overdue = sum((i.due for i in items if i.residual > 0 and i.due_date < on), ZERO)
    overdue_net = max(overdue - credits, ZERO)
    credits_left = max(credits - overdue, ZERO)
    out: list[Decision] = []
    for d in decisions:
        if d.status == DUE and d.step.offset_days > 0 and overdue_net < minimum:
            d = replace(d, status=SKIPPED, reason=f"overdue {overdue_net:.2f} (net of disputes and unapplied credits) "
                                                  f"below the policy's minimum {minimum:.2f}")
        elif d.status == DUE and d.step.offset_days <= 0 and max(d.amount - credits_left, ZERO) < minimum:
            d = replace(d, status=SKIPPED, reason=f"amount falling due {max(d.amount - credits_left, ZERO):.2f} "
                                                  f"below the policy's minimum {minimum:.2f}")
        out.append(d)
    return out


def strength(step: Step, steps: Sequence[Step]) -> tuple[int, int]:
    """How strong a step is: the further past the due date the stronger; on a tie, the later in the policy."""
    position = next((n for n, s in enumerate(steps) if s.key == step.key), -1)
    return (step.offset_days, position)


def one_message_a_day(decisions: Sequence[Decision], steps: Sequence[Step],
                      busy: Mapping[str, str] | None = None) -> list[Decision]:
    """At most one message per message channel for the customer: the strongest due step carries the items
    of the others (which become ``merged``); a ``busy`` channel (channel -> what went out already) gets
    none (deferred). Other channels and non-due decisions pass unchanged, in their order."""
    busy = busy or {}
    groups: dict[str, list[Decision]] = {}
    for d in decisions:
        if d.status == DUE and d.step.channel in MESSAGE_CHANNELS:
            groups.setdefault(d.step.channel, []).append(d)
    changed: dict[int, Decision] = {}
    for channel, group in groups.items():
        name = CHANNEL_NAMES[channel]
        if channel in busy:
            for d in group:
                changed[id(d)] = replace(d, status=SKIPPED, reason=f"deferred to the next run: one {name} a day and "
                                                                   f"{busy[channel]} already went today")
            continue
        if len(group) < 2:
            continue
        strongest = max(group, key=lambda d: strength(d.step, steps))
        weaker = tuple(d for d in group if d is not strongest)
        for d in weaker:
            changed[id(d)] = replace(d, status=MERGED, reason=f"merged into the {strongest.step.key} {name} of the "
                                                              f"day (one {name} a day)")
        changed[id(strongest)] = replace(strongest, merged=tuple(changed[id(d)] for d in weaker))
    return [changed.get(id(d), d) for d in decisions]


def plan(customer: str, steps: Sequence[Step], items: Sequence[Item], on: date, *, hold: bool = False,
         covered: frozenset[tuple[str, str]] | set[tuple[str, str]] = frozenset(), minimum: Decimal = ZERO,
         credits: Decimal = ZERO, busy: Mapping[str, str] | None = None) -> list[Decision]:
    """What the run does for one customer on ``on``: ``evaluate``, then the policy's minimum, then one
    message a day per channel."""
    items = list(items)
    decisions = evaluate(customer, steps, items, on, hold=hold, covered=covered)
    return one_message_a_day(policy_minimum(decisions, items, on, minimum, credits), steps, busy)
