"""On PostgreSQL the database itself refuses to change or delete timeline entries.

The one change allowed is the one deleting a user makes: ``actor`` set to NULL with every other
column unchanged (the entry keeps what happened, without the account).
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION cases_timelineentry_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.actor_id IS NULL AND OLD.actor_id IS NOT NULL
       AND (NEW.id, NEW.case_id, NEW.kind, NEW.is_public, NEW.body, NEW.data::text,
            NEW.created_at)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.case_id, OLD.kind, OLD.is_public, OLD.body, OLD.data::text,
            OLD.created_at) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'cases_timelineentry is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER cases_timelineentry_append_only
    BEFORE UPDATE OR DELETE ON cases_timelineentry
    FOR EACH ROW EXECUTE FUNCTION cases_timelineentry_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS cases_timelineentry_append_only ON cases_timelineentry;
DROP FUNCTION IF EXISTS cases_timelineentry_append_only();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
