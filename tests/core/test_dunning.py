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


# --- polite collections: the policy's minimum and one message a day (issue 10) ------------------------------


def test_policy_minimum_holds_back_a_small_overdue_total():
    from dues.core.dunning import plan

    small = plan("C001", POLICY, [item("INV-1", 1, "34.00")], D, minimum=Decimal("500"))
    assert [(d.step.key, d.status) for d in small] == [("reminder-1", SKIPPED)]
    assert small[0].reason == "overdue 34.00 (net of disputes and unapplied credits) below the policy's minimum 500.00"
    # the total counts, not each item: two small invoices together reach it
    both = plan("C001", POLICY, [item("INV-1", 1, "300"), item("INV-2", 8, "300")], D, minimum=Decimal("500"))
    assert [(d.step.key, d.status) for d in both] == [("reminder-1", "merged"), ("reminder-2", DUE)]
    assert plan("C001", POLICY, [item("INV-1", 1, "500")], D, minimum=Decimal("500"))[0].status == DUE


def test_policy_minimum_nets_disputes_and_unapplied_credits():
    from dues.core.dunning import plan

    disputed = [item("INV-1", 1, "2000", disputed_amount=Decimal("1600"))]
    assert plan("C001", POLICY, disputed, D, minimum=Decimal("500"))[0].status == SKIPPED  # 400 undisputed
    credited = plan("C001", POLICY, [item("INV-1", 1, "2000")], D, minimum=Decimal("500"), credits=Decimal("1600"))
    assert credited[0].status == SKIPPED and "overdue 400.00" in credited[0].reason
    assert plan("C001", POLICY, [item("INV-1", 1, "2000")], D, minimum=Decimal("500"),
                credits=Decimal("1500"))[0].status == DUE


def test_pre_due_reminder_respects_the_minimum_on_the_amount_falling_due():
    from dues.core.dunning import plan

    soon = plan("C001", POLICY, [item("INV-1", -3, "450")], D, minimum=Decimal("500"))
    assert soon[0].status == SKIPPED and soon[0].reason == "amount falling due 450.00 below the policy's minimum 500.00"
    assert plan("C001", POLICY, [item("INV-1", -3, "5000")], D, minimum=Decimal("500"))[0].status == DUE
    # credits the overdue total did not use up count against what falls due
    left = plan("C001", POLICY, [item("INV-1", -3, "5000")], D, minimum=Decimal("500"), credits=Decimal("4600"))
    assert left[0].status == SKIPPED and "falling due 400.00" in left[0].reason


def test_steps_due_together_go_as_one_message_of_the_strongest():
    from dues.core.dunning import MERGED, plan

    items = [item("INV-1", -3, "5000"), item("INV-2", 1, "1000"), item("INV-3", 15, "2000"), item("INV-4", 31, "20000")]
    decisions = plan("C001", POLICY, items, D)
    sent = [d for d in decisions if d.status == DUE]
    assert [(d.step.key, d.step.channel) for d in sent] == [("call", "call_task"), ("escalation", "email")]
    escalation = sent[1]
    assert escalation.message_numbers == ["INV-4", "INV-3", "INV-2", "INV-1"]  # every item, earliest due first
    assert escalation.message_amount == Decimal("28000") and escalation.numbers == ["INV-4"]
    assert escalation.key == idempotency_key("C001", "escalation", ["INV-4"])  # the key keeps its meaning
    merged = [d for d in decisions if d.status == MERGED]
    assert [(d.step.key, d.numbers) for d in merged] == [("pre-due", ["INV-1"]), ("reminder-1", ["INV-2"]),
                                                         ("statement", ["INV-3"])]
    assert all(d.reason == "merged into the escalation e-mail of the day (one e-mail a day)" for d in merged)
    assert escalation.merged == tuple(merged)


def test_a_tie_on_offset_goes_to_the_later_step_and_other_channels_are_apart():
    from dues.core.dunning import MERGED, plan

    steps = [Step("sms-1", 1, "sms", "sms-reminder"), Step("nudge", 1, "email", "reminder-1"),
             Step("firm", 1, "email", "reminder-2"), Step("sms-2", 5, "sms", "sms-reminder")]
    decisions = plan("C001", steps, [item("INV-1", 1), item("INV-2", 5)], D)
    assert sorted((d.step.key, d.status) for d in decisions) == [("firm", DUE), ("nudge", MERGED),
                                                                 ("sms-1", MERGED), ("sms-2", DUE)]


def test_a_channel_already_used_today_defers_the_new_steps():
    from dues.core.dunning import plan

    decisions = plan("C001", POLICY, [item("INV-1", 1), item("INV-2", 15)], D,
                     busy={"email": "the reminder-2 e-mail"})
    assert [(d.step.key, d.status) for d in decisions] == [("reminder-1", SKIPPED), ("statement", SKIPPED),
                                                           ("call", DUE)]
    assert decisions[0].reason == ("deferred to the next run: one e-mail a day and the reminder-2 e-mail "
                                   "already went today")


def test_an_overdue_item_never_gets_a_pre_due_reminder():
    steps = [Step("pre-due", -3, "email", "pre-due"), Step("reminder-2", 7, "email", "reminder-2")]
    assert [s.key for s in steps_at(steps, 0)] == ["pre-due"]
    assert steps_at(steps, 2) == []  # past due, no step reached yet (say reminder-1 was removed)
    assert evaluate("C001", steps, [item("INV-1", 2)], D) == []
