"""Indexes for the web desk on a large book (issue 3: every page under 200 ms at 100,000 customers).

Plain SQL, the same on SQLite and PostgreSQL, kept out of the models' state (they are read paths only):

- ``open_item_open_cover``: the items with something left, covering what ageing, balances and the list
  totals read (side, customer, due date, date, residual, document). Its predicate is written exactly as
  the ORM writes ``residual__gt=0`` (``"residual" > '0'``): SQLite uses a partial index only for a query
  whose WHERE repeats the index's predicate term for term.
- ``allocation_effective_cover``: the allocations effective after a date with both items and the amount
  (the "added back" part of ageing as of a past date) without reading the table.
- ``document_date_cover``: a list's page newest first and its count and amount (kind, side, status, amount)
  from the index alone (date first, so the page walks it in order rather than sorting a kind's rows).
"""

from django.db import migrations

INDEXES = [
    ("open_item_open_cover", "ledger_openitem",
     "(company_id, side, customer_id, due_date, date, residual, document_id) WHERE residual > '0'"),
    ("allocation_effective_cover", "ledger_allocation",
     "(company_id, effective_date, debit_item_id, credit_item_id, amount)"),
    ("document_date_cover", "ledger_document",
     "(company_id, date, number, kind, side, status, amount, customer_id)"),
]


class Migration(migrations.Migration):

    dependencies = [("ledger", "0001_initial")]

    operations = [
        migrations.RunSQL(f"CREATE INDEX IF NOT EXISTS {name} ON {table} {columns}",
                          f"DROP INDEX IF EXISTS {name}")
        for name, table, columns in INDEXES
    ]
