"""Drop six single-column foreign-key indexes that composite indexes already serve.

Each of them starts another index (``document_number_unique`` and ``(company, date)`` for documents,
``(company, customer, side)`` for open items, ``(company, date)`` for journal entries, and the
``(…, effective_date)`` indexes for allocations), so no query loses a plan, while every row an import
writes pays for one index fewer per table. The state changes with ``AlterField``; the database only drops
the index, by the name Django gave it (the same on SQLite and PostgreSQL): on SQLite an ``AlterField``
would copy the whole table and lose the raw-SQL covering index of 0002.
"""

import django.db.models.deletion
from django.db import migrations, models

INDEXES = [  # (index, table, column)
    ("ledger_allocation_company_id_bed2fd34", "ledger_allocation", "company_id"),
    ("ledger_allocation_credit_item_id_c43cc8f2", "ledger_allocation", "credit_item_id"),
    ("ledger_allocation_debit_item_id_23d21fd5", "ledger_allocation", "debit_item_id"),
    ("ledger_document_company_id_358d3c6a", "ledger_document", "company_id"),
    ("ledger_journalentry_company_id_c3d68b22", "ledger_journalentry", "company_id"),
    ("ledger_openitem_company_id_33794d55", "ledger_openitem", "company_id"),
]


class Migration(migrations.Migration):

    dependencies = [
        ('companies', '0003_company_interest_gst'),
        ('ledger', '0004_search_indexes'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(f'DROP INDEX IF EXISTS "{name}"', f'CREATE INDEX "{name}" ON "{table}" ("{column}")')
                for name, table, column in INDEXES
            ],
            state_operations=[
                migrations.AlterField(
                    model_name='allocation',
                    name='company',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='allocations', to='companies.company'),
                ),
                migrations.AlterField(
                    model_name='allocation',
                    name='credit_item',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='credit_allocations', to='ledger.openitem'),
                ),
                migrations.AlterField(
                    model_name='allocation',
                    name='debit_item',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='debit_allocations', to='ledger.openitem'),
                ),
                migrations.AlterField(
                    model_name='document',
                    name='company',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='documents', to='companies.company'),
                ),
                migrations.AlterField(
                    model_name='journalentry',
                    name='company',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='journal_entries', to='companies.company'),
                ),
                migrations.AlterField(
                    model_name='openitem',
                    name='company',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='open_items', to='companies.company'),
                ),
            ],
        ),
    ]
