"""Optionally makes the database refuse a second account with the same email in any case.

Does something only when ``AUTHFOLD_UNIQUE_EMAIL_CONSTRAINT`` is on (default off), so a project
whose users still share emails can migrate safely. It changes no model state, so the setting
never makes ``makemigrations`` produce a migration. docs/ADOPTING.md says how to turn it on later.
"""

from django.db import migrations

from authfold.data_migrations.enforcement import EnforceCaselessEmails


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [("authfold", "0003_enforce_caseless_usernames")]

    operations = [EnforceCaselessEmails()]
