"""Schema operations for a migration that is not one transaction (``atomic = False``).

Such a migration can be stopped between its operations (a deploy killed, a lost connection): its
earlier operations stay done, and Django, which records a migration only at its end, runs every
operation again next time. These operations find their work already done and go on, and on
PostgreSQL they build indexes without blocking writes.
"""

from django.db import migrations


def has_column(schema_editor, table, column):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        description = connection.introspection.get_table_description(cursor, table)
    return column in {row.name for row in description}


def has_index(schema_editor, table, name):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        return name in connection.introspection.get_constraints(cursor, table)


class AddFieldUnlessPresent(migrations.AddField):
    """``AddField`` that leaves a column already added by an interrupted run as it is."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return  # a database the project's routers keep us out of, as Django's own skips
        column = model._meta.get_field(self.name).column
        if has_column(schema_editor, model._meta.db_table, column):
            return
        super().database_forwards(app_label, schema_editor, from_state, to_state)


class AddIndexWithoutBlockingWrites(migrations.AddIndex):
    """``AddIndex`` built with ``CREATE INDEX CONCURRENTLY`` on PostgreSQL (writes go on meanwhile;
    needs ``atomic = False``), as Django's own elsewhere; an index already there is kept."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        table = model._meta.db_table
        if schema_editor.connection.vendor == "postgresql":
            # An interrupted concurrent build leaves an INVALID index: drop it and build again.
            name = schema_editor.quote_name(self.index.name)
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
            schema_editor.add_index(model, self.index, concurrently=True)
        elif not has_index(schema_editor, table, self.index.name):
            super().database_forwards(app_label, schema_editor, from_state, to_state)
