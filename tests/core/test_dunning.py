"""The pure dunning engine: which messages are due on a date, and never twice."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from dues.core.dunning import DUE, SKIPPED, Item, Step, evaluate, idempotency_key, steps_at

D = date(2026, 11, 30)
POLICY = [
    Step("pre-due", -3, "email", "pre-due"),
    Step("reminder-1", 1, "email", "reminder-1"),
    Step("reminder-2", 7, "email", "reminder-2"),
    Step("statement", 15, "email", "statement"),
    Step("call", 15, "call_task", "call"),
    Step("escalation", 30, "email", "escalation", Decimal("10000"), "@ar_manager"),
    Step("final-notice", 60, "email", "final-notice"),
]


def item(number, days_overdue, amount="1000", **flags):
    return Item(number, D - timedelta(days=days_overdue), Decimal(amount), **flags)


def due(decisions):
    return [(d.step.key, d.numbers, d.amount) for d in decisions if d.status == DUE]


def test_steps_at_picks_the_latest_offset_reached():
    assert steps_at(POLICY, -4) == []
    assert [s.key for s in steps_at(POLICY, -3)] == ["pre-due"]
    assert [s.key for s in steps_at(POLICY, 0)] == ["pre-due"]
    assert [s.key for s in steps_at(POLICY, 1)] == ["reminder-1"]
    assert [s.key for s in steps_at(POLICY, 14)] == ["reminder-2"]
    assert [s.key for s in steps_at(POLICY, 15)] == ["statement", "call"]
    assert [s.key for s in steps_at(POLICY, 400)] == ["final-notice"]


def test_pre_due_and_one_message_per_step_listing_all_its_items():
    items = [item("INV-1", -3, "500"), item("INV-2", -1, "700"), item("INV-3", 2, "1000"), item("INV-4", 5, "250"),
             item("INV-5", -10, "9999")]
    assert due(evaluate("C001", POLICY, items, D)) == [
        ("pre-due", ["INV-2", "INV-1"], Decimal("1200")),  # earliest due first
        ("reminder-1", ["INV-4", "INV-3"], Decimal("1250")),
    ]


def test_shared_offset_gives_a_statement_and_a_call_task():
    decisions = evaluate("C001", POLICY, [item("INV-1", 15)], D)
    assert [(d.step.key, d.step.channel) for d in decisions] == [("statement", "email"), ("call", "call_task")]


def test_minimum_overdue_amount_skips_without_consuming_the_step():
    small = evaluate("C001", POLICY, [item("INV-1", 31, "4000"), item("INV-2", 40, "5999.99")], D)
    assert [(d.step.key, d.status, d.amount) for d in small] == [("escalation", SKIPPED, Decimal("9999.99"))]
    assert "minimum" in small[0].reason
    enough = evaluate("C001", POLICY, [item("INV-1", 31, "4000"), item("INV-2", 40, "6000")], D)
    assert due(enough) == [("escalation", ["INV-2", "INV-1"], Decimal("10000"))]


def test_hold_skips_every_step():
    decisions = evaluate("C001", POLICY, [item("INV-1", 1), item("INV-2", 8)], D, hold=True)
    assert [(d.step.key, d.status) for d in decisions] == [("reminder-1", SKIPPED), ("reminder-2", SKIPPED)]
    assert all(d.reason == "customer on hold from dunning" for d in decisions)


def test_disputed_and_promised_items_are_left_out():
    items = [item("INV-1", 1, disputed_amount=Decimal("1000")), item("INV-2", 1, promised=True), item("INV-3", 1, "300")]
    decisions = evaluate("C001", POLICY, items, D)
    assert due(decisions) == [("reminder-1", ["INV-3"], Decimal("300"))]
    skipped = [d for d in decisions if d.status == SKIPPED]
    assert [(d.numbers, d.reason) for d in skipped] == [(["INV-1", "INV-2"], "disputed and promised item(s) left out")]
    only_disputed = evaluate("C001", POLICY, [item("INV-1", 1, disputed_amount=Decimal("1000"))], D)
    assert due(only_disputed) == []
    more_than_left = evaluate("C001", POLICY, [item("INV-1", 1, disputed_amount=Decimal("1500"))], D)
    assert due(more_than_left) == [] and [d.reason for d in more_than_left] == ["disputed item(s) left out"]


def test_only_the_disputed_part_is_held_back():
    items = [item("INV-1", 1, "1000", disputed_amount=Decimal("250.50")), item("INV-2", 1, "300")]
    decisions = evaluate("C001", POLICY, items, D)
    assert due(decisions) == [("reminder-1", ["INV-1", "INV-2"], Decimal("1049.50"))]
    assert [d.status for d in decisions] == [DUE]
    assert decisions[0].items[0].due == Decimal("749.50") and not decisions[0].items[0].disputed
    # the undisputed part below the step's minimum: skipped (and sent once it grows), not sent whole
    big = [item("INV-1", 31, "12000", disputed_amount=Decimal("3000"))]
    assert [(d.status, d.amount) for d in evaluate("C001", POLICY, big, D)] == [(SKIPPED, Decimal("9000"))]


def test_nothing_twice_and_new_items_go_alone():
    first = evaluate("C001", POLICY, [item("INV-1", 1), item("INV-2", 1)], D)
    covered = {(d.step.key, n) for d in first for n in d.numbers}
    assert evaluate("C001", POLICY, [item("INV-1", 1), item("INV-2", 1)], D, covered=covered) == []
    # the next day a third invoice reaches reminder-1: only it goes, the first two are not reminded again
    later = evaluate("C001", POLICY, [item("INV-1", 2), item("INV-2", 2), item("INV-3", 1)], D, covered=covered)
    assert due(later) == [("reminder-1", ["INV-3"], Decimal("1000"))]
    # a week on, both first items move to the next step together
    week = evaluate("C001", POLICY, [item("INV-1", 7), item("INV-2", 7)], D, covered=covered)
    assert due(week) == [("reminder-2", ["INV-1", "INV-2"], Decimal("2000"))]


def test_paid_items_and_zero_residuals_are_ignored():
    assert evaluate("C001", POLICY, [item("INV-1", 5, "0")], D) == []


def test_idempotency_key_is_stable_and_distinct():
    a = evaluate("C001", POLICY, [item("INV-2", 1), item("INV-1", 1)], D)[0].key
    b = evaluate("C001", POLICY, [item("INV-1", 1), item("INV-2", 1)], D)[0].key
    assert a == b == idempotency_key("C001", "reminder-1", ["INV-2", "INV-1"])
    assert a != idempotency_key("C002", "reminder-1", ["INV-1", "INV-2"])
    assert a != idempotency_key("C001", "reminder-2", ["INV-1", "INV-2"])
    assert a != idempotency_key("C001", "reminder-1", ["INV-1"])
    assert len(a) <= 100 and a.startswith("reminder-1:")


def test_unknown_channel_is_refused():
    with pytest.raises(ValueError, match="unknown channel"):
        Step("x", 1, "pigeon")
