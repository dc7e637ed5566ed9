"""One table of claimed login identifiers, written before each user's row.

- ``IdentifierClaim``: the digest of every username's and email's caseless key in one unique
  column, so the database refuses twins, shared emails and a username that is another account's
  email (or the reverse) with one index. Created with its index while empty, then every user
  claims its identifiers in batches (``authfold.data_migrations.claims``): a sign-up racing the
  fill meets the index like any other.
- The key rows of users written meanwhile by code that no longer writes them without claims are
  backfilled.
- ``KeyReservation`` leaves the models: the claims take its place. Its table stays until a later
  migration drops it, so processes still running the previous release keep working meanwhile.

Not one transaction: stopped anywhere, ``migrate`` runs it again and each step finds what is
already done (the table; the claims already written are skipped).
"""

from django.conf import settings
from django.db import migrations, models, router
from django.db.models import deletion

from authfold.data_migrations.claims import claim_identifiers
from authfold.data_migrations.keys import backfill_caseless_keys
from authfold.data_migrations.schema import CreateModelUnlessPresent


def claim_every_user(apps, schema_editor):
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    claim_model = apps.get_model("authfold", "IdentifierClaim")
    if not router.allow_migrate_model(schema_editor.connection.alias, claim_model):
        return
    using = schema_editor.connection.alias
    backfill_caseless_keys(user_model, apps.get_model("authfold", "CaselessKey"), using)
    claim_identifiers(user_model, claim_model, using)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("authfold", "0010_tokenbinding"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        CreateModelUnlessPresent(
            name="IdentifierClaim",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("digest", models.CharField(max_length=64, unique=True)),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("username", "username"),
                            ("email", "email"),
                            ("lookalike", "look-alike"),
                        ],
                        max_length=16,
                    ),
                ),
                ("source", models.TextField()),
                ("created_at", models.DateTimeField()),
                (
                    "user",
                    models.ForeignKey(
                        db_constraint=False,
                        null=True,
                        on_delete=deletion.DO_NOTHING,
                        related_name="identifier_claims",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={"verbose_name": "identifier claim"},
        ),
        migrations.RunPython(claim_every_user, migrations.RunPython.noop, elidable=False),
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="KeyReservation")]
        ),
    ]
