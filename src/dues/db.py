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
from operator import attrgetter

from django.db import connection
from django.db.models import Field, Model
from django.db.models.base import ModelState


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
                           _sqlite_rows(rows))


def _sqlite_rows(rows: list[Sequence[object]]) -> list[tuple] | list[Sequence[object]]:
    """Rows as SQLite takes them. Decimals and dates go through the adapters Django registers with
    sqlite3 (``str``, ``isoformat``), in C, so only columns holding datetimes are converted here (to
    naive UTC, as Django stores them): one pass over the columns instead of a call per value."""
    columns = list(zip(*rows, strict=True))
    timed = [datetime in set(map(type, col)) for col in columns]
    if not any(timed):
        return rows
    return list(zip(*([_sqlite_value(v) for v in col] if has else col for col, has in zip(columns, timed, strict=True)),
                    strict=True))


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
    row = attrgetter(*(f.attname for f in fields))  # one C call per instance, in column order
    insert_rows(model._meta.db_table, [f.column for f in fields], [row(obj) for obj in instances])


class _Plan:
    """How ``build`` fills one model: defaults worked out once, defaults to call, foreign keys by name."""

    def __init__(self, model: type[Model]):
        fields = model._meta.concrete_fields
        self.called: list[Field] = [f for f in fields if f.has_default() and callable(f.default)]
        self.constant = {f.attname: f.get_default() for f in fields if f not in self.called}
        self.related = {f.name: f for f in fields if f.is_relation}
        self.names = {f.attname for f in fields} | set(self.related) | {"pk"}


_plans: dict[type[Model], _Plan] = {}


def build(model: type[Model], /, **values: object) -> Model:
    """An unsaved ``model`` instance, as ``model(**values)`` makes it, without ``Model.__init__``'s
    per-field descriptor work: the posting path builds tens of thousands of them. A related object
    given by name (``customer=c``) sets ``customer_id`` and the cache, so ``obj.customer`` reads no row.
    Fields not given take their defaults, as ``Model.__init__`` gives them."""
    plan = _plans.get(model) or _plans.setdefault(model, _Plan(model))
    unknown = values.keys() - plan.names
    if unknown:
        raise TypeError(f"{model.__name__} has no field {', '.join(sorted(unknown))}")
    obj = model.__new__(model)
    state = obj._state = ModelState()
    attrs = obj.__dict__
    attrs.update(plan.constant)
    for f in plan.called:
        attrs[f.attname] = f.get_default()
    for name, value in values.items():
        fk = plan.related.get(name)
        if fk is not None:
            attrs[fk.attname] = None if value is None else value.pk
            state.fields_cache[name] = value
        elif name == "pk":
            attrs[model._meta.pk.attname] = value
        else:
            attrs[name] = value
    return obj


def link(obj: Model, name: str, target: Model | None) -> None:
    """``obj.<name> = target`` for a foreign key, without the descriptor's checks (bulk path)."""
    field = obj._meta.get_field(name)
    obj.__dict__[field.attname] = None if target is None else target.pk
    obj._state.fields_cache[name] = target
