"""Adds to each key row the exact username and email its digests were computed from, and fills
them for the rows that still match their user, so that ``conflict_audit`` trusts those with one
join and computes keys only for the others.

Not one transaction, as 0006: the columns are added (nullable, so code from before them keeps
writing keys), then filled in batches that each commit. Stopped anywhere, ``migrate`` runs it
again and each step finds what is done. Backwards, the columns are dropped; nothing else changed.
"""

from django.db import migrations, models

from authfold.data_migrations.keys import fill_key_sources
from authfold.data_migrations.schema import AddFieldUnlessPresent


def fill_sources(apps, schema_editor):
    fill_key_sources(apps.get_model("authfold", "CaselessKey"), schema_editor.connection.alias)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("authfold", "0013_login_failures")]

    operations = [
        AddFieldUnlessPresent(
            model_name="caselesskey",
            name="username_source",
            field=models.TextField(blank=True, null=True),
        ),
        AddFieldUnlessPresent(
            model_name="caselesskey",
            name="email_source",
            field=models.TextField(blank=True, null=True),
        ),
        migrations.RunPython(fill_sources, migrations.RunPython.noop, elidable=False),
    ]
