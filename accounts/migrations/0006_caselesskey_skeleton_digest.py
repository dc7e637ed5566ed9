"""Adds each key row's skeleton digest (what the username looks like) and fills it for every user.

Not one transaction: the column is added (nullable, so code from before it keeps writing keys),
then filled in batches that each commit, so logins and sign-ups, which read and write the key
table, wait for one batch at most; the index is built last, over the filled column (on
PostgreSQL without blocking writes). Stopped anywhere, ``migrate`` runs it again from the start
and each step finds what is already done. Backwards, the column is dropped; nothing else changed.
"""

from django.conf import settings
from django.db import migrations, models

from authfold.data_migrations.keys import backfill_skeleton_digests
from authfold.data_migrations.schema import AddFieldUnlessPresent, AddIndexWithoutBlockingWrites


def fill_skeleton_digests(apps, schema_editor):
    backfill_skeleton_digests(
        apps.get_model(settings.AUTH_USER_MODEL),
        apps.get_model("authfold", "CaselessKey"),
        schema_editor.connection.alias,
    )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("authfold", "0005_renamerecord_old_username_index")]

    operations = [
        AddFieldUnlessPresent(
            model_name="caselesskey",
            name="skeleton_digest",
            field=models.CharField(blank=True, max_length=64, null=True),
        ),
        migrations.RunPython(fill_skeleton_digests, migrations.RunPython.noop, elidable=False),
        AddIndexWithoutBlockingWrites(
            model_name="caselesskey",
            index=models.Index(fields=["skeleton_digest"], name="authfold_key_skeleton_digest"),
        ),
    ]
