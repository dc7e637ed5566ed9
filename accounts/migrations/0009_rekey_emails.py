"""Rewrites the email keys that the IDNA domain form changed (see ``caseless.email_key``).

An address whose domain is ASCII keeps the key it had; one whose domain is not (``bücher.de``, or
one written with a soft hyphen or U+3002) is now keyed by the domain's ASCII form, so its stored
key is stale. ``sync_caseless_keys`` reads every user once, in batches, and rewrites only the keys
that differ. Going back needs nothing: the keys match whatever ``email_key`` the code running
``conflict_audit --fix`` has.
"""

from django.conf import settings
from django.db import migrations

from authfold.data_migrations.keys import sync_caseless_keys


def rekey(apps, schema_editor):
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    key_model = apps.get_model("authfold", "CaselessKey")
    sync_caseless_keys(user_model, key_model, schema_editor.connection.alias)


class Migration(migrations.Migration):
    # Batches commit as they go: a million users are not rewritten in one transaction.
    atomic = False

    dependencies = [("authfold", "0008_postgres_username_key_index")]

    operations = [migrations.RunPython(rekey, migrations.RunPython.noop)]
