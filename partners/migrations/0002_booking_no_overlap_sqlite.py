"""SQLite has no exclusion constraints: there, triggers refuse what
``partners_booking_no_overlap`` refuses on PostgreSQL, an approved booking of a resource that
overlaps another approved booking of it. SQLite drops a table's triggers when Django remakes
the table (an ``AlterField`` on ``Booking``): a later migration that does so must run these
again."""

from django.db import migrations

CHECK = """
CREATE TRIGGER IF NOT EXISTS partners_booking_no_overlap_{event}
BEFORE {event} ON partners_booking
WHEN NEW.status = 'approved' AND EXISTS (
    SELECT 1 FROM partners_booking AS other
    WHERE other.resource_id = NEW.resource_id
      AND other.status = 'approved'
      AND other.id IS NOT NEW.id
      AND other.starts_at < NEW.ends_at
      AND other.ends_at > NEW.starts_at
)
BEGIN
    SELECT RAISE(ABORT, 'partners_booking_no_overlap');
END
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for event in ("INSERT", "UPDATE"):
            schema_editor.execute(CHECK.format(event=event), params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for event in ("INSERT", "UPDATE"):
            schema_editor.execute(
                f"DROP TRIGGER IF EXISTS partners_booking_no_overlap_{event}", params=None
            )


class Migration(migrations.Migration):
    dependencies = [("partners", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
