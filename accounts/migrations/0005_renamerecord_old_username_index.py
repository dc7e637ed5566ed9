"""Indexes the rename log by old username: the login backend looks an old name up there."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("authfold", "0004_enforce_caseless_emails")]

    operations = [
        migrations.AddIndex(
            model_name="renamerecord",
            index=models.Index(fields=["old_username"], name="authfold_rename_old_username"),
        ),
    ]
