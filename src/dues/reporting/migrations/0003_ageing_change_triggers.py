"""Triggers that keep the ageing summary exact: every change to an open item or an allocation writes the
customers it touches to ``reporting_ageingchange`` in the same transaction, when the company has a summary
(``dues.reporting.summary``). In the database rather than in the posting code so that no path (an import's
bulk insert, a reversal, a Tally sync, a raw repair) can change a residual without it.

SQLite has row triggers only; PostgreSQL's are statement triggers over the transition tables, so a bulk
insert of 20,000 items writes its customers in one statement. ``dues.reporting.summary.triggers_present``
checks they are there before a summary is trusted (a table rebuilt by a later SQLite migration loses its
triggers); ``tests/integration/test_indexes.py`` checks them after the migrations.
"""

from django.db import migrations

HAS_SUMMARY = "EXISTS (SELECT 1 FROM reporting_ageingsnapshot s WHERE s.company_id = {row}.company_id)"
CHANGE = "INSERT INTO reporting_ageingchange (company_id, customer_id)"
ITEM_COLUMNS = "residual, amount, side, date, due_date, customer_id, company_id"
ALLOCATION_COLUMNS = "amount, effective_date, debit_item_id, credit_item_id, company_id"
ALLOCATED = ("SELECT oi.company_id, oi.customer_id FROM ledger_openitem oi "
             "WHERE oi.id IN ({row}.debit_item_id, {row}.credit_item_id) AND " + HAS_SUMMARY.format(row="oi"))

SQLITE = [
    f"""CREATE TRIGGER dues_ageing_item_insert AFTER INSERT ON ledger_openitem WHEN {HAS_SUMMARY.format(row="NEW")}
        BEGIN {CHANGE} VALUES (NEW.company_id, NEW.customer_id); END""",
    f"""CREATE TRIGGER dues_ageing_item_update AFTER UPDATE OF {ITEM_COLUMNS} ON ledger_openitem
        BEGIN
            {CHANGE} SELECT NEW.company_id, NEW.customer_id WHERE {HAS_SUMMARY.format(row="NEW")};
            {CHANGE} SELECT OLD.company_id, OLD.customer_id
             WHERE (OLD.customer_id <> NEW.customer_id OR OLD.company_id <> NEW.company_id)
               AND {HAS_SUMMARY.format(row="OLD")};
        END""",
    f"""CREATE TRIGGER dues_ageing_item_delete AFTER DELETE ON ledger_openitem WHEN {HAS_SUMMARY.format(row="OLD")}
        BEGIN {CHANGE} VALUES (OLD.company_id, OLD.customer_id); END""",
    f"""CREATE TRIGGER dues_ageing_allocation_insert AFTER INSERT ON ledger_allocation
        BEGIN {CHANGE} {ALLOCATED.format(row="NEW")}; END""",
    f"""CREATE TRIGGER dues_ageing_allocation_update AFTER UPDATE OF {ALLOCATION_COLUMNS} ON ledger_allocation
        BEGIN {CHANGE} {ALLOCATED.format(row="NEW")}; {CHANGE} {ALLOCATED.format(row="OLD")}; END""",
    f"""CREATE TRIGGER dues_ageing_allocation_delete AFTER DELETE ON ledger_allocation
        BEGIN {CHANGE} {ALLOCATED.format(row="OLD")}; END""",
]

_PG_ROWS = {  # the customers a statement touched, from its transition tables
    "ledger_openitem": {"INSERT": ["new_rows"], "UPDATE": ["new_rows", "old_rows"], "DELETE": ["old_rows"]},
    "ledger_allocation": {"INSERT": ["new_rows"], "UPDATE": ["new_rows", "old_rows"], "DELETE": ["old_rows"]},
}


def _pg_select(table: str, relation: str) -> str:
    if table == "ledger_openitem":
        return f"SELECT company_id, customer_id FROM {relation}"
    return (f"SELECT oi.company_id, oi.customer_id FROM ledger_openitem oi JOIN (SELECT debit_item_id AS id FROM "
            f"{relation} UNION SELECT credit_item_id FROM {relation}) moved ON moved.id = oi.id")


def _pg_statements() -> list[str]:
    statements = []
    for table, operations in _PG_ROWS.items():
        short = "item" if table == "ledger_openitem" else "allocation"
        for operation, relations in operations.items():
            name = f"dues_ageing_{short}_{operation.lower()}"
            touched = " UNION ".join(_pg_select(table, relation) for relation in relations)
            statements.append(f"""CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    {CHANGE} SELECT DISTINCT t.company_id, t.customer_id FROM ({touched}) t
                      JOIN reporting_ageingsnapshot s ON s.company_id = t.company_id
                     ORDER BY t.company_id, t.customer_id;
                    RETURN NULL;
                END $$""")
            referencing = " ".join(f"{'NEW' if r == 'new_rows' else 'OLD'} TABLE AS {r}" for r in relations)
            statements.append(f"""CREATE TRIGGER {name} AFTER {operation} ON {table} REFERENCING {referencing}
                FOR EACH STATEMENT EXECUTE FUNCTION {name}()""")
    return statements


def _names() -> list[tuple[str, str]]:
    return [(f"dues_ageing_{'item' if table == 'ledger_openitem' else 'allocation'}_{op.lower()}", table)
            for table, operations in _PG_ROWS.items() for op in operations]


def create(apps, schema_editor):
    statements = SQLITE if schema_editor.connection.vendor == "sqlite" else _pg_statements()
    for sql in statements:
        schema_editor.execute(sql)


def drop(apps, schema_editor):
    for name, table in _names():
        if schema_editor.connection.vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
        else:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {name}()")


class Migration(migrations.Migration):

    dependencies = [
        ("reporting", "0002_ageing_snapshot"),
        ("ledger", "0006_restore_covering_indexes"),
    ]

    operations = [migrations.RunPython(create, drop)]
