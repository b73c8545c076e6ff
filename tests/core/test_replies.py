"""Reading customers' replies for suggestions: the amount and date rules, and the labelled sets' precision."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from dues.messaging import replies as r

MONDAY = date(2026, 12, 7)  # every labelled message is read as on this day; nothing here depends on the clock


@pytest.mark.parametrize(("text", "want"), [
    ("will pay 1.5 lakh by 15th", [Decimal("150000.00")]),
    ("kal tak 50k bhej denge", [Decimal("50000.00")]),
    ("Rs. 1,25,000/- on 12th", [Decimal("125000.00")]),
    ("2 cr by March", [Decimal("20000000.00")]),
    ("₹ 999.50 balance", [Decimal("999.50")]),
    ("scheduled for 16 December 2026, amount INR 1,18,000", [Decimal("118000.00")]),
    ("call me on 9876543210 about INV-1042, UTR 634512987654", []),
    ("20 pcs short on 15th", []),
])
def test_amounts_in_indian_phrasings(text, want):
    assert r.amounts(text) == want


@pytest.mark.parametrize(("text", "want"), [
    ("by 15th", date(2026, 12, 15)),
    ("by 5th", date(2027, 1, 5)),  # already past this month: next month's
    ("kal tak", date(2026, 12, 8)),
    ("parso", date(2026, 12, 9)),
    ("15 tarikh ko", date(2026, 12, 15)),
    ("by friday", date(2026, 12, 11)),
    ("month end tak", date(2026, 12, 31)),
    ("agle mahine 5 tarikh", date(2027, 1, 5)),
    ("on 22/12", date(2026, 12, 22)),
])
def test_dates_read_relative_to_the_day_given(text, want):
    assert r.dates(text, MONDAY)[0] == want


def test_one_reply_can_suggest_several_things_and_quoted_history_is_ignored():
    text = ("Paid 50k UTR 634500011122, balance after credit note for damaged goods\n\n"
            "On Mon, 7 Dec 2026 at 10:00, Accounts <ar@example.com> wrote:\n> please send the statement")
    got = {s.kind: s for s in r.suggest(text, MONDAY)}
    assert set(got) == {r.PAYMENT, r.DISPUTE}
    assert got[r.PAYMENT].utr == "634500011122" and got[r.PAYMENT].amount == Decimal("50000.00")
    assert got[r.DISPUTE].reason == "damaged"
    assert r.suggest("Will check with accounts and revert.", MONDAY) == []
    assert r.suggest("Payment not yet done, will update", MONDAY) == []


@pytest.mark.parametrize(("name", "floor"), [("replies_labelled.jsonl", 0.95), ("replies_heldout.jsonl", 0.8)])
def test_precision_on_the_labelled_sets_stays_above_its_floor(name, floor):
    rows = r.load_labelled(r.labelled_set_path().with_name(name))
    assert len(rows) >= (100 if name == "replies_labelled.jsonl" else 30)
    scores, misses = r.evaluate(rows)
    for s in scores.values():
        assert s.tp + s.fn >= 4, s.kind  # every kind is in the set
        assert s.precision >= floor, (s.kind, s.precision, misses)
        assert s.recall >= 0.8, (s.kind, s.recall, misses)


def test_a_bad_labelled_line_is_named(tmp_path):
    path = tmp_path / "set.jsonl"
    path.write_text(json.dumps({"text": "ok", "today": "2026-12-07", "expect": {}}) + "\n"
                    + json.dumps({"text": "x", "today": "2026-12-07", "expect": {"promis": {}}}) + "\n")
    with pytest.raises(ValueError, match=r"set.jsonl: line 2: unknown kind promis"):
        r.load_labelled(path)


def test_the_bench_command_prints_precision_and_recall_per_kind(tmp_path):
    from click.testing import CliRunner

    from dues.cli import replies as _replies  # noqa: F401  (registers the commands)
    from dues.cli.main import cli

    path = tmp_path / "mine.jsonl"
    path.write_text(json.dumps({"text": "will pay 10k by 15th", "today": "2026-12-07",
                                "expect": {"promise": {"amount": "10000", "date": "2026-12-15"}}}) + "\n"
                    + json.dumps({"text": "thanks", "today": "2026-12-07", "expect": {"dispute": {}}}) + "\n")
    result = CliRunner().invoke(cli, ["replies", "bench", "--file", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    kinds = {k["kind"]: k for k in json.loads(result.output)[0]["kinds"]}
    assert kinds["promise"]["precision"] == 1.0 and kinds["dispute"]["recall"] == 0.0
    result = CliRunner().invoke(cli, ["replies", "bench", "--misses"])
    assert result.exit_code == 0 and "statement_request" in result.output
