"""Fast writes for the posting path: reserved ids, multi-row inserts, keyed updates.

Django's ``bulk_create`` spends most of its time building model instances and SQL per value; an
import of 20,000 invoices writes some 150,000 rows. Here rows are plain tuples written with one
prepared statement (SQLite ``executemany``) or ``COPY`` (PostgreSQL), and ids are reserved up front
so that rows can refer to each other before they are written. Callers are inside a transaction:
on SQLite it holds the write lock from BEGIN (immediate mode), so reserving ``MAX(id)+1..`` is safe;
on PostgreSQL ids come from the table's own sequence.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

from django.db import connection


def reserve_ids(table: str, count: int) -> list[int]:
    """``count`` fresh primary keys for ``table`` (which must have an ``id`` column)."""
    if count <= 0:
        return []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                           [table, count])
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')  # noqa: S608 - table names are ours
        start = cursor.fetchone()[0] + 1
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        if row and row[0] >= start:  # AUTOINCREMENT never reuses ids of deleted rows
            start = row[0] + 1
        return list(range(start, start + count))


def _sqlite_value(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return value


def insert_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Insert ``rows`` (tuples in ``columns`` order) into ``table``."""
    rows = list(rows)
    if not rows:
        return
    cols = ", ".join(f'"{c}"' for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join(["%s"] * len(columns))
        cursor.executemany(f'INSERT INTO "{table}" ({cols}) VALUES ({marks})',  # noqa: S608
                           [tuple(_sqlite_value(v) for v in row) for row in rows])


def update_column(table: str, column: str, pairs: Iterable[tuple[object, int]]) -> None:
    """``UPDATE table SET column = value WHERE id = id`` for each ``(value, id)``."""
    pairs = list(pairs)
    if not pairs:
        return
    convert = (lambda v: v) if connection.vendor == "postgresql" else _sqlite_value
    with connection.cursor() as cursor:
        cursor.executemany(f'UPDATE "{table}" SET "{column}" = %s WHERE id = %s',  # noqa: S608
                           [(convert(v), pk) for v, pk in pairs])


def model_rows(instances: Iterable[object], fields: Sequence[str]) -> list[tuple]:
    """Tuples of the given attribute names (use ``*_id`` names for foreign keys)."""
    return [tuple(getattr(obj, f) for f in fields) for obj in instances]


def insert_instances(model: type, instances: Sequence[object]) -> None:
    """Insert unsaved model instances whose primary keys (and auto timestamps) are already set."""
    fields = list(model._meta.concrete_fields)
    insert_rows(model._meta.db_table, [f.column for f in fields],
                [tuple(getattr(obj, f.attname) for f in fields) for obj in instances])
