"""On PostgreSQL the database itself refuses to change or delete a proposal's versions.

The one change allowed is the one deleting a user makes: ``edited_by`` set to NULL with every
other column unchanged (the version keeps its text, without the account).
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION proposals_proposalversion_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.edited_by_id IS NULL AND OLD.edited_by_id IS NOT NULL
       AND (NEW.id, NEW.proposal_id, NEW.number, NEW.title, NEW.body, NEW.created_at)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.proposal_id, OLD.number, OLD.title, OLD.body, OLD.created_at) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'proposals_proposalversion is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER proposals_proposalversion_append_only
    BEFORE UPDATE OR DELETE ON proposals_proposalversion
    FOR EACH ROW EXECUTE FUNCTION proposals_proposalversion_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS proposals_proposalversion_append_only ON proposals_proposalversion;
DROP FUNCTION IF EXISTS proposals_proposalversion_append_only();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("proposals", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
