"""Rekeys the stored addresses whose local part is quoted without need: ``"x"@example.net`` was
keyed apart from ``x@example.net``, the same mailbox (RFC 5321, 4.1.2), and is now keyed as it.

Where both are stored, the account that already held ``x@example.net`` keeps it and the quoted one
is grandfathered beside it, as in 0007; ``conflict_audit`` lists the two as one shared address.
Only addresses that start with a quote are read. Not one transaction: stopped anywhere,
``migrate`` runs it again and it finds what is done. Going back needs nothing.
"""

from django.conf import settings
from django.db import migrations, router

from authfold.data_migrations.quoted_addresses import rekey_quoted_addresses


def rekey_quoted_local_parts(apps, schema_editor):
    claim_model = apps.get_model("authfold", "IdentifierClaim")
    using = schema_editor.connection.alias
    if not router.allow_migrate_model(using, claim_model):
        return
    rekey_quoted_addresses(
        apps.get_model(settings.AUTH_USER_MODEL),
        apps.get_model("authfold", "CaselessKey"),
        claim_model,
        using,
    )


class Migration(migrations.Migration):
    # Each write commits on its own, as in 0009.
    atomic = False

    dependencies = [
        ("authfold", "0015_postgres_login_function"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(rekey_quoted_local_parts, migrations.RunPython.noop, elidable=False),
    ]
