"""Put back the covering indexes of 0002 that 0003 lost on SQLite.

On SQLite, 0003's ``AlterField`` (a new default for ``created_at``) rebuilt ``ledger_allocation`` and
``ledger_document`` from the models' state, which does not know the raw-SQL indexes of 0002, so
``allocation_effective_cover`` and ``document_date_cover`` were dropped with the old tables: ageing as of a
past date and the documents list read the tables row by row since. PostgreSQL altered the columns in place and
kept them; ``IF NOT EXISTS`` makes this a no-op there (and on any database that has them).
``tests/integration/test_indexes.py`` checks that every one of them is there after the migrations.
"""

import importlib

from django.db import migrations

INDEXES = importlib.import_module("dues.ledger.migrations.0002_list_and_ageing_indexes").INDEXES


class Migration(migrations.Migration):

    dependencies = [("ledger", "0005_redundant_indexes")]

    operations = [
        migrations.RunSQL(f"CREATE INDEX IF NOT EXISTS {name} ON {table} {columns}", migrations.RunSQL.noop)
        for name, table, columns in INDEXES
    ]
