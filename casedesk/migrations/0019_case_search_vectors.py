"""Full-text search (casedesk.search): two vector columns on PostgreSQL, filled for every
existing case, with a GIN index each. The model does not declare them (see casedesk.search),
and SQLite has none: it searches the columns themselves."""

from django.db import migrations

# The vectors as casedesk.search computes them, frozen here as of this migration.
FILL = """
UPDATE casedesk_case AS c SET search_shared = v.shared, search_full = v.shared || v.rest
FROM (
    SELECT c2.id,
        setweight(to_tsvector('english', coalesce(c2.reference, '') || ' ' || c2.subject), 'A')
            AS shared,
        setweight(to_tsvector('english', left(client.name || ' ' || coalesce((
            SELECT string_agg(contact.name, ' ') FROM casedesk_clientcontact AS contact
            WHERE contact.client_id = c2.client_id), ''), 20000)), 'B')
        || setweight(to_tsvector('english', left(c2.description, 60000)), 'C')
        || setweight(to_tsvector('english', coalesce((
            SELECT left(string_agg(event.reason, ' ' ORDER BY event.id DESC), 120000)
            FROM casedesk_caseevent AS event
            WHERE event.case_id = c2.id AND event.client_visible
                AND event.kind IN ('message', 'waiting_on_client', 'feedback')
        ), '')), 'D') AS rest
    FROM casedesk_case AS c2 JOIN casedesk_client AS client ON client.id = c2.client_id
) AS v
WHERE c.id = v.id
"""

FORWARDS = [
    "ALTER TABLE casedesk_case ADD COLUMN search_shared tsvector, ADD COLUMN search_full tsvector",
    FILL,
    "CREATE INDEX case_search_shared_idx ON casedesk_case USING gin (search_shared)",
    "CREATE INDEX case_search_full_idx ON casedesk_case USING gin (search_full)",
]
BACKWARDS = [
    "DROP INDEX case_search_full_idx",
    "DROP INDEX case_search_shared_idx",
    "ALTER TABLE casedesk_case DROP COLUMN search_full, DROP COLUMN search_shared",
]


def run(statements):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return operation


class Migration(migrations.Migration):
    dependencies = [
        ("casedesk", "0018_queue_keyset_indexes"),
    ]

    operations = [migrations.RunPython(run(FORWARDS), run(BACKWARDS), elidable=False)]
