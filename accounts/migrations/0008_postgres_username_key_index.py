"""On PostgreSQL, makes the database itself compute the username key and refuse a caseless twin
from every write path (bulk_create, update(), raw SQL too): a unique index on the user table's
``authfold_username_digest(username)``, built without blocking writes. A no-op elsewhere.
"""

from django.conf import settings
from django.db import migrations

from authfold.data_migrations.postgres_keys import CreateUsernameKeyIndex


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("authfold", "0007_key_reservations_and_email_claims"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [CreateUsernameKeyIndex(settings.AUTH_USER_MODEL)]
