"""Rekeys the addresses whose domain holds an IDNA 2008 deviation character (``ß``, ``ς``, ZWJ,
ZWNJ): ``hans@faß.de`` was keyed as ``hans@fass.de`` (its case folding, another domain) and is now
keyed as ``hans@xn--fa-hia.de``, the A-label of the domain it names. Every other address keeps
its key; ``sync_caseless_keys`` reads every user once, in batches, and rewrites only the keys that
differ.

Where two accounts now share a key (``hans@faß.de`` beside ``hans@xn--fa-hia.de``), the account
that already held the address keeps it and the rekeyed one is grandfathered, as in 0007; an
address a former group no longer shares claims it back. ``conflict_audit`` lists both, and every
address with a deviation character. Not one transaction: stopped anywhere, ``migrate`` runs it
again and it finds what is done. Going back needs nothing.
"""

from django.conf import settings
from django.db import migrations

from authfold.data_migrations.email_claims import claim_unheld_addresses
from authfold.data_migrations.keys import sync_caseless_keys


def rekey_email_domains(apps, schema_editor):
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    key_model = apps.get_model("authfold", "CaselessKey")
    using = schema_editor.connection.alias
    sync_caseless_keys(user_model, key_model, using)
    claim_unheld_addresses(key_model, using)


class Migration(migrations.Migration):
    # Each batch commits on its own, as in 0007.
    atomic = False

    dependencies = [
        ("authfold", "0008_postgres_username_key_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(rekey_email_domains, migrations.RunPython.noop, elidable=False),
    ]
