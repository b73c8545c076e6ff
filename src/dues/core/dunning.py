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
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from .money import ZERO

CHANNELS = ("email", "sms", "whatsapp", "letter", "call_task", "visit_task")
DUE, SKIPPED = "due", "skipped"


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

    @property
    def amount(self) -> Decimal:
        """The undisputed part of the items (what the message asks for)."""
        return sum((i.due for i in self.items), ZERO)

    @property
    def numbers(self) -> list[str]:
        return [i.number for i in self.items]


def idempotency_key(customer: str, step_key: str, numbers: Iterable[str]) -> str:
    """A stable key for (customer, step, item set): the same set in any order gives the same key."""
    text = "\x1f".join([customer, step_key, *sorted(numbers)])
    return f"{step_key}:{hashlib.sha256(text.encode()).hexdigest()[:40]}"


def steps_at(steps: Sequence[Step], days_overdue: int) -> list[Step]:
    """The steps an item ``days_overdue`` days past due is at (those with the largest offset reached)."""
    reached = [s.offset_days for s in steps if s.offset_days <= days_overdue]
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
