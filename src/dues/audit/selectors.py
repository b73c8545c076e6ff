"""Reading the audit log."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from .models import AuditRecord


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_records(*, object_type: str = "", object_id: str = "", actor: str = "", action: str = "",
                  date_from: date | None = None, date_to: date | None = None,
                  limit: int | None = None) -> QuerySet:
    """Records newest first, narrowed by object, actor, action and the local dates [date_from, date_to]."""
    qs = AuditRecord.objects.order_by("-seq")
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    if actor:
        qs = qs.filter(actor=actor)
    if action:
        qs = qs.filter(action=action)
    if date_from:
        qs = qs.filter(at__gte=_start_of(date_from))
    if date_to:
        qs = qs.filter(at__lt=_start_of(date_to + timedelta(days=1)))
    return qs[:limit] if limit else qs


def audit_choices() -> dict[str, list[str]]:
    """The actors, actions and object types the log holds, for the viewer's filter menus.

    Each is a skip scan of the column's index (one lookup per distinct value, a handful), not a
    DISTINCT over the whole log: the same list, in the same order, in milliseconds on a long log.
    """
    from django.db import connection

    def distinct(column: str) -> list[str]:
        sql = f"""WITH RECURSIVE v(x) AS (
                      SELECT MIN({column}) FROM audit_record
                      UNION ALL
                      SELECT (SELECT MIN({column}) FROM audit_record WHERE {column} > v.x) FROM v WHERE v.x IS NOT NULL)
                  SELECT x FROM v WHERE x IS NOT NULL"""
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return [row[0] for row in cursor.fetchall()]

    return {"actors": distinct("actor"), "actions": distinct("action"), "object_types": distinct("object_type")}


def audit_length() -> int:
    """How many records the log holds: the head's sequence number (records are numbered 1, 2, 3 ... as
    they are appended and never removed), without counting a long log row by row."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT seq FROM audit_head WHERE id = 1")
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def audit_head_version() -> str:
    """The latest audit record's number and hash: it moves with every change to the books, so it versions caches."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT seq, hash FROM audit_head WHERE id = 1")
        row = cursor.fetchone()
    return f"{row[0]}:{row[1]}" if row else "0:"
