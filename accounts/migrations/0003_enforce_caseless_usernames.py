"""Makes the database refuse a second account with the same username in any case.

Runs after the resolve migration: it first gives a matching key to users written around
``Model.save()`` since then (missing or stale keys), refuses to go on (naming them) if twins
exist, then builds the unique index (without blocking writes on PostgreSQL).
"""

from django.conf import settings
from django.db import migrations, models

from authfold.data_migrations.enforcement import (
    AddUniqueConstraintConcurrently,
    refuse_if_twins_remain,
)
from authfold.data_migrations.keys import sync_caseless_keys


def sync_keys_then_refuse_twins(apps, schema_editor):
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    key_model = apps.get_model("authfold", "CaselessKey")
    using = schema_editor.connection.alias
    sync_caseless_keys(user_model, key_model, using)
    refuse_if_twins_remain(user_model, key_model, using)


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [("authfold", "0002_resolve_username_conflicts")]

    operations = [
        migrations.RunPython(sync_keys_then_refuse_twins, migrations.RunPython.noop),
        AddUniqueConstraintConcurrently(
            model_name="caselesskey",
            constraint=models.UniqueConstraint(
                fields=["username_digest"], name="authfold_caselesskey_username_digest_unique"
            ),
        ),
    ]
