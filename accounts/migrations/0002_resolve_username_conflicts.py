"""Resolves legacy username conflicts (caseless twins) before the database is asked to refuse them.

In each group of twins one account keeps the name and the others get ``<name>_<number>``, exactly
as ``manage.py conflict_audit --plan`` shows beforehand; every rename is logged in RenameRecord.
Migrating back restores every renamed username, byte for byte.
"""

from django.conf import settings
from django.db import migrations
from django.db.migrations.loader import MigrationLoader

from authfold.data_migrations.enforcement import drop_enforcement_leftovers
from authfold.data_migrations.resolution import resolve_username_conflicts, revert_resolution


def models(apps):
    return (
        apps.get_model(settings.AUTH_USER_MODEL),
        apps.get_model("authfold", "CaselessKey"),
        apps.get_model("authfold", "RenameRecord"),
    )


def resolve(apps, schema_editor):
    result = resolve_username_conflicts(*models(apps), schema_editor.connection.alias)
    if result.planned or result.skipped:
        print()  # migrate has written "Applying ..." without ending the line
    for group in result.planned:
        print(f"  Resolved {group.summary()}")
    for rename, why in result.skipped:
        print(f"  Skipped {rename.old!r} (id {rename.id}) -> {rename.new!r}: {why}")


def revert(apps, schema_editor):
    # A 0003 or 0004 killed half way is not recorded, so never reversed: its index would refuse
    # the old names given back here.
    drop_enforcement_leftovers(schema_editor, apps.get_model("authfold", "CaselessKey"))
    result = revert_resolution(*models(apps), schema_editor.connection.alias)
    if result.restored or result.refused:
        print()
    if result.restored:
        print(f"  Restored the old names of {len(result.restored)} renamed account(s)")
    for record, why in result.refused:
        print(f"  Kept {record.new_username!r} (id {record.user_id}), not reverted: {why}")


def auth_user_state():
    """The User state with 150-character usernames, when auth's migrations are on.

    Without it, migrating back would see auth's first migration's 30-character field and
    PostgreSQL would cut names to fit. A project can turn auth's migrations off
    (``MIGRATION_MODULES = {"auth": None}``, as Django's own test runner does); auth's tables then
    follow its current models, and ``__first__`` is the only name Django accepts for such an app.
    """
    if MigrationLoader.migrations_module("auth")[0] is None:
        return ("auth", "__first__")
    return ("auth", "0012_alter_user_first_name_max_length")


class Migration(migrations.Migration):
    dependencies = [("authfold", "0001_initial"), auth_user_state()]

    operations = [migrations.RunPython(resolve, revert, elidable=False)]
