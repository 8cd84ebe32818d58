"""Database helpers shared by the wings."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ImproperlyConfigured
from django.db import connections, models
from django.db.models import Value
from django.db.models.sql.subqueries import InsertQuery


class RowInsert:
    """``INSERT … RETURNING id`` of one row of ``model``, compiled by Django once per
    database and process, then executed with each row's values.

    For the site's busiest single-row writes, where compiling the statement cost more than
    running it (the QR rating: bench/README.md). The statement is Django's own, for every
    concrete field (or those of ``fields``), and each value is prepared as ``Model.save``
    prepares it (``Field.pre_save``, ``Field.get_db_prep_save``); what ``save`` adds and this
    does not is the ``pre_save``/``post_save`` signals, so it is only for models nothing
    listens to that way (``tests/feedback/test_fast_rating.py`` holds a row written here
    equal to one that ``save`` wrote). Errors are Django's (an ``IntegrityError`` for a
    broken constraint).

    ``fields`` names the columns to write, when a row of this kind leaves the others as the
    database would fill them: each left out must be NULL by default or have a constant
    ``db_default`` equal to its default (checked here), and the caller's instance must still
    hold that default. Fewer columns are fewer values to prepare, send and parse on the busiest
    insert.
    """

    def __init__(self, model: type[models.Model], *, fields: Sequence[str] | None = None):
        self.model = model
        meta = model._meta
        every = [field for field in meta.local_concrete_fields if field is not meta.auto_field]
        if fields is None:
            self.fields = every
        else:
            self.fields = [meta.get_field(name) for name in fields]
            left = [
                field.name
                for field in every
                if field not in self.fields and not self._filled_alike(field)
            ]
            if left:
                raise ImproperlyConfigured(
                    f"{meta.label}: a row written without {', '.join(left)} needs their "
                    "values, or a db_default equal to the default (None where nullable)"
                )
        self._statements: dict[str, tuple[str, list[models.Field]]] = {}

    @staticmethod
    def _filled_alike(field: models.Field) -> bool:
        """Whether the database fills ``field`` with what a new instance holds: its
        ``db_default``, a constant equal to its default; or NULL, for a nullable field without
        one."""
        if field.has_db_default():
            default = field.db_default
            if isinstance(default, Value):
                default = default.value
            elif hasattr(default, "resolve_expression"):  # Now() and the like: not a constant
                return False
            return field.get_default() == default
        return field.null and field.get_default() is None

    def _statement(self, using: str) -> tuple[str, list[models.Field]]:
        statement = self._statements.get(using)
        if statement is None:
            meta = self.model._meta
            fields = self.fields
            query = InsertQuery(self.model)
            # Compiled with a placeholder row: only the SQL is kept, never these values.
            query.insert_values(fields, [self.model()])
            compiler = query.get_compiler(using=using)
            compiler.returning_fields = [meta.pk]
            [(sql, _params)] = compiler.as_sql()
            statement = self._statements[using] = (sql, fields)
        return statement

    @staticmethod
    def _cursor(connection):
        """A cursor that binds the values on the server (Django's binds them into the SQL
        text), so that psycopg prepares the statement once it has run a few times on the
        connection. The threshold is the database OPTIONS' ``prepare_threshold``, which
        ``governance.env`` sets from ``DATABASE_PREPARE_THRESHOLD``: Django's own default is
        None, which prepares nothing (and is what a PgBouncer in transaction mode older than
        1.21 needs). Wrapped as Django wraps its own: errors are Django's, and the query is
        logged where queries are."""
        if connection.vendor != "postgresql":
            return connection.cursor()
        import psycopg

        connection.close_if_health_check_failed()
        connection.ensure_connection()
        with connection.wrap_database_errors:
            return connection._prepare_cursor(psycopg.Cursor(connection.connection))

    def __call__(self, obj: models.Model, *, using: str = "default") -> models.Model:
        """Insert ``obj`` (a new instance), set its primary key and mark it saved."""
        connection = connections[using]
        sql, fields = self._statement(using)
        params = [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields]
        with self._cursor(connection) as cursor:
            cursor.execute(sql, params)
            obj.pk = cursor.fetchone()[0]
        obj._state.adding = False
        obj._state.db = using
        return obj
