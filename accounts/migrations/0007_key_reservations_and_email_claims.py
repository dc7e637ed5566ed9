"""Closes the crash window of a user's key, and makes emails unique at the database for everyone.

- First, the email keys that the IDNA domain form changed (see ``caseless.email_key``) are
  rewritten: an address whose domain is ASCII keeps its key; one whose domain is not
  (``bücher.de``, or one written with a soft hyphen or U+3002) is now keyed by the domain's ASCII
  form. ``sync_caseless_keys`` reads every user once, in batches, and rewrites only the keys that
  differ. This comes before the claims, so two spellings of one mailbox are grandfathered
  together rather than one losing its key. Going back needs nothing.
- ``KeyReservation``: a username (and email) is reserved before its user's row is written and
  released once its key is, so a process killed in between leaves a reservation, not a twin's way.
- ``CaselessKey.email_claim``: the email digest again, unique. Accounts that already share an
  address keep it (one holds the claim, the others are grandfathered: see
  ``authfold.data_migrations.email_claims``), so this never stops on legacy data. Built without
  blocking writes on PostgreSQL; the unique ``email_digest`` index of the former optional 0004 is
  dropped, ``email_claim`` does its work.

Not one transaction: stopped anywhere (a deploy killed), ``migrate`` runs it again from the
start and each step finds what is already done (the column, the table, a valid index; an INVALID
index a killed concurrent build left is dropped and built again).
"""

from django.conf import settings
from django.db import migrations, models

from authfold.data_migrations.email_claims import (
    CLAIM_INDEX_NAME,
    build_claim_index,
    fill_email_claims,
)
from authfold.data_migrations.enforcement import EMAIL_INDEX_NAME, drop_enforcement_index
from authfold.data_migrations.keys import sync_caseless_keys
from authfold.data_migrations.schema import AddFieldUnlessPresent, CreateModelUnlessPresent


def rekey_emails(apps, schema_editor):
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    key_model = apps.get_model("authfold", "CaselessKey")
    sync_caseless_keys(user_model, key_model, schema_editor.connection.alias)


def claim_emails(apps, schema_editor):
    key_model = apps.get_model("authfold", "CaselessKey")
    drop_enforcement_index(schema_editor, key_model._meta.db_table, EMAIL_INDEX_NAME)
    fill_email_claims(key_model, schema_editor.connection.alias)
    build_claim_index(schema_editor, key_model)


def unclaim_emails(apps, schema_editor):
    # Before the column goes: SQLite refuses to drop a column an index still names.
    key_model = apps.get_model("authfold", "CaselessKey")
    drop_enforcement_index(schema_editor, key_model._meta.db_table, CLAIM_INDEX_NAME)


def email_claim_field(unique):
    return models.CharField(blank=True, max_length=64, null=True, unique=unique)


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("authfold", "0006_caselesskey_skeleton_digest"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(rekey_emails, migrations.RunPython.noop, elidable=False),
        migrations.SeparateDatabaseAndState(
            # The column first, without its index: the claims are filled, then the index is built.
            database_operations=[
                AddFieldUnlessPresent("caselesskey", "email_claim", email_claim_field(False))
            ],
            state_operations=[
                migrations.AddField("caselesskey", "email_claim", email_claim_field(True))
            ],
        ),
        CreateModelUnlessPresent(
            name="KeyReservation",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "username_digest",
                    models.CharField(blank=True, max_length=64, null=True, unique=True),
                ),
                (
                    "email_digest",
                    models.CharField(blank=True, max_length=64, null=True, unique=True),
                ),
                ("username", models.TextField()),
                ("created_at", models.DateTimeField()),
            ],
            options={"verbose_name": "key reservation"},
        ),
        migrations.RunPython(claim_emails, unclaim_emails, elidable=False),
    ]
