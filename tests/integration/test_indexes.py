"""The raw-SQL covering indexes of the ledger (migration 0002) survive every later migration, on either database.

They are outside the models' state, so a migration that makes SQLite rebuild a table (an ``AlterField``) drops
them silently: 0003 did, and ageing as of a past date and the documents list read whole tables for it. The
reports force the open items' and the allocations' covering indexes on SQLite (``INDEXED BY``), so a lost one
is an error, not a slow page; this test finds it first.
"""

from __future__ import annotations

import importlib

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

INDEXES = importlib.import_module("dues.ledger.migrations.0002_list_and_ageing_indexes").INDEXES


@pytest.mark.parametrize(("name", "table"), [(name, table) for name, table, _columns in INDEXES])
def test_the_covering_index_is_there_after_every_migration(name, table):
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    assert name in constraints and constraints[name]["index"], f"{name} on {table} is missing"


def test_the_ageing_query_reads_the_covering_indexes_on_sqlite(company):
    if connection.vendor != "sqlite":
        pytest.skip("INDEXED BY and EXPLAIN QUERY PLAN are SQLite's")
    from datetime import date

    from dues.reporting.selectors import _ageing_sums

    sql, args, _buckets = _ageing_sums(date(2026, 3, 31), company.pk, None, (30, 60, 90, 120), "due")
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql.replace("%s", "?"), args)
        plan = " | ".join(str(row[-1]) for row in cursor.fetchall())
    assert "COVERING INDEX open_item_open_cover" in plan and "COVERING INDEX allocation_effective_cover" in plan, plan


def test_the_ageing_summary_triggers_are_there_after_every_migration():
    """Triggers, like these indexes, go with a table SQLite rebuilds; the summary is then not used (its reads
    check too), but a migration that loses them must be found here and put them back."""
    from dues.reporting.summary import TRIGGERS, triggers_present

    assert len(TRIGGERS) == 6 and triggers_present()
