"""Formerly: the optional unique email index (``AUTHFOLD_UNIQUE_EMAIL_CONSTRAINT``).

Emails are now unique at the database for every project, from migration 0007 (``email_claim``,
legacy shared addresses grandfathered). This migration keeps its name so that installations that
applied it migrate on; forwards it does nothing, backwards it drops the old index where an
installation built it.
"""

from django.db import migrations

from authfold.data_migrations.enforcement import DropOptionalEmailIndex


class Migration(migrations.Migration):
    # DROP INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [("authfold", "0003_enforce_caseless_usernames")]

    operations = [DropOptionalEmailIndex()]
