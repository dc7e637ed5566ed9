"""Making the database refuse caseless twins: the pre-flight checks and the indexes they build.

Used by ``accounts/migrations/0003_enforce_caseless_usernames.py`` (usernames) and, for emails,
``0007_key_reservations_and_email_claims.py`` (with ``email_claims.py``).
"""

from django.core.management.base import CommandError
from django.db import IntegrityError, migrations
from django.db.migrations.operations.base import Operation
from django.db.models import Count

MAX_GROUPS_NAMED = 20


USERNAME_INDEX_NAME = "authfold_caselesskey_username_digest_unique"
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
    """``AddConstraint`` for a plain unique constraint that does not block writes on PostgreSQL,
    and that can be killed at any point and then run again, or reversed.

    PostgreSQL builds the index with ``CREATE UNIQUE INDEX CONCURRENTLY`` and then attaches it as
    the constraint (``ADD CONSTRAINT ... USING INDEX``, a catalogue change), so Django's state and
    the database agree. Needs a non-atomic migration, so a kill can leave the index behind: an
    INVALID one (killed while building) is dropped and built again, a valid one (killed before
    or while the constraint waited for its lock) is attached, an attached one is kept. SQLite
    and MariaDB/MySQL build it in one statement (``CREATE UNIQUE INDEX``, and ``ADD CONSTRAINT``
    under MariaDB's atomic DDL), which a kill leaves either undone or complete; complete, it is
    kept. (Django's own ``AddConstraint`` rebuilds the whole table on SQLite, four statements a
    kill could separate outside a transaction.) If the database finds twins while building, the
    message names them instead of a traceback.
    """

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        # As Django's own operations do: a database the project's routers keep us out of is left
        # alone (the super() path asks too; the concurrent build must ask for itself).
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        try:
            self.build(model, schema_editor)
        except IntegrityError as error:
            user_model = model._meta.get_field("user").related_model
            groups = username_digest_twins(user_model, model, schema_editor.connection.alias)
            raise TwinsRemain(twins_message(groups)) from error

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        if not drop_enforcement_index(schema_editor, model._meta.db_table, self.constraint.name):
            # On SQLite, a constraint that a later table rebuild wrote into the table itself.
            super().database_backwards(app_label, schema_editor, from_state, to_state)

    def build(self, model, schema_editor):
        table = model._meta.db_table
        name = self.constraint.name
        columns = [model._meta.get_field(field).column for field in self.constraint.fields]
        state = index_state(schema_editor, table, name)
        if state == "constraint" or (
            state == "valid" and schema_editor.connection.vendor != "postgresql"
        ):
            return
        quote = schema_editor.quote_name
        if schema_editor.connection.vendor == "mysql":
            schema_editor.add_constraint(model, self.constraint)
            return
        if state == "invalid":
            drop_index(schema_editor, table, name)
        if state != "valid":
            build_unique_index(schema_editor, table, columns, name)
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(
                f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} UNIQUE USING INDEX "
                f"{quote(name)}"
            )


