"""The worklist score: pure, explained, broken promises first."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from random import Random

import pytest

from dues.core.worklist import Facts, _inr, age_weight, overdue_points, rank, score

ON = date(2026, 11, 30)


def facts(code="C001", **kw) -> Facts:
    return Facts(customer_id=hash(code) % 1000, code=code, name=f"Customer {code}", **kw)


@pytest.mark.parametrize("days,weight", [(1, 1), (30, 1), (31, 2), (60, 2), (61, 3), (90, 3), (91, 4), (900, 4)])
def test_age_weights(days, weight):
    assert age_weight(days) == weight


def test_overdue_points_are_logarithmic_and_capped():
    assert overdue_points(Decimal(0)) == 0
    assert overdue_points(Decimal("9000")) == 100  # log10(10) = 1
    assert overdue_points(Decimal("99000")) == 200
    assert overdue_points(Decimal("16000000")) == 420
    assert overdue_points(Decimal("10") ** 15) == 600


def _points_by_logarithm(weighted: Decimal) -> int:
    """The definition, worked out with a 50-digit logarithm."""
    with localcontext() as ctx:
        ctx.prec = 50
        exact = Decimal(100) * (1 + weighted / 1000).log10()
        return min(600, int(exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN)))


def test_overdue_points_match_the_logarithm_everywhere_including_either_side_of_each_step():
    """The thresholds the ranking compares against give the points the formula gives: on random amounts
    from a paisa to a thousand crore, and a paisa either side of where each point begins."""
    rnd = Random(7)
    amounts = [Decimal(rnd.randint(1, 10 ** 13)) / 100 for _ in range(3000)]
    for k in range(1, 601):
        with localcontext() as ctx:
            ctx.prec = 50
            start = 1000 * (Decimal(10) ** ((Decimal(k) - Decimal("0.5")) / 100) - 1)
        below, above = start.quantize(Decimal("0.01"), rounding="ROUND_FLOOR"), start.quantize(
            Decimal("0.01"), rounding="ROUND_CEILING")
        amounts += [below, above]
        assert overdue_points(below) == k - 1 and overdue_points(above) == k
    assert [overdue_points(a) for a in amounts] == [_points_by_logarithm(a) for a in amounts]


def test_nothing_to_chase_is_not_on_the_list():
    assert score(facts(last_contact=ON - timedelta(days=40)), ON) is None
    # a broken promise long ago, or one already followed up, does not count either
    assert score(facts(broken_promises=1, last_broken=ON - timedelta(days=91)), ON) is None
    assert score(facts(broken_promises=1, last_broken=ON - timedelta(days=5), last_contact=ON - timedelta(days=4)),
                 ON) is None


def test_score_is_explained_line_by_line():
    entry = score(facts(overdue=Decimal("123456.78"), weighted_overdue=Decimal("246913.56"), oldest_days=45,
                        due_today=Decimal("50000"), last_contact=ON - timedelta(days=7)), ON)
    assert entry.reasons == [
        "promise of 50,000.00 due today: +300",
        "1,23,456.78 overdue, oldest 45 days (age-weighted 2,46,913.56): +239",
        "last contact 7 days ago: +14",
    ]
    assert entry.score == 300 + 239 + 14
    assert entry.as_json()["overdue"] == "123456.78" and entry.as_json()["last_contact"] == "2026-11-23"


def test_broken_promise_outranks_any_debt():
    small = facts("C001", overdue=Decimal("1000"), weighted_overdue=Decimal("1000"), oldest_days=2, broken_promises=1,
                  last_broken=ON - timedelta(days=1), last_contact=ON - timedelta(days=9))
    huge = facts("C002", overdue=Decimal("10") ** 12, weighted_overdue=Decimal("4") * Decimal("10") ** 12,
                 oldest_days=400)
    today = facts("C003", due_today=Decimal("5"), overdue=Decimal("10") ** 9, weighted_overdue=Decimal("10") ** 9)
    ranked = rank([huge, today, small], ON)
    assert [e.facts.code for e in ranked] == ["C001", "C003", "C002"]
    assert ranked[0].reasons[0] == "broken promise (deadline 2026-11-29), not followed up: +1000"
    assert ranked[2].reasons[-1] == "never contacted: +120"


def test_ties_break_on_overdue_then_code():
    a = facts("B", overdue=Decimal("100"), weighted_overdue=Decimal("0.0001"), last_contact=ON)
    b = facts("A", overdue=Decimal("100"), weighted_overdue=Decimal("0.0001"), last_contact=ON)
    c = facts("C", overdue=Decimal("200"), weighted_overdue=Decimal("0.0001"), last_contact=ON)
    assert [e.facts.code for e in rank([a, b, c], ON)] == ["C", "A", "B"]


def test_indian_grouping():
    assert _inr(Decimal("12345678.5")) == "1,23,45,678.50"
    assert _inr(Decimal("999")) == "999.00"
    assert _inr(Decimal("-100000")) == "-1,00,000.00"


def test_a_follow_up_due_outranks_everything_else():
    worst = facts("C001", overdue=Decimal("10") ** 12, weighted_overdue=Decimal("4") * Decimal("10") ** 12,
                  oldest_days=400, broken_promises=1, last_broken=ON - timedelta(days=1), due_today=Decimal("5"))
    follow = facts("C002", follow_up=ON, follow_up_note="call on 2026-11-27: send the revised PO",
                   last_contact=ON - timedelta(days=3))
    late = facts("C003", follow_up=ON - timedelta(days=1), follow_up_note="visit on 2026-11-20",
                 last_contact=ON - timedelta(days=10))
    ahead = facts("C004", follow_up=ON + timedelta(days=1), last_contact=ON - timedelta(days=3))
    ranked = rank([worst, follow, late, ahead], ON)
    assert [e.facts.code for e in ranked] == ["C003", "C002", "C001"]  # C004's is not due yet: nothing to chase
    assert ranked[1].reasons == ["follow-up due today (call on 2026-11-27: send the revised PO): +2500",
                                 "last contact 3 days ago: +6"]
    assert ranked[0].reasons[0] == "follow-up due 2026-11-29, 1 day ago (visit on 2026-11-20): +2500"
    assert ranked[2].score == 1000 + 300 + 600 + 120 < ranked[1].score
    assert ranked[1].as_json()["follow_up"] == "2026-11-30"
