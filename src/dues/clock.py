"""The one place dues asks what time and what day it is.

Every "today" of the desk (the default as-of date of a report, the day a promise is judged, the date
a correction is posted on, the moment an activity or audit record is stamped) comes from here.

``DUES_NOW`` freezes the clock: an ISO date-time with its offset (``2031-02-28T23:30:00+05:30``) or a
date (``2031-02-28``, meaning noon of that day in the desk's time zone). The test suite sets it for
every test, and the ``dues`` command run as a subprocess inherits it, so no test depends on the day
it runs; an operator can set it to replay a day's batch run. Each reading of a frozen clock is one
microsecond after the one before (in a process), so records stamped one after another keep their order
while "today" stays put (a million readings make one second).

"Today" is the date in the desk's time zone (``DUES_TIME_ZONE``, Django's ``TIME_ZONE``), not UTC:
at 23:30 in Kolkata it is already tomorrow in UTC terms only at 05:30.
"""

from __future__ import annotations

import itertools
import os
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

ENV = "DUES_NOW"
_readings = itertools.count()


class ClockError(ValueError):
    pass


def _zone() -> ZoneInfo:
    try:
        from django.conf import settings

        return ZoneInfo(settings.TIME_ZONE)
    except Exception:  # Django not configured (pure callers): the same default as settings.py
        return ZoneInfo(os.environ.get("DUES_TIME_ZONE", "Asia/Kolkata"))


def frozen(text: str, zone: ZoneInfo | None = None) -> datetime:
    """The instant ``DUES_NOW`` names; a naive date-time or a bare date is read in the desk's time zone."""
    text = text.strip()
    zone = zone or _zone()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(12, 0), tzinfo=zone)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ClockError(f"{ENV}={text!r} is not an ISO date or date-time (e.g. 2031-02-28T23:30:00+05:30)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def now() -> datetime:
    """This instant, timezone-aware (UTC unless frozen with an offset)."""
    text = os.environ.get(ENV, "")
    if text.strip():
        return frozen(text) + timedelta(microseconds=next(_readings))
    return datetime.now(UTC)


def today() -> date:
    """Today's date in the desk's time zone."""
    zone = _zone()
    return now().astimezone(zone).date()
