"""Making the database refuse caseless twins: the pre-flight check and the index it builds.

Used by ``accounts/migrations/0003_enforce_caseless_usernames.py``.
"""

from django.core.management.base import CommandError
from django.db import IntegrityError, migrations
from django.db.models import Count

MAX_GROUPS_NAMED = 20


class TwinsRemain(CommandError):
    """Caseless twins still exist, so the unique index cannot be built.

    A ``CommandError``, so ``manage.py migrate`` prints the message instead of a traceback.
    """


def username_digest_twins(user_model, key_model, using, limit=MAX_GROUPS_NAMED):
    """Up to ``limit`` groups of users whose username keys are equal, as lists of (id, username)."""
    keys = key_model._default_manager.using(using)
    digests = list(
        keys.values("username_digest")
        .annotate(users=Count("user_id"))
        .filter(users__gt=1)
        .order_by("username_digest")
        .values_list("username_digest", flat=True)[:limit]
    )
    groups = []
    for digest in digests:
        members = (
            user_model._default_manager.using(using)
            .filter(caseless_key__username_digest=digest)
            .order_by("pk")
            .values_list("pk", "username")
        )
        groups.append(list(members))
    return groups


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
