"""dues.clock is the only place that reads the real clock, and DUES_NOW freezes it."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from dues import clock

KOLKATA = ZoneInfo("Asia/Kolkata")
ROOT = Path(__file__).resolve().parents[2]
# reading the wall clock for a business date or a record's time stamp; time.time() for rate limits and
# temporary-file expiry is not a business date and stays allowed
READS_THE_CLOCK = re.compile(r"\b(?:date\.today|datetime\.now|datetime\.utcnow|datetime\.today|timezone\.now"
                             r"|timezone\.localdate|timezone\.localtime)\(\s*\)|datetime\.now\(UTC\)|auto_now")


def test_a_frozen_date_time_with_offset_is_that_instant(monkeypatch):
    monkeypatch.setenv("DUES_NOW", "2031-02-28T23:30:00+05:30")
    assert clock.now() - datetime(2031, 2, 28, 18, 0, tzinfo=UTC) < timedelta(seconds=1)
    assert clock.today() == date(2031, 2, 28)


def test_readings_of_a_frozen_clock_keep_their_order(monkeypatch):
    monkeypatch.setenv("DUES_NOW", "2031-02-28T23:59:59+05:30")
    first, second = clock.now(), clock.now()
    assert first < second < first + timedelta(milliseconds=1)
    assert clock.today() == date(2031, 2, 28)


def test_today_is_the_date_in_the_desks_time_zone_not_utc(monkeypatch, settings):
    settings.TIME_ZONE = "Asia/Kolkata"
    monkeypatch.setenv("DUES_NOW", "2031-02-28T20:00:00+00:00")  # 01:30 on 1 March in Kolkata
    assert clock.today() == date(2031, 3, 1)
    settings.TIME_ZONE = "America/New_York"
    assert clock.today() == date(2031, 2, 28)


def test_a_bare_date_is_noon_and_a_naive_time_is_local(monkeypatch, settings):
    settings.TIME_ZONE = "Asia/Kolkata"
    monkeypatch.setenv("DUES_NOW", "2031-03-31")
    assert clock.frozen("2031-03-31") == datetime(2031, 3, 31, 12, 0, tzinfo=KOLKATA)
    monkeypatch.setenv("DUES_NOW", "2031-03-31T23:59:00")
    assert clock.today() == date(2031, 3, 31)


def test_a_malformed_value_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("DUES_NOW", "31-03-2031")
    with pytest.raises(clock.ClockError, match=r"DUES_NOW='31-03-2031' is not an ISO date"):
        clock.now()


def test_every_test_runs_on_the_frozen_clock(frozen_clock):
    assert frozen_clock < clock.now() < frozen_clock + timedelta(seconds=1)


def test_nothing_but_dues_clock_reads_the_real_clock():
    """Product code asks dues.clock for today; no test reads the wall clock (so none depends on the day)."""
    offenders = []
    for folder in ("src/dues", "tests", "bench"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path.name == "clock.py" or path == Path(__file__).resolve() or "migrations" in path.parts:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if READS_THE_CLOCK.search(line.split("#")[0]):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "read the time through dues.clock:\n" + "\n".join(offenders)
