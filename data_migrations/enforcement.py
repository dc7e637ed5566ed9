"""Making the database refuse caseless twins: the pre-flight checks and the indexes they build.

Used by ``accounts/migrations/0003_enforce_caseless_usernames.py`` (usernames) and, for emails,
``0007_key_reservations_and_email_claims.py`` (with ``email_claims.py``).
"""

from django.core.management.base import CommandError
from django.db import IntegrityError, migrations
from django.db.migrations.operations.base import Operation
from django.db.models import Count

MAX_GROUPS_NAMED = 20


# The unique email_digest index that migration 0004 built, up to 0005, when the project set
# AUTHFOLD_UNIQUE_EMAIL_CONSTRAINT; 0007 replaces it with email_claim.
EMAIL_INDEX_NAME = "authfold_caselesskey_email_digest_unique"


class TwinsRemain(CommandError):
    """Caseless twins still exist, so the unique index cannot be built.

    A ``CommandError``, so ``manage.py migrate`` prints the message instead of a traceback.
    """


def groups_sharing_digest(user_model, key_model, using, digest_field, columns, limit):
    """Up to ``limit`` groups of users whose ``digest_field`` is equal (blank digests never are),
    each a list of ``columns`` tuples in id order."""
    digests = list(
        key_model._default_manager.using(using)
        .filter(**{f"{digest_field}__isnull": False})
        .values(digest_field)
        .annotate(users=Count("user_id"))
        .filter(users__gt=1)
        .order_by(digest_field)
        .values_list(digest_field, flat=True)[:limit]
    )
    users = user_model._default_manager.using(using)
    return [
        list(
            users.filter(**{f"caseless_key__{digest_field}": digest})
            .order_by("pk")
            .values_list(*columns)
        )
        for digest in digests
    ]


def username_digest_twins(user_model, key_model, using, limit=MAX_GROUPS_NAMED):
    """Up to ``limit`` groups of users whose username keys are equal, as lists of (id, username)."""
    return groups_sharing_digest(
        user_model, key_model, using, "username_digest", ("pk", "username"), limit
    )


def twins_message(groups):
    """What ``migrate`` prints when twins block enforcement: who, and the command that fixes it."""
    named = "; ".join(
        ", ".join(f"{username!r} (id {pk})" for pk, username in group) for group in groups
    )
    more = f" (the first {len(groups)} shown)" if len(groups) >= MAX_GROUPS_NAMED else ""
    return (
        f"Cannot make usernames caselessly unique: {len(groups)} group(s) of accounts still "
        f"share a username in some case{more}: {named}. "
        "Review them with `python manage.py conflict_audit --plan`, resolve them with "
        "`python manage.py conflict_audit --fix`, then run `migrate` again."
    )


def refuse_if_twins_remain(user_model, key_model, using):
    """Raise :class:`TwinsRemain` naming the twins, if any exist."""
    groups = username_digest_twins(user_model, key_model, using)
    if groups:
        raise TwinsRemain(twins_message(groups))


class AddUniqueConstraintConcurrently(migrations.AddConstraint):
    """``AddConstraint`` for a plain unique constraint that, on PostgreSQL, does not block writes.

    PostgreSQL builds the index with ``CREATE UNIQUE INDEX CONCURRENTLY`` and then attaches it as
    the constraint (``ADD CONSTRAINT ... USING INDEX``, a catalogue change), so Django's state and
    the database agree. Needs a non-atomic migration. Elsewhere it is Django's ``AddConstraint``.
    If the database finds twins while building, the message names them instead of a traceback.
    """

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        # As Django's own operations do: a database the project's routers keep us out of is left
        # alone (the super() path asks too; the concurrent build must ask for itself).
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        try:
            if schema_editor.connection.vendor == "postgresql":
                self.build_concurrently(model, schema_editor)
            else:
                super().database_forwards(app_label, schema_editor, from_state, to_state)
        except IntegrityError as error:
            user_model = model._meta.get_field("user").related_model
            groups = username_digest_twins(user_model, model, schema_editor.connection.alias)
            raise TwinsRemain(twins_message(groups)) from error

    def build_concurrently(self, model, schema_editor):
        quote = schema_editor.quote_name
        name = quote(self.constraint.name)
        table = quote(model._meta.db_table)
        columns = ", ".join(
            quote(model._meta.get_field(field).column) for field in self.constraint.fields
        )
        try:
            schema_editor.execute(f"CREATE UNIQUE INDEX CONCURRENTLY {name} ON {table} ({columns})")
        except IntegrityError:
            # A failed concurrent build leaves an INVALID index behind; it must not stay.
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
            raise
        schema_editor.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE USING INDEX {name}"
        )


def index_exists(schema_editor, table, name):
    """Whether ``table`` has an index or constraint called ``name``."""
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        return name in connection.introspection.get_constraints(cursor, table)


def build_unique_index(schema_editor, table, column, name):
    """A database-only unique index, without blocking writes on PostgreSQL; idempotent.

    NULLs never collide in a unique index on SQLite, PostgreSQL or MariaDB/MySQL, so blank emails
    (``email_digest`` NULL) stay allowed. On MariaDB/MySQL, InnoDB adds it online.
    """
    if index_exists(schema_editor, table, name):
        return
    quote = schema_editor.quote_name
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    try:
        schema_editor.execute(
            f"CREATE UNIQUE INDEX {concurrently}{quote(name)} ON {quote(table)} ({quote(column)})"
        )
    except IntegrityError:
        drop_unique_index(schema_editor, table, name)  # PostgreSQL leaves an INVALID index
        raise


def drop_unique_index(schema_editor, table, name):
    """Drop the index built by :func:`build_unique_index`, if it is there."""
    if not index_exists(schema_editor, table, name):
        return
    quote = schema_editor.quote_name
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {quote(name)}")
    elif vendor == "mysql":
        schema_editor.execute(f"DROP INDEX {quote(name)} ON {quote(table)}")
    else:
        schema_editor.execute(f"DROP INDEX IF EXISTS {quote(name)}")


class DropOptionalEmailIndex(Operation):
    """Migration 0004's part now: drop the unique ``email_digest`` index it built before 0007.

    Up to 0005, 0004 built that index when ``AUTHFOLD_UNIQUE_EMAIL_CONSTRAINT`` was on. Emails are
    now unique for every project through ``email_claim`` (migration 0007, which drops the old
    index on its way), so 0004 builds nothing; going back it still drops the index if an
    installation has it, so ``migrate authfold 0003`` leaves the same database on every install.
    """

    reduces_to_sql = False
    reversible = True

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        pass

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        key_model = from_state.apps.get_model(app_label, "CaselessKey")
        if self.allow_migrate_model(schema_editor.connection.alias, key_model):
            drop_unique_index(schema_editor, key_model._meta.db_table, EMAIL_INDEX_NAME)

    def describe(self):
        return "Nothing forwards (emails are unique from 0007); backwards, drop 0004's old index"
