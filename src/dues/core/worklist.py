"""The collector's worklist: who to call first on a date, with a score that says why. Pure, no database.

A customer's score is the sum of

- **follow-up due**: 2500 points (more than all the rest together, so today's follow-ups come first)
  when a follow-up date set on an activity has come (that day, or up to ``FOLLOW_UP_WINDOW_DAYS``
  days late) and nobody has contacted the customer since that activity;
- **broken promise**: 1000 points while a promise broken in the last ``BROKEN_WINDOW_DAYS`` days
  has not been followed up (no contact since its deadline), so those customers always come first;
- **promise due today**: 300 points (call to remind, or to confirm the payment);
- **overdue**: ``100 × log10(1 + weighted overdue / 1,000)`` points, at most 600, where the weighted
  overdue is Σ residual × age weight (1–30 days ×1, 31–60 ×2, 61–90 ×3, over 90 ×4): old money
  counts more, and the log keeps one large account from swamping everyone else;
- **no recent contact**: 2 points a day since the last contact, at most 120 (never contacted: 120).

Customers with no follow-up due, nothing overdue, no promise due and no broken promise are not on the list.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from functools import cache

from .money import ZERO

FOLLOW_UP_POINTS = 2500
FOLLOW_UP_WINDOW_DAYS = 30
BROKEN_POINTS = 1000
DUE_TODAY_POINTS = 300
OVERDUE_CAP = 600
CONTACT_POINTS_PER_DAY = 2
CONTACT_CAP = 120
BROKEN_WINDOW_DAYS = 90
AGE_WEIGHTS = ((30, 1), (60, 2), (90, 3))  # up to N days overdue: weight; beyond the last: OLDEST_WEIGHT
OLDEST_WEIGHT = 4


def age_weight(days_overdue: int) -> int:
    for limit, weight in AGE_WEIGHTS:
        if days_overdue <= limit:
            return weight
    return OLDEST_WEIGHT


@dataclass(frozen=True, slots=True)
class Facts:
    """What the worklist knows of a customer on a date (each figure from one set-based query)."""

    customer_id: int
    code: str
    name: str
    collector: str = ""
    overdue: Decimal = ZERO
    weighted_overdue: Decimal = ZERO
    oldest_days: int = 0
    broken_promises: int = 0
    last_broken: date | None = None
    due_today: Decimal = ZERO
    last_contact: date | None = None
    follow_up: date | None = None  # the earliest follow-up due and not yet done
    follow_up_note: str = ""  # what set it: "call on 2026-12-03: send the revised PO"


@dataclass(frozen=True, slots=True)
class Entry:
    """A customer on the worklist of ``on``: the score, and (built when asked, for the rows shown) the reasons."""

    facts: Facts
    score: int
    on: date

    @property
    def reasons(self) -> list[str]:
        return _assess(self.facts, self.on, explain=True)[1]  # an entry is only made for a customer chased

    def as_json(self) -> dict:
        f = self.facts
        return {"customer": f.code, "name": f.name, "collector": f.collector, "score": self.score,
                "reasons": self.reasons, "overdue": f"{f.overdue:.2f}", "oldest_days": f.oldest_days,
                "broken_promises": f.broken_promises, "due_today": f"{f.due_today:.2f}",
                "last_contact": f.last_contact.isoformat() if f.last_contact else None,
                "follow_up": f.follow_up.isoformat() if f.follow_up else None}


def _inr(value: Decimal) -> str:
    """12345678.5 -> '1,23,45,678.50' (Indian grouping: lakhs and crores)."""
    sign, text = ("-", f"{-value:.2f}") if value < 0 else ("", f"{value:.2f}")
    whole, cents = text.split(".")
    head, tail = whole[:-3], whole[-3:]
    groups = []
    while len(head) > 2:
        groups.insert(0, head[-2:])
        head = head[:-2]
    if head:
        groups.insert(0, head)
    return sign + ",".join([*groups, tail]) + "." + cents


@cache
def _overdue_thresholds() -> tuple[Decimal, ...]:
    """The weighted overdue at which each whole point from 1 to ``OVERDUE_CAP`` begins.

    ``100 × log10(1 + w / 1,000)`` rounds to at least k exactly when w ≥ 1,000 × (10^((k − ½) / 100) − 1).
    Those bounds are irrational, so no amount falls on one (no tie to break), and 34 digits place them
    far below a paisa: comparing against them is exact where a logarithm per customer would be both
    rounded and slow (it was most of the time of ranking 50,000 customers).
    """
    with localcontext() as ctx:
        ctx.prec = 34
        return tuple(Decimal(1000) * (Decimal(10) ** ((Decimal(k) - Decimal("0.5")) / 100) - 1)
                     for k in range(1, OVERDUE_CAP + 1))


def overdue_points(weighted: Decimal) -> int:
    """``100 × log10(1 + weighted / 1,000)`` to the nearest whole point, at most ``OVERDUE_CAP``."""
    if weighted <= 0:
        return 0
    return bisect_right(_overdue_thresholds(), weighted)


def _assess(facts: Facts, on: date, explain: bool) -> tuple[int, list[str]] | None:
    """The points of ``facts`` on ``on`` and, with ``explain``, the reasons for them; None when there is
    nothing to chase (no follow-up due, no open broken promise, no promise due, nothing overdue).

    Ranking wants only the points of every customer; the reasons (formatted amounts) are built for the
    rows someone reads.
    """
    points = 0
    reasons: list[str] = []
    chased = False
    if facts.follow_up is not None and facts.follow_up <= on:
        chased = True
        points += FOLLOW_UP_POINTS
        if explain:
            late = (on - facts.follow_up).days
            when = "today" if late == 0 else f"{facts.follow_up.isoformat()}, {late} day{'s' if late > 1 else ''} ago"
            note = f" ({facts.follow_up_note})" if facts.follow_up_note else ""
            reasons.append(f"follow-up due {when}{note}: +{FOLLOW_UP_POINTS}")
    if (facts.broken_promises > 0 and facts.last_broken is not None
            and (on - facts.last_broken).days <= BROKEN_WINDOW_DAYS
            and (facts.last_contact is None or facts.last_contact <= facts.last_broken)):  # not followed up
        chased = True
        points += BROKEN_POINTS
        if explain:
            reasons.append(f"broken promise (deadline {facts.last_broken.isoformat()}), not followed up: "
                           f"+{BROKEN_POINTS}")
    if facts.due_today > 0:
        chased = True
        points += DUE_TODAY_POINTS
        if explain:
            reasons.append(f"promise of {_inr(facts.due_today)} due today: +{DUE_TODAY_POINTS}")
    if facts.overdue > 0:
        chased = True
        gained = overdue_points(facts.weighted_overdue)
        points += gained
        if explain:
            reasons.append(f"{_inr(facts.overdue)} overdue, oldest {facts.oldest_days} days "
                           f"(age-weighted {_inr(facts.weighted_overdue)}): +{gained}")
    if not chased:
        return None
    if facts.last_contact is None:
        points += CONTACT_CAP
        if explain:
            reasons.append(f"never contacted: +{CONTACT_CAP}")
    else:
        days = max((on - facts.last_contact).days, 0)
        gained = min(CONTACT_CAP, days * CONTACT_POINTS_PER_DAY)
        if gained:
            points += gained
            if explain:
                reasons.append(f"last contact {days} days ago: +{gained}")
    return points, reasons


def score(facts: Facts, on: date) -> Entry | None:
    """The customer's worklist entry on ``on``, or None when there is nothing to chase."""
    assessed = _assess(facts, on, explain=False)
    return None if assessed is None else Entry(facts, assessed[0], on)


def rank(all_facts, on: date) -> list[Entry]:
    """The worklist: entries by score (highest first), then overdue, then code."""
    entries = [e for e in (score(f, on) for f in all_facts) if e is not None]
    entries.sort(key=lambda e: (-e.score, -e.facts.overdue, e.facts.code))
    return entries
