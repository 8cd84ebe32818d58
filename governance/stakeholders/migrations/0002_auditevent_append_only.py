"""On PostgreSQL the database itself refuses to change or delete audit rows.

The one change allowed is the one deleting a user makes: ``actor`` set to NULL with every other
column unchanged (the row keeps the e-mail address in ``identifier``).
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION stakeholders_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.actor_id IS NULL AND OLD.actor_id IS NOT NULL
       AND (NEW.id, NEW.at, NEW.action, NEW.identifier, NEW.ip_address, NEW.user_agent,
            NEW.path, NEW.detail::text)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.at, OLD.action, OLD.identifier, OLD.ip_address, OLD.user_agent,
            OLD.path, OLD.detail::text) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'stakeholders_auditevent is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER stakeholders_auditevent_append_only
    BEFORE UPDATE OR DELETE ON stakeholders_auditevent
    FOR EACH ROW EXECUTE FUNCTION stakeholders_auditevent_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS stakeholders_auditevent_append_only ON stakeholders_auditevent;
DROP FUNCTION IF EXISTS stakeholders_auditevent_append_only();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("stakeholders", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
