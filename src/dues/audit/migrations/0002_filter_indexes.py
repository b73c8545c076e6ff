"""Indexes for the audit log viewer on a long log: filter by actor or action, newest first, and list the
actors, actions and object types for its menus (a skip scan of an index, not a scan of the log).

The audit tables are created by SQL in 0001 (unmanaged models), so are their indexes; the same
statements work on SQLite and PostgreSQL.
"""

from django.db import migrations

INDEXES = [
    ("audit_record_actor", "(actor, seq)"),
    ("audit_record_action", "(action, seq)"),
]


class Migration(migrations.Migration):

    dependencies = [("audit", "0001_initial")]

    operations = [
        migrations.RunSQL(f"CREATE INDEX IF NOT EXISTS {name} ON audit_record {columns}",
                          f"DROP INDEX IF EXISTS {name}")
        for name, columns in INDEXES
    ]
