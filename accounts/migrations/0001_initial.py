"""Creates the caseless key table and the rename log, and fills a key for every existing user.

The username digest is indexed but not yet unique: legacy twins may still exist. The resolve
migration removes them, and the enforcement migration after it makes the index unique.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from authfold.data_migrations.keys import backfill_caseless_keys


def fill_caseless_keys(apps, schema_editor):
    backfill_caseless_keys(
        apps.get_model(settings.AUTH_USER_MODEL),
        apps.get_model("authfold", "CaselessKey"),
        schema_editor.connection.alias,
    )


class Migration(migrations.Migration):
    initial = True

    dependencies = [migrations.swappable_dependency(settings.AUTH_USER_MODEL)]

    operations = [
        migrations.CreateModel(
            name="CaselessKey",
            fields=[
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="caseless_key",
                        serialize=False,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                ("username_digest", models.CharField(db_index=True, max_length=64)),
                (
                    "email_digest",
                    models.CharField(blank=True, db_index=True, max_length=64, null=True),
                ),
            ],
            options={"verbose_name": "caseless key"},
        ),
        migrations.CreateModel(
            name="RenameRecord",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "run",
                    models.UUIDField(
                        db_index=True, help_text="The resolution run that made this rename."
                    ),
                ),
                ("old_username", models.CharField(max_length=150)),
                ("new_username", models.CharField(max_length=150)),
                ("reason", models.CharField(max_length=255)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("reverted_at", models.DateTimeField(blank=True, null=True)),
                ("notified_at", models.DateTimeField(blank=True, null=True)),
                (
                    "user",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="rename_records",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={"ordering": ["-created_at", "-id"]},
        ),
        migrations.RunPython(fill_caseless_keys, migrations.RunPython.noop, elidable=False),
    ]
