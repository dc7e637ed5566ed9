"""On PostgreSQL, the login lookup as a function whose plan the server keeps between logins
(:mod:`authfold.accounts.postgres_login`). A no-op elsewhere. Backwards, the function is dropped
and logins send the lookup's statement again.
"""

from django.conf import settings
from django.db import migrations, router

from authfold.accounts.postgres_login import (
    create_function_sql,
    drop_function_sql,
    forget_login_function_state,
)


def models_here(apps, schema_editor):
    """The user model, the failed logins and the rename log, if this database holds them all."""
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return None
    models = (
        apps.get_model(settings.AUTH_USER_MODEL),
        apps.get_model("authfold", "LoginFailures"),
        apps.get_model("authfold", "RenameRecord"),
    )
    if not all(router.allow_migrate_model(connection.alias, model) for model in models):
        return None
    return models


def create_login_function(apps, schema_editor):
    models = models_here(apps, schema_editor)
    if models is not None:
        schema_editor.execute(create_function_sql(schema_editor.connection, *models))
    forget_login_function_state()


def drop_login_function(apps, schema_editor):
    if models_here(apps, schema_editor) is not None:
        schema_editor.execute(drop_function_sql())
    forget_login_function_state()


class Migration(migrations.Migration):
    dependencies = [
        ("authfold", "0014_caselesskey_sources"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(create_login_function, drop_login_function, elidable=False),
    ]
