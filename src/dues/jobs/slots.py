"""When a schedule is due: its latest slot at or before an instant, its next slot after it, and the
slot's run key (one per period, so editing a schedule's hour never runs the same period twice).

Pure functions of a schedule's fields and an instant; times are read in the desk's time zone.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .models import DAILY, HOURLY, MONTHLY, WEEKLY


def _month_day(year: int, month: int, day: int) -> date:
    last = calendar.monthrange(year, month)[1]
    return date(year, month, last if day == -1 else min(max(day, 1), last))


def _at(d: date, hour: int, minute: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(d, time(hour % 24, minute % 60), tzinfo=zone)


def last_slot(every: str, hour: int, minute: int, weekday: int, day: int, moment: datetime,
              zone: ZoneInfo) -> datetime:
    """The latest slot at or before ``moment``."""
    local = moment.astimezone(zone)
    if every == HOURLY:
        slot = local.replace(minute=minute % 60, second=0, microsecond=0)
        return slot if slot <= local else slot - timedelta(hours=1)
    if every == DAILY:
        slot = _at(local.date(), hour, minute, zone)
        return slot if slot <= local else _at(local.date() - timedelta(days=1), hour, minute, zone)
    if every == WEEKLY:
        d = local.date() - timedelta(days=(local.weekday() - weekday) % 7)
        slot = _at(d, hour, minute, zone)
        return slot if slot <= local else _at(d - timedelta(days=7), hour, minute, zone)
    if every == MONTHLY:
        slot = _at(_month_day(local.year, local.month, day), hour, minute, zone)
        if slot <= local:
            return slot
        year, month = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
        return _at(_month_day(year, month, day), hour, minute, zone)
    raise ValueError(f"unknown frequency {every!r}")


def next_slot(every: str, hour: int, minute: int, weekday: int, day: int, moment: datetime,
              zone: ZoneInfo) -> datetime:
    """The first slot after ``moment``."""
    step = {HOURLY: timedelta(hours=1), DAILY: timedelta(days=1), WEEKLY: timedelta(days=7)}.get(every)
    last = last_slot(every, hour, minute, weekday, day, moment, zone)
    if step is not None:
        return (last.replace(tzinfo=None) + step).replace(tzinfo=zone) if every != HOURLY else last + step
    year, month = (last.year, last.month + 1) if last.month < 12 else (last.year + 1, 1)
    return _at(_month_day(year, month, day), hour, minute, zone)


def period_key(every: str, slot: datetime) -> str:
    """The period a slot stands for: 2026-12-06T10 (hourly), 2026-12-06, 2026-W49, 2026-12."""
    if every == HOURLY:
        return slot.strftime("%Y-%m-%dT%H")
    if every == DAILY:
        return slot.date().isoformat()
    if every == WEEKLY:
        year, week, _ = slot.isocalendar()
        return f"{year}-W{week:02d}"
    return slot.strftime("%Y-%m")
