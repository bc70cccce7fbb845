"""The database itself refuses to change or remove timeline events.

PostgreSQL refuses UPDATE and DELETE (test flushes use TRUNCATE, which row triggers do not
see). SQLite refuses UPDATE only, since its test flushes use DELETE.
"""

from django.db import migrations

POSTGRES_FORWARD = """
CREATE FUNCTION casedesk_caseevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'case events are append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER casedesk_caseevent_append_only
    BEFORE UPDATE OR DELETE ON casedesk_caseevent
    FOR EACH ROW EXECUTE FUNCTION casedesk_caseevent_append_only();
"""
POSTGRES_BACKWARD = """
DROP TRIGGER casedesk_caseevent_append_only ON casedesk_caseevent;
DROP FUNCTION casedesk_caseevent_append_only();
"""
SQLITE_FORWARD = """
CREATE TRIGGER casedesk_caseevent_append_only BEFORE UPDATE ON casedesk_caseevent
BEGIN SELECT RAISE(ABORT, 'case events are append-only'); END;
"""
SQLITE_BACKWARD = "DROP TRIGGER casedesk_caseevent_append_only;"

SQL = {
    "postgresql": (POSTGRES_FORWARD, POSTGRES_BACKWARD),
    "sqlite": (SQLITE_FORWARD, SQLITE_BACKWARD),
}


def forward(apps, schema_editor):
    statements = SQL.get(schema_editor.connection.vendor)
    if statements:
        schema_editor.execute(statements[0])


def backward(apps, schema_editor):
    statements = SQL.get(schema_editor.connection.vendor)
    if statements:
        schema_editor.execute(statements[1])


class Migration(migrations.Migration):
    dependencies = [("casedesk", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