def index_state(schema_editor, table, name):
    """What a (possibly interrupted) build left under ``name`` on ``table``: ``None`` (nothing),
    ``"invalid"`` (PostgreSQL: a concurrent build that did not finish, ``pg_index.indisvalid``
    false), ``"valid"`` (a usable index) or ``"constraint"`` (PostgreSQL: attached as a
    constraint)."""
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            found = name in connection.introspection.get_constraints(cursor, table)
            return "valid" if found else None
        cursor.execute(
            "SELECT i.indisvalid, EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = "
            "i.indexrelid) FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
            "JOIN pg_class x ON x.oid = i.indexrelid "
            "WHERE t.relname = %s AND x.relname = %s AND pg_table_is_visible(x.oid)",
            [table, name],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    valid, attached = row
    if attached:
        return "constraint"
    return "valid" if valid else "invalid"


def execute_ddl(schema_editor, sql):
    """``schema_editor.execute``, but also inside the transaction a ``RunPython`` runs in on
    MariaDB/MySQL, where Django refuses DDL (it commits what came before; here nothing did)."""
    connection = schema_editor.connection
    if connection.in_atomic_block and not connection.features.can_rollback_ddl:
        with connection.cursor() as cursor:
            cursor.execute(sql)
    else:
        schema_editor.execute(sql)


def drop_index(schema_editor, table, name):
    """Drop the index ``name`` (not a constraint) if it is there, without blocking writes on
    PostgreSQL when outside a transaction."""
    quote = schema_editor.quote_name
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        concurrently = "" if connection.in_atomic_block else "CONCURRENTLY "
        execute_ddl(schema_editor, f"DROP INDEX {concurrently}IF EXISTS {quote(name)}")
    elif connection.vendor == "mysql":
        if index_state(schema_editor, table, name):
            execute_ddl(schema_editor, f"DROP INDEX {quote(name)} ON {quote(table)}")
    else:
        execute_ddl(schema_editor, f"DROP INDEX IF EXISTS {quote(name)}")


def drop_enforcement_index(schema_editor, table, name):
    """Drop whatever an enforcement build left under ``name``: the constraint, a valid or an
    INVALID index. Returns False only for what cannot be dropped as an index (on SQLite, a
    constraint inside the table's own definition)."""
    state = index_state(schema_editor, table, name)
    quote = schema_editor.quote_name
    if state == "constraint":
        execute_ddl(
            schema_editor, f"ALTER TABLE {quote(table)} DROP CONSTRAINT IF EXISTS {quote(name)}"
        )
    elif state is not None:
        if schema_editor.connection.vendor == "sqlite" and not sqlite_index(schema_editor, name):
            return False
        drop_index(schema_editor, table, name)
    return True


def sqlite_index(schema_editor, name):
    """Whether SQLite has ``name`` as an index of its own (which DROP INDEX can drop)."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = %s", [name])
        return cursor.fetchone() is not None


def drop_enforcement_leftovers(schema_editor, key_model):
    """Drop what an interrupted 0003 or 0004 left behind (Django never recorded them, so it never
    reverses them): the username and email indexes, whatever their state. Migration 0002 calls
    this before giving renamed twins their names back, which such a leftover would refuse."""
    table = key_model._meta.db_table
    for name in (USERNAME_INDEX_NAME, EMAIL_INDEX_NAME):
        drop_enforcement_index(schema_editor, table, name)


def build_unique_index(schema_editor, table, columns, name):
    """A unique index, built without blocking writes on PostgreSQL (``CONCURRENTLY``).

    If the database refuses it (duplicates), PostgreSQL leaves an INVALID index: it is dropped
    before the error goes on. NULLs never collide in a unique index on SQLite, PostgreSQL or
    MariaDB/MySQL, so blank emails (``email_digest`` NULL) stay allowed. On MariaDB/MySQL,
    InnoDB adds it online.
    """
    quote = schema_editor.quote_name
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    listed = ", ".join(quote(column) for column in columns)
    try:
        schema_editor.execute(
            f"CREATE UNIQUE INDEX {concurrently}{quote(name)} ON {quote(table)} ({listed})"
        )
    except IntegrityError:
        drop_index(schema_editor, table, name)
        raise


def ensure_unique_index(schema_editor, table, column, name):
    """A database-only unique index over ``column``; run again after a kill, it keeps a valid
    leftover and replaces an INVALID one (PostgreSQL)."""
    state = index_state(schema_editor, table, name)
    if state == "invalid":
        drop_index(schema_editor, table, name)
    elif state is not None:
        return
    build_unique_index(schema_editor, table, [column], name)


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
            drop_enforcement_index(schema_editor, key_model._meta.db_table, EMAIL_INDEX_NAME)

    def describe(self):
        return "Nothing forwards (emails are unique from 0007); backwards, drop 0004's old index"
